"""The sandbox's whole state in memory, and the identity rules acting on it.

Token signing is injected (`Signer`), so this module stays free of I/O and crypto choices.
"""

import base64
import hashlib
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from services.xero_sandbox.domain.clock import Clock
from services.xero_sandbox.domain.limits import Limits, TenantBudget, Window
from services.xero_sandbox.domain.model import (
    AuthCode,
    Client,
    Connection,
    Grant,
    ManualJournal,
    Organisation,
    RefreshToken,
    User,
    new_id,
)

Signer = Callable[[dict[str, Any]], str]

ACCESS_TOKEN_S = 1800
CODE_S = 300
REFRESH_GRACE = timedelta(minutes=30)
REFRESH_UNUSED = timedelta(days=60)
DEFAULT_CLIENT = ("glbridge-dev", "glbridge-dev-secret")
DEFAULT_SCOPES = ["offline_access", "accounting.manualjournals", "accounting.settings.read"]
# What each API needs: a granular scope or the broad one it is carved out of.
READ_SETTINGS = frozenset({"accounting.settings.read", "accounting.settings"})
WRITE_SETTINGS = frozenset({"accounting.settings"})
WRITE_JOURNALS = frozenset({"accounting.manualjournals", "accounting.transactions"})
READ_JOURNALS = WRITE_JOURNALS | {"accounting.manualjournals.read", "accounting.transactions.read"}


