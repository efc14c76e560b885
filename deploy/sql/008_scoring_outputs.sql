-- Outputs of a consumed event other than its scores, kept with its claim so a batch whose
-- Kafka transaction aborted after PostgreSQL committed produces them again: the dead letter
-- of an event the account's state refused, and the continuation of a day's re-scoring (a
-- partition is re-scored a chunk of accounts at a time, each chunk naming the next).
CREATE TABLE scoring.outputs (
    event_id   uuid PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('dead_letter', 'clock')),
    key        text NOT NULL,
    message    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- A day's re-scoring walks a partition's open accounts in key order, a chunk at a time.
CREATE INDEX accounts_open_by_partition ON scoring.accounts (kafka_partition, tenant, account_id)
    WHERE status = 'open';
DROP INDEX scoring.accounts_by_partition;
