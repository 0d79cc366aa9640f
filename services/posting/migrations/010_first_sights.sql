-- A batch of days none of which has a posting yet (the usual batch: a day is closed once)
-- recorded in one statement, instead of BEGIN, the days' locks, a read, the insert and
-- COMMIT. The locks are the recording's own (`adapters/recording.py`, the same keys);
-- the read after them sees whatever the previous holder of a lock committed, because a
-- VOLATILE function takes a fresh snapshot for each query it runs ("Function Volatility
-- Categories" in PostgreSQL's manual). Anything already recorded: nothing is written,
-- false is returned, and the caller decides under the locks in a transaction of its own.
CREATE FUNCTION record_first_sights(
    lock_keys text[], store_ids text[], business_dates date[], revisions int[],
    tenant_ids uuid[], connection_ids uuid[], event_ids uuid[], correlation_ids text[],
    narrations text[], events text[], states text[], outcomes text[]
) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(k)) FROM unnest(lock_keys) AS k ORDER BY k;
    -- LIMIT keeps each day an index probe, whatever plan is cached (see POSTINGS_OF_DAYS).
    IF EXISTS (SELECT 1 FROM unnest(store_ids, business_dates) AS d(store_id, day)
               CROSS JOIN LATERAL (SELECT 1 FROM postings p WHERE p.store_id = d.store_id
                                   AND p.business_date = d.day LIMIT 1) AS recorded) THEN
        RETURN false;
    END IF;
    INSERT INTO rate_budget (tenant_id)
        SELECT DISTINCT t FROM unnest(tenant_ids) AS t ORDER BY t ON CONFLICT DO NOTHING;
    INSERT INTO postings (store_id, business_date, revision, tenant_id, connection_id,
                          event_id, correlation_id, narration, event, state, outcome)
        SELECT * FROM unnest(store_ids, business_dates, revisions, tenant_ids,
                             connection_ids, event_ids, correlation_ids, narrations, events,
                             states, outcomes);
    RETURN true;
END
$$;
