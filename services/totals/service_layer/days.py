"""The POS's commands (setup, close, reprint), shared by the HTTP API and the POS messages."""

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from prometheus_client import Counter
from pydantic import SecretStr, ValidationError

from services.totals.domain.day import Decision, decide_close, decide_post
from services.totals.domain.journal import (
    BuiltDay,
    Problem,
    TotalsRefused,
    build_day,
    is_consolidated,
    make_journal,
)
from services.totals.domain.key_replacement import CurrentKey, Replacement, may_replace
from services.totals.domain.records import ACTIVE, DayRecord, KeyRecord, SetupRecord, key_hash
from services.totals.domain.setup import StoreSetup
from services.totals.domain.setup_check import ERROR, expand_setup, tax_rates, verdict
from services.totals.domain.totals import DayTotals
from services.totals.service_layer.outcomes import closed_event, release_held
from services.totals.service_layer.ports import CheckUnavailable, KeyVerifier, SetupChecker
from services.totals.service_layer.unit_of_work import (
    ConcurrentClose,
    FirstClose,
    FirstCloses,
    KeyInUse,
    MissingKey,
    UnitOfWorkFactory,
)
from shared.contracts.events import Event, Trigger

log = logging.getLogger(__name__)

CLOSES = Counter("glbridge_totals_closes_total",
                 "Day closes by outcome (closed, amended, unchanged, refused).", ["outcome"])


EMPTY_AMENDMENT = Problem(
    ("body",), "empty-amendment",
    "this day was already sent to Xero; an amendment with nothing to post cannot replace "
    "its journal: void the journal in Xero instead",
)


class NotAuthenticated(Exception):
    """No key, or a key no store has (401)."""


NOT_SIGNED_BY_THE_KEY = (
    "the message is not signed with this store's current API key: sign it with the "
    "store's current 2RF: key (key_ref and signature, docs/interfaces.md)"
)
UNKNOWN_KEY = (
    "this API key does not open this store: paste the store's current 2RF: key (a store "
    "that was never set up saves its setup with its new key first)"
)


class WrongStore(Exception):
    """Another store's key (403)."""


class DayNotFound(Exception):
    pass


class KeyReplacementRefused(Exception):
    """A new key for a store that has one, without proof of holding the store (403)."""


KEY_REPLACEMENT_REFUSED = (
    "store {store} already has a key: replacing it needs the store's current key in "
    "X-Api-Key (or the operator's credential). A store whose key is lost gets a reconnect "
    "token from the operator (`glbridge ops reconnect-token --store {store}`) and connects "
    "with it; the key that gives is accepted here"
)


class SetupRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class CloseResult:
    decision: Decision
    day: DayRecord


@dataclass(frozen=True)
class ReprintResult:
    day: DayRecord
    post: Decision | None


def problems_from(exc: ValidationError, prefix: tuple[str | int, ...]) -> list[Problem]:
    return [
        Problem((*prefix, *err["loc"]), "invalid", err["msg"])
        for err in exc.errors(include_url=False)
    ]


class SetupCache:
    """Setups read per request, cached while a NOTIFY from any replica's change can evict
    them: only while `live()` says the listener is connected (else every read goes to the
    database), and emptied when it reconnects (what changed meanwhile was not heard). The
    TTL is a last bound, not what keeps entries correct."""

    def __init__(self, load: Callable[[str], Awaitable[SetupRecord | None]],
                 ttl_s: float = 300.0, live: Callable[[], bool] = lambda: True) -> None:
        self.load = load
        self.ttl_s = ttl_s
        self.live = live
        self._entries: dict[str, tuple[float, SetupRecord]] = {}

    async def get(self, store_id: str) -> SetupRecord | None:
        entry = self._entries.get(store_id)
        now = time.monotonic()
        if entry is not None and now - entry[0] < self.ttl_s and self.live():
            return entry[1]
        record = await self.load(store_id)
        if record is not None:
            self._entries[store_id] = (now, record)
        return record

    def evict(self, store_id: str) -> None:
        self._entries.pop(store_id, None)

    def clear(self) -> None:
        self._entries.clear()


