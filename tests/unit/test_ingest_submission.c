/* Unit tests of services/ingest/submission.c: validation of account.submitted payloads, the
 * account.placed payload built from them and the reject text. Expected values are worked
 * out here from the contract (proto/schemas/account.submitted.schema.json and the header),
 * never read back from the code. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "submission.h"

#define ACCOUNT "ACC-1001"

/* A valid account.submitted payload: every required field, no optional one. */
static json_t *valid_payload(void)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "account_id", ACCOUNT, "regime",
                          "third_party", "currency", "USD", "balance_cents", (json_int_t)12345,
                          "original_balance_cents", (json_int_t)15000, "due_date", "2026-01-15",
                          "service_type", "water");
    cr_assert_not_null(p);
    return p;
}

/* The envelope around a payload (steals the payload reference). Only the account and the
 * payload matter to the validator, but the rest is filled as a real message would be. */
static void make_env(arr_envelope *env, const char *account, json_t *payload)
{
    arr_envelope_init(env);
    strcpy(env->event_id, "0190b9e4-1c2d-7abc-8def-0123456789ab");
    strcpy(env->event_type, "account.submitted");
    env->schema_version = 1;
    strcpy(env->tenant, "acme-water");
    snprintf(env->account, sizeof(env->account), "%s", account);
    env->event_time_ms = 1767323045006LL;
    env->produced_at_ms = 1767323045120LL;
    strcpy(env->correlation_id, env->event_id);
    strcpy(env->producer_service, "ingest");
    strcpy(env->producer_version, "0.1.0");
    strcpy(env->producer_instance, "ingest-1");
    env->payload = payload;
}

/* Parses payload under the envelope account `account`. */
static arr_err parse_with(const char *account, json_t *payload, ingest_account *out,
                          ingest_reject *why)
{
    arr_envelope env;
    make_env(&env, account, payload);
    memset(why, 0, sizeof(*why));
    arr_err e = ingest_submission_parse(&env, out, why);
    arr_envelope_clear(&env);
    return e;
}

static arr_err parse(json_t *payload, ingest_account *out, ingest_reject *why)
{
    return parse_with(ACCOUNT, payload, out, why);
}

static void expect_reject(json_t *payload, const char *code, const char *field, const char *row)
{
    ingest_account a;
    ingest_reject why;
    cr_assert_eq(parse(payload, &a, &why), ARR_EINVAL, "%s: accepted", row);
    cr_assert_not_null(why.code, "%s: no code", row);
    cr_assert_str_eq(why.code, code, "%s: code %s, field %s", row, why.code, why.field);
    cr_assert_str_eq(why.field, field, "%s: field", row);
    cr_assert_neq(why.detail[0], '\0', "%s: empty detail", row);
}

static void expect_accept(json_t *payload, const char *row, ingest_account *out)
{
    ingest_reject why;
    arr_err e = parse(payload, out, &why);
    cr_assert_eq(e, ARR_OK, "%s: rejected %s field %s", row, why.code ? why.code : "?", why.field);
}

/* ------------------------------------------------------------------ valid records */

Test(ingest_parse, valid_record_fills_every_field)
{
    ingest_account a;
    expect_accept(valid_payload(), "valid", &a);
    cr_assert_str_eq(a.account_id, "ACC-1001");
    cr_assert_str_eq(a.regime, "third_party");
    cr_assert_str_eq(a.currency, "USD");
    cr_assert_eq(a.balance_cents, 12345);
    cr_assert_eq(a.original_balance_cents, 15000);
    cr_assert_str_eq(a.due_date, "2026-01-15");
    cr_assert_str_eq(a.service_type, "water");
    cr_assert_str_eq(a.debtor_ref, "", "absent debtor_ref must read as empty");
}

