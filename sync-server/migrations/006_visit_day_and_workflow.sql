-- fieldproof-server v6: the visit's day on exceptions, and the exception workflow.
--
-- event_ms: when what the finding is about happened, Unix ms: the op's device wall time (a
--   check-in, a check-out, an answer), a photo's capture time. `created_ms` stays the time the
--   server received it, which for a phone that was offline can be days later.
-- visit_day: the store-local day (days since 1970-01-01 in the server's calendar,
--   `--time-zone`) of the exception's visit, from the visit's check-in time; for a finding with
--   no visit the server knows, the day of `event_ms`. Queue, day pages, exports and health
--   figures filter and count by it. Rows from before v6 get it when the server opens the
--   database (`store::fill_visit_days`): SQL alone cannot know the configured zone.
--
-- status: open → assigned (to a web user, `assignee_id`) → resolved or dismissed, and back to
--   open (reopen). "Closed" is resolved or dismissed, and exactly the closed rows have
--   `resolved_ms` (with `resolved_by`, `resolution_comment`: who closed it, when, why), so the
--   open-uniqueness index `exceptions_open` (WHERE resolved_ms IS NULL) keeps meaning "at most
--   one open or assigned exception per (code, visit, subject)": a new finding of a dismissed
--   one is recorded again, and a reopen that would make a second open one is refused.
--   Triggers keep the two in step whoever writes.
-- exception_history: every change, who made it (a web user's id, a field user's id for the
--   device's own corrections, or `server`), when, the comment and the assignee. The raising
--   itself is the exception row (created_ms, event_ms).

ALTER TABLE exceptions ADD COLUMN event_ms INTEGER;
ALTER TABLE exceptions ADD COLUMN visit_day INTEGER;
ALTER TABLE exceptions ADD COLUMN status TEXT NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'assigned', 'resolved', 'dismissed'));
ALTER TABLE exceptions ADD COLUMN assignee_id TEXT;

UPDATE exceptions SET event_ms = coalesce(
    (SELECT o.wall_ms FROM ops o WHERE o.op_id = exceptions.op_id),
    (SELECT v.started_wall_ms FROM visits v WHERE v.id = exceptions.visit_id),
    created_ms);
UPDATE exceptions SET status = 'resolved' WHERE resolved_ms IS NOT NULL;

CREATE TABLE exception_history (
    id           INTEGER PRIMARY KEY,
    exception_id INTEGER NOT NULL REFERENCES exceptions (id),
    action       TEXT NOT NULL CHECK (action IN ('assign', 'resolve', 'dismiss', 'reopen')),
    actor_id     TEXT NOT NULL,
    at_ms        INTEGER NOT NULL,
    comment      TEXT,
    assignee_id  TEXT
);
CREATE INDEX exception_history_exception ON exception_history (exception_id, at_ms);

INSERT INTO exception_history (exception_id, action, actor_id, at_ms, comment)
    SELECT id, 'resolve', coalesce(resolved_by, 'server'), resolved_ms, resolution_comment
    FROM exceptions WHERE resolved_ms IS NOT NULL ORDER BY id;

CREATE INDEX exceptions_visit_day ON exceptions (visit_day);
CREATE INDEX exceptions_status_day ON exceptions (status, visit_day);
CREATE INDEX exceptions_user_day ON exceptions (user_id, visit_day);
CREATE INDEX exceptions_assignee ON exceptions (assignee_id) WHERE assignee_id IS NOT NULL;

CREATE TRIGGER exceptions_status_insert BEFORE INSERT ON exceptions
WHEN (NEW.status IN ('resolved', 'dismissed')) <> (NEW.resolved_ms IS NOT NULL)
     OR (NEW.status = 'assigned' AND NEW.assignee_id IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'exception status disagrees with resolved_ms or assignee_id');
END;

CREATE TRIGGER exceptions_status_update BEFORE UPDATE OF status, resolved_ms, assignee_id ON exceptions
WHEN (NEW.status IN ('resolved', 'dismissed')) <> (NEW.resolved_ms IS NOT NULL)
     OR (NEW.status = 'assigned' AND NEW.assignee_id IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'exception status disagrees with resolved_ms or assignee_id');
END;
