/* arr_svc: what every arrears service shares, so that a service's main.c only tells its own
 * story: configuration (a file named by --config or ARR_CONFIG, then the environment),
 * JSON logs, the clock, signals, the Kafka consumer and producer, PostgreSQL, Redis, and the
 * HTTP endpoint with /healthz, /readyz and /metrics.
 *
 * It also runs the inbox pattern for services whose truth is PostgreSQL: poll a batch of
 * messages and, in one SQL transaction, for each one decode its envelope, claim its event id
 * in <schema>.inbox, apply it and queue the resulting events in <schema>.outbox (each message
 * under its own savepoint); commit; write the staged cache entries to Redis; relay the
 * outbox; commit the offsets. A message that cannot be accepted is rolled back to its
 * savepoint and dead-lettered through the same outbox (with a derived id, claimed in the
 * inbox, so a redelivery does not record it twice).
 *
 * The arr_svc struct is the service's context and owns everything in it. */
#ifndef ARREARS_SERVICE_H
#define ARREARS_SERVICE_H

#include <stdatomic.h>
#include <stdint.h>
#include "arrears/clock.h"
#include "arrears/config.h"
#include "arrears/deadletter.h"
#include "arrears/envelope.h"
#include "arrears/err.h"
#include "arrears/http.h"
#include "arrears/kafka.h"
#include "arrears/log.h"
#include "arrears/metrics.h"
#include "arrears/pg.h"
#include "arrears/redis.h"
#include "arrears/sig.h"

typedef struct arr_svc arr_svc;

typedef struct arr_svc_spec {
    const char *name;           /* "ingest", "scoring", ...; also the PostgreSQL schema */
    uint16_t default_http_port; /* ARR_HTTP_PORT overrides */
    int default_batch_max;      /* messages per unit of work; 0: 500. ARR_BATCH_MAX overrides */
    const char *const *topics;  /* input topics, NULL-terminated */
    const char *dead_letter_topic;
    int transactional; /* 1: outputs go through a Kafka transaction (no outbox relay) */
    /* Optional: the service's own catching up when no message came (e.g. publishing what a
     * dead process left behind); a failure is logged and tried again next time. */
    arr_err (*idle)(arr_svc *s, char *why, size_t whylen);
    /* Optional: adds the service's own HTTP routes (arr_http_route on s->http) before the
     * endpoint starts; may set s->ext and s->ext_free. */
    arr_err (*routes)(arr_svc *s, char *why, size_t whylen);
} arr_svc_spec;

#define ARR_SVC_TOPICS_MAX 16

struct arr_svc {
    const arr_svc_spec *spec; /* borrowed, static */
    char instance[ARR_NAME_MAX + 1];
    char group_id[ARR_NAME_MAX + 96];
    arr_producer_id who;
    arr_config *cfg;
    arr_log log;
    arr_clock clock;
    arr_sig sig;
    arr_metrics *metrics;
    arr_http *http;
    const char *brokers; /* owned by cfg */
    const char *pg_conninfo;
    const char *redis_host;
    int redis_port;
    arr_pg *pg;
    arr_redis *redis;
    arr_kafka_producer *producer;
    arr_kafka_consumer *consumer;
    arr_kafka_txn *txn;           /* transactional services only */
    arr_redis_stage *cache;       /* cache writes waiting for the commit */
    arr_kafka_msg *batch;         /* the messages of the open unit of work */
    const arr_kafka_msg *current; /* the message being applied (inbox services), else NULL */
    int batch_max;                /* ARR_BATCH_MAX */
    int transactional;            /* spec->transactional unless ARR_KAFKA_TRANSACTIONS=0 */
    atomic_int ready; /* bit 0 kafka, 1 postgresql, 2 redis: set when the dependency answers */
    atomic_llong ready_at_ms; /* monotonic time of the last dependency check */
    int64_t next_check_ms;
    void *ext;                   /* the service's own state behind its routes */
    void (*ext_free)(void *ext); /* called by arr_svc_close once HTTP has stopped */
    arr_metric *m_consumed, *m_published, *m_dead, *m_errors, *m_duplicates, *m_assigned;
    /* ARR_TOPIC_PREFIX: a namespace for every topic, consumer group and transactional id of
     * the service (tests and benchmarks run in their own); "" in production. */
    char topic_prefix[64];
    char topics[ARR_SVC_TOPICS_MAX][160]; /* the prefixed names handed out so far */
    const char *consumed[ARR_SVC_TOPICS_MAX + 1];
    int n_topics;
};

