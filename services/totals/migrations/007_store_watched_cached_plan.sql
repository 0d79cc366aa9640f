-- The same question as 006's, in PL/pgSQL: a SQL function whose body cannot be inlined
-- (an EXISTS subquery) is planned again at every statement that calls it, where
-- PL/pgSQL keeps its plan for the session: about half the server CPU per call
-- (docs/performance.md). A close and its outcome call it once each.
CREATE OR REPLACE FUNCTION store_watched(store text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM watched_stores w WHERE w.store_id = store
                   AND w.until > now());
END
$$;
