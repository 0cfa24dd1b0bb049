"""Pipeline overhead per turn, LLM time excluded: what Funnel itself costs around the model.

Each turn does what the worker does, against a real PostgreSQL (the embedded one unless
``FUNNEL_DATABASE__URL`` is set): read the unanswered message and the conversation
(``load_turn``: organisation, conversation, lead, 40 messages of history, CTAs, approved
templates), run :class:`~funnel.core.turns.htl_pipeline.HtlPipeline` (context assembly and the
token budget, the real hybrid knowledge search with the offline hashing embedder, the policy,
Mouth's rule checks, the Graph body) on a scripted client that answers every stage instantly,
then ``persist_turn`` (run, steps, message claim, state update, the send planner, outbox,
follow-up scheduling) in one transaction. The model's latency is zero by construction, so the
figures are the overhead alone.

    python bench/pipeline_overhead.py [--conversations 20] [--turns 15]

Writes ``bench/results/pipeline_overhead.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.db.migrate import upgrade_async
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.devstack.postgres import EmbeddedPostgres, create_database, drop_database
from funnel.core.inbound.service import unanswered_messages
from funnel.core.knowledge.ingest import ingest_document
from funnel.core.knowledge.search import KnowledgeRetriever
from funnel.core.llm.base import LlmRequest, LlmResult, LlmUsage, Stage
from funnel.core.llm.embeddings import HashingEmbedder
from funnel.core.models import (
    Conversation,
    Cta,
    Lead,
    Message,
    Organisation,
    Template,
    WhatsAppChannel,
)
from funnel.core.models.enums import (
    CtaType,
    MessageAuthor,
    MessageDirection,
    MessageStatus,
    TemplateCategory,
    TemplatePurpose,
    TemplateStatus,
)
from funnel.core.security.crypto import SecretBox
from funnel.core.settings import DatabaseSettings, Settings
from funnel.core.turns.htl_pipeline import HtlPipeline
from funnel.core.turns.service import load_turn, persist_turn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

KNOWLEDGE = b"""# Acme Solar

## Pricing
The 3 kW rooftop solar system costs Rs 1,80,000 installed, including the inverter.
The 5 kW system costs Rs 2,90,000 installed.

## Installation
Installation takes 2 days after the free site survey. We work in Pune and Mumbai.

## Warranty
Solar panels carry a 25-year performance warranty; the inverter has a 5-year warranty.

