package dev.fieldproof.sdk.android

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.CoroutineWorker
import androidx.work.Data
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.Operation
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkInfo
import androidx.work.WorkManager
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.core.SyncCancel
import dev.fieldproof.core.SyncListener
import dev.fieldproof.core.SyncPhase
import dev.fieldproof.core.SyncProgress
import dev.fieldproof.core.SyncReport
import dev.fieldproof.sdk.code
import dev.fieldproof.sdk.isRetryable
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import java.util.concurrent.TimeUnit

/**
 * Background sync with WorkManager: pushes the outbox, uploads photos and pulls changes with the
 * process's one core ([Fieldproof.core]), reporting progress through [setProgress].
 *
 * Enqueue it with [enqueuePeriodic] (after enrolment) and [enqueueNow] (a "sync" button, or
 * after a visit is completed); both run only with a connected network and, by default, a battery
 * that is not low. Results:
 * - success: the [SyncReport]'s counts in the output [Data] ([KEY_PUSHED], [KEY_PULLED], ...).
 * - retry (WorkManager's exponential backoff from 30 s) on every [isRetryable] code: the network
 *   failed (`network`: nothing lost, unanswered ops stay pending), another sync was running
 *   (`sync_in_progress`), or the server refused a request's time or nonce (signed anew next time).
 * - failure, with [KEY_ERROR_CODE] in the output: anything retrying cannot fix. For
 *   [STOPPING_CODES] (`device_revoked`, `not_enrolled`, ...) the periodic sync is cancelled too:
 *   it could only fail again until the app enrols the device anew and enqueues it again.
 *
 * When WorkManager stops the worker (constraints lost, 10-minute limit), the coroutine is
 * cancelled: the sync is cancelled with it, the outbox stays consistent and the next run resumes
 * where this one stopped (photo uploads resume at their last acknowledged chunk).
 */
