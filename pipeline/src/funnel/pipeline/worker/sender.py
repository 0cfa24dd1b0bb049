"""The outbox sender: delivers queued sends through the Graph API, politely.

Each loop claims due rows (``FOR UPDATE SKIP LOCKED``, so any number of worker processes can run
it), then sends them concurrently within two limits: the phone number's throughput (a token
bucket, 80 messages/s by default, per channel tier) and WhatsApp's pair rate (about one message
every 6 s to the same person, with small bursts). Failures follow the protocol's error table:
retryable codes are rescheduled with backoff (130429 also slows the number's bucket, 131056
penalises that recipient); permanent ones end the row; 190 pauses the channel and counts an
alert; a timeout may have delivered the message, so the row waits out its lease and the status
webhooks reconcile it before any resend.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from funnel.core.inbound.service import close_window, opt_out_conversation_lead
from funnel.core.models.enums import OptOutSource
from funnel.core.outbox.service import (
    ClaimedSend,
    claim_due,
    pause_channel,
    record_failure,
    record_sent,
)
from funnel.core.scheduling.handlers import schedule_template_fallback
from funnel.core.telemetry import bind_context
from funnel.core.whatsapp.errors import ErrorKind, GraphError
from funnel.pipeline.worker import metrics
from funnel.pipeline.worker.resources import Resources

log = logging.getLogger(__name__)
T = TypeVar("T")


class OutboxSender:
    def __init__(self, resources: Resources, wake: asyncio.Event | None = None) -> None:
        self.res = resources
        self.wake = wake or asyncio.Event()
        self._stopping = asyncio.Event()
        self._slots = asyncio.Semaphore(resources.settings.worker.sender_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        self._stopping.set()
        self.wake.set()

    async def run(self) -> None:
        poll_s = self.res.settings.worker.sender_poll_s
        failures = 0
        while not self._stopping.is_set():
            try:
                claimed = await self.claim()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The database is away (a failover, a dropped connection): nothing was claimed,
                # so nothing is lost. Poll again after a backoff instead of ending the loop.
                failures += 1
                log.warning("outbox.claim_failed", extra={"error": type(exc).__name__})
                await asyncio.sleep(min(poll_s * 2**failures, 10.0))
                continue
            failures = 0
            await self._start_sends(claimed)
            if len(claimed) < self.res.settings.worker.sender_batch:
                # Nothing more due right now: sleep until the next poll or a turn's wake-up.
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=poll_s)
        # Stopping (SIGTERM): the turns this worker drained may have queued replies since the
        # last claim. Send what is due now, once, rather than leave customers waiting for
        # another worker's next poll.
        try:
            await self._start_sends(await self.claim())
        except Exception as exc:
            log.warning("outbox.final_claim_failed", extra={"error": type(exc).__name__})
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _start_sends(self, claimed: list[ClaimedSend]) -> None:
        for item in claimed:
            await self._slots.acquire()
            task = asyncio.create_task(self._send_and_release(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def claim(self) -> list[ClaimedSend]:
        async with self.res.sessions() as session, session.begin():
            claimed = await claim_due(
                session,
                limit=self.res.settings.worker.sender_batch,
                lease=dt.timedelta(seconds=self.res.settings.worker.sending_lease_s),
            )
        metrics.OUTBOX_CLAIMED.inc(len(claimed))
        return claimed

    async def _send_and_release(self, item: ClaimedSend) -> None:
        try:
            with bind_context(item.correlation_id, outbox_id=str(item.outbox_id)):
                await self.send(item)
        except Exception:
            # The row keeps its lease and is taken again when it expires.
            log.exception("outbox.send_crashed")
        finally:
            self._slots.release()

    async def send(self, item: ClaimedSend) -> None:
        await self.res.limiter.acquire(item.phone_number_id, float(item.messages_per_second))
        if item.recipient:
            await self.res.pacer.acquire(item.phone_number_id, item.recipient)
        started = time.perf_counter()
        try:
            token = await self.res.access_token(item.channel_id)
            client = self.res.graph_for(
                token=token, phone_number_id=item.phone_number_id, waba_id=None
            )
            result = await client.send_prepared(item.payload)
        except GraphError as error:
            metrics.OUTBOX_SEND_SECONDS.observe(time.perf_counter() - started)
            await self._failed(item, error)
            return
        metrics.OUTBOX_SEND_SECONDS.observe(time.perf_counter() - started)
        # Meta has the message: recording it must not be given up on a passing database error,
        # or the row would wait out its lease and be sent a second time.
        await self._persist(lambda session: record_sent(session, item, result.wamid))
        metrics.OUTBOX_SENDS.labels(outcome="sent", code="").inc()
        if item.last_inbound_at is not None and item.attempts == 1:
            latency = (dt.datetime.now(dt.UTC) - item.last_inbound_at).total_seconds()
            if 0 <= latency < 24 * 3600:  # a reply, not a follow-up days later
                metrics.REPLY_LATENCY_SECONDS.observe(latency)
        log.info("outbox.sent", extra={"kind": item.kind.value, "attempt": item.attempts})

    async def _persist(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``write`` in a transaction, retrying transient database errors for up to the
        sending lease (after which the row is someone else's to reconcile)."""
        deadline = time.monotonic() + self.res.settings.worker.sending_lease_s
        delay = 0.05
        while True:
            try:
                async with self.res.sessions() as session, session.begin():
                    return await write(session)
            except (sa_exc.OperationalError, sa_exc.InterfaceError, OSError) as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("outbox.record_retry", extra={"error": type(exc).__name__})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            except sa_exc.DBAPIError as exc:
                if not exc.connection_invalidated or time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _failed(self, item: ClaimedSend, error: GraphError) -> None:
        policy = error.policy
        code = str(error.code) if error.code is not None else ""
        if policy.slow_channel:
            self.res.limiter.bucket(item.phone_number_id).pause(max(policy.min_delay_s, 1.0))
        if policy.per_recipient and item.recipient:
            self.res.pacer.penalise(
                item.phone_number_id, item.recipient, policy.delay_s(item.attempts - 1)
            )

        async def write(session: AsyncSession) -> bool:
            if policy.kind is ErrorKind.WINDOW_CLOSED:
                # Never retried blindly: the window is closed until the customer writes, and
                # anything further must be a template (the send planner's job).
                await close_window(session, item.organisation_id, item.conversation_id)
                await schedule_template_fallback(
                    session,
                    item.organisation_id,
                    item.conversation_id,
                    item.message_id,
                    now=dt.datetime.now(dt.UTC),
                )
            if policy.record_opt_out:
                await opt_out_conversation_lead(
                    session, item.organisation_id, item.conversation_id, OptOutSource.META
                )
            if policy.pause_channel:
                await pause_channel(
                    session, item.channel_id, f"Graph error {error.code}: {error.title or ''}"
                )
                self.res.forget_token(item.channel_id)
                metrics.CHANNELS_PAUSED.inc()
            if policy.may_have_been_sent:
                # Meta may have delivered it: keep the row in ``sending`` until its lease ends,
                # giving the status webhook (which carries the outbox id) the chance to record
                # it before a resend is even considered.
                retry = True
                await record_failure(
                    session,
                    item,
                    code=error.code,
                    error=str(error),
                    retryable=True,
                    retry_in_s=self.res.settings.worker.sending_lease_s,
                )
            elif policy.pause_channel:
                # Not the message's fault: keep it for when the channel is reconnected (claims
                # skip paused channels, so nothing is tried until then).
                retry = await record_failure(
                    session, item, code=error.code, error=str(error), retryable=True, retry_in_s=60
                )
            else:
                retry = await record_failure(
                    session,
                    item,
                    code=error.code,
                    error=str(error),
                    retryable=policy.retryable,
                    retry_in_s=policy.delay_s(item.attempts - 1) if policy.retryable else None,
                )
            return retry

        retry = await self._persist(write)
        outcome = "retry" if retry else "dead"
        metrics.OUTBOX_SENDS.labels(outcome=outcome, code=code).inc()
        log.warning(
            "outbox.send_failed",
            extra={
                "code": error.code,
                "kind": policy.kind.value,
                "outcome": outcome,
                "attempt": item.attempts,
                "window_closed": policy.kind is ErrorKind.WINDOW_CLOSED,
            },
        )
