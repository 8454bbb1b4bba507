"""Sync progress and cancellation through the generated Python bindings, against the real
`fieldproof-server` binary: a listener hears the steps in order up to DONE, whose counts are the
report's; a sync cancelled with SyncCancel after its first photo bytes fails with
`sync_cancelled` and leaves the ops pending; the next sync (through a listener that raises)
sends the rest, and the server's own counts show every op and photo once.

Run by tests/python/run.sh (the server's path in FIELDPROOF_SERVER_BIN). The server process and
the photo/fix helpers are the ones of test_sync_server.py.
"""

import datetime

import pytest

from test_sync_server import FIXTURE, FIXTURE_DATE, NOTES, PHOTO, SERVER_BIN, ST001, TESTDATA, Server, fix_near
from fieldproof_ffi import (
    AnswerValue,
    CaptureRequest,
    CheckInRequest,
    FieldproofCore,
    FieldproofError,
    PhotoKind,
    SyncCancel,
    SyncListener,
    SyncPhase,
    VisitReport,
)

BIG_PHOTO = TESTDATA / "photo-4000x3000.jpg"
RANK = {SyncPhase.PUSHING: 0, SyncPhase.UPLOADING_PHOTOS: 0, SyncPhase.PULLING: 1, SyncPhase.DONE: 2}


class Recorder(SyncListener):
    """Keeps every event; cancels `cancel` at the first photo bytes, if given."""

    def __init__(self, cancel=None):
        self.events = []
        self.cancel = cancel

    def on_progress(self, progress):
        self.events.append(progress)
        if self.cancel is not None and progress.photo_bytes_sent > 0:
            self.cancel.cancel()


class Raising(SyncListener):
    """A listener with a bug: raises on every event."""

    def __init__(self):
        self.phases = []

    def on_progress(self, progress):
        self.phases.append(progress.phase)
        raise RuntimeError("a listener's bug")


def assert_in_order(events, report):
    """One finished sync's events: phases in order, counts never going back, DONE last = report."""
    assert events[0].phase == SyncPhase.PUSHING
    assert (events[0].ops_sent, events[0].photo_bytes_sent) == (0, 0)
    for a, b in zip(events, events[1:]):
        assert RANK[a.phase] <= RANK[b.phase], (a, b)
        assert b.ops_sent >= a.ops_sent and b.photos_sent >= a.photos_sent
        assert b.photo_bytes_sent >= a.photo_bytes_sent and b.changes_pulled >= a.changes_pulled
    assert all(e.ops_sent <= e.ops_total and e.photo_bytes_sent <= e.photo_bytes_total for e in events)
    done = events[-1]
    assert done.phase == SyncPhase.DONE
    assert [e.phase for e in events].count(SyncPhase.DONE) == 1
    assert done.ops_sent == done.ops_total == report.pushed + report.duplicates + len(report.rejected)
    assert done.photos_sent == done.photos_total == report.photos_sent
    assert done.photo_bytes_sent == done.photo_bytes_total == report.photo_bytes_sent
    assert done.changes_pulled == report.pulled


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    assert SERVER_BIN.is_file(), f"{SERVER_BIN} missing: cargo build -p fieldproof-server"
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()
    dir = tmp_path_factory.mktemp("progress-server")
    s = Server(dir / "data", dir / "server.log")
    try:
        reference = dir / "reference.json"
        text = FIXTURE.read_text(encoding="utf-8").replace(f'"date": "{FIXTURE_DATE}"', f'"date": "{today}"')
        reference.write_text(text, encoding="utf-8")
        s.admin("load-reference", str(reference))
        yield s
    except BaseException:
        print(f"server log:\n{s.log()}")
        raise
    finally:
        s.close()


async def visit_with_photos(core, photos):
    """A store check at st-001 with these photo files, left pending in the outbox."""
    visit = await core.check_in(
        CheckInRequest(user_id="rep-li", store_id="st-001", template_id="tpl-store-check", fix=fix_near(*ST001))
    )
    await core.answer(visit.id, "shelf_ok", AnswerValue.YES_NO(value=True), None)
    await core.answer(visit.id, "facings", AnswerValue.NUMBER(value=6.0), None)
    await core.answer(visit.id, "own_price", AnswerValue.PRICE(cents=400), None)
    await core.answer(visit.id, "comp_price", AnswerValue.PRICE(cents=390), None)
    await core.answer(visit.id, "backroom", AnswerValue.CHOICE(choice_id="high"), None)
    await core.answer(visit.id, "remarks", AnswerValue.TEXT(value="货架整齐"), None)
    for path in photos:
        request = CaptureRequest(
            visit_id=visit.id,
            item_id="shelf_photo",
            kind=PhotoKind.SHELF_OVERVIEW,
            fix=fix_near(*ST001),
            utc_offset_minutes=480,
        )
        await core.capture_photo_file(request, str(path))
    await core.save_report(visit.id, VisitReport(notes=NOTES, objections=[], next_steps=[], follow_up_date=None))
    await core.complete_visit(visit.id)
    await core.check_out(visit.id, fix_near(*ST001))


def test_sync_cancel_is_a_flag_that_stays_set():
    cancel = SyncCancel()
    assert not cancel.is_cancelled()
    cancel.cancel()
    cancel.cancel()
    assert cancel.is_cancelled()


async def test_progress_cancel_and_resume_lose_nothing(server, tmp_path):
    core = await FieldproofCore.open(str(tmp_path / "rep-li.db"))
    await core.enrol(server.url, server.enrol_code("rep-li"))

    # The first sync only pulls; the listener hears it in order.
    first = Recorder()
    report = await core.sync(first)
    assert report.pulled > 0
    assert_in_order(first.events, report)

    # Three photos to send; cancelled after the first photo bytes the server confirmed.
    photos = [PHOTO, BIG_PHOTO, PHOTO]
    await visit_with_photos(core, photos)
    pending = (await core.outbox_summary()).pending
    cancel = SyncCancel()
    cancelling = Recorder(cancel)
    with pytest.raises(FieldproofError.Sync) as e:
        await core.sync(cancelling, cancel)
    assert e.value.code == "sync_cancelled", e.value
    start, stop = cancelling.events[0], cancelling.events[-1]
    assert (start.ops_total, start.photos_total) == (pending, len(photos)), "totals known up front"
    assert stop.phase == SyncPhase.UPLOADING_PHOTOS and stop.photo_bytes_sent > 0
    assert stop.photos_sent < len(photos)
    assert (await core.outbox_summary()).pending == pending, "nothing pushed: the photos go first"
    stats = server.stats()
    assert (stats["ops"], stats["photo_blobs"]) == (0, stop.photos_sent), "the photo files finished"
    assert (await core.audit()).problems == []

    # The next sync, through a listener that raises on every event, sends the rest once.
    raising = Raising()
    resumed = await core.sync(listener=raising)
    assert raising.phases[-1] == SyncPhase.DONE, "still called, to the end"
    assert (resumed.pushed, resumed.duplicates, resumed.rejected) == (pending, 0, [])
    assert resumed.photos_sent == len(photos) - stop.photos_sent
    assert (resumed.pending, resumed.photos_not_uploaded) == (0, 0)
    summary = await core.outbox_summary()
    stats = server.stats()
    assert stats["ops"] == summary.last_seq, "every op of the outbox, once"
    assert (stats["photos"], stats["photos_received"], stats["photos_verified"], stats["photo_blobs"]) == (3, 3, 3, 3)
    assert stats["rejected_ops"] == 0
    assert (summary.pending, summary.acknowledged) == (0, summary.last_seq)
