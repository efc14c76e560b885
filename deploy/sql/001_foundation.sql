-- Foundation: one schema per service (one writer per table), each with the transactional
-- outbox and the inbox of consumed event ids, plus the thin slice's first tables.
-- Money is bigint minor units with an ISO 4217 currency; times are timestamptz (UTC).

CREATE SCHEMA IF NOT EXISTS ingest;
CREATE SCHEMA IF NOT EXISTS scoring;
CREATE SCHEMA IF NOT EXISTS outreach;
CREATE SCHEMA IF NOT EXISTS reconciliation;

DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['ingest', 'scoring', 'outreach', 'reconciliation'] LOOP
    EXECUTE format('CREATE TABLE %I.outbox (
        id         bigserial PRIMARY KEY,
        topic      text NOT NULL,
        key        text NOT NULL,
        value      text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())', s);
    EXECUTE format('CREATE TABLE %I.inbox (
        event_id        uuid PRIMARY KEY,
        topic           text NOT NULL,
        kafka_partition integer NOT NULL,
        kafka_offset    bigint NOT NULL,
        processed_at    timestamptz NOT NULL DEFAULT now())', s);
  END LOOP;
END $$;

-- Ingest owns the creditor's view of each account.
CREATE TABLE ingest.accounts (
    tenant                 text NOT NULL,
    account_id             text NOT NULL,
    regime                 text NOT NULL CHECK (regime IN ('creditor', 'third_party')),
    currency               char(3) NOT NULL,
    balance_cents          bigint NOT NULL,
    original_balance_cents bigint NOT NULL,
    due_date               date NOT NULL,
    service_type           text NOT NULL,
    debtor_ref             text,
    placed_event_id        uuid NOT NULL,
    placed_at              timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    PRIMARY KEY (tenant, account_id)
);

-- Every record ingest could not accept, with where it came from and why. Never deleted by
-- the pipeline: accepted + rejected = read.
CREATE TABLE ingest.rejects (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL,      -- topic/partition/offset, file:line or http batch id
    tenant      text,
    account_id  text,
    field       text,
    reason_code text NOT NULL,
    detail      text NOT NULL,
    raw         text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Outreach owns the schedule of contact steps.
CREATE TABLE outreach.steps (
    step_id        uuid PRIMARY KEY,
    tenant         text NOT NULL,
    account_id     text NOT NULL,
    channel        text NOT NULL CHECK (channel IN ('email', 'sms', 'voice', 'letter')),
    due_at         timestamptz NOT NULL,
    status         text NOT NULL DEFAULT 'planned',
    cause_event_id uuid NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX steps_account ON outreach.steps (tenant, account_id);

-- Reconciliation owns the balance: balance = placed - applied + reversed, always.
CREATE TABLE reconciliation.ledger (
    tenant         text NOT NULL,
    account_id     text NOT NULL,
    currency       char(3) NOT NULL,
    placed_cents   bigint NOT NULL,
    applied_cents  bigint NOT NULL DEFAULT 0,
    reversed_cents bigint NOT NULL DEFAULT 0,
    balance_cents  bigint NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant, account_id),
    CHECK (balance_cents = placed_cents - applied_cents + reversed_cents)
);

CREATE TABLE reconciliation.payments (
    tenant       text NOT NULL,
    payment_id   text NOT NULL,
    account_id   text NOT NULL,
    source       text NOT NULL,
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    currency     char(3) NOT NULL,
    received_at  timestamptz NOT NULL,
    event_id     uuid NOT NULL,
    PRIMARY KEY (tenant, payment_id)
);
