"""Posting results keep each day's status; reprint with and without "post to Xero";
`?wait` and Server-Sent Events deliver outcomes."""

import asyncio
import json
import uuid

import asyncpg

from services.totals.adapters.notifier import RACE_RECHECK_S, DayNotifier
from services.totals.adapters.unit_of_work import PgTotalsUnitOfWork, unit_of_work
from services.totals.domain.day import DayStatus, apply_failed, apply_succeeded
from services.totals.service_layer.outcomes import Outcomes
from shared.contracts.events import (
    ErrorKind,
    PostingError,
    XeroConnectionNeedsReauth,
    XeroConnectionRestored,
)
from shared.contracts.examples import example_day_totals
from tests.totals.support import closed_events, failed, no_more_closed_events, succeeded

DAY_URL = "/v1/stores/{store}/days/2026-11-27"


async def close(totals, store: str, key: str, scale: int = 1) -> dict:
    response = await totals.client.post(f"{DAY_URL.format(store=store)}/close",
                                        json=example_day_totals(scale),
                                        headers={"X-Api-Key": key})
    assert response.status_code == 200, response.text
    return response.json()


async def waiting_requests(totals) -> float:
    """Long-polls and event streams totals holds open now (its /metrics)."""
    text = (await totals.client.get("/metrics")).text
    [line] = [line for line in text.splitlines()
              if line.startswith("glbridge_totals_waiting_requests ")]
    return float(line.split()[1])


async def reprint(totals, store: str, key: str, post: bool | None = None):
    body = None if post is None else {"post_to_xero": post}
    return await totals.client.post(f"{DAY_URL.format(store=store)}/reprint", json=body,
                                    headers={"X-Api-Key": key})


async def test_wait_returns_when_posting_succeeds(totals, broker):
    key = await totals.add_store("12")
    await close(totals, "12", key)
    [event] = await closed_events(broker, 1, totals)
    before = await waiting_requests(totals)
    waiting = asyncio.create_task(totals.client.get(
        DAY_URL.format(store="12"), params={"wait": 20}, headers={"X-Api-Key": key}))
    while await waiting_requests(totals) == before:  # the request is in, and waiting
        assert not waiting.done(), (await waiting).text
        await asyncio.sleep(0.02)
    assert not waiting.done()
    result = succeeded(event)
    await broker.publish(result)
    day = (await waiting).json()
    assert day["status"] == "posted"
    assert day["journal_id"] == str(result.journal_id)
    assert "Posted to Xero" in day["message"]


async def test_a_failure_lists_each_error_and_reprint_can_post_again(totals, broker):
    key = await totals.add_store("12")
    await close(totals, "12", key)
    [event] = await closed_events(broker, 1, totals)
    error = PostingError(kind=ErrorKind.BANK_ACCOUNT, category="cash", account_code="090",
                         message="090 is a bank account: use an undeposited funds account")
    await broker.publish(failed(event, [error]))
    day = (await totals.client.get(DAY_URL.format(store="12"), params={"wait": 10},
                                   headers={"X-Api-Key": key})).json()
    assert day["status"] == "failed"
    assert day["errors"][0]["category"] == "cash"
    assert day["errors"][0]["account_code"] == "090"
    answer = await reprint(totals, "12", key, post=True)
    assert answer.json()["post"]["outcome"] == "queued"
    [again] = await closed_events(broker, 1, totals)
    assert (again.revision, again.trigger) == (1, "manual-reprint")


async def test_reprint_of_a_posted_day_answers_already_posted(totals, broker):
    key = await totals.add_store("12")
    await close(totals, "12", key)
    [event] = await closed_events(broker, 1, totals)
    result = succeeded(event)
    await broker.publish(result)
    await totals.client.get(DAY_URL.format(store="12"), params={"wait": 10},
                            headers={"X-Api-Key": key})
    answer = (await reprint(totals, "12", key, post=True)).json()
    assert answer["post"]["outcome"] == "already-posted"
    assert answer["post"]["journal_id"] == str(result.journal_id)
    assert str(result.journal_id) in answer["post"]["message"]
    assert answer["print"]["journal"]["total_debits"] == "2629.34"
    await no_more_closed_events(totals, broker, taken=1)


