"""End to end through the generated Python bindings against the real `fieldproof-server` binary.

One server per module, on 127.0.0.1:0 with a temporary data folder, administered with its own
`admin` commands (as tests/src/server.rs does for the Rust tests). A rep's and a supervisor's core
on file databases with the real clock: enrol, first sync (the rep's territory only), a whole
visit with the real camera photo, sync, the supervisor's view of it, the server's own counts,
and head office revoking the rep's phone.

The flow is built up by module-scoped fixtures, each doing one step and recording what it saw;
the tests assert on those records. Only the revocation test changes shared state, and it asks
for every fixture it could disturb first, so the tests pass in any order.

Run by tests/python/run.sh, which builds fieldproof-server and passes its path in
FIELDPROOF_SERVER_BIN.
"""

import datetime
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from coroutines import run

REPO = Path(__file__).resolve().parents[2]
BINDINGS = Path(os.environ.get("FIELDPROOF_PY_BINDINGS", REPO / "target" / "bindings" / "python"))
TESTDATA = REPO / "tests" / "data"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
SERVER_BIN = Path(os.environ.get("FIELDPROOF_SERVER_BIN", TARGET / "debug" / "fieldproof-server"))
FIXTURE = REPO / "tests" / "fixtures" / "reference.json"
PHOTO = TESTDATA / "photo-1920x1080.jpg"

sys.path.insert(0, str(BINDINGS))

from fieldproof_ffi import (  # noqa: E402
    AnswerValue,
    CaptureRequest,
    CheckInRequest,
    FieldproofCore,
    FieldproofError,
    GeofenceVerdict,
    LocationFix,
    LocationProvider,
    PhotoKind,
    PlanStatus,
    Role,
    VisitReport,
    VisitStatus,
)

# Store coordinates from tests/fixtures/reference.json.
ST001 = (31.2304, 121.5200)
ST002 = (31.2360, 121.5050)
FIXTURE_DATE = "2026-11-23"
NOTES = "陈列良好，库存充足。"


def fix_near(lat, lon):
    """~15 m north of the point, 8 m accuracy: inside every fixture store's geofence."""
    return LocationFix(
        latitude=lat + 0.000135,
        longitude=lon,
        accuracy_m=8.0,
        provider=LocationProvider.GPS,
        is_mock=False,
        fix_time_ms=int(time.time() * 1000),
    )


async def sync_error(coro):
    """Run `coro`, which must fail with FieldproofError.Sync; the error."""
    with pytest.raises(FieldproofError.Sync) as e:
        await coro
    return e.value


# --- the server ---------------------------------------------------------------------------------


class Server:
    """`fieldproof-server serve --addr 127.0.0.1:0` on its own data folder, and its admin commands."""

    def __init__(self, data_dir, log_path):
        self.data_dir = data_dir
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [str(SERVER_BIN), "serve", "--addr", "127.0.0.1:0", "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        first = []
        got = threading.Event()

        def read():
            # Keep draining stdout so the pipe never fills; the first line is the address.
            for line in self.proc.stdout:
                if not first:
                    first.append(line.strip())
                    got.set()
            got.set()

        threading.Thread(target=read, daemon=True).start()
        if not got.wait(30) or not first or not first[0].startswith("listening on http://"):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"server did not print its address within 30 s: {first}; log: {self.log()}")
        self.url = first[0].removeprefix("listening on ")

    def log(self):
        return Path(self.log_path).read_text(errors="replace")

    def admin(self, *args):
        """`fieldproof-server admin ARGS` on this data folder (through FIELDPROOF_DATA_DIR); stdout."""
        env = dict(os.environ, FIELDPROOF_DATA_DIR=str(self.data_dir))
        out = subprocess.run(
            [str(SERVER_BIN), "admin", *args], env=env, capture_output=True, text=True, timeout=60
        )
        if out.returncode != 0:
            raise RuntimeError(f"admin {args} failed ({out.returncode}): {out.stdout}{out.stderr}")
        return out.stdout

    def enrol_code(self, user):
        return self.admin("enrol-code", "--user", user).strip().splitlines()[-1].strip()

    def stats(self):
        return json.loads(self.admin("stats"))

    def terminate(self):
        """SIGTERM and wait; the exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.fixture(scope="module")
def today():
    """The reps' date (Shanghai, UTC+8), the day the plans are moved to."""
    return datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()


