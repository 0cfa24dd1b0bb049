"""The Graph HTTP client's bound: never more than ``limit`` requests in the pool, none stuck."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from funnel.core.settings import WhatsAppSettings
from funnel.core.whatsapp.http import BoundedTransport, graph_http_client


class SlowServer:
    """A transport that answers after ``delay_s`` and records how many requests it held at once."""

    def __init__(self, delay_s: float = 0.01, fail_first: int = 0) -> None:
        self.delay_s = delay_s
        self.fail_first = fail_first
        self.calls = 0
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise httpx.ConnectError("refused", request=request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.in_flight -= 1
        # A body still to be read, as a real transport returns it (the connection is handed
        # back when it is closed).
        return httpx.Response(200, content=_body(b'{"ok": true}'))


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_concurrent_calls_beyond_the_limit_wait_and_all_complete() -> None:
    server = SlowServer()
    async with httpx.AsyncClient(
        transport=BoundedTransport(httpx.MockTransport(server), limit=4), base_url="http://g"
    ) as client:
        responses = await asyncio.gather(*(client.get("/x") for _ in range(40)))
    assert [r.status_code for r in responses] == [200] * 40
    assert server.peak == 4


async def test_failed_requests_give_their_slot_back() -> None:
    server = SlowServer(fail_first=5)
    async with httpx.AsyncClient(
        transport=BoundedTransport(httpx.MockTransport(server), limit=2), base_url="http://g"
    ) as client:
        for _ in range(5):
            with pytest.raises(httpx.ConnectError):
                await client.get("/x")
        # With leaked slots these would wait forever.
        responses = await asyncio.wait_for(
            asyncio.gather(*(client.get("/x") for _ in range(6))), timeout=5
        )
    assert all(r.status_code == 200 for r in responses)


async def test_a_streamed_response_holds_its_slot_until_closed() -> None:
    server = SlowServer(delay_s=0)
    async with httpx.AsyncClient(
        transport=BoundedTransport(httpx.MockTransport(server), limit=1), base_url="http://g"
    ) as client:
        async with client.stream("GET", "/first") as first:
            second = asyncio.create_task(client.get("/second"))
            await asyncio.sleep(0.05)
            assert not second.done(), "the second call got a slot the open body still holds"
            await first.aread()
        assert (await asyncio.wait_for(second, timeout=5)).status_code == 200


def test_the_process_client_uses_the_configured_bound() -> None:
    client = graph_http_client(WhatsAppSettings(max_connections=3))
    transport = client._transport
    assert isinstance(transport, BoundedTransport)
    assert transport._slots._value == 3


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BoundedTransport(httpx.MockTransport(SlowServer()), limit=0)
