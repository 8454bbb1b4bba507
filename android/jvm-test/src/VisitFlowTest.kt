// The visit flow through the generated Kotlin bindings, against the host-built libfieldproof_ffi.
// Plain `main` (no JUnit here): run by android/jvm-test/run.sh, which passes the fixture and the
// photo paths. Prints one line per check and ends with "N passed, M failed"; exits 1 on failure.
// Every call that touches the database or the image pipeline is a `suspend fun`: the flows run in
// `runBlocking`, and one scenario proves a capture leaves its (single) thread free meanwhile.

import dev.fieldproof.core.AnswerValue
import dev.fieldproof.core.CaptureRequest
import dev.fieldproof.core.ChainFinding
import dev.fieldproof.core.KnownKey
import dev.fieldproof.core.SignedEntry
import dev.fieldproof.core.VerifyCode
import dev.fieldproof.core.verifyEvidenceChain
import dev.fieldproof.core.verifyPhotoEvidence
import dev.fieldproof.core.CheckInRequest
import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.sdk.code
import dev.fieldproof.core.FlagCode
import dev.fieldproof.core.GeofenceVerdict
import dev.fieldproof.core.LocationFix
import dev.fieldproof.core.LocationProvider
import dev.fieldproof.core.MissingItem
import dev.fieldproof.core.MissingKind
import dev.fieldproof.core.Objection
import dev.fieldproof.core.ObjectionKind
import dev.fieldproof.core.PhotoKind
import dev.fieldproof.core.PlanStatus
import dev.fieldproof.core.ReviewVerdict
import dev.fieldproof.core.SyncOptions
import dev.fieldproof.core.VisitReport
import dev.fieldproof.core.VisitStatus
import java.io.File
import java.nio.file.Files
import java.util.concurrent.Executors
import kotlin.system.exitProcess
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
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

/**
 * Runs [block], which must throw a [FieldproofException] of variant [E] with [code], and must not
 * write anything (the outbox's last sequence number is unchanged).
 */
private suspend inline fun <reified E : FieldproofException> expectError(
    core: FieldproofCore,
    name: String,
    code: String,
    noinline block: suspend () -> Unit,
): E? = expectErrorOf(E::class.java, core, name, code, block)

// Not inline: `flow` calls it dozens of times, and inlining each copy makes `flow` too large
// for one JVM method.
private suspend fun <E : FieldproofException> expectErrorOf(
    variant: Class<E>,
    core: FieldproofCore,
    name: String,
    code: String,
    block: suspend () -> Unit,
): E? {
    val before = core.outboxSummary().lastSeq
    val rowsBefore = core.tableRowCounts()
    val error = try {
        block()
        null
    } catch (e: FieldproofException) {
        e
    }
    check("$name -> $code", variant.isInstance(error) && error?.code == code) {
        if (error == null) "no error" else "${error::class.simpleName}(${error.message})"
    }
    checkEq("$name wrote nothing", core.outboxSummary().lastSeq to core.tableRowCounts(), before to rowsBefore)
    return if (variant.isInstance(error)) variant.cast(error) else null
}

private fun fixAt(lat: Double, lon: Double, accuracy: Double = 10.0) = LocationFix(
    latitude = lat,
    longitude = lon,
    accuracyM = accuracy,
    provider = LocationProvider.GPS,
    isMock = false,
    fixTimeMs = System.currentTimeMillis(),
)

// Store coordinates from tests/fixtures/reference.json.
private const val ST001_LAT = 31.2304
private const val ST001_LON = 121.5200
private const val ST002_LAT = 31.2360
private const val ST002_LON = 121.5050
private const val ST003_LAT = 31.2280
private const val ST003_LON = 121.5290

/** ~1 km north: 0.009° of latitude is about 1000 m. */
private const val ONE_KM_LAT = 0.009

