"""Receiver into SQS: signed webhooks per second into moto, next to moto's own batch rate.

moto is slow (milliseconds per call, slower as a queue grows), so it is the limit here and the
figure that matters is the ratio: webhooks/s through the receiver (HTTP in, HMAC, micro-batched
``SendMessageBatch`` out, each request answered only after its entry was accepted) against
messages/s that a bare client pushes into the same moto with ``SendMessageBatch`` of ten, the same
number of calls in flight and the same message bodies, measured in the same run. The bare rate
is measured before and after the receiver, each on a fresh queue of the same length, and
averaged.

Target (issue 3): at least 80% of moto's own rate.

    python bench/receiver_sqs.py [--messages 1000] [--connections 128] [--concurrency 8]

Writes ``bench/results/receiver_sqs.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from receiver_cpu import free_port, wait_ready
from receiver_loadgen import PHONE_NUMBER_ID, SECRET, webhook_body

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
LOADGEN = HERE / "receiver_loadgen.py"


def serve(port: int, endpoint: str, queue_url: str, concurrency: int, linger_ms: float) -> None:
    """The server process: the real receiver with its real SQS publisher, one uvicorn worker."""
    import uvicorn
    from pydantic import SecretStr

    from funnel.core.devstack.sqs import TEST_ACCESS_KEY, TEST_SECRET_KEY
    from funnel.core.settings import (
        Environment,
        Settings,
        SqsSettings,
        WhatsAppChannelConfig,
        WhatsAppSettings,
    )
    from funnel.receiver.app import create_app

    settings = Settings(
        environment=Environment.TEST,
        sqs=SqsSettings(
            queue_url=queue_url,
            endpoint_url=endpoint,
            access_key_id=SecretStr(TEST_ACCESS_KEY),
            secret_access_key=SecretStr(TEST_SECRET_KEY),
            publish_concurrency=concurrency,
            batch_linger_ms=linger_ms,
            publish_timeout_s=30.0,
            publish_queue_size=10_000,
        ),
        whatsapp=WhatsAppSettings(
            channels=[
                WhatsAppChannelConfig(
                    phone_number_id=PHONE_NUMBER_ID,
                    app_secrets=[SecretStr(SECRET)],
                    verify_token=SecretStr("bench-verify-token"),
                    organisation_id="org-bench",
                )
            ]
        ),
    )
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
    )


def sample_body() -> str:
    """An SQS body of the size the receiver sends for one typical webhook."""
    from funnel.core.contracts.sqs import SqsWebhookMessage

    return SqsWebhookMessage.wrap(
        webhook_body(0),
        correlation_id="0" * 32,
        phone_number_ids=[PHONE_NUMBER_ID],
        organisation_id="org-bench",
    ).encode()


async def raw_rate(
    endpoint: str, region: str, queue_url: str, messages: int, concurrency: int
) -> dict[str, Any]:
    """moto's own SendMessageBatch rate: ``concurrency`` loops sending batches of ten."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    from funnel.core.devstack.sqs import TEST_ACCESS_KEY, TEST_SECRET_KEY

    body = sample_body()
    batches = messages // 10
    sent = 0
    async with get_session().create_client(
        "sqs",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
        config=AioConfig(max_pool_connections=concurrency + 2),
    ) as client:

        async def loop() -> None:
            nonlocal sent
            while sent < batches:
                sent += 1
                await client.send_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(i), "MessageBody": body} for i in range(10)],
                )

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "messages": batches * 10,
        "elapsed_s": round(elapsed, 3),
        "rate_per_s": round(batches * 10 / elapsed, 1),
    }


