"""Groups what concurrent callers want written (or read), so each group is one
statement or one transaction.

A consumer handles up to its prefetch of deliveries side by side, and posting drains
many organisations side by side; each caller hands its item to `submit` and waits for its
own result. Items that arrive while a group is being written form the next group: at low
load a group is one item (no added wait), under load the round trips per item fall with
the group's size. A delivery is still acked only after the group holding it committed.

One group is written at a time. So `write_many` never races itself (two multi-row writes
of the same rows cannot lock them in opposite orders), and groups fill: a second writer
took each item the moment it arrived while the first wrote, so its groups were half as
full, for no gain in latency that could be measured (see docs/performance.md,
"Acks together, groups one at a time").
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupedWriter(Generic[Item, Result]):
    def __init__(
        self,
        write_many: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        max_group: int = 200,
        name: str = "grouped-writer",
        on_group: Callable[[int], None] | None = None,
    ) -> None:
        self.write_many = write_many
        self.max_group = max_group
        self.name = name
        self.on_group = on_group
        self._queue: asyncio.Queue[tuple[Item, asyncio.Future[Result]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Starts the writer; `submit` also does so in a loop that has none yet."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if self._loop is not asyncio.get_running_loop():
            self._loop = None  # started in a loop that is gone
            return
        self._loop = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def submit(self, item: Item) -> Result:
        if self._loop is not asyncio.get_running_loop():
            self.start()
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < self.max_group and not self._queue.empty():
                group.append(self._queue.get_nowait())
            if self.on_group is not None:
                self.on_group(len(group))
            try:
                results = await self.write_many([item for item, _ in group])
            except Exception as exc:
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)
