"""Running a whole suite with one provider."""

from __future__ import annotations

from collections.abc import Sequence

from funnel.core.evals.report import summary
from funnel.core.evals.runner import ScenarioReport, ScenarioRunner
from funnel.core.evals.scenario import Scenario
from funnel.core.llm.base import LlmClient
from funnel.core.settings import LlmProvider, Settings
from funnel.core.turns.htl_pipeline import HtlPipeline


def build_client(settings: Settings, provider: str) -> LlmClient:
    """The client for ``provider`` (``offline`` or ``gemini``); gemini needs a key."""
    from funnel.core.llm.factory import build_llm_client

    llm = settings.llm.model_copy(update={"provider": LlmProvider(provider)})
    return build_llm_client(llm)


async def run_suite(
    scenarios: Sequence[Scenario], client: LlmClient, settings: Settings
) -> list[ScenarioReport]:
    """Run scenarios one after another (each is its own conversation)."""
    runner = ScenarioRunner(HtlPipeline(client, settings=settings))
    return [await runner.run(s) for s in scenarios]


def exit_code(reports: Sequence[ScenarioReport]) -> int:
    """Non-zero when a scenario required for this provider failed."""
    return 1 if summary(reports)["required_failed"] else 0
