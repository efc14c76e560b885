#include "ledger.h"

#include <stdio.h>
#include <string.h>
#include "arrears/clock.h"

static arr_err bad(char *why, size_t len, const char *field, const char *detail)
{
    snprintf(why, len, "field payload.%s: %s", field, detail);
    return ARR_EINVAL;
}

typedef int (*char_ok_fn)(char c, size_t i);

static int id_char(char c, size_t i)
{
    (void)i;
    return c >= '!' && c <= '~';
}

static int source_char(char c, size_t i)
{
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    return alnum || (i > 0 && (c == '_' || c == '.' || c == '-'));
}

static int currency_char(char c, size_t i)
{
    (void)i;
    return c >= 'A' && c <= 'Z';
}

/* Copies a string field whose every character passes ok (the payload schema's pattern). */
static arr_err copy_str(json_t *p, const char *field, char *out, size_t outlen, char_ok_fn ok,
                        const char *pattern, char *why, size_t len)
{
    json_t *v = json_object_get(p, field);
    if (!json_is_string(v) || json_string_length(v) == 0)
        return bad(why, len, field, "must be a non-empty string");
    if (json_string_length(v) >= outlen)
        return bad(why, len, field, "is too long");
    const char *s = json_string_value(v);
    for (size_t i = 0; i < json_string_length(v); i++) {
        if (!ok(s[i], i))
            return bad(why, len, field, pattern);
    }
    memcpy(out, s, json_string_length(v) + 1);
    return ARR_OK;
}

arr_err recon_payment_from_payload(json_t *payload, recon_payment *out, char *why, size_t len)
{
    memset(out, 0, sizeof(*out));
    arr_err e = copy_str(payload, "payment_id", out->payment_id, sizeof(out->payment_id), id_char,
                         "must be printable ASCII without spaces", why, len);
    if (!e)
        e = copy_str(payload, "source", out->source, sizeof(out->source), source_char,
                     "must match [a-z0-9][a-z0-9_.-]{0,31}", why, len);
    if (!e)
        e = copy_str(payload, "currency", out->currency, sizeof(out->currency), currency_char,
                     "must be three capital letters (ISO 4217)", why, len);
    if (!e && strlen(out->currency) != 3)
        e = bad(why, len, "currency", "must be three capital letters (ISO 4217)");
    if (e)
        return e;
    json_t *amount = json_object_get(payload, "amount_cents");
    if (!json_is_integer(amount) || json_integer_value(amount) <= 0)
        return bad(why, len, "amount_cents", "must be a positive integer number of cents");
    out->amount_cents = json_integer_value(amount);
    const char *at = json_string_value(json_object_get(payload, "received_at"));
    if (!at || arr_time_parse(at, &out->received_at_ms) != ARR_OK)
        return bad(why, len, "received_at", "must be an RFC 3339 time");
    return ARR_OK;
}

void recon_apply_payment(const recon_ledger *before, const recon_payment *p, recon_outcome *out)
{
    memset(out, 0, sizeof(*out));
    out->after = *before;
    if (!before->exists) {
        out->unmatched_reason = "account.unknown";
        return;
    }
    if (strcmp(before->currency, p->currency) != 0) {
        out->unmatched_reason = "currency.mismatch";
        return;
    }
    /* An overpayment drives the balance negative: a credit owed to the consumer. */
    out->applied = 1;
    out->after.applied_cents += p->amount_cents;
    out->after.balance_cents -= p->amount_cents;
}

int recon_ledger_consistent(const recon_ledger *l)
{
    return l->balance_cents == l->placed_cents - l->applied_cents + l->reversed_cents;
}
