"""Prompt tokens per turn as one conversation grows: turn 5 against turn 100.

One conversation of 100 customer turns runs through the real pipeline
(:class:`~funnel.core.turns.htl_pipeline.HtlPipeline`) on the offline provider, with Memory after
every turn folding the new messages into the rolling summary, the way the worker does. Every
prompt the stages render is captured at the client boundary and counted with the pipeline's own
token estimate (``funnel.core.htl.text.estimate_tokens``, system + user text): these are the
prompts a real model would be sent, not the offline provider's output. For contrast, the same
run reports what the prompt would be with the whole transcript pasted in (the original sent the
last 10 messages raw and a summary that grew unchecked).

Target (issue 4): prompt tokens at turn 100 at most 1.25× turn 5.

    python bench/pipeline_tokens.py [--turns 100]

Writes ``bench/results/pipeline_tokens.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from funnel.core.evals.retriever import KeywordRetriever
from funnel.core.evals.scenario import KnowledgeSnippet
from funnel.core.htl.text import estimate_tokens
from funnel.core.llm.base import LlmRequest, LlmResult, Stage
from funnel.core.llm.offline import OfflineLlmClient
from funnel.core.models.enums import (
    ConversationMode,
    ConversationStage,
    IntentLevel,
    MessageAuthor,
    MessageType,
    Sentiment,
)
from funnel.core.settings import Settings
from funnel.core.turns.contract import (
    ConversationSnapshot,
    CtaOption,
    LeadSnapshot,
    OrganisationProfile,
    Turn,
    TurnMessage,
)
from funnel.core.turns.htl_pipeline import HtlPipeline
from funnel.core.turns.service import HISTORY_LIMIT

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
START = dt.datetime(2026, 3, 2, 5, 30, tzinfo=UTC)

KNOWLEDGE = [
    KnowledgeSnippet(
        title="Pricing",
        text="The 3 kW rooftop system costs Rs 1,80,000 installed; the 5 kW system Rs 2,90,000.",
    ),
    KnowledgeSnippet(title="Installation", text="Installation takes 2 days after the survey."),
    KnowledgeSnippet(
        title="Warranty",
        text="Panels carry a 25-year performance warranty; the inverter has 5 years.",
    ),
    KnowledgeSnippet(
        title="Subsidy",
        text="Homes with rooftop solar can claim the government subsidy of up to Rs 78,000.",
    ),
]
QUESTIONS = [
    "How much does the {n} kW rooftop system cost for my house in Pune?",
    "How long does installation take if my roof is {n} metres high and made of concrete?",
    "What warranty do the panels have, and what about the inverter after {n} years?",
    "Is there a government subsidy I can claim? My electricity bill is around Rs {n}000.",
    "My neighbour said the {n} kW system pays back in five years, is that right?",
    "Can your engineer come on Saturday? I am free after {n} pm usually.",
]


class RecordingClient:
    """The offline provider, with every rendered prompt counted at the client boundary."""

    def __init__(self) -> None:
        self.inner = OfflineLlmClient()
        self.tokens: dict[str, int] = {}

    @property
    def provider(self) -> str:
        return self.inner.provider

    @property
    def is_offline(self) -> bool:
        return True

    async def generate(self, request: LlmRequest[Any]) -> LlmResult[Any]:
        stage = request.stage.value
        count = estimate_tokens(request.system) + estimate_tokens(request.prompt)
        self.tokens[stage] = self.tokens.get(stage, 0) + count
        return await self.inner.generate(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def take(self) -> dict[str, int]:
        taken, self.tokens = self.tokens, {}
        return taken


@dataclass
class Conversation:
    stage: ConversationStage = ConversationStage.GREETING
    summary: str = ""
    summarised: int = 0
    messages: list[TurnMessage] = field(default_factory=list)
    now: dt.datetime = START


def turn_for(conv: Conversation, text: str) -> Turn:
    org_id = uuid.UUID(int=1)
    message = TurnMessage(
        id=uuid.uuid4(),
        author=MessageAuthor.LEAD,
        type=MessageType.TEXT,
        text=text,
        content={},
        at=conv.now,
        wamid=f"wamid.{uuid.uuid4().hex[:12]}",
    )
    return Turn(
        organisation=OrganisationProfile(
            id=org_id,
            name="Acme Solar",
            business_name="Acme Solar",
            business_description="Rooftop solar systems for homes in Pune and Mumbai.",
            persona_prompt="You are Asha, a friendly solar advisor.",
            flow_prompt="Qualify the roof and the bill, answer from the knowledge, offer a survey.",
            timezone="Asia/Kolkata",
            default_language="en",
            reply_word_limit=80,
        ),
        conversation=ConversationSnapshot(
            id=uuid.UUID(int=2),
            lead_id=uuid.UUID(int=3),
            channel_id=uuid.UUID(int=4),
            mode=ConversationMode.BOT,
            stage=conv.stage,
            intent_level=IntentLevel.MEDIUM,
            sentiment=Sentiment.CURIOUS,
            needs_attention=False,
            cta_id=None,
            cta_state=None,
            rolling_summary=conv.summary,
            followups_sent_24h=0,
            total_nudges=0,
            last_inbound_at=conv.now,
            window_expires_at=conv.now + dt.timedelta(hours=24),
        ),
        lead=LeadSnapshot(
            id=uuid.UUID(int=3),
            wa_id="919800000000",
            bsuid=None,
            name="Ravi",
            language=None,
            opted_out=False,
        ),
        new_messages=(message,),
        # What load_turn reads: the last HISTORY_LIMIT stored messages.
        history=tuple(conv.messages[-HISTORY_LIMIT:]),
        ctas=(
            CtaOption(
                id=uuid.UUID(int=5),
                type="book_call",
                name="Book a free site survey",
                url="https://acme.example/survey",
                button_text="Book",
            ),
        ),
        now=conv.now,
        correlation_id="bench",
    )


async def run(turns: int) -> dict[str, Any]:
    client = RecordingClient()
    pipeline = HtlPipeline(client, settings=Settings(), retriever=KeywordRetriever(KNOWLEDGE))
    conv = Conversation()
    per_turn: list[dict[str, Any]] = []
    for index in range(1, turns + 1):
        conv.now += dt.timedelta(minutes=3)
        text = QUESTIONS[index % len(QUESTIONS)].format(n=index % 9 + 2)
        turn = turn_for(conv, text)
        result = await pipeline.run_turn(turn)
        prompt = client.take()
        if result.update.stage is not None:
            conv.stage = result.update.stage
        conv.messages.append(turn.new_messages[0])
        for reply in result.replies:
            conv.messages.append(
                TurnMessage(
                    id=uuid.uuid4(),
                    author=MessageAuthor.BOT,
                    type=MessageType.TEXT,
                    text=reply.preview,
                    content={},
                    at=conv.now,
                )
            )
        # Memory after the turn, over everything since the last summary (as the worker does).
        memory_turn = Turn(
            organisation=turn.organisation,
            conversation=turn.conversation,
            lead=turn.lead,
            new_messages=(),
            history=turn.history,
            ctas=turn.ctas,
            now=conv.now,
            correlation_id="bench-memory",
        )
        update = await pipeline.summarise(memory_turn, conv.messages[conv.summarised :][-40:])
        memory_tokens = client.take().get(Stage.MEMORY.value, 0)
        if update.output is not None:
            conv.summary = update.output.rolling_summary
            conv.summarised = len(conv.messages)
        transcript = sum(estimate_tokens(m.text or "") for m in conv.messages)
        per_turn.append(
            {
                "turn": index,
                "prompt_tokens": sum(prompt.values()),
                "by_stage": prompt,
                "memory_tokens": memory_tokens,
                "summary_chars": len(conv.summary),
                "whole_transcript_tokens": transcript,
            }
        )
    await client.aclose()
    t5, t100 = per_turn[4], per_turn[-1]
    ratio = t100["prompt_tokens"] / t5["prompt_tokens"]
    return {
        "turns": turns,
        "turn_5": t5,
        "turn_last": t100,
        "ratio": round(ratio, 3),
        "target_ratio": 1.25,
        "meets_target": ratio <= 1.25,
        "max_prompt_tokens": max(t["prompt_tokens"] for t in per_turn),
        "per_turn": [
            {k: t[k] for k in ("turn", "prompt_tokens", "memory_tokens", "summary_chars")}
            for t in per_turn
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=100)
    args = parser.parse_args()
    results = asyncio.run(run(args.turns))
    t5, tl = results["turn_5"], results["turn_last"]
    print(f"prompt tokens per turn (Eyes + Brain + Mouth, rendered prompts), {args.turns} turns")
    print(
        f"{'':<14}{'prompt':>9}{'eyes':>8}{'brain':>8}{'mouth':>8}{'memory':>8}{'transcript':>12}"
    )
    for label, t in (("turn 5", t5), (f"turn {args.turns}", tl)):
        s = t["by_stage"]
        print(
            f"{label:<14}{t['prompt_tokens']:>9}{s.get('eyes', 0):>8}{s.get('brain', 0):>8}"
            f"{s.get('mouth', 0):>8}{t['memory_tokens']:>8}{t['whole_transcript_tokens']:>12}"
        )
    verdict = "meets" if results["meets_target"] else "MISSES"
    print(
        f"ratio {results['ratio']} ({verdict} the 1.25x target); max over the run "
        f"{results['max_prompt_tokens']}"
    )
    document = {
        "benchmark": "pipeline_tokens",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "parameters": vars(args),
        **results,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "pipeline_tokens.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
