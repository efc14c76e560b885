/* arrears cache rebuild: Redis is a cache; this rebuilds it from PostgreSQL, the truth:
 * scoring's part (each account's encoded feature state and status, and its latest score,
 * strategy, segment and arm), reconciliation's (balance and ledger status) and outreach's (the
 * schedule: each account's earliest open step, and its next step in the account's entry).
 * The services may keep running: a step a sender holds is not taken back (outreach_schedule_
 * ensure), and rate-limit buckets are left alone (they refill by themselves). Streamed with a
 * cursor and pipelined, so it runs in constant memory whatever the number of accounts. No personal
 * data: none is in those tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/pg.h"
#include "arrears/redis.h"
#include "cli.h"
#include "model.h"
#include "schedule.h"

#define CHUNK "10000"

static void usage(FILE *to)
{
    fprintf(to, "usage: arrears cache rebuild [--tenant T]\n"
                "           the cached view of every account (or one tenant's), from\n"
                "           scoring.accounts, the latest score in scoring.scores,\n"
                "           reconciliation.ledger and the open steps of outreach.steps (the\n"
                "           schedule of the namespace ARR_TOPIC_PREFIX)\n");
}

static arr_err write_chunk(arr_redis *r, PGresult *res, long *n, char *why, size_t whylen)
{
    for (int i = 0; i < PQntuples(res); i++) {
        char key[400], bp[16] = "";
        snprintf(key, sizeof(key), "arr:acct:%s/%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        const char *argv[14] = {"HSET",           key,
                                "features",       PQgetvalue(res, i, 2),
                                "scoring_status", PQgetvalue(res, i, 3)};
        int argc = 6;
        if (!PQgetisnull(res, i, 4)) {
            snprintf(bp, sizeof(bp), "%d", scoring_model_bp(strtod(PQgetvalue(res, i, 4), NULL)));
            const char *more[] = {"score_bp", bp,
                                  "strategy", PQgetvalue(res, i, 5),
                                  "segment",  PQgetvalue(res, i, 6),
                                  "arm",      PQgetvalue(res, i, 7)};
            memcpy(argv + argc, more, sizeof(more));
            argc += 8;
        }
        arr_err e = arr_redis_append(r, argc, argv, NULL);
        if (e)
            return e;
    }
    *n += PQntuples(res);
    return arr_redis_flush(r, why, whylen);
}

static arr_err write_ledger_chunk(arr_redis *r, PGresult *res, long *n, char *why, size_t whylen)
{
    for (int i = 0; i < PQntuples(res); i++) {
        char key[400];
        snprintf(key, sizeof(key), "arr:acct:%s/%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        const char *argv[] = {"HSET",          key,
                              "balance_cents", PQgetvalue(res, i, 2),
                              "ledger_status", PQgetvalue(res, i, 3)};
        arr_err e = arr_redis_append(r, 6, argv, NULL);
        if (e)
            return e;
    }
    *n += PQntuples(res);
    return arr_redis_flush(r, why, whylen);
}

/* The namespace of the outreach schedule: the services' topic prefix, "live" without one. */
static const char *schedule_ns(void)
{
    const char *p = getenv("ARR_TOPIC_PREFIX");
    return p && *p ? p : "live";
}

