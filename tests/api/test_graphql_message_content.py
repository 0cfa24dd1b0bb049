"""What the timeline shows of a message beyond its text: media (with our stored copy at
GET /messages/{id}/media, tenant-scoped), interactive buttons, lists and links, and templates."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from funnel.core.models import MediaObject, Organisation
from funnel.core.models.enums import MessageAuthor, MessageDirection, MessageStatus, MessageType
from tests import factories
from tests.api.conftest import Tenant
from tests.api.test_graphql_inbox import gql

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)

MESSAGES = """
query($id: ID!) {
  conversation(id: $id) {
    messages(first: 20) {
      edges { node {
        id type text
        media { mimeType caption filename sizeBytes url }
        interactive { kind body options url urlLabel }
        template { name language parameters }
      } }
    }
  }
}
"""

OUT = {"direction": MessageDirection.OUTBOUND, "status": MessageStatus.SENT}


async def _seed(app: FastAPI, tenant: Tenant) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(session, organisation)
        lead = await factories.make_lead(session, channel)
        conversation = await factories.make_conversation(session, lead)
        photo = MediaObject(
            organisation_id=tenant.organisation_id,
            whatsapp_media_id="wa-media-1",
            mime_type="image/png",
            size_bytes=len(PNG),
            content=PNG,
        )
        large = MediaObject(
            organisation_id=tenant.organisation_id,
            whatsapp_media_id="wa-media-2",
            mime_type="video/mp4",
            size_bytes=40_000_000,
            filename="tour.mp4",
        )
        session.add_all([photo, large])
        await session.flush()
        rows: dict[str, Any] = {
            "photo": dict(
                type=MessageType.IMAGE,
                text="Our shop",
                media_id=photo.id,
                content={
                    "media": {"id": "wa-media-1", "mime_type": "image/png", "caption": "Our shop"}
                },
            ),
            "video": dict(
                type=MessageType.VIDEO,
                text=None,
                media_id=large.id,
                content={"media": {"id": "wa-media-2", "mime_type": "video/mp4"}},
            ),
            "template": dict(
                **OUT,
                author=MessageAuthor.BOT,
                type=MessageType.TEMPLATE,
                content={
                    "graph": {
                        "type": "template",
                        "template": {
                            "name": "order_ready",
                            "language": {"code": "en"},
                            "components": [
                                {
                                    "type": "body",
                                    "parameters": [
                                        {"type": "text", "text": "Asha"},
                                        {"type": "text", "text": "#1042"},
                                    ],
                                }
                            ],
                        },
                    }
                },
            ),
            "buttons": dict(
                **OUT,
                author=MessageAuthor.BOT,
                type=MessageType.INTERACTIVE,
                content={
                    "graph": {
                        "type": "interactive",
                        "interactive": {
                            "type": "button",
                            "body": {"text": "Which size?"},
                            "action": {
                                "buttons": [
                                    {"type": "reply", "reply": {"id": "s", "title": "Small"}},
                                    {"type": "reply", "reply": {"id": "l", "title": "Large"}},
                                ]
                            },
                        },
                    }
                },
            ),
            "list": dict(
                **OUT,
                author=MessageAuthor.BOT,
                type=MessageType.INTERACTIVE,
                content={
                    "graph": {
                        "type": "interactive",
                        "interactive": {
                            "type": "list",
                            "body": {"text": "Pick a plan"},
                            "action": {
                                "button": "Plans",
                                "sections": [
                                    {"title": "Plans", "rows": [{"id": "b", "title": "Basic"}]}
                                ],
                            },
                        },
                    }
                },
            ),
            "link": dict(
                **OUT,
                author=MessageAuthor.BOT,
                type=MessageType.INTERACTIVE,
                content={
                    "graph": {
                        "type": "interactive",
                        "interactive": {
                            "type": "cta_url",
                            "body": {"text": "Book a slot"},
                            "action": {
                                "name": "cta_url",
                                "parameters": {
                                    "display_text": "Open calendar",
                                    "url": "https://cal.example.com/x",
                                },
                            },
                        },
                    }
                },
            ),
            "choice": dict(
                type=MessageType.INTERACTIVE,
                text="Large",
                content={
                    "interactive": {
                        "type": "button_reply",
                        "button_reply": {"id": "l", "title": "Large"},
                    }
                },
            ),
            "plain": dict(text="hello"),
        }
        ids: dict[str, uuid.UUID] = {}
        for name, values in rows.items():
            message = await factories.make_message(session, conversation, **values)
            ids[name] = message.id
        await session.commit()
        return conversation.id, ids


async def test_media_interactive_and_template_fields(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    conversation_id, ids = await _seed(api_app, tenant)
    body = await gql(client, tenant, MESSAGES, id=str(conversation_id))
    assert "errors" not in body, body
    nodes = {
        n["id"]: n for n in (e["node"] for e in body["data"]["conversation"]["messages"]["edges"])
    }
    by_name = {name: nodes[str(i)] for name, i in ids.items()}
    assert by_name["photo"]["media"] == {
        "mimeType": "image/png",
        "caption": "Our shop",
        "filename": None,
        "sizeBytes": len(PNG),
        "url": f"/messages/{ids['photo']}/media",
    }
    # Too large to keep: described, but no URL.
    assert by_name["video"]["media"]["url"] is None
    assert by_name["video"]["media"]["filename"] == "tour.mp4"
    assert by_name["template"]["template"] == {
        "name": "order_ready",
        "language": "en",
        "parameters": ["Asha", "#1042"],
    }
    assert by_name["buttons"]["interactive"] == {
        "kind": "button",
        "body": "Which size?",
        "options": ["Small", "Large"],
        "url": None,
        "urlLabel": None,
    }
    assert by_name["list"]["interactive"]["options"] == ["Basic"]
    assert by_name["link"]["interactive"]["url"] == "https://cal.example.com/x"
    assert by_name["link"]["interactive"]["urlLabel"] == "Open calendar"
    assert by_name["choice"]["interactive"]["kind"] == "button_reply"
    assert by_name["choice"]["interactive"]["options"] == ["Large"]
    plain = by_name["plain"]
    assert (plain["media"], plain["interactive"], plain["template"]) == (None, None, None)


async def test_the_media_endpoint_serves_stored_bytes_to_the_tenant_only(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    _, ids = await _seed(api_app, tenant)
    viewer = await tenant.member("viewer")
    got = await client.get(f"/messages/{ids['photo']}/media", headers=viewer.headers)
    assert got.status_code == 200, got.text
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    for missing in (ids["video"], ids["plain"], uuid.uuid4()):
        response = await client.get(f"/messages/{missing}/media", headers=tenant.owner.headers)
        assert response.status_code == 404
    elsewhere = await client.get(
        f"/messages/{ids['photo']}/media", headers=other_tenant.owner.headers
    )
    assert elsewhere.status_code == 404
    assert (await client.get(f"/messages/{ids['photo']}/media")).status_code == 401
