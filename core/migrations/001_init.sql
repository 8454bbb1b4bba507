-- v1: the device, head-office reference data, visits with answers, flags, and the outbox.

CREATE TABLE device (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    device_id       TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    next_seq        INTEGER NOT NULL,
    last_hlc        INTEGER NOT NULL,
    last_wall_ms    INTEGER,
    last_boot_ms    INTEGER,
    server_offset_ms INTEGER
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('rep', 'supervisor')),
    territory     TEXT,
    supervisor_id TEXT
);

CREATE TABLE stores (
    id                TEXT PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    address           TEXT NOT NULL,
    latitude          REAL NOT NULL,
    longitude         REAL NOT NULL,
    geofence_radius_m REAL NOT NULL,
    territory         TEXT NOT NULL,
    geofence_mode     TEXT
);
CREATE INDEX stores_by_territory ON stores (territory);

CREATE TABLE products (
    id                    TEXT PRIMARY KEY,
    sku                   TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    brand                 TEXT NOT NULL,
    is_competitor         INTEGER NOT NULL,
    reference_price_cents INTEGER
);

-- A published (id, version) is immutable; the body is the template as JSON.
CREATE TABLE templates (
    id         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    is_default INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE plans (
    id          TEXT PRIMARY KEY,
    rep_id      TEXT NOT NULL REFERENCES users (id),
    store_id    TEXT NOT NULL REFERENCES stores (id),
    date        TEXT NOT NULL,
    template_id TEXT NOT NULL,
    sequence    INTEGER NOT NULL
);
CREATE INDEX plans_by_rep_date ON plans (rep_id, date);

CREATE TABLE visits (
    id                TEXT PRIMARY KEY,
    kind              TEXT    NOT NULL,
    user_id           TEXT    NOT NULL REFERENCES users (id),
    store_id          TEXT    NOT NULL REFERENCES stores (id),
    template_id       TEXT    NOT NULL,
    template_version  INTEGER NOT NULL,
    plan_id           TEXT,
    status            TEXT    NOT NULL,
    check_in_wall_ms  INTEGER NOT NULL,
    check_in_boot_ms  INTEGER NOT NULL,
    check_in_hlc      INTEGER NOT NULL,
    server_offset_ms  INTEGER,
    check_in_fix      TEXT,
    geofence          TEXT    NOT NULL,
    distance_m        REAL,
    completed_at_ms   INTEGER,
    score             REAL,
    checked_out_at_ms INTEGER,
    check_out_fix     TEXT,
    check_in_op       TEXT    NOT NULL UNIQUE,
    complete_op       TEXT UNIQUE,
    check_out_op      TEXT UNIQUE,
    FOREIGN KEY (template_id, template_version) REFERENCES templates (id, version)
);
CREATE INDEX visits_by_store ON visits (store_id, check_in_wall_ms);
CREATE INDEX visits_by_user_status ON visits (user_id, status);
CREATE INDEX visits_by_plan ON visits (plan_id);

-- The current answer per item; every revision is in answer_history.
CREATE TABLE answers (
    visit_id       TEXT    NOT NULL REFERENCES visits (id),
    item_id        TEXT    NOT NULL,
    value          TEXT    NOT NULL,
    note           TEXT,
    answered_at_ms INTEGER NOT NULL,
    revision       INTEGER NOT NULL,
    op_id          TEXT    NOT NULL UNIQUE,
    PRIMARY KEY (visit_id, item_id)
);

CREATE TABLE answer_history (
    id             INTEGER PRIMARY KEY,
    visit_id       TEXT    NOT NULL REFERENCES visits (id),
    item_id        TEXT    NOT NULL,
    value          TEXT    NOT NULL,
    note           TEXT,
    answered_at_ms INTEGER NOT NULL,
    op_id          TEXT    NOT NULL UNIQUE
);
CREATE INDEX answer_history_by_visit ON answer_history (visit_id, item_id);

-- Rule findings. A flag is cleared (never deleted) when its cause goes away, e.g. a price gap
-- that gets its negotiation note.
CREATE TABLE visit_flags (
    id            INTEGER PRIMARY KEY,
    visit_id      TEXT    NOT NULL REFERENCES visits (id),
    code          TEXT    NOT NULL,
    item_id       TEXT    NOT NULL DEFAULT '',
    detail        TEXT    NOT NULL,
    raised_at_ms  INTEGER NOT NULL,
    raised_op_id  TEXT    NOT NULL,
    cleared_at_ms INTEGER,
    cleared_op_id TEXT
);
CREATE UNIQUE INDEX visit_flags_open ON visit_flags (visit_id, code, item_id) WHERE cleared_at_ms IS NULL;
CREATE INDEX visit_flags_open_by_time ON visit_flags (raised_at_ms) WHERE cleared_at_ms IS NULL;

-- Every user action, in order, waiting for the server. `seq` is the per-device sequence number.
CREATE TABLE outbox (
    seq              INTEGER PRIMARY KEY,
    op_id            TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL,
    entity_id        TEXT    NOT NULL,
    depends_on       TEXT,
    wall_ms          INTEGER NOT NULL,
    boot_ms          INTEGER NOT NULL,
    hlc              INTEGER NOT NULL,
    server_offset_ms INTEGER,
    payload          TEXT    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT
);
CREATE INDEX outbox_by_state ON outbox (state, seq);
