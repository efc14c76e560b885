#include "recover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/outbatch.h"

#define CHUNK 10000

static const struct {
    const char *name, *sql;
    int n;
} statements[] = {
    {"rec_placed",
     "SELECT account_id, placed_event_id, payload::text, last_line FROM ingest.accounts"
     " WHERE tenant = $1 AND last_import_id = $2 AND status = 'open' AND last_line > $3"
     " AND last_line <= $4 ORDER BY last_line LIMIT 10000", /* CHUNK */
     4},
    {"rec_published", "UPDATE ingest.imports SET published_line = $2 WHERE import_id = $1", 2},
    {"rec_orphans",
     "SELECT import_id, tenant, (extract(epoch from event_time) * 1000)::bigint,"
     " published_line, lines_done, topic FROM ingest.imports"
     " WHERE status = 'running' AND published_line < lines_done ORDER BY started_at",
     0},
};

arr_err ingest_recover_prepare(arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = arr_outbatch_prepare(pg, "ingest", why, whylen);
    for (size_t i = 0; !e && i < sizeof(statements) / sizeof(statements[0]); i++)
        e = arr_pg_prepare(pg, statements[i].name, statements[i].sql, statements[i].n, why, whylen);
    return e;
}

arr_err ingest_recover_published(arr_pg *pg, const char *import_id, long long line, char *why,
                                 size_t whylen)
{
    char published[24];
    snprintf(published, sizeof(published), "%lld", line);
    const char *params[] = {import_id, published};
    return arr_pg_run(pg, "rec_published", 2, params, NULL, why, whylen);
}

/* The placed events of one chunk of accounts into msgs; *last gets the chunk's last line. */
static arr_err chunk_events(const ingest_event_ctx *c, PGresult *res, arr_buf *msgs, long *n,
                            long long *last)
{
    arr_err e = ARR_OK;
    for (int r = 0; !e && r < PQntuples(res); r++) {
        const char *account = PQgetvalue(res, r, 0);
        char id[ARR_UUID_STRLEN];
        e = ingest_event_placed_id(c, account, id);
        /* An account this import changed rather than placed: its event is a stored one. */
        if (!e && strcmp(id, PQgetvalue(res, r, 1)) == 0) {
            e = ingest_event_line(c, account, "account.placed", id, PQgetvalue(res, r, 2),
                                  (size_t)PQgetlength(res, r, 2), msgs);
            *n += !e;
        }
        *last = strtoll(PQgetvalue(res, r, 3), NULL, 10);
    }
    return e;
}

arr_err ingest_recover_import(arr_pg *pg, arr_kafka_producer *p, const char *topic,
                              const ingest_event_ctx *c, long long published_line,
                              long long lines_done, long *published, char *why, size_t whylen)
{
    *published = 0;
    arr_buf msgs;
    arr_buf_init(&msgs, (size_t)512 * 1024 * 1024);
    arr_err e = ARR_OK;
    long long from = published_line;
    while (!e && from < lines_done) {
        char a[24], b[24];
        snprintf(a, sizeof(a), "%lld", from);
        snprintf(b, sizeof(b), "%lld", lines_done);
        const char *params[] = {c->tenant, c->import_id, a, b};
        PGresult *res = NULL;
        e = arr_pg_run(pg, "rec_placed", 4, params, &res, why, whylen);
        int rows = e ? 0 : PQntuples(res);
        long long last = lines_done;
        if (!e)
            e = chunk_events(c, res, &msgs, published, &last);
        PQclear(res);
        if (!e && msgs.len)
            e = arr_outbatch_produce(p, topic, msgs.data, msgs.len, why, whylen);
        arr_buf_reset(&msgs);
        from = rows == CHUNK ? last : lines_done;
    }
    arr_buf_free(&msgs);
    if (!e)
        e = arr_kafka_producer_flush(p, 60000, why, whylen);
    if (!e && lines_done > published_line)
        e = ingest_recover_published(pg, c->import_id, lines_done, why, whylen);
    int relayed = 0;
    if (!e) /* its other events, and those of any other import that died */
        e = arr_outbatch_relay(pg, "ingest", p, &relayed, why, whylen);
    return e;
}

arr_err ingest_recover_orphans(arr_pg *pg, arr_kafka_producer *p, const arr_producer_id *who,
                               int64_t now_ms, long *published, char *why, size_t whylen)
{
    *published = 0;
    PGresult *res = NULL;
    arr_err e = arr_pg_run(pg, "rec_orphans", 0, NULL, &res, why, whylen);
    for (int r = 0; !e && r < PQntuples(res); r++) {
        const char *import_id = PQgetvalue(res, r, 0);
        int64_t owner = ingest_import_owner(import_id);
        int got = 0;
        e = arr_outbatch_own(pg, owner, &got, why, whylen);
        if (e || !got)
            continue; /* its process is alive and publishes for itself */
        ingest_event_ctx c = {.tenant = PQgetvalue(res, r, 1),
                              .import_id = import_id,
                              .event_time_ms = strtoll(PQgetvalue(res, r, 2), NULL, 10),
                              .produced_at_ms = now_ms,
                              .who = who};
        long n = 0;
        e = ingest_recover_import(pg, p, PQgetvalue(res, r, 5), &c,
                                  strtoll(PQgetvalue(res, r, 3), NULL, 10),
                                  strtoll(PQgetvalue(res, r, 4), NULL, 10), &n, why, whylen);
        *published += n;
        arr_outbatch_disown(pg, owner);
    }
    PQclear(res);
    return e;
}
