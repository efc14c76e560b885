#include "jsonl.h"

#include <stdio.h>
#include <string.h>
#include "arrears/clock.h"

static const char *const FIELDS[] = {
    "payment_id",          "amount_cents", "currency",      "received_at",
    "reference",           "payer_name",   "account_id",    "kind",
    "returned_payment_id", "return_code",  "end_to_end_id",
};

static arr_err bad(char *why, size_t whylen, const char *field, const char *reason)
{
    return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: %s", field, reason);
}

/* All characters within [lo, '~'] (lo '!' forbids spaces, ' ' allows them). */
static int ascii_run(const char *s, size_t n, char lo)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < lo || s[i] > '~')
            return 0;
    return 1;
}

/* A string, or NULL for absent/null/"" when optional. A NUL inside is refused: the text
 * would end early everywhere downstream. */
static arr_err get_str(json_t *obj, const char *key, int required, const char **s, size_t *n,
                       char *why, size_t whylen)
{
    json_t *v = json_object_get(obj, key);
    *s = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return required ? bad(why, whylen, key, "missing") : ARR_OK;
    if (!json_is_string(v))
        return bad(why, whylen, key, "not a string");
    if (strlen(json_string_value(v)) != json_string_length(v))
        return bad(why, whylen, key, "contains a NUL character");
    if (json_string_length(v) > 0 || required) {
        *s = json_string_value(v);
        *n = json_string_length(v);
    }
    return ARR_OK;
}

/* payment_id and returned_payment_id: "<source>:<id>" unless the id already names its source. */
static arr_err get_payment_id(json_t *obj, const char *key, const char *source, char *dst,
                              size_t cap, char *why, size_t whylen)
{
    const char *s;
    size_t n;
    arr_err rc = get_str(obj, key, 1, &s, &n, why, whylen);
    if (rc)
        return rc;
    if (n == 0 || !ascii_run(s, n, '!'))
        return bad(why, whylen, key, "not an id (printable ASCII without spaces)");
    int w =
        memchr(s, ':', n) ? snprintf(dst, cap, "%s", s) : snprintf(dst, cap, "%s:%s", source, s);
    if (w < 0 || (size_t)w >= cap) {
        char reason[80];
        snprintf(reason, sizeof reason, "longer than %zu characters with its source prefix",
                 cap - 1);
        return bad(why, whylen, key, reason);
    }
    return ARR_OK;
}

/* Free text copied with whitespace collapsed; longer than cap - 1 bytes is refused rather than
 * cut, as a cut reference could match the wrong account. */
static arr_err get_text(json_t *obj, const char *key, char *dst, size_t cap, char *why,
                        size_t whylen)
{
    const char *s;
    size_t n;
    arr_err rc = get_str(obj, key, 0, &s, &n, why, whylen);
    if (rc || !s)
        return rc;
    if (n >= cap) {
        char reason[48];
        snprintf(reason, sizeof reason, "longer than %zu bytes", cap - 1);
        return bad(why, whylen, key, reason);
    }
    recon_text_append(dst, cap, s, n);
    return ARR_OK;
}

static int source_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > RECON_SOURCE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return 0;
    }
    return 1;
}

