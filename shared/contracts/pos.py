"""Messages a POS that speaks AMQP exchanges with totals, instead of calling HTTP.

`pos-day-closed` and `pos-reprint-requested` go to totals (queue `totals.pos-requests`);
totals validates them exactly as it validates the HTTP calls, with the same outcomes.
A request it must refuse produces `pos-request-refused`, naming every problem, for the
POS to display: none is dropped silently. Outcomes of postings reach the POS as the
system's own events (`gl-posting-succeeded`, `gl-posting-failed`, ...).
"""

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_serializer

from shared.contracts.events import Event
from shared.contracts.stores import StoreIdText


class _PosRequest(Event):
    store_id: StoreIdText
    business_date: date
    # The store's `2RF:` key, as in the HTTP header `X-Api-Key`.
    api_key: SecretStr

    @field_serializer("api_key", when_used="json")
    def _reveal_for_the_wire(self, value: SecretStr) -> str:
        # The POS must send the key itself; in Python it stays masked in reprs and logs.
        return value.get_secret_value()


class PosDayClosed(_PosRequest):
    """The end of a business day: the day's totals, validated by totals as the HTTP body
    of `POST /v1/stores/{store_id}/days/{business_date}/close` is."""

    event_type: Literal["pos-day-closed"] = "pos-day-closed"
    schema_version: Literal[1] = 1

    totals: dict[str, Any] = Field(
        description="The day's totals: the same JSON object as the HTTP close body"
    )


class PosReprintRequested(_PosRequest):
    """A reprint of a day, posting it to Xero when `post_to_xero` (trigger manual-reprint)."""

    event_type: Literal["pos-reprint-requested"] = "pos-reprint-requested"
    schema_version: Literal[1] = 1

    post_to_xero: bool = False


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    loc: list[str | int] = Field(description="Where the problem is, e.g. ['totals', 'tenders', 2]")
    type: str
    message: str
    category: str | None = None


class PosRequestRefused(Event):
    """A POS request totals refused, with every problem named; `causation_id` is the
    refused request's event id."""

    event_type: Literal["pos-request-refused"] = "pos-request-refused"
    schema_version: Literal[1] = 1

    store_id: str
    business_date: date | None = None
    request_type: str
    problems: list[Problem] = Field(min_length=1)


POS_REQUESTS: tuple[type[Event], ...] = (PosDayClosed, PosReprintRequested)
POS_EVENTS: tuple[type[Event], ...] = (*POS_REQUESTS, PosRequestRefused)
