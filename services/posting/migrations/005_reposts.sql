-- A failed day asked for again is a new attempt of the same posting (reopened in place):
-- how many times, so each attempt's PUT carries its own Idempotency-Key, and when the
-- last one was asked for, so its checks use a chart of accounts read after that moment.
ALTER TABLE postings ADD COLUMN reposts integer NOT NULL DEFAULT 0;
ALTER TABLE postings ADD COLUMN reposted_at timestamptz;
