// End to end through the generated Kotlin bindings: the real `fieldproof-server` binary on
// loopback (a fresh data folder, administered with its own `admin` commands), a rep's and a
// supervisor's core on file databases with the real clock: enrol, first sync, a whole visit with
// the real camera photo, sync, the supervisor's view, the server's own counts, revocation.
// Plain `main` (no JUnit here): run by android/jvm-test/run.sh after VisitFlowTestKt, with the
// server binary, the fixture and the photo paths. Prints one line per check and ends with
// "N passed, M failed"; exits 1 on failure.

import dev.fieldproof.core.AnswerValue
import dev.fieldproof.core.CaptureRequest
import dev.fieldproof.core.CheckInRequest
import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.sdk.code
import dev.fieldproof.core.GeofenceVerdict
import dev.fieldproof.core.LocationFix
import dev.fieldproof.core.LocationProvider
import dev.fieldproof.core.PhotoKind
import dev.fieldproof.core.PlanStatus
import dev.fieldproof.core.Role
import dev.fieldproof.core.SyncReport
import dev.fieldproof.core.VisitReport
import dev.fieldproof.core.VisitStatus
import java.io.File
import java.nio.file.Files
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking

private var passed = 0
private var failed = 0
private var scope = ""

private inline fun check(name: String, ok: Boolean, detail: () -> Any? = { null }) {
    if (ok) {
        passed++
        println("  ok    $scope$name")
    } else {
        failed++
        println("  FAIL  $scope$name" + (detail()?.let { " -- $it" } ?: ""))
    }
}

private fun <T> checkEq(name: String, actual: T, expected: T) =
    check(name, actual == expected) { "expected <$expected>, got <$actual>" }

/** A precondition the rest of the scenario cannot do without: counted, then stops the scenario. */
private inline fun mustHold(name: String, ok: Boolean, detail: () -> Any? = { null }) {
    check(name, ok, detail)
    if (!ok) throw IllegalStateException("cannot go on: $name")
}

/** [block] must throw [FieldproofException.Sync] with [code]. */
private suspend fun expectSyncError(name: String, code: String, block: suspend () -> Unit) {
    val error = try {
        block()
        null
    } catch (e: FieldproofException) {
        e
    }
    check("$name -> Sync($code)", error is FieldproofException.Sync && error.code == code) {
        if (error == null) "no error" else "${error::class.simpleName}(${error.message})"
    }
}

// Store coordinates from tests/fixtures/reference.json.
private const val ST001_LAT = 31.2304
private const val ST001_LON = 121.5200
private const val ST002_LAT = 31.2360
private const val ST002_LON = 121.5050

/** ~15 m north of the point: inside every fixture store's geofence. */
private fun fixNear(lat: Double, lon: Double) = LocationFix(
    latitude = lat + 0.000135,
    longitude = lon,
    accuracyM = 8.0,
    provider = LocationProvider.GPS,
    isMock = false,
    fixTimeMs = System.currentTimeMillis(),
)

/** The value of a top-level integer field of `admin stats` (pretty JSON, one field a line). */
private fun jsonInt(json: String, key: String): Long? =
    Regex("(?m)^  \"${Regex.escape(key)}\": (-?\\d+),?$").find(json)?.groupValues?.get(1)?.toLong()


private fun describe(r: SyncReport) =
    "pushed ${r.pushed} dup ${r.duplicates} rejected ${r.rejected.size} exceptions ${r.exceptions.map { it.code }} " +
        "pulled ${r.pulled} photos ${r.photosSent} (${r.photoBytesSent} B) up ${r.bytesUp} B down ${r.bytesDown} B " +
        "pending ${r.pending} photos_not_uploaded ${r.photosNotUploaded}"

