#include "doors.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inbound.h"
#include "jsonl.h"
#include "stripe.h"

#define DOORS_TENANTS_MAX 32
#define DOORS_PAYMENTS_MAX 10000

typedef struct door_secret {
    recon_doors *doors; /* back to the whole, for the route's handler */
    char tenant[ARR_TENANT_MAX + 1];
    char secret[128];
    char path[ARR_TENANT_MAX + 40];
} door_secret;

struct recon_doors {
    door_secret tokens[DOORS_TENANTS_MAX], secrets[DOORS_TENANTS_MAX];
    int n_tokens, n_secrets;
    int64_t tolerance_s;
    arr_kafka_producer *producer; /* its own: a flush here never waits on the main loop's */
    const char *topic;            /* owned by the service, stable */
    arr_clock clock;
    char instance[ARR_NAME_MAX + 1];
};

/* "tenant:value,tenant:value"; values shorter than 16 characters are refused. */
static arr_err parse_pairs(const char *key, const char *text, door_secret *out, int *n, char *why,
                           size_t whylen)
{
    *n = 0;
    while (*text) {
        const char *end = strchr(text, ',');
        size_t len = end ? (size_t)(end - text) : strlen(text);
        const char *colon = memchr(text, ':', len);
        size_t tl = colon ? (size_t)(colon - text) : 0, vl = colon ? len - tl - 1 : 0;
        if (*n == DOORS_TENANTS_MAX || !colon || tl == 0 || tl > ARR_TENANT_MAX || vl < 16 ||
            vl >= sizeof(out[0].secret))
            return arr_errbuf_fail(ARR_ECONFIG, why, whylen,
                                   "%s: entry %d must be tenant:value with a value of 16 to 127 "
                                   "characters",
                                   key, *n + 1);
        door_secret *d = &out[(*n)++];
        memcpy(d->tenant, text, tl);
        d->tenant[tl] = '\0';
        memcpy(d->secret, colon + 1, vl);
        d->secret[vl] = '\0';
        if (!arr_tenant_valid(d->tenant))
            return arr_errbuf_fail(ARR_ECONFIG, why, whylen, "%s: entry %d: bad tenant", key, *n);
        snprintf(d->path, sizeof(d->path), "/v1/webhooks/processor/%s", d->tenant);
        text += end ? len + 1 : len;
    }
    return ARR_OK;
}

static void answer(int *status, const char **ctype, arr_buf *body, int code, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s)
        arr_buf_append(body, s, strlen(s));
    free(s);
    json_decref(o);
    *status = code;
    *ctype = "application/json";
}

static void fail(int *status, const char **ctype, arr_buf *body, int code, const char *error)
{
    answer(status, ctype, body, code, json_pack("{s:s}", "error", error));
}

static int token_ok(const recon_doors *d, const char *tenant, const char *header)
{
    static const char prefix[] = "Bearer ";
    if (!header || strncmp(header, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    const char *given = header + sizeof(prefix) - 1;
    for (int i = 0; i < d->n_tokens; i++) {
        size_t n = strlen(d->tokens[i].secret);
        if (strcmp(d->tokens[i].tenant, tenant) == 0 && strlen(given) == n &&
            CRYPTO_memcmp(given, d->tokens[i].secret, n) == 0)
            return 1;
    }
    return 0;
}

static json_t *summary(const recon_entries *l)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(ids, json_string(l->v[i].payment_id));
    return json_pack("{s:I, s:o}", "accepted", (json_int_t)l->n, "payment_ids", ids);
}

static void publish_and_answer(recon_doors *d, const char *tenant, recon_entries *l, int *status,
                               const char **ctype, arr_buf *body)
{
    char why[512];
    arr_err e = recon_inbound_publish(d->producer, d->topic, tenant, l, 0, l->n,
                                      arr_clock_now_ms(&d->clock), "reconciliation", d->instance,
                                      why, sizeof(why));
    if (e)
        fail(status, ctype, body, 503, why);
    else
        answer(status, ctype, body, 200, summary(l));
}

static void handle_payments(void *opaque, const arr_http_request *req, int *status,
                            const char **ctype, arr_buf *body)
{
    recon_doors *d = opaque;
    json_error_t jerr;
    json_t *root = json_loadb(req->body, req->body_len, 0, &jerr);
    const char *tenant = json_string_value(json_object_get(root, "tenant"));
    json_t *list = json_object_get(root, "payments");
    if (!root || !tenant || !json_is_array(list)) {
        fail(status, ctype, body, 400, "body must be {\"tenant\": ..., \"payments\": [...]}");
        json_decref(root);
        return;
    }
    if (!token_ok(d, tenant, req->authorization)) {
        fail(status, ctype, body, 401, "missing or wrong bearer token for this tenant");
        json_decref(root);
        return;
    }
    if (json_array_size(list) > DOORS_PAYMENTS_MAX) {
        fail(status, ctype, body, 413, "at most 10000 payments per request");
        json_decref(root);
        return;
    }
    recon_entries l;
    recon_entries_init(&l, DOORS_PAYMENTS_MAX);
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p)
    {
        recon_entry *e;
        char why[400], msg[480];
        arr_err err = recon_entries_push(&l, &e);
        if (!err)
            err = recon_jsonl_entry(p, "api", e, why, sizeof(why));
        if (err) {
            snprintf(msg, sizeof(msg), "payments[%zu]: %s", i, err == ARR_EINVAL ? why : "cap");
            fail(status, ctype, body, 422, msg);
            recon_entries_free(&l);
            json_decref(root);
            return;
        }
    }
    publish_and_answer(d, tenant, &l, status, ctype, body);
    recon_entries_free(&l);
    json_decref(root);
}

