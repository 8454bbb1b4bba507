// Customers and leads through the generated Kotlin, offline, against the host-built
// libfieldproof_ffi: a stage move without its evidence is refused with the missing list, the
// evidence photo unlocks it; a duplicate entry is refused with the match (owner, what matched);
// QR check-in (扫码签到) with a store code signed here by java.security's Ed25519: the current
// code opens the visit, an expired one is refused. Plain `main` (no JUnit here): run by
// android/jvm-test/run.sh with the fixture and photo paths. Prints one line per check and ends
// with "N passed, M failed"; exits 1 on failure.

import dev.fieldproof.core.CheckInRequest
import dev.fieldproof.core.CustomerList
import dev.fieldproof.core.CustomerPhotoRequest
import dev.fieldproof.core.FieldproofCore
import dev.fieldproof.core.FieldproofException
import dev.fieldproof.core.LocationFix
import dev.fieldproof.core.LocationProvider
import dev.fieldproof.core.MatchOn
import dev.fieldproof.core.MissingKind
import dev.fieldproof.core.NewCustomer
import dev.fieldproof.core.PhotoKind
import dev.fieldproof.sdk.ErrorCodes
import dev.fieldproof.sdk.code
import java.io.File
import java.nio.file.Files
import java.security.KeyPairGenerator
import java.security.PrivateKey
import java.security.Signature
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

/** The call's FieldproofException, or fails the check when it returns. */
private suspend fun refusal(name: String, call: suspend () -> Unit): FieldproofException? =
    try {
        call()
        check("$name is refused", false) { "it succeeded" }
        null
    } catch (e: FieldproofException) {
        e
    }

private val fixSt001 = LocationFix(
    latitude = 31.2304,
    longitude = 121.5200,
    accuracyM = 10.0,
    provider = LocationProvider.GPS,
    isMock = false,
    fixTimeMs = System.currentTimeMillis(),
)

private fun wang(phone: String = "+86 138-0013-8000", company: String? = "上海某某科技有限公司") = NewCustomer(
    name = "王经理",
    company = company,
    phones = listOf(phone),
    contacts = emptyList(),
    industry = "医疗",
    region = "shanghai-east",
    budgetCents = 5_000_000L,
    storeId = null,
    fromLeadId = null,
)

private fun hex(bytes: ByteArray) = bytes.joinToString("") { "%02x".format(it) }

/** A store's key as head office issues it: the public half for the phone, the private to sign. */
private class StoreKeyForTest {
    private val pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair()
    /** X.509 SubjectPublicKeyInfo of Ed25519: a 12-byte header, then the 32-byte key. */
    val publicHex: String = hex(pair.public.encoded.takeLast(32).toByteArray())
    private val private: PrivateKey = pair.private

    /** `fpsc1:{store}:{kid}:{step}:{sig}` for the 30 s step `atMs` falls in. */
    fun code(store: String, kid: String, atMs: Long): String {
        val step = Math.floorDiv(atMs, 30_000L)
        val signer = Signature.getInstance("Ed25519")
        signer.initSign(private)
        signer.update("fieldproof-store-code-v1\n$store\n$kid\n$step".toByteArray())
        return "fpsc1:$store:$kid:$step:${hex(signer.sign())}"
    }
}

private suspend fun stageLock(core: FieldproofCore, photo: ByteArray) {
    val c = core.createCustomer("rep-li", wang())
    checkEq("the customer starts in the first stage", c.stage, "explore")
    core.moveCustomerStage("rep-li", c.id, "needs", null)
    core.moveCustomerStage("rep-li", c.id, "demo", null)
    val before = core.outboxSummary().lastSeq
    val e = refusal("报价谈判 without the signed form") { core.moveCustomerStage("rep-li", c.id, "negotiation", null) }
    check("stage_locked is a Refused", e is FieldproofException.Refused) { e }
    checkEq("code", e?.code, ErrorCodes.STAGE_LOCKED)
    val missing = (e as? FieldproofException.Refused)?.missing.orEmpty()
    checkEq("the missing list names the form", missing.map { it.itemId }, listOf("tech_spec_form"))
    checkEq("as an evidence photo", missing.map { it.kind }, listOf(MissingKind.EVIDENCE_PHOTO))
    checkEq("nothing written", core.outboxSummary().lastSeq, before)
    checkEq("the detail shows the same lock", core.customerDetail(c.id).missingForNext.map { it.itemId }, listOf("tech_spec_form"))

    val shot = core.captureCustomerPhoto("rep-li", CustomerPhotoRequest(c.id, "tech_spec_form"), fixSt001, 480, photo)
    checkEq("the evidence photo is a document", shot.kind, PhotoKind.DOCUMENT)
    val moved = core.moveCustomerStage("rep-li", c.id, "negotiation", null)
    checkEq("with the photo the move succeeds", moved.to, "negotiation")
    checkEq("and names the photo as its evidence", moved.evidence.map { it.photoId }, listOf(shot.id))
    checkEq("the next lock is the contract", core.customerDetail(c.id).missingForNext.map { it.itemId }, listOf("contract"))
    checkEq("pending ops: create, 3 moves, photo", core.outboxSummary().pending, 5)
}

