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
#include "arrears/outbatch.h"
#include "arrears/service.h"
#include "account_store.h"
#include "events.h"
#include "recover.h"
#include "batch_api.h"
#include "reader.h"
#include "validate.h"

#define SUBMISSION_MAX (64 * 1024)

typedef struct ingest_ctx {
    ingest_mapping *mapping;  /* account.submitted payloads: arrears' names, amounts in cents */
    char buf[SUBMISSION_MAX]; /* the raw fields of the current submission */
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

static arr_err idle(arr_svc *s, char *why, size_t whylen);

static const char *const input_topics[] = {"arrears.ingest.submissions", NULL};
static const arr_svc_spec spec = {
    .name = "ingest",
    .default_http_port = 18081,
    .topics = input_topics,
    .dead_letter_topic = "arrears.ingest.dlq",
    .routes = routes,
    .idle = idle,
};

/* Imports whose process died publish here what they had stored but maybe not published:
 * their account.placed events first, then their stored batches (and any other dead import's),
 * in the order they happened. */
static arr_err idle(arr_svc *s, char *why, size_t whylen)
{
    long placed = 0;
    int batches = 0;
    arr_err e = ingest_recover_orphans(s->pg, s->producer, &s->who, arr_clock_now_ms(&s->clock),
                                       &placed, why, whylen);
    if (!e)
        e = arr_outbatch_relay(s->pg, "ingest", s->producer, &batches, why, whylen);
    if (!e && (placed > 0 || batches > 0)) {
        char p[24], b[24];
        snprintf(p, sizeof(p), "%ld", placed);
        snprintf(b, sizeof(b), "%d", batches);
        arr_log_info(&s->log, "published what an import that died left behind", "placed", p,
                     "stored_batches", b, NULL);
    }
    return e;
}

static arr_err prepare(arr_svc *s, char *why, size_t whylen)
{
    arr_err e = ingest_store_prepare(s->pg, why, whylen);
    if (!e)
        e = ingest_recover_prepare(s->pg, why, whylen);
    if (!e)
        e = arr_pg_prepare(s->pg, "ingest_reject_insert",
                           "INSERT INTO ingest.rejects (source, tenant, account_id, field,"
                           " reason_code, detail, raw) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                           7, why, whylen);
    return e;
}

/* The mapping of account.submitted: the field names of a JSON Lines export, with the
 * balances as integer minor units (balance_cents, original_balance_cents). */
static arr_err submission_mapping(ingest_mapping **out)
{
    arr_err e = ingest_mapping_identity(INGEST_JSONL, out);
    if (e)
        return e;
    ingest_mapping *m = *out;
    free(m->columns[IF_BALANCE]);
    free(m->columns[IF_ORIGINAL_BALANCE]);
    m->columns[IF_BALANCE] = strdup("balance_cents");
    m->columns[IF_ORIGINAL_BALANCE] = strdup("original_balance_cents");
    m->amount.format = INGEST_AMOUNT_CENTS;
    return m->columns[IF_BALANCE] && m->columns[IF_ORIGINAL_BALANCE] ? ARR_OK : ARR_ENOMEM;
}

/* The fields of the cached view ingest owns. No personal data goes to Redis. */
static void cache_account(arr_svc *s, const char *tenant, const ingest_record *r)
{
    char bal[24];
    snprintf(bal, sizeof(bal), "%lld", (long long)r->balance_cents);
    const char *fv[] = {"placed_cents", bal, "currency", r->currency, "status", "open"};
    arr_svc_cache_account(s, tenant, r->account_id, 3, fv);
}

static arr_err reject_issue(const ingest_issue *i, char *why, size_t whylen)
{
    snprintf(why, whylen, "%s: field %s: %s", i->code, i->field, i->detail);
    return ARR_EINVAL;
}

/* A submission -> a validated record, exactly as a file line would be. */
static arr_err validate(ingest_ctx *ctx, const arr_envelope *env, ingest_record *rec,
                        ingest_verdict *v, char *why, size_t whylen)
{
    if (strcmp(env->event_type, "account.submitted") != 0) {
        snprintf(why, whylen,
                 "bad_event_type: field event_type: ingest takes "
                 "account.submitted, not %s",
                 env->event_type);
        return ARR_EINVAL;
    }
    ingest_raw raw;
    ingest_issue bad;
    memset(&raw, 0, sizeof(raw));
    if (ingest_raw_from_json(env->payload, ctx->mapping, &raw, &bad, ctx->buf, sizeof(ctx->buf)) !=
        ARR_OK)
        return reject_issue(&bad, why, whylen);
    char as_of[ARR_TIME_STRLEN];
    arr_time_format(env->event_time_ms, as_of, sizeof(as_of)); /* days past due: as of then */
    as_of[10] = '\0';
    ingest_validate(&raw, ctx->mapping, as_of, rec, v);
    if (!v->accepted)
        return reject_issue(&v->reject, why, whylen);
    if (strcmp(rec->account_id, env->account) != 0) {
        snprintf(why, whylen,
                 "key_mismatch: field account_id: differs from the envelope's "
                 "account");
        return ARR_EINVAL;
    }
    return ARR_OK;
}

/* account.placed for a new account, account.updated (with what changed) for a changed one. */
static arr_err publish(arr_svc *s, const arr_envelope *env, const ingest_store_result *st,
                       arr_envelope *placed, json_t *payload)
{
    if (st->kind == INGEST_STORE_NEW)
        return arr_svc_emit(s, INGEST_TOPIC_ACCOUNTS, placed);
    json_t *p = json_deep_copy(payload);
    if (!p)
        return ARR_ENOMEM;
    json_object_set_new(p, "changes", ingest_payload_changes(st->before, payload));
    json_object_set_new(p, "previous_balance_cents", json_integer(st->before_balance_cents));
    arr_envelope updated;
    arr_err e = arr_svc_derive(s, &updated, env, "account.updated", "account.updated", p);
    if (!e) {
        updated.event_time_ms = env->event_time_ms;
        e = arr_svc_emit(s, INGEST_TOPIC_ACCOUNTS, &updated);
    }
    arr_envelope_clear(&updated);
    return e;
}

static arr_err apply(void *opaque, arr_svc *s, const arr_envelope *env, char *why, size_t whylen)
{
    ingest_ctx *ctx = opaque;
    ingest_record rec;
    ingest_verdict v;
    arr_err e = validate(ctx, env, &rec, &v, why, whylen);
    if (e)
        return e;
    /* The payload once, as text (stored as it is) and its hash; the tree the events need is
     * read back from the text. */
    arr_buf text;
    arr_buf_init(&text, INGEST_PAYLOAD_MAX);
    char hash[65];
    json_t *payload = ingest_record_payload_text(&rec, &text, hash) == ARR_OK
                          ? json_loadb(text.data, text.len, 0, NULL)
                          : NULL;
    arr_envelope placed;
    e = payload ? arr_svc_derive(s, &placed, env, "account.placed", "account.placed",
                                 json_incref(payload))
                : ARR_ENOMEM;
    if (e) {
        json_decref(payload);
        arr_buf_free(&text);
        return e;
    }
    placed.event_time_ms = env->event_time_ms;
    ingest_store_result st = {0};
    e = ingest_store_account(s->pg, env->tenant, &rec, &v, text.data, hash, placed.event_id,
                             env->event_time_ms, &st, why, whylen);
    arr_buf_free(&text);
    if (!e && st.kind != INGEST_STORE_UNCHANGED)
        e = publish(s, env, &st, &placed, payload);
    if (!e && st.kind != INGEST_STORE_UNCHANGED)
        cache_account(s, env->tenant, &rec);
    json_decref(st.before);
    json_decref(payload);
    arr_envelope_clear(&placed);
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
    ingest_ctx *ctx = calloc(1, sizeof(*ctx)); /* large: not on the stack */
    if (!e && !ctx)
        e = ARR_ENOMEM;
    if (!e)
        e = submission_mapping(&ctx->mapping);
    arr_svc_handler h = {.apply = apply, .rejected = rejected, .opaque = ctx};
    if (!e)
        e = arr_svc_run_pg(&svc, &h);
    arr_svc_close(&svc);
    if (ctx)
        ingest_mapping_free(ctx->mapping);
    free(ctx);
    return e && e != ARR_ESHUTDOWN ? 1 : 0;
}
