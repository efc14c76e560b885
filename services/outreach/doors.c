#include "doors.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/secrets.h"
#include "callback.h"

#define DOOR_NS "0b9e4c2d-7a1f-4e3b-8d6c-5f2a9e1b3c7d" /* names provider events */

typedef enum door_kind { DOOR_STATUS = 0, DOOR_SMS, DOOR_EMAIL, DOOR_KINDS } door_kind;

typedef struct door_route {
    outreach_doors *doors;
    int i; /* into doors->secrets */
    door_kind kind;
    char path[ARR_TENANT_MAX + 48];
} door_route;

struct outreach_doors {
    arr_secrets secrets;
    door_route routes[ARR_SECRETS_MAX * DOOR_KINDS];
    arr_kafka_producer *producer; /* its own: a flush here never waits on the main loop's */
    const char *topic;            /* owned by the service, stable */
    arr_clock clock;
    char instance[ARR_NAME_MAX + 1];
    char version[ARR_NAME_MAX + 1];
};

static void answer(int *status, const char **ctype, arr_buf *body, int code, const char *key,
                   const char *value)
{
    json_t *o = json_pack("{s:s}", key, value);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s)
        arr_buf_append(body, s, strlen(s));
    free(s);
    json_decref(o);
    *status = code;
    *ctype = "application/json";
}

/* Basic tenant:secret or Bearer secret, compared in constant time. */
static int authorised(const arr_secret *s, const char *auth)
{
    if (!auth)
        return 0;
    if (strncmp(auth, "Bearer ", 7) == 0) {
        arr_secrets one = {.n = 1};
        one.v[0] = *s;
        return arr_secrets_bearer_ok(&one, s->tenant, auth);
    }
    if (strncmp(auth, "Basic ", 6) != 0)
        return 0;
    unsigned char raw[ARR_TENANT_MAX + ARR_SECRET_MAX + 4];
    size_t len = 0;
    if (sodium_base642bin(raw, sizeof(raw) - 1, auth + 6, strlen(auth + 6), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return 0;
    raw[len] = '\0';
    char *colon = strchr((char *)raw, ':');
    if (!colon)
        return 0;
    *colon = '\0';
    const char *pass = colon + 1;
    size_t plen = strlen(pass), slen = strlen(s->secret);
    int ok = strcmp((char *)raw, s->tenant) == 0 && plen == slen &&
             sodium_memcmp(pass, s->secret, slen) == 0;
    sodium_memzero(raw, sizeof(raw));
    return ok;
}

static arr_err publish(outreach_doors *d, const char *tenant, const char *account,
                       const char *event_type, const char *id_name, json_t *payload, char *why,
                       size_t whylen)
{
    arr_envelope env;
    arr_envelope_init(&env);
    int64_t now = arr_clock_now_ms(&d->clock);
    arr_err e = arr_uuid_named(DOOR_NS, id_name, env.event_id);
    if (!e) {
        snprintf(env.event_type, sizeof(env.event_type), "%s", event_type);
        env.schema_version = 1;
        snprintf(env.tenant, sizeof(env.tenant), "%s", tenant);
        snprintf(env.account, sizeof(env.account), "%s", account);
        env.event_time_ms = now;
        env.produced_at_ms = now;
        snprintf(env.correlation_id, sizeof(env.correlation_id), "%s", env.event_id);
        snprintf(env.producer_service, sizeof(env.producer_service), "outreach");
        snprintf(env.producer_version, sizeof(env.producer_version), "%s", d->version);
        snprintf(env.producer_instance, sizeof(env.producer_instance), "%s", d->instance);
        env.payload = payload;
        payload = NULL;
    }
    json_decref(payload);
    char *value = NULL, key[ARR_KEY_MAX];
    size_t len = 0;
    if (!e)
        e = arr_envelope_to_message(&env, &value, &len, key, why, whylen);
    if (!e)
        e = arr_kafka_produce(d->producer, d->topic, key, strlen(key), value, len);
    if (!e)
        e = arr_kafka_producer_flush(d->producer, 30000, why, whylen);
    free(value);
    arr_envelope_clear(&env);
    return e;
}

static void now_text(outreach_doors *d, char out[ARR_TIME_STRLEN])
{
    arr_time_format(arr_clock_now_ms(&d->clock), out, ARR_TIME_STRLEN);
}

static arr_err status_event(outreach_doors *d, const char *tenant, const outreach_callback_form *f,
                            char *why, size_t whylen)
{
    outreach_callback_status st;
    arr_err e = outreach_callback_status_parse(f, &st, why, whylen);
    if (e)
        return e;
    char at[ARR_TIME_STRLEN], name[ARR_TENANT_MAX + OUTREACH_CALLBACK_SID_MAX + 48];
    now_text(d, at);
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "provider_message_id", st.sid, "kind",
                          outreach_callback_kind_name(st.kind), "status",
                          outreach_callback_state_name(st.status), "outcome",
                          outreach_callback_outcome_name(st.outcome), "received_at", at);
    if (st.error_code[0])
        json_object_set_new(p, "error_code", json_string(st.error_code));
    if (st.answered_by != OUTREACH_CALLBACK_AB_NONE)
        json_object_set_new(p, "answered_by",
                            json_string(outreach_callback_answered_by_name(st.answered_by)));
    if (st.duration_s >= 0)
        json_object_set_new(p, "duration_s", json_integer(st.duration_s));
    snprintf(name, sizeof(name), "provider.status/%s/%s/%s", tenant, st.sid,
             outreach_callback_state_name(st.status));
    return publish(d, tenant, st.sid, "provider.status", name, p, why, whylen);
}

static arr_err sms_event(outreach_doors *d, const char *tenant, const outreach_callback_form *f,
                         char *why, size_t whylen)
{
    outreach_callback_inbound_sms m;
    arr_err e = outreach_callback_inbound_sms_parse(f, &m, why, whylen);
    if (e)
        return e;
    char at[ARR_TIME_STRLEN], name[ARR_TENANT_MAX + OUTREACH_CALLBACK_SID_MAX + 32];
    now_text(d, at);
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "provider_message_id", m.sid, "channel",
                          "sms", "from", m.from, "text", m.body, "received_at", at);
    snprintf(name, sizeof(name), "provider.inbound/%s/%s", tenant, m.sid);
    return publish(d, tenant, m.sid, "provider.inbound", name, p, why, whylen);
}

