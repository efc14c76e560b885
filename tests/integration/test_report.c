/* Integration tests of the business report: the SQL functions of the report schema
 * (deploy/sql/014_report.sql) and `arrears report`, against the real PostgreSQL of the stack
 * (ARR_PG_CONNINFO), running the built binary (ARR_BIN_DIR).
 *
 * Each test's init writes a small portfolio under a tenant of its own ("rpt-<pid>-<time>")
 * straight into the services' tables: eight accounts with known placement days, due days and
 * balances, payments with their allocations (one returned, one overpaying, one settling and
 * then returned), the creditor's adjustments and a settlement in the audit store, steps sent
 * with costs per channel, suppressed steps, deferrals, replies, promises kept, broken and
 * replaced, unmatched payments of several ages (one in another currency), and scores of two
 * arms. Every expected number below is worked out by hand in the comments, never read back
 * from the code. The fini deletes the tenant's rows, also when an assertion failed.
 *
 * The period is March 2026: from 2026-03-01 to 2026-03-31, 31 days. "Start" is the end of
 * 2026-02-28, "end" the end of 2026-03-31 (UTC). Events at 23:59:59 and 00:00:00 sit on the
 * period's edges on purpose. Amounts are USD cents.
 *
 * The portfolio (placed = ledger placed_cents):
 *   A1 placed 2026-01-15, due 2025-11-30, 10000. P1 3000 on 02-28 23:59:59; P2 2000 on 03-10,
 *      returned by R2 on 03-20; P3 1000 on 04-01 00:00:00; the creditor adds 500 on 04-03.
 *      Ledger now: applied 6000, reversed 2000, adjusted +500, balance 6500.
 *   A2 placed 2026-02-01, due 2026-01-29, 5000. P4 5000 on 03-05 (500 fees + 4500 principal).
 *   A3 placed 2026-03-10, due 2026-03-20, 20000. Creditor lowers it by 2000 on 03-15 (20000 ->
 *      18000); P5 8000 on 04-02. Ledger now: adjusted -2000, applied 8000, balance 10000.
 *   A4 placed 2026-03-20, due 2026-04-15, 3000. Nothing paid. No score.
 *   A5 placed 2025-06-10, due 2025-05-01, 40000. P6 10000 on 03-12 completes a settlement:
 *      30000 waived (payment.settled). Ledger now: applied 10000, waived 30000, balance 0.
 *   A6 placed 2026-02-15, due 2026-02-01, 1500. P7 2000 on 03-25: 1500 principal + 500
 *      credit. Ledger now: balance -500.
 *   A7 placed 2026-04-05 (after the period), due 2026-03-01, 999, paid by P8 on 04-06: in no
 *      measure of March.
 *   A8 placed 2026-01-10, due 2025-11-15, 8000. P9 2000 on 03-03 settles (6000 waived), P9
 *      returned by R9 on 03-08, which undoes the settlement (payment.reversed unsettled).
 *      Ledger now: applied 2000, reversed 2000, waived 0, balance 8000. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arrears/pg.h"
#include "cli_env.h"

static char tenant[64];
static arr_pg *admin;

/* ------------------------------------------------------------------ helpers */

/* Runs sql with $1 = the tenant. */
static void exec_t(const char *sql)
{
    const char *params[] = {tenant};
    db_exec(admin, sql, 1, params);
}

static void exec_plain(const char *sql)
{
    char err[512] = "";
    arr_err e = arr_pg_exec(admin, sql, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "%s: %s", sql, err);
}

/* The rows of sql ($1 = who) as "a|b|c\n" lines, NULL as "null", compared with expected. */
static void expect_rows_for(const char *who, const char *sql, const char *expected)
{
    const char *params[] = {who};
    PGresult *res = db_query(admin, sql, 1, params);
    char got[4096];
    size_t used = 0;
    got[0] = '\0';
    for (int r = 0; r < PQntuples(res); r++) {
        for (int c = 0; c < PQnfields(res); c++) {
            int n = snprintf(got + used, sizeof(got) - used, "%s%s", c ? "|" : "",
                             PQgetisnull(res, r, c) ? "null" : PQgetvalue(res, r, c));
            cr_assert(n >= 0 && (size_t)n < sizeof(got) - used, "result too long");
            used += (size_t)n;
        }
        cr_assert(used + 1 < sizeof(got));
        got[used++] = '\n';
        got[used] = '\0';
    }
    PQclear(res);
    cr_assert_str_eq(got, expected, "%s\ngot:\n%s\nexpected:\n%s", sql, got, expected);
}

static void expect_rows(const char *sql, const char *expected)
{
    expect_rows_for(tenant, sql, expected);
}

static json_t *get(json_t *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
        if (json_is_array(cur))
            cur = json_array_get(cur, (size_t)atoi(k));
        else
            cur = json_object_get(cur, k);
        cr_assert_not_null(cur, "no %s in the report (at %s)", path, k);
    }
    return cur;
}

static void expect_int(json_t *o, const char *path, json_int_t want)
{
    json_t *v = get(o, path);
    cr_assert(json_is_integer(v), "%s is not an integer", path);
    cr_assert_eq(json_integer_value(v), want, "%s: %lld, expected %lld", path,
                 (long long)json_integer_value(v), (long long)want);
}

static void expect_num(json_t *o, const char *path, double want)
{
    json_t *v = get(o, path);
    cr_assert(json_is_number(v), "%s is not a number", path);
    cr_assert(fabs(json_number_value(v) - want) < 1e-9, "%s: %.10g, expected %.10g", path,
              json_number_value(v), want);
}

static void expect_null(json_t *o, const char *path)
{
    cr_assert(json_is_null(get(o, path)), "%s should be null", path);
}

static void expect_str(json_t *o, const char *path, const char *want)
{
    json_t *v = get(o, path);
    cr_assert(json_is_string(v), "%s is not a string", path);
    cr_assert_str_eq(json_string_value(v), want, "%s", path);
}

static json_t *report_json(const char *who, const char *extra)
{
    static char out[1 << 16];
    int rc = run_cli_stdout(out, sizeof(out),
                            "report --tenant '%s' --from 2026-03-01 --to 2026-03-31 %s --json", who,
                            extra);
    cr_assert_eq(rc, 0, "arrears report exited %d", rc);
    json_error_t jerr;
    json_t *doc = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
    cr_assert_not_null(doc, "report is not JSON: %s\n%s", jerr.text, out);
    return doc;
}

