"""The control API (`/_control`): reshape the sandbox from tests and demos. Mounted only
when SANDBOX_CONTROL_ENABLED=true."""

import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.xero_sandbox.domain.limits import Limits
from services.xero_sandbox.domain.model import ROLES, Organisation
from services.xero_sandbox.domain.state import DEFAULT_CLIENT, DEFAULT_SCOPES, Faults, s256
from services.xero_sandbox.domain.views import (
    account_view,
    as_submitted,
    organisation_view,
    tracking_category_view,
)
from services.xero_sandbox.domain.xerodate import ms_datetime
from services.xero_sandbox.entrypoints.http.common import json_response, sandbox_of
from services.xero_sandbox.entrypoints.http.faults import LOST_ANSWERS

router = APIRouter(prefix="/_control")


class BadInput(ValueError):
    pass


def _error(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadInput(f"body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadInput("body must be a JSON object")
    return body


def _str_list(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{name} must be a list of strings")
    return value


def _required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadInput(f"{name} is required (a non-empty string)")
    return value


async def _guarded(
    request: Request, action: Callable[[dict[str, Any]], Awaitable[Response]]
) -> Response:
    try:
        return await action(await _body(request))
    except BadInput as exc:
        return _error(str(exc))
    except KeyError as exc:
        return _error(str(exc.args[0]) if exc.args else "not found", 404)
    except ValueError as exc:
        return _error(str(exc))


@router.post("/reset")
async def reset(request: Request) -> Response:
    sandbox_of(request).reset()
    return json_response({"status": "reset"})


@router.get("/requests")
async def received(request: Request) -> Response:
    """The latest request bodies the Accounting API received, oldest first."""
    return json_response(list(sandbox_of(request).received))


@router.get("/organisations")
async def list_orgs(request: Request) -> Response:
    sandbox = sandbox_of(request)
    return json_response([_org(o) for o in sandbox.orgs.values()])


def _org(org: Organisation) -> dict[str, Any]:
    view = organisation_view(org)
    return {
        "tenant_id": org.tenant_id,
        "name": org.name,
        "template": org.template,
        "period_lock_date": org.period_lock_date.isoformat() if org.period_lock_date else None,
        "end_of_year_lock_date": (
            org.end_of_year_lock_date.isoformat() if org.end_of_year_lock_date else None
        ),
        "utc_offset_minutes": org.utc_offset_minutes,
        "Organisation": view,
        "accounts": [account_view(a) for a in org.accounts.values()],
        "tracking": [tracking_category_view(c, True) for c in org.tracking],
    }


@router.post("/organisations")
async def create_org(request: Request) -> Response:
    async def act(body: dict[str, Any]) -> Response:
        sandbox = sandbox_of(request)
        org = sandbox.create_org(
            _required_str(body, "name"),
            str(body.get("template", "us-rental")),
            _str_list(body, "users"),
        )
        return json_response({"tenant_id": org.tenant_id, "name": org.name})

    return await _guarded(request, act)


@router.patch("/organisations/{tenant_id}")
async def patch_org(tenant_id: str, request: Request) -> Response:
    async def act(body: dict[str, Any]) -> Response:
        sandbox = sandbox_of(request)
        org = sandbox.orgs.get(tenant_id)
        if org is None:
            raise KeyError(f"unknown tenant_id {tenant_id}")
        for name in ("period_lock_date", "end_of_year_lock_date"):
            if name in body:
                setattr(org, name, _date_or_none(body[name], name))
        if "utc_offset_minutes" in body:
            offset = body["utc_offset_minutes"]
            if isinstance(offset, bool) or not isinstance(offset, int) or abs(offset) > 14 * 60:
                raise BadInput("utc_offset_minutes must be a whole number of minutes, ±840")
            org.utc_offset_minutes = offset
        for change in body.get("accounts") or []:
            _patch_account(org, change, sandbox.clock.now())
        for change in body.get("tracking") or []:
            _patch_tracking(org, change)
        org.version += 1
        return json_response(_org(org))

    return await _guarded(request, act)


def _date_or_none(value: Any, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise BadInput(f"{name} must be YYYY-MM-DD or null") from exc


def _patch_account(org: Organisation, change: Any, now: Any) -> None:
    from services.xero_sandbox.domain.charts import CLASS_OF_TYPE
    from services.xero_sandbox.domain.model import Account

    if not isinstance(change, dict) or not isinstance(change.get("Code"), str):
        raise BadInput("each of accounts needs a Code")
    code = change["Code"]
    account = org.account(code)
    if account is None:
        account = Account(code, str(change.get("Name", code)), str(change.get("Type", "CURRENT")))
        org.accounts[code.upper()] = account
    if "Status" in change:
        if change["Status"] not in ("ACTIVE", "ARCHIVED", "DELETED"):
            raise BadInput("Status must be ACTIVE, ARCHIVED or DELETED")
        if account.status == "DELETED" and change["Status"] != "DELETED":
            # As in Xero: an archived account can be restored, a deleted one never
            # (help.xero.com Settings_ChartofAccountsArchive).
            raise BadInput(f"account {code} was deleted: Xero cannot restore a deleted account")
        account.status = change["Status"]
    if "Type" in change:
        if change["Type"] not in CLASS_OF_TYPE:
            raise BadInput(f"unknown account Type {change['Type']!r}")
        account.type = change["Type"]
    for field, attr in (
        ("Name", "name"),
        ("TaxType", "tax_type"),
        ("SystemAccount", "system_account"),
    ):
        if field in change:
            setattr(account, attr, str(change[field] or ""))
    account.updated = now


def _patch_tracking(org: Organisation, change: Any) -> None:
    """`{Name, Status?, Options?: [{Name, Status?}]}`: an unknown name adds the category or
    option (as creating it in Xero would)."""
    from services.xero_sandbox.domain.model import TrackingCategory, TrackingOption

    name = _name_of(change, "tracking")
    category = org.tracking_category(name) or _added(org.tracking, TrackingCategory(name))
    category.status = _status(change, category.status)
    for item in change.get("Options") or []:
        option_name = _name_of(item, "tracking[].Options")
        option = category.option(option_name) or _added(category.options,
                                                        TrackingOption(option_name))
        option.status = _status(item, option.status)


_T = TypeVar("_T")


def _added(items: list[_T], item: _T) -> _T:
    items.append(item)
    return item


def _name_of(item: Any, where: str) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
        raise BadInput(f"each of {where} needs a Name")
    return str(item["Name"])


def _status(change: dict[str, Any], current: str) -> str:
    status = str(change.get("Status", current))
    if status not in ("ACTIVE", "ARCHIVED", "DELETED"):
        raise BadInput("Status must be ACTIVE, ARCHIVED or DELETED")
    return status


@router.put("/clients/{client_id}")
async def put_client(client_id: str, request: Request) -> Response:
    async def act(body: dict[str, Any]) -> Response:
        uris = _str_list(body, "redirect_uris") or []
        client = sandbox_of(request).upsert_client(
            client_id, _required_str(body, "client_secret"), uris
        )
        return json_response({"client_id": client.client_id, "redirect_uris": client.redirect_uris})

    return await _guarded(request, act)


@router.post("/users")
async def create_user(request: Request) -> Response:
    async def act(body: dict[str, Any]) -> Response:
        role = str(body.get("role", "STANDARD_ALL_REPORTS"))
        if role not in ROLES:
            raise BadInput(f"role must be one of {', '.join(ROLES)}")
        user = sandbox_of(request).add_user(
            _required_str(body, "email"),
            _required_str(body, "password"),
            _str_list(body, "tenant_ids") or [],
        )
        user.role = role
        return json_response({"email": user.email, "role": user.role})

    return await _guarded(request, act)


@router.post("/grants")
async def create_grant(request: Request) -> Response:
    async def act(body: dict[str, Any]) -> Response:
        sandbox = sandbox_of(request)
        user = sandbox.user(_required_str(body, "email"))
        if user is None:
            raise KeyError(f"unknown user {body['email']!r}")
        client_id = str(body.get("client_id") or DEFAULT_CLIENT[0])
        if client_id not in sandbox.clients:
            raise KeyError(f"unknown client_id {client_id!r}")
        tenant_ids = _str_list(body, "tenant_ids") or list(user.tenant_ids)
        strangers = [t for t in tenant_ids if t not in user.tenant_ids]
        if strangers:
            raise BadInput(f"{user.email} is not a user of {strangers}")
        scopes = body.get("scopes") or DEFAULT_SCOPES
        if isinstance(scopes, str):
            scopes = scopes.split()
        grant = sandbox.grant(user.email, client_id, list(scopes), tenant_ids)
        redirect_uri = body.get("redirect_uri")
        if redirect_uri:
            verifier = secrets.token_urlsafe(48)
            code = sandbox.issue_code(grant, str(redirect_uri), s256(verifier))
            return json_response(
                {"code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
            )
        return json_response({**sandbox.token_set(grant), "tenant_ids": tenant_ids})

    return await _guarded(request, act)


@router.post("/revoke")
async def revoke(request: Request) -> Response:
    async def act(body: dict[str, Any]) -> Response:
        sandbox = sandbox_of(request)
        if body.get("email"):
            sandbox.revoke_user(str(body["email"]))
        if body.get("refresh_token"):
            record = sandbox.refresh_tokens.get(str(body["refresh_token"]))
            grant = sandbox.grants.get(record.grant_id) if record else None
            if grant is not None:
                sandbox.revoke_user(grant.email)
        return json_response({"status": "revoked"})

    return await _guarded(request, act)


@router.get("/clock")
async def get_clock(request: Request) -> Response:
    return json_response({"now": sandbox_of(request).clock.now().isoformat()})


@router.post("/clock/advance")
async def advance_clock(request: Request) -> Response:
    async def act(body: dict[str, Any]) -> Response:
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise BadInput("seconds is required (a number)")
        now = sandbox_of(request).clock.advance(float(seconds))
        return json_response({"now": now.isoformat()})

    return await _guarded(request, act)


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    return json_response(sandbox_of(request).faults.as_dict())


@router.put("/faults")
async def put_faults(request: Request) -> Response:
    async def act(body: dict[str, Any]) -> Response:
        sandbox = sandbox_of(request)
        sandbox.faults = _faults(body)
        return json_response(sandbox.faults.as_dict())

    return await _guarded(request, act)


def _faults(body: dict[str, Any]) -> Faults:
    latency = body.get("latency_ms") or {}
    if not isinstance(latency, dict):
        raise BadInput('latency_ms must be {"min": ms, "max": ms}')
    faults = Faults(
        latency_min_ms=_number(latency.get("min", 0), "latency_ms.min"),
        latency_max_ms=_number(latency.get("max", latency.get("min", 0)), "latency_ms.max"),
        force_429=int(_number(body.get("force_429", 0), "force_429")),
        lose_token_responses=int(
            _number(body.get("lose_token_responses", 0), "lose_token_responses")
        ),
        force_429_problem=str(body.get("force_429_problem", "minute")),
        refuse_where=int(_number(body.get("refuse_where", 0), "refuse_where")),
        tenant_id=body.get("tenant_id"),
        lose_write_answers=int(_number(body.get("lose_write_answers", 0), "lose_write_answers")),
        lost_answer=str(body.get("lost_answer", "drop")),
        search_lag_s=_number(body.get("search_lag_s", 0), "search_lag_s"),
    )
    if faults.lost_answer not in LOST_ANSWERS:
        raise BadInput("lost_answer must be drop, timeout or error")
    if faults.force_429_problem not in ("minute", "day", "appminute", "concurrent"):
        raise BadInput("force_429_problem must be minute, day, appminute or concurrent")
    for name in ("error_rate", "drop_rate", "timeout_rate", "lost_write_answer_rate"):
        rate = _number(body.get(name, 0.0), name)
        if not 0 <= rate <= 1:
            raise BadInput(f"{name} must be between 0 and 1")
        setattr(faults, name, rate)
    return faults


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadInput(f"{name} must be a number ≥ 0")
    return float(value)


@router.delete("/faults")
async def delete_faults(request: Request) -> Response:
    sandbox_of(request).faults = Faults()
    return Response(status_code=204)


@router.get("/limits")
async def get_limits(request: Request) -> Response:
    return json_response(vars(sandbox_of(request).limits))


@router.put("/limits")
async def put_limits(request: Request) -> Response:
    async def act(body: dict[str, Any]) -> Response:
        sandbox = sandbox_of(request)
        current = vars(sandbox.limits)
        values = {}
        for name, default in current.items():
            value = body.get(name, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadInput(f"{name} must be a positive integer")
            values[name] = value
        sandbox.limits = Limits(**values)
        return json_response(vars(sandbox.limits))

    return await _guarded(request, act)


@router.get("/journals")
async def journals(request: Request) -> Response:
    sandbox = sandbox_of(request)
    tenant = request.query_params.get("tenant_id")
    if tenant is not None and tenant not in sandbox.journals:
        return _error(f"unknown tenant_id {tenant}", 404)
    rows = []
    for tenant_id, stored in sandbox.journals.items():
        if tenant is not None and tenant_id != tenant:
            continue
        for j in stored.values():
            submitted = as_submitted(j)
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "ManualJournalID": j.journal_id,
                    "Narration": j.narration,
                    "Date": submitted["Date"],
                    "Status": j.status,
                    "LineAmountTypes": j.line_amount_types,
                    "JournalLines": submitted["JournalLines"],
                    "Warnings": [{"Message": m} for m in j.warnings],
                    "CreatedAt": j.created.isoformat(),
                    "UpdatedDateUTC": ms_datetime(j.updated),
                }
            )
    return json_response(rows)


@router.get("/stats")
async def stats(request: Request) -> Response:
    return json_response(sandbox_of(request).stats.as_dict())
