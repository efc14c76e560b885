#include "arrears/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "arrears/outbox.h"

#define READY_KAFKA 1
#define READY_PG 2
#define READY_REDIS 4
#define READY_ALL (READY_KAFKA | READY_PG | READY_REDIS)
#define READY_STALE_MS 15000

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(const arr_svc_spec *spec)
{
    printf("usage: arrears-%s [--config FILE] [--instance NAME]\n\n"
           "Runs the %s service of arrears as one replica of the consumer group arrears-%s.\n"
           "Configuration comes from FILE (KEY=VALUE lines; default $ARR_CONFIG) and the\n"
           "environment, which wins: ARR_KAFKA_BROKERS, ARR_PG_CONNINFO, ARR_REDIS_HOST,\n"
           "ARR_REDIS_PORT, ARR_HTTP_PORT (default %u), ARR_HTTP_BIND, ARR_INSTANCE,\n"
           "ARR_LOG_LEVEL, ARR_BATCH_MAX (messages per transaction, default 500),\n"
           "ARR_KAFKA_TRANSACTIONS (0: a transactional service runs at least once instead, for\n"
           "benchmarks), ARR_TOPIC_PREFIX. SIGTERM or SIGINT stops it cleanly.\n",
           spec->name, spec->name, spec->name, spec->default_http_port);
}

/* The HTTP thread reads only these atomics: the checks themselves run on the main loop. */
static int ready_cb(void *opaque, char *why, size_t whylen)
{
    arr_svc *s = opaque;
    int bits = atomic_load(&s->ready);
    long long age = mono_ms() - atomic_load(&s->ready_at_ms);
    if (bits == READY_ALL && age < READY_STALE_MS)
        return 1;
    snprintf(why, whylen, "%s%s%s%s", bits & READY_KAFKA ? "" : "kafka does not answer; ",
             bits & READY_PG ? "" : "postgresql does not answer; ",
             bits & READY_REDIS ? "" : "redis does not answer; ",
             age >= READY_STALE_MS ? "service loop is stalled" : "");
    return 0;
}

static void check_deps(arr_svc *s)
{
    char why[256];
    int bits = 0;
    if (arr_kafka_ping(arr_kafka_producer_handle(s->producer), 2000, why, sizeof(why)) == ARR_OK)
        bits |= READY_KAFKA;
    if (arr_pg_ping(s->pg, why, sizeof(why)) == ARR_OK)
        bits |= READY_PG;
    else if (arr_pg_reconnect(s->pg, why, sizeof(why)) == ARR_OK)
        bits |= READY_PG;
    if (arr_redis_ping(s->redis, why, sizeof(why)) == ARR_OK)
        bits |= READY_REDIS;
    atomic_store(&s->ready, bits);
    atomic_store(&s->ready_at_ms, mono_ms());
    arr_metric_set(s->m_assigned, arr_kafka_consumer_assigned(s->consumer));
}

static arr_err parse_args(arr_svc *s, int argc, char **argv, const char **config_path,
                          const char **instance)
{
    *config_path = getenv("ARR_CONFIG");
    *instance = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(s->spec);
            return ARR_ESHUTDOWN;
        }
        if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
            *config_path = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--instance") == 0) {
            *instance = argv[++i];
        } else {
            fprintf(stderr, "arrears-%s: unknown argument '%s' (see --help)\n", s->spec->name,
                    argv[i]);
            return ARR_ECONFIG;
        }
    }
    return ARR_OK;
}