/* ------------------------------------------------------------------ the portfolio */

static const char *const portfolio[] = {
    "INSERT INTO ingest.accounts (tenant, account_id, regime, currency, balance_cents,"
    " original_balance_cents, due_date, service_type, placed_event_id, placed_at, updated_at)"
    " SELECT $1, a, 'third_party', 'USD', c, c, d::date, 'water', gen_random_uuid(),"
    " p::timestamptz, p::timestamptz FROM (VALUES"
    " ('A1', '2025-11-30', '2026-01-15 12:00+00', 10000),"
    " ('A2', '2026-01-29', '2026-02-01 12:00+00', 5000),"
    " ('A3', '2026-03-20', '2026-03-10 12:00+00', 20000),"
    " ('A4', '2026-04-15', '2026-03-20 12:00+00', 3000),"
    " ('A5', '2025-05-01', '2025-06-10 12:00+00', 40000),"
    " ('A6', '2026-02-01', '2026-02-15 12:00+00', 1500),"
    " ('A7', '2026-03-01', '2026-04-05 12:00+00', 999),"
    " ('A8', '2025-11-15', '2026-01-10 12:00+00', 8000)) v(a, d, p, c)",

    "INSERT INTO reconciliation.ledger (tenant, account_id, currency, placed_cents,"
    " adjusted_cents, applied_cents, reversed_cents, waived_cents, balance_cents, status,"
    " updated_at) SELECT $1, a, 'USD', pl, adj, app, rev, wai, pl + adj - app + rev - wai, s,"
    " '2026-04-06 12:00+00' FROM (VALUES"
    " ('A1', 10000, 500, 6000, 2000, 0, 'open'), ('A2', 5000, 0, 5000, 0, 0, 'paid'),"
    " ('A3', 20000, -2000, 8000, 0, 0, 'open'), ('A4', 3000, 0, 0, 0, 0, 'open'),"
    " ('A5', 40000, 0, 10000, 0, 30000, 'settled'), ('A6', 1500, 0, 2000, 0, 0, 'paid'),"
    " ('A7', 999, 0, 999, 0, 0, 'paid'), ('A8', 8000, 0, 2000, 2000, 0, 'open'))"
    " v(a, pl, adj, app, rev, wai, s)",

    "INSERT INTO reconciliation.payments (tenant, payment_id, account_id, source, amount_cents,"
    " currency, received_at, event_id, kind, status, allocated_cents, unapplied_cents,"
    " reversed_cents, returned_payment_id) SELECT $1, p, a, 'json', amt, cur, t::timestamptz,"
    " gen_random_uuid(), k, s, al, un, rv, ret FROM (VALUES"
    " ('P1', 'A1', 3000, 'USD', '2026-02-28 23:59:59+00', 'payment', 'applied', 3000, 0, 0,"
    "  NULL),"
    " ('P2', 'A1', 2000, 'USD', '2026-03-10 12:00+00', 'payment', 'applied', 2000, 0, 2000,"
    "  NULL),"
    " ('R2', 'A1', 2000, 'USD', '2026-03-20 12:00+00', 'return', 'applied', 0, 0, 0, 'P2'),"
    " ('P3', 'A1', 1000, 'USD', '2026-04-01 00:00:00+00', 'payment', 'applied', 1000, 0, 0,"
    "  NULL),"
    " ('P4', 'A2', 5000, 'USD', '2026-03-05 12:00+00', 'payment', 'applied', 5000, 0, 0,"
    "  NULL),"
    " ('P5', 'A3', 8000, 'USD', '2026-04-02 12:00+00', 'payment', 'applied', 8000, 0, 0,"
    "  NULL),"
    " ('P6', 'A5', 10000, 'USD', '2026-03-12 12:00+00', 'payment', 'applied', 10000, 0, 0,"
    "  NULL),"
    " ('P7', 'A6', 2000, 'USD', '2026-03-25 12:00+00', 'payment', 'applied', 1500, 500, 0,"
    "  NULL),"
    " ('P8', 'A7', 999, 'USD', '2026-04-06 12:00+00', 'payment', 'applied', 999, 0, 0, NULL),"
    " ('P9', 'A8', 2000, 'USD', '2026-03-03 12:00+00', 'payment', 'applied', 2000, 0, 2000,"
    "  NULL),"
    " ('R9', 'A8', 2000, 'USD', '2026-03-08 12:00+00', 'return', 'applied', 0, 0, 0, 'P9'),"
    " ('X1', NULL, 777, 'USD', '2026-03-30 10:00+00', 'payment', 'unmatched', 0, 0, 0, NULL),"
    " ('X2', NULL, 1234, 'USD', '2026-03-01 10:00+00', 'payment', 'unmatched', 0, 0, 0, NULL),"
    " ('X3', NULL, 300, 'USD', '2026-03-05 10:00+00', 'payment', 'resolved', 300, 0, 0, NULL),"
    " ('X4', NULL, 500, 'USD', '2026-03-10 10:00+00', 'payment', 'resolved', 500, 0, 0, NULL),"
    " ('X5', NULL, 650, 'USD', '2026-04-01 00:00+00', 'payment', 'unmatched', 0, 0, 0, NULL),"
    " ('X6', NULL, 4200, 'USD', '2025-12-01 10:00+00', 'payment', 'unmatched', 0, 0, 0, NULL),"
    " ('X7', NULL, 888, 'USD', '2026-03-25 10:00+00', 'payment', 'unmatched', 0, 0, 0, NULL),"
    " ('X8', NULL, 999, 'CAD', '2026-03-20 10:00+00', 'payment', 'unmatched', 0, 0, 0, NULL))"
    " v(p, a, amt, cur, t, k, s, al, un, rv, ret)",

    /* Positive rows when applied, negative when a return undid them. */
    "INSERT INTO reconciliation.allocations (tenant, payment_id, seq, account_id, invoice_id,"
    " bucket, cents, by_payment, at) SELECT $1, p, n, a, 'inv-' || a, b, c, bp, t::timestamptz"
    " FROM (VALUES"
    " ('P1', 1, 'A1', 'principal', 3000, 'P1', '2026-02-28 23:59:59+00'),"
    " ('P2', 1, 'A1', 'principal', 2000, 'P2', '2026-03-10 12:00+00'),"
    " ('P2', 2, 'A1', 'principal', -2000, 'R2', '2026-03-20 12:00+00'),"
    " ('P3', 1, 'A1', 'principal', 1000, 'P3', '2026-04-01 00:00:00+00'),"
    " ('P4', 1, 'A2', 'fees', 500, 'P4', '2026-03-05 12:00+00'),"
    " ('P4', 2, 'A2', 'principal', 4500, 'P4', '2026-03-05 12:00+00'),"
    " ('P5', 1, 'A3', 'principal', 8000, 'P5', '2026-04-02 12:00+00'),"
    " ('P6', 1, 'A5', 'principal', 10000, 'P6', '2026-03-12 12:00+00'),"
    " ('P7', 1, 'A6', 'principal', 1500, 'P7', '2026-03-25 12:00+00'),"
    " ('P7', 2, 'A6', 'credit', 500, 'P7', '2026-03-25 12:00+00'),"
    " ('P8', 1, 'A7', 'principal', 999, 'P8', '2026-04-06 12:00+00'),"
    " ('P9', 1, 'A8', 'principal', 2000, 'P9', '2026-03-03 12:00+00'),"
    " ('P9', 2, 'A8', 'principal', -2000, 'R9', '2026-03-08 12:00+00'))"
    " v(p, n, a, b, c, bp, t)",

    "INSERT INTO reconciliation.exceptions (tenant, payment_id, reason, detail, status,"
    " opened_at, resolved_at) SELECT $1, p, 'no_candidate', 'test', s, o::timestamptz,"
    " r::timestamptz FROM (VALUES"
    " ('X1', 'open', '2026-03-30 10:00+00', NULL),"
    " ('X2', 'open', '2026-03-01 10:00+00', NULL),"
    " ('X3', 'resolved', '2026-03-05 10:00+00', '2026-03-06 10:00+00'),"
    " ('X4', 'resolved', '2026-03-10 10:00+00', '2026-04-02 10:00+00'),"
    " ('X5', 'open', '2026-04-01 00:00+00', NULL),"
    " ('X6', 'open', '2025-12-01 10:00+00', NULL),"
    " ('X7', 'open', '2026-03-25 10:00+00', NULL),"
    " ('X8', 'open', '2026-03-20 10:00+00', NULL)) v(p, s, o, r)",

    "INSERT INTO reconciliation.arrangements (tenant, id, account_id, kind, terms, made_by,"
    " made_at) SELECT $1, i, a, k, t::jsonb, 'test', m::timestamptz FROM (VALUES"
    " ('PR1', 'A2', 'promise',"
    "  '{\"amount_cents\": 5000, \"date\": \"2026-03-04\", \"grace_days\": 3}',"
    "  '2026-03-01 12:00+00'),"
    " ('PR2', 'A6', 'promise',"
    "  '{\"amount_cents\": 2500, \"date\": \"2026-03-22\", \"grace_days\": 3}',"
    "  '2026-03-15 12:00+00'),"
    " ('PR3', 'A1', 'promise',"
    "  '{\"amount_cents\": 2000, \"date\": \"2026-03-12\", \"grace_days\": 0}',"
    "  '2026-03-01 12:00+00'),"
    " ('PR4', 'A3', 'promise',"
    "  '{\"amount_cents\": 5000, \"date\": \"2026-03-30\", \"grace_days\": 3}',"
    "  '2026-03-16 12:00+00'),"
    " ('PR5', 'A4', 'promise', '{\"amount_cents\": 1000, \"date\": \"2026-03-24\"}',"
    "  '2026-03-21 12:00+00'),"
    " ('PR6', 'A5', 'promise',"
    "  '{\"amount_cents\": 10000, \"date\": \"2026-03-08\", \"grace_days\": 3}',"
    "  '2026-03-01 12:00+00'),"
    " ('PR7', 'A5', 'promise',"
    "  '{\"amount_cents\": 10000, \"date\": \"2026-03-12\", \"grace_days\": 0}',"
    "  '2026-03-05 12:00+00'),"
    " ('PL8', 'A8', 'plan', '{\"instalments\": [{\"due_date\": \"2026-03-10\","
    "  \"amount_cents\": 8000}]}', '2026-03-02 12:00+00')) v(i, a, k, t, m)",

    "INSERT INTO outreach.steps (step_id, tenant, account_id, channel, due_at, status,"
    " cause_event_id, done_at, rule_id, cost_cents, call_outcome) SELECT gen_random_uuid(),"
    " $1, a, ch, COALESCE(d::timestamptz, '2026-03-01 09:00+00'), s, gen_random_uuid(),"
    " d::timestamptz, r, c, o FROM (VALUES"
    " ('A1', 'email', 'sent', '2026-02-20 15:00+00', NULL, 2, NULL),"
    " ('A1', 'email', 'sent', '2026-03-02 15:00+00', NULL, 2, NULL),"
    " ('A1', 'sms', 'sent', '2026-03-05 15:00+00', NULL, 5, NULL),"
    " ('A1', 'voice', 'sent', '2026-03-08 15:00+00', NULL, 40, 'conversation'),"
    " ('A2', 'email', 'sent', '2026-03-02 15:00+00', NULL, 2, NULL),"
    " ('A2', 'sms', 'planned', NULL, NULL, NULL, NULL),"
    " ('A3', 'email', 'sent', '2026-03-11 15:00+00', NULL, 2, NULL),"
    " ('A3', 'letter', 'sent', '2026-03-12 15:00+00', NULL, 90, NULL),"
    " ('A4', 'email', 'failed', '2026-03-21 15:00+00', NULL, NULL, NULL),"
    " ('A4', 'sms', 'sent', '2026-04-01 00:00:00+00', NULL, 5, NULL),"
    " ('A5', 'voice', 'sent', '2026-03-03 15:00+00', NULL, 40, 'no_answer'),"
    " ('A5', 'voice', 'suppressed', '2026-02-25 15:00+00',"
    "  'regf.1006.14b2.call_frequency_7in7', NULL, NULL),"
    " ('A5', 'voice', 'suppressed', '2026-03-04 15:00+00',"
    "  'regf.1006.14b2.call_frequency_7in7', NULL, NULL),"
    " ('A6', 'sms', 'sent', '2026-03-31 23:59:59+00', NULL, 5, NULL),"
    " ('A6', 'sms', 'suppressed', '2026-03-17 15:00+00', 'tcpa.revoked_stop', NULL, NULL),"
    " ('A6', 'email', 'suppressed', '2026-03-18 15:00+00', 'tcpa.revoked_stop', NULL, NULL))"
    " v(a, ch, s, d, r, c, o)",

    "INSERT INTO outreach.replies (tenant, account_id, reply_id, channel, intent, received_at,"
    " event_id) SELECT $1, a, i, ch, it, t::timestamptz, gen_random_uuid() FROM (VALUES"
    " ('A2', 'r1', 'sms', 'promise', '2026-03-01 10:00+00'),"
    " ('A3', 'r2', 'email', 'paid', '2026-04-03 10:00+00'),"
    " ('A5', 'r3', 'sms', 'other', '2026-03-04 10:00+00'),"
    " ('A6', 'r4', 'sms', 'stop', '2026-03-16 10:00+00'),"
    " ('A4', 'r5', 'email', 'dispute', '2026-03-22 10:00+00')) v(a, i, ch, it, t)",

    "INSERT INTO scoring.scores (score_event_id, cause_event_id, tenant, account_id, scored_at,"
    " cause_type, arm, model_id, strategy_table_version, probability, expected_recovery_cents,"
    " segment, strategy, features, message) SELECT gen_random_uuid(), gen_random_uuid(), $1,"
    " a, t::timestamptz, 'account.placed', arm, 'm', 'v', 0.5, 0, 's', 'x', '{}', '{}'"
    " FROM (VALUES"
    " ('A1', '2026-01-15 12:00+00', 'champion'), ('A1', '2026-03-01 00:00+00', 'champion'),"
    " ('A2', '2026-02-01 12:00+00', 'champion'), ('A5', '2025-06-10 12:00+00', 'champion'),"
    " ('A8', '2026-01-10 12:00+00', 'champion'), ('A3', '2026-03-10 12:00+00', 'challenger'),"
    " ('A3', '2026-04-05 00:00+00', 'challenger'), ('A6', '2026-02-15 12:00+00', 'challenger'))"
    " v(a, t, arm)",

    /* The audit store: envelopes as published, the payload inside. */
    "INSERT INTO audit.events (event_id, namespace, topic, kafka_partition, kafka_offset,"
    " tenant, account_id, event_type, event_time, producer, message) SELECT"
    " gen_random_uuid(), 'rpt-test', tp, 0, n, $1, a, ty, t::timestamptz, 'test',"
    " jsonb_build_object('event_type', ty, 'tenant', $1::text, 'account', a, 'payload',"
    " p::jsonb)::text FROM (VALUES"
    " (1, 'accounts', 'A3', 'account.updated', '2026-03-15 12:00+00',"
    "  '{\"balance_cents\": 18000, \"previous_balance_cents\": 20000}'),"
    " (2, 'accounts', 'A1', 'account.updated', '2026-04-03 12:00+00',"
    "  '{\"balance_cents\": 7000, \"previous_balance_cents\": 6500}'),"
    " (3, 'payments.events', 'A5', 'payment.settled', '2026-03-12 12:00+00',"
    "  '{\"settlement_id\": \"S5\", \"paid_cents\": 10000, \"waived_cents\": 30000,"
    "  \"currency\": \"USD\", \"payment_id\": \"P6\"}'),"
    " (4, 'payments.events', 'A8', 'payment.settled', '2026-03-03 12:00+00',"
    "  '{\"settlement_id\": \"S8\", \"paid_cents\": 2000, \"waived_cents\": 6000,"
    "  \"currency\": \"USD\", \"payment_id\": \"P9\"}'),"
    " (5, 'payments.events', 'A8', 'payment.reversed', '2026-03-08 12:00+00',"
    "  '{\"payment_id\": \"P9\", \"amount_cents\": 2000, \"currency\": \"USD\","
    "  \"balance_after_cents\": 8000, \"unsettled\": true}'),"
    " (6, 'payments.events', 'A1', 'payment.reversed', '2026-03-20 12:00+00',"
    "  '{\"payment_id\": \"P2\", \"amount_cents\": 2000, \"currency\": \"USD\","
    "  \"balance_after_cents\": 8000, \"unsettled\": false}'),"
    " (7, 'outreach.events', 'A1', 'outreach.deferred', '2026-03-02 09:00+00',"
    "  '{\"step_id\": \"D1\", \"channel\": \"email\","
    "  \"rule_id\": \"regf.1006.6b1.inconvenient_time\", \"until\": \"2026-03-02T14:00:00Z\"}'),"
    " (8, 'outreach.events', 'A1', 'outreach.deferred', '2026-03-02 10:00+00',"
    "  '{\"step_id\": \"D1\", \"channel\": \"email\","
    "  \"rule_id\": \"regf.1006.6b1.inconvenient_time\", \"until\": \"2026-03-02T14:00:00Z\"}'),"
    " (9, 'outreach.events', 'A3', 'outreach.deferred', '2026-03-11 07:00+00',"
    "  '{\"step_id\": \"D2\", \"channel\": \"email\","
    "  \"rule_id\": \"regf.1006.6b1.inconvenient_time\", \"until\": \"2026-03-11T14:00:00Z\"}'),"
    " (10, 'outreach.events', 'A5', 'outreach.deferred', '2026-03-06 12:00+00',"
    "  '{\"step_id\": \"D3\", \"channel\": \"voice\","
    "  \"rule_id\": \"regf.1006.14b2.call_frequency_7in7\", \"until\": \"2026-03-09T14:00:00Z\"}'),"
    " (11, 'outreach.events', 'A1', 'outreach.deferred', '2026-02-27 12:00+00',"
    "  '{\"step_id\": \"D4\", \"channel\": \"email\","
    "  \"rule_id\": \"regf.1006.6b1.inconvenient_time\", \"until\": \"2026-02-27T14:00:00Z\"}'),"
    " (12, 'outreach.events', 'A4', 'outreach.suppressed', '2026-03-20 13:00+00',"
    "  '{\"rule_id\": \"value.below_contact_cost\", \"detail\": \"not worth a contact\"}'),"
    " (13, 'outreach.events', 'A6', 'outreach.suppressed', '2026-03-17 15:00+00',"
    "  '{\"step_id\": \"S6\", \"channel\": \"sms\", \"rule_id\": \"tcpa.revoked_stop\"}'))"
    " v(n, tp, a, ty, t, p)",
};

