"""``funnel receiver …``"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    help="WhatsApp webhook receiver and the SQS to Kafka bridge.", no_args_is_help=True
)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "0.0.0.0",  # noqa: S104 - a container's port
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8080,
) -> None:
    """Serve the WhatsApp webhook (GET handshake, signed POSTs into SQS)."""
    import uvicorn

    from funnel.core.settings import get_settings
    from funnel.core.telemetry import configure_logging
    from funnel.receiver.app import create_app

    settings = get_settings()
    if not settings.sqs.queue_url:
        typer.echo(
            "No SQS queue configured: set FUNNEL_SQS__QUEUE_URL (and FUNNEL_SQS__ENDPOINT_URL "
            "for a local moto server). `funnel dev` sets both.",
            err=True,
        )
        raise typer.Exit(2)
    configure_logging(settings.observability, service="funnel-receiver")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,  # our JSON logging, configured above
        access_log=False,  # one structured line per webhook is written by the app itself
        proxy_headers=True,
        timeout_graceful_shutdown=15,
    )


@app.command("bridge")
def bridge() -> None:
    """Move webhooks from SQS into Kafka (one event per message/status, keyed by conversation)."""
    import asyncio
    import signal

    from funnel.core.settings import get_settings
    from funnel.core.telemetry import configure_logging
    from funnel.core.telemetry.metrics import mark_up, start_metrics_server
    from funnel.receiver.bridge import run_bridge

    settings = get_settings()
    if not settings.sqs.queue_url:
        typer.echo(
            "No SQS queue configured: set FUNNEL_SQS__QUEUE_URL (and FUNNEL_SQS__ENDPOINT_URL "
            "for a local moto server). `funnel dev` sets both.",
            err=True,
        )
        raise typer.Exit(2)
    configure_logging(settings.observability, service="bridge")
    start_metrics_server(settings.observability.metrics_port)
    mark_up("bridge")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_bridge(settings, stop=stop)

    asyncio.run(main())
