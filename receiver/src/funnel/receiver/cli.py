"""``funnel receiver …``"""

import typer

app = typer.Typer(help="WhatsApp webhook receiver and the SQS to Kafka bridge.", no_args_is_help=True)


@app.command("serve")
def serve() -> None:
    """Serve the WhatsApp webhook."""
    typer.echo("`funnel receiver serve` is not built yet (it arrives with the data plane).", err=True)
    raise typer.Exit(2)


@app.command("bridge")
def bridge() -> None:
    """Move webhooks from SQS into Kafka."""
    typer.echo("`funnel receiver bridge` is not built yet (it arrives with the data plane).", err=True)
    raise typer.Exit(2)