static void handle_webhook(void *opaque, const arr_http_request *req, int *status,
                           const char **ctype, arr_buf *body)
{
    const door_secret *s = opaque;
    recon_doors *d = s->doors;
    char why[400];
    int64_t now_s = arr_clock_now_ms(&d->clock) / 1000;
    arr_err e =
        recon_stripe_verify(arr_http_header(req, "Stripe-Signature"), req->body, req->body_len,
                            s->secret, now_s, d->tolerance_s, why, sizeof(why));
    if (e) {
        fail(status, ctype, body, 400, why);
        return;
    }
    recon_entries l;
    recon_entries_init(&l, 1000);
    e = recon_stripe_parse(req->body, req->body_len, &l, why, sizeof(why));
    if (e)
        fail(status, ctype, body, 422, why);
    else
        publish_and_answer(d, s->tenant, &l, status, ctype, body);
    recon_entries_free(&l);
}

void recon_doors_free(recon_doors *d)
{
    if (!d)
        return;
    arr_kafka_producer_free(d->producer);
    free(d);
}

arr_err recon_doors_new(arr_svc *s, recon_doors **out, char *why, size_t whylen)
{
    *out = NULL;
    const char *tokens, *secrets;
    int64_t tolerance;
    arr_err e = arr_config_str(s->cfg, "ARR_RECON_TOKENS", "", &tokens, why, whylen);
    if (!e)
        e = arr_config_str(s->cfg, "ARR_PROCESSOR_SECRETS", "", &secrets, why, whylen);
    if (!e)
        e = arr_config_int(s->cfg, "ARR_PROCESSOR_TOLERANCE_S", 300, 1, 86400, &tolerance, why,
                           whylen);
    if (e || (!*tokens && !*secrets))
        return e;
    recon_doors *d = calloc(1, sizeof(*d));
    if (!d)
        return ARR_ENOMEM;
    d->tolerance_s = tolerance;
    d->topic = arr_svc_topic(s, RECON_TOPIC_INBOUND);
    d->clock = s->clock;
    snprintf(d->instance, sizeof(d->instance), "%s", s->instance);
    e = parse_pairs("ARR_RECON_TOKENS", tokens, d->tokens, &d->n_tokens, why, whylen);
    if (!e)
        e = parse_pairs("ARR_PROCESSOR_SECRETS", secrets, d->secrets, &d->n_secrets, why, whylen);
    if (!e)
        e = arr_kafka_producer_new(s->brokers, "arrears-reconciliation-http", NULL, &d->producer,
                                   why, whylen);
    if (!e && d->n_tokens)
        e = arr_http_route(s->http, "POST", "/v1/payments", handle_payments, d);
    for (int i = 0; !e && i < d->n_secrets; i++) {
        d->secrets[i].doors = d;
        e = arr_http_route(s->http, "POST", d->secrets[i].path, handle_webhook, &d->secrets[i]);
    }
    if (e) {
        recon_doors_free(d);
        return e;
    }
    *out = d;
    return ARR_OK;
}
