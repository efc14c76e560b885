-- The business report (`arrears report`, docs/report.md): the measures of DOMAIN.md as SQL
-- functions of a tenant, a currency and UTC days, so analysts read the very numbers the
-- command prints. Days are whole UTC days: "as of D" means at the end of D (before D+1
-- 00:00 UTC); a period [from, to] includes both days.
--
-- Balances as of a day come from the history, not from the current balance alone: the
-- ledger's balance now, rewound by everything recorded after that day: allocations (applied
-- +, reversed -), the creditor's adjustments (account.updated) and settlement waivers
-- (payment.settled, and the reversal that undid one) from the audit store.
--
-- Money is bigint cents; rates are numeric (fractions rounded to 4 places, cost ratios to 6,
-- DSO in days and CEI in percent to 2), NULL when their denominator is zero.
-- Re-applicable: the schema is dropped and made again; the indexes below are kept.

DROP SCHEMA IF EXISTS report CASCADE;
CREATE SCHEMA report;

-- Range reads of one tenant by time, where no index served them (IF NOT EXISTS: this file
-- may be applied again). Allocations by time (balances rewound, money collected in a
-- period), finished steps by time (contacts, costs, suppressions), and the few audit event
-- types the report decodes.
CREATE INDEX IF NOT EXISTS allocations_by_time ON reconciliation.allocations (tenant, at);
CREATE INDEX IF NOT EXISTS steps_done ON outreach.steps (tenant, done_at)
    WHERE status IN ('sent', 'suppressed');
CREATE INDEX IF NOT EXISTS events_report ON audit.events (tenant, event_time)
    WHERE event_type IN ('account.updated', 'payment.settled', 'payment.reversed',
                         'outreach.deferred', 'outreach.suppressed');

-- ---- helpers -------------------------------------------------------------------------

-- 00:00 UTC of a day.
CREATE FUNCTION report.day_start(d date) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT d::timestamp AT TIME ZONE 'UTC' $$;

-- Aging buckets by days past due (days from the due date to the as-of day; not yet due and
-- due that very day are current).
CREATE VIEW report.aging_buckets (ord, bucket, first_day, last_day) AS
VALUES (1, 'current', NULL::integer, 0), (2, '1-30', 1, 30), (3, '31-60', 31, 60),
       (4, '61-90', 61, 90), (5, '91-180', 91, 180), (6, '180+', 181, NULL::integer);

