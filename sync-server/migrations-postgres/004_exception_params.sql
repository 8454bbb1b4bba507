-- fieldproof-server v4: structured exception parameters.
--
-- `params`: a JSON object with what the exception's code is about, for pages and tools to read
-- (and to render in the reader's language); `detail` stays a one-line text for the CSV/XLSX
-- export and the admin CLI. NULL for codes that carry only `detail`.
--
-- possible_reuse (one open exception per photo, subject = the photo's sha256):
--   {"photo_id", "sha256", "threshold", "matches_total",
--    "matches": [{"sha256", "distance", "photo_id", "visit_id", "device_id", "user_id"}]}
-- `matches` holds the closest earlier photos of other visits (at most 20, closest first),
-- `matches_total` how many there are. Rows from before v4 keep their old shape
-- (subject "<sha256>:<matched sha256>", params NULL).

ALTER TABLE exceptions ADD COLUMN params TEXT;
