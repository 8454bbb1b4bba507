-- fieldproof-server v9: indexes for head office's pages at scale (`cargo bench -p
-- fieldproof-server --bench pages`: 200 reps × 30 days, ≈ 100k visits, 300k photos).
--
-- plans_date: process health counts the plans of 14 days by their date, which lives only in the
-- plan's JSON body; without this index every request parses all plans' bodies (102k plans:
-- 150 ms of the page). The expression is the one the page filters on, character for character
-- (SQLite uses an expression index only for the identical expression).

CREATE INDEX plans_date ON plans (json_extract(body, '$.date'));