static arr_err load_settings(arr_svc *s, const char *instance, char *why, size_t whylen)
{
    const char *level_s, *inst;
    int64_t port;
    arr_err e =
        arr_config_str(s->cfg, "ARR_KAFKA_BROKERS", "127.0.0.1:19092", &s->brokers, why, whylen);
    if (!e)
        e = arr_config_str(s->cfg, "ARR_PG_CONNINFO",
                           "host=127.0.0.1 port=15432 dbname=arrears user=arrears", &s->pg_conninfo,
                           why, whylen);
    if (!e)
        e = arr_config_str(s->cfg, "ARR_REDIS_HOST", "127.0.0.1", &s->redis_host, why, whylen);
    if (!e && !(e = arr_config_int(s->cfg, "ARR_REDIS_PORT", 16379, 1, 65535, &port, why, whylen)))
        s->redis_port = (int)port;
    if (!e)
        e = arr_config_str(s->cfg, "ARR_LOG_LEVEL", "info", &level_s, why, whylen);
    if (!e && arr_log_level_parse(level_s, &s->log.level) != ARR_OK) {
        snprintf(why, whylen, "ARR_LOG_LEVEL: '%s' is not debug, info, warn or error", level_s);
        e = ARR_ECONFIG;
    }
    int64_t batch;
    if (!e && !(e = arr_config_int(s->cfg, "ARR_BATCH_MAX",
                                   s->spec->default_batch_max ? s->spec->default_batch_max : 500, 1,
                                   5000, &batch, why, whylen)))
        s->batch_max = (int)batch;
    /* A transactional service may run without transactions (to measure what they cost). */
    int64_t tx = 1;
    if (!e && s->spec->transactional)
        e = arr_config_int(s->cfg, "ARR_KAFKA_TRANSACTIONS", 1, 0, 1, &tx, why, whylen);
    s->transactional = s->spec->transactional && tx;
    if (!e && !instance)
        e = arr_config_str(s->cfg, "ARR_INSTANCE", s->spec->name, &inst, why, whylen);
    else
        inst = instance;
    if (!e && (strlen(inst) > ARR_NAME_MAX || !*inst)) {
        snprintf(why, whylen, "ARR_INSTANCE: must be 1 to %d characters", ARR_NAME_MAX);
        e = ARR_ECONFIG;
    }
    if (!e)
        snprintf(s->instance, sizeof(s->instance), "%s", inst);
    return e;
}

static arr_err open_metrics(arr_svc *s)
{
    arr_err e = arr_metrics_new(&s->metrics);
    struct {
        arr_metric **slot;
        arr_metric_kind kind;
        const char *name, *help;
    } defs[] = {
        {&s->m_consumed, ARR_METRIC_COUNTER, "arrears_events_consumed_total",
         "Input messages taken from Kafka"},
        {&s->m_published, ARR_METRIC_COUNTER, "arrears_events_published_total",
         "Events published to Kafka"},
        {&s->m_dead, ARR_METRIC_COUNTER, "arrears_dead_letters_total",
         "Input messages rejected to the dead-letter topic"},
        {&s->m_duplicates, ARR_METRIC_COUNTER, "arrears_duplicates_total",
         "Redelivered input messages recognised and skipped"},
        {&s->m_errors, ARR_METRIC_COUNTER, "arrears_errors_total",
         "Errors that made a unit of work be retried"},
        {&s->m_assigned, ARR_METRIC_GAUGE, "arrears_assigned_partitions",
         "Partitions assigned to this replica"},
    };
    for (size_t i = 0; !e && i < sizeof(defs) / sizeof(defs[0]); i++)
        e = arr_metrics_register(s->metrics, defs[i].kind, defs[i].name, defs[i].help, NULL,
                                 defs[i].slot);
    return e;
}

static arr_err open_http(arr_svc *s, char *why, size_t whylen)
{
    int64_t port;
    const char *bind;
    arr_err e = arr_config_int(s->cfg, "ARR_HTTP_PORT", s->spec->default_http_port, 0, 65535, &port,
                               why, whylen);
    if (!e)
        e = arr_config_str(s->cfg, "ARR_HTTP_BIND", "127.0.0.1", &bind, why, whylen);
    if (e)
        return e;
    arr_http_opts o = {.bind_addr = bind,
                       .port = (uint16_t)port,
                       .max_body = 8 * 1024 * 1024,
                       .ready = ready_cb,
                       .ready_opaque = s,
                       .metrics = s->metrics};
    e = arr_http_new(&o, &s->http);
    if (!e && s->spec->routes)
        e = s->spec->routes(s, why, whylen);
    if (!e)
        e = arr_http_start(s->http, why, whylen);
    return e;
}

