"""AWS Lambda entry point: the same app behind API Gateway or a function URL, via Mangum.

Settings come from the function's environment (``FUNNEL_*``). The micro-batcher still works,
but a Lambda instance serves one request at a time, so each batch holds one entry; set
``FUNNEL_SQS__BATCH_LINGER_MS=0`` for Lambda so no request waits for company that never comes.
"""

from __future__ import annotations

from mangum import Mangum

from funnel.core.settings import get_settings
from funnel.core.telemetry import configure_logging
from funnel.receiver.app import create_app

_settings = get_settings()
configure_logging(_settings.observability, service="funnel-receiver")
# Mangum runs the app's lifespan around every invocation, so the publisher starts and drains
# within the invocation: nothing is acknowledged that is still waiting in a batcher.
handler = Mangum(create_app(_settings), lifespan="auto")
