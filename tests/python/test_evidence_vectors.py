"""An independent verifier of Fieldproof evidence, written from docs/evidence-format.md alone, run
over every case of docs/evidence-vectors.json (which the Rust core writes and checks itself).

Nothing here comes from the Rust code: JSON is read with Python's json module and re-encoded by
the rules of "Canonical form"; Ed25519 is `cryptography`'s (OpenSSL) plus the checks the format
adds to it (canonical, not-small-order public key and R, S below L), done in pure Python with
the curve's own formulas (RFC 8032 §5.1.3). Needs only `pytest` and `cryptography`; no bindings.
"""

import hashlib
import json
import math
import pathlib
import re
import struct

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "docs" / "evidence-vectors.json").read_text("utf-8"))

GENESIS_HASH = "0" * 64
MAX_ENTRY_BYTES = 256 * 1024
MAX_SEQ = 2**53
MAX_WALL_MS = 7_258_118_400_000
MAX_ID_BYTES = 128
MAX_DEPTH = 127
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
FINDINGS = [
    "malformed_entry", "unknown_key", "revoked_key", "bad_signature", "not_a_photo",
    "image_hash_mismatch", "code_mismatch", "chain_gap", "chain_fork", "reordered", "backdated",
]


def lower_hex(s, n):
    return isinstance(s, str) and re.fullmatch("[0-9a-f]{%d}" % n, s) is not None


# ------------------------------------------------------------------------------------------------
# Ed25519 with the format's checks
# ------------------------------------------------------------------------------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1)


def decode_point(b):
    """The point (x, y) of a 32-byte encoding, or None when the encoding is not canonical (y ≥ p,
    or x = 0 with the sign bit set) or no point has that y."""
    n = int.from_bytes(b, "little")
    sign, y = n >> 255, n & ((1 << 255) - 1)
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else (0, y)
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y)


def add(p1, p2):
    """Twisted Edwards addition (a = -1); complete on this curve."""
    (x1, y1), (x2, y2) = p1, p2
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P
    return (x3, y3)


def small_order(pt):
    """[8]P is the identity."""
    for _ in range(3):
        pt = add(pt, pt)
    return pt == IDENTITY


def strict_public_key(public_hex):
    if not lower_hex(public_hex, 64):
        return False
    pt = decode_point(bytes.fromhex(public_hex))
    return pt is not None and not small_order(pt)


def verify_signature(message, signature_hex, public_hex, naive=False):
    """The format's Ed25519 check; `naive` is `cryptography` alone (what the format forbids)."""
    if not (lower_hex(public_hex, 64) and lower_hex(signature_hex, 128)):
        return False
    sig = bytes.fromhex(signature_hex)
    if not naive:
        if not strict_public_key(public_hex):
            return False
        if int.from_bytes(sig[32:], "little") >= L:
            return False
        # A non-canonical R never equals the recomputed (canonical) R byte for byte.
        r = decode_point(sig[:32])
        if r is None or small_order(r):
            return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(sig, message)
        return True
    except (InvalidSignature, ValueError):
        return False


# ------------------------------------------------------------------------------------------------
# Canonical form and the entry envelope
# ------------------------------------------------------------------------------------------------


class Malformed(Exception):
    def __init__(self, case):
        super().__init__(case)
        self.case = case


def encode_string(s):
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def encode_float(x):
    """Shortest round-trip digits (Python's repr finds the same ones, ties to even), laid out
    plainly when the decimal exponent is in -5..=15, else d.ddde±E."""
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0.0"
    text = repr(abs(x))
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    every = whole + frac
    significant = every.lstrip("0")
    digits = significant.rstrip("0")
    e = int(exp or "0") + len(whole) - (len(every) - len(significant)) - 1
    n = len(digits)
    if -5 <= e <= 15:
        if e < 0:
            body = "0." + "0" * (-e - 1) + digits
        elif e + 1 >= n:
            body = digits + "0" * (e + 1 - n) + ".0"
        else:
            body = digits[: e + 1] + "." + digits[e + 1 :]
    else:
        body = digits[0] + ("." + digits[1:] if n > 1 else "") + "e" + ("-" if e < 0 else "+") + str(abs(e))
    return sign + body


