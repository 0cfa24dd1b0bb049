"""Demo data for ``funnel dev``: one organisation with a login, a sandbox channel, CTAs and a
follow-up sequence, ready to chat with through the fake WhatsApp.

Idempotent: every object is looked up by its natural key first and only created when missing, and
nothing existing is rewritten (not even re-hashed or re-encrypted), so a second run changes
nothing. Runs unscoped (system work); the caller commits.
"""

from __future__ import annotations

import dataclasses
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.models import (
    Cta,
    FollowupSequence,
    FollowupStep,
    Membership,
    Organisation,
    User,
    WhatsAppChannel,
)
from funnel.core.models.enums import CtaType, FollowupTrigger, MembershipRole
from funnel.core.security.crypto import SecretBox, last4
from funnel.core.security.passwords import hash_password
from funnel.core.settings import Settings

DEMO_SLUG = "demo"
DEMO_EMAIL = "demo@funnel.local"
DEMO_PASSWORD = "funnel-demo"  # noqa: S105 - a documented local demo login
DEMO_PHONE_NUMBER_ID = "106540352242922"
DEMO_WABA_ID = "102290129340398"
DEMO_DISPLAY_PHONE_NUMBER = "15550783881"
DEMO_APP_SECRET = "demo-app-secret"  # noqa: S105 - signs the fake WhatsApp's webhooks
DEMO_VERIFY_TOKEN = "demo-verify-token"  # noqa: S105
DEMO_ACCESS_TOKEN = "demo-access-token"  # noqa: S105 - accepted by the fake Graph API only
DEMO_SEQUENCE = "Default follow-up"

_BUSINESS_DESCRIPTION = """\
Chai & Co. is a small online store selling loose-leaf Indian teas, spice blends and brewing kits.
Bestsellers: Assam breakfast (250 g, ₹349), Darjeeling first flush (100 g, ₹499), masala chai
blend (200 g, ₹299) and the starter brewing kit (₹1,199). Free shipping across India on orders
above ₹799; delivery in 3-5 working days; cash on delivery available. Unopened packs can be
returned within 7 days. Wholesale and gifting orders start at 20 units."""

_FLOW_PROMPT = """\
Greet warmly and ask what they like to drink. Recommend at most two products that fit. Answer
price and delivery questions directly. When they show interest, offer the catalogue link; for
gifting or wholesale, offer a short call. Never promise discounts that are not listed."""


@dataclasses.dataclass(frozen=True, slots=True)
class DemoSeed:
    organisation_id: uuid.UUID
    organisation_slug: str
    user_id: uuid.UUID
    email: str
    password: str
    channel_id: uuid.UUID
    phone_number_id: str
    waba_id: str
    display_phone_number: str
    app_secret: str
    verify_token: str
    cta_ids: dict[str, uuid.UUID]
    followup_sequence_id: uuid.UUID


