"""Xero's Accounting API over aiohttp: manual journals, accounts, organisation.

Every answer is classified here, so callers see typed outcomes: a 401 (token
rejected), a 403 (the organisation is gone or access was revoked), a 429 with its
`Retry-After`, and transient failures marked with whether Xero may have acted on them.
"""

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode
from uuid import UUID

import aiohttp
import orjson
from yarl import URL

from services.posting.adapters.http import timeout
from services.posting.domain.outcome import JournalResult, result_from_xero
from services.posting.domain.records import RateInfo
from services.posting.service_layer.ports import (
    TokenRejected,
    XeroForbidden,
    XeroRateLimited,
    XeroRefused,
    XeroUnavailable,
)


def rate_info(headers: Mapping[str, str]) -> RateInfo:
    def number(name: str) -> int | None:
        value = headers.get(name)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    retry = headers.get("Retry-After")
    try:
        retry_s = float(retry) if retry is not None else None
    except ValueError:
        retry_s = None
    return RateInfo(
        number("X-MinLimit-Remaining"),
        number("X-DayLimit-Remaining"),
        number("X-AppMinLimit-Remaining"),
        retry_s,
        headers.get("X-Rate-Limit-Problem"),
    )


def scopes_of(access_token: str) -> list[str] | None:
    """The scopes in Xero's access token (a JWT whose `scope` claim lists them), read
    without verifying it (Xero verifies it; this only explains a 403); None if unreadable."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    scope = claims.get("scope") if isinstance(claims, dict) else None
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scope, list):
        return [str(s) for s in scope]
    return None


@dataclass(frozen=True)
class Answer:
    body: Any
    rate: RateInfo
    headers: Mapping[str, str]
    status: int


def modified_since(date_header: str | None) -> str | None:
    """The next `If-Modified-Since` after an answer sent at `date_header` (HTTP date), in
    the form Xero documents: a UTC timestamp to the second, `2020-02-06T12:17:43`
    (developer.xero.com "Requests and responses"; xero_accounting.yaml `ifModifiedSince`
    is a date-time). A second earlier, so a change made in the answer's second is not
    missed (Xero compares to the second)."""
    if not date_header:
        return None
    try:
        sent = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)
    return (sent.astimezone(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")


def dumps(payload: Any) -> str:
    """JSON with `Decimal` written as an exact number (never through float)."""
    return orjson.dumps(payload, default=_exact_number).decode()


def _exact_number(value: Any) -> orjson.Fragment:
    # A Fragment is written as it is: the Decimal's own digits, as a JSON number.
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(str(value))
    raise TypeError  # orjson names the type


def void_body(journal_id: UUID, journal: Mapping[str, Any], status: str = "VOIDED") -> str:
    """The body of a void (or a draft's delete): the journal as posted, its new status."""
    body = {**journal, "ManualJournalID": str(journal_id), "Status": status}
    return dumps({"ManualJournals": [body]})


class XeroClient:
    def __init__(self, api_url: str, timeout_s: float, session: aiohttp.ClientSession) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = session
        self._timeout = timeout(timeout_s)

    async def put_journals(
        self,
        token: str,
        tenant_id: UUID,
        journals: Sequence[Mapping[str, Any]],
        idempotency_key: str,
    ) -> tuple[list[JournalResult], RateInfo]:
        """Creates journals; each one's outcome is read on its own (`summarizeErrors=false`)."""
        answer = await self._send(
            "PUT",
            "/ManualJournals",
            token,
            tenant_id,
            params={"summarizeErrors": "false"},
            content=dumps({"ManualJournals": list(journals)}),
            headers={"Idempotency-Key": idempotency_key},
        )
        return _journals(answer.body), answer.rate

    async def find_journals(
        self, token: str, tenant_id: UUID, where: str
    ) -> tuple[list[JournalResult], RateInfo]:
        answer = await self._send(
            "GET", "/ManualJournals", token, tenant_id, params={"where": where}
        )
        return _journals(answer.body), answer.rate

    async def get_journal(
        self, token: str, tenant_id: UUID, journal_id: UUID
    ) -> tuple[JournalResult | None, RateInfo]:
        answer = await self._send("GET", f"/ManualJournals/{journal_id}", token, tenant_id)
        found = _journals(answer.body)
        return (found[0] if found else None), answer.rate

    async def void_journal(
        self, token: str, tenant_id: UUID, journal_id: UUID, idempotency_key: str,
        journal: Mapping[str, Any], status: str = "VOIDED",
    ) -> tuple[JournalResult | None, RateInfo]:
        """Voids a posted journal (or, with `status="DELETED"`, deletes a draft).

        `journal` is the journal as it was posted: the official spec's ManualJournal
        requires `Narration` in every body (xero_accounting.yaml, components/schemas/
        ManualJournal), so the journal is sent whole with its new status."""
        answer = await self._send(
            "POST",
            f"/ManualJournals/{journal_id}",
            token,
            tenant_id,
            content=void_body(journal_id, journal, status),
            headers={"Idempotency-Key": idempotency_key},
        )
        found = _journals(answer.body)
        return (found[0] if found else None), answer.rate

    async def accounts(
        self, token: str, tenant_id: UUID, if_modified_since: str | None
    ) -> tuple[list[dict[str, Any]] | None, str | None, RateInfo]:
        """The chart of accounts, or None when unchanged since `if_modified_since`."""
        headers = {"If-Modified-Since": if_modified_since} if if_modified_since else {}
        answer = await self._send("GET", "/Accounts", token, tenant_id, headers=headers)
        if answer.status == 304:
            return None, if_modified_since, answer.rate
        accounts = list(answer.body.get("Accounts") or [])
        return accounts, modified_since(answer.headers.get("Date")), answer.rate

    async def settings(self, token: str, tenant_id: UUID, path: str, key: str,
                       params: Mapping[str, str] | None = None,
                       ) -> tuple[list[dict[str, Any]], RateInfo]:
        """A list of the organisation's settings: `/TaxRates`, `/TrackingCategories`."""
        answer = await self._send("GET", path, token, tenant_id, params=params)
        return list(answer.body.get(key) or []), answer.rate

    async def create_tracking_option(
        self, token: str, tenant_id: UUID, category_id: str, name: str, idempotency_key: str
    ) -> tuple[None, RateInfo]:
        """`PUT /TrackingCategories/{id}/Options` (spec createTrackingOptions; needs the
        `accounting.settings` scope, else 403)."""
        answer = await self._send(
            "PUT", f"/TrackingCategories/{category_id}/Options", token, tenant_id,
            content=dumps({"Name": name}), headers={"Idempotency-Key": idempotency_key},
        )
        return None, answer.rate

    async def organisation(self, token: str, tenant_id: UUID) -> tuple[dict[str, Any], RateInfo]:
        answer = await self._send("GET", "/Organisation", token, tenant_id)
        organisations = answer.body.get("Organisations") or [{}]
        return dict(organisations[0]), answer.rate

    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        tenant_id: UUID,
        params: Mapping[str, str] | None = None,
        content: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        request_headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": str(tenant_id),
            "Accept": "application/json",
            **(headers or {}),
        }
        if content is not None:
            request_headers["Content-Type"] = "application/json"
        url = self.api_url + path
        if params:
            url += "?" + urlencode(params, quote_via=quote)
        try:
            async with self._http.request(
                method, URL(url, encoded=True), data=content.encode() if content else None,
                headers=request_headers, timeout=self._timeout,
            ) as response:
                body = await response.read()
                return _classify(_Response(response.status, response.headers, body), method)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # Never reached Xero (or no connection was free): safe to send again.
            raise XeroUnavailable(f"cannot connect to Xero: {exc!r}", False) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise XeroUnavailable(f"no answer from Xero: {exc!r}", method != "GET") from exc


