"""Messages a POS that speaks AMQP exchanges with totals, instead of calling HTTP.

`pos-day-closed` and `pos-reprint-requested` go to totals (queue `totals.pos-requests`);
totals validates them exactly as it validates the HTTP calls, with the same outcomes.
A request it must refuse produces `pos-request-refused`, naming every problem, for the
POS to display: none is dropped silently. Outcomes of postings reach the POS as the
system's own events (`gl-posting-succeeded`, `gl-posting-failed`, ...).

A message never carries the store's `2RF:` key: whoever can read the broker's queues
must not learn it. It carries a reference to the key and a signature made with it, as
Xero signs its webhooks with an HMAC-SHA256 of the payload (developer.xero.com,
"Webhooks: signature"). With `verifier = SHA-256(key)`, the 32 bytes totals keeps:

- `key_ref` = the first 16 hex digits of SHA-256(verifier): which key signed, revealing
  nothing of the verifier;
- `signature` = hex HMAC-SHA256(verifier, the lines of `signed_text`): the event type,
  the event id, when it occurred (epoch milliseconds), the correlation id, the store,
  the business date and the SHA-256 of the content (`totals`, or
  `{"post_to_xero": ...}`) as canonical JSON (keys sorted, no whitespace, UTF-8).

Totals recomputes both from the store's current verifier. A changed field, another
store, an old key or a forged signature is refused the same way.
"""

import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.events import Event
from shared.contracts.stores import StoreIdText

KEY_REF_DIGITS = 16
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def key_verifier(api_key: str) -> bytes:
    """What totals keeps of a key (as hex): SHA-256 of the key as typed, trimmed."""
    return hashlib.sha256(api_key.strip().encode()).digest()


def key_reference(verifier: bytes) -> str:
    return hashlib.sha256(verifier).hexdigest()[:KEY_REF_DIGITS]


def epoch_ms(moment: datetime) -> int:
    """Whole milliseconds since the Unix epoch: one text of a time in every language."""
    return (moment - EPOCH) // timedelta(milliseconds=1)


def canonical_json(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


class _PosRequest(Event):
    store_id: StoreIdText
    business_date: date
    key_ref: str = Field(pattern=r"^[0-9a-f]{16}$",
                         description="Which key signed the message (see the module text)")
    signature: str = Field(pattern=r"^[0-9a-f]{64}$",
                           description="HMAC-SHA256 of the signed text, keyed by SHA-256(key)")

    signed_fields: ClassVar[tuple[str, ...]] = ()

    def content(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.signed_fields}

    def signed_text(self) -> bytes:
        event_type: str = self.event_type  # type: ignore[attr-defined]
        lines = [event_type, str(self.event_id), str(epoch_ms(self.occurred_at)),
                 self.correlation_id, self.store_id, self.business_date.isoformat(),
                 hashlib.sha256(canonical_json(self.content())).hexdigest()]
        return "\n".join(lines).encode()

    def signed_by(self, verifier: bytes) -> bool:
        """Whether the key whose verifier this is signed the message, as it is."""
        expected = hmac.new(verifier, self.signed_text(), hashlib.sha256).hexdigest()
        return (hmac.compare_digest(self.key_ref, key_reference(verifier))
                and hmac.compare_digest(self.signature, expected))

    @classmethod
    def signed(cls, api_key: str, **fields: Any) -> Self:
        """The message, signed with the store's key (what a POS written in Python sends);
        `correlation_id` defaults to the day's, `store:date`."""
        fields.setdefault("correlation_id", f"{fields['store_id']}:{fields['business_date']}")
        verifier = key_verifier(api_key)
        draft = cls.model_validate({**fields, "key_ref": key_reference(verifier),
                                    "signature": "0" * 64})
        signature = hmac.new(verifier, draft.signed_text(), hashlib.sha256).hexdigest()
        return draft.model_copy(update={"signature": signature})


class PosDayClosed(_PosRequest):
    """The end of a business day: the day's totals, validated by totals as the HTTP body
    of `POST /v1/stores/{store_id}/days/{business_date}/close` is."""

    event_type: Literal["pos-day-closed"] = "pos-day-closed"
    schema_version: Literal[2] = 2

    totals: dict[str, Any] = Field(
        description="The day's totals: the same JSON object as the HTTP close body"
    )
    signed_fields: ClassVar[tuple[str, ...]] = ("totals",)


class PosReprintRequested(_PosRequest):
    """A reprint of a day, posting it to Xero when `post_to_xero` (trigger manual-reprint)."""

    event_type: Literal["pos-reprint-requested"] = "pos-reprint-requested"
    schema_version: Literal[2] = 2

    post_to_xero: bool = False
    signed_fields: ClassVar[tuple[str, ...]] = ("post_to_xero",)


class _RetiredPosRequest(Event):
    """Version 1 of the POS requests carried the key itself (`api_key`). Totals answers
    one with a refusal that says how to sign instead; the key is not even read."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    store_id: str
    business_date: date | None = None


class RetiredPosDayClosed(_RetiredPosRequest):
    event_type: Literal["pos-day-closed"] = "pos-day-closed"
    schema_version: Literal[1] = 1


class RetiredPosReprintRequested(_RetiredPosRequest):
    event_type: Literal["pos-reprint-requested"] = "pos-reprint-requested"
    schema_version: Literal[1] = 1


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
RETIRED_POS_REQUESTS: tuple[type[Event], ...] = (RetiredPosDayClosed,
                                                 RetiredPosReprintRequested)
POS_EVENTS: tuple[type[Event], ...] = (*POS_REQUESTS, PosRequestRefused)
