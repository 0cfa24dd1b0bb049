"""The SQS half of the harness behaves as SQS: batches, long polls, deletes, dead-lettering."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest

from funnel.core.devstack.sqs import MotoServer
from tests.fixtures.sqs import SQS_QUEUE_MAX_RECEIVE, SqsQueue, sqs_settings

pytestmark = pytest.mark.sqs


def _client(queue: SqsQueue) -> Any:
    settings = sqs_settings(queue)
    return boto3.client(
        "sqs",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        aws_access_key_id=settings.access_key_id.get_secret_value(),
        aws_secret_access_key=settings.secret_access_key.get_secret_value(),
    )


def _count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_batch_send_receive_delete(sqs_queue: SqsQueue) -> None:
    sqs = _client(sqs_queue)
    entries = [{"Id": str(i), "MessageBody": f"webhook-{i}"} for i in range(10)]
    sent = sqs.send_message_batch(QueueUrl=sqs_queue.url, Entries=entries)
    assert len(sent["Successful"]) == 10
    assert not sent.get("Failed")

    received: dict[str, str] = {}
    deadline = time.monotonic() + 10
    while len(received) < 10 and time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=sqs_queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        for message in response.get("Messages", []):
            received[message["Body"]] = message["ReceiptHandle"]
    assert sorted(received) == sorted(e["MessageBody"] for e in entries)

    deleted = sqs.delete_message_batch(
        QueueUrl=sqs_queue.url,
        Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(received.values())],
    )
    assert len(deleted["Successful"]) == 10
    assert _count(sqs, sqs_queue.url) == 0


def test_long_poll_returns_a_message_sent_while_waiting(sqs_queue: SqsQueue) -> None:
    sqs = _client(sqs_queue)
    sender = threading.Timer(
        0.5, lambda: _client(sqs_queue).send_message(QueueUrl=sqs_queue.url, MessageBody="late")
    )
    started = time.monotonic()
    sender.start()
    try:
        response = sqs.receive_message(QueueUrl=sqs_queue.url, WaitTimeSeconds=5)
    finally:
        sender.join()
    waited = time.monotonic() - started
    assert [m["Body"] for m in response.get("Messages", [])] == ["late"]
    # It waited for the message (a short poll returns at once) and returned on its arrival.
    assert 0.4 < waited < 4.5


def test_redrive_to_dlq_after_max_receive_count(sqs_queue: SqsQueue) -> None:
    sqs = _client(sqs_queue)
    sqs.send_message(QueueUrl=sqs_queue.url, MessageBody="poison")

    # Receive it and never delete it; visibility 0 makes it receivable again at once.
    for attempt in range(SQS_QUEUE_MAX_RECEIVE):
        response = sqs.receive_message(
            QueueUrl=sqs_queue.url, VisibilityTimeout=0, WaitTimeSeconds=1
        )
        assert [m["Body"] for m in response.get("Messages", [])] == ["poison"], attempt

    # One receive more than maxReceiveCount: SQS moves it instead of delivering it.
    response = sqs.receive_message(QueueUrl=sqs_queue.url, VisibilityTimeout=0, WaitTimeSeconds=1)
    assert response.get("Messages", []) == []
    dead = sqs.receive_message(QueueUrl=sqs_queue.dlq_url, WaitTimeSeconds=1)
    assert [m["Body"] for m in dead.get("Messages", [])] == ["poison"]
    assert _count(sqs, sqs_queue.url) == 0


def test_reset_forgets_queues(tmp_path: Any) -> None:
    # A server of its own: resetting the shared one would wipe other tests' queues.
    server = MotoServer(log_file=tmp_path / "moto.log")
    server.start()
    try:
        urls = server.create_queue("to-forget", dlq=True)
        sqs = server.client("sqs")
        assert set(sqs.list_queues()["QueueUrls"]) == {urls.url, urls.dlq_url}
        server.reset()
        assert sqs.list_queues().get("QueueUrls", []) == []
    finally:
        server.stop()
