-- fieldproof-server: alerts (src/alerts/, src/alert_queue.rs; docs/HEAD-OFFICE.md, "Alerts").
--
-- A channel is where messages go (a WeCom or DingTalk group robot, or email over SMTP), in the
-- language its readers read. A rule says which exceptions go to which channel: codes (empty:
-- all), a team and a territory (NULL: any), a minimum severity (`crate::codes::severity`) and
-- quiet hours in the field's calendar (minutes after local midnight; from > to wraps midnight).
-- `digest` rules also carry their team's (or every team's) daily digest.
--
-- A delivery is one message: written in the same transaction that raises its exception (or by
-- the digest), with its idempotency key fixed then, and sent by the worker. While a worker holds
-- a row (`lease_until_ms` in the future) no other worker takes it; a lease that runs out (the
-- process died) makes the row due again, re-sent with the same key.
--
-- Idempotent (IF NOT EXISTS), like 008 and 010: a test re-runs the migrations after 006.

CREATE TABLE IF NOT EXISTS alert_channels (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('wecom', 'dingtalk', 'email')),
    name          TEXT NOT NULL,
    -- wecom / dingtalk: the robot's webhook address (it carries the robot's key or token).
    webhook_url   TEXT,
    -- dingtalk: the robot's signing secret (加签, "SEC…").
    secret        TEXT,
    -- email: SMTP server, port, TLS mode, sign-in, sender and recipients (comma-separated).
    smtp_host     TEXT,
    smtp_port     INTEGER,
    smtp_tls      TEXT CHECK (smtp_tls IN ('none', 'starttls', 'tls')),
    smtp_user     TEXT,
    smtp_password TEXT,
    mail_from     TEXT,
    mail_to       TEXT,
    lang          TEXT NOT NULL CHECK (lang IN ('zh-CN', 'en')),
    enabled       INTEGER NOT NULL DEFAULT 1,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS alert_rules (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    channel_id     INTEGER NOT NULL REFERENCES alert_channels (id),
    codes          TEXT NOT NULL DEFAULT '',
    team           TEXT,
    territory      TEXT,
    min_severity   INTEGER NOT NULL DEFAULT 1 CHECK (min_severity BETWEEN 1 AND 3),
    quiet_from_min INTEGER CHECK (quiet_from_min BETWEEN 0 AND 1439),
    quiet_to_min   INTEGER CHECK (quiet_to_min BETWEEN 0 AND 1439),
    digest         INTEGER NOT NULL DEFAULT 0,
    enabled        INTEGER NOT NULL DEFAULT 1,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_rules_channel ON alert_rules (channel_id);

CREATE TABLE IF NOT EXISTS alert_deliveries (
    id                INTEGER PRIMARY KEY,
    idempotency_key   TEXT NOT NULL UNIQUE,
    channel_id        INTEGER NOT NULL REFERENCES alert_channels (id),
    rule_id           INTEGER REFERENCES alert_rules (id),
    -- What it is about: an exception, or a supervisor's digest of a local day.
    exception_id      INTEGER REFERENCES exceptions (id),
    digest_supervisor TEXT,
    digest_day        INTEGER,
    subject           TEXT NOT NULL,
    body              TEXT NOT NULL,
    -- The page it links to, a path under the server's public address.
    link_path         TEXT NOT NULL,
    state             TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms   INTEGER NOT NULL,
    -- Held for the rule's quiet hours: next_attempt_ms is when they end.
    held_quiet        INTEGER NOT NULL DEFAULT 0,
    lease_until_ms    INTEGER,
    last_error_code   TEXT,
    last_error_detail TEXT,
    created_ms        INTEGER NOT NULL,
    sent_ms           INTEGER
);
CREATE INDEX IF NOT EXISTS alert_deliveries_due ON alert_deliveries (state, next_attempt_ms);
CREATE INDEX IF NOT EXISTS alert_deliveries_channel ON alert_deliveries (channel_id, state);
CREATE INDEX IF NOT EXISTS alert_deliveries_newest ON alert_deliveries (created_ms DESC);
