/* arrears topics: the catalogue of proto/topics.json, applied to the broker with the Admin
 * API. apply creates what is missing, adds partitions where the catalogue has more (Kafka
 * cannot remove any) and sets retention and cleanup policy; running it again changes
 * nothing. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include "arrears/catalog.h"
#include "cli.h"

#define ADMIN_TIMEOUT_MS 30000

static void usage(FILE *to)
{
    fprintf(to, "usage: arrears topics apply   create or update the catalogue's topics\n"
                "       arrears topics list    the catalogue next to the broker's topics\n"
                "       arrears topics create NAME [--partitions N]   a scratch topic outside\n"
                "                              the catalogue (benchmarks, experiments)\n"
                "       arrears topics delete NAME                    remove a scratch topic (and\n"
                "                                                     its undeliverable outbox rows)\n");
}

static rd_kafka_t *admin_client(const char *brokers, char *why, size_t whylen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, why, whylen) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "client.id", "arrears-cli", why, whylen) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, whylen);
    if (!rk)
        rd_kafka_conf_destroy(conf);
    return rk;
}

/* Partition count of each existing topic, -1 when absent. */
static int existing_partitions(const struct rd_kafka_metadata *md, const char *name)
{
    for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, name) == 0 && !md->topics[i].err)
            return md->topics[i].partition_cnt;
    }
    return -1;
}

static void set_configs(const arr_topic_spec *t, char retention[24],
                        void (*set)(void *, const char *, const char *), void *obj)
{
    snprintf(retention, 24, "%" PRId64, t->retention_ms);
    set(obj, "retention.ms", retention);
    set(obj, "cleanup.policy", t->cleanup_policy);
}

static void set_new_topic(void *obj, const char *k, const char *v)
{
    rd_kafka_NewTopic_set_config(obj, k, v);
}

static void set_resource(void *obj, const char *k, const char *v)
{
    rd_kafka_ConfigResource_set_config(obj, k, v);
}

/* Waits for one admin result event of the given type; caller destroys it. */
static rd_kafka_event_t *await(rd_kafka_queue_t *q, rd_kafka_event_type_t type)
{
    for (;;) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5000);
        if (!ev || rd_kafka_event_type(ev) == type)
            return ev;
        rd_kafka_event_destroy(ev);
    }
}

static int report_topic_results(const rd_kafka_topic_result_t **res, size_t n, const char *what)
{
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            fprintf(stderr, "topics: %s %s failed: %s\n", what, rd_kafka_topic_result_name(res[i]),
                    rd_kafka_topic_result_error_string(res[i]));
            failed = 1;
        } else {
            printf("topics: %s %s\n", rd_kafka_topic_result_name(res[i]), what);
        }
    }
    return failed;
}

