"""A worker with a clock the test moves forward, for scheduled actions."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from funnel.pipeline.worker.app import WorkerApp
from tests.pipeline.support import World


class MovableClock:
    """Real time plus an offset: ``advance`` jumps the scheduler into the future."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


@contextlib.asynccontextmanager
async def clocked_worker(
    world: World, pipeline: Any, clock: MovableClock
) -> AsyncIterator[WorkerApp]:
    app = WorkerApp(world.settings, pipeline, scheduler_poll_s=0.05, clock=clock)
    task = asyncio.create_task(app.run())
    try:
        async with asyncio.timeout(30):
            await app.ready.wait()
        yield app
    finally:
        app.stop()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(30):
                await task
