-- fieldproof-server: customers and leads (客户与线索, issue 15; docs/HEAD-OFFICE.md "Pipeline").
--
-- Reps write customers, follow-ups, stage moves, stage-evidence photos and claims as signed ops
-- (`customer.*`, `lead.*`); the ingest applies them here in the push's transaction. Head office
-- writes leads (import, API), routing rules, the pipeline and health settings; the scheduler
-- (`pipeline_jobs`) runs the lead deadline, the 7-day release, stall detection and the nightly
-- health score, each due run taken by exactly one replica.
--
-- Lists are JSON text (`phones`, `contacts`, `evidence`, `missing`). Times are Unix ms; days are
-- the field calendar's day numbers (`crate::calendar`).
--
-- Idempotent (IF NOT EXISTS, no ALTER), like 008, 010 and 012: a test re-runs the migrations
-- after 006.

-- One row per customer (一客一主): `owner_id` NULL while in the pool (公海). A second rep's entry
-- of a customer someone already has is kept as its own row with state 'duplicate' and
-- `duplicate_of` set (nothing a rep entered is lost; both reps see the link).
CREATE TABLE IF NOT EXISTS customers (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    company             TEXT,
    phones              TEXT NOT NULL DEFAULT '[]',
    contacts            TEXT NOT NULL DEFAULT '[]',
    industry            TEXT,
    -- Territory code: the pool a released customer goes to.
    region              TEXT,
    budget_cents        BIGINT,
    store_id            TEXT,
    from_lead_id        TEXT,
    owner_id            TEXT,
    state               TEXT NOT NULL CHECK (state IN ('owned', 'pool', 'duplicate', 'closed')),
    duplicate_of        TEXT,
    stage               TEXT NOT NULL,
    stage_entered_ms    BIGINT NOT NULL,
    claimed_ms          BIGINT,
    last_interaction_ms BIGINT,
    release_due_ms      BIGINT,
    -- The stall (more than `stall_days` in one stage) already raised for this stage entry.
    stall_raised_ms     BIGINT,
    health_grade        TEXT,
    health_score        DOUBLE PRECISION,
    created_by          TEXT NOT NULL,
    created_ms          BIGINT NOT NULL,
    updated_ms          BIGINT NOT NULL,
    -- The `customer.create` op (NULL for an imported customer).
    create_op           TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS customers_owner ON customers (owner_id, state);
CREATE INDEX IF NOT EXISTS customers_region_state ON customers (region, state);
CREATE INDEX IF NOT EXISTS customers_stage ON customers (state, stage, stage_entered_ms);
CREATE INDEX IF NOT EXISTS customers_release_due ON customers (release_due_ms);
CREATE INDEX IF NOT EXISTS customers_duplicate_of ON customers (duplicate_of);

-- The hashed duplicate keys (`fieldproof_core::customers::dedupe_keys`) of every customer that is
-- not itself a duplicate: the first customer to claim a key keeps it.
CREATE TABLE IF NOT EXISTS customer_keys (
    key         TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    matched_on  TEXT NOT NULL CHECK (matched_on IN ('phone', 'company'))
);
CREATE INDEX IF NOT EXISTS customer_keys_customer ON customer_keys (customer_id);

-- Leads (线索): imported or entered by head office, routed to a rep (`assigned`) who claims them
-- before `deadline_ms`, else they go back to the pool. `responded_in_time` (1/0, NULL while
-- open) is what the lead-response rate counts.
CREATE TABLE IF NOT EXISTS leads (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    company           TEXT,
    phones            TEXT NOT NULL DEFAULT '[]',
    industry          TEXT,
    region            TEXT,
    budget_cents      BIGINT,
    source            TEXT,
    state             TEXT NOT NULL CHECK (state IN ('new', 'assigned', 'claimed', 'pool', 'converted', 'lost', 'duplicate')),
    assigned_rep      TEXT,
    assigned_ms       BIGINT,
    -- The routing rule that placed it (its name as it was), or why it went to the pool.
    routed_by         TEXT,
    deadline_ms       BIGINT,
    claimed_ms        BIGINT,
    responded_in_time BIGINT,
    -- The deadline alert raised (once) and the escalation raised (once).
    overdue_ms        BIGINT,
    escalated_ms      BIGINT,
    customer_id       TEXT,
    close_reason      TEXT,
    created_ms        BIGINT NOT NULL,
    updated_ms        BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS leads_state_deadline ON leads (state, deadline_ms);
CREATE INDEX IF NOT EXISTS leads_rep ON leads (assigned_rep, state);
CREATE INDEX IF NOT EXISTS leads_created ON leads (created_ms);

-- Follow-ups (跟进): a call, visit or message on a customer or a lead.
CREATE TABLE IF NOT EXISTS customer_follow_ups (
    id          TEXT PRIMARY KEY,
    customer_id TEXT,
    lead_id     TEXT,
    user_id     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    next_step   TEXT,
    next_date   TEXT,
    visit_id    TEXT,
    at_ms       BIGINT NOT NULL,
    op_id       TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS customer_follow_ups_customer ON customer_follow_ups (customer_id, at_ms);
CREATE INDEX IF NOT EXISTS customer_follow_ups_lead ON customer_follow_ups (lead_id, at_ms);

-- Stage moves with the evidence they rest on; `missing` lists what the server found missing
-- (the phone refuses such a move; an old or altered client's move is kept and flagged).
CREATE TABLE IF NOT EXISTS customer_stage_changes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    from_stage  TEXT NOT NULL,
    to_stage    TEXT NOT NULL,
    reason      TEXT,
    evidence    TEXT NOT NULL DEFAULT '[]',
    missing     TEXT NOT NULL DEFAULT '[]',
    user_id     TEXT NOT NULL,
    at_ms       BIGINT NOT NULL,
    op_id       TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS customer_stage_changes_customer ON customer_stage_changes (customer_id, at_ms);
CREATE INDEX IF NOT EXISTS customer_stage_changes_to ON customer_stage_changes (to_stage, at_ms);

-- Stage-evidence photos (`customer.photo`): the manifest's evidence fields, as `photos` keeps a
-- visit photo's; the bytes are a blob like any photo's (`blobs`, by sha256).
CREATE TABLE IF NOT EXISTS customer_photos (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT NOT NULL,
    requirement_id  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    byte_len        BIGINT NOT NULL,
    taken_at_ms     BIGINT NOT NULL,
    original_sha256 TEXT,
    width           BIGINT,
    height          BIGINT,
    phash           TEXT,
    evidence_code   TEXT,
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    op_id           TEXT NOT NULL UNIQUE,
    received_ms     BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_photos_customer ON customer_photos (customer_id, requirement_id);
CREATE INDEX IF NOT EXISTS customer_photos_sha256 ON customer_photos (sha256);

-- What happened to a customer or a lead besides follow-ups and stage moves: claims, releases
-- (by the rep or by the 7-day rule), assignments, duplicates found, stalls, escalations. `op_id`
-- for a rep's op, NULL for the server's own.
CREATE TABLE IF NOT EXISTS customer_events (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id TEXT,
    lead_id     TEXT,
    kind        TEXT NOT NULL,
    user_id     TEXT,
    reason      TEXT,
    at_ms       BIGINT NOT NULL,
    op_id       TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS customer_events_customer ON customer_events (customer_id, at_ms);
CREATE INDEX IF NOT EXISTS customer_events_lead ON customer_events (lead_id, at_ms);
CREATE INDEX IF NOT EXISTS customer_events_kind ON customer_events (kind, at_ms);

-- Customer activities the health score counts (the 客户活动 sheet: purchase, trial, event).
CREATE TABLE IF NOT EXISTS customer_activities (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    customer_id TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('purchase', 'trial', 'event')),
    day         BIGINT NOT NULL,
    note        TEXT,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_activities_customer ON customer_activities (customer_id, day);

-- The nightly health score, one row per customer and day (the trend), with each component's
-- count and points as JSON and the components at zero that day (for the 2-week red warning).
CREATE TABLE IF NOT EXISTS customer_health (
    customer_id TEXT NOT NULL,
    day         BIGINT NOT NULL,
    score       DOUBLE PRECISION NOT NULL,
    grade       TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C')),
    components  TEXT NOT NULL,
    zero_keys   TEXT NOT NULL DEFAULT '[]',
    warning     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, day)
);
CREATE INDEX IF NOT EXISTS customer_health_day ON customer_health (day, grade);

-- Head office's settings, each a versioned JSON document: 'pipeline'
-- (`fieldproof_core::customers::PipelineConfig`), 'health' (`pipeline::health::HealthModel`),
-- 'routing' (the rule list, `pipeline::routing::Rule`, and whether it is live).
CREATE TABLE IF NOT EXISTS pipeline_settings (
    name       TEXT PRIMARY KEY CHECK (name IN ('pipeline', 'health', 'routing')),
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    updated_by TEXT,
    updated_ms BIGINT NOT NULL
);

-- Reps' qualification tags (资质标签) for routing.
CREATE TABLE IF NOT EXISTS rep_tags (
    user_id TEXT NOT NULL,
    tag     TEXT NOT NULL,
    PRIMARY KEY (user_id, tag)
);

-- Dry runs of a rule set over the last days' leads: the report as JSON, kept for the rules page.
CREATE TABLE IF NOT EXISTS routing_dry_runs (
    id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    rules_version   BIGINT NOT NULL,
    window_days     BIGINT NOT NULL,
    leads           BIGINT NOT NULL,
    matched         BIGINT NOT NULL,
    report          TEXT NOT NULL,
    run_by          TEXT,
    run_ms          BIGINT NOT NULL
);

-- The scheduler: one row per job and due run. A replica takes a run by setting its lease in a
-- conditional UPDATE (the one whose update changed the row runs it); a finished run keeps
-- `done_ms`, so no run happens twice; a lease that runs out (the replica died) is taken again.
CREATE TABLE IF NOT EXISTS pipeline_jobs (
    job            TEXT NOT NULL,
    run_key        TEXT NOT NULL,
    due_ms         BIGINT NOT NULL,
    lease_owner    TEXT,
    lease_until_ms BIGINT,
    done_ms        BIGINT,
    outcome        TEXT,
    PRIMARY KEY (job, run_key)
);

-- Stores' QR check-in keys (扫码签到): an Ed25519 key per store, issued by the server; the
-- public half goes to phones (change kind `store_key`), the seed never leaves the server.
CREATE TABLE IF NOT EXISTS store_keys (
    store_id       TEXT NOT NULL,
    kid            TEXT NOT NULL,
    seed_hex       TEXT NOT NULL,
    public_key_hex TEXT NOT NULL,
    created_ms     BIGINT NOT NULL,
    retired_ms     BIGINT,
    PRIMARY KEY (store_id, kid)
);

-- The store code a check-in carried (`CheckInPayload::store_code`) and whether the server
-- verified it against the store's key at the check-in's time (a table, not a column of
-- `visits`: this migration adds no column).
CREATE TABLE IF NOT EXISTS visit_store_codes (
    visit_id TEXT PRIMARY KEY,
    store_id TEXT NOT NULL,
    kid      TEXT NOT NULL,
    step     BIGINT NOT NULL,
    verified BIGINT NOT NULL
);
