/* arrears-scoring: scores every account event and picks a strategy, exactly once.
 *
 * The story: join the consumer group on arrears.accounts; for each account.placed, compute
 * the score and produce score.computed to arrears.scores inside a Kafka transaction that
 * also commits the consumed offset, so a crash never loses or doubles a score; a message
 * that cannot be read goes to arrears.scoring.dlq in the same transaction. After each commit
 * the account's score fields in Redis are refreshed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arrears/service.h"
#include "placeholder.h"

#define TOPIC_SCORES "arrears.scores"
#define BATCH_MAX 200

typedef struct scored {
    char key[ARR_KEY_MAX];
    char strategy[32];
    int probability_bp;
} scored;

typedef struct scoring_ctx {
    arr_svc *svc;
    scored batch[BATCH_MAX]; /* what the open transaction scored, for the cache */
    int n;
} scoring_ctx;

static const char *const input_topics[] = {"arrears.accounts", NULL};
static const arr_svc_spec spec = {
    .name = "scoring",
    .default_http_port = 18082,
    .topics = input_topics,
    .dead_letter_topic = "arrears.scoring.dlq",
    .transactional = 1,
};

static arr_err produce_envelope(arr_kafka_txn *txn, const char *topic, const arr_envelope *env)
{
    char *value = NULL, key[ARR_KEY_MAX], why[256];
    size_t len;
    arr_err e = arr_envelope_to_message(env, &value, &len, key, why, sizeof(why));
    if (!e)
        e = arr_kafka_txn_produce(txn, topic, key, strlen(key), value, len);
    free(value);
    return e;
}

static arr_err dead_letter(scoring_ctx *ctx, const arr_kafka_msg *in, arr_kafka_txn *txn,
                           const char *reason)
{
    arr_svc *s = ctx->svc;
    char *value = NULL, key[ARR_KEY_MAX], id[ARR_UUID_STRLEN];
    size_t len;
    arr_err e = arr_deadletter_build(in, reason, &s->who, arr_clock_now_ms(&s->clock), &value, &len,
                                     key, id);
    if (!e)
        e = arr_kafka_txn_produce(txn, spec.dead_letter_topic, key, strlen(key), value, len);
    free(value);
    if (!e) {
        arr_metric_add(s->m_dead, 1);
        arr_log_warn(&s->log, "message dead-lettered", "topic", in->topic, "reason", reason, NULL);
    }
    return e;
}

static arr_err score_placed(scoring_ctx *ctx, const arr_envelope *env, arr_kafka_txn *txn,
                            char *why, size_t whylen)
{
    scoring_input in;
    arr_err e = scoring_input_from_payload(env->payload, &in, why, whylen);
    if (e)
        return e;
    scoring_result r;
    scoring_placeholder(&in, &r);
    arr_envelope out;
    /* Derived id: scoring the same input with the same model always gives the same id. */
    e = arr_svc_derive(ctx->svc, &out, env, "score.computed",
                       "score.computed/" SCORING_PLACEHOLDER_MODEL,
                       scoring_result_payload(&r, in.currency));
    if (e)
        return e;
    out.event_time_ms = env->event_time_ms;
    e = produce_envelope(txn, TOPIC_SCORES, &out);
    if (!e && ctx->n < BATCH_MAX) {
        scored *sc = &ctx->batch[ctx->n++];
        arr_envelope_key(env, sc->key, sizeof(sc->key));
        snprintf(sc->strategy, sizeof(sc->strategy), "%s", r.strategy);
        sc->probability_bp = r.probability_bp;
    }
    arr_envelope_clear(&out);
    return e;
}

static arr_err transform(void *opaque, const arr_kafka_msg *in, arr_kafka_txn *txn)
{
    scoring_ctx *ctx = opaque;
    arr_metric_add(ctx->svc->m_consumed, 1);
    arr_envelope env;
    arr_envelope_init(&env);
    char why[512], reason[600];
    arr_err e = arr_envelope_decode(in->value, in->value_len, &env, why, sizeof(why));
    if (e) {
        snprintf(reason, sizeof(reason), "envelope: %s", why);
        return dead_letter(ctx, in, txn, reason);
    }
    if (strcmp(env.event_type, "account.placed") == 0) {
        e = score_placed(ctx, &env, txn, why, sizeof(why));
        if (e == ARR_EINVAL) {
            snprintf(reason, sizeof(reason), "payload: %s", why);
            e = dead_letter(ctx, in, txn, reason);
        }
    }
    arr_envelope_clear(&env);
    return e;
}

/* Scores are cached only after their transaction committed. */
static void cache_scores(scoring_ctx *ctx)
{
    arr_svc *s = ctx->svc;
    for (int i = 0; i < ctx->n; i++) {
        char key[ARR_KEY_MAX + 16], p[16];
        snprintf(key, sizeof(key), "arr:acct:%s", ctx->batch[i].key);
        snprintf(p, sizeof(p), "%d", ctx->batch[i].probability_bp);
        const char *argv[] = {"HSET", key, "score_bp", p, "strategy", ctx->batch[i].strategy};
        arr_redis_append(s->redis, 6, argv, NULL);
    }
    char why[256];
    if (ctx->n && arr_redis_flush(s->redis, why, sizeof(why)) != ARR_OK)
        arr_log_warn(&s->log, "cache update failed", "reason", why, NULL);
    ctx->n = 0;
}

int main(int argc, char **argv)
{
    arr_svc svc;
    arr_err e = arr_svc_open(&svc, &spec, argc, argv);
    scoring_ctx ctx = {.svc = &svc};
    while (!e && arr_svc_running(&svc)) {
        int processed = 0;
        char why[512];
        ctx.n = 0;
        arr_err step = arr_kafka_txn_process(svc.txn, BATCH_MAX, 500, transform, &ctx, &processed,
                                             why, sizeof(why));
        if (!step) {
            arr_metric_add(svc.m_published, ctx.n); /* counted once committed */
            cache_scores(&ctx);
        } else if (step != ARR_ETIMEOUT) {
            if (arr_svc_failed(&svc, step, "transaction failed", why))
                e = step;
            else
                sleep(1);
        }
    }
    arr_svc_close(&svc);
    return e && e != ARR_ESHUTDOWN ? 1 : 0;
}
