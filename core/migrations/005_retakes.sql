-- v5: photo review with retakes. Retake requests pulled from the server (the rep's own, and a
-- supervisor's team's); the photo taken for one points at it; a supervisor's own photo reviews.

-- As the server last sent them (wire::RetakeChange as JSON in `body`), with the columns the
-- lock and the lists query. `state` is the server's: open, done or cancelled.
CREATE TABLE retake_requests (
    id              TEXT    PRIMARY KEY,
    rep_id          TEXT    NOT NULL,
    store_id        TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    due_date        TEXT    NOT NULL,
    requested_at_ms INTEGER NOT NULL,
    body            TEXT    NOT NULL,
    feed_seq        INTEGER NOT NULL
);
CREATE INDEX retake_requests_by_rep_store ON retake_requests (rep_id, store_id);

-- The retake request a photo was taken for (its manifest carries the same id).
ALTER TABLE photos ADD COLUMN retake_request_id TEXT;
CREATE INDEX photos_by_retake ON photos (retake_request_id) WHERE retake_request_id IS NOT NULL;

-- A supervisor's decisions on team photos made on this phone (each also a signed op).
CREATE TABLE photo_reviews (
    id             TEXT    PRIMARY KEY,
    photo_id       TEXT    NOT NULL,
    visit_id       TEXT    NOT NULL,
    reviewer_id    TEXT    NOT NULL,
    verdict        TEXT    NOT NULL CHECK (verdict IN ('approve', 'reject', 'retake')),
    reason         TEXT,
    reviewed_at_ms INTEGER NOT NULL,
    op_id          TEXT    NOT NULL
);
CREATE INDEX photo_reviews_by_photo ON photo_reviews (photo_id, reviewed_at_ms);
