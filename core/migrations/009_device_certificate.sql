-- v9: the device's X.509 certificate chain (PEM: the device certificate, then the organisation
-- CA's), issued by the server at enrolment or fetched by a later sync. Content Credentials (C2PA)
-- on photos are signed under it; a photo taken before it arrived has none.
CREATE TABLE device_certificate (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    chain_pem   TEXT    NOT NULL,
    received_ms INTEGER NOT NULL
);
