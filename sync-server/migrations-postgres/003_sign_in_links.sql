-- fieldproof-server v3: one-time sign-in links (`admin sign-in-link`), e.g. the demo's "open this
-- to see head office's page". Only the token's SHA-256 is stored; a link works once, briefly.

CREATE TABLE web_sign_in_links (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL,
    used_ms      BIGINT
);
