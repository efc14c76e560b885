/* arrears-scoring: decides, for every account and every time something about it changes,
 * how likely it is to pay, what can be recovered, and the strategy outreach should run.
 *
 * The story: join the consumer group on the account, payment, outreach, reply and clock
 * topics. Each batch runs inside one Kafka transaction: every event is decoded (one that
 * cannot be read is dead-lettered in the same transaction), then the batch is scored in one
 * PostgreSQL transaction (scoring_batch: inbox claims, feature states, scores and their
 * history), then the scores are produced to arrears.scores and the consumed offsets
 * committed with them. So a crash at any point ends with every event scored exactly once as
 * a read_committed consumer sees it. After the commit the scored accounts' cached view in
 * Redis is refreshed (score, strategy, feature state: no personal data). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arrears/outbatch.h"
#include "arrears/service.h"
#include "batch.h"
#include "engine.h"

#define TOPIC_SCORES "arrears.scores"
#define TOPIC_CLOCK "arrears.clock"

typedef struct scoring_ctx {
    arr_svc *svc;
    scoring_engine *engine;
    scoring_batch *batch;
} scoring_ctx;

static const char *const input_topics[] = {"arrears.accounts",        "arrears.payments.events",
                                           "arrears.outreach.events", "arrears.outreach.replies",
                                           "arrears.clock",           NULL};
static const arr_svc_spec spec = {
    .name = "scoring",
    .default_http_port = 18082,
    .topics = input_topics,
    .dead_letter_topic = "arrears.scoring.dlq",
    .transactional = 1,
};

static arr_err load_engine(scoring_ctx *ctx, char *why, size_t whylen)
{
    const char *model, *table, *experiments;
    arr_config *cfg = ctx->svc->cfg;
    arr_err e =
        arr_config_str(cfg, "ARR_SCORING_MODEL", ARR_DEPLOY_DIR "/models/scorecard-default-1.json",
                       &model, why, whylen);
    if (!e)
        e = arr_config_str(cfg, "ARR_SCORING_STRATEGY", ARR_DEPLOY_DIR "/strategy/default-1.json",
                           &table, why, whylen);
    if (!e)
        e = arr_config_str(cfg, "ARR_SCORING_EXPERIMENTS",
                           ARR_DEPLOY_DIR "/scoring/experiments.json", &experiments, why, whylen);
    if (!e)
        e = scoring_engine_load(model, table, experiments, &ctx->engine, why, whylen);
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
        e = arr_kafka_txn_produce(txn, arr_svc_topic(s, spec.dead_letter_topic), key, strlen(key),
                                  value, len);
    free(value);
    if (!e) {
        arr_metric_add(s->m_dead, 1);
        arr_log_warn(&s->log, "message dead-lettered", "topic", in->topic, "reason", reason, NULL);
    }
    return e;
}

/* Per message, inside the transaction: decoded and kept for the batch's work. */
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
    e = scoring_batch_add(ctx->batch, &env, in);
    arr_envelope_clear(&env);
    return e;
}

static arr_err produce_lines(arr_kafka_txn *txn, const char *topic, const arr_buf *lines)
{
    const char *at = lines->data, *key, *value;
    size_t key_len, value_len;
    int more;
    arr_err e = ARR_OK;
    while (!e && (more = arr_outbatch_next(&at, lines->data + lines->len, &key, &key_len, &value,
                                           &value_len)) == 1)
        e = arr_kafka_txn_produce(txn, topic, key, key_len, value, value_len);
    return e ? e : more < 0 ? ARR_EFATAL : ARR_OK;
}

/* Once per batch, still inside the transaction: the database work, then the outputs. */
static arr_err score_batch(void *opaque, arr_kafka_txn *txn, char *why, size_t whylen)
{
    scoring_ctx *ctx = opaque;
    arr_svc *s = ctx->svc;
    arr_err e = scoring_batch_run(ctx->batch, s->pg, ctx->engine, &s->who,
                                  arr_clock_now_ms(&s->clock), why, whylen);
    int n = 0, dead = 0;
    if (!e)
        e = produce_lines(txn, arr_svc_topic(s, TOPIC_SCORES),
                          scoring_batch_messages(ctx->batch, &n));
    if (!e)
        e = produce_lines(txn, arr_svc_topic(s, spec.dead_letter_topic),
                          scoring_batch_dead_letters(ctx->batch, &dead));
    if (!e)
        e = produce_lines(txn, arr_svc_topic(s, TOPIC_CLOCK),
                          scoring_batch_continuations(ctx->batch, &n));
    if (!e)
        arr_metric_add(s->m_dead, dead);
    return e;
}

static arr_err produce_plain(arr_svc *s, const char *topic, const arr_buf *lines, char *why,
                             size_t whylen)
{
    return lines->len
               ? arr_outbatch_produce(s->producer, topic, lines->data, lines->len, why, whylen)
               : ARR_OK;
}

/* A message that cannot be read, without a transaction: its dead letter is produced, and
 * acknowledged, before the offsets are committed. */
static arr_err dead_letter_plain(scoring_ctx *ctx, const arr_kafka_msg *in, const char *reason)
{
    arr_svc *s = ctx->svc;
    char *value = NULL, key[ARR_KEY_MAX], id[ARR_UUID_STRLEN];
    size_t len;
    arr_err e = arr_deadletter_build(in, reason, &s->who, arr_clock_now_ms(&s->clock), &value, &len,
                                     key, id);
    if (!e)
        e = arr_kafka_produce(s->producer, arr_svc_topic(s, spec.dead_letter_topic), key,
                              strlen(key), value, len);
    free(value);
    if (!e)
        arr_metric_add(s->m_dead, 1);
    return e;
}

