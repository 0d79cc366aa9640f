"""`glbridge pos backfill`: a range of past days posted at the pipeline's pace.

Days are sent side by side, up to a window of days whose outcome is not known yet (by
default 50: the journals Xero takes in one `PUT /ManualJournals`, so that posting can send
an organisation's days 50 to a call). Outcomes are read for the whole range at once from
the store's event stream (`GET /v1/stores/{store}/events`), not waited for day by day.

Progress is kept in a file next to --totals: which days this backfill sent, in which run,
and what became of them. A rerun skips what is done, and tells days this backfill posted
from days that were already posted before it sent them.
"""

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from glbridge import exits

# Results that end a day for good: a rerun skips them.
DONE = frozenset({"posted", "already-posted", "nothing-to-post"})
# Totals' day statuses that end a wait (everything but pending).
SETTLED = frozenset({"not-posted", "posted", "failed", "waiting-for-new-key",
                     "nothing-to-post"})
# Labels of the summary, in the order shown.
LABELS = (("posted", "posted by this run"),
          ("posted-earlier-run", "posted by an earlier run of this backfill"),
          ("already-posted", "already posted before this backfill"),
          ("nothing-to-post", "nothing to post"), ("failed", "failed"),
          ("refused", "refused by totals"), ("pending", "still pending"),
          ("no-totals", "no totals in the file"), ("in-progress", "interrupted"),
          ("not-done", "not done"))


class BackfillAborted(Exception):
    """Nothing more can work (a wrong key, totals unreachable): stop, keep the progress."""

    def __init__(self, reason: str, exit_code: int = exits.UNAVAILABLE) -> None:
        super().__init__(reason)
        self.exit_code = exit_code


@dataclass
class BackfillState:
    """The progress file: each day's result, whether this backfill sent it and in which
    run. Written whole and renamed, so an interruption never leaves half a file."""

    path: Path
    store: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    days: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    _saved_at: float = 0.0
    _before: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, store: str, restart: bool) -> "BackfillState":
        state = cls(path, store)
        if path.exists() and not restart:
            kept = json.loads(path.read_text())
            if kept.get("store") == store:
                state.days = kept.get("days", {})
                state.runs = kept.get("runs", [])
        state.runs.append(state.run)
        return state

    def result(self, day: str) -> str | None:
        return self.days.get(day, {}).get("result")

    def first_sender(self, day: str) -> str | None:
        record = self.days.get(day, {})
        senders = record.get("sent_by") or (["earlier"] if record.get("result") else [])
        return str(senders[0]) if senders else None

    def sent_before(self, day: str) -> bool:
        """Sent by an earlier run of this backfill (its outcome may have come since)."""
        return self.first_sender(day) not in (None, self.run)

    def mark_sent(self, days: list[str]) -> None:
        """Recorded before the closes go out: a day found posted on a rerun is then known
        to be this backfill's doing."""
        for day in days:
            record = self.days.get(day)
            if record is not None:
                self._before[day] = record
            senders = list((record or {}).get("sent_by", []))
            self.days[day] = {"result": "in-progress", "sent_by": [*senders, self.run]}
        self.save()

    def unmark(self, day: str) -> None:
        """Marked ahead but never sent (the run stopped first): as it was."""
        if day in self._before:
            self.days[day] = self._before[day]
        else:
            self.days.pop(day, None)

    def settle(self, day: str, outcome: dict[str, Any]) -> None:
        senders = self.days.get(day, {}).get("sent_by")
        self.days[day] = {**outcome, **({"sent_by": senders} if senders else {})}
        if time.monotonic() - self._saved_at > 0.2:
            self.save()

    def save(self) -> None:
        scratch = self.path.with_name(self.path.name + ".tmp")
        scratch.write_text(json.dumps({"store": self.store, "runs": self.runs,
                                       "days": self.days}, indent=1, sort_keys=True))
        scratch.replace(self.path)
        self._saved_at = time.monotonic()

    def label(self, day: str) -> str:
        """The summary's word for a day: who posted it, or what stopped it."""
        record = self.days.get(day)
        if record is None:
            return "not-done"
        result = str(record["result"])
        if result == "posted" and self.first_sender(day) not in (None, self.run):
            return "posted-earlier-run"
        return result


