"""``funnel pipeline …``"""

import typer

app = typer.Typer(
    help="The worker: Kafka consumer, LLM pipeline, outbox sender.",
    no_args_is_help=True,
)


@app.command("worker")
def worker() -> None:
    """Consume inbound events and run the pipeline."""
    typer.echo(
        "`funnel pipeline worker` is not built yet (it arrives with the data plane).",
        err=True,
    )
    raise typer.Exit(2)