@pytest.fixture(scope="module")
def server(tmp_path_factory, today):
    assert SERVER_BIN.is_file(), f"{SERVER_BIN} missing: cargo build -p fieldproof-server"
    dir = tmp_path_factory.mktemp("server")
    s = Server(dir / "data", dir / "server.log")
    print(f"fieldproof-server at {s.url}, log in {s.log_path}")
    try:
        text = FIXTURE.read_text(encoding="utf-8")
        assert text.count(f'"date": "{FIXTURE_DATE}"') == 4, "the fixture's 4 plan dates moved"
        reference = dir / "reference.json"
        reference.write_text(text.replace(f'"date": "{FIXTURE_DATE}"', f'"date": "{today}"'), encoding="utf-8")
        s.loaded = json.loads(s.admin("load-reference", str(reference)))
        yield s
        code = s.terminate()
        assert code == 0, f"server exit code on SIGTERM: {code}; log:\n{s.log()}"
    except BaseException:
        print(f"server log:\n{s.log()}")
        raise
    finally:
        s.close()


# --- the flow, one step per fixture ----------------------------------------------------------------


@pytest.fixture(scope="module")
def rep(server, tmp_path_factory):
    """rep-li's phone: enrolled, first sync done."""
    dir = tmp_path_factory.mktemp("rep")
    core = run(FieldproofCore.open(str(dir / "rep-li.db")))
    code = server.enrol_code("rep-li")
    user = run(core.enrol(server.url, code))
    state_after_enrol = run(core.sync_state())
    first = run(core.sync())
    return {
        "core": core,
        "code": code,
        "user": user,
        "state_after_enrol": state_after_enrol,
        "first": first,
        "state_after_first": run(core.sync_state()),
    }


@pytest.fixture(scope="module")
def rep_visit(rep, today):
    """A whole planned visit at st-001 with the real photo, then two syncs."""
    core = rep["core"]
    plan = run(core.day_plan("rep-li", today))
    visit = run(core.check_in(
        CheckInRequest(user_id="rep-li", store_id="st-001", plan_id=plan[0].plan_id, fix=fix_near(*ST001))
    ))
    run(core.answer(visit.id, "shelf_ok", AnswerValue.YES_NO(value=True), None))
    run(core.answer(visit.id, "facings", AnswerValue.NUMBER(value=6.0), None))
    run(core.answer(visit.id, "own_price", AnswerValue.PRICE(cents=400), None))
    run(core.answer(visit.id, "comp_price", AnswerValue.PRICE(cents=390), None))
    run(core.answer(visit.id, "backroom", AnswerValue.CHOICE(choice_id="high"), None))
    run(core.answer(visit.id, "remarks", AnswerValue.TEXT(value="货架整齐"), None))
    captured = run(core.capture_photo_file(
        CaptureRequest(
            visit_id=visit.id,
            item_id="shelf_photo",
            kind=PhotoKind.SHELF_OVERVIEW,
            fix=fix_near(*ST001),
            utc_offset_minutes=480,
        ),
        str(PHOTO),
    ))
    run(core.save_report(visit.id, VisitReport(notes=NOTES, objections=[], next_steps=["下周复查价格"], follow_up_date=None)))
    completed = run(core.complete_visit(visit.id))
    checked_out = run(core.check_out(visit.id, fix_near(*ST001)))
    before = run(core.outbox_summary())
    state_before = run(core.sync_state())
    report = run(core.sync())
    after = run(core.outbox_summary())
    state_after = run(core.sync_state())
    rejected_ops = run(core.rejected_ops())
    again = run(core.sync())
    return {
        "plan": plan,
        "visit": visit,
        "captured": captured,
        "completed": completed,
        "checked_out": checked_out,
        "plan_after": run(core.day_plan("rep-li", today)),
        "before": before,
        "state_before": state_before,
        "report": report,
        "after": after,
        "state_after": state_after,
        "rejected_ops": rejected_ops,
        "again": again,
        "team_visits_on_rep": run(core.team_visits(None, 100)),
    }