async def test_reprint_of_a_day_never_posted_and_of_a_day_never_closed(totals, broker):
    key = await totals.add_store("12", auto_post=False)
    assert (await reprint(totals, "12", key, post=True)).status_code == 404
    await close(totals, "12", key)
    printed = (await reprint(totals, "12", key)).json()
    assert printed["post"] is None
    assert printed["print"]["totals"]["ar_payments"] == "200.00"
    answer = (await reprint(totals, "12", key, post=True)).json()
    assert answer["post"]["outcome"] == "queued"
    assert answer["day"]["status"] == "pending"
    [event] = await closed_events(broker, 1, totals)
    assert event.trigger == "manual-reprint"


async def test_results_of_an_older_revision_do_not_overwrite_the_current(totals, broker):
    key = await totals.add_store("12")
    await close(totals, "12", key)
    await close(totals, "12", key, scale=2)
    first, second = await closed_events(broker, 2, totals)
    await broker.publish(succeeded(first))
    await broker.publish(failed(first, [PostingError(kind=ErrorKind.VALIDATION, message="x")]))
    await broker.publish(succeeded(second))
    day = (await totals.client.get(DAY_URL.format(store="12"), params={"wait": 10},
                                   headers={"X-Api-Key": key})).json()
    for _ in range(50):
        if day["posted_revision"] == 2:
            break
        await asyncio.sleep(0.1)
        day = (await totals.client.get(DAY_URL.format(store="12"),
                                       headers={"X-Api-Key": key})).json()
    assert (day["status"], day["revision"], day["posted_revision"]) == ("posted", 2, 2)


async def test_needs_reauth_holds_days_until_the_connection_is_restored(totals, broker):
    connection = uuid.uuid4()
    key = await totals.add_store("12", connection_id=connection)
    await close(totals, "12", key)
    [event] = await closed_events(broker, 1, totals)
    lost = XeroConnectionNeedsReauth(correlation_id=str(connection), connection_id=connection,
                                     store_ids=["12"], reason="invalid_grant")
    await broker.publish(lost)
    await broker.publish(failed(event, [PostingError(kind=ErrorKind.REAUTH_NEEDED,
                                                     message="connect again")]))
    day = (await totals.client.get(DAY_URL.format(store="12"), params={"wait": 10},
                                   headers={"X-Api-Key": key})).json()
    assert day["status"] == "waiting-for-new-key"
    assert "new key" in day["message"]
    for _ in range(100):  # the two events may be handled in either order
        setup = (await totals.client.get("/v1/stores/12/setup", headers={"X-Api-Key": key}))
        if setup.json()["api_key"]["status"] == "needs-reauth":
            break
        await asyncio.sleep(0.05)
    assert setup.json()["api_key"]["status"] == "needs-reauth"
    # a day closed meanwhile is held, not published
    await totals.client.post("/v1/stores/12/days/2026-11-28/close", json=example_day_totals(),
                             headers={"X-Api-Key": key})
    await no_more_closed_events(totals, broker, taken=1)
    await broker.publish(XeroConnectionRestored(correlation_id=str(connection),
                                                connection_id=connection, store_ids=["12"]))
    released = await closed_events(broker, 2, totals)
    assert sorted(str(e.business_date) for e in released) == ["2026-11-27", "2026-11-28"]


