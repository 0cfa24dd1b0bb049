"""``funnel api …``"""

import typer

app = typer.Typer(
    help="The REST and GraphQL API.",
    no_args_is_help=True,
)


@app.command("serve")
def serve() -> None:
    """Serve the REST and GraphQL API."""
    typer.echo(
        "`funnel api serve` is not built yet (it arrives with the API capability).",
        err=True,
    )
    raise typer.Exit(2)