@pytest.fixture(scope="module")
def sup(server, rep_visit, tmp_path_factory):
    """sup-wang's phone: enrolled after the rep synced, first sync, then an inspection synced."""
    dir = tmp_path_factory.mktemp("sup")
    core = run(FieldproofCore.open(str(dir / "sup-wang.db")))
    user = run(core.enrol(server.url, server.enrol_code("sup-wang")))
    first = run(core.sync())
    team = run(core.team_visits("rep-li", 100))
    team_zhao = run(core.team_visits("rep-zhao", 100))
    stores = sorted(s.id for s in run(core.stores(None)))
    insp = run(core.check_in(
        CheckInRequest(user_id="sup-wang", store_id="st-001", template_id="tpl-inspection", fix=fix_near(*ST001))
    ))
    run(core.answer(insp.id, "display_score", AnswerValue.CHOICE(choice_id="good"), None))
    run(core.answer(insp.id, "pop_material", AnswerValue.YES_NO(value=True), None))
    run(core.complete_visit(insp.id))
    run(core.check_out(insp.id, fix_near(*ST001)))
    pending = run(core.outbox_summary()).pending
    report = run(core.sync())
    return {
        "core": core,
        "user": user,
        "first": first,
        "team": team,
        "team_zhao": team_zhao,
        "stores": stores,
        "pending": pending,
        "report": report,
    }


@pytest.fixture(scope="module")
def flow_stats(server, rep, rep_visit, sup):
    """`admin stats` once both phones have synced everything, and what the phones say they pushed."""
    pushed = (
        rep["first"].pushed
        + rep_visit["report"].pushed
        + rep_visit["again"].pushed
        + sup["first"].pushed
        + sup["report"].pushed
    )
    last_seqs = run(rep["core"].outbox_summary()).last_seq + run(sup["core"].outbox_summary()).last_seq
    return {"stats": server.stats(), "pushed": pushed, "last_seqs": last_seqs}


# --- tests --------------------------------------------------------------------------------------


def test_server_listens_on_loopback_and_loads_the_reference(server):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url), server.url
    loaded = server.loaded
    assert (loaded["users"], loaded["stores"], loaded["templates"], loaded["plans"]) == (5, 4, 2, 4)


async def test_unknown_enrol_code_is_refused(server, tmp_path):
    core = await FieldproofCore.open(str(tmp_path / "stranger.db"))
    e = await sync_error(core.enrol(server.url, "0000-0000-0000"))
    assert e.code == "invalid_enrol_code", e
    assert not (await core.sync_state()).enrolled
    assert (await sync_error(core.sync())).code == "not_enrolled"


async def test_used_code_is_refused_to_another_device(server, rep, tmp_path):
    thief = await FieldproofCore.open(str(tmp_path / "thief.db"))
    assert (await sync_error(thief.enrol(server.url, rep["code"]))).code == "enrol_code_used"
    assert not (await thief.sync_state()).enrolled


def test_enrolment_binds_the_device_to_rep_li(server, rep):
    u = rep["user"]
    assert (u.id, u.role, u.territory, u.supervisor_id) == ("rep-li", Role.REP, "shanghai-east", "sup-wang")
    s = rep["state_after_enrol"]
    assert (s.enrolled, s.server_url, s.user.id, s.pull_cursor) == (True, server.url, "rep-li", 0)
    devices = json.loads(server.admin("devices"))
    assert rep["core"].device_id() in [d["device_id"] for d in devices]


async def test_first_sync_pulls_the_reps_territory_only(rep, today):
    first, core = rep["first"], rep["core"]
    assert first.pulled > 0
    assert (first.pushed, first.duplicates, first.rejected, first.photos_sent) == (0, 0, [], 0)
    assert rep["state_after_first"].pull_cursor > 0
    assert rep["state_after_first"].last_sync_ms is not None
    stores = sorted(s.id for s in await core.stores(None))
    assert stores == ["st-001", "st-002", "st-003"]
    assert "st-101" not in stores
    assert await core.stores("shanghai-west") == []
    # Another territory's rep never reached this phone either.
    with pytest.raises(FieldproofError.NotFound) as e:
        await core.day_plan("rep-zhao", today)
    assert e.value.code == "unknown_user"
    assert [p.store.id for p in await core.day_plan("rep-li", today)] == ["st-001", "st-002", "st-003"]


def test_the_visit_runs_on_the_synced_reference(rep_visit):
    v = rep_visit
    assert v["visit"].geofence == GeofenceVerdict.VERIFIED
    assert v["visit"].flags == []
    assert v["visit"].template_id == "tpl-store-check"
    assert v["captured"].flags == []
    assert v["completed"].status == VisitStatus.COMPLETED
    assert v["checked_out"].status == VisitStatus.CHECKED_OUT
    assert v["plan_after"][0].status == PlanStatus.COMPLETED
    before = v["before"]
    assert before.pending > 0
    assert (before.pending, before.acknowledged, before.rejected) == (before.last_seq, 0, 0)
    assert v["state_before"].photos_not_uploaded == 1


