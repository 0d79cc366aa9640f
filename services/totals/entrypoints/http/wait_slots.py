"""Open event streams and long-polls per store, capped: a caller holding a store's key
cannot tie up the service with thousands of waiting requests (429 past the cap)."""

import contextlib
from collections import Counter
from collections.abc import Iterator

from fastapi import HTTPException, Request, status
from prometheus_client import Gauge

WAITING = Gauge("glbridge_totals_waiting_requests",
                "Event streams and long-polls open now, every store together.")


class Slot:
    """One held place; releasing twice is harmless (a stream may end two ways)."""

    def __init__(self, slots: "WaitSlots", store_id: str) -> None:
        self._slots = slots
        self._store_id = store_id
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots.release(self._store_id)


class WaitSlots:
    def __init__(self, per_store: int) -> None:
        self.per_store = per_store
        self._open: Counter[str] = Counter()

    def take(self, store_id: str) -> Slot:
        if self._open[store_id] >= self.per_store:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"store {store_id} already has {self.per_store} event streams or "
                "waits open: close one, or ask again without waiting",
                headers={"Retry-After": "5"})
        self._open[store_id] += 1
        WAITING.inc()
        return Slot(self, store_id)

    def release(self, store_id: str) -> None:
        WAITING.dec()
        self._open[store_id] -= 1
        if self._open[store_id] <= 0:
            del self._open[store_id]

    @contextlib.contextmanager
    def holding(self, store_id: str) -> Iterator[None]:
        slot = self.take(store_id)
        try:
            yield
        finally:
            slot.release()


def wait_slots(request: Request) -> WaitSlots:
    slots: WaitSlots = request.app.state.wait_slots
    return slots
