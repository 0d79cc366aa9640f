"""`glbridge doctor`: what stands between this installation and posting to Xero, each
check with a fix. Run before go-live and whenever something looks wrong."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import httpx
from pydantic import ValidationError

from services.auth.settings import AuthSettings
from services.posting.domain.chart import Chart, chart_from_xero, check_line
from services.totals.domain.codes import TagError, expand_code
from shared.contracts.events import JournalLine
from shared.settings import ServiceSettings, XeroSettings, missing_scopes

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Check:
    area: str
    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Places:
    """Where the doctor finds the system (the services' own settings)."""

    service: ServiceSettings
    auth: AuthSettings
    auth_url: str
    totals_url: str
    posting_url: str


async def examine(places: Places) -> list[Check]:
    checks, xero = configuration(places)
    checks += await infrastructure(places)
    checks += await services(places)
    if xero is not None:
        checks += await organisations(places, xero)
    return checks


# --- configuration ---------------------------------------------------------------------


def configuration(places: Places) -> tuple[list[Check], XeroSettings | None]:
    checks: list[Check] = []
    try:
        xero: XeroSettings | None = XeroSettings()
    except ValidationError as exc:
        xero = None
        for error in exc.errors():
            for reason in str(error["msg"]).removeprefix("Value error, ").removeprefix(
                    "Xero configuration cannot work: ").split("; "):
                checks.append(Check("configuration", "Xero settings", False, reason,
                                    "set the XERO_* variables as the detail says"))
    if xero is not None:
        checks.append(Check(
            "configuration", "Xero settings", True,
            f"XERO_ENV={xero.env}, scopes: {xero.scopes}"))
    checks.append(redirect_uri(places.auth, xero))
    checks += security_defaults(places)
    return checks, xero


def redirect_uri(auth: AuthSettings, xero: XeroSettings | None) -> Check:
    """The OAuth redirect URI: registered in the Xero app exactly as it is here; Xero
    takes https, or http only for localhost (developer.xero.com "oauth2/auth-flow")."""
    uri = auth.callback_url
    host = urlsplit(uri).hostname or ""
    local = host in ("localhost", "127.0.0.1")
    if xero is not None and not xero.is_sandbox and not uri.startswith("https://") \
            and not local:
        return Check("configuration", "redirect URI", False,
                     f"{uri} is not https: Xero accepts http only for localhost",
                     "put auth behind a TLS reverse proxy and set AUTH_PUBLIC_URL to its "
                     "https address (docs/deploy.md)")
    return Check("configuration", "redirect URI", True,
                 f"register exactly {uri} in the Xero app's redirect URIs")


def security_defaults(places: Places) -> list[Check]:
    """Settings still holding a publicly known development value (shared/security.py's
    `insecure_defaults`, where present)."""
    try:
        from shared.security import insecure_defaults
    except ImportError:
        return [Check("configuration", "security defaults", True,
                      "not checked: this version has no shared.security")]
    found = insecure_defaults(places.service, places.auth.encryption_keys)
    if not found:
        return [Check("configuration", "security defaults", True,
                      "no setting holds a development value")]
    return [Check("configuration", "security defaults", False,
                  f"development values in: {', '.join(found)}",
                  "give each its own random value (docs/deploy.md, secrets)")]


# --- database, broker, services --------------------------------------------------------


async def infrastructure(places: Places) -> list[Check]:
    return [
        await _probe("infrastructure", "PostgreSQL", _database(places.service.database_url),
                     "start PostgreSQL, or correct DATABASE_URL"),
        await _probe("infrastructure", "RabbitMQ", _broker(places.service.amqp_url),
                     "start RabbitMQ, or correct AMQP_URL"),
    ]


async def _database(url: str) -> str:
    conn = await asyncpg.connect(url, timeout=TIMEOUT_S)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


async def _broker(url: str) -> str:
    connection = await aio_pika.connect(url, timeout=TIMEOUT_S)
    await connection.close()
    return "connected"


async def services(places: Places) -> list[Check]:
    checks = []
    for name, url in (("auth", places.auth_url), ("totals", places.totals_url),
                      ("posting", places.posting_url)):
        checks.append(await _probe("services", f"{name} ready", _ready(f"{url}/readyz"),
                                   f"start {name} (glbridge up), or correct its URL"))
    checks.append(await _probe(
        "services", "public URL", _ready(f"{places.auth.public_url.rstrip('/')}/healthz"),
        "AUTH_PUBLIC_URL must reach auth from where doctor runs too: check the proxy and DNS"))
    return checks


async def _ready(url: str) -> str:
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        answer = await client.get(url)
    if answer.status_code != 200:
        raise RuntimeError(f"{url} answered {answer.status_code}")
    return url


async def _probe(area: str, name: str, work: Awaitable[str], fix: str) -> Check:
    try:
        return Check(area, name, True, await work)
    except Exception as exc:  # every failure is a line of the report, never a crash
        return Check(area, name, False, f"{type(exc).__name__}: {exc}"[:300], fix)


# --- each connected organisation -------------------------------------------------------


async def organisations(places: Places, xero: XeroSettings) -> list[Check]:
    try:
        connections, setups = await _connections_and_setups(places.service.database_url)
    except Exception as exc:
        return [Check("organisations", "connections", False, f"{type(exc).__name__}: {exc}",
                      "run glbridge migrate, then check PostgreSQL")]
    if not connections:
        return [Check("organisations", "connections", True, "no store is connected yet")]
    checks = []
    for row in connections:
        stores = [s for s in setups if s["connection_id"] == row["id"]]
        checks += await _organisation(places, xero, row, stores)
    return checks


async def _connections_and_setups(database_url: str) -> tuple[list[Any], list[Any]]:
    conn = await asyncpg.connect(database_url, timeout=TIMEOUT_S)
    try:
        connections = await conn.fetch(
            "SELECT id, store_id, tenant_id, tenant_name, status, scope"
            " FROM auth.connections WHERE status IN ('active', 'needs-reauth')"
            " ORDER BY tenant_name, store_id")
        setups = await conn.fetch(
            "SELECT store_id, connection_id, tenant_id, setup FROM totals.setups")
        return list(connections), list(setups)
    finally:
        await conn.close()


async def _organisation(places: Places, xero: XeroSettings, row: Any,
                        stores: list[Any]) -> list[Check]:
    area = f"{row['tenant_name']} (store {row['store_id']})"
    missing = missing_scopes(str(row["scope"] or "").split())
    checks = [Check(area, "scopes granted", not missing,
                    f"missing: {', '.join(missing)}" if missing else str(row["scope"]),
                    "add them to XERO_SCOPES, then connect the store again" if missing else "")]
    token = await _token(places, row["id"])
    if isinstance(token, Check):
        return [*checks, Check(area, token.name, False, token.detail, token.fix)]
    checks.append(Check(area, "token refresh", True, "auth hands out a working token"))
    async with httpx.AsyncClient(timeout=xero.timeout_s, base_url=xero.api_url) as client:
        headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": str(row["tenant_id"]),
                   "Accept": "application/json"}
        role = await _role(client, headers, area)
        checks.append(role)
        if role.name == "connection":
            return checks
        organisation, accounts = await _read(client, headers)
    if isinstance(organisation, str) or isinstance(accounts, str):
        reason = organisation if isinstance(organisation, str) else str(accounts)
        return [*checks, Check(area, "organisation", False, reason,
                               "check the connection's scopes and Xero's status")]
    chart = chart_from_xero(accounts, organisation)
    checks.append(_currency(area, organisation, stores))
    checks.append(Check(area, "lock dates", True,
                        f"period {chart.period_lock_date or 'none'}, end of year "
                        f"{chart.end_of_year_lock_date or 'none'}"))
    for store in stores:
        checks += _account_numbers(area, store, chart)
    return checks


