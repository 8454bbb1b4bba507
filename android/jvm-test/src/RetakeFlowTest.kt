// Photo review with retakes through the generated Kotlin bindings against the real
// `fieldproof-server` binary on loopback: head office asks for a retake on the visit's page (a
// real sign-in and form post with the CSRF token), the rep's core pulls it, the store's next visit
// is locked until the photo is taken for the request, it syncs, and the page shows the request
// done with both photos side by side; then the supervisor's phone reviews a photo (a signed op).
// Plain `main`, run by android/jvm-test/run.sh with the server binary, the fixture and the photos.

import dev.fieldproof.core.AnswerValue
import dev.fieldproof.core.CaptureRequest
import dev.fieldproof.core.CheckInRequest
import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.core.LocationFix
import dev.fieldproof.core.LocationProvider
import dev.fieldproof.core.MissingKind
import dev.fieldproof.core.PhotoKind
import dev.fieldproof.core.PhotoReviewVerdict
import dev.fieldproof.core.RetakeState
import dev.fieldproof.core.VisitReport
import java.io.File
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking

private var ok = 0
private var bad = 0

private inline fun expect(name: String, holds: Boolean, detail: () -> Any? = { null }) {
    if (holds) {
        ok++
        println("  ok    $name")
    } else {
        bad++
        println("  FAIL  $name: ${detail()}")
    }
}

private fun <T> expectEq(name: String, actual: T, expected: T) = expect(name, actual == expected) { "got $actual, expected $expected" }

private const val REASON = "货架没拍全，请重拍整组货架"

/** A signed-in browser: its cookies kept by name (as a browser sends them back), redirects not followed. */
private class Browser(private val url: String, user: String, password: String) {
    private val http = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(30))
        .build()
    private val cookies = linkedMapOf<String, String>()
    val csrf: String

    init {
        val login = get("/app/login").body()
        val token = hidden(login, "csrf")
        val signedIn = send("/app/login", mapOf("csrf" to token, "next" to "/app", "user" to user, "password" to password))
        check(signedIn.statusCode() == 303) { "sign-in answered ${signedIn.statusCode()}" }
        csrf = hidden(get("/app").body(), "csrf")
    }

    private fun hidden(page: String, name: String) = Regex("name=\"$name\" value=\"([^\"]+)\"").find(page)!!.groupValues[1]

    private fun send(path: String, fields: Map<String, String>?): HttpResponse<String> {
        val b = HttpRequest.newBuilder(URI.create(url + path)).header("Accept-Language", "zh-CN")
        if (cookies.isNotEmpty()) b.header("Cookie", cookies.entries.joinToString("; ") { "${it.key}=${it.value}" })
        if (fields != null) {
            val body = fields.entries.joinToString("&") { "${it.key}=${URLEncoder.encode(it.value, Charsets.UTF_8)}" }
            b.header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(body))
        }
        val r = http.send(b.build(), HttpResponse.BodyHandlers.ofString())
        for (c in r.headers().allValues("set-cookie")) {
            val (name, value) = c.substringBefore(';').split("=", limit = 2).let { it[0].trim() to it.getOrElse(1) { "" } }
            cookies[name] = value
        }
        return r
    }

    fun get(path: String): HttpResponse<String> = send(path, null)

    fun post(path: String, fields: Map<String, String>) = send(path, mapOf("csrf" to csrf) + fields)
}

private fun near(lat: Double, lon: Double) = LocationFix(
    latitude = lat + 0.000135,
    longitude = lon,
    accuracyM = 8.0,
    provider = LocationProvider.GPS,
    isMock = false,
    fixTimeMs = System.currentTimeMillis(),
)

private const val LAT = 31.2304
private const val LON = 121.5200

/** A store check at st-001 up to (not including) completion; the visit id and the photo. */
private suspend fun storeCheck(rep: FieldproofCore, planId: String?, photo: ByteArray, retake: String? = null): Pair<String, dev.fieldproof.core.Photo> {
    val visit = rep.checkIn(
        CheckInRequest(
            userId = "rep-li",
            storeId = "st-001",
            planId = planId,
            templateId = if (planId == null) "tpl-store-check" else null,
            fix = near(LAT, LON),
        ),
    )
    rep.answer(visit.id, "shelf_ok", AnswerValue.YesNo(true), null)
    rep.answer(visit.id, "facings", AnswerValue.Number(6.0), null)
    rep.answer(visit.id, "own_price", AnswerValue.Price(400), null)
    rep.answer(visit.id, "backroom", AnswerValue.Choice("high"), null)
    val shot = rep.capturePhoto(
        CaptureRequest(
            visitId = visit.id,
            itemId = "shelf_photo",
            kind = PhotoKind.SHELF_OVERVIEW,
            fix = near(LAT, LON),
            utcOffsetMinutes = 480,
            retakeRequestId = retake,
        ),
        photo,
    )
    rep.saveReport(visit.id, VisitReport("陈列良好。", emptyList(), emptyList(), null))
    return visit.id to shot.photo
}