static void cleanup(void)
{
    static const char *const tables[] = {"ingest.accounts",
                                         "reconciliation.ledger",
                                         "reconciliation.payments",
                                         "reconciliation.allocations",
                                         "reconciliation.exceptions",
                                         "reconciliation.arrangements",
                                         "outreach.steps",
                                         "outreach.replies",
                                         "scoring.scores",
                                         "audit.events"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE tenant = $1", tables[i]);
        exec_t(sql);
    }
}

static void setup(void)
{
    snprintf(tenant, sizeof(tenant), "rpt-%ld-%ld", (long)getpid(), (long)time(NULL));
    admin = db_connect_or_fail();
    /* One transaction: a portfolio that fails to load leaves nothing behind. */
    exec_plain("BEGIN");
    for (size_t i = 0; i < sizeof(portfolio) / sizeof(portfolio[0]); i++)
        exec_t(portfolio[i]);
    exec_plain("COMMIT");
}

static void teardown(void)
{
    if (admin) {
        cleanup();
        arr_pg_free(admin);
        admin = NULL;
    }
}

TestSuite(report, .init = setup, .fini = teardown, .timeout = 120);

/* ------------------------------------------------------------------ the SQL functions */

/* Balances rewound from the ledger's current ones:
 *   A1 at the end of 03-05: only P1 paid by then, 10000 - 3000 = 7000; from now: 6500 +
 *      allocations after (2000 - 2000 + 1000) - changes after (+500 on 04-03) = 7000.
 *   A5 at the end of 03-05: 40000 (P6 and the waiver come on 03-12): 0 + 10000 + 30000.
 *   A8 at the end of 03-05: settled on 03-03, 8000 - 2000 - 6000 waived = 0; from now: 8000 +
 *      allocations after (-2000, R9) - changes after (+6000, the reversal restoring the
 *      waiver) = 0.
 *   A7 is not placed by then: absent.
 * At the end of 03-31: A1 6500 + 1000 (P3 at 04-01 00:00) - 500 = 7000; A2 0; A3 10000 +
 * 8000 (P5 on 04-02; its -2000 adjustment of 03-15 stays) = 18000; A4 3000; A5 0; A6 -500
 * (the credit); A8 8000; A7 still absent. */
