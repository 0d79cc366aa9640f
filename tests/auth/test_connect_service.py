"""The connect flow over in-memory ports (tests/auth/fakes.py): the API Key box's three
scenarios, the proof a connected store's reconnect needs, the cap on open links, a link
another connect overtook and a move to another organisation, with no PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from services.auth.adapters.cipher import Cipher
from services.auth.domain.connect import Tenant
from services.auth.domain.keys import ApiKey, matches
from services.auth.domain.proof import ProofRequired, TooManyAttempts
from services.auth.domain.scenarios import Scenario
from services.auth.domain.tokens import Status
from services.auth.service_layer.connect import (
    Connected,
    ConnectFlow,
    Failure,
    FlowError,
    MoveNeeded,
)
from services.auth.settings import AuthSettings
from shared.contracts.events import XeroConnected
from tests.auth.fakes import FakeAuthUnitOfWork, FakeDatabase, FakeXero

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
BROWSER = "a-browser-cookie-of-24-chars"
OAUTH1_TOKEN = "ABCDEFGHIJ0123456789KLMNOPQRST"
DEMO = Tenant(str(uuid.uuid4()), "Demo Rentals (US)", "ORGANISATION", "xc-demo", "event-1")
KIWI = Tenant(str(uuid.uuid4()), "Kiwi Hire (NZ)", "ORGANISATION", "xc-kiwi", "event-1")


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def xero() -> FakeXero:
    return FakeXero(now=NOW, tenants=[DEMO],
                    claims={"authentication_event_id": "event-1", "xero_userid": "user-1"})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flow(db: FakeDatabase, xero: FakeXero, clock: Clock) -> ConnectFlow:
    settings = AuthSettings()
    cipher = Cipher.from_spec(settings.encryption_keys.get_secret_value())
    return ConnectFlow(lambda: FakeAuthUnitOfWork(db), cipher, xero, settings, now=clock)


async def open_link(flow: ConnectFlow, store_id: str, api_key: str = "",
                    reconnect_token: str | None = None) -> tuple[Scenario, str]:
    """Setup, then the link opened in the browser: the scenario and Xero's `state`."""
    classification, url = await flow.setup(store_id, api_key, reconnect_token)
    authorize = await flow.start(url.rsplit("/", 1)[1], BROWSER)
    return classification.scenario, parse_qs(urlsplit(authorize).query)["state"][0]


async def allowed(flow: ConnectFlow, state: str) -> Connected | MoveNeeded:
    outcome = await flow.callback(state, "a-code", None, None, BROWSER)
    assert isinstance(outcome, Connected | MoveNeeded)
    return outcome


async def connect(flow: ConnectFlow, store_id: str = "12", api_key: str = "",
                  reconnect_token: str | None = None) -> Connected:
    _, state = await open_link(flow, store_id, api_key, reconnect_token)
    outcome = await allowed(flow, state)
    assert isinstance(outcome, Connected)
    return outcome


def live_key_works(db: FakeDatabase, key: ApiKey, store_id: str) -> bool:
    row = db.rows[key.connection_id]
    return row.store_id == store_id and row.status == Status.ACTIVE and matches(
        key, row.key_hash)


@pytest.mark.parametrize("api_key, scenario", [
    ("", Scenario.NEW), ("  ", Scenario.NEW), (OAUTH1_TOKEN, Scenario.OAUTH1),
    (f"oauth_token={OAUTH1_TOKEN}&oauth_token_secret=abcdefghijklmnopqrst", Scenario.OAUTH1),
])
async def test_a_store_never_connected_gets_a_key_from_an_empty_box_or_an_oauth1_token(
        db, flow, api_key, scenario):
    found, state = await open_link(flow, "12", api_key)
    assert found == scenario
    outcome = await allowed(flow, state)
    assert isinstance(outcome, Connected) and outcome.tenant_name == "Demo Rentals (US)"
    assert live_key_works(db, outcome.key, "12")
    [event] = db.outbox
    assert isinstance(event, XeroConnected) and event.connection_id == outcome.key.connection_id
    assert [a.proof for a in db.attempts.values()] == ["none"]


async def test_an_existing_key_reconnects_and_retires_the_old_connection(db, flow, xero):
    first = await connect(flow)
    found, state = await open_link(flow, "12", str(first.key))
    assert found == Scenario.OAUTH2_RENEW
    second = await allowed(flow, state)
    assert isinstance(second, Connected)
    assert live_key_works(db, second.key, "12")
    assert db.rows[first.key.connection_id].status == Status.RETIRED
    assert db.rows[first.key.connection_id].refresh_token_sealed is None
    assert db.rows[second.key.connection_id].replaces == first.key.connection_id
    assert sorted(a.proof for a in db.attempts.values()) == ["key", "none"]
    assert xero.revoked == []  # the same Xero user's new connection still uses the grant


