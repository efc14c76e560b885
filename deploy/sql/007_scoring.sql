-- Scoring's durable state. scoring.accounts holds each account's feature state (no personal
-- data: amounts, counts, flags, dates), the truth the Redis cache is rebuilt from, and the
-- partition its events arrive on (daily re-scoring goes partition by partition, each by the
-- replica that owns it). scoring.scores is the score history: one row per score event,
-- unique by its id (derived from the causing event), with the model's input at that time so
-- models can be trained on exactly what they saw, and the message as produced so a batch
-- whose Kafka transaction aborted after PostgreSQL committed is produced again unchanged.
-- paid_at is the first payment applied after the score: the training label.
CREATE TABLE scoring.accounts (
    tenant          text NOT NULL,
    account_id      text NOT NULL,
    kafka_partition integer NOT NULL,
    status          text NOT NULL,
    state           text NOT NULL,   -- scoring_state_encode
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, account_id)
);
CREATE INDEX accounts_by_partition ON scoring.accounts (kafka_partition) WHERE status = 'open';

CREATE TABLE scoring.scores (
    score_event_id          uuid PRIMARY KEY,
    cause_event_id          uuid NOT NULL,
    tenant                  text NOT NULL,
    account_id              text NOT NULL,
    scored_at               timestamptz NOT NULL,  -- event time of the cause
    cause_type              text NOT NULL,
    arm                     text NOT NULL CHECK (arm IN ('champion', 'challenger')),
    model_id                text NOT NULL,
    strategy_table_version  text NOT NULL,
    probability             double precision NOT NULL,
    expected_recovery_cents bigint NOT NULL,
    segment                 text NOT NULL,
    strategy                text NOT NULL,
    features                double precision[] NOT NULL,
    message                 text NOT NULL,
    paid_at                 timestamptz
);
CREATE INDEX scores_by_cause ON scoring.scores (cause_event_id);
CREATE INDEX scores_by_account ON scoring.scores (tenant, account_id, scored_at);
CREATE INDEX scores_by_time ON scoring.scores (scored_at);
ALTER TABLE scoring.inbox SET (autovacuum_vacuum_scale_factor = 0.05);
