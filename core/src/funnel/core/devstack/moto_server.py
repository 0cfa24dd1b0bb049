"""``python -m moto.server``, with moto's SQS receive made linear in the batch, not the queue.

moto (5.2, pinned in ``uv.lock``) checks each message it is about to return against the queue's
retention period by computing *every* queue attribute, and two of those
(``ApproximateNumberOfMessages…``) walk the whole queue. A ``ReceiveMessage`` of 10 therefore
costs 10 full scans, and draining a queue of n messages costs O(n²): measured on a loaded
2-core machine, 2,000 queued webhooks drained at 9 messages/s, which is what made the bridge the
bottleneck of the 200 × 20 ordering test (see ``docs/performance.md``).

The patch reads the one attribute that check needs. Everything else (the wire protocol, the
visibility, receive-count and redrive behaviour the tests rely on) is moto's own code. The
module refuses to start on a moto whose check it does not recognise, rather than patching
something it has not read.
"""

from __future__ import annotations

import inspect
import sys

from moto import __version__ as moto_version
from moto.core.utils import unix_time
from moto.server import main as moto_main
from moto.sqs.models import Message, SQSBackend

#: The moto versions whose ``is_message_valid_based_on_retention_period`` this replaces.
PATCHED_VERSIONS = ("5.2.",)


def _retention_ok(self: SQSBackend, queue_name: str, message: Message) -> bool:
    """moto's own rule, reading ``MessageRetentionPeriod`` without computing the rest."""
    queue = self.get_queue(queue_name)
    retain_until = int(queue.message_retention_period) + message.sent_timestamp / 1000  # type: ignore[attr-defined, operator]
    return bool(retain_until > unix_time())


def patch_moto() -> None:
    original = SQSBackend.is_message_valid_based_on_retention_period
    if not moto_version.startswith(PATCHED_VERSIONS) or "MessageRetentionPeriod" not in (
        inspect.getsource(original)
    ):
        raise SystemExit(
            f"moto {moto_version}: the SQS retention check changed; review "
            "funnel.core.devstack.moto_server before running this patched server"
        )
    SQSBackend.is_message_valid_based_on_retention_period = _retention_ok  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    patch_moto()
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