NEEDS_NEW_KEY_PROBLEM = {
    "severity": ERROR, "kind": "connection", "category": None, "account_code": None,
    "message": "The store's Xero connection needs a new key: connect to Xero again from "
    "the API Key box and paste the new 2RF: key.", "xero_message": None,
}


class TotalsService:
    def __init__(self, uow: UnitOfWorkFactory, first_closes: FirstCloses, auth: KeyVerifier,
                 checker: SetupChecker | None = None) -> None:
        self.uow = uow
        self.first_closes = first_closes
        self.auth = auth
        self.checker = checker
        self.setups = SetupCache(self.setup_of)

    async def setup_of(self, store_id: str) -> SetupRecord | None:
        async with self.uow() as uow:
            return await uow.setups.get(store_id)

    async def day_of(self, store_id: str, business_date: date) -> DayRecord | None:
        async with self.uow() as uow:
            return await uow.days.get(store_id, business_date)

    async def publish(self, event: Event) -> None:
        """An event of no change (a refusal), through the outbox like every other."""
        async with self.uow() as uow:
            uow.add_event(event)
            await uow.commit()

    async def check_setup(self, record: SetupRecord) -> dict[str, object]:
        """The setup against its organisation: every problem, errors and warnings, and
        whether the store is ready to post (never while an error remains)."""
        expanded = expand_setup(record.store_id, record.setup)
        own = list(expanded.problems)
        if not record.connection_ok:
            return verdict([*own, NEEDS_NEW_KEY_PROBLEM], [])
        if self.checker is None:
            return verdict(own, None, "no posting service to ask")
        try:
            found = await self.checker.check(record.key.tenant_id, record.key.connection_id,
                                             expanded.entries, expanded.tracking,
                                             record.setup.currency, tax_rates(record.setup))
        except CheckUnavailable as exc:
            if exc.needs_new_key:
                return verdict([*own, NEEDS_NEW_KEY_PROBLEM], [])
            return verdict(own, None, str(exc))
        return verdict(own, found)

    async def authenticate(self, store_id: str, api_key: str | None) -> SetupRecord:
        """The store's setup, when `api_key` is its key: checked against the stored hash."""
        if not api_key or not api_key.strip():
            raise NotAuthenticated("the store's API key is required in the X-Api-Key header")
        presented = key_hash(api_key)
        record = await self.setups.get(store_id)
        if record is not None and hmac.compare_digest(record.key.api_key_hash, presented):
            return record
        async with self.uow() as uow:
            owner = await uow.setups.store_for_key(presented)
        if owner is not None:
            raise WrongStore(f"this API key belongs to another store, not store {store_id}")
        # One answer whether the store exists or not: a caller without its key learns
        # nothing about which store numbers are in use.
        raise NotAuthenticated(UNKNOWN_KEY)

    async def authenticate_signed(self, store_id: str,
                                  signed_by: Callable[[bytes], bool]) -> SetupRecord:
        """The store's setup, when `signed_by` accepts its current key's verifier: a POS
        message signed with the key (shared/contracts/pos.py)."""
        record = await self.setups.get(store_id)
        if record is not None and signed_by(bytes.fromhex(record.key.api_key_hash)):
            return record
        raise NotAuthenticated(NOT_SIGNED_BY_THE_KEY)

    async def save_setup(
        self, store_id: str, setup: StoreSetup, api_key: SecretStr | None,
        presented_key: str | None = None, by_operator: bool = False,
    ) -> SetupRecord:
        """Saves the setup; a new key in `api_key` replaces the store's current one only
        with proof (`presented_key`, the current key; or `by_operator`): KeyReplacementRefused."""
        key = None
        if api_key is not None:
            key, replaces = await self._verified_key(store_id, api_key)
            current = await self.setup_of(store_id)
            replacement = Replacement(
                key.api_key_hash, replaces,
                key_hash(presented_key) if presented_key and presented_key.strip() else None,
                by_operator)
            if not may_replace(_current(current), replacement):
                log.warning("key replacement refused", extra={"store_id": store_id})
                raise KeyReplacementRefused(KEY_REPLACEMENT_REFUSED.format(store=store_id))
        try:
            record, released = await self.store_setup(store_id, setup, key)
        except MissingKey:
            raise SetupRefused([Problem(("body", "api_key"), "missing",
                                        "the first setup of a store needs its API key")]) from None
        except KeyInUse:
            raise SetupRefused([Problem(("body", "api_key"), "key-in-use",
                                        "this key is already the key of another store's "
                                        "setup: connect this store to get its own")]) from None
        if released:
            log.info("new key for store %s: %d held day(s) sent", store_id, len(released))
        return record

    async def store_setup(
        self, store_id: str, setup: StoreSetup, key: KeyRecord | None
    ) -> tuple[SetupRecord, list[DayRecord]]:
        """Saves a setup whose key (if any) is verified; with a working key, the days held
        for one are sent (returned)."""
        async with self.uow() as uow:
            record = await uow.setups.save(store_id, setup, key)
            released = await release_held(uow, [record]) if record.connection_ok else []
            await uow.commit()
        self.setups.evict(store_id)
        return record, released

    async def _verified_key(
        self, store_id: str, api_key: SecretStr
    ) -> tuple[KeyRecord, UUID | None]:
        secret = api_key.get_secret_value().strip()
        loc = ("body", "api_key")
        if not secret.startswith("2RF:"):
            raise SetupRefused([Problem(loc, "invalid",
                                        "an API key starts with 2RF: (paste the whole line)")])
        info = await self.auth.verify_key(secret)
        if info is None:
            raise SetupRefused([Problem(loc, "unknown-key",
                                        "this key is unknown, retired or mistyped: connect to "
                                        "Xero again and paste the new key")])
        if info.store_id != store_id:
            raise SetupRefused([Problem(loc, "wrong-store",
                                        f"this key was issued for store {info.store_id}, "
                                        f"not store {store_id}")])
        record = KeyRecord(key_hash(secret), info.connection_id, info.tenant_id,
                           info.tenant_name, ACTIVE if info.status == "active" else info.status)
        return record, info.replaces

    def build(self, setup: SetupRecord, totals: DayTotals) -> BuiltDay:
        return build_day(setup.store_id, setup.setup, totals)

    async def close(
        self, setup: SetupRecord, business_date: date, totals: DayTotals,
        trigger: Trigger = Trigger.END_OF_DAY,
    ) -> CloseResult:
        """Raises `TotalsRefused` naming every problem."""
        try:
            built = self.build(setup, totals)
        except TotalsRefused:
            CLOSES.labels("refused").inc()
            raise
        body = totals.model_dump(mode="json")
        for _ in range(3):
            try:
                decision, day = await self.close_built(setup, business_date, body, built,
                                                       trigger)
                CLOSES.labels(decision.outcome).inc()
                if decision.outcome == "refused-empty-amendment":
                    raise TotalsRefused([EMPTY_AMENDMENT])
                return CloseResult(decision, day)
            except ConcurrentClose:
                continue  # the other close committed first: decide again against it
        raise RuntimeError("could not close the day: concurrent closes kept racing")

    async def reprint(
        self, setup: SetupRecord, business_date: date, post_to_xero: bool
    ) -> ReprintResult:
        if post_to_xero and is_consolidated(setup.store_id):
            raise TotalsRefused([Problem(("path", "store_id"), "consolidated-store",
                                         "store 999 is a report, never a posting")])
        day = await self.day_of(setup.store_id, business_date)
        if day is None:
            raise DayNotFound(f"store {setup.store_id} has not closed {business_date}")
        if not post_to_xero:
            return ReprintResult(day, None)
        built = self.build(setup, DayTotals.model_validate(day.totals))
        decision = await self._post(setup, business_date, built)
        if decision is None:
            raise DayNotFound(f"store {setup.store_id} has not closed {business_date}")
        after = await self.day_of(setup.store_id, business_date)
        return ReprintResult(after or day, decision)

    async def close_built(
        self, setup: SetupRecord, business_date: date, totals: dict[str, Any], day: BuiltDay,
        trigger: Trigger,
    ) -> tuple[Decision, DayRecord]:
        """One short transaction: the day, its revision, its event (outbox), a NOTIFY.
        A day closed for the first time (the common case) is one write, grouped with the
        first closes that arrive with it."""
        first = await self._first_close(setup, business_date, totals, day, trigger)
        if first is not None:
            return first
        store_id = setup.store_id
        async with self.uow() as uow:
            current = await uow.days.get_for_update(store_id, business_date)
            decision = decide_close(current.state if current else None, day,
                                    setup.setup.auto_post, setup.connection_ok)
            if current is not None and not decision.changed:
                return decision, current
            journal = None if day.nothing_to_post else make_journal(
                store_id, business_date, decision.state.revision, day)
            stamp = await uow.days.write_revision(store_id, business_date, decision.state,
                                                  totals, journal, trigger,
                                                  insert=current is None)
            if decision.publish and journal is not None:
                uow.add_event(closed_event(store_id, business_date, decision.state.revision,
                                           journal, trigger, setup))
            await uow.commit()
        return decision, DayRecord(store_id, business_date, decision.state, totals, journal,
                                   trigger.value, stamp, stamp)

    async def _first_close(
        self, setup: SetupRecord, business_date: date, totals: dict[str, Any], day: BuiltDay,
        trigger: Trigger,
    ) -> tuple[Decision, DayRecord] | None:
        """The day written with its event at once, on its own; None when the day exists:
        take the full path."""
        store_id = setup.store_id
        decision = decide_close(None, day, setup.setup.auto_post, setup.connection_ok)
        journal = None if day.nothing_to_post else make_journal(store_id, business_date, 1,
                                                                day)
        event = None
        if decision.publish and journal is not None:
            event = closed_event(store_id, business_date, 1, journal, trigger, setup)
        stamp = await self.first_closes.add_first(FirstClose(
            store_id, business_date, decision.state, totals, journal, trigger, event))
        if stamp is None:
            return None
        return decision, DayRecord(store_id, business_date, decision.state, totals, journal,
                                   trigger.value, stamp, stamp)

    async def _post(self, setup: SetupRecord, business_date: date, day: BuiltDay
                    ) -> Decision | None:
        """A manual post (reprint with "post to Xero"); None when the day was never closed."""
        store_id = setup.store_id
        trigger = Trigger.MANUAL_REPRINT
        async with self.uow() as uow:
            record = await uow.days.get_for_update(store_id, business_date)
            if record is None:
                return None
            decision = decide_post(record.state, day, setup.connection_ok)
            if not decision.changed:
                return decision
            journal = record.journal
            if decision.state.revision != record.state.revision:
                journal = None if day.nothing_to_post else make_journal(
                    store_id, business_date, decision.state.revision, day)
                await uow.days.write_revision(store_id, business_date, decision.state,
                                              record.totals, journal, trigger, insert=False)
            else:
                await uow.days.write_state(store_id, business_date, decision.state,
                                           trigger=trigger)
            if decision.publish and journal is not None:
                uow.add_event(closed_event(store_id, business_date, decision.state.revision,
                                           journal, trigger, setup))
            await uow.commit()
        return decision


def _current(record: SetupRecord | None) -> CurrentKey | None:
    if record is None:
        return None
    return CurrentKey(record.key.api_key_hash, record.key.connection_id)
