"""Counting the SQL statements a request runs, to assert that a page costs a fixed number of
queries whatever its size (DataLoaders, not one query per row)::

    with count_queries(api_app) as counter:
        await client.post("/graphql", json={"query": INBOX}, headers=...)
    assert counter.count == 4
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event


@dataclasses.dataclass
class QueryCounter:
    statements: list[str] = dataclasses.field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextlib.contextmanager
def count_queries(app: FastAPI) -> Iterator[QueryCounter]:
    engine = app.state.resources.engine.sync_engine
    counter = QueryCounter()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Transaction plumbing (the tenant scope's SET ROLE / set_config) is not the page's cost.
        if not statement.lstrip().upper().startswith(("SET ", "SELECT SET_CONFIG")):
            counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", record)
