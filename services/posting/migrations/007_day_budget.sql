-- Each organisation's daily Xero budget (5,000 calls a day, or what Xero's
-- X-DayLimit-Remaining says is left), shared by every replica beside the minute budget.
CREATE TABLE day_budget (
    tenant_id uuid PRIMARY KEY,
    -- Our count of calls since window_start (Xero's day runs for 24 hours).
    window_start timestamptz NOT NULL,
    used integer NOT NULL,
    -- The last X-DayLimit-Remaining Xero sent, and until when a day 429 said to wait.
    xero_remaining integer,
    blocked_until timestamptz,
    -- When the day last ran out: days that waited for it are not failed for their age.
    spent_at timestamptz
);
