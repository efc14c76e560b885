/* Unit tests of services/scoring/placeholder.c, the stand-in model. Rules, from the header and
 * DOMAIN.md: probability 6000 bp below 10000 cents, 4000 bp from 10000 cents, 1000 bp less for
 * medical debt; expected recovery = max(balance, 0) * probability / 10000 in integer cents
 * (truncated); below 2 cents (one email) the account is not pursued; otherwise digital-light
 * below a 5000-cent balance and digital-standard from 5000. Every expected number below is
 * worked out by hand in the row's comment. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "placeholder.h"

typedef struct score_row {
    int64_t balance;
    const char *service;
    int prob_bp;
    int64_t expected;
    const char *segment;
    const char *strategy;
    const char *reason0;
    const char *reason1; /* NULL when only one reason */
} score_row;

static const score_row rows[] = {
    /* 9999 * 0.60 = 5999.4 -> 5999 */
    {9999, "water", 6000, 5999, "standard", "digital-standard", "BALANCE_SMALL", NULL},
    /* 10000 * 0.40 = 4000 */
    {10000, "water", 4000, 4000, "standard", "digital-standard", "BALANCE_LARGE", NULL},
    /* 12345 * 0.40 = 4938 exactly */
    {12345, "electricity", 4000, 4938, "standard", "digital-standard", "BALANCE_LARGE", NULL},
    /* 4999 * 0.60 = 2999.4 -> 2999; balance below 5000 */
    {4999, "gas", 6000, 2999, "low-balance", "digital-light", "BALANCE_SMALL", NULL},
    /* 5000 * 0.60 = 3000; balance from 5000 */
    {5000, "telecom", 6000, 3000, "standard", "digital-standard", "BALANCE_SMALL", NULL},
    /* 4 * 0.60 = 2.4 -> 2: exactly the cost of an email, still worth it */
    {4, "other", 6000, 2, "low-balance", "digital-light", "BALANCE_SMALL", NULL},
    /* 3 * 0.60 = 1.8 -> 1 < 2 */
    {3, "water", 6000, 1, "no-value", "do-not-pursue", "BALANCE_SMALL", NULL},
    /* 1 * 0.60 = 0.6 -> 0 */
    {1, "water", 6000, 0, "no-value", "do-not-pursue", "BALANCE_SMALL", NULL},
    {0, "water", 6000, 0, "no-value", "do-not-pursue", "BALANCE_SMALL", NULL},
    /* a credit: nothing to recover */
    {-2500, "water", 6000, 0, "no-value", "do-not-pursue", "BALANCE_SMALL", NULL},
    {-20000, "gas", 6000, 0, "no-value", "do-not-pursue", "BALANCE_SMALL", NULL},
    /* medical: 6000 - 1000 = 5000 bp; 9999 * 0.50 = 4999.5 -> 4999 */
    {9999, "medical", 5000, 4999, "standard", "digital-standard", "BALANCE_SMALL",
     "SERVICE_MEDICAL"},
    /* medical large: 4000 - 1000 = 3000 bp; 10000 * 0.30 = 3000 */
    {10000, "medical", 3000, 3000, "standard", "digital-standard", "BALANCE_LARGE",
     "SERVICE_MEDICAL"},
    /* 12345 * 0.30 = 3703.5 -> 3703 */
    {12345, "medical", 3000, 3703, "standard", "digital-standard", "BALANCE_LARGE",
     "SERVICE_MEDICAL"},
    /* 4 * 0.50 = 2 */
    {4, "medical", 5000, 2, "low-balance", "digital-light", "BALANCE_SMALL", "SERVICE_MEDICAL"},
    /* 3 * 0.50 = 1.5 -> 1 */
    {3, "medical", 5000, 1, "no-value", "do-not-pursue", "BALANCE_SMALL", "SERVICE_MEDICAL"},
    /* 4999 * 0.50 = 2499.5 -> 2499 */
    {4999, "medical", 5000, 2499, "low-balance", "digital-light", "BALANCE_SMALL",
     "SERVICE_MEDICAL"},
    /* "Medical" is not the medical service type: no adjustment */
    {4999, "Medical", 6000, 2999, "low-balance", "digital-light", "BALANCE_SMALL", NULL},
    /* 1,000,000 cents ($10,000) * 0.40 = 400000 */
    {1000000, "telecom", 4000, 400000, "standard", "digital-standard", "BALANCE_LARGE", NULL},
};

static scoring_input input(int64_t balance, const char *service)
{
    scoring_input in;
    memset(&in, 0, sizeof in);
    in.balance_cents = balance;
    strcpy(in.currency, "USD");
    snprintf(in.service_type, sizeof in.service_type, "%s", service);
    return in;
}

