"""The HTTP client a process uses for the Graph API: a few connections, and a queue in front.

httpx's connection pool (httpcore 1.x) does its bookkeeping by walking every connection, and
every queued request, each time a request starts or finishes; an idle connection even counts
the whole pool once more. With hundreds of turns in flight that is quadratic: measured in the
worker, with a pool as wide as the sender (512 connections), a fifth of the process's CPU went
to choosing a connection, more than to sending.

So the pool here is small (``WhatsAppSettings.max_connections``, 32 by default: at Meta's usual
100–300 ms per call that is 100+ calls a second per process, above the 80 messages/s a number
may send), and requests beyond it wait in an ``asyncio.Semaphore`` in front of the pool, where
waiting costs nothing, instead of in the pool's own queue. The semaphore is held until the
response body is closed, which is when httpcore gives the connection back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx

from funnel.core.settings import WhatsAppSettings


class BoundedTransport(httpx.AsyncBaseTransport):
    """At most ``limit`` requests inside ``inner`` at once; the rest wait their turn in order."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._inner = inner
        self._slots = asyncio.Semaphore(limit)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self._slots.acquire()
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._slots.release()
            raise
        response.stream = _ReleasingStream(response.stream, self._slots.release)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its slot back once, when it is closed."""

    def __init__(
        self, stream: httpx.AsyncByteStream | httpx.SyncByteStream, release: Callable[[], None]
    ) -> None:
        assert isinstance(stream, httpx.AsyncByteStream)
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


def graph_http_client(settings: WhatsAppSettings) -> httpx.AsyncClient:
    """The process's one client for Graph calls (every channel shares it; tokens go per request)."""
    limit = settings.max_connections
    inner = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
    )
    return httpx.AsyncClient(
        transport=BoundedTransport(inner, limit), timeout=settings.request_timeout_s
    )
