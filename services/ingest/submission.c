#include "submission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The currencies our tenants bill in today; a new one is a deliberate change. */
static const char *const currencies[] = {"USD", "CAD", "MXN", "EUR", "GBP", NULL};
static const char *const service_types[] = {"electricity", "gas",   "water", "telecom",
                                            "medical",     "other", NULL};
static const char *const regimes[] = {"creditor", "third_party", NULL};

static arr_err reject(ingest_reject *why, const char *code, const char *field, const char *detail)
{
    why->code = code;
    snprintf(why->field, sizeof(why->field), "%s", field);
    snprintf(why->detail, sizeof(why->detail), "%s", detail);
    return ARR_EINVAL;
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return 1;
    }
    return 0;
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int date_valid(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0; /* sscanf alone would take " 1" or "+1" */
    }
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1)
        return 0;
    return d <= days[m - 1] + (m == 2 && leap(y));
}

/* Copies a required string field of at most max bytes; NULL code means it is optional. */
static arr_err get_str(json_t *p, const char *field, char *out, size_t outlen, int required,
                       ingest_reject *why)
{
    json_t *v = json_object_get(p, field);
    if (!v || json_is_null(v)) {
        out[0] = '\0';
        return required ? reject(why, "missing_field", field, "is required") : ARR_OK;
    }
    if (!json_is_string(v))
        return reject(why, "bad_type", field, "must be a string");
    if (json_string_length(v) >= outlen)
        return reject(why, "too_long", field, "is too long");
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return ARR_OK;
}

/* $10 billion: no consumer balance comes near it, and it keeps every product of a balance and
 * a basis-point rate far inside int64. */
#define INGEST_CENTS_MAX 1000000000000LL

static arr_err get_cents(json_t *p, const char *field, int64_t *out, ingest_reject *why)
{
    json_t *v = json_object_get(p, field);
    if (!v)
        return reject(why, "missing_field", field, "is required");
    if (!json_is_integer(v))
        return reject(why, "bad_amount", field, "must be an integer number of minor units");
    if (json_integer_value(v) > INGEST_CENTS_MAX || json_integer_value(v) < -INGEST_CENTS_MAX)
        return reject(why, "bad_amount", field, "is out of range (more than $10 billion)");
    *out = json_integer_value(v);
    return ARR_OK;
}

arr_err ingest_submission_parse(const arr_envelope *env, ingest_account *out, ingest_reject *why)
{
    json_t *p = env->payload;
    memset(out, 0, sizeof(*out));
    arr_err e = get_str(p, "account_id", out->account_id, sizeof(out->account_id), 1, why);
    if (!e && !arr_account_valid(out->account_id))
        e = reject(why, "bad_account_id", "account_id", "must be printable ASCII without spaces");
    if (!e && strcmp(out->account_id, env->account) != 0)
        e = reject(why, "key_mismatch", "account_id", "differs from the envelope's account");
    if (!e)
        e = get_str(p, "regime", out->regime, sizeof(out->regime), 1, why);
    if (!e && !in_list(out->regime, regimes))
        e = reject(why, "bad_regime", "regime", "must be creditor or third_party");
    if (!e)
        e = get_str(p, "currency", out->currency, sizeof(out->currency), 1, why);
    if (!e && !in_list(out->currency, currencies))
        e = reject(why, "unknown_currency", "currency", "is not a supported ISO 4217 code");
    if (!e)
        e = get_cents(p, "balance_cents", &out->balance_cents, why);
    if (!e)
        e = get_cents(p, "original_balance_cents", &out->original_balance_cents, why);
    if (!e && out->original_balance_cents < 0)
        e = reject(why, "bad_amount", "original_balance_cents", "must not be negative");
    if (!e)
        e = get_str(p, "due_date", out->due_date, sizeof(out->due_date), 1, why);
    if (!e && !date_valid(out->due_date))
        e = reject(why, "bad_date", "due_date", "must be a valid YYYY-MM-DD date");
    if (!e)
        e = get_str(p, "service_type", out->service_type, sizeof(out->service_type), 1, why);
    if (!e && !in_list(out->service_type, service_types))
        e = reject(why, "bad_service_type", "service_type", "is not a known service type");
    if (!e)
        e = get_str(p, "debtor_ref", out->debtor_ref, sizeof(out->debtor_ref), 0, why);
    return e;
}

json_t *ingest_placed_payload(const ingest_account *a)
{
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "account_id", a->account_id, "regime",
                  a->regime, "currency", a->currency, "balance_cents", (json_int_t)a->balance_cents,
                  "original_balance_cents", (json_int_t)a->original_balance_cents, "due_date",
                  a->due_date, "service_type", a->service_type);
    if (p && a->debtor_ref[0])
        json_object_set_new(p, "debtor_ref", json_string(a->debtor_ref));
    return p;
}

void ingest_reject_format(const ingest_reject *r, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s: field %s: %s", r->code, r->field, r->detail);
}
