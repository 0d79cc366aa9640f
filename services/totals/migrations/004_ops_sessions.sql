-- Sessions of the ops page: random, kept server-side (only the SHA-256 of the cookie),
-- expiring, deleted at sign-out. Each has its own form token for the page's POSTs.
CREATE TABLE ops_sessions (
    id_hash bytea PRIMARY KEY,
    form_token text NOT NULL,
    -- What the last action said, shown once by the next page (never taken from the URL).
    flash text,
    flash_is_error boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX ops_sessions_expiry ON ops_sessions (expires_at);