private suspend fun flow(core: FieldproofCore, referenceJson: String, photo: ByteArray) {
    check("device id is set", core.deviceId().isNotBlank())
    checkEq("outbox starts empty", core.outboxSummary().lastSeq, 0L)

    // --- reference data ------------------------------------------------------------------------
    val loaded = core.loadReferenceJson(referenceJson)
    checkEq("loaded users", loaded.users, 5)
    checkEq("loaded stores", loaded.stores, 4)
    checkEq("loaded templates", loaded.templates, 2)
    checkEq("loaded plans", loaded.plans, 4)
    expectError<FieldproofException.InvalidInput>(core, "load broken JSON", "bad_reference_data") {
        core.loadReferenceJson("{\"users\": [")
    }

    // --- day plan -------------------------------------------------------------------------------
    val plan = core.dayPlan("rep-li", "2026-11-23")
    checkEq("rep-li has 3 stops", plan.size, 3)
    checkEq("stops in route order", plan.map { it.store.id }, listOf("st-001", "st-002", "st-003"))
    checkEq("sequence 1..3", plan.map { it.sequence }, listOf(1, 2, 3))
    check("all stops not started", plan.all { it.status == PlanStatus.NOT_STARTED && it.visitId == null })
    check("Chinese store name survives the FFI", plan[0].store.name == "联华超市（浦东南路店）") { plan[0].store.name }
    expectError<FieldproofException.NotFound>(core, "day plan of unknown rep", "unknown_user") {
        core.dayPlan("rep-nobody", "2026-11-23")
    }
    expectError<FieldproofException.InvalidInput>(core, "day plan with a bad date", "invalid_input") {
        core.dayPlan("rep-li", "23.11.2026")
    }

    // --- geofence: block mode refuses outside ---------------------------------------------------
    expectError<FieldproofException.Refused>(core, "check-in outside block-mode st-003", "outside_geofence") {
        core.checkIn(
            CheckInRequest(
                userId = "rep-li",
                storeId = "st-003",
                planId = plan[2].planId,
                fix = fixAt(ST003_LAT + ONE_KM_LAT, ST003_LON),
            ),
        )
    }
    checkEq("refused check-in opened no visit", core.openVisit("rep-li"), null)

    // --- geofence: inside ------------------------------------------------------------------------
    val visit = core.checkIn(
        CheckInRequest(
            userId = "rep-li",
            storeId = "st-001",
            planId = plan[0].planId,
            fix = fixAt(ST001_LAT, ST001_LON),
        ),
    )
    checkEq("check-in at st-001 is VERIFIED", visit.geofence, GeofenceVerdict.VERIFIED)
    checkEq("verified check-in has no flags", visit.flags, emptyList())
    checkEq("visit is in progress", visit.status, VisitStatus.IN_PROGRESS)
    checkEq("visit pins the plan's template", visit.templateId, "tpl-store-check")
    check("distance minus accuracy is negative", (visit.distanceM ?: 1.0) < 0.0) { visit.distanceM }
    checkEq("open visit is this one", core.openVisit("rep-li")?.id, visit.id)
    checkEq("plan stop 1 in progress", core.dayPlan("rep-li", "2026-11-23")[0].status, PlanStatus.IN_PROGRESS)

    expectError<FieldproofException.Refused>(core, "second check-in while one is open", "visit_already_open") {
        core.checkIn(
            CheckInRequest(
                userId = "rep-li",
                storeId = "st-002",
                planId = plan[1].planId,
                fix = fixAt(ST002_LAT, ST002_LON),
            ),
        )
    }

    // --- geofence: outside, flag mode -------------------------------------------------------------
    val chen = core.checkIn(
        CheckInRequest(userId = "rep-chen", storeId = "st-002", fix = fixAt(ST002_LAT + ONE_KM_LAT, ST002_LON)),
    )
    checkEq("rep-chen 1 km from st-002 is OUTSIDE", chen.geofence, GeofenceVerdict.OUTSIDE)
    checkEq("outside check-in flagged OUTSIDE_GEOFENCE", chen.flags.map { it.code }, listOf(FlagCode.OUTSIDE_GEOFENCE))
    check("outside distance is about 1 km", (chen.distanceM ?: 0.0) in 900.0..1100.0) { chen.distanceM }

    // --- answers ----------------------------------------------------------------------------------
    val before = core.visitDetail(visit.id)
    check("shelf_issue hidden before shelf_ok is answered", "shelf_issue" in before.hiddenItemIds) {
        before.hiddenItemIds
    }
    check("hidden shelf_issue is not missing", before.missing.none { it.itemId == "shelf_issue" })

    var outcome = core.answer(visit.id, "shelf_ok", AnswerValue.YesNo(false), null)
    check("shelf_ok=false shows shelf_issue", "shelf_issue" !in outcome.hiddenItemIds) { outcome.hiddenItemIds }
    check("shelf_issue now missing", outcome.missing.any { it.itemId == "shelf_issue" && it.kind == MissingKind.ANSWER }) {
        outcome.missing
    }

    expectError<FieldproofException.InvalidInput>(core, "yes/no value for number item", "wrong_value_kind") {
        core.answer(visit.id, "facings", AnswerValue.YesNo(true), null)
    }
    expectError<FieldproofException.NotFound>(core, "answer to unknown item", "unknown_item") {
        core.answer(visit.id, "no_such_item", AnswerValue.YesNo(true), null)
    }
    expectError<FieldproofException.NotFound>(core, "answer to unknown visit", "unknown_visit") {
        core.answer("no-such-visit", "shelf_ok", AnswerValue.YesNo(true), null)
    }
    expectError<FieldproofException.NotFound>(core, "unknown choice", "unknown_choice") {
        core.answer(visit.id, "shelf_issue", AnswerValue.Choice("broken"), null)
    }
    expectError<FieldproofException.InvalidInput>(core, "negative facings", "invalid_answer") {
        core.answer(visit.id, "facings", AnswerValue.Number(-1.0), null)
    }
    expectError<FieldproofException.InvalidInput>(core, "photo item answered with a value", "invalid_answer") {
        core.answer(visit.id, "shelf_photo", AnswerValue.Text("a photo"), null)
    }

    core.answer(visit.id, "shelf_issue", AnswerValue.Choice("wrong_place"), null)
    core.answer(visit.id, "facings", AnswerValue.Number(5.0), null)
    core.answer(visit.id, "backroom", AnswerValue.Choice("low"), null)
    core.answer(visit.id, "remarks", AnswerValue.Text("  货架整洁  "), null)

    // --- price gap ---------------------------------------------------------------------------------
    core.answer(visit.id, "own_price", AnswerValue.Price(400), null)
    outcome = core.answer(visit.id, "comp_price", AnswerValue.Price(300), null)
    val gap = outcome.flags.filter { it.code == FlagCode.PRICE_GAP_UNEXPLAINED }
    checkEq("competitor 25 % cheaper raises PRICE_GAP_UNEXPLAINED", gap.map { it.itemId }, listOf("comp_price"))
    check(
        "price gap is in open exceptions",
        core.openExceptions(50).any { it.visitId == visit.id && it.flag.code == FlagCode.PRICE_GAP_UNEXPLAINED },
    )
    outcome = core.answer(visit.id, "comp_price", AnswerValue.Price(300), "门店促销，已与店长议价")
    check("negotiation note clears the price gap", outcome.flags.none { it.code == FlagCode.PRICE_GAP_UNEXPLAINED }) {
        outcome.flags
    }
    check(
        "cleared price gap left open exceptions",
        core.openExceptions(50).none { it.visitId == visit.id },
    )

    // --- locked completion ---------------------------------------------------------------------------
    val locked = expectError<FieldproofException.Refused>(core, "complete too early", "completion_locked") {
        core.completeVisit(visit.id)
    }
    checkEq(
        "missing list is exactly the photo and the report",
        locked?.missing,
        listOf(
            MissingItem(kind = MissingKind.PHOTO, itemId = "shelf_photo", label = "Shelf overview photo"),
            MissingItem(kind = MissingKind.REPORT, itemId = null, label = "visit report"),
        ),
    )
    expectError<FieldproofException.Refused>(core, "check out before completion", "visit_not_completed") {
        core.checkOut(visit.id, fixAt(ST001_LAT, ST001_LON))
    }

    // --- photo, report, complete, check out -------------------------------------------------------------
    fun shot(item: String?) = CaptureRequest(
        visitId = visit.id,
        itemId = item,
        kind = PhotoKind.SHELF_OVERVIEW,
        fix = LocationFix(31.2304, 121.52, 10.0, LocationProvider.GPS, false, System.currentTimeMillis()),
        utcOffsetMinutes = 480,
    )
    expectError<FieldproofException.InvalidInput>(core, "photo that is not a JPEG", "not_jpeg") {
        core.capturePhoto(shot("shelf_photo"), byteArrayOf(1, 2, 3))
    }
    expectError<FieldproofException.InvalidInput>(core, "photo on a number item", "wrong_value_kind") {
        core.capturePhoto(shot("facings"), photo)
    }
    val captured = core.capturePhoto(shot("shelf_photo"), photo)
    val stored = captured.photo
    val stamped = File(stored.path).readBytes()
    checkEq("photo byte length", stored.byteLen, stamped.size.toLong())
    checkEq("photo sha256 is the stamped file's", stored.sha256, sha256Hex(stamped))
    checkEq("original sha256 kept", stored.originalSha256, sha256Hex(photo))
    check("photo carries an evidence code", stored.evidenceCode?.length == 9) { stored.evidenceCode.toString() }

    // --- evidence: verify, then tamper ------------------------------------------------------------------
    check("captured photo verifies", core.verifyPhoto(stored.id).verified)
    val ev = core.photoEvidence(stored.id)
    val manifest = SignedEntry(ev.manifest, ev.signatureHex)
    val keys = listOf(KnownKey(ev.deviceId, ev.publicKeyHex, null))
    check("verifies with the enrolled key", verifyPhotoEvidence(stamped, manifest, keys, null).verified)
    val flipped = stamped.copyOf().also { it[it.size / 2] = (it[it.size / 2].toInt() xor 1).toByte() }
    checkEq(
        "one flipped byte → IMAGE_HASH_MISMATCH",
        verifyPhotoEvidence(flipped, manifest, keys, null).problems,
        listOf(VerifyCode.IMAGE_HASH_MISMATCH),
    )
    val changed = SignedEntry(ev.manifest.replace("\"store_code\":\"SH-E-001\"", "\"store_code\":\"SH-E-009\""), ev.signatureHex)
    checkEq(
        "changed manifest field → BAD_SIGNATURE",
        verifyPhotoEvidence(stamped, changed, keys, null).problems,
        listOf(VerifyCode.BAD_SIGNATURE),
    )
    checkEq(
        "unknown device → UNKNOWN_KEY",
        verifyPhotoEvidence(stamped, manifest, emptyList(), null).problems,
        listOf(VerifyCode.UNKNOWN_KEY),
    )
    val chain = core.pendingOps(1000).map { SignedEntry(it.entry!!, it.signatureHex!!) }
    checkEq("device chain verifies", verifyEvidenceChain(chain, core.devicePublicKey(), null), emptyList<ChainFinding>())
    checkEq(
        "removed chain entry → CHAIN_GAP",
        verifyEvidenceChain(chain.filterIndexed { i, _ -> i != 1 }, core.devicePublicKey(), null).map { it.code },
        listOf(VerifyCode.CHAIN_GAP),
    )

    expectError<FieldproofException.InvalidInput>(core, "report with empty notes", "invalid_input") {
        core.saveReport(visit.id, VisitReport(notes = "   "))
    }
    expectError<FieldproofException.InvalidInput>(core, "report with a bad follow-up date", "invalid_input") {
        core.saveReport(visit.id, VisitReport(notes = "ok", followUpDate = "next week"))
    }
    val report = VisitReport(
        notes = "店长同意增加两个排面。",
        objections = listOf(Objection(ObjectionKind.PRICE, "竞品便宜 1 元")),
        nextSteps = listOf("送新陈列架", "下周复查价格"),
        followUpDate = "2026-11-30",
    )
    core.saveReport(visit.id, report)
    checkEq("report reads back", core.visitDetail(visit.id).report, report)

    val completed = core.completeVisit(visit.id)
    checkEq("visit COMPLETED", completed.status, VisitStatus.COMPLETED)
    check("completed visit has a score", completed.score?.let { it in 0.0..100.0 } == true) {
        completed.score
    }
    expectError<FieldproofException.Refused>(core, "answer after completion", "visit_not_editable") {
        core.answer(visit.id, "facings", AnswerValue.Number(6.0), null)
    }

    val out = core.checkOut(visit.id, fixAt(ST001_LAT, ST001_LON))
    checkEq("visit CHECKED_OUT", out.status, VisitStatus.CHECKED_OUT)
    check("check-out time recorded", out.checkedOutAtMs != null)
    checkEq("no open visit after check-out", core.openVisit("rep-li"), null)
    checkEq("plan stop 1 completed", core.dayPlan("rep-li", "2026-11-23")[0].status, PlanStatus.COMPLETED)

    // --- supervisor review ------------------------------------------------------------------------------
    expectError<FieldproofException.InvalidInput>(core, "flag without a comment", "invalid_input") {
        core.reviewVisit("sup-wang", visit.id, ReviewVerdict.FLAG, " ")
    }
    val flagged = core.reviewVisit("sup-wang", visit.id, ReviewVerdict.FLAG, "排面照片不清楚")
    checkEq("review verdict FLAG", flagged.verdict, ReviewVerdict.FLAG)
    check(
        "SUPERVISOR_FLAG is an open exception",
        core.openExceptions(50).any { it.visitId == visit.id && it.flag.code == FlagCode.SUPERVISOR_FLAG },
    )
    core.reviewVisit("sup-wang", visit.id, ReviewVerdict.ACCEPT, "")
    check(
        "ACCEPT clears SUPERVISOR_FLAG",
        core.openExceptions(50).none { it.visitId == visit.id },
    )
    expectError<FieldproofException.Refused>(core, "sup-liu reviews rep-li's visit", "not_allowed") {
        core.reviewVisit("sup-liu", visit.id, ReviewVerdict.ACCEPT, "")
    }
    expectError<FieldproofException.Refused>(core, "rep reviews a visit", "not_allowed") {
        core.reviewVisit("rep-zhao", visit.id, ReviewVerdict.ACCEPT, "")
    }

    val detail = core.visitDetail(visit.id)
    checkEq("two reviews kept", detail.reviews.map { it.verdict }, listOf(ReviewVerdict.FLAG, ReviewVerdict.ACCEPT))
    checkEq("comp_price answered twice", detail.answers.first { it.itemId == "comp_price" }.revision, 2)
    checkEq("text answer trimmed", detail.answers.first { it.itemId == "remarks" }.value, AnswerValue.Text("货架整洁"))
    checkEq("missing is empty once completed", detail.missing, emptyList())

    val history = core.storeHistory("st-002", 10)
    checkEq("st-002 history has rep-chen's visit", history.map { it.visitId }, listOf(chen.id))
    checkEq("history shows its flag code", history.firstOrNull()?.flagCodes, listOf(FlagCode.OUTSIDE_GEOFENCE))

    // --- exceptions, outbox, audit --------------------------------------------------------------------------
    val exceptions = core.openExceptions(50)
    checkEq(
        "only rep-chen's OUTSIDE_GEOFENCE is still open",
        exceptions.map { it.visitId to it.flag.code },
        listOf(chen.id to FlagCode.OUTSIDE_GEOFENCE),
    )
    val ops = core.pendingOps(1000)
    check("pending ops not empty", ops.isNotEmpty())
    checkEq("seq contiguous from 1", ops.map { it.seq }, (1L..ops.size.toLong()).toList())
    checkEq("summary agrees with pending ops", core.outboxSummary().lastSeq, ops.size.toLong())
    checkEq("first op is the check-in", ops.first().kind, "visit.check_in")
    val audit = core.audit()
    checkEq("audit is clean", audit.problems, emptyList())
    checkEq("audit counted every op", audit.ops, ops.size.toLong())
    checkEq("SQLite integrity check", core.integrityCheck(), listOf("ok"))
    checkEq("outbox table holds every op", core.tableRowCounts().first { it.table == "outbox" }.rows, ops.size.toLong())
}