Test(report, balances_come_from_the_history)
{
    expect_rows("SELECT account_id, balance_cents FROM report.balances($1, 'USD', '2026-03-05')"
                " WHERE account_id IN ('A1', 'A5', 'A7', 'A8') ORDER BY 1",
                "A1|7000\nA5|40000\nA8|0\n");
    expect_rows("SELECT account_id, balance_cents FROM report.balances($1, 'USD', '2026-03-31')"
                " ORDER BY 1",
                "A1|7000\nA2|0\nA3|18000\nA4|3000\nA5|0\nA6|-500\nA8|8000\n");
}

/* Days past due at the start (end of 02-28): A1 from 2025-11-30: 31 + 31 + 28 = 90 (61-90,
 * its last day); A2 from 01-29: 2 + 28 = 30 (1-30, its last day); A5 from 2025-05-01: 303
 * (180+); A6 from 02-01: 27 (1-30); A8 from 2025-11-15: 15 + 31 + 31 + 28 = 105 (91-180).
 * A3, A4 not placed yet. So 1-30: A2 5000 + A6 1500; 31-60: none; 61-90: A1 7000.
 * At the end (03-31), 31 days later: A1 121 (91-180), A3 due 03-20: 11 (1-30), A4 due 04-15:
 * not yet due (current), A8 136 (91-180); A2, A5 are at 0 and A6 at -500: not open. */
