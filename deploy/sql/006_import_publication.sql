-- Batch-level commit protocol of the importer: a batch's account.placed events are published
-- from memory after its commit and not stored a second time; published_line says up to which
-- line Kafka has acknowledged them. After a crash the recovery publishes the placed events of
-- the accounts this import stored past that line again (same event ids), to the import's topic.
ALTER TABLE ingest.imports
    ADD COLUMN published_line bigint NOT NULL DEFAULT 0,
    ADD COLUMN topic text NOT NULL DEFAULT 'arrears.accounts';
UPDATE ingest.imports SET published_line = lines_done WHERE status = 'done';