/* An email's id as an envelope account: printable ASCII, no brackets, at most 128 bytes. */
static void email_id(const char *message_id, char out[ARR_ACCOUNT_MAX + 1])
{
    size_t n = 0;
    for (const char *p = message_id; *p && n < ARR_ACCOUNT_MAX; p++) {
        if (*p > 0x20 && *p < 0x7f && *p != '<' && *p != '>')
            out[n++] = *p;
    }
    if (n == 0) {
        unsigned char h[16];
        crypto_generichash(h, sizeof(h), (const unsigned char *)message_id, strlen(message_id),
                           NULL, 0);
        sodium_bin2hex(out, ARR_ACCOUNT_MAX + 1, h, sizeof(h));
        return;
    }
    out[n] = '\0';
}

static arr_err email_event(outreach_doors *d, const char *tenant, const outreach_callback_form *f,
                           char *why, size_t whylen)
{
    outreach_callback_inbound_email m;
    memset(&m, 0, sizeof(m));
    arr_err e = outreach_callback_inbound_email_parse(f, &m, why, whylen);
    if (e)
        return e;
    char at[ARR_TIME_STRLEN], id[ARR_ACCOUNT_MAX + 1], name[ARR_TENANT_MAX + ARR_ACCOUNT_MAX + 32];
    now_text(d, at);
    email_id(m.message_id, id);
    json_t *p = json_pack("{s:s, s:s, s:s, s:s%, s:s}", "provider_message_id", id, "channel",
                          "email", "from", m.from, "text", m.body,
                          m.body_len > 4096 ? (size_t)4096 : m.body_len, "received_at", at);
    if (m.in_reply_to[0] && strlen(m.in_reply_to) <= 256)
        json_object_set_new(p, "in_reply_to", json_string(m.in_reply_to));
    outreach_callback_inbound_email_free(&m);
    if (!p) {
        snprintf(why, whylen, "field text: not valid UTF-8 once cut to 4096 bytes");
        return ARR_EINVAL;
    }
    snprintf(name, sizeof(name), "provider.inbound/%s/%s", tenant, id);
    return publish(d, tenant, id, "provider.inbound", name, p, why, whylen);
}