Test(ingest_parse, every_listed_value_is_accepted)
{
    static const char *const regimes[] = {"creditor", "third_party"};
    static const char *const currencies[] = {"USD", "CAD", "MXN", "EUR", "GBP"};
    static const char *const services[] = {"electricity", "gas",     "water",
                                           "telecom",     "medical", "other"};
    for (size_t i = 0; i < sizeof(regimes) / sizeof(regimes[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, "regime", json_string(regimes[i]));
        ingest_account a;
        expect_accept(p, regimes[i], &a);
        cr_assert_str_eq(a.regime, regimes[i]);
    }
    for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, "currency", json_string(currencies[i]));
        ingest_account a;
        expect_accept(p, currencies[i], &a);
        cr_assert_str_eq(a.currency, currencies[i]);
    }
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, "service_type", json_string(services[i]));
        ingest_account a;
        expect_accept(p, services[i], &a);
        cr_assert_str_eq(a.service_type, services[i]);
    }
}

Test(ingest_parse, negative_balance_is_a_credit_and_accepted)
{
    json_t *p = valid_payload();
    json_object_set_new(p, "balance_cents", json_integer(-2500));
    ingest_account a;
    expect_accept(p, "credit", &a);
    cr_assert_eq(a.balance_cents, -2500);
}

Test(ingest_parse, zero_amounts_are_accepted)
{
    json_t *p = valid_payload();
    json_object_set_new(p, "balance_cents", json_integer(0));
    json_object_set_new(p, "original_balance_cents", json_integer(0));
    ingest_account a;
    expect_accept(p, "zero", &a);
    cr_assert_eq(a.balance_cents, 0);
    cr_assert_eq(a.original_balance_cents, 0);
}

Test(ingest_parse, debtor_ref_present_is_copied)
{
    json_t *p = valid_payload();
    json_object_set_new(p, "debtor_ref", json_string("CUST-000777"));
    ingest_account a;
    expect_accept(p, "debtor_ref", &a);
    cr_assert_str_eq(a.debtor_ref, "CUST-000777");
}

Test(ingest_parse, debtor_ref_null_is_absent)
{
    json_t *p = valid_payload();
    json_object_set_new(p, "debtor_ref", json_null());
    ingest_account a;
    expect_accept(p, "debtor_ref null", &a);
    cr_assert_str_eq(a.debtor_ref, "");
}

Test(ingest_parse, longest_fields_fit)
{
    char acc[ARR_ACCOUNT_MAX + 1], ref[65];
    memset(acc, 'A', ARR_ACCOUNT_MAX);
    acc[ARR_ACCOUNT_MAX] = '\0';
    memset(ref, 'r', 64);
    ref[64] = '\0';
    json_t *p = valid_payload();
    json_object_set_new(p, "account_id", json_string(acc));
    json_object_set_new(p, "debtor_ref", json_string(ref));
    ingest_account a;
    ingest_reject why;
    cr_assert_eq(parse_with(acc, p, &a, &why), ARR_OK, "%s %s", why.code, why.field);
    cr_assert_eq(strlen(a.account_id), 128);
    cr_assert_eq(strlen(a.debtor_ref), 64);
}

/* ------------------------------------------------------------------ rejections */

Test(ingest_reject, missing_required_fields)
{
    static const char *const required[] = {
        "account_id", "regime",      "currency", "balance_cents", "original_balance_cents",
        "due_date",   "service_type"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        json_t *p = valid_payload();
        cr_assert_eq(json_object_del(p, required[i]), 0);
        expect_reject(p, "missing_field", required[i], required[i]);
    }
}

Test(ingest_reject, null_string_fields_are_missing)
{
    static const char *const fields[] = {"account_id", "regime", "currency", "due_date",
                                         "service_type"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, fields[i], json_null());
        expect_reject(p, "missing_field", fields[i], fields[i]);
    }
}