async def test_server_sent_events_stream_each_outcome(totals, broker):
    key = await totals.add_store("12")
    received: list[dict] = []
    connected = asyncio.Event()

    async def listen() -> None:
        async with totals.client.stream("GET", "/v1/stores/12/events",
                                        headers={"X-Api-Key": key}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            async for line in stream.aiter_lines():
                if line == ": connected":
                    connected.set()
                if line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    if received[-1]["status"] == "posted":
                        return

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(connected.wait(), 10)
    await close(totals, "12", key)
    [event] = await closed_events(broker, 1, totals)
    await broker.publish(succeeded(event))
    await asyncio.wait_for(listener, 15)
    assert [r["status"] for r in received] == ["pending", "posted"]


async def test_events_stream_needs_the_stores_key(totals):
    await totals.add_store("12")
    response = await totals.client.get("/v1/stores/12/events")
    assert response.status_code == 401



async def test_an_outcome_decided_on_a_day_another_writer_changed_is_not_written(
    totals, broker
):
    """Outcomes are written only where the day is still as read: a write in between
    (another replica's outcome, a reprint) makes the stale decision miss, not overwrite
    (Outcomes.record then reads the day again and decides anew)."""
    key = await totals.add_store("12")
    await close(totals, "12", key)
    [event] = await closed_events(broker, 1, totals)
    day_key = ("12", event.business_date)
    async with PgTotalsUnitOfWork(totals.wiring.pool) as uow:
        [(state, version)] = (await uow.days.states_of([day_key])).values()
    posted = succeeded(event)
    assert await Outcomes(unit_of_work(totals.wiring.pool)).record([posted]) == [True]

    error = PostingError(kind=ErrorKind.BANK_ACCOUNT, category="cash", account_code="090",
                         message="090 is a bank account")
    decided_on_stale = apply_failed(state, failed(event, [error]))
    assert decided_on_stale is not None and decided_on_stale.status == DayStatus.FAILED
    async with PgTotalsUnitOfWork(totals.wiring.pool) as uow:
        assert await uow.days.write_states({day_key: decided_on_stale},
                                           {day_key: version}) == set()
        day = await uow.days.get(*day_key)
    assert day is not None
    assert day.state.status == DayStatus.POSTED
    assert day.state.journal_id == posted.journal_id


async def test_a_refused_amendment_says_the_earlier_revision_is_still_in_xero(totals, broker):
    key = await totals.add_store("14")
    await close(totals, "14", key)
    await close(totals, "14", key, scale=2)
    first, second = await closed_events(broker, 2, totals)
    posted = succeeded(first)
    await broker.publish(posted)
    await broker.publish(failed(second, [PostingError(kind=ErrorKind.TAX_TYPE, message="x")]))
    day: dict = {}
    for _ in range(100):
        day = (await totals.client.get(DAY_URL.format(store="14"),
                                       headers={"X-Api-Key": key})).json()
        if day["status"] == "failed":
            break
        await asyncio.sleep(0.1)
    assert (day["status"], day["posted_revision"]) == ("failed", 1)
    assert day["message"].startswith(
        f"Amendment refused, revision 1 still in Xero (journal {posted.journal_id}).")


async def test_only_the_days_of_stores_someone_waits_on_are_notified(totals):
    """A NOTIFY makes PostgreSQL serialise the commits that send one: a close nobody waits
    on sends none. PostgreSQL delivers notifications in commit order, so hearing the
    watched store's close first shows the earlier close sent nothing."""
    quiet, watched = await totals.add_store("21"), await totals.add_store("22")
    heard: list[str] = []
    listener = await asyncpg.connect(totals.settings.database_url)
    await listener.add_listener("totals_days", lambda *args: heard.append(args[-1]))
    before = await waiting_requests(totals)
    waiting = asyncio.create_task(totals.client.get(
        DAY_URL.format(store="22"), params={"wait": 20}, headers={"X-Api-Key": watched}))
    try:
        await _watched(totals, "22")
        await close(totals, "21", quiet)
        await close(totals, "22", watched)
        for _ in range(200):
            if heard:
                break
            await asyncio.sleep(0.02)
        assert heard == ['["22", "2026-11-27"]']
        assert await waiting_requests(totals) == before + 1  # still waiting: not settled
    finally:
        waiting.cancel()
        await listener.close()


async def test_a_write_begun_before_the_waiter_was_recorded_still_wakes_it(totals, broker):
    """The outcome's statement ran before the store was watched, so it sends no NOTIFY,
    and commits after the waiter's first read: the waiter reads again RACE_RECHECK_S
    after recording the store, not at the end of its 20 s."""
    key = await totals.add_store("23")
    await close(totals, "23", key)
    [event] = await closed_events(broker, 1, totals)
    day_key = ("23", event.business_date)
    async with PgTotalsUnitOfWork(totals.wiring.pool) as uow:
        [(state, version)] = (await uow.days.states_of([day_key])).values()
        posted = apply_succeeded(state, succeeded(event))
        assert posted is not None
        await uow.writer()  # a transaction: the write is not seen until it commits
        assert await uow.days.write_states({day_key: posted}, {day_key: version}) == {day_key}
        waiting = asyncio.create_task(totals.client.get(
            DAY_URL.format(store="23"), params={"wait": 20}, headers={"X-Api-Key": key}))
        await _watched(totals, "23")
        await asyncio.sleep(RACE_RECHECK_S / 4)  # its first read: the day still pending
        await uow.commit()
    day = (await asyncio.wait_for(waiting, RACE_RECHECK_S + 5)).json()
    assert day["status"] == "posted"


async def _watched(totals, store_id: str) -> None:
    """Until a waiter of `store_id` has recorded it (it reads the day just after)."""
    for _ in range(500):
        if await totals.wiring.pool.fetchval(
                "SELECT count(*) FROM watched_stores WHERE store_id = $1", store_id):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"store {store_id} never recorded as watched")


