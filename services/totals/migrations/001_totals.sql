-- The totals service's schema: store setups, closed days, their revisions, the outbox.

CREATE TABLE setups (
    store_id text PRIMARY KEY,
    -- Only a hash of the store's API key: the key itself is never stored.
    api_key_hash text NOT NULL UNIQUE,
    connection_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    tenant_name text NOT NULL,
    connection_status text NOT NULL DEFAULT 'active',
    setup jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX setups_connection ON setups (connection_id);

CREATE TABLE days (
    store_id text NOT NULL,
    business_date date NOT NULL,
    revision int NOT NULL,
    fingerprint text NOT NULL,
    totals jsonb NOT NULL,
    journal jsonb,                 -- NULL: nothing to post
    status text NOT NULL,          -- not-posted | pending | posted | failed | waiting-for-new-key | nothing-to-post
    trigger text,
    journal_id uuid,               -- the Xero journal of posted_revision
    posted_revision int,
    replaced_journal_id uuid,
    errors jsonb NOT NULL DEFAULT '[]',
    retryable boolean,
    closed_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, business_date)
);
CREATE INDEX days_waiting ON days (store_id) WHERE status = 'waiting-for-new-key';

-- Every revision of a day as closed, for the accountant's trail.
CREATE TABLE day_revisions (
    store_id text NOT NULL,
    business_date date NOT NULL,
    revision int NOT NULL,
    totals jsonb NOT NULL,
    journal jsonb,
    closed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, business_date, revision)
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
