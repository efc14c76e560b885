#include "stripe.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#define SOURCE "processor"
#define PREFIX SOURCE ":"
#define PREFIX_LEN (sizeof(PREFIX) - 1)
/* Longest object id accepted: "processor:<id>/refund" must still fit in a payment_id. */
#define ID_MAX ((int)(RECON_ID_MAX - PREFIX_LEN - sizeof("/refund") + 1))
#define SECONDS_MAX 253402300799LL /* 9999-12-31T23:59:59Z: keeps seconds * 1000 exact */
#define MAC_LEN 32

/* entry.h's return_code holds 7 characters and "chargeback" needs 10; until it is widened a
 * dispute is coded "dispute" rather than a truncated "chargeb". */
#define DISPUTE_CODE "chargeback"

/* ------------------------------------------------------------------ signatures */

static arr_err hmac_sha256(const char *secret, const char *t, size_t tlen, const char *body,
                           size_t body_len, unsigned char out[MAC_LEN])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac)
        return ARR_EFATAL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    size_t outl = 0;
    int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)t, tlen) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)".", 1) == 1 &&
             (body_len == 0 || EVP_MAC_update(ctx, (const unsigned char *)body, body_len) == 1) &&
             EVP_MAC_final(ctx, out, &outl, MAC_LEN) == 1 && outl == MAC_LEN;
    arr_err rc = ok ? ARR_OK : ctx ? ARR_EFATAL : ARR_ENOMEM;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

typedef struct sig_item {
    const char *key, *val;
    size_t klen, vlen;
} sig_item;

/* Splits the next comma-separated "key=value" off *p (spaces around it ignored); 0 at the end.
 * An item without '=' comes back with klen 0 and is ignored by the callers. */
static int next_item(const char **p, sig_item *it)
{
    const char *s = *p;
    while (*s == ',' || *s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return 0;
    const char *end = strchr(s, ',');
    if (!end)
        end = s + strlen(s);
    *p = end;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    const char *eq = memchr(s, '=', (size_t)(end - s));
    memset(it, 0, sizeof(*it));
    if (eq) {
        it->key = s;
        it->klen = (size_t)(eq - s);
        it->val = eq + 1;
        it->vlen = (size_t)(end - eq - 1);
    }
    return 1;
}

static int key_is(const sig_item *it, const char *k)
{
    return it->klen == strlen(k) && memcmp(it->key, k, it->klen) == 0;
}

arr_err recon_stripe_verify(const char *header, const char *body, size_t body_len,
                            const char *secret, int64_t now_s, int64_t tolerance_s, char *why,
                            size_t whylen)
{
    if (!secret || !*secret)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "no secret");
    if (tolerance_s < 0)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "negative tolerance");
    if (!body && body_len)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "no body");

    /* One t, 1 to 18 digits: it is signed as written, so keep its text. */
    const char *t_text = NULL;
    size_t t_len = 0;
    int t_count = 0;
    sig_item it;
    for (const char *p = header ? header : ""; next_item(&p, &it);) {
        if (key_is(&it, "t")) {
            t_count++;
            t_text = it.val;
            t_len = it.vlen;
        }
    }
    int64_t t = 0;
    int t_ok = t_count == 1 && t_len >= 1 && t_len <= 18;
    for (size_t i = 0; t_ok && i < t_len; i++) {
        if (t_text[i] < '0' || t_text[i] > '9')
            t_ok = 0;
        else
            t = t * 10 + (t_text[i] - '0');
    }
    if (!t_ok)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "no timestamp");
    /* The difference of two int64 always fits in a uint64. */
    uint64_t diff = t > now_s ? (uint64_t)t - (uint64_t)now_s : (uint64_t)now_s - (uint64_t)t;
    if (diff > (uint64_t)tolerance_s)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "timestamp outside the tolerance");

    unsigned char want[MAC_LEN];
    arr_err rc = hmac_sha256(secret, t_text, t_len, body, body_len, want);
    if (rc != ARR_OK)
        return arr_errbuf_fail(rc, why, whylen, "HMAC-SHA256 failed");
    int seen_v1 = 0, match = 0;
    for (const char *p = header; next_item(&p, &it);) {
        if (!key_is(&it, "v1"))
            continue;
        seen_v1 = 1;
        if (it.vlen != 2 * MAC_LEN)
            continue;
        unsigned char got[MAC_LEN];
        int hex_ok = 1;
        for (size_t i = 0; i < MAC_LEN; i++) {
            int hi = hexval(it.val[2 * i]), lo = hexval(it.val[2 * i + 1]);
            if (hi < 0 || lo < 0)
                hex_ok = 0;
            got[i] = (unsigned char)((hi & 15) << 4 | (lo & 15));
        }
        if (hex_ok && CRYPTO_memcmp(got, want, MAC_LEN) == 0)
            match = 1;
    }
    if (!seen_v1)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "no v1 signature");
    if (!match)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "signature mismatch");
    return ARR_OK;
}

