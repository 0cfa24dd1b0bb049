"""``funnel eval``: run the scenario suite against a provider and print the score table.

The pipeline and the database models are imported when the command runs, not when the CLI
starts: the ``funnel`` entry point also ships where those are not installed.
"""

from __future__ import annotations

import asyncio
import enum
from pathlib import Path
from typing import Annotated

import typer

DEFAULT_SUITE = Path("evals")


class ProviderChoice(enum.StrEnum):
    OFFLINE = "offline"
    GEMINI = "gemini"


def eval_command(
    suite: Annotated[
        Path, typer.Argument(help="Directory of YAML scenarios (default: ./evals).")
    ] = DEFAULT_SUITE,
    provider: Annotated[
        ProviderChoice, typer.Option(help="LLM provider: offline, or gemini (needs a key).")
    ] = ProviderChoice.OFFLINE,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the results as JSON here.")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only the scenario with this name.")
    ] = None,
) -> None:
    """Run scripted conversations through the pipeline and score them."""
    from funnel.core.evals.report import table, write_json
    from funnel.core.evals.scenario import ScenarioFileError, load_suite
    from funnel.core.evals.suite import build_client, exit_code, run_suite
    from funnel.core.settings import get_settings

    try:
        scenarios = load_suite(suite)
    except ScenarioFileError as exc:
        typer.echo(f"funnel eval: {exc}", err=True)
        raise typer.Exit(2) from exc
    if only:
        scenarios = [s for s in scenarios if s.name in set(only)]
        if not scenarios:
            typer.echo(f"funnel eval: no scenario named {', '.join(only)}", err=True)
            raise typer.Exit(2)
    settings = get_settings()
    try:
        client = build_client(settings, provider.value)
    except ValueError as exc:
        typer.echo(f"funnel eval: {exc}", err=True)
        raise typer.Exit(2) from exc
    reports = asyncio.run(run_suite(scenarios, client, settings))
    typer.echo(table(reports))
    if json_out is not None:
        write_json(json_out, reports, client.provider)
        typer.echo(f"results written to {json_out}")
    raise typer.Exit(exit_code(reports))
