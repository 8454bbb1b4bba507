"""The visit flow through the generated Python bindings (uniffi) of fieldproof-ffi.

Run by tests/python/run.sh, which builds the library, generates `fieldproof_ffi.py` into
target/bindings/python/ and copies libfieldproof_ffi.so next to it. Every test runs on a fresh
in-memory core and on a fresh file database.
"""

import asyncio
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from coroutines import run

REPO = Path(__file__).resolve().parents[2]
BINDINGS = Path(os.environ.get("FIELDPROOF_PY_BINDINGS", REPO / "target" / "bindings" / "python"))
TESTDATA = REPO / "tests" / "data"
FIXTURE = REPO / "tests" / "fixtures" / "reference.json"
PHOTO = TESTDATA / "photo-1920x1080.jpg"

sys.path.insert(0, str(BINDINGS))

from fieldproof_ffi import (  # noqa: E402
    AnswerValue,
    CheckInRequest,
    FieldproofCore,
    FieldproofError,
    FlagCode,
    GeofenceVerdict,
    LocationFix,
    LocationProvider,
    MissingItem,
    MissingKind,
    CaptureRequest,
    KnownKey,
    SignedEntry,
    VerifyCode,
    verify_evidence_chain,
    verify_photo_evidence,
    Objection,
    ObjectionKind,
    PhotoKind,
    PlanStatus,
    ReferenceData,
    ReviewVerdict,
    Store,
    User,
    Role,
    VisitReport,
    VisitStatus,
)

DAY = "2026-11-23"
# Store coordinates from tests/fixtures/reference.json.
ST001 = (31.2304, 121.5200)
ST002 = (31.2360, 121.5050)
ST003 = (31.2280, 121.5290)
ONE_KM_LAT = 0.009  # ~1000 m of latitude


# --- helpers ------------------------------------------------------------------------------------


def fix_at(lat, lon, accuracy=10.0):
    return LocationFix(
        latitude=lat,
        longitude=lon,
        accuracy_m=accuracy,
        provider=LocationProvider.GPS,
        is_mock=False,
        fix_time_ms=int(time.time() * 1000),
    )


async def expect_error(core, variant, code, fn, *args):
    """`await fn(*args)` must raise FieldproofError.<variant> with `code` and write nothing."""
    before = (await core.outbox_summary()).last_seq
    rows_before = await core.table_row_counts()
    with pytest.raises(variant) as info:
        await fn(*args)
    assert info.value.code == code, info.value
    assert (await core.outbox_summary()).last_seq == before, "a refused call wrote to the outbox"
    assert await core.table_row_counts() == rows_before, "a refused call wrote rows"
    return info.value


async def capture(core, visit_id, item_id, jpeg, kind=None):
    request = CaptureRequest(
        visit_id=visit_id,
        item_id=item_id,
        kind=kind or PhotoKind.SHELF_OVERVIEW,
        fix=fix_at(*ST001),
        utc_offset_minutes=480,
    )
    return await core.capture_photo(request, jpeg)


async def check_in_li(core):
    plan = await core.day_plan("rep-li", DAY)
    return await core.check_in(
        CheckInRequest(user_id="rep-li", store_id="st-001", plan_id=plan[0].plan_id, fix=fix_at(*ST001))
    )


async def answer_required(core, visit_id):
    """Every required answer of tpl-store-check (shelf_ok=false shows shelf_issue)."""
    await core.answer(visit_id, "shelf_ok", AnswerValue.YES_NO(value=False), None)
    await core.answer(visit_id, "shelf_issue", AnswerValue.CHOICE(choice_id="wrong_place"), None)
    await core.answer(visit_id, "facings", AnswerValue.NUMBER(value=5.0), None)
    await core.answer(visit_id, "own_price", AnswerValue.PRICE(cents=400), None)
    return await core.answer(visit_id, "backroom", AnswerValue.CHOICE(choice_id="low"), None)


REPORT = VisitReport(
    notes="店长同意增加两个排面。",
    objections=[Objection(kind=ObjectionKind.PRICE, detail="竞品便宜 1 元")],
    next_steps=["送新陈列架", "下周复查价格"],
    follow_up_date="2026-11-30",
)


