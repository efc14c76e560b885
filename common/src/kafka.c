#include "arrears/kafka.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arr_kafka_producer {
    rd_kafka_t *rk;
    long failed; /* delivery failures since the last flush; dr callback runs on our thread */
    char first_error[256];
};

struct arr_kafka_consumer {
    rd_kafka_t *rk;
    long revocations; /* bumped on every revoke, so an open transaction knows to abort */
    int assigned;
};

struct arr_kafka_txn {
    arr_kafka_consumer *consumer; /* borrowed */
    rd_kafka_t *rk;               /* transactional producer, owned */
    char brokers[512];
    char transactional_id[256];
};

void arr_kafka_msg_release(arr_kafka_msg *m)
{
    if (m->rk)
        rd_kafka_message_destroy(m->rk);
    memset(m, 0, sizeof(*m));
}

static arr_err conf_set_all(rd_kafka_conf_t *conf, const char *const *kv, char *errbuf,
                            size_t errlen)
{
    for (; kv && *kv; kv++) {
        const char *eq = strchr(*kv, '=');
        char key[128];
        if (!eq || (size_t)(eq - *kv) >= sizeof(key)) {
            arr_errbuf_set(errbuf, errlen, "kafka property '%s': expected key=value", *kv);
            return ARR_ECONFIG;
        }
        memcpy(key, *kv, (size_t)(eq - *kv));
        key[eq - *kv] = '\0';
        char why[256];
        if (rd_kafka_conf_set(conf, key, eq + 1, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            arr_errbuf_set(errbuf, errlen, "kafka property %s: %s", key, why);
            return ARR_ECONFIG;
        }
    }
    return ARR_OK;
}

/* The base properties, then the identity ones, then the caller's extra ones (which win). */
static arr_err make_conf(const char *const *base, const char *const *ids, const char *const *extra,
                         rd_kafka_conf_t **out, char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    arr_err e = conf_set_all(conf, base, errbuf, errlen);
    if (!e)
        e = conf_set_all(conf, ids, errbuf, errlen);
    if (!e)
        e = conf_set_all(conf, extra, errbuf, errlen);
    if (e) {
        rd_kafka_conf_destroy(conf);
        return e;
    }
    *out = conf;
    return ARR_OK;
}

/* rd_kafka_new, which takes conf only on success. */
static rd_kafka_t *new_handle(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
                              char *errbuf, size_t errlen)
{
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, why, sizeof(why));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        arr_errbuf_set(errbuf, errlen, "kafka %s: %s", what, why);
    }
    return rk;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    arr_kafka_producer *p = opaque;
    if (!m->err)
        return;
    if (p->failed++ == 0)
        snprintf(p->first_error, sizeof(p->first_error), "delivery to %s failed: %s",
                 rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
}

arr_err arr_kafka_producer_new(const char *brokers, const char *client_id, const char *const *extra,
                               arr_kafka_producer **out, char *errbuf, size_t errlen)
{
    arr_kafka_producer *p = calloc(1, sizeof(*p));
    if (!p)
        return ARR_ENOMEM;
    const char *base[] = {
        "enable.idempotence=true",   "acks=all", "linger.ms=5", "compression.type=lz4",
        "message.max.bytes=2000000", NULL};
    char kv[2][512];
    snprintf(kv[0], sizeof(kv[0]), "bootstrap.servers=%s", brokers);
    snprintf(kv[1], sizeof(kv[1]), "client.id=%s", client_id);
    const char *ids[] = {kv[0], kv[1], NULL};
    rd_kafka_conf_t *conf = NULL;
    arr_err e = make_conf(base, ids, extra, &conf, errbuf, errlen);
    if (!e) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, p);
        if (!(p->rk = new_handle(RD_KAFKA_PRODUCER, conf, "producer", errbuf, errlen)))
            e = ARR_ECONFIG;
    }
    if (e) {
        free(p);
        return e;
    }
    *out = p;
    return ARR_OK;
}

static arr_err produce_on(rd_kafka_t *rk, const char *topic, const char *key, size_t key_len,
                          const void *value, size_t value_len)
{
    for (;;) {
        rd_kafka_resp_err_t err =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, key_len),
                              RD_KAFKA_V_VALUE((void *)value, value_len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (!err)
            return ARR_OK;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return err == RD_KAFKA_RESP_ERR__FATAL ? ARR_EFATAL : ARR_EKAFKA;
        rd_kafka_poll(rk, 100); /* let deliveries drain the local queue */
    }
}