/* One batch without a transaction (ARR_KAFKA_TRANSACTIONS=0, for the benchmark): poll,
 * score, produce, wait for the acknowledgements, then commit the offsets: at least once. */
static arr_err plain_step(scoring_ctx *ctx, char *why, size_t whylen)
{
    arr_svc *s = ctx->svc;
    arr_kafka_msg *in = s->batch;
    int n = 0;
    while (n < s->batch_max &&
           arr_kafka_consumer_poll(s->consumer, n ? 0 : 500, &in[n], why, whylen) == ARR_OK)
        n++;
    if (!n)
        return ARR_ETIMEOUT;
    arr_err e = ARR_OK;
    for (int i = 0; !e && i < n; i++) {
        arr_metric_add(s->m_consumed, 1);
        arr_envelope env;
        arr_envelope_init(&env);
        char reason[600];
        if (arr_envelope_decode(in[i].value, in[i].value_len, &env, why, whylen) == ARR_OK) {
            e = scoring_batch_add(ctx->batch, &env, &in[i]);
        } else {
            snprintf(reason, sizeof(reason), "envelope: %s", why);
            e = dead_letter_plain(ctx, &in[i], reason);
        }
        arr_envelope_clear(&env);
    }
    int k = 0;
    if (!e)
        e = scoring_batch_run(ctx->batch, s->pg, ctx->engine, &s->who, arr_clock_now_ms(&s->clock),
                              why, whylen);
    int dead = 0;
    if (!e)
        e = produce_plain(s, arr_svc_topic(s, spec.dead_letter_topic),
                          scoring_batch_dead_letters(ctx->batch, &dead), why, whylen);
    if (!e)
        e = produce_plain(s, arr_svc_topic(s, TOPIC_SCORES), scoring_batch_messages(ctx->batch, &k),
                          why, whylen);
    if (!e)
        e = produce_plain(s, arr_svc_topic(s, TOPIC_CLOCK),
                          scoring_batch_continuations(ctx->batch, &k), why, whylen);
    if (!e)
        arr_metric_add(s->m_dead, dead);
    if (!e)
        e = arr_kafka_producer_flush(s->producer, 60000, why, whylen);
    if (!e)
        e = arr_kafka_consumer_commit_msgs(s->consumer, in, n, why, whylen);
    if (e && arr_kafka_consumer_rewind(s->consumer, why, whylen) != ARR_OK)
        e = ARR_EFATAL;
    for (int i = 0; i < n; i++)
        arr_kafka_msg_release(&in[i]);
    return e;
}

/* The cache is written only after the transaction committed: each changed account's feature
 * state and status, and its score when it was scored. */
static void cache_scores(scoring_ctx *ctx)
{
    arr_svc *s = ctx->svc;
    int n = 0;
    const scoring_scored *sc = scoring_batch_cached(ctx->batch, &n);
    for (int i = 0; sc && i < n; i++) {
        char key[ARR_KEY_MAX + 16], p[16];
        snprintf(key, sizeof(key), "arr:acct:%s", sc[i].key);
        snprintf(p, sizeof(p), "%d", sc[i].probability_bp);
        const char *argv[] = {
            "HSET",       key,           "features", sc[i].state, "scoring_status",
            sc[i].status, "score_bp",    p,          "strategy",  sc[i].strategy,
            "segment",    sc[i].segment, "arm",      sc[i].arm};
        arr_redis_append(s->redis, sc[i].probability_bp < 0 ? 6 : 14, argv, NULL);
    }
    char why[256];
    if (n && arr_redis_flush(s->redis, why, sizeof(why)) != ARR_OK)
        arr_log_warn(&s->log, "cache update failed", "reason", why, NULL);
}

int main(int argc, char **argv)
{
    arr_svc svc;
    scoring_ctx ctx = {.svc = &svc};
    char why[512] = "";
    arr_err e = arr_svc_open(&svc, &spec, argc, argv);
    if (!e && (e = load_engine(&ctx, why, sizeof(why))) != ARR_OK)
        arr_svc_failed(&svc, e, "cannot load the model or the strategy table", why);
    if (!e)
        e = scoring_batch_new(&ctx.batch);
    if (!e)
        scoring_batch_set_namespace(ctx.batch, svc.topic_prefix);
    if (!e && (e = scoring_batch_prepare(svc.pg, why, sizeof(why))) != ARR_OK)
        arr_svc_failed(&svc, e, "cannot prepare statements", why);
    if (!e)
        arr_log_info(&svc.log, "scoring with", "model", scoring_engine_model_id(ctx.engine), NULL);
    while (!e && arr_svc_running(&svc)) {
        int processed = 0;
        scoring_batch_reset(ctx.batch);
        arr_err step = svc.transactional ? arr_kafka_txn_process_batch(svc.txn, svc.batch_max, 500,
                                                                       transform, score_batch, &ctx,
                                                                       &processed, why, sizeof(why))
                                         : plain_step(&ctx, why, sizeof(why));
        if (!step) {
            int produced = 0;
            scoring_batch_messages(ctx.batch, &produced);
            arr_metric_add(svc.m_published, produced); /* committed */
            cache_scores(&ctx);
        } else if (step != ARR_ETIMEOUT) {
            if (arr_svc_failed(&svc, step, "transaction failed", why))
                e = step;
            else
                sleep(1);
        }
    }
    scoring_batch_free(ctx.batch);
    scoring_engine_free(ctx.engine);
    arr_svc_close(&svc);
    return e && e != ARR_ESHUTDOWN ? 1 : 0;
}
