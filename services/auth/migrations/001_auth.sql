-- The auth service's schema: connections (the token vault), connect attempts (OAuth state)
-- and its outbox. Tokens and PKCE verifiers are stored only sealed (AES-GCM, see
-- adapters/cipher.py); keys only as the SHA-256 of their secret.

CREATE TABLE connections (
    id uuid PRIMARY KEY,
    store_id text NOT NULL,
    tenant_id uuid NOT NULL,
    tenant_name text NOT NULL,
    -- Xero's id for the tenant connection (GET /connections `id`), and its auth event.
    xero_connection_id text,
    auth_event_id text,
    -- The Xero user who authorised it: revoking at Xero ends all of that user's grants.
    xero_user_id text,
    scope text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'needs-reauth', 'retired', 'disconnected')),
    key_hash bytea NOT NULL UNIQUE,
    access_token_sealed text,
    access_expires_at timestamptz,
    refresh_token_sealed text,
    -- When the current refresh token was first sent to Xero (NULL: never). Set, and
    -- committed, before the request leaves, so a crash mid-refresh leaves the evidence.
    refresh_first_used_at timestamptz,
    -- The refresh token before the current one, for Xero's 30-minute grace period.
    previous_refresh_token_sealed text,
    previous_first_used_at timestamptz,
    last_refreshed_at timestamptz NOT NULL DEFAULT now(),
    refresh_count bigint NOT NULL DEFAULT 0,
    refresh_failures integer NOT NULL DEFAULT 0,
    refresh_not_before timestamptz,
    last_refresh_error text,
    reauth_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz
);
-- One live connection per store: a new connect flow retires the previous one.
CREATE UNIQUE INDEX connections_live_store ON connections (store_id)
    WHERE status IN ('active', 'needs-reauth');
CREATE INDEX connections_xero_user ON connections (xero_user_id);
CREATE INDEX connections_keepalive ON connections (last_refreshed_at) WHERE status = 'active';

CREATE TABLE connect_attempts (
    -- The random id in the connect URL given to the POS.
    id text PRIMARY KEY,
    -- The OAuth `state`: single use, expiring, bound to the store.
    state text NOT NULL UNIQUE,
    store_id text NOT NULL,
    scenario text NOT NULL,
    code_verifier_sealed text NOT NULL,
    -- Ties the callback to the browser that opened the connect URL (a cookie's hash).
    browser_hash bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    outcome text,
    -- When the user has several organisations: the tokens wait here, sealed, until picked.
    pick_id text UNIQUE,
    pending_tokens_sealed text,
    pending_tenants jsonb,
    pick_expires_at timestamptz
);
CREATE INDEX connect_attempts_expiry ON connect_attempts (expires_at);

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