Test(ingest_reject, bad_type_of_string_fields)
{
    static const struct {
        const char *field;
        const char *json; /* the wrong-typed value */
    } rows[] = {
        {"account_id", "1001"},   {"regime", "1"},     {"currency", "[\"USD\"]"},
        {"due_date", "20260115"}, {"due_date", "{}"},  {"service_type", "true"},
        {"debtor_ref", "777"},    {"regime", "false"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payload();
        json_t *v = json_loads(rows[i].json, JSON_DECODE_ANY, NULL);
        cr_assert_not_null(v, "row %zu", i);
        json_object_set_new(p, rows[i].field, v);
        char row[64];
        snprintf(row, sizeof row, "%s=%s", rows[i].field, rows[i].json);
        expect_reject(p, "bad_type", rows[i].field, row);
    }
}

Test(ingest_reject, too_long_string_fields)
{
    char acc[ARR_ACCOUNT_MAX + 2], ref[66];
    memset(acc, 'A', ARR_ACCOUNT_MAX + 1); /* 129: one more than the contract allows */
    acc[ARR_ACCOUNT_MAX + 1] = '\0';
    memset(ref, 'r', 65);
    ref[65] = '\0';
    static const struct {
        const char *field;
        const char *value;
    } rows[] = {
        {"regime", "third_party_mode"}, /* 16 characters */
        {"currency", "USDX"},
        {"due_date", "2026-01-15Z"}, /* 11 characters */
        {"service_type", "electricity_gen1"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, rows[i].field, json_string(rows[i].value));
        expect_reject(p, "too_long", rows[i].field, rows[i].value);
    }
    json_t *p = valid_payload();
    json_object_set_new(p, "account_id", json_string(acc));
    expect_reject(p, "too_long", "account_id", "account_id 129");
    p = valid_payload();
    json_object_set_new(p, "debtor_ref", json_string(ref));
    expect_reject(p, "too_long", "debtor_ref", "debtor_ref 65");
}

Test(ingest_reject, bad_account_id)
{
    static const char *const rows[] = {"ACC 1001", "", "ACC\t1", "ACC-\xc3\xa9", "ACC\x7f"};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, "account_id", json_string(rows[i]));
        char row[32];
        snprintf(row, sizeof row, "row %zu", i);
        /* The envelope carries the same text, so only the character rule can fail. */
        ingest_account a;
        ingest_reject why;
        cr_assert_eq(parse_with(rows[i], p, &a, &why), ARR_EINVAL, "%s accepted", row);
        cr_assert_str_eq(why.code, "bad_account_id", "%s", row);
        cr_assert_str_eq(why.field, "account_id", "%s", row);
    }
}

Test(ingest_reject, key_mismatch)
{
    json_t *p = valid_payload();
    json_object_set_new(p, "account_id", json_string("ACC-1002"));
    expect_reject(p, "key_mismatch", "account_id", "other account");
    /* Case matters: account numbers are opaque text. */
    p = valid_payload();
    json_object_set_new(p, "account_id", json_string("acc-1001"));
    expect_reject(p, "key_mismatch", "account_id", "other case");
    /* A prefix of the envelope account is another account. */
    p = valid_payload();
    json_object_set_new(p, "account_id", json_string("ACC-100"));
    expect_reject(p, "key_mismatch", "account_id", "prefix");
}

Test(ingest_reject, bad_regime)
{
    static const char *const rows[] = {"Creditor", "first_party", "", "third-party"};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, "regime", json_string(rows[i]));
        expect_reject(p, "bad_regime", "regime", rows[i]);
    }
}

Test(ingest_reject, unknown_currency)
{
    static const char *const rows[] = {"usd", "JPY", "", "US", "XXX"};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, "currency", json_string(rows[i]));
        expect_reject(p, "unknown_currency", "currency", rows[i]);
    }
}