async def finished_visit(core, photo):
    """rep-li's visit at st-001, completed and checked out."""
    visit = await check_in_li(core)
    await answer_required(core, visit.id)
    await capture(core, visit.id, "shelf_photo", photo)
    await core.save_report(visit.id, REPORT)
    await core.complete_visit(visit.id)
    await core.check_out(visit.id, fix_at(*ST001))
    return visit


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def photo():
    if not PHOTO.is_file():
        pytest.fail(f"test photo missing: {PHOTO} (the repository's tests/data)")
    return PHOTO.read_bytes()


@pytest.fixture(params=["memory", "file"])
def empty_core(request, tmp_path):
    """A fresh core with nothing loaded, in memory or on a file database."""
    if request.param == "memory":
        core = run(FieldproofCore.open_in_memory())
    else:
        core = run(FieldproofCore.open(str(tmp_path / "fieldproof.db")))
    photo_dir = core.photo_dir()
    yield core
    del core
    if request.param == "memory":
        # An in-memory core's photo folder is a fresh temporary folder the core never removes.
        shutil.rmtree(photo_dir, ignore_errors=True)


@pytest.fixture
def core(empty_core):
    """A fresh core with tests/fixtures/reference.json loaded."""
    summary = run(empty_core.load_reference_json(FIXTURE.read_text(encoding="utf-8")))
    assert (summary.users, summary.stores, summary.templates, summary.plans) == (5, 4, 2, 4)
    return empty_core


# --- reference data and plan ----------------------------------------------------------------------


async def test_reference_json_refused_as_a_whole(empty_core):
    await expect_error(empty_core, FieldproofError.InvalidInput, "bad_reference_data",
                 empty_core.load_reference_json, '{"users": [')
    await expect_error(empty_core, FieldproofError.InvalidInput, "bad_reference_data",
                 empty_core.load_reference_json, "[]")
    assert await empty_core.stores(None) == []


async def test_reference_data_as_records(empty_core):
    data = ReferenceData(
        users=[User(id="rep-x", name="小王", role=Role.REP, territory="t1", supervisor_id=None)],
        stores=[Store(id="st-x", code="X-1", name="测试店", address="", latitude=31.0, longitude=121.0,
                      geofence_radius_m=100.0, territory="t1", geofence_mode=None)],
    )
    summary = await empty_core.load_reference_data(data)
    assert (summary.users, summary.stores, summary.templates) == (1, 1, 0)
    assert [s.name for s in await empty_core.stores("t1")] == ["测试店"]


async def test_day_plan(core):
    plan = await core.day_plan("rep-li", DAY)
    assert [e.store.id for e in plan] == ["st-001", "st-002", "st-003"]
    assert [e.sequence for e in plan] == [1, 2, 3]
    assert all(e.status == PlanStatus.NOT_STARTED and e.visit_id is None for e in plan)
    assert plan[0].store.name == "联华超市（浦东南路店）"
    assert await core.day_plan("rep-li", "2026-11-24") == []
    await expect_error(core, FieldproofError.NotFound, "unknown_user", core.day_plan, "rep-nobody", DAY)
    await expect_error(core, FieldproofError.InvalidInput, "invalid_input", core.day_plan, "rep-li", "23.11.2026")


# --- geofence -----------------------------------------------------------------------------------


async def test_check_in_inside_geofence_is_verified(core):
    visit = await check_in_li(core)
    assert visit.geofence == GeofenceVerdict.VERIFIED
    assert visit.flags == []
    assert visit.status == VisitStatus.IN_PROGRESS
    assert visit.distance_m is not None and visit.distance_m < 0
    assert (await core.open_visit("rep-li")).id == visit.id
    assert (await core.day_plan("rep-li", DAY))[0].status == PlanStatus.IN_PROGRESS

    plan = await core.day_plan("rep-li", DAY)
    second = CheckInRequest(user_id="rep-li", store_id="st-002", plan_id=plan[1].plan_id, fix=fix_at(*ST002))
    await expect_error(core, FieldproofError.Refused, "visit_already_open", core.check_in, second)