private fun syncFlow(server: TestServer, dir: File, referenceJson: String, photo: ByteArray) = runBlocking {
    mustHold("server url is loopback http", Regex("^http://127\\.0\\.0\\.1:\\d+$").matches(server.url)) { server.url }

    // --- head office: reference data with the plans moved to the reps' today (UTC+8) ------------------
    val today = LocalDate.now(ZoneOffset.ofHours(8)).toString()
    val planDate = "\"date\": \"2026-11-23\""
    checkEq("fixture has 4 plan dates to move", Regex.escape(planDate).toRegex().findAll(referenceJson).count(), 4)
    val reference = File(dir, "reference.json").apply { writeText(referenceJson.replace(planDate, "\"date\": \"$today\"")) }
    val loaded = server.admin("load-reference", reference.path)
    checkEq("load-reference: users, stores, plans", listOf("users", "stores", "plans").map { jsonInt(loaded, it) }, listOf(5L, 4L, 4L))
    val repCode = server.enrolCode("rep-li")
    val supCode = server.enrolCode("sup-wang")
    check("enrol codes look like XXXX-XXXX-XXXX", listOf(repCode, supCode).all { Regex("^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$").matches(it) }) {
        "$repCode $supCode"
    }
    check("codes are one per user", repCode != supCode)

    // --- a code head office never issued ---------------------------------------------------------------
    FieldproofCore.open(File(dir, "stranger.db").path).use { stranger ->
        expectSyncError("enrol with an unknown code", "invalid_enrol_code") { stranger.enrol(server.url, "0000-0000-0000") }
        checkEq("refused device is not enrolled", stranger.syncState().enrolled, false)
        expectSyncError("sync after the refused enrolment", "not_enrolled") { stranger.sync() }
    }

    FieldproofCore.open(File(dir, "rep-li.db").path).use { rep ->
        // --- enrol, first sync: the rep's territory and nothing else ----------------------------------
        val user = rep.enrol(server.url, repCode)
        checkEq("rep enrols as rep-li", Triple(user.id, user.role, user.territory), Triple("rep-li", Role.REP, "shanghai-east"))
        val enrolled = rep.syncState()
        checkEq("sync state: enrolled with this server as rep-li", Triple(enrolled.enrolled, enrolled.serverUrl, enrolled.user?.id), Triple(true, server.url, "rep-li"))
        checkEq("nothing pulled before the first sync", enrolled.pullCursor, 0L)
        FieldproofCore.open(File(dir, "thief.db").path).use { thief ->
            expectSyncError("another device with rep-li's used code", "enrol_code_used") { thief.enrol(server.url, repCode) }
        }

        val first = rep.sync()
        println("  rep first sync: ${describe(first)}")
        check("first sync pulled the reference data", first.pulled > 0) { describe(first) }
        checkEq("first sync pushed nothing", Triple(first.pushed, first.photosSent, first.rejected), Triple(0, 0, emptyList()))
        check("pull cursor moved", rep.syncState().pullCursor > 0) { rep.syncState() }
        checkEq("rep sees exactly the east stores", rep.stores(null).map { it.id }.sorted(), listOf("st-001", "st-002", "st-003"))
        check("st-101 (west) never reached the rep", rep.stores(null).none { it.id == "st-101" })
        checkEq("no west territory stores on the rep's phone", rep.stores("shanghai-west"), emptyList())
        val notMine = try {
            rep.dayPlan("rep-zhao", today)
            null
        } catch (e: FieldproofException) {
            e
        }
        check("rep-zhao (another rep) is unknown on rep-li's phone", notMine is FieldproofException.NotFound && notMine.code == "unknown_user") { notMine }
        val plan = rep.dayPlan("rep-li", today)
        checkEq("today's plan came down: st-001..003", plan.map { it.store.id }, listOf("st-001", "st-002", "st-003"))
        mustHold("plan has a first stop", plan.isNotEmpty())

        // --- a whole visit -------------------------------------------------------------------------------
        val visit = rep.checkIn(
            CheckInRequest(userId = "rep-li", storeId = "st-001", planId = plan[0].planId, fix = fixNear(ST001_LAT, ST001_LON)),
        )
        checkEq("check-in at st-001 VERIFIED, no flags", visit.geofence to visit.flags, GeofenceVerdict.VERIFIED to emptyList())
        rep.answer(visit.id, "shelf_ok", AnswerValue.YesNo(true), null)
        rep.answer(visit.id, "facings", AnswerValue.Number(6.0), null)
        rep.answer(visit.id, "own_price", AnswerValue.Price(400), null)
        rep.answer(visit.id, "comp_price", AnswerValue.Price(390), null)
        rep.answer(visit.id, "backroom", AnswerValue.Choice("high"), null)
        rep.answer(visit.id, "remarks", AnswerValue.Text("货架整齐"), null)
        val captured = rep.capturePhoto(
            CaptureRequest(
                visitId = visit.id,
                itemId = "shelf_photo",
                kind = PhotoKind.SHELF_OVERVIEW,
                fix = fixNear(ST001_LAT, ST001_LON),
                utcOffsetMinutes = 480,
            ),
            photo,
        )
        val shot = captured.photo
        checkEq("capture raised no flags", captured.flags, emptyList())
        rep.saveReport(visit.id, VisitReport(notes = "陈列良好，库存充足。", nextSteps = listOf("下周复查价格")))
        checkEq("visit COMPLETED", rep.completeVisit(visit.id).status, VisitStatus.COMPLETED)
        checkEq("visit CHECKED_OUT", rep.checkOut(visit.id, fixNear(ST001_LAT, ST001_LON)).status, VisitStatus.CHECKED_OUT)
        checkEq("plan stop 1 completed", rep.dayPlan("rep-li", today)[0].status, PlanStatus.COMPLETED)

        val before = rep.outboxSummary()
        check("the visit wrote ops, all pending", before.pending > 0 && before.pending.toLong() == before.lastSeq && before.acknowledged == 0) { before }
        checkEq("one photo waits for upload", rep.syncState().photosNotUploaded, 1)

        // --- sync the visit ------------------------------------------------------------------------------
        val report = rep.sync()
        println("  rep visit sync: ${describe(report)}")
        checkEq("pushed == pending ops before", report.pushed, before.pending)
        checkEq("no duplicates", report.duplicates, 0)
        checkEq("nothing rejected", report.rejected, emptyList())
        checkEq("a clean visit raised no server exceptions", report.exceptions, emptyList())
        checkEq("one photo sent", report.photosSent, 1)
        checkEq("photo bytes sent == the stored photo's size", report.photoBytesSent, shot.byteLen)
        check("bytes up cover the photo", report.bytesUp > report.photoBytesSent) { describe(report) }
        checkEq("nothing pending after the sync", report.pending to report.photosNotUploaded, 0 to 0)
        val after = rep.outboxSummary()
        checkEq("outbox: every op acknowledged", Triple(after.pending, after.rejected, after.acknowledged.toLong()), Triple(0, 0, before.lastSeq))
        checkEq("no rejected ops to show", rep.rejectedOps(), emptyList())
        val state = rep.syncState()
        checkEq("sync state drained", Triple(state.pendingOps, state.rejectedOps, state.photosNotUploaded), Triple(0, 0, 0))
        check("server time learned", state.lastServerTimeMs != null && state.serverOffsetMs != null) { state }

        val again = rep.sync()
        checkEq("second sync: pushed, duplicates, photos all 0", Triple(again.pushed, again.duplicates, again.photosSent), Triple(0, 0, 0))
        checkEq("second sync: the rep is sent nothing new", again.pulled, 0)
        checkEq("a rep gets no team visits", rep.teamVisits(null, 100), emptyList())
        var devicePushed = first.pushed + report.pushed + again.pushed

        // --- the supervisor's phone --------------------------------------------------------------------
        FieldproofCore.open(File(dir, "sup-wang.db").path).use { sup ->
            val boss = sup.enrol(server.url, supCode)
            checkEq("supervisor enrols as sup-wang", boss.id to boss.role, "sup-wang" to Role.SUPERVISOR)
            val supFirst = sup.sync()
            println("  supervisor first sync: ${describe(supFirst)}")
            check("supervisor pulled", supFirst.pulled > 0) { describe(supFirst) }
            checkEq("supervisor sees the team's stores", sup.stores(null).map { it.id }.sorted(), listOf("st-001", "st-002", "st-003", "st-101"))
            val team = sup.teamVisits("rep-li", 100)
            checkEq("team visits: exactly rep-li's visit", team.map { it.visitId }, listOf(visit.id))
            val tv = team.firstOrNull()
            checkEq("team visit: rep, store, kind, status", listOf(tv?.repId, tv?.storeId, tv?.kind, tv?.status), listOf("rep-li", "st-001", "store_check", "checked_out"))
            checkEq("team visit: geofence verified, no exceptions", tv?.geofence to tv?.exceptions, "verified" to emptyList<String>())
            checkEq("team visit: 6 answers", tv?.answers, 6)
            checkEq("team visit: report summary", tv?.reportSummary, "陈列良好，库存充足。 (0 objection(s), 1 next step(s))")
            checkEq(
                "team visit: the photo, verified by the server",
                tv?.photos?.map { listOf(it.photoId, it.sha256, it.evidenceCode, it.verified) },
                listOf(listOf(shot.id, shot.sha256, shot.evidenceCode, true)),
            )
            checkEq("rep-zhao has no visits", sup.teamVisits("rep-zhao", 100), emptyList())

            // The supervisor's own inspection at st-001: ops from a second device.
            val insp = sup.checkIn(
                CheckInRequest(userId = "sup-wang", storeId = "st-001", templateId = "tpl-inspection", fix = fixNear(ST001_LAT, ST001_LON)),
            )
            sup.answer(insp.id, "display_score", AnswerValue.Choice("good"), null)
            sup.answer(insp.id, "pop_material", AnswerValue.YesNo(true), null)
            sup.completeVisit(insp.id)
            sup.checkOut(insp.id, fixNear(ST001_LAT, ST001_LON))
            val supPending = sup.outboxSummary().pending
            check("the inspection wrote ops", supPending > 0)
            val supReport = sup.sync()
            println("  supervisor inspection sync: ${describe(supReport)}")
            checkEq("supervisor: pushed == pending, nothing else", listOf(supReport.pushed, supReport.duplicates, supReport.rejected.size, supReport.photosSent, supReport.pending), listOf(supPending, 0, 0, 0, 0))
            devicePushed += supFirst.pushed + supReport.pushed

            // --- the server's own counts -------------------------------------------------------------------
            val stats = server.stats()
            checkEq("admin stats: ops == what the two devices pushed", jsonInt(stats, "ops"), devicePushed.toLong())
            checkEq("admin stats: ops == both outboxes", jsonInt(stats, "ops"), rep.outboxSummary().lastSeq + sup.outboxSummary().lastSeq)
            checkEq(
                "admin stats: photos, received, verified, rejected ops, exceptions, devices",
                listOf("photos", "photos_received", "photos_verified", "rejected_ops", "exceptions", "devices", "revoked_devices").map { jsonInt(stats, it) },
                listOf(1L, 1L, 1L, 0L, 0L, 2L, 0L),
            )
            check("admin stats: no exceptions by code", stats.contains("\"exceptions_by_code\": {}")) { stats }

            // --- head office revokes the rep's phone -------------------------------------------------------
            val revoked = server.admin("revoke", "--device", rep.deviceId())
            checkEq("admin revoke confirms", revoked.trim(), "revoked ${rep.deviceId()}")
            // A visit started after the revocation: refused by the server, kept on the phone.
            val late = rep.checkIn(
                CheckInRequest(userId = "rep-li", storeId = "st-002", planId = plan[1].planId, fix = fixNear(ST002_LAT, ST002_LON)),
            )
            val pendingLate = rep.outboxSummary().pending
            check("the late check-in is pending", pendingLate > 0) { pendingLate }
            expectSyncError("revoked device syncs", "device_revoked") { rep.sync() }
            checkEq("nothing lost: the late op is still pending", rep.outboxSummary().pending, pendingLate)
            checkEq("the late visit is still open on the phone", rep.openVisit("rep-li")?.id, late.id)
            val statsAfter = server.stats()
            checkEq("server stored nothing from the revoked device", jsonInt(statsAfter, "ops"), devicePushed.toLong())
            checkEq("admin stats: one revoked device", jsonInt(statsAfter, "revoked_devices"), 1L)
            val supStill = sup.sync()
            checkEq("the supervisor's device still syncs", supStill.rejected to supStill.pushed, emptyList<Any>() to 0)
        }
    }
}

