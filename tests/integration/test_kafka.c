/* Integration tests of arr_kafka against the real broker of the stack (ARR_KAFKA_BROKERS).
 *
 * Every test creates its own topics (Admin API), consumer groups and transactional ids with
 * a random per-run token, so it can run repeatedly and next to other tests; the suite's fini
 * deletes the topics it created, also when an assertion failed. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arrears/kafka.h"

#define MAX_TOPICS 8

#define MAX_GROUPS 16

static char created[MAX_TOPICS][128];
static int n_created;
static char groups[MAX_GROUPS][128]; /* consumer groups used, deleted by the fini */
static int n_groups;

static const char *brokers(void)
{
    const char *b = getenv("ARR_KAFKA_BROKERS");
    if (!b || !*b)
        cr_assert_fail("ARR_KAFKA_BROKERS is not set: load var/stack.env (scripts/stack up) first");
    return b;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lower-case letters only, so the token fits every naming rule we meet. */
static void make_token(char *out, size_t len)
{
    unsigned char raw[32];
    FILE *f = fopen("/dev/urandom", "rb");
    cr_assert_not_null(f, "cannot open /dev/urandom");
    cr_assert_eq(fread(raw, 1, sizeof(raw), f), sizeof(raw));
    fclose(f);
    size_t i = 0;
    for (; i + 1 < len && i < sizeof(raw); i++)
        out[i] = (char)('a' + raw[i] % 26);
    out[i] = '\0';
}

static rd_kafka_t *admin_client(void)
{
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    cr_assert_eq(rd_kafka_conf_set(conf, "bootstrap.servers", brokers(), why, sizeof(why)),
                 RD_KAFKA_CONF_OK, "%s", why);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    cr_assert_not_null(rk, "admin client: %s", why);
    return rk;
}

/* Waits until the metadata shows the topic with `partitions` partitions, each with a leader. */
static void wait_topic_ready(rd_kafka_t *rk, const char *topic, int partitions)
{
    int64_t deadline = now_ms() + 20000;
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        int ready = 0;
        if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (int i = 0; i < md->topic_cnt; i++) {
                const rd_kafka_metadata_topic_t *t = &md->topics[i];
                if (strcmp(t->topic, topic) != 0 || t->err || t->partition_cnt != partitions)
                    continue;
                ready = 1;
                for (int p = 0; p < t->partition_cnt; p++) {
                    if (t->partitions[p].leader < 0 || t->partitions[p].err)
                        ready = 0;
                }
            }
            rd_kafka_metadata_destroy(md);
        }
        if (ready)
            return;
        cr_assert_lt(now_ms(), deadline, "topic %s not ready in metadata after 20 s", topic);
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Creates a topic with the Admin API and records it for deletion by the fini. */
static void create_topic(const char *topic, int partitions)
{
    cr_assert_lt(n_created, MAX_TOPICS);
    rd_kafka_t *rk = admin_client();
    char why[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, why, sizeof(why));
    cr_assert_not_null(nt, "NewTopic %s: %s", topic, why);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 15000, why, sizeof(why));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    cr_assert_not_null(ev, "CreateTopics %s: no result within 30 s", topic);
    cr_assert_eq(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR_NO_ERROR, "CreateTopics %s: %s", topic,
                 rd_kafka_event_error_string(ev));
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    cr_assert_not_null(res);
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
    cr_assert_eq(cnt, 1);
    cr_assert_eq(rd_kafka_topic_result_error(tr[0]), RD_KAFKA_RESP_ERR_NO_ERROR,
                 "CreateTopics %s: %s", topic, rd_kafka_topic_result_error_string(tr[0]));
    snprintf(created[n_created++], sizeof(created[0]), "%s", topic);
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    wait_topic_ready(rk, topic, partitions);
    rd_kafka_destroy(rk);
}

/* Suite fini: best-effort deletion of every topic and consumer group this test created
 * (a group still holding members, after a failed assertion, just stays). */
