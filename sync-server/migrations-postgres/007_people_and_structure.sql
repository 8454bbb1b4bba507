-- fieldproof-server v8: people and structure as named things (src/people.rs).
--
-- Territories and teams had no rows of their own: a territory was the string in `users` and
-- `stores`, a team was "the reps whose supervisor_id is S". Both keep working exactly so (the
-- pull's scope, the pages' team filter): these tables give them a code and a name that head
-- office manages. `code` is what `users.territory`, `stores.territory` and phones carry.
--
-- A team has one supervisor and a supervisor leads at most one team: a rep's team is the team
-- of their `supervisor_id`, so moving a rep to a team sets its supervisor (a change-feed row).

CREATE TABLE territories (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE teams (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    supervisor_id TEXT NOT NULL UNIQUE,
    created_ms    BIGINT NOT NULL,
    updated_ms    BIGINT NOT NULL
);

-- Field users: a phone number for head office (not sent to phones: the core's user record has
-- none), and deactivation (the record stays: visits name it; its devices are revoked).
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN deactivated_ms BIGINT;

-- Web users: deactivation ends sessions and sign-in links and blanks the password.
ALTER TABLE web_users ADD COLUMN deactivated_ms BIGINT;

-- Existing data stays valid: every territory string in use becomes a territory named as its
-- code, and every supervisor leads a team coded by their id and named by their name.
INSERT INTO territories (code, name, created_ms, updated_ms)
    SELECT t, t, 0, 0 FROM (
        SELECT territory AS t FROM users WHERE territory IS NOT NULL AND territory <> ''
        UNION SELECT territory FROM stores WHERE territory <> ''
    ) AS used;

INSERT INTO teams (code, name, supervisor_id, created_ms, updated_ms)
    SELECT id, coalesce(body::json ->> 'name', id), id, 0, 0
    FROM users WHERE role = 'supervisor';