arr_err arr_kafka_produce(arr_kafka_producer *p, const char *topic, const char *key, size_t key_len,
                          const void *value, size_t value_len)
{
    arr_err e = produce_on(p->rk, topic, key, key_len, value, value_len);
    rd_kafka_poll(p->rk, 0);
    return e;
}

arr_err arr_kafka_producer_flush(arr_kafka_producer *p, int timeout_ms, char *errbuf, size_t errlen)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(p->rk, timeout_ms);
    if (p->failed) {
        arr_errbuf_set(errbuf, errlen, "%s (%ld failed in all)", p->first_error, p->failed);
        p->failed = 0;
        return ARR_EKAFKA;
    }
    if (err) {
        arr_errbuf_set(errbuf, errlen, "kafka flush: %s", rd_kafka_err2str(err));
        return err == RD_KAFKA_RESP_ERR__TIMED_OUT ? ARR_ETIMEOUT : ARR_EKAFKA;
    }
    return ARR_OK;
}

rd_kafka_t *arr_kafka_producer_handle(arr_kafka_producer *p)
{
    return p->rk;
}

void arr_kafka_producer_free(arr_kafka_producer *p)
{
    if (!p)
        return;
    rd_kafka_flush(p->rk, 10000);
    rd_kafka_destroy(p->rk);
    free(p);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    arr_kafka_consumer *c = opaque;
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
            c->assigned += parts->cnt;
        } else {
            rd_kafka_assign(rk, parts);
            c->assigned = parts->cnt;
        }
        return;
    }
    c->revocations++;
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e)
            rd_kafka_error_destroy(e);
        c->assigned -= parts->cnt;
    } else {
        rd_kafka_assign(rk, NULL);
        c->assigned = 0;
    }
}

arr_err arr_kafka_consumer_new(const char *brokers, const char *group_id, const char *client_id,
                               const char *const *topics, const char *const *extra,
                               arr_kafka_consumer **out, char *errbuf, size_t errlen)
{
    arr_kafka_consumer *c = calloc(1, sizeof(*c));
    if (!c)
        return ARR_ENOMEM;
    /* range, not cooperative-sticky: with every topic keyed by tenant/account over the same
       partition count, a member gets the same partition numbers of every topic it reads, so
       one replica holds all of an account's events. Split across replicas, two batches lock
       the same accounts in different orders and deadlock in PostgreSQL. */
    const char *base[] = {"partition.assignment.strategy=range", "enable.auto.commit=false",
                          "enable.auto.offset.store=false",      "auto.offset.reset=earliest",
                          "isolation.level=read_committed",      "session.timeout.ms=10000",
                          "heartbeat.interval.ms=1000",          NULL};
    char kv[3][512];
    snprintf(kv[0], sizeof(kv[0]), "bootstrap.servers=%s", brokers);
    snprintf(kv[1], sizeof(kv[1]), "group.id=%s", group_id);
    snprintf(kv[2], sizeof(kv[2]), "client.id=%s", client_id);
    const char *ids[] = {kv[0], kv[1], kv[2], NULL};
    rd_kafka_conf_t *conf = NULL;
    arr_err e = make_conf(base, ids, extra, &conf, errbuf, errlen);
    if (!e) {
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        rd_kafka_conf_set_opaque(conf, c);
        if (!(c->rk = new_handle(RD_KAFKA_CONSUMER, conf, "consumer", errbuf, errlen)))
            e = ARR_ECONFIG;
    }
    if (e) {
        free(c);
        return e;
    }
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(4);
    for (; topics && *topics; topics++)
        rd_kafka_topic_partition_list_add(sub, *topics, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        arr_errbuf_set(errbuf, errlen, "kafka subscribe: %s", rd_kafka_err2str(err));
        rd_kafka_destroy(c->rk);
        free(c);
        return ARR_EKAFKA;
    }
    *out = c;
    return ARR_OK;
}