static int create_missing(rd_kafka_t *rk, rd_kafka_queue_t *q, const arr_catalog *cat,
                          const struct rd_kafka_metadata *md)
{
    rd_kafka_NewTopic_t *nt[128];
    size_t n = 0;
    char retention[128][24], why[256];
    for (size_t i = 0; i < cat->n_topics && n < 128; i++) {
        const arr_topic_spec *t = &cat->topics[i];
        if (existing_partitions(md, t->name) >= 0)
            continue;
        nt[n] = rd_kafka_NewTopic_new(t->name, t->partitions, t->replication, why, sizeof(why));
        if (!nt[n]) {
            fprintf(stderr, "topics: %s: %s\n", t->name, why);
            return 1;
        }
        set_configs(t, retention[n], set_new_topic, nt[n]);
        n++;
    }
    if (!n)
        return 0;
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opt, ADMIN_TIMEOUT_MS, why, sizeof(why));
    rd_kafka_CreateTopics(rk, nt, n, opt, q);
    rd_kafka_event_t *ev = await(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    int failed = 1;
    if (ev && !rd_kafka_event_error(ev)) {
        size_t cnt;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        failed = report_topic_results(res, cnt, "created");
    } else {
        fprintf(stderr, "topics: create failed: %s\n",
                ev ? rd_kafka_event_error_string(ev) : "timed out");
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_NewTopic_destroy_array(nt, n);
    return failed;
}

static int grow_partitions(rd_kafka_t *rk, rd_kafka_queue_t *q, const arr_catalog *cat,
                           const struct rd_kafka_metadata *md)
{
    rd_kafka_NewPartitions_t *np[128];
    size_t n = 0;
    char why[256];
    for (size_t i = 0; i < cat->n_topics && n < 128; i++) {
        int have = existing_partitions(md, cat->topics[i].name);
        if (have >= 0 && have < cat->topics[i].partitions)
            np[n++] = rd_kafka_NewPartitions_new(
                cat->topics[i].name, (size_t)cat->topics[i].partitions, why, sizeof(why));
        else if (have > cat->topics[i].partitions)
            printf("topics: %s has %d partitions, more than the catalogue's %d (kept)\n",
                   cat->topics[i].name, have, cat->topics[i].partitions);
    }
    if (!n)
        return 0;
    rd_kafka_CreatePartitions(rk, np, n, NULL, q);
    rd_kafka_event_t *ev = await(q, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT);
    int failed = 1;
    if (ev && !rd_kafka_event_error(ev)) {
        size_t cnt;
        const rd_kafka_topic_result_t **res = rd_kafka_CreatePartitions_result_topics(
            rd_kafka_event_CreatePartitions_result(ev), &cnt);
        failed = report_topic_results(res, cnt, "partitions added");
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_NewPartitions_destroy_array(np, n);
    return failed;
}

/* AlterConfigs replaces a topic's dynamic configuration with the catalogue's. */
static int apply_configs(rd_kafka_t *rk, rd_kafka_queue_t *q, const arr_catalog *cat)
{
    rd_kafka_ConfigResource_t *res[128];
    char retention[128][24];
    size_t n = 0;
    for (size_t i = 0; i < cat->n_topics && n < 128; i++, n++) {
        res[n] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, cat->topics[i].name);
        set_configs(&cat->topics[i], retention[n], set_resource, res[n]);
    }
    rd_kafka_AlterConfigs(rk, res, n, NULL, q);
    rd_kafka_event_t *ev = await(q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
    int failed = !ev || rd_kafka_event_error(ev);
    if (ev && !failed) {
        size_t cnt;
        const rd_kafka_ConfigResource_t **out =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            if (rd_kafka_ConfigResource_error(out[i])) {
                fprintf(stderr, "topics: config of %s failed: %s\n",
                        rd_kafka_ConfigResource_name(out[i]),
                        rd_kafka_ConfigResource_error_string(out[i]));
                failed = 1;
            }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy_array(res, n);
    return failed;
}

static int topics_apply(rd_kafka_t *rk, const arr_catalog *cat)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, ADMIN_TIMEOUT_MS);
    if (err) {
        fprintf(stderr, "topics: broker metadata: %s\n", rd_kafka_err2str(err));
        return 1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int failed = create_missing(rk, q, cat, md);
    if (!failed)
        failed = grow_partitions(rk, q, cat, md);
    if (!failed)
        failed = apply_configs(rk, q, cat);
    rd_kafka_queue_destroy(q);
    rd_kafka_metadata_destroy(md);
    if (!failed)
        printf("topics: %zu topics match the catalogue\n", cat->n_topics);
    return failed;
}

static int topics_list(rd_kafka_t *rk, const arr_catalog *cat)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, ADMIN_TIMEOUT_MS);
    if (err) {
        fprintf(stderr, "topics: broker metadata: %s\n", rd_kafka_err2str(err));
        return 1;
    }
    int missing = 0;
    printf("%-32s %10s %10s %14s  %s\n", "topic", "catalogue", "broker", "retention days", "owner");
    for (size_t i = 0; i < cat->n_topics; i++) {
        const arr_topic_spec *t = &cat->topics[i];
        int have = existing_partitions(md, t->name);
        missing += have < 0;
        char have_s[16];
        snprintf(have_s, sizeof(have_s), have < 0 ? "missing" : "%d", have);
        printf("%-32s %10d %10s %14" PRId64 "  %s\n", t->name, t->partitions, have_s,
               t->retention_ms / 86400000, t->owner);
    }
    rd_kafka_metadata_destroy(md);
    return missing ? 1 : 0;
}

