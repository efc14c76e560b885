#include "arrears/outbatch.h"
#include "arrears/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STMT_MAX 96
#define SQL_MAX 512

static void stmt_name(char *out, const char *schema, const char *what)
{
    snprintf(out, STMT_MAX, "%s_outbatch_%s", schema, what);
}

arr_err arr_outbatch_append(arr_buf *msgs, const char *key, const char *value, size_t value_len)
{
    size_t key_len = strlen(key);
    if (strpbrk(key, "\t\n") || memchr(value, '\t', value_len) || memchr(value, '\n', value_len))
        return ARR_EINVAL;
    size_t start = msgs->len;
    arr_err e = arr_buf_append(msgs, key, key_len);
    if (!e)
        e = arr_buf_append(msgs, "\t", 1);
    if (!e)
        e = arr_buf_append(msgs, value, value_len);
    if (!e)
        e = arr_buf_append(msgs, "\n", 1);
    if (e)
        arr_buf_truncate(msgs, start);
    return e;
}

arr_err arr_outbatch_prepare(arr_pg *pg, const char *schema, char *errbuf, size_t errlen)
{
    if (!arr_outbox_schema_valid(schema)) {
        arr_errbuf_set(errbuf, errlen, "outbatch: bad schema name '%s'", schema);
        return ARR_EINVAL;
    }
    struct {
        const char *what, *fmt;
        int nparams;
    } stmts[] = {
        {"store",
         "INSERT INTO %s.outbox_batches (owner, topic, messages, n_messages)"
         " VALUES ($1, $2, $3, $4) RETURNING id",
         4},
        {"done", "DELETE FROM %s.outbox_batches WHERE id = $1", 1},
        /* One at a time, oldest first, skipping batches whose owner is alive. */
        {"take",
         "SELECT id, topic, messages FROM %s.outbox_batches"
         " WHERE pg_try_advisory_xact_lock(owner) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
         0},
    };
    for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
        char name[STMT_MAX], sql[SQL_MAX];
        stmt_name(name, schema, stmts[i].what);
        snprintf(sql, sizeof(sql), stmts[i].fmt, schema);
        arr_err e = arr_pg_prepare(pg, name, sql, stmts[i].nparams, errbuf, errlen);
        if (e)
            return e;
    }
    arr_err e = arr_pg_prepare(pg, "outbatch_own", "SELECT pg_try_advisory_lock($1::bigint)", 1,
                               errbuf, errlen);
    if (!e)
        e = arr_pg_prepare(pg, "outbatch_disown", "SELECT pg_advisory_unlock($1::bigint)", 1,
                           errbuf, errlen);
    return e;
}

void arr_outbatch_disown(arr_pg *pg, int64_t owner)
{
    char key[24], why[128];
    snprintf(key, sizeof(key), "%lld", (long long)owner);
    const char *params[] = {key};
    arr_pg_run(pg, "outbatch_disown", 1, params, NULL, why, sizeof(why));
}

arr_err arr_outbatch_own(arr_pg *pg, int64_t owner, int *got, char *errbuf, size_t errlen)
{
    char key[24];
    snprintf(key, sizeof(key), "%lld", (long long)owner);
    const char *params[] = {key};
    PGresult *res = NULL;
    arr_err e = arr_pg_run(pg, "outbatch_own", 1, params, &res, errbuf, errlen);
    *got = !e && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return e;
}

arr_err arr_outbatch_store(arr_pg *pg, const char *schema, const char *topic, int64_t owner,
                           const arr_buf *msgs, int n, long long *id, char *errbuf, size_t errlen)
{
    char name[STMT_MAX], own[24], count[16];
    stmt_name(name, schema, "store");
    snprintf(own, sizeof(own), "%lld", (long long)owner);
    snprintf(count, sizeof(count), "%d", n);
    const char *params[] = {own, topic, msgs->data ? msgs->data : "", count};
    PGresult *res = NULL;
    arr_err e = arr_pg_run(pg, name, 4, params, &res, errbuf, errlen);
    if (!e)
        *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return e;
}

int arr_outbatch_next(const char **p, const char *end, const char **key, size_t *key_len,
                      const char **value, size_t *value_len)
{
    if (!*p || *p >= end)
        return 0;
    const char *tab = memchr(*p, '\t', (size_t)(end - *p));
    const char *nl = tab ? memchr(tab, '\n', (size_t)(end - tab)) : NULL;
    if (!nl)
        return -1;
    *key = *p;
    *key_len = (size_t)(tab - *p);
    *value = tab + 1;
    *value_len = (size_t)(nl - tab - 1);
    *p = nl + 1;
    return 1;
}

arr_err arr_outbatch_produce(arr_kafka_producer *p, const char *topic, const char *msgs, size_t len,
                             char *errbuf, size_t errlen)
{
    const char *at = msgs, *key, *value;
    size_t key_len, value_len;
    int more;
    while ((more = arr_outbatch_next(&at, msgs + len, &key, &key_len, &value, &value_len)) == 1) {
        arr_err e = arr_kafka_produce(p, topic, key, key_len, value, value_len);
        if (e)
            return arr_errbuf_fail(e, errbuf, errlen, "outbatch: produce to %s failed", topic);
    }
    if (more < 0)
        return arr_errbuf_fail(ARR_EFATAL, errbuf, errlen,
                               "outbatch: malformed batch (a line without its key)");
    return ARR_OK;
}

arr_err arr_outbatch_done(arr_pg *pg, const char *schema, long long id, char *errbuf, size_t errlen)
{
    char name[STMT_MAX], ids[24];
    stmt_name(name, schema, "done");
    snprintf(ids, sizeof(ids), "%lld", id);
    const char *params[] = {ids};
    return arr_pg_run(pg, name, 1, params, NULL, errbuf, errlen);
}

/* One batch: taken, published and acknowledged, deleted, committed. *took = 0 when none. */
static arr_err relay_one(arr_pg *pg, const char *schema, arr_kafka_producer *p, int *took,
                         char *errbuf, size_t errlen)
{
    char name[STMT_MAX];
    stmt_name(name, schema, "take");
    PGresult *res = NULL;
    *took = 0;
    arr_err e = arr_pg_begin(pg, errbuf, errlen);
    if (!e)
        e = arr_pg_run(pg, name, 0, NULL, &res, errbuf, errlen);
    if (!e && PQntuples(res) == 1) {
        *took = 1;
        e = arr_outbatch_produce(p, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                                 (size_t)PQgetlength(res, 0, 2), errbuf, errlen);
        if (!e)
            e = arr_kafka_producer_flush(p, 60000, errbuf, errlen);
        if (!e)
            e = arr_outbatch_done(pg, schema, strtoll(PQgetvalue(res, 0, 0), NULL, 10), errbuf,
                                  errlen);
    }
    PQclear(res);
    if (!e)
        e = arr_pg_commit(pg, errbuf, errlen);
    else
        arr_pg_rollback(pg);
    return e;
}

arr_err arr_outbatch_relay(arr_pg *pg, const char *schema, arr_kafka_producer *p, int *relayed,
                           char *errbuf, size_t errlen)
{
    *relayed = 0;
    int took = 1;
    arr_err e = ARR_OK;
    while (!e && took) {
        e = relay_one(pg, schema, p, &took, errbuf, errlen);
        *relayed += !e && took;
    }
    return e;
}