@dataclass(frozen=True)
class _Response:
    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def _classify(response: _Response, method: str) -> Answer:
    rate = rate_info(response.headers)
    status = response.status_code
    if status == 304:
        return Answer({}, rate, response.headers, status)
    if status == 401:
        raise TokenRejected(_detail(response), rate)
    if status == 403:
        raise XeroForbidden(_detail(response), rate)
    if status == 429:
        raise XeroRateLimited(f"rate limited ({rate.problem or 'unknown'})", rate)
    if status >= 500:
        raise XeroUnavailable(f"Xero answered {status}: {_detail(response)}", method != "GET",
                              rate, answered=True)
    body = _json(response)
    if status == 400:
        elements = body.get("Elements") if isinstance(body, dict) else None
        results = [result_from_xero(e) for e in elements or [] if isinstance(e, dict)]
        message = body.get("Message") if isinstance(body, dict) else None
        raise XeroRefused(str(message or _detail(response)), results, rate)
    if status == 404:
        return Answer({}, rate, response.headers, status)
    if status >= 300:
        raise XeroUnavailable(f"unexpected answer {status}: {_detail(response)}", False, rate,
                              answered=True)
    return Answer(body, rate, response.headers, status)


def _journals(body: Any) -> list[JournalResult]:
    if not isinstance(body, dict):
        return []
    return [result_from_xero(j) for j in body.get("ManualJournals") or [] if isinstance(j, dict)]


def _json(response: _Response) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return {}


def _detail(response: _Response) -> str:
    body = _json(response)
    if isinstance(body, dict):
        for key in ("Detail", "detail", "Message", "Title", "error"):
            if body.get(key):
                return str(body[key])[:500]
    return response.text[:500]
