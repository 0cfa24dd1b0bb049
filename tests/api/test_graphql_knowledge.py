"""The knowledge base over GraphQL: a base64 upload ingested after the response, status and
progress, the test search with scores, delete; the same service as REST's ``/knowledge``."""

from __future__ import annotations

import base64

import httpx

from tests.api.conftest import Tenant
from tests.api.test_graphql_inbox import gql
from tests.api.test_knowledge import POLICY

DOCUMENT = "id title filename docType status progress chunkCount error sizeBytes"
UPLOAD = f"""
mutation($name: String!, $content: String!, $type: String, $title: String) {{
  uploadKnowledgeDocument(filename: $name, contentBase64: $content, contentType: $type,
                          title: $title) {{
    __typename
    ... on KnowledgeDocument {{ {DOCUMENT} }}
    ... on LimitError {{ message problems {{ field message }} }}
  }}
}}
"""
SEARCH = """
query($q: String!, $k: Int) {
  knowledgeSearch(query: $q, topK: $k) {
    grounded threshold hits { chunkId documentId title content page score }
  }
}
"""


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


async def test_upload_status_search_and_delete(
    client: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    uploaded = await gql(
        client,
        tenant,
        UPLOAD,
        name="policies.md",
        content=_b64(POLICY),
        type="text/markdown",
        title="Store policies",
    )
    document = uploaded["data"]["uploadKnowledgeDocument"]
    assert document["__typename"] == "KnowledgeDocument", uploaded
    assert document["status"] == "PENDING"
    assert document["title"] == "Store policies"
    assert document["sizeBytes"] == len(POLICY)
    # Ingestion ran after the response (in process, before the call returned).
    one = await gql(
        client,
        tenant,
        f"query($id: ID!) {{ knowledgeDocument(id: $id) {{ {DOCUMENT} }} }}",
        id=document["id"],
    )
    ready = one["data"]["knowledgeDocument"]
    assert ready["status"] == "READY", ready
    assert ready["progress"] == 100
    assert ready["chunkCount"] >= 1
    viewer = await tenant.member("viewer")
    listed = await gql(
        client, tenant, "{ knowledgeDocuments { id docType } }", headers=viewer.headers
    )
    assert listed["data"]["knowledgeDocuments"] == [{"id": document["id"], "docType": "MARKDOWN"}]
    # Same bytes again: the same document, nothing ingested twice.
    again = await gql(client, tenant, UPLOAD, name="copy.md", content=_b64(POLICY))
    assert again["data"]["uploadKnowledgeDocument"]["id"] == document["id"]

    found = await gql(client, tenant, SEARCH, headers=viewer.headers, q="refund returns 30 days")
    result = found["data"]["knowledgeSearch"]
    assert result["hits"], found
    assert "30 days" in result["hits"][0]["content"]
    assert result["hits"][0]["documentId"] == document["id"]
    assert 0.0 <= result["hits"][0]["score"] <= 1.0
    assert isinstance(result["grounded"], bool)
    rest = await client.post(
        "/knowledge/search", json={"query": "refund returns 30 days"}, headers=tenant.owner.headers
    )
    assert [h["chunk_id"] for h in rest.json()["hits"]] == [h["chunkId"] for h in result["hits"]]
    theirs = await gql(client, other_tenant, SEARCH, q="refund returns 30 days")
    assert theirs["data"]["knowledgeSearch"]["hits"] == []
    too_many = await gql(client, tenant, SEARCH, q="refund", k=50)
    assert too_many["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"

    delete = "mutation($id: ID!) { deleteKnowledgeDocument(id: $id) { __typename } }"
    agent = await tenant.member("agent")
    refused = await gql(client, tenant, delete, headers=agent.headers, id=document["id"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    deleted = await gql(client, tenant, delete, id=document["id"])
    assert deleted["data"]["deleteKnowledgeDocument"] == {"__typename": "Deleted"}
    assert (
        await client.get(f"/knowledge/documents/{document['id']}", headers=tenant.owner.headers)
    ).status_code == 404
    twice = await gql(client, tenant, delete, id=document["id"])
    assert twice["data"]["deleteKnowledgeDocument"] == {"__typename": "NotFoundError"}


async def test_unusable_uploads_are_typed_errors(client: httpx.AsyncClient, tenant: Tenant) -> None:
    not_base64 = await gql(client, tenant, UPLOAD, name="a.md", content="***")
    assert not_base64["data"]["uploadKnowledgeDocument"]["problems"] == [
        {"field": "contentBase64", "message": "contentBase64 is not valid base64"}
    ]
    executable = await gql(
        client,
        tenant,
        UPLOAD,
        name="tool.exe",
        content=_b64(b"MZ\x00\x01"),
        type="application/octet-stream",
    )
    assert executable["data"]["uploadKnowledgeDocument"]["__typename"] == "LimitError"
    listed = await gql(client, tenant, "{ knowledgeDocuments { id } }")
    assert listed["data"]["knowledgeDocuments"] == []