async def test_check_in_outside_geofence_is_flagged(core):
    lat, lon = ST002
    visit = await core.check_in(CheckInRequest(user_id="rep-chen", store_id="st-002", fix=fix_at(lat + ONE_KM_LAT, lon)))
    assert visit.geofence == GeofenceVerdict.OUTSIDE
    assert [f.code for f in visit.flags] == [FlagCode.OUTSIDE_GEOFENCE]
    assert 900 < visit.distance_m < 1100


async def test_check_in_outside_block_mode_is_refused(core):
    lat, lon = ST003
    plan = await core.day_plan("rep-li", DAY)
    req = CheckInRequest(user_id="rep-li", store_id="st-003", plan_id=plan[2].plan_id,
                         fix=fix_at(lat + ONE_KM_LAT, lon))
    await expect_error(core, FieldproofError.Refused, "outside_geofence", core.check_in, req)
    no_fix = CheckInRequest(user_id="rep-li", store_id="st-003", plan_id=plan[2].plan_id)
    await expect_error(core, FieldproofError.Refused, "fix_required", core.check_in, no_fix)
    assert await core.open_visit("rep-li") is None
    # Inside the block-mode fence is fine.
    assert (await core.check_in(CheckInRequest(user_id="rep-li", store_id="st-003", plan_id=plan[2].plan_id,
                                        fix=fix_at(lat, lon)))).geofence == GeofenceVerdict.VERIFIED


# --- answers ------------------------------------------------------------------------------------


async def test_show_if_item(core):
    visit = await check_in_li(core)
    detail = await core.visit_detail(visit.id)
    assert "shelf_issue" in detail.hidden_item_ids
    assert all(m.item_id != "shelf_issue" for m in detail.missing)

    outcome = await core.answer(visit.id, "shelf_ok", AnswerValue.YES_NO(value=False), None)
    assert "shelf_issue" not in outcome.hidden_item_ids
    assert MissingItem(kind=MissingKind.ANSWER, item_id="shelf_issue", label="What is wrong with the shelf?") in outcome.missing

    outcome = await core.answer(visit.id, "shelf_ok", AnswerValue.YES_NO(value=True), None)
    assert "shelf_issue" in outcome.hidden_item_ids
    assert all(m.item_id != "shelf_issue" for m in outcome.missing)
    await expect_error(core, FieldproofError.InvalidInput, "item_hidden",
                 core.answer, visit.id, "shelf_issue", AnswerValue.CHOICE(choice_id="wrong_place"), None)
    assert (await core.visit_detail(visit.id)).answers[0].revision == 2


async def test_bad_answers_are_typed_errors_that_write_nothing(core):
    visit = await check_in_li(core)
    cases = [
        (FieldproofError.InvalidInput, "wrong_value_kind", "facings", AnswerValue.YES_NO(value=True)),
        (FieldproofError.InvalidInput, "wrong_value_kind", "own_price", AnswerValue.NUMBER(value=4.0)),
        (FieldproofError.NotFound, "unknown_item", "no_such_item", AnswerValue.YES_NO(value=True)),
        (FieldproofError.NotFound, "unknown_choice", "backroom", AnswerValue.CHOICE(choice_id="lots")),
        (FieldproofError.InvalidInput, "invalid_answer", "facings", AnswerValue.NUMBER(value=-1.0)),
        (FieldproofError.InvalidInput, "invalid_answer", "facings", AnswerValue.NUMBER(value=float("nan"))),
        (FieldproofError.InvalidInput, "invalid_answer", "own_price", AnswerValue.PRICE(cents=-5)),
        (FieldproofError.InvalidInput, "invalid_answer", "remarks", AnswerValue.TEXT(value="   ")),
        (FieldproofError.InvalidInput, "invalid_answer", "shelf_photo", AnswerValue.TEXT(value="photo")),
    ]
    for variant, code, item, value in cases:
        await expect_error(core, variant, code, core.answer, visit.id, item, value, None)
    await expect_error(core, FieldproofError.NotFound, "unknown_visit",
                 core.answer, "no-such-visit", "facings", AnswerValue.NUMBER(value=1.0), None)
    assert (await core.visit_detail(visit.id)).answers == []
    assert (await core.audit()).problems == []


