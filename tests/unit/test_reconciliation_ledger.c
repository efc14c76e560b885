/* Unit tests of services/reconciliation/ledger.c: applying a payment to one account's ledger.
 * The invariant balance = placed - applied + reversed holds after every outcome, currencies
 * never mix, an overpayment leaves a negative balance (a credit owed to the consumer). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ledger.h"

static recon_ledger ledger(const char *currency, int64_t placed, int64_t applied, int64_t reversed)
{
    recon_ledger l;
    memset(&l, 0, sizeof l);
    l.exists = 1;
    snprintf(l.currency, sizeof l.currency, "%s", currency);
    l.placed_cents = placed;
    l.applied_cents = applied;
    l.reversed_cents = reversed;
    l.balance_cents = placed - applied + reversed;
    return l;
}

static recon_payment payment(const char *currency, int64_t amount)
{
    recon_payment p;
    memset(&p, 0, sizeof p);
    strcpy(p.payment_id, "pi_000123");
    strcpy(p.source, "processor");
    snprintf(p.currency, sizeof p.currency, "%s", currency);
    p.amount_cents = amount;
    p.received_at_ms = 1767323045006LL;
    return p;
}

/* ------------------------------------------------------------------ unmatched */

Test(recon_apply, unknown_account_is_unmatched_and_unchanged)
{
    recon_ledger before;
    memset(&before, 0, sizeof before); /* exists = 0 */
    recon_payment p = payment("USD", 500);
    recon_outcome o;
    recon_apply_payment(&before, &p, &o);
    cr_assert_eq(o.applied, 0);
    cr_assert_not_null(o.unmatched_reason);
    cr_assert_str_eq(o.unmatched_reason, "account.unknown");
    cr_assert_eq(memcmp(&o.after, &before, sizeof before), 0);
}

Test(recon_apply, currency_mismatch_is_unmatched_and_unchanged)
{
    static const char *const other[] = {"CAD", "usd", "EUR", ""};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        recon_ledger before = ledger("USD", 10000, 2500, 0);
        recon_payment p = payment(other[i], 1000);
        recon_outcome o;
        recon_apply_payment(&before, &p, &o);
        cr_assert_eq(o.applied, 0, "%s", other[i]);
        cr_assert_not_null(o.unmatched_reason, "%s", other[i]);
        cr_assert_str_eq(o.unmatched_reason, "currency.mismatch", "%s", other[i]);
        cr_assert_eq(o.after.balance_cents, 7500, "%s", other[i]);
        cr_assert_eq(o.after.applied_cents, 2500, "%s", other[i]);
        cr_assert_eq(memcmp(&o.after, &before, sizeof before), 0, "%s", other[i]);
        cr_assert(recon_ledger_consistent(&o.after));
    }
}

/* ------------------------------------------------------------------ applied */