static arr_err open_clients(arr_svc *s, char *why, size_t whylen)
{
    char client_id[ARR_NAME_MAX + 16];
    snprintf(client_id, sizeof(client_id), "arrears-%s", s->instance);
    arr_err e = arr_pg_connect(s->pg_conninfo, &s->pg, why, whylen);
    if (!e && !s->transactional)
        e = arr_outbox_prepare(s->pg, s->spec->name, why, whylen);
    if (!e)
        e = arr_redis_connect(s->redis_host, s->redis_port, 2000, &s->redis, why, whylen);
    if (!e)
        e = arr_redis_stage_new((size_t)s->batch_max * 4, &s->cache);
    if (!e && !(s->batch = calloc((size_t)s->batch_max, sizeof(*s->batch))))
        e = ARR_ENOMEM;
    if (!e)
        e = arr_kafka_producer_new(s->brokers, client_id, NULL, &s->producer, why, whylen);
    if (!e)
        e = arr_kafka_consumer_new(s->brokers, s->group_id, client_id, s->consumed, NULL,
                                   &s->consumer, why, whylen);
    if (!e && s->transactional) {
        char txn_id[ARR_NAME_MAX * 2 + 112];
        snprintf(txn_id, sizeof(txn_id), "%sarrears-%s-%s", s->topic_prefix, s->spec->name,
                 s->instance);
        e = arr_kafka_txn_new(s->consumer, s->brokers, txn_id, &s->txn, why, whylen);
    }
    return e;
}

arr_err arr_svc_open(arr_svc *s, const arr_svc_spec *spec, int argc, char **argv)
{
    memset(s, 0, sizeof(*s));
    s->spec = spec;
    arr_log_init(&s->log, spec->name, spec->name, ARR_LOG_INFO);
    arr_clock_init_real(&s->clock);
    arr_err e = arr_sig_block(&s->sig);
    if (e)
        return e;
    const char *config_path, *instance;
    if ((e = parse_args(s, argc, argv, &config_path, &instance)) != ARR_OK)
        return e;
    char why[512] = "";
    e = arr_config_load(config_path, &s->cfg, why, sizeof(why));
    if (!e)
        e = load_settings(s, instance, why, sizeof(why));
    const char *prefix = "";
    if (!e)
        e = arr_config_str(s->cfg, "ARR_TOPIC_PREFIX", "", &prefix, why, sizeof(why));
    if (!e && strlen(prefix) >= sizeof(s->topic_prefix))
        e = arr_errbuf_fail(ARR_ECONFIG, why, sizeof(why), "ARR_TOPIC_PREFIX: longer than %zu",
                            sizeof(s->topic_prefix) - 1);
    if (!e) {
        s->log.instance = s->instance;
        snprintf(s->topic_prefix, sizeof(s->topic_prefix), "%s", prefix);
        snprintf(s->group_id, sizeof(s->group_id), "%sarrears-%s", prefix, spec->name);
        int n = 0;
        for (; spec->topics && spec->topics[n] && n < ARR_SVC_TOPICS_MAX - 1; n++)
            s->consumed[n] = arr_svc_topic(s, spec->topics[n]);
        s->consumed[n] = NULL;
        s->who = (arr_producer_id){spec->name, ARR_VERSION, s->instance};
        e = open_metrics(s);
    }
    if (!e)
        e = open_clients(s, why, sizeof(why));
    if (!e)
        e = open_http(s, why, sizeof(why));
    if (e) {
        arr_log_error(&s->log, "cannot start", "error", arr_strerror(e), "reason", why, NULL);
        return e;
    }
    check_deps(s);
    char port[8];
    snprintf(port, sizeof(port), "%u", arr_http_port(s->http));
    arr_log_info(&s->log, "started", "group", s->group_id, "http_port", port, "version",
                 ARR_VERSION, NULL);
    return ARR_OK;
}

