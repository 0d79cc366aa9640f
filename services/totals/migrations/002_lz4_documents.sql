-- A day's totals (~1 KB) and journal (~4 KB) are written three times at its first close
-- (the day, its revision, the event in the outbox): rows over 2 KB are compressed, and
-- pglz, the default, was a third of PostgreSQL's CPU for that statement (1.05 -> 0.75 ms
-- per close with lz4: `python -m bench.close_sql --compression pglz|lz4`). Rows already
-- written keep pglz.
ALTER TABLE days ALTER COLUMN totals SET COMPRESSION lz4,
                 ALTER COLUMN journal SET COMPRESSION lz4;
ALTER TABLE day_revisions ALTER COLUMN totals SET COMPRESSION lz4,
                          ALTER COLUMN journal SET COMPRESSION lz4;
ALTER TABLE outbox ALTER COLUMN body SET COMPRESSION lz4;
