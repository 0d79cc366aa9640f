-- Every service's outbox compresses its bodies with lz4 (see shared/outbox.py).
ALTER TABLE outbox ALTER COLUMN body SET COMPRESSION lz4;
