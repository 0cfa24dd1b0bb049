"""Retrieval quality and the grounding threshold, on the labelled set in tests/fixtures/knowledge.

Ingests the fixture knowledge base into a scratch database with the configured embedder (the
offline hashing embedder without a key, Gemini with ``GOOGLE_API_KEY``/``FUNNEL_LLM__API_KEY``),
runs every labelled query, and prints recall@1/3/5, MRR and a threshold sweep: for each
candidate threshold, the share of answerable questions that would be grounded and of
unanswerable ones that would be refused. This is how ``DEFAULT_CONFIDENCE_THRESHOLD`` was set;
re-run it after changing the embedder, the scoring or the chunking.

    python -m bench.retrieval_eval        (from the repository root)

Uses ``FUNNEL_DATABASE__URL``'s server when set, the embedded PostgreSQL otherwise. Writes
``bench/results/retrieval_eval.json``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.db.migrate import upgrade_async
from funnel.core.devstack.postgres import EmbeddedPostgres, create_database, drop_database
from funnel.core.knowledge.ingest import scoped_session
from funnel.core.knowledge.search import DEFAULT_CONFIDENCE_THRESHOLD, search
from funnel.core.llm.base import Embedder
from funnel.core.llm.factory import build_embedder
from funnel.core.settings import DatabaseSettings, Settings
from tests.factories import make_organisation
from tests.fixtures.knowledge.evaluation import (
    evaluate,
    ingest_knowledge_base,
    is_relevant,
    load_eval_set,
)

RESULTS = Path(__file__).resolve().parent / "results"
THRESHOLDS = [round(0.30 + 0.025 * i, 3) for i in range(17)]  # 0.30 … 0.70


async def recall_at(url: str, embedder: Embedder, organisation_id: uuid.UUID) -> dict[int, float]:
    """recall@1/3/5 from one top-5 search per query."""
    queries, _ = load_eval_set()
    engine = create_engine(DatabaseSettings(url=SecretStr(url)))
    found: dict[int, int] = {1: 0, 3: 0, 5: 0}
    try:
        async with scoped_session(session_factory(engine), organisation_id) as session:
            for labelled in queries:
                hits = await search(session, organisation_id, labelled.query, embedder, 5)
                await session.commit()
                for k in found:
                    found[k] += any(is_relevant(h, labelled) for h in hits[:k])
    finally:
        await engine.dispose()
    return {k: round(v / len(queries), 3) for k, v in found.items()}


async def run(admin_url: str, settings: Settings) -> dict[str, Any]:
    name = f"funnel_eval_{uuid.uuid4().hex[:8]}"
    url = await create_database(admin_url, name)
    embedder = build_embedder(settings)
    try:
        await upgrade_async(url)
        engine = create_engine(DatabaseSettings(url=SecretStr(url)))
        sessions = session_factory(engine)
        try:
            async with sessions() as session:
                organisation = await make_organisation(session)
                await session.commit()
            chunks = await ingest_knowledge_base(sessions, embedder, organisation.id)
            result = await evaluate(sessions, embedder, organisation.id, k=5)
        finally:
            await engine.dispose()
        recall = await recall_at(url, embedder, organisation.id)
    finally:
        await drop_database(admin_url, name)
        close = getattr(embedder, "aclose", None)
        if close is not None:
            await close()

    sweep = []
    for threshold in THRESHOLDS:
        grounded, refused = result.grounding_accuracy(threshold)
        sweep.append({"threshold": threshold, "grounded": grounded, "refused": refused})
    # Balanced accuracy; ties go to the higher threshold (a refusal is the safer mistake).
    best = max(sweep, key=lambda s: (s["grounded"] + s["refused"], s["threshold"]))
    return {
        "embedding_model": embedder.model,
        "chunks": chunks,
        "answerable_queries": result.answerable,
        "unanswerable_queries": len(result.unanswerable_top_scores),
        "recall": recall,
        "recall_at_5": round(result.recall_at_k, 3),
        "mrr": round(result.mrr, 3),
        "misses": result.misses,
        "answerable_top_scores": sorted(round(s, 3) for s in result.answerable_top_scores),
        "unanswerable_top_scores": sorted(round(s, 3) for s in result.unanswerable_top_scores),
        "sweep": sweep,
        "best_threshold": best["threshold"],
        "default_threshold": DEFAULT_CONFIDENCE_THRESHOLD,
    }


def main() -> None:
    settings = Settings()
    configured = settings.database.url.get_secret_value()
    base: Path | None = None
    server: EmbeddedPostgres | None = None
    if configured:
        admin_url = configured
    else:
        base = Path(tempfile.mkdtemp(prefix="funnel-eval-postgres-"))
        base.chmod(0o755)
        server = EmbeddedPostgres(base / "data").start()
        admin_url = server.admin_url
    try:
        results = asyncio.run(run(admin_url, settings))
    finally:
        if server is not None:
            server.stop()
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)

    print(
        f"{results['embedding_model']}: {results['answerable_queries']} queries over "
        f"{results['chunks']} chunks; recall@1 {results['recall'][1]}, recall@3 "
        f"{results['recall'][3]}, recall@5 {results['recall'][5]}, MRR {results['mrr']}"
    )
    print(f"answerable top scores:   {results['answerable_top_scores']}")
    print(f"unanswerable top scores: {results['unanswerable_top_scores']}")
    print(f"{'threshold':>10}{'grounded':>10}{'refused':>10}")
    for row in results["sweep"]:
        marker = "  <- default" if row["threshold"] == results["default_threshold"] else ""
        print(f"{row['threshold']:>10}{row['grounded']:>10.0%}{row['refused']:>10.0%}{marker}")
    print(f"best balanced threshold: {results['best_threshold']}")
    RESULTS.mkdir(exist_ok=True)
    document = {"benchmark": "retrieval_eval", "when": datetime.now(UTC).isoformat(), **results}
    out = RESULTS / "retrieval_eval.json"
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
