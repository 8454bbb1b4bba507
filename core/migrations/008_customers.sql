-- v8: customers and leads (客户与线索), kept offline. A rep's own writes are signed ops (the
-- `*_op` / `op_id` columns name them, as for visits); what the server sends is kept with its
-- `feed_seq`, the newest of which wins. Lists are JSON text (`phones`, `contacts`, `evidence`).

-- The rep's customers, the pool of their territory, and duplicates linked to them. `create_op`
-- is set for a customer entered on this phone; `local_hlc` is the HLC of the last local change
-- not yet reflected by the server (NULL when the server's copy is current).
CREATE TABLE customers (
    id                  TEXT    PRIMARY KEY,
    name                TEXT    NOT NULL,
    company             TEXT,
    phones              TEXT    NOT NULL DEFAULT '[]',
    contacts            TEXT    NOT NULL DEFAULT '[]',
    industry            TEXT,
    region              TEXT,
    budget_cents        INTEGER,
    store_id            TEXT,
    from_lead_id        TEXT,
    owner_id            TEXT,
    owner_name          TEXT,
    state               TEXT    NOT NULL,
    duplicate_of        TEXT,
    stage               TEXT    NOT NULL,
    stage_entered_ms    INTEGER NOT NULL,
    claimed_ms          INTEGER,
    last_interaction_ms INTEGER,
    release_due_ms      INTEGER,
    health_grade        TEXT,
    health_score        REAL,
    created_ms          INTEGER NOT NULL,
    create_op           TEXT    UNIQUE,
    feed_seq            INTEGER,
    local_hlc           INTEGER
);
CREATE INDEX customers_by_owner ON customers (owner_id, state);
CREATE INDEX customers_by_stage ON customers (stage, stage_entered_ms);

-- Hashed phone and company keys (`customers::dedupe_keys`) of every customer this phone must
-- not enter twice: its own (written with the customer) and other reps' (pulled, hashes only).
CREATE TABLE customer_keys (
    key         TEXT    PRIMARY KEY,
    customer_id TEXT    NOT NULL,
    matched_on  TEXT    NOT NULL CHECK (matched_on IN ('phone', 'company')),
    owner_name  TEXT,
    state       TEXT    NOT NULL,
    feed_seq    INTEGER
);
CREATE INDEX customer_keys_by_customer ON customer_keys (customer_id);

-- Leads routed to this rep, and the territory's pool. `body` is the server's record as sent.
CREATE TABLE leads (
    id           TEXT    PRIMARY KEY,
    state        TEXT    NOT NULL,
    assigned_rep TEXT,
    assigned_ms  INTEGER,
    deadline_ms  INTEGER,
    claimed_ms   INTEGER,
    customer_id  TEXT,
    body         TEXT    NOT NULL,
    feed_seq     INTEGER,
    local_hlc    INTEGER
);
CREATE INDEX leads_by_rep ON leads (assigned_rep, state);

-- Follow-ups (跟进) logged on this phone, on a customer or on a lead.
CREATE TABLE follow_ups (
    id          TEXT    PRIMARY KEY,
    customer_id TEXT,
    lead_id     TEXT,
    user_id     TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    note        TEXT    NOT NULL DEFAULT '',
    next_step   TEXT,
    next_date   TEXT,
    visit_id    TEXT,
    at_ms       INTEGER NOT NULL,
    op_id       TEXT    NOT NULL UNIQUE,
    CHECK (customer_id IS NOT NULL OR lead_id IS NOT NULL)
);
CREATE INDEX follow_ups_by_customer ON follow_ups (customer_id, at_ms);
CREATE INDEX follow_ups_by_lead ON follow_ups (lead_id, at_ms);
CREATE INDEX follow_ups_by_next_date ON follow_ups (next_date) WHERE next_date IS NOT NULL;

-- Stage moves made on this phone, with the evidence they rest on.
CREATE TABLE stage_changes (
    id          TEXT    PRIMARY KEY,
    customer_id TEXT    NOT NULL,
    from_stage  TEXT    NOT NULL,
    to_stage    TEXT    NOT NULL,
    reason      TEXT,
    evidence    TEXT    NOT NULL DEFAULT '[]',
    user_id     TEXT    NOT NULL,
    at_ms       INTEGER NOT NULL,
    op_id       TEXT    NOT NULL UNIQUE
);
CREATE INDEX stage_changes_by_customer ON stage_changes (customer_id, at_ms);

-- Stage-evidence photos (`customer.photo`): the same evidence columns as `photos`.
CREATE TABLE customer_photos (
    id              TEXT    PRIMARY KEY,
    customer_id     TEXT    NOT NULL,
    requirement_id  TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    sha256          TEXT    NOT NULL,
    byte_len        INTEGER NOT NULL,
    path            TEXT    NOT NULL,
    taken_at_ms     INTEGER NOT NULL,
    original_sha256 TEXT,
    width           INTEGER,
    height          INTEGER,
    phash           TEXT,
    evidence_code   TEXT,
    op_id           TEXT    NOT NULL UNIQUE
);
CREATE INDEX customer_photos_by_customer ON customer_photos (customer_id, requirement_id);
CREATE INDEX customer_photos_by_sha256 ON customer_photos (sha256);

-- Claims, releases, updates and lead ops made on this phone, one row per op.
CREATE TABLE customer_events (
    op_id       TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    customer_id TEXT,
    lead_id     TEXT,
    user_id     TEXT    NOT NULL,
    reason      TEXT,
    at_ms       INTEGER NOT NULL,
    body        TEXT    NOT NULL DEFAULT '{}',
    CHECK (customer_id IS NOT NULL OR lead_id IS NOT NULL)
);
CREATE INDEX customer_events_by_customer ON customer_events (customer_id, at_ms);
CREATE INDEX customer_events_by_lead ON customer_events (lead_id, at_ms);

-- The pipeline configuration the server last sent (one row; `body` is its JSON).
CREATE TABLE pipeline_config (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL,
    body     TEXT    NOT NULL,
    feed_seq INTEGER
);

-- Stores' public QR check-in keys (`customers::StoreKey`).
CREATE TABLE store_keys (
    store_id       TEXT    NOT NULL,
    kid            TEXT    NOT NULL,
    public_key_hex TEXT    NOT NULL,
    retired        INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    feed_seq       INTEGER,
    PRIMARY KEY (store_id, kid)
);

-- The store code scanned at check-in (扫码签到), as the check-in op carries it.
ALTER TABLE visits ADD COLUMN store_code TEXT;
