-- Reconnecting a store that has a connection needs proof: its current key, or a one-time
-- reconnect token an operator issued. A connect attempt records which proof it carried
-- and the connection it proved (the flow refuses to finish if that is no longer the
-- store's live connection). A move to another organisation is confirmed and recorded.

ALTER TABLE connect_attempts
    ADD COLUMN proof text NOT NULL DEFAULT 'none',
    ADD COLUMN proved_connection_id uuid;
CREATE INDEX connect_attempts_store ON connect_attempts (store_id, expires_at);

-- The connection a reconnect with proof replaced (NULL for a first connection).
ALTER TABLE connections ADD COLUMN replaces uuid;

CREATE TABLE reconnect_tokens (
    -- Only the SHA-256 of the token is kept.
    token_hash bytea PRIMARY KEY,
    store_id text NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX reconnect_tokens_store ON reconnect_tokens (store_id);

CREATE TABLE store_moves (
    id bigserial PRIMARY KEY,
    store_id text NOT NULL,
    from_tenant_id uuid NOT NULL,
    from_tenant_name text NOT NULL,
    to_tenant_id uuid NOT NULL,
    to_tenant_name text NOT NULL,
    from_connection_id uuid NOT NULL,
    to_connection_id uuid NOT NULL,
    proof text NOT NULL,
    confirmed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX store_moves_recent ON store_moves (confirmed_at DESC);
