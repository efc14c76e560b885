/* arrears clock tick: a collection day begins. One clock.day_started per partition of
 * arrears.clock, each to its own partition (the one of the accounts it concerns), so every
 * replica re-scores exactly the accounts of the partitions it owns. Ids derive from the day
 * and the partition: ticking a day twice sends the same events, which count once. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"
#include "arrears/envelope.h"
#include "arrears/kafka.h"
#include "arrears/uuid.h"
#include "cli.h"

#define CLOCK_TOPIC "arrears.clock"
#define CLOCK_TENANT "system"

static void usage(FILE *to)
{
    fprintf(to, "usage: arrears clock tick --day YYYY-MM-DD [--partitions 12]\n"
                "           clock.day_started for that day to every partition of arrears.clock\n"
                "           (in ARR_TOPIC_PREFIX's namespace when set)\n");
}

/* The id derives from the topic (namespace included), the day and the partition. */
static arr_err tick(rd_kafka_t *rk, const char *topic, const char *day, int partition,
                    int64_t at_ms, char *why, size_t whylen)
{
    arr_envelope env;
    arr_envelope_init(&env);
    char name[256];
    snprintf(name, sizeof(name), "%s/%s/%d", topic, day, partition);
    arr_err e = arr_uuid_named(CLOCK_TENANT, name, env.event_id);
    snprintf(env.event_type, sizeof(env.event_type), "clock.day_started");
    env.schema_version = 1;
    snprintf(env.tenant, sizeof(env.tenant), CLOCK_TENANT);
    snprintf(env.account, sizeof(env.account), "clock-%d", partition);
    env.event_time_ms = at_ms;
    env.produced_at_ms = at_ms;
    memcpy(env.correlation_id, env.event_id, ARR_UUID_STRLEN);
    snprintf(env.producer_service, sizeof(env.producer_service), "scheduler");
    snprintf(env.producer_version, sizeof(env.producer_version), "%s", ARR_VERSION);
    snprintf(env.producer_instance, sizeof(env.producer_instance), "arrears-cli");
    env.payload = json_pack("{s:s, s:i}", "day", day, "partition", partition);
    char *value = NULL, key[ARR_KEY_MAX];
    size_t len = 0;
    if (!e)
        e = arr_envelope_to_message(&env, &value, &len, key, why, whylen);
    if (!e) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
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
    const char *day = NULL;
    int partitions = 12;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--day") == 0)
            day = argv[i + 1];
        else if (strcmp(argv[i], "--partitions") == 0)
            partitions = atoi(argv[i + 1]);
    }
    char stamp[32];
    int64_t at_ms = 0;
    snprintf(stamp, sizeof(stamp), "%.10sT00:00:00Z", day ? day : "");
    if (!day || strlen(day) != 10 || arr_time_parse(stamp, &at_ms) != ARR_OK || partitions < 1 ||
        partitions > 1024) {
        fprintf(stderr, "arrears clock tick: --day must be a date YYYY-MM-DD and --partitions "
                        "1 to 1024\n");
        return 2;
    }
    const char *prefix = "";
    char why[512];
    arr_config_str(c->cfg, "ARR_TOPIC_PREFIX", "", &prefix, why, sizeof(why));
    char topic[160];
    snprintf(topic, sizeof(topic), "%s%s", prefix, CLOCK_TOPIC);
    arr_kafka_producer *p = NULL;
    if (arr_kafka_producer_new(c->brokers, "arrears-cli", NULL, &p, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears clock: %s\n", why);
        return 1;
    }
    arr_err e = ARR_OK;
    for (int part = 0; !e && part < partitions; part++)
        e = tick(arr_kafka_producer_handle(p), topic, day, part, at_ms, why, sizeof(why));
    if (!e)
        e = arr_kafka_producer_flush(p, 30000, why, sizeof(why));
    arr_kafka_producer_free(p);
    if (e) {
        fprintf(stderr, "arrears clock: %s\n", why);
        return 1;
    }
    printf("clock: %s began on %d partition(s) of %s\n", day, partitions, topic);
    return 0;
}
