"""The ``funnel`` command: one CLI for every process.

Core owns the root and the commands that need no deployable (``db``, ``dev``, ``simulate``).
Each deployable adds its own group through the ``funnel.cli`` entry point group, so an image
that installs only the receiver has ``funnel receiver …`` and nothing it cannot run. A group
whose package is not installed still shows up and says how to get it.
"""

from __future__ import annotations

import importlib.metadata
from typing import Annotated

import typer

from funnel.core.evals.command import eval_command
from funnel.core.knowledge.cli import knowledge_app
from funnel.core.sandbox.cli import sandbox_app
from funnel.core.settings import get_settings
from funnel.core.simulate import simulate

app = typer.Typer(
    name="funnel",
    help="Funnel: WhatsApp sales automation. One command for every process.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

#: The deployables and what each adds, so a missing one can say how to install it.
DEPLOYABLES = {
    "api": ("funnel-api", "REST and GraphQL API: funnel api serve"),
    "receiver": ("funnel-receiver", "webhook receiver and bridge: funnel receiver serve|bridge"),
    "pipeline": ("funnel-pipeline", "the worker: funnel pipeline worker"),
    "operator": ("funnel-operator", "the Kubernetes operator: funnel operator run"),
}

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sandbox_app, name="sandbox")
app.command("eval")(eval_command)
app.add_typer(knowledge_app, name="knowledge")
app.command("simulate")(simulate)


def _alembic_config() -> object:
    try:
        from funnel.core.db.migrate import alembic_config
    except ImportError as exc:  # pragma: no cover - only without the [db] extra
        raise typer.BadParameter(
            f"database support is not installed ({exc.name}): pip install 'funnel-core[db]'"
        ) from exc
    settings = get_settings()
    if not settings.database.url.get_secret_value():
        typer.echo(
            "No database configured: set FUNNEL_DATABASE__URL (or DATABASE_URL). "
            "`funnel dev` starts an embedded one.",
            err=True,
        )
        raise typer.Exit(2)
    return alembic_config(settings.database.url.get_secret_value())


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from alembic import command

    command.upgrade(_alembic_config(), revision)  # type: ignore[arg-type]


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="e.g. -1 or base")]) -> None:
    """Revert migrations down to REVISION."""
    from alembic import command

    command.downgrade(_alembic_config(), revision)  # type: ignore[arg-type]


@db_app.command("current")
def db_current() -> None:
    """Print the database's current revision."""
    from alembic import command

    command.current(_alembic_config(), verbose=False)  # type: ignore[arg-type]


@app.command("dev")
def dev(
    port: Annotated[int, typer.Option(help="First port to try for the API.")] = 8000,
    reset: Annotated[bool, typer.Option(help="Wipe .funnel/ state before starting.")] = False,
    exit_after_start: Annotated[
        bool, typer.Option("--exit-after-start", help="Start, print, then stop (smoke test).")
    ] = False,
) -> None:
    """Start the whole platform locally on embedded defaults (PostgreSQL, Kafka, SQS)."""
    try:
        from funnel.core.dev import run_dev
    except ImportError as exc:
        typer.echo(
            f"`funnel dev` needs the local extras ({exc.name}): "
            "pip install 'funnel-core[db,local]' (the README's setup does this).",
            err=True,
        )
        raise typer.Exit(2) from exc
    raise typer.Exit(run_dev(first_port=port, reset=reset, exit_after_start=exit_after_start))


def _not_installed(group: str, package: str, what: str) -> typer.Typer:
    stub = typer.Typer(help=f"[not installed: {package}] {what}", no_args_is_help=False)

    @stub.callback(invoke_without_command=True)
    def _missing() -> None:
        typer.echo(f"`funnel {group}` comes with {package}, which is not installed here.", err=True)
        raise typer.Exit(2)

    return stub


def _register_deployables() -> None:
    found = {ep.name: ep for ep in importlib.metadata.entry_points(group="funnel.cli")}
    for group, (package, what) in DEPLOYABLES.items():
        entry = found.get(group)
        if entry is None:
            app.add_typer(_not_installed(group, package, what), name=group)
            continue
        app.add_typer(entry.load(), name=group)


def main() -> None:
    _register_deployables()
    app(prog_name="funnel")


if __name__ == "__main__":  # pragma: no cover
    main()
