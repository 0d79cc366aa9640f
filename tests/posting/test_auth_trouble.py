"""Posting when auth cannot give it a token: auth down or answering 503 (Xero's token
endpoint out behind it) makes a day wait and post once auth is back, never fail it; a
connection auth does not know fails the day at once, asking for a new key."""

import asyncio
import re
from uuid import uuid4

import httpx

from shared.contracts.events import ErrorKind, GlPostingFailed, GlPostingSucceeded
from tests.posting.conftest import PostingRig, Store, day_event, wait_for_value
from tests.support.processes import ServiceProcess


async def token_requests(posting: ServiceProcess, outcome: str) -> float:
    """posting's count of access-token requests to auth that ended in `outcome`."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{posting.url}/metrics")).text
    found = re.search(
        r'^glbridge_posting_token_requests_total\{outcome="' + re.escape(outcome)
        + r'"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def until_token_requests(posting: ServiceProcess, outcome: str, at_least: float,
                               timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await token_requests(posting, outcome) < at_least:
        assert loop.time() < deadline, f"posting never counted {at_least} {outcome!r} answers"
        await asyncio.sleep(0.05)


async def the_day_waits(rig: PostingRig) -> None:
    """The day is pending (a retry is due), not failed and not in Xero."""
    state = await wait_for_value(rig.database_url, "SELECT state FROM posting.postings",
                                 lambda s: s is not None, "the day was recorded")
    assert state == "pending", state


async def test_while_auth_is_down_a_day_waits_and_posts_when_auth_is_back(rig: PostingRig):
    store = await rig.connect("61")
    assert rig.auth is not None
    rig.auth.stop()
    # Attempts enough to outlast auth's start below (backoff of 0.2 s to 2 s here).
    posting = rig.start_posting(POSTING_MAX_ATTEMPTS="100")
    await rig.publish(day_event(store))
    await until_token_requests(posting, "unavailable", 2)  # asked, backed off, asked again
    await the_day_waits(rig)
    assert await rig.journals(store.tenant_id) == []

    rig.start_auth()
    [outcome] = await rig.outcomes(1, timeout=30)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert len(await rig.journals(store.tenant_id)) == 1


async def test_while_auth_answers_503_a_day_waits_and_posts_when_xero_is_back(rig: PostingRig):
    store = await rig.connect("62")
    # An auth that refreshes on every request (tokens "expire" within its minimum
    # validity), so each of posting's requests meets Xero's token endpoint.
    assert rig.auth is not None
    rig.auth.stop()
    rig.auth = ServiceProcess("services.auth", rig.auth_port, rig.env(
        AUTH_MIN_VALIDITY_S="3600", AUTH_REFRESH_COOLDOWN_S="0.1"), rig.log_dir)
    rig.auth.start("/readyz", 30)
    await rig.faults(error_rate=1.0)  # Xero's token endpoint answers 500/503
    posting = rig.start_posting(POSTING_MAX_ATTEMPTS="100")
    await rig.publish(day_event(store))
    await until_token_requests(posting, "503", 2)
    await the_day_waits(rig)
    assert await rig.journals(store.tenant_id) == []

    await rig.faults()
    [outcome] = await rig.outcomes(1, timeout=30)
    assert isinstance(outcome, GlPostingSucceeded), outcome
    assert len(await rig.journals(store.tenant_id)) == 1


async def test_a_connection_auth_does_not_know_fails_the_day_at_once(rig: PostingRig):
    store = await rig.connect("63")
    unknown = Store("63", uuid4(), store.tenant_id)  # removed from auth, say
    posting = rig.start_posting()
    await rig.publish(day_event(unknown))
    [outcome] = await rig.outcomes(1, timeout=30)
    assert isinstance(outcome, GlPostingFailed), outcome
    assert not outcome.retryable
    [error] = outcome.errors
    assert error.kind == ErrorKind.REAUTH_NEEDED
    assert "connect to Xero again" in error.message
    assert await token_requests(posting, "404") == 1  # asked once, not retried
    assert await rig.journals(store.tenant_id) == []
