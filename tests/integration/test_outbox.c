/* Integration tests of the transactional outbox and inbox (arr_outbox) against the real
 * PostgreSQL and Kafka of the stack.
 *
 * Each test creates a scratch schema test_outbox_<random> holding outbox and inbox tables
 * defined as in deploy/sql/001_foundation.sql, and its own topic; the suite's fini drops the
 * schema and deletes the topic, also when an assertion failed. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arrears/kafka.h"
#include "arrears/outbatch.h"
#include "arrears/outbox.h"
#include "arrears/pg.h"

static char schema[64];
static char topic[128];
static int topic_created;
static char groups[8][192]; /* reader groups, deleted by the fini */
static int n_groups;
static arr_pg *admin;

static const char *env_or_fail(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        cr_assert_fail("%s is not set: load var/stack.env (scripts/stack up) first", name);
    return v;
}

static const char *brokers(void)
{
    return env_or_fail("ARR_KAFKA_BROKERS");
}

static const char *conninfo(void)
{
    return env_or_fail("ARR_PG_CONNINFO");
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

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

/* ---- PostgreSQL helpers ------------------------------------------------------------------- */

static arr_pg *pg_connect_or_fail(void)
{
    arr_pg *pg = NULL;
    char err[512] = "";
    arr_err e = arr_pg_connect(conninfo(), &pg, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "connect: %s (%s)", arr_strerror(e), err);
    return pg;
}

static void exec_ok(arr_pg *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void exec_ok(arr_pg *pg, const char *fmt, ...)
{
    char sql[2048], err[512] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    arr_err e = arr_pg_exec(pg, sql, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "%s: %s (%s)", sql, arr_strerror(e), err);
}

static long outbox_rows(arr_pg *pg)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.outbox", schema);
    PGresult *res = PQexec(arr_pg_conn(pg), sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static arr_pg *outbox_conn(void)
{
    arr_pg *pg = pg_connect_or_fail();
    char err[512] = "";
    arr_err e = arr_outbox_prepare(pg, schema, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "outbox_prepare: %s (%s)", arr_strerror(e), err);
    return pg;
}

/* Adds n rows "<key>:<seq>" in one committed transaction, keys k0..k(keys-1) in rotation.
 * seq continues per key from *next (an array of `keys` counters). */
static void add_committed(arr_pg *pg, int n, int keys, int *next)
{
    char err[512] = "";
    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    for (int i = 0; i < n; i++) {
        int k = i % keys;
        char key[16], value[48];
        snprintf(key, sizeof(key), "k%d", k);
        snprintf(value, sizeof(value), "k%d:%d", k, next[k]++);
        arr_err e = arr_outbox_add(pg, schema, topic, key, value, err, sizeof(err));
        cr_assert_eq(e, ARR_OK, "outbox_add: %s (%s)", arr_strerror(e), err);
    }
    cr_assert_eq(arr_pg_commit(pg, err, sizeof(err)), ARR_OK, "commit: %s", err);
}

/* ---- Kafka helpers ------------------------------------------------------------------------ */

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

static void create_topic(const char *name, int partitions)
{
    rd_kafka_t *rk = admin_client();
    char why[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, partitions, 1, why, sizeof(why));
    cr_assert_not_null(nt, "NewTopic %s: %s", name, why);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    cr_assert_not_null(ev, "CreateTopics %s: no result within 30 s", name);
    cr_assert_eq(rd_kafka_event_error(ev), RD_KAFKA_RESP_ERR_NO_ERROR, "CreateTopics: %s",
                 rd_kafka_event_error_string(ev));
    size_t cnt = 0;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    cr_assert_eq(cnt, 1);
    cr_assert_eq(rd_kafka_topic_result_error(tr[0]), RD_KAFKA_RESP_ERR_NO_ERROR,
                 "CreateTopics %s: %s", name, rd_kafka_topic_result_error_string(tr[0]));
    topic_created = 1;
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);

    /* Wait until every partition has a leader. */
    int64_t deadline = now_ms() + 20000;
    for (;;) {
        const struct rd_kafka_metadata *md = NULL;
        int ready = 0;
        if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            for (int i = 0; i < md->topic_cnt; i++) {
                const rd_kafka_metadata_topic_t *t = &md->topics[i];
                if (strcmp(t->topic, name) != 0 || t->err || t->partition_cnt != partitions)
                    continue;
                ready = 1;
                for (int p = 0; p < t->partition_cnt; p++)
                    ready &= t->partitions[p].leader >= 0 && !t->partitions[p].err;
            }
            rd_kafka_metadata_destroy(md);
        }
        if (ready)
            break;
        cr_assert_lt(now_ms(), deadline, "topic %s not ready after 20 s", name);
        sleep_ms(100);
    }
    rd_kafka_destroy(rk);
}

static void delete_topic(const char *name)
{
    rd_kafka_t *rk = admin_client();
    if (n_groups > 0) {
        rd_kafka_DeleteGroup_t *dg[8];
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
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

static arr_kafka_producer *producer_or_fail(void)
{
    arr_kafka_producer *p = NULL;
    char err[512] = "";
    arr_err e = arr_kafka_producer_new(brokers(), "arrears-test-outbox", NULL, &p, err,
                                       sizeof(err));
    cr_assert_eq(e, ARR_OK, "producer_new: %s", err);
    return p;
}

typedef struct rec {
    char key[32];
    char value[64];
    int32_t partition;
} rec;

/* Reads the whole topic with a fresh group: waits for `want` records and the assignment of
 * all 3 partitions, then quiet_ms more to catch extras. Returns the count (<= cap stored). */
static int read_topic(rec *out, int cap, int want, int quiet_ms)
{
    char group[192], err[512] = "";
    char tok[9];
    make_token(tok, sizeof(tok));
    snprintf(group, sizeof(group), "%s-reader-%s", topic, tok);
    if (n_groups < 8)
        snprintf(groups[n_groups++], sizeof(groups[0]), "%s", group);
    const char *topics[] = {topic, NULL};
    arr_kafka_consumer *c = NULL;
    cr_assert_eq(arr_kafka_consumer_new(brokers(), group, "arrears-test-outbox", topics, NULL, &c,
                                        err, sizeof(err)),
                 ARR_OK, "consumer_new: %s", err);
    int n = 0;
    int64_t deadline = now_ms() + 30000, quiet_end = -1;
    while (now_ms() < deadline && (quiet_end < 0 || now_ms() < quiet_end)) {
        arr_kafka_msg m = {0};
        if (arr_kafka_consumer_poll(c, 100, &m, err, sizeof(err)) == ARR_OK) {
            if (n < cap) {
                size_t kl = m.key_len < sizeof(out[n].key) - 1 ? m.key_len : sizeof(out[n].key) - 1;
                size_t vl = m.value_len < sizeof(out[n].value) - 1 ? m.value_len
                                                                    : sizeof(out[n].value) - 1;
                memcpy(out[n].key, m.key, kl);
                out[n].key[kl] = '\0';
                memcpy(out[n].value, m.value, vl);
                out[n].value[vl] = '\0';
                out[n].partition = m.partition;
            }
            n++;
            arr_kafka_msg_release(&m);
        }
        if (quiet_end < 0 && n >= want && arr_kafka_consumer_assigned(c) >= 3)
            quiet_end = now_ms() + quiet_ms;
    }
    cr_assert_eq(arr_kafka_consumer_assigned(c), 3, "reader owns %d partitions",
                 arr_kafka_consumer_assigned(c));
    arr_kafka_consumer_free(c);
    return n;
}

/* Checks that recs hold exactly `per_key[k]` values k<k>:0.. in order for every key. */
static void check_per_key_order(const rec *recs, int n, int keys, const int *per_key)
{
    int next[16] = {0};
    cr_assert_leq(keys, 16);
    for (int i = 0; i < n; i++) {
        int k = -1, s = -1;
        cr_assert_eq(sscanf(recs[i].value, "k%d:%d", &k, &s), 2, "value '%s'", recs[i].value);
        cr_assert(k >= 0 && k < keys, "value '%s'", recs[i].value);
        char want_key[16];
        snprintf(want_key, sizeof(want_key), "k%d", k);
        cr_assert_str_eq(recs[i].key, want_key, "value %s under key %s", recs[i].value,
                         recs[i].key);
        cr_assert_eq(s, next[k], "key k%d: got %d, expected %d (order broken or duplicate)", k, s,
                     next[k]);
        next[k]++;
    }
    for (int k = 0; k < keys; k++)
        cr_assert_eq(next[k], per_key[k], "key k%d: %d messages, expected %d", k, next[k],
                     per_key[k]);
}

/* ---- suite -------------------------------------------------------------------------------- */

static void setup(void)
{
    char tok[11];
    make_token(tok, sizeof(tok));
    snprintf(schema, sizeof(schema), "test_outbox_%s", tok);
    snprintf(topic, sizeof(topic), "arrears-test-outbox-%s", tok);
    admin = pg_connect_or_fail();
    exec_ok(admin, "CREATE SCHEMA %s", schema);
    /* As in deploy/sql/001_foundation.sql. */
    exec_ok(admin,
            "CREATE TABLE %s.outbox ("
            " id bigserial PRIMARY KEY,"
            " topic text NOT NULL,"
            " key text NOT NULL,"
            " value text NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())",
            schema);
    exec_ok(admin,
            "CREATE TABLE %s.inbox ("
            " event_id uuid PRIMARY KEY,"
            " topic text NOT NULL,"
            " kafka_partition integer NOT NULL,"
            " kafka_offset bigint NOT NULL,"
            " processed_at timestamptz NOT NULL DEFAULT now())",
            schema);
    /* As in deploy/sql/004_outbox_batches.sql. */
    exec_ok(admin,
            "CREATE TABLE %s.outbox_batches ("
            " id bigserial PRIMARY KEY,"
            " owner bigint NOT NULL,"
            " topic text NOT NULL,"
            " messages text COMPRESSION lz4 NOT NULL,"
            " n_messages integer NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())",
            schema);
    create_topic(topic, 3);
}

static void teardown(void)
{
    if (admin) {
        char sql[256];
        snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
        arr_pg_exec(admin, sql, NULL, 0);
        arr_pg_free(admin);
        admin = NULL;
    }
    if (topic_created) {
        delete_topic(topic);
        topic_created = 0;
    }
}

TestSuite(outbox, .init = setup, .fini = teardown, .timeout = 90);

Test(outbox, prepare_checks_schema)
{
    arr_pg *pg = pg_connect_or_fail();
    char err[512] = "";
    cr_expect_eq(arr_outbox_prepare(pg, "Bad-Schema", err, sizeof(err)), ARR_EINVAL);
    cr_expect(strstr(err, "Bad-Schema") != NULL, "message: %s", err);
    cr_expect_eq(arr_outbox_prepare(pg, "ingest; drop table x", err, sizeof(err)), ARR_EINVAL);
    cr_expect_eq(arr_outbox_prepare(pg, "", err, sizeof(err)), ARR_EINVAL);
    /* A well-formed schema without the tables is refused by the server. */
    err[0] = '\0';
    arr_err e = arr_outbox_prepare(pg, "no_such_schema_for_arrears", err, sizeof(err));
    cr_expect_eq(e, ARR_EPG, "gave %s (%s)", arr_strerror(e), err);
    cr_expect(strstr(err, "42P01") != NULL || strstr(err, "3F000") != NULL, "message: %s", err);
    cr_assert_eq(arr_outbox_prepare(pg, schema, err, sizeof(err)), ARR_OK, "%s", err);
    /* Twice on the same connection is fine. */
    cr_assert_eq(arr_outbox_prepare(pg, schema, err, sizeof(err)), ARR_OK, "%s", err);
    arr_pg_free(pg);
}

Test(outbox, rolled_back_rows_are_never_relayed)
{
    arr_pg *pg = outbox_conn();
    arr_kafka_producer *p = producer_or_fail();
    char err[512] = "";
    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(arr_outbox_add(pg, schema, topic, "k0", "rolled-back", err, sizeof(err)),
                     ARR_OK, "%s", err);
    arr_pg_rollback(pg);
    cr_assert_eq(outbox_rows(pg), 0);
    int relayed = -1;
    cr_assert_eq(arr_outbox_relay(pg, schema, p, 100, &relayed, err, sizeof(err)), ARR_OK, "%s",
                 err);
    cr_assert_eq(relayed, 0);

    /* One committed row afterwards: it alone reaches the topic. */
    int next[1] = {0};
    add_committed(pg, 1, 1, next);
    cr_assert_eq(arr_outbox_relay(pg, schema, p, 100, &relayed, err, sizeof(err)), ARR_OK, "%s",
                 err);
    cr_assert_eq(relayed, 1);
    static rec got[16];
    int n = read_topic(got, 16, 1, 1500);
    cr_assert_eq(n, 1, "the topic holds %d messages, expected 1", n);
    cr_expect_str_eq(got[0].value, "k0:0");
    arr_kafka_producer_free(p);
    arr_pg_free(pg);
}

#define ROWS 50
#define KEYS 5

Test(outbox, committed_rows_relayed_in_order_then_deleted)
{
    arr_pg *pg = outbox_conn();
    arr_kafka_producer *p = producer_or_fail();
    int next[KEYS] = {0};
    add_committed(pg, ROWS, KEYS, next);
    cr_assert_eq(outbox_rows(pg), ROWS);

    /* In chunks of 20: order must also hold across relay calls. */
    char err[512] = "";
    int want[] = {20, 20, 10, 0}, total = 0;
    for (int i = 0; i < 4; i++) {
        int relayed = -1;
        arr_err e = arr_outbox_relay(pg, schema, p, 20, &relayed, err, sizeof(err));
        cr_assert_eq(e, ARR_OK, "relay %d: %s (%s)", i, arr_strerror(e), err);
        cr_assert_eq(relayed, want[i], "relay %d relayed %d, expected %d", i, relayed, want[i]);
        total += relayed;
        cr_assert_eq(outbox_rows(pg), ROWS - total, "relayed rows were not deleted");
    }
    int relayed = -1;
    cr_assert_eq(arr_outbox_relay(pg, schema, p, 0, &relayed, err, sizeof(err)), ARR_OK, "%s",
                 err);
    cr_assert_eq(relayed, 0, "a second relay relayed %d rows", relayed);

    static rec got[ROWS * 2];
    int n = read_topic(got, ROWS * 2, ROWS, 2000);
    cr_assert_eq(n, ROWS, "the topic holds %d messages, expected %d", n, ROWS);
    check_per_key_order(got, n, KEYS, next);
    arr_kafka_producer_free(p);
    arr_pg_free(pg);
}

Test(outbox, inbox_claim_is_fresh_once)
{
    arr_pg *pg = outbox_conn();
    char err[512] = "";
    const char *id = "0190f5a4-7b1c-7def-8123-456789abcdef";
    int fresh = -1;
    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_eq(arr_inbox_claim(pg, schema, id, "arrears.accounts", 4, 1234567890123LL, &fresh,
                                 err, sizeof(err)),
                 ARR_OK, "%s", err);
    cr_expect_eq(fresh, 1);
    fresh = -1;
    cr_assert_eq(arr_inbox_claim(pg, schema, id, "arrears.accounts", 4, 1234567890124LL, &fresh,
                                 err, sizeof(err)),
                 ARR_OK, "%s", err);
    cr_expect_eq(fresh, 0, "the same event id was fresh twice in one transaction");
    cr_assert_eq(arr_pg_commit(pg, err, sizeof(err)), ARR_OK, "%s", err);

    fresh = -1;
    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_eq(arr_inbox_claim(pg, schema, id, "arrears.accounts", 5, 1, &fresh, err,
                                 sizeof(err)),
                 ARR_OK, "%s", err);
    cr_expect_eq(fresh, 0, "a committed event id was fresh again");
    cr_assert_eq(arr_pg_commit(pg, err, sizeof(err)), ARR_OK, "%s", err);

    /* The first claim's record is kept. */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT topic, kafka_partition, kafka_offset FROM %s.inbox WHERE event_id = '%s'",
             schema, id);
    PGresult *res = PQexec(arr_pg_conn(pg), sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    cr_assert_eq(PQntuples(res), 1);
    cr_expect_str_eq(PQgetvalue(res, 0, 0), "arrears.accounts");
    cr_expect_str_eq(PQgetvalue(res, 0, 1), "4");
    cr_expect_str_eq(PQgetvalue(res, 0, 2), "1234567890123");
    PQclear(res);

    /* A claim in a rolled-back transaction does not count. */
    const char *id2 = "0190f5a4-7b1c-7def-8123-456789abcd00";
    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_eq(arr_inbox_claim(pg, schema, id2, "t", 0, 0, &fresh, err, sizeof(err)), ARR_OK,
                 "%s", err);
    cr_expect_eq(fresh, 1);
    arr_pg_rollback(pg);
    fresh = -1;
    cr_assert_eq(arr_inbox_claim(pg, schema, id2, "t", 0, 0, &fresh, err, sizeof(err)), ARR_OK,
                 "%s", err);
    cr_expect_eq(fresh, 1, "a rolled-back claim was remembered");

    /* A malformed event id is an input error. */
    err[0] = '\0';
    arr_err e = arr_inbox_claim(pg, schema, "not-a-uuid", "t", 0, 0, &fresh, err, sizeof(err));
    cr_expect_eq(e, ARR_EINVAL, "gave %s (%s)", arr_strerror(e), err);
    arr_pg_free(pg);
}

Test(outbox, relay_skips_while_another_holds_the_lock)
{
    arr_pg *a = pg_connect_or_fail();
    arr_pg *b = outbox_conn();
    arr_kafka_producer *p = producer_or_fail();
    int next[2] = {0};
    add_committed(b, 10, 2, next);

    /* Connection A plays a relayer in the middle of its transaction. */
    exec_ok(a, "BEGIN");
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_xact_lock(hashtext('%s.outbox'))", schema);
    PGresult *res = PQexec(arr_pg_conn(a), sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "t", "connection A did not get the lock");
    PQclear(res);

    char err[512] = "";
    int relayed = -1;
    arr_err e = arr_outbox_relay(b, schema, p, 100, &relayed, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "relay while locked: %s (%s)", arr_strerror(e), err);
    cr_assert_eq(relayed, 0, "relayed %d rows while another relayer held the lock", relayed);
    cr_assert_eq(outbox_rows(b), 10);
    /* B's relay left no transaction open behind it: a plain statement runs outside one. */
    cr_expect_eq(PQtransactionStatus(arr_pg_conn(b)), PQTRANS_IDLE);

    exec_ok(a, "ROLLBACK"); /* releases the xact lock */
    e = arr_outbox_relay(b, schema, p, 100, &relayed, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "relay: %s (%s)", arr_strerror(e), err);
    cr_assert_eq(relayed, 10);
    cr_assert_eq(outbox_rows(b), 0);

    static rec got[32];
    int n = read_topic(got, 32, 10, 1500);
    cr_assert_eq(n, 10, "the topic holds %d messages, expected 10", n);
    check_per_key_order(got, n, 2, next);
    arr_kafka_producer_free(p);
    arr_pg_free(b);
    arr_pg_free(a);
}

Test(outbox, undeliverable_rows_stay_in_the_outbox)
{
    arr_pg *pg = outbox_conn();
    arr_kafka_producer *p = NULL;
    char err[512] = "";
    const char *extra[] = {"message.timeout.ms=3000", NULL};
    cr_assert_eq(arr_kafka_producer_new(brokers(), "arrears-test-outbox", extra, &p, err,
                                        sizeof(err)),
                 ARR_OK, "%s", err);
    char missing[192];
    snprintf(missing, sizeof(missing), "%s-missing", topic); /* never created: no auto-create */
    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(arr_outbox_add(pg, schema, missing, "k0", "undeliverable", err, sizeof(err)),
                     ARR_OK, "%s", err);
    cr_assert_eq(arr_pg_commit(pg, err, sizeof(err)), ARR_OK, "%s", err);

    int relayed = -1;
    err[0] = '\0';
    arr_err e = arr_outbox_relay(pg, schema, p, 100, &relayed, err, sizeof(err));
    cr_log_info("relay to a missing topic: %s: %s", arr_strerror(e), err);
    cr_assert_neq(e, ARR_OK, "rows Kafka never acknowledged were reported relayed");
    cr_expect_eq(relayed, 0);
    cr_expect_neq(err[0], '\0', "no message");
    cr_assert_eq(outbox_rows(pg), 3, "unacknowledged rows were deleted");
    cr_expect_eq(PQtransactionStatus(arr_pg_conn(pg)), PQTRANS_IDLE,
                 "the relay left its transaction open");
    arr_kafka_producer_free(p);
    arr_pg_free(pg);
}

/* Two relayers running at the same time, each with its own connection and producer. */
typedef struct relayer {
    pthread_barrier_t *start;
    int relayed;
    int calls;
    int idle_while_pending; /* relays that got 0 while rows were waiting: lock contention */
    arr_err err;
    char errbuf[512];
} relayer;

static void *relay_loop(void *arg)
{
    relayer *r = arg;
    arr_pg *pg = NULL;
    arr_kafka_producer *p = NULL;
    r->err = arr_pg_connect(conninfo(), &pg, r->errbuf, sizeof(r->errbuf));
    if (!r->err)
        r->err = arr_outbox_prepare(pg, schema, r->errbuf, sizeof(r->errbuf));
    if (!r->err)
        r->err = arr_kafka_producer_new(brokers(), "arrears-test-outbox", NULL, &p, r->errbuf,
                                        sizeof(r->errbuf));
    pthread_barrier_wait(r->start);
    int64_t deadline = now_ms() + 30000;
    while (!r->err && now_ms() < deadline) {
        int n = 0;
        r->err = arr_outbox_relay(pg, schema, p, 7, &n, r->errbuf, sizeof(r->errbuf));
        r->calls++;
        if (r->err)
            break;
        r->relayed += n;
        if (n > 0)
            continue;
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.outbox", schema);
        PGresult *res = PQexec(arr_pg_conn(pg), sql);
        long left = PQresultStatus(res) == PGRES_TUPLES_OK ? atol(PQgetvalue(res, 0, 0)) : -1;
        PQclear(res);
        if (left == 0)
            break;
        r->idle_while_pending++;
        sleep_ms(2);
    }
    arr_kafka_producer_free(p);
    arr_pg_free(pg);
    return NULL;
}

#define CONC_ROWS 200
#define CONC_KEYS 4

Test(outbox, concurrent_relayers_never_publish_twice)
{
    arr_pg *pg = outbox_conn();
    int next[CONC_KEYS] = {0};
    add_committed(pg, CONC_ROWS, CONC_KEYS, next);

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    relayer r[2] = {{.start = &start}, {.start = &start}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, relay_loop, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(r[i].err, ARR_OK, "relayer %d: %s (%s)", i, arr_strerror(r[i].err),
                     r[i].errbuf);
    cr_log_info("relayers: %d+%d rows in %d+%d calls, %d+%d skipped on the lock", r[0].relayed,
                r[1].relayed, r[0].calls, r[1].calls, r[0].idle_while_pending,
                r[1].idle_while_pending);
    cr_assert_eq(r[0].relayed + r[1].relayed, CONC_ROWS, "relayed %d + %d rows, expected %d",
                 r[0].relayed, r[1].relayed, CONC_ROWS);
    cr_assert_eq(outbox_rows(pg), 0);

    static rec got[CONC_ROWS * 2];
    int n = read_topic(got, CONC_ROWS * 2, CONC_ROWS, 2000);
    cr_assert_eq(n, CONC_ROWS, "the topic holds %d messages, expected %d", n, CONC_ROWS);
    check_per_key_order(got, n, CONC_KEYS, next);
    arr_pg_free(pg);
}

/* ---- the batch-level outbox (arr_outbatch) ------------------------------------------------ */

static long batch_rows(arr_pg *pg)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.outbox_batches", schema);
    PGresult *res = PQexec(arr_pg_conn(pg), sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

static arr_pg *outbatch_conn(void)
{
    arr_pg *pg = pg_connect_or_fail();
    char err[512] = "";
    cr_assert_eq(arr_outbatch_prepare(pg, schema, err, sizeof(err)), ARR_OK, "%s", err);
    return pg;
}

/* n messages k<i%keys>:<seq> of one batch, stored and committed under owner. */
static long long store_committed(arr_pg *pg, int64_t owner, int n, int keys, int *next,
                                 arr_buf *msgs)
{
    char err[512] = "";
    arr_buf_reset(msgs);
    for (int i = 0; i < n; i++) {
        int k = i % keys;
        char key[16], value[48];
        snprintf(key, sizeof(key), "k%d", k);
        snprintf(value, sizeof(value), "k%d:%d", k, next[k]++);
        cr_assert_eq(arr_outbatch_append(msgs, key, value, strlen(value)), ARR_OK);
    }
    long long id = 0;
    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_eq(arr_outbatch_store(pg, schema, topic, owner, msgs, n, &id, err, sizeof(err)),
                 ARR_OK, "%s", err);
    cr_assert_eq(arr_pg_commit(pg, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_gt(id, 0);
    return id;
}

Test(outbox, batch_lines_refuse_tabs_and_newlines)
{
    arr_buf b;
    arr_buf_init(&b, 1024);
    cr_assert_eq(arr_outbatch_append(&b, "k", "v", 1), ARR_OK);
    cr_assert_eq(arr_outbatch_append(&b, "k\t", "v", 1), ARR_EINVAL);
    cr_assert_eq(arr_outbatch_append(&b, "k", "a\nb", 3), ARR_EINVAL);
    cr_assert_eq(arr_outbatch_append(&b, "k", "a\tb", 3), ARR_EINVAL);
    cr_assert_str_eq(b.data, "k\tv\n", "a refused message leaves nothing behind");
    arr_buf_free(&b);
}

/* The writer's own path: stored with its data, produced from memory, settled after the
 * acknowledgement; the relay leaves a live owner's batch alone. */
Test(outbox, batch_published_from_memory_and_left_alone_while_its_owner_lives)
{
    arr_pg *writer = outbatch_conn(), *other = outbatch_conn();
    arr_kafka_producer *p = producer_or_fail();
    char err[512] = "";
    int got = 0, next[4] = {0};
    const int64_t owner = 0x5eed0001;
    cr_assert_eq(arr_outbatch_own(writer, owner, &got, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert(got);
    cr_assert_eq(arr_outbatch_own(other, owner, &got, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert(!got, "a second session cannot own the same key");
    arr_buf msgs;
    arr_buf_init(&msgs, 1 << 20);
    long long id = store_committed(writer, owner, 200, 4, next, &msgs);
    int relayed = -1;
    cr_assert_eq(arr_outbatch_relay(other, schema, p, &relayed, err, sizeof(err)), ARR_OK, "%s",
                 err);
    cr_assert_eq(relayed, 0, "the owner is alive: its batch is its own to publish");
    cr_assert_eq(arr_outbatch_produce(p, topic, msgs.data, msgs.len, err, sizeof(err)), ARR_OK);
    cr_assert_eq(arr_kafka_producer_flush(p, 30000, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_eq(arr_outbatch_done(writer, schema, id, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_eq(batch_rows(admin), 0);
    static rec recs[400];
    int n = read_topic(recs, 400, 200, 1500);
    int per_key[4] = {50, 50, 50, 50};
    check_per_key_order(recs, n, 4, per_key);
    arr_buf_free(&msgs);
    arr_kafka_producer_free(p);
    arr_pg_free(other);
    arr_pg_free(writer);
}

/* A writer that died after its commit: the relay publishes its batches oldest first, once. */
Test(outbox, batches_of_a_dead_owner_are_relayed_in_order_once)
{
    arr_pg *writer = outbatch_conn();
    char err[512] = "";
    int got = 0, next[3] = {0};
    const int64_t owner = 0x5eed0002;
    cr_assert_eq(arr_outbatch_own(writer, owner, &got, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert(got);
    arr_buf msgs;
    arr_buf_init(&msgs, 1 << 20);
    for (int b = 0; b < 3; b++)
        store_committed(writer, owner, 90, 3, next, &msgs);
    arr_pg_free(writer); /* dies: its session lock goes with it */
    arr_pg *rescuer = outbatch_conn();
    arr_kafka_producer *p = producer_or_fail();
    int relayed = 0;
    cr_assert_eq(arr_outbatch_relay(rescuer, schema, p, &relayed, err, sizeof(err)), ARR_OK, "%s",
                 err);
    cr_assert_eq(relayed, 3);
    cr_assert_eq(batch_rows(admin), 0);
    cr_assert_eq(arr_outbatch_relay(rescuer, schema, p, &relayed, err, sizeof(err)), ARR_OK);
    cr_assert_eq(relayed, 0, "nothing is relayed twice");
    static rec recs[600];
    int n = read_topic(recs, 600, 270, 1500);
    int per_key[3] = {90, 90, 90};
    check_per_key_order(recs, n, 3, per_key);
    arr_buf_free(&msgs);
    arr_kafka_producer_free(p);
    arr_pg_free(rescuer);
}
