"""Template statuses and knowledge ingestion, live: ``templateStatusChanged`` and
``knowledgeDocumentUpdated`` over a real graphql-transport-ws connection to `funnel api serve`,
fed by PostgreSQL NOTIFY from whichever process committed the change, for the caller's
organisation only."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from funnel.core.db.engine import create_engine, session_factory
from funnel.core.db.tenancy import scope_to_organisation
from funnel.core.knowledge.ingest import ingest_document
from funnel.core.llm.embeddings import HashingEmbedder
from funnel.core.models import Organisation
from funnel.core.models.enums import TemplateStatus
from funnel.core.models.knowledge_chunk import EMBEDDING_DIMENSIONS
from funnel.core.settings import DatabaseSettings
from funnel.core.templates.service import apply_template_status_update
from tests import factories
from tests.api.processes import api_process
from tests.api.test_graphql_live import ensure_nothing_more, receive, register, subscribed
from tests.api.test_knowledge import POLICY

pytestmark = pytest.mark.slow

SUBSCRIPTIONS = {
    "templates": "subscription { templateStatusChanged { templateId status } }",
    "knowledge": "subscription { knowledgeDocumentUpdated { documentId status progress } }",
}
UPLOAD = """
mutation($content: String!) {
  uploadKnowledgeDocument(filename: "policies.md", contentBase64: $content) {
    __typename ... on KnowledgeDocument { id status }
  }
}
"""


class BrokenEmbedder:
    """An embedding service that is down: the document ends ``failed``."""

    model = "broken"
    dimensions = EMBEDDING_DIMENSIONS

    async def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("the embedding service is unavailable")

    async def embed_query(self, text: str) -> list[float]:
        raise RuntimeError("the embedding service is unavailable")


async def pending_template(engine: AsyncEngine, organisation_id: uuid.UUID) -> tuple[str, str]:
    """A template under Meta's review: its id and Meta's id."""
    meta_id = str(uuid.uuid4().int)[:15]
    async with session_factory(engine)() as session:
        organisation = await session.get(Organisation, organisation_id)
        assert organisation is not None
        template = await factories.make_template(
            session, organisation, status=TemplateStatus.PENDING, meta_template_id=meta_id
        )
        await session.commit()
        return str(template.id), meta_id


async def webhook_status(
    engine: AsyncEngine, organisation_id: uuid.UUID, meta_id: str, status: str
) -> None:
    """What the worker does with Meta's ``message_template_status_update``."""
    async with session_factory(engine)() as session:
        await scope_to_organisation(session, organisation_id)
        applied = await apply_template_status_update(
            session, organisation_id, {"event": status, "message_template_id": meta_id}
        )
        assert applied
        await session.commit()


async def test_template_status_changes_reach_the_organisations_subscribers(
    database_url: str,
) -> None:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    try:
        with api_process(database_url) as url:
            ours, theirs = await register(url), await register(url)
            org, other = uuid.UUID(ours["organisation_id"]), uuid.UUID(theirs["organisation_id"])
            template_id, meta_id = await pending_template(engine, org)
            _, their_meta_id = await pending_template(engine, other)
            async with subscribed(url, ours["access_token"], SUBSCRIPTIONS) as ws:
                await webhook_status(engine, other, their_meta_id, "APPROVED")
                await webhook_status(engine, org, meta_id, "APPROVED")
                got = await receive(ws, 1)
                assert got == {"templates": [{"templateId": template_id, "status": "APPROVED"}]}
                # Meta redelivering the same status changes nothing and says nothing.
                await webhook_status(engine, org, meta_id, "APPROVED")
                await webhook_status(engine, org, meta_id, "REJECTED")
                got = await receive(ws, 1)
                assert got == {"templates": [{"templateId": template_id, "status": "REJECTED"}]}
                await ensure_nothing_more(ws)
    finally:
        await engine.dispose()


async def test_knowledge_ingestion_is_followed_from_pending_to_ready_or_failed(
    database_url: str,
) -> None:
    engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
    sessions = session_factory(engine)
    try:
        with api_process(database_url) as url:
            ours, theirs = await register(url), await register(url)
            org, other = uuid.UUID(ours["organisation_id"]), uuid.UUID(theirs["organisation_id"])
            async with subscribed(url, ours["access_token"], SUBSCRIPTIONS) as ws:
                # Another organisation's ingestion is not ours to see.
                embedder = HashingEmbedder(dimensions=EMBEDDING_DIMENSIONS)
                await ingest_document(sessions, embedder, other, "a.md", POLICY)

                # An upload through the API: pending at once, then the background ingestion.
                async with httpx.AsyncClient(base_url=url) as client:
                    response = await client.post(
                        "/graphql",
                        json={
                            "query": UPLOAD,
                            "variables": {"content": base64.b64encode(POLICY).decode()},
                        },
                        headers={"Authorization": f"Bearer {ours['access_token']}"},
                    )
                uploaded = response.json()["data"]["uploadKnowledgeDocument"]
                assert uploaded["__typename"] == "KnowledgeDocument", response.text
                updates = await until(ws, "READY")
                assert {u["documentId"] for u in updates} == {uploaded["id"]}
                steps = [(u["status"], u["progress"]) for u in updates]
                assert steps[:2] == [("PENDING", 0), ("PROCESSING", 0)]
                assert steps[-1] == ("READY", 100)
                # Then progress as the batches are embedded, never going back.
                assert {s for s, _ in steps[2:-1]} == {"PROCESSING"}
                progress = [p for _, p in steps[2:-1]]
                assert progress == sorted(progress)
                assert progress[-1] > 0

                # Embedding fails (the CLI's path, in this process): pending, processing, failed.
                report = await ingest_document(
                    sessions, BrokenEmbedder(), org, "notes.md", b"# Notes\n\nOpening hours 9-5."
                )
                failed = await until(ws, "FAILED")
                assert [(u["documentId"], u["status"]) for u in failed] == [
                    (str(report.document_id), "PENDING"),
                    (str(report.document_id), "PROCESSING"),
                    (str(report.document_id), "FAILED"),
                ]
                await ensure_nothing_more(ws)
    finally:
        await engine.dispose()


async def until(ws: Any, final: str) -> list[dict[str, Any]]:
    """Knowledge updates up to and including the first with status ``final``."""
    updates: list[dict[str, Any]] = []
    while not updates or updates[-1]["status"] != final:
        got = await receive(ws, 1)
        assert set(got) == {"knowledge"}, got
        updates += got["knowledge"]
        assert len(updates) < 50, updates
    return updates
