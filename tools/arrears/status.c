/* arrears status: the stack at a glance: does each server answer, which topics exist, how
 * far behind each service's consumer group is, and the schema version. Exit 0 when every
 * server answers and every topic exists. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>
#include "arrears/catalog.h"
#include "arrears/kafka.h"
#include "arrears/migrate.h"
#include "arrears/pg.h"
#include "arrears/redis.h"
#include "cli.h"

static const char *const services[] = {"ingest", "scoring", "outreach", "reconciliation", NULL};

static void usage(FILE *to)
{
    fprintf(to, "usage: arrears status   servers, topics, consumer-group lag, schema version\n");
}

static int check_pg(cli_ctx *c)
{
    char why[512];
    arr_pg *pg = NULL;
    int version = 0;
    arr_err e = arr_pg_connect(c->pg_conninfo, &pg, why, sizeof(why));
    if (!e)
        e = arr_migrate_version(pg, &version, why, sizeof(why));
    if (e)
        printf("postgresql  DOWN  %s\n", why);
    else
        printf("postgresql  up    schema version %d\n", version);
    arr_pg_free(pg);
    return e ? 1 : 0;
}

static int check_redis(cli_ctx *c)
{
    char why[512];
    arr_redis *r = NULL;
    arr_err e = arr_redis_connect(c->redis_host, c->redis_port, 2000, &r, why, sizeof(why));
    if (!e)
        e = arr_redis_ping(r, why, sizeof(why));
    printf(e ? "redis       DOWN  %s\n" : "redis       up    %s:%d\n", e ? why : c->redis_host,
           c->redis_port);
    arr_redis_free(r);
    return e ? 1 : 0;
}

/* A consumer that never joins: it only reads the group's committed offsets. */
static rd_kafka_t *group_reader(const char *brokers, const char *group)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, why, sizeof(why)) ||
        rd_kafka_conf_set(conf, "group.id", group, why, sizeof(why))) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (!rk)
        rd_kafka_conf_destroy(conf);
    return rk;
}

static int consumes(const arr_topic_spec *t, const char *svc)
{
    for (char **c = t->consumers; c && *c; c++) {
        if (strcmp(*c, svc) == 0)
            return 1;
    }
    return 0;
}

/* Lag = high watermark - committed offset, summed over the group's partitions. Transaction
 * markers occupy offsets too, so a caught-up reader of a transactional topic may show a
 * small lag. */
static void group_lag(const char *brokers, const arr_catalog *cat, const char *svc)
{
    char group[64];
    snprintf(group, sizeof(group), "arrears-%s", svc);
    rd_kafka_t *rk = group_reader(brokers, group);
    if (!rk)
        return;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(32);
    for (size_t i = 0; i < cat->n_topics; i++) {
        if (!consumes(&cat->topics[i], svc))
            continue;
        for (int p = 0; p < cat->topics[i].partitions; p++)
            rd_kafka_topic_partition_list_add(parts, cat->topics[i].name, p);
    }
    int64_t lag = 0, committed_parts = 0;
    rd_kafka_resp_err_t err = rd_kafka_committed(rk, parts, 10000);
    for (int i = 0; !err && i < parts->cnt; i++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        if (rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, 5000))
            continue;
        committed_parts += tp->offset >= 0;
        lag += hi - (tp->offset >= 0 ? tp->offset : lo);
    }
    if (err)
        printf("  %-16s %-24s lag unknown: %s\n", svc, group, rd_kafka_err2str(err));
    else
        printf("  %-16s %-24s lag %8" PRId64 "  (%" PRId64 "/%d partitions committed)\n", svc,
               group, lag, committed_parts, parts->cnt);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
}

static int check_kafka(cli_ctx *c, const arr_catalog *cat)
{
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", c->brokers, why, sizeof(why));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        printf("kafka       DOWN  %s\n", why);
        return 1;
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
    if (err) {
        printf("kafka       DOWN  %s\n", rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return 1;
    }
    printf("kafka       up    %s, %d broker(s)\n", c->brokers, md->broker_cnt);
    int missing = 0;
    for (size_t i = 0; i < cat->n_topics; i++) {
        int found = 0;
        for (int t = 0; t < md->topic_cnt; t++)
            found |= strcmp(md->topics[t].topic, cat->topics[i].name) == 0;
        if (!found) {
            printf("  topic %s is missing (run: arrears topics apply)\n", cat->topics[i].name);
            missing++;
        }
    }
    printf("topics      %zu of %zu present\n", cat->n_topics - (size_t)missing, cat->n_topics);
    rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    printf("consumer groups\n");
    for (const char *const *s = services; *s; s++)
        group_lag(c->brokers, cat, *s);
    return missing ? 1 : 0;
}

int cli_status(cli_ctx *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    char why[512];
    arr_catalog *cat = NULL;
    if (arr_catalog_load(c->catalog_path, &cat, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears status: %s: %s\n", c->catalog_path, why);
        return 1;
    }
    int bad = check_kafka(c, cat);
    bad |= check_pg(c);
    bad |= check_redis(c);
    arr_catalog_free(cat);
    return bad ? 1 : 0;
}
