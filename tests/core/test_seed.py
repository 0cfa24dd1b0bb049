"""The demo seed: a working login and channel, and running it again changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import Base, Cta, FollowupStep, User, WhatsAppChannel
from funnel.core.security.crypto import SecretBox
from funnel.core.security.passwords import verify_password
from funnel.core.seed import seed_demo
from funnel.core.settings import Settings


async def _snapshot(session: AsyncSession) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, as stored: any insert or rewrite shows up as a difference."""
    snapshot = {}
    for table in Base.metadata.sorted_tables:
        rows = await session.execute(sa.select(table).order_by(*table.primary_key.columns))
        snapshot[table.name] = [tuple(row) for row in rows]
    return snapshot


async def test_seed_creates_a_usable_demo(db_session: AsyncSession) -> None:
    settings = Settings(_env_file=None)
    seed = await seed_demo(db_session, settings)

    user = await db_session.get(User, seed.user_id)
    assert user is not None
    assert user.password_hash is not None
    assert verify_password(user.password_hash, "funnel-demo")
    assert seed.email == "demo@funnel.local"

    channel = await db_session.get(WhatsAppChannel, seed.channel_id)
    assert channel is not None
    assert channel.organisation_id == seed.organisation_id
    assert channel.is_sandbox
    assert channel.phone_number_id == "106540352242922"
    box = SecretBox.from_settings(settings.auth)
    assert [box.decrypt(s) for s in channel.app_secrets_encrypted] == ["demo-app-secret"]
    assert box.decrypt(channel.verify_token_encrypted) == "demo-verify-token"

    ctas = await db_session.scalars(
        sa.select(Cta.type).where(Cta.organisation_id == seed.organisation_id)
    )
    assert sorted(ctas) == ["book_demo", "send_link", "visit"]
    steps = await db_session.scalars(
        sa.select(FollowupStep.delay_minutes)
        .where(FollowupStep.sequence_id == seed.followup_sequence_id)
        .order_by(FollowupStep.position)
    )
    assert list(steps) == [60, 24 * 60, 3 * 24 * 60]


async def test_seed_is_idempotent(db_session: AsyncSession) -> None:
    settings = Settings(_env_file=None)
    first = await seed_demo(db_session, settings)
    before = await _snapshot(db_session)
    second = await seed_demo(db_session, settings)
    after = await _snapshot(db_session)
    assert second == first
    assert after == before
