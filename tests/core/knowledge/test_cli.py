"""``funnel knowledge``: ingest with a progress bar, list, search, delete, against a real
database through the settings, as an operator would run it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from funnel.core.cli import app
from funnel.core.db.engine import create_engine, session_factory
from funnel.core.settings import DatabaseSettings, get_settings
from tests.factories import make_organisation
from tests.fixtures.knowledge.evaluation import KB_DIR

runner = CliRunner()


@pytest.fixture
def slug(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    async def create() -> str:
        engine = create_engine(DatabaseSettings(url=SecretStr(database_url)))
        try:
            async with session_factory(engine)() as session:
                organisation = await make_organisation(session)
                await session.commit()
                return organisation.slug
        finally:
            await engine.dispose()

    monkeypatch.setenv("FUNNEL_DATABASE__URL", database_url)
    monkeypatch.setenv("FUNNEL_EMBEDDINGS__PROVIDER", "offline")
    get_settings.cache_clear()
    yield asyncio.run(create())
    get_settings.cache_clear()


def test_ingest_list_search_delete(slug: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["knowledge", "ingest", str(KB_DIR / "policies.md"), "--org", slug])
    assert result.exit_code == 0, result.output
    ready = re.search(r"Ready: 'policies' \(([0-9a-f-]{36})\), \d+ chunks embedded", result.output)
    assert ready is not None
    document_id = ready.group(1)

    again = runner.invoke(app, ["knowledge", "ingest", str(KB_DIR / "policies.md"), "--org", slug])
    assert again.exit_code == 0
    assert "nothing re-embedded" in again.output

    empty = tmp_path / "empty.txt"
    empty.write_text("")
    refused = runner.invoke(app, ["knowledge", "ingest", str(empty), "--org", slug])
    assert refused.exit_code == 2
    assert "Refused: the document is empty" in refused.output

    listed = runner.invoke(app, ["knowledge", "list", "--org", slug])
    assert listed.exit_code == 0
    assert "policies" in listed.output
    assert "ready" in listed.output
    assert document_id in listed.output

    found = runner.invoke(app, ["knowledge", "search", "How long do refunds take?", "--org", slug])
    assert found.exit_code == 0
    assert "Refunds" in found.output
    assert "grounded" in found.output

    deleted = runner.invoke(app, ["knowledge", "delete", document_id, "--org", slug])
    assert deleted.exit_code == 0
    assert "Deleted" in deleted.output
    assert "No documents." in runner.invoke(app, ["knowledge", "list", "--org", slug]).output
    gone = runner.invoke(app, ["knowledge", "delete", document_id, "--org", slug])
    assert gone.exit_code == 1


def test_unknown_organisation(slug: str) -> None:
    result = runner.invoke(app, ["knowledge", "list", "--org", "no-such-org"])
    assert result.exit_code == 1
    assert "No organisation with slug 'no-such-org'" in result.output