arr_err recon_stripe_sign(const char *body, size_t body_len, const char *secret, int64_t t,
                          char *out, size_t outlen)
{
    if (!secret || !*secret || t < 0 || (!body && body_len) || !out)
        return ARR_EINVAL;
    if (outlen < RECON_STRIPE_SIG_MAX)
        return ARR_ELIMIT;
    char t_text[24];
    int t_len = snprintf(t_text, sizeof t_text, "%lld", (long long)t);
    unsigned char mac[MAC_LEN];
    arr_err rc = hmac_sha256(secret, t_text, (size_t)t_len, body, body_len, mac);
    if (rc != ARR_OK)
        return rc;
    static const char hex[] = "0123456789abcdef";
    char mac_hex[2 * MAC_LEN + 1];
    for (size_t i = 0; i < MAC_LEN; i++) {
        mac_hex[2 * i] = hex[mac[i] >> 4];
        mac_hex[2 * i + 1] = hex[mac[i] & 15];
    }
    mac_hex[2 * MAC_LEN] = '\0';
    snprintf(out, outlen, "t=%s,v1=%s", t_text, mac_hex);
    return ARR_OK;
}

/* ------------------------------------------------------------------ events */

typedef struct ev {
    recon_entries *out;
    char *why;
    size_t whylen;
    int64_t created_ms; /* the event's own time: the fallback for every entry */
    int64_t ordinal;
} ev;

static arr_err bad(const ev *c, const char *path, const char *key, const char *reason)
{
    return arr_errbuf_fail(ARR_EINVAL, c->why, c->whylen, "field %s%s%s: %s", path,
                           *path ? "." : "", key, reason);
}

static int absent(json_t *v)
{
    return !v || json_is_null(v);
}

/* An integer in [min, max]; *present says whether it was given (absent or null otherwise). */
static arr_err get_int(const ev *c, json_t *obj, const char *path, const char *key, int required,
                       int64_t min, int64_t *out, int *present, const char *reason)
{
    json_t *v = json_object_get(obj, key);
    *present = !absent(v);
    if (!*present)
        return required ? bad(c, path, key, reason) : ARR_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min)
        return bad(c, path, key, reason);
    *out = (int64_t)json_integer_value(v);
    return ARR_OK;
}

static arr_err get_amount(const ev *c, json_t *obj, const char *path, const char *key, int required,
                          int64_t *out, int *present)
{
    return get_int(c, obj, path, key, required, 1, out, present,
                   "missing or not a positive integer");
}

/* A Unix time in seconds, as milliseconds; unchanged *ms when absent. */
static arr_err get_time(const ev *c, json_t *obj, const char *path, const char *key, int required,
                        int64_t *ms)
{
    int64_t s = 0;
    int present;
    arr_err rc = get_int(c, obj, path, key, required, 0, &s, &present,
                         "missing or not a Unix time in seconds");
    if (rc == ARR_OK && present && s > SECONDS_MAX)
        return bad(c, path, key, "missing or not a Unix time in seconds");
    if (rc == ARR_OK && present)
        *ms = s * 1000;
    return rc;
}

/* A string or null/absent (*s = NULL). */
static arr_err get_str(const ev *c, json_t *obj, const char *path, const char *key, const char **s,
                       size_t *n)
{
    json_t *v = json_object_get(obj, key);
    *s = NULL;
    *n = 0;
    if (absent(v))
        return ARR_OK;
    if (!json_is_string(v))
        return bad(c, path, key, "not a string");
    *s = json_string_value(v);
    *n = json_string_length(v);
    return ARR_OK;
}

static int id_text(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '!' || s[i] > '~')
            return 0;
    return 1;
}

/* An object id; where Stripe may expand the reference (expandable), the expanded object's
 * "id" is taken and the object itself returned through *expanded. */
