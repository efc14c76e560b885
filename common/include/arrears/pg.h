/* arr_pg: one PostgreSQL connection (libpq) with named prepared statements, transactions and
 * a COPY bulk path. Not thread-safe: one connection per thread.
 *
 * Statements registered with arr_pg_prepare are remembered and prepared again after a
 * reconnect. Errors fill errbuf with the SQLSTATE and the server message; they map to
 * ARR_EABORT for serialization failures and deadlocks (40xxx: redo the transaction),
 * ARR_EPG for a lost connection (08xxx, retriable after arr_pg_reconnect) and other server
 * errors, ARR_EINVAL for data errors (22xxx) and constraint violations (23xxx). */
#ifndef ARREARS_PG_H
#define ARREARS_PG_H

#include <stddef.h>
#include <libpq-fe.h>
#include "arrears/buf.h"
#include "arrears/err.h"

typedef struct arr_pg arr_pg;

arr_err arr_pg_connect(const char *conninfo, arr_pg **out, char *errbuf, size_t errlen);
arr_err arr_pg_reconnect(arr_pg *pg, char *errbuf, size_t errlen);
void arr_pg_free(arr_pg *pg);
PGconn *arr_pg_conn(arr_pg *pg); /* borrowed */

/* Simple query protocol: one or more statements, results discarded. */
arr_err arr_pg_exec(arr_pg *pg, const char *sql, char *errbuf, size_t errlen);

/* name and sql are copied. */
arr_err arr_pg_prepare(arr_pg *pg, const char *name, const char *sql, int nparams, char *errbuf,
                       size_t errlen);
/* Runs a prepared statement with text parameters (NULL entries are SQL NULL). When out is
 * non-NULL it receives the result (caller PQclear()s it); *out is NULL on error. */
arr_err arr_pg_run(arr_pg *pg, const char *name, int nparams, const char *const *params,
                   PGresult **out, char *errbuf, size_t errlen);
/* Rows affected by the last arr_pg_run without out, e.g. for INSERT .. ON CONFLICT DO NOTHING. */
long arr_pg_affected(const arr_pg *pg);

arr_err arr_pg_begin(arr_pg *pg, char *errbuf, size_t errlen);
arr_err arr_pg_commit(arr_pg *pg, char *errbuf, size_t errlen);
void arr_pg_rollback(arr_pg *pg); /* best effort, never fails the caller */

/* COPY ... FROM STDIN in text format. Rows are sent with arr_pg_copy_put (already escaped
 * text, one or more lines). *rows receives the count reported by the server. */
arr_err arr_pg_copy_begin(arr_pg *pg, const char *copy_sql, char *errbuf, size_t errlen);
arr_err arr_pg_copy_put(arr_pg *pg, const char *data, size_t len, char *errbuf, size_t errlen);
arr_err arr_pg_copy_end(arr_pg *pg, long *rows, char *errbuf, size_t errlen);
/* The three at once for rows already gathered in data (len bytes; nothing when 0); the first
 * error is the one reported. rows may be NULL. */
arr_err arr_pg_copy_buf(arr_pg *pg, const char *copy_sql, const char *data, size_t len,
                        long *rows, char *errbuf, size_t errlen);
/* Appends one field to a COPY text-format buffer: escaped, NULL as \N, then a tab, or a
 * newline when last is set. */
arr_err arr_pg_copy_field(arr_buf *b, const char *field, int last);
/* Escapes one field for COPY text format (backslash, tab, newline, carriage return). */
arr_err arr_pg_copy_escape(const char *in, char *out, size_t outlen);
/* Array literals for one-statement batches (unnest($1::text[], ...)): open with "{", add
 * elements (v NULL: NULL; quoted and escaped, so any text goes), close with "}". */
arr_err arr_pg_array_open(arr_buf *a);
arr_err arr_pg_array_add(arr_buf *a, const char *v);
arr_err arr_pg_array_close(arr_buf *a);

arr_err arr_pg_ping(arr_pg *pg, char *errbuf, size_t errlen);

#endif
