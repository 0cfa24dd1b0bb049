"""``funnel dev``: the whole platform on one machine, on embedded services.

Order of start-up, and the reverse order of shutdown: PostgreSQL (embedded unless
``FUNNEL_DATABASE__URL`` names a server), migrations, the demo seed, moto (SQS), Tansu (Kafka), the
inbound topic and queue, then every Funnel process as a child with its configuration in the
environment. Where everything listens, the demo login and the development WhatsApp channel are
printed and written to ``<state_dir>/dev.json``; each child logs to ``<state_dir>/logs/``.

A deployable whose command is not built yet exits at once with code 2; that is reported and
skipped, so ``funnel dev`` is useful at every stage of the project.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from funnel.core.devstack.kafka import TansuBroker, create_topic
from funnel.core.devstack.process import (
    ManagedProcess,
    ServiceStartError,
    port_is_free,
    tcp_ready,
)
from funnel.core.devstack.sqs import TEST_ACCESS_KEY, TEST_SECRET_KEY, MotoServer
from funnel.core.settings import DatabaseSettings, Settings, get_settings

if TYPE_CHECKING:
    from funnel.core.seed import DemoSeed

#: Conventional ports, used when free so bookmarks and tools keep working across runs.
KAFKA_PORT = 9092
MOTO_PORT = 4566
INBOUND_QUEUE = "funnel-inbound"
#: Receives of one webhook before SQS parks it in the DLQ.
INBOUND_MAX_RECEIVE = 5

#: How long a child may take to open its port, and how long a portless child must stay up.
START_TIMEOUT_S = 60.0
SETTLE_S = 3.0
#: Exit code a deployable's command uses for "not built yet".
NOT_BUILT_EXIT_CODE = 2


class _Shutdown(Exception):
    """Raised from the SIGTERM handler so shutdown runs the same path as Ctrl-C."""


@dataclass
class Child:
    name: str
    argv: list[str]
    log: Path
    env: dict[str, str]
    #: Where it is reached: its HTTP URL, or for a worker its metrics endpoint's host:port.
    url: str
    #: The port that shows it is up: its HTTP port, or a worker's metrics port.
    port: int
    serves_http: bool
    status: str = "starting"
    #: Why a child is not running, from the end of its log.
    detail: str = ""
    process: ManagedProcess | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.alive() else None


@dataclass
class _Stack:
    """What has been started, so it can be stopped in reverse order whatever happens."""

    stops: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def push(self, name: str, stop: Callable[[], None]) -> None:
        self.stops.append((name, stop))

    def close(self) -> None:
        while self.stops:
            name, stop = self.stops.pop()
            try:
                stop()
            except Exception as exc:  # keep stopping the rest
                _say(f"  stopping {name} failed: {exc}")


def run_dev(first_port: int, reset: bool, exit_after_start: bool) -> int:
    """Start everything, print where it listens, and run until Ctrl-C or SIGTERM.

    Returns the process exit code: 0 after a clean stop; 1 when start-up failed, or when
    ``exit_after_start`` finds a child that crashed.
    """
    settings = get_settings()
    state_dir = settings.state_dir.resolve()
    if reset and state_dir.exists():
        _say(f"Wiping {state_dir}")
        shutil.rmtree(state_dir)
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    dev_json = state_dir / "dev.json"
    # A stale file would tell a waiting script that this run is ready before it is.
    dev_json.unlink(missing_ok=True)

    stack = _Stack()
    started = time.monotonic()
    with _terminate_as_exception():
        try:
            children = _start(settings, state_dir, logs, first_port, stack, dev_json)
            _say(f"Ready in {time.monotonic() - started:.1f}s. Ctrl-C stops everything.")
            if exit_after_start:
                _say("Stopping (--exit-after-start)…")
                return 1 if any(c.status == "failed" for c in children) else 0
            _watch(children)
        except (KeyboardInterrupt, _Shutdown):
            _say("\nStopping…")
        except ServiceStartError as exc:
            _say(f"funnel dev could not start: {exc}")
            return 1
        finally:
            # Signals during shutdown would interrupt the very cleanup they ask for.
            with _signals_ignored():
                stack.close()
            _say("Stopped.")
    return 0


def _start(
    settings: Settings,
    state_dir: Path,
    logs: Path,
    first_port: int,
    stack: _Stack,
    dev_json: Path,
) -> list[Child]:
    from funnel.core.devstack.postgres import embedded_server, ensure_database

    if settings.database.url.get_secret_value():
        _say("Using the configured PostgreSQL (FUNNEL_DATABASE__URL)…")
    else:
        _say(f"Starting PostgreSQL (data in {state_dir / 'postgres'})…")
        # Stopped last, after everything that talks to it.
        stack.push("postgres", embedded_server(settings).stop)
    database_url = ensure_database(settings)
    seed = asyncio.run(_migrate_and_seed(database_url, settings))

    _say("Starting SQS (moto) and Kafka (Tansu)…")
    moto = MotoServer(
        log_file=logs / "moto.log", port=_preferred_port(MOTO_PORT), region=settings.sqs.region
    )
    # Pushed before start: an interrupted start still leaves a process to stop.
    stack.push("moto", moto.stop)
    moto.start()
    kafka = TansuBroker(log_file=logs / "tansu.log", port=_preferred_port(KAFKA_PORT))
    stack.push("tansu", kafka.stop)
    kafka.start()

    # Created before anything produces: an unknown topic would be auto-created with 4 partitions.
    for topic in (settings.kafka.inbound_topic, settings.kafka.dead_letter_topic):
        asyncio.run(create_topic(kafka.bootstrap_servers, topic, settings.kafka.partitions))
    queue = moto.create_queue(
        INBOUND_QUEUE,
        dlq=True,
        max_receive=INBOUND_MAX_RECEIVE,
        visibility_timeout_s=settings.sqs.visibility_timeout_s,
    )

    ports = _PortPlan(first_port)
    api_port, receiver_port, sandbox_port = ports.next(), ports.next(), ports.next()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    channel = {
        "phone_number_id": seed.phone_number_id,
        "app_secrets": [seed.app_secret],
        "verify_token": seed.verify_token,
        "organisation_id": str(seed.organisation_id),
        "waba_id": seed.waba_id,
    }
    env = {
        "FUNNEL_ENVIRONMENT": settings.environment.value,
        "FUNNEL_STATE_DIR": str(state_dir),
        "FUNNEL_DATABASE__URL": database_url,
        "FUNNEL_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "FUNNEL_KAFKA__INBOUND_TOPIC": settings.kafka.inbound_topic,
        "FUNNEL_KAFKA__DEAD_LETTER_TOPIC": settings.kafka.dead_letter_topic,
        "FUNNEL_KAFKA__PARTITIONS": str(settings.kafka.partitions),
        "FUNNEL_KAFKA__ENABLE_IDEMPOTENCE": "false",
        "FUNNEL_SQS__QUEUE_URL": queue.url,
        "FUNNEL_SQS__DEAD_LETTER_QUEUE_URL": queue.dlq_url or "",
        "FUNNEL_SQS__ENDPOINT_URL": moto.endpoint_url,
        "FUNNEL_SQS__REGION": moto.region,
        "FUNNEL_SQS__ACCESS_KEY_ID": TEST_ACCESS_KEY,
        "FUNNEL_SQS__SECRET_ACCESS_KEY": TEST_SECRET_KEY,
        "FUNNEL_WHATSAPP__CHANNELS": json.dumps([channel]),
        # Never the real Graph API from a laptop with development credentials.
        "FUNNEL_WHATSAPP__GRAPH_BASE_URL": sandbox_url,
        "FUNNEL_OBSERVABILITY__LOG_FORMAT": "console",
    }
    funnel = _funnel_command()

    def child(name: str, args: list[str], *, port: int | None) -> Child:
        child_env = dict(env)
        metrics_port = ports.next()
        child_env["FUNNEL_OBSERVABILITY__METRICS_PORT"] = str(metrics_port)
        if port is not None:
            args = [*args, "--host", "127.0.0.1", "--port", str(port)]
        return Child(
            name=name,
            argv=[*funnel, *args],
            log=logs / f"{name}.log",
            env=child_env,
            url=f"http://127.0.0.1:{port}" if port is not None else f"127.0.0.1:{metrics_port}",
            port=port if port is not None else metrics_port,
            serves_http=port is not None,
        )

    children = [
        # The sandbox first: the others send to it. It answers each send with signed status
        # webhooks (sent, delivered, read) to the receiver, as Meta does.
        child(
            "sandbox",
            [
                "sandbox",
                "serve",
                "--webhook-url",
                f"http://127.0.0.1:{receiver_port}/webhook",
                "--app-secret",
                seed.app_secret,
                "--waba-id",
                seed.waba_id,
            ],
            port=sandbox_port,
        ),
        child("api", ["api", "serve"], port=api_port),
        child("receiver", ["receiver", "serve"], port=receiver_port),
        child("bridge", ["receiver", "bridge"], port=None),
        child("worker", ["pipeline", "worker"], port=None),
    ]
    _say("Starting Funnel processes…")
    processes = [ManagedProcess(c.name, c.argv, log_file=c.log, env=c.env) for c in children]
    for c, process in zip(children, processes, strict=True):
        c.process = process
    sandbox, *platform = processes
    # Shutdown order: the platform processes together (none calls another, and each may take its
    # full grace period to drain), then the sandbox a draining worker may still send to, then the
    # services they all use.
    stack.push("sandbox", sandbox.stop)
    stack.push("funnel processes", lambda: _stop_together(platform))
    for process in processes:
        process.start()
    _wait_for(children)

    for c in children:
        # A child that passed its readiness check may still have died since: say so.
        if c.status == "running" and c.process is not None and not c.process.alive():
            code = c.process.popen.poll() if c.process.popen else None
            c.status, c.detail = "failed", f"exited after start, code {code}: {_last_line(c.log)}"
    info = _describe(database_url, kafka, moto, queue.url, queue.dlq_url, settings, seed, children)
    dev_json.write_text(json.dumps(info, indent=2) + "\n")
    _print_table(info, dev_json)
    return children


async def _migrate_and_seed(database_url: str, settings: Settings) -> DemoSeed:
    from funnel.core.db.engine import create_engine, session_factory
    from funnel.core.db.migrate import upgrade_async
    from funnel.core.seed import seed_demo

    _say("Migrating…")
    await upgrade_async(database_url)
    _say("Seeding the demo organisation…")
    engine = create_engine(
        DatabaseSettings(url=SecretStr(database_url)), application_name="funnel-dev"
    )
    try:
        async with session_factory(engine)() as session:
            seed = await seed_demo(session, settings)
            await session.commit()
    finally:
        await engine.dispose()
    return seed


def _stop_together(processes: list[ManagedProcess]) -> None:
    """SIGTERM all at once and wait for each: shutdown takes the slowest's time, not the sum."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(processes) or 1) as pool:
        for future in [pool.submit(p.stop) for p in processes]:
            future.result()


