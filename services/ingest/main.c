/* arrears-ingest: turns account submissions from billing systems into durable account
 * records and account events.
 *
 * The story: read a submission from arrears.ingest.submissions; validate it; in one
 * PostgreSQL transaction record its event id (inbox), store the account and queue the
 * account.placed event (outbox), a whole batch per transaction; refresh the account's cached
 * view in Redis; relay the outbox to arrears.accounts; commit the offsets. A record that fails
 * validation is kept in ingest.rejects and on arrears.ingest.dlq with its reason, and ingest goes
 * on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/service.h"
#include "batch_api.h"
#include "submission.h"

#define TOPIC_ACCOUNTS "arrears.accounts"

typedef struct ingest_ctx {
    ingest_account last; /* the account of the current apply */
} ingest_ctx;

static void batch_api_free(void *api)
{
    ingest_batch_api_free(api);
}

/* POST /v1/accounts:batch, when ARR_INGEST_TOKENS names at least one tenant. */
static arr_err routes(arr_svc *s, char *why, size_t whylen)
{
    const char *tokens;
    arr_err e = arr_config_str(s->cfg, "ARR_INGEST_TOKENS", "", &tokens, why, whylen);
    if (e || !*tokens)
        return e;
    ingest_batch_api *api = NULL;
    e = ingest_batch_api_new(s, tokens, &api, why, whylen);
    if (!e) {
        s->ext = api;
        s->ext_free = batch_api_free;
    }
    return e;
}

static const char *const input_topics[] = {"arrears.ingest.submissions", NULL};
static const arr_svc_spec spec = {
    .name = "ingest",
    .default_http_port = 18081,
    .topics = input_topics,
    .dead_letter_topic = "arrears.ingest.dlq",
    .routes = routes,
};

