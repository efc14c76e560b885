/* arrears cache rebuild: Redis is a cache; this rebuilds scoring's part of it from
 * PostgreSQL, the truth: each account's encoded feature state and status, and its latest
 * score, strategy, segment and arm. Streamed with a cursor and pipelined, so it runs in
 * constant memory whatever the number of accounts. No personal data: none is in those
 * tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/pg.h"
#include "arrears/redis.h"
#include "cli.h"
#include "model.h"

#define CHUNK "10000"

static void usage(FILE *to)
{
    fprintf(to, "usage: arrears cache rebuild [--tenant T]\n"
                "           scoring's cached view of every account (or one tenant's), from\n"
                "           scoring.accounts and the latest score in scoring.scores\n");
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
    arr_err e = arr_pg_connect(c->pg_conninfo, &pg, why, sizeof(why));
    if (!e)
        e = arr_redis_connect(c->redis_host, c->redis_port, 5000, &r, why, sizeof(why));
    if (!e)
        e = arr_pg_begin(pg, why, sizeof(why));
    if (!e) {
        const char *params[] = {tenant};
        PGresult *res = PQexecParams(
            arr_pg_conn(pg),
            "DECLARE acct NO SCROLL CURSOR FOR SELECT a.tenant, a.account_id, a.state, a.status,"
            " s.probability, s.strategy, s.segment, s.arm FROM scoring.accounts a"
            " LEFT JOIN LATERAL (SELECT probability, strategy, segment, arm FROM scoring.scores s"
            " WHERE s.tenant = a.tenant AND s.account_id = a.account_id"
            " ORDER BY s.scored_at DESC, s.score_event_id DESC LIMIT 1) s ON true"
            " WHERE $1::text IS NULL OR a.tenant = $1",
            1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(why, sizeof(why), "%s", PQresultErrorMessage(res));
            e = ARR_EPG;
        }
        PQclear(res);
    }
    long n = 0;
    for (int more = 1; !e && more;) {
        PGresult *res = PQexec(arr_pg_conn(pg), "FETCH " CHUNK " FROM acct");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            snprintf(why, sizeof(why), "%s", PQresultErrorMessage(res));
            e = ARR_EPG;
        } else {
            more = PQntuples(res) > 0;
            e = write_chunk(r, res, &n, why, sizeof(why));
        }
        PQclear(res);
    }
    if (pg)
        arr_pg_rollback(pg);
    arr_redis_free(r);
    arr_pg_free(pg);
    if (e) {
        fprintf(stderr, "arrears cache rebuild: %s\n", why);
        return 1;
    }
    printf("cache: %ld account(s) rebuilt from PostgreSQL\n", n);
    return 0;
}
