"""The YAML scenario format (documented in evals/README.md)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Model(BaseModel):
    # Unknown keys are errors: a typo in an assertion must not silently assert nothing.
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfflineMode(enum.StrEnum):
    #: The offline provider must pass it (needs no language understanding).
    REQUIRED = "required"
    #: Run with the offline provider, but a failure is reported, not fatal.
    OPTIONAL = "optional"
    #: Needs a real model; not run offline.
    SKIP = "skip"


class KnowledgeSnippet(_Model):
    title: str = ""
    text: str


class CtaSpec(_Model):
    #: The scenario's name for it; buttons refer to it (``button: demo``).
    key: str
    name: str
    type: Literal["book_call", "book_demo", "send_link", "visit", "custom"] = "custom"
    url: str | None = None


class OrganisationSpec(_Model):
    business_name: str = "Acme Solar"
    description: str = ""
    persona: str = ""
    flow: str = ""
    timezone: str = "Asia/Kolkata"
    language: str = "en"
    reply_word_limit: int = 80
    allowed_link_domains: list[str] = Field(default_factory=list)
    #: Purposes the organisation has an approved template for.
    templates: list[Literal["followup", "reengagement", "cta", "handoff", "custom"]] = Field(
        default_factory=list
    )
    quiet_hours: dict[str, str] = Field(default_factory=dict)
    #: Tell the customer a person will follow up when the bot hands off.
    notify_customer_on_handoff: bool = True


class StateSpec(_Model):
    mode: Literal["bot", "human", "closed"] = "bot"
    stage: str = "greeting"
    window_open: bool = True
    opted_out: bool = False
    summary: str = ""
    #: A CTA already offered (its key).
    cta_offered: str | None = None
    lead_name: str | None = "Asha"


class Expect(_Model):
    #: One action, or any of several.
    action: str | list[str] | None = None
    #: True: some message is sent this turn; False: nothing is.
    reply: bool | None = None
    #: Every one of these appears in the reply (case-insensitive).
    mentions: list[str] = Field(default_factory=list)
    #: At least one of these appears.
    mentions_any: list[str] = Field(default_factory=list)
    not_mentions: list[str] = Field(default_factory=list)
    no_url: bool | None = None
    stage: str | None = None
    handoff: bool | None = None
    opted_out: bool | None = None
    #: True, or the purpose of the template sent.
    template_sent: bool | str | None = None
    cta_offered: bool | None = None
    cta_state: str | None = None
    #: Script of the reply's letters: ``Latn``, ``Deva``…
    script: str | None = None
    #: Eyes' language tag starts with this (``hi``).
    language: str | None = None
    needs_attention: bool | None = None
    mode: str | None = None
    #: The reply is a single message (a burst gets one answer).
    replies: int | None = None
    max_words: int | None = None


class TurnSpec(_Model):
    #: One customer message, or a burst of several.
    customer: str | list[str] | None = None
    #: Tap the accept button of the CTA with this key.
    button: str | None = None
    #: A scheduled follow-up turn after the customer's silence (no customer message).
    followup: bool = False
    #: On a follow-up turn: what the nudge should be about (a sequence step's ``message_hint``).
    hint: str | None = None
    #: Time that passes before this turn.
    advance_minutes: Annotated[int, Field(ge=0)] = 1
    #: A person takes over (``human``) or releases (``bot``) before this turn.
    set_mode: Literal["bot", "human"] | None = None
    expect: Expect = Field(default_factory=Expect)

    @field_validator("customer")
    @classmethod
    def _not_empty(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and not value:
            raise ValueError("an empty burst")
        return value


class Scenario(_Model):
    name: str
    description: str = ""
    #: Must pass with every provider.
    required: bool = False
    offline: OfflineMode = OfflineMode.OPTIONAL
    tags: list[str] = Field(default_factory=list)
    organisation: OrganisationSpec = Field(default_factory=OrganisationSpec)
    knowledge: list[KnowledgeSnippet] = Field(default_factory=list)
    ctas: list[CtaSpec] = Field(default_factory=list)
    state: StateSpec = Field(default_factory=StateSpec)
    turns: list[TurnSpec] = Field(min_length=1)

    def required_for(self, provider: str) -> bool:
        return self.required or (provider == "offline" and self.offline is OfflineMode.REQUIRED)

    def runs_with(self, provider: str) -> bool:
        return not (provider == "offline" and self.offline is OfflineMode.SKIP)


class ScenarioFileError(ValueError):
    pass


def load_suite(directory: Path) -> list[Scenario]:
    """Every ``*.yaml`` / ``*.yml`` under ``directory``, sorted by file name."""
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - funnel-core[llm] installs it
        raise ScenarioFileError("funnel eval needs PyYAML: install funnel-core[db,llm]") from exc
    if not directory.is_dir():
        raise ScenarioFileError(f"{directory} is not a directory")
    scenarios: list[Scenario] = []
    names: set[str] = set()
    for path in sorted([*directory.rglob("*.yaml"), *directory.rglob("*.yml")]):
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
            scenario = Scenario.model_validate(raw)
        except Exception as exc:
            raise ScenarioFileError(f"{path}: {exc}") from exc
        if scenario.name in names:
            raise ScenarioFileError(f"{path}: duplicate scenario name {scenario.name!r}")
        names.add(scenario.name)
        scenarios.append(scenario)
    return scenarios