Test(recon_apply, arithmetic_table)
{
    static const struct {
        const char *name;
        int64_t placed, applied, reversed, amount;
        int64_t want_applied, want_balance; /* worked out by hand */
    } rows[] = {
        /* exact: 10000 - 10000 = 0 */
        {"exact", 10000, 0, 0, 10000, 10000, 0},
        /* partial: 10000 - 2550 = 7450 */
        {"partial", 10000, 0, 0, 2550, 2550, 7450},
        /* over: 10000 - 12000 = -2000, a credit of 20.00 */
        {"over", 10000, 0, 0, 12000, 12000, -2000},
        /* earlier history: balance 10000 - 3000 + 1000 = 8000; 8000 - 500 = 7500 */
        {"history", 10000, 3000, 1000, 500, 3500, 7500},
        /* settles the rest exactly: 4000 - 1500 = 2500 left; paying 2500 leaves 0 */
        {"rest", 4000, 1500, 0, 2500, 4000, 0},
        /* already in credit: -200 - 1 = -201 */
        {"credit", 1000, 1200, 0, 1, 1201, -201},
        /* one cent */
        {"cent", 1, 0, 0, 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        recon_ledger before = ledger("USD", rows[i].placed, rows[i].applied, rows[i].reversed);
        recon_payment p = payment("USD", rows[i].amount);
        recon_outcome o;
        recon_apply_payment(&before, &p, &o);
        cr_assert_eq(o.applied, 1, "%s", rows[i].name);
        cr_assert_null(o.unmatched_reason, "%s", rows[i].name);
        cr_assert_eq(o.after.exists, 1, "%s", rows[i].name);
        cr_assert_str_eq(o.after.currency, "USD", "%s", rows[i].name);
        cr_assert_eq(o.after.placed_cents, rows[i].placed, "%s", rows[i].name);
        cr_assert_eq(o.after.reversed_cents, rows[i].reversed, "%s", rows[i].name);
        cr_assert_eq(o.after.applied_cents, rows[i].want_applied, "%s", rows[i].name);
        cr_assert_eq(o.after.balance_cents, rows[i].want_balance, "%s: balance %lld", rows[i].name,
                     (long long)o.after.balance_cents);
        cr_assert(recon_ledger_consistent(&o.after), "%s", rows[i].name);
        /* the input ledger is not touched */
        cr_assert_eq(before.balance_cents, rows[i].placed - rows[i].applied + rows[i].reversed,
                     "%s", rows[i].name);
    }
}

Test(recon_consistent, detects_inconsistent_ledgers)
{
    static const struct {
        int64_t placed, applied, reversed, balance;
        int ok;
    } rows[] = {
        {10000, 0, 0, 10000, 1}, {10000, 0, 0, 9999, 0},
        {10000, 0, 0, 10001, 0}, {100, 50, 10, 60, 1}, /* 100 - 50 + 10 */
        {100, 50, 10, 40, 0},                          /* reversed subtracted instead of added */
        {100, 150, 0, -50, 1},                         /* a credit */
        {100, 150, 0, 50, 0},                          /* the credit's sign lost */
        {0, 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        recon_ledger l;
        memset(&l, 0, sizeof l);
        l.exists = 1;
        strcpy(l.currency, "USD");
        l.placed_cents = rows[i].placed;
        l.applied_cents = rows[i].applied;
        l.reversed_cents = rows[i].reversed;
        l.balance_cents = rows[i].balance;
        cr_assert_eq(recon_ledger_consistent(&l), rows[i].ok, "row %zu", i);
    }
}

/* A tiny fixed-seed generator (xorshift64), so the property run is the same every time. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

Test(recon_property, thousand_payments_keep_the_invariant)
{
    const int64_t placed = 1000000; /* $10,000.00 */
    recon_ledger l = ledger("USD", placed, 0, 0);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int64_t sum = 0;
    int went_negative = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t amount = (int64_t)(next_rand(&seed) % 5000) + 1; /* 1..5000 cents */
        recon_payment p = payment("USD", amount);
        recon_outcome o;
        recon_apply_payment(&l, &p, &o);
        cr_assert_eq(o.applied, 1, "payment %d", i);
        cr_assert(recon_ledger_consistent(&o.after), "payment %d breaks the invariant", i);
        sum += amount;
        cr_assert_eq(o.after.applied_cents, sum, "payment %d", i);
        cr_assert_eq(o.after.balance_cents, placed - sum, "payment %d", i);
        cr_assert_eq(o.after.balance_cents, l.balance_cents - amount, "payment %d", i);
        if (o.after.balance_cents < 0)
            went_negative = 1;
        l = o.after;
    }
    cr_assert_eq(l.balance_cents, placed - sum);
    cr_assert_eq(l.placed_cents, placed);
    cr_assert_eq(l.reversed_cents, 0);
    /* 1000 payments averaging about 2500 cents overshoot 1,000,000: the run covers credits. */
    cr_assert(went_negative, "sum %lld never exceeded the placed balance", (long long)sum);
}

Test(recon_property, mismatched_payments_in_between_change_nothing)
{
    recon_ledger l = ledger("EUR", 50000, 0, 0);
    uint64_t seed = 42;
    int64_t sum = 0;
    for (int i = 0; i < 200; i++) {
        uint64_t r = next_rand(&seed);
        int64_t amount = (int64_t)(r % 900) + 1;
        int same = (r >> 32) % 3 != 0;
        recon_payment p = payment(same ? "EUR" : "GBP", amount);
        recon_outcome o;
        recon_apply_payment(&l, &p, &o);
        cr_assert_eq(o.applied, same, "payment %d", i);
        if (same)
            sum += amount;
        cr_assert(recon_ledger_consistent(&o.after), "payment %d", i);
        cr_assert_eq(o.after.balance_cents, 50000 - sum, "payment %d", i);
        l = o.after;
    }
}

/* ------------------------------------------------------------------ payload */

static json_t *valid_payment_payload(void)
{
    json_t *p = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "payment_id", "pi_3Nabc", "source",
                          "processor", "amount_cents", (json_int_t)2550, "currency", "USD",
                          "received_at", "2026-01-02T03:04:05.006Z", "reference", "ACC-1001");
    cr_assert_not_null(p);
    return p;
}