async def test_a_waiter_the_notifier_cannot_record_reads_again_each_second(database_url):
    """Not connected, or the record refused (here: a database without totals' tables):
    no notification can be counted on, so each pass of a wait reads again soon."""
    offline = DayNotifier("postgresql://nobody@127.0.0.1:1/none", "totals")
    assert await offline.watching("31") and await offline.watching("31")
    refused = DayNotifier(database_url, "totals")
    await refused.start()
    try:
        assert refused.connected.is_set()
        assert await refused.watching("31") and await refused.watching("31")
    finally:
        await refused.stop()


async def test_a_long_wait_and_a_busy_stream_keep_their_store_watched(totals):
    """A record lasts `watch_s` (here 4 s instead of 5 minutes): a wait nothing wakes for
    longer than that, and a stream woken by change after change (no keepalive between),
    each record their store again before it lapses, so no change goes unnotified."""
    totals.wiring.notifier.watch_s = 4.0
    totals.wiring.settings.sse_keepalive_s = 15.0  # no keepalive while the test runs
    quiet_key, busy_key = await totals.add_store("41"), await totals.add_store("42")
    await close(totals, "41", quiet_key)
    waiting = asyncio.create_task(totals.client.get(
        DAY_URL.format(store="41"), params={"wait": 6}, headers={"X-Api-Key": quiet_key}))
    connected = asyncio.Event()

    async def stream() -> None:
        async with totals.client.stream("GET", "/v1/stores/42/events",
                                        headers={"X-Api-Key": busy_key}) as events:
            async for line in events.aiter_lines():
                if line == ": connected":
                    connected.set()

    streaming = asyncio.create_task(stream())
    try:
        await asyncio.wait_for(connected.wait(), 10)
        for scale in range(1, 6):  # a change every 0.8 s
            await asyncio.sleep(0.8)
            await close(totals, "42", busy_key, scale=scale)
        await asyncio.sleep(0.5)  # 4.5 s after the first records
        assert await totals.wiring.pool.fetchval(
            "SELECT count(*) FROM watched_stores WHERE until > now()") == 2
        assert (await waiting).json()["status"] == "pending"  # never settled
    finally:
        waiting.cancel()
        streaming.cancel()