async def test_a_connected_store_without_proof_is_refused(db, flow):
    await connect(flow)
    for api_key in ("", OAUTH1_TOKEN, f"2RF:{uuid.uuid4()}.{'x' * 43}"):
        with pytest.raises(ProofRequired, match="store 12 is connected"):
            await flow.setup("12", api_key)
    assert len(db.attempts) == 1


async def test_a_reconnect_token_works_once(db, flow):
    await connect(flow)
    token, _ = await flow.issue_reconnect_token("12")
    reconnected = await connect(flow, reconnect_token=token)
    assert live_key_works(db, reconnected.key, "12")
    assert sorted(a.proof for a in db.attempts.values()) == ["none", "reconnect-token"]
    with pytest.raises(ProofRequired):
        await flow.setup("12", "", token)


async def test_a_reconnect_token_is_only_for_its_store_and_until_it_expires(
        db, flow, clock):
    await connect(flow, "12")
    await connect(flow, "13")
    token, expires_at = await flow.issue_reconnect_token("12")
    with pytest.raises(ProofRequired):
        await flow.setup("13", "", token)
    clock.at = expires_at
    with pytest.raises(ProofRequired):
        await flow.setup("12", "", token)


async def test_a_new_reconnect_token_replaces_the_unused_one(flow):
    await connect(flow)
    old, _ = await flow.issue_reconnect_token("12")
    new, _ = await flow.issue_reconnect_token("12")
    with pytest.raises(ProofRequired):
        await flow.setup("12", "", old)
    await flow.setup("12", "", new)


async def test_open_links_are_capped_per_store_without_spending_the_token(db, flow):
    connected = await connect(flow)
    for _ in range(flow.settings.max_pending_attempts):
        await flow.setup("12", str(connected.key))
    token, _ = await flow.issue_reconnect_token("12")
    with pytest.raises(TooManyAttempts, match="store 12 has 5 connect links open"):
        await flow.setup("12", "", token)
    await flow.setup("13", "")  # another store's links are its own
    [kept] = db.reconnect_tokens.values()
    assert kept.used_at is None  # the refused setup rolled back its spending


async def test_expired_links_leave_room_for_new_ones(flow, clock):
    for _ in range(flow.settings.max_pending_attempts):
        await flow.setup("12", "")
    clock.at = NOW + timedelta(seconds=flow.settings.state_ttl_s)
    await flow.setup("12", "")


async def test_a_link_overtaken_by_another_connect_of_the_store_is_refused(db, flow):
    _, overtaken = await open_link(flow, "12")
    first = await connect(flow)
    with pytest.raises(FlowError) as refused:
        await allowed(flow, overtaken)
    assert refused.value.kind == Failure.STORE_CHANGED
    assert [row.id for row in db.rows.values()] == [first.key.connection_id]


async def test_a_state_is_used_once(flow):
    _, state = await open_link(flow, "12")
    await allowed(flow, state)
    with pytest.raises(FlowError, match="used"):
        await allowed(flow, state)


async def test_moving_a_store_to_another_organisation_needs_confirmation(db, flow, xero):
    first = await connect(flow)
    xero.tenants = [KIWI]
    _, state = await open_link(flow, "12", str(first.key))
    move = await allowed(flow, state)
    assert isinstance(move, MoveNeeded)
    assert move.from_tenant_name == "Demo Rentals (US)" and move.tenant == KIWI
    assert db.rows[first.key.connection_id].status == Status.ACTIVE
    again = await flow.pick(move.pick_id, KIWI.tenant_id, BROWSER)
    assert isinstance(again, MoveNeeded) and db.moves == []
    moved = await flow.pick(move.pick_id, KIWI.tenant_id, BROWSER, confirm_move=True)
    assert isinstance(moved, Connected) and moved.tenant_name == "Kiwi Hire (NZ)"
    [recorded] = db.moves
    assert (recorded.from_tenant_name, recorded.to_tenant_name, recorded.proof) == (
        "Demo Rentals (US)", "Kiwi Hire (NZ)", "key")
    assert recorded.from_connection_id == first.key.connection_id
    with pytest.raises(FlowError) as twice:
        await flow.pick(move.pick_id, KIWI.tenant_id, BROWSER, confirm_move=True)
    assert twice.value.kind == Failure.PICK_EXPIRED


async def test_a_pick_from_another_browser_is_refused(flow, xero):
    xero.tenants = [DEMO, KIWI]
    _, state = await open_link(flow, "12")
    pick = await flow.callback(state, "a-code", None, None, BROWSER)
    assert not isinstance(pick, Connected)
    with pytest.raises(FlowError, match="other-browser"):
        await flow.pick(pick.pick_id, KIWI.tenant_id, "another-browser-cookie")
    connected = await flow.pick(pick.pick_id, KIWI.tenant_id, BROWSER)
    assert isinstance(connected, Connected) and connected.tenant_name == "Kiwi Hire (NZ)"
