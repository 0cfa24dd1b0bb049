"""``/leads``: pages, filters, edits, tags, notes, CSV import/export and GDPR erase."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import (
    Lead,
    MediaObject,
    MessageStatusEvent,
    Organisation,
    PipelineRun,
    PipelineStep,
    WebhookReceipt,
    WhatsAppChannel,
)
from funnel.core.models.enums import (
    ConversationStage,
    MessageAuthor,
    MessageDirection,
    MessageStatus,
    PipelineRunStatus,
    PipelineStage,
)
from tests import factories
from tests.api.conftest import Tenant


async def _channel(app: FastAPI, tenant: Tenant) -> WhatsAppChannel:
    async with app.state.resources.sessionmaker() as session:
        organisation = await session.get(Organisation, tenant.organisation_id)
        assert organisation is not None
        channel = await factories.make_channel(session, organisation)
        await session.commit()
        return channel


async def _leads(app: FastAPI, channel: WhatsAppChannel, n: int, **overrides: Any) -> list[Lead]:
    async with app.state.resources.sessionmaker() as session:
        made = [await factories.make_lead(session, channel, **overrides) for _ in range(n)]
        await session.commit()
        return made


async def _all_pages(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, Any], between: Any = None
) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        response = await client.get(
            "/leads",
            params={**params, **({"cursor": cursor} if cursor else {})},
            headers=tenant.owner.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between is not None:
            await between()


async def test_pages_are_stable_while_leads_are_inserted(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    channel = await _channel(api_app, tenant)
    existing = await _leads(api_app, channel, 23)

    async def insert_more() -> None:
        await _leads(api_app, channel, 3)

    seen = await _all_pages(client, tenant, {"limit": 5}, between=insert_more)
    # Every lead present at the start exactly once, none twice, whatever arrived meanwhile.
    assert len(seen) == len(set(seen))
    assert {str(lead.id) for lead in existing} <= set(seen)
    assert not set(seen) - {str(lead.id) for lead in existing}


async def test_filters_and_search(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    channel = await _channel(api_app, tenant)
    await _leads(api_app, channel, 3)
    [priya] = await _leads(
        api_app,
        channel,
        1,
        name="Priya 100%",
        email="priya@example.com",
        stage=ConversationStage.PRICING,
        tags=["vip"],
    )
    other_channel = await _channel(api_app, other_tenant)
    await _leads(api_app, other_channel, 2, name="Priya elsewhere")

    async def ids(**params: Any) -> list[str]:
        response = await client.get("/leads", params=params, headers=tenant.owner.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(search="priya") == [str(priya.id)]
    assert await ids(search="100%") == [str(priya.id)]  # the % is literal, not a wildcard
    assert await ids(search=(priya.wa_id or "")[-6:]) == [str(priya.id)]
    assert await ids(stage="pricing") == [str(priya.id)]
    assert await ids(tag="vip") == [str(priya.id)]
    assert len(await ids()) == 4
    assert await ids(created_from="2100-01-01T00:00:00Z") == []
    bad = await client.get("/leads", params={"cursor": "nonsense"}, headers=tenant.owner.headers)
    assert bad.status_code == 422


async def test_patch_changes_only_what_is_sent(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    channel = await _channel(api_app, tenant)
    [lead] = await _leads(api_app, channel, 1, name="Old", company="Acme")
    agent = await tenant.member("agent")
    viewer = await tenant.member("viewer")
    response = await client.patch(f"/leads/{lead.id}", json={"name": "New"}, headers=agent.headers)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "New"
    assert response.json()["company"] == "Acme"
    cleared = await client.patch(f"/leads/{lead.id}", json={"company": None}, headers=agent.headers)
    assert cleared.json()["company"] is None
    assert (
        await client.patch(f"/leads/{lead.id}", json={"stage": None}, headers=agent.headers)
    ).status_code == 422
    assert (
        await client.patch(f"/leads/{lead.id}", json={"to": "1"}, headers=agent.headers)
    ).status_code == 422
    refused = await client.patch(f"/leads/{lead.id}", json={"name": "x"}, headers=viewer.headers)
    assert refused.status_code == 403
    opted = await client.patch(f"/leads/{lead.id}", json={"opted_out": True}, headers=agent.headers)
    assert opted.json()["opted_out"] is True
    assert opted.json()["opt_out_source"] == "agent"
    back_in = await client.patch(
        f"/leads/{lead.id}", json={"opted_out": False}, headers=agent.headers
    )
    assert back_in.status_code == 422


async def test_tags_and_notes(client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant) -> None:
    channel = await _channel(api_app, tenant)
    [lead] = await _leads(api_app, channel, 1)
    headers = tenant.owner.headers
    added = await client.post(
        f"/leads/{lead.id}/tags", json={"tags": ["a", "b", "a"]}, headers=headers
    )
    assert added.json()["tags"] == ["a", "b"]
    removed = await client.post(
        f"/leads/{lead.id}/tags/remove", json={"tags": ["a"]}, headers=headers
    )
    assert removed.json()["tags"] == ["b"]
    note = await client.post(f"/leads/{lead.id}/notes", json={"body": "call at 6"}, headers=headers)
    assert note.status_code == 201
    assert note.json()["author_user_id"] == str(tenant.owner.user_id)
    notes = await client.get(f"/leads/{lead.id}/notes", headers=headers)
    assert [n["body"] for n in notes.json()] == ["call at 6"]


async def test_import_is_all_or_nothing(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    await _channel(api_app, tenant)
    headers = tenant.owner.headers
    bad = "wa_id,name,email\n919800000001,Asha,asha@example.com\n12,Bad,nope\n"
    response = await client.post(
        "/leads/import", files={"file": ("leads.csv", bad, "text/csv")}, headers=headers
    )
    assert response.status_code == 422
    errors = response.json()["error"]["details"]["errors"]
    assert {(e["line"], e["field"]) for e in errors} == {(3, "wa_id"), (3, "email")} - {
        (3, "email")
    }
    assert (await client.get("/leads", headers=headers)).json()["items"] == []

    good = "wa_id,name,tags\n+91 9800000001,Asha,vip;new\n919800000002,Ravi,\n"
    response = await client.post(
        "/leads/import", files={"file": ("leads.csv", good, "text/csv")}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 0, "errors": []}
    again = "wa_id,company,tags\n919800000001,Rao Traders,old\n"
    response = await client.post(
        "/leads/import", files={"file": ("leads.csv", again, "text/csv")}, headers=headers
    )
    assert response.json()["updated"] == 1
    asha = next(
        lead
        for lead in (await client.get("/leads", headers=headers)).json()["items"]
        if lead["wa_id"] == "919800000001"
    )
    assert asha["name"] == "Asha"
    assert asha["company"] == "Rao Traders"
    assert sorted(asha["tags"]) == ["new", "old", "vip"]


async def test_csv_export_is_quoted_safely(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant, other_tenant: Tenant
) -> None:
    channel = await _channel(api_app, tenant)
    await _leads(api_app, channel, 3)
    await _leads(api_app, channel, 1, name="=HYPERLINK(1)")
    await _leads(api_app, await _channel(api_app, other_tenant), 2)
    response = await client.get("/leads/export.csv", headers=tenant.owner.headers)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["id", "wa_id", "name"]
    assert len(rows) == 5  # the header and this organisation's four leads only
    assert "'=HYPERLINK(1)" in {row[2] for row in rows}
    agent = await tenant.member("agent")
    assert (await client.get("/leads/export.csv", headers=agent.headers)).status_code == 403


async def test_csv_export_of_100000_leads_streams_in_chunks(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    channel = await _channel(api_app, tenant)
    async with api_app.state.resources.sessionmaker() as session:
        await session.execute(
            sa.text(
                "INSERT INTO leads (id, organisation_id, channel_id, wa_id, name, tags)"
                " SELECT gen_random_uuid(), :org, :channel, (910000000000 + g)::text,"
                " 'Lead ' || g, '{}' FROM generate_series(1, 100000) AS g"
            ),
            {"org": tenant.organisation_id, "channel": channel.id},
        )
        await session.commit()
    import resource

    # httpx's ASGI transport gathers the whole body, so count what the app sends instead.
    bodies: list[int] = []

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        async def spy(message: Any) -> None:
            if message["type"] == "http.response.body":
                bodies.append(len(message.get("body", b"")))
            await send(message)

        await api_app(scope, receive, spy)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    transport = httpx.ASGITransport(app=counting)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as spied:
        response = await spied.get("/leads/export.csv", headers=tenant.owner.headers)
    assert response.status_code == 200
    lines = response.content.count(b"\n")
    chunks, largest = len(bodies), max(bodies)
    rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert lines == 100_001
    # Sent as it is read (chunks of 1,000 rows), never as one body held in memory.
    assert chunks >= 100
    assert largest < 1_000_000
    assert rss_growth_mb < 50, f"peak RSS grew by {rss_growth_mb:.1f} MB"


async def _text_everywhere(session: AsyncSession, needle: str) -> list[str]:
    """Tables any of whose rows mention ``needle`` in any column (bytea searched as hex)."""
    tables: Sequence[str] = (
        (
            await session.execute(
                sa.text(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            )
        )
        .scalars()
        .all()
    )
    found = []
    hex_needle = needle.encode().hex()
    for table in tables:
        hit: int = (
            await session.execute(
                sa.text(
                    f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :text'
                    " OR t::text LIKE :hex"
                ),
                {"text": f"%{needle}%", "hex": f"%{hex_needle}%"},
            )
        ).scalar_one()
        if hit:
            found.append(table)
    return found


async def test_gdpr_export_then_erase_leaves_nothing(
    client: httpx.AsyncClient, api_app: FastAPI, tenant: Tenant
) -> None:
    channel = await _channel(api_app, tenant)
    name = f"Zelda{uuid.uuid4().hex[:8]}"
    async with api_app.state.resources.sessionmaker() as session:
        lead = await factories.make_lead(session, channel, name=name, facts={"city": "Pune"})
        keep = await factories.make_lead(session, channel)
        conversation = await factories.make_conversation(
            session, lead, rolling_summary=f"{name} wants a flat"
        )
        media = MediaObject(
            organisation_id=tenant.organisation_id,
            mime_type="image/jpeg",
            content=b"jpeg",
            filename=f"{name}.jpg",
        )
        session.add(media)
        await session.flush()
        inbound = await factories.make_message(
            session, conversation, text=f"hi I am {name}", media_id=media.id
        )
        run = PipelineRun(
            organisation_id=tenant.organisation_id,
            conversation_id=conversation.id,
            trigger_message_ids=[inbound.id],
            provider="offline",
            status=PipelineRunStatus.SUCCEEDED,
        )
        session.add(run)
        await session.flush()
        session.add(
            PipelineStep(
                organisation_id=tenant.organisation_id,
                run_id=run.id,
                stage=PipelineStage.BRAIN,
                output={"quote": f"{name} asked"},
            )
        )
        outbound = await factories.make_message(
            session,
            conversation,
            direction=MessageDirection.OUTBOUND,
            author=MessageAuthor.BOT,
            text=f"hello {name}",
            status=MessageStatus.DELIVERED,
            pipeline_run_id=run.id,
        )
        session.add(
            MessageStatusEvent(
                organisation_id=tenant.organisation_id,
                wamid=outbound.wamid,
                status=MessageStatus.DELIVERED,
                occurred_at=factories.now(),
                recipient_id=lead.wa_id,
            )
        )
        session.add(
            WebhookReceipt(
                organisation_id=tenant.organisation_id,
                channel_id=channel.id,
                raw_body=f'{{"from":"{lead.wa_id}","name":"{name}"}}'.encode(),
                expires_at=factories.now(),
            )
        )
        await session.commit()
        lead_id, wa_id, keep_id = lead.id, lead.wa_id, keep.id
    assert wa_id is not None
    headers = tenant.owner.headers
    await client.post(
        f"/leads/{lead_id}/notes", json={"body": f"{name} likes tea"}, headers=headers
    )
    await client.patch(f"/leads/{lead_id}", json={"company": f"{name} Ltd"}, headers=headers)

    exported = await client.get(f"/leads/{lead_id}/gdpr-export", headers=headers)
    assert exported.status_code == 200
    body = exported.json()
    assert body["lead"]["name"] == name
    assert len(body["messages"]) == 2
    assert len(body["notes"]) == 1
    assert len(body["message_status_events"]) == 1
    assert len(body["pipeline_steps"]) == 1
    assert len(body["media_objects"]) == 1

    async with api_app.state.resources.sessionmaker() as session:
        before = await _text_everywhere(session, name)
    assert {"leads", "messages", "conversations", "pipeline_steps", "lead_notes"} <= set(before)

    erased = await client.delete(f"/leads/{lead_id}", headers=headers)
    assert erased.status_code == 200, erased.text
    assert erased.json()["messages"] == 2
    assert erased.json()["media_objects"] == 1
    assert (await client.get(f"/leads/{lead_id}", headers=headers)).status_code == 404
    async with api_app.state.resources.sessionmaker() as session:
        for needle in (str(lead_id), wa_id, name):
            assert await _text_everywhere(session, needle) == [], needle
        # The erase is on record, without the person; the other lead is untouched.
        actions = (
            (
                await session.execute(
                    sa.text("SELECT action FROM audit_logs WHERE action = 'lead.erased'")
                )
            )
            .scalars()
            .all()
        )
        assert actions == ["lead.erased"]
        assert await session.get(Lead, keep_id) is not None
