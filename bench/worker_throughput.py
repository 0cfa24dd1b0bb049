"""Worker throughput: turns per second with an LLM that takes seconds, across many conversations.

Events are produced straight into Kafka (moto and the receiver are not the subject here), and one
``funnel pipeline worker`` process runs the real four-stage pipeline with a fake LLM that sleeps
``--llm-s`` per call before answering like the offline provider. The channel's throughput is set
high so WhatsApp pacing is not the limit.

Figures:
* turns/s sustained, against the ceiling the in-flight limit allows (max_in_flight / turn time)
  measured in the same run, and against the same worker with an instant LLM (its overhead limit);
* per-turn overhead excluding LLM time (loading the context + persisting the decision), p50/p99;
* the worker process's peak memory;
* per-conversation order: every conversation's turns ran in the customer's order.

    python bench/worker_throughput.py [--conversations 2000] [--messages 3] [--llm-s 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from funnel.core.contracts.events import InboundEvent  # noqa: E402
from funnel.core.db.engine import create_engine  # noqa: E402
from funnel.core.db.migrate import upgrade_async  # noqa: E402
from funnel.core.devstack.kafka import TansuBroker, create_topic  # noqa: E402
from funnel.core.devstack.postgres import EmbeddedPostgres, create_database  # noqa: E402
from funnel.core.devstack.process import ManagedProcess  # noqa: E402
from funnel.core.llm.base import LlmRequest, LlmResult, OutputT  # noqa: E402
from funnel.core.llm.offline import OfflineLlmClient  # noqa: E402
from funnel.core.models import Message, Organisation, PipelineRun, WhatsAppChannel  # noqa: E402
from funnel.core.models.enums import MessageDirection  # noqa: E402
from funnel.core.security.crypto import SecretBox, last4  # noqa: E402
from funnel.core.settings import DatabaseSettings, Settings  # noqa: E402
from funnel.core.whatsapp.webhook import split_events  # noqa: E402

KEY = "bench-encryption-key"
PHONE_NUMBER_ID = "100000000000001"


class SlowLlm:
    """The offline provider's answers, after ``delay_s``: an LLM that takes its time."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self._offline = OfflineLlmClient()

    @property
    def provider(self) -> str:
        return "bench-slow"

    @property
    def is_offline(self) -> bool:
        return True

    async def generate(self, request: LlmRequest[OutputT]) -> LlmResult[OutputT]:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return await self._offline.generate(request)

    async def aclose(self) -> None:
        return None


def slow_pipeline(settings: Settings) -> Any:
    """``--pipeline bench.worker_throughput:slow_pipeline`` for the worker process."""
    from funnel.core.turns.htl_pipeline import HtlPipeline

    delay = float(os.environ.get("BENCH_LLM_S", "1.0"))
    return HtlPipeline(SlowLlm(delay), settings=settings, retriever=None)


def payload(wa_id: str, text: str, ts: int) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Bench"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.BENCH{uuid.uuid4().hex}",
                                    "timestamp": str(ts),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


async def seed(url: str) -> uuid.UUID:
    box = SecretBox([KEY])
    engine = create_engine(DatabaseSettings(url=SecretStr(url)))
    org_id = uuid.uuid4()
    async with engine.begin() as c:
        await c.execute(
            sa.insert(Organisation).values(id=org_id, name="Bench", slug=f"bench-{org_id.hex[:8]}")
        )
        await c.execute(
            sa.insert(WhatsAppChannel).values(
                organisation_id=org_id,
                phone_number_id=PHONE_NUMBER_ID,
                waba_id="200000000000001",
                messages_per_second=100_000,
                access_token_encrypted=box.encrypt("token"),
                access_token_last4=last4("token"),
                app_secrets_encrypted=[box.encrypt("secret")],
                app_secret_last4=last4("secret"),
                verify_token_encrypted=box.encrypt("verify"),
                verify_token_last4=last4("verify"),
                is_connected=True,
            )
        )
    await engine.dispose()
    return org_id