async def _token(places: Places, connection_id: Any) -> str | Check:
    url = f"{places.auth_url}/internal/v1/connections/{connection_id}/access-token"
    # The credential posting presents for access tokens.
    secret = places.service.posting_service_token.get_secret_value()
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            answer = await client.post(url, headers={"Authorization": f"Bearer {secret}"})
    except httpx.HTTPError as exc:
        return Check("", "token refresh", False, f"auth unreachable: {exc!r}",
                     "start auth (glbridge up)")
    if answer.status_code == 200:
        return str(answer.json()["access_token"])
    fix = ("connect the store to Xero again from Account Numbers setup"
           if answer.status_code in (404, 409) else "look at auth's log; try again later")
    return Check("", "token refresh", False, f"auth answered {answer.status_code}: "
                 f"{answer.text[:200]}", fix)


async def _role(client: httpx.AsyncClient, headers: dict[str, str], area: str) -> Check:
    """May the connected user post manual journals? An empty PUT creates nothing: Xero
    refuses it as invalid (400) to a user who may, with 403 to one who may not."""
    answer = await client.put("/ManualJournals", headers=headers, json={"ManualJournals": []})
    if answer.status_code == 401 or "AuthenticationUnsuccessful" in answer.text:
        return Check(area, "connection", False,
                     f"Xero refused the connection ({answer.status_code}): access revoked or "
                     "the organisation disconnected",
                     "connect the store to Xero again from Account Numbers setup")
    if answer.status_code == 403:
        return Check(area, "may post manual journals", False,
                     f"Xero answered 403 ({answer.text[:120]})",
                     "ask the organisation's Xero admin for the Adviser role, or Standard "
                     "with All Reports, for the user who connected (or check the scopes)")
    return Check(area, "may post manual journals", True, f"Xero answered {answer.status_code}")


