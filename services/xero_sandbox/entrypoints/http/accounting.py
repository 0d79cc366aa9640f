"""Xero's Accounting API subset: Accounts, Organisation, ManualJournals."""

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.routing import Route

from services.xero_sandbox.domain.journals import Checked, check_journal, lock_message
from services.xero_sandbox.domain.limits import TenantBudget, Window, admit
from services.xero_sandbox.domain.model import Grant, ManualJournal, Organisation, new_id
from services.xero_sandbox.domain.state import (
    READ_JOURNALS,
    READ_SETTINGS,
    WRITE_JOURNALS,
    WRITE_SETTINGS,
    IdempotentAnswer,
    Sandbox,
)
from services.xero_sandbox.domain.views import (
    account_view,
    as_submitted,
    envelope,
    journal_view,
    organisation_view,
    tax_rate_view,
    tracking_category_view,
)
from services.xero_sandbox.domain.where import SYNTAX_ERROR, QueryError, compile_where
from services.xero_sandbox.domain.xerodate import ms_date
from services.xero_sandbox.entrypoints.http.common import (
    JSON_TYPE,
    dump_json,
    json_response,
    not_found,
    problem,
    sandbox_of,
    validation_exception,
)
from services.xero_sandbox.entrypoints.http.faults import apply_faults, lose_after_commit
from services.xero_sandbox.entrypoints.http.identity import bearer_grant
from services.xero_sandbox.entrypoints.http.xml import as_xml, wants_json

PREFIX = "/api.xro/2.0"

ZERO_ID = "00000000-0000-0000-0000-000000000000"
PAGE_SIZE = 100
Handler = Callable[["Call"], Awaitable[Response]]

ACCOUNT_FIELDS: dict[str, Callable[[Any], str]] = {
    "Status": lambda a: a.status,
    "Type": lambda a: a.type,
    "Code": lambda a: a.code,
    "Name": lambda a: a.name,
    "Class": lambda a: a.account_class,
    "TaxType": lambda a: a.tax_type,
    "SystemAccount": lambda a: a.system_account,
    "AccountID": lambda a: a.account_id,
}
TAX_RATE_FIELDS: dict[str, Callable[[Any], str]] = {
    "TaxType": lambda r: r.tax_type,
    "Name": lambda r: r.name,
    "Status": lambda r: r.status,
}
TRACKING_FIELDS: dict[str, Callable[[Any], str]] = {
    "Name": lambda c: c.name,
    "Status": lambda c: c.status,
}
JOURNAL_FIELDS: dict[str, Callable[[Any], str]] = {
    "Narration": lambda j: j.narration,
    "Status": lambda j: j.status,
    "ManualJournalID": lambda j: j.journal_id,
    "LineAmountTypes": lambda j: j.line_amount_types,
}


class Call:
    """One admitted API call: who, which organisation, and the request."""

    def __init__(self, request: Request, sandbox: Sandbox, grant: Grant, org: Organisation):
        self.request, self.sandbox, self.grant, self.org = request, sandbox, grant, org
        self.checked_body = False

    @property
    def adviser(self) -> bool:
        user = self.sandbox.user(self.grant.email)
        return user is not None and user.is_adviser


async def _api(request: Request, scopes: frozenset[str], handler: Handler) -> Response:
    """Xero's gatekeeping for every Accounting call: token, tenant, scope, limits, faults."""
    sandbox = sandbox_of(request)
    sandbox.stats.api_requests += 1
    grant, refused = bearer_grant(request, sandbox)
    if grant is None:
        return refused or not_found()
    tenant_id = request.headers.get("xero-tenant-id", "")
    if not sandbox.may_reach(grant, tenant_id):
        return problem(403, "Forbidden", "AuthenticationUnsuccessful")
    if scopes.isdisjoint(grant.scopes):
        # A token without the scope (XeroAPI/xero-mcp-server#209).
        return problem(403, "Forbidden", "AuthorizationUnsuccessful")
    if scopes is WRITE_JOURNALS and not _may_post_journals(sandbox, grant):
        # The user's role may not post manual journals (help.xero.com "Manual journals").
        return problem(403, "Forbidden", "AuthorizationUnsuccessful")
    budget = sandbox.budget(grant.client_id, tenant_id)
    headers, refused = _admit(sandbox, grant, tenant_id, budget)
    if refused is not None:
        return refused
    try:
        answer = await apply_faults(request, sandbox, tenant_id)
        if answer is None:
            answer = await handler(Call(request, sandbox, grant, sandbox.orgs[tenant_id]))
            answer = await lose_after_commit(request, sandbox, tenant_id, answer)
    finally:
        budget.in_flight -= 1
    answer.headers.update(headers)
    if not wants_json(request.headers.get("accept")) and answer.media_type == JSON_TYPE:
        return as_xml(answer)
    return answer


