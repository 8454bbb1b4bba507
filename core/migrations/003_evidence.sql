-- v3: signed evidence. The device's Ed25519 key and the head of its hash chain; every op's
-- signed entry; the evidence fields of a photo.

ALTER TABLE device ADD COLUMN signing_key BLOB;
ALTER TABLE device ADD COLUMN chain_head TEXT NOT NULL
    DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';

-- The exact signed bytes (canonical JSON), their SHA-256 and the Ed25519 signature. Ops written
-- before v3 have none: a device's chain starts at its first op after the upgrade.
ALTER TABLE outbox ADD COLUMN entry TEXT;
ALTER TABLE outbox ADD COLUMN entry_hash TEXT;
ALTER TABLE outbox ADD COLUMN signature TEXT;

ALTER TABLE photos ADD COLUMN original_sha256 TEXT;
ALTER TABLE photos ADD COLUMN width INTEGER;
ALTER TABLE photos ADD COLUMN height INTEGER;
ALTER TABLE photos ADD COLUMN phash TEXT;
ALTER TABLE photos ADD COLUMN evidence_code TEXT;
