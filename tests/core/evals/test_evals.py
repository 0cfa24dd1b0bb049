"""The evaluation harness: the shipped suite with the offline provider, the gemini path through
the fake server, assertions that can fail, and the ``funnel eval`` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from funnel.core.cli import app
from funnel.core.evals.report import summary, table
from funnel.core.evals.scenario import OfflineMode, Scenario, ScenarioFileError, load_suite
from funnel.core.evals.suite import exit_code, run_suite
from funnel.core.llm.fake_gemini import FAKE_API_KEY, FakeGemini, RecordedRequest, Reply
from funnel.core.llm.gemini import GeminiClient
from funnel.core.llm.offline import OfflineLlmClient
from funnel.core.settings import LlmSettings, Settings

SUITE = Path(__file__).resolve().parents[3] / "evals"

#: The situations the issue names; each must be in the suite.
NAMED = {
    "greeting",
    "pricing_from_knowledge",
    "unknown_question_no_invented_facts",
    "angry_customer",
    "explicit_human_request",
    "spam",
    "prompt_injection_discount",
    "hindi_devanagari",
    "hinglish",
    "emoji_only",
    "opt_out_stop",
    "cta_accepted_by_button",
    "followup_after_silence",
    "human_mode_stays_silent",
    "closed_window_followup_template",
    "burst_of_three",
}


def test_the_suite_has_at_least_thirty_scenarios_covering_the_named_ones() -> None:
    scenarios = load_suite(SUITE)
    assert len(scenarios) >= 30
    assert {s.name for s in scenarios} >= NAMED
    assert sum(1 for s in scenarios if s.offline is OfflineMode.REQUIRED) >= 25


async def test_the_offline_provider_passes_every_required_scenario() -> None:
    reports = await run_suite(load_suite(SUITE), OfflineLlmClient(), Settings())
    failing = [r.name for r in reports if r.required and not r.passed]
    assert failing == [], table(reports)
    assert exit_code(reports) == 0
    assert summary(reports)["checks_passed"] > 90


def _scenario(**turn_expect: object) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "probe",
            "offline": "required",
            "knowledge": [{"title": "Pricing", "text": "The 3 kW system costs Rs 1,80,000."}],
            "turns": [{"customer": "How much is the 3 kW system?", "expect": turn_expect}],
        }
    )


@pytest.mark.parametrize(
    "expect",
    [
        {"action": "handoff"},
        {"reply": False},
        {"mentions": ["Rs 9,99,999"]},
        {"stage": "closed"},
        {"opted_out": True},
        {"template_sent": True},
        {"script": "Deva"},
        {"not_mentions": ["1,80,000"]},
        {"cta_offered": True},
    ],
)
async def test_a_wrong_expectation_fails_and_a_required_failure_sets_the_exit_code(
    expect: dict[str, object],
) -> None:
    reports = await run_suite([_scenario(**expect)], OfflineLlmClient(), Settings())
    assert not reports[0].passed
    assert reports[0].failed_checks == 1
    assert exit_code(reports) == 1
    assert "FAIL" in table(reports)


def test_unknown_assertion_keys_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "name: bad\nturns:\n  - customer: hi\n    expect: {mentionz: [x]}\n", encoding="utf-8"
    )
    with pytest.raises(ScenarioFileError, match="mentionz"):
        load_suite(tmp_path)


# --- the gemini path, through the real SDK and the fake server ------------------------------

_ANSWERS: dict[str, dict[str, Any]] = {
    "eval-eyes": {
        "intent": "pricing",
        "intent_level": "medium",
        "sentiment": "curious",
        "language": "en",
        "knowledge_needed": True,
        "search_query": "3 kW system price",
        "situation_summary": "The customer asks the price of the 3 kW system.",
        "confidence": 0.9,
    },
    "eval-brain": {
        "action": "respond",
        "new_stage": "pricing",
        "plan": "Quote the 3 kW price from the knowledge.",
        "confidence": 0.9,
    },
    "eval-mouth": {
        "kind": "text",
        "text": "The 3 kW system costs Rs 1,80,000.",
        "language": "en",
        "self_check": {"grounded_claims": ["3 kW costs Rs 1,80,000"], "violations": []},
    },
}


def _answer(request: RecordedRequest) -> Reply:
    return Reply.json(_ANSWERS[request.model])


@pytest.fixture
def fake_gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    for name in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with FakeGemini(responder=_answer) as fake:
        yield fake


async def test_the_gemini_path_runs_the_same_scenario(fake_gemini: FakeGemini) -> None:
    llm = LlmSettings(
        api_key=SecretStr(FAKE_API_KEY),
        base_url=fake_gemini.base_url,
        timeout_s=5.0,
        max_retries=0,
        eyes_model="eval-eyes",
        brain_model="eval-brain",
        mouth_model="eval-mouth",
    )
    client = GeminiClient(llm)
    try:
        reports = await run_suite(
            [_scenario(action="respond", mentions=["1,80,000"], stage="pricing")],
            client,
            Settings(llm=llm),
        )
    finally:
        await client.aclose()
    (report,) = reports
    assert report.provider == "gemini"
    assert report.passed, table(reports)
    assert {r.model for r in fake_gemini.requests} == {"eval-eyes", "eval-brain", "eval-mouth"}


async def test_a_follow_up_turns_hint_reaches_the_model(fake_gemini: FakeGemini) -> None:
    llm = LlmSettings(
        api_key=SecretStr(FAKE_API_KEY),
        base_url=fake_gemini.base_url,
        timeout_s=5.0,
        max_retries=0,
        eyes_model="eval-eyes",
        brain_model="eval-brain",
        mouth_model="eval-mouth",
    )
    scenario = Scenario.model_validate(
        {
            "name": "nudge with a hint",
            "knowledge": [{"title": "Pricing", "text": "The 3 kW system costs Rs 1,80,000."}],
            "turns": [
                {"customer": "How much is the 3 kW system?"},
                {
                    "followup": True,
                    "hint": "Mention that the site survey is free this month",
                    "advance_minutes": 180,
                },
            ],
        }
    )
    client = GeminiClient(llm)
    try:
        await run_suite([scenario], client, Settings(llm=llm))
    finally:
        await client.aclose()
    with_hint = {
        r.model for r in fake_gemini.requests if "site survey is free this month" in r.prompt_text
    }
    assert {"eval-brain", "eval-mouth"} <= with_hint


def test_funnel_eval_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = CliRunner().invoke(
        app,
        ["eval", str(SUITE), "--json", str(out), "--only", "greeting", "--only", "opt_out_stop"],
    )
    assert result.exit_code == 0, result.output
    assert "greeting" in result.output
    assert "PASS" in result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["provider"] == "offline"
    assert {s["name"] for s in document["scenarios"]} == {"greeting", "opt_out_stop"}


def test_funnel_eval_exits_non_zero_when_a_required_scenario_fails(tmp_path: Path) -> None:
    (tmp_path / "failing.yaml").write_text(
        "name: failing\noffline: required\nturns:\n  - customer: Hi\n    expect: {reply: false}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["eval", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAIL" in result.output


def test_pyyaml_ships_with_funnel_core_where_the_eval_runs() -> None:
    """`funnel eval` reads YAML; it must not rely on a development-only dependency. It runs with
    the db and llm extras (the worker and API images), so the llm extra carries PyYAML."""
    import tomllib

    root = Path(__file__).resolve().parents[3]
    core = tomllib.loads((root / "core" / "pyproject.toml").read_text(encoding="utf-8"))
    llm = core["project"]["optional-dependencies"]["llm"]
    assert any(requirement.lower().startswith("pyyaml") for requirement in llm)
    for image in ("pipeline", "api"):
        member = tomllib.loads((root / image / "pyproject.toml").read_text(encoding="utf-8"))
        assert "funnel-core[db,llm]" in member["project"]["dependencies"]