def _may_post_journals(sandbox: Sandbox, grant: Grant) -> bool:
    user = sandbox.user(grant.email)
    return user is None or user.may_post_journals


def _admit(
    sandbox: Sandbox, grant: Grant, tenant_id: str, budget: TenantBudget
) -> tuple[dict[str, str], Response | None]:
    """Counts the call against Xero's limits: the limit headers, and a 429 when refused."""
    stats = sandbox.stats
    stats.requests[tenant_id] = stats.requests.get(tenant_id, 0) + 1
    app = sandbox.app_window(grant.client_id)
    decision = admit(sandbox.limits, budget, app, sandbox.clock.timestamp())
    headers = {
        "X-MinLimit-Remaining": str(decision.min_remaining),
        "X-DayLimit-Remaining": str(decision.day_remaining),
        "X-AppMinLimit-Remaining": str(decision.app_remaining),
        "Xero-Correlation-Id": str(uuid.uuid4()),
    }
    problem_name, retry_after = decision.problem, decision.retry_after
    if problem_name is None and sandbox.faults.force_429 > 0:
        if sandbox.faults.applies_to(tenant_id):
            sandbox.faults.force_429 -= 1
            budget.in_flight -= 1
            problem_name = sandbox.faults.force_429_problem
            retry_after = _forced_retry_after(problem_name, budget, app, sandbox.clock.timestamp())
    if problem_name is not None:
        stats.rate_limited[tenant_id] = stats.rate_limited.get(tenant_id, 0) + 1
        stats.app_minute_breaches += problem_name == "appminute"
        return headers, _too_many(problem_name, retry_after, headers)
    if budget.in_flight > stats.max_concurrent.get(tenant_id, 0):
        stats.max_concurrent[tenant_id] = budget.in_flight
    return headers, None


def _forced_retry_after(
    problem_name: str, budget: TenantBudget, app: Window, now: float
) -> int | None:
    """What a real breach of that limit would answer: the seconds left in its window."""
    window = {"minute": budget.minute, "day": budget.day, "appminute": app}.get(problem_name)
    return None if window is None else window.retry_after(now)