static arr_err write_schedule_chunk(arr_redis *r, PGresult *res, long *n, char *why, size_t whylen)
{
    for (int i = 0; i < PQntuples(res); i++) {
        arr_err e = outreach_schedule_ensure(
            r, schedule_ns(), PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
            strtoll(PQgetvalue(res, i, 3), NULL, 10), NULL, why, whylen);
        if (e)
            return e;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        char key[400];
        snprintf(key, sizeof(key), "arr:acct:%s/%s", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        const char *argv[] = {"HSET",
                              key,
                              "next_step_at",
                              PQgetvalue(res, i, 4),
                              "next_step_channel",
                              PQgetvalue(res, i, 5)};
        arr_err e = arr_redis_append(r, 6, argv, NULL);
        if (e)
            return e;
    }
    *n += PQntuples(res);
    return arr_redis_flush(r, why, whylen);
}

typedef arr_err (*chunk_fn)(arr_redis *r, PGresult *res, long *n, char *why, size_t whylen);

/* One cursor over sql (its $1 the tenant or NULL, $2 the outreach namespace), written to Redis
 * a chunk at a time. */
static arr_err stream(arr_pg *pg, arr_redis *r, const char *sql, const char *tenant, chunk_fn write,
                      long *n, char *why, size_t whylen)
{
    arr_err e = arr_pg_begin(pg, why, whylen);
    if (!e) {
        const char *params[] = {tenant, schedule_ns()};
        int nparams = strstr(sql, "$2") ? 2 : 1;
        PGresult *res = PQexecParams(arr_pg_conn(pg), sql, nparams, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(why, whylen, "%s", PQresultErrorMessage(res));
            e = ARR_EPG;
        }
        PQclear(res);
    }
    for (int more = 1; !e && more;) {
        PGresult *res = PQexec(arr_pg_conn(pg), "FETCH " CHUNK " FROM acct");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            snprintf(why, whylen, "%s", PQresultErrorMessage(res));
            e = ARR_EPG;
        } else {
            more = PQntuples(res) > 0;
            e = write(r, res, n, why, whylen);
        }
        PQclear(res);
    }
    arr_pg_rollback(pg);
    return e;
}

int cli_cache(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv) || strcmp(argv[0], "rebuild") != 0) {
        usage(argc >= 1 && cli_wants_help(argc, argv) ? stdout : stderr);
        return argc >= 1 && cli_wants_help(argc, argv) ? 0 : 2;
    }
    const char *tenant = argc == 3 && strcmp(argv[1], "--tenant") == 0 ? argv[2] : NULL;
    if (argc != 1 && !tenant) {
        usage(stderr);
        return 2;
    }
    char why[512] = "";
    arr_pg *pg = NULL;
    arr_redis *r = NULL;
    long n = 0, m = 0;
    arr_err e = arr_pg_connect(c->pg_conninfo, &pg, why, sizeof(why));
    if (!e)
        e = arr_redis_connect(c->redis_host, c->redis_port, 5000, &r, why, sizeof(why));
    if (!e)
        e = stream(pg, r,
                   "DECLARE acct NO SCROLL CURSOR FOR SELECT a.tenant, a.account_id, a.state,"
                   " a.status, s.probability, s.strategy, s.segment, s.arm FROM scoring.accounts a"
                   " LEFT JOIN LATERAL (SELECT probability, strategy, segment, arm FROM"
                   " scoring.scores s WHERE s.tenant = a.tenant AND s.account_id = a.account_id"
                   " ORDER BY s.scored_at DESC, s.score_event_id DESC LIMIT 1) s ON true WHERE"
                   " $1::text IS NULL OR a.tenant = $1",
                   tenant, write_chunk, &n, why, sizeof(why));
    if (!e)
        e = stream(pg, r,
                   "DECLARE acct NO SCROLL CURSOR FOR SELECT tenant, account_id, balance_cents,"
                   " status FROM reconciliation.ledger WHERE $1::text IS NULL OR tenant = $1",
                   tenant, write_ledger_chunk, &m, why, sizeof(why));
    long o = 0;
    if (!e)
        e = stream(pg, r,
                   "DECLARE acct NO SCROLL CURSOR FOR SELECT DISTINCT ON (tenant, account_id)"
                   " tenant, account_id, step_id, (extract(epoch from due_at) * 1000)::bigint,"
                   " to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                   " channel FROM outreach.steps WHERE namespace = $2 AND status IN ('planned',"
                   " 'sending') AND ($1::text IS NULL OR tenant = $1) ORDER BY tenant, account_id,"
                   " due_at",
                   tenant, write_schedule_chunk, &o, why, sizeof(why));
    arr_redis_free(r);
    arr_pg_free(pg);
    if (e) {
        fprintf(stderr, "arrears cache rebuild: %s\n", why);
        return 1;
    }
    printf("cache: %ld account(s) of scoring, %ld of reconciliation and %ld scheduled step(s) of"
           " outreach rebuilt from PostgreSQL\n",
           n, m, o);
    return 0;
}
