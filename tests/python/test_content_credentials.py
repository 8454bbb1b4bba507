"""Content Credentials (C2PA) on a stamped photo, read by an independent tool: the PyPI package
`c2pa-python` (the Content Authenticity Initiative's own reader, not our code).

The real `fieldproof-server` makes the organisation CA on its first start and issues the device a
certificate at enrolment; the generated Python bindings drive a real core that captures the real
camera photo; the reader, given only the CA certificate from `admin org-ca show` as its trust
anchor, must find the manifest valid and trusted, signed by the device's certificate, with the
capture assertions; one flipped pixel byte must give `assertion.dataHash.mismatch`.

Run by tests/python/run.sh (FIELDPROOF_SERVER_BIN, FIELDPROOF_PY_BINDINGS).
"""

import io
import json
import re

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from coroutines import run

from test_sync_server import FIXTURE, PHOTO, SERVER_BIN, ST001, Server, fix_near

from fieldproof_ffi import (  # noqa: E402
    CaptureRequest,
    CheckInRequest,
    CredentialLocation,
    FieldproofCore,
    PhotoKind,
)

DIGITAL_CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def read(jpeg, anchors):
    """A c2pa-python Reader over the JPEG bytes, trusting `anchors` (PEM) only (None: nothing)."""
    config = {"verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False}}
    if anchors is not None:
        config["trust"] = {"trust_anchors": anchors}
    settings = c2pa.Settings.from_dict(config)
    context = c2pa.Context(settings=settings)
    return c2pa.Reader("image/jpeg", io.BytesIO(jpeg), context=context)


def status_codes(reader):
    """Every validation status code the reader reports, wherever in its report."""
    return set(re.findall(r'"code"\s*:\s*"([^"]+)"', reader.json()))


def flip_pixel_byte(jpeg):
    """The JPEG with the lowest bit of one entropy-coded byte flipped, where no marker can change."""
    b = bytearray(jpeg)
    sos = bytes(b).rfind(b"\xff\xda")
    assert sos > 0, "no SOS marker"
    data = sos + 2 + int.from_bytes(b[sos + 2 : sos + 4], "big")
    i = data + (len(b) - data) // 2
    while b[i] == 0xFF or b[i] ^ 1 == 0xFF or b[i - 1] == 0xFF:
        i += 1
    b[i] ^= 1
    return bytes(b)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    assert SERVER_BIN.is_file(), f"{SERVER_BIN} missing"
    dir = tmp_path_factory.mktemp("c2pa")
    s = Server(dir / "data", dir / "server.log")
    try:
        s.admin("load-reference", str(FIXTURE))
        shown = s.admin("org-ca", "show")
        ca_pem = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n", shown, re.S).group(0)
        fingerprint = re.search(r"SHA-256 fingerprint: ([0-9A-F:]+)", shown).group(1)
        core = run(FieldproofCore.open(str(dir / "rep-li.db")))
        run(core.enrol(s.url, s.enrol_code("rep-li")))
        run(core.sync())
        assert core.credential_location() == CredentialLocation.COARSE
        core.set_credential_location(CredentialLocation.EXACT)
        visit = run(
            core.check_in(
                CheckInRequest(
                    user_id="rep-li", store_id="st-001", plan_id=None, template_id="tpl-store-check", fix=fix_near(*ST001)
                )
            )
        )
        captured = run(
            core.capture_photo_file(
                CaptureRequest(
                    visit_id=visit.id,
                    item_id="shelf_photo",
                    kind=PhotoKind.SHELF_OVERVIEW,
                    fix=fix_near(*ST001),
                    utc_offset_minutes=480,
                    retake_request_id=None,
                ),
                str(PHOTO),
            )
        )
        evidence = run(core.photo_evidence(captured.photo.id))
        certificate = run(core.device_certificate())
        with open(captured.photo.path, "rb") as f:
            jpeg = f.read()
        yield {
            "ca_pem": ca_pem,
            "fingerprint": fingerprint,
            "photo": captured.photo,
            "evidence": evidence,
            "certificate": certificate,
            "jpeg": jpeg,
        }
    finally:
        s.terminate()


def test_the_org_ca_is_the_one_admin_shows(world):
    ca = x509.load_pem_x509_certificate(world["ca_pem"].encode())
    assert ca.fingerprint(hashes.SHA256()).hex(":").upper() == world["fingerprint"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_the_device_certificate_is_for_the_device_key_and_issued_by_the_org_ca(world):
    assert world["certificate"] is not None, "no certificate after enrolment"
    device, ca = x509.load_pem_x509_certificates(world["certificate"].chain_pem.encode())
    assert ca.public_bytes(serialization.Encoding.PEM).decode() == world["ca_pem"]
    device.verify_directly_issued_by(ca)
    raw = device.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw.hex() == world["evidence"].public_key_hex
    assert not device.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_a_stamped_photo_has_a_trusted_manifest_signed_by_the_device(world):
    reader = read(world["jpeg"], world["ca_pem"])
    assert reader.get_validation_state() == "Trusted", reader.json()
    manifest = reader.get_active_manifest()
    sig = manifest["signature_info"]
    device = x509.load_pem_x509_certificates(world["certificate"].chain_pem.encode())[0]
    assert sig["alg"] == "Ed25519"
    assert sig["common_name"] == world["evidence"].device_id
    assert str(device.serial_number) == sig["cert_serial_number"] or f"{device.serial_number:x}" == sig[
        "cert_serial_number"
    ].lower().lstrip("0"), sig

    # Without the org CA as anchor the same manifest is intact but not trusted.
    untrusted = read(world["jpeg"], None)
    assert untrusted.get_validation_state() == "Valid"
    assert "signingCredential.untrusted" in status_codes(untrusted)


def test_the_manifest_has_the_capture_assertions(world):
    manifest = read(world["jpeg"], world["ca_pem"]).get_active_manifest()
    by_label = {a["label"]: a["data"] for a in manifest["assertions"]}
    actions = by_label.get("c2pa.actions.v2") or by_label["c2pa.actions"]
    created = actions["actions"][0]
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == DIGITAL_CAPTURE
    assert created["when"].endswith("Z")
    ev = by_label["cn.fieldproof.evidence"]
    assert ev["evidence_code"] == world["photo"].evidence_code
    assert ev["photo_id"] == world["photo"].id
    assert ev["device_id"] == world["evidence"].device_id
    assert ev["place"]["store_id"] == "st-001"
    assert ev["location_detail"] == "exact"
    assert abs(ev["location"]["latitude"] - (ST001[0] + 0.000135)) < 1e-6
    assert ev["location"]["accuracy_m"] == 8.0


def test_a_flipped_pixel_byte_is_a_data_hash_mismatch(world):
    reader = read(flip_pixel_byte(world["jpeg"]), world["ca_pem"])
    assert "assertion.dataHash.mismatch" in status_codes(reader), reader.json()
    assert reader.get_validation_state() == "Invalid"
    # The untouched photo has no such finding.
    assert "assertion.dataHash.mismatch" not in status_codes(read(world["jpeg"], world["ca_pem"]))