async def test_price_gap_needs_a_note(core):
    visit = await check_in_li(core)
    await core.answer(visit.id, "own_price", AnswerValue.PRICE(cents=400), None)
    outcome = await core.answer(visit.id, "comp_price", AnswerValue.PRICE(cents=300), None)
    gaps = [f for f in outcome.flags if f.code == FlagCode.PRICE_GAP_UNEXPLAINED]
    assert [f.item_id for f in gaps] == ["comp_price"]
    assert [f.code for f in (await core.visit(visit.id)).flags] == [FlagCode.PRICE_GAP_UNEXPLAINED]

    outcome = await core.answer(visit.id, "comp_price", AnswerValue.PRICE(cents=300), "门店促销，已与店长议价")
    assert outcome.flags == []
    assert (await core.visit(visit.id)).flags == []
    answer = next(a for a in (await core.visit_detail(visit.id)).answers if a.item_id == "comp_price")
    assert (answer.note, answer.revision) == ("门店促销，已与店长议价", 2)

    # Within 15 % needs no note.
    outcome = await core.answer(visit.id, "comp_price", AnswerValue.PRICE(cents=350), None)
    assert outcome.flags == []


# --- completion -----------------------------------------------------------------------------------


async def test_completion_is_locked_until_photo_and_report(core, photo):
    visit = await check_in_li(core)
    await answer_required(core, visit.id)
    err = await expect_error(core, FieldproofError.Refused, "completion_locked", core.complete_visit, visit.id)
    assert err.missing == [
        MissingItem(kind=MissingKind.PHOTO, item_id="shelf_photo", label="Shelf overview photo"),
        MissingItem(kind=MissingKind.REPORT, item_id=None, label="visit report"),
    ]
    assert (await core.visit_detail(visit.id)).missing == err.missing
    await expect_error(core, FieldproofError.Refused, "visit_not_completed", core.check_out, visit.id, fix_at(*ST001))

    await capture(core, visit.id, "shelf_photo", photo)
    err = await expect_error(core, FieldproofError.Refused, "completion_locked", core.complete_visit, visit.id)
    assert [m.kind for m in err.missing] == [MissingKind.REPORT]


async def test_photo_report_complete_and_check_out(core, photo):
    visit = await check_in_li(core)
    await answer_required(core, visit.id)

    await expect_error(core, FieldproofError.InvalidInput, "not_jpeg",
                 capture, core, visit.id, "shelf_photo", b"not a jpeg")
    await expect_error(core, FieldproofError.InvalidInput, "image_empty",
                 capture, core, visit.id, None, b"")
    await expect_error(core, FieldproofError.InvalidInput, "wrong_value_kind",
                 capture, core, visit.id, "facings", photo)
    stored = (await capture(core, visit.id, "shelf_photo", photo)).photo
    stamped = Path(stored.path).read_bytes()
    assert stored.byte_len == len(stamped)
    assert stored.sha256 == hashlib.sha256(stamped).hexdigest()
    assert stored.original_sha256 == hashlib.sha256(photo).hexdigest()
    assert stamped != photo
    assert Path(stored.path).parent == Path(core.photo_dir())

    await expect_error(core, FieldproofError.InvalidInput, "invalid_input",
                 core.save_report, visit.id, VisitReport(notes="  "))
    await expect_error(core, FieldproofError.InvalidInput, "invalid_input",
                 core.save_report, visit.id, VisitReport(notes="ok", follow_up_date="next week"))
    await core.save_report(visit.id, REPORT)
    assert (await core.visit_detail(visit.id)).report == REPORT

    completed = await core.complete_visit(visit.id)
    assert completed.status == VisitStatus.COMPLETED
    assert completed.score is not None and 0 <= completed.score <= 100
    assert completed.completed_at_ms is not None
    await expect_error(core, FieldproofError.Refused, "visit_not_editable",
                 core.answer, visit.id, "facings", AnswerValue.NUMBER(value=6.0), None)
    await expect_error(core, FieldproofError.Refused, "visit_already_open", core.check_in,
                 CheckInRequest(user_id="rep-li", store_id="st-002", fix=fix_at(*ST002)))

    out = await core.check_out(visit.id, fix_at(*ST001))
    assert out.status == VisitStatus.CHECKED_OUT
    assert out.checked_out_at_ms is not None
    assert out.flags == []
    assert await core.open_visit("rep-li") is None
    assert (await core.day_plan("rep-li", DAY))[0].status == PlanStatus.COMPLETED
    assert (await core.visit_detail(visit.id)).score.total == completed.score
    await expect_error(core, FieldproofError.Refused, "visit_not_editable", core.cancel_visit, visit.id, "too late")


