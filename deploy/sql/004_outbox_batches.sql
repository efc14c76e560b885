-- Batch-level outbox (common/outbatch): one row per committed batch of events, holding the
-- batch's messages as "key<TAB>value" lines, published from memory after the commit and
-- deleted once Kafka acknowledged them; read back only after a crash. lz4 keeps the WAL of a
-- batch small at little CPU cost.
CREATE TABLE ingest.outbox_batches (
    id         bigserial PRIMARY KEY,
    owner      bigint NOT NULL,  -- advisory-lock key its writer holds while it publishes it
    topic      text NOT NULL,
    messages   text COMPRESSION lz4 NOT NULL,
    n_messages integer NOT NULL CHECK (n_messages >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
