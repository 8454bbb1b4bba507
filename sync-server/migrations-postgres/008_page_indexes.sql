-- fieldproof-server v8: indexes for head office's pages at scale (`cargo bench -p
-- fieldproof-server --bench pages`: 200 reps × 30 days, ≈ 100k visits, 300k photos).
--
-- plans_date: process health counts the plans of 14 days by their date, which lives only in the
-- plan's JSON body; without this index every request parses all plans' bodies (102k plans:
-- 150 ms of the page). The expression is the one the page filters on, character for character
-- (SQLite uses an expression index only for the identical expression).

CREATE INDEX IF NOT EXISTS plans_date ON plans ((body::json ->> 'date'));

-- photos_visit_received: the key-action figure asks, for every visit of 14 days (≈ 45k at 200
-- reps), whether it has a received photo. With (visit_id, received) the answer is in the index;
-- through `photos_visit` each visit read a row of the photos table (≈ 350 bytes each, 300k rows)
-- at a random place: a third of that query. It serves every lookup `photos_visit` served
-- (visit_id is its first column), so that one goes: one index fewer to write per photo.
CREATE INDEX IF NOT EXISTS photos_visit_received ON photos (visit_id, received);
DROP INDEX IF EXISTS photos_visit;
