// Sync progress and cancellation through the generated Kotlin and the SDK's platform-free layer
// (dev.fieldproof.sdk: Errors.kt, SyncEvents.kt), against the real `fieldproof-server` binary on
// loopback: `code` on the base exception; progress events in order through `syncEvents()`;
// a sync cancelled with `SyncCancel` after its first photo bytes, and one whose Flow collector
// stops there, each followed by a full resume; the server's own counts show nothing lost and
// nothing stored twice. Plain `main`, run by android/jvm-test/run.sh with the server binary, the
// fixture and the two test photos. Ends with "N passed, M failed"; exits 1 on failure.

import dev.fieldproof.core.AnswerValue
import dev.fieldproof.core.CaptureRequest
import dev.fieldproof.core.CheckInRequest
import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.core.LocationFix
import dev.fieldproof.core.LocationProvider
import dev.fieldproof.core.PhotoKind
import dev.fieldproof.core.SyncCancel
import dev.fieldproof.core.SyncListener
import dev.fieldproof.core.SyncPhase
import dev.fieldproof.core.SyncProgress
import dev.fieldproof.core.VisitReport
import dev.fieldproof.sdk.SyncEvent
import dev.fieldproof.sdk.code
import dev.fieldproof.sdk.detail
import dev.fieldproof.sdk.isCancelled
import dev.fieldproof.sdk.isRetryable
import dev.fieldproof.sdk.needsEnrolment
import dev.fieldproof.sdk.syncEvents
import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.Collections
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking

private var passes = 0
private var fails = 0

private fun verify(name: String, ok: Boolean, detail: () -> Any? = { null }) {
    if (ok) {
        passes++
        println("  ok    $name")
    } else {
        fails++
        println("  FAIL  $name" + (detail()?.let { " -- $it" } ?: ""))
    }
}

private fun <T> verifyEq(name: String, actual: T, expected: T) =
    verify(name, actual == expected) { "expected <$expected>, got <$actual>" }

private const val LAT = 31.2304
private const val LON = 121.5200

private fun fix() = LocationFix(
    latitude = LAT + 0.000135,
    longitude = LON,
    accuracyM = 8.0,
    provider = LocationProvider.GPS,
    isMock = false,
    fixTimeMs = System.currentTimeMillis(),
)

/** A store check at st-001 with [photos] shelf photos, left pending in the outbox. */
private suspend fun visitWithPhotos(rep: FieldproofCore, photos: List<ByteArray>) {
    val visit = rep.checkIn(CheckInRequest(userId = "rep-li", storeId = "st-001", templateId = "tpl-store-check", fix = fix()))
    rep.answer(visit.id, "shelf_ok", AnswerValue.YesNo(true), null)
    rep.answer(visit.id, "facings", AnswerValue.Number(6.0), null)
    rep.answer(visit.id, "own_price", AnswerValue.Price(400), null)
    rep.answer(visit.id, "comp_price", AnswerValue.Price(390), null)
    rep.answer(visit.id, "backroom", AnswerValue.Choice("high"), null)
    rep.answer(visit.id, "remarks", AnswerValue.Text("货架整齐"), null)
    for (bytes in photos) {
        val request = CaptureRequest(visitId = visit.id, itemId = "shelf_photo", kind = PhotoKind.SHELF_OVERVIEW, fix = fix(), utcOffsetMinutes = 480)
        rep.capturePhoto(request, bytes)
    }
    rep.saveReport(visit.id, VisitReport(notes = "陈列良好，库存充足。"))
    rep.completeVisit(visit.id)
    rep.checkOut(visit.id, fix())
}

/** The progress events of one finished sync: in phase order, never going back, `DONE` last. */
private fun verifyInOrder(name: String, events: List<SyncProgress>) {
    val rank = mapOf(SyncPhase.PUSHING to 0, SyncPhase.UPLOADING_PHOTOS to 0, SyncPhase.PULLING to 1, SyncPhase.DONE to 2)
    verify("$name: starts PUSHING at zero", events.firstOrNull()?.let { it.phase == SyncPhase.PUSHING && it.opsSent == 0 && it.photoBytesSent == 0L } == true) { events.firstOrNull() }
    verify("$name: ends with one DONE", events.lastOrNull()?.phase == SyncPhase.DONE && events.count { it.phase == SyncPhase.DONE } == 1) { events.map { it.phase } }
    verify("$name: phases in order, counts never go back", events.zipWithNext().all { (a, b) ->
        rank.getValue(a.phase) <= rank.getValue(b.phase) && b.opsSent >= a.opsSent && b.photosSent >= a.photosSent &&
            b.photoBytesSent >= a.photoBytesSent && b.changesPulled >= a.changesPulled
    }) { events }
    verify("$name: never above the totals", events.all { it.opsSent <= it.opsTotal && it.photosSent <= it.photosTotal && it.photoBytesSent <= it.photoBytesTotal }) { events }
}

