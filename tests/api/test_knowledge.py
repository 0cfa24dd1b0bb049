"""``/knowledge``: upload (202, ingested in the background), status, search, delete."""

from __future__ import annotations

import httpx

from funnel.core.settings import Settings
from tests.api.conftest import Tenant

POLICY = b"""# Store policies

## Returns

Items can be returned within 30 days of delivery for a full refund.

## Shipping

Orders ship within two business days from our Pune warehouse.
"""


async def test_upload_ingests_in_the_background_and_search_finds_it(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, api_settings: Settings
) -> None:
    headers = tenant.owner.headers
    uploaded = await client.post(
        "/knowledge/documents",
        files={"file": ("policies.md", POLICY, "text/markdown")},
        data={"title": "Store policies"},
        headers=headers,
    )
    assert uploaded.status_code == 202, uploaded.text
    document_id = uploaded.json()["id"]
    assert uploaded.json()["status"] == "pending"
    # The background job has run by the time the in-process call returns.
    document = (await client.get(f"/knowledge/documents/{document_id}", headers=headers)).json()
    assert document["status"] == "ready", document
    assert document["chunk_count"] >= 1
    assert document["progress"] == 100
    listed = await client.get("/knowledge/documents", headers=headers)
    assert [d["id"] for d in listed.json()] == [document_id]

    found = await client.post(
        "/knowledge/search", json={"query": "refund returns 30 days"}, headers=headers
    )
    assert found.status_code == 200, found.text
    hits = found.json()["hits"]
    assert hits
    assert "30 days" in hits[0]["content"]
    # The verdict is the bot's: the threshold the pipeline uses with this embedder.
    assert found.json()["threshold"] == api_settings.grounding_threshold
    assert found.json()["grounded"] == (hits[0]["score"] >= found.json()["threshold"])
    theirs = await client.post(
        "/knowledge/search",
        json={"query": "refund returns 30 days"},
        headers=other_tenant.owner.headers,
    )
    assert theirs.json()["hits"] == []

    agent = await tenant.member("agent")
    refused = await client.delete(f"/knowledge/documents/{document_id}", headers=agent.headers)
    assert refused.status_code == 403
    assert (
        await client.delete(f"/knowledge/documents/{document_id}", headers=headers)
    ).status_code == 204
    assert (
        await client.get(f"/knowledge/documents/{document_id}", headers=headers)
    ).status_code == 404


async def test_an_unusable_file_is_refused(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/knowledge/documents",
        files={"file": ("tool.exe", b"MZ\x00\x01", "application/octet-stream")},
        headers=tenant.owner.headers,
    )
    assert response.status_code == 422