async def seed_demo(session: AsyncSession, settings: Settings) -> DemoSeed:
    box = SecretBox.from_settings(settings.auth)

    organisation = await session.scalar(
        sa.select(Organisation).where(Organisation.slug == DEMO_SLUG)
    )
    if organisation is None:
        organisation = Organisation(
            name="Chai & Co.",
            slug=DEMO_SLUG,
            business_name="Chai & Co.",
            business_description=_BUSINESS_DESCRIPTION,
            persona_prompt="You are Meera from Chai & Co.: friendly, brief, knows her teas.",
            flow_prompt=_FLOW_PROMPT,
            timezone="Asia/Kolkata",
            default_language="en",
            reply_word_limit=60,
            allowed_link_domains=["chaiandco.example"],
        )
        session.add(organisation)
        await session.flush()

    user = await session.scalar(sa.select(User).where(sa.func.lower(User.email) == DEMO_EMAIL))
    if user is None:
        user = User(email=DEMO_EMAIL, name="Demo Owner", password_hash=hash_password(DEMO_PASSWORD))
        session.add(user)
        await session.flush()

    membership = await session.scalar(
        sa.select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.user_id == user.id
        )
    )
    if membership is None:
        session.add(
            Membership(organisation_id=organisation.id, user_id=user.id, role=MembershipRole.OWNER)
        )

    channel = await session.scalar(
        sa.select(WhatsAppChannel).where(WhatsAppChannel.phone_number_id == DEMO_PHONE_NUMBER_ID)
    )
    if channel is None:
        channel = WhatsAppChannel(
            organisation_id=organisation.id,
            name="Demo sandbox number",
            phone_number_id=DEMO_PHONE_NUMBER_ID,
            waba_id=DEMO_WABA_ID,
            display_phone_number=DEMO_DISPLAY_PHONE_NUMBER,
            graph_version=settings.whatsapp.graph_version,
            access_token_encrypted=box.encrypt(DEMO_ACCESS_TOKEN),
            access_token_last4=last4(DEMO_ACCESS_TOKEN),
            app_secrets_encrypted=[box.encrypt(DEMO_APP_SECRET)],
            app_secret_last4=last4(DEMO_APP_SECRET),
            verify_token_encrypted=box.encrypt(DEMO_VERIFY_TOKEN),
            verify_token_last4=last4(DEMO_VERIFY_TOKEN),
            is_connected=True,
            is_sandbox=True,
        )
        session.add(channel)
    elif channel.organisation_id != organisation.id:
        raise RuntimeError(
            f"phone_number_id {DEMO_PHONE_NUMBER_ID} belongs to another organisation; "
            "the demo cannot be seeded into this database"
        )

    wanted_ctas = [
        Cta(
            type=CtaType.BOOK_DEMO,
            name="Book a tasting call",
            description="For gifting, wholesale, or anyone unsure what to pick.",
            url="https://chaiandco.example/call",
            button_text="Book a call",
        ),
        Cta(
            type=CtaType.SEND_LINK,
            name="Catalogue link",
            description="When they want to browse or are ready to order.",
            url="https://chaiandco.example/catalogue",
            button_text="See catalogue",
        ),
        Cta(
            type=CtaType.VISIT,
            name="Visit the store",
            description="For customers in Pune who want to taste before buying.",
            url="https://chaiandco.example/visit",
            button_text="Visit us",
        ),
    ]
    ctas: list[Cta] = []
    for wanted in wanted_ctas:
        cta = await session.scalar(
            sa.select(Cta).where(
                Cta.organisation_id == organisation.id,
                Cta.name == wanted.name,
                Cta.deleted_at.is_(None),
            )
        )
        if cta is None:
            wanted.organisation_id = organisation.id
            session.add(wanted)
            cta = wanted
        ctas.append(cta)
    await session.flush()  # the ids of new rows
    cta_ids = {cta.name: cta.id for cta in ctas}

    sequence = await session.scalar(
        sa.select(FollowupSequence).where(
            FollowupSequence.organisation_id == organisation.id,
            FollowupSequence.name == DEMO_SEQUENCE,
        )
    )
    if sequence is None:
        sequence = FollowupSequence(
            organisation_id=organisation.id, name=DEMO_SEQUENCE, trigger=FollowupTrigger.NO_REPLY
        )
        session.add(sequence)
        await session.flush()
        hints = [
            (60, "A light check-in: ask if they had a chance to look, offer help choosing."),
            (24 * 60, "Share one useful tip or bestseller relevant to what they asked about."),
            (3 * 24 * 60, "A last friendly nudge; make it easy to say no, and stop after this."),
        ]
        for position, (delay, hint) in enumerate(hints, start=1):
            session.add(
                FollowupStep(
                    organisation_id=organisation.id,
                    sequence_id=sequence.id,
                    position=position,
                    delay_minutes=delay,
                    message_hint=hint,
                )
            )

    await session.flush()
    return DemoSeed(
        organisation_id=organisation.id,
        organisation_slug=organisation.slug,
        user_id=user.id,
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        channel_id=channel.id,
        phone_number_id=DEMO_PHONE_NUMBER_ID,
        waba_id=DEMO_WABA_ID,
        display_phone_number=DEMO_DISPLAY_PHONE_NUMBER,
        app_secret=DEMO_APP_SECRET,
        verify_token=DEMO_VERIFY_TOKEN,
        cta_ids=cta_ids,
        followup_sequence_id=sequence.id,
    )
