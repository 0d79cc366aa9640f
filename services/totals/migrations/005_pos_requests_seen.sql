-- POS requests over AMQP already handled, by event id: a signed message read off the
-- broker and published again is not handled twice (an old close replayed after a
-- correction would otherwise bring the old totals back). Kept as long as a message is
-- accepted at all (TOTALS_POS_MESSAGE_MAX_AGE_S).
CREATE TABLE pos_requests_seen (
    event_id uuid PRIMARY KEY,
    seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pos_requests_seen_age ON pos_requests_seen (seen_at);