def _too_many(problem_name: str, retry_after: int | None, headers: dict[str, str]) -> Response:
    headers = {**headers, "X-Rate-Limit-Problem": problem_name}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body: dict[str, Any] = {
        "Type": None,
        "Title": "Too Many Requests",
        "Status": 429,
        "Detail": f"Rate limit exceeded: {problem_name}",
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return json_response(body, 429, headers)


def _ok(
    call: Call,
    key: str,
    items: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> Response:
    body = envelope(key, items, call.sandbox.clock.now(), str(uuid.uuid4()))
    if extra:
        body.update(extra)
    return json_response(body)


def _query_error(message: str) -> Response:
    body = {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}
    return json_response(body, 400)


def _modified_since(request: Request) -> datetime | None:
    raw = request.headers.get("if-modified-since")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return (
            moment if moment.tzinfo else moment.replace(tzinfo=datetime.now().astimezone().tzinfo)
        )


# --- Accounts and Organisation ----------------------------------------------------------


async def get_accounts(request: Request) -> Response:
    return await _api(request, READ_SETTINGS, _accounts)


async def _accounts(call: Call) -> Response:
    params = call.request.query_params
    where, order = params.get("where"), params.get("order")
    since = _modified_since(call.request)
    key = (call.org.tenant_id, call.org.version, where, order)
    cached = None if since else _ACCOUNTS_CACHE.get(key)
    if cached is None:
        accounts = list(call.org.accounts.values())
        if where:
            try:
                accounts = list(filter(compile_where(where, ACCOUNT_FIELDS, "Account"), accounts))
            except QueryError as exc:
                return _query_error(str(exc))
        if since is not None:
            accounts = [a for a in accounts if a.updated is None or a.updated > since]
        if order:
            _order(accounts, order)
        cached = dump_json([account_view(a) for a in accounts])
        if since is None:
            if len(_ACCOUNTS_CACHE) > 1000:
                _ACCOUNTS_CACHE.clear()
            _ACCOUNTS_CACHE[key] = cached
    return _ok_raw(call, "Accounts", cached)


# Rendered account lists by (tenant, chart version, where, order): GET /Accounts is the
# hottest read and the chart rarely changes.
_ACCOUNTS_CACHE: dict[tuple[str, int, str | None, str | None], bytes] = {}


def _order(accounts: list[Any], order: str) -> None:
    name = order.split()[0]
    getter = next((g for k, g in ACCOUNT_FIELDS.items() if k.lower() == name.lower()), None)
    if getter is not None:
        accounts.sort(key=getter, reverse=order.strip().upper().endswith("DESC"))


def _ok_raw(call: Call, key: str, items: bytes) -> Response:
    head = envelope(key, [], call.sandbox.clock.now(), str(uuid.uuid4()))
    del head[key]
    text = dump_json(head)
    body = b"".join((text[:-1], b',"', key.encode(), b'":', items, b"}"))
    return Response(body, 200, media_type=JSON_TYPE)


async def get_account(request: Request) -> Response:
    account_id = request.path_params["account_id"]

    async def one(call: Call) -> Response:
        for account in call.org.accounts.values():
            if account.account_id == account_id:
                return _ok(call, "Accounts", [account_view(account)])
        return not_found()

    return await _api(request, READ_SETTINGS, one)


async def get_organisation(request: Request) -> Response:
    async def one(call: Call) -> Response:
        return _ok(call, "Organisations", [organisation_view(call.org)])

    return await _api(request, READ_SETTINGS, one)


async def get_tax_rates(request: Request) -> Response:
    """`GET /TaxRates` (developer.xero.com api/accounting/taxrates), `where` and `order`."""

    async def rates(call: Call) -> Response:
        found = list(call.org.tax_rates.values())
        where = call.request.query_params.get("where")
        if where:
            try:
                found = list(filter(compile_where(where, TAX_RATE_FIELDS, "TaxRate"), found))
            except QueryError as exc:
                return _query_error(str(exc))
        return _ok(call, "TaxRates", [tax_rate_view(r) for r in found])

    return await _api(request, READ_SETTINGS, rates)


async def get_tracking_categories(request: Request) -> Response:
    """`GET /TrackingCategories` (developer.xero.com api/accounting/trackingcategories):
    active categories and options; archived ones too with `includeArchived=true`."""

    async def categories(call: Call) -> Response:
        params = call.request.query_params
        archived = params.get("includeArchived", "false").lower() == "true"
        found = [c for c in call.org.tracking if archived or c.status == "ACTIVE"]
        where = params.get("where")
        if where:
            try:
                found = list(filter(compile_where(where, TRACKING_FIELDS, "TrackingCategory"),
                                    found))
            except QueryError as exc:
                return _query_error(str(exc))
        return _ok(call, "TrackingCategories",
                   [tracking_category_view(c, archived) for c in found])

    return await _api(request, READ_SETTINGS, categories)


async def put_tracking_option(request: Request) -> Response:
    """`PUT /TrackingCategories/{TrackingCategoryID}/Options` (spec createTrackingOptions,
    scope accounting.settings): adds an active option. A name already used is refused
    with Xero's words (calcinai/xero-php#920)."""
    category_id = request.path_params["category_id"]

    async def create(call: Call) -> Response:
        from services.xero_sandbox.domain.model import TrackingOption

        category = next((c for c in call.org.tracking if c.category_id == category_id), None)
        if category is None:
            return not_found()
        try:
            body = json.loads(await call.request.body() or b"null")
        except (ValueError, UnicodeDecodeError):
            return _bad_request("The request body is not valid JSON")
        name = body.get("Name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            return _bad_request("A tracking option needs a Name of 1 to 100 characters")
        if category.option(name) is not None:
            return _bad_request("For each specified tracking option the name must be unique.")
        option = TrackingOption(name.strip())
        category.options.append(option)
        return _ok(call, "Options", [{"TrackingOptionID": option.option_id,
                                      "Name": option.name, "Status": option.status}])

    return await _api(request, WRITE_SETTINGS, _idempotent(create))


# --- ManualJournals: reading -------------------------------------------------------------


async def get_journals(request: Request) -> Response:
    return await _api(request, READ_JOURNALS, _journals)


async def _journals(call: Call) -> Response:
    journals = _searchable(call, list(call.sandbox.journals[call.org.tenant_id].values()))
    params = call.request.query_params
    where = params.get("where")
    faults = call.sandbox.faults
    if where and faults.refuse_where > 0 and faults.applies_to(call.org.tenant_id):
        faults.refuse_where -= 1
        return _query_error(SYNTAX_ERROR)
    if where:
        try:
            journals = list(filter(compile_where(where, JOURNAL_FIELDS, "ManualJournal"), journals))
        except QueryError as exc:
            return _query_error(str(exc))
    since = _modified_since(call.request)
    if since is not None:
        journals = [j for j in journals if j.updated > since]
    page = params.get("page")
    if page is None:
        # Xero leaves the lines out of an unpaged list.
        return _ok(call, "ManualJournals", [journal_view(j, with_lines=False) for j in journals])
    try:
        number = max(int(page), 1)
    except ValueError:
        return _query_error(f"Invalid page number '{page}'")
    total = len(journals)
    chunk = journals[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    pagination = {
        "page": number,
        "pageSize": PAGE_SIZE,
        "pageCount": (total + PAGE_SIZE - 1) // PAGE_SIZE,
        "itemCount": total,
    }
    return _ok(call, "ManualJournals", [journal_view(j) for j in chunk], {"pagination": pagination})


def _searchable(call: Call, journals: list[Any]) -> list[Any]:
    """The `search_lag_s` fault: journals stored too recently are not listed yet."""
    faults = call.sandbox.faults
    if faults.search_lag_s <= 0 or not faults.applies_to(call.org.tenant_id):
        return journals
    cutoff = call.sandbox.clock.now() - timedelta(seconds=faults.search_lag_s)
    return [j for j in journals if j.created <= cutoff]


async def get_journal(request: Request) -> Response:
    journal_id = request.path_params["journal_id"]

    async def one(call: Call) -> Response:
        journal = call.sandbox.journals[call.org.tenant_id].get(journal_id.lower())
        if journal is None:
            return not_found()
        return _ok(call, "ManualJournals", [journal_view(journal)])

    return await _api(request, READ_JOURNALS, one)


# --- ManualJournals: writing -------------------------------------------------------------


async def put_journals(request: Request) -> Response:
    return await _api(request, WRITE_JOURNALS, _idempotent(_create))


async def post_journals(request: Request) -> Response:
    return await _api(request, WRITE_JOURNALS, _idempotent(_create_or_update))


async def post_journal(request: Request) -> Response:
    journal_id = request.path_params["journal_id"]

    async def update(call: Call) -> Response:
        return await _update(call, journal_id.lower())

    return await _api(request, WRITE_JOURNALS, _idempotent(update))


def _idempotent(handler: Handler) -> Handler:
    """Idempotency-Key: the same request again replays the first answer; another request
    under a key already used is refused."""

    async def wrapped(call: Call) -> Response:
        key = call.request.headers.get("idempotency-key")
        if key is None:
            return await handler(call)
        if not key or len(key) > 128:
            return _bad_request("The Idempotency-Key header must be 1 to 128 characters")
        body = await call.request.body()
        fingerprint = hashlib.sha256(
            f"{call.request.method} {call.request.url.path}?{call.request.url.query}".encode()
            + b"\n"
            + body
        ).hexdigest()
        store, now = call.sandbox.idempotency, call.sandbox.clock.timestamp()
        slot = (call.grant.client_id, call.org.tenant_id, key)
        seen = store.recall(slot, now)
        if seen is not None:
            if seen.fingerprint != fingerprint:
                return _bad_request(
                    "The Idempotency-Key has already been used with a different request"
                )
            return Response(
                seen.body,
                seen.status,
                {"Idempotent-Replayed": "true"},
                media_type=JSON_TYPE,
            )
        answer = await handler(call)
        ttl = call.request.app.state.settings.idempotency_ttl_s
        store.remember(slot, IdempotentAnswer(
            fingerprint, answer.status_code, bytes(answer.body), now + ttl
        ), now)
        return answer

    return wrapped


def _bad_request(message: str) -> Response:
    body = {"ErrorNumber": 10, "Type": "ValidationException", "Message": message, "Elements": []}
    return json_response(body, 400)


async def _journal_objects(call: Call) -> list[Any] | Response:
    try:
        payload = json.loads(await call.request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return _bad_request("The request body is not valid JSON")
    if not call.checked_body:  # once per request (POST may read it twice)
        call.checked_body = True
        call.sandbox.received.append(
            {"method": call.request.method, "path": call.request.url.path, "body": payload})
        refused = _against_spec(call, payload)
        if refused is not None:
            return refused
    if isinstance(payload, dict) and "ManualJournals" in payload:
        items = payload["ManualJournals"]
    elif isinstance(payload, dict):
        items = [payload]  # Xero also takes a single journal object
    else:
        items = payload
    if not isinstance(items, list) or not items:
        return _bad_request("The request body must hold one or more ManualJournals")
    return items


def _against_spec(call: Call, payload: Any) -> Response | None:
    """With the spec loaded (SANDBOX_SPEC_DIR): a body the spec's `ManualJournals` request
    schema refuses is answered as Xero answers an invalid body, a ValidationException
    naming each problem."""
    check = call.request.app.state.request_checks.get("ManualJournals")
    if check is None:
        return None
    body = payload if isinstance(payload, dict) and "ManualJournals" in payload \
        else {"ManualJournals": payload if isinstance(payload, list) else [payload]}
    problems = check(body)
    if not problems:
        return None
    return validation_exception([{"ValidationErrors": [{"Message": p} for p in problems[:20]]}])


def _summarize(call: Call) -> bool:
    return call.request.query_params.get("summarizeErrors", "true").lower() != "false"


def _element(checked: Checked, raw: Any, journal_id: str = ZERO_ID) -> dict[str, Any]:
    """A refused journal as Xero echoes it, carrying its ValidationErrors and Warnings."""
    source = raw if isinstance(raw, dict) else {}
    element: dict[str, Any] = {
        "Date": ms_date(checked.date) if checked.date else source.get("Date"),
        "Status": checked.status,
        "LineAmountTypes": checked.line_amount_types,
        "ManualJournalID": journal_id,
        "Narration": checked.narration or source.get("Narration", ""),
        "JournalLines": [
            {
                "Description": ln.description,
                "TaxType": ln.tax_type,
                "TaxAmount": float(ln.tax_amount),
                "LineAmount": float(ln.line_amount),
                "AccountCode": ln.account_code,
                "Tracking": ln.tracking,
                "IsBlank": False,
                "ValidationErrors": [],
            }
            for ln in checked.lines
        ],
        "ShowOnCashBasisReports": checked.show_on_cash_basis,
        "HasAttachments": False,
        "ValidationErrors": [{"Message": m} for m in checked.errors],
    }
    if checked.warnings:
        element["Warnings"] = [{"Message": m} for m in checked.warnings]
    if element["Date"] is None:
        del element["Date"]
    return element


def _stored_view(journal: ManualJournal, summarize: bool) -> dict[str, Any]:
    view = journal_view(journal)
    if journal.warnings:
        view["Warnings"] = [{"Message": m} for m in journal.warnings]
    if not summarize:
        view["StatusAttributeString"] = "WARNING" if journal.warnings else "OK"
    return view


def _store(call: Call, checked: Checked, journal_id: str | None = None) -> ManualJournal:
    now = call.sandbox.clock.now()
    assert checked.date is not None
    journals = call.sandbox.journals[call.org.tenant_id]
    previous = journals.get(journal_id) if journal_id else None
    journal = ManualJournal(
        journal_id or new_id(),
        call.org.tenant_id,
        checked.narration,
        checked.date,
        checked.status,
        checked.line_amount_types,
        checked.lines,
        previous.created if previous else now,
        now,
        checked.show_on_cash_basis,
        checked.url,
        list(checked.warnings),
    )
    journals[journal.journal_id] = journal
    return journal


async def _create(call: Call) -> Response:
    items = await _journal_objects(call)
    if isinstance(items, Response):
        return items
    today = call.sandbox.clock.now().date()
    checked = [check_journal(raw, call.org, today, call.adviser) for raw in items]
    summarize = _summarize(call)
    if summarize and not all(c.ok for c in checked):
        return validation_exception(
            [_element(c, raw) for c, raw in zip(checked, items, strict=True) if not c.ok]
        )
    views = []
    for c, raw in zip(checked, items, strict=True):
        if c.ok:
            views.append(_stored_view(_store(call, c), summarize))
        else:
            element = _element(c, raw)
            element["StatusAttributeString"] = "ERROR"
            views.append(element)
    return _ok(call, "ManualJournals", views)


async def _create_or_update(call: Call) -> Response:
    items = await _journal_objects(call)
    if isinstance(items, Response):
        return items
    if len(items) == 1 and isinstance(items[0], dict) and items[0].get("ManualJournalID"):
        return await _update(call, str(items[0]["ManualJournalID"]).lower(), items[0])
    return await _create(call)


async def _update(call: Call, journal_id: str, raw: Any = None) -> Response:
    journal = call.sandbox.journals[call.org.tenant_id].get(journal_id)
    if journal is None:
        return not_found()
    if raw is None:
        items = await _journal_objects(call)
        if isinstance(items, Response):
            return items
        raw = items[0]
    if not isinstance(raw, dict):
        return _bad_request("A ManualJournal must be a JSON object")
    status = raw.get("Status")
    error = _body_error(raw) or _status_change_error(call.org, journal, status, call.adviser)
    if error is not None:
        return validation_exception(
            [{**journal_view(journal), "ValidationErrors": [{"Message": error}]}]
        )
    if status in ("VOIDED", "DELETED"):
        journal.status, journal.updated = str(status), call.sandbox.clock.now()
        return _ok(call, "ManualJournals", [journal_view(journal)])
    merged = {**as_submitted(journal), **raw}
    checked = check_journal(merged, call.org, call.sandbox.clock.now().date(), call.adviser)
    if not checked.ok:
        return validation_exception([_element(checked, merged, journal.journal_id)])
    return _ok(call, "ManualJournals", [_stored_view(_store(call, checked, journal_id), True)])


def _body_error(raw: dict[str, Any]) -> str | None:
    """Every ManualJournal body needs a Narration, a void's too: the official spec's
    ManualJournal schema lists `Narration` as its one required property
    (xero_accounting.yaml, components/schemas/ManualJournal, `required: [Narration]`)."""
    narration = raw.get("Narration")
    if not isinstance(narration, str) or not narration.strip():
        return "Narration cannot be empty"
    return None


def _status_change_error(
    org: Organisation, journal: ManualJournal, status: Any, adviser: bool
) -> str | None:
    if journal.status in ("VOIDED", "DELETED"):
        return f"This manual journal is {journal.status.lower()} and cannot be changed"
    if status == "VOIDED" and journal.status != "POSTED":
        return "Only a posted manual journal can be voided"
    if status == "DELETED" and journal.status != "DRAFT":
        return "Only a draft manual journal can be deleted; void a posted one"
    if status == "DRAFT" and journal.status == "POSTED":
        return "A posted manual journal cannot be returned to draft"
    if status in ("VOIDED", "DELETED"):
        return lock_message(org, journal.date, adviser)
    return None


# Plain Starlette routes: the hot path skips FastAPI's dependency machinery.
routes = [
    Route(PREFIX + "/Accounts", get_accounts, methods=["GET"]),
    Route(PREFIX + "/Accounts/{account_id}", get_account, methods=["GET"]),
    Route(PREFIX + "/Organisation", get_organisation, methods=["GET"]),
    Route(PREFIX + "/TaxRates", get_tax_rates, methods=["GET"]),
    Route(PREFIX + "/TrackingCategories", get_tracking_categories, methods=["GET"]),
    Route(PREFIX + "/TrackingCategories/{category_id}/Options", put_tracking_option,
          methods=["PUT"]),
    Route(PREFIX + "/ManualJournals", get_journals, methods=["GET"]),
    Route(PREFIX + "/ManualJournals/{journal_id}", get_journal, methods=["GET"]),
    Route(PREFIX + "/ManualJournals", put_journals, methods=["PUT"]),
    Route(PREFIX + "/ManualJournals", post_journals, methods=["POST"]),
    Route(PREFIX + "/ManualJournals/{journal_id}", post_journal, methods=["POST"]),
]