private fun runScenario(name: String, body: () -> Unit) {
    println("== $name")
    scope = "[$name] "
    try {
        body()
    } catch (e: Throwable) {
        failed++
        println("  FAIL  ${scope}unexpected ${e::class.qualifiedName}: ${e.message}")
        e.printStackTrace(System.out)
    }
}

fun main(args: Array<String>) {
    if (args.size != 3) {
        System.err.println("usage: SyncFlowTestKt <fieldproof-server> <reference.json> <photo.jpg>")
        exitProcess(2)
    }
    val bin = File(args[0])
    val referenceJson = File(args[1]).readText()
    val photo = File(args[2]).readBytes()

    runScenario("sync against fieldproof-server") {
        mustHold("server binary exists", bin.canExecute()) { bin.path }
        val dir = Files.createTempDirectory("fieldproof-jvm-sync").toFile()
        val log = File(dir, "server.log")
        val failedBefore = failed
        var crashed = true
        try {
            TestServer(bin, File(dir, "server-data"), log).use { server ->
                try {
                    syncFlow(server, dir, referenceJson, photo)
                } finally {
                    // SIGTERM: finishes what is in flight, checkpoints, exits 0.
                    checkEq("server exits 0 on SIGTERM", server.terminate(), 0)
                }
            }
            crashed = false
        } finally {
            if ((crashed || failed > failedBefore) && log.isFile) {
                println("  server log:\n" + log.readText().prependIndent("    "))
            }
            dir.deleteRecursively()
        }
    }

    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
