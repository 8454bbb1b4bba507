-- v7: how the device's signing key is kept at rest.
-- `plain`: `signing_key` is the 32-byte Ed25519 seed (every database from before v7).
-- `sealed`: `signing_key` is the seed sealed by the platform keystore through the app's key
-- sealer; the raw seed is nowhere in the file, and opening needs the sealer.
-- `signing_public_key` (64 hex) is what an unsealed seed is checked against, so a sealer that
-- hands back some other key is refused instead of signing as another device. Filled at the first
-- open after this upgrade.
ALTER TABLE device ADD COLUMN signing_key_storage TEXT NOT NULL DEFAULT 'plain'
    CHECK (signing_key_storage IN ('plain', 'sealed'));
ALTER TABLE device ADD COLUMN signing_public_key TEXT;