/**
 * Sync without a server: `enrol` and `sync` are suspend functions, their errors carry stable
 * codes, and the sync queries answer on a device that was never enrolled. (End-to-end syncs
 * against fieldproof-server build on this.)
 */
private suspend fun syncWithoutServer(core: FieldproofCore, referenceJson: String) {
    core.loadReferenceJson(referenceJson)
    val state = core.syncState()
    checkEq("a new core is not enrolled", Triple(state.enrolled, state.user, state.pullCursor), Triple(false, null, 0L))

    val notEnrolled = try {
        core.sync()
        null
    } catch (e: FieldproofException) {
        e
    }
    check("sync() before enrolment -> not_enrolled", notEnrolled is FieldproofException.Sync && notEnrolled.code == "not_enrolled") {
        notEnrolled
    }

    val fast: SyncOptions = core.syncOptions().copy(initialBackoffMs = 1L, maxBackoffMs = 2L, maxAttempts = 2)
    core.setSyncOptions(fast)
    checkEq("sync options are kept", core.syncOptions(), fast)
    val port = java.net.ServerSocket(0).use { it.localPort }
    val unreachable = try {
        core.enrol("http://127.0.0.1:$port", "K7QF-2M9X")
        null
    } catch (e: FieldproofException) {
        e
    }
    check("enrol() against a closed port -> network", unreachable is FieldproofException.Sync && unreachable.code == "network") {
        unreachable
    }
    checkEq("still not enrolled", core.syncState().enrolled, false)

    val plainHttp = try {
        core.enrol("http://sync.example.com", "K7QF-2M9X")
        null
    } catch (e: FieldproofException) {
        e
    }
    check("plain http to another host -> invalid_input", plainHttp is FieldproofException.InvalidInput && plainHttp.code == "invalid_input") {
        plainHttp
    }
    checkEq("no rejected ops", core.rejectedOps(), emptyList())
    checkEq("no team visits", core.teamVisits(null, 10), emptyList())
}

