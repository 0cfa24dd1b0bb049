"""The pipeline ``funnel pipeline worker`` runs by default: the four stages on the configured LLM
(Gemini with a key, the offline provider without), with retrieval over the organisation's
knowledge base (the hybrid search in :mod:`funnel.core.knowledge.search`)."""

from __future__ import annotations

import logging

from funnel.core.htl.turn import Retriever
from funnel.core.llm.factory import build_embedder, build_llm_client
from funnel.core.settings import Settings
from funnel.core.turns.contract import Pipeline
from funnel.core.turns.htl_pipeline import HtlPipeline

log = logging.getLogger(__name__)


def knowledge_retriever(settings: Settings) -> Retriever:
    """Hybrid retrieval on its own small pool: a slow search must not take the connections the
    turns' load and persist transactions need."""
    from funnel.core.db.engine import create_engine, session_factory
    from funnel.core.knowledge.search import KnowledgeRetriever

    engine = create_engine(settings.database, application_name="funnel-worker-rag")
    # The threshold belongs to the embedder: each one's scores run on its own scale.
    return KnowledgeRetriever(
        session_factory(engine), build_embedder(settings), threshold=settings.grounding_threshold
    )


def build_pipeline(settings: Settings, retriever: Retriever | None = None) -> Pipeline:
    client = build_llm_client(settings)
    if retriever is None:
        retriever = knowledge_retriever(settings)
    log.info("pipeline.built", extra={"provider": client.provider, "offline": client.is_offline})
    return HtlPipeline(client, settings=settings, retriever=retriever)
