"""The posting service's own Prometheus metrics (served with the shared ones at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

TOKEN_REQUESTS = Counter(
    "glbridge_posting_token_requests_total", "Access tokens asked of auth, by outcome.",
    ["outcome"],
)
XERO_CALLS = Counter(
    "glbridge_posting_xero_calls_total", "Calls to Xero, by operation and answer.",
    ["operation", "answer"],
)
XERO_429 = Counter(
    "glbridge_posting_xero_rate_limited_total", "429 answers from Xero (an alarm, not a plan)."
)
LOOKUPS_REFUSED = Counter(
    "glbridge_posting_lookups_refused_total",
    "Lookups of in-flight journals Xero refused: those days stay in doubt (an alarm).",
)
POSTINGS = Counter(
    "glbridge_posting_outcomes_total", "Postings settled, by outcome.", ["outcome"]
)
BATCH_SIZE = Histogram(
    "glbridge_posting_batch_size", "Journals per PUT /ManualJournals.",
    buckets=(1, 2, 5, 10, 20, 30, 40, 50),
)
DRAINS_ACTIVE = Gauge("glbridge_posting_drains_active", "Organisations being drained now.")
XERO_SECONDS = Histogram(
    "glbridge_posting_xero_call_seconds", "Time of each Xero call, by operation.",
    ["operation"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BUDGET_WAIT_SECONDS = Histogram(
    "glbridge_posting_budget_seconds", "Time to obtain a Xero call slot from the budget.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
TOKEN_SECONDS = Histogram(
    "glbridge_posting_token_seconds", "Time to get an access token (cache or auth).",
    buckets=(0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BATCH_SECONDS = Histogram(
    "glbridge_posting_batch_seconds", "Time to process one batch of an organisation.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RECORD_GROUP = Histogram(
    "glbridge_posting_record_group_size", "Events recorded per transaction by the consumer.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200),
)
RECORD_SECONDS = Histogram(
    "glbridge_posting_record_seconds", "Time to record one group of events.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
