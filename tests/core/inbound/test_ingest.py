"""Ingest on one connection many times: the statements must survive PostgreSQL's switch from
custom to generic prepared plans (after five executions), which the partial-index upsert of
conversations once did not."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.inbound.channels import load_channel
from funnel.core.inbound.service import ingest_messages
from funnel.core.whatsapp.webhook import split_events
from tests.factories import make_channel, make_organisation
from tests.pipeline.support import epoch, text_webhook

pytestmark = pytest.mark.postgres


async def test_new_conversations_keep_being_created_on_one_connection(
    db_session: AsyncSession,
) -> None:
    organisation = await make_organisation(db_session)
    channel = await make_channel(db_session, organisation)
    ref = await load_channel(db_session, channel.phone_number_id)
    conversations = set()
    for i in range(12):
        (event,) = split_events(
            text_webhook(
                phone_number_id=channel.phone_number_id,
                waba_id=channel.waba_id,
                wa_id=f"9150000000{i:02d}",
                text="hi",
                timestamp=epoch(),
            )
        )
        result = await ingest_messages(db_session, ref, [event])
        assert len(result.new) == 1
        conversations.add(result.conversation_id)
    assert len(conversations) == 12
