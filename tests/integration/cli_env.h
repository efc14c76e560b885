/* What the integration tests of the `arrears` CLI share: the PostgreSQL of the local stack
 * (ARR_PG_CONNINFO, as var/stack.env sets it), a few query helpers that fail the test on an
 * error, a run of the built binary (ARR_BIN_DIR/arrears) that captures its output and returns
 * its exit code, and a look-up of a line of that output. Header-only, test code only.
 *
 * Nothing here holds a connection: every query helper takes the arr_pg of the calling test,
 * which opens its own (db_connect_or_fail, usually in the suite's init) and frees it in its
 * fini. */
#ifndef ARREARS_TESTS_CLI_ENV_H
#define ARREARS_TESTS_CLI_ENV_H

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "arrears/err.h"
#include "arrears/pg.h"

/* ------------------------------------------------------------------ PostgreSQL */

static inline const char *db_conninfo(void)
{
    const char *c = getenv("ARR_PG_CONNINFO");
    if (!c || !*c)
        cr_assert_fail("ARR_PG_CONNINFO is not set: load var/stack.env (scripts/stack up) first");
    return c;
}

/* A new connection the caller frees (arr_pg_free); the test fails when PostgreSQL does not
 * answer. */
static inline arr_pg *db_connect_or_fail(void)
{
    arr_pg *pg = NULL;
    char err[512] = "";
    arr_err e = arr_pg_connect(db_conninfo(), &pg, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "connect: %s (%s)", arr_strerror(e), err);
    return pg;
}

/* Runs sql with n text parameters (NULL: SQL NULL); the test fails unless it succeeded. The
 * result is the caller's (PQclear). */
static inline PGresult *db_query(arr_pg *pg, const char *sql, int n, const char *const *params)
{
    PGresult *res = PQexecParams(arr_pg_conn(pg), sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    cr_assert(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s\n-> %s", sql,
              PQresultErrorMessage(res));
    return res;
}

/* db_query for a statement whose result is not wanted. */
static inline void db_exec(arr_pg *pg, const char *sql, int n, const char *const *params)
{
    PQclear(db_query(pg, sql, n, params));
}

/* The first column of the first row of a query, as a long (a count, mostly). */
static inline long db_long(arr_pg *pg, const char *sql, int n, const char *const *params)
{
    PGresult *res = db_query(pg, sql, n, params);
    cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0, "%s: no row", sql);
    long v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

/* Runs sql and ignores how it went: for a fini's clean-up, which must not fail the test. */
static inline void db_exec_unchecked(arr_pg *pg, const char *sql, int n, const char *const *params)
{
    PQclear(PQexecParams(arr_pg_conn(pg), sql, n, NULL, params, NULL, NULL, 0));
}

/* ------------------------------------------------------------------ the CLI */

/* Runs `[env] ARR_BIN_DIR/arrears ARGS` through the shell, ARGS being fmt's text, with its
 * stderr in the output when merge_stderr (on the test's stderr otherwise); env is shell
 * variable assignments ("ARR_X=1 ARR_Y=") or NULL. At most outlen - 1 bytes of the output go
 * to out, NUL-terminated; the rest is read and dropped. The command and the output are
 * logged (cr_log_info). Returns the exit code, -1 when the process did not exit normally. */
static inline int run_cli_ex(char *out, size_t outlen, const char *env, int merge_stderr,
                             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static inline int run_cli_ex(char *out, size_t outlen, const char *env, int merge_stderr,
                             const char *fmt, ...)
{
    char args[1024], cmd[1600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "%s%s'%s/arrears' %s%s", env ? env : "", env ? " " : "", ARR_BIN_DIR,
             args, merge_stderr ? " 2>&1" : "");
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "popen %s", cmd);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    char sink[4096];
    while (fread(sink, 1, sizeof(sink), p) > 0) {
    }
    int st = pclose(p);
    cr_log_info("$ %s%sarrears %s\n%s", env ? env : "", env ? " " : "", args, out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `arrears ARGS 2>&1`, the usual run. */
#define run_cli(out, outlen, ...) run_cli_ex((out), (outlen), NULL, 1, __VA_ARGS__)
/* `arrears ARGS`: stdout only. */
#define run_cli_stdout(out, outlen, ...) run_cli_ex((out), (outlen), NULL, 0, __VA_ARGS__)
/* `ENV arrears ARGS 2>&1`. */
#define run_cli_env(out, outlen, env, ...) run_cli_ex((out), (outlen), (env), 1, __VA_ARGS__)

/* The text after the start of the first line of out that starts with prefix (the rest of
 * that line and what follows), or NULL. */
static inline const char *line_after(const char *out, const char *prefix)
{
    size_t plen = strlen(prefix);
    for (const char *s = out; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
        if (strncmp(s, prefix, plen) == 0)
            return s + plen;
    }
    return NULL;
}

#endif
