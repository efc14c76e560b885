#include "payload.h"

#include <string.h>
#include "arrears/clock.h"
#include "arrears/envelope.h"

static void set_opt(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

json_t *recon_payload_from_entry(const recon_entry *e)
{
    char at[ARR_TIME_STRLEN];
    if (arr_time_format(e->received_at_ms, at, sizeof(at)) != ARR_OK)
        return NULL;
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "payment_id", e->payment_id,
                          "kind", recon_kind_name(e->kind), "source", e->source, "amount_cents",
                          (json_int_t)e->amount_cents, "currency", e->currency, "received_at", at,
                          "reference", e->reference);
    if (!o)
        return NULL;
    set_opt(o, "end_to_end_id", e->end_to_end_id);
    set_opt(o, "payer_name", e->payer_name);
    set_opt(o, "account_id", e->account_hint);
    set_opt(o, "type_code", e->type_code);
    set_opt(o, "return_code", e->return_code);
    set_opt(o, "returned_payment_id", e->returned_payment_id);
    set_opt(o, "skip_reason", e->skip_reason);
    if (e->line > 0)
        json_object_set_new(o, "line", json_integer(e->line));
    return o;
}

static arr_err bad(char *why, size_t len, const char *field, const char *detail)
{
    return arr_errbuf_fail(ARR_EINVAL, why, len, "field payload.%s: %s", field, detail);
}

static arr_err copy(json_t *p, const char *field, char *out, size_t cap, int required, int is_id,
                    char *why, size_t len)
{
    json_t *v = json_object_get(p, field);
    out[0] = '\0';
    if (!v) {
        if (required)
            return bad(why, len, field, "missing");
        return ARR_OK;
    }
    if (!json_is_string(v))
        return bad(why, len, field, "must be a string");
    if (json_string_length(v) >= cap)
        return bad(why, len, field, "too long");
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    if (strlen(out) != json_string_length(v))
        return bad(why, len, field, "contains NUL");
    /* The schemas' id pattern is the envelope's account rule: printable ASCII, no spaces. */
    if (is_id && (out[0] || required) && !arr_account_valid(out))
        return bad(why, len, field, "must be printable ASCII without spaces");
    return ARR_OK;
}

static const char *const known[] = {"payment_id",
                                    "kind",
                                    "source",
                                    "amount_cents",
                                    "currency",
                                    "received_at",
                                    "reference",
                                    "end_to_end_id",
                                    "payer_name",
                                    "account_id",
                                    "type_code",
                                    "return_code",
                                    "returned_payment_id",
                                    "skip_reason",
                                    "line",
                                    NULL};

arr_err recon_payload_to_entry(json_t *p, recon_entry *e, char *why, size_t len)
{
    memset(e, 0, sizeof(*e));
    if (!json_is_object(p))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "payload: not an object");
    const char *k;
    json_t *v;
    json_object_foreach(p, k, v)
    {
        int ok = 0;
        for (int i = 0; known[i] && !ok; i++)
            ok = strcmp(k, known[i]) == 0;
        if (!ok)
            return bad(why, len, k, "unknown field");
    }
    arr_err err;
    if ((err = copy(p, "payment_id", e->payment_id, sizeof(e->payment_id), 1, 1, why, len)) ||
        (err = copy(p, "source", e->source, sizeof(e->source), 1, 1, why, len)) ||
        (err = copy(p, "currency", e->currency, sizeof(e->currency), 1, 0, why, len)) ||
        (err = copy(p, "reference", e->reference, sizeof(e->reference), 0, 0, why, len)) ||
        (err = copy(p, "end_to_end_id", e->end_to_end_id, sizeof(e->end_to_end_id), 0, 0, why,
                    len)) ||
        (err = copy(p, "payer_name", e->payer_name, sizeof(e->payer_name), 0, 0, why, len)) ||
        (err = copy(p, "account_id", e->account_hint, sizeof(e->account_hint), 0, 1, why, len)) ||
        (err = copy(p, "type_code", e->type_code, sizeof(e->type_code), 0, 0, why, len)) ||
        (err = copy(p, "return_code", e->return_code, sizeof(e->return_code), 0, 0, why, len)) ||
        (err = copy(p, "returned_payment_id", e->returned_payment_id,
                    sizeof(e->returned_payment_id), 0, 1, why, len)) ||
        (err = copy(p, "skip_reason", e->skip_reason, sizeof(e->skip_reason), 0, 0, why, len)))
        return err;
    if (strlen(e->currency) != 3 || e->currency[0] < 'A' || e->currency[0] > 'Z' ||
        e->currency[1] < 'A' || e->currency[1] > 'Z' || e->currency[2] < 'A' ||
        e->currency[2] > 'Z')
        return bad(why, len, "currency", "must be an ISO 4217 code");
    const char *kind = json_string_value(json_object_get(p, "kind"));
    if (!kind || strcmp(kind, "payment") == 0)
        e->kind = RECON_PAYMENT;
    else if (strcmp(kind, "return") == 0)
        e->kind = RECON_RETURN;
    else if (strcmp(kind, "notice") == 0)
        e->kind = RECON_NOTICE;
    else if (strcmp(kind, "skipped") == 0)
        e->kind = RECON_SKIPPED;
    else
        return bad(why, len, "kind", "must be payment, return, notice or skipped");
    json_t *amt = json_object_get(p, "amount_cents");
    if (!json_is_integer(amt) || json_integer_value(amt) < 0)
        return bad(why, len, "amount_cents", "must be a non-negative integer");
    e->amount_cents = json_integer_value(amt);
    if ((e->kind == RECON_PAYMENT || e->kind == RECON_RETURN) && e->amount_cents == 0)
        return bad(why, len, "amount_cents", "must be positive for a payment or a return");
    if (e->kind == RECON_RETURN && !e->returned_payment_id[0])
        return bad(why, len, "returned_payment_id", "required for a return");
    const char *at = json_string_value(json_object_get(p, "received_at"));
    if (!at || arr_time_parse(at, &e->received_at_ms) != ARR_OK)
        return bad(why, len, "received_at", "must be an RFC 3339 time");
    json_t *line = json_object_get(p, "line");
    if (line && (!json_is_integer(line) || json_integer_value(line) < 0))
        return bad(why, len, "line", "must be a non-negative integer");
    e->line = line ? json_integer_value(line) : 0;
    return ARR_OK;
}

const char *recon_payload_routing_key(const recon_entry *e)
{
    if (e->account_hint[0])
        return e->account_hint;
    if (e->returned_payment_id[0])
        return e->returned_payment_id;
    return e->payment_id;
}