Test(ingest_reject, bad_amount)
{
    static const struct {
        const char *field;
        const char *json;
    } rows[] = {
        {"balance_cents", "12.5"},
        {"balance_cents", "12.0"}, /* a JSON real, even when integral */
        {"balance_cents", "\"12.00\""},
        {"balance_cents", "\"1200\""},
        {"balance_cents", "true"},
        {"balance_cents", "null"},
        {"original_balance_cents", "12.5"},
        {"original_balance_cents", "\"12.00\""},
        {"original_balance_cents", "-1"},
        {"original_balance_cents", "-15000"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payload();
        json_t *v = json_loads(rows[i].json, JSON_DECODE_ANY, NULL);
        cr_assert_not_null(v, "row %zu", i);
        json_object_set_new(p, rows[i].field, v);
        char row[64];
        snprintf(row, sizeof row, "%s=%s", rows[i].field, rows[i].json);
        expect_reject(p, "bad_amount", rows[i].field, row);
    }
}

static const struct {
    const char *date;
    int ok;
} date_rows[] = {
    {"2026-01-15", 1}, {"2024-02-29", 1}, /* 2024 is a leap year */
    {"2000-02-29", 1},                    /* divisible by 400: leap */
    {"2026-02-28", 1}, {"2026-04-30", 1}, {"2026-12-31", 1}, {"1900-01-01", 1},
    {"2026-02-29", 0}, /* 2026 is not a leap year */
    {"1900-02-29", 0}, /* divisible by 100, not by 400: not leap */
    {"2026-13-01", 0}, {"2026-00-10", 0}, {"2026-04-31", 0}, {"2026-06-31", 0},
    {"2026-01-32", 0}, {"2026-01-00", 0}, {"2026-4-1", 0},   {"2026-04-1", 0},
    {"2026-04-1x", 0}, /* trailing character within ten bytes */
    {"2026/04/01", 0}, {"20260401xx", 0}, {"01-04-2026", 0}, {"", 0},
    {"1899-12-31", 0},
};

Test(ingest_reject, bad_date_table)
{
    for (size_t i = 0; i < sizeof(date_rows) / sizeof(date_rows[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, "due_date", json_string(date_rows[i].date));
        if (date_rows[i].ok) {
            ingest_account a;
            expect_accept(p, date_rows[i].date, &a);
            cr_assert_str_eq(a.due_date, date_rows[i].date);
        } else {
            expect_reject(p, "bad_date", "due_date", date_rows[i].date);
        }
    }
}

Test(ingest_reject, trailing_characters_past_ten_bytes_are_too_long)
{
    json_t *p = valid_payload();
    json_object_set_new(p, "due_date", json_string("2026-04-01T00:00:00Z"));
    expect_reject(p, "too_long", "due_date", "date-time");
}

/* BUG (services/ingest/submission.c, date_valid): sscanf's %2d skips leading white space and
 * takes a sign, so a ten-character string such as "2026-04- 1" or "2026-+4-01" passes as a
 * date although the contract is ^[0-9]{4}-[0-9]{2}-[0-9]{2}$. This test fails until the
 * validator checks that every position other than 4 and 7 is a digit. */
Test(ingest_reject, date_with_space_or_sign_is_bad_date)
{
    static const char *const rows[] = {"2026-04- 1", "2026-+4-01", "2026-04-+1", "2026- 4-01"};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, "due_date", json_string(rows[i]));
        expect_reject(p, "bad_date", "due_date", rows[i]);
    }
}

Test(ingest_reject, bad_service_type)
{
    static const char *const rows[] = {"Water", "internet", "", "sewer"};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = valid_payload();
        json_object_set_new(p, "service_type", json_string(rows[i]));
        expect_reject(p, "bad_service_type", "service_type", rows[i]);
    }
}

/* ------------------------------------------------------------------ account.placed */

Test(ingest_placed, payload_without_debtor_ref)
{
    ingest_account a;
    memset(&a, 0, sizeof a);
    strcpy(a.account_id, "ACC-1001");
    strcpy(a.regime, "creditor");
    strcpy(a.currency, "CAD");
    a.balance_cents = -2500;
    a.original_balance_cents = 49999;
    strcpy(a.due_date, "2024-02-29");
    strcpy(a.service_type, "medical");
    json_t *p = ingest_placed_payload(&a);
    cr_assert_not_null(p);
    cr_assert_eq(json_object_size(p), 7);
    cr_assert_str_eq(json_string_value(json_object_get(p, "account_id")), "ACC-1001");
    cr_assert_str_eq(json_string_value(json_object_get(p, "regime")), "creditor");
    cr_assert_str_eq(json_string_value(json_object_get(p, "currency")), "CAD");
    cr_assert(json_is_integer(json_object_get(p, "balance_cents")));
    cr_assert_eq(json_integer_value(json_object_get(p, "balance_cents")), -2500);
    cr_assert(json_is_integer(json_object_get(p, "original_balance_cents")));
    cr_assert_eq(json_integer_value(json_object_get(p, "original_balance_cents")), 49999);
    cr_assert_str_eq(json_string_value(json_object_get(p, "due_date")), "2024-02-29");
    cr_assert_str_eq(json_string_value(json_object_get(p, "service_type")), "medical");
    cr_assert_null(json_object_get(p, "debtor_ref"), "empty debtor_ref must be omitted");
    json_decref(p);
}

