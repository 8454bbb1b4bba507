-- fieldproof-server v15: each device's X.509 certificate (PEM), issued by the organisation's CA
-- (src/org_ca.rs) for the device's Ed25519 key at enrolment, or on the device's first
-- `GET /v1/device/certificate` for a device enrolled before this version. The phone signs the
-- Content Credentials (C2PA) on its photos under it. NULL: none issued yet.

ALTER TABLE devices ADD COLUMN certificate_pem TEXT;
