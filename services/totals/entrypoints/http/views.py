"""How days and setups look to the POS (JSON)."""

from decimal import Decimal
from typing import Any

from services.totals.domain.day import DayStatus, Decision, message
from services.totals.domain.journal import Problem, posting_reference
from services.totals.domain.records import DayRecord, SetupRecord


def problems_body(problems: list[Problem], error: str) -> dict[str, Any]:
    return {
        "error": error,
        "message": f"{len(problems)} problem(s): " + "; ".join(p.message for p in problems),
        "detail": [p.as_dict() for p in problems],
    }


def setup_view(record: SetupRecord) -> dict[str, Any]:
    return {
        "store_id": record.store_id,
        # Never the key: whether one is set, and the connection it opens.
        "api_key": {
            "set": True,
            "fingerprint": record.key.api_key_hash[:12],
            "connection_id": str(record.key.connection_id),
            "tenant_id": str(record.key.tenant_id),
            "tenant_name": record.key.tenant_name,
            "status": record.key.connection_status,
        },
        **record.setup.model_dump(mode="json"),
        "updated_at": record.updated_at.isoformat(),
    }


def day_view(day: DayRecord) -> dict[str, Any]:
    state = day.state
    return {
        "store_id": day.store_id,
        "business_date": day.business_date.isoformat(),
        "revision": state.revision,
        "status": state.status.value,
        "message": message(state),
        "reference": posting_reference(day.store_id, day.business_date, state.revision),
        "trigger": day.trigger,
        "journal_id": str(state.journal_id) if state.journal_id else None,
        "posted_revision": state.posted_revision,
        "replaced_journal_id": str(state.replaced_journal_id)
        if state.replaced_journal_id else None,
        "errors": list(state.errors),
        "retryable": state.retryable,
        "closed_at": day.closed_at.isoformat(),
        "updated_at": day.updated_at.isoformat(),
    }


def printable(day: DayRecord) -> dict[str, Any]:
    """The store totals as the POS prints them, with the journal they make."""
    lines = day.journal.lines if day.journal is not None else []
    debits = sum((line.amount for line in lines if line.amount > 0), Decimal("0.00"))
    credits = -sum((line.amount for line in lines if line.amount < 0), Decimal("0.00"))
    return {
        "store_id": day.store_id,
        "business_date": day.business_date.isoformat(),
        "revision": day.state.revision,
        "totals": day.totals,
        "journal": None if day.journal is None else {
            "narration": day.journal.narration,
            "status": day.journal.status.value,
            "lines": [
                {
                    "category": line.category,
                    "account_code": line.account_code,
                    "description": line.description,
                    "debit": str(line.amount) if line.amount > 0 else None,
                    "credit": str(-line.amount) if line.amount < 0 else None,
                }
                for line in lines
            ],
            "total_debits": str(debits),
            "total_credits": str(credits),
        },
    }


def post_view(decision: Decision) -> dict[str, Any]:
    state = decision.state
    texts = {
        "queued": f"Sent to Xero (revision {state.revision}); waiting for the result.",
        "already-posted": f"Already posted to Xero at revision {state.revision} "
        f"(journal {state.journal_id}): nothing was posted again.",
        "nothing-to-post": "Nothing to post for this day.",
    }
    if decision.outcome == "queued" and state.status == DayStatus.WAITING_FOR_NEW_KEY:
        texts["queued"] = message(state)
    return {
        "outcome": decision.outcome,
        "revision": state.revision,
        "journal_id": str(state.journal_id) if decision.outcome == "already-posted" else None,
        "message": texts.get(decision.outcome, decision.outcome),
    }