arr_err arr_kafka_consumer_poll(arr_kafka_consumer *c, int timeout_ms, arr_kafka_msg *out,
                                char *errbuf, size_t errlen)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (!m)
        return ARR_ETIMEOUT;
    if (m->err) {
        arr_errbuf_set(errbuf, errlen, "kafka consume: %s", rd_kafka_message_errstr(m));
        int eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
        rd_kafka_message_destroy(m);
        return eof ? ARR_ETIMEOUT : ARR_EKAFKA;
    }
    out->rk = m;
    out->topic = rd_kafka_topic_name(m->rkt);
    out->partition = m->partition;
    out->offset = m->offset;
    out->key = m->key;
    out->key_len = m->key_len;
    out->value = m->payload;
    out->value_len = m->len;
    return ARR_OK;
}

arr_err arr_kafka_consumer_commit(arr_kafka_consumer *c, const arr_kafka_msg *msg, char *errbuf,
                                  size_t errlen)
{
    return arr_kafka_consumer_commit_msgs(c, msg, 1, errbuf, errlen);
}

arr_err arr_kafka_consumer_commit_msgs(arr_kafka_consumer *c, const arr_kafka_msg *msgs, int n,
                                       char *errbuf, size_t errlen)
{
    if (n <= 0)
        return ARR_OK;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++) {
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, msgs[i].topic, msgs[i].partition);
        if (!tp)
            tp = rd_kafka_topic_partition_list_add(l, msgs[i].topic, msgs[i].partition);
        if (msgs[i].offset + 1 > tp->offset)
            tp->offset = msgs[i].offset + 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, l, 0);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        arr_errbuf_set(errbuf, errlen, "kafka commit: %s", rd_kafka_err2str(err));
        return ARR_EKAFKA;
    }
    return ARR_OK;
}