static arr_err get_id(const ev *c, json_t *obj, const char *path, const char *key, int required,
                      int expandable, const char **id, json_t **expanded)
{
    json_t *v = json_object_get(obj, key);
    *id = NULL;
    if (expanded)
        *expanded = NULL;
    if (absent(v) && !required)
        return ARR_OK;
    if (expandable && json_is_object(v)) {
        if (expanded)
            *expanded = v;
        v = json_object_get(v, "id");
    }
    if (!json_is_string(v) || !id_text(json_string_value(v), json_string_length(v), ID_MAX)) {
        char reason[96];
        snprintf(reason, sizeof reason,
                 "missing or not an id (1 to %d printable ASCII characters, no spaces)", ID_MAX);
        return bad(c, path, key, reason);
    }
    *id = json_string_value(v);
    return ARR_OK;
}

static arr_err get_currency(const ev *c, json_t *obj, const char *path, const char *key,
                            char cur[4])
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    if (!s || json_string_length(v) != 3 || !isalpha((unsigned char)s[0]) ||
        !isalpha((unsigned char)s[1]) || !isalpha((unsigned char)s[2]))
        return bad(c, path, key, "missing or not a 3-letter currency code");
    for (int i = 0; i < 3; i++)
        cur[i] = (char)toupper((unsigned char)s[i]);
    cur[3] = '\0';
    return ARR_OK;
}

static arr_err get_object(const ev *c, json_t *obj, const char *path, const char *key, int required,
                          json_t **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (absent(v) && !required)
        return ARR_OK;
    if (!json_is_object(v))
        return bad(c, path, key, required ? "missing or not an object" : "not an object");
    *out = v;
    return ARR_OK;
}

/* Stripe names each object's kind in "object"; a different kind means a mislabelled event. */
static arr_err check_kind(const ev *c, json_t *obj, const char *path, const char *kind)
{
    json_t *v = json_object_get(obj, "object");
    if (!v || (json_is_string(v) && strcmp(json_string_value(v), kind) == 0))
        return ARR_OK;
    char reason[64];
    snprintf(reason, sizeof reason, "not \"%s\"", kind);
    return bad(c, path, "object", reason);
}

/* What payments, refunds and disputes share: the account named in metadata, and the texts
 * a person may have written a reference into. */
static arr_err common_fields(const ev *c, json_t *obj, const char *path, recon_entry *e)
{
    char mpath[64];
    snprintf(mpath, sizeof mpath, "%s.metadata", path);
    json_t *md;
    const char *s;
    size_t n;
    arr_err rc = get_object(c, obj, path, "metadata", 0, &md);
    if (rc == ARR_OK && md) {
        rc = get_str(c, md, mpath, "account_id", &s, &n);
        if (rc == ARR_OK && s && n > 0) {
            if (!id_text(s, n, RECON_ID_MAX))
                return bad(c, mpath, "account_id",
                           "not an account id (at most 128 printable ASCII characters, no "
                           "spaces)");
            memcpy(e->account_hint, s, n + 1);
        }
    }
    static const struct {
        int in_metadata;
        const char *key;
    } refs[] = {
        {0, "description"}, {1, "invoice_id"}, {1, "reference"}, {0, "statement_descriptor"}};
    for (size_t i = 0; rc == ARR_OK && i < sizeof refs / sizeof refs[0]; i++) {
        json_t *from = refs[i].in_metadata ? md : obj;
        if (!from)
            continue;
        rc = get_str(c, from, refs[i].in_metadata ? mpath : path, refs[i].key, &s, &n);
        if (rc == ARR_OK && s)
            recon_text_append(e->reference, sizeof e->reference, s, n);
    }
    return rc;
}

static arr_err payer_name(const ev *c, json_t *charge, const char *path, recon_entry *e)
{
    char bpath[96];
    snprintf(bpath, sizeof bpath, "%s.billing_details", path);
    json_t *bd;
    const char *s;
    size_t n;
    arr_err rc = get_object(c, charge, path, "billing_details", 0, &bd);
    if (rc == ARR_OK && bd)
        rc = get_str(c, bd, bpath, "name", &s, &n);
    if (rc == ARR_OK && bd && s)
        recon_text_append(e->payer_name, sizeof e->payer_name, s, n);
    return rc;
}