class FieldproofSyncWorker(
    context: Context,
    params: WorkerParameters,
) : CoroutineWorker(context, params) {

    override suspend fun doWork(): Result = coroutineScope {
        // The core calls the listener on its own worker thread; setProgress is a suspend call.
        // A conflated channel hands the latest progress over and never blocks the sync.
        val updates = Channel<SyncProgress>(Channel.CONFLATED)
        val publisher = launch {
            for (progress in updates) setProgress(progress.toData())
        }
        val listener = object : SyncListener {
            override fun onProgress(progress: SyncProgress) {
                updates.trySend(progress)
            }
        }
        val result = SyncCancel().use { cancel ->
            try {
                val report = Fieldproof.core(applicationContext).sync(listener, cancel)
                Result.success(report.toData())
            } catch (e: CancellationException) {
                // The coroutine is gone, but the sync runs on the core's own thread: tell it to
                // stop at its next safe point rather than let it finish unobserved.
                cancel.cancel()
                throw e
            } catch (e: FieldproofException) {
                resultFor(e)
            } finally {
                updates.close()
            }
        }
        publisher.join()
        result
    }

    private fun resultFor(e: FieldproofException): Result {
        if (e.isRetryable) return Result.retry()
        val code = e.code
        if (code in STOPPING_CODES) {
            WorkManager.getInstance(applicationContext).cancelUniqueWork(PERIODIC_WORK_NAME)
        }
        return Result.failure(workDataOf(KEY_ERROR_CODE to code))
    }

    companion object {
        /** Unique work names: one periodic sync and at most one pending one-off sync per app. */
        const val PERIODIC_WORK_NAME = "fieldproof-sync-periodic"
        const val NOW_WORK_NAME = "fieldproof-sync-now"
        const val TAG = "fieldproof-sync"

        // Progress (WorkInfo.progress) keys.
        const val KEY_PHASE = "phase"
        const val KEY_OPS_SENT = "ops_sent"
        const val KEY_OPS_TOTAL = "ops_total"
        const val KEY_PHOTOS_SENT = "photos_sent"
        const val KEY_PHOTOS_TOTAL = "photos_total"
        const val KEY_PHOTO_BYTES_SENT = "photo_bytes_sent"
        const val KEY_PHOTO_BYTES_TOTAL = "photo_bytes_total"
        const val KEY_PAGES_PULLED = "pages_pulled"
        const val KEY_CHANGES_PULLED = "changes_pulled"

        // Output keys: the report's counts on success (and KEY_PHOTOS_SENT), the error code on failure.
        const val KEY_PUSHED = "pushed"
        const val KEY_DUPLICATES = "duplicates"
        const val KEY_REJECTED = "rejected"
        const val KEY_PULLED = "pulled"
        const val KEY_ERROR_CODE = "error_code"

        /** Permanent until the app acts (enrol again, update the app): the periodic sync stops. */
        val STOPPING_CODES = setOf(
            "device_revoked",
            "not_enrolled",
            "unknown_device",
            "device_mismatch",
            "database_too_new",
        )

        private const val BACKOFF_SECONDS = 30L

        private fun constraints(requireBatteryNotLow: Boolean) = Constraints.Builder()
            .setRequiredNetworkType(NetworkType.CONNECTED)
            .setRequiresBatteryNotLow(requireBatteryNotLow)
            .build()

        /**
         * Sync every [repeatIntervalMinutes] (at least 15, WorkManager's minimum) while the
         * constraints hold. Enqueue it once the device is enrolled; calling it again updates the
         * schedule instead of adding a second one.
         */
        fun enqueuePeriodic(
            context: Context,
            repeatIntervalMinutes: Long = 60,
            requireBatteryNotLow: Boolean = true,
        ): Operation {
            val request = PeriodicWorkRequestBuilder<FieldproofSyncWorker>(
                repeatIntervalMinutes.coerceAtLeast(15),
                TimeUnit.MINUTES,
            )
                .setConstraints(constraints(requireBatteryNotLow))
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, BACKOFF_SECONDS, TimeUnit.SECONDS)
                .addTag(TAG)
                .build()
            return WorkManager.getInstance(context)
                .enqueueUniquePeriodicWork(PERIODIC_WORK_NAME, ExistingPeriodicWorkPolicy.UPDATE, request)
        }

        /**
         * Sync as soon as the constraints hold. A call while one is pending or running keeps that
         * one (the core would refuse a second sync anyway); follow it with [nowWorkInfo].
         */
        fun enqueueNow(context: Context, requireBatteryNotLow: Boolean = true): Operation {
            val request = OneTimeWorkRequestBuilder<FieldproofSyncWorker>()
                .setConstraints(constraints(requireBatteryNotLow))
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, BACKOFF_SECONDS, TimeUnit.SECONDS)
                .addTag(TAG)
                .build()
            return WorkManager.getInstance(context)
                .enqueueUniqueWork(NOW_WORK_NAME, ExistingWorkPolicy.KEEP, request)
        }

        /**
         * The one-off sync's state, progress ([syncProgress]) and outcome ([errorCode]); `null`
         * before the first [enqueueNow]. Follows the unique work, not one request: when
         * [enqueueNow] kept a sync already running, this is that sync.
         */
        fun nowWorkInfo(context: Context): Flow<WorkInfo?> =
            WorkManager.getInstance(context)
                .getWorkInfosForUniqueWorkFlow(NOW_WORK_NAME)
                .map { it.firstOrNull() }

        /** Stops both the periodic sync and a pending one-off sync (sign-out, device handed over). */
        fun cancelAll(context: Context) {
            WorkManager.getInstance(context).cancelAllWorkByTag(TAG)
        }

        /** The progress a running sync last published, or `null` before its first report. */
        fun syncProgress(info: WorkInfo): SyncProgress? {
            val p = info.progress
            val phase = p.getString(KEY_PHASE) ?: return null
            return SyncProgress(
                phase = SyncPhase.valueOf(phase),
                opsSent = p.getInt(KEY_OPS_SENT, 0),
                opsTotal = p.getInt(KEY_OPS_TOTAL, 0),
                photosSent = p.getInt(KEY_PHOTOS_SENT, 0),
                photosTotal = p.getInt(KEY_PHOTOS_TOTAL, 0),
                photoBytesSent = p.getLong(KEY_PHOTO_BYTES_SENT, 0L),
                photoBytesTotal = p.getLong(KEY_PHOTO_BYTES_TOTAL, 0L),
                pagesPulled = p.getInt(KEY_PAGES_PULLED, 0),
                changesPulled = p.getInt(KEY_CHANGES_PULLED, 0),
            )
        }

        /** The error code of a failed sync ([WorkInfo.State.FAILED]), or `null`. */
        fun errorCode(info: WorkInfo): String? = info.outputData.getString(KEY_ERROR_CODE)

        private fun SyncProgress.toData(): Data = workDataOf(
            KEY_PHASE to phase.name,
            KEY_OPS_SENT to opsSent,
            KEY_OPS_TOTAL to opsTotal,
            KEY_PHOTOS_SENT to photosSent,
            KEY_PHOTOS_TOTAL to photosTotal,
            KEY_PHOTO_BYTES_SENT to photoBytesSent,
            KEY_PHOTO_BYTES_TOTAL to photoBytesTotal,
            KEY_PAGES_PULLED to pagesPulled,
            KEY_CHANGES_PULLED to changesPulled,
        )

        private fun SyncReport.toData(): Data = workDataOf(
            KEY_PUSHED to pushed,
            KEY_DUPLICATES to duplicates,
            KEY_REJECTED to rejected.size,
            KEY_PULLED to pulled,
            KEY_PHOTOS_SENT to photosSent,
        )
    }
}