async def _read(client: httpx.AsyncClient, headers: dict[str, str]
                ) -> tuple[dict[str, Any] | str, list[Any] | str]:
    org = await client.get("/Organisation", headers=headers)
    accounts = await client.get("/Accounts", headers=headers)
    if org.status_code != 200:
        return f"GET /Organisation answered {org.status_code}", []
    if accounts.status_code != 200:
        return {}, f"GET /Accounts answered {accounts.status_code}"
    organisation = (json.loads(org.text, parse_float=Decimal).get("Organisations") or [{}])[0]
    return organisation, list(json.loads(accounts.text, parse_float=Decimal).get("Accounts")
                              or [])


def _currency(area: str, organisation: dict[str, Any], stores: list[Any]) -> Check:
    base = str(organisation.get("BaseCurrency") or "")
    wrong = [s["store_id"] for s in stores if _setup(s).get("currency", "USD") != base]
    if wrong:
        return Check(area, "base currency", False,
                     f"the organisation's base currency is {base}; store(s) "
                     f"{', '.join(wrong)} are set up in another",
                     "correct the currency in those stores' Account Numbers setup")
    return Check(area, "base currency", True, base)


def _account_numbers(area: str, store: Any, chart: Chart) -> list[Check]:
    setup = _setup(store)
    problems = []
    for category, template in sorted(setup.get("accounts", {}).items()):
        try:
            code = expand_code(template, store["store_id"], setup.get("store_class"))
        except TagError as exc:
            problems.append(f"{category}: {exc}")
            continue
        error = check_line(JournalLine(category=category, account_code=code,
                                       amount=Decimal("0.01")), chart)
        if error is not None:
            problems.append(error.message)
    name = f"store {store['store_id']} Account Numbers"
    if problems:
        return [Check(area, name, False, problem,
                      "change the entry in Account Numbers setup, or the account in Xero")
                for problem in problems]
    return [Check(area, name, True, f"{len(setup.get('accounts', {}))} codes resolve")]


def _setup(store: Any) -> dict[str, Any]:
    raw = store["setup"]
    return dict(json.loads(raw) if isinstance(raw, str) else raw)


def run(places: Places, show: Callable[[list[Check]], None]) -> bool:
    checks = asyncio.run(examine(places))
    show(checks)
    return all(check.ok for check in checks)


def as_json(checks: list[Check]) -> str:
    return json.dumps({"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]},
                      indent=2)