class OAuthError(Exception):
    """An OAuth error answer: `error` is the code Xero sends (invalid_grant, ...)."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass
class PendingAuthorization:
    request_id: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None
    nonce: str | None
    email: str | None = None
    consented: bool = False


@dataclass
class Faults:
    latency_min_ms: float = 0.0
    latency_max_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    timeout_rate: float = 0.0
    force_429: int = 0
    # Which limit the forced 429s name: minute, day, appminute or concurrent.
    force_429_problem: str = "minute"
    lose_token_responses: int = 0
    # The next n `where` filters on ManualJournals answer 400 QueryParseException, as Xero
    # answers a filter it cannot parse.
    refuse_where: int = 0
    tenant_id: str | None = None
    # Faults after the request was processed (the journal is stored, the answer lost):
    # the next N writes, then each write with this probability; `lost_answer` says how.
    lose_write_answers: int = 0
    lost_write_answer_rate: float = 0.0
    lost_answer: str = "drop"  # drop, timeout or error
    # A journal reaches `GET /ManualJournals` lists this many seconds after it is stored.
    search_lag_s: float = 0.0

    def applies_to(self, tenant_id: str | None) -> bool:
        return self.tenant_id is None or self.tenant_id == tenant_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": {"min": self.latency_min_ms, "max": self.latency_max_ms},
            "error_rate": self.error_rate,
            "drop_rate": self.drop_rate,
            "timeout_rate": self.timeout_rate,
            "force_429": self.force_429,
            "force_429_problem": self.force_429_problem,
            "lose_token_responses": self.lose_token_responses,
            "refuse_where": self.refuse_where,
            "tenant_id": self.tenant_id,
            "lose_write_answers": self.lose_write_answers,
            "lost_write_answer_rate": self.lost_write_answer_rate,
            "lost_answer": self.lost_answer,
            "search_lag_s": self.search_lag_s,
        }


@dataclass
class Stats:
    requests: dict[str, int] = field(default_factory=dict)
    max_concurrent: dict[str, int] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    token_refreshes: dict[str, int] = field(default_factory=dict)
    token_requests: int = 0
    api_requests: int = 0
    # 429s for the app-wide minute (10,000 calls across every organisation).
    app_minute_breaches: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "max_concurrent": self.max_concurrent,
            "rate_limited": self.rate_limited,
            "token_refreshes": self.token_refreshes,
            "token_requests": self.token_requests,
            "api_requests": self.api_requests,
            "app_minute_breaches": self.app_minute_breaches,
        }


@dataclass
class IdempotentAnswer:
    fingerprint: str
    status: int
    body: bytes
    expires: float


class IdempotencyMemory:
    """The first answer under each Idempotency-Key, until it expires.

    Every answer lives as long (one TTL), so answers expire in the order they were
    remembered: the expired ones are always at the front, and forgetting them costs
    nothing per request (a scan of every key per request, once 10,000 were remembered,
    slowed the sandbox down as a long benchmark went on)."""

    def __init__(self) -> None:
        self._answers: OrderedDict[tuple[str, str, str], IdempotentAnswer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def recall(self, slot: tuple[str, str, str], now: float) -> IdempotentAnswer | None:
        answer = self._answers.get(slot)
        return answer if answer is not None and answer.expires > now else None

    def remember(self, slot: tuple[str, str, str], answer: IdempotentAnswer, now: float) -> None:
        self._answers[slot] = answer
        self._answers.move_to_end(slot)
        while self._answers:
            oldest = next(iter(self._answers.values()))
            if oldest.expires > now:
                break
            self._answers.popitem(last=False)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Sandbox:
    def __init__(self, clock: Clock, sign: Signer, redirect_uris: list[str],
                 received_kept: int = 200) -> None:
        self.clock = clock
        self.sign = sign
        self.redirect_uris = redirect_uris
        self.received_kept = received_kept
        self.reset()

    # --- state -------------------------------------------------------------------------

    def reset(self) -> None:
        self.clock.reset()
        self.orgs: dict[str, Organisation] = {}
        self.users: dict[str, User] = {}
        self.clients: dict[str, Client] = {}
        self.grants: dict[str, Grant] = {}
        self.connections: dict[str, Connection] = {}
        # (email, client_id, tenant_id) -> connection: every API call looks one up.
        self._connection_index: dict[tuple[str, str, str], Connection] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.codes: dict[str, AuthCode] = {}
        self.pending: dict[str, PendingAuthorization] = {}
        self.journals: dict[str, dict[str, ManualJournal]] = {}
        self.limits = Limits()
        self.budgets: dict[tuple[str, str], TenantBudget] = {}
        self.app_windows: dict[str, Window] = {}
        self.faults = Faults()
        self.stats = Stats()
        self.idempotency = IdempotencyMemory()
        # The latest request bodies the Accounting API received: {method, path, body}.
        self.received: deque[dict[str, Any]] = deque(maxlen=self.received_kept)
        self._seed()

    def _seed(self) -> None:
        self.upsert_client(DEFAULT_CLIENT[0], DEFAULT_CLIENT[1], self.redirect_uris)
        demo = self.create_org("Demo Rentals (US)", "us-rental")
        north = self.create_org("Northwind Rentals (US)", "us-rental")
        kiwi = self.create_org("Kiwi Hire (NZ)", "gst")
        locked = self.create_org("Harbour Hire (Locked)", "locked")
        albion = self.create_org("Albion Hire (UK)", "uk-vat")
        outback = self.create_org("Outback Hire (AU)", "au-gst")
        today = self.clock.now().date()
        locked.period_lock_date = today - timedelta(days=today.day)  # end of last month
        locked.end_of_year_lock_date = date(today.year - 1, 12, 31)
        self.add_user("demo@example.com", "demo-password", [demo.tenant_id])
        self.add_user("multi@example.com", "multi-password", [north.tenant_id, kiwi.tenant_id])
        self.add_user("locked@example.com", "locked-password", [locked.tenant_id])
        self.add_user("nz@example.com", "nz-password", [kiwi.tenant_id])
        self.add_user("uk@example.com", "uk-password", [albion.tenant_id])
        self.add_user("au@example.com", "au-password", [outback.tenant_id])

    def create_org(self, name: str, template: str, users: list[str] | None = None) -> Organisation:
        org = Organisation.from_template(name, template, self.clock.now())
        self.orgs[org.tenant_id] = org
        self.journals[org.tenant_id] = {}
        for email in users or []:
            user = self.users.get(email.lower())
            if user is None:
                raise KeyError(f"unknown user {email!r}")
            user.tenant_ids.append(org.tenant_id)
        return org

    def add_user(self, email: str, password: str, tenant_ids: list[str]) -> User:
        unknown = [t for t in tenant_ids if t not in self.orgs]
        if unknown:
            raise KeyError(f"unknown tenant_ids {unknown}")
        user = User(email.lower(), password, list(tenant_ids))
        self.users[user.email] = user
        return user

    def upsert_client(self, client_id: str, secret: str, redirect_uris: list[str]) -> Client:
        client = Client(client_id, secret, list(redirect_uris))
        self.clients[client_id] = client
        return client

    def user(self, email: str) -> User | None:
        return self.users.get(email.strip().lower())

    # --- authorization -----------------------------------------------------------------

    def login(self, email: str, password: str) -> User | None:
        user = self.user(email)
        if user is None or not secrets.compare_digest(user.password, password):
            return None
        return user

    def grant(self, email: str, client_id: str, scopes: list[str], tenant_ids: list[str]) -> Grant:
        """The user allows the app: a new authorization event and its connections."""
        now = self.clock.now()
        grant = Grant(new_id(), email, client_id, list(scopes), now)
        self.grants[grant.grant_id] = grant
        for tenant_id in tenant_ids:
            existing = self._connection(email, client_id, tenant_id)
            if existing:
                existing.auth_event_id, existing.updated = grant.grant_id, now
            else:
                conn = Connection(new_id(), tenant_id, email, client_id, grant.grant_id, now, now)
                self.connections[conn.id] = conn
                self._connection_index[(email, client_id, tenant_id)] = conn
        return grant

    def _connection(self, email: str, client_id: str, tenant_id: str) -> Connection | None:
        return self._connection_index.get((email, client_id, tenant_id))

    def remove_connection(self, connection_id: str) -> None:
        conn = self.connections.pop(connection_id, None)
        if conn is not None:
            self._connection_index.pop((conn.email, conn.client_id, conn.tenant_id), None)

    def connections_of(self, grant: Grant) -> list[Connection]:
        return [
            c
            for c in self.connections.values()
            if c.email == grant.email and c.client_id == grant.client_id
        ]

    def may_reach(self, grant: Grant, tenant_id: str) -> bool:
        return (
            not grant.revoked
            and self._connection(grant.email, grant.client_id, tenant_id) is not None
            and tenant_id in self.orgs
        )

    def issue_code(
        self, grant: Grant, redirect_uri: str, challenge: str | None, nonce: str | None = None
    ) -> str:
        code = secrets.token_urlsafe(32)
        expires = self.clock.now() + timedelta(seconds=CODE_S)
        self.codes[code] = AuthCode(
            code, grant.grant_id, grant.client_id, redirect_uri, challenge, expires, nonce
        )
        return code

    def authenticate_client(self, client_id: str | None, secret: str | None) -> Client:
        client = self.clients.get(client_id or "")
        if client is None:
            raise OAuthError("invalid_client")
        if secret is not None and not secrets.compare_digest(client.client_secret, secret):
            raise OAuthError("invalid_client")
        return client

    def exchange_code(
        self,
        client: Client,
        secret_given: bool,
        code: str,
        redirect_uri: str | None,
        verifier: str | None,
    ) -> dict[str, Any]:
        record = self.codes.pop(code, None)  # single use, even when the exchange fails
        if record is None or record.client_id != client.client_id:
            raise OAuthError("invalid_grant")
        if record.expires <= self.clock.now() or record.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant")
        if record.code_challenge is not None:
            if not verifier or s256(verifier) != record.code_challenge:
                raise OAuthError("invalid_grant")
        elif not secret_given:
            raise OAuthError("invalid_client")
        grant = self.grants.get(record.grant_id)
        if grant is None or grant.revoked:
            raise OAuthError("invalid_grant")
        return self.token_set(grant, nonce=record.nonce)

    def token_set(self, grant: Grant, nonce: str | None = None) -> dict[str, Any]:
        now = self.clock.now()
        iat = int(now.timestamp())
        user = self.users.get(grant.email)
        claims = {
            "iss": "https://identity.xero.com",
            "nbf": iat,
            "iat": iat,
            "exp": iat + ACCESS_TOKEN_S,
            "aud": "https://identity.xero.com/resources",
            "client_id": grant.client_id,
            "sub": user.user_id if user else grant.email,
            "xero_userid": user.user_id if user else grant.email,
            "authentication_event_id": grant.grant_id,
            "jti": new_id(),
            "scope": grant.scopes,
        }
        answer: dict[str, Any] = {
            "access_token": self.sign(claims),
            "expires_in": ACCESS_TOKEN_S,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if "openid" in grant.scopes:
            answer["id_token"] = self.sign(
                {
                    "iss": claims["iss"],
                    "aud": grant.client_id,
                    "sub": claims["sub"],
                    "iat": iat,
                    "exp": iat + 300,
                    "email": grant.email,
                    "nonce": nonce,
                }
            )
        if "offline_access" in grant.scopes:
            token = secrets.token_urlsafe(48)
            self.refresh_tokens[token] = RefreshToken(token, grant.grant_id, grant.client_id, now)
            answer["refresh_token"] = token
        return answer

    def refresh(self, client: Client, token: str) -> dict[str, Any]:
        """Rotation with Xero's 30-minute grace: a reuse of the old token within 30 minutes
        of its first use answers the same new token set (so a lost answer is recoverable)."""
        record = self.refresh_tokens.get(token)
        now = self.clock.now()
        if record is None or record.client_id != client.client_id:
            raise OAuthError("invalid_grant")
        grant = self.grants.get(record.grant_id)
        if grant is None or grant.revoked:
            raise OAuthError("invalid_grant")
        if record.first_used is None:
            if now - record.issued > REFRESH_UNUSED:
                raise OAuthError("invalid_grant")
            record.first_used = now
            record.successor = self.token_set(grant)
        elif now - record.first_used > REFRESH_GRACE or record.successor is None:
            raise OAuthError("invalid_grant")
        else:
            # Same refresh token as the first answer, with a fresh access token.
            replay = self.token_set(grant)
            self.refresh_tokens.pop(str(replay.get("refresh_token")), None)
            replay["refresh_token"] = record.successor["refresh_token"]
            record.successor = replay
        self.stats.token_refreshes[grant.grant_id] = (
            self.stats.token_refreshes.get(grant.grant_id, 0) + 1
        )
        return dict(record.successor)

    def revoke_refresh_token(self, client: Client, token: str) -> None:
        record = self.refresh_tokens.get(token)
        if record is None or record.client_id != client.client_id:
            return  # RFC 7009: unknown tokens are not an error
        grant = self.grants.get(record.grant_id)
        if grant is not None:
            self._revoke(grant.email, grant.client_id)

    def revoke_user(self, email: str) -> None:
        self._revoke(email.lower(), None)

    def _revoke(self, email: str, client_id: str | None) -> None:
        for grant in self.grants.values():
            if grant.email == email and client_id in (None, grant.client_id):
                grant.revoked = True
        for conn_id, conn in list(self.connections.items()):
            if conn.email == email and client_id in (None, conn.client_id):
                self.remove_connection(conn_id)

    # --- rate-limit bookkeeping --------------------------------------------------------

    def budget(self, client_id: str, tenant_id: str) -> TenantBudget:
        key = (client_id, tenant_id)
        budget = self.budgets.get(key)
        if budget is None:
            budget = self.budgets[key] = TenantBudget()
        return budget

    def app_window(self, client_id: str) -> Window:
        window = self.app_windows.get(client_id)
        if window is None:
            window = self.app_windows[client_id] = Window(60.0)
        return window