Test(scoring_placeholder, table)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const score_row *w = &rows[i];
        scoring_input in = input(w->balance, w->service);
        scoring_result r;
        scoring_placeholder(&in, &r);
        char row[64];
        snprintf(row, sizeof row, "%lld %s", (long long)w->balance, w->service);
        cr_assert_eq(r.probability_bp, w->prob_bp, "%s: probability %d", row, r.probability_bp);
        cr_assert_eq(r.expected_recovery_cents, w->expected, "%s: expected %lld", row,
                     (long long)r.expected_recovery_cents);
        cr_assert_str_eq(r.segment, w->segment, "%s", row);
        cr_assert_str_eq(r.strategy, w->strategy, "%s", row);
        cr_assert_str_eq(r.reasons[0], w->reason0, "%s", row);
        if (w->reason1) {
            cr_assert_not_null(r.reasons[1], "%s", row);
            cr_assert_str_eq(r.reasons[1], w->reason1, "%s", row);
            cr_assert_null(r.reasons[2], "%s", row);
        } else {
            cr_assert_null(r.reasons[1], "%s: unexpected %s", row, r.reasons[1]);
        }
    }
}

Test(scoring_placeholder, probability_steps_exactly_at_10000)
{
    scoring_result below, at;
    scoring_input a = input(9999, "gas"), b = input(10000, "gas");
    scoring_placeholder(&a, &below);
    scoring_placeholder(&b, &at);
    cr_assert_eq(below.probability_bp, 6000);
    cr_assert_eq(at.probability_bp, 4000);
}

Test(scoring_placeholder, deterministic)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scoring_input in = input(rows[i].balance, rows[i].service);
        scoring_result r1, r2;
        memset(&r2, 0xab, sizeof r2); /* garbage in the output must not matter */
        scoring_placeholder(&in, &r1);
        scoring_placeholder(&in, &r2);
        cr_assert_eq(r1.probability_bp, r2.probability_bp);
        cr_assert_eq(r1.expected_recovery_cents, r2.expected_recovery_cents);
        cr_assert_str_eq(r1.segment, r2.segment);
        cr_assert_str_eq(r1.strategy, r2.strategy);
        for (int k = 0; k < 3; k++) {
            if (r1.reasons[k])
                cr_assert_str_eq(r1.reasons[k], r2.reasons[k]);
            else
                cr_assert_null(r2.reasons[k]);
        }
    }
}

/* BUG (services/scoring/placeholder.c, scoring_placeholder: `bal * out->probability_bp`):
 * the product overflows int64_t (undefined behaviour) once the balance exceeds
 * INT64_MAX / 6000 (about 1.5e15 cents), and nothing upstream caps balance_cents. With
 * 4e15 cents the exact answer is 4e15 * 0.40 = 1.6e15, but 4e15 * 4000 = 1.6e19 does not fit.
 * Suggested fix: (bal / 10000) * bp + (bal % 10000) * bp / 10000, or cap balances at ingest. */
Test(scoring_placeholder, huge_balance_does_not_overflow)
{
    scoring_input in = input(4000000000000000LL, "water");
    scoring_result r;
    scoring_placeholder(&in, &r);
    cr_assert_eq(r.probability_bp, 4000);
    cr_assert_eq(r.expected_recovery_cents, 1600000000000000LL, "got %lld",
                 (long long)r.expected_recovery_cents);
    cr_assert_str_eq(r.strategy, "digital-standard");
}

/* ------------------------------------------------------------------ input from payload */

