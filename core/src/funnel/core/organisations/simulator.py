"""The dashboard's "try it": a message from a simulated customer on the organisation's sandbox
channel, entering the data plane exactly as ``funnel simulate`` makes one enter it.

The webhook Meta would send is built for the sandbox channel's phone number id, signed with
that channel's app secret over the exact bytes, and POSTed to the local receiver; from there it
takes the real path (SQS, the bridge, Kafka, the worker) and the bot's reply lands in the
WhatsApp sandbox and the conversation's timeline. Nothing is written here.

Only where a sandbox exists: a local environment (``development`` or ``test``), a channel of
the caller's organisation marked ``is_sandbox``, and a receiver ``funnel dev`` recorded in
``<state_dir>/dev.json``. Elsewhere the operation does not exist (404).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated

import httpx
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.db.tenancy import current_organisation_id
from funnel.core.errors import Conflict, NotFound, UpstreamFailed
from funnel.core.models import Message, WhatsAppChannel
from funnel.core.security.crypto import SecretBox
from funnel.core.settings import Settings
from funnel.core.simulate import (
    DEFAULT_DISPLAY_NUMBER,
    SimulateError,
    build_text_webhook,
    load_dev_defaults,
    signature_header,
)

#: The simulated customer when the caller names none (a sandbox number, nobody's phone).
DEFAULT_CUSTOMER = "15550000001"


class SimulateRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "hi, what does delivery cost?"}]},
    )

    text: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    #: The simulated customer's WhatsApp id (digits); one per "customer" to keep threads apart.
    from_wa_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{6,20}$")] = DEFAULT_CUSTOMER
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = "Test customer"


class SimulateResult(BaseModel):
    #: The simulated message's WhatsApp id: the timeline shows it once the worker has it.
    wamid: str
    #: The sandbox channel it arrived on.
    channel_id: str


def receiver_url(settings: Settings) -> str | None:
    """The local receiver's webhook address, as ``funnel dev`` recorded it."""
    try:
        return load_dev_defaults(settings.state_dir).receiver_url
    except SimulateError:
        return None


async def sandbox_channel(session: AsyncSession) -> WhatsAppChannel:
    channel = (
        await session.execute(
            sa.select(WhatsAppChannel)
            .where(
                WhatsAppChannel.organisation_id == current_organisation_id(session),
                WhatsAppChannel.is_sandbox.is_(True),
            )
            .order_by(WhatsAppChannel.created_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if channel is None:
        raise Conflict("the organisation has no sandbox channel to simulate a customer on")
    return channel


async def simulate_inbound(
    session: AsyncSession,
    settings: Settings,
    box: SecretBox,
    http: httpx.AsyncClient,
    request: SimulateRequest,
) -> SimulateResult:
    if not settings.environment.is_local:
        raise NotFound("not found")
    channel = await sandbox_channel(session)
    url = receiver_url(settings)
    if url is None:
        raise Conflict("no local receiver is running: start the platform with `funnel dev`")
    body, wamid = build_text_webhook(
        wa_id=request.from_wa_id,
        text=request.text,
        phone_number_id=channel.phone_number_id,
        name=request.name,
        waba_id=channel.waba_id,
        display_phone_number=channel.display_phone_number or DEFAULT_DISPLAY_NUMBER,
    )
    secret = box.decrypt(channel.app_secrets_encrypted[0])
    try:
        response = await http.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": signature_header(body, secret),
                "User-Agent": "facebookexternalua",
            },
        )
    except httpx.HTTPError as exc:
        raise UpstreamFailed("the local receiver could not be reached") from exc
    if response.status_code != 200:
        raise UpstreamFailed(
            f"the local receiver refused the message (HTTP {response.status_code})"
        )
    return SimulateResult(wamid=wamid, channel_id=str(channel.id))


async def conversation_of(
    session: AsyncSession, wamid: str, *, wait_s: float, poll_s: float = 0.25
) -> uuid.UUID | None:
    """The conversation a simulated message landed in, once the worker has stored it: looked up
    by its wamid, waiting up to ``wait_s``; ``None`` if it has not arrived by then."""
    deadline = time.monotonic() + wait_s
    while True:
        found = await session.scalar(
            sa.select(Message.conversation_id).where(
                Message.organisation_id == current_organisation_id(session),
                Message.wamid == wamid,
            )
        )
        if found is not None or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(poll_s)
