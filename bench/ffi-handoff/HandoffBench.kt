// The cost of handing a camera photo to the core through the generated Kotlin bindings (JNA), on
// the JVM, against the release-built library. Run by bench/ffi-handoff/run.sh, which passes the
// fixture, the two test photos and the iteration counts, and prints the Rust figures beside these.
//
// 1. Hand-off: `capturePhoto(request, bytes)` vs `capturePhotoFile(request, path)` with a request
//    the core refuses (`unknown_visit`) right after the arguments have crossed, so what is timed
//    is the crossing itself (plus, for the path, reading the file). The floor, measured in the
//    same loop: a plain copy of the same ByteArray in the JVM. The three are interleaved, one of
//    each per iteration, so a busy machine slows them alike.
// 2. Capture through the FFI: the full capture (decode, stamp, encode, hash, sign, SQLite, file)
//    of each photo from its bytes, as an app does it, to set beside the same capture in Rust
//    (tests/src/bin/evidence-bench.rs, same fixture, font and size limit).
//
// Prints `name median_ms p90_ms` lines. Plain `main`, calls wrapped in runBlocking so it compiles
// whether the bindings' calls are blocking or `suspend`.

import dev.fieldproof.core.CaptureRequest
import dev.fieldproof.core.CheckInRequest
import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.core.LocationFix
import dev.fieldproof.core.LocationProvider
import dev.fieldproof.core.PhotoKind
import java.io.File
import java.nio.file.Files
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking

private class Samples(val name: String) {
    private val ns = ArrayList<Long>()

    inline fun <T> time(block: () -> T): T {
        val t0 = System.nanoTime()
        val result = block()
        ns.add(System.nanoTime() - t0)
        return result
    }

    private fun at(q: Double): Double {
        val sorted = ns.sorted()
        return sorted[((sorted.size - 1) * q).toInt()] / 1e6
    }

    fun report() = println("%-32s median_ms %8.3f  p90_ms %8.3f  n %d".format(name, at(0.5), at(0.9), ns.size))
}

private fun fix() = LocationFix(31.2304, 121.52, 8.0, LocationProvider.GPS, false, System.currentTimeMillis())

private fun request(visitId: String) = CaptureRequest(
    visitId = visitId,
    itemId = null,
    kind = PhotoKind.SHELF_OVERVIEW,
    fix = fix(),
    utcOffsetMinutes = 480,
)

/** Runs [block], which must be refused with `unknown_visit`; anything else ends the benchmark. */
private inline fun refused(block: () -> Unit) {
    try {
        block()
    } catch (e: FieldproofException.NotFound) {
        if (e.code == "unknown_visit") return
        throw IllegalStateException("expected unknown_visit, got ${e.code}", e)
    }
    throw IllegalStateException("the core accepted a capture for an unknown visit")
}

fun main(args: Array<String>) {
    if (args.size != 5) {
        System.err.println("usage: HandoffBenchKt <reference.json> <handoff photo> <capture photo>... see run.sh")
        exitProcess(2)
    }
    val referenceJson = File(args[0]).readText()
    val handoffPhoto = File(args[1])
    val capturePhotos = args[2].split(',').map(::File)
    val handoffRuns = args[3].toInt()
    val captureRuns = args[4].toInt()
    val dir = Files.createTempDirectory("fieldproof-ffi-handoff").toFile()
    try {
        runBlocking { bench(dir, referenceJson, handoffPhoto, capturePhotos, handoffRuns, captureRuns) }
    } finally {
        dir.deleteRecursively()
    }
}

private suspend fun bench(
    dir: File,
    referenceJson: String,
    handoffPhoto: File,
    capturePhotos: List<File>,
    handoffRuns: Int,
    captureRuns: Int,
) {
    val core = FieldproofCore.open(File(dir, "bench.db").path)
    core.loadReferenceJson(referenceJson)
    // The same CJK font as the Rust benchmark (fieldproof_tests::system_cjk_font), so both stamp
    // the same watermark.
    listOf(
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    ).map(::File).firstOrNull { it.exists() }?.let { core.setCjkFontFile(it.path, 0) }

    // --- 1. hand-off -----------------------------------------------------------------------------
    val bytes = handoffPhoto.readBytes()
    val path = handoffPhoto.path
    val unknown = request("no-such-visit")
    println("hand-off of ${handoffPhoto.name} (${bytes.size} bytes), $handoffRuns runs after ${handoffRuns / 5} warm-up")
    val floor = Samples("jvm ByteArray copy (floor)")
    val asBytes = Samples("capturePhoto(bytes), refused")
    val asPath = Samples("capturePhotoFile(path), refused")
    var sink = 0
    repeat(handoffRuns / 5) {
        sink += bytes.copyOf()[it]
        refused { core.capturePhoto(unknown, bytes) }
        refused { core.capturePhotoFile(unknown, path) }
    }
    repeat(handoffRuns) {
        sink += floor.time { bytes.copyOf() }[it]
        asBytes.time { refused { core.capturePhoto(unknown, bytes) } }
        asPath.time { refused { core.capturePhotoFile(unknown, path) } }
    }
    floor.report()
    asBytes.report()
    asPath.report()
    if (sink == Int.MIN_VALUE) println(sink) // keeps the copies from being optimised away

    // --- 2. capture through the FFI ----------------------------------------------------------------
    val visit = core.checkIn(CheckInRequest(userId = "rep-li", storeId = "st-001", fix = fix()))
    for (photo in capturePhotos) {
        val jpeg = photo.readBytes()
        val capture = Samples("capture ${photo.name} (bytes)")
        core.capturePhoto(request(visit.id), jpeg) // warm-up
        repeat(captureRuns) { capture.time { core.capturePhoto(request(visit.id), jpeg) } }
        capture.report()
    }
    core.close()
}