def _wait_for(children: list[Child]) -> None:
    """Wait until each child listens on its port, exits, or (portless) stays up a while."""
    started = time.monotonic()
    pending = list(children)
    while pending:
        elapsed = time.monotonic() - started
        for c in list(pending):
            assert c.process is not None
            code = c.process.popen.poll() if c.process.popen else None
            if code is not None:
                c.status, c.detail = _exit_status(code, c.log)
            elif tcp_ready("127.0.0.1", c.port):
                c.status = "running"
            elif elapsed > START_TIMEOUT_S:
                c.status, c.detail = "failed", f"not listening after {START_TIMEOUT_S:.0f}s"
                c.process.stop()
            elif not c.serves_http and elapsed > SETTLE_S:
                # No metrics endpoint (yet), but alive: as ready as a worker can show.
                c.status = "running"
            else:
                continue
            pending.remove(c)
        time.sleep(0.1)


def _exit_status(code: int, log: Path) -> tuple[str, str]:
    """Status and a one-line reason for a child that exited during start-up."""
    reason = _last_line(log)
    if code == NOT_BUILT_EXIT_CODE:
        # Also a stub that has no --host/--port yet: typer rejects the option with exit 2
        # before the stub can say "not built yet". The reason keeps that visible.
        return "not built yet", reason
    return "failed", f"exit code {code}: {reason}"


