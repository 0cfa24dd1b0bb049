"""Hybrid retrieval: pgvector cosine top-k and PostgreSQL full text, fused by reciprocal rank.

Both halves filter by organisation *in SQL* and by ``embedding_model`` (vectors of two models
are not comparable, so a half-migrated knowledge base never mixes them). They run in one
transaction with ``hnsw.iterative_scan = relaxed_order``: without it the HNSW scan stops after
``ef_search`` neighbours *before* the tenant filter, and a small tenant in a large table gets
too few rows back (``docs/knowledge.md`` has the measurements).

Scores. Reciprocal rank fusion orders well but says nothing about whether the best hit is any
good: the best of an irrelevant list still ranks first. So each hit's ``score`` (0..1) blends
an absolute signal, the cosine similarity, with the fused rank::

    score = 0.6 · clamp(cosine, 0, 1) + 0.4 · rrf / rrf_max        rrf_max = 2 / (k + 1)

``rrf_max`` is the fused score of a chunk ranked first by both halves, so the rank term is 1
exactly then, and about 0.5 for a chunk first in one half and absent from the other. Cosine
weighs more because it is the only part that can tell "nothing relevant" from "something": a
question sharing one common word with a chunk ("do you *sell* laptops?") can rank that chunk
first in both halves. The weights and the grounding threshold were chosen on a labelled set
(``tests/fixtures/knowledge``, ``bench/retrieval_eval.py``); ``docs/knowledge.md`` has the sweep.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.htl.schemas import Retrieval, RetrievedChunk, TurnContext
from funnel.core.knowledge.ingest import SessionFactory, scoped_session
from funnel.core.knowledge.repository import KnowledgeChunkRepository
from funnel.core.knowledge.schemas import SearchHit
from funnel.core.llm.base import Embedder

RRF_K = 60
_RRF_MAX = 2 / (RRF_K + 1)
DEFAULT_TOP_K = 5
#: The grounding threshold on ``score``, tuned on the labelled set with the offline hashing
#: embedder (``docs/knowledge.md``: the sweep and why this value). It is the default for a
#: retriever built without one; the worker passes the threshold for the embedder it uses
#: (``EmbeddingsSettings.grounding_thresholds``, ``Settings.grounding_threshold``).
DEFAULT_CONFIDENCE_THRESHOLD = 0.5
#: Share of the score from cosine similarity; the rest from the fused rank.
COSINE_WEIGHT = 0.6
#: Candidates each half contributes to the fusion, at least.
MIN_CANDIDATES = 20
#: HNSW beam width: at least the candidates asked for, with room for the tenant filter.
EF_SEARCH = 100

_TOKEN = re.compile(r"[\w\u0900-\u0DFF]+")
# Words that say nothing about which chunk answers. The keyword half ORs the query's words
# (see ``KnowledgeChunkRepository.keyword_candidates``), and with the 'simple' configuration
# nothing is a stop word, so "is" and "hai" would match every chunk.
_STOPWORD_TEXT = """
    a an the is are was were be been am do does did i me my we our you your it its this that
    to of in on at for from by with and or but if so as can could would should will what which
    who how when where why there here please pls hi hello hey ok okay any some about also tell
    know want need get have has had hai hain ha ka ki ke ko se me mein mai main hum aap ap tum
    kya kyu kyun kaise kab koi ye yeh wo woh vo bhi toh ho hoga hogi raha rahi tha thi par pe
    aur ya ji na nahi है हैं का की के को से में मैं हम आप क्या क्यों कैसे कब कोई यह ये वह भी
    तो हो पर और या जी"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_MAX_TERMS = 32


@dataclass(frozen=True, slots=True)
class _Fused:
    rrf: float
    vector_rank: int | None
    keyword_rank: int | None


def keyword_terms(query: str) -> list[str]:
    """The query's content words, casefolded, in order, without repeats."""
    words = _TOKEN.findall(unicodedata.normalize("NFC", query).casefold())
    seen: dict[str, None] = {}
    for word in words:
        if word not in _STOPWORDS and (len(word) > 1 or not word.isascii()):
            seen.setdefault(word, None)
    return list(seen)[:_MAX_TERMS]


def confidence(cosine: float, rrf: float) -> float:
    """The 0..1 score of a hit (module docstring)."""
    rank_term = min(rrf / _RRF_MAX, 1.0)
    return COSINE_WEIGHT * min(max(cosine, 0.0), 1.0) + (1 - COSINE_WEIGHT) * rank_term


