"""The Lambda entry point serves the same app, configured from the environment."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from funnel.core.settings import get_settings


@pytest.fixture
def lambda_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    channel = {
        "phone_number_id": "106540352242922",
        "app_secrets": ["test_app_secret"],
        "verify_token": "lambda-verify-token",
    }
    monkeypatch.setenv("FUNNEL_ENVIRONMENT", "test")
    monkeypatch.setenv("FUNNEL_SQS__QUEUE_URL", "http://127.0.0.1:9/000000000000/unused")
    monkeypatch.setenv("FUNNEL_WHATSAPP__CHANNELS", json.dumps([channel]))
    get_settings.cache_clear()
    import funnel.receiver.lambda_handler as module

    yield importlib.reload(module)
    get_settings.cache_clear()


def http_api_event(method: str, path: str, query: str = "", body: str = "") -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "abc.lambda-url.eu-west-1.on.aws", "content-type": "application/json"},
        "requestContext": {
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "10.0.0.1",
            },
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


class _Context:
    aws_request_id = "test"


def test_handshake_through_lambda(lambda_module: ModuleType) -> None:
    query = "hub.mode=subscribe&hub.verify_token=lambda-verify-token&hub.challenge=8675309"
    response = lambda_module.handler(http_api_event("GET", "/webhook", query), _Context())
    assert response["statusCode"] == 200
    assert response["body"] == "8675309"


def test_unsigned_post_through_lambda_is_refused(lambda_module: ModuleType) -> None:
    response = lambda_module.handler(
        http_api_event("POST", "/webhook", body='{"entry":[]}'), _Context()
    )
    assert response["statusCode"] == 401
    assert response["headers"]["x-correlation-id"]
