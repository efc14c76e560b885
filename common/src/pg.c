#include "arrears/pg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_MAX_STMTS 128

typedef struct pg_stmt {
    char *name;
    char *sql;
    int nparams;
} pg_stmt;

struct arr_pg {
    PGconn *conn;
    char *conninfo;
    pg_stmt stmts[PG_MAX_STMTS];
    int n_stmts;
    long affected;
};

/* Maps a failed result to an arr_err using its SQLSTATE class. */
static arr_err result_err(arr_pg *pg, PGresult *res, const char *what, char *errbuf, size_t errlen)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(pg->conn);
    arr_errbuf_set(errbuf, errlen, "postgresql %s: [%s] %.*s", what, state ? state : "-----",
                   (int)strcspn(msg, "\n"), msg);
    if (PQstatus(pg->conn) == CONNECTION_BAD)
        return ARR_EPG;
    if (!state)
        return ARR_EPG;
    if (strncmp(state, "40", 2) == 0)
        return ARR_EABORT;
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
        return ARR_EINVAL;
    return ARR_EPG;
}

static arr_err prepare_one(arr_pg *pg, const pg_stmt *s, char *errbuf, size_t errlen)
{
    PGresult *res = PQprepare(pg->conn, s->name, s->sql, s->nparams, NULL);
    arr_err e = ARR_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        e = result_err(pg, res, s->name, errbuf, errlen);
    PQclear(res);
    return e;
}

static arr_err open_conn(arr_pg *pg, char *errbuf, size_t errlen)
{
    if (pg->conn)
        PQfinish(pg->conn);
    pg->conn = PQconnectdb(pg->conninfo);
    if (PQstatus(pg->conn) != CONNECTION_OK) {
        const char *msg = PQerrorMessage(pg->conn);
        arr_errbuf_set(errbuf, errlen, "postgresql connect: %.*s", (int)strcspn(msg, "\n"), msg);
        return ARR_EPG;
    }
    PGresult *res = PQexec(pg->conn, "SET client_min_messages = warning");
    PQclear(res);
    for (int i = 0; i < pg->n_stmts; i++) {
        arr_err e = prepare_one(pg, &pg->stmts[i], errbuf, errlen);
        if (e)
            return e;
    }
    return ARR_OK;
}

arr_err arr_pg_connect(const char *conninfo, arr_pg **out, char *errbuf, size_t errlen)
{
    arr_pg *pg = calloc(1, sizeof(*pg));
    if (!pg || !(pg->conninfo = strdup(conninfo))) {
        free(pg);
        return ARR_ENOMEM;
    }
    arr_err e = open_conn(pg, errbuf, errlen);
    if (e) {
        arr_pg_free(pg);
        return e;
    }
    *out = pg;
    return ARR_OK;
}

arr_err arr_pg_reconnect(arr_pg *pg, char *errbuf, size_t errlen)
{
    return open_conn(pg, errbuf, errlen);
}

void arr_pg_free(arr_pg *pg)
{
    if (!pg)
        return;
    if (pg->conn)
        PQfinish(pg->conn);
    for (int i = 0; i < pg->n_stmts; i++) {
        free(pg->stmts[i].name);
        free(pg->stmts[i].sql);
    }
    free(pg->conninfo);
    free(pg);
}

PGconn *arr_pg_conn(arr_pg *pg)
{
    return pg->conn;
}

arr_err arr_pg_exec(arr_pg *pg, const char *sql, char *errbuf, size_t errlen)
{
    PGresult *res = PQexec(pg->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    arr_err e = ARR_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        e = result_err(pg, res, "exec", errbuf, errlen);
    PQclear(res);
    return e;
}

arr_err arr_pg_prepare(arr_pg *pg, const char *name, const char *sql, int nparams, char *errbuf,
                       size_t errlen)
{
    for (int i = 0; i < pg->n_stmts; i++) {
        if (strcmp(pg->stmts[i].name, name) == 0)
            return ARR_OK; /* already prepared on this connection */
    }
    if (pg->n_stmts == PG_MAX_STMTS) {
        arr_errbuf_set(errbuf, errlen, "postgresql prepare %s: more than %d statements", name,
                       PG_MAX_STMTS);
        return ARR_ELIMIT;
    }
    pg_stmt s = {strdup(name), strdup(sql), nparams};
    if (!s.name || !s.sql) {
        free(s.name);
        free(s.sql);
        return ARR_ENOMEM;
    }
    arr_err e = prepare_one(pg, &s, errbuf, errlen);
    if (e) {
        free(s.name);
        free(s.sql);
        return e;
    }
    pg->stmts[pg->n_stmts++] = s;
    return ARR_OK;
}

arr_err arr_pg_run(arr_pg *pg, const char *name, int nparams, const char *const *params,
                   PGresult **out, char *errbuf, size_t errlen)
{
    if (out)
        *out = NULL;
    PGresult *res = PQexecPrepared(pg->conn, name, nparams, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        arr_err e = result_err(pg, res, name, errbuf, errlen);
        PQclear(res);
        return e;
    }
    const char *n = PQcmdTuples(res);
    pg->affected = n && *n ? strtol(n, NULL, 10) : 0;
    if (out)
        *out = res;
    else
        PQclear(res);
    return ARR_OK;
}

long arr_pg_affected(const arr_pg *pg)
{
    return pg->affected;
}

arr_err arr_pg_begin(arr_pg *pg, char *errbuf, size_t errlen)
{
    return arr_pg_exec(pg, "BEGIN", errbuf, errlen);
}

arr_err arr_pg_commit(arr_pg *pg, char *errbuf, size_t errlen)
{
    PGresult *res = PQexec(pg->conn, "COMMIT");
    arr_err e = ARR_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        e = result_err(pg, res, "commit", errbuf, errlen);
    /* A COMMIT of a failed transaction answers ROLLBACK: report it, never pretend success. */
    else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        arr_errbuf_set(errbuf, errlen, "postgresql commit: transaction was rolled back");
        e = ARR_EABORT;
    }
    PQclear(res);
    return e;
}

