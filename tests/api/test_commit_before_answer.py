"""A write is committed before its answer leaves the server.

A browser acts on an answer the moment its last byte arrives: the dashboard signs in and at once
asks for the viewer with the new access token. If the request's transaction were still open at
that moment (FastAPI runs the exit code of a ``yield`` dependency *after* sending the response),
the next request would not see the new session and would be refused with 401, and the dashboard,
refreshing with a refresh token that is not committed either, would lose the session.

These tests act inside the ASGI ``send`` of the final body chunk, before the app has returned:
exactly where a fast client is.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from tests.api.conftest import PASSWORD, Tenant, bearer

T = TypeVar("T")


async def as_soon_as_answered(
    app: FastAPI,
    path: str,
    body: dict[str, Any],
    then: Callable[[int, Any], Awaitable[T]],
    *,
    headers: dict[str, str] | None = None,
) -> T:
    """POST ``body`` as JSON to ``path`` and run ``then(status, answer)`` when the answer's last
    byte is sent, while the request is still inside the app."""
    payload = json.dumps(body).encode()
    raw_headers = [
        (b"host", b"api.test"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("203.0.113.7", 5555),
        "server": ("api.test", 80),
        "state": {},
    }
    finished = asyncio.Event()
    request_sent = False
    status = 0
    chunks: list[bytes] = []
    outcome: list[T] = []

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                outcome.append(await then(status, json.loads(b"".join(chunks))))

    try:
        await app(scope, receive, send)
    finally:
        finished.set()
    assert outcome, "the app never finished its answer"
    return outcome[0]


async def test_a_fresh_login_is_usable_the_moment_it_is_answered(
    api_app: FastAPI, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def use_it(status: int, tokens: dict[str, Any]) -> tuple[int, int, int]:
        assert status == 200, tokens
        me = await client.get("/auth/me", headers=bearer(tokens["access_token"]))
        viewer = await client.post(
            "/graphql",
            json={"query": "{ me { role } }"},
            headers=bearer(tokens["access_token"]),
        )
        refreshed = await client.post(
            "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        return me.status_code, viewer.status_code, refreshed.status_code

    statuses = await as_soon_as_answered(
        api_app, "/auth/login", {"email": tenant.owner.email, "password": PASSWORD}, use_it
    )
    assert statuses == (200, 200, 200)


async def test_a_rotated_refresh_token_is_usable_the_moment_it_is_answered(
    api_app: FastAPI, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    async def rotate_again(status: int, tokens: dict[str, Any]) -> int:
        assert status == 200, tokens
        again = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        return again.status_code

    status = await as_soon_as_answered(
        api_app, "/auth/refresh", {"refresh_token": tenant.owner.refresh_token}, rotate_again
    )
    assert status == 200


async def test_a_graphql_mutation_is_visible_the_moment_it_is_answered(
    api_app: FastAPI, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    create = """mutation($input: CtaCreateInput!) {
      createCta(input: $input) { __typename ... on Cta { id } } }"""
    cta = {
        "type": "BOOK_CALL",
        "name": "Book a call",
        "url": "https://cal.example.com/x",
        "buttonText": "Pick a slot",
    }

    async def list_them(status: int, answer: dict[str, Any]) -> list[str]:
        assert status == 200, answer
        listed = await client.post(
            "/graphql", json={"query": "{ ctas { id } }"}, headers=tenant.owner.headers
        )
        return [c["id"] for c in listed.json()["data"]["ctas"]]

    async def created_and_listed(status: int, answer: dict[str, Any]) -> tuple[str, list[str]]:
        return answer["data"]["createCta"]["id"], await list_them(status, answer)

    created, listed = await as_soon_as_answered(
        api_app,
        "/graphql",
        {"query": create, "variables": {"input": cta}},
        created_and_listed,
        headers=tenant.owner.headers,
    )
    assert created in listed
