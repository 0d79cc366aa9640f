-- Each posting keeps its whole event (~5 KB with the journal), and each organisation its
-- chart of accounts: lz4 compresses them for a fraction of pglz's CPU (see totals'
-- 002_lz4_documents.sql). Rows already written keep pglz.
ALTER TABLE postings ALTER COLUMN event SET COMPRESSION lz4;
ALTER TABLE charts ALTER COLUMN accounts SET COMPRESSION lz4;
ALTER TABLE outbox ALTER COLUMN body SET COMPRESSION lz4;
