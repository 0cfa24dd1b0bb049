"""``funnel operator …``"""

import typer

app = typer.Typer(
    help="The Kubernetes operator for FunnelTenant resources.",
    no_args_is_help=True,
)


@app.command("run")
def run() -> None:
    """Run the operator."""
    typer.echo(
        "`funnel operator run` is not built yet (it arrives with the Kubernetes capability).",
        err=True,
    )
    raise typer.Exit(2)