Test(recon_payload, valid)
{
    json_t *p = valid_payment_payload();
    recon_payment out;
    char why[128] = "";
    cr_assert_eq(recon_payment_from_payload(p, &out, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_str_eq(out.payment_id, "pi_3Nabc");
    cr_assert_str_eq(out.source, "processor");
    cr_assert_eq(out.amount_cents, 2550);
    cr_assert_str_eq(out.currency, "USD");
    /* 2026-01-01 is day 56 * 365 + 14 leap days = 20454 since 1970; +1 day, 03:04:05.006:
     * (20455 * 86400 + 11045) * 1000 + 6 */
    cr_assert_eq(out.received_at_ms, 1767323045006LL);
    json_decref(p);
}

Test(recon_payload, offset_time_is_the_same_instant)
{
    json_t *p = valid_payment_payload();
    json_object_set_new(p, "received_at", json_string("2026-01-01T22:04:05.006-05:00"));
    recon_payment out;
    char why[128] = "";
    cr_assert_eq(recon_payment_from_payload(p, &out, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(out.received_at_ms, 1767323045006LL);
    json_decref(p);
}

Test(recon_payload, longest_ids_fit)
{
    char id[129], src[33];
    memset(id, 'p', 128);
    id[128] = '\0';
    memset(src, 's', 32);
    src[32] = '\0';
    json_t *p = valid_payment_payload();
    json_object_set_new(p, "payment_id", json_string(id));
    json_object_set_new(p, "source", json_string(src));
    recon_payment out;
    char why[128] = "";
    cr_assert_eq(recon_payment_from_payload(p, &out, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_str_eq(out.payment_id, id);
    cr_assert_str_eq(out.source, src);
    json_decref(p);
}

Test(recon_payload, each_field_is_validated)
{
    char long_id[130], long_src[34];
    memset(long_id, 'p', 129);
    long_id[129] = '\0';
    memset(long_src, 's', 33);
    long_src[33] = '\0';
    const struct {
        const char *field;
        json_t *value; /* NULL: remove the field */
    } rows[] = {
        {"payment_id", NULL},
        {"payment_id", json_string("")},
        {"payment_id", json_integer(123)},
        {"payment_id", json_null()},
        {"payment_id", json_string(long_id)},
        {"source", NULL},
        {"source", json_string("")},
        {"source", json_true()},
        {"source", json_string(long_src)},
        {"currency", NULL},
        {"currency", json_string("")},
        {"currency", json_string("USDX")},
        {"currency", json_integer(840)},
        {"amount_cents", NULL},
        {"amount_cents", json_integer(0)},
        {"amount_cents", json_integer(-1)},
        {"amount_cents", json_integer(-2550)},
        {"amount_cents", json_real(25.5)},
        {"amount_cents", json_real(2550.0)},
        {"amount_cents", json_string("2550")},
        {"amount_cents", json_null()},
        {"received_at", NULL},
        {"received_at", json_string("")},
        {"received_at", json_string("2026-01-02")},
        {"received_at", json_string("2026-01-02 03:04:05Z")},
        {"received_at", json_string("2026-01-02T03:04:05")}, /* no zone */
        {"received_at", json_string("2026-13-02T03:04:05Z")},
        {"received_at", json_string("2026-01-02T25:04:05Z")},
        {"received_at", json_string("2026-01-02T03:04:05Zjunk")},
        {"received_at", json_string("yesterday")},
        {"received_at", json_integer(1767323045006LL)},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payment_payload();
        if (rows[i].value)
            json_object_set_new(p, rows[i].field, rows[i].value);
        else
            json_object_del(p, rows[i].field);
        recon_payment out;
        char why[128] = "", want[64];
        snprintf(want, sizeof want, "payload.%s", rows[i].field);
        cr_assert_eq(recon_payment_from_payload(p, &out, why, sizeof why), ARR_EINVAL,
                     "row %zu (%s) accepted", i, rows[i].field);
        cr_assert_not_null(strstr(why, want), "row %zu: why \"%s\" lacks %s", i, why, want);
        json_decref(p);
    }
}

/* BUG (services/reconciliation/ledger.c, recon_payment_from_payload): the payload decoder
 * only checks that currency, source and payment_id are non-empty and short enough, while
 * proto/schemas/payment.received.schema.json requires currency ^[A-Z]{3}$, source
 * ^[a-z0-9][a-z0-9_.-]{0,31}$ and payment_id ^[!-~]{1,128}$. A malformed payment is then not
 * rejected as malformed but reaches matching (a "US" or "usd" payment becomes a
 * currency.mismatch exception instead of a dead letter). Suggested fix: validate the three
 * patterns in recon_payment_from_payload. */
Test(recon_payload, fields_follow_the_schema_patterns)
{
    static const struct {
        const char *field;
        const char *value;
    } rows[] = {
        {"currency", "US"},
        {"currency", "usd"},
        {"source", "Stripe Webhook"},
        {"payment_id", "pi 123"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payment_payload();
        json_object_set_new(p, rows[i].field, json_string(rows[i].value));
        recon_payment out;
        char why[128] = "", want[64];
        snprintf(want, sizeof want, "payload.%s", rows[i].field);
        cr_expect_eq(recon_payment_from_payload(p, &out, why, sizeof why), ARR_EINVAL,
                     "%s=\"%s\" accepted", rows[i].field, rows[i].value);
        cr_expect_not_null(strstr(why, want), "%s: why \"%s\"", rows[i].field, why);
        json_decref(p);
    }
}
