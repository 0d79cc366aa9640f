-- One row per (store, business day, revision): recorded before any call to Xero, so a
-- redelivered or duplicate event finds it, and the outcome kept to republish it.
CREATE TABLE postings (
    id bigserial PRIMARY KEY,
    store_id text NOT NULL,
    business_date date NOT NULL,
    revision integer NOT NULL,
    tenant_id uuid NOT NULL,
    connection_id uuid NOT NULL,
    event_id uuid NOT NULL,
    correlation_id text NOT NULL,
    -- The narration sent to Xero: unique (it carries the posting's reference), so the
    -- journal can be found again after a crash.
    narration text NOT NULL,
    -- The whole event as received (dead-lettered with the reason if it never succeeds).
    event text NOT NULL,
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'in_flight', 'posted', 'failed', 'superseded')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    journal_id uuid,
    -- Set when this revision's journal was voided in Xero (a newer revision replaced it).
    voided_at timestamptz,
    replaced_journal_id uuid,
    outcome text,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, business_date, revision)
);
CREATE INDEX postings_due ON postings (next_attempt_at, tenant_id)
    WHERE state IN ('pending', 'in_flight');
CREATE INDEX postings_tenant_due ON postings (tenant_id, next_attempt_at, id)
    WHERE state IN ('pending', 'in_flight');
CREATE INDEX postings_journal ON postings (journal_id) WHERE journal_id IS NOT NULL;

-- One drainer per organisation at a time, across every replica.
CREATE TABLE tenant_leases (
    tenant_id uuid PRIMARY KEY,
    owner text NOT NULL,
    until timestamptz NOT NULL
);

-- Xero's limits, shared by every replica: recent call starts (a sliding minute), slots
-- of calls in flight (by expiry), and a block Xero asked for (Retry-After).
CREATE TABLE rate_budget (
    tenant_id uuid PRIMARY KEY,
    calls timestamptz[] NOT NULL DEFAULT '{}',
    in_flight timestamptz[] NOT NULL DEFAULT '{}',
    blocked_until timestamptz
);
CREATE TABLE app_budget (
    id integer PRIMARY KEY,
    window_start timestamptz NOT NULL,
    calls integer NOT NULL
);
INSERT INTO app_budget VALUES (1, now(), 0);

-- The organisation's chart of accounts and lock dates, shared by the replicas.
CREATE TABLE charts (
    tenant_id uuid PRIMARY KEY,
    accounts text NOT NULL,
    organisation text NOT NULL,
    last_modified text,
    fetched_at timestamptz NOT NULL,
    stale boolean NOT NULL DEFAULT false
);

CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    correlation_id text NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