CREATE FUNCTION report.aging_bucket(days_past_due integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN days_past_due <= 0 THEN 'current'
                WHEN days_past_due <= 30 THEN '1-30'
                WHEN days_past_due <= 60 THEN '31-60'
                WHEN days_past_due <= 90 THEN '61-90'
                WHEN days_past_due <= 180 THEN '91-180'
                ELSE '180+' END
$$;

-- Unmatched payments by age in days (opened day to the as-of day).
CREATE VIEW report.unmatched_buckets (ord, age, first_day, last_day) AS
VALUES (1, '0-2', 0, 2), (2, '3-7', 3, 7), (3, '8-30', 8, 30), (4, '31-90', 31, 90),
       (5, '91+', 91, NULL::integer);

CREATE FUNCTION report.unmatched_bucket(age_days integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN age_days <= 2 THEN '0-2'
                WHEN age_days <= 7 THEN '3-7'
                WHEN age_days <= 30 THEN '8-30'
                WHEN age_days <= 90 THEN '31-90'
                ELSE '91+' END
$$;

-- The currencies a tenant's accounts and payments are in (money is reported per currency).
CREATE FUNCTION report.currencies(p_tenant text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
    SELECT currency::text FROM reconciliation.ledger WHERE tenant = p_tenant
    UNION
    SELECT currency::text FROM reconciliation.payments WHERE tenant = p_tenant
    ORDER BY 1
$$;

-- ---- balances as of a day ------------------------------------------------------------

-- Changes of a balance other than allocations, from the audit store, with their effect on
-- the balance (cents, + owed more): an adjustment by the creditor, a waiver by a settlement
-- (-waived), and a reversal that undid the settling payment (+ the waiver it restored).
-- The payload is decoded once per row (OFFSET 0 keeps the subquery from being inlined).
CREATE VIEW report.balance_changes AS
SELECT e.tenant, e.account_id, e.event_time, e.event_type,
       CASE e.event_type
           WHEN 'account.updated' THEN
               (x.p ->> 'balance_cents')::bigint - (x.p ->> 'previous_balance_cents')::bigint
           WHEN 'payment.settled' THEN -(x.p ->> 'waived_cents')::bigint
           ELSE (SELECT (s.message::jsonb -> 'payload' ->> 'waived_cents')::bigint
                 FROM audit.events s
                 WHERE s.tenant = e.tenant AND s.account_id = e.account_id
                   AND s.event_type = 'payment.settled' AND s.event_time <= e.event_time
                   AND s.message::jsonb -> 'payload' ->> 'payment_id' = x.p ->> 'payment_id'
                 ORDER BY s.event_time DESC LIMIT 1)
       END AS effect_cents
FROM audit.events e
CROSS JOIN LATERAL (SELECT e.message::jsonb -> 'payload' AS p OFFSET 0) x
WHERE e.event_type IN ('account.updated', 'payment.settled', 'payment.reversed')
  AND (e.event_type <> 'payment.reversed' OR COALESCE((x.p ->> 'unsettled')::boolean, false));

-- Every account of the tenant in the currency placed by the end of p_end, with its balance
-- at the end of p_start (NULL when placed later) and at the end of p_end. One pass over the
-- accounts for both days: balance then = balance now + allocations after - changes after.
CREATE FUNCTION report.positions(p_tenant text, p_currency text, p_start date, p_end date)
RETURNS TABLE (account_id text, placed_at timestamptz, due_date date, placed_cents bigint,
               start_cents bigint, end_cents bigint)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT report.day_start(p_start + 1) AS t1, report.day_start(p_end + 1) AS t2),
    money AS (
        SELECT a.account_id, sum(a.cents) AS after_start,
               sum(a.cents) FILTER (WHERE a.at >= b.t2) AS after_end
        FROM reconciliation.allocations a, b
        WHERE a.tenant = p_tenant AND a.at >= b.t1
        GROUP BY a.account_id),
    changes AS (
        SELECT c.account_id, sum(c.effect_cents) AS after_start,
               sum(c.effect_cents) FILTER (WHERE c.event_time >= b.t2) AS after_end
        FROM report.balance_changes c, b
        WHERE c.tenant = p_tenant AND c.event_time >= b.t1
        GROUP BY c.account_id)
    SELECT l.account_id, i.placed_at, i.due_date, l.placed_cents,
           CASE WHEN i.placed_at < b.t1
                THEN (l.balance_cents + COALESCE(m.after_start, 0)
                      - COALESCE(c.after_start, 0))::bigint END,
           (l.balance_cents + COALESCE(m.after_end, 0) - COALESCE(c.after_end, 0))::bigint
    FROM reconciliation.ledger l
    JOIN ingest.accounts i ON i.tenant = l.tenant AND i.account_id = l.account_id
    CROSS JOIN b
    LEFT JOIN money m ON m.account_id = l.account_id
    LEFT JOIN changes c ON c.account_id = l.account_id
    WHERE l.tenant = p_tenant AND l.currency = p_currency::char(3) AND i.placed_at < b.t2
$$;

-- Each account placed by the end of p_as_of with its balance then.
CREATE FUNCTION report.balances(p_tenant text, p_currency text, p_as_of date)
RETURNS TABLE (account_id text, placed_at timestamptz, due_date date, placed_cents bigint,
               balance_cents bigint)
LANGUAGE sql STABLE AS $$
    SELECT account_id, placed_at, due_date, placed_cents, end_cents
    FROM report.positions(p_tenant, p_currency, p_as_of, p_as_of)
$$;

-- 1. Open receivables (balance > 0) by days past due at the end of p_as_of; every bucket.
CREATE FUNCTION report.aging(p_tenant text, p_currency text, p_as_of date)
RETURNS TABLE (ord integer, bucket text, accounts bigint, amount_cents bigint)
LANGUAGE sql STABLE AS $$
    WITH x AS (
        SELECT report.aging_bucket(p_as_of - b.due_date) AS bucket, count(*) AS n,
               sum(b.balance_cents) AS cents
        FROM report.balances(p_tenant, p_currency, p_as_of) b
        WHERE b.balance_cents > 0
        GROUP BY 1)
    SELECT k.ord, k.bucket, COALESCE(x.n, 0), COALESCE(x.cents, 0)::bigint
    FROM report.aging_buckets k LEFT JOIN x ON x.bucket = k.bucket
    ORDER BY k.ord
$$;

-- 1. The aging at the start of the period (end of p_from - 1) and at its end, in one pass.
CREATE FUNCTION report.aging_period(p_tenant text, p_currency text, p_from date, p_to date)
RETURNS TABLE (at text, as_of date, ord integer, bucket text, accounts bigint,
               amount_cents bigint)
LANGUAGE sql STABLE AS $$
    WITH p AS (SELECT * FROM report.positions(p_tenant, p_currency, p_from - 1, p_to)),
    x AS (
        SELECT 'start' AS at, report.aging_bucket(p_from - 1 - p.due_date) AS bucket,
               p.start_cents AS cents
        FROM p WHERE p.start_cents > 0
        UNION ALL
        SELECT 'end', report.aging_bucket(p_to - p.due_date), p.end_cents
        FROM p WHERE p.end_cents > 0),
    agg AS (SELECT x.at, x.bucket, count(*) AS n, sum(x.cents) AS cents FROM x GROUP BY 1, 2)
    SELECT w.at, w.as_of, k.ord, k.bucket, COALESCE(agg.n, 0), COALESCE(agg.cents, 0)::bigint
    FROM (VALUES ('start', p_from - 1), ('end', p_to)) w(at, as_of)
    CROSS JOIN report.aging_buckets k
    LEFT JOIN agg ON agg.at = w.at AND agg.bucket = k.bucket
    ORDER BY w.at DESC, k.ord
$$;

-- ---- money collected -----------------------------------------------------------------

-- Collected in a period: money allocated to the debt (fees, interest, principal; not the
-- credit of an overpayment, which is owed back) net of reversals, by when it happened.
-- A one-row table, used in FROM: a set-returning SQL function is inlined into its caller
-- and planned with its arguments' values, where a scalar one gets a generic plan.
CREATE FUNCTION report.collected(p_tenant text, p_currency text, p_from date, p_to date)
RETURNS TABLE (collected_cents bigint)
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(sum(a.cents), 0)::bigint
    FROM reconciliation.allocations a
    JOIN reconciliation.ledger l ON l.tenant = a.tenant AND l.account_id = a.account_id
    WHERE a.tenant = p_tenant AND a.at >= report.day_start(p_from)
      AND a.at < report.day_start(p_to + 1) AND a.bucket <> 'credit'
      AND l.currency = p_currency::char(3)
$$;

-- 3, 4. Receivables at both ends, credit sales (balances placed in the period), collections,
-- DSO = ending receivables / credit sales x days, and
-- CEI = (beginning + sales - ending) / (beginning + sales - ending current) x 100.
CREATE FUNCTION report.summary(p_tenant text, p_currency text, p_from date, p_to date)
RETURNS TABLE (days integer, beginning_cents bigint, credit_sales_cents bigint,
               placed_accounts bigint, ending_cents bigint, ending_current_cents bigint,
               collected_cents bigint, dso numeric, cei numeric)
LANGUAGE sql STABLE AS $$
    WITH p AS (SELECT * FROM report.positions(p_tenant, p_currency, p_from - 1, p_to)),
    s AS (
        SELECT COALESCE(sum(p.start_cents) FILTER (WHERE p.start_cents > 0), 0) AS b,
               COALESCE(sum(p.placed_cents)
                        FILTER (WHERE p.placed_at >= report.day_start(p_from)), 0) AS sales,
               count(*) FILTER (WHERE p.placed_at >= report.day_start(p_from)) AS placed,
               COALESCE(sum(p.end_cents) FILTER (WHERE p.end_cents > 0), 0) AS e,
               COALESCE(sum(p.end_cents)
                        FILTER (WHERE p.end_cents > 0 AND p.due_date >= p_to), 0) AS cur
        FROM p)
    SELECT (p_to - p_from + 1), s.b::bigint, s.sales::bigint, s.placed, s.e::bigint,
           s.cur::bigint, col.collected_cents,
           round(s.e * (p_to - p_from + 1) / NULLIF(s.sales, 0), 2),
           round(100 * (s.b + s.sales - s.e) / NULLIF(s.b + s.sales - s.cur, 0), 2)
    FROM s CROSS JOIN report.collected(p_tenant, p_currency, p_from, p_to) col
$$;

-- 2. Per placement month (UTC) of the accounts placed by the end of the period: placed
-- balance, collected from placement to the period's end and within the period; recovery
-- rate = collected to date / placed, liquidation rate = collected in the period / placed.
CREATE FUNCTION report.cohorts(p_tenant text, p_currency text, p_from date, p_to date)
RETURNS TABLE (cohort text, accounts bigint, placed_cents bigint, collected_cents bigint,
               collected_in_period_cents bigint, recovery_rate numeric,
               liquidation_rate numeric)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT report.day_start(p_from) AS t0, report.day_start(p_to + 1) AS t1),
    money AS (
        SELECT a.account_id, sum(a.cents) AS to_date,
               sum(a.cents) FILTER (WHERE a.at >= b.t0) AS in_period
        FROM reconciliation.allocations a, b
        WHERE a.tenant = p_tenant AND a.at < b.t1 AND a.bucket <> 'credit'
        GROUP BY a.account_id),
    acc AS (
        SELECT to_char(i.placed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS cohort, l.placed_cents,
               COALESCE(m.to_date, 0) AS to_date, COALESCE(m.in_period, 0) AS in_period
        FROM reconciliation.ledger l
        JOIN ingest.accounts i ON i.tenant = l.tenant AND i.account_id = l.account_id
        CROSS JOIN b
        LEFT JOIN money m ON m.account_id = l.account_id
        WHERE l.tenant = p_tenant AND l.currency = p_currency::char(3) AND i.placed_at < b.t1)
    SELECT cohort, count(*), sum(placed_cents)::bigint, sum(to_date)::bigint,
           sum(in_period)::bigint, round(sum(to_date) / NULLIF(sum(placed_cents), 0), 4),
           round(sum(in_period) / NULLIF(sum(placed_cents), 0), 4)
    FROM acc GROUP BY cohort ORDER BY cohort COLLATE "C"
$$;

-- 5. Contacts sent in the period by channel (steps 'sent', by when they were sent) and their
-- cost (the policy's unit cost recorded on the step), with cost / collected in the period;
-- a last row 'total'. Steps of accounts in the currency only (costs are in it).
CREATE FUNCTION report.contact_costs(p_tenant text, p_currency text, p_from date, p_to date)
RETURNS TABLE (ord integer, channel text, contacts bigint, cost_cents bigint,
               cost_per_collected numeric)
LANGUAGE sql STABLE AS $$
    WITH col AS (SELECT collected_cents AS c
                 FROM report.collected(p_tenant, p_currency, p_from, p_to)),
    sent AS (
        SELECT s.channel, count(*) AS n, COALESCE(sum(s.cost_cents), 0) AS cost
        FROM outreach.steps s
        JOIN reconciliation.ledger l ON l.tenant = s.tenant AND l.account_id = s.account_id
        WHERE s.tenant = p_tenant AND s.status = 'sent'
          AND s.done_at >= report.day_start(p_from) AND s.done_at < report.day_start(p_to + 1)
          AND l.currency = p_currency::char(3)
        GROUP BY s.channel),
    ch AS (
        SELECT k.ord, k.channel, COALESCE(sent.n, 0) AS n, COALESCE(sent.cost, 0) AS cost
        FROM (VALUES (1, 'email'), (2, 'sms'), (3, 'voice'), (4, 'letter')) k(ord, channel)
        LEFT JOIN sent ON sent.channel = k.channel
        UNION ALL
        SELECT 5, 'total', COALESCE(sum(sent.n), 0), COALESCE(sum(sent.cost), 0) FROM sent)
    SELECT ch.ord, ch.channel, ch.n::bigint, ch.cost::bigint,
           CASE WHEN col.c > 0 THEN round(ch.cost / col.c, 6) END
    FROM ch, col ORDER BY ch.ord
$$;

-- 6. Promises to pay whose last day (promised date + grace days, 3 unless the terms say)
-- falls in the period. Kept: the money applied to the account from the promise being made
-- to the end of its last day (net of reversals in that time, overpayment included, as
-- reconciliation counts it) reaches the promised amount. A promise replaced by a newer one
-- before its last day and not kept by then is neither kept nor broken: it is not counted.
CREATE FUNCTION report.promises(p_tenant text, p_from date, p_to date)
RETURNS TABLE (due bigint, kept bigint, broken bigint, kept_rate numeric)
LANGUAGE sql STABLE AS $$
    WITH p AS (
        SELECT r.id, r.account_id, r.made_at, (r.terms ->> 'amount_cents')::bigint AS amount,
               (r.terms ->> 'date')::date
                   + COALESCE((r.terms ->> 'grace_days')::integer, 3) AS last_day,
               lead(r.made_at) OVER (PARTITION BY r.account_id ORDER BY r.made_at, r.id)
                   AS replaced_at
        FROM reconciliation.arrangements r
        WHERE r.tenant = p_tenant AND r.kind = 'promise'),
    d AS (
        SELECT p.*, report.day_start(p.last_day + 1) AS deadline,
               COALESCE(p.replaced_at < report.day_start(p.last_day + 1), false) AS replaced
        FROM p WHERE p.last_day BETWEEN p_from AND p_to),
    paid AS (
        SELECT d.id, sum(a.cents) AS cents
        FROM d JOIN reconciliation.allocations a
          ON a.account_id = d.account_id AND a.at >= d.made_at
         AND a.at < CASE WHEN d.replaced THEN d.replaced_at ELSE d.deadline END
        WHERE a.tenant = p_tenant AND a.at < report.day_start(p_to + 1)
          AND a.at >= (SELECT min(made_at) FROM d)
        GROUP BY d.id),
    v AS (
        SELECT COALESCE(paid.cents, 0) >= d.amount AS kept, d.replaced
        FROM d LEFT JOIN paid ON paid.id = d.id),
    n AS (
        SELECT count(*) FILTER (WHERE kept OR NOT replaced) AS due,
               count(*) FILTER (WHERE kept) AS kept
        FROM v)
    SELECT n.due, n.kept, n.due - n.kept, round(n.kept::numeric / NULLIF(n.due, 0), 4) FROM n
$$;

-- 7. Right-party contact: of the accounts contacted in the period (at least one step sent),
-- those whose debtor was reached in the period: a voice step with call outcome
-- 'conversation', or a reply saying something only the debtor (or their attorney) says
-- about the debt (intent promise, paid, dispute, original_creditor_request, attorney). A STOP
-- or an unclassified reply is not one: whoever holds the number can send it.
CREATE FUNCTION report.right_party(p_tenant text, p_from date, p_to date)
RETURNS TABLE (contacted_accounts bigint, right_party_accounts bigint, rate numeric)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT report.day_start(p_from) AS t0, report.day_start(p_to + 1) AS t1),
    sent AS (
        SELECT s.account_id,
               bool_or(s.channel = 'voice' AND s.call_outcome = 'conversation') AS talked
        FROM outreach.steps s, b
        WHERE s.tenant = p_tenant AND s.status = 'sent' AND s.done_at >= b.t0
          AND s.done_at < b.t1
        GROUP BY s.account_id),
    answered AS (
        SELECT DISTINCT r.account_id
        FROM outreach.replies r, b
        WHERE r.tenant = p_tenant AND r.received_at >= b.t0 AND r.received_at < b.t1
          AND r.intent IN ('promise', 'paid', 'dispute', 'original_creditor_request',
                           'attorney')),
    n AS (
        SELECT count(*) AS contacted,
               count(*) FILTER (WHERE sent.talked OR a.account_id IS NOT NULL) AS rpc
        FROM sent LEFT JOIN answered a ON a.account_id = sent.account_id)
    SELECT n.contacted, n.rpc, round(n.rpc::numeric / NULLIF(n.contacted, 0), 4) FROM n
$$;

-- 8. Outreach decisions recorded only as events: deferrals, and suppressions of an account
-- with nothing planned (no step_id). The payload is decoded once per row.
CREATE VIEW report.outreach_decisions AS
SELECT e.tenant, e.account_id, e.event_type, e.event_time, x.p ->> 'rule_id' AS rule_id,
       x.p ->> 'step_id' AS step_id, x.p ->> 'channel' AS channel
FROM audit.events e
CROSS JOIN LATERAL (SELECT e.message::jsonb -> 'payload' AS p OFFSET 0) x
WHERE e.event_type IN ('outreach.deferred', 'outreach.suppressed');

-- 8. Per rule id, in the period: steps suppressed (outreach.steps, by when decided),
-- suppressions with no step (events), deferrals (events; a step deferred twice counts twice)
-- and the distinct steps deferred. Rules with nothing in the period are left out.
CREATE FUNCTION report.suppressions(p_tenant text, p_from date, p_to date)
RETURNS TABLE (rule_id text, suppressed_steps bigint, suppressed_unplanned bigint,
               deferrals bigint, deferred_steps bigint)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT report.day_start(p_from) AS t0, report.day_start(p_to + 1) AS t1),
    s AS (
        SELECT COALESCE(s.rule_id, 'unknown') AS rule_id, count(*) AS n
        FROM outreach.steps s, b
        WHERE s.tenant = p_tenant AND s.status = 'suppressed' AND s.done_at >= b.t0
          AND s.done_at < b.t1
        GROUP BY 1),
    ev AS (
        SELECT COALESCE(d.rule_id, 'unknown') AS rule_id,
               count(*) FILTER (WHERE d.event_type = 'outreach.suppressed'
                                  AND d.step_id IS NULL) AS unplanned,
               count(*) FILTER (WHERE d.event_type = 'outreach.deferred') AS deferrals,
               count(DISTINCT d.step_id) FILTER (WHERE d.event_type = 'outreach.deferred')
                   AS deferred_steps
        FROM report.outreach_decisions d, b
        WHERE d.tenant = p_tenant AND d.event_time >= b.t0 AND d.event_time < b.t1
        GROUP BY 1)
    SELECT rule_id, COALESCE(s.n, 0), COALESCE(ev.unplanned, 0), COALESCE(ev.deferrals, 0),
           COALESCE(ev.deferred_steps, 0)
    FROM s FULL JOIN ev USING (rule_id)
    WHERE COALESCE(s.n, 0) + COALESCE(ev.unplanned, 0) + COALESCE(ev.deferrals, 0) > 0
    ORDER BY rule_id COLLATE "C"
$$;

-- 9. Payments in the currency waiting in the exceptions queue at the end of p_as_of (opened
-- by then, not resolved or withdrawn by then), by age in days; every bucket.
CREATE FUNCTION report.unmatched(p_tenant text, p_currency text, p_as_of date)
RETURNS TABLE (ord integer, age text, payments bigint, amount_cents bigint)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT report.day_start(p_as_of + 1) AS t),
    x AS (
        SELECT report.unmatched_bucket(p_as_of - (e.opened_at AT TIME ZONE 'UTC')::date) AS age,
               count(*) AS n, sum(p.amount_cents) AS cents
        FROM reconciliation.exceptions e
        JOIN reconciliation.payments p ON p.tenant = e.tenant AND p.payment_id = e.payment_id
        CROSS JOIN b
        WHERE e.tenant = p_tenant AND e.opened_at < b.t
          AND (e.status = 'open' OR e.resolved_at >= b.t) AND p.currency = p_currency::char(3)
        GROUP BY 1)
    SELECT k.ord, k.age, COALESCE(x.n, 0), COALESCE(x.cents, 0)::bigint
    FROM report.unmatched_buckets k LEFT JOIN x ON x.age = k.age
    ORDER BY k.ord
