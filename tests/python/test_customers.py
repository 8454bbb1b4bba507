"""Customers and leads through the generated Python bindings, offline.

A stage move without its evidence is refused with the missing list and writes nothing; the
evidence photo unlocks it. A duplicate entry is refused with the match (its owner, what matched,
never another rep's number). QR check-in (扫码签到) with a store code signed here by the
`cryptography` package's Ed25519: the current code opens the visit and travels in the check-in's
signed op; an expired, another store's or a forged code is refused with its own code. Run by
tests/python/run.sh; every test on a fresh in-memory core and on a fresh file database.
"""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from coroutines import run

REPO = Path(__file__).resolve().parents[2]
BINDINGS = Path(os.environ.get("FIELDPROOF_PY_BINDINGS", REPO / "target" / "bindings" / "python"))
FIXTURE = REPO / "tests" / "fixtures" / "reference.json"
PHOTO = REPO / "tests" / "data" / "photo-1920x1080.jpg"

sys.path.insert(0, str(BINDINGS))

from fieldproof_ffi import (  # noqa: E402
    CheckInRequest,
    CustomerList,
    CustomerPhotoRequest,
    FieldproofCore,
    FieldproofError,
    LocationFix,
    LocationProvider,
    MatchOn,
    MissingKind,
    NewCustomer,
    PhotoKind,
)

ST001 = (31.2304, 121.5200)


def fix_st001():
    return LocationFix(latitude=ST001[0], longitude=ST001[1], accuracy_m=10.0, provider=LocationProvider.GPS,
                       is_mock=False, fix_time_ms=int(time.time() * 1000))


def wang(phone="+86 138-0013-8000", company="上海某某科技有限公司"):
    return NewCustomer(name="王经理", company=company, phones=[phone], contacts=[], industry="医疗",
                       region="shanghai-east", budget_cents=5_000_000, store_id=None, from_lead_id=None)


@pytest.fixture(params=["memory", "file"])
def core(request, tmp_path):
    if request.param == "memory":
        core = run(FieldproofCore.open_in_memory())
    else:
        core = run(FieldproofCore.open(str(tmp_path / "fieldproof.db")))
    run(core.load_reference_json(FIXTURE.read_text(encoding="utf-8")))
    photo_dir = core.photo_dir()
    yield core
    del core
    if request.param == "memory":
        shutil.rmtree(photo_dir, ignore_errors=True)


async def refused(core, variant, code, fn, *args):
    """`await fn(*args)` must raise FieldproofError.<variant> with `code` and write nothing."""
    before = (await core.outbox_summary()).last_seq
    rows_before = await core.table_row_counts()
    with pytest.raises(variant) as info:
        await fn(*args)
    assert info.value.code == code, info.value
    assert (await core.outbox_summary()).last_seq == before, "a refused call wrote to the outbox"
    assert await core.table_row_counts() == rows_before, "a refused call wrote rows"
    return info.value


async def test_a_stage_move_without_its_evidence_is_refused_offline_then_the_photo_unlocks_it(core):
    c = await core.create_customer("rep-li", wang())
    assert c.stage == "explore"
    await core.move_customer_stage("rep-li", c.id, "needs", None)
    await core.move_customer_stage("rep-li", c.id, "demo", None)

    e = await refused(core, FieldproofError.Refused, "stage_locked",
                      core.move_customer_stage, "rep-li", c.id, "negotiation", None)
    assert [(m.kind, m.item_id, m.label) for m in e.missing] == \
        [(MissingKind.EVIDENCE_PHOTO, "tech_spec_form", "签字的技术参数确认单")]
    assert [m.item_id for m in (await core.customer_detail(c.id)).missing_for_next] == ["tech_spec_form"]
    # Skipping a stage is another refusal.
    await refused(core, FieldproofError.Refused, "stage_not_allowed",
                  core.move_customer_stage, "rep-li", c.id, "won", None)

    shot = await core.capture_customer_photo("rep-li", CustomerPhotoRequest(customer_id=c.id,
                                             requirement_id="tech_spec_form"), fix_st001(), 480, PHOTO.read_bytes())
    assert shot.kind == PhotoKind.DOCUMENT
    assert Path(shot.path).is_file()
    moved = await core.move_customer_stage("rep-li", c.id, "negotiation", None)
    assert moved.to == "negotiation"
    assert [(r.requirement_id, r.photo_id) for r in moved.evidence] == [("tech_spec_form", shot.id)]
    ops = await core.pending_ops(100)
    assert [o.kind for o in ops] == ["customer.create", "customer.stage", "customer.stage", "customer.photo",
                                     "customer.stage"]
    assert json.loads(ops[-1].payload_json)["evidence"][0]["photo_id"] == shot.id
    assert (await core.audit()).problems == []


async def test_a_duplicate_is_refused_with_its_match_and_nothing_written(core):
    first = await core.create_customer("rep-li", wang())
    e = await refused(core, FieldproofError.Conflict, "duplicate_customer",
                      core.create_customer, "rep-li", wang(phone="0086 13800138000", company=None))
    [match] = e.duplicates
    assert match.customer_id == first.id
    assert match.matched_on == MatchOn.PHONE
    assert match.owner_name == "李娜"
    e = await refused(core, FieldproofError.Conflict, "duplicate_customer",
                      core.create_customer, "rep-li", wang(phone="13900000000", company="上海某某科技"))
    assert [m.matched_on for m in e.duplicates] == [MatchOn.COMPANY]
    matches = await core.check_customer_duplicates(wang(phone="13900000000", company="别的公司"))
    assert matches == []
    assert [c.id for c in await core.customers("rep-li", CustomerList.MINE)] == [first.id]


class StoreKey:
    """A store's key as head office issues it; the phone gets only the public half."""

    def __init__(self):
        self.private = Ed25519PrivateKey.generate()
        self.public_hex = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def code(self, store, kid, at_ms):
        step = at_ms // 30_000
        sig = self.private.sign(f"fieldproof-store-code-v1\n{store}\n{kid}\n{step}".encode())
        return f"fpsc1:{store}:{kid}:{step}:{sig.hex()}"


async def test_qr_check_in_verifies_the_code_offline(core):
    key = StoreKey()
    loaded = await core.load_pipeline_records(json.dumps([
        {"seq": 1, "kind": "store_key", "id": "st-001:k1",
         "body": {"store_id": "st-001", "kid": "k1", "public_key_hex": key.public_hex}},
    ]))
    assert loaded == 1
    req = CheckInRequest(user_id="rep-li", store_id="st-001", plan_id=None, template_id=None, fix=fix_st001())
    now = int(time.time() * 1000)
    # A photographed code is stale two minutes later.
    await refused(core, FieldproofError.InvalidInput, "store_code_expired",
                  core.check_in_scanned, req, key.code("st-001", "k1", now - 120_000))
    await refused(core, FieldproofError.InvalidInput, "store_code_wrong_store",
                  core.check_in_scanned, req, key.code("st-002", "k1", now))
    forged = StoreKey().code("st-001", "k1", now)
    await refused(core, FieldproofError.InvalidInput, "store_code_invalid", core.check_in_scanned, req, forged)
    await refused(core, FieldproofError.InvalidInput, "store_code_malformed", core.check_in_scanned, req, "hello")
    assert await core.open_visit("rep-li") is None

    code = key.code("st-001", "k1", int(time.time() * 1000))
    visit = await core.check_in_scanned(req, code)
    assert visit.store_id == "st-001"
    op = (await core.pending_ops(10))[-1]
    assert op.kind == "visit.check_in"
    assert json.loads(op.payload_json)["store_code"]["text"] == code