def encode(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return encode_float(v)
    if isinstance(v, str):
        return encode_string(v)
    if isinstance(v, list):
        return "[" + ",".join(encode(i) for i in v) + "]"
    keys = sorted(v, key=lambda k: k.encode("utf-8"))
    return "{" + ",".join(encode_string(k) + ":" + encode(v[k]) for k in keys) + "}"


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def walk(v, depth=1):
    """(deepest nesting, every integer in the signed 64-bit range, any lone surrogate)."""
    if isinstance(v, list) or isinstance(v, dict):
        items = list(v.values()) + list(v.keys()) if isinstance(v, dict) else v
        results = [walk(i, depth + 1) for i in items]
        return (
            max([depth] + [r[0] for r in results]),
            all(r[1] for r in results),
            any(r[2] for r in results),
        )
    if is_int(v):
        return (depth - 1, -(2**63) <= v < 2**63, False)
    if isinstance(v, str):
        return (depth - 1, True, any(0xD800 <= ord(c) <= 0xDFFF for c in v))
    return (depth - 1, True, False)


def parse(text):
    duplicate = False

    def pairs(items):
        nonlocal duplicate
        keys = [k for k, _ in items]
        duplicate |= len(set(keys)) != len(keys)
        return dict(items)

    def no_constant(_):
        raise ValueError("NaN and Infinity are not JSON")

    def finite(s):
        x = float(s)
        if math.isinf(x):
            raise ValueError("beyond f64")
        return x

    try:
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=no_constant, parse_float=finite)
    except (ValueError, RecursionError):
        raise Malformed("not_json") from None
    depth, ints_ok, surrogate = walk(value)
    if depth > MAX_DEPTH or surrogate:
        raise Malformed("not_json")
    return value, duplicate, ints_ok


def is_canonical(text):
    try:
        value, duplicate, ints_ok = parse(text)
    except Malformed:
        return False
    return not duplicate and ints_ok and encode(value) == text


def read_entry(text):
    """The envelope, with every check of "Malformed entries", in its order."""
    if len(text.encode("utf-8")) > MAX_ENTRY_BYTES:
        raise Malformed("too_large")
    value, duplicate, ints_ok = parse(text)
    if not isinstance(value, dict):
        raise Malformed("not_json")
    if duplicate or not ints_ok or encode(value) != text:
        raise Malformed("not_canonical")
    if is_int(value.get("v")) and value["v"] != 1:
        raise Malformed("unsupported_version")
    t = value.get("time")
    typed = (
        all(is_int(value.get(k)) for k in ("v", "seq"))
        and all(isinstance(value.get(k), str) for k in ("device_id", "op_id", "kind", "entity_id", "prev_hash"))
        and "payload" in value
        and isinstance(t, dict)
        and all(is_int(t.get(k)) for k in ("wall_ms", "boot_ms", "hlc"))
        and (t.get("server_offset_ms") is None or is_int(t.get("server_offset_ms")))
    )
    if not typed:
        raise Malformed("missing_field")
    ids_ok = all(1 <= len(value[k].encode("utf-8")) <= MAX_ID_BYTES for k in ("device_id", "op_id", "entity_id"))
    offset = t.get("server_offset_ms")
    in_range = (
        1 <= value["seq"] <= MAX_SEQ
        and ids_ok
        and lower_hex(value["prev_hash"], 64)
        and 0 <= t["wall_ms"] <= MAX_WALL_MS
        and 0 <= t["boot_ms"] <= MAX_WALL_MS
        and t["hlc"] >= 0
        and (offset is None or abs(offset) <= MAX_WALL_MS)
    )
    if not in_range:
        raise Malformed("out_of_range")
    return value


# ------------------------------------------------------------------------------------------------
# Evidence code, photos, chains
# ------------------------------------------------------------------------------------------------


def sha256_hex(b):
    return hashlib.sha256(b).hexdigest()


def evidence_code(original_sha256, device_id, photo_id):
    text = "fieldproof-evidence-code-v1\n" + original_sha256 + "\n" + device_id + "\n" + photo_id
    bits = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:5], "big")
    chars = "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in range(7, -1, -1))
    return chars[:4] + "-" + chars[4:]


