-- fieldproof-server v11: photo review with retakes.
--
-- Every decision on a photo (approve, reject with a reason, ask for a retake with a reason) is
-- one row of `photo_reviews`, made on the web (a web account) or on a supervisor's phone (a field
-- user, with the signed op it came in). The latest row is the photo's review.
--
-- A retake decision opens one `retake_requests` row for the photo's rep and store: it goes down
-- the change feed to the rep's phone (kind `retake`), where it is a required photo of the
-- store's next visit. A `visit.photo` op naming the request links the new photo and closes it
-- (`done`) once its bytes are here; a later approve / reject of the photo withdraws it
-- (`cancelled`). Overdue is not stored: an open request whose store-local due day has passed.

CREATE TABLE photo_reviews (
    id            INTEGER PRIMARY KEY,
    photo_id      TEXT    NOT NULL,
    verdict       TEXT    NOT NULL CHECK (verdict IN ('approve', 'reject', 'retake')),
    reason        TEXT,
    web_user_id   TEXT,
    field_user_id TEXT,
    reviewed_ms   INTEGER NOT NULL,
    op_id         TEXT    UNIQUE,
    CHECK ((web_user_id IS NULL) <> (field_user_id IS NULL)),
    CHECK (verdict = 'approve' OR reason IS NOT NULL)
);
CREATE INDEX photo_reviews_photo ON photo_reviews (photo_id, reviewed_ms);

CREATE TABLE retake_requests (
    id                 TEXT    PRIMARY KEY,
    -- the photo to replace, and what the rep needs to take it again
    photo_id           TEXT    NOT NULL,
    visit_id           TEXT    NOT NULL,
    store_id           TEXT    NOT NULL,
    rep_id             TEXT    NOT NULL,
    photo_kind         TEXT    NOT NULL,
    item_id            TEXT,
    reason             TEXT    NOT NULL,
    review_id          INTEGER NOT NULL REFERENCES photo_reviews (id),
    requested_ms       INTEGER NOT NULL,
    -- store-local day number (crate::calendar): the rep's next planned visit of the store, or
    -- three days after the request
    due_day            INTEGER NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('open', 'done', 'cancelled')),
    fulfilled_photo_id TEXT,
    closed_ms          INTEGER
);
CREATE UNIQUE INDEX retake_requests_open_photo ON retake_requests (photo_id) WHERE state = 'open';
CREATE INDEX retake_requests_rep ON retake_requests (rep_id, state);
CREATE INDEX retake_requests_visit ON retake_requests (visit_id);
CREATE INDEX retake_requests_fulfilled ON retake_requests (fulfilled_photo_id)
    WHERE fulfilled_photo_id IS NOT NULL;
