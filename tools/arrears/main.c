/* arrears: the operator's command line. One binary, one subcommand per concern:
 * topics (the Kafka topic catalogue), db (migrations), status (the stack at a glance) and
 * sample (synthetic events for the thin slice and smoke tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "events.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: arrears [--config FILE] COMMAND [ARGS]\n\n"
            "commands:\n"
            "  topics apply     create or update every topic of the catalogue (idempotent)\n"
            "  topics list      show the catalogue next to what the broker has\n"
            "  db migrate       apply the numbered SQL files of deploy/sql once each\n"
            "  db version       print the schema version\n"
            "  status           the stack, topics, consumer-group lag, schema version\n"
            "  ingest accounts  stream a billing export (CSV, JSON Lines) into the system\n"
            "  sample accounts  publish synthetic account submissions to ingest\n"
            "  sample payment   publish one payment to reconciliation\n"
            "  model train      fit a scorecard on the score history, gated on the current one\n"
            "  model evaluate   measure a model file on the score history\n"
            "  clock tick       a collection day begins: daily re-scoring\n"
            "  cache rebuild    the cached view of every account in Redis, from PostgreSQL\n"
            "  payments import  a bank or processor file (camt.053/054, BAI2, NACHA, JSON)\n"
            "  payments exceptions|resolve|arrange|verify  reconciliation's operator side\n"
            "  account show|history  one account's state, and every event that touched it\n"
            "  replay           re-run a service's decisions on its recorded inputs, compare\n"
            "  report           the business measures of a tenant over a period\n"
            "  retention        anonymise closed accounts past their retention period\n\n"
            "Configuration: FILE or $ARR_CONFIG (KEY=VALUE lines), overridden by the\n"
            "environment: ARR_KAFKA_BROKERS, ARR_PG_CONNINFO, ARR_REDIS_HOST, ARR_REDIS_PORT,\n"
            "ARR_CATALOG (default %s/proto/topics.json), ARR_SQL_DIR (default %s/deploy/sql),\n"
            "ARR_TOPIC_ACCOUNTS (where ingest publishes account events; default\n"
            "arrears.accounts in ARR_TOPIC_PREFIX's namespace).\n"
            "Each command takes --help.\n",
            ARR_SOURCE_DIR, ARR_SOURCE_DIR);
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

static int load(cli_ctx *c, const char *config_path)
{
    static char topic_accounts[160]; /* the default of c->topic_accounts */
    char why[512];
    int64_t port;
    arr_err e = arr_config_load(config_path, &c->cfg, why, sizeof(why));
    if (!e)
        e = arr_config_str(c->cfg, "ARR_KAFKA_BROKERS", "127.0.0.1:19092", &c->brokers, why,
                           sizeof(why));
    if (!e)
        e = arr_config_str(c->cfg, "ARR_PG_CONNINFO",
                           "host=127.0.0.1 port=15432 dbname=arrears user=arrears "
                           "connect_timeout=5",
                           &c->pg_conninfo, why, sizeof(why));
    if (!e)
        e = arr_config_str(c->cfg, "ARR_REDIS_HOST", "127.0.0.1", &c->redis_host, why, sizeof(why));
    if (!e &&
        !(e = arr_config_int(c->cfg, "ARR_REDIS_PORT", 16379, 1, 65535, &port, why, sizeof(why))))
        c->redis_port = (int)port;
    if (!e)
        e = arr_config_str(c->cfg, "ARR_CATALOG", ARR_SOURCE_DIR "/proto/topics.json",
                           &c->catalog_path, why, sizeof(why));
    if (!e) { /* in ARR_TOPIC_PREFIX's namespace (tests, benchmarks), as the services have */
        cli_topic(c, INGEST_TOPIC_ACCOUNTS, topic_accounts, sizeof(topic_accounts));
        e = arr_config_str(c->cfg, "ARR_TOPIC_ACCOUNTS", topic_accounts, &c->topic_accounts, why,
                           sizeof(why));
    }
    if (!e)
        e = arr_config_str(c->cfg, "ARR_SQL_DIR", ARR_SOURCE_DIR "/deploy/sql", &c->sql_dir, why,
                           sizeof(why));
    if (e) {
        fprintf(stderr, "arrears: configuration: %s\n", why);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = getenv("ARR_CONFIG");
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
        config_path = argv[i + 1];
        i += 2;
    }
    if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
        strcmp(argv[i], "help") == 0) {
        usage(i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    static const struct {
        const char *name;
        int (*fn)(cli_ctx *, int, char **);
    } commands[] = {{"topics", cli_topics},      {"db", cli_db},         {"status", cli_status},
                    {"sample", cli_sample},      {"ingest", cli_ingest}, {"model", cli_model},
                    {"clock", cli_clock},        {"cache", cli_cache},   {"payments", cli_payments},
                    {"account", cli_account},    {"report", cli_report}, {"replay", cli_replay},
                    {"retention", cli_retention}};
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        if (strcmp(argv[i], commands[k].name) != 0)
            continue;
        cli_ctx c = {0};
        int rc = load(&c, config_path);
        if (!rc)
            rc = commands[k].fn(&c, argc - i - 1, argv + i + 1);
        arr_config_free(c.cfg);
        return rc;
    }
    fprintf(stderr, "arrears: unknown command '%s'\n\n", argv[i]);
    usage(stderr);
    return 2;
}