Test(report, aging_at_both_ends_of_the_period)
{
    expect_rows("SELECT * FROM report.aging_period($1, 'USD', '2026-03-01', '2026-03-31')",
                "start|2026-02-28|1|current|0|0\n"
                "start|2026-02-28|2|1-30|2|6500\n"
                "start|2026-02-28|3|31-60|0|0\n"
                "start|2026-02-28|4|61-90|1|7000\n"
                "start|2026-02-28|5|91-180|1|8000\n"
                "start|2026-02-28|6|180+|1|40000\n"
                "end|2026-03-31|1|current|1|3000\n"
                "end|2026-03-31|2|1-30|1|18000\n"
                "end|2026-03-31|3|31-60|0|0\n"
                "end|2026-03-31|4|61-90|0|0\n"
                "end|2026-03-31|5|91-180|2|15000\n"
                "end|2026-03-31|6|180+|0|0\n");
    expect_rows("SELECT * FROM report.aging($1, 'USD', '2026-02-28')",
                "1|current|0|0\n2|1-30|2|6500\n3|31-60|0|0\n4|61-90|1|7000\n"
                "5|91-180|1|8000\n6|180+|1|40000\n");
}

/* beginning = 6500 + 7000 + 8000 + 40000 = 61500;
 * credit sales = placed in March: A3 20000 + A4 3000 = 23000 (2 accounts);
 * ending = 3000 + 18000 + 15000 = 36000, of which current 3000 (A4);
 * collected in March, allocations net of returns, credit left out: A1 2000 - 2000 = 0,
 *   A2 500 + 4500 = 5000, A5 10000, A6 1500 (not its 500 credit), A8 2000 - 2000 = 0:
 *   16500 (P1 at 02-28 23:59:59 and P3 at 04-01 00:00 are outside);
 * DSO = 36000 / 23000 x 31 = 48.5217... -> 48.52;
 * CEI = (61500 + 23000 - 36000) / (61500 + 23000 - 3000) x 100 = 48500 / 81500 x 100
 *     = 59.5092... -> 59.51. (48500 = 16500 collected + 30000 waived + 2000 adjusted.) */
Test(report, receivables_dso_and_cei)
{
    expect_rows("SELECT * FROM report.summary($1, 'USD', '2026-03-01', '2026-03-31')",
                "31|61500|23000|2|36000|3000|16500|48.52|59.51\n");
    expect_rows("SELECT * FROM report.collected($1, 'USD', '2026-03-01', '2026-03-31')", "16500\n");
}