int arr_svc_running(arr_svc *s)
{
    if (arr_sig_pending(&s->sig))
        return 0;
    int64_t now = mono_ms();
    if (now >= s->next_check_ms) {
        check_deps(s);
        s->next_check_ms = now + 1000;
    }
    return 1;
}

void arr_svc_close(arr_svc *s)
{
    if (s->sig.received)
        arr_log_info(&s->log, "stopping", "signal", s->sig.received == SIGTERM ? "TERM" : "INT",
                     NULL);
    /* The HTTP endpoint goes first: it reads s->ready while the rest is torn down. */
    arr_http_free(s->http);
    if (s->ext_free)
        s->ext_free(s->ext);
    arr_kafka_txn_free(s->txn); /* an open transaction is aborted by the broker's fencing */
    arr_kafka_consumer_free(s->consumer);
    arr_kafka_producer_free(s->producer);
    arr_redis_stage_free(s->cache);
    free(s->batch);
    arr_redis_free(s->redis);
    arr_pg_free(s->pg);
    arr_metrics_free(s->metrics);
    arr_config_free(s->cfg);
    if (s->sig.received)
        arr_log_info(&s->log, "stopped", NULL);
    memset(s, 0, sizeof(*s));
}

int arr_svc_failed(arr_svc *s, arr_err e, const char *what, const char *why)
{
    arr_err_class c = arr_err_classify(e);
    arr_metric_add(s->m_errors, 1);
    /* A retriable error (a rebalance, a lost connection) is part of normal life: a warning. */
    arr_log_write(&s->log, c == ARR_ERRCLASS_RETRIABLE ? ARR_LOG_WARN : ARR_LOG_ERROR, what,
                  "error", arr_strerror(e), "class", arr_errclass_name(c), "reason", why, NULL);
    return c == ARR_ERRCLASS_FATAL;
}

arr_err arr_svc_derive(arr_svc *s, arr_envelope *out, const arr_envelope *cause,
                       const char *event_type, const char *derived_name, json_t *payload)
{
    return arr_envelope_derive(out, cause, event_type, 1, derived_name, payload, s->who.service,
                               s->who.version, s->who.instance, arr_clock_now_ms(&s->clock));
}

const char *arr_svc_topic(arr_svc *s, const char *topic)
{
    char name[160];
    snprintf(name, sizeof(name), "%s%s", s->topic_prefix, topic);
    for (int i = 0; i < s->n_topics; i++) {
        if (strcmp(s->topics[i], name) == 0)
            return s->topics[i];
    }
    if (s->n_topics == ARR_SVC_TOPICS_MAX)
        return topic; /* a programming error: more topics than any service has */
    memcpy(s->topics[s->n_topics], name, sizeof(name));
    return s->topics[s->n_topics++];
}

arr_err arr_svc_emit(arr_svc *s, const char *topic, const arr_envelope *env)
{
    topic = arr_svc_topic(s, topic);
    char *value = NULL, key[ARR_KEY_MAX], why[256];
    size_t len;
    arr_err e = arr_envelope_to_message(env, &value, &len, key, why, sizeof(why));
    if (!e)
        e = arr_outbox_add(s->pg, s->spec->name, topic, key, value, why, sizeof(why));
    if (e)
        arr_log_error(&s->log, "cannot queue event", "event_type", env->event_type, "reason", why,
                      NULL);
    free(value);
    return e;
}

arr_err arr_svc_relay(arr_svc *s, int max_rows, int *relayed)
{
    char why[512];
    *relayed = 0;
    for (;;) {
        int n = 0;
        arr_err e = arr_outbox_relay(s->pg, s->spec->name, s->producer, 500, &n, why, sizeof(why));
        if (e) {
            arr_svc_failed(s, e, "outbox relay failed", why);
            return e;
        }
        *relayed += n;
        arr_metric_add(s->m_published, n);
        if (n < 500 || *relayed >= max_rows)
            return ARR_OK;
    }
}