arr_err arr_kafka_consumer_rewind(arr_kafka_consumer *c, char *errbuf, size_t errlen)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t err = rd_kafka_assignment(c->rk, &parts);
    if (!err && parts->cnt > 0)
        err = rd_kafka_committed(c->rk, parts, 10000);
    if (!err && parts->cnt > 0) {
        for (int i = 0; i < parts->cnt; i++) {
            if (parts->elems[i].offset < 0)
                parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_error_t *e = rd_kafka_seek_partitions(c->rk, parts, 10000);
        if (e) {
            arr_errbuf_set(errbuf, errlen, "kafka rewind: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rd_kafka_topic_partition_list_destroy(parts);
            return ARR_EKAFKA;
        }
    }
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (err) {
        arr_errbuf_set(errbuf, errlen, "kafka rewind: %s", rd_kafka_err2str(err));
        return ARR_EKAFKA;
    }
    return ARR_OK;
}

int arr_kafka_consumer_assigned(arr_kafka_consumer *c)
{
    return c->assigned;
}

rd_kafka_t *arr_kafka_consumer_handle(arr_kafka_consumer *c)
{
    return c->rk;
}

void arr_kafka_consumer_free(arr_kafka_consumer *c)
{
    if (!c)
        return;
    rd_kafka_consumer_close(c->rk);
    rd_kafka_destroy(c->rk);
    free(c);
}

/* Runs a transactional call again while the error says it may be retried. */
static arr_err txn_check(rd_kafka_error_t *e, const char *what, char *errbuf, size_t errlen,
                         int *retry)
{
    *retry = 0;
    if (!e)
        return ARR_OK;
    arr_errbuf_set(errbuf, errlen, "kafka %s: %s", what, rd_kafka_error_string(e));
    arr_err r = ARR_EKAFKA;
    if (rd_kafka_error_is_fatal(e))
        r = ARR_EFATAL;
    else if (rd_kafka_error_txn_requires_abort(e))
        r = ARR_EABORT;
    else if (rd_kafka_error_is_retriable(e))
        *retry = 1;
    rd_kafka_error_destroy(e);
    return r;
}

/* Creates the transactional producer and registers it with the coordinator, which aborts
 * whatever an earlier producer with the same id left open and fences it. */
static arr_err txn_open(arr_kafka_txn *t, char *errbuf, size_t errlen)
{
    const char *base[] = {"linger.ms=5", "compression.type=lz4", "transaction.timeout.ms=60000",
                          NULL};
    char kv[2][800];
    snprintf(kv[0], sizeof(kv[0]), "bootstrap.servers=%s", t->brokers);
    snprintf(kv[1], sizeof(kv[1]), "transactional.id=%s", t->transactional_id);
    const char *ids[] = {kv[0], kv[1], NULL};
    rd_kafka_conf_t *conf = NULL;
    arr_err e = make_conf(base, ids, NULL, &conf, errbuf, errlen);
    if (e)
        return e;
    if (!(t->rk = new_handle(RD_KAFKA_PRODUCER, conf, "txn producer", errbuf, errlen)))
        return ARR_ECONFIG;
    int retry;
    do {
        e = txn_check(rd_kafka_init_transactions(t->rk, 60000), "init_transactions", errbuf, errlen,
                      &retry);
    } while (retry);
    if (e) {
        rd_kafka_destroy(t->rk);
        t->rk = NULL;
    }
    return e;
}

arr_err arr_kafka_txn_new(arr_kafka_consumer *c, const char *brokers, const char *transactional_id,
                          arr_kafka_txn **out, char *errbuf, size_t errlen)
{
    if (strlen(brokers) >= sizeof(((arr_kafka_txn *)0)->brokers) ||
        strlen(transactional_id) >= sizeof(((arr_kafka_txn *)0)->transactional_id)) {
        arr_errbuf_set(errbuf, errlen, "kafka txn: brokers or transactional id too long");
        return ARR_ECONFIG;
    }
    arr_kafka_txn *t = calloc(1, sizeof(*t));
    if (!t)
        return ARR_ENOMEM;
    t->consumer = c;
    strcpy(t->brokers, brokers);
    strcpy(t->transactional_id, transactional_id);
    arr_err e = txn_open(t, errbuf, errlen);
    if (e) {
        free(t);
        return e;
    }
    *out = t;
    return ARR_OK;
}

arr_err arr_kafka_txn_produce(arr_kafka_txn *t, const char *topic, const char *key, size_t key_len,
                              const void *value, size_t value_len)
{
    return produce_on(t->rk, topic, key, key_len, value, value_len);
}

/* A fatal error is truly fatal only when another producer with our id took over (a zombie
 * must stop). Otherwise the producer is rebuilt: librdkafka can fail an abort that follows
 * a produce with INVALID_TXN_STATE (confluentinc/librdkafka#4849), and a new producer with
 * the same id aborts the broken transaction on the coordinator. */
static arr_err txn_recover(arr_kafka_txn *t, char *errbuf, size_t errlen)
{
    rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(t->rk, NULL, 0);
    if (fatal == RD_KAFKA_RESP_ERR__FENCED || fatal == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
        fatal == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
        return ARR_EFATAL;
    rd_kafka_destroy(t->rk);
    t->rk = NULL;
    return txn_open(t, errbuf, errlen) ? ARR_EFATAL : ARR_OK;
}

/* Ends a failed transaction and rewinds the consumer so its inputs come again. Returns
 * ARR_EABORT (redo), the transform's own error, or ARR_EFATAL when the process must stop. */
static arr_err txn_abort(arr_kafka_txn *t, arr_err cause, char *errbuf, size_t errlen)
{
    char why[256];
    int retry;
    arr_err e = ARR_EFATAL;
    if (!rd_kafka_fatal_error(t->rk, NULL, 0)) {
        /* Let in-flight produce requests settle before ending the transaction. */
        rd_kafka_flush(t->rk, 10000);
        do {
            e = txn_check(rd_kafka_abort_transaction(t->rk, 60000), "abort", why, sizeof(why),
                          &retry);
        } while (retry);
    }
    if (e == ARR_EFATAL && txn_recover(t, why, sizeof(why)) != ARR_OK) {
        arr_errbuf_set(errbuf, errlen, "%s", why);
        return ARR_EFATAL;
    }
    if (arr_kafka_consumer_rewind(t->consumer, why, sizeof(why)) != ARR_OK)
        return ARR_EFATAL; /* cannot guarantee redelivery: restart from committed offsets */
    return cause == ARR_EKAFKA || (cause == ARR_EFATAL && e == ARR_EFATAL) ? ARR_EABORT : cause;
}

static arr_err txn_commit(arr_kafka_txn *t, rd_kafka_topic_partition_list_t *offsets, char *errbuf,
                          size_t errlen)
{
    rd_kafka_consumer_group_metadata_t *gm = rd_kafka_consumer_group_metadata(t->consumer->rk);
    int retry;
    arr_err e;
    do {
        e = txn_check(rd_kafka_send_offsets_to_transaction(t->rk, offsets, gm, -1),
                      "send_offsets_to_transaction", errbuf, errlen, &retry);
    } while (retry);
    rd_kafka_consumer_group_metadata_destroy(gm);
    if (e)
        return e;
    do {
        e = txn_check(rd_kafka_commit_transaction(t->rk, -1), "commit_transaction", errbuf, errlen,
                      &retry);
    } while (retry);
    return e;
}

arr_err arr_kafka_txn_process(arr_kafka_txn *t, int max_msgs, int timeout_ms,
                              arr_kafka_transform_fn fn, void *opaque, int *processed, char *errbuf,
                              size_t errlen)
{
    return arr_kafka_txn_process_batch(t, max_msgs, timeout_ms, fn, NULL, opaque, processed, errbuf,
                                       errlen);
}

arr_err arr_kafka_txn_process_batch(arr_kafka_txn *t, int max_msgs, int timeout_ms,
                                    arr_kafka_transform_fn fn,
                                    arr_kafka_before_commit_fn before_commit, void *opaque,
                                    int *processed, char *errbuf, size_t errlen)
{
    *processed = 0;
    arr_kafka_msg m = {0};
    arr_err e = arr_kafka_consumer_poll(t->consumer, timeout_ms, &m, errbuf, errlen);
    if (e)
        return e;
    long revocations = t->consumer->revocations;
    int retry;
    e = txn_check(rd_kafka_begin_transaction(t->rk), "begin_transaction", errbuf, errlen, &retry);
    if (e) {
        arr_kafka_msg_release(&m);
        return txn_abort(t, e, errbuf, errlen);
    }
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(8);
    int n = 0;
    for (;;) {
        e = fn(opaque, &m, t);
        if (e)
            arr_errbuf_set(errbuf, errlen, "transform failed on %s[%d]@%lld: %s", m.topic,
                           (int)m.partition, (long long)m.offset, arr_strerror(e));
        if (!e) {
            rd_kafka_topic_partition_t *tp =
                rd_kafka_topic_partition_list_find(offsets, m.topic, m.partition);
            if (!tp)
                tp = rd_kafka_topic_partition_list_add(offsets, m.topic, m.partition);
            tp->offset = m.offset + 1;
            n++;
        }
        arr_kafka_msg_release(&m);
        if (e || n >= max_msgs)
            break;
        arr_err pe = arr_kafka_consumer_poll(t->consumer, 0, &m, errbuf, errlen);
        if (t->consumer->revocations != revocations) {
            if (!pe)
                arr_kafka_msg_release(&m);
            e = ARR_EABORT; /* partitions moved under the open transaction */
            arr_errbuf_set(errbuf, errlen, "partitions revoked during a transaction%s", "");
            break;
        }
        if (pe)
            break;
    }
    if (!e && before_commit)
        e = before_commit(opaque, t, errbuf, errlen);
    if (!e)
        e = txn_commit(t, offsets, errbuf, errlen);
    rd_kafka_topic_partition_list_destroy(offsets);
    if (e)
        return txn_abort(t, e, errbuf, errlen);
    *processed = n;
    return ARR_OK;
}

rd_kafka_t *arr_kafka_txn_handle(arr_kafka_txn *t)
{
    return t->rk;
}

void arr_kafka_txn_free(arr_kafka_txn *t)
{
    if (!t)
        return;
    if (t->rk)
        rd_kafka_destroy(t->rk);
    free(t);
}

arr_err arr_kafka_ping(rd_kafka_t *rk, int timeout_ms, char *errbuf, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
    if (err) {
        arr_errbuf_set(errbuf, errlen, "kafka: %s", rd_kafka_err2str(err));
        return err == RD_KAFKA_RESP_ERR__TIMED_OUT ? ARR_ETIMEOUT : ARR_EKAFKA;
    }
    int brokers = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    if (brokers < 1) {
        arr_errbuf_set(errbuf, errlen, "kafka: no broker in metadata%s", "");
        return ARR_EKAFKA;
    }
    return ARR_OK;
}
