-- The audit store: every event of every topic, as it was published, kept for at least three
-- years after the account's last activity (DOMAIN.md). It serves `arrears account history`
-- (one account's story, by index), `arrears replay` (the recorded inputs of a service, in the
-- order the service consumed them) and retention (personal data anonymised in place, the
-- decision trail kept). Written only by the audit service; idempotent by event id, so a
-- redelivery or a second publication of the same event is recorded once.
CREATE SCHEMA IF NOT EXISTS audit;
-- Every service schema has the outbox and inbox that the common service code prepares; the
-- recorder publishes nothing and dedupes by event id, so both stay empty.
CREATE TABLE audit.outbox (
    id         bigserial PRIMARY KEY,
    topic      text NOT NULL,
    key        text NOT NULL,
    value      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE audit.inbox (
    event_id        uuid PRIMARY KEY,
    topic           text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset    bigint NOT NULL,
    processed_at    timestamptz NOT NULL DEFAULT now());

CREATE TABLE audit.events (
    event_id        uuid PRIMARY KEY,
    namespace       text NOT NULL,   -- ARR_TOPIC_PREFIX of the deployment; '' in production
    topic           text NOT NULL,   -- without the namespace prefix
    kafka_partition integer NOT NULL,
    kafka_offset    bigint NOT NULL,
    tenant          text NOT NULL,
    account_id      text NOT NULL,
    event_type      text NOT NULL,
    event_time      timestamptz NOT NULL,
    causation_id    uuid,
    producer        text NOT NULL,
    message         text NOT NULL,   -- the envelope as published (jsonb casts it for analysts)
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    anonymised_at   timestamptz      -- retention removed the personal data of the payload
);
CREATE INDEX events_by_account ON audit.events (tenant, account_id, event_time);
CREATE INDEX events_by_cause ON audit.events (causation_id) WHERE causation_id IS NOT NULL;

-- A message that is not an arrears envelope is kept too, with why: nothing is dropped.
CREATE TABLE audit.undecodable (
    namespace       text NOT NULL,
    topic           text NOT NULL,
    kafka_partition integer NOT NULL,
    kafka_offset    bigint NOT NULL,
    reason          text NOT NULL,
    raw             text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace, topic, kafka_partition, kafka_offset)
);

-- Each service's inbox numbers its claims, so a replay folds the inputs in the very order
-- the service applied them (across topics, which Kafka does not order).
ALTER TABLE scoring.inbox ADD COLUMN seq bigserial;
ALTER TABLE outreach.inbox ADD COLUMN seq bigserial;
ALTER TABLE reconciliation.inbox ADD COLUMN seq bigserial;
CREATE INDEX inbox_seq ON scoring.inbox (seq);

-- What retention did: one row per account whose personal data was removed.
CREATE TABLE audit.erasures (
    tenant        text NOT NULL,
    account_id    text NOT NULL,
    erased_at     timestamptz NOT NULL DEFAULT now(),
    last_activity timestamptz NOT NULL,
    rows_changed  bigint NOT NULL,
    PRIMARY KEY (tenant, account_id)
);
