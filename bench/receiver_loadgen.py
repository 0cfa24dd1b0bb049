"""A small HTTP/1.1 load generator for the receiver benches, run as its own process.

It speaks raw HTTP/1.1 over keep-alive asyncio streams (uvloop when available) rather than
through an HTTP client library, so one process can drive well past what a single uvicorn worker
serves; the benches check that by driving a bare endpoint in the same run. Two modes:

* ``closed``: ``connections`` loops each send a request and wait for its answer, as fast as the
  server allows; gives the maximum rate.
* ``open``: requests are started on a fixed schedule (``rate`` per second) whatever the server
  does, and latency is measured from the scheduled start, so a stalled server shows up as latency
  instead of silently lowering the offered load (no coordinated omission).

Both stop at ``max_requests`` or ``duration_s``, whichever comes first.

Usage (the benches call it): ``python bench/receiver_loadgen.py '<json spec>'``; prints JSON.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

SECRET = "bench_app_secret"  # noqa: S105 - the benchmark's own fake app secret
PHONE_NUMBER_ID = "106540352242922"


def webhook_body(index: int) -> bytes:
    """A realistic one-message webhook (fixture 1's shape) with a unique wamid."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": "Asha Verma"},
                                    "wa_id": f"9198{index % 10**8:08d}",
                                    "user_id": "IN.1410018717833190",
                                }
                            ],
                            "messages": [
                                {
                                    "from": f"9198{index % 10**8:08d}",
                                    "from_user_id": "IN.1410018717833190",
                                    "id": f"wamid.HBgMOTE5ODEyMzQ1Njc4FQIAEhgg{index:016d}",
                                    "timestamp": "1764238453",
                                    "type": "text",
                                    "text": {"body": "Hi, where is my order #A-1042?"},
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_request(host: str, port: int, path: str, body: bytes) -> bytes:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    head = (
        f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
        f"x-hub-signature-256: {signature}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Spec:
    mode: str
    host: str
    port: int
    path: str
    connections: int
    max_requests: int
    duration_s: float
    rate: float = 0.0
    distinct_bodies: int = 1_000
    cpu: int | None = None

    @classmethod
    def parse(cls, text: str) -> Spec:
        return cls(**json.loads(text))


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def roundtrip(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lowered = head.lower()
        start = lowered.find(b"content-length:")
        if start >= 0:
            end = lowered.index(b"\r\n", start)
            length = int(lowered[start + 15 : end])
            if length:
                await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def summary(
    latencies: list[float], statuses: Counter[int], elapsed: float, cpu: float
) -> dict[str, Any]:
    latencies.sort()
    return {
        "requests": len(latencies),
        "elapsed_s": round(elapsed, 3),
        "rate_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p90_ms": round(percentile(latencies, 0.90) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round((latencies[-1] if latencies else float("nan")) * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        # Near 1.0 means the generator itself was saturated and the figure is a lower bound.
        "generator_cpu_fraction": round(cpu / elapsed, 2) if elapsed else 0.0,
    }


async def closed_loop(spec: Spec, requests: list[bytes]) -> dict[str, Any]:
    connections = [await Connection.open(spec.host, spec.port) for _ in range(spec.connections)]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    issued = 0
    deadline = time.perf_counter() + spec.duration_s

    async def worker(conn: Connection) -> None:
        nonlocal issued
        while issued < spec.max_requests and time.perf_counter() < deadline:
            request = requests[issued % len(requests)]
            issued += 1
            started = time.perf_counter()
            statuses[await conn.roundtrip(request)] += 1
            latencies.append(time.perf_counter() - started)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    elapsed, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    for conn in connections:
        conn.close()
    return summary(latencies, statuses, elapsed, cpu)


async def open_loop(spec: Spec, requests: list[bytes]) -> dict[str, Any]:
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(spec.connections):
        pool.put_nowait(await Connection.open(spec.host, spec.port))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    total = min(spec.max_requests, int(spec.rate * spec.duration_s))
    # perf_counter, not loop.time(): uvloop's clock has millisecond resolution.
    clock = time.perf_counter

    async def one(request: bytes, scheduled: float) -> None:
        conn = await pool.get()
        try:
            statuses[await conn.roundtrip(request)] += 1
        finally:
            pool.put_nowait(conn)
        latencies.append(clock() - scheduled)

    tasks: list[asyncio.Task[None]] = []
    cpu0 = time.process_time()
    start = clock() + 0.05
    for i in range(total):
        scheduled = start + i / spec.rate
        delay = scheduled - clock()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(requests[i % len(requests)], scheduled)))
    await asyncio.gather(*tasks)
    elapsed, cpu = clock() - start, time.process_time() - cpu0
    while not pool.empty():
        pool.get_nowait().close()
    result = summary(latencies, statuses, elapsed, cpu)
    result["offered_rate_per_s"] = spec.rate
    return result


async def run(spec: Spec) -> dict[str, Any]:
    requests = [
        signed_request(spec.host, spec.port, spec.path, webhook_body(i))
        for i in range(spec.distinct_bodies)
    ]
    if spec.mode == "closed":
        return await closed_loop(spec, requests)
    if spec.mode == "open":
        return await open_loop(spec, requests)
    raise SystemExit(f"unknown mode {spec.mode!r}")


def main() -> None:
    spec = Spec.parse(sys.argv[1])
    if spec.cpu is not None:
        # One core for the server, the other for the generator: neither steals the other's.
        os.sched_setaffinity(0, {spec.cpu})
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(spec))
    else:
        result = uvloop.run(run(spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