/* Scratch topics: created and deleted by name, never one of the catalogue's. */
static int scratch(rd_kafka_t *rk, const arr_catalog *cat, int create, const char *name,
                   int partitions)
{
    if (arr_catalog_find(cat, name)) {
        fprintf(stderr, "topics: %s belongs to the catalogue: use apply\n", name);
        return 1;
    }
    char why[256];
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    size_t n = 0;
    const rd_kafka_topic_result_t **res = NULL;
    if (create) {
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, partitions, 1, why, sizeof(why));
        if (nt)
            rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
        ev = nt ? await(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT) : NULL;
        if (ev && !rd_kafka_event_error(ev))
            res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        if (nt)
            rd_kafka_NewTopic_destroy(nt);
    } else {
        rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
        rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
        ev = await(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
        if (ev && !rd_kafka_event_error(ev))
            res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        rd_kafka_DeleteTopic_destroy(dt);
    }
    int failed = res ? report_topic_results(res, n, create ? "created" : "deleted") : 1;
    if (!res)
        fprintf(stderr, "topics: %s %s failed: %s\n", create ? "create" : "delete", name,
                ev ? rd_kafka_event_error_string(ev) : why);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    return failed;
}

/* Events waiting in the services' outboxes for a topic that is gone can never be delivered;
 * left there they would hold up the relay of every deployment sharing the database (tests and
 * benchmarks each run in a namespace of their own). */
static void drop_outbox_rows(cli_ctx *c, const char *topic)
{
    static const char *const sql[] = {"DELETE FROM ingest.outbox WHERE topic = $1",
                                      "DELETE FROM scoring.outbox WHERE topic = $1",
                                      "DELETE FROM outreach.outbox WHERE topic = $1",
                                      "DELETE FROM reconciliation.outbox WHERE topic = $1"};
    PGconn *pg = PQconnectdb(c->pg_conninfo);
    long dropped = 0;
    for (size_t i = 0; PQstatus(pg) == CONNECTION_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
        const char *params[] = {topic};
        PGresult *r = PQexecParams(pg, sql[i], 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            dropped += atol(PQcmdTuples(r));
        PQclear(r);
    }
    if (dropped)
        printf("topics: %ld undeliverable outbox row(s) for %s dropped\n", dropped, topic);
    PQfinish(pg);
}

int cli_topics(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    int apply = strcmp(argv[0], "apply") == 0;
    int create = strcmp(argv[0], "create") == 0, delete = strcmp(argv[0], "delete") == 0;
    int partitions = 12;
    if (argc >= 4 && strcmp(argv[2], "--partitions") == 0)
        partitions = atoi(argv[3]);
    if ((create || delete) && (argc < 2 || partitions < 1)) {
        usage(stderr);
        return 2;
    }
    if (!apply && !create && !delete &&strcmp(argv[0], "list") != 0) {
        fprintf(stderr, "arrears topics: unknown command '%s'\n", argv[0]);
        usage(stderr);
        return 2;
    }
    char why[512];
    arr_catalog *cat = NULL;
    if (arr_catalog_load(c->catalog_path, &cat, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears topics: %s: %s\n", c->catalog_path, why);
        return 1;
    }
    /* A namespace (tests, benchmarks): the whole catalogue under ARR_TOPIC_PREFIX. */
    const char *prefix = "";
    arr_config_str(c->cfg, "ARR_TOPIC_PREFIX", "", &prefix, why, sizeof(why));
    for (size_t i = 0; prefix[0] && i < cat->n_topics; i++) {
        size_t n = strlen(prefix) + strlen(cat->topics[i].name) + 1;
        char *name = malloc(n);
        if (!name)
            break;
        snprintf(name, n, "%s%s", prefix, cat->topics[i].name);
        free(cat->topics[i].name);
        cat->topics[i].name = name;
    }
    rd_kafka_t *rk = admin_client(c->brokers, why, sizeof(why));
    int rc = 1;
    if (!rk)
        fprintf(stderr, "arrears topics: %s\n", why);
    else if (create || delete)
        rc = scratch(rk, cat, create, argv[1], partitions);
    if (delete &&rc == 0)
        drop_outbox_rows(c, argv[1]);
    else
        rc = apply ? topics_apply(rk, cat) : topics_list(rk, cat);
    if (rk)
        rd_kafka_destroy(rk);
    arr_catalog_free(cat);
    return rc;
}