static arr_err emit(ev *c, const recon_entry *t)
{
    recon_entry *e;
    arr_err rc = recon_entries_push(c->out, &e);
    if (rc == ARR_ELIMIT)
        return arr_errbuf_fail(rc, c->why, c->whylen, "event: the entry list is full (%zu)",
                               c->out->max);
    if (rc != ARR_OK)
        return arr_errbuf_fail(rc, c->why, c->whylen, "event: out of memory");
    *e = *t;
    snprintf(e->source, sizeof e->source, "%s", SOURCE);
    e->line = ++c->ordinal;
    return ARR_OK;
}

static void set_id(char *dst, size_t cap, const char *id, const char *suffix)
{
    snprintf(dst, cap, "%s%s%s", PREFIX, id, suffix);
}

static arr_err on_charge_succeeded(ev *c, json_t *obj)
{
    const char *P = "data.object";
    recon_entry t;
    memset(&t, 0, sizeof t);
    t.kind = RECON_PAYMENT;
    t.received_at_ms = c->created_ms;
    const char *id, *pi;
    int present;
    arr_err rc = check_kind(c, obj, P, "charge");
    if (!rc)
        rc = get_id(c, obj, P, "id", 1, 0, &id, NULL);
    if (!rc)
        rc = get_amount(c, obj, P, "amount", 1, &t.amount_cents, &present);
    if (!rc)
        rc = get_currency(c, obj, P, "currency", t.currency);
    if (!rc)
        rc = get_time(c, obj, P, "created", 0, &t.received_at_ms);
    if (!rc)
        rc = common_fields(c, obj, P, &t);
    if (!rc)
        rc = payer_name(c, obj, P, &t);
    if (!rc)
        rc = get_id(c, obj, P, "payment_intent", 0, 1, &pi, NULL);
    if (rc)
        return rc;
    set_id(t.payment_id, sizeof t.payment_id, id, "");
    if (pi)
        snprintf(t.end_to_end_id, sizeof t.end_to_end_id, "%s", pi);
    return emit(c, &t);
}

static arr_err on_payment_intent_succeeded(ev *c, json_t *obj)
{
    const char *P = "data.object";
    recon_entry t;
    memset(&t, 0, sizeof t);
    t.kind = RECON_PAYMENT;
    t.received_at_ms = c->created_ms;
    const char *id, *charge_id;
    json_t *charge = NULL, *charges, *list;
    int present;
    arr_err rc = check_kind(c, obj, P, "payment_intent");
    if (!rc)
        rc = get_id(c, obj, P, "id", 1, 0, &id, NULL);
    if (!rc)
        rc = get_amount(c, obj, P, "amount_received", 0, &t.amount_cents, &present);
    if (!rc && !present)
        rc = get_amount(c, obj, P, "amount", 1, &t.amount_cents, &present);
    if (!rc)
        rc = get_currency(c, obj, P, "currency", t.currency);
    if (!rc)
        rc = get_time(c, obj, P, "created", 0, &t.received_at_ms);
    if (!rc)
        rc = common_fields(c, obj, P, &t);
    /* The charge's id makes this the same payment as its charge.succeeded: latest_charge in
     * current API versions, charges.data[0] in those before 2022-11-15. */
    if (!rc)
        rc = get_id(c, obj, P, "latest_charge", 0, 1, &charge_id, &charge);
    const char *charge_path = "data.object.latest_charge";
    if (!rc && !charge_id) {
        charge_path = "data.object.charges.data[0]";
        rc = get_object(c, obj, P, "charges", 0, &charges);
        list = charges ? json_object_get(charges, "data") : NULL;
        if (!rc && !absent(list) && !json_is_array(list))
            rc = bad(c, "data.object.charges", "data", "not an array");
        if (!rc && json_array_size(list) > 0) {
            charge = json_array_get(list, 0);
            if (!json_is_object(charge))
                rc = bad(c, "data.object.charges", "data[0]", "not an object");
            if (!rc)
                rc = get_id(c, charge, charge_path, "id", 1, 0, &charge_id, NULL);
        }
    }
    if (!rc && charge)
        rc = payer_name(c, charge, charge_path, &t);
    if (rc)
        return rc;
    set_id(t.payment_id, sizeof t.payment_id, charge_id ? charge_id : id, "");
    snprintf(t.end_to_end_id, sizeof t.end_to_end_id, "%s", id);
    return emit(c, &t);
}