def verify_photo(image, entry, signature, keys, received_ms):
    """(findings, key_revoked_later), as "Verifying a photo" says."""
    try:
        e = read_entry(entry)
    except Malformed:
        return ["malformed_entry"], False
    findings, later = [], False
    key = next((k for k in keys if k["device_id"] == e["device_id"]), None)
    if key is None:
        findings.append("unknown_key")
    else:
        revoked = key["revoked_ms"]
        if revoked is not None:
            if received_ms is not None and received_ms < revoked:
                later = True
            else:
                findings.append("revoked_key")
        if not verify_signature(entry.encode("utf-8"), signature, key["public_key"]):
            findings.append("bad_signature")
    if e["kind"] not in ("visit.photo", "customer.photo"):
        return findings + ["not_a_photo"], later
    p = e["payload"] if isinstance(e["payload"], dict) else {}
    if p.get("image_sha256") != sha256_hex(image):
        findings.append("image_hash_mismatch")
    o, pid, code = p.get("original_sha256"), p.get("photo_id"), p.get("evidence_code")
    if not (isinstance(o, str) and isinstance(pid, str) and isinstance(code, str)) or code != evidence_code(
        o, e["device_id"], pid
    ):
        findings.append("code_mismatch")
    return findings, later


def verify_chain(entries, public_key, head):
    """[(index, seq, code)], as "Verifying a chain" says."""
    findings = []
    prev = dict(head) if head else None
    seen = {}
    for i, s in enumerate(entries):
        try:
            e = read_entry(s["entry"])
        except Malformed:
            findings.append((i, None, "malformed_entry"))
            continue
        seq, hlc = e["seq"], e["time"]["hlc"]
        if not verify_signature(s["entry"].encode("utf-8"), s["signature"], public_key):
            findings.append((i, seq, "bad_signature"))
            continue
        h = sha256_hex(s["entry"].encode("utf-8"))
        forked = seq in seen and seen[seq] != h
        seen[seq] = h
        if forked:
            findings.append((i, seq, "chain_fork"))
        if prev is None:
            if seq == 1 and e["prev_hash"] != GENESIS_HASH:
                findings.append((i, seq, "chain_fork"))
        else:
            if seq < prev["seq"]:
                findings.append((i, seq, "reordered"))
            elif seq == prev["seq"]:
                if h != prev["entry_hash"] and not forked:
                    findings.append((i, seq, "chain_fork"))
            elif seq > prev["seq"] + 1:
                findings.append((i, seq, "chain_gap"))
            elif e["prev_hash"] != prev["entry_hash"]:
                findings.append((i, seq, "chain_fork"))
            if seq > prev["seq"] and hlc <= prev["hlc"]:
                findings.append((i, seq, "backdated"))
        if prev is None or seq > prev["seq"]:
            prev = {"seq": seq, "entry_hash": h, "hlc": hlc}
    return findings


def by_order(findings):
    return sorted(findings, key=lambda f: (f[0], FINDINGS.index(f[2])))


def expand(case):
    if "entry" in case:
        return case["entry"]
    p = case["entry_parts"]
    return p["before"] + p["repeat"] * p["times"] + p["after"]


def names(section):
    return [c["name"] for c in section]


# ------------------------------------------------------------------------------------------------
# The vectors
# ------------------------------------------------------------------------------------------------


def test_the_lists_of_codes_are_the_documents():
    assert VECTORS["finding_codes"] == FINDINGS
    doc = (ROOT / "docs" / "evidence-format.md").read_text("utf-8")
    for code in FINDINGS + VECTORS["malformed_cases"]:
        assert f"`{code}`" in doc, code


def test_keys_are_their_seeds():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    for k in VECTORS["keys"]:
        seed = hashlib.sha256(("fieldproof evidence vectors: " + k["name"]).encode()).hexdigest()
        assert k["seed"] == seed
        public = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed)).public_key()
        assert public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex() == k["public_key"]


def test_floats_are_spelt_as_the_document_says():
    for f in VECTORS["floats"]:
        (x,) = struct.unpack(">d", bytes.fromhex(f["bits"]))
        assert encode_float(x) == f["text"], f
        assert float(f["text"]) == x
        assert is_canonical("[" + f["text"] + "]")


@pytest.mark.parametrize("case", VECTORS["canonical"], ids=names(VECTORS["canonical"]))
def test_canonical_form(case):
    try:
        read_entry(expand(case))
        got = None
    except Malformed as m:
        got = m.case
    assert got == case["malformed"], case["why"]


