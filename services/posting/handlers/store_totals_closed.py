"""The consumer's handler: record the posting (or answer a duplicate), then ack.

Nothing here waits for Xero: the drain works from the database, so a delivery is never
held while an organisation's rate budget refills. Deliveries are handled side by side
(up to the prefetch); their records are written together, one transaction per group.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from services.posting.adapters.repository import Recorded, Repository
from services.posting.metrics import RECORD_GROUP, RECORD_SECONDS
from shared.contracts.events import Event, StoreTotalsClosed
from shared.messaging.consumer import Reject

log = logging.getLogger(__name__)

_Waiting = tuple[StoreTotalsClosed, asyncio.Future[Recorded]]


class BatchRecorder:
    """Groups the events that arrive while the previous group is being written."""

    def __init__(self, repo: Repository, max_batch: int = 200, writers: int = 2) -> None:
        self.repo = repo
        self.max_batch = max_batch
        self.writers = writers
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        # Two groups may be written at once: per-day advisory locks (taken in order) keep
        # them apart, and one slow commit does not stall the consumer.
        self._tasks = [
            asyncio.create_task(self._run(), name=f"recorder-{i}") for i in range(self.writers)
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def record(self, event: StoreTotalsClosed) -> Recorded:
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        await self._queue.put((event, future))
        return await future

    async def _run(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < self.max_batch and not self._queue.empty():
                group.append(self._queue.get_nowait())
            RECORD_GROUP.observe(len(group))
            try:
                with RECORD_SECONDS.time():
                    results = await self.repo.record_many([event for event, _ in group])
            except Exception as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)


class StoreTotalsClosedHandler:
    def __init__(self, recorder: BatchRecorder, wake: Callable[[], None]) -> None:
        self.recorder = recorder
        self.wake = wake

    async def __call__(self, event: Event) -> None:
        if not isinstance(event, StoreTotalsClosed):
            raise Reject(f"posting does not handle {type(event).__name__}")
        recorded = await self.recorder.record(event)
        if recorded is Recorded.NEW:
            self.wake()
        else:
            log.info("store-totals-closed %s:%s rev %d: %s", event.store_id,
                     event.business_date, event.revision, recorded.value)