static void handle(void *opaque, const arr_http_request *req, int *status, const char **ctype,
                   arr_buf *body)
{
    const door_route *rt = opaque;
    outreach_doors *d = rt->doors;
    const arr_secret *s = &d->secrets.v[rt->i];
    if (!authorised(s, req->authorization)) {
        answer(status, ctype, body, 401, "error", "credentials missing or wrong");
        return;
    }
    outreach_callback_form f;
    char why[400];
    arr_err e = outreach_callback_form_parse(req->body, req->body_len, &f, why, sizeof(why));
    if (!e) {
        if (rt->kind == DOOR_STATUS)
            e = status_event(d, s->tenant, &f, why, sizeof(why));
        else if (rt->kind == DOOR_SMS)
            e = sms_event(d, s->tenant, &f, why, sizeof(why));
        else
            e = email_event(d, s->tenant, &f, why, sizeof(why));
        outreach_callback_form_free(&f);
    }
    if (e == ARR_EINVAL || e == ARR_ELIMIT || e == ARR_EDECODE)
        answer(status, ctype, body, 422, "error", why);
    else if (e)
        answer(status, ctype, body, 503, "error", "not stored: call again");
    else
        answer(status, ctype, body, 200, "status", "stored");
}

void outreach_doors_free(outreach_doors *d)
{
    if (!d)
        return;
    arr_kafka_producer_free(d->producer);
    free(d);
}

arr_err outreach_doors_new(arr_svc *s, outreach_doors **out, char *why, size_t whylen)
{
    *out = NULL;
    const char *secrets;
    arr_err e = arr_config_str(s->cfg, "ARR_OUTREACH_CALLBACK_SECRETS", "", &secrets, why, whylen);
    if (e || !*secrets)
        return e;
    outreach_doors *d = calloc(1, sizeof(*d));
    if (!d)
        return ARR_ENOMEM;
    d->topic = arr_svc_topic(s, "arrears.outreach.callbacks");
    d->clock = s->clock;
    snprintf(d->instance, sizeof(d->instance), "%s", s->instance);
    snprintf(d->version, sizeof(d->version), "%s", s->who.version);
    e = arr_secrets_parse("ARR_OUTREACH_CALLBACK_SECRETS", secrets, &d->secrets, why, whylen);
    if (!e)
        e = arr_kafka_producer_new(s->brokers, "arrears-outreach-http", NULL, &d->producer, why,
                                   whylen);
    static const char *const leaf[DOOR_KINDS] = {"status", "sms", "email"};
    for (int i = 0; !e && i < d->secrets.n; i++) {
        for (int k = 0; !e && k < DOOR_KINDS; k++) {
            door_route *rt = &d->routes[i * DOOR_KINDS + k];
            rt->doors = d;
            rt->i = i;
            rt->kind = (door_kind)k;
            snprintf(rt->path, sizeof(rt->path), "/v1/outreach/callbacks/%s/%s",
                     d->secrets.v[i].tenant, leaf[k]);
            e = arr_http_route(s->http, "POST", rt->path, handle, rt);
        }
    }
    if (e) {
        outreach_doors_free(d);
        return e;
    }
    *out = d;
    return ARR_OK;
}
