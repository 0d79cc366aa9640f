"""Xero's JSON dates: `/Date(1573755038314+0000)/` (milliseconds since the epoch, UTC)."""

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def ms_datetime(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def ms_date(day: date) -> str:
    return ms_datetime(datetime.combine(day, time(0), tzinfo=UTC))


def ms_local_date(day: date, utc_offset_minutes: int) -> str:
    """An organisation's local date as Xero writes it: the instant of local midnight and
    the zone, e.g. 2014-12-31 at +13:00 is `/Date(1419937200000+1300)/`
    (developer.xero.com "Dates and timestamps explained")."""
    zone = timezone(timedelta(minutes=utc_offset_minutes))
    instant = datetime.combine(day, time(0), tzinfo=zone)
    sign = "+" if utc_offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(utc_offset_minutes), 60)
    return f"/Date({int(instant.timestamp() * 1000)}{sign}{hours:02d}{minutes:02d})/"


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
