-- Sign-in throttling, kept in the database so it survives a restart and holds across several
-- server processes sharing the database. One row per user id (`user:<id>`) and per client
-- address (`ip:<addr>`, IPv6 per /64): attempts counted since `window_start_ms`; a row whose
-- window has passed is deleted before the next check.
CREATE TABLE web_login_throttle (
    key             TEXT PRIMARY KEY,
    attempts        BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL
);
CREATE INDEX web_login_throttle_window ON web_login_throttle (window_start_ms);