arr_err recon_jsonl_entry(json_t *obj, const char *source, recon_entry *e, char *why, size_t whylen)
{
    if (!source_ok(source))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "source: not a valid source name");
    if (!json_is_object(obj))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "not a JSON object");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        while (i < sizeof FIELDS / sizeof FIELDS[0] && strcmp(key, FIELDS[i]) != 0)
            i++;
        if (i == sizeof FIELDS / sizeof FIELDS[0]) {
            /* The name is untrusted: show a bounded, printable form of it. */
            char shown[41];
            size_t n = 0;
            for (; key[n] && n < sizeof shown - 1; n++)
                shown[n] = key[n] >= ' ' && key[n] <= '~' ? key[n] : '?';
            shown[n] = '\0';
            return bad(why, whylen, shown, "unknown field");
        }
    }

    recon_entry t;
    memset(&t, 0, sizeof t);
    snprintf(t.source, sizeof t.source, "%s", source);
    const char *s;
    size_t n;
    arr_err rc =
        get_payment_id(obj, "payment_id", source, t.payment_id, sizeof t.payment_id, why, whylen);
    if (rc)
        return rc;

    v = json_object_get(obj, "amount_cents");
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return bad(why, whylen, "amount_cents", "missing or not a positive integer");
    t.amount_cents = (int64_t)json_integer_value(v);

    rc = get_str(obj, "currency", 1, &s, &n, why, whylen);
    if (rc)
        return rc;
    if (n != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] < 'A' || s[2] > 'Z')
        return bad(why, whylen, "currency", "not three capital letters (ISO 4217)");
    memcpy(t.currency, s, 4);

    rc = get_str(obj, "received_at", 1, &s, &n, why, whylen);
    if (rc)
        return rc;
    if ((n == 10 ? recon_date_ms(s, n, &t.received_at_ms) : arr_time_parse(s, &t.received_at_ms)) !=
        ARR_OK)
        return bad(why, whylen, "received_at", "not an RFC 3339 time or a YYYY-MM-DD date");

    rc = get_str(obj, "kind", 0, &s, &n, why, whylen);
    if (rc)
        return rc;
    if (!s || strcmp(s, "payment") == 0)
        t.kind = RECON_PAYMENT;
    else if (strcmp(s, "return") == 0)
        t.kind = RECON_RETURN;
    else
        return bad(why, whylen, "kind", "not \"payment\" or \"return\"");

    if (t.kind == RECON_RETURN) {
        static const char *const needed[] = {"returned_payment_id", "return_code"};
        for (size_t i = 0; i < 2; i++) {
            v = json_object_get(obj, needed[i]);
            if (!v || json_is_null(v))
                return bad(why, whylen, needed[i], "missing (required for a return)");
        }
        rc = get_payment_id(obj, "returned_payment_id", source, t.returned_payment_id,
                            sizeof t.returned_payment_id, why, whylen);
        if (!rc)
            rc = get_str(obj, "return_code", 1, &s, &n, why, whylen);
        if (rc)
            return rc;
        if (n == 0 || n >= sizeof t.return_code || !ascii_run(s, n, '!')) {
            char reason[80];
            snprintf(reason, sizeof reason,
                     "not 1 to %zu printable ASCII characters without spaces",
                     sizeof t.return_code - 1);
            return bad(why, whylen, "return_code", reason);
        }
        memcpy(t.return_code, s, n + 1);
    } else {
        static const char *const only_returns[] = {"returned_payment_id", "return_code"};
        for (size_t i = 0; i < 2; i++) {
            v = json_object_get(obj, only_returns[i]);
            if (v && !json_is_null(v))
                return bad(why, whylen, only_returns[i], "only allowed when kind is \"return\"");
        }
    }

    rc = get_text(obj, "reference", t.reference, sizeof t.reference, why, whylen);
    if (!rc)
        rc = get_text(obj, "payer_name", t.payer_name, sizeof t.payer_name, why, whylen);
    if (!rc)
        rc = get_str(obj, "account_id", 0, &s, &n, why, whylen);
    if (rc)
        return rc;
    if (s) {
        if (n >= sizeof t.account_hint || !ascii_run(s, n, '!'))
            return bad(why, whylen, "account_id",
                       "not an account id (at most 128 printable ASCII characters, no spaces)");
        memcpy(t.account_hint, s, n + 1);
    }
    rc = get_str(obj, "end_to_end_id", 0, &s, &n, why, whylen);
    if (rc)
        return rc;
    if (s) {
        if (n >= sizeof t.end_to_end_id || !ascii_run(s, n, ' '))
            return bad(why, whylen, "end_to_end_id", "not at most 128 printable ASCII characters");
        memcpy(t.end_to_end_id, s, n + 1);
    }
    *e = t;
    return ARR_OK;
}

static arr_err parse_lines(const char *data, size_t len, recon_entries *out, char *why,
                           size_t whylen)
{
    size_t pos = 0;
    long long lineno = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    while (pos < len) {
        lineno++;
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n > RECON_JSONL_LINE_MAX)
            return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "line %lld: longer than %d bytes",
                                   lineno, RECON_JSONL_LINE_MAX);
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
            k++;
        if (k == n)
            continue;

        json_error_t jerr;
        json_t *obj = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
        if (!obj)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "line %lld: invalid JSON at column %d: %s", lineno, jerr.column,
                                   jerr.text);
        if (!json_is_object(obj)) {
            json_decref(obj);
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "line %lld: not a JSON object", lineno);
        }
        recon_entry t;
        char ewhy[256];
        arr_err rc = recon_jsonl_entry(obj, "json", &t, ewhy, sizeof ewhy);
        json_decref(obj);
        if (rc)
            return arr_errbuf_fail(rc, why, whylen, "line %lld %s", lineno, ewhy);
        recon_entry *e;
        rc = recon_entries_push(out, &e);
        if (rc == ARR_ELIMIT)
            return arr_errbuf_fail(rc, why, whylen, "line %lld: more than %zu entries", lineno,
                                   out->max);
        if (rc)
            return arr_errbuf_fail(rc, why, whylen, "line %lld: out of memory", lineno);
        *e = t;
        e->line = lineno;
    }
    return ARR_OK;
}

arr_err recon_jsonl_parse(const char *data, size_t len, recon_entries *out, char *why,
                          size_t whylen)
{
    if (!out || (!data && len))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "no data");
    size_t n0 = out->n;
    arr_err rc = parse_lines(data, len, out, why, whylen);
    if (rc)
        out->n = n0; /* all or nothing */
    return rc;
}
