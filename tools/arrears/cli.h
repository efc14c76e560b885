/* The operator command line: shared context of the subcommands. */
#ifndef ARREARS_CLI_H
#define ARREARS_CLI_H

#include "arrears/config.h"
#include "arrears/err.h"

typedef struct cli_ctx {
    arr_config *cfg;
    const char *brokers;
    const char *pg_conninfo;
    const char *redis_host;
    int redis_port;
    const char *catalog_path; /* proto/topics.json */
    const char *sql_dir;      /* deploy/sql */
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

/* 1 when argv holds --help or -h. */
int cli_wants_help(int argc, char **argv);

#endif
