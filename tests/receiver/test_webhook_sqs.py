"""POST /webhook against the real moto SQS server: what lands in the queue, and what does not."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from aiobotocore.session import get_session

from funnel.core.contracts.sqs import SqsWebhookMessage
from funnel.core.devstack.process import free_port
from funnel.core.devstack.sqs import MotoServer
from funnel.core.whatsapp.signature import sign
from funnel.core.whatsapp.webhook import split_events
from funnel.receiver.publisher import SqsPublisher
from tests.fixtures.sqs import SqsQueue, sqs_settings
from tests.fixtures.whatsapp.corpus import TEST_APP_SECRET, fixture_names, load_fixture
from tests.receiver.conftest import (
    ORGANISATION_ID,
    PHONE_NUMBER_ID,
    receiver_client,
    receiver_settings,
)

pytestmark = pytest.mark.sqs


def drain(moto_server: MotoServer, queue_url: str) -> list[SqsWebhookMessage]:
    """Every message in the queue, decoded through the contract, deleting as it goes."""
    sqs = moto_server.client()
    found: list[SqsWebhookMessage] = []
    empty_polls = 0
    while empty_polls < 2:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        ).get("Messages", [])
        if not batch:
            empty_polls += 1
            continue
        empty_polls = 0
        found += [SqsWebhookMessage.decode(m["Body"]) for m in batch]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )
    return found


def signed(raw: bytes, secret: str = TEST_APP_SECRET) -> dict[str, str]:
    return {"content-type": "application/json", "x-hub-signature-256": sign(raw, secret)}


def text_webhook(index: int, count: int = 1, body: str = "hello") -> bytes:
    """A webhook with ``count`` text messages from distinct customers."""
    messages = [
        {
            "from": f"9198{index:05d}{n:04d}",
            "id": f"wamid.TEST{index:06d}N{n:05d}",
            "timestamp": "1764238453",
            "type": "text",
            "text": {"body": f"{body} {n}"},
        }
        for n in range(count)
    ]
    contacts = [
        {"profile": {"name": f"Customer {n}"}, "wa_id": m["from"]} for n, m in enumerate(messages)
    ]
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": contacts,
                            "messages": messages,
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


async def test_every_corpus_fixture_lands_in_sqs_byte_for_byte(
    moto_server: MotoServer, sqs_queue: SqsQueue
) -> None:
    names = fixture_names(signed_only=True)
    async with receiver_client(receiver_settings(sqs_settings(sqs_queue))) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/webhook", content=load_fixture(n).raw, headers=load_fixture(n).headers()
                )
                for n in names
            )
        )
    assert [r.status_code for r in responses] == [200] * len(names)
    by_correlation = {m.correlation_id: m for m in drain(moto_server, sqs_queue.url)}
    assert len(by_correlation) == len(names)
    for name, response in zip(names, responses, strict=True):
        message = by_correlation[response.headers["x-correlation-id"]]
        fixture = load_fixture(name)
        assert message.raw_body == fixture.raw, name
        assert message.signature_verified is True
        assert message.parts is None
        routed = {e.phone_number_id for e in split_events(fixture.raw) if e.phone_number_id}
        assert set(message.phone_number_ids) == routed
        assert message.organisation_id == (ORGANISATION_ID if routed else None)
    assert drain(moto_server, sqs_queue.dlq_url) == []


@pytest.mark.parametrize(("name", "status"), [("missing_signature", 401), ("bad_signature", 403)])
async def test_corpus_signature_failures_enqueue_nothing(
    moto_server: MotoServer, sqs_queue: SqsQueue, name: str, status: int
) -> None:
    fixture = load_fixture(name)
    async with receiver_client(receiver_settings(sqs_settings(sqs_queue))) as client:
        response = await client.post("/webhook", content=fixture.raw, headers=fixture.headers())
    assert response.status_code == status
    assert response.headers["x-correlation-id"]
    assert drain(moto_server, sqs_queue.url) == []
    assert drain(moto_server, sqs_queue.dlq_url) == []


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda raw, header: (raw, None), 401),
        (lambda raw, header: (raw, ""), 401),
        (lambda raw, header: (raw, sign(raw, "another_secret")), 403),
        (lambda raw, header: (raw[:-2] + b" }", header), 403),
        (lambda raw, header: (raw.replace(b"1042", b"1043"), header), 403),
        (lambda raw, header: (raw, header.replace("sha256=", "sha1=")), 403),
        (lambda raw, header: (raw, header[:-1]), 403),
    ],
    ids=["missing", "empty", "wrong_secret", "one_byte_added", "one_byte_changed", "sha1", "short"],
)
async def test_signature_cases(
    moto_server: MotoServer, sqs_queue: SqsQueue, mutate: Any, status: int
) -> None:
    fixture = load_fixture("01_text_en")
    raw, header = mutate(fixture.raw, fixture.signature)
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["x-hub-signature-256"] = header
    async with receiver_client(receiver_settings(sqs_settings(sqs_queue))) as client:
        response = await client.post("/webhook", content=raw, headers=headers)
        metrics = (await client.get("/metrics")).text
    assert response.status_code == status
    assert drain(moto_server, sqs_queue.url) == []
    assert "funnel_receiver_signature_failures_total" in metrics


async def test_a_rotated_second_secret_is_accepted(
    moto_server: MotoServer, sqs_queue: SqsQueue
) -> None:
    raw = text_webhook(1)
    settings = receiver_settings(sqs_settings(sqs_queue), secrets=("old_secret", "new_secret"))
    async with receiver_client(settings) as client:
        new = await client.post("/webhook", content=raw, headers=signed(raw, "new_secret"))
        old = await client.post("/webhook", content=raw, headers=signed(raw, "old_secret"))
        retired = await client.post("/webhook", content=raw, headers=signed(raw, TEST_APP_SECRET))
    assert (new.status_code, old.status_code, retired.status_code) == (200, 200, 403)
    assert [m.raw_body for m in drain(moto_server, sqs_queue.url)] == [raw, raw]


async def test_another_channels_secret_cannot_post_for_this_number(
    moto_server: MotoServer, sqs_queue: SqsQueue
) -> None:
    from pydantic import SecretStr

    from funnel.core.settings import WhatsAppChannelConfig

    other = WhatsAppChannelConfig(
        phone_number_id="999000111222333",
        app_secrets=[SecretStr("other_tenant_secret")],
        verify_token=SecretStr("other-token"),
        organisation_id="org-other",
    )
    raw = text_webhook(2)  # addressed to PHONE_NUMBER_ID, which the other tenant does not own
    settings = receiver_settings(sqs_settings(sqs_queue), extra_channels=[other])
    async with receiver_client(settings) as client:
        forged = await client.post(
            "/webhook", content=raw, headers=signed(raw, "other_tenant_secret")
        )
        genuine = await client.post("/webhook", content=raw, headers=signed(raw))
    assert (forged.status_code, genuine.status_code) == (403, 200)
    (message,) = drain(moto_server, sqs_queue.url)
    assert message.organisation_id == ORGANISATION_ID


async def test_concurrent_posts_are_coalesced_into_batches(
    moto_server: MotoServer, sqs_queue: SqsQueue
) -> None:
    session = get_session()
    batch_sizes: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        batch_sizes.append(len(params["Entries"]))

    # Counted at the SDK, below our code: these are the calls that really went to SQS.
    session.register("before-parameter-build.sqs.SendMessageBatch", count)
    publisher = SqsPublisher(sqs_settings(sqs_queue, batch_linger_ms=20), session=session)
    bodies = [text_webhook(i) for i in range(50)]
    async with receiver_client(receiver_settings(sqs_settings(sqs_queue)), publisher) as client:
        responses = await asyncio.gather(
            *(client.post("/webhook", content=b, headers=signed(b)) for b in bodies)
        )
    assert [r.status_code for r in responses] == [200] * 50
    assert sorted(m.raw_body for m in drain(moto_server, sqs_queue.url)) == sorted(bodies)
    assert sum(batch_sizes) == 50
    assert max(batch_sizes) > 1
    assert max(batch_sizes) <= 10
    assert len(batch_sizes) < 50


async def test_sqs_unreachable_answers_503_so_meta_retries(sqs_queue: SqsQueue) -> None:
    nowhere = sqs_settings(sqs_queue, endpoint_url=f"http://127.0.0.1:{free_port()}")
    raw = text_webhook(3)
    async with receiver_client(receiver_settings(nowhere)) as client:
        response = await client.post("/webhook", content=raw, headers=signed(raw))
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert response.status_code == 503
    assert ready.status_code == 503
    assert alive.status_code == 200


async def test_moto_stopping_mid_run_turns_200s_into_503s(tmp_path: Any) -> None:
    server = MotoServer(log_file=tmp_path / "moto.log")
    server.start()
    try:
        urls = server.create_queue("stopping", dlq=False)
        queue = SqsQueue(
            url=urls.url, dlq_url="", endpoint_url=server.endpoint_url, region=server.region
        )
        raw = text_webhook(4)
        async with receiver_client(receiver_settings(sqs_settings(queue))) as client:
            before = await client.post("/webhook", content=raw, headers=signed(raw))
            assert (await client.get("/readyz")).status_code == 200
            server.stop()
            after = await client.post("/webhook", content=raw, headers=signed(raw))
    finally:
        server.stop()
    assert (before.status_code, after.status_code) == (200, 503)


async def test_a_3mb_body_is_split_into_several_messages_and_nothing_is_lost(
    moto_server: MotoServer, sqs_queue: SqsQueue
) -> None:
    raw = text_webhook(5, count=9_000, body="x" * 200)
    assert len(raw) > 3_000_000
    async with receiver_client(receiver_settings(sqs_settings(sqs_queue))) as client:
        response = await client.post("/webhook", content=raw, headers=signed(raw))
    assert response.status_code == 200
    parts = drain(moto_server, sqs_queue.url)
    assert len(parts) > 3_000_000 // 262_144
    assert {p.parts for p in parts} == {len(parts)}
    assert sorted(p.part or 0 for p in parts) == list(range(1, len(parts) + 1))
    assert all(p.signature_verified for p in parts)
    assert {p.correlation_id for p in parts} == {response.headers["x-correlation-id"]}
    assert all(p.organisation_id == ORGANISATION_ID for p in parts)
    events = [e for p in parts for e in split_events(p.raw_body)]
    original = split_events(raw)
    assert sorted(e.event_id for e in events) == sorted(e.event_id for e in original)
    names = {e.event_id: e.contact for e in original}
    assert all(names[e.event_id] == e.contact for e in events)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b'{"object":"whatsapp_business_account","entry":[', "not JSON"), (b"[1,2,3]", "envelope")],
)
async def test_signed_but_unparseable_goes_to_the_dlq_with_a_reason(
    moto_server: MotoServer, sqs_queue: SqsQueue, raw: bytes, reason: str
) -> None:
    async with receiver_client(receiver_settings(sqs_settings(sqs_queue))) as client:
        response = await client.post("/webhook", content=raw, headers=signed(raw))
    assert response.status_code == 200
    assert drain(moto_server, sqs_queue.url) == []
    (dead,) = drain(moto_server, sqs_queue.dlq_url)
    assert dead.raw_body == raw
    assert dead.dead_letter_reason is not None
    assert reason in dead.dead_letter_reason
    assert dead.correlation_id == response.headers["x-correlation-id"]


async def test_unknown_fields_and_types_are_accepted_and_logged(
    moto_server: MotoServer, sqs_queue: SqsQueue, caplog: pytest.LogCaptureFixture
) -> None:
    fixture = load_fixture("unknown_fields_and_type")
    with caplog.at_level(logging.INFO, logger="funnel.receiver"):
        async with receiver_client(receiver_settings(sqs_settings(sqs_queue))) as client:
            response = await client.post("/webhook", content=fixture.raw, headers=fixture.headers())
    assert response.status_code == 200
    assert [m.raw_body for m in drain(moto_server, sqs_queue.url)] == [fixture.raw]
    (record,) = [r for r in caplog.records if r.getMessage() == "webhook.unrecognised"]
    assert record.__dict__["unrecognised"] == ["type:hologram", "field:some_future_field"]


async def test_info_logs_carry_counts_not_message_text_or_phone_numbers(
    sqs_queue: SqsQueue, caplog: pytest.LogCaptureFixture
) -> None:
    fixture = load_fixture("01_text_en")
    with caplog.at_level(logging.INFO):
        async with receiver_client(receiver_settings(sqs_settings(sqs_queue))) as client:
            response = await client.post("/webhook", content=fixture.raw, headers=fixture.headers())
    assert response.status_code == 200
    (accepted,) = [r for r in caplog.records if r.getMessage() == "webhook.accepted"]
    assert accepted.__dict__["messages"] == 1
    assert accepted.__dict__["phone_number_ids"] == [PHONE_NUMBER_ID]
    for record in caplog.records:
        dumped = json.dumps({k: str(v) for k, v in record.__dict__.items()})
        assert "where is my order" not in dumped
        assert "919812345678" not in dumped
        assert "Asha" not in dumped


async def test_health_ready_and_metrics(moto_server: MotoServer, sqs_queue: SqsQueue) -> None:
    raw = text_webhook(6, count=3)
    async with receiver_client(receiver_settings(sqs_settings(sqs_queue))) as client:
        assert (await client.post("/webhook", content=raw, headers=signed(raw))).status_code == 200
        health, ready, metrics = await asyncio.gather(
            client.get("/healthz"), client.get("/readyz"), client.get("/metrics")
        )
    assert (health.status_code, ready.status_code, metrics.status_code) == (200, 200, 200)
    for name in (
        'funnel_receiver_webhook_requests_total{outcome="accepted"}',
        'funnel_receiver_webhook_events_total{kind="message"}',
        "funnel_receiver_request_duration_seconds_bucket",
        "funnel_receiver_sqs_batch_size_bucket",
        "funnel_receiver_sqs_enqueue_duration_seconds_bucket",
    ):
        assert name in metrics.text


@pytest.fixture
def unstarted_client() -> httpx.AsyncClient:
    """A client whose app never ran its lifespan: the publisher is not started."""
    from funnel.receiver.app import create_app

    app = create_app(receiver_settings())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver")


async def test_before_start_up_nothing_is_acknowledged(unstarted_client: httpx.AsyncClient) -> None:
    raw = text_webhook(7)
    async with unstarted_client as client:
        response = await client.post("/webhook", content=raw, headers=signed(raw))
        ready = await client.get("/readyz")
    assert response.status_code == 503
    assert ready.status_code == 503


async def test_split_parts_respect_a_configured_message_limit(
    moto_server: MotoServer, sqs_queue: SqsQueue
) -> None:
    raw = text_webhook(8, count=40, body="y" * 300)
    settings = receiver_settings(sqs_settings(sqs_queue, max_message_bytes=8_192))
    async with receiver_client(settings) as client:
        response = await client.post("/webhook", content=raw, headers=signed(raw))
    assert response.status_code == 200
    parts = drain(moto_server, sqs_queue.url)
    assert len(parts) > 1
    assert all(len(p.encode().encode()) <= 8_192 for p in parts)
    assert sorted(e.event_id for p in parts for e in split_events(p.raw_body)) == sorted(
        e.event_id for e in split_events(raw)
    )


async def test_one_event_bigger_than_a_queue_message_is_refused_not_truncated(
    moto_server: MotoServer, sqs_queue: SqsQueue
) -> None:
    raw = text_webhook(9, count=1, body="z" * 10_000)
    settings = receiver_settings(sqs_settings(sqs_queue, max_message_bytes=8_192))
    async with receiver_client(settings) as client:
        response = await client.post("/webhook", content=raw, headers=signed(raw))
    assert response.status_code == 413
    assert drain(moto_server, sqs_queue.url) == []


async def test_unparseable_body_with_sqs_down_is_not_acknowledged(sqs_queue: SqsQueue) -> None:
    nowhere = sqs_settings(sqs_queue, endpoint_url=f"http://127.0.0.1:{free_port()}")
    raw = b"{not json"
    async with receiver_client(receiver_settings(nowhere)) as client:
        response = await client.post("/webhook", content=raw, headers=signed(raw))
    assert response.status_code == 503
