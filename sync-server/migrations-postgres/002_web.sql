-- fieldproof-server v2: the head-office web pages (src/web/).
--
-- Web users are people at head office and supervisors signing in with a browser; they are not
-- the field users of `users` (reference data). A supervisor's web account names the reference
-- user whose team it sees (`supervisor_id`, = users.id of a `supervisor`).

CREATE TABLE web_users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'head_office', 'supervisor')),
    supervisor_id TEXT,
    -- Argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
    password_hash TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    CHECK ((role = 'supervisor') = (supervisor_id IS NOT NULL))
);

-- Only the SHA-256 of the session token is stored: a leaked database holds no usable session.
CREATE TABLE web_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_ms);
CREATE INDEX exceptions_created ON exceptions (created_ms);
CREATE INDEX visits_started ON visits (started_wall_ms);