private suspend fun duplicates(core: FieldproofCore) {
    val first = core.createCustomer("rep-li", wang())
    val before = core.outboxSummary().lastSeq
    val e = refusal("the same phone written another way") { core.createCustomer("rep-li", wang(phone = "0086 13800138000", company = null)) }
    check("duplicate_customer is a Conflict", e is FieldproofException.Conflict) { e }
    checkEq("code", e?.code, ErrorCodes.DUPLICATE_CUSTOMER)
    val match = (e as? FieldproofException.Conflict)?.duplicates?.singleOrNull()
    checkEq("the match is the first entry", match?.customerId, first.id)
    checkEq("matched on the phone", match?.matchedOn, MatchOn.PHONE)
    checkEq("naming the owner", match?.ownerName, "李娜")
    checkEq("nothing written", core.outboxSummary().lastSeq, before)
    checkEq("as the rep types", core.checkCustomerDuplicates(wang(phone = "13900000000")).map { it.matchedOn }, listOf(MatchOn.COMPANY))
    checkEq("one customer on the list", core.customers("rep-li", CustomerList.MINE).size, 1)
}

private suspend fun qrCheckIn(core: FieldproofCore) {
    val key = StoreKeyForTest()
    core.loadPipelineRecords(
        """[{"seq": 1, "kind": "store_key", "id": "st-001:k1",
            "body": {"store_id": "st-001", "kid": "k1", "public_key_hex": "${key.publicHex}"}}]""",
    )
    val request = CheckInRequest(userId = "rep-li", storeId = "st-001", fix = fixSt001)
    val now = System.currentTimeMillis()
    val old = refusal("a code from two minutes ago") { core.checkInScanned(request, key.code("st-001", "k1", now - 120_000)) }
    checkEq("expired", old?.code, ErrorCodes.STORE_CODE_EXPIRED)
    val other = refusal("another store's code") { core.checkInScanned(request, key.code("st-002", "k1", now)) }
    checkEq("wrong store", other?.code, ErrorCodes.STORE_CODE_WRONG_STORE)
    checkEq("no visit opened", core.openVisit("rep-li"), null)
    val visit = core.checkInScanned(request, key.code("st-001", "k1", System.currentTimeMillis()))
    checkEq("the current code opens the visit", visit.storeId, "st-001")
    val op = core.pendingOps(100).last()
    check("the check-in carries the code", op.kind == "visit.check_in" && op.payloadJson.contains("\"store_code\":{")) { op.payloadJson }
}

private fun scenario(name: String, referenceJson: String, body: suspend (FieldproofCore) -> Unit) {
    println("== $name")
    val dir = Files.createTempDirectory("fieldproof-customers").toFile()
    try {
        runBlocking {
            FieldproofCore.open(File(dir, "fieldproof.db").path, null).use { core ->
                core.loadReferenceJson(referenceJson)
                body(core)
                checkEq("audit clean", core.audit().problems, emptyList())
            }
        }
    } catch (e: Throwable) {
        failed++
        println("  FAIL  unexpected ${e::class.qualifiedName}: ${e.message}")
        e.printStackTrace(System.out)
    } finally {
        dir.deleteRecursively()
    }
}

fun main(args: Array<String>) {
    if (args.size != 2) {
        System.err.println("usage: CustomerFlowTestKt <reference.json> <photo.jpg>")
        exitProcess(2)
    }
    val referenceJson = File(args[0]).readText()
    val photo = File(args[1]).readBytes()
    scenario("stage lock", referenceJson) { stageLock(it, photo) }
    scenario("duplicates", referenceJson) { duplicates(it) }
    scenario("QR check-in", referenceJson) { qrCheckIn(it) }
    println("$passed passed, $failed failed")
    if (failed > 0) exitProcess(1)
}