static void delete_created_topics(void)
{
    if (n_created == 0 && n_groups == 0)
        return;
    rd_kafka_t *rk = admin_client();
    if (n_groups > 0) {
        rd_kafka_DeleteGroup_t *dg[MAX_GROUPS];
        for (int i = 0; i < n_groups; i++)
            dg[i] = rd_kafka_DeleteGroup_new(groups[i]);
        rd_kafka_queue_t *gq = rd_kafka_queue_new(rk);
        rd_kafka_DeleteGroups(rk, dg, (size_t)n_groups, NULL, gq);
        rd_kafka_event_t *gev = rd_kafka_queue_poll(gq, 15000);
        if (gev)
            rd_kafka_event_destroy(gev);
        rd_kafka_DeleteGroup_destroy_array(dg, (size_t)n_groups);
        rd_kafka_queue_destroy(gq);
        n_groups = 0;
    }
    if (n_created == 0) {
        rd_kafka_destroy(rk);
        return;
    }
    rd_kafka_DeleteTopic_t *dt[MAX_TOPICS];
    for (int i = 0; i < n_created; i++)
        dt[i] = rd_kafka_DeleteTopic_new(created[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, dt, (size_t)n_created, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy_array(dt, (size_t)n_created);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    n_created = 0;
}

TestSuite(kafka, .fini = delete_created_topics, .timeout = 120);

static int64_t high_watermark(rd_kafka_t *rk, const char *topic, int32_t partition)
{
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic, partition, &lo, &hi, 10000);
    cr_assert_eq(err, RD_KAFKA_RESP_ERR_NO_ERROR, "watermarks %s[%d]: %s", topic, partition,
                 rd_kafka_err2str(err));
    return hi;
}

typedef struct rec {
    char key[64];
    char value[64];
    int32_t partition;
    int64_t offset;
} rec;

static void copy_field(char *dst, size_t cap, const char *src, size_t len)
{
    if (!src)
        len = 0;
    if (len >= cap)
        len = cap - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Polls until the member owns `parts` partitions and `want` records arrived, then keeps
 * polling for quiet_ms to catch extras (duplicates or leftovers); gives up at total_ms.
 * Returns the number of records received; at most cap are stored in out. */
static int consume(arr_kafka_consumer *c, int parts, rec *out, int cap, int want, int total_ms,
                   int quiet_ms)
{
    int n = 0;
    int64_t deadline = now_ms() + total_ms;
    int64_t quiet_end = -1;
    char err[512];
    for (;;) {
        int64_t t = now_ms();
        if (t >= deadline || (quiet_end >= 0 && t >= quiet_end))
            break;
        arr_kafka_msg m = {0};
        arr_err e = arr_kafka_consumer_poll(c, 100, &m, err, sizeof(err));
        if (e == ARR_OK) {
            if (n < cap) {
                copy_field(out[n].key, sizeof(out[n].key), m.key, m.key_len);
                copy_field(out[n].value, sizeof(out[n].value), m.value, m.value_len);
                out[n].partition = m.partition;
                out[n].offset = m.offset;
            }
            n++;
            arr_kafka_msg_release(&m);
        }
        /* other results: a timeout, or a transient consumer error right after creation */
        if (quiet_end < 0 && n >= want && arr_kafka_consumer_assigned(c) >= parts)
            quiet_end = now_ms() + quiet_ms;
    }
    return n;
}

static arr_kafka_consumer *new_consumer(const char *group, const char *topic)
{
    int known = 0;
    for (int i = 0; i < n_groups; i++)
        known |= strcmp(groups[i], group) == 0;
    if (!known && n_groups < MAX_GROUPS)
        snprintf(groups[n_groups++], sizeof(groups[0]), "%s", group);
    const char *topics[] = {topic, NULL};
    arr_kafka_consumer *c = NULL;
    char err[512] = "";
    arr_err e = arr_kafka_consumer_new(brokers(), group, "arrears-test", topics, NULL, &c, err,
                                       sizeof(err));
    cr_assert_eq(e, ARR_OK, "consumer_new(%s): %s", group, err);
    cr_assert_not_null(c);
    return c;
}

static arr_kafka_producer *new_producer(const char *const *extra)
{
    arr_kafka_producer *p = NULL;
    char err[512] = "";
    arr_err e = arr_kafka_producer_new(brokers(), "arrears-test", extra, &p, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "producer_new: %s", err);
    cr_assert_not_null(p);
    return p;
}

/* Produces "m-<i>" values keyed "k<i % keys>" and waits for all acknowledgements. */
static void produce_inputs(const char *topic, int n, int keys)
{
    arr_kafka_producer *p = new_producer(NULL);
    for (int i = 0; i < n; i++) {
        char key[32], value[32];
        snprintf(key, sizeof(key), "k%d", i % keys);
        snprintf(value, sizeof(value), "m-%d", i);
        cr_assert_eq(arr_kafka_produce(p, topic, key, strlen(key), value, strlen(value)), ARR_OK);
    }
    char err[512] = "";
    cr_assert_eq(arr_kafka_producer_flush(p, 20000, err, sizeof(err)), ARR_OK, "flush: %s", err);
    arr_kafka_producer_free(p);
}

/* counts[i] = occurrences of "m-<i>" among recs; fails on a value outside m-0..m-(n-1). */
static void count_values(const rec *recs, int n_recs, int *counts, int n)
{
    memset(counts, 0, sizeof(int) * (size_t)n);
    for (int i = 0; i < n_recs; i++) {
        int v = -1;
        cr_assert_eq(sscanf(recs[i].value, "m-%d", &v), 1, "unexpected value '%s'", recs[i].value);
        cr_assert(v >= 0 && v < n, "value '%s' out of range", recs[i].value);
        counts[v]++;
    }
}

/* ---- (a) idempotent producer, consumer group, commits ------------------------------------ */

#define A_MSGS 300
#define A_KEYS 10

Test(kafka, producer_and_consumer_group_commits)
{
    char tok[11], topic[96], group[96], group2[96];
    make_token(tok, sizeof(tok));
    snprintf(topic, sizeof(topic), "arrears-test-kafka-%s", tok);
    snprintf(group, sizeof(group), "arrears-test-kafka-%s-g1", tok);
    snprintf(group2, sizeof(group2), "arrears-test-kafka-%s-g2", tok);
    create_topic(topic, 3);

    arr_kafka_producer *p = new_producer(NULL);
    int seq[A_KEYS] = {0};
    for (int i = 0; i < A_MSGS; i++) {
        int k = i % A_KEYS;
        char key[16], value[32];
        snprintf(key, sizeof(key), "key-%d", k);
        snprintf(value, sizeof(value), "key-%d:%d", k, seq[k]++);
        cr_assert_eq(arr_kafka_produce(p, topic, key, strlen(key), value, strlen(value)), ARR_OK);
    }
    char err[512] = "";
    cr_assert_eq(arr_kafka_producer_flush(p, 20000, err, sizeof(err)), ARR_OK, "flush: %s", err);
    cr_expect_eq(arr_kafka_ping(arr_kafka_producer_handle(p), 5000, err, sizeof(err)), ARR_OK, "%s",
                 err);
    int64_t total = 0;
    for (int part = 0; part < 3; part++)
        total += high_watermark(arr_kafka_producer_handle(p), topic, part);
    cr_assert_eq(total, A_MSGS, "the log holds %lld messages, not %d (duplicates?)",
                 (long long)total, A_MSGS);

    /* First member: everything, per-key order kept. */
    static rec got[A_MSGS * 2];
    arr_kafka_consumer *c1 = new_consumer(group, topic);
    int n = consume(c1, 3, got, A_MSGS * 2, A_MSGS, 30000, 1500);
    cr_assert_eq(n, A_MSGS, "first consumer read %d of %d messages", n, A_MSGS);
    cr_expect_eq(arr_kafka_consumer_assigned(c1), 3);
    int next[A_KEYS] = {0};
    int32_t key_part[A_KEYS];
    int64_t last_off[3] = {-1, -1, -1};
    int parts_used = 0;
    for (int i = 0; i < A_KEYS; i++)
        key_part[i] = -1;
    for (int i = 0; i < n; i++) {
        int k = -1, s = -1;
        cr_assert_eq(sscanf(got[i].value, "key-%d:%d", &k, &s), 2, "value '%s'", got[i].value);
        cr_assert(k >= 0 && k < A_KEYS);
        char want_key[16];
        snprintf(want_key, sizeof(want_key), "key-%d", k);
        cr_assert_str_eq(got[i].key, want_key);
        cr_assert_eq(s, next[k], "key %d: got sequence %d, expected %d (order broken)", k, s,
                     next[k]);
        next[k]++;
        if (key_part[k] < 0)
            key_part[k] = got[i].partition;
        cr_assert_eq(got[i].partition, key_part[k], "key %d spread over partitions", k);
        cr_assert(got[i].partition >= 0 && got[i].partition < 3);
        if (last_off[got[i].partition] < 0)
            parts_used++;
        cr_assert_gt(got[i].offset, last_off[got[i].partition]);
        last_off[got[i].partition] = got[i].offset;
    }
    for (int k = 0; k < A_KEYS; k++)
        cr_assert_eq(next[k], A_MSGS / A_KEYS, "key %d: %d messages", k, next[k]);
    cr_expect_geq(parts_used, 2, "10 keys should land on more than one partition");

    /* Commit: the partition of the first record with arr_kafka_consumer_commit (its last
     * offset), the others with arr_kafka_consumer_commit_msgs given every record of theirs
     * newest first, so it has to pick the highest offset itself. */
    int32_t single = got[0].partition;
    arr_kafka_msg m = {.topic = topic, .partition = single, .offset = last_off[single]};
    cr_assert_eq(arr_kafka_consumer_commit(c1, &m, err, sizeof(err)), ARR_OK, "commit: %s", err);
    static arr_kafka_msg batch[A_MSGS];
    int nb = 0;
    for (int i = n - 1; i >= 0; i--) {
        if (got[i].partition != single)
            batch[nb++] = (arr_kafka_msg){
                .topic = topic, .partition = got[i].partition, .offset = got[i].offset};
    }
    cr_assert_eq(arr_kafka_consumer_commit_msgs(c1, batch, nb, err, sizeof(err)), ARR_OK,
                 "commit_msgs: %s", err);
    cr_assert_eq(arr_kafka_consumer_commit_msgs(c1, batch, 0, err, sizeof(err)), ARR_OK);
    arr_kafka_consumer_free(c1);

    /* Second member of the same group: the committed offsets are honoured. */
    arr_kafka_consumer *c2 = new_consumer(group, topic);
    static rec again[A_MSGS];
    int n_again = consume(c2, 3, again, A_MSGS, 0, 20000, 3000);
    cr_assert_eq(arr_kafka_consumer_assigned(c2), 3, "second member owns %d partitions",
                 arr_kafka_consumer_assigned(c2));
    cr_assert_eq(n_again, 0, "a member of the committed group re-read %d messages (first '%s')",
                 n_again, n_again ? again[0].value : "");
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(3);
    for (int part = 0; part < 3; part++)
        rd_kafka_topic_partition_list_add(parts, topic, part);
    cr_assert_eq(rd_kafka_committed(arr_kafka_consumer_handle(c2), parts, 10000),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int part = 0; part < 3; part++) {
        int64_t hi = high_watermark(arr_kafka_producer_handle(p), topic, part);
        cr_expect_eq(parts->elems[part].offset, hi, "partition %d: committed %lld, end %lld", part,
                     (long long)parts->elems[part].offset, (long long)hi);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    arr_kafka_consumer_free(c2);

    /* A new group starts from the beginning and gets everything again. */
    arr_kafka_consumer *c3 = new_consumer(group2, topic);
    n = consume(c3, 3, got, A_MSGS * 2, A_MSGS, 30000, 1000);
    cr_assert_eq(n, A_MSGS, "a new group read %d of %d messages", n, A_MSGS);
    arr_kafka_consumer_free(c3);
    arr_kafka_producer_free(p);
}

/* ---- (b) consume-transform-produce in one transaction ------------------------------------- */

typedef struct copy_state {
    const char *out_topic;
    /* fault test: raise this fatal producer error on fault_value, once */
    const char *fault_value;
    rd_kafka_resp_err_t fault;
    int calls;
    /* abort test: fail once on this value */
    const char *fail_value;
    int fail_left;
    int fail_seen;
    int batch_n;
    char batch[128][64];
} copy_state;

static arr_err copy_transform(void *opaque, const arr_kafka_msg *in, arr_kafka_txn *txn)
{
    copy_state *st = opaque;
    st->calls++;
    char value[64];
    copy_field(value, sizeof(value), in->value, in->value_len);
    if (st->batch_n < 128)
        snprintf(st->batch[st->batch_n++], sizeof(st->batch[0]), "%s", value);
    if (st->fault_value && strcmp(value, st->fault_value) == 0 && st->fault) {
        arr_err e = arr_kafka_txn_produce(txn, st->out_topic, in->key, in->key_len, in->value,
                                          in->value_len);
        /* librdkafka's own fault injection: the producer turns fatal mid-transaction. It is
         * raised once the produce (and its AddPartitionsToTxn) completed: injected while that
         * request was in flight, librdkafka 2.0.2 once aborted on its own assertion
         * (txn_req_cnt > 0 in rd_kafka_txn_handle_AddPartitionsToTxn). */
        rd_kafka_flush(arr_kafka_txn_handle(txn), 10000);
        rd_kafka_test_fatal_error(arr_kafka_txn_handle(txn), st->fault, "injected by the test");
        st->fault = RD_KAFKA_RESP_ERR_NO_ERROR;
        return e;
    }
    if (st->fail_value && strcmp(value, st->fail_value) == 0) {
        st->fail_seen++;
        if (st->fail_left > 0) {
            st->fail_left--;
            return ARR_EPG; /* e.g. the database refused the write */
        }
    }
    return arr_kafka_txn_produce(txn, st->out_topic, in->key, in->key_len, in->value,
                                 in->value_len);
}

/* A read_committed reader in a fresh group; returns how many records it stored. */
static int read_output(const char *topic, const char *group, rec *out, int cap, int want,
                       int quiet_ms)
{
    arr_kafka_consumer *c = new_consumer(group, topic);
    int n = consume(c, 3, out, cap, want, 30000, quiet_ms);
    cr_assert_eq(arr_kafka_consumer_assigned(c), 3, "reader of %s owns %d partitions", topic,
                 arr_kafka_consumer_assigned(c));
    arr_kafka_consumer_free(c);
    return n;
}

#define B_MSGS 60

Test(kafka, transaction_copies_each_input_once)
{
    char tok[11], in[96], out[96], group[96], txid[96], rgroup[96];
    make_token(tok, sizeof(tok));
    snprintf(in, sizeof(in), "arrears-test-txn-%s-in", tok);
    snprintf(out, sizeof(out), "arrears-test-txn-%s-out", tok);
    snprintf(group, sizeof(group), "arrears-test-txn-%s-g", tok);
    snprintf(txid, sizeof(txid), "arrears-test-txn-%s", tok);
    snprintf(rgroup, sizeof(rgroup), "arrears-test-txn-%s-reader", tok);
    create_topic(in, 3);
    create_topic(out, 3);
    produce_inputs(in, B_MSGS, 6);

    arr_kafka_consumer *c = new_consumer(group, in);
    arr_kafka_txn *t = NULL;
    char err[512] = "";
    cr_assert_eq(arr_kafka_txn_new(c, brokers(), txid, &t, err, sizeof(err)), ARR_OK, "txn_new: %s",
                 err);
    copy_state st = {.out_topic = out};
    int total = 0;
    int64_t deadline = now_ms() + 40000;
    while (total < B_MSGS && now_ms() < deadline) {
        int processed = -1;
        st.batch_n = 0;
        arr_err e =
            arr_kafka_txn_process(t, 25, 500, copy_transform, &st, &processed, err, sizeof(err));
        if (e == ARR_ETIMEOUT) {
            cr_assert_eq(processed, 0);
            continue;
        }
        cr_assert_eq(e, ARR_OK, "txn_process: %s (%s)", arr_strerror(e), err);
        cr_assert(processed > 0 && processed <= 25, "processed %d", processed);
        cr_assert_eq(processed, st.batch_n);
        total += processed;
    }
    cr_assert_eq(total, B_MSGS, "processed %d of %d inputs", total, B_MSGS);
    cr_expect_eq(st.calls, B_MSGS);

    /* The group's offsets were committed with the transaction: they equal the end offsets. */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(3);
    for (int part = 0; part < 3; part++)
        rd_kafka_topic_partition_list_add(parts, in, part);
    cr_assert_eq(rd_kafka_committed(arr_kafka_consumer_handle(c), parts, 10000),
                 RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int part = 0; part < 3; part++) {
        int64_t hi = high_watermark(arr_kafka_consumer_handle(c), in, part);
        cr_expect_eq(parts->elems[part].offset, hi, "partition %d: committed %lld, end %lld", part,
                     (long long)parts->elems[part].offset, (long long)hi);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    arr_kafka_txn_free(t);
    arr_kafka_consumer_free(c);

    static rec got[B_MSGS * 2];
    int n = read_output(out, rgroup, got, B_MSGS * 2, B_MSGS, 2000);
    cr_assert_eq(n, B_MSGS, "read_committed reader saw %d outputs, expected %d", n, B_MSGS);
    int counts[B_MSGS];
    count_values(got, n, counts, B_MSGS);
    for (int i = 0; i < B_MSGS; i++)
        cr_assert_eq(counts[i], 1, "m-%d appears %d times in the output", i, counts[i]);
    /* The copy kept the keys. */
    for (int i = 0; i < n; i++) {
        int v = atoi(got[i].value + 2);
        char want_key[16];
        snprintf(want_key, sizeof(want_key), "k%d", v % 6);
        cr_assert_str_eq(got[i].key, want_key);
    }
}

/* ---- a fatal producer error mid-transaction is recovered, unless the producer was fenced -- */

#define C_FAULT_MSGS 20

/* Runs the copy until every input went through or a fatal error stops it; returns the number
 * of aborts seen and sets *fatal when the helper reported ARR_EFATAL. */
static int run_copy_with_fault(const char *tag, rd_kafka_resp_err_t fault, int *fatal,
                               const char **out_topic_out, char out_topic[96])
{
    char tok[11], in[96], group[96], txid[96];
    make_token(tok, sizeof(tok));
    snprintf(in, sizeof(in), "arrears-test-%s-%s-in", tag, tok);
    snprintf(out_topic, 96, "arrears-test-%s-%s-out", tag, tok);
    snprintf(group, sizeof(group), "arrears-test-%s-%s-g", tag, tok);
    snprintf(txid, sizeof(txid), "arrears-test-%s-%s", tag, tok);
    create_topic(in, 3);
    create_topic(out_topic, 3);
    produce_inputs(in, C_FAULT_MSGS, 3);
    *out_topic_out = out_topic;

    arr_kafka_consumer *c = new_consumer(group, in);
    arr_kafka_txn *t = NULL;
    char err[512] = "";
    cr_assert_eq(arr_kafka_txn_new(c, brokers(), txid, &t, err, sizeof(err)), ARR_OK, "txn_new: %s",
                 err);
    copy_state st = {.out_topic = out_topic, .fault_value = "m-9", .fault = fault};
    int total = 0, aborts = 0;
    *fatal = 0;
    int64_t deadline = now_ms() + 40000;
    while (total < C_FAULT_MSGS && now_ms() < deadline && !*fatal) {
        int processed = 0;
        arr_err e =
            arr_kafka_txn_process(t, 5, 500, copy_transform, &st, &processed, err, sizeof(err));
        if (e == ARR_EABORT)
            aborts++;
        else if (e == ARR_EFATAL)
            *fatal = 1;
        else if (e != ARR_ETIMEOUT)
            cr_assert_eq(e, ARR_OK, "txn_process: %s (%s)", arr_strerror(e), err);
        total += processed;
    }
    if (!*fatal)
        cr_assert_eq(total, C_FAULT_MSGS, "processed %d of %d inputs", total, C_FAULT_MSGS);
    arr_kafka_txn_free(t);
    arr_kafka_consumer_free(c);
    return aborts;
}

Test(kafka, fatal_producer_error_is_recovered_exactly_once)
{
    char out[96], rgroup[128];
    const char *out_topic;
    int fatal;
    int aborts =
        run_copy_with_fault("fault", RD_KAFKA_RESP_ERR_INVALID_TXN_STATE, &fatal, &out_topic, out);
    cr_assert_eq(fatal, 0, "a non-fencing fatal error stopped the helper");
    cr_assert_eq(aborts, 1, "expected one aborted (then redone) batch, saw %d", aborts);
    snprintf(rgroup, sizeof(rgroup), "%s-reader", out_topic);
    static rec got[C_FAULT_MSGS * 2];
    int n = read_output(out_topic, rgroup, got, C_FAULT_MSGS * 2, C_FAULT_MSGS, 2000);
    cr_assert_eq(n, C_FAULT_MSGS, "read_committed reader saw %d outputs, expected %d", n,
                 C_FAULT_MSGS);
    int counts[C_FAULT_MSGS];
    count_values(got, n, counts, C_FAULT_MSGS);
    for (int i = 0; i < C_FAULT_MSGS; i++)
        cr_assert_eq(counts[i], 1, "m-%d appears %d times in the output", i, counts[i]);
}

Test(kafka, fenced_producer_is_fatal)
{
    char out[96];
    const char *out_topic;
    int fatal;
    run_copy_with_fault("fenced", RD_KAFKA_RESP_ERR__FENCED, &fatal, &out_topic, out);
    cr_assert_eq(fatal, 1, "a fenced producer must stop the process");
}

/* ---- (c) a failing transform aborts the batch, which is redelivered ----------------------- */

#define C_MSGS 30

Test(kafka, transaction_abort_rewinds_and_hides_outputs)
{
    char tok[11], in[96], out[96], group[96], txid[96], rgroup[96];
    make_token(tok, sizeof(tok));
    snprintf(in, sizeof(in), "arrears-test-abort-%s-in", tok);
    snprintf(out, sizeof(out), "arrears-test-abort-%s-out", tok);
    snprintf(group, sizeof(group), "arrears-test-abort-%s-g", tok);
    snprintf(txid, sizeof(txid), "arrears-test-abort-%s", tok);
    create_topic(in, 3);
    create_topic(out, 3);
    produce_inputs(in, C_MSGS, 3);

    arr_kafka_consumer *c = new_consumer(group, in);
    arr_kafka_txn *t = NULL;
    char err[512] = "";
    cr_assert_eq(arr_kafka_txn_new(c, brokers(), txid, &t, err, sizeof(err)), ARR_OK, "txn_new: %s",
                 err);
    copy_state st = {.out_topic = out, .fail_value = "m-16", .fail_left = 1};
    static char committed_vals[C_MSGS][64];
    int total = 0, aborts = 0, n_aborted = 0;
    static char aborted[128][64];
    int64_t deadline = now_ms() + 40000;
    while (total < C_MSGS && now_ms() < deadline) {
        int processed = -1;
        st.batch_n = 0;
        /* Small batches, so some commit before the failing one and the rewind has to go
         * back to committed offsets rather than to the beginning. */
        arr_err e =
            arr_kafka_txn_process(t, 4, 500, copy_transform, &st, &processed, err, sizeof(err));
        if (e == ARR_ETIMEOUT)
            continue;
        if (e == ARR_EPG) {
            aborts++;
            cr_assert_eq(processed, 0, "an aborted batch counts %d processed", processed);
            n_aborted = st.batch_n;
            cr_log_info("aborted batch of %d inputs after %d committed: %s", n_aborted, total, err);
            memcpy(aborted, st.batch, sizeof(aborted));
            cr_assert_str_eq(aborted[n_aborted - 1], "m-16", "the batch stopped at '%s'",
                             aborted[n_aborted - 1]);

            /* Nothing of the aborted batch is visible to read_committed readers. */
            static rec seen[C_MSGS * 2];
            char g[128];
            snprintf(g, sizeof(g), "arrears-test-abort-%s-mid", tok);
            int n = read_output(out, g, seen, C_MSGS * 2, total, 2500);
            cr_assert_eq(n, total, "after the abort a reader saw %d outputs, %d were committed", n,
                         total);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n_aborted; j++)
                    cr_assert_str_neq(seen[i].value, aborted[j],
                                      "output of the aborted batch is visible: %s", aborted[j]);
            }
            continue;
        }
        cr_assert_eq(e, ARR_OK, "txn_process: %s (%s)", arr_strerror(e), err);
        for (int i = 0; i < st.batch_n && total + i < C_MSGS; i++)
            snprintf(committed_vals[total + i], sizeof(committed_vals[0]), "%s", st.batch[i]);
        total += processed;
    }
    cr_assert_eq(aborts, 1, "the transform failed %d times, expected once", aborts);
    cr_assert_eq(st.fail_seen, 2, "m-16 was transformed %d times (redelivery after abort?)",
                 st.fail_seen);
    cr_assert_eq(total, C_MSGS, "processed %d of %d inputs", total, C_MSGS);
    /* Every input of the aborted batch was processed again after the rewind. */
    for (int j = 0; j < n_aborted; j++) {
        int found = 0;
        for (int i = 0; i < total; i++)
            found += strcmp(committed_vals[i], aborted[j]) == 0;
        cr_assert_eq(found, 1, "%s of the aborted batch committed %d times", aborted[j], found);
    }
    arr_kafka_txn_free(t);
    arr_kafka_consumer_free(c);

    snprintf(rgroup, sizeof(rgroup), "arrears-test-abort-%s-reader", tok);
    static rec got[C_MSGS * 2];
    int n = read_output(out, rgroup, got, C_MSGS * 2, C_MSGS, 2000);
    cr_assert_eq(n, C_MSGS, "read_committed reader saw %d outputs, expected %d", n, C_MSGS);
    int counts[C_MSGS];
    count_values(got, n, counts, C_MSGS);
    for (int i = 0; i < C_MSGS; i++)
        cr_assert_eq(counts[i], 1, "m-%d appears %d times in the output", i, counts[i]);
}

/* ---- (d) delivery failures surface from flush ------------------------------------------------ */

Test(kafka, flush_reports_delivery_failure)
{
    char tok[11], missing[96], real[96];
    make_token(tok, sizeof(tok));
    /* The broker has auto.create.topics.enable=false: this topic never comes into being. */
    snprintf(missing, sizeof(missing), "arrears-test-missing-%s", tok);
    snprintf(real, sizeof(real), "arrears-test-flush-%s", tok);
    create_topic(real, 1);

    const char *extra[] = {"message.timeout.ms=3000", NULL};
    arr_kafka_producer *p = new_producer(extra);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(arr_kafka_produce(p, missing, "k", 1, "lost", 4), ARR_OK);
    char err[512] = "";
    int64_t t0 = now_ms();
    arr_err e = arr_kafka_producer_flush(p, 15000, err, sizeof(err));
    int64_t took = now_ms() - t0;
    cr_assert(e == ARR_EKAFKA || e == ARR_ETIMEOUT,
              "flush of undeliverable messages returned %s (%d), message '%s'", arr_strerror(e),
              (int)e, err);
    cr_assert_neq(err[0], '\0', "no error message");
    cr_log_info("flush of undeliverable messages: %s after %lld ms: %s", arr_strerror(e),
                (long long)took, err);
    cr_expect_lt(took, 14000, "flush took %lld ms", (long long)took);
    if (e == ARR_EKAFKA) {
        cr_expect(strstr(err, missing) != NULL, "message does not name the topic: %s", err);
        cr_expect(strstr(err, "3 failed") != NULL, "message does not count 3 failures: %s", err);
    }

    /* The failure was reported once: the next good flush is clean. */
    cr_assert_eq(arr_kafka_produce(p, real, "k", 1, "ok", 2), ARR_OK);
    err[0] = '\0';
    e = arr_kafka_producer_flush(p, 15000, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "flush after a reported failure: %s (%s)", arr_strerror(e), err);
    cr_assert_eq(high_watermark(arr_kafka_producer_handle(p), real, 0), 1);
    arr_kafka_producer_free(p);
}

/* ---- (e) ping ------------------------------------------------------------------------------ */

Test(kafka, ping_live_and_dead_broker)
{
    arr_kafka_producer *p = new_producer(NULL);
    char err[512] = "";
    cr_assert_eq(arr_kafka_ping(arr_kafka_producer_handle(p), 5000, err, sizeof(err)), ARR_OK,
                 "ping: %s", err);
    arr_kafka_producer_free(p);

    arr_kafka_producer *dead = NULL;
    cr_assert_eq(
        arr_kafka_producer_new("127.0.0.1:1", "arrears-test", NULL, &dead, err, sizeof(err)),
        ARR_OK, "producer_new is lazy and should not fail: %s", err);
    err[0] = '\0';
    int64_t t0 = now_ms();
    arr_err e = arr_kafka_ping(arr_kafka_producer_handle(dead), 2000, err, sizeof(err));
    int64_t took = now_ms() - t0;
    cr_assert_neq(e, ARR_OK, "ping of 127.0.0.1:1 succeeded");
    cr_expect(e == ARR_ETIMEOUT || e == ARR_EKAFKA, "ping returned %s", arr_strerror(e));
    cr_assert_neq(err[0], '\0', "no error message");
    cr_log_info("ping of a dead broker: %s after %lld ms: %s", arr_strerror(e), (long long)took,
                err);
    cr_assert_lt(took, 5000, "ping of a dead broker took %lld ms", (long long)took);
    arr_kafka_producer_free(dead);
}

/* ---- fencing: a second producer with the same transactional id stops the first ------------ */

#define F_MSGS 20

Test(kafka, newer_transactional_producer_fences_the_older)
{
    char tok[11], in[96], out[96], group[96], txid[96], rgroup[96];
    make_token(tok, sizeof(tok));
    snprintf(in, sizeof(in), "arrears-test-fence-%s-in", tok);
    snprintf(out, sizeof(out), "arrears-test-fence-%s-out", tok);
    snprintf(group, sizeof(group), "arrears-test-fence-%s-g", tok);
    snprintf(txid, sizeof(txid), "arrears-test-fence-%s", tok);
    snprintf(rgroup, sizeof(rgroup), "arrears-test-fence-%s-reader", tok);
    create_topic(in, 3);
    create_topic(out, 3);
    produce_inputs(in, F_MSGS, 4);

    char err[512] = "";
    arr_kafka_consumer *c_old = new_consumer(group, in);
    arr_kafka_txn *t_old = NULL;
    cr_assert_eq(arr_kafka_txn_new(c_old, brokers(), txid, &t_old, err, sizeof(err)), ARR_OK,
                 "txn_new: %s", err);
    /* The replica restarts: its new life initialises the same transactional id. (It reads
     * in a group of its own so that the zombie's group membership does not matter here; the
     * zombie commits nothing, so both start from the beginning.) */
    arr_kafka_txn *t_new = NULL;
    char group2[128];
    snprintf(group2, sizeof(group2), "%s-new", group);
    arr_kafka_consumer *c_new = new_consumer(group2, in);
    cr_assert_eq(arr_kafka_txn_new(c_new, brokers(), txid, &t_new, err, sizeof(err)), ARR_OK,
                 "txn_new (second): %s", err);

    /* The old life must stop at its next transaction rather than write anything. */
    copy_state st_old = {.out_topic = out};
    arr_err e = ARR_ETIMEOUT;
    int processed = -1;
    int64_t deadline = now_ms() + 20000;
    while (e == ARR_ETIMEOUT && now_ms() < deadline) {
        st_old.batch_n = 0;
        e = arr_kafka_txn_process(t_old, 10, 500, copy_transform, &st_old, &processed, err,
                                  sizeof(err));
    }
    cr_log_info("fenced producer: %s: %s", arr_strerror(e), err);
    cr_assert_eq(e, ARR_EFATAL, "a fenced producer's transaction gave %s (%s)", arr_strerror(e),
                 err);
    cr_expect_eq(processed, 0);
    arr_kafka_txn_free(t_old);
    arr_kafka_consumer_free(c_old);

    /* The new life processes everything, once. */
    copy_state st = {.out_topic = out};
    int total = 0;
    deadline = now_ms() + 30000;
    while (total < F_MSGS && now_ms() < deadline) {
        processed = 0;
        e = arr_kafka_txn_process(t_new, 10, 500, copy_transform, &st, &processed, err,
                                  sizeof(err));
        if (e == ARR_ETIMEOUT)
            continue;
        cr_assert_eq(e, ARR_OK, "txn_process (new life): %s (%s)", arr_strerror(e), err);
        total += processed;
    }
    cr_assert_eq(total, F_MSGS, "the new life processed %d of %d", total, F_MSGS);
    arr_kafka_txn_free(t_new);
    arr_kafka_consumer_free(c_new);

    static rec got[F_MSGS * 2];
    int n = read_output(out, rgroup, got, F_MSGS * 2, F_MSGS, 2000);
    cr_assert_eq(n, F_MSGS, "read_committed reader saw %d outputs, expected %d", n, F_MSGS);
    int counts[F_MSGS];
    count_values(got, n, counts, F_MSGS);
    for (int i = 0; i < F_MSGS; i++)
        cr_assert_eq(counts[i], 1, "m-%d appears %d times in the output", i, counts[i]);
}
