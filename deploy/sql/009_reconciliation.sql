-- Reconciliation: every payment from every source, matched, allocated, reversed, exactly once.
-- Ledger identity (checked by a constraint and by `arrears payments verify`):
--   balance = placed + adjusted - applied + reversed - waived
-- (adjusted: the creditor's later changes; waived: what a settlement forgave).

ALTER TABLE reconciliation.ledger
    ADD COLUMN adjusted_cents       bigint NOT NULL DEFAULT 0,
    ADD COLUMN waived_cents         bigint NOT NULL DEFAULT 0,
    ADD COLUMN status               text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'paid', 'settled', 'closed')),
    ADD COLUMN refund_due           boolean GENERATED ALWAYS AS (balance_cents < 0) STORED,
    ADD COLUMN kafka_partition      integer,
    ADD COLUMN invoice_id           text,
    ADD COLUMN debtor_name          text,   -- PERSONAL DATA: for matching by name only
    ADD COLUMN instalment_due_cents bigint NOT NULL DEFAULT 0,
    ADD COLUMN settlement_due_cents bigint NOT NULL DEFAULT 0,
    ADD COLUMN next_deadline        timestamptz,
    ADD COLUMN terms                jsonb NOT NULL DEFAULT '{"items": []}';
ALTER TABLE reconciliation.ledger DROP CONSTRAINT ledger_check;
ALTER TABLE reconciliation.ledger ADD CONSTRAINT ledger_identity
    CHECK (balance_cents = placed_cents + adjusted_cents - applied_cents + reversed_cents
                           - waived_cents);
CREATE INDEX ledger_invoice ON reconciliation.ledger (tenant, invoice_id);
CREATE INDEX ledger_amount ON reconciliation.ledger (tenant, balance_cents);
CREATE INDEX ledger_instalment ON reconciliation.ledger (tenant, instalment_due_cents)
    WHERE instalment_due_cents > 0;
CREATE INDEX ledger_settlement ON reconciliation.ledger (tenant, settlement_due_cents)
    WHERE settlement_due_cents > 0;
CREATE INDEX ledger_deadline ON reconciliation.ledger (kafka_partition, next_deadline)
    WHERE next_deadline IS NOT NULL;

-- One row per payment, return, notice or skipped entry any source reported, under its
-- source-unique id: a second delivery or a second import finds it here and changes nothing.
ALTER TABLE reconciliation.payments
    ALTER COLUMN account_id DROP NOT NULL,
    DROP CONSTRAINT payments_amount_cents_check,
    ADD COLUMN kind                text NOT NULL DEFAULT 'payment'
        CHECK (kind IN ('payment', 'return', 'notice', 'skipped')),
    ADD COLUMN status              text NOT NULL DEFAULT 'applied'
        CHECK (status IN ('applied', 'unmatched', 'resolved', 'reversing', 'pending_original',
                          'currency_mismatch', 'recorded')),
    ADD COLUMN matched_via         text,
    ADD COLUMN reference           text NOT NULL DEFAULT '',
    ADD COLUMN payer_name          text,   -- PERSONAL DATA
    ADD COLUMN end_to_end_id       text,
    ADD COLUMN type_code           text,
    ADD COLUMN return_code         text,
    ADD COLUMN returned_payment_id text,
    ADD COLUMN note                text,
    ADD COLUMN allocated_cents     bigint NOT NULL DEFAULT 0,
    ADD COLUMN unapplied_cents     bigint NOT NULL DEFAULT 0,
    ADD COLUMN reversed_cents      bigint NOT NULL DEFAULT 0,
    ADD COLUMN recorded_at         timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT payments_amount_check CHECK (amount_cents >= 0),
    ADD CONSTRAINT payments_allocation_check
        CHECK (kind <> 'payment' OR status NOT IN ('applied', 'resolved')
               OR allocated_cents + unapplied_cents = amount_cents),
    ADD CONSTRAINT payments_reversal_check CHECK (reversed_cents BETWEEN 0 AND amount_cents);
CREATE INDEX payments_account ON reconciliation.payments (tenant, account_id)
    WHERE account_id IS NOT NULL;
CREATE INDEX payments_returned ON reconciliation.payments (tenant, returned_payment_id)
    WHERE returned_payment_id IS NOT NULL;

-- Where each payment's money went: positive rows when applied, negative when reversed.
CREATE TABLE reconciliation.allocations (
    tenant      text NOT NULL,
    payment_id  text NOT NULL,   -- the payment whose money this is
    seq         integer NOT NULL,
    account_id  text NOT NULL,
    invoice_id  text NOT NULL,
    bucket      text NOT NULL CHECK (bucket IN ('fees', 'interest', 'principal', 'credit')),
    cents       bigint NOT NULL CHECK (cents <> 0),
    by_payment  text NOT NULL,   -- the payment itself, or the return that undid it
    at          timestamptz NOT NULL,
    PRIMARY KEY (tenant, payment_id, seq)
);

-- Payments no rule could place with certainty, for a person: with the candidates and why.
CREATE TABLE reconciliation.exceptions (
    tenant           text NOT NULL,
    payment_id       text NOT NULL,
    reason           text NOT NULL,
    detail           text NOT NULL,
    candidates       text[] NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'resolved', 'withdrawn')),
    opened_at        timestamptz NOT NULL,
    resolved_at      timestamptz,
    resolved_by      text,
    resolved_account text,
    PRIMARY KEY (tenant, payment_id)
);
CREATE INDEX exceptions_open ON reconciliation.exceptions (tenant, opened_at)
    WHERE status = 'open';

-- Plans, promises and settlement offers as they were made (the live state is in the
-- ledger's terms); each has the event that made it.
CREATE TABLE reconciliation.arrangements (
    tenant      text NOT NULL,
    id          text NOT NULL,
    account_id  text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('plan', 'promise', 'settlement')),
    terms       jsonb NOT NULL,
    made_by     text NOT NULL,
    made_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant, id)
);