void arr_svc_cache_account(arr_svc *s, const char *tenant, const char *account, int npairs,
                           const char *const *fv)
{
    char key[ARR_KEY_MAX + 16];
    snprintf(key, sizeof(key), "arr:acct:%s/%s", tenant, account);
    arr_err e = arr_redis_stage_hset(s->cache, key, npairs, fv);
    if (e)
        arr_log_warn(&s->log, "cache write not staged", "error", arr_strerror(e), "tenant", tenant,
                     NULL);
}

static void log_dead_letter(arr_svc *s, const arr_kafka_msg *msg, const char *reason)
{
    char part[16], off[24];
    snprintf(part, sizeof(part), "%d", (int)msg->partition);
    snprintf(off, sizeof(off), "%lld", (long long)msg->offset);
    arr_metric_add(s->m_dead, 1);
    arr_log_warn(&s->log, "message dead-lettered", "topic", msg->topic, "partition", part, "offset",
                 off, "reason", reason, NULL);
}

/* Inside the batch transaction: the dead letter through the outbox, plus the service's own
 * record of the rejection. The derived id, claimed in the inbox, makes a replay harmless. */
static arr_err dead_letter(arr_svc *s, const arr_svc_handler *h, const arr_kafka_msg *msg,
                           const char *reason, char *why, size_t whylen)
{
    char *value = NULL, key[ARR_KEY_MAX], id[ARR_UUID_STRLEN];
    size_t len;
    int fresh = 0;
    arr_err e = arr_deadletter_build(msg, reason, &s->who, arr_clock_now_ms(&s->clock), &value,
                                     &len, key, id);
    if (!e)
        e = arr_inbox_claim(s->pg, s->spec->name, id, msg->topic, msg->partition, msg->offset,
                            &fresh, why, whylen);
    if (!e && fresh)
        e = arr_outbox_add(s->pg, s->spec->name, arr_svc_topic(s, s->spec->dead_letter_topic), key,
                           value, why, whylen);
    if (!e && fresh && h->rejected)
        e = h->rejected(h->opaque, s, msg, reason);
    free(value);
    if (!e && fresh)
        log_dead_letter(s, msg, reason);
    return e;
}

/* One message of the batch. Input errors become a dead letter; any other error is returned
 * and fails the whole batch. guarded: the message runs under its own savepoint, so a rejected
 * one is rolled back alone. Unguarded (the fast path: two round trips less per message), a
 * message the handler rejects after writing returns ARR_EABORT with *redo set, and the caller
 * runs the batch again guarded. */
static arr_err step_one(arr_svc *s, const arr_svc_handler *h, const arr_kafka_msg *msg, int guarded,
                        int *redo, char *why, size_t whylen)
{
    arr_envelope env;
    arr_envelope_init(&env);
    char rejected[600] = "";
    int fresh = 0;
    size_t mark = arr_redis_stage_mark(s->cache);
    arr_err e = guarded ? arr_pg_exec(s->pg, "SAVEPOINT arr_msg", why, whylen) : ARR_OK;
    if (e)
        return e;
    if (arr_envelope_decode(msg->value, msg->value_len, &env, why, whylen) != ARR_OK) {
        snprintf(rejected, sizeof(rejected), "envelope: %s", why);
    } else {
        e = arr_inbox_claim(s->pg, s->spec->name, env.event_id, msg->topic, msg->partition,
                            msg->offset, &fresh, why, whylen);
        s->current = msg;
        if (!e && fresh)
            e = h->apply(h->opaque, s, &env, why, whylen);
        s->current = NULL;
        if (!e && !fresh)
            arr_metric_add(s->m_duplicates, 1);
        if ((e == ARR_EINVAL || e == ARR_EDECODE) && !guarded) {
            arr_envelope_clear(&env);
            *redo = 1;
            return ARR_EABORT; /* its writes cannot be taken back alone */
        }
        if (e == ARR_EINVAL || e == ARR_EDECODE) {
            snprintf(rejected, sizeof(rejected), "%s", why);
            e = ARR_OK;
        }
    }
    arr_envelope_clear(&env);
    if (!e && rejected[0]) {
        /* Unguarded, only an undecodable envelope gets here: nothing of it was written. */
        arr_redis_stage_truncate(s->cache, mark);
        if (guarded)
            e = arr_pg_exec(s->pg, "ROLLBACK TO SAVEPOINT arr_msg", why, whylen);
        if (!e)
            e = dead_letter(s, h, msg, rejected, why, whylen);
    }
    if (!e && guarded)
        e = arr_pg_exec(s->pg, "RELEASE SAVEPOINT arr_msg", why, whylen);
    return e;
}

