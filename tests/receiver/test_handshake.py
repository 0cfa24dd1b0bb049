"""Meta's GET verification handshake (protocol doc, section 1.2)."""

from __future__ import annotations

import pytest

from tests.receiver.conftest import (
    GLOBAL_VERIFY_TOKEN,
    VERIFY_TOKEN,
    RecordingPublisher,
    receiver_client,
    receiver_settings,
)


@pytest.mark.parametrize("token", [VERIFY_TOKEN, GLOBAL_VERIFY_TOKEN])
@pytest.mark.parametrize("challenge", ["1158201444", "0012", "abc-DEF_1.2~ü"])
async def test_right_token_echoes_the_challenge_byte_for_byte(token: str, challenge: str) -> None:
    async with receiver_client(receiver_settings(), RecordingPublisher()) as client:
        response = await client.get(
            "/webhook",
            params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": challenge},
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.content == challenge.encode()


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}, 403),
        (
            {
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN.upper(),
                "hub.challenge": "1",
            },
            403,
        ),
        ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, 403),
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}, 400),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, 400),
        ({"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, 400),
        ({}, 400),
    ],
)
async def test_anything_else_is_refused(params: dict[str, str], status: int) -> None:
    async with receiver_client(receiver_settings(), RecordingPublisher()) as client:
        response = await client.get("/webhook", params=params)
    assert response.status_code == status
    assert response.content != params.get("hub.challenge", "").encode()
