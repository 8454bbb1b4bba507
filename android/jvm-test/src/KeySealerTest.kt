// The device key sealed through the `KeySealer` callback interface, against the host-built
// libfieldproof_ffi. A javax.crypto AES-256-GCM sealer stands in for the Android Keystore one
// (`KeystoreKeySealer` does the same with a key the Keystore holds). Plain `main` (no JUnit here):
// run by android/jvm-test/run.sh with the fixture and photo paths. Prints one line per check and
// ends with "N passed, M failed"; exits 1 on failure.

import dev.fieldproof.core.CaptureRequest
import dev.fieldproof.core.CheckInRequest
import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.sdk.code
import dev.fieldproof.core.KeySealer
import dev.fieldproof.core.KeySealerException
import dev.fieldproof.core.LocationFix
import dev.fieldproof.core.LocationProvider
import dev.fieldproof.core.PhotoKind
import dev.fieldproof.core.SignedEntry
import dev.fieldproof.core.verifyEvidenceChain
import java.io.File
import java.nio.file.Files
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking

private var passed = 0
private var failed = 0

private fun check(name: String, ok: Boolean, detail: () -> Any? = { null }) {
    if (ok) {
        passed++
        println("  ok    $name")
    } else {
        failed++
        println("  FAIL  $name" + (detail()?.let { " -- $it" } ?: ""))
    }
}

private fun <T> checkEq(name: String, actual: T, expected: T) =
    check(name, actual == expected) { "expected <$expected>, got <$actual>" }

/** AES-256-GCM with a key held in memory: `[1][12-byte IV][ciphertext + tag]`. */
private class AesGcmSealer(private val key: SecretKey) : KeySealer {
    /** Every seed handed to [seal], to look for in the database file. */
    val sealedSeeds = mutableListOf<ByteArray>()
    var unseals = 0

    override fun seal(seed: ByteArray): ByteArray {
        sealedSeeds += seed.copyOf()
        val iv = ByteArray(12).also { SecureRandom().nextBytes(it) }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, key, GCMParameterSpec(128, iv))
        return byteArrayOf(1) + iv + cipher.doFinal(seed)
    }

    override fun unseal(sealed: ByteArray): ByteArray {
        unseals++
        if (sealed.size < 1 + 12 + 16 || sealed[0] != 1.toByte()) {
            throw KeySealerException.Failed("not a sealed key in format 1")
        }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(128, sealed, 1, 12))
        try {
            return cipher.doFinal(sealed, 13, sealed.size - 13)
        } catch (e: javax.crypto.AEADBadTagException) {
            throw KeySealerException.Failed("tag mismatch: another key")
        }
    }
}

/** A keystore that fails: with the declared error, or with an exception nobody declared. */
private class BrokenSealer(private val undeclared: Boolean) : KeySealer {
    private fun fail(): Nothing =
        if (undeclared) throw IllegalStateException("keystore daemon died") else throw KeySealerException.Failed("keystore locked")

    override fun seal(seed: ByteArray): ByteArray = fail()
    override fun unseal(sealed: ByteArray): ByteArray = fail()
}

private fun newKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

/** Opening must fail with `FieldproofException.Storage` and [code]. */
private fun expectOpenError(name: String, db: File, sealer: KeySealer?, code: String) {
    val outcome = try {
        runBlocking { FieldproofCore.open(db.path, sealer) }.close()
        "opened"
    } catch (e: FieldproofException) {
        if (e is FieldproofException.Storage) e.code else "${e::class.simpleName} ${e.code}"
    } catch (e: Throwable) {
        "not a FieldproofException: $e"
    }
    checkEq("$name -> $code", outcome, code)
}

private fun ByteArray.containsBytes(needle: ByteArray): Boolean =
    (0..size - needle.size).any { i -> needle.indices.all { this[i + it] == needle[it] } }

/** The database's files as they are on disk now (main file and WAL). */
private fun filesOf(db: File): ByteArray =
    listOf(db, File(db.path + "-wal")).filter { it.exists() }.fold(ByteArray(0)) { all, f -> all + f.readBytes() }

private val fixSt001 = LocationFix(
    latitude = 31.2304,
    longitude = 121.5200,
    accuracyM = 10.0,
    provider = LocationProvider.GPS,
    isMock = false,
    fixTimeMs = System.currentTimeMillis(),
)

