-- v2: visit reports, photos, supervisor reviews, and visit cancellation.

ALTER TABLE visits ADD COLUMN cancel_reason TEXT;
ALTER TABLE visits ADD COLUMN cancel_op TEXT;
CREATE UNIQUE INDEX visits_cancel_op ON visits (cancel_op);

-- Append-only: the latest revision per visit is the report.
CREATE TABLE report_revisions (
    id          INTEGER PRIMARY KEY,
    visit_id    TEXT    NOT NULL REFERENCES visits (id),
    body        TEXT    NOT NULL,
    saved_at_ms INTEGER NOT NULL,
    op_id       TEXT    NOT NULL UNIQUE
);
CREATE INDEX report_revisions_by_visit ON report_revisions (visit_id, id);

CREATE TABLE photos (
    id          TEXT PRIMARY KEY,
    visit_id    TEXT    NOT NULL REFERENCES visits (id),
    item_id     TEXT,
    kind        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    byte_len    INTEGER NOT NULL,
    path        TEXT    NOT NULL, -- file name inside the photo folder
    taken_at_ms INTEGER NOT NULL,
    op_id       TEXT    NOT NULL UNIQUE
);
CREATE INDEX photos_by_visit ON photos (visit_id, item_id);

CREATE TABLE reviews (
    id             TEXT PRIMARY KEY,
    visit_id       TEXT    NOT NULL REFERENCES visits (id),
    reviewer_id    TEXT    NOT NULL REFERENCES users (id),
    verdict        TEXT    NOT NULL CHECK (verdict IN ('accept', 'flag')),
    comment        TEXT    NOT NULL,
    reviewed_at_ms INTEGER NOT NULL,
    op_id          TEXT    NOT NULL UNIQUE
);
CREATE INDEX reviews_by_visit ON reviews (visit_id);