Test(scoring_input, from_valid_payload)
{
    json_t *p = json_pack("{s:s, s:I, s:s, s:s, s:s}", "account_id", "ACC-1", "balance_cents",
                          (json_int_t)-777, "currency", "MXN", "service_type", "electricity",
                          "due_date", "2026-01-15");
    scoring_input in;
    char why[128] = "";
    cr_assert_eq(scoring_input_from_payload(p, &in, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(in.balance_cents, -777);
    cr_assert_str_eq(in.currency, "MXN");
    cr_assert_str_eq(in.service_type, "electricity");
    json_decref(p);
}

Test(scoring_input, rejects_missing_or_ill_typed_fields)
{
    static const struct {
        const char *payload;
        const char *field;
    } bad[] = {
        {"{\"currency\":\"USD\",\"service_type\":\"water\"}", "payload.balance_cents"},
        {"{\"balance_cents\":null,\"currency\":\"USD\",\"service_type\":\"water\"}",
         "payload.balance_cents"},
        {"{\"balance_cents\":\"100\",\"currency\":\"USD\",\"service_type\":\"water\"}",
         "payload.balance_cents"},
        {"{\"balance_cents\":12.5,\"currency\":\"USD\",\"service_type\":\"water\"}",
         "payload.balance_cents"},
        {"{\"balance_cents\":100,\"service_type\":\"water\"}", "payload.currency"},
        {"{\"balance_cents\":100,\"currency\":840,\"service_type\":\"water\"}", "payload.currency"},
        {"{\"balance_cents\":100,\"currency\":\"US\",\"service_type\":\"water\"}",
         "payload.currency"},
        {"{\"balance_cents\":100,\"currency\":\"USDX\",\"service_type\":\"water\"}",
         "payload.currency"},
        {"{\"balance_cents\":100,\"currency\":\"USD\"}", "payload.service_type"},
        {"{\"balance_cents\":100,\"currency\":\"USD\",\"service_type\":3}", "payload.service_type"},
        {"{\"balance_cents\":100,\"currency\":\"USD\",\"service_type\":\"electricity_gen1\"}",
         "payload.service_type"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *p = json_loads(bad[i].payload, 0, NULL);
        cr_assert_not_null(p, "row %zu", i);
        scoring_input in;
        char why[128] = "";
        cr_assert_eq(scoring_input_from_payload(p, &in, why, sizeof why), ARR_EINVAL,
                     "row %zu accepted", i);
        cr_assert_not_null(strstr(why, bad[i].field), "row %zu: why \"%s\" lacks %s", i, why,
                           bad[i].field);
        json_decref(p);
    }
}

Test(scoring_input, null_payload_is_rejected)
{
    scoring_input in;
    char why[128] = "";
    cr_assert_eq(scoring_input_from_payload(NULL, &in, why, sizeof why), ARR_EINVAL);
    cr_assert_not_null(strstr(why, "payload.balance_cents"), "%s", why);
}

/* ------------------------------------------------------------------ score.computed payload */

static void check_payload(int64_t balance, const char *service, double prob, int64_t expected,
                          const char *segment, const char *strategy, const char *const *reasons,
                          size_t nreasons)
{
    scoring_input in = input(balance, service);
    scoring_result r;
    scoring_placeholder(&in, &r);
    json_t *p = scoring_result_payload(&r, "USD");
    cr_assert_not_null(p);
    cr_assert_eq(json_object_size(p), 8, "keys: %zu", json_object_size(p));
    json_t *pr = json_object_get(p, "probability");
    cr_assert(json_is_real(pr), "probability must be a JSON real");
    cr_assert_float_eq(json_real_value(pr), prob, 1e-12, "probability %.17g", json_real_value(pr));
    json_t *er = json_object_get(p, "expected_recovery_cents");
    cr_assert(json_is_integer(er));
    cr_assert_eq(json_integer_value(er), expected);
    cr_assert_str_eq(json_string_value(json_object_get(p, "currency")), "USD");
    cr_assert_str_eq(json_string_value(json_object_get(p, "segment")), segment);
    cr_assert_str_eq(json_string_value(json_object_get(p, "strategy")), strategy);
    cr_assert_str_eq(json_string_value(json_object_get(p, "model_id")), "placeholder-0");
    cr_assert_str_eq(json_string_value(json_object_get(p, "strategy_table_version")),
                     "foundation-0");
    json_t *rc = json_object_get(p, "reason_codes");
    cr_assert(json_is_array(rc));
    cr_assert_eq(json_array_size(rc), nreasons);
    for (size_t i = 0; i < nreasons; i++)
        cr_assert_str_eq(json_string_value(json_array_get(rc, i)), reasons[i], "reason %zu", i);
    json_decref(p);
}

Test(scoring_payload, small_balance)
{
    static const char *const reasons[] = {"BALANCE_SMALL"};
    check_payload(9999, "water", 0.6, 5999, "standard", "digital-standard", reasons, 1);
}

Test(scoring_payload, large_balance)
{
    static const char *const reasons[] = {"BALANCE_LARGE"};
    check_payload(12345, "gas", 0.4, 4938, "standard", "digital-standard", reasons, 1);
}

Test(scoring_payload, medical_reasons_in_order)
{
    static const char *const small[] = {"BALANCE_SMALL", "SERVICE_MEDICAL"};
    static const char *const large[] = {"BALANCE_LARGE", "SERVICE_MEDICAL"};
    check_payload(4000, "medical", 0.5, 2000, "low-balance", "digital-light", small, 2);
    check_payload(20000, "medical", 0.3, 6000, "standard", "digital-standard", large, 2);
}

Test(scoring_payload, do_not_pursue)
{
    static const char *const reasons[] = {"BALANCE_SMALL"};
    check_payload(3, "telecom", 0.6, 1, "no-value", "do-not-pursue", reasons, 1);
    check_payload(-100, "telecom", 0.6, 0, "no-value", "do-not-pursue", reasons, 1);
}
