-- fieldproof-server v9: whether a visit has a received photo, kept on the visit.
--
-- Process health's key-action figure asks it of every visit of 14 days (≈ 45k at 200 reps):
-- one lookup in the photos index per visit was half of the page's time (`docs/PERFORMANCE.md`).
-- The triggers keep the column exact in the same transaction as the photo or visit change,
-- whichever path writes it (a photo op arriving with its bytes already stored, the bytes
-- arriving later, a visit row written after its photos): a photo is never un-received,
-- deleted or moved to another visit, so the flag only ever turns on.
--
-- The column is added once (the runner applies each version once, under the write lock); the
-- rest is safe to run again.

ALTER TABLE visits ADD COLUMN photo_received BIGINT NOT NULL DEFAULT 0;

UPDATE visits SET photo_received = 1
WHERE photo_received = 0
  AND EXISTS (SELECT 1 FROM photos p WHERE p.visit_id = visits.id AND p.received = 1);

CREATE FUNCTION photos_mark_visit_received() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits SET photo_received = 1 WHERE id = NEW.visit_id AND photo_received = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER photos_received_on_insert AFTER INSERT ON photos
FOR EACH ROW WHEN (NEW.received = 1) EXECUTE FUNCTION photos_mark_visit_received();

CREATE TRIGGER photos_received_on_update AFTER UPDATE OF received ON photos
FOR EACH ROW WHEN (NEW.received = 1) EXECUTE FUNCTION photos_mark_visit_received();

CREATE FUNCTION visits_mark_photo_received() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits SET photo_received = 1
    WHERE id = NEW.id AND photo_received = 0
      AND EXISTS (SELECT 1 FROM photos p WHERE p.visit_id = NEW.id AND p.received = 1);
    RETURN NULL;
END $$;

CREATE TRIGGER visits_photo_received_on_insert AFTER INSERT ON visits
FOR EACH ROW EXECUTE FUNCTION visits_mark_photo_received();
