-- v4: sync with fieldproof-server. Who the device is enrolled as and where the change feed
-- stands; the server's answer on each outbox op; which photos' bytes the server has; and the
-- supervisor's read-only mirror of the team's visits.

-- One row once the device is enrolled; none before.
CREATE TABLE sync_state (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    server_url          TEXT    NOT NULL,
    user_id             TEXT    NOT NULL,
    user_role           TEXT    NOT NULL CHECK (user_role IN ('rep', 'supervisor')),
    -- The user as the server last described it (enrolment, then the user's own feed row).
    user_json           TEXT    NOT NULL,
    enrolled_at_ms      INTEGER NOT NULL,
    -- Last change-feed seq applied; pages are applied in the transaction that moves it.
    pull_cursor         INTEGER NOT NULL DEFAULT 0,
    last_sync_ms        INTEGER,
    last_server_time_ms INTEGER
);

-- The server's answer per op: `applied`, `duplicate` or `rejected`, why, and the exception
-- codes it recorded. NULL until an answer arrived (the op is still pending).
ALTER TABLE outbox ADD COLUMN server_status TEXT;
ALTER TABLE outbox ADD COLUMN server_reason TEXT;
ALTER TABLE outbox ADD COLUMN server_exceptions TEXT; -- JSON array of codes
ALTER TABLE outbox ADD COLUMN answered_at_ms INTEGER;

-- Photo bytes travel apart from their op. No row: never tried. `complete`: the server holds the
-- bytes. `failed`: refused for good (manifest mismatch, file changed...), never retried.
-- `pending` with `last_error`: a transient failure, retried by the next sync even after the op
-- itself was acknowledged.
CREATE TABLE photo_uploads (
    op_id         TEXT    PRIMARY KEY REFERENCES outbox (op_id),
    sha256        TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'complete', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    updated_at_ms INTEGER NOT NULL
);

-- Supervisors only: the team's visits as the server summarises them (wire::TeamVisit as JSON),
-- with the columns the lists filter and sort on. Written only by pulls.
CREATE TABLE team_visits (
    visit_id        TEXT    PRIMARY KEY,
    rep_id          TEXT    NOT NULL,
    store_id        TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    started_wall_ms INTEGER NOT NULL,
    exception_count INTEGER NOT NULL,
    body            TEXT    NOT NULL,
    feed_seq        INTEGER NOT NULL
);
CREATE INDEX team_visits_by_rep ON team_visits (rep_id, started_wall_ms);
CREATE INDEX team_visits_by_store ON team_visits (store_id, started_wall_ms);
CREATE INDEX team_visits_by_time ON team_visits (started_wall_ms);
