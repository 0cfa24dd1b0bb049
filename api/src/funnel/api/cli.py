"""``funnel api …``"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="The REST and GraphQL API.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "0.0.0.0",  # noqa: S104 - a container's port
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
) -> None:
    """Serve the REST and GraphQL API."""
    import uvicorn

    from funnel.api.app import create_app
    from funnel.core.settings import get_settings
    from funnel.core.telemetry import configure_logging

    settings = get_settings()
    if not settings.database.url.get_secret_value():
        typer.echo(
            "No database configured: set FUNNEL_DATABASE__URL. `funnel dev` starts one.", err=True
        )
        raise typer.Exit(2)
    configure_logging(settings.observability, service="funnel-api")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,  # our JSON logging, configured above
        access_log=False,  # request metrics and structured logs come from the app
        proxy_headers=True,
        timeout_graceful_shutdown=15,
        ws="websockets-sansio",
    )


@app.command("export-schema")
def export_schema(
    output: Annotated[
        Path | None, typer.Option(help="Write the SDL here instead of standard output.")
    ] = None,
) -> None:
    """Print (or write) the GraphQL SDL; CI compares it with the checked-in api/schema.graphql."""
    from funnel.api.graphql.schema import export_sdl

    sdl = export_sdl()
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl)