async def test_cancel_visit(core):
    visit = await check_in_li(core)
    await expect_error(core, FieldproofError.InvalidInput, "invalid_input", core.cancel_visit, visit.id, " ")
    cancelled = await core.cancel_visit(visit.id, "店铺关门")
    assert (cancelled.status, cancelled.cancel_reason) == (VisitStatus.CANCELLED, "店铺关门")
    assert (await core.day_plan("rep-li", DAY))[0].status == PlanStatus.CANCELLED
    assert await core.open_visit("rep-li") is None


# --- supervisor -----------------------------------------------------------------------------------


async def test_supervisor_review(core, photo):
    visit = await finished_visit(core, photo)
    await expect_error(core, FieldproofError.InvalidInput, "invalid_input",
                 core.review_visit, "sup-wang", visit.id, ReviewVerdict.FLAG, "  ")
    await expect_error(core, FieldproofError.Refused, "not_allowed",
                 core.review_visit, "sup-liu", visit.id, ReviewVerdict.ACCEPT, "")
    await expect_error(core, FieldproofError.Refused, "not_allowed",
                 core.review_visit, "rep-zhao", visit.id, ReviewVerdict.ACCEPT, "")
    await expect_error(core, FieldproofError.NotFound, "unknown_visit",
                 core.review_visit, "sup-wang", "no-such-visit", ReviewVerdict.ACCEPT, "")

    flagged = await core.review_visit("sup-wang", visit.id, ReviewVerdict.FLAG, "排面照片不清楚")
    assert (flagged.verdict, flagged.reviewer_id, flagged.comment) == (ReviewVerdict.FLAG, "sup-wang", "排面照片不清楚")
    assert [f.code for f in (await core.visit(visit.id)).flags] == [FlagCode.SUPERVISOR_FLAG]

    await core.review_visit("sup-wang", visit.id, ReviewVerdict.ACCEPT, "")
    assert (await core.visit(visit.id)).flags == []
    assert [r.verdict for r in (await core.visit_detail(visit.id)).reviews] == [ReviewVerdict.FLAG, ReviewVerdict.ACCEPT]


async def test_review_of_unfinished_visit_is_refused(core):
    visit = await check_in_li(core)
    await expect_error(core, FieldproofError.Refused, "visit_not_completed",
                 core.review_visit, "sup-wang", visit.id, ReviewVerdict.ACCEPT, "")


# --- exceptions, history, outbox, audit --------------------------------------------------------------


async def test_open_exceptions(core, photo):
    assert await core.open_exceptions(50) == []
    lat, lon = ST002
    chen = await core.check_in(CheckInRequest(user_id="rep-chen", store_id="st-002", fix=fix_at(lat + ONE_KM_LAT, lon)))
    visit = await finished_visit(core, photo)

    await core.review_visit("sup-wang", visit.id, ReviewVerdict.FLAG, "排面照片不清楚")
    exceptions = await core.open_exceptions(50)
    assert [(e.visit_id, e.flag.code) for e in exceptions] == [
        (visit.id, FlagCode.SUPERVISOR_FLAG),
        (chen.id, FlagCode.OUTSIDE_GEOFENCE),
    ]
    assert (exceptions[1].user_id, exceptions[1].store_id) == ("rep-chen", "st-002")
    assert len(await core.open_exceptions(1)) == 1

    await core.review_visit("sup-wang", visit.id, ReviewVerdict.ACCEPT, "")
    assert [(e.visit_id, e.flag.code) for e in await core.open_exceptions(50)] == [(chen.id, FlagCode.OUTSIDE_GEOFENCE)]

    history = await core.store_history("st-002", 10)
    assert [(h.visit_id, h.user_id, h.flag_codes) for h in history] == [(chen.id, "rep-chen", [FlagCode.OUTSIDE_GEOFENCE])]
    await expect_error(core, FieldproofError.NotFound, "unknown_store", core.store_history, "st-999", 10)


