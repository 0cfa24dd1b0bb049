"""``funnel pipeline …``"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="The worker: Kafka consumer, LLM pipeline, outbox sender.",
    no_args_is_help=True,
)

DEFAULT_PIPELINE = "funnel.core.turns.factory:build_pipeline"


def load_pipeline(spec: str, settings: Any) -> Any:
    """``module:attribute``: a Pipeline class (built without arguments), a factory function
    taking the settings, or an instance."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise typer.BadParameter(f"expected module:attribute, got {spec!r}")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, type):
        return target()
    return target(settings) if callable(target) else target


@app.command("worker")
def worker(
    pipeline: Annotated[
        str,
        typer.Option(
            help="The Pipeline to run, as module:attribute (a class, or a factory taking the "
            "settings). The default is the four-stage pipeline with the configured LLM.",
        ),
    ] = DEFAULT_PIPELINE,
    sender: Annotated[
        bool, typer.Option(help="Also run the outbox sender in this process.")
    ] = True,
) -> None:
    """Consume inbound events, run the pipeline for each turn, send the replies."""
    import asyncio
    import signal

    from funnel.core.settings import get_settings
    from funnel.core.telemetry import configure_logging
    from funnel.core.telemetry.metrics import mark_up, start_metrics_server
    from funnel.pipeline.worker.app import WorkerApp

    settings = get_settings()
    configure_logging(settings.observability, service="worker")
    start_metrics_server(settings.observability.metrics_port)
    mark_up("worker")
    chosen = load_pipeline(pipeline, settings)

    async def main() -> None:
        worker_app = WorkerApp(settings, chosen, run_sender=sender)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, worker_app.stop)
        await worker_app.run()

    asyncio.run(main())
