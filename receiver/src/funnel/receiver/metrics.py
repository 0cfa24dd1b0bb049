"""The receiver's Prometheus metrics. Names are a contract with the dashboards under ``charts/``."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

WEBHOOK_REQUESTS = Counter(
    "funnel_receiver_webhook_requests_total",
    "Webhook requests by outcome (accepted, dead_lettered, signature_missing, "
    "signature_invalid, unavailable, too_large, handshake_ok, handshake_rejected).",
    ["outcome"],
)
WEBHOOK_EVENTS = Counter(
    "funnel_receiver_webhook_events_total",
    "Messages, statuses and other changes in accepted webhooks.",
    ["kind"],
)
REQUEST_DURATION = Histogram(
    "funnel_receiver_request_duration_seconds",
    "Time from the first byte read to the response, per webhook method.",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
SIGNATURE_FAILURES = Counter(
    "funnel_receiver_signature_failures_total",
    "POSTs refused on their X-Hub-Signature-256 (missing, malformed, mismatch, wrong_channel).",
    ["reason"],
)
SQS_BATCH_SIZE = Histogram(
    "funnel_receiver_sqs_batch_size",
    "Entries per SendMessageBatch call.",
    buckets=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
)
SQS_ENQUEUE_DURATION = Histogram(
    "funnel_receiver_sqs_enqueue_duration_seconds",
    "Time a request waits for its SQS entry to be accepted (batching linger included).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
SQS_SEND_FAILURES = Counter(
    "funnel_receiver_sqs_send_failures_total",
    "SQS entries not accepted: the whole call failed, the entry failed, or the queue was full.",
    ["reason"],
)
SPLIT_PARTS = Counter(
    "funnel_receiver_split_parts_total",
    "SQS messages produced by splitting webhooks larger than one SQS message.",
)
