-- Outreach: what it knows of each account and consumer, every step of every cadence run
-- (planned, sending, sent, suppressed, skipped, failed), consents, opt-outs and bad contact
-- points, replies, and the simulated campaign's clock. The service is the only writer.
--
-- Never twice: a step goes 'planned' -> 'sending' (committed, with its idempotency key,
-- before the provider is called) -> 'sent' | 'failed'. A replica that dies in between leaves
-- 'sending', and whoever claims the step next sends it again with the same key, which the
-- provider (Idempotency-Key) and the mail receiver (Message-ID) recognise.

-- PERSONAL DATA: debtor (names, contact points, address) as the placement gave it. Only this
-- service reads it, to address and word messages; it never leaves for logs, keys or Redis.
CREATE TABLE outreach.accounts (
    tenant               text NOT NULL,
    account_id           text NOT NULL,
    regime               text NOT NULL DEFAULT 'third_party'
        CHECK (regime IN ('creditor', 'third_party')),
    currency             char(3),
    balance_cents        bigint,
    original_cents       bigint,
    due_date             date,
    debtor               jsonb,          -- NULL until the placement is seen
    placed_at            timestamptz,
    status               text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'paid', 'settled', 'closed', 'disputed', 'cease',
                          'attorney', 'bankrupt', 'deceased')),
    status_rule          text,           -- the rule id that ended or paused outreach
    strategy             text,           -- the latest score's
    scored_at            timestamptz,
    -- the cadence run in progress (see services/outreach/cadence.h)
    run_no               integer NOT NULL DEFAULT 0,
    run_policy_version   text,
    run_scored_strategy  text,
    run_strategy         text,
    run_start            timestamptz,
    run_over             text,           -- rule id once the run ended without a next step
    sms_consent_at       timestamptz,
    voice_consent_at     timestamptz,
    stop_at              timestamptz,    -- the latest STOP-style reply
    dispute_at           timestamptz,
    original_creditor_at timestamptz,
    verification_at      timestamptz,
    validation_at        timestamptz,    -- the validation notice went out
    first_contact_at     timestamptz,
    promise_until        timestamptz,    -- regular steps wait until then (a promise, "I paid")
    hold_rule            text,           -- the rule id of that wait
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, account_id)
);

ALTER TABLE outreach.steps
    ADD COLUMN run_no              integer NOT NULL DEFAULT 0,
    ADD COLUMN step_key            text,     -- the cadence's step id, or an event step's name
    ADD COLUMN kind                text NOT NULL DEFAULT 'regular'
        CHECK (kind IN ('regular', 'validation_notice', 'opt_out_confirmation',
                        'cease_final_notice')),
    ADD COLUMN template_id         text,
    ADD COLUMN policy_version      text,
    ADD COLUMN strategy            text,
    ADD COLUMN done_at             timestamptz, -- sent, suppressed, skipped or failed then
    ADD COLUMN rule_id             text,
    ADD COLUMN attempts            integer NOT NULL DEFAULT 0,
    ADD COLUMN idempotency_key     text,
    ADD COLUMN address_id          text,     -- opaque id of the address or number used
    ADD COLUMN provider_message_id text,
    ADD COLUMN delivery            text,     -- delivered, undelivered, bad_contact, opted_out
    ADD COLUMN call_outcome        text
        CHECK (call_outcome IN ('attempt', 'no_answer', 'voicemail', 'conversation')),
    ADD COLUMN template_version    text,
    ADD COLUMN lang                text,
    ADD COLUMN cost_cents          bigint,
    ADD COLUMN stop_latency_ms     bigint,   -- stop event produced -> this step suppressed
    ADD COLUMN updated_at          timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT steps_status_check
        CHECK (status IN ('planned', 'sending', 'sent', 'suppressed', 'skipped', 'failed'));
CREATE UNIQUE INDEX steps_run_key ON outreach.steps (tenant, account_id, run_no, step_key)
    WHERE step_key IS NOT NULL;
CREATE INDEX steps_provider ON outreach.steps (tenant, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX steps_open ON outreach.steps (due_at) WHERE status IN ('planned', 'sending');

-- Opt-outs per address or number (address_id), or per medium (address_id 'medium:<channel>').
CREATE TABLE outreach.opt_outs (
    tenant     text NOT NULL,
    account_id text NOT NULL,
    address_id text NOT NULL,
    channel    text NOT NULL,
    reason     text NOT NULL,   -- reply_stop, provider_opted_out, reply_email, ...
    at         timestamptz NOT NULL,
    PRIMARY KEY (tenant, account_id, address_id)
);

-- Contact points the provider called bad for good (bounced address, invalid number).
CREATE TABLE outreach.bad_contacts (
    tenant     text NOT NULL,
    account_id text NOT NULL,
    address_id text NOT NULL,
    channel    text NOT NULL,
    error_code text NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (tenant, account_id, address_id)
);

-- Which accounts an address or number belongs to, to route an inbound reply (a STOP from a
-- number applies to every account reached at it). Ids only: address_id is a keyed hash.
CREATE TABLE outreach.contact_index (
    tenant     text NOT NULL,
    address_id text NOT NULL,
    account_id text NOT NULL,
    PRIMARY KEY (tenant, address_id, account_id)
);

-- Replies as applied (reply.received), for the account's history.
CREATE TABLE outreach.replies (
    tenant      text NOT NULL,
    account_id  text NOT NULL,
    reply_id    text NOT NULL,
    channel     text NOT NULL,
    intent      text NOT NULL,
    keyword     text,
    received_at timestamptz NOT NULL,
    event_id    uuid NOT NULL,
    PRIMARY KEY (tenant, account_id, reply_id)
);

-- A simulated campaign's time (ARR_OUTREACH_TIME=campaign): steps due before until_at may go.
-- One row per topic namespace, moved forward by clock.day_started.
CREATE TABLE outreach.campaign_clock (
    namespace text PRIMARY KEY,
    until_at  timestamptz NOT NULL
);

-- A provider's status callback can overtake the sender's record of the send (the provider
-- answers, calls back, and only then does the sender commit 'sent' with its message id). Such
-- callbacks wait here and are applied when the step is recorded.
CREATE TABLE outreach.early_callbacks (
    tenant              text NOT NULL,
    provider_message_id text NOT NULL,
    event_id            uuid NOT NULL,
    payload             jsonb NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, provider_message_id, event_id)
);
