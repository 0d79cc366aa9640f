"""Transient trouble: an expired token is replaced once, Xero outages are retried with
backoff from the database, and after the configured attempts the day fails as
retryable with its event dead-lettered (the reason attached)."""

import asyncio
from datetime import timedelta

from shared.contracts.events import ErrorKind, GlPostingFailed, GlPostingSucceeded
from shared.messaging.broker import DEAD_REASON_HEADER
from shared.messaging.topology import POSTING_QUEUE
from tests.posting.conftest import DAY, PostingRig, day_event


async def test_a_token_xero_calls_expired_is_replaced_and_the_day_posts(rig: PostingRig):
    store = await rig.connect("11")
    rig.start_posting()
    await rig.publish(day_event(store))
    [first] = await rig.outcomes(1)
    assert isinstance(first, GlPostingSucceeded)
    before = (await rig.stats())["token_requests"]

    # Xero's clock moves past the token's 30 minutes; posting's cache does not know.
    (await rig.sandbox.client.post("/_control/clock/advance", json={"seconds": 1900})
     ).raise_for_status()
    await rig.publish(day_event(store, DAY + timedelta(days=1)))
    [second] = await rig.outcomes(1)
    assert isinstance(second, GlPostingSucceeded), second
    assert (await rig.stats())["token_requests"] == before + 1  # one refresh, by auth
    assert len(await rig.journals(store.tenant_id)) == 2


async def failed_calls(rig: PostingRig, tenant_id: str, at_least: int,
                       timeout: float = 30.0) -> int:
    """Waits until the sandbox has answered the organisation's calls that many times."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        calls = int((await rig.stats())["requests"].get(tenant_id, 0))
        if calls >= at_least:
            return calls
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} calls reached the sandbox")


async def test_an_outage_is_retried_until_xero_answers(rig: PostingRig):
    store = await rig.connect("12")
    rig.start_posting()
    tenant = str(store.tenant_id)
    before = int((await rig.stats())["requests"].get(tenant, 0))
    await rig.faults(error_rate=1.0)
    await rig.publish(day_event(store))
    # Every call answered 500/503 while the fault is on: two of them, backed off between.
    failed = await failed_calls(rig, tenant, before + 2) - before
    assert await rig.journals(store.tenant_id) == []  # none of them got through
    await rig.faults()
    [outcome] = await rig.outcomes(1, timeout=30)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert not outcome.already_posted
    assert failed >= 2
    assert len(await rig.journals(store.tenant_id)) == 1


async def test_after_the_last_attempt_the_day_fails_retryable_and_is_dead_lettered(
    rig: PostingRig,
):
    store = await rig.connect("13")
    # Xero fails before posting starts, so its chart is never read (neither ahead, on
    # auth's xero-connected, nor for the day) and the day never reaches Xero. A day whose
    # PUT may have reached Xero is looked up until Xero answers, never given up on.
    await rig.faults(error_rate=1.0)
    rig.start_posting(POSTING_MAX_ATTEMPTS="2")
    event = day_event(store)
    await rig.publish(event)
    [outcome] = await rig.outcomes(1, timeout=30)
    assert isinstance(outcome, GlPostingFailed), outcome
    assert outcome.retryable
    [error] = outcome.errors
    assert error.kind == ErrorKind.XERO_UNAVAILABLE and error.retryable
    # Given up at the configured attempt, not one later.
    assert "after 2 attempts" in error.message, error.message

    channel = await rig.broker.connection.channel()
    dead = await channel.get_queue(rig.broker.topology.dead_letter_queue_name(POSTING_QUEUE))
    message = await dead.get(fail=False)
    assert message is not None
    assert message.message_id == str(event.event_id)
    assert "gave up" in str((message.headers or {})[DEAD_REASON_HEADER])
    await message.ack()
    await channel.close()
