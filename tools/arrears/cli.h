/* The operator command line: shared context of the subcommands. */
#ifndef ARREARS_CLI_H
#define ARREARS_CLI_H

#include <stdint.h>
#include "arrears/config.h"
#include "arrears/envelope.h"
#include "arrears/err.h"

typedef struct cli_ctx {
    arr_config *cfg;
    const char *brokers;
    const char *pg_conninfo;
    const char *redis_host;
    int redis_port;
    const char *catalog_path;   /* proto/topics.json */
    const char *sql_dir;        /* deploy/sql */
    const char *topic_accounts; /* ARR_TOPIC_ACCOUNTS: where ingest publishes account events */
} cli_ctx;

/* Each returns the process exit code: 0 success, 1 failure, 2 usage error. */
int cli_topics(cli_ctx *c, int argc, char **argv);
int cli_db(cli_ctx *c, int argc, char **argv);
int cli_status(cli_ctx *c, int argc, char **argv);
int cli_sample(cli_ctx *c, int argc, char **argv);
int cli_ingest(cli_ctx *c, int argc, char **argv);
int cli_model(cli_ctx *c, int argc, char **argv);
int cli_clock(cli_ctx *c, int argc, char **argv);
int cli_cache(cli_ctx *c, int argc, char **argv);
int cli_payments(cli_ctx *c, int argc, char **argv);
int cli_account(cli_ctx *c, int argc, char **argv);
int cli_report(cli_ctx *c, int argc, char **argv);
int cli_replay(cli_ctx *c, int argc, char **argv);
int cli_retention(cli_ctx *c, int argc, char **argv);

/* 1 when argv holds --help or -h. */
int cli_wants_help(int argc, char **argv);

/* topic in the namespace of ARR_TOPIC_PREFIX (tests and benchmarks run in their own), into
 * out (cap bytes); returns out. */
const char *cli_topic(cli_ctx *c, const char *topic, char *out, size_t cap);
/* The value after the flag name in argv, else def. */
const char *cli_arg(int argc, char **argv, const char *name, const char *def);
/* Initialises env for an event the CLI sends: schema 1, the id derived from tenant and
 * id_name (so sending it twice sends the same event), the correlation id equal to it, both
 * times at_ms, produced by service (version ARR_VERSION, instance "arrears-cli"). The
 * payload is left to the caller; arr_envelope_clear releases it. */
arr_err cli_envelope(arr_envelope *env, const char *tenant, const char *account, const char *type,
                     const char *id_name, int64_t at_ms, const char *service);

#endif