/* Cohorts of the accounts placed by 03-31 (A7 is April's), collected from placement to
 * 03-31 and within March:
 *   2025-06 A5: placed 40000, 10000 and 10000: 0.2500 and 0.2500;
 *   2026-01 A1 + A8: 18000; to date A1 3000 + 2000 - 2000, A8 2000 - 2000: 3000; in March 0:
 *           3000 / 18000 = 0.1667, 0;
 *   2026-02 A2 + A6: 6500; 5000 + 1500 both: 1.0000, 1.0000;
 *   2026-03 A3 + A4: 23000; nothing by 03-31 (P5 is 04-02): 0, 0. */
Test(report, recovery_and_liquidation_per_cohort)
{
    expect_rows("SELECT * FROM report.cohorts($1, 'USD', '2026-03-01', '2026-03-31')",
                "2025-06|1|40000|10000|10000|0.2500|0.2500\n"
                "2026-01|2|18000|3000|0|0.1667|0.0000\n"
                "2026-02|2|6500|6500|6500|1.0000|1.0000\n"
                "2026-03|2|23000|0|0|0.0000|0.0000\n");
}

/* Steps sent in March: email A1 2 + A2 2 + A3 2 = 3 for 6; sms A1 5 + A6 5 (03-31 23:59:59)
 * = 2 for 10; voice A1 40 + A5 40 = 2 for 80; letter A3 90 = 1 for 90; total 8 for 186.
 * Not counted: A1's email of 02-20, A4's sms at 04-01 00:00, A4's failed email, A2's
 * planned sms, the suppressed steps. Per 16500 collected: 6 -> 0.000364, 10 -> 0.000606,
 * 80 -> 0.004848, 90 -> 0.005455, 186 -> 0.011273 (0.0112727...). */
Test(report, cost_to_collect_by_channel)
{
    expect_rows("SELECT * FROM report.contact_costs($1, 'USD', '2026-03-01', '2026-03-31')",
                "1|email|3|6|0.000364\n"
                "2|sms|2|10|0.000606\n"
                "3|voice|2|80|0.004848\n"
                "4|letter|1|90|0.005455\n"
                "5|total|8|186|0.011273\n");
}

/* Promises whose last day (date + grace) falls in March:
 *   PR1 A2 5000 by 03-04 + 3 = 03-07: P4 5000 on 03-05: kept;
 *   PR2 A6 2500 by 03-22 + 3 = 03-25: P7 is 2000 (1500 + 500 credit): broken;
 *   PR3 A1 2000 by 03-12 + 0: P2 2000 on 03-10 (returned only on 03-20): kept;
 *   PR4 A3 by 03-30 + 3 = 04-02: not due in March;
 *   PR5 A4 1000 by 03-24 + 3 (the default grace) = 03-27: nothing paid: broken;
 *   PR6 A5 by 03-08 + 3 = 03-11, replaced by PR7 on 03-05 with nothing paid: not counted;
 *   PR7 A5 10000 by 03-12 + 0: P6 10000 on 03-12: kept;
 *   PL8 is a plan, not a promise.
 * due 5, kept 3, broken 2, rate 0.6000. */
Test(report, promise_kept_rate)
{
    expect_rows("SELECT * FROM report.promises($1, '2026-03-01', '2026-03-31')", "5|3|2|0.6000\n");
}

/* Contacted in March (a step sent): A1, A2, A3, A5, A6 = 5 (A4's only sent step is at
 * 04-01 00:00). Reached: A1 (a voice conversation on 03-08), A2 (a promise reply on 03-01).
 * Not: A3 (its reply is in April), A5 (no answer, a reply 'other'), A6 (a STOP); A4's dispute
 * counts for no one: A4 was not contacted. 2 / 5 = 0.4000. */
Test(report, right_party_contact_rate)
{
    expect_rows("SELECT * FROM report.right_party($1, '2026-03-01', '2026-03-31')", "5|2|0.4000\n");
}

/* In March, per rule: call_frequency_7in7: A5's step of 03-04 suppressed (not the one of
 * 02-25), A5's step D3 deferred once; inconvenient_time: D1 deferred twice, D2 once (3
 * deferrals, 2 steps; D4's of 02-27 is outside); tcpa.revoked_stop: A6's two suppressed steps
 * (the suppression event naming step S6 is the same decision, not one more);
 * value.below_contact_cost: A4 suppressed with nothing planned. */
Test(report, suppressions_and_deferrals_by_rule)
{
    expect_rows("SELECT * FROM report.suppressions($1, '2026-03-01', '2026-03-31')",
                "regf.1006.14b2.call_frequency_7in7|1|0|1|1\n"
                "regf.1006.6b1.inconvenient_time|0|0|3|2\n"
                "tcpa.revoked_stop|2|0|0|0\n"
                "value.below_contact_cost|0|1|0|0\n");
}

/* Waiting at the end of 03-31, USD: X1 opened 03-30 (1 day: 0-2) 777; X7 03-25 (6: 3-7) 888;
 * X2 03-01 (30: 8-30) 1234 and X4 03-10 (21: 8-30; resolved only on 04-02) 500; X6 2025-12-01
 * (30 + 31 + 28 + 31 = 120: 91+) 4200. Not: X3 (resolved 03-06), X5 (opened 04-01 00:00), X8
 * (CAD: 11 days, 8-30, in the CAD report only). */
Test(report, unmatched_payments_by_age)
{
    expect_rows("SELECT * FROM report.unmatched($1, 'USD', '2026-03-31')",
                "1|0-2|1|777\n2|3-7|1|888\n3|8-30|2|1734\n4|31-90|0|0\n5|91+|1|4200\n");
    expect_rows("SELECT * FROM report.unmatched($1, 'CAD', '2026-03-31')",
                "1|0-2|0|0\n2|3-7|0|0\n3|8-30|1|999\n4|31-90|0|0\n5|91+|0|0\n");
    expect_rows("SELECT * FROM report.currencies($1)", "CAD\nUSD\n");
}

