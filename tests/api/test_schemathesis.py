"""Property-based requests against the OpenAPI schema: no input makes the API answer 500.

The API runs as a real process (the generated requests exercise the whole stack, middleware and
error handler included); hypothesis draws a bounded number of requests per operation, with an
owner's credentials, so the handlers behind authentication are reached too.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.core.devstack.process import free_port
from tests.api.conftest import PASSWORD
from tests.api.processes import api_process

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 8
#: Run after everything else: they end the session the other requests use.
SESSION_ENDING = {("POST", "/auth/logout"), ("POST", "/auth/change-password")}


def _register(url: str) -> dict[str, Any]:
    slug = f"fuzz-{uuid.uuid4().hex[:8]}"
    response = httpx.post(
        f"{url}/auth/register",
        json={
            "organisation_name": slug,
            "slug": slug,
            "name": "Owner",
            "email": f"owner@{slug}.example",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_no_generated_request_gets_a_500(database_url: str) -> None:
    # Graph API calls (channel connect) go to a closed local port: a fast, declared 502.
    closed = f"http://127.0.0.1:{free_port()}"
    with api_process(database_url, FUNNEL_WHATSAPP__GRAPH_BASE_URL=closed) as url:
        tokens = _register(url)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        spec = httpx.get(f"{url}/openapi.json").json()
        schema = schemathesis.openapi.from_dict(spec)
        operations = [result.ok() for result in schema.get_all_operations()]
        operations.sort(key=lambda op: (op.method.upper(), op.path) in SESSION_ENDING)
        assert len(operations) >= 20
        failures: list[str] = []
        calls: list[int] = []
        for operation in operations:
            declared = set(spec["paths"][operation.path][operation.method.lower()]["responses"])
            _checker(operation, declared, url, headers, failures, calls)()
        assert not failures, "\n".join(sorted(set(failures))[:30])
        # Hypothesis really drew requests (it stops early only for tiny input spaces).
        assert len(calls) >= 2 * len(operations)


def _checker(
    operation: Any,
    declared: set[str],
    url: str,
    headers: dict[str, str],
    failures: list[str],
    calls: list[int],
) -> Any:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), authenticated=st.booleans())
    def check(case: Any, authenticated: bool) -> None:
        calls.append(1)
        response = case.call(base_url=url, headers=headers if authenticated else None)
        status = response.status_code
        if status == 500 or (status > 500 and str(status) not in declared):
            failures.append(
                f"{operation.method.upper()} {operation.path} -> {status}: {response.text[:200]}"
            )

    return check