void arr_pg_rollback(arr_pg *pg)
{
    if (PQstatus(pg->conn) != CONNECTION_OK)
        return;
    PQclear(PQexec(pg->conn, "ROLLBACK"));
}

arr_err arr_pg_copy_begin(arr_pg *pg, const char *copy_sql, char *errbuf, size_t errlen)
{
    PGresult *res = PQexec(pg->conn, copy_sql);
    arr_err e = ARR_OK;
    if (PQresultStatus(res) != PGRES_COPY_IN)
        e = result_err(pg, res, "copy", errbuf, errlen);
    PQclear(res);
    return e;
}

arr_err arr_pg_copy_put(arr_pg *pg, const char *data, size_t len, char *errbuf, size_t errlen)
{
    if (PQputCopyData(pg->conn, data, (int)len) != 1) {
        return result_err(pg, NULL, "copy data", errbuf, errlen);
    }
    return ARR_OK;
}

arr_err arr_pg_copy_end(arr_pg *pg, long *rows, char *errbuf, size_t errlen)
{
    if (PQputCopyEnd(pg->conn, NULL) != 1)
        return result_err(pg, NULL, "copy end", errbuf, errlen);
    arr_err e = ARR_OK;
    PGresult *res;
    while ((res = PQgetResult(pg->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !e)
            e = result_err(pg, res, "copy", errbuf, errlen);
        else if (rows && !e) {
            const char *n = PQcmdTuples(res);
            *rows = n && *n ? strtol(n, NULL, 10) : 0;
        }
        PQclear(res);
    }
    return e;
}

arr_err arr_pg_copy_buf(arr_pg *pg, const char *copy_sql, const char *data, size_t len, long *rows,
                        char *errbuf, size_t errlen)
{
    long n = 0;
    if (rows)
        *rows = 0;
    if (!len)
        return ARR_OK;
    arr_err e = arr_pg_copy_begin(pg, copy_sql, errbuf, errlen);
    if (e)
        return e;
    e = arr_pg_copy_put(pg, data, len, errbuf, errlen);
    char endwhy[256];
    arr_err end = arr_pg_copy_end(pg, &n, e ? endwhy : errbuf, e ? sizeof(endwhy) : errlen);
    if (rows)
        *rows = n;
    return e ? e : end;
}

/* COPY text format's escape of one character, or NULL when it goes as it is. */
static const char *copy_escape_of(char c)
{
    switch (c) {
    case '\\':
        return "\\\\";
    case '\t':
        return "\\t";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    default:
        return NULL;
    }
}

arr_err arr_pg_copy_field(arr_buf *b, const char *field, int last)
{
    arr_err e = ARR_OK;
    if (!field) {
        e = arr_buf_append(b, "\\N", 2);
    } else {
        /* Runs between the characters to escape go in one piece: most fields have none. */
        const char *p = field;
        for (;;) {
            size_t run = strcspn(p, "\\\t\n\r");
            if (run)
                e = arr_buf_append(b, p, run);
            p += run;
            if (e || !*p)
                break;
            e = arr_buf_append(b, copy_escape_of(*p), 2);
            p++;
        }
    }
    if (!e)
        e = arr_buf_append(b, last ? "\n" : "\t", 1);
    return e;
}

arr_err arr_pg_array_open(arr_buf *a)
{
    arr_buf_reset(a);
    return arr_buf_append(a, "{", 1);
}

arr_err arr_pg_array_add(arr_buf *a, const char *v)
{
    arr_err e = a->len > 1 ? arr_buf_append(a, ",", 1) : ARR_OK;
    if (!v)
        return e ? e : arr_buf_append(a, "NULL", 4);
    if (!e)
        e = arr_buf_append(a, "\"", 1);
    while (!e && *v) {
        size_t run = strcspn(v, "\"\\");
        e = arr_buf_append(a, v, run);
        v += run;
        if (!e && *v) {
            char esc[2] = {'\\', *v++};
            e = arr_buf_append(a, esc, 2);
        }
    }
    return e ? e : arr_buf_append(a, "\"", 1);
}

arr_err arr_pg_array_close(arr_buf *a)
{
    return arr_buf_append(a, "}", 1);
}

arr_err arr_pg_copy_escape(const char *in, char *out, size_t outlen)
{
    size_t j = 0;
    for (const char *p = in; *p; p++) {
        const char *rep = copy_escape_of(*p);
        size_t need = rep ? 2 : 1;
        if (j + need >= outlen)
            return ARR_ELIMIT;
        memcpy(out + j, rep ? rep : p, need);
        j += need;
    }
    if (j >= outlen)
        return ARR_ELIMIT;
    out[j] = '\0';
    return ARR_OK;
}

arr_err arr_pg_ping(arr_pg *pg, char *errbuf, size_t errlen)
{
    PGresult *res = PQexec(pg->conn, "SELECT 1");
    arr_err e = ARR_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        e = result_err(pg, res, "ping", errbuf, errlen);
    PQclear(res);
    return e;
}