/* Life to date at the end of 03-31, accounts placed by then:
 *   challenger A3, A6: placed 20000 + 1500 = 21500; collected 1500 (A6); 1500 / 21500 =
 *     0.0698; cost A3 2 + 90, A6 5 = 97; net 1403;
 *   champion A1, A2, A5, A8: placed 10000 + 5000 + 40000 + 8000 = 63000; collected 3000 +
 *     5000 + 10000 + 0 = 18000; 18000 / 63000 = 0.2857; cost A1 2 + 2 + 5 + 40, A2 2, A5 40
 *     = 91; net 17909;
 *   unscored A4: placed 3000, nothing collected, no step sent by then: 0.0000, 0, 0. */
Test(report, champion_against_challenger)
{
    expect_rows("SELECT * FROM report.arms($1, 'USD', '2026-03-31')",
                "challenger|2|21500|1500|0.0698|97|1403\n"
                "champion|4|63000|18000|0.2857|91|17909\n"
                "unscored|1|3000|0|0.0000|0|0\n");
}

/* ------------------------------------------------------------------ the command */

/* The same numbers, through `arrears report --json`. */
Test(report, cli_json_has_every_measure)
{
    json_t *r = report_json(tenant, "--currency USD");
    expect_str(r, "tenant", tenant);
    expect_str(r, "from", "2026-03-01");
    expect_str(r, "to", "2026-03-31");
    expect_int(r, "days", 31);
    expect_str(r, "currency", "USD");
    /* 1. aging */
    expect_str(r, "aging.start.as_of", "2026-02-28");
    expect_str(r, "aging.start.buckets.0.bucket", "current");
    expect_int(r, "aging.start.buckets.0.accounts", 0);
    expect_int(r, "aging.start.buckets.1.accounts", 2);
    expect_int(r, "aging.start.buckets.1.amount_cents", 6500);
    expect_int(r, "aging.start.buckets.2.amount_cents", 0);
    expect_int(r, "aging.start.buckets.3.amount_cents", 7000);
    expect_int(r, "aging.start.buckets.4.amount_cents", 8000);
    expect_str(r, "aging.start.buckets.5.bucket", "180+");
    expect_int(r, "aging.start.buckets.5.accounts", 1);
    expect_int(r, "aging.start.buckets.5.amount_cents", 40000);
    expect_int(r, "aging.start.accounts", 5);
    expect_int(r, "aging.start.amount_cents", 61500);
    expect_str(r, "aging.end.as_of", "2026-03-31");
    expect_int(r, "aging.end.buckets.0.amount_cents", 3000);
    expect_int(r, "aging.end.buckets.1.amount_cents", 18000);
    expect_int(r, "aging.end.buckets.2.accounts", 0);
    expect_int(r, "aging.end.buckets.4.accounts", 2);
    expect_int(r, "aging.end.buckets.4.amount_cents", 15000);
    expect_int(r, "aging.end.accounts", 4);
    expect_int(r, "aging.end.amount_cents", 36000);
    /* 3, 4. receivables, DSO, CEI */
    expect_int(r, "receivables.beginning_cents", 61500);
    expect_int(r, "receivables.credit_sales_cents", 23000);
    expect_int(r, "receivables.placed_accounts", 2);
    expect_int(r, "receivables.ending_cents", 36000);
    expect_int(r, "receivables.ending_current_cents", 3000);
    expect_int(r, "receivables.collected_cents", 16500);
    expect_num(r, "dso_days", 48.52);
    expect_num(r, "cei_percent", 59.51);
    /* 2. cohorts */
    cr_assert_eq(json_array_size(get(r, "cohorts")), 4);
    expect_str(r, "cohorts.1.cohort", "2026-01");
    expect_int(r, "cohorts.1.accounts", 2);
    expect_int(r, "cohorts.1.placed_cents", 18000);
    expect_int(r, "cohorts.1.collected_cents", 3000);
    expect_int(r, "cohorts.1.collected_in_period_cents", 0);
    expect_num(r, "cohorts.1.recovery_rate", 0.1667);
    expect_num(r, "cohorts.1.liquidation_rate", 0);
    expect_num(r, "cohorts.0.recovery_rate", 0.25);
    expect_num(r, "cohorts.2.liquidation_rate", 1);
    /* 5. cost to collect */
    expect_str(r, "cost_to_collect.channels.3.channel", "letter");
    expect_int(r, "cost_to_collect.channels.3.contacts", 1);
    expect_int(r, "cost_to_collect.channels.3.cost_cents", 90);
    expect_num(r, "cost_to_collect.channels.3.cost_per_collected", 0.005455);
    expect_int(r, "cost_to_collect.channels.2.cost_cents", 80);
    expect_int(r, "cost_to_collect.contacts", 8);
    expect_int(r, "cost_to_collect.cost_cents", 186);
    expect_num(r, "cost_to_collect.cost_per_collected", 0.011273);
    /* 6, 7 */
    expect_int(r, "promises.due", 5);
    expect_int(r, "promises.kept", 3);
    expect_int(r, "promises.broken", 2);
    expect_num(r, "promises.kept_rate", 0.6);
    expect_int(r, "right_party_contact.contacted_accounts", 5);
    expect_int(r, "right_party_contact.right_party_accounts", 2);
    expect_num(r, "right_party_contact.rate", 0.4);
    /* 8. suppressions and deferrals */
    cr_assert_eq(json_array_size(get(r, "suppressions")), 4);
    expect_str(r, "suppressions.1.rule_id", "regf.1006.6b1.inconvenient_time");
    expect_int(r, "suppressions.1.deferrals", 3);
    expect_int(r, "suppressions.1.deferred_steps", 2);
    expect_str(r, "suppressions.2.rule_id", "tcpa.revoked_stop");
    expect_int(r, "suppressions.2.suppressed_steps", 2);
    expect_int(r, "suppressions.3.suppressed_unplanned", 1);
    /* 9. unmatched */
    expect_str(r, "unmatched.as_of", "2026-03-31");
    expect_int(r, "unmatched.buckets.2.payments", 2);
    expect_int(r, "unmatched.buckets.2.amount_cents", 1734);
    expect_int(r, "unmatched.payments", 5);
    expect_int(r, "unmatched.amount_cents", 7599); /* 777 + 888 + 1734 + 4200 */
    /* 10. arms */
    cr_assert_eq(json_array_size(get(r, "arms")), 3);
    expect_str(r, "arms.1.arm", "champion");
    expect_int(r, "arms.1.accounts", 4);
    expect_int(r, "arms.1.placed_cents", 63000);
    expect_int(r, "arms.1.collected_cents", 18000);
    expect_num(r, "arms.1.recovery_rate", 0.2857);
    expect_int(r, "arms.1.contact_cost_cents", 91);
    expect_int(r, "arms.1.net_recovery_cents", 17909);
    expect_int(r, "arms.0.net_recovery_cents", 1403);
    expect_str(r, "arms.2.arm", "unscored");
    json_decref(r);
}

