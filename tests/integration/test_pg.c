/* Integration tests of arr_pg against the real PostgreSQL of the stack (ARR_PG_CONNINFO).
 *
 * Each test works in its own scratch schema test_pg_<random>, created by the suite's init and
 * dropped (CASCADE) by its fini, so runs never see each other's rows. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arrears/pg.h"

static char schema[64];
static arr_pg *admin; /* creates and drops the scratch schema */

static const char *conninfo(void)
{
    const char *c = getenv("ARR_PG_CONNINFO");
    if (!c || !*c)
        cr_assert_fail("ARR_PG_CONNINFO is not set: load var/stack.env (scripts/stack up) first");
    return c;
}

static void make_token(char *out, size_t len)
{
    unsigned char raw[32];
    FILE *f = fopen("/dev/urandom", "rb");
    cr_assert_not_null(f, "cannot open /dev/urandom");
    cr_assert_eq(fread(raw, 1, sizeof(raw), f), sizeof(raw));
    fclose(f);
    size_t i = 0;
    for (; i + 1 < len && i < sizeof(raw); i++)
        out[i] = (char)('a' + raw[i] % 26);
    out[i] = '\0';
}

static arr_pg *connect_or_fail(void)
{
    arr_pg *pg = NULL;
    char err[512] = "";
    arr_err e = arr_pg_connect(conninfo(), &pg, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "connect: %s (%s)", arr_strerror(e), err);
    cr_assert_not_null(pg);
    return pg;
}