/**
 * The public numbers are signed: limits, counts, versions and pixel sizes are Kotlin `Int`, bytes
 * and milliseconds `Long`, so plain literals compile. A negative limit is refused with a typed
 * error (`negative_number`) and writes nothing.
 */
private suspend fun signedApi(core: FieldproofCore, referenceJson: String) {
    val loaded = core.loadReferenceJson(referenceJson)
    val users: Int = loaded.users
    checkEq("load summary counts are Int", users, 5)
    checkEq("openExceptions(20) takes an Int", core.openExceptions(20), emptyList())
    checkEq("storeHistory(id, 5) takes an Int", core.storeHistory("st-001", 5), emptyList())
    checkEq("pendingOps(0) returns nothing", core.pendingOps(0), emptyList())
    checkEq("teamVisits(null, 0) returns nothing", core.teamVisits(null, 0), emptyList())
    val sequences: List<Int> = core.dayPlan("rep-li", "2026-11-23").map { it.sequence }
    checkEq("plan sequences are Int", sequences, listOf(1, 2, 3))
    val chunk: Int = core.syncOptions().photoChunkBytes
    val backoff: Long = core.syncOptions().initialBackoffMs
    check("sync options: chunk Int, backoff Long", chunk > 0 && backoff > 0L)

    for ((name, call) in listOf<Pair<String, suspend () -> Unit>>(
        "openExceptions(-1)" to { core.openExceptions(-1) },
        "storeHistory(st-001, -5)" to { core.storeHistory("st-001", -5) },
        "pendingOps(-1)" to { core.pendingOps(-1) },
        "teamVisits(null, -1)" to { core.teamVisits(null, -1) },
        "setPhotoMaxLongEdge(-1)" to { core.setPhotoMaxLongEdge(-1) },
        "setCjkFontFile(face -1)" to { core.setCjkFontFile("/no/such/font.ttc", -1) },
    )) {
        expectError<FieldproofException.InvalidInput>(core, name, "negative_number") { call() }
    }
    expectError<FieldproofException.InvalidInput>(core, "negative sync options", "invalid_input") {
        core.setSyncOptions(core.syncOptions().copy(initialBackoffMs = -1L))
    }
    expectError<FieldproofException.InvalidInput>(core, "negative push batch", "invalid_input") {
        core.setSyncOptions(core.syncOptions().copy(pushBatch = -200))
    }
    val negativeVersion = referenceJson.replace("\"version\": 1", "\"version\": -1")
    check("fixture has a template version to make negative", negativeVersion != referenceJson)
    expectError<FieldproofException.InvalidInput>(core, "template version -1", "bad_reference_data") {
        core.loadReferenceJson(negativeVersion)
    }
}