private fun retakeFlow(server: TestServer, dir: File, referenceJson: String, photo: ByteArray, retakePhoto: ByteArray) = runBlocking {
    val today = LocalDate.now(ZoneOffset.ofHours(8)).toString()
    val reference = File(dir, "reference.json").apply { writeText(referenceJson.replace("\"date\": \"2026-11-23\"", "\"date\": \"$today\"")) }
    server.admin("load-reference", reference.path)
    server.admin("create-user", "--id", "hq", "--name", "总部运营", "--role", "head_office", "--password", "a-long-password")

    FieldproofCore.open(File(dir, "rep-li.db").path).use { rep ->
        FieldproofCore.open(File(dir, "sup-wang.db").path).use { sup ->
            rep.enrol(server.url, server.admin("enrol-code", "--user", "rep-li").lines().last { it.isNotBlank() }.trim())
            rep.sync()
            val plan = rep.dayPlan("rep-li", today)
            val (visitId, first) = storeCheck(rep, plan[0].planId, photo)
            rep.completeVisit(visitId)
            rep.checkOut(visitId, near(LAT, LON))
            expectEq("the first visit syncs", rep.sync().rejected, emptyList())

            // --- head office asks for a retake on the visit's page
            val web = Browser(server.url, "hq", "a-long-password")
            val back = "/app/visits/$visitId"
            expect("the visit page has the review form", web.get(back).body().contains("action=\"/app/photo-reviews\""))
            val asked = web.post("/app/photo-reviews", mapOf("photo_id" to first.id, "verdict" to "retake", "reason" to REASON, "back" to back))
            expectEq("retake asked: back to the visit", asked.statusCode() to asked.headers().firstValue("location").orElse(""), 303 to back)
            val noReason = web.post("/app/photo-reviews", mapOf("photo_id" to first.id, "verdict" to "reject", "reason" to "", "back" to back))
            expect("a rejection without a reason is refused in words", noReason.statusCode() == 400 && noReason.body().contains("须填写原因")) { noReason.statusCode() }

            // --- the rep's phone pulls it
            rep.sync()
            val owed = rep.retakeRequests("rep-li", today)
            expectEq("one open retake, asked by head office", owed.map { listOf(it.state, it.photoId, it.requestedBy) }, listOf(listOf(RetakeState.OPEN, first.id, "总部运营")))
            expectEq("the day plan's st-001 stop owes it", rep.dayPlan("rep-li", today).first { it.store.id == "st-001" }.retakes.map { it.id }, owed.map { it.id })

            // --- the next visit is locked until the photo is taken for the request
            val (secondId, _) = storeCheck(rep, null, photo)
            try {
                rep.completeVisit(secondId)
                expect("the next visit is locked by the retake", false) { "it completed" }
            } catch (e: FieldproofException.Refused) {
                expectEq("locked: completion_locked", e.code, "completion_locked")
                expectEq("the missing list names the retake", e.missing.map { Triple(it.kind, it.retakeRequestId, it.label) }, listOf(Triple(MissingKind.RETAKE_PHOTO, owed[0].id, REASON)))
            }
            val retaken = rep.capturePhoto(
                CaptureRequest(visitId = secondId, itemId = "shelf_photo", kind = PhotoKind.SHELF_OVERVIEW, fix = near(LAT, LON), utcOffsetMinutes = 480, retakeRequestId = owed[0].id),
                retakePhoto,
            ).photo
            rep.completeVisit(secondId)
            rep.checkOut(secondId, near(LAT, LON))
            expectEq("the retake syncs", rep.sync().rejected, emptyList())
            rep.sync()
            val done = rep.retakeRequests("rep-li", today)[0]
            expectEq("the request is done with the new photo", done.state to done.newPhotoId, RetakeState.DONE to retaken.id)

            // --- the web shows it done, both photos side by side
            val page = web.get(back).body()
            val block = page.substring(page.indexOf("data-retake=\"${owed[0].id}\""))
            val pair = block.substring(block.indexOf("msg-photos pair")).let { it.substring(0, it.indexOf("</div>")) }
            expect("shown done", block.take(400).contains("data-state=\"done\"")) { block.take(400) }
            expect("old and new photo side by side", pair.contains("/app/thumbs/${first.sha256}") && pair.contains("/app/thumbs/${retaken.sha256}")) { pair }

            // --- the supervisor's phone reviews a team photo
            sup.enrol(server.url, server.admin("enrol-code", "--user", "sup-wang").lines().last { it.isNotBlank() }.trim())
            sup.sync()
            val teamPhoto = sup.teamVisits("rep-li", 10).flatMap { it.photos }.first { it.photoId == retaken.id }
            sup.reviewPhoto("sup-wang", teamPhoto.photoId, PhotoReviewVerdict.REJECT, "反光看不清价签")
            try {
                sup.reviewPhoto("sup-wang", "no-such-photo", PhotoReviewVerdict.APPROVE, null)
                expect("an unknown photo is refused", false)
            } catch (e: FieldproofException.NotFound) {
                expectEq("unknown photo refused", e.code, "unknown_photo")
            }
            val pushed = sup.sync()
            expectEq("the review op is applied", pushed.pushed to pushed.rejected, 1 to emptyList())
            expect("the decision shows on the web with the supervisor's name", web.get("/app/visits/$secondId").body().let { it.contains("王磊") && it.contains("反光看不清价签") })
        }
    }
}

fun main(args: Array<String>) {
    if (args.size != 4) {
        System.err.println("usage: RetakeFlowTestKt <fieldproof-server> <reference.json> <photo.jpg> <retake-photo.jpg>")
        exitProcess(2)
    }
    val dir = Files.createTempDirectory("fieldproof-jvm-retake").toFile()
    val log = File(dir, "server.log")
    println("== photo review with retakes against fieldproof-server")
    try {
        TestServer(File(args[0]), File(dir, "server-data"), log).use { server ->
            retakeFlow(server, dir, File(args[1]).readText(), File(args[2]).readBytes(), File(args[3]).readBytes())
        }
    } catch (e: Throwable) {
        bad++
        println("  FAIL  unexpected ${e::class.qualifiedName}: ${e.message}")
        e.printStackTrace(System.out)
    } finally {
        if (bad > 0 && log.isFile) println("  server log:\n" + log.readText().prependIndent("    "))
        dir.deleteRecursively()
    }
    println("$ok passed, $bad failed")
    exitProcess(if (bad == 0) 0 else 1)
}