static arr_err on_charge_refunded(ev *c, json_t *obj)
{
    const char *P = "data.object";
    recon_entry base;
    memset(&base, 0, sizeof base);
    base.kind = RECON_RETURN;
    base.received_at_ms = c->created_ms;
    const char *id, *pi;
    int64_t amount = 0;
    json_t *refunds;
    int present;
    arr_err rc = check_kind(c, obj, P, "charge");
    if (!rc)
        rc = get_id(c, obj, P, "id", 1, 0, &id, NULL);
    if (!rc)
        rc = get_amount(c, obj, P, "amount", 1, &amount, &present);
    if (!rc)
        rc = get_currency(c, obj, P, "currency", base.currency);
    if (!rc)
        rc = common_fields(c, obj, P, &base);
    if (!rc)
        rc = payer_name(c, obj, P, &base);
    if (!rc)
        rc = get_id(c, obj, P, "payment_intent", 0, 1, &pi, NULL);
    if (!rc)
        rc = get_object(c, obj, P, "refunds", 0, &refunds);
    if (rc)
        return rc;
    set_id(base.returned_payment_id, sizeof base.returned_payment_id, id, "");
    snprintf(base.return_code, sizeof base.return_code, "refund");
    if (pi)
        snprintf(base.end_to_end_id, sizeof base.end_to_end_id, "%s", pi);

    json_t *list = refunds ? json_object_get(refunds, "data") : NULL;
    if (!absent(list) && !json_is_array(list))
        return bad(c, "data.object.refunds", "data", "not an array");
    if (json_array_size(list) == 0) {
        /* Without the list only a full refund is unambiguous: a partial amount_refunded may
         * include refunds an earlier event already returned. */
        int64_t refunded = 0;
        rc = get_int(c, obj, P, "amount_refunded", 1, 0, &refunded, &present,
                     "missing or not a non-negative integer");
        if (rc)
            return rc;
        char reason[200];
        if (refunded == 0 || refunded > amount) {
            snprintf(reason, sizeof reason, "%lld is not a refund of a charge of %lld",
                     (long long)refunded, (long long)amount);
            return bad(c, P, "amount_refunded", reason);
        }
        if (refunded < amount) {
            snprintf(reason, sizeof reason,
                     "missing, and amount_refunded %lld is a partial refund of %lld: without "
                     "the refund list the new part cannot be told from earlier refunds",
                     (long long)refunded, (long long)amount);
            return bad(c, P, "refunds", reason);
        }
        recon_entry t = base;
        set_id(t.payment_id, sizeof t.payment_id, id, "/refund");
        t.amount_cents = amount;
        return emit(c, &t);
    }

    int64_t returned = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        char rpath[64];
        snprintf(rpath, sizeof rpath, "data.object.refunds.data[%zu]", i);
        json_t *r = json_array_get(list, i);
        if (!json_is_object(r))
            return arr_errbuf_fail(ARR_EINVAL, c->why, c->whylen, "field %s: not an object", rpath);
        recon_entry t = base;
        const char *rid, *status;
        size_t status_len;
        rc = check_kind(c, r, rpath, "refund");
        if (!rc)
            rc = get_id(c, r, rpath, "id", 1, 0, &rid, NULL);
        if (!rc)
            rc = get_amount(c, r, rpath, "amount", 1, &t.amount_cents, &present);
        if (!rc && json_object_get(r, "currency"))
            rc = get_currency(c, r, rpath, "currency", t.currency);
        if (!rc)
            rc = get_time(c, r, rpath, "created", 0, &t.received_at_ms);
        if (!rc)
            rc = get_str(c, r, rpath, "status", &status, &status_len);
        if (rc)
            return rc;
        set_id(t.payment_id, sizeof t.payment_id, rid, "");
        if (status && (strcmp(status, "failed") == 0 || strcmp(status, "canceled") == 0)) {
            /* No money moved back; recorded so the refund id is known. */
            t.kind = RECON_SKIPPED;
            t.return_code[0] = '\0';
            t.returned_payment_id[0] = '\0';
            snprintf(t.skip_reason, sizeof t.skip_reason, "refund_%s", status);
        } else {
            if (strcmp(t.currency, base.currency) != 0)
                return bad(c, rpath, "currency", "differs from the charge's currency");
            if (t.amount_cents > amount - returned) {
                char reason[128];
                snprintf(reason, sizeof reason, "refunds add up to more than the charge (%lld)",
                         (long long)amount);
                return bad(c, rpath, "amount", reason);
            }
            returned += t.amount_cents;
        }
        rc = emit(c, &t);
        if (rc)
            return rc;
    }
    return ARR_OK;
}