/** Check in and take a photo: signed actions through the unsealed key. */
private suspend fun checkInWithPhoto(core: FieldproofCore, fixture: String, photo: ByteArray) {
    core.loadReferenceJson(fixture)
    val visit = core.checkIn(CheckInRequest(userId = "rep-li", storeId = "st-001", fix = fixSt001))
    core.capturePhoto(
        CaptureRequest(
            visitId = visit.id,
            itemId = "shelf_photo",
            kind = PhotoKind.SHELF_OVERVIEW,
            fix = fixSt001,
            utcOffsetMinutes = 480,
        ),
        photo,
    )
    core.cancelVisit(visit.id, "sealer test")
}

private suspend fun chainFindings(core: FieldproofCore, publicKey: String) =
    verifyEvidenceChain(
        core.pendingOps(10_000).map { SignedEntry(it.entry!!, it.signatureHex!!) },
        publicKey,
        null,
    )

fun main(args: Array<String>) {
    val fixture = File(args[0]).readText()
    val photo = File(args[1]).readBytes()
    val dir = Files.createTempDirectory("fieldproof-key-sealer").toFile()
    try {
        runBlocking { run(dir, fixture, photo) }
    } finally {
        dir.deleteRecursively()
    }
    println("$passed passed, $failed failed")
    if (failed > 0) exitProcess(1)
}

private suspend fun run(dir: File, fixture: String, photo: ByteArray) {
    println("KeySealerTest")
    val key = newKey()
    val db = File(dir, "sealed.db")

    // A new database opened with a sealer: the key is made, sealed, and signs.
    val sealer = AesGcmSealer(key)
    val publicKey = FieldproofCore.open(db.path, sealer).use { core ->
        checkInWithPhoto(core, fixture, photo)
        check("capture signed with the sealed key", core.pendingOps(100).size >= 2)
        checkEq("chain verifies", chainFindings(core, core.devicePublicKey()), emptyList())
        core.devicePublicKey()
    }
    checkEq("sealed once", sealer.sealedSeeds.size, 1)
    check("no raw seed in the database files", !filesOf(db).containsBytes(sealer.sealedSeeds[0]))

    // Reopened with the same keystore key: same identity, unsealed once, not per action.
    val again = AesGcmSealer(key)
    FieldproofCore.open(db.path, again).use { core ->
        checkEq("reopen: same public key", core.devicePublicKey(), publicKey)
        checkInWithPhoto(core, fixture, photo)
        checkEq("reopen: one chain, one key", chainFindings(core, publicKey), emptyList())
    }
    checkEq("keystore asked once for two actions", again.unseals, 1)

    // Refusals: typed codes, nothing written.
    val before = filesOf(db)
    expectOpenError("without the sealer", db, null, "key_sealer_required")
    expectOpenError("sealer with another key", db, AesGcmSealer(newKey()), "key_unseal_failed")
    expectOpenError("sealer throws its declared error", db, BrokenSealer(undeclared = false), "key_unseal_failed")
    expectOpenError("sealer throws an undeclared exception", db, BrokenSealer(undeclared = true), "key_unseal_failed")
    check("refused opens changed nothing", filesOf(db).contentEquals(before))
    FieldproofCore.open(db.path, AesGcmSealer(key)).use { checkEq("still opens", it.devicePublicKey(), publicKey) }

    // A new database whose keystore fails: no key made, typed error.
    expectOpenError("new database, sealer fails", File(dir, "new.db"), BrokenSealer(undeclared = true), "key_seal_failed")

    // A plain database (opened without a sealer until this app version) is sealed in place.
    val plain = File(dir, "plain.db")
    val plainKey = FieldproofCore.open(plain.path).use { core ->
        checkInWithPhoto(core, fixture, photo)
        core.devicePublicKey()
    }
    val upgrade = AesGcmSealer(key)
    FieldproofCore.open(plain.path, upgrade).use { core ->
        checkEq("upgrade: same public key", core.devicePublicKey(), plainKey)
        checkEq("upgrade: sealed the existing seed", upgrade.sealedSeeds.size, 1)
        checkInWithPhoto(core, fixture, photo)
        checkEq("upgrade: chain verifies across", chainFindings(core, plainKey), emptyList())
    }
    check("upgrade: old seed gone from the files", !filesOf(plain).containsBytes(upgrade.sealedSeeds[0]))
    expectOpenError("upgraded database without the sealer", plain, null, "key_sealer_required")
}
