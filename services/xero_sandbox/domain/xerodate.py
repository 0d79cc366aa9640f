"""Xero's JSON dates: `/Date(1573755038314+0000)/` (milliseconds since the epoch, UTC)."""

import re
from datetime import UTC, date, datetime, time

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def ms_datetime(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def ms_date(day: date) -> str:
    return ms_datetime(datetime.combine(day, time(0), tzinfo=UTC))


def parse_date(text: str) -> date | None:
    """Accepts what Xero accepts for a journal Date: `YYYY-MM-DD`, an ISO date-time or
    the `/Date(...)/` form; None when it is none of them."""
    match = _MS_DATE.match(text.strip())
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date()
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