Test(ingest_placed, payload_with_debtor_ref)
{
    ingest_account a;
    memset(&a, 0, sizeof a);
    strcpy(a.account_id, "X/9");
    strcpy(a.regime, "third_party");
    strcpy(a.currency, "USD");
    a.balance_cents = 4000;
    a.original_balance_cents = 4000;
    strcpy(a.due_date, "2026-03-01");
    strcpy(a.service_type, "telecom");
    strcpy(a.debtor_ref, "D-42");
    json_t *p = ingest_placed_payload(&a);
    cr_assert_not_null(p);
    cr_assert_eq(json_object_size(p), 8);
    cr_assert_str_eq(json_string_value(json_object_get(p, "debtor_ref")), "D-42");
    cr_assert_str_eq(json_string_value(json_object_get(p, "account_id")), "X/9");
    cr_assert_eq(json_integer_value(json_object_get(p, "balance_cents")), 4000);
    json_decref(p);
}

Test(ingest_placed, round_trip_through_parse)
{
    /* A placed payload has the submitted shape, so it parses back to the same record. */
    json_t *in = valid_payload();
    json_object_set_new(in, "debtor_ref", json_string("CUST-1"));
    ingest_account a, b;
    expect_accept(in, "first", &a);
    json_t *placed = ingest_placed_payload(&a);
    cr_assert_not_null(placed);
    expect_accept(placed, "second", &b);
    cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
}

/* ------------------------------------------------------------------ reject text */

Test(ingest_format, exact_text)
{
    ingest_reject r = {.code = "bad_date"};
    strcpy(r.field, "due_date");
    strcpy(r.detail, "must be a valid YYYY-MM-DD date");
    char out[128];
    ingest_reject_format(&r, out, sizeof out);
    cr_assert_str_eq(out, "bad_date: field due_date: must be a valid YYYY-MM-DD date");
}

Test(ingest_format, truncates_to_the_buffer)
{
    ingest_reject r = {.code = "missing_field"};
    strcpy(r.field, "regime");
    strcpy(r.detail, "is required");
    char out[12];
    memset(out, 'z', sizeof out);
    ingest_reject_format(&r, out, sizeof out);
    cr_assert_str_eq(out, "missing_fie"); /* 11 characters and the NUL */
}

Test(ingest_format, of_a_real_rejection)
{
    json_t *p = valid_payload();
    json_object_del(p, "currency");
    ingest_account a;
    ingest_reject why;
    cr_assert_eq(parse(p, &a, &why), ARR_EINVAL);
    char out[256];
    ingest_reject_format(&why, out, sizeof out);
    char want[256];
    snprintf(want, sizeof want, "missing_field: field currency: %s", why.detail);
    cr_assert_str_eq(out, want);
}

/* Balances beyond 10^12 cents ($10 billion) are refused, so no later arithmetic on a balance
 * (scores, allocations) can overflow; the boundary itself is accepted. */
Test(ingest_reject, amounts_beyond_ten_billion_are_bad_amount)
{
    ingest_account a;
    json_t *p = valid_payload();
    json_object_set_new(p, "balance_cents", json_integer(1000000000000LL));
    expect_accept(p, "balance at the cap", &a);
    cr_expect_eq(a.balance_cents, 1000000000000LL);

    p = valid_payload();
    json_object_set_new(p, "balance_cents", json_integer(1000000000001LL));
    expect_reject(p, "bad_amount", "balance_cents", "balance above the cap");

    p = valid_payload();
    json_object_set_new(p, "balance_cents", json_integer(-1000000000001LL));
    expect_reject(p, "bad_amount", "balance_cents", "credit above the cap");

    p = valid_payload();
    json_object_set_new(p, "original_balance_cents", json_integer(INT64_MAX));
    expect_reject(p, "bad_amount", "original_balance_cents", "original at INT64_MAX");
}