/* The name of topic in this service's namespace (ARR_TOPIC_PREFIX + topic): stable for the
 * life of s. Every topic a service produces to goes through it (arr_svc_emit does it). */
const char *arr_svc_topic(arr_svc *s, const char *topic);
/* Parses argv (--config FILE, --instance NAME, --help), loads configuration, connects to
 * everything and starts the HTTP endpoint. On --help prints usage and returns ARR_ESHUTDOWN.
 * On failure logs the reason and returns its error; arr_svc_close is still safe. */
arr_err arr_svc_open(arr_svc *s, const arr_svc_spec *spec, int argc, char **argv);
/* 1 while no SIGTERM/SIGINT arrived; also refreshes readiness about once a second. */
int arr_svc_running(arr_svc *s);
/* Stops consuming, finishes (aborts) what is open, flushes and closes everything. */
void arr_svc_close(arr_svc *s);

/* The inbox handler of a PostgreSQL-backed service. */
typedef struct arr_svc_handler {
    /* Inside the transaction, after the inbox claim. Return ARR_OK, or ARR_EINVAL/ARR_EDECODE
     * with why to reject the message (it is then dead-lettered), or another error to retry. */
    arr_err (*apply)(void *opaque, arr_svc *s, const arr_envelope *env, char *why, size_t whylen);
    /* Inside the dead-letter transaction (may be NULL): record the rejection in own tables. */
    arr_err (*rejected)(void *opaque, arr_svc *s, const arr_kafka_msg *msg, const char *why);
    void *opaque;
} arr_svc_handler;

/* One batch through the inbox pattern, then an outbox relay. ARR_ETIMEOUT when nothing
 * came. Errors other than input errors roll the batch back, leave its offsets uncommitted
 * and rewind the consumer, so the batch comes again. */
arr_err arr_svc_pg_step(arr_svc *s, const arr_svc_handler *h, int timeout_ms);

/* The whole loop of a PostgreSQL-backed service: steps until SIGTERM/SIGINT, pausing a
 * second after a retriable error. Returns ARR_OK on a requested stop, ARR_EFATAL otherwise. */
arr_err arr_svc_run_pg(arr_svc *s, const arr_svc_handler *h);

/* Stages HSET arr:acct:<tenant>/<account> f1 v1 ... for after the commit (Redis is a cache of
 * what PostgreSQL holds, so it is written only once that is true). fv: 2 * npairs strings.
 * A failure to stage only logs: the cache is then stale until rebuilt, the truth is safe. */
void arr_svc_cache_account(arr_svc *s, const char *tenant, const char *account, int npairs,
                           const char *const *fv);

/* Queues an event in this service's outbox, inside the current transaction. */
arr_err arr_svc_emit(arr_svc *s, const char *topic, const arr_envelope *env);
/* Relays this service's outbox until empty or max rows moved. */
arr_err arr_svc_relay(arr_svc *s, int max_rows, int *relayed);

/* Builds a derived envelope (arr_envelope_derive with this service as producer and
 * produced_at from the service clock). Steals payload. */
arr_err arr_svc_derive(arr_svc *s, arr_envelope *out, const arr_envelope *cause,
                       const char *event_type, const char *derived_name, json_t *payload);

/* Reports an error through the log and metrics; returns 1 when the process must stop. */
int arr_svc_failed(arr_svc *s, arr_err e, const char *what, const char *why);

#endif
