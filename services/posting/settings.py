"""Settings of the posting service (environment variables, see `.env.example`)."""

from pydantic import Field

from shared.settings import ServiceSettings, XeroSettings


class PostingSettings(ServiceSettings):
    host: str = Field("127.0.0.1", alias="POSTING_HOST")
    port: int = Field(8003, alias="POSTING_PORT")
    auth_url: str = Field("http://127.0.0.1:8001", alias="AUTH_URL")
    auth_timeout_s: float = Field(10.0, alias="POSTING_AUTH_TIMEOUT_S")

    # Xero's limits per organisation and app-wide. They are enforced in PostgreSQL so
    # that every replica shares one budget.
    per_minute: int = Field(60, alias="POSTING_XERO_PER_MINUTE")
    concurrent: int = Field(5, alias="POSTING_XERO_CONCURRENT")
    app_per_minute: int = Field(10_000, alias="POSTING_XERO_APP_PER_MINUTE")
    # Xero's calls a day per organisation (1,000 on Xero's starter tier): also read from
    # each answer's X-DayLimit-Remaining.
    per_day: int = Field(5_000, alias="POSTING_XERO_PER_DAY", ge=1)
    # Our sliding minute is a little longer than Xero's fixed one: a call we count at t
    # may reach Xero later than the next one, so a strict 60 s could still breach.
    window_margin_s: float = Field(2.0, alias="POSTING_WINDOW_MARGIN_S")

    # Many organisations drain at once, each a few statements at a time.
    db_pool_max: int = Field(10, alias="DB_POOL_MAX")
    db_pool_relaxed_max: int = Field(14, alias="POSTING_DB_POOL_RELAXED_MAX")
    # Deliveries only wait for one shared insert, so many may be in hand at once.
    prefetch: int = Field(300, alias="AMQP_PREFETCH")

    batch_size: int = Field(50, alias="POSTING_BATCH_SIZE", ge=1, le=50)
    # How many organisations one process drains at the same time.
    max_tenants: int = Field(64, alias="POSTING_MAX_TENANTS")
    # ... and every replica together (0: no bound but each replica's). A drain posts
    # what is due when it starts, so more drains at once mean thinner batches and more
    # of Xero's calls per day; bounding the total keeps batches about as full with three
    # replicas as with one (docs/performance.md).
    max_tenants_total: int = Field(64, ge=0, alias="POSTING_MAX_TENANTS_TOTAL")
    # How many postings one process's drains hold at once (bounds its memory).
    max_claimed: int = Field(400, alias="POSTING_MAX_CLAIMED", ge=1)
    # A drainer that died lets go of its organisation after this long.
    lease_s: float = Field(15.0, alias="POSTING_LEASE_S")
    poll_s: float = Field(0.25, alias="POSTING_POLL_S")
    # How long start-up waits for the broker before serving without it (the drain and
    # the consumers start once it connects; /readyz reports it missing until then).
    broker_wait_s: float = Field(10.0, alias="POSTING_BROKER_WAIT_S")

    # Transient failures: exponential backoff with jitter, then a retryable failure.
    max_attempts: int = Field(8, alias="POSTING_MAX_ATTEMPTS")
    max_age_s: float = Field(86_400.0, alias="POSTING_MAX_AGE_S")
    backoff_base_s: float = Field(1.0, alias="POSTING_BACKOFF_BASE_S")
    backoff_cap_s: float = Field(300.0, alias="POSTING_BACKOFF_CAP_S")

    # How long a cached chart of accounts / lock dates is trusted before a refresh.
    # After this long it is read again behind (changes only); an account error has it
    # read again whole at once. Each read is two of the organisation's daily calls.
    chart_ttl_s: float = Field(86_400.0, alias="POSTING_CHART_TTL_S")
    # Charts kept in memory (the organisations used last); the others are read from the
    # database when their organisation posts again. About 30 KB each.
    charts_in_memory: int = Field(500, ge=1, alias="POSTING_CHARTS_IN_MEMORY")
    # Create a tracking option a journal names that its category lacks (a new store's
    # "Store 7"). Needs the operator to grant the accounting.settings scope; off, a day
    # naming a missing option fails saying which, and how to create it.
    create_tracking_options: bool = Field(False, alias="POSTING_CREATE_TRACKING_OPTIONS")
    # Narrations looked up in one GET /ManualJournals (joined with OR).
    lookup_chunk: int = Field(10, alias="POSTING_LOOKUP_CHUNK")
    # A request Xero never answered may still be worked on: an in-flight posting is
    # looked up (and possibly sent again) only after this long.
    in_flight_grace_s: float = Field(60.0, alias="POSTING_IN_FLIGHT_GRACE_S")

    # A token is used until this long before it expires.
    token_margin_s: float = Field(300.0, alias="POSTING_TOKEN_MARGIN_S")

    xero: XeroSettings = Field(default_factory=XeroSettings)