static arr_err prepare(arr_svc *s, char *why, size_t whylen)
{
    arr_err e = arr_pg_prepare(
        s->pg, "ingest_account_insert",
        "INSERT INTO ingest.accounts (tenant, account_id, regime, currency, balance_cents,"
        " original_balance_cents, due_date, service_type, debtor_ref, placed_event_id,"
        " placed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''), $10,"
        " $11, $11) ON CONFLICT (tenant, account_id) DO NOTHING",
        11, why, whylen);
    if (!e)
        e = arr_pg_prepare(s->pg, "ingest_reject_insert",
                           "INSERT INTO ingest.rejects (source, tenant, account_id, field,"
                           " reason_code, detail, raw) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                           7, why, whylen);
    return e;
}

static arr_err store_account(arr_svc *s, const arr_envelope *placed, const ingest_account *a,
                             int *inserted, char *why, size_t whylen)
{
    char bal[24], orig[24], at[ARR_TIME_STRLEN];
    snprintf(bal, sizeof(bal), "%lld", (long long)a->balance_cents);
    snprintf(orig, sizeof(orig), "%lld", (long long)a->original_balance_cents);
    arr_time_format(placed->event_time_ms, at, sizeof(at));
    const char *params[] = {
        placed->tenant, a->account_id,   a->regime,     a->currency,      bal, orig,
        a->due_date,    a->service_type, a->debtor_ref, placed->event_id, at};
    arr_err e = arr_pg_run(s->pg, "ingest_account_insert", 11, params, NULL, why, whylen);
    if (!e)
        *inserted = arr_pg_affected(s->pg) == 1;
    return e;
}

/* The fields of the cached view ingest owns. No personal data goes to Redis. */
static void cache_account(arr_svc *s, const char *tenant, const ingest_account *a)
{
    char bal[24];
    snprintf(bal, sizeof(bal), "%lld", (long long)a->balance_cents);
    const char *fv[] = {"placed_cents", bal, "currency", a->currency, "status", "placed"};
    arr_svc_cache_account(s, tenant, a->account_id, 3, fv);
}

static arr_err apply(void *opaque, arr_svc *s, const arr_envelope *env, char *why, size_t whylen)
{
    ingest_ctx *ctx = opaque;
    if (strcmp(env->event_type, "account.submitted") != 0) {
        snprintf(why, whylen,
                 "bad_event_type: field event_type: ingest takes account.submitted,"
                 " not %s",
                 env->event_type);
        return ARR_EINVAL;
    }
    ingest_reject rej;
    if (ingest_submission_parse(env, &ctx->last, &rej) != ARR_OK) {
        ingest_reject_format(&rej, why, whylen);
        return ARR_EINVAL;
    }
    arr_envelope placed;
    arr_err e = arr_svc_derive(s, &placed, env, "account.placed", "account.placed",
                               ingest_placed_payload(&ctx->last));
    if (e)
        return e;
    placed.event_time_ms = env->event_time_ms;
    int inserted = 0;
    e = store_account(s, &placed, &ctx->last, &inserted, why, whylen);
    if (!e && inserted)
        e = arr_svc_emit(s, TOPIC_ACCOUNTS, &placed);
    arr_envelope_clear(&placed);
    if (!e && inserted)
        cache_account(s, env->tenant, &ctx->last);
    return e;
}

static arr_err rejected(void *opaque, arr_svc *s, const arr_kafka_msg *msg, const char *reason)
{
    (void)opaque;
    char source[300], code[48], field[48] = "";
    snprintf(source, sizeof(source), "%s/%d/%lld", msg->topic, (int)msg->partition,
             (long long)msg->offset);
    /* Reasons read "code: field F: detail"; an envelope failure reads "envelope: ...". */
    size_t n = strcspn(reason, ":");
    snprintf(code, sizeof(code), "%.*s", (int)(n < sizeof(code) ? n : sizeof(code) - 1), reason);
    if (strcmp(code, "envelope") == 0)
        snprintf(code, sizeof(code), "bad_envelope");
    const char *f = strstr(reason, "field ");
    if (f)
        snprintf(field, sizeof(field), "%.*s", (int)strcspn(f + 6, ":"), f + 6);
    char raw_key[ARR_KEY_MAX] = "", tenant[ARR_TENANT_MAX + 1] = "";
    if (msg->key && msg->key_len < sizeof(raw_key)) {
        memcpy(raw_key, msg->key, msg->key_len);
        raw_key[msg->key_len] = '\0';
        size_t t = strcspn(raw_key, "/");
        if (t <= ARR_TENANT_MAX)
            snprintf(tenant, sizeof(tenant), "%.*s", (int)t, raw_key);
    }
    /* Raw bytes may not be valid text for PostgreSQL: keep them escaped when they are not. */
    json_t *raw = json_stringn(msg->value ? msg->value : "", msg->value ? msg->value_len : 0);
    char *raw_text = raw ? strdup(json_string_value(raw)) : strdup("(not UTF-8: see dead letter)");
    json_decref(raw);
    const char *params[] = {
        source, tenant[0] ? tenant : NULL, NULL, field[0] ? field : NULL, code, reason, raw_text};
    char why[256];
    arr_err e = arr_pg_run(s->pg, "ingest_reject_insert", 7, params, NULL, why, sizeof(why));
    free(raw_text);
    return e;
}

int main(int argc, char **argv)
{
    arr_svc svc;
    arr_err e = arr_svc_open(&svc, &spec, argc, argv);
    char why[512];
    if (!e && (e = prepare(&svc, why, sizeof(why))) != ARR_OK)
        arr_svc_failed(&svc, e, "cannot prepare statements", why);
    ingest_ctx ctx = {0};
    arr_svc_handler h = {.apply = apply, .rejected = rejected, .opaque = &ctx};
    if (!e)
        e = arr_svc_run_pg(&svc, &h);
    arr_svc_close(&svc);
    return e && e != ARR_ESHUTDOWN ? 1 : 0;
}
