#include "doors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/secrets.h"
#include "inbound.h"
#include "jsonl.h"
#include "stripe.h"

#define DOORS_PAYMENTS_MAX 10000

/* One webhook route: the tenant's signing secret is doors->secrets.v[i]. */
typedef struct door_route {
    recon_doors *doors;
    int i;
    char path[ARR_TENANT_MAX + 40];
} door_route;

struct recon_doors {
    arr_secrets tokens;  /* ARR_RECON_TOKENS: bearer tokens of POST /v1/payments */
    arr_secrets secrets; /* ARR_PROCESSOR_SECRETS: webhook signing secrets */
    door_route routes[ARR_SECRETS_MAX];
    int64_t tolerance_s;
    arr_kafka_producer *producer; /* its own: a flush here never waits on the main loop's */
    const char *topic;            /* owned by the service, stable */
    arr_clock clock;
    char instance[ARR_NAME_MAX + 1];
};

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
    if (!arr_secrets_bearer_ok(&d->tokens, tenant, req->authorization)) {
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
    const door_route *rt = opaque;
    recon_doors *d = rt->doors;
    const arr_secret *s = &d->secrets.v[rt->i];
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
    e = arr_secrets_parse("ARR_RECON_TOKENS", tokens, &d->tokens, why, whylen);
    if (!e)
        e = arr_secrets_parse("ARR_PROCESSOR_SECRETS", secrets, &d->secrets, why, whylen);
    if (!e)
        e = arr_kafka_producer_new(s->brokers, "arrears-reconciliation-http", NULL, &d->producer,
                                   why, whylen);
    if (!e && d->tokens.n)
        e = arr_http_route(s->http, "POST", "/v1/payments", handle_payments, d);
    for (int i = 0; !e && i < d->secrets.n; i++) {
        door_route *rt = &d->routes[i];
        rt->doors = d;
        rt->i = i;
        snprintf(rt->path, sizeof(rt->path), "/v1/webhooks/processor/%s", d->secrets.v[i].tenant);
        e = arr_http_route(s->http, "POST", rt->path, handle_webhook, rt);
    }
    if (e) {
        recon_doors_free(d);
        return e;
    }
    *out = d;
    return ARR_OK;
}