def test_visit_sync_report(rep_visit):
    r, before, photo = rep_visit["report"], rep_visit["before"], rep_visit["captured"].photo
    assert r.pushed == before.pending
    assert r.duplicates == 0
    assert r.rejected == []
    assert r.exceptions == [], "a clean visit raises no server exceptions"
    assert r.photos_sent == 1
    assert r.photo_bytes_sent == photo.byte_len
    assert r.bytes_up > r.photo_bytes_sent
    assert (r.pending, r.photos_not_uploaded) == (0, 0)
    after = rep_visit["after"]
    assert (after.pending, after.rejected, after.acknowledged) == (0, 0, before.last_seq)
    assert rep_visit["rejected_ops"] == []
    s = rep_visit["state_after"]
    assert (s.pending_ops, s.rejected_ops, s.photos_not_uploaded, s.photos_failed) == (0, 0, 0, 0)
    assert s.last_server_time_ms is not None and s.server_offset_ms is not None


def test_second_sync_sends_nothing(rep_visit):
    again = rep_visit["again"]
    assert (again.pushed, again.duplicates, again.photos_sent, again.rejected) == (0, 0, 0, [])
    assert again.pulled == 0, "a rep is sent nothing new (no team visits)"
    assert rep_visit["team_visits_on_rep"] == []


def test_supervisor_sees_the_visit_with_its_photo_verified(sup, rep_visit):
    assert (sup["user"].id, sup["user"].role) == ("sup-wang", Role.SUPERVISOR)
    assert sup["first"].pulled > 0
    assert sup["stores"] == ["st-001", "st-002", "st-003", "st-101"]
    assert [t.visit_id for t in sup["team"]] == [rep_visit["visit"].id]
    tv = sup["team"][0]
    assert (tv.rep_id, tv.store_id, tv.kind, tv.status) == ("rep-li", "st-001", "store_check", "checked_out")
    assert (tv.geofence, tv.exceptions, tv.answers) == ("verified", [], 6)
    assert tv.report_summary == f"{NOTES} (0 objection(s), 1 next step(s))"
    photo = rep_visit["captured"].photo
    assert [(p.photo_id, p.sha256, p.evidence_code, p.verified) for p in tv.photos] == [
        (photo.id, photo.sha256, photo.evidence_code, True)
    ]
    assert sup["team_zhao"] == []


def test_supervisor_inspection_syncs(sup):
    r = sup["report"]
    assert sup["pending"] > 0
    assert (r.pushed, r.duplicates, r.rejected, r.photos_sent, r.pending) == (sup["pending"], 0, [], 0, 0)


def test_server_stats_count_what_the_devices_pushed(flow_stats):
    stats, pushed = flow_stats["stats"], flow_stats["pushed"]
    assert stats["ops"] == pushed
    assert stats["ops"] == flow_stats["last_seqs"], "every op of both outboxes, once"
    assert (stats["photos"], stats["photos_received"], stats["photos_verified"]) == (1, 1, 1)
    assert (stats["rejected_ops"], stats["exceptions"], stats["exceptions_by_code"]) == (0, 0, {})
    assert stats["devices"] == 2


async def test_revoked_device_is_refused_and_keeps_its_ops(server, rep, rep_visit, sup, flow_stats):
    core = rep["core"]
    device = core.device_id()
    assert server.admin("revoke", "--device", device).strip() == f"revoked {device}"
    # A visit started after the revocation: refused by the server, kept on the phone.
    late = await core.check_in(
        CheckInRequest(
            user_id="rep-li", store_id="st-002", plan_id=rep_visit["plan"][1].plan_id, fix=fix_near(*ST002)
        )
    )
    pending = (await core.outbox_summary()).pending
    assert pending > 0
    e = await sync_error(core.sync())
    assert e.code == "device_revoked", e
    assert (await core.outbox_summary()).pending == pending, "nothing lost"
    assert (await core.open_visit("rep-li")).id == late.id
    stats = server.stats()
    assert stats["ops"] == flow_stats["stats"]["ops"], "nothing stored from the revoked device"
    assert stats["revoked_devices"] == 1
    # Only that phone: the supervisor's still syncs.
    r = await sup["core"].sync()
    assert (r.pushed, r.rejected) == (0, [])