Test(report, cli_prints_aligned_tables_in_dollars)
{
    static char out[1 << 16];
    int rc =
        run_cli(out, sizeof(out),
                "report --tenant '%s' --from 2026-03-01 --to 2026-03-31 --currency USD", tenant);
    cr_assert_eq(rc, 0);
    cr_assert_not_null(strstr(out, "amounts in USD"));
    long long n0, n1;
    char a0[32], a1[32];
    const char *s = line_after(out, "  180+ ");
    cr_assert_not_null(s);
    cr_assert_eq(sscanf(s, "%lld %31s %lld %31s", &n0, a0, &n1, a1), 4);
    cr_assert(n0 == 1 && strcmp(a0, "400.00") == 0 && n1 == 0 && strcmp(a1, "0.00") == 0, "%s", s);
    s = line_after(out, "  total ");
    cr_assert_not_null(s);
    cr_assert_eq(sscanf(s, "%lld %31s %lld %31s", &n0, a0, &n1, a1), 4);
    cr_assert(n0 == 5 && strcmp(a0, "615.00") == 0 && n1 == 4 && strcmp(a1, "360.00") == 0, "%s",
              s);
    s = line_after(out, "  DSO ");
    cr_assert(s && strstr(s, "48.52 days"), "%s", s ? s : "no DSO");
    s = line_after(out, "  CEI ");
    cr_assert(s && strstr(s, "59.51 %"), "%s", s ? s : "no CEI");
    s = line_after(out, "  letter ");
    cr_assert_not_null(s);
    cr_assert_eq(sscanf(s, "%lld %31s %31s", &n0, a0, a1), 3);
    cr_assert(n0 == 1 && strcmp(a0, "0.90") == 0 && strcmp(a1, "0.5455%") == 0, "%s", s);
    cr_assert_not_null(strstr(out, "kept 3, broken 2; kept rate 60.00%"));
    cr_assert_not_null(strstr(out, "2 of 5 accounts contacted in the period; rate 40.00%"));
    s = line_after(out, "  2025-06 ");
    cr_assert(s && strstr(s, "25.00%"), "%s", s ? s : "no 2025-06 cohort");
    s = line_after(out, "  champion ");
    cr_assert_not_null(s);
    cr_assert_eq(sscanf(s, "%lld %31s %31s", &n0, a0, a1), 3);
    cr_assert(n0 == 4 && strcmp(a0, "630.00") == 0 && strcmp(a1, "180.00") == 0, "%s", s);
}

/* Money is never summed across currencies: with USD and CAD the tenant must pick one. */
Test(report, several_currencies_need_a_choice)
{
    static char out[8192];
    int rc =
        run_cli(out, sizeof(out), "report --tenant '%s' --from 2026-03-01 --to 2026-03-31", tenant);
    cr_assert_eq(rc, 1);
    cr_assert_not_null(strstr(out, "CAD, USD"), "%s", out);
    json_t *r = report_json(tenant, "--currency CAD");
    expect_int(r, "unmatched.payments", 1);
    expect_int(r, "unmatched.amount_cents", 999);
    expect_int(r, "aging.end.amount_cents", 0); /* no CAD account */
    json_decref(r);
}

/* A tenant with nothing: zeros, and rates without a denominator are null / n/a. */
Test(report, an_empty_tenant_reports_zeros)
{
    char empty[80];
    snprintf(empty, sizeof(empty), "%s-empty", tenant);
    json_t *r = report_json(empty, "");
    expect_null(r, "currency");
    expect_int(r, "aging.start.amount_cents", 0);
    expect_int(r, "aging.end.accounts", 0);
    cr_assert_eq(json_array_size(get(r, "aging.end.buckets")), 6);
    expect_int(r, "receivables.credit_sales_cents", 0);
    expect_int(r, "receivables.collected_cents", 0);
    expect_null(r, "dso_days");
    expect_null(r, "cei_percent");
    cr_assert_eq(json_array_size(get(r, "cohorts")), 0);
    expect_int(r, "cost_to_collect.contacts", 0);
    expect_null(r, "cost_to_collect.cost_per_collected");
    expect_int(r, "promises.due", 0);
    expect_null(r, "promises.kept_rate");
    expect_null(r, "right_party_contact.rate");
    cr_assert_eq(json_array_size(get(r, "suppressions")), 0);
    expect_int(r, "unmatched.payments", 0);
    cr_assert_eq(json_array_size(get(r, "arms")), 0);
    json_decref(r);
    static char out[1 << 15];
    int rc =
        run_cli(out, sizeof(out), "report --tenant '%s' --from 2026-03-01 --to 2026-03-31", empty);
    cr_assert_eq(rc, 0);
    cr_assert_not_null(strstr(out, "kept rate n/a"));
}

Test(report, bad_usage_exits_2)
{
    static char out[8192];
    cr_assert_eq(run_cli(out, sizeof(out), "report --from 2026-03-01 --to 2026-03-31"), 2);
    cr_assert_not_null(strstr(out, "usage: arrears report"));
    cr_assert_eq(
        run_cli(out, sizeof(out), "report --tenant x --from 2026-03-01 --to 2026-03-31 --bogus"),
        2);
    cr_assert_not_null(strstr(out, "--bogus"));
    cr_assert_eq(run_cli(out, sizeof(out), "report --tenant x --from 2026-02-30 --to 2026-03-31"),
                 2);
    cr_assert_eq(run_cli(out, sizeof(out), "report --tenant x --from 2026-04-01 --to 2026-03-31"),
                 2);
    cr_assert_eq(run_cli(out, sizeof(out), "report --tenant x --from 2026-03-01"), 2);
    /* usage goes to stderr: nothing on stdout */
    cr_assert_eq(run_cli_stdout(out, sizeof(out), "report --tenant x --bogus 2>/dev/null"), 2);
    cr_assert_str_eq(out, "");
}