@dataclass
class _Waiter:
    revision: int
    done: asyncio.Future[dict[str, Any] | None]


OnChange = Callable[[str, str], None]


class Backfill:
    """Sends the days within the window and collects their outcomes from the stream."""

    def __init__(self, client: httpx.AsyncClient, store: str, headers: dict[str, str],
                 state: BackfillState, window: int, idle_wait_s: float,
                 on_change: OnChange) -> None:
        self.client = client
        self.store = store
        self.headers = headers
        self.state = state
        self.window = window
        self.idle_wait_s = idle_wait_s
        self.on_change = on_change
        self.url = f"/v1/stores/{store}"
        self._waiters: dict[str, _Waiter] = {}
        # The latest settled view of each day seen on the stream: it may come before the
        # close's own answer is read.
        self._seen: dict[str, dict[str, Any]] = {}
        self._stream_up = asyncio.Event()
        self._last_news = time.monotonic()
        self._stopped = False
        self._aborted: BaseException | None = None

    async def run(self, days: list[tuple[str, Any]]) -> None:
        """`days`: (date, totals or None when the file has none for it), in order."""
        watcher = asyncio.create_task(self._watch())
        try:
            await asyncio.wait_for(self._stream_up.wait(), 30)
            window = asyncio.Semaphore(self.window)
            # Closes are answered in a few ms: a handful in flight keeps totals busy.
            requests = asyncio.Semaphore(min(self.window, 8))
            marked = [0]

            async def one(index: int, day: str, totals: Any) -> None:
                async with window:
                    if self._stopped:
                        self.state.unmark(day)
                        return
                    if index >= marked[0]:
                        ahead = [d for d, t in days[index:index + self.window] if t is not None]
                        self.state.mark_sent(ahead)
                        marked[0] = index + self.window
                    outcome = await self._day(day, totals, requests)
                    self.state.settle(day, outcome)
                    self._last_news = time.monotonic()
                    self.on_change(day, self.state.label(day))

            tasks = [asyncio.create_task(one(i, d, t)) for i, (d, t) in enumerate(days)
                     if t is not None]
            for day, totals in days:
                if totals is None:
                    self.state.settle(day, {"result": "no-totals"})
                    self.on_change(day, "no-totals")
            await self._until_done(tasks)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            self.state.save()
        if self._aborted is not None:
            raise self._aborted

    async def _until_done(self, tasks: list[asyncio.Task[None]]) -> None:
        pending = set(tasks)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=1.0,
                                            return_when=asyncio.FIRST_EXCEPTION)
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    self._aborted = task.exception()
            if self._aborted is not None:
                self._give_up_waiting(stop=True)
            elif self._waiters and time.monotonic() - self._last_news > self.idle_wait_s:
                # Nothing has settled for a whole --wait: the days still out stay pending.
                await self._read_waiting()
                self._give_up_waiting(stop=True)
        if self._aborted is not None:
            for task in tasks:
                task.cancel()

    def _give_up_waiting(self, stop: bool) -> None:
        self._stopped = self._stopped or stop
        for waiter in self._waiters.values():
            if not waiter.done.done():
                waiter.done.set_result(None)

    async def _day(self, day: str, totals: Any, requests: asyncio.Semaphore) -> dict[str, Any]:
        url = f"{self.url}/days/{day}"
        try:
            async with requests:
                closed = await self.client.post(f"{url}/close", json=totals,
                                                headers=self.headers)
            if closed.status_code in (401, 403):
                raise BackfillAborted(f"totals refused the key ({closed.status_code}): "
                                      f"{reasons(body_of(closed))}", exits.REFUSED)
            if closed.status_code != 200:
                return {"result": "refused", "reason": f"close refused "
                        f"({closed.status_code}): {reasons(body_of(closed))}"}
            answer = closed.json()
            view = answer["day"]
            if answer["outcome"] == "unchanged" and view["status"] == "posted":
                # Posted before this run sent it: by this backfill, or by someone else.
                result = "posted" if self.state.sent_before(day) else "already-posted"
                return {"result": result, "journal_id": view.get("journal_id")}
            if view["status"] in ("not-posted", "failed"):
                # Automatic posting is off, or an earlier attempt failed: post it as a
                # manager would (reprint with "post to Xero").
                async with requests:
                    posted = await self.client.post(f"{url}/reprint",
                                                    json={"post_to_xero": True},
                                                    headers=self.headers)
                if posted.status_code != 200:
                    return {"result": "refused", "reason": f"post refused "
                            f"({posted.status_code}): {reasons(body_of(posted))}"}
                answer = posted.json()
                if answer["post"]["outcome"] == "already-posted":
                    return {"result": "already-posted",
                            "journal_id": answer["day"].get("journal_id")}
                view = answer["day"]
            settled = await self._settled(day, int(view["revision"]), view)
        except httpx.HTTPError as exc:
            raise BackfillAborted(f"totals did not answer: {exc!r}") from exc
        return outcome_of(settled)

    async def _settled(self, day: str, revision: int, view: dict[str, Any]
                       ) -> dict[str, Any]:
        if view["status"] in SETTLED:
            return view
        seen = self._seen.pop(day, None)
        if seen is not None and int(seen["revision"]) >= revision:
            return seen
        waiter = _Waiter(revision, asyncio.get_running_loop().create_future())
        self._waiters[day] = waiter
        self.on_change(day, "sent")
        try:
            return await waiter.done or {**view, "status": "pending"}
        finally:
            self._waiters.pop(day, None)

    def _news(self, view: dict[str, Any]) -> None:
        if view.get("status") not in SETTLED:
            return
        day = str(view.get("business_date"))
        waiter = self._waiters.get(day)
        if waiter is None:
            self._seen[day] = view
        elif int(view["revision"]) >= waiter.revision and not waiter.done.done():
            waiter.done.set_result(view)

    async def _watch(self) -> None:
        """The store's Server-Sent Events; after a reconnect every day still waited for
        is read once (its change may have come while the stream was down)."""
        first = True
        while True:
            try:
                async with self.client.stream(
                        "GET", f"{self.url}/events", headers=self.headers,
                        timeout=httpx.Timeout(30, read=None)) as response:
                    if response.status_code in (401, 403):
                        self._aborted = BackfillAborted(
                            f"totals refused the key ({response.status_code})", exits.REFUSED)
                        self._stream_up.set()
                        return
                    response.raise_for_status()
                    self._stream_up.set()
                    if not first:
                        await self._read_waiting()
                    first = False
                    data: list[str] = []
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            data.append(line[5:].strip())
                        elif not line and data:
                            self._news(json.loads("".join(data)))
                            data = []
            except (httpx.HTTPError, ValueError):
                first = False
                await asyncio.sleep(1.0)

    async def _read_waiting(self) -> None:
        for day in list(self._waiters):
            response = await self.client.get(f"{self.url}/days/{day}", headers=self.headers)
            if response.status_code == 200:
                self._news(response.json())


def outcome_of(view: dict[str, Any]) -> dict[str, Any]:
    status = view.get("status")
    if status == "posted":
        return {"result": "posted", "journal_id": view.get("journal_id")}
    if status == "nothing-to-post":
        return {"result": "nothing-to-post"}
    if status == "pending":
        return {"result": "pending", "reason": "no answer from Xero yet (run again to check)"}
    errors = "; ".join(str(e.get("message")) for e in view.get("errors") or [])
    return {"result": "failed", "reason": errors or str(view.get("message") or status)}


def reasons(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)
    if body.get("message"):
        return str(body["message"])
    return str(body.get("detail", body))


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def counts_of(days: list[str], state: BackfillState) -> Counter[str]:
    return Counter(state.label(day) for day in days)
