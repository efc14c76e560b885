/* cli_replay: what every service's replay shares. A replay reads the inputs a service
 * consumed (from the audit store, in the order the service's inbox claimed them), runs the
 * service's own pure decision code on them into a shadow (a file, never a live table or
 * topic: the connection is read-only), and compares each decision with the one recorded at
 * the time. Each difference is reported with the first field that differs and its likely
 * cause, named from the versions the two decisions carry.
 *
 * Ownership: opts and everything it points to belong to the caller; a result owns nothing. */
#ifndef ARREARS_CLI_REPLAY_H
#define ARREARS_CLI_REPLAY_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "arrears/err.h"
#include "arrears/pg.h"
#include "cli.h"

#define CLI_REPLAY_SHOW_MAX 20 /* differences kept for printing */
#define CLI_REPLAY_CAUSES_MAX 16

typedef struct cli_replay_opts {
    const char *tenant;
    const char *ns;  /* the deployment's topic namespace (ARR_TOPIC_PREFIX), "" in production */
    int64_t from_ms; /* decisions whose event time is in [from_ms, to_ms) are compared */
    int64_t to_ms;   /* INT64_MAX: open */
    char **accounts; /* sorted account ids to compare, or NULL for all */
    size_t n_accounts;
    FILE *shadow; /* the replayed decisions as JSON lines, or NULL */
    int show;     /* differences to print, at most CLI_REPLAY_SHOW_MAX */
} cli_replay_opts;

typedef struct cli_replay_diff {
    char account[129];
    char decision[64]; /* the recorded decision's event id, or what identifies it */
    char field[64];
    char recorded[160];
    char replayed[160];
    char cause[200];
} cli_replay_diff;

typedef struct cli_replay_result {
    long inputs;      /* input events read */
    long compared;    /* recorded decisions compared */
    long reproduced;  /* identical */
    long differed;    /* compared and different */
    long unrecorded;  /* the replay decided something that was never recorded */
    long unexplained; /* a recorded decision whose input is missing from the audit store */
    struct {
        char cause[200];
        long n;
    } causes[CLI_REPLAY_CAUSES_MAX];
    int n_causes;
    cli_replay_diff diffs[CLI_REPLAY_SHOW_MAX];
    int n_diffs;
} cli_replay_result;

/* 1 when the decision of account at at_ms is to be compared (in the period and the list). */
int cli_replay_wanted(const cli_replay_opts *o, const char *account, int64_t at_ms);
/* Records a difference (counted under its cause, kept for printing while there is room). */
void cli_replay_differ(cli_replay_result *r, const char *account, const char *decision,
                       const char *field, const char *recorded, const char *replayed,
                       const char *cause);
/* The first field, in replayed's order and then recorded's, whose values differ: 1 and the
 * field's name and both values (compact JSON, truncated) when one does, else 0. */
int cli_replay_first_diff(json_t *recorded, json_t *replayed, char *field, size_t fieldlen,
                          char *rec, size_t reclen, char *rep, size_t replen);

/* A read-only snapshot (REPEATABLE READ) on pg, for every cursor a replay declares. */
arr_err cli_replay_begin(arr_pg *pg, char *why, size_t whylen);
/* DECLAREs a cursor (sql is "DECLARE name NO SCROLL CURSOR FOR ...") with n text params. */
arr_err cli_replay_declare(arr_pg *pg, const char *sql, int n, const char *const *params, char *why,
                           size_t whylen);
/* The next rows of a cursor (fetch is "FETCH k FROM name"): *out owned by the caller
 * (PQclear), no rows at the end. */
arr_err cli_replay_fetch(arr_pg *pg, const char *fetch, PGresult **out, char *why, size_t whylen);

/* A string-keyed table of the replays' state (accounts, payments): each value is a zeroed
 * block of the size given when its key is first added, owned by the table with its key. */
typedef struct cli_replay_slot {
    char *key;
    void *val;
} cli_replay_slot;
typedef struct cli_replay_table {
    cli_replay_slot *slots; /* cap entries, key NULL when free; iterate to visit every value */
    size_t cap, n;
} cli_replay_table;

/* The value of key, or NULL. */
void *cli_replay_table_get(const cli_replay_table *t, const char *key);
/* The value of key, a zeroed one of size bytes the first time (*added 1; added may be NULL). */
arr_err cli_replay_table_add(cli_replay_table *t, const char *key, size_t size, void **out,
                             int *added);
void cli_replay_table_free(cli_replay_table *t);

/* The services' replays: read-only on pg, results added to r. */
arr_err cli_replay_scoring(cli_ctx *c, arr_pg *pg, const cli_replay_opts *o, cli_replay_result *r,
                           char *why, size_t whylen);
arr_err cli_replay_reconciliation(cli_ctx *c, arr_pg *pg, const cli_replay_opts *o,
                                  cli_replay_result *r, char *why, size_t whylen);
arr_err cli_replay_outreach(cli_ctx *c, arr_pg *pg, const cli_replay_opts *o, cli_replay_result *r,
                            char *why, size_t whylen);

#endif
