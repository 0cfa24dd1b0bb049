"""The worker's Prometheus metrics. Names are part of the contract with the dashboards and alert
rules under ``charts/``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "funnel_worker_events_total",
    "Inbound events handled, by kind and outcome (ok, duplicate, dead_lettered).",
    ["kind", "outcome"],
)
EVENT_RETRIES = Counter(
    "funnel_worker_event_retries_total",
    "Handler attempts that failed and will be retried.",
    ["reason"],
)
DEAD_LETTERS = Counter(
    "funnel_worker_dead_letters_total",
    "Events sent to the dead-letter topic, by reason.",
    ["reason"],
)
TURNS = Counter(
    "funnel_worker_turns_total",
    "Pipeline turns, by outcome (replied, silent, skipped, superseded, failed).",
    ["outcome"],
)
TURN_SECONDS = Histogram(
    "funnel_worker_turn_seconds",
    "Time from a turn's start to its decision being committed (LLM time included).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60),
)
TURN_OVERHEAD_SECONDS = Histogram(
    "funnel_worker_turn_overhead_seconds",
    "A turn's time outside the pipeline: loading context and persisting the decision.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
REPLY_LATENCY_SECONDS = Histogram(
    "funnel_worker_reply_latency_seconds",
    "From the customer's WhatsApp timestamp to the reply accepted by Meta.",
    buckets=(0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120),
)
IN_FLIGHT = Gauge("funnel_worker_events_in_flight", "Events accepted and not finished.")
ACTIVE_CONVERSATIONS = Gauge(
    "funnel_worker_active_conversations", "Conversation keys with work queued or running."
)
STATUSES = Counter(
    "funnel_worker_statuses_total", "Status webhooks, by status and outcome.", ["status", "outcome"]
)
MEDIA_DOWNLOADS = Counter(
    "funnel_worker_media_downloads_total", "Inbound media downloads, by outcome.", ["outcome"]
)

OUTBOX_SENDS = Counter(
    "funnel_outbox_sends_total",
    "Outbox sends, by outcome (sent, retry, dead) and Graph error code ('' when sent).",
    ["outcome", "code"],
)
OUTBOX_SEND_SECONDS = Histogram(
    "funnel_outbox_send_seconds",
    "Graph send latency as the sender sees it.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
OUTBOX_CLAIMED = Counter("funnel_outbox_claimed_total", "Outbox rows claimed for sending.")
CHANNELS_PAUSED = Counter(
    "funnel_outbox_channel_paused_total",
    "Channels paused because Meta refused their token (190): an operator must reconnect.",
)

STAGE_SECONDS = Histogram(
    "funnel_pipeline_stage_seconds",
    "Latency of each pipeline stage's model call (eyes, brain, mouth, memory).",
    ["stage"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30),
)
DECISIONS = Counter(
    "funnel_pipeline_decisions_total",
    "Final decisions after the policy layer, by action (respond, wait, handoff, …).",
    ["action"],
)
HANDOFFS = Counter("funnel_pipeline_handoffs_total", "Conversations handed to a person.")
TOKENS = Counter(
    "funnel_pipeline_tokens_total", "LLM tokens by stage and direction.", ["stage", "direction"]
)
COST_USD = Counter(
    "funnel_pipeline_cost_usd_total",
    "Estimated LLM cost in USD (list prices), by stage.",
    ["stage"],
)
