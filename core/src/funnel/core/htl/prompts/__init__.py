"""Versioned prompt files and the registry that renders them.

Each stage's prompt is a Markdown file named ``<stage>.v<N>.md``::

    ---
    stage: eyes
    version: 1
    ---
    @@ system
    …instructions, with $placeholders…
    @@ prompt
    …the turn's data, with $placeholders…

The registry picks the highest version of each stage unless one is pinned, and renders with
:class:`string.Template`: substitution is single-pass, so a ``$name`` typed by a customer stays
literal text, and a placeholder the caller forgot raises instead of shipping a prompt with a hole.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from string import Template

from funnel.core.llm.base import Stage

_FILE_NAME = re.compile(r"^(?P<stage>[a-z]+)\.v(?P<version>\d+)\.md$")
_FRONT_MATTER = re.compile(r"\A---\n(?P<meta>.*?)\n---\n", re.DOTALL)
_SECTION = re.compile(r"^@@ (system|prompt)\s*$", re.MULTILINE)


class PromptError(ValueError):
    """A prompt file is malformed, or rendering it lacked a value."""


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    system: str
    prompt: str
    #: ``eyes.v1``: recorded in the trace with every call.
    version: str


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    stage: Stage
    version: int
    system: Template
    prompt: Template

    @property
    def version_id(self) -> str:
        return f"{self.stage.value}.v{self.version}"

    @property
    def placeholders(self) -> set[str]:
        names: set[str] = set()
        for template in (self.system, self.prompt):
            for match in template.pattern.finditer(template.template):
                name = match.group("named") or match.group("braced")
                if name:
                    names.add(name)
        return names

    def render(self, values: dict[str, str]) -> RenderedPrompt:
        try:
            system = self.system.substitute(values)
            prompt = self.prompt.substitute(values)
        except KeyError as exc:
            raise PromptError(f"{self.version_id}: no value for ${exc.args[0]}") from exc
        except ValueError as exc:
            raise PromptError(f"{self.version_id}: {exc}") from exc
        return RenderedPrompt(system=system.strip(), prompt=prompt.strip(), version=self.version_id)


def parse_prompt(text: str, *, source: str = "<prompt>") -> PromptTemplate:
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise PromptError(f"{source}: missing front matter")
    meta: dict[str, str] = {}
    for line in match.group("meta").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip()] = value.strip()
    try:
        stage = Stage(meta["stage"])
        version = int(meta["version"])
    except (KeyError, ValueError) as exc:
        raise PromptError(f"{source}: front matter needs stage and an integer version") from exc
    body = text[match.end() :]
    parts = _SECTION.split(body)
    # ['', 'system', <text>, 'prompt', <text>]
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    if set(sections) != {"system", "prompt"}:
        raise PromptError(f"{source}: needs exactly one '@@ system' and one '@@ prompt' section")
    return PromptTemplate(
        stage=stage,
        version=version,
        system=Template(sections["system"]),
        prompt=Template(sections["prompt"]),
    )


class PromptRegistry:
    """The prompt files of this package, by stage and version."""

    def __init__(self, templates: list[PromptTemplate]) -> None:
        self._templates: dict[Stage, dict[int, PromptTemplate]] = {}
        for template in templates:
            self._templates.setdefault(template.stage, {})[template.version] = template

    @classmethod
    def load(cls) -> PromptRegistry:
        templates = []
        for entry in resources.files(__package__).iterdir():
            match = _FILE_NAME.match(entry.name)
            if match is None:
                continue
            template = parse_prompt(entry.read_text(encoding="utf-8"), source=entry.name)
            if (template.stage.value, template.version) != (
                match.group("stage"),
                int(match.group("version")),
            ):
                raise PromptError(f"{entry.name}: front matter disagrees with the file name")
            templates.append(template)
        return cls(templates)

    def get(self, stage: Stage, version: int | None = None) -> PromptTemplate:
        versions = self._templates.get(stage)
        if not versions:
            raise PromptError(f"no prompt for stage {stage.value}")
        if version is None:
            return versions[max(versions)]
        try:
            return versions[version]
        except KeyError:
            raise PromptError(f"no prompt {stage.value}.v{version}") from None

    def render(
        self, stage: Stage, values: dict[str, str], *, version: int | None = None
    ) -> RenderedPrompt:
        return self.get(stage, version).render(values)


@functools.cache
def default_registry() -> PromptRegistry:
    """The package's prompts, read once per process."""
    return PromptRegistry.load()