async def test_outbox_and_audit(core, photo):
    assert (await core.outbox_summary()).last_seq == 0
    visit = await finished_visit(core, photo)
    await core.review_visit("sup-wang", visit.id, ReviewVerdict.ACCEPT, "")

    ops = await core.pending_ops(1000)
    assert ops, "no pending ops"
    assert [op.seq for op in ops] == list(range(1, len(ops) + 1))
    assert ops[0].kind == "visit.check_in" and ops[-1].kind == "visit.review"
    assert {op.kind for op in ops} >= {"visit.answer", "visit.photo", "visit.report", "visit.complete",
                                       "visit.check_out"}
    assert len({op.op_id for op in ops}) == len(ops)
    assert [op.seq for op in await core.pending_ops(3)] == [1, 2, 3]

    summary = await core.outbox_summary()
    assert (summary.pending, summary.rejected, summary.acknowledged, summary.last_seq) == (len(ops), 0, 0, len(ops))
    audit = await core.audit()
    assert audit.problems == []
    assert audit.ops == len(ops)
    assert await core.integrity_check() == ["ok"]
    counts = {c.table: c.rows for c in await core.table_row_counts()}
    assert counts["outbox"] == len(ops)
    assert counts["visits"] == 1


async def test_file_database_survives_reopen(tmp_path, photo):
    path = str(tmp_path / "fieldproof.db")
    core = await FieldproofCore.open(path)
    await core.load_reference_json(FIXTURE.read_text(encoding="utf-8"))
    visit = await finished_visit(core, photo)
    device_id, last_seq = core.device_id(), (await core.outbox_summary()).last_seq
    del core

    core = await FieldproofCore.open(path)
    assert core.device_id() == device_id
    assert (await core.outbox_summary()).last_seq == last_seq
    assert (await core.visit(visit.id)).status == VisitStatus.CHECKED_OUT
    assert (await core.audit()).problems == []


# --- evidence: capture, verify, tamper ---------------------------------------------------------------

