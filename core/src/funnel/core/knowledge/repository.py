"""All knowledge-base SQL: documents, chunks, and the two halves of hybrid search."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import undefer

from funnel.core.db.tenancy import TenantRepository
from funnel.core.models.enums import KnowledgeDocumentStatus
from funnel.core.models.knowledge_chunk import KnowledgeChunk
from funnel.core.models.knowledge_document import KnowledgeDocument

_CLAIMABLE = (KnowledgeDocumentStatus.PENDING, KnowledgeDocumentStatus.FAILED)


class KnowledgeDocumentRepository(TenantRepository[KnowledgeDocument]):
    model = KnowledgeDocument

    async def get_by_checksum(self, checksum: str) -> KnowledgeDocument | None:
        return await self.get_one_or_none(
            self.get_base_statement().where(KnowledgeDocument.checksum_sha256 == checksum)
        )

    async def get_with_content(self, document_id: uuid.UUID) -> KnowledgeDocument | None:
        return await self.get_one_or_none(
            self.get_base_statement()
            .where(KnowledgeDocument.id == document_id)
            .options(undefer(KnowledgeDocument.content))
        )

    async def list_documents(self) -> Sequence[KnowledgeDocument]:
        return await self.get_all(
            self.get_base_statement().order_by(
                KnowledgeDocument.created_at.desc(), KnowledgeDocument.title
            )
        )

    async def claim(self, document_id: uuid.UUID) -> bool:
        """Move a pending or failed document to ``processing``; false if someone else holds it
        or it is done. The conditional UPDATE is the lock: two jobs for one document cannot
        both win it, so chunks are never written twice."""
        statement = (
            sa.update(KnowledgeDocument)
            .where(
                self.scope_clause(),
                KnowledgeDocument.id == document_id,
                KnowledgeDocument.status.in_(_CLAIMABLE),
            )
            .values(status=KnowledgeDocumentStatus.PROCESSING, progress=0, error=None)
            .returning(KnowledgeDocument.id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def set_progress(self, document_id: uuid.UUID, percent: int) -> None:
        await self.update_where(KnowledgeDocument.id == document_id, progress=percent)


class KnowledgeChunkRepository(TenantRepository[KnowledgeChunk]):
    model = KnowledgeChunk

    async def delete_for_document(self, document_id: uuid.UUID) -> int:
        return await self.delete_where(KnowledgeChunk.document_id == document_id)

    async def insert_many(self, rows: list[dict[str, Any]]) -> None:
        """One multi-row INSERT per call; every row is put in this organisation."""
        if not rows:
            return
        scoped = [{**row, "organisation_id": self.organisation_id} for row in rows]
        await self.session.execute(sa.insert(KnowledgeChunk), scoped)

    async def count_for_document(self, document_id: uuid.UUID) -> int:
        return await self.count(
            self.get_base_statement().where(KnowledgeChunk.document_id == document_id)
        )

    # -- search -------------------------------------------------------------------------------

    def vector_statement(self, vector: list[float], model: str, limit: int) -> sa.Select[Any]:
        """Nearest chunks by cosine distance, this organisation's and this model's only.

        A plain ``ORDER BY distance LIMIT`` so the HNSW index can serve it; the filters are
        applied during the index scan, which ``hnsw.iterative_scan`` keeps going until ``limit``
        rows pass them (see :func:`funnel.core.knowledge.search.search`).
        """
        distance = KnowledgeChunk.embedding.cosine_distance(vector)
        return (
            sa.select(KnowledgeChunk.id, distance.label("distance"))
            .where(self.scope_clause(), KnowledgeChunk.embedding_model == model)
            .order_by(distance)
            .limit(limit)
        )

    async def vector_candidates(
        self, vector: list[float], model: str, limit: int
    ) -> list[tuple[uuid.UUID, float]]:
        result = await self.session.execute(self.vector_statement(vector, model, limit))
        # relaxed_order may return index order slightly off exact distance order: sort here.
        return sorted(((row.id, float(row.distance)) for row in result), key=lambda r: r[1])

    async def keyword_candidates(
        self, terms: list[str], model: str, limit: int
    ) -> list[tuple[uuid.UUID, float]]:
        """Chunks matching *any* of ``terms`` ranked by ``ts_rank_cd``.

        ``websearch_to_tsquery`` parses the text safely (quotes, dashes, any script) but ANDs
        the words; a customer's question rarely contains every word of the answer, so its ``&``
        become ``|`` and the ranking decides.
        """
        if not terms:
            return []
        parsed = sa.func.websearch_to_tsquery(
            sa.literal_column("'simple'::regconfig"), " ".join(terms)
        )
        query = sa.cast(sa.func.replace(sa.cast(parsed, sa.Text), "&", "|"), postgresql.TSQUERY)
        rank = sa.func.ts_rank_cd(KnowledgeChunk.search_vector, query)
        statement = (
            sa.select(KnowledgeChunk.id, rank.label("rank"))
            .where(
                self.scope_clause(),
                KnowledgeChunk.embedding_model == model,
                KnowledgeChunk.search_vector.op("@@")(query),
            )
            .order_by(rank.desc(), KnowledgeChunk.id)
            .limit(limit)
        )
        result = await self.session.execute(statement)
        return [(row.id, float(row.rank)) for row in result]

    async def hit_rows(
        self, ids: list[uuid.UUID], vector: list[float]
    ) -> dict[uuid.UUID, sa.Row[Any]]:
        """The fused candidates' text and their exact cosine similarity to the query (keyword
        hits the vector side did not return need it too)."""
        if not ids:
            return {}
        similarity = (1 - KnowledgeChunk.embedding.cosine_distance(vector)).label("cosine")
        statement = sa.select(
            KnowledgeChunk.id,
            KnowledgeChunk.document_id,
            KnowledgeChunk.organisation_id,
            KnowledgeChunk.title,
            KnowledgeChunk.content,
            KnowledgeChunk.page,
            KnowledgeChunk.metadata_,
            similarity,
        ).where(self.scope_clause(), KnowledgeChunk.id.in_(ids))
        result = await self.session.execute(statement)
        return {row.id: row for row in result}