static arr_err on_dispute_created(ev *c, json_t *obj)
{
    const char *P = "data.object";
    recon_entry t;
    memset(&t, 0, sizeof t);
    t.kind = RECON_RETURN;
    t.received_at_ms = c->created_ms;
    const char *id, *charge_id, *pi, *reason;
    size_t reason_len;
    int present;
    arr_err rc = check_kind(c, obj, P, "dispute");
    if (!rc)
        rc = get_id(c, obj, P, "id", 1, 0, &id, NULL);
    if (!rc)
        rc = get_id(c, obj, P, "charge", 1, 1, &charge_id, NULL);
    if (!rc)
        rc = get_amount(c, obj, P, "amount", 1, &t.amount_cents, &present);
    if (!rc)
        rc = get_currency(c, obj, P, "currency", t.currency);
    if (!rc)
        rc = get_time(c, obj, P, "created", 0, &t.received_at_ms);
    if (!rc)
        rc = common_fields(c, obj, P, &t);
    if (!rc)
        rc = get_str(c, obj, P, "reason", &reason, &reason_len);
    if (!rc)
        rc = get_id(c, obj, P, "payment_intent", 0, 1, &pi, NULL);
    if (rc)
        return rc;
    if (reason)
        recon_text_append(t.reference, sizeof t.reference, reason, reason_len);
    set_id(t.payment_id, sizeof t.payment_id, id, "");
    set_id(t.returned_payment_id, sizeof t.returned_payment_id, charge_id, "");
    snprintf(t.return_code, sizeof t.return_code, "%s", DISPUTE_CODE);
    if (pi)
        snprintf(t.end_to_end_id, sizeof t.end_to_end_id, "%s", pi);
    return emit(c, &t);
}

static arr_err on_event(ev *c, json_t *root)
{
    if (!json_is_object(root))
        return arr_errbuf_fail(ARR_EINVAL, c->why, c->whylen, "event: not a JSON object");
    const char *id, *type;
    size_t type_len;
    json_t *data, *obj;
    arr_err rc = get_id(c, root, "", "id", 1, 0, &id, NULL);
    if (!rc)
        rc = get_str(c, root, "", "type", &type, &type_len);
    if (!rc && (!type || type_len == 0))
        rc = bad(c, "", "type", "missing or not a string");
    if (!rc)
        rc = get_time(c, root, "", "created", 1, &c->created_ms);
    if (!rc)
        rc = get_object(c, root, "", "data", 1, &data);
    if (!rc)
        rc = get_object(c, data, "data", "object", 1, &obj);
    if (rc)
        return rc;
    if (strcmp(type, "charge.succeeded") == 0)
        return on_charge_succeeded(c, obj);
    if (strcmp(type, "payment_intent.succeeded") == 0)
        return on_payment_intent_succeeded(c, obj);
    if (strcmp(type, "charge.refunded") == 0)
        return on_charge_refunded(c, obj);
    if (strcmp(type, "charge.dispute.created") == 0)
        return on_dispute_created(c, obj);
    recon_entry t;
    memset(&t, 0, sizeof t);
    t.kind = RECON_SKIPPED;
    t.received_at_ms = c->created_ms;
    set_id(t.payment_id, sizeof t.payment_id, id, "");
    snprintf(t.skip_reason, sizeof t.skip_reason, "event_type_ignored");
    return emit(c, &t);
}

arr_err recon_stripe_parse(const char *body, size_t len, recon_entries *out, char *why,
                           size_t whylen)
{
    if (!out || (!body && len))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "event: no body");
    if (len > RECON_STRIPE_BODY_MAX)
        return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "event: body larger than %d bytes",
                               RECON_STRIPE_BODY_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "event: invalid JSON at line %d column %d: %s", jerr.line,
                               jerr.column, jerr.text);
    ev c = {.out = out, .why = why, .whylen = whylen};
    size_t n0 = out->n;
    arr_err rc = on_event(&c, root);
    if (rc != ARR_OK)
        out->n = n0; /* all or nothing */
    json_decref(root);
    return rc;
}