## Subsidy
Homes with rooftop solar can claim the government subsidy of up to Rs 78,000.
"""

ANSWERS: dict[Stage, dict[str, Any]] = {
    Stage.EYES: {
        "intent": "pricing",
        "intent_level": "medium",
        "sentiment": "curious",
        "language": "en",
        "knowledge_needed": True,
        "search_query": "3 kW rooftop system price",
        "situation_summary": "The customer asks about price.",
        "confidence": 0.9,
    },
    Stage.BRAIN: {
        "action": "respond",
        "new_stage": "pricing",
        "plan": "Quote the price from the knowledge.",
        "confidence": 0.9,
    },
    Stage.MOUTH: {
        "kind": "text",
        "text": "The 3 kW rooftop solar system costs Rs 1,80,000 installed.",
        "language": "en",
    },
}


class InstantClient:
    """Answers every stage at once with a fixed, valid output: zero LLM time."""

    @property
    def provider(self) -> str:
        return "scripted"

    @property
    def is_offline(self) -> bool:
        return True

    async def generate(self, request: LlmRequest[Any]) -> LlmResult[Any]:
        output: BaseModel = request.output_type.model_validate(ANSWERS[request.stage])
        return LlmResult(
            output=output,
            usage=LlmUsage(input_tokens=1, output_tokens=1),
            latency_ms=0.0,
            model="instant",
            provider="scripted",
        )

    async def aclose(self) -> None:
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def seed(url: str, conversations: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    engine = create_engine(DatabaseSettings(url=SecretStr(url), pool_size=2))
    sessions = session_factory(engine)
    box = SecretBox(["bench-key"])
    # Placeholder credentials: the benchmark never sends anything.
    token, secret, verify = "bench-token", "bench-secret", "bench-verify"
    async with sessions() as session, session.begin():
        org = Organisation(name="Acme Solar", slug=f"acme-{uuid.uuid4().hex[:8]}")
        session.add(org)
        await session.flush()
        channel = WhatsAppChannel(
            organisation_id=org.id,
            phone_number_id=str(uuid.uuid4().int)[:15],
            waba_id="1" * 15,
            display_phone_number="15550000000",
            access_token_encrypted=box.encrypt(token),
            access_token_last4=token[-4:],
            app_secrets_encrypted=[box.encrypt(secret)],
            app_secret_last4=secret[-4:],
            verify_token_encrypted=box.encrypt(verify),
            verify_token_last4=verify[-4:],
            is_connected=True,
        )
        session.add(channel)
        session.add(
            Cta(
                organisation_id=org.id,
                type=CtaType.BOOK_CALL,
                name="Book a free site survey",
                url="https://acme.example/survey",
            )
        )
        session.add(
            Template(
                organisation_id=org.id,
                name="checkin",
                language="en",
                category=TemplateCategory.UTILITY,
                status=TemplateStatus.APPROVED,
                purpose=TemplatePurpose.FOLLOWUP,
                components=[{"type": "BODY", "text": "Hi {{1}}, any questions?"}],
            )
        )
        await session.flush()
        ids: list[uuid.UUID] = []
        for n in range(conversations):
            lead = Lead(
                organisation_id=org.id, channel_id=channel.id, wa_id=f"9198{n:08d}", name="Ravi"
            )
            session.add(lead)
            await session.flush()
            conversation = Conversation(
                organisation_id=org.id, lead_id=lead.id, channel_id=channel.id
            )
            session.add(conversation)
            await session.flush()
            ids.append(conversation.id)
        org_id = org.id
    await ingest_document(
        sessions, HashingEmbedder(), org_id, "acme.md", KNOWLEDGE, "text/markdown"
    )
    await engine.dispose()
    return org_id, ids


async def measure(url: str, conversations: int, turns: int, warmup: int) -> dict[str, Any]:
    org_id, conversation_ids = await seed(url, conversations)
    engine = create_engine(DatabaseSettings(url=SecretStr(url), pool_size=4))
    sessions = session_factory(engine)
    settings = Settings()
    pipeline = HtlPipeline(
        InstantClient(),
        settings=settings,
        retriever=KnowledgeRetriever(sessions, HashingEmbedder()),
    )
    timings: dict[str, list[float]] = {"load": [], "run": [], "persist": [], "total": []}
    replies = 0
    step = 0
    for round_ in range(turns):
        for conversation_id in conversation_ids:
            now = datetime.now(UTC)
            async with sessions() as session, session.begin():
                await scope_to_organisation(session, org_id)
                conversation = await session.get(Conversation, conversation_id)
                assert conversation is not None
                session.add(
                    Message(
                        organisation_id=org_id,
                        conversation_id=conversation_id,
                        lead_id=conversation.lead_id,
                        direction=MessageDirection.INBOUND,
                        author=MessageAuthor.LEAD,
                        text=f"How much is the 3 kW system? ({round_})",
                        wamid=f"wamid.{uuid.uuid4().hex}",
                        whatsapp_timestamp=now,
                        status=MessageStatus.RECEIVED,
                    )
                )
                conversation.last_inbound_at = now
                conversation.window_expires_at = now + dt.timedelta(hours=24)
            t0 = time.perf_counter()
            async with sessions() as session, session.begin():
                await scope_to_organisation(session, org_id)
                pending = await unanswered_messages(session, org_id, conversation_id)
                turn = await load_turn(
                    session,
                    organisation_id=org_id,
                    conversation_id=conversation_id,
                    new_messages=pending,
                    now=now,
                    correlation_id="bench",
                )
            t1 = time.perf_counter()
            result = await pipeline.run_turn(turn)
            t2 = time.perf_counter()
            async with sessions() as session, session.begin():
                await scope_to_organisation(session, org_id)
                persisted = await persist_turn(
                    session,
                    turn,
                    result,
                    trigger_ids=[m.id for m in turn.new_messages],
                    started_at=now,
                )
            t3 = time.perf_counter()
            replies += len(persisted.outbox_ids)
            step += 1
            if step > warmup:
                timings["load"].append((t1 - t0) * 1000)
                timings["run"].append((t2 - t1) * 1000)
                timings["persist"].append((t3 - t2) * 1000)
                timings["total"].append((t3 - t0) * 1000)
    await engine.dispose()
    return {
        "turns_measured": len(timings["total"]),
        "replies_queued": replies,
        "ms": {
            name: {
                "p50": round(percentile(values, 0.50), 2),
                "p99": round(percentile(values, 0.99), 2),
                "mean": round(statistics.fmean(values), 2),
            }
            for name, values in timings.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    configured = Settings().database.url.get_secret_value()
    server: EmbeddedPostgres | None = None
    base: Path | None = None
    if configured:
        admin_url = configured
    else:
        base = Path(tempfile.mkdtemp(prefix="funnel-bench-postgres-"))
        base.chmod(0o755)
        server = EmbeddedPostgres(base / "data").start()
        admin_url = server.admin_url

    async def run() -> dict[str, Any]:
        name = f"funnel_bench_overhead_{uuid.uuid4().hex[:8]}"
        url = await create_database(admin_url, name)
        try:
            await upgrade_async(url)
            return await measure(url, args.conversations, args.turns, args.warmup)
        finally:
            await drop_database(admin_url, name)

    try:
        results = asyncio.run(run())
    finally:
        if server is not None:
            server.stop()
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
    ms = results["ms"]
    print(f"pipeline overhead per turn, LLM time = 0 ({results['turns_measured']} turns)")
    print(f"{'':<34}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for key, label in (
        ("load", "load_turn"),
        ("run", "pipeline (context, RAG, policy)"),
        ("persist", "persist_turn"),
        ("total", "total"),
    ):
        print(f"{label:<34}{ms[key]['p50']:>9}{ms[key]['p99']:>9}{ms[key]['mean']:>9}")
    document = {
        "benchmark": "pipeline_overhead",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "server": "configured" if configured else "embedded-postgres",
        "parameters": vars(args),
        **results,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "pipeline_overhead.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