async def produce(
    bootstrap: str, topic: str, org_id: uuid.UUID, conversations: int, messages: int
) -> None:
    base = int(time.time())
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        futures = []
        for seq in range(messages):
            for conversation in range(conversations):
                body = payload(f"9160{conversation:08d}", f"question {seq}", base + seq)
                (event,) = split_events(body)
                inbound = InboundEvent.from_webhook_event(
                    event, organisation_id=str(org_id), correlation_id=uuid.uuid4().hex
                )
                futures.append(
                    await producer.send(
                        topic,
                        value=inbound.encode(),
                        key=inbound.key_bytes(),
                        headers=inbound.headers(),
                    )
                )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def postgres_pids(data_dir: Path) -> list[int]:
    """The bench's PostgreSQL server (from its ``postmaster.pid``) and its backends."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(entry.name))
    return pids


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_phase(
    *,
    admin_url: str,
    template: str,
    broker: TansuBroker,
    sandbox_url: str,
    conversations: int,
    messages: int,
    llm_s: float,
    in_flight: int,
    workdir: Path,
    label: str,
    pg_data_dir: Path,
    profile: bool = False,
) -> dict[str, Any]:
    name = f"bench_{label}_{uuid.uuid4().hex[:6]}"
    url = await create_database(admin_url, name, template=template)
    org_id = await seed(url)
    topic = f"bench.{label}.{uuid.uuid4().hex[:6]}"
    await create_topic(broker.bootstrap_servers, topic, 8)
    await produce(broker.bootstrap_servers, topic, org_id, conversations, messages)
    log_file = workdir / f"worker-{label}.log"
    env = {
        "FUNNEL_ENVIRONMENT": "test",
        "FUNNEL_DATABASE__URL": url,
        "FUNNEL_DATABASE__POOL_SIZE": "20",
        "FUNNEL_DATABASE__MAX_OVERFLOW": "20",
        "FUNNEL_KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "FUNNEL_KAFKA__INBOUND_TOPIC": topic,
        "FUNNEL_KAFKA__CONSUMER_GROUP": f"bench-{label}",
        "FUNNEL_KAFKA__MAX_IN_FLIGHT": str(in_flight),
        "FUNNEL_KAFKA__SESSION_TIMEOUT_MS": "6000",
        "FUNNEL_KAFKA__HEARTBEAT_INTERVAL_MS": "1000",
        "FUNNEL_WORKER__DEBOUNCE_S": "0",
        "FUNNEL_WORKER__PAIR_INTERVAL_S": "0.001",
        "FUNNEL_WORKER__PAIR_BURST": "1000",
        "FUNNEL_WORKER__SENDER_CONCURRENCY": "256",
        "FUNNEL_WORKER__DOWNLOAD_MEDIA": "false",
        "FUNNEL_WHATSAPP__GRAPH_BASE_URL": sandbox_url,
        "FUNNEL_AUTH__ENCRYPTION_KEYS": KEY,
        "FUNNEL_OBSERVABILITY__METRICS_PORT": "0",
        "FUNNEL_OBSERVABILITY__LOG_LEVEL": "INFO",
        "BENCH_LLM_S": str(llm_s),
        "PYTHONPATH": str(ROOT),
    }
    worker = ManagedProcess(
        "worker",
        [
            sys.executable,
            "-m",
            "funnel.core.cli",
            "pipeline",
            "worker",
            "--pipeline",
            "bench.worker_throughput:slow_pipeline",
        ],
        log_file=log_file,
        env=env,
        cwd=ROOT,
    )
    total = conversations * messages
    engine = create_engine(DatabaseSettings(url=SecretStr(url)))
    worker.start()
    profiler = None
    if profile:
        assert worker.pid is not None
        py_spy = shutil.which("py-spy")
        if py_spy is None:
            raise SystemExit("--profile needs py-spy on PATH (pip install py-spy)")
        profiler = subprocess.Popen(  # noqa: ASYNC220 - started once, before the measurement
            [
                py_spy,
                "record",
                "--pid",
                str(worker.pid),
                "--format",
                "raw",
                "--output",
                str(workdir / f"profile-{label}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    started = time.monotonic()
    assert worker.pid is not None
    done_at: list[tuple[float, int, int]] = []
    #: (worker, PostgreSQL) CPU seconds at each row of ``done_at``.
    cpu_at: list[tuple[float, float]] = []
    try:
        while True:
            await asyncio.sleep(1.0)
            async with engine.connect() as c:
                answered = int(
                    (
                        await c.execute(
                            sa.select(sa.func.count())
                            .select_from(Message)
                            .where(
                                Message.direction == MessageDirection.INBOUND,
                                Message.pipeline_run_id.is_not(None),
                            )
                        )
                    ).scalar_one()
                )
                runs = int(
                    (
                        await c.execute(sa.select(sa.func.count()).select_from(PipelineRun))
                    ).scalar_one()
                )
            done_at.append((time.monotonic() - started, answered, runs))
            cpu_at.append((cpu_seconds([worker.pid]), cpu_seconds(postgres_pids(pg_data_dir))))
            if answered >= total or time.monotonic() - started > 600:
                break
        assert worker.pid is not None
        peak = peak_rss_mb(worker.pid)
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
            print(f"profile: {workdir / f'profile-{label}.txt'}")
        worker.stop(grace_s=20)
    # Sustained rate: the middle of the run, past start-up and before the tail.
    low, high = total * 0.1, total * 0.9
    first = next(row for row in done_at if row[1] >= low)
    last = next((row for row in done_at if row[1] >= high), done_at[-1])
    span = max(last[0] - first[0], 1e-9)
    sustained = (last[2] - first[2]) / span  # turns (pipeline runs) per second
    # CPU per turn over the same window (start-up excluded). PostgreSQL backends that exited in
    # between are not counted: a lower bound, though the worker's pool keeps its connections.
    i, j = done_at.index(first), done_at.index(last)
    window_turns = max(last[2] - first[2], 1)
    worker_cpu_ms = (cpu_at[j][0] - cpu_at[i][0]) / window_turns * 1000
    pg_cpu_ms = max(cpu_at[j][1] - cpu_at[i][1], 0.0) / window_turns * 1000
    messages_rate = (last[1] - first[1]) / span
    overheads = []
    for line in log_file.read_text().splitlines():
        if '"turn.done"' in line:
            record = json.loads(line)
            overheads.append(float(record["overhead_ms"]))
    async with engine.connect() as c:
        # Order: within each conversation, runs started in WhatsApp-timestamp order of the
        # messages they answered.
        rows = (
            await c.execute(
                sa.select(
                    Message.conversation_id, Message.whatsapp_timestamp, PipelineRun.started_at
                )
                .join(PipelineRun, PipelineRun.id == Message.pipeline_run_id)
                .where(Message.direction == MessageDirection.INBOUND)
                # One run can answer several messages (a burst): within it, timestamp order.
                .order_by(
                    Message.conversation_id, PipelineRun.started_at, Message.whatsapp_timestamp
                )
            )
        ).all()
    await engine.dispose()
    in_order = True
    latest: dict[Any, dt.datetime] = {}
    for conversation_id, ts, _ in rows:
        if conversation_id in latest and ts < latest[conversation_id]:
            in_order = False
        latest[conversation_id] = ts
    overheads.sort()
    return {
        "label": label,
        "turns": done_at[-1][2],
        "answered": done_at[-1][1],
        "messages_per_s": round(messages_rate, 1),
        "expected": total,
        "elapsed_s": round(done_at[-1][0], 1),
        "sustained_turns_per_s": round(sustained, 1),
        "overhead_p50_ms": round(statistics.median(overheads), 2) if overheads else None,
        "overhead_p99_ms": round(overheads[int(len(overheads) * 0.99) - 1], 2)
        if overheads
        else None,
        "peak_rss_mb": round(peak, 1),
        "worker_cpu_ms_per_turn": round(worker_cpu_ms, 2),
        "postgres_cpu_ms_per_turn": round(pg_cpu_ms, 2),
        "in_order": in_order,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=3)
    parser.add_argument("--llm-s", type=float, default=1.0)
    parser.add_argument("--in-flight", type=int, default=600)
    parser.add_argument(
        "--phases",
        default="instant_llm,slow_llm",
        help="which phases to run, comma-separated (instant_llm, slow_llm)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record each worker with py-spy (must be on PATH) into the run's work directory",
    )
    args = parser.parse_args()

    from tests.core.sandbox.support import serve_sandbox

    workdir = Path(tempfile.mkdtemp(prefix="funnel-bench-worker-"))
    pg = EmbeddedPostgres(workdir / "pg")
    pg.start()
    broker = TansuBroker(log_file=workdir / "tansu.log")
    broker.start()
    try:
        template = "bench_template"
        template_url = await create_database(pg.admin_url, template)
        await upgrade_async(template_url)
        with serve_sandbox() as sandbox:
            results = []
            phases = [
                (label, llm_s)
                for label, llm_s in (("instant_llm", 0.0), ("slow_llm", args.llm_s))
                if label in args.phases.split(",")
            ]
            for label, llm_s in phases:
                results.append(
                    await run_phase(
                        admin_url=pg.admin_url,
                        template=template,
                        broker=broker,
                        sandbox_url=sandbox.url,
                        conversations=args.conversations,
                        messages=args.messages,
                        llm_s=llm_s,
                        in_flight=args.in_flight,
                        workdir=workdir,
                        label=label,
                        pg_data_dir=pg.data_dir,
                        profile=args.profile,
                    )
                )
    finally:
        broker.stop()
        pg.stop()
    llm_calls_per_turn = 3  # Eyes, Brain, Mouth on the reply's path
    ceiling = args.in_flight / (llm_calls_per_turn * args.llm_s) if args.llm_s else float("inf")
    print(
        f"\nworker throughput: {args.conversations} conversations x {args.messages} messages, "
        f"fake LLM {args.llm_s}s per call, max in flight {args.in_flight}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(f"ceiling from the in-flight limit: {ceiling:.0f} turns/s")
    header = (
        f"{'phase':<12} {'turns':>7} {'elapsed s':>9} {'turns/s':>8} {'ovh p50 ms':>10} "
        f"{'ovh p99 ms':>10} {'peak MB':>8} {'in order':>8} {'worker cpu ms/turn':>18} "
        f"{'pg cpu ms/turn':>14}"
    )
    print(header)
    for r in results:
        print(
            f"{r['label']:<12} {r['turns']:>7} {r['elapsed_s']:>9} {r['sustained_turns_per_s']:>8} "
            f"{r['overhead_p50_ms']:>10} {r['overhead_p99_ms']:>10} {r['peak_rss_mb']:>8} "
            f"{r['in_order']!s:>8} {r['worker_cpu_ms_per_turn']:>18} "
            f"{r['postgres_cpu_ms_per_turn']:>14}"
        )
    out = ROOT / "bench" / "results" / "worker_throughput.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "args": vars(args),
                "ceiling": ceiling,
                "results": results,
                "loadavg": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
