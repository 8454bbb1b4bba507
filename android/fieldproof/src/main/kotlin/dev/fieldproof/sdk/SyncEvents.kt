// A sync as a Kotlin Flow: its progress events, then its report. Platform-free: compiled and run
// on the JVM by android/jvm-test/run.sh.

package dev.fieldproof.sdk

import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.SyncCancel
import dev.fieldproof.core.SyncListener
import dev.fieldproof.core.SyncProgress
import dev.fieldproof.core.SyncReport
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.launch

/** One thing a running sync says. */
sealed interface SyncEvent {
    /** Where the sync stands (after each push batch, photo chunk and pull page; last `DONE`). */
    data class Progress(val progress: SyncProgress) : SyncEvent

    /** The sync finished: the last event, then the flow completes. */
    data class Finished(val report: SyncReport) : SyncEvent
}

/**
 * Runs one sync when collected: emits [SyncEvent.Progress] after each step, then
 * [SyncEvent.Finished] with the report, and completes. A failed sync ends the flow with its
 * `FieldproofException` (catch it, branch on `code`). Cancelling the collector (leaving the
 * screen, `first { … }`, a timeout) cancels the sync: it stops before its next request, keeps
 * what the server answered, and the next sync carries on.
 *
 * Every event is kept, in order; a screen that only shows the latest can add `.conflate()`.
 */
fun FieldproofCore.syncEvents(): Flow<SyncEvent> = callbackFlow {
    val cancel = SyncCancel()
    // Called on the sync's thread: trySend never blocks it (the channel is unlimited).
    val listener = object : SyncListener {
        override fun onProgress(progress: SyncProgress) {
            trySend(SyncEvent.Progress(progress))
        }
    }
    launch {
        try {
            val report = sync(listener, cancel)
            send(SyncEvent.Finished(report))
            close()
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            close(e)
        }
    }
    // The collector went away (or the sync ended): stop a sync still running. Cancelling this
    // scope also cancels the call above, which drops the core's future; the flag makes the core
    // stop at its next request even before that reaches it.
    awaitClose { cancel.cancel() }
}.buffer(Channel.UNLIMITED)
