"""The pipeline ``funnel pipeline worker`` runs by default: the four stages on the configured LLM
(Gemini with a key, the offline provider without)."""

from __future__ import annotations

import logging

from funnel.core.htl.turn import Retriever
from funnel.core.llm.factory import build_llm_client
from funnel.core.settings import Settings
from funnel.core.turns.contract import Pipeline
from funnel.core.turns.htl_pipeline import HtlPipeline

log = logging.getLogger(__name__)


def build_pipeline(settings: Settings, retriever: Retriever | None = None) -> Pipeline:
    client = build_llm_client(settings)
    log.info("pipeline.built", extra={"provider": client.provider, "offline": client.is_offline})
    return HtlPipeline(client, settings=settings, retriever=retriever)
