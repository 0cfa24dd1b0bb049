"""A real SQS endpoint on loopback: moto's server, spoken to by the real AWS SDK.

Used by ``funnel dev`` and the test harness. moto implements SendMessageBatch, long polling,
visibility timeouts, DeleteMessageBatch and dead-letter redrive faithfully; it is slow (about
8 ms a call, slower as a queue grows), so never benchmark the platform through it. The same port
also serves S3, which Tansu uses for storage that survives a restart.
"""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funnel.core.devstack.process import ManagedProcess, ServiceStartError, free_port, wait_until

#: moto accepts any credentials; the SDK insists on having some.
TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"  # noqa: S105 - moto's fake credentials, not a secret
DEFAULT_REGION = "eu-west-1"


@dataclass(frozen=True)
class QueueUrls:
    url: str
    dlq_url: str | None


class MotoServer:
    """``python -m moto.server`` on ``127.0.0.1:port``, with helpers to make queues on it."""

    def __init__(
        self, *, log_file: Path, port: int | None = None, region: str = DEFAULT_REGION
    ) -> None:
        #: A port we picked may be taken before moto binds it; then start() picks another.
        self._port_chosen = port is None
        self.port = port if port is not None else free_port()
        self.region = region
        self.log_file = log_file
        self._process = self._new_process()

    def _new_process(self) -> ManagedProcess:
        return ManagedProcess(
            "moto",
            # moto's own server, with its SQS receive made linear (see ``moto_server``).
            [
                sys.executable,
                "-m",
                "funnel.core.devstack.moto_server",
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            log_file=self.log_file,
        )

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.alive()

    def start(self, *, timeout_s: float = 30.0, attempts: int = 3) -> None:
        """Start moto and return once it answers HTTP (its import takes most of a second)."""
        for attempt in range(1, attempts + 1):
            self._process.start()
            wait_until(
                self._http_ready,
                timeout_s=timeout_s,
                what=f"moto on {self.endpoint_url}",
                log_file=self.log_file,
            )
            if self.alive():
                return
            if not self._port_chosen or attempt == attempts:
                tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-20:])
                raise ServiceStartError(f"moto exited during start-up:\n{tail}")
            # It exited at once: most likely the port we picked was taken meanwhile.
            self.port = free_port()
            self._process = self._new_process()

    def _http_ready(self) -> bool:
        if not self.alive():
            return True  # let the next call fail with the log instead of waiting out the timeout
        # moto's own API answers without touching any emulated service.
        url = f"{self.endpoint_url}/moto-api/data.json"
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=1) as response,  # noqa: S310 - loopback URL
        ):
            return bool(response.status == 200)
        return False

    def stop(self, *, grace_s: float = 5.0) -> None:
        self._process.stop(grace_s=grace_s)

    def reset(self) -> None:
        """Forget every queue, message and bucket (moto's ``/moto-api/reset``)."""
        request = urllib.request.Request(  # noqa: S310 - a fixed loopback URL
            f"{self.endpoint_url}/moto-api/reset", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status != 200:
                raise urllib.error.HTTPError(
                    request.full_url, response.status, "moto reset failed", response.headers, None
                )

    def client(self, service: str = "sqs") -> Any:
        """A boto3 client for ``service`` pointed at this server."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=TEST_ACCESS_KEY,
            aws_secret_access_key=TEST_SECRET_KEY,
        )

    def create_queue(
        self,
        name: str,
        *,
        dlq: bool = False,
        max_receive: int = 5,
        visibility_timeout_s: int = 30,
    ) -> QueueUrls:
        """Create ``name`` (idempotent, as in SQS) and, when asked, ``name-dlq`` behind it.

        With a DLQ, a message received ``max_receive`` times without being deleted moves to the
        DLQ on the next receive, as SQS does.
        """
        sqs = self.client("sqs")
        attributes = {"VisibilityTimeout": str(visibility_timeout_s)}
        dlq_url: str | None = None
        if dlq:
            dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)}
            )
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return QueueUrls(url=str(url), dlq_url=str(dlq_url) if dlq_url else None)
