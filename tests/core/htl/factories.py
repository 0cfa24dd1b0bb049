"""Plain factories for the pipeline's typed inputs, and a tiny in-memory retriever.

The retriever stands in for the database's hybrid search in tests that exercise the stages: it
scores chunks by the share of the query's words they contain, so "grounded" and "no grounding"
are both easy to produce on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from funnel.core.htl.enums import (
    ConversationMode,
    ConversationStage,
    CtaState,
    CtaType,
    MessageAuthor,
    TemplatePurpose,
    TurnTrigger,
)
from funnel.core.htl.schemas import (
    ChatMessage,
    ConversationState,
    CtaOption,
    OrgProfile,
    Retrieval,
    RetrievedChunk,
    TurnContext,
)

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)

KNOWLEDGE = [
    RetrievedChunk(
        chunk_id="pricing-1",
        document_id="doc-pricing",
        document_title="Plans and prices",
        text=(
            "# Plans\nAcme Solar offers two plans. The Starter plan costs ₹49,999 for a 2 kW "
            "system. The Home plan costs ₹89,999 for a 4 kW system."
        ),
        score=0.0,
    ),
    RetrievedChunk(
        chunk_id="warranty-1",
        document_id="doc-warranty",
        document_title="Warranty",
        text="Panels carry a 25-year performance warranty. Inverters carry a 5-year warranty.",
        score=0.0,
    ),
    RetrievedChunk(
        chunk_id="survey-1",
        document_id="doc-survey",
        document_title="Site survey",
        text="A free site survey can be booked online. An engineer visits within 3 working days.",
        score=0.0,
    ),
]

_STOP_TEXT = (
    "a an the is are to of and or in on at for with what how much does do you your i me my "
    "it this that can please tell about hai kya ka ki ke bhai"
)
_STOP = frozenset(_STOP_TEXT.split())


def _stems(text: str) -> set[str]:
    found = set()
    for word in re.findall(r"[^\W\d_]+", text.lower()):
        if word in _STOP:
            continue
        found.add(word[:-1] if word.endswith("s") and len(word) > 3 else word)
    return found


@dataclass
class KeywordRetriever:
    chunks: list[RetrievedChunk]
    threshold: float = 0.5
    calls: int = 0

    async def __call__(self, ctx: TurnContext, query: str) -> Retrieval:
        self.calls += 1
        wanted = _stems(query)
        scored = []
        for chunk in self.chunks:
            overlap = len(wanted & _stems(chunk.text))
            score = overlap / len(wanted) if wanted else 0.0
            if overlap:
                scored.append(chunk.model_copy(update={"score": score}))
        return Retrieval.from_chunks(query, scored, self.threshold)


SURVEY = CtaOption(
    id="cta-survey",
    type=CtaType.BOOK_CALL,
    label="Book a free survey",
    url="https://acme-solar.example/survey",
)
CALLBACK = CtaOption(id="cta-callback", type=CtaType.BOOK_CALL, label="Request a callback")
RETIRED = CtaOption(id="cta-old", label="Old offer", active=False)


def org(**changes: object) -> OrgProfile:
    values: dict[str, object] = {
        "organisation_id": "org-1",
        "business_name": "Acme Solar",
        "business_description": "Rooftop solar installation for homes.",
        "persona_prompt": "You are Riya from Acme Solar. Friendly and brief.",
        "flow_prompt": "Understand the roof and the electricity bill, then offer a site survey.",
        "timezone": "Asia/Kolkata",
        "language": "en",
        "reply_word_limit": 60,
        "allowed_link_domains": ["acme-solar.example"],
        "template_purposes": frozenset({TemplatePurpose.FOLLOWUP, TemplatePurpose.HANDOFF}),
    }
    values.update(changes)
    return OrgProfile.model_validate(values)


def msg(
    text: str,
    *,
    author: MessageAuthor = MessageAuthor.LEAD,
    minutes_ago: float = 0,
    reply_id: str | None = None,
    reaction: bool = False,
) -> ChatMessage:
    return ChatMessage(
        author=author,
        text=text,
        at=NOW - timedelta(minutes=minutes_ago),
        reply_id=reply_id,
        reaction=reaction,
    )


def state(**changes: object) -> ConversationState:
    return ConversationState.model_validate(changes)


def turn(
    *texts: str,
    ctas: list[CtaOption] | None = None,
    history: list[ChatMessage] | None = None,
    trigger: TurnTrigger = TurnTrigger.CUSTOMER,
    new_messages: list[ChatMessage] | None = None,
    org_profile: OrgProfile | None = None,
    **state_changes: object,
) -> TurnContext:
    return TurnContext(
        org=org_profile or org(),
        state=state(**state_changes),
        ctas=[SURVEY, CALLBACK, RETIRED] if ctas is None else ctas,
        history=history or [],
        new_messages=new_messages if new_messages is not None else [msg(t) for t in texts],
        trigger=trigger,
        now=NOW,
    )


__all__ = [
    "CALLBACK",
    "KNOWLEDGE",
    "NOW",
    "RETIRED",
    "SURVEY",
    "ConversationMode",
    "ConversationStage",
    "CtaState",
    "KeywordRetriever",
    "msg",
    "org",
    "state",
    "turn",
]
