"""When a POS request that arrives as a message is too old, or from the future, to act on."""

from datetime import datetime, timedelta

# Clocks of a POS and of totals disagree by a little; more than this is a wrong clock.
CLOCK_SKEW = timedelta(minutes=5)


def untimely(occurred_at: datetime, now: datetime, max_age: timedelta) -> str | None:
    """Why a request made at `occurred_at` is not acted on at `now`, or None. A signed
    message can be published again by whoever reads the broker: past `max_age` totals no
    longer remembers whether it handled it, so it refuses it rather than act twice."""
    if occurred_at > now + CLOCK_SKEW:
        return (f"occurred_at {occurred_at.isoformat()} is ahead of totals' clock "
                f"({now.isoformat()}): check the POS's clock")
    if occurred_at < now - max_age:
        return (f"occurred_at {occurred_at.isoformat()} is older than "
                f"{max_age.total_seconds() / 86400:g} days: send the request again")
    return None