/**
 * A capture runs off the caller's thread. On a dispatcher with one thread, a ticker coroutine
 * counts while `capturePhoto` of a 12 MP photo is in flight: were the capture done on the calling
 * thread, the ticker would not run at all until it returned.
 */
private fun captureOffTheCallersThread(referenceJson: String, bigPhoto: ByteArray) {
    Executors.newSingleThreadExecutor().asCoroutineDispatcher().use { oneThread ->
        runBlocking(oneThread) {
            val core = FieldproofCore.openInMemory()
            try {
                core.loadReferenceJson(referenceJson)
                val visit = core.checkIn(CheckInRequest(userId = "rep-li", storeId = "st-001", fix = fixAt(ST001_LAT, ST001_LON)))
                var ticks = 0
                val capture = async {
                    core.capturePhoto(
                        CaptureRequest(visitId = visit.id, itemId = "shelf_photo", kind = PhotoKind.SHELF_OVERVIEW, fix = fixAt(ST001_LAT, ST001_LON), utcOffsetMinutes = 480),
                        bigPhoto,
                    )
                }
                val ticker = launch {
                    while (!capture.isCompleted) {
                        ticks++
                        delay(1)
                    }
                }
                val photo = capture.await().photo
                ticker.join()
                println("  (ticks while the capture ran: $ticks)")
                check("the ticker ran while the capture was in flight", ticks > 0) { "ticks = $ticks" }
                val width: Int? = photo.width
                checkEq("4000x3000 stored within the 2048 px long edge (DCT 1/2 scale)", width to photo.height, 2000 to 1500)
                checkEq("stored file is the hashed one", sha256Hex(File(photo.path).readBytes()), photo.sha256)
                checkEq("original hash is the camera file's", photo.originalSha256, sha256Hex(bigPhoto))
                check("the capture verifies", core.verifyPhoto(photo.id).verified)
            } finally {
                File(core.photoDir()).deleteRecursively()
                core.close()
            }
        }
    }
}

