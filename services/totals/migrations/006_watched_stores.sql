-- Stores whose days someone waits on (a POS request's wait, an event stream), in any
-- replica, until `until`: a day's change is notified only for these. A NOTIFY costs
-- every commit that sends one a database-wide lock (PostgreSQL's PreCommit_Notify) and
-- every listener a read; the closes of stores nobody waits on send none.
CREATE TABLE watched_stores (
    store_id text PRIMARY KEY,
    until timestamptz NOT NULL
);

CREATE FUNCTION store_watched(store text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM watched_stores w WHERE w.store_id = store
                   AND w.until > now())
$$;
