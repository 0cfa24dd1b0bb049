"""Receiver, CPU side: signed webhooks per second on one uvicorn process, next to a bare endpoint.

The receiver runs with a publisher that discards, so the figure is the cost of the receiver's
own work (read the body, HMAC, JSON parse and summary, contract encoding, logging, metrics) on
top of what FastAPI and uvicorn cost anyway, which the bare endpoint in the same process and the
same run measures. Server and load generator are separate processes pinned to separate cores.

Targets (issue 3): at least 50% of the bare endpoint's rate; p99 under 50 ms at 1,000 req/s.

    python bench/receiver_cpu.py [--duration 10] [--connections 32] [--rate 1000]

Writes ``bench/results/receiver_cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
LOADGEN = HERE / "receiver_loadgen.py"


class DiscardingPublisher:
    """Accepts everything at once: the benchmark measures the receiver, not a queue."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, body: str, *, dead_letter: bool = False) -> None:
        return None

    async def ready(self) -> bool:
        return True


def serve(port: int, cpu: int | None, log_path: str, log_level: str) -> None:
    """The server process: the receiver app plus ``POST /bare``, on one uvicorn worker."""
    import logging

    import uvicorn
    from fastapi import Response
    from pydantic import SecretStr

    from funnel.core.settings import (
        Environment,
        ObservabilitySettings,
        Settings,
        SqsSettings,
        WhatsAppChannelConfig,
        WhatsAppSettings,
    )
    from funnel.core.telemetry import configure_logging
    from funnel.receiver.app import create_app
    from receiver_loadgen import PHONE_NUMBER_ID, SECRET

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    settings = Settings(
        environment=Environment.TEST,
        sqs=SqsSettings(queue_url="http://discarded.invalid/queue"),
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
    # Production logging (JSON, INFO: one line per webhook) into a file, so its cost counts.
    configure_logging(ObservabilitySettings(log_level=log_level), service="receiver-bench")
    handler = logging.FileHandler(log_path)
    root = logging.getLogger()
    handler.setFormatter(root.handlers[0].formatter)
    for log_filter in root.handlers[0].filters:
        handler.addFilter(log_filter)
    root.handlers = [handler]

    app = create_app(settings, DiscardingPublisher())

    @app.post("/bare")
    async def bare() -> Response:
        return Response(status_code=200)

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not become ready")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(spec: dict[str, Any], server_pid: int | None = None) -> dict[str, Any]:
    """Run one phase in a generator process; add the server's CPU time per request."""
    timeout = spec["duration_s"] + 60
    before = cpu_seconds(server_pid) if server_pid else 0.0
    out = subprocess.run(
        [sys.executable, str(LOADGEN), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    if server_pid and result["requests"]:
        # CPU per request is what the server's own work costs, and unlike the rate it barely
        # moves when other processes compete for the cores.
        used = cpu_seconds(server_pid) - before
        result["server_cpu_us_per_request"] = round(used / result["requests"] * 1e6, 1)
        result["server_capacity_per_core"] = round(result["requests"] / used, 0) if used else None
    return result


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    header = (
        f"{'phase':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'gen cpu':>8}"
        f" {'srv us/req':>10}  statuses"
    )
    lines = [header, "-" * len(header)]
    for name, r in rows:
        lines.append(
            f"{name:<34} {r['rate_per_s']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['max_ms']:>8.2f} {r['generator_cpu_fraction']:>8.2f}"
            f" {r.get('server_cpu_us_per_request', float('nan')):>10.1f}  {r['statuses']}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per phase")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=1000.0, help="open-loop rate")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin server and generator to separate cores"
    )
    parser.add_argument(
        "--log-level", default="INFO", help="server log level (INFO writes a line per webhook)"
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--log", default=os.devnull, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.cpu, args.log, args.log_level)
        return

    pin = (os.cpu_count() or 1) >= 2 and not args.no_pin
    server_cpu, generator_cpu = (0, 1) if pin else (None, None)
    load_before = os.getloadavg()
    port = free_port()
    RESULTS.mkdir(exist_ok=True)
    log_path = RESULTS / "receiver_cpu.server.log"
    server_cmd = [sys.executable, __file__, "--serve", str(port), "--log", str(log_path)]
    server_cmd += ["--log-level", args.log_level]
    if server_cpu is not None:
        server_cmd += ["--cpu", str(server_cpu)]
    server = subprocess.Popen(server_cmd, cwd=HERE)
    pid = server.pid
    try:
        wait_ready(port)
        base = {
            "host": "127.0.0.1",
            "port": port,
            "connections": args.connections,
            "max_requests": args.max_requests,
            "duration_s": args.duration,
            "cpu": generator_cpu,
        }
        # A short warm-up so both paths are compiled, cached and allocated before measuring.
        load({**base, "mode": "closed", "path": "/webhook", "duration_s": 2.0})
        rows = [
            ("bare POST, max rate", load({**base, "mode": "closed", "path": "/bare"}, pid)),
            (
                "signed webhook, max rate",
                load({**base, "mode": "closed", "path": "/webhook"}, pid),
            ),
            (
                f"bare POST at {args.rate:.0f}/s",
                load({**base, "mode": "open", "path": "/bare", "rate": args.rate}, pid),
            ),
            (
                f"signed webhook at {args.rate:.0f}/s",
                load({**base, "mode": "open", "path": "/webhook", "rate": args.rate}, pid),
            ),
        ]
    finally:
        server.terminate()
        server.wait(timeout=20)
    results = dict(rows)
    bare = results["bare POST, max rate"]["rate_per_s"]
    hook = results["signed webhook, max rate"]["rate_per_s"]
    paced = results[f"signed webhook at {args.rate:.0f}/s"]
    bare_cpu = results["bare POST, max rate"].get("server_cpu_us_per_request")
    hook_cpu = results["signed webhook, max rate"].get("server_cpu_us_per_request")
    verdict = {
        "webhook_vs_bare": round(hook / bare, 3) if bare else None,
        "webhook_vs_bare_by_cpu": round(bare_cpu / hook_cpu, 3) if bare_cpu and hook_cpu else None,
        "target_ratio": 0.5,
        "p99_ms_at_rate": paced["p99_ms"],
        "target_p99_ms": 50.0,
        "ratio_met": bool(bare) and hook / bare >= 0.5,
        "p99_met": paced["p99_ms"] < 50.0 and set(paced["statuses"]) == {"200"},
    }
    print(table(rows))
    print(
        f"\nwebhook / bare = {verdict['webhook_vs_bare']:.2f} by rate, "
        f"{verdict['webhook_vs_bare_by_cpu']} by server CPU per request (target >= 0.50); "
        f"p99 at {args.rate:.0f}/s = {paced['p99_ms']:.2f} ms (target < 50)"
    )
    document = {
        "bench": "receiver_cpu",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            # Other work on the machine competes for the same cores: read figures with this.
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "settings": vars(args) | {"server_cpu": server_cpu, "generator_cpu": generator_cpu},
        "phases": results,
        "verdict": verdict,
    }
    (RESULTS / "receiver_cpu.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