/* The batch in one transaction; on failure everything is rolled back (and *redo says whether
 * a guarded run would get through). */
static arr_err run_batch(arr_svc *s, const arr_svc_handler *h, int n, int guarded, int *redo,
                         char *why, size_t whylen)
{
    arr_err e = arr_pg_begin(s->pg, why, whylen);
    for (int i = 0; !e && i < n; i++)
        e = step_one(s, h, &s->batch[i], guarded, redo, why, whylen);
    if (!e)
        e = arr_pg_commit(s->pg, why, whylen);
    if (e) {
        arr_pg_rollback(s->pg);
        arr_redis_stage_truncate(s->cache, 0);
    }
    return e;
}

/* Polls up to batch_max messages: waits for the first, then takes what is already there. */
static int poll_batch(arr_svc *s, int timeout_ms)
{
    int n = 0;
    char why[256];
    while (n < s->batch_max) {
        arr_err e = arr_kafka_consumer_poll(s->consumer, n ? 0 : timeout_ms, &s->batch[n], why,
                                            sizeof(why));
        if (e == ARR_EKAFKA)
            arr_svc_failed(s, e, "consume failed", why);
        if (e)
            break;
        n++;
    }
    return n;
}

static void release_batch(arr_svc *s, int n)
{
    for (int i = 0; i < n; i++)
        arr_kafka_msg_release(&s->batch[i]);
}

arr_err arr_svc_pg_step(arr_svc *s, const arr_svc_handler *h, int timeout_ms)
{
    char why[512] = "";
    int relayed;
    int n = poll_batch(s, timeout_ms);
    if (n == 0) {
        arr_svc_relay(s, 5000, &relayed); /* a crash may have left rows behind */
        arr_err ie = s->spec->idle ? s->spec->idle(s, why, sizeof(why)) : ARR_OK;
        if (ie)
            arr_svc_failed(s, ie, "idle work failed", why);
        return ARR_ETIMEOUT;
    }
    arr_metric_add(s->m_consumed, n);
    int redo = 0;
    arr_err e = run_batch(s, h, n, 0, &redo, why, sizeof(why));
    if (e && redo) /* a message to reject: again, each under its own savepoint */
        e = run_batch(s, h, n, 1, &redo, why, sizeof(why));
    if (e) {
        arr_svc_failed(s, e, "batch rolled back", why);
    } else if (arr_redis_stage_flush(s->cache, s->redis, why, sizeof(why)) != ARR_OK) {
        arr_log_warn(&s->log, "cache update failed", "reason", why, NULL);
    }
    if (!e)
        e = arr_svc_relay(s, 100000, &relayed);
    if (!e && (e = arr_kafka_consumer_commit_msgs(s->consumer, s->batch, n, why, sizeof(why))))
        arr_svc_failed(s, e, "offset commit failed", why);
    if (e && e != ARR_EFATAL) {
        /* Not committed: move back so the batch comes again after the pause. */
        char rw[256];
        if (arr_kafka_consumer_rewind(s->consumer, rw, sizeof(rw)) != ARR_OK)
            e = ARR_EFATAL;
    }
    release_batch(s, n);
    return e;
}

arr_err arr_svc_run_pg(arr_svc *s, const arr_svc_handler *h)
{
    while (arr_svc_running(s)) {
        arr_err step = arr_svc_pg_step(s, h, 500);
        if (step == ARR_EFATAL)
            return step;
        if (step && step != ARR_ETIMEOUT)
            sleep(1); /* logged already; give the dependency a moment */
    }
    return ARR_OK;
}
