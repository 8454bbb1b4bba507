-- fieldproof-server v1 schema.
--
-- Three groups: head-office reference data and the change feed that carries it (and visit
-- summaries) down to phones; devices and their authentication state; field evidence as
-- received (ops, stored once, never edited) plus the projections and exceptions derived from it.

-- --- reference data ----------------------------------------------------------------------------
-- Each record is kept as the JSON the core loads (`body`), with the columns pulls filter on.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('rep', 'supervisor')),
    territory     TEXT,
    supervisor_id TEXT,
    body          TEXT NOT NULL
);
CREATE INDEX users_supervisor ON users (supervisor_id);

CREATE TABLE stores (
    id        TEXT PRIMARY KEY,
    territory TEXT NOT NULL,
    body      TEXT NOT NULL
);

CREATE TABLE products (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

-- A published (id, version) never changes; the core's validation refuses a different body.
CREATE TABLE templates (
    id      TEXT NOT NULL,
    version INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE plans (
    id       TEXT PRIMARY KEY,
    rep_id   TEXT NOT NULL,
    store_id TEXT NOT NULL,
    body     TEXT NOT NULL
);
CREATE INDEX plans_rep ON plans (rep_id);

-- The change feed: one row per upsert. `seq` only grows (AUTOINCREMENT never reuses a value,
-- and SQLite's single writer commits them in order), so a cursor never skips a row.
-- scope_user: the user a `user` row is, the rep of a `plan` or `team_visit`;
-- scope_territory: the territory of a `store`.
CREATE TABLE changes (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    id              TEXT NOT NULL,
    scope_user      TEXT,
    scope_territory TEXT,
    body            TEXT NOT NULL,
    created_ms      INTEGER NOT NULL
);

-- --- devices and authentication ----------------------------------------------------------------

-- Only the code's SHA-256 is stored: a leaked database does not leak usable codes.
CREATE TABLE enrol_codes (
    code_sha256 TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    used_ms     INTEGER,
    used_by     TEXT
);

-- head_*: the last entry of the device's hash chain the server holds (highest seq), against
-- which the next push is checked.
CREATE TABLE devices (
    device_id      TEXT PRIMARY KEY,
    public_key_hex TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    enrolled_ms    INTEGER NOT NULL,
    revoked_ms     INTEGER,
    last_seen_ms   INTEGER,
    head_seq       INTEGER NOT NULL DEFAULT 0,
    head_hash      TEXT NOT NULL
        DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    head_hlc       INTEGER NOT NULL DEFAULT 0,
    head_wall_ms   INTEGER,
    head_boot_ms   INTEGER
);

-- Request nonces, kept past the 5-minute signing window so a replay is refused, also across a
-- restart. `time_ms` is the later of the request time and the server time; pruned after 15 min.
CREATE TABLE nonces (
    device_id TEXT NOT NULL,
    nonce     TEXT NOT NULL,
    time_ms   INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_time ON nonces (time_ms);

-- --- field evidence ----------------------------------------------------------------------------

-- Every applied op, byte for byte as signed. Never updated.
CREATE TABLE ops (
    op_id       TEXT PRIMARY KEY,
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    user_id     TEXT,
    wall_ms     INTEGER NOT NULL,
    hlc         INTEGER NOT NULL,
    entry       TEXT NOT NULL,
    entry_hash  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    UNIQUE (device_id, seq)
);

-- Ops refused for good, kept for head office (nothing is dropped silently). `entry` is capped.
CREATE TABLE rejected_ops (
    id          INTEGER PRIMARY KEY,
    device_id   TEXT NOT NULL,
    op_id       TEXT,
    seq         INTEGER,
    kind        TEXT,
    entity_id   TEXT,
    reason      TEXT NOT NULL,
    entry       TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE INDEX rejected_ops_entity ON rejected_ops (device_id, entity_id);

CREATE TABLE visits (
    id               TEXT PRIMARY KEY,
    device_id        TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    store_id         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    template_id      TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    plan_id          TEXT,
    status           TEXT NOT NULL,
    started_wall_ms  INTEGER NOT NULL,
    completed_wall_ms INTEGER,
    ended_wall_ms    INTEGER,
    -- the server's verdict, recomputed from the store's coordinates
    geofence         TEXT NOT NULL,
    distance_m       REAL,
    device_geofence  TEXT,
    answers          INTEGER NOT NULL DEFAULT 0,
    report_summary   TEXT,
    score            REAL,
    cancel_reason    TEXT,
    check_in_op      TEXT NOT NULL,
    updated_ms       INTEGER NOT NULL
);
CREATE INDEX visits_user ON visits (user_id);

-- The latest answer per item (by the device's hybrid logical clock) ...
CREATE TABLE answers (
    visit_id      TEXT NOT NULL,
    item_id       TEXT NOT NULL,
    value         TEXT NOT NULL,
    note          TEXT,
    revision      INTEGER NOT NULL,
    answered_ms   INTEGER NOT NULL,
    hlc           INTEGER NOT NULL,
    op_id         TEXT NOT NULL,
    PRIMARY KEY (visit_id, item_id)
);
-- ... and every revision.
CREATE TABLE answer_history (
    op_id       TEXT PRIMARY KEY,
    visit_id    TEXT NOT NULL,
    item_id     TEXT NOT NULL,
    value       TEXT NOT NULL,
    note        TEXT,
    revision    INTEGER NOT NULL,
    answered_ms INTEGER NOT NULL
);
CREATE INDEX answer_history_visit ON answer_history (visit_id, item_id);

CREATE TABLE reports (
    op_id    TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL,
    body     TEXT NOT NULL,
    saved_ms INTEGER NOT NULL
);
CREATE INDEX reports_visit ON reports (visit_id);

CREATE TABLE reviews (
    id          TEXT PRIMARY KEY,
    visit_id    TEXT NOT NULL,
    reviewer_id TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    comment     TEXT NOT NULL,
    reviewed_ms INTEGER NOT NULL,
    op_id       TEXT NOT NULL
);
CREATE INDEX reviews_visit ON reviews (visit_id);

-- Photos expected from `visit.photo` ops. `received` once the bytes are stored, `verified`
-- once verify_photo found nothing wrong with bytes + manifest + signature.
CREATE TABLE photos (
    photo_id      TEXT PRIMARY KEY,
    op_id         TEXT NOT NULL UNIQUE,
    visit_id      TEXT NOT NULL,
    device_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    store_id      TEXT NOT NULL,
    item_id       TEXT,
    photo_kind    TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    byte_len      INTEGER NOT NULL,
    evidence_code TEXT NOT NULL,
    received      INTEGER NOT NULL DEFAULT 0,
    verified      INTEGER NOT NULL DEFAULT 0,
    problems      TEXT
);
CREATE INDEX photos_visit ON photos (visit_id);
CREATE INDEX photos_sha ON photos (sha256);

-- Photo bytes the server holds, content-addressed. The manifest is the one offered with the
-- upload; `manifest_hash` lets a later `visit.photo` op with the same entry reuse the verdict.
CREATE TABLE blobs (
    sha256        TEXT PRIMARY KEY,
    size          INTEGER NOT NULL,
    phash         TEXT,
    visit_id      TEXT,
    photo_id      TEXT,
    device_id     TEXT NOT NULL,
    manifest_hash TEXT NOT NULL,
    verified      INTEGER NOT NULL,
    problems      TEXT,
    stored_ms     INTEGER NOT NULL
);

-- Uploads in progress. The bytes are in uploads/<sha256>.part; its length is the offset.
CREATE TABLE uploads (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    device_id  TEXT NOT NULL,
    entry      TEXT NOT NULL,
    signature  TEXT NOT NULL,
    started_ms INTEGER NOT NULL
);

-- Head office's exception queue. `subject` tells two findings of one code on one visit apart
-- (an item, a photo, an op); an open exception is recorded once.
CREATE TABLE exceptions (
    id                 INTEGER PRIMARY KEY,
    code               TEXT NOT NULL,
    device_id          TEXT,
    user_id            TEXT,
    visit_id           TEXT,
    store_id           TEXT,
    op_id              TEXT,
    photo_sha256       TEXT,
    subject            TEXT NOT NULL DEFAULT '',
    detail             TEXT NOT NULL,
    created_ms         INTEGER NOT NULL,
    resolved_by        TEXT,
    resolved_ms        INTEGER,
    resolution_comment TEXT
);
CREATE UNIQUE INDEX exceptions_open ON exceptions (code, coalesce(visit_id, ''), subject)
    WHERE resolved_ms IS NULL;
CREATE INDEX exceptions_visit ON exceptions (visit_id);