$$;

-- 10. Champion against challenger, life to date at the end of p_as_of, over the accounts
-- placed by then: an account's arm is that of its latest score by then ('unscored' without
-- one); collected as in report.collected; contact cost = cost of its steps sent by then;
-- net recovery = collected - contact cost.
CREATE FUNCTION report.arms(p_tenant text, p_currency text, p_as_of date)
RETURNS TABLE (arm text, accounts bigint, placed_cents bigint, collected_cents bigint,
               recovery_rate numeric, contact_cost_cents bigint, net_recovery_cents bigint)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT report.day_start(p_as_of + 1) AS t),
    -- One pass over the tenant's scores (a lookup per account costs ten times more).
    arm AS (
        SELECT DISTINCT ON (s.account_id) s.account_id, s.arm
        FROM scoring.scores s, b
        WHERE s.tenant = p_tenant AND s.scored_at < b.t
        ORDER BY s.account_id, s.scored_at DESC),
    acc AS (
        SELECT l.account_id, l.placed_cents, COALESCE(arm.arm, 'unscored') AS arm
        FROM reconciliation.ledger l
        JOIN ingest.accounts i ON i.tenant = l.tenant AND i.account_id = l.account_id
        CROSS JOIN b
        LEFT JOIN arm ON arm.account_id = l.account_id
        WHERE l.tenant = p_tenant AND l.currency = p_currency::char(3) AND i.placed_at < b.t),
    money AS (
        SELECT a.account_id, sum(a.cents) AS cents
        FROM reconciliation.allocations a, b
        WHERE a.tenant = p_tenant AND a.at < b.t AND a.bucket <> 'credit'
        GROUP BY a.account_id),
    cost AS (
        SELECT s.account_id, sum(s.cost_cents) AS cents
        FROM outreach.steps s, b
        WHERE s.tenant = p_tenant AND s.status = 'sent' AND s.done_at < b.t
        GROUP BY s.account_id),
    per AS (
        SELECT acc.arm, acc.placed_cents, COALESCE(m.cents, 0) AS collected,
               COALESCE(c.cents, 0) AS cost
        FROM acc
        LEFT JOIN money m ON m.account_id = acc.account_id
        LEFT JOIN cost c ON c.account_id = acc.account_id)
    SELECT arm, count(*), sum(placed_cents)::bigint, sum(collected)::bigint,
           round(sum(collected) / NULLIF(sum(placed_cents), 0), 4), sum(cost)::bigint,
           (sum(collected) - sum(cost))::bigint
    FROM per GROUP BY arm ORDER BY arm COLLATE "C"
$$;