def queue_depth(moto: Any, queue_url: str) -> int:
    attributes = moto.client().get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def scrape_batches(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()

    def value(name: str) -> float:
        match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    calls = value("funnel_receiver_sqs_batch_size_count")
    entries = value("funnel_receiver_sqs_batch_size_sum")
    return {
        "send_message_batch_calls": calls,
        "entries": entries,
        "mean_batch_size": round(entries / calls, 2) if calls else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # moto slows down as a queue grows (each call costs more with every message waiting), so
    # phases are kept short and each starts from an empty queue of its own.
    parser.add_argument("--messages", type=int, default=1_000, help="per phase")
    parser.add_argument("--connections", type=int, default=128, help="concurrent webhook POSTs")
    parser.add_argument("--concurrency", type=int, default=8, help="SendMessageBatch in flight")
    parser.add_argument("--linger-ms", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=120.0, help="cap per phase, seconds")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        port, endpoint, queue_url = args.serve
        serve(int(port), endpoint, queue_url, args.concurrency, args.linger_ms)
        return

    from funnel.core.devstack.sqs import MotoServer

    RESULTS.mkdir(exist_ok=True)
    load_before = os.getloadavg()
    moto = MotoServer(log_file=RESULTS / "receiver_sqs.moto.log")
    moto.start()
    server: subprocess.Popen[bytes] | None = None
    try:
        stamp = int(time.time())
        queues = {
            name: moto.create_queue(f"bench-{name}-{stamp}").url
            for name in ("raw-before", "receiver", "raw-after")
        }
        # Warm moto's code paths so the first measured phase is not paying for them.
        asyncio.run(raw_rate(moto.endpoint_url, moto.region, queues["raw-after"], 200, 4))
        moto.client().purge_queue(QueueUrl=queues["raw-after"])

        before = asyncio.run(
            raw_rate(
                moto.endpoint_url,
                moto.region,
                queues["raw-before"],
                args.messages,
                args.concurrency,
            )
        )

        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                str(port),
                moto.endpoint_url,
                queues["receiver"],
                "--concurrency",
                str(args.concurrency),
                "--linger-ms",
                str(args.linger_ms),
            ],
            cwd=HERE,
        )
        wait_ready(port)
        spec = {
            "mode": "closed",
            "host": "127.0.0.1",
            "port": port,
            "path": "/webhook",
            "connections": args.connections,
            "max_requests": args.messages,
            "duration_s": args.duration,
            "distinct_bodies": args.messages,
        }
        out = subprocess.run(
            [sys.executable, str(LOADGEN), json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=args.duration + 120,
            check=True,
        )
        receiver: dict[str, Any] = json.loads(out.stdout)
        receiver["batching"] = scrape_batches(port)
        receiver["in_queue"] = queue_depth(moto, queues["receiver"])
        server.terminate()
        server.wait(timeout=30)
        server = None

        after = asyncio.run(
            raw_rate(
                moto.endpoint_url, moto.region, queues["raw-after"], args.messages, args.concurrency
            )
        )
    finally:
        if server is not None:
            server.kill()
        moto.stop()

    raw_mean = (before["rate_per_s"] + after["rate_per_s"]) / 2
    ratio = receiver["rate_per_s"] / raw_mean if raw_mean else 0.0
    accepted = receiver["statuses"].get("200", 0)
    verdict = {
        "receiver_vs_moto_raw": round(ratio, 3),
        "target_ratio": 0.8,
        "ratio_met": ratio >= 0.8,
        "every_200_is_in_the_queue": receiver["in_queue"] >= accepted,
    }
    print(f"{'phase':<38} {'msgs/s':>9} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}")
    print("-" * 74)
    raw_row = "{:<38} {:>9.0f} {:>7}"
    print(
        raw_row.format(
            "moto raw SendMessageBatch (before)", before["rate_per_s"], before["messages"]
        )
    )
    print(
        f"{'receiver webhooks into moto':<38} {receiver['rate_per_s']:>9.0f} "
        f"{receiver['requests']:>7} {receiver['p50_ms']:>8.2f} {receiver['p99_ms']:>8.2f}"
    )
    print(
        raw_row.format("moto raw SendMessageBatch (after)", after["rate_per_s"], after["messages"])
    )
    print(
        f"\nreceiver / moto raw = {ratio:.2f} (target >= 0.80); statuses {receiver['statuses']}; "
        f"mean batch {receiver['batching']['mean_batch_size']}; "
        f"{receiver['in_queue']} messages in the queue for {accepted} answered 200"
    )
    document = {
        "bench": "receiver_sqs",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "settings": vars(args),
        "moto_raw_before": before,
        "receiver": receiver,
        "moto_raw_after": after,
        "verdict": verdict,
    }
    (RESULTS / "receiver_sqs.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
