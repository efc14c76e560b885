#include "arrears/outbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_MAX 96
#define SQL_MAX 512

int arr_outbox_schema_valid(const char *s)
{
    if (!*s || strlen(s) > 32)
        return 0;
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
            return 0;
    }
    return 1;
}

static void stmt_name(char *out, const char *schema, const char *what)
{
    snprintf(out, STMT_MAX, "%s_%s", schema, what);
}

arr_err arr_outbox_prepare(arr_pg *pg, const char *schema, char *errbuf, size_t errlen)
{
    if (!arr_outbox_schema_valid(schema)) {
        arr_errbuf_set(errbuf, errlen, "outbox: bad schema name '%s'", schema);
        return ARR_EINVAL;
    }
    struct {
        const char *what;
        const char *fmt;
        int nparams;
    } stmts[] = {
        {"outbox_add", "INSERT INTO %s.outbox (topic, key, value) VALUES ($1, $2, $3)", 3},
        {"outbox_lock", "SELECT pg_try_advisory_xact_lock(hashtext('%s.outbox'))", 0},
        {"outbox_take", "SELECT id, topic, key, value FROM %s.outbox ORDER BY id LIMIT $1", 1},
        {"outbox_done", "DELETE FROM %s.outbox WHERE id = ANY($1::bigint[])", 1},
        {"inbox_claim",
         "INSERT INTO %s.inbox (event_id, topic, kafka_partition, kafka_offset) "
         "VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
         4},
    };
    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        char name[STMT_MAX], sql[SQL_MAX];
        stmt_name(name, schema, stmts[i].what);
        snprintf(sql, sizeof(sql), stmts[i].fmt, schema);
        arr_err e = arr_pg_prepare(pg, name, sql, stmts[i].nparams, errbuf, errlen);
        if (e)
            return e;
    }
    return ARR_OK;
}

arr_err arr_outbox_add(arr_pg *pg, const char *schema, const char *topic, const char *key,
                       const char *value, char *errbuf, size_t errlen)
{
    char name[STMT_MAX];
    stmt_name(name, schema, "outbox_add");
    const char *params[] = {topic, key, value};
    return arr_pg_run(pg, name, 3, params, NULL, errbuf, errlen);
}

/* Produces every taken row and waits for Kafka's acknowledgement of all of them. */
static arr_err publish_rows(PGresult *rows, arr_kafka_producer *p, char *errbuf, size_t errlen)
{
    int n = PQntuples(rows);
    for (int i = 0; i < n; i++) {
        const char *key = PQgetvalue(rows, i, 2);
        arr_err e = arr_kafka_produce(p, PQgetvalue(rows, i, 1), key, strlen(key),
                                      PQgetvalue(rows, i, 3), (size_t)PQgetlength(rows, i, 3));
        if (e) {
            arr_errbuf_set(errbuf, errlen, "outbox: produce to %s failed", PQgetvalue(rows, i, 1));
            return e;
        }
    }
    return arr_kafka_producer_flush(p, 30000, errbuf, errlen);
}

/* "{1,2,3}" for the DELETE; ids are bigint text from the server. */
static char *id_array(PGresult *rows)
{
    int n = PQntuples(rows);
    size_t len = 3;
    for (int i = 0; i < n; i++)
        len += (size_t)PQgetlength(rows, i, 0) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    char *w = s;
    *w++ = '{';
    for (int i = 0; i < n; i++) {
        if (i)
            *w++ = ',';
        size_t l = (size_t)PQgetlength(rows, i, 0);
        memcpy(w, PQgetvalue(rows, i, 0), l);
        w += l;
    }
    *w++ = '}';
    *w = '\0';
    return s;
}

arr_err arr_outbox_relay(arr_pg *pg, const char *schema, arr_kafka_producer *p, int max_rows,
                         int *relayed, char *errbuf, size_t errlen)
{
    *relayed = 0;
    char name[STMT_MAX];
    PGresult *res = NULL;
    arr_err e = arr_pg_begin(pg, errbuf, errlen);
    if (e)
        return e;
    stmt_name(name, schema, "outbox_lock");
    e = arr_pg_run(pg, name, 0, NULL, &res, errbuf, errlen);
    int locked = !e && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    res = NULL;
    if (e || !locked) {
        arr_pg_rollback(pg);
        return e;
    }
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", max_rows > 0 ? max_rows : 500);
    const char *take_params[] = {limit};
    stmt_name(name, schema, "outbox_take");
    e = arr_pg_run(pg, name, 1, take_params, &res, errbuf, errlen);
    if (!e && PQntuples(res) > 0) {
        e = publish_rows(res, p, errbuf, errlen);
        char *ids = e ? NULL : id_array(res);
        if (!e && !ids)
            e = ARR_ENOMEM;
        if (!e) {
            const char *done_params[] = {ids};
            stmt_name(name, schema, "outbox_done");
            e = arr_pg_run(pg, name, 1, done_params, NULL, errbuf, errlen);
        }
        free(ids);
        if (!e)
            *relayed = PQntuples(res);
    }
    PQclear(res);
    if (!e)
        e = arr_pg_commit(pg, errbuf, errlen);
    else
        arr_pg_rollback(pg);
    if (e)
        *relayed = 0;
    return e;
}

arr_err arr_inbox_claim(arr_pg *pg, const char *schema, const char *event_id, const char *topic,
                        int partition, long long offset, int *fresh, char *errbuf, size_t errlen)
{
    char name[STMT_MAX], part[16], off[24];
    stmt_name(name, schema, "inbox_claim");
    snprintf(part, sizeof(part), "%d", partition);
    snprintf(off, sizeof(off), "%lld", offset);
    const char *params[] = {event_id, topic, part, off};
    arr_err e = arr_pg_run(pg, name, 4, params, NULL, errbuf, errlen);
    if (!e)
        *fresh = arr_pg_affected(pg) == 1;
    return e;
}