/* Runs SQL (printf-style) on pg and fails the test on error. */
static void exec_ok(arr_pg *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void exec_ok(arr_pg *pg, const char *fmt, ...)
{
    char sql[2048], err[512] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    arr_err e = arr_pg_exec(pg, sql, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "%s: %s (%s)", sql, arr_strerror(e), err);
}

/* First column of the first row of a query, as a long. */
static long query_long(arr_pg *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static long query_long(arr_pg *pg, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(arr_pg_conn(pg), sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    cr_assert_eq(PQntuples(res), 1, "%s: %d rows", sql, PQntuples(res));
    long v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

static void setup(void)
{
    char tok[11];
    make_token(tok, sizeof(tok));
    snprintf(schema, sizeof(schema), "test_pg_%s", tok);
    admin = connect_or_fail();
    exec_ok(admin, "CREATE SCHEMA %s", schema);
    exec_ok(admin,
            "CREATE TABLE %s.items (id integer PRIMARY KEY, name text, amount bigint NOT NULL)",
            schema);
}

static void teardown(void)
{
    if (!admin)
        return;
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    arr_pg_exec(admin, sql, NULL, 0);
    arr_pg_free(admin);
    admin = NULL;
}

TestSuite(pg, .init = setup, .fini = teardown, .timeout = 60);

Test(pg, prepare_run_and_affected)
{
    arr_pg *pg = connect_or_fail();
    char sql[512], err[512] = "";
    snprintf(sql, sizeof(sql), "INSERT INTO %s.items (id, name, amount) VALUES ($1, $2, $3)",
             schema);
    cr_assert_eq(arr_pg_prepare(pg, "ins", sql, 3, err, sizeof(err)), ARR_OK, "%s", err);
    /* Preparing the same name again is a no-op, not an error. */
    cr_assert_eq(arr_pg_prepare(pg, "ins", sql, 3, err, sizeof(err)), ARR_OK, "%s", err);

    const char *r1[] = {"1", "alpha", "100"};
    const char *r2[] = {"2", NULL, "250"};
    const char *r3[] = {"3", "gamma \"quoted\" 'single'", "-7"};
    cr_assert_eq(arr_pg_run(pg, "ins", 3, r1, NULL, err, sizeof(err)), ARR_OK, "%s", err);
    cr_expect_eq(arr_pg_affected(pg), 1);
    cr_assert_eq(arr_pg_run(pg, "ins", 3, r2, NULL, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_eq(arr_pg_run(pg, "ins", 3, r3, NULL, err, sizeof(err)), ARR_OK, "%s", err);

    snprintf(sql, sizeof(sql), "UPDATE %s.items SET amount = amount + 1 WHERE amount > $1",
             schema);
    cr_assert_eq(arr_pg_prepare(pg, "bump", sql, 1, err, sizeof(err)), ARR_OK, "%s", err);
    const char *zero[] = {"0"};
    cr_assert_eq(arr_pg_run(pg, "bump", 1, zero, NULL, err, sizeof(err)), ARR_OK, "%s", err);
    cr_expect_eq(arr_pg_affected(pg), 2, "UPDATE touched %ld rows", arr_pg_affected(pg));
    const char *huge[] = {"1000000"};
    cr_assert_eq(arr_pg_run(pg, "bump", 1, huge, NULL, err, sizeof(err)), ARR_OK, "%s", err);
    cr_expect_eq(arr_pg_affected(pg), 0);

    snprintf(sql, sizeof(sql), "INSERT INTO %s.items (id, name, amount) VALUES ($1, 'x', 0) "
             "ON CONFLICT (id) DO NOTHING", schema);
    cr_assert_eq(arr_pg_prepare(pg, "ins_once", sql, 1, err, sizeof(err)), ARR_OK, "%s", err);
    const char *dup[] = {"1"}, *fresh[] = {"4"};
    cr_assert_eq(arr_pg_run(pg, "ins_once", 1, dup, NULL, err, sizeof(err)), ARR_OK, "%s", err);
    cr_expect_eq(arr_pg_affected(pg), 0, "ON CONFLICT DO NOTHING reported %ld rows",
                 arr_pg_affected(pg));
    cr_assert_eq(arr_pg_run(pg, "ins_once", 1, fresh, NULL, err, sizeof(err)), ARR_OK, "%s",
                 err);
    cr_expect_eq(arr_pg_affected(pg), 1);

    snprintf(sql, sizeof(sql), "SELECT id, name, amount FROM %s.items WHERE id <= $1 ORDER BY id",
             schema);
    cr_assert_eq(arr_pg_prepare(pg, "sel", sql, 1, err, sizeof(err)), ARR_OK, "%s", err);
    const char *three[] = {"3"};
    PGresult *res = NULL;
    cr_assert_eq(arr_pg_run(pg, "sel", 1, three, &res, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_not_null(res);
    cr_assert_eq(PQntuples(res), 3);
    cr_expect_str_eq(PQgetvalue(res, 0, 1), "alpha");
    cr_expect_str_eq(PQgetvalue(res, 0, 2), "101");
    cr_expect(PQgetisnull(res, 1, 1), "NULL parameter was not stored as SQL NULL");
    cr_expect_str_eq(PQgetvalue(res, 1, 2), "251");
    cr_expect_str_eq(PQgetvalue(res, 2, 1), "gamma \"quoted\" 'single'");
    cr_expect_str_eq(PQgetvalue(res, 2, 2), "-7");
    PQclear(res);

    /* A statement that does not exist is an error, and *out is NULL. */
    res = (PGresult *)1;
    cr_expect_neq(arr_pg_run(pg, "no_such_statement", 1, three, &res, err, sizeof(err)), ARR_OK);
    cr_expect_null(res);

    /* A bad statement is refused at prepare time with the server's message. */
    err[0] = '\0';
    cr_expect_eq(arr_pg_prepare(pg, "bad", "SELEC 1", 0, err, sizeof(err)), ARR_EPG);
    cr_expect(strstr(err, "42601") != NULL, "syntax error without SQLSTATE: %s", err);
    arr_pg_free(pg);
}

Test(pg, transactions_rollback_and_commit)
{
    arr_pg *pg = connect_or_fail();
    arr_pg *other = connect_or_fail();
    char err[512] = "";
    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    exec_ok(pg, "INSERT INTO %s.items VALUES (1, 'one', 1), (2, 'two', 2)", schema);
    cr_expect_eq(query_long(pg, "SELECT count(*) FROM %s.items", schema), 2);
    cr_expect_eq(query_long(other, "SELECT count(*) FROM %s.items", schema), 0,
                 "uncommitted rows are visible to another connection");
    arr_pg_rollback(pg);
    cr_expect_eq(query_long(pg, "SELECT count(*) FROM %s.items", schema), 0,
                 "rolled-back rows are still there");

    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    exec_ok(pg, "INSERT INTO %s.items VALUES (3, 'three', 3)", schema);
    cr_assert_eq(arr_pg_commit(pg, err, sizeof(err)), ARR_OK, "commit: %s", err);
    cr_expect_eq(query_long(other, "SELECT count(*) FROM %s.items", schema), 1);
    cr_expect_eq(query_long(other, "SELECT amount FROM %s.items WHERE id = 3", schema), 3);

    /* Rollback outside a transaction is harmless (and its warning is not for the test log). */
    exec_ok(pg, "SET client_min_messages = error");
    arr_pg_rollback(pg);
    cr_expect_eq(arr_pg_ping(pg, err, sizeof(err)), ARR_OK, "%s", err);
    arr_pg_free(other);
    arr_pg_free(pg);
}

#define COPY_ROWS 10000

static void copy_text(int i, char *out, size_t cap)
{
    switch (i % 5) {
    case 0:
        snprintf(out, cap, "plain %d", i);
        break;
    case 1:
        snprintf(out, cap, "tab\there %d\t", i);
        break;
    case 2:
        snprintf(out, cap, "line\nbreak %d\n", i);
        break;
    case 3:
        snprintf(out, cap, "back\\slash %d \\N \\. \\t", i);
        break;
    default:
        snprintf(out, cap, "all\t\n\\\r %d", i);
        break;
    }
}

Test(pg, copy_ten_thousand_rows_with_escapes)
{
    arr_pg *pg = connect_or_fail();
    char err[512] = "";
    exec_ok(pg, "CREATE TABLE %s.copied (id integer PRIMARY KEY, txt text NOT NULL, n bigint)",
            schema);
    char sql[256];
    snprintf(sql, sizeof(sql), "COPY %s.copied (id, txt, n) FROM STDIN", schema);
    cr_assert_eq(arr_pg_copy_begin(pg, sql, err, sizeof(err)), ARR_OK, "%s", err);
    char chunk[65536];
    size_t used = 0;
    for (int i = 0; i < COPY_ROWS; i++) {
        char raw[128], esc[256], line[320];
        copy_text(i, raw, sizeof(raw));
        cr_assert_eq(arr_pg_copy_escape(raw, esc, sizeof(esc)), ARR_OK);
        int len = snprintf(line, sizeof(line), "%d\t%s\t%s\n", i, esc, i % 7 ? "42" : "\\N");
        if (used + (size_t)len > sizeof(chunk)) {
            cr_assert_eq(arr_pg_copy_put(pg, chunk, used, err, sizeof(err)), ARR_OK, "%s", err);
            used = 0;
        }
        memcpy(chunk + used, line, (size_t)len);
        used += (size_t)len;
    }
    cr_assert_eq(arr_pg_copy_put(pg, chunk, used, err, sizeof(err)), ARR_OK, "%s", err);
    long rows = -1;
    cr_assert_eq(arr_pg_copy_end(pg, &rows, err, sizeof(err)), ARR_OK, "%s", err);
    cr_assert_eq(rows, COPY_ROWS, "COPY reported %ld rows", rows);

    snprintf(sql, sizeof(sql), "SELECT id, txt, n FROM %s.copied ORDER BY id", schema);
    PGresult *res = PQexec(arr_pg_conn(pg), sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(res));
    cr_assert_eq(PQntuples(res), COPY_ROWS);
    for (int i = 0; i < COPY_ROWS; i++) {
        char raw[128];
        copy_text(i, raw, sizeof(raw));
        cr_assert_eq(atoi(PQgetvalue(res, i, 0)), i);
        cr_assert_str_eq(PQgetvalue(res, i, 1), raw, "row %d text differs", i);
        if (i % 7)
            cr_assert_str_eq(PQgetvalue(res, i, 2), "42");
        else
            cr_assert(PQgetisnull(res, i, 2), "row %d: \\N did not load as NULL", i);
    }
    PQclear(res);

    /* A COPY that breaks a constraint fails as a whole and loads nothing. */
    snprintf(sql, sizeof(sql), "COPY %s.copied (id, txt, n) FROM STDIN", schema);
    cr_assert_eq(arr_pg_copy_begin(pg, sql, err, sizeof(err)), ARR_OK, "%s", err);
    const char *dup = "20000\tnew\t1\n0\tduplicate\t1\n";
    cr_assert_eq(arr_pg_copy_put(pg, dup, strlen(dup), err, sizeof(err)), ARR_OK, "%s", err);
    err[0] = '\0';
    rows = -1;
    cr_expect_eq(arr_pg_copy_end(pg, &rows, err, sizeof(err)), ARR_EINVAL, "%s", err);
    cr_expect(strstr(err, "23505") != NULL, "no SQLSTATE in '%s'", err);
    cr_expect_eq(query_long(pg, "SELECT count(*) FROM %s.copied", schema), COPY_ROWS);

    /* COPY into a missing table is refused at begin. */
    snprintf(sql, sizeof(sql), "COPY %s.nope FROM STDIN", schema);
    cr_expect_eq(arr_pg_copy_begin(pg, sql, err, sizeof(err)), ARR_EPG);
    cr_expect(strstr(err, "42P01") != NULL, "%s", err);
    cr_expect_eq(arr_pg_ping(pg, err, sizeof(err)), ARR_OK, "%s", err);
    arr_pg_free(pg);
}

Test(pg, copy_escape_limits)
{
    char out[16];
    cr_assert_eq(arr_pg_copy_escape("a\tb\nc\\d\re", out, sizeof(out)), ARR_OK);
    cr_expect_str_eq(out, "a\\tb\\nc\\\\d\\re");
    cr_assert_eq(arr_pg_copy_escape("", out, sizeof(out)), ARR_OK);
    cr_expect_str_eq(out, "");
    /* 15 plain bytes + NUL fit exactly; 16 do not; an escape that would straddle the end
     * does not fit either. */
    cr_expect_eq(arr_pg_copy_escape("123456789012345", out, sizeof(out)), ARR_OK);
    cr_expect_eq(arr_pg_copy_escape("1234567890123456", out, sizeof(out)), ARR_ELIMIT);
    cr_expect_eq(arr_pg_copy_escape("12345678901234\t", out, sizeof(out)), ARR_ELIMIT);
}

Test(pg, unique_violation_is_einval_with_sqlstate)
{
    arr_pg *pg = connect_or_fail();
    char sql[256], err[512] = "";
    snprintf(sql, sizeof(sql), "INSERT INTO %s.items (id, name, amount) VALUES ($1, $2, $3)",
             schema);
    cr_assert_eq(arr_pg_prepare(pg, "ins", sql, 3, err, sizeof(err)), ARR_OK, "%s", err);
    const char *row[] = {"7", "seven", "7"};
    cr_assert_eq(arr_pg_run(pg, "ins", 3, row, NULL, err, sizeof(err)), ARR_OK, "%s", err);
    err[0] = '\0';
    arr_err e = arr_pg_run(pg, "ins", 3, row, NULL, err, sizeof(err));
    cr_assert_eq(e, ARR_EINVAL, "duplicate key gave %s (%s)", arr_strerror(e), err);
    cr_expect(strstr(err, "23505") != NULL, "SQLSTATE missing: %s", err);
    cr_expect(strstr(err, "duplicate key") != NULL, "server message missing: %s", err);

    /* A data error (22xxx) is an input error too. */
    const char *bad[] = {"8", "eight", "not a number"};
    err[0] = '\0';
    e = arr_pg_run(pg, "ins", 3, bad, NULL, err, sizeof(err));
    cr_expect_eq(e, ARR_EINVAL, "bad bigint gave %s (%s)", arr_strerror(e), err);
    cr_expect(strstr(err, "22P02") != NULL, "SQLSTATE missing: %s", err);
    /* A NOT NULL violation (23502). */
    const char *null_amount[] = {"9", "nine", NULL};
    e = arr_pg_run(pg, "ins", 3, null_amount, NULL, err, sizeof(err));
    cr_expect_eq(e, ARR_EINVAL, "NULL amount gave %s (%s)", arr_strerror(e), err);
    cr_expect(strstr(err, "23502") != NULL, "SQLSTATE missing: %s", err);

    /* An undefined table is a server error, not an input error. */
    e = arr_pg_exec(pg, "SELECT * FROM no_such_table_for_arrears_tests", err, sizeof(err));
    cr_expect_eq(e, ARR_EPG, "undefined table gave %s", arr_strerror(e));
    cr_expect(strstr(err, "42P01") != NULL, "%s", err);
    cr_expect_eq(query_long(pg, "SELECT count(*) FROM %s.items", schema), 1);
    arr_pg_free(pg);
}

Test(pg, serialization_failure_is_eabort)
{
    arr_pg *a = connect_or_fail();
    arr_pg *b = connect_or_fail();
    exec_ok(admin, "CREATE TABLE %s.oncall (doctor text PRIMARY KEY, on_call boolean NOT NULL)",
            schema);
    exec_ok(admin, "INSERT INTO %s.oncall VALUES ('alice', true), ('bob', true)", schema);

    /* Classic write skew: each checks that someone else stays on call, then leaves. */
    exec_ok(a, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    exec_ok(b, "BEGIN ISOLATION LEVEL SERIALIZABLE");
    cr_assert_eq(query_long(a, "SELECT count(*) FROM %s.oncall WHERE on_call", schema), 2);
    cr_assert_eq(query_long(b, "SELECT count(*) FROM %s.oncall WHERE on_call", schema), 2);
    exec_ok(a, "UPDATE %s.oncall SET on_call = false WHERE doctor = 'alice'", schema);
    char sql[256], err[512] = "";
    snprintf(sql, sizeof(sql), "UPDATE %s.oncall SET on_call = false WHERE doctor = 'bob'",
             schema);
    arr_err eb = arr_pg_exec(b, sql, err, sizeof(err));
    cr_assert_eq(eb, ARR_OK, "second update: %s (%s)", arr_strerror(eb), err);
    char erra[512] = "";
    arr_err ea = arr_pg_commit(a, erra, sizeof(erra));
    cr_assert_eq(ea, ARR_OK, "first commit: %s (%s)", arr_strerror(ea), erra);
    err[0] = '\0';
    eb = arr_pg_commit(b, err, sizeof(err));
    cr_assert_eq(eb, ARR_EABORT, "write skew commit gave %s (%s)", arr_strerror(eb), err);
    cr_expect(strstr(err, "40001") != NULL, "SQLSTATE missing: %s", err);

    cr_expect_eq(query_long(admin, "SELECT count(*) FROM %s.oncall WHERE on_call", schema), 1,
                 "both transactions took effect");
    cr_expect_eq(arr_pg_ping(b, err, sizeof(err)), ARR_OK, "%s", err);
    arr_pg_free(a);
    arr_pg_free(b);
}

Test(pg, commit_of_failed_transaction_is_not_ok)
{
    arr_pg *pg = connect_or_fail();
    char err[512] = "";
    cr_assert_eq(arr_pg_begin(pg, err, sizeof(err)), ARR_OK, "%s", err);
    exec_ok(pg, "INSERT INTO %s.items VALUES (1, 'kept?', 1)", schema);
    cr_assert_neq(arr_pg_exec(pg, "SELECT 1/0", err, sizeof(err)), ARR_OK);
    cr_expect(strstr(err, "22012") != NULL, "division by zero SQLSTATE missing: %s", err);
    err[0] = '\0';
    arr_err e = arr_pg_commit(pg, err, sizeof(err));
    cr_assert_neq(e, ARR_OK, "COMMIT of a failed transaction reported success");
    cr_expect_eq(e, ARR_EABORT, "gave %s", arr_strerror(e));
    cr_expect_neq(err[0], '\0', "no error message");
    cr_expect_eq(query_long(pg, "SELECT count(*) FROM %s.items", schema), 0,
                 "a row of the failed transaction was kept");
    cr_expect_eq(arr_pg_ping(pg, err, sizeof(err)), ARR_OK, "%s", err);
    arr_pg_free(pg);
}

Test(pg, connect_to_closed_port_fails)
{
    arr_pg *pg = (arr_pg *)0x1;
    char err[512] = "";
    time_t t0 = time(NULL);
    arr_err e = arr_pg_connect("host=127.0.0.1 port=1 dbname=arrears user=arrears "
                               "connect_timeout=3",
                               &pg, err, sizeof(err));
    cr_assert_eq(e, ARR_EPG, "gave %s", arr_strerror(e));
    cr_expect_eq(pg, (arr_pg *)0x1, "out was written on failure");
    cr_expect_neq(err[0], '\0', "no message");
    cr_expect(strstr(err, "connect") != NULL, "message: %s", err);
    cr_expect_leq(time(NULL) - t0, 5);
}

Test(pg, lost_connection_then_reconnect_keeps_statements)
{
    arr_pg *pg = connect_or_fail();
    char sql[256], err[512] = "";
    exec_ok(pg, "INSERT INTO %s.items VALUES (1, 'one', 10)", schema);
    snprintf(sql, sizeof(sql), "SELECT amount FROM %s.items WHERE id = $1", schema);
    cr_assert_eq(arr_pg_prepare(pg, "amount", sql, 1, err, sizeof(err)), ARR_OK, "%s", err);
    long pid = query_long(pg, "SELECT pg_backend_pid()");
    cr_assert_eq(query_long(admin, "SELECT pg_terminate_backend(%ld)::int", pid), 1);

    const char *one[] = {"1"};
    PGresult *res = NULL;
    arr_err e = ARR_OK;
    for (int i = 0; i < 50 && e == ARR_OK; i++) { /* termination is asynchronous */
        e = arr_pg_run(pg, "amount", 1, one, &res, err, sizeof(err));
        PQclear(res);
        res = NULL;
        if (e == ARR_OK) {
            struct timespec ts = {0, 50 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    cr_assert_eq(e, ARR_EPG, "a query on a terminated connection gave %s (%s)", arr_strerror(e),
                 err);
    cr_assert_eq(arr_pg_reconnect(pg, err, sizeof(err)), ARR_OK, "reconnect: %s", err);
    cr_assert_eq(arr_pg_run(pg, "amount", 1, one, &res, err, sizeof(err)), ARR_OK,
                 "statement not prepared again after reconnect: %s", err);
    cr_assert_eq(PQntuples(res), 1);
    cr_expect_str_eq(PQgetvalue(res, 0, 0), "10");
    PQclear(res);
    cr_expect_neq(query_long(pg, "SELECT pg_backend_pid()"), pid);
    arr_pg_free(pg);
}
