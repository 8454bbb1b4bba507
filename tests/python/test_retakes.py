"""Photo review with retakes through the generated Python bindings against the real server.

Head office asks for a retake on the visit's page (a real sign-in and form post with the CSRF
token) → the rep's core pulls it (day plan, request list) → the store's next visit is locked
until the photo is taken for the request → synced → the page shows the request done with the
old and the new photo side by side. Then the supervisor's phone reviews a photo (a signed op)
and is refused what it may not do.

Run by tests/python/run.sh (FIELDPROOF_SERVER_BIN, FIELDPROOF_PY_BINDINGS).
"""

import datetime
import html
import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest

from coroutines import run

from test_sync_server import FIXTURE, FIXTURE_DATE, PHOTO, SERVER_BIN, ST001, TESTDATA, Server, fix_near

from fieldproof_ffi import (  # noqa: E402
    AnswerValue,
    CaptureRequest,
    CheckInRequest,
    FieldproofCore,
    FieldproofError,
    MissingKind,
    PhotoKind,
    PhotoReviewVerdict,
    RetakeState,
    VisitReport,
)

RETAKE_PHOTO = TESTDATA / "photo-4000x3000.jpg"
REASON = "货架没拍全，请重拍整组货架"


class Browser:
    """A signed-in browser: cookies kept, redirects not followed (the tests read them)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, url, user, password):
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), Browser._NoRedirect
        )
        login = self.get("/app/login")
        token = re.search(r'name="csrf" value="([^"]+)"', login[1]).group(1)
        status, _, _ = self._send("/app/login", {"csrf": token, "next": "/app", "user": user, "password": password})
        assert status == 303, status
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', self.get("/app")[1]).group(1)

    def _send(self, path, fields=None):
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        req = urllib.request.Request(self.url + path, data=data, headers={"Accept-Language": "zh-CN"})
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.read().decode(), {k.lower(): v for k, v in r.headers.items()}
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), {k.lower(): v for k, v in e.headers.items()}

    def get(self, path):
        status, body, _ = self._send(path)
        return status, body

    def post(self, path, **fields):
        return self._send(path, {"csrf": self.csrf, **fields})


async def store_check(core, store_id, plan_id, photo, retake=None):
    """A whole store check at st-001; returns (visit, captured). Completion is left to the caller."""
    visit = await core.check_in(
        CheckInRequest(
            user_id="rep-li",
            store_id=store_id,
            plan_id=plan_id,
            template_id=None if plan_id else "tpl-store-check",
            fix=fix_near(*ST001),
        )
    )
    await core.answer(visit.id, "shelf_ok", AnswerValue.YES_NO(value=True), None)
    await core.answer(visit.id, "facings", AnswerValue.NUMBER(value=6.0), None)
    await core.answer(visit.id, "own_price", AnswerValue.PRICE(cents=400), None)
    await core.answer(visit.id, "backroom", AnswerValue.CHOICE(choice_id="high"), None)
    captured = await core.capture_photo_file(
        CaptureRequest(
            visit_id=visit.id,
            item_id="shelf_photo",
            kind=PhotoKind.SHELF_OVERVIEW,
            fix=fix_near(*ST001),
            utc_offset_minutes=480,
            retake_request_id=retake,
        ),
        str(photo),
    )
    await core.save_report(visit.id, VisitReport(notes="陈列良好。", objections=[], next_steps=[], follow_up_date=None))
    return visit, captured


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    assert SERVER_BIN.is_file(), f"{SERVER_BIN} missing"
    dir = tmp_path_factory.mktemp("retakes")
    s = Server(dir / "data", dir / "server.log")
    try:
        today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()
        text = FIXTURE.read_text(encoding="utf-8").replace(f'"date": "{FIXTURE_DATE}"', f'"date": "{today}"')
        (dir / "reference.json").write_text(text, encoding="utf-8")
        s.admin("load-reference", str(dir / "reference.json"))
        s.admin("create-user", "--id", "hq", "--name", "总部运营", "--role", "head_office", "--password", "a-long-password")
        rep = run(FieldproofCore.open(str(dir / "rep-li.db")))
        run(rep.enrol(s.url, s.enrol_code("rep-li")))
        run(rep.sync())
        sup = run(FieldproofCore.open(str(dir / "sup-wang.db")))
        run(sup.enrol(s.url, s.enrol_code("sup-wang")))
        yield {"server": s, "rep": rep, "sup": sup, "today": today}
    except BaseException:
        print(f"server log:\n{s.log()}")
        raise
    finally:
        s.close()


async def test_retake_from_the_web_to_the_phone_and_back(world):
    s, rep, today = world["server"], world["rep"], world["today"]
    plan = await rep.day_plan("rep-li", today)
    visit, first = await store_check(rep, "st-001", plan[0].plan_id, PHOTO)
    await rep.complete_visit(visit.id)
    await rep.check_out(visit.id, fix_near(*ST001))
    assert (await rep.sync()).rejected == []

    web = Browser(s.url, "hq", "a-long-password")
    back = f"/app/visits/{visit.id}"
    status, page = web.get(back)
    assert status == 200 and 'action="/app/photo-reviews"' in page
    status, body, _ = web.post("/app/photo-reviews", photo_id=first.photo.id, verdict="retake", reason=" ", back=back)
    assert status == 400 and "须填写原因" in body
    status, _, headers = web.post("/app/photo-reviews", photo_id=first.photo.id, verdict="retake", reason=REASON, back=back)
    assert (status, headers.get("location")) == (303, back)

    # The rep's phone pulls it.
    await rep.sync()
    owed = await rep.retake_requests("rep-li", today)
    assert [(r.state, r.photo_id, r.store_id, r.reason, r.requested_by) for r in owed] == [
        (RetakeState.OPEN, first.photo.id, "st-001", REASON, "总部运营")
    ]
    stop = [e for e in await rep.day_plan("rep-li", today) if e.store.id == "st-001"][0]
    assert [r.id for r in stop.retakes] == [owed[0].id]

    # The store's next visit is locked until the photo is taken for the request.
    second, _ = await store_check(rep, "st-001", None, PHOTO)
    with pytest.raises(FieldproofError.Refused) as locked:
        await rep.complete_visit(second.id)
    assert locked.value.code == "completion_locked"
    assert [(m.kind, m.retake_request_id, m.label) for m in locked.value.missing] == [
        (MissingKind.RETAKE_PHOTO, owed[0].id, REASON)
    ]
    retaken = await rep.capture_photo_file(
        CaptureRequest(
            visit_id=second.id,
            item_id="shelf_photo",
            kind=PhotoKind.SHELF_OVERVIEW,
            fix=fix_near(*ST001),
            utc_offset_minutes=480,
            retake_request_id=owed[0].id,
        ),
        str(RETAKE_PHOTO),
    )
    await rep.complete_visit(second.id)
    await rep.check_out(second.id, fix_near(*ST001))
    assert (await rep.sync()).rejected == []
    await rep.sync()
    done = (await rep.retake_requests("rep-li", today))[0]
    assert (done.state, done.new_photo_id) == (RetakeState.DONE, retaken.photo.id)

    # Done on the web, both photos side by side.
    status, page = web.get(back)
    block = page[page.index(f'data-retake="{owed[0].id}"') :]
    assert 'data-state="done"' in block[:400], block[:400]
    pair = block[block.index("msg-photos pair") :]
    pair = pair[: pair.index("</div>")]
    assert f"/app/thumbs/{first.photo.sha256}" in pair and f"/app/thumbs/{retaken.photo.sha256}" in pair, html.unescape(pair)


async def test_supervisor_reviews_a_photo_from_the_phone(world):
    s, sup = world["server"], world["sup"]
    await sup.sync()
    photos = [p for v in await sup.team_visits("rep-li", 10) for p in v.photos]
    assert photos, "the supervisor's phone knows the team's photos"
    review = await sup.review_photo("sup-wang", photos[0].photo_id, PhotoReviewVerdict.APPROVE, None)
    assert review.verdict == PhotoReviewVerdict.APPROVE
    with pytest.raises(FieldproofError.NotFound) as unknown:
        await sup.review_photo("sup-wang", "no-such-photo", PhotoReviewVerdict.APPROVE, None)
    assert unknown.value.code == "unknown_photo"
    with pytest.raises(FieldproofError.InvalidInput) as no_reason:
        await sup.review_photo("sup-wang", photos[0].photo_id, PhotoReviewVerdict.REJECT, None)
    assert no_reason.value.code == "reason_required"
    r = await sup.sync()
    assert (r.pushed, r.rejected) == (1, [])
    await sup.sync()
    reviewed = [p for v in await sup.team_visits("rep-li", 10) for p in v.photos if p.photo_id == photos[0].photo_id]
    assert reviewed[0].review == "approve"