async def test_captured_photo_verifies_and_tampering_fails(core, photo, tmp_path):
    visit = await check_in_li(core)
    out = await capture(core, visit.id, "shelf_photo", photo)
    assert out.flags == []
    assert len(out.photo.evidence_code) == 9 and out.photo.evidence_code[4] == "-"
    verdict = await core.verify_photo(out.photo.id)
    assert verdict.verified, verdict.problems

    ev = await core.photo_evidence(out.photo.id)
    assert ev.public_key_hex == core.device_public_key()
    image = Path(ev.path).read_bytes()
    manifest = SignedEntry(entry=ev.manifest, signature_hex=ev.signature_hex)
    keys = [KnownKey(device_id=ev.device_id, public_key_hex=ev.public_key_hex, revoked_ms=None)]
    assert (await verify_photo_evidence(image, manifest, keys, None)).verified
    # Revocation has a time: received before it, still verified and marked; after it, revoked_key.
    revoked = [KnownKey(device_id=ev.device_id, public_key_hex=ev.public_key_hex, revoked_ms=2_000)]
    earlier = await verify_photo_evidence(image, manifest, revoked, 1_999)
    assert earlier.verified and earlier.key_revoked_later
    assert (await verify_photo_evidence(image, manifest, revoked, 2_000)).problems == [VerifyCode.REVOKED_KEY]
    assert (await verify_photo_evidence(image, manifest, revoked, None)).problems == [VerifyCode.REVOKED_KEY]

    flipped = bytearray(image)
    flipped[len(flipped) // 2] ^= 1
    assert (await verify_photo_evidence(bytes(flipped), manifest, keys, None)).problems == [VerifyCode.IMAGE_HASH_MISMATCH]
    changed = SignedEntry(entry=ev.manifest.replace('"store_code":"SH-E-001"', '"store_code":"SH-E-009"'),
                          signature_hex=ev.signature_hex)
    assert changed.entry != ev.manifest
    assert (await verify_photo_evidence(image, changed, keys, None)).problems == [VerifyCode.BAD_SIGNATURE]
    assert (await verify_photo_evidence(image, manifest, [], None)).problems == [VerifyCode.UNKNOWN_KEY]
    other_key = KnownKey(device_id=ev.device_id, public_key_hex="11" * 32, revoked_ms=None)
    assert (await verify_photo_evidence(image, manifest, [other_key], None)).problems == [VerifyCode.BAD_SIGNATURE]

    # Tamper with the file on the device itself: the device's own check sees it.
    Path(ev.path).write_bytes(bytes(flipped))
    assert (await core.verify_photo(out.photo.id)).problems == [VerifyCode.IMAGE_HASH_MISMATCH]


async def test_the_chain_verifies_and_a_removed_entry_is_a_gap(core, photo):
    await finished_visit(core, photo)
    entries = [SignedEntry(entry=op.entry, signature_hex=op.signature_hex) for op in await core.pending_ops(1000)]
    key = core.device_public_key()
    assert await verify_evidence_chain(entries, key, None) == []
    del entries[2]
    findings = await verify_evidence_chain(entries, key, None)
    assert [(f.code, f.index) for f in findings] == [(VerifyCode.CHAIN_GAP, 2)]


async def test_a_reused_photo_is_flagged(core, photo):
    first = await finished_visit(core, photo)
    visit = await core.check_in(CheckInRequest(user_id="rep-li", store_id="st-002", fix=None))
    out = await capture(core, visit.id, "shelf_photo", photo)
    assert [f.code for f in out.flags] == [FlagCode.POSSIBLE_REUSE]
    assert first.id in out.flags[0].detail


WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


async def test_cjk_font_for_the_watermark(core, photo, tmp_path):
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_text("not a font")
    await expect_error(core, FieldproofError.InvalidInput, "bad_font", core.set_cjk_font_file, str(not_a_font), 0)
    await expect_error(core, FieldproofError.Storage, "io", core.set_cjk_font_file, str(tmp_path / "missing.ttc"), 0)
    if not WQY.exists():
        pytest.skip("fonts-wqy-microhei not installed")
    await core.set_cjk_font_file(str(WQY), 0)
    visit = await check_in_li(core)
    out = await capture(core, visit.id, "shelf_photo", photo)
    assert (await core.verify_photo(out.photo.id)).verified


# --- the API's shape: signed numbers, coroutines off the caller's thread ---------------------------

BIG_PHOTO = TESTDATA / "photo-4000x3000.jpg"


async def test_numbers_are_signed_and_negative_limits_are_refused(core):
    assert await core.open_exceptions(20) == []
    assert await core.store_history("st-001", 5) == []
    assert await core.pending_ops(0) == []
    assert await core.team_visits(None, 0) == []
    for call, args in [
        (core.open_exceptions, (-1,)),
        (core.store_history, ("st-001", -5)),
        (core.pending_ops, (-1,)),
        (core.team_visits, (None, -1)),
        (core.set_cjk_font_file, ("/no/such/font.ttc", -1)),
    ]:
        await expect_error(core, FieldproofError.InvalidInput, "negative_number", call, *args)
    with pytest.raises(FieldproofError.InvalidInput) as e:
        core.set_photo_max_long_edge(-1)
    assert e.value.code == "negative_number"
    negative = FIXTURE.read_text(encoding="utf-8").replace('"version": 1', '"version": -1')
    await expect_error(core, FieldproofError.InvalidInput, "bad_reference_data", core.load_reference_json, negative)


async def test_capture_runs_off_the_event_loop(core):
    """While a 12 MP capture is awaited, a ticker task on the same event loop keeps running: the
    capture's work is on the library's blocking pool, not on the loop's thread."""
    big = BIG_PHOTO.read_bytes()
    visit = await check_in_li(core)
    capture_task = asyncio.ensure_future(capture(core, visit.id, "shelf_photo", big))
    # Let the capture start first: were it done on the loop's thread, it would finish in this
    # step and the ticker below would never count.
    await asyncio.sleep(0)
    ticks = 0
    while not capture_task.done():
        ticks += 1
        await asyncio.sleep(0.001)
    out = await capture_task
    print(f"ticks while the capture ran: {ticks}")
    assert ticks > 0
    assert (out.photo.width, out.photo.height) == (2000, 1500)  # within 2048 px, DCT 1/2 scale
    assert out.photo.original_sha256 == hashlib.sha256(big).hexdigest()
    assert hashlib.sha256(Path(out.photo.path).read_bytes()).hexdigest() == out.photo.sha256
    assert (await core.verify_photo(out.photo.id)).verified