@pytest.mark.parametrize("case", VECTORS["entries"], ids=names(VECTORS["entries"]))
def test_entries(case):
    key = next(k for k in VECTORS["keys"] if k["name"] == case["key"])
    entry = case["entry"]
    assert read_entry(entry)["device_id"] == key["device_id"]
    assert verify_signature(entry.encode("utf-8"), case["signature"], key["public_key"])
    assert sha256_hex(entry.encode("utf-8")) == case["entry_hash"]


@pytest.mark.parametrize("case", VECTORS["evidence_codes"], ids=names(VECTORS["evidence_codes"]))
def test_evidence_codes(case):
    text = "fieldproof-evidence-code-v1\n%s\n%s\n%s" % (case["original_sha256"], case["device_id"], case["photo_id"])
    assert text.encode("utf-8").hex() == case["input_hex"]
    assert sha256_hex(text.encode("utf-8")) == case["sha256"]
    assert bin(int(case["sha256"][:10], 16))[2:].zfill(40) == case["first_40_bits"]
    assert evidence_code(case["original_sha256"], case["device_id"], case["photo_id"]) == case["code"]


@pytest.mark.parametrize("case", VECTORS["public_keys"], ids=names(VECTORS["public_keys"]))
def test_public_keys(case):
    assert strict_public_key(case["public_key"]) == case["valid"], case["why"]


@pytest.mark.parametrize("case", VECTORS["signatures"], ids=names(VECTORS["signatures"]))
def test_signatures(case):
    message = bytes.fromhex(case["message_hex"])
    assert verify_signature(message, case["signature"], case["public_key"]) == case["valid"], case["why"]


@pytest.mark.parametrize("case", VECTORS["photos"]["cases"], ids=names(VECTORS["photos"]["cases"]))
def test_photos(case):
    findings, later = verify_photo(
        bytes.fromhex(case["image_hex"]), case["entry"], case["signature"], case["keys"], case["received_ms"]
    )
    want = case["expect"]
    assert sorted(findings, key=FINDINGS.index) == want["findings"], case["why"]
    assert (not findings) == want["verified"]
    assert later == want["key_revoked_later"]


@pytest.mark.parametrize("case", VECTORS["chains"], ids=names(VECTORS["chains"]))
def test_chains(case):
    got = by_order(verify_chain(case["entries"], case["public_key"], case["head"]))
    want = by_order([(f["index"], f["seq"], f["code"]) for f in case["expect"]])
    assert got == want, case["why"]


# ------------------------------------------------------------------------------------------------
# The checks matter: without them a verifier passes forgeries
# ------------------------------------------------------------------------------------------------


def signature_case(name):
    return next(c for c in VECTORS["signatures"] if c["name"] == name)


@pytest.mark.parametrize("name", ["small_order_key_identity", "small_order_key_order_8", "small_order_r"])
def test_cryptography_alone_accepts_the_forgeries_the_format_rejects(name):
    case = signature_case(name)
    message = bytes.fromhex(case["message_hex"])
    assert verify_signature(message, case["signature"], case["public_key"], naive=True), (
        "OpenSSL alone accepts this signature; the format's extra checks are what reject it"
    )
    assert not verify_signature(message, case["signature"], case["public_key"])


def test_a_forged_photo_under_a_small_order_key_passes_a_naive_verifier():
    """A key the server would never enrol, but a verifier given keys from elsewhere might: a
    manifest "signed" under the identity key verifies for any bytes with `cryptography` alone."""
    identity = signature_case("small_order_key_identity")
    entry = VECTORS["photos"]["cases"][0]["entry"]
    assert verify_signature(entry.encode(), identity["signature"], identity["public_key"], naive=True)
    assert not verify_signature(entry.encode(), identity["signature"], identity["public_key"])


def test_this_verifier_notices_tampering():
    chain = next(c for c in VECTORS["chains"] if c["name"] == "from_genesis")
    assert verify_chain(chain["entries"], chain["public_key"], None) == []
    edited = [dict(e) for e in chain["entries"]]
    edited[2]["entry"] = edited[2]["entry"].replace('"revision":1', '"revision":2', 1)
    assert edited[2]["entry"] != chain["entries"][2]["entry"]
    assert verify_chain(edited, chain["public_key"], None) == [(2, 3, "bad_signature"), (3, 4, "chain_gap")]
    assert encode(json.loads('{"b":1.0,"a":[1e16]}')) == '{"a":[1e+16],"b":1.0}'
    assert not is_canonical('{"a":1e16}')
