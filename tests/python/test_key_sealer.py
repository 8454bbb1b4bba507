"""The device key sealed through the `KeySealer` callback interface, from Python.

An AES-256-GCM sealer (the `cryptography` package) stands in for the platform keystore, as the
Android Keystore and iOS Keychain sealers do it on phones. Run by tests/python/run.sh.
"""

import os
import sys
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

REPO = Path(__file__).resolve().parents[2]
BINDINGS = Path(os.environ.get("FIELDPROOF_PY_BINDINGS", REPO / "target" / "bindings" / "python"))
FIXTURE = REPO / "tests" / "fixtures" / "reference.json"
PHOTO = REPO / "tests" / "data" / "photo-1920x1080.jpg"

sys.path.insert(0, str(BINDINGS))

from fieldproof_ffi import (  # noqa: E402
    CaptureRequest,
    CheckInRequest,
    FieldproofCore,
    FieldproofError,
    KeySealer,
    KeySealerError,
    LocationFix,
    LocationProvider,
    PhotoKind,
    SignedEntry,
    verify_evidence_chain,
)

FORMAT = b"\x01"


class AesGcmSealer(KeySealer):
    """`[1][12-byte nonce][ciphertext + tag]` under a key held in memory."""

    def __init__(self, key: bytes):
        self.aead = AESGCM(key)
        self.sealed_seeds = []
        self.unseals = 0

    def seal(self, seed: bytes) -> bytes:
        self.sealed_seeds.append(bytes(seed))
        nonce = os.urandom(12)
        return FORMAT + nonce + self.aead.encrypt(nonce, seed, FORMAT)

    def unseal(self, sealed: bytes) -> bytes:
        self.unseals += 1
        if len(sealed) < 1 + 12 + 16 or sealed[:1] != FORMAT:
            raise KeySealerError.Failed("not a sealed key in format 1")
        try:
            return self.aead.decrypt(sealed[1:13], sealed[13:], FORMAT)
        except InvalidTag:
            raise KeySealerError.Failed("tag mismatch: another key") from None


class BrokenSealer(KeySealer):
    """A keystore that fails, with the declared error or with any other exception."""

    def __init__(self, undeclared: bool):
        self.undeclared = undeclared

    def _fail(self):
        if self.undeclared:
            raise RuntimeError("keystore daemon died")
        raise KeySealerError.Failed("keystore locked")

    def seal(self, seed: bytes) -> bytes:
        self._fail()

    def unseal(self, sealed: bytes) -> bytes:
        self._fail()


FIX = LocationFix(
    latitude=31.2304,
    longitude=121.5200,
    accuracy_m=10.0,
    provider=LocationProvider.GPS,
    is_mock=False,
    fix_time_ms=1_795_395_600_000,
)


async def check_in_with_photo(core):
    await core.load_reference_json(FIXTURE.read_text())
    visit = await core.check_in(CheckInRequest(user_id="rep-li", store_id="st-001", fix=FIX))
    await core.capture_photo(
        CaptureRequest(
            visit_id=visit.id,
            item_id="shelf_photo",
            kind=PhotoKind.SHELF_OVERVIEW,
            fix=FIX,
            utc_offset_minutes=480,
        ),
        PHOTO.read_bytes(),
    )
    await core.cancel_visit(visit.id, "sealer test")


async def chain_findings(core, public_key):
    ops = await core.pending_ops(10_000)
    entries = [SignedEntry(entry=o.entry, signature_hex=o.signature_hex) for o in ops]
    return await verify_evidence_chain(entries, public_key, None)


def files_of(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())


async def open_code(db: Path, sealer) -> str:
    """The open must fail with FieldproofError.Storage; its code."""
    with pytest.raises(FieldproofError.Storage) as refused:
        await FieldproofCore.open(str(db), sealer)
    return refused.value.code


async def test_a_sealed_database_signs_reopens_and_refuses_without_its_sealer(tmp_path):
    key = AESGCM.generate_key(bit_length=256)
    db = tmp_path / "sealed.db"
    sealer = AesGcmSealer(key)
    core = await FieldproofCore.open(str(db), sealer)
    await check_in_with_photo(core)
    public_key = core.device_public_key()
    assert len(await core.pending_ops(100)) >= 2
    assert await chain_findings(core, public_key) == []
    del core  # closes the database
    assert len(sealer.sealed_seeds) == 1
    assert sealer.sealed_seeds[0] not in files_of(db), "raw seed in the database files"

    again = AesGcmSealer(key)
    core = await FieldproofCore.open(str(db), again)
    assert core.device_public_key() == public_key
    await check_in_with_photo(core)
    assert await chain_findings(core, public_key) == []
    del core
    assert again.unseals == 1, "the keystore is asked at open, not per action"

    before = files_of(db)
    assert await open_code(db, None) == "key_sealer_required"
    assert await open_code(db, AesGcmSealer(AESGCM.generate_key(bit_length=256))) == "key_unseal_failed"
    assert await open_code(db, BrokenSealer(undeclared=False)) == "key_unseal_failed"
    assert await open_code(db, BrokenSealer(undeclared=True)) == "key_unseal_failed"
    assert files_of(db) == before, "a refused open changed the files"
    assert (await FieldproofCore.open(str(db), AesGcmSealer(key))).device_public_key() == public_key


async def test_a_new_database_whose_sealer_fails_is_refused(tmp_path):
    assert await open_code(tmp_path / "new.db", BrokenSealer(undeclared=True)) == "key_seal_failed"


async def test_a_plain_database_is_sealed_with_the_same_key(tmp_path):
    db = tmp_path / "plain.db"
    core = await FieldproofCore.open(str(db))
    await check_in_with_photo(core)
    public_key = core.device_public_key()
    del core

    sealer = AesGcmSealer(AESGCM.generate_key(bit_length=256))
    core = await FieldproofCore.open(str(db), sealer)
    assert core.device_public_key() == public_key
    await check_in_with_photo(core)
    assert await chain_findings(core, public_key) == []
    del core
    assert len(sealer.sealed_seeds) == 1
    assert sealer.sealed_seeds[0] not in files_of(db), "old seed left in the files"
    assert await open_code(db, None) == "key_sealer_required"
