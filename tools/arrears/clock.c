/* arrears clock tick: a collection day begins. One clock.day_started per partition of
 * arrears.clock, each to its own partition (the one of the accounts it concerns), so every
 * replica re-scores exactly the accounts of the partitions it owns. Ids derive from the day
 * and the partition: ticking a day twice sends the same events, which count once. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/catalog.h"
#include "arrears/clock.h"
#include "arrears/envelope.h"
#include "arrears/kafka.h"
#include "cli.h"

#define CLOCK_TOPIC "arrears.clock"
#define CLOCK_TENANT "system"
#define CLOCK_SERVICE "scheduler" /* the events' producer_service */
#define CLOCK_MAX_PARTITIONS 1024

static void usage(FILE *to)
{
    fprintf(to,
            "usage: arrears clock tick --day YYYY-MM-DD [--partitions N] [--services LIST]\n"
            "           clock.day_started for that day to every partition of arrears.clock\n"
            "           (in ARR_TOPIC_PREFIX's namespace when set); N, 1 to %d, overrides\n"
            "           the partition count of the topic catalogue ($ARR_CATALOG).\n"
            "           --services scoring,outreach,reconciliation: only those act on it (a\n"
            "           simulated campaign ticks reconciliation and scoring, waits, then\n"
            "           outreach, so that a day's re-scores never race its contacts)\n",
            CLOCK_MAX_PARTITIONS);
}

/* The partition count of arrears.clock in the catalogue; 0 with why when there is none. */
static int catalog_partitions(const char *path, char *why, size_t whylen)
{
    arr_catalog *cat = NULL;
    if (arr_catalog_load(path, &cat, why, whylen) != ARR_OK)
        return 0;
    const arr_topic_spec *t = arr_catalog_find(cat, CLOCK_TOPIC);
    int n = t ? t->partitions : 0;
    if (!t)
        snprintf(why, whylen, "%s: no topic %s", path, CLOCK_TOPIC);
    arr_catalog_free(cat);
    return n;
}

/* The services a tick is addressed to, from "a,b": each known, none twice; NULL for all. */
static json_t *services_of(const char *list)
{
    static const char *const known[] = {"scoring", "outreach", "reconciliation"};
    json_t *a = json_array();
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int ok = 0;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            ok |= strcmp(tok, known[k]) == 0;
        for (size_t k = 0; ok && k < json_array_size(a); k++)
            ok = strcmp(json_string_value(json_array_get(a, k)), tok) != 0;
        if (!ok) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, json_string(tok));
    }
    if (json_array_size(a) == 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* The id derives from the topic (namespace included), the day, the partition and the services
 * addressed (services: borrowed, NULL for all). */
static arr_err tick(rd_kafka_t *rk, const char *topic, const char *day, int partition,
                    const char *list, json_t *services, int64_t at_ms, char *why, size_t whylen)
{
    char name[256], account[32];
    snprintf(name, sizeof(name), "%s/%s/%d%s%s", topic, day, partition, services ? "/" : "",
             services ? list : "");
    snprintf(account, sizeof(account), "clock-%d", partition);
    arr_envelope env;
    arr_err e =
        cli_envelope(&env, CLOCK_TENANT, account, "clock.day_started", name, at_ms, CLOCK_SERVICE);
    env.payload = json_pack("{s:s, s:i}", "day", day, "partition", partition);
    if (services)
        json_object_set(env.payload, "services", services);
    char *value = NULL, key[ARR_KEY_MAX];
    size_t len = 0;
    if (!e)
        e = arr_envelope_to_message(&env, &value, &len, key, why, whylen);
    if (!e) {
        rd_kafka_resp_err_t err =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(value, len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err) {
            snprintf(why, whylen, "produce to %s[%d]: %s", topic, partition, rd_kafka_err2str(err));
            e = ARR_EKAFKA;
        }
    }
    free(value);
    arr_envelope_clear(&env);
    return e;
}

int cli_clock(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv) || strcmp(argv[0], "tick") != 0) {
        usage(argc < 1 || cli_wants_help(argc, argv) ? stdout : stderr);
        return argc >= 1 && cli_wants_help(argc, argv) ? 0 : 2;
    }
    const char *day = cli_arg(argc - 1, argv + 1, "--day", NULL);
    const char *parts = cli_arg(argc - 1, argv + 1, "--partitions", NULL);
    const char *list = cli_arg(argc - 1, argv + 1, "--services", NULL);
    char *end = NULL;
    long partitions = parts ? strtol(parts, &end, 10) : 0;
    char stamp[32];
    int64_t at_ms = 0;
    snprintf(stamp, sizeof(stamp), "%.10sT00:00:00Z", day ? day : "");
    if (!day || strlen(day) != 10 || arr_time_parse(stamp, &at_ms) != ARR_OK ||
        strcmp(argv[argc - 1], "--partitions") == 0 ||
        (parts && (!*parts || *end || partitions < 1 || partitions > CLOCK_MAX_PARTITIONS))) {
        fprintf(stderr,
                "arrears clock tick: --day must be a date YYYY-MM-DD and --partitions "
                "1 to %d\n",
                CLOCK_MAX_PARTITIONS);
        return 2;
    }
    json_t *services = list ? services_of(list) : NULL;
    if (list && !services) {
        fprintf(stderr, "arrears clock tick: --services: names among scoring, outreach and "
                        "reconciliation, comma-separated, each once\n");
        return 2;
    }
    char why[512];
    if (!parts && !(partitions = catalog_partitions(c->catalog_path, why, sizeof(why)))) {
        fprintf(stderr, "arrears clock: %s\n", why);
        json_decref(services);
        return 1;
    }
    char topic[160];
    cli_topic(c, CLOCK_TOPIC, topic, sizeof(topic));
    arr_kafka_producer *p = NULL;
    if (arr_kafka_producer_new(c->brokers, "arrears-cli", NULL, &p, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears clock: %s\n", why);
        json_decref(services);
        return 1;
    }
    arr_err e = ARR_OK;
    for (int part = 0; !e && part < (int)partitions; part++)
        e = tick(arr_kafka_producer_handle(p), topic, day, part, list, services, at_ms, why,
                 sizeof(why));
    json_decref(services);
    if (!e)
        e = arr_kafka_producer_flush(p, 30000, why, sizeof(why));
    arr_kafka_producer_free(p);
    if (e) {
        fprintf(stderr, "arrears clock: %s\n", why);
        return 1;
    }
    printf("clock: %s began on %ld partition(s) of %s\n", day, partitions, topic);
    return 0;
}