private fun sha256Hex(bytes: ByteArray): String =
    java.security.MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

private fun runScenario(name: String, body: suspend () -> Unit) {
    println("== $name")
    scope = "[$name] "
    try {
        runBlocking { body() }
    } catch (e: Throwable) {
        failed++
        println("  FAIL  ${scope}unexpected ${e::class.qualifiedName}: ${e.message}")
        e.printStackTrace(System.out)
    }
}

fun main(args: Array<String>) {
    if (args.size != 3) {
        System.err.println("usage: VisitFlowTestKt <reference.json> <photo.jpg> <photo-4000x3000.jpg>")
        exitProcess(2)
    }
    val referenceJson = File(args[0]).readText()
    val photo = File(args[1]).readBytes()
    val bigPhoto = File(args[2]).readBytes()

    runScenario("in-memory") {
        FieldproofCore.openInMemory().use { core ->
            try {
                flow(core, referenceJson, photo)
            } finally {
                // An in-memory core's photo folder is a fresh temporary folder the core never removes.
                File(core.photoDir()).deleteRecursively()
            }
        }
    }

    runScenario("file") {
        val dir = Files.createTempDirectory("fieldproof-jvm-test").toFile()
        try {
            val path = File(dir, "fieldproof.db").path
            val (deviceId, lastSeq) = FieldproofCore.open(path).use { core ->
                flow(core, referenceJson, photo)
                core.deviceId() to core.outboxSummary().lastSeq
            }
            FieldproofCore.open(path).use { core ->
                checkEq("reopened database keeps the device id", core.deviceId(), deviceId)
                checkEq("reopened database keeps the outbox", core.outboxSummary().lastSeq, lastSeq)
                checkEq("reopened database audits clean", core.audit().problems, emptyList())
                checkEq("reopened day plan", core.dayPlan("rep-li", "2026-11-23")[0].status, PlanStatus.COMPLETED)
            }
        } finally {
            dir.deleteRecursively()
        }
    }

    runScenario("signed numbers") {
        FieldproofCore.openInMemory().use { core ->
            try {
                signedApi(core, referenceJson)
            } finally {
                File(core.photoDir()).deleteRecursively()
            }
        }
    }

    runScenario("capture off the caller's thread") { captureOffTheCallersThread(referenceJson, bigPhoto) }

    runScenario("sync without a server") {
        FieldproofCore.openInMemory().use { core ->
            try {
                syncWithoutServer(core, referenceJson)
            } finally {
                File(core.photoDir()).deleteRecursively()
            }
        }
    }

    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