def _last_line(log: Path) -> str:
    """The last line of a log with text in it, without typer's box drawing around errors."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return next((line.strip(" │╭╮╰╯─") for line in reversed(lines) if line.strip(" │╭╮╰╯─")), "")


def _watch(children: list[Child]) -> None:
    """Block until interrupted, reporting a child that dies on its own (its log says why)."""
    reported: set[str] = set()
    while True:
        for c in children:
            if (
                c.status == "running"
                and c.process is not None
                and not c.process.alive()
                and c.name not in reported
            ):
                reported.add(c.name)
                code = c.process.popen.poll() if c.process.popen else None
                _say(f"! {c.name} exited with code {code}; see {c.log}")
        time.sleep(0.5)


def _describe(
    database_url: str,
    kafka: TansuBroker,
    moto: MotoServer,
    queue_url: str,
    dlq_url: str | None,
    settings: Settings,
    seed: DemoSeed,
    children: list[Child],
) -> dict[str, Any]:
    return {
        "processes": {
            c.name: {
                ("url" if c.serves_http else "address"): c.url,
                "pid": c.pid,
                "log": str(c.log),
                "status": c.status,
                "detail": c.detail,
            }
            for c in children
        },
        "services": {
            "postgres": {"url": database_url},
            "kafka": {
                "bootstrap_servers": kafka.bootstrap_servers,
                "inbound_topic": settings.kafka.inbound_topic,
                "partitions": settings.kafka.partitions,
                "pid": kafka.pid,
                "log": str(kafka.log_file),
            },
            "sqs": {
                "endpoint_url": moto.endpoint_url,
                "region": moto.region,
                "queue_url": queue_url,
                "dead_letter_queue_url": dlq_url,
                "pid": moto.pid,
                "log": str(moto.log_file),
            },
        },
        "demo": {
            "email": seed.email,
            "password": seed.password,
            "organisation_id": str(seed.organisation_id),
            "organisation_slug": seed.organisation_slug,
        },
        "channel": {
            "phone_number_id": seed.phone_number_id,
            "waba_id": seed.waba_id,
            "app_secret": seed.app_secret,
            "verify_token": seed.verify_token,
            "display_phone_number": seed.display_phone_number,
        },
    }


def _print_table(info: dict[str, Any], dev_json: Path) -> None:
    rows: list[tuple[str, str, str]] = []
    for name, p in info["processes"].items():
        where = p["url"] if "url" in p else f"{p['address']} (metrics)"
        rows.append((name, p["status"], where if p["status"] == "running" else p["detail"]))
    services = info["services"]
    rows += [
        ("postgres", "running", services["postgres"]["url"]),
        ("kafka", "running", services["kafka"]["bootstrap_servers"]),
        ("sqs", "running", services["sqs"]["endpoint_url"]),
    ]
    width = max(len(r[0]) for r in rows)
    _say("")
    for name, status, where in rows:
        _say(f"  {name:<{width}}  {status:<13}  {where}")
    demo, channel = info["demo"], info["channel"]
    _say("")
    _say(f"  Demo login        {demo['email']} / {demo['password']}")
    _say(f"  Organisation      {demo['organisation_slug']} ({demo['organisation_id']})")
    _say(f"  Phone number id   {channel['phone_number_id']} ({channel['display_phone_number']})")
    _say(f"  WABA id           {channel['waba_id']}")
    _say(f"  App secret        {channel['app_secret']}")
    _say(f"  Verify token      {channel['verify_token']}")
    _say(f"  Queue             {services['sqs']['queue_url']}")
    _say(f"  Topic             {services['kafka']['inbound_topic']}")
    _say(f"  Logs              {Path(info['services']['kafka']['log']).parent}")
    _say(f"  All of this in    {dev_json}")
    _say("")


class _PortPlan:
    """Hands out loopback ports from ``first`` upwards, skipping busy ones."""

    def __init__(self, first: int) -> None:
        self._next = first

    def next(self) -> int:
        while not port_is_free(self._next):
            self._next += 1
        port = self._next
        self._next += 1
        return port


def _preferred_port(port: int) -> int | None:
    """``port`` when free; otherwise ``None``, which lets the service pick any free port."""
    return port if port_is_free(port) else None


def _funnel_command() -> list[str]:
    # The script installed next to this interpreter, so children run the same environment.
    script = Path(sys.executable).parent / "funnel"
    return [str(script)] if script.exists() else [sys.executable, "-m", "funnel.core.cli"]


@contextlib.contextmanager
def _terminate_as_exception() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Shutdown(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - this command's output is for a person