async def tune_hnsw(session: AsyncSession, ef_search: int = EF_SEARCH) -> None:
    """Transaction-local HNSW settings for a filtered query (``SET LOCAL``: they end with the
    transaction, so a pooled connection does not carry them into unrelated work)."""
    await session.execute(sa.text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    await session.execute(sa.select(sa.func.set_config("hnsw.ef_search", str(ef_search), True)))


async def search(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    query: str,
    embedder: Embedder,
    top_k: int = DEFAULT_TOP_K,
) -> list[SearchHit]:
    """The ``top_k`` best chunks of ``organisation_id`` for ``query``, best first."""
    text = query.strip()
    if not text or top_k < 1:
        return []
    vector = await embedder.embed_query(text)
    candidates = max(MIN_CANDIDATES, 4 * top_k)
    await tune_hnsw(session, max(EF_SEARCH, candidates))
    chunks = KnowledgeChunkRepository(session, organisation_id)
    by_vector = await chunks.vector_candidates(vector, embedder.model, candidates)
    by_keyword = await chunks.keyword_candidates(keyword_terms(text), embedder.model, candidates)
    fused = _fuse([i for i, _ in by_vector], [i for i, _ in by_keyword])
    rows = await chunks.hit_rows(list(fused), vector)
    hits: list[SearchHit] = []
    for chunk_id, ranks in fused.items():
        row = rows.get(chunk_id)
        if row is None:  # deleted between the two statements
            continue
        cosine = float(row.cosine)
        metadata = row.metadata_ or {}
        hits.append(
            SearchHit(
                chunk_id=chunk_id,
                document_id=row.document_id,
                organisation_id=row.organisation_id,
                title=row.title or "",
                content=row.content,
                page=row.page,
                heading_path=tuple(metadata.get("heading_path", ())),
                score=confidence(cosine, ranks.rrf),
                cosine=cosine,
                rrf=ranks.rrf,
                vector_rank=ranks.vector_rank,
                keyword_rank=ranks.keyword_rank,
            )
        )
    hits.sort(key=lambda h: (-h.score, -h.rrf, str(h.chunk_id)))
    return hits[:top_k]


def _fuse(by_vector: list[uuid.UUID], by_keyword: list[uuid.UUID]) -> dict[uuid.UUID, _Fused]:
    vector_rank = {chunk_id: rank for rank, chunk_id in enumerate(by_vector, start=1)}
    keyword_rank = {chunk_id: rank for rank, chunk_id in enumerate(by_keyword, start=1)}
    fused: dict[uuid.UUID, _Fused] = {}
    for chunk_id in dict.fromkeys([*by_vector, *by_keyword]):
        v, k = vector_rank.get(chunk_id), keyword_rank.get(chunk_id)
        rrf = (1 / (RRF_K + v) if v else 0.0) + (1 / (RRF_K + k) if k else 0.0)
        fused[chunk_id] = _Fused(rrf=rrf, vector_rank=v, keyword_rank=k)
    return fused


class KnowledgeRetriever:
    """The pipeline's RAG step (:class:`funnel.core.htl.turn.Retriever`).

    Opens its own session per call, scoped to the turn's organisation (row-level security on
    top of the SQL filter), and returns a :class:`Retrieval` whose chunks carry ids, titles and
    scores for the trace; below ``threshold`` it is "no grounding".
    """

    def __init__(
        self,
        session_factory: SessionFactory,
        embedder: Embedder,
        *,
        top_k: int = DEFAULT_TOP_K,
        threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
    ) -> None:
        self._session_factory = session_factory
        self._embedder = embedder
        self.top_k = top_k
        self.threshold = threshold

    async def __call__(self, ctx: TurnContext, query: str) -> Retrieval:
        if not ctx.org.organisation_id:
            return Retrieval.from_chunks(query, [], self.threshold)
        return await self.retrieve(uuid.UUID(ctx.org.organisation_id), query)

    async def retrieve(self, organisation_id: uuid.UUID, query: str) -> Retrieval:
        async with scoped_session(self._session_factory, organisation_id) as session:
            hits = await search(session, organisation_id, query, self._embedder, self.top_k)
        return Retrieval.from_chunks(
            query, [to_retrieved_chunk(hit) for hit in hits], self.threshold
        )


def to_retrieved_chunk(hit: SearchHit) -> RetrievedChunk:
    # The chunk title (document title › headings) rather than the bare document title: the
    # trace then says which section grounded the reply, not only which file.
    return RetrievedChunk(
        chunk_id=str(hit.chunk_id),
        document_id=str(hit.document_id),
        document_title=hit.title,
        text=hit.content,
        score=round(hit.score, 4),
    )