private fun progressFlow(server: TestServer, dir: File, referenceJson: String, photos: List<ByteArray>) = runBlocking {
    val today = LocalDate.now(ZoneOffset.ofHours(8)).toString()
    val reference = File(dir, "reference.json").apply { writeText(referenceJson.replace("\"date\": \"2026-11-23\"", "\"date\": \"$today\"")) }
    server.admin("load-reference", reference.path)

    FieldproofCore.open(File(dir, "rep-li.db").path).use { rep ->
        // --- `code` on the base exception -------------------------------------------------------
        val notEnrolled = try {
            rep.sync()
            null
        } catch (e: FieldproofException) {
            e
        }
        verifyEq("sync before enrolment: code on the base exception", notEnrolled?.code, "not_enrolled")
        verify("  … with a detail, needsEnrolment, not retryable", notEnrolled != null && notEnrolled.detail.isNotBlank() && notEnrolled.needsEnrolment && !notEnrolled.isRetryable) { notEnrolled?.detail }
        val unknownUser = try {
            rep.checkIn(CheckInRequest(userId = "rep-li", storeId = "st-nowhere", templateId = "tpl-store-check", fix = fix()))
            null
        } catch (e: FieldproofException) {
            e
        }
        verifyEq("check-in before any reference data: code on the base exception", unknownUser?.code, "unknown_user")

        rep.enrol(server.url, server.admin("enrol-code", "--user", "rep-li").lines().last { it.isNotBlank() }.trim())

        // --- progress events through the Flow: the first sync only pulls -------------------------
        val firstEvents = rep.syncEvents().toList()
        val firstProgress = firstEvents.filterIsInstance<SyncEvent.Progress>().map { it.progress }
        verify("first sync: Progress events then one Finished, last", firstEvents.last() is SyncEvent.Finished && firstEvents.dropLast(1).all { it is SyncEvent.Progress }) { firstEvents }
        verifyInOrder("first sync", firstProgress)
        val firstReport = (firstEvents.last() as SyncEvent.Finished).report
        verify("first sync pulled the reference data", firstReport.pulled.toLong() > 0) { firstReport }
        verifyEq("DONE's changes == the report's pulled", firstProgress.last().changesPulled.toLong(), firstReport.pulled.toLong())

        // --- cancel with SyncCancel after the first photo bytes, then resume ---------------------
        visitWithPhotos(rep, photos)
        val pending = rep.outboxSummary().pending.toLong()
        val cancel = SyncCancel()
        val seen = Collections.synchronizedList(mutableListOf<SyncProgress>())
        val cancelling = object : SyncListener {
            override fun onProgress(progress: SyncProgress) {
                seen += progress
                if (progress.photoBytesSent > 0) cancel.cancel()
            }
        }
        val cancelled = try {
            rep.sync(cancelling, cancel)
            null
        } catch (e: FieldproofException) {
            e
        }
        verifyEq("cancelled sync: code sync_cancelled on the base exception", cancelled?.code, "sync_cancelled")
        verify("  … isCancelled", cancelled?.isCancelled == true)
        verifyEq("totals known up front: ops, photos", seen.firstOrNull()?.let { it.opsTotal.toLong() to it.photosTotal }, pending to photos.size)
        val stop = seen.last()
        verify("stopped at the first photo bytes, photos left to send", stop.phase == SyncPhase.UPLOADING_PHOTOS && stop.photoBytesSent > 0 && stop.photosSent < photos.size) { stop }
        verifyEq("nothing pushed yet: ops still pending", rep.outboxSummary().pending.toLong(), pending)
        verifyEq("the server stored no op yet", server.stat("ops"), 0L)
        verifyEq("the server holds the photo files finished before the cancel", server.stat("photo_blobs"), stop.photosSent.toLong())

        // A listener that throws does not break the sync: the resume runs through one.
        val thrown = mutableListOf<SyncPhase>()
        val throwing = object : SyncListener {
            override fun onProgress(progress: SyncProgress) {
                thrown += progress.phase
                throw IllegalStateException("a listener's bug")
            }
        }
        val resumed = rep.sync(throwing)
        verify("a throwing listener was called to DONE", thrown.lastOrNull() == SyncPhase.DONE) { thrown }
        verifyEq("resume: every pending op pushed once, no duplicate", resumed.pushed.toLong() to resumed.duplicates.toLong(), pending to 0L)
        verifyEq("resume: the other photos sent, not the finished ones again", resumed.photosSent.toLong(), (photos.size - stop.photosSent).toLong())
        verifyEq("resume: nothing left", resumed.pending.toLong() to resumed.photosNotUploaded.toLong(), 0L to 0L)

        // --- the collector stops at the first photo bytes, then resume through the Flow -----------
        visitWithPhotos(rep, photos)
        val pending2 = rep.outboxSummary().pending.toLong()
        val stoppedAt = rep.syncEvents().first { it is SyncEvent.Progress && it.progress.photoBytesSent > 0 }
        val stop2 = (stoppedAt as SyncEvent.Progress).progress
        verify("collector stopped at the first photo bytes", stop2.phase == SyncPhase.UPLOADING_PHOTOS && stop2.photosSent < photos.size) { stop2 }
        verifyEq("after the collector left: ops still pending", rep.outboxSummary().pending.toLong(), pending2)
        val events = rep.syncEvents().toList()
        val progress = events.filterIsInstance<SyncEvent.Progress>().map { it.progress }
        verifyInOrder("resumed sync", progress)
        val report = (events.last() as SyncEvent.Finished).report
        verifyEq("resumed: pushed, duplicates", report.pushed.toLong() to report.duplicates.toLong(), pending2 to 0L)
        verifyEq("resumed: the photos the dropped sync had not finished", report.photosSent.toLong(), (photos.size - stop2.photosSent).toLong())
        val done = progress.last()
        verifyEq(
            "DONE == the report: ops, photos, photo bytes, changes",
            listOf(done.opsSent.toLong(), done.photosSent.toLong(), done.photoBytesSent, done.changesPulled.toLong()),
            listOf(report.pushed.toLong() + report.duplicates.toLong() + report.rejected.size, report.photosSent.toLong(), report.photoBytesSent, report.pulled.toLong()),
        )
        verifyEq("DONE: sent == totals", listOf(done.opsTotal.toLong(), done.photosTotal.toLong(), done.photoBytesTotal), listOf(done.opsSent.toLong(), done.photosSent.toLong(), done.photoBytesSent))

        // --- the server's own counts: nothing lost, nothing twice --------------------------------
        verifyEq("server ops == the device's outbox", server.stat("ops"), rep.outboxSummary().lastSeq)
        verifyEq(
            "server photos, received, verified, files, rejected ops",
            listOf("photos", "photos_received", "photos_verified", "photo_blobs", "rejected_ops").map { server.stat(it) },
            listOf(2L * photos.size, 2L * photos.size, 2L * photos.size, 2L * photos.size, 0L),
        )
        verifyEq("device: nothing pending, every op acknowledged", rep.outboxSummary().let { it.pending.toLong() to it.acknowledged.toLong() }, 0L to rep.outboxSummary().lastSeq)
    }
}

fun main(args: Array<String>) {
    if (args.size != 4) {
        System.err.println("usage: SyncProgressTestKt <fieldproof-server> <reference.json> <photo.jpg> <photo2.jpg>")
        exitProcess(2)
    }
    val bin = File(args[0])
    val referenceJson = File(args[1]).readText()
    val small = File(args[2]).readBytes()
    val big = File(args[3]).readBytes()
    println("== sync progress and cancellation")
    val dir = Files.createTempDirectory("fieldproof-jvm-progress").toFile()
    val log = File(dir, "server.log")
    try {
        TestServer(bin, File(dir, "server-data"), log).use { server ->
            progressFlow(server, dir, referenceJson, listOf(small, big, small))
        }
    } catch (e: Throwable) {
        fails++
        println("  FAIL  unexpected ${e::class.qualifiedName}: ${e.message}")
        e.printStackTrace(System.out)
        if (log.isFile) println("  server log:\n" + log.readText().prependIndent("    "))
    } finally {
        dir.deleteRecursively()
    }
    println("$passes passed, $fails failed")
    exitProcess(if (fails == 0) 0 else 1)
}
