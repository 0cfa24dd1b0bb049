from __future__ import annotations

import pytest
from pydantic import SecretStr

from funnel.core.whatsapp.signature import SignatureResult, sign, verify_signature
from tests.fixtures.whatsapp.corpus import TEST_APP_SECRET, fixture_names, load_fixture

# The protocol document's vectors: the last two are the same JSON value in two encodings.
VECTORS = [
    (
        b'{"object":"whatsapp_business_account","entry":[]}',
        "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756",
    ),
    (
        '{"t":"नमस्ते"}'.encode(),
        "sha256=71e7752a38b68cdcc63fd3d75df47c17b7b22a1e48527ceaadd9513c9adc9ef3",
    ),
    (
        b'{"t":"\\u0928\\u092e\\u0938\\u094d\\u0924\\u0947"}',
        "sha256=5779e16968cfc464cf1aa759b8f02e9f9be620c53820c2b45c181aec3b7be687",
    ),
]


@pytest.mark.parametrize(("body", "header"), VECTORS)
def test_protocol_vectors(body: bytes, header: str) -> None:
    assert sign(body, TEST_APP_SECRET) == header
    assert verify_signature(body, header, [TEST_APP_SECRET]) is SignatureResult.OK


def test_two_encodings_of_one_value_sign_differently() -> None:
    assert VECTORS[1][1] != VECTORS[2][1]
    assert verify_signature(VECTORS[2][0], VECTORS[1][1], [TEST_APP_SECRET]).ok is False


@pytest.mark.parametrize("name", fixture_names())
def test_corpus_sidecars(name: str) -> None:
    fixture = load_fixture(name)
    result = verify_signature(fixture.raw, fixture.signature, [TEST_APP_SECRET])
    assert result.ok is fixture.expected["signature_valid"]


def test_missing_and_empty_header() -> None:
    assert verify_signature(b"{}", None, [TEST_APP_SECRET]) is SignatureResult.MISSING
    assert verify_signature(b"{}", "  ", [TEST_APP_SECRET]) is SignatureResult.MISSING


@pytest.mark.parametrize(
    "header",
    [
        "sha1=" + "0" * 40,
        "sha256=",
        "sha256=xyz",
        "sha256=" + "g" * 64,
        "sha256=" + "0" * 63,
        VECTORS[0][1][len("sha256=") :],
    ],
)
def test_malformed_headers(header: str) -> None:
    assert verify_signature(VECTORS[0][0], header, [TEST_APP_SECRET]) is SignatureResult.MALFORMED


def test_one_byte_change_is_a_mismatch() -> None:
    body, header = VECTORS[0]
    changed = body.replace(b"[]", b"[ ]")
    assert verify_signature(changed, header, [TEST_APP_SECRET]) is SignatureResult.MISMATCH


def test_rotation_accepts_any_configured_secret() -> None:
    body = b'{"entry":[]}'
    header = sign(body, "new_secret")
    assert verify_signature(body, header, ["old_secret", SecretStr("new_secret")]).ok
    assert verify_signature(body, header, ["old_secret"]) is SignatureResult.MISMATCH
    assert verify_signature(body, header, []) is SignatureResult.MISMATCH


def test_uppercase_hex_and_whitespace_are_tolerated() -> None:
    body, header = VECTORS[0]
    assert verify_signature(
        body, f"  {header.upper().replace('SHA256', 'sha256')} ", ["test_app_secret"]
    ).ok
