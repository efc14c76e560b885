/* Integration tests of arr_migrate against the real PostgreSQL of the stack.
 *
 * Each test creates a scratch database arrears_test_<random> (the stack's user is a superuser)
 * and applies deploy/sql to it; the suite's fini disconnects, drops the database and removes
 * the temporary folder of SQL copies, also when an assertion failed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrears/migrate.h"
#include "arrears/pg.h"

#define SQL_DIR ARR_SOURCE_DIR "/deploy/sql"

static char dbname[64];
static char tmpdir[128];
static arr_pg *admin; /* on the stack's database: creates and drops the scratch one */
static arr_pg *db;    /* on the scratch database */

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

/* The stack's conninfo (key=value or URI) with dbname replaced, as key='value' pairs. */
static void conninfo_for(const char *database, char *out, size_t cap)
{
    char *why = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo(), &why);
    cr_assert_not_null(opts, "ARR_PG_CONNINFO does not parse: %s", why ? why : "?");
    size_t used = 0;
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = strcmp(o->keyword, "dbname") == 0 ? database : o->val;
        if (!v)
            continue;
        char esc[512];
        size_t j = 0;
        for (const char *p = v; *p && j + 2 < sizeof(esc); p++) {
            if (*p == '\'' || *p == '\\')
                esc[j++] = '\\';
            esc[j++] = *p;
        }
        esc[j] = '\0';
        int n = snprintf(out + used, cap - used, "%s%s='%s'", used ? " " : "", o->keyword, esc);
        cr_assert(n > 0 && (size_t)n < cap - used, "conninfo too long");
        used += (size_t)n;
    }
    PQconninfoFree(opts);
}

static arr_pg *connect_or_fail(const char *info)
{
    arr_pg *pg = NULL;
    char err[512] = "";
    arr_err e = arr_pg_connect(info, &pg, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "connect: %s (%s)", arr_strerror(e), err);
    return pg;
}

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

/* First column of the only row, as text (static buffer). */
static const char *query_text(arr_pg *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *query_text(arr_pg *pg, const char *fmt, ...)
{
    static char out[256];
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(arr_pg_conn(pg), sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(res));
    cr_assert_eq(PQntuples(res), 1, "%s: %d rows", sql, PQntuples(res));
    snprintf(out, sizeof(out), "%s", PQgetisnull(res, 0, 0) ? "<null>" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

/* "NNN_name.sql", the rule arr_migrate uses; -1 otherwise. */
static int file_number(const char *name)
{
    size_t len = strlen(name);
    if (len < 9 || strcmp(name + len - 4, ".sql") != 0 || name[3] != '_')
        return -1;
    for (int i = 0; i < 3; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
    }
    return atoi(name);
}

/* Counts the migration files of dir and their highest number. */
static int count_migrations(const char *dir, int *highest)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    int n = 0;
    *highest = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        int v = file_number(ent->d_name);
        if (v < 0)
            continue;
        n++;
        if (v > *highest)
            *highest = v;
    }
    closedir(d);
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
}

/* Copies every migration of SQL_DIR into tmpdir; appends `suffix` to the file named `edit`. */
static void copy_migrations(const char *edit, const char *suffix)
{
    DIR *d = opendir(SQL_DIR);
    cr_assert_not_null(d);
    struct dirent *ent;
    int edited = 0;
    while ((ent = readdir(d)) != NULL) {
        if (file_number(ent->d_name) < 0)
            continue;
        char src[1024], dst[1024];
        snprintf(src, sizeof(src), "%s/%s", SQL_DIR, ent->d_name);
        snprintf(dst, sizeof(dst), "%s/%s", tmpdir, ent->d_name);
        FILE *in = fopen(src, "rb");
        cr_assert_not_null(in, "cannot read %s", src);
        FILE *out = fopen(dst, "wb");
        cr_assert_not_null(out, "cannot write %s", dst);
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
            cr_assert_eq(fwrite(buf, 1, n, out), n);
        if (edit && strcmp(ent->d_name, edit) == 0) {
            fputs(suffix, out);
            edited = 1;
        }
        fclose(in);
        cr_assert_eq(fclose(out), 0);
    }
    closedir(d);
    cr_assert(!edit || edited, "%s not found in %s", edit, SQL_DIR);
}

/* The lowest-numbered migration file (the one surely applied first). */
static void first_migration(char *out, size_t cap)
{
    DIR *d = opendir(SQL_DIR);
    cr_assert_not_null(d);
    struct dirent *ent;
    int best = 1000;
    while ((ent = readdir(d)) != NULL) {
        int v = file_number(ent->d_name);
        if (v >= 0 && v < best) {
            best = v;
            snprintf(out, cap, "%s", ent->d_name);
        }
    }
    closedir(d);
    cr_assert_lt(best, 1000, "no migration in %s", SQL_DIR);
}

static void setup(void)
{
    char tok[11];
    make_token(tok, sizeof(tok));
    snprintf(dbname, sizeof(dbname), "arrears_test_%s", tok);
    admin = connect_or_fail(conninfo());
    exec_ok(admin, "CREATE DATABASE %s", dbname);
    char info[2048];
    conninfo_for(dbname, info, sizeof(info));
    db = connect_or_fail(info);
    cr_assert_str_eq(query_text(db, "SELECT current_database()"), dbname);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/arrears-test-migrate-%s-XXXXXX", tok);
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static void teardown(void)
{
    arr_pg_free(db);
    db = NULL;
    if (admin) {
        char sql[256];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
        arr_pg_exec(admin, sql, NULL, 0);
        arr_pg_free(admin);
        admin = NULL;
    }
    if (tmpdir[0]) {
        DIR *d = opendir(tmpdir);
        if (d) {
            struct dirent *ent;
            while ((ent = readdir(d)) != NULL) {
                if (ent->d_name[0] == '.')
                    continue;
                char path[1024];
                snprintf(path, sizeof(path), "%s/%s", tmpdir, ent->d_name);
                unlink(path);
            }
            closedir(d);
        }
        rmdir(tmpdir);
        tmpdir[0] = '\0';
    }
}

TestSuite(migrate, .init = setup, .fini = teardown, .timeout = 60);

static void apply_ok(const char *dir, arr_migrate_result *r)
{
    char err[1024] = "";
    arr_err e = arr_migrate_apply(db, dir, r, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "migrate %s: %s (%s)", dir, arr_strerror(e), err);
}

Test(migrate, applies_every_file_once)
{
    int highest = 0;
    int files = count_migrations(SQL_DIR, &highest);
    cr_assert_gt(files, 0);
    int version = -1;
    char err[512] = "";
    cr_assert_eq(arr_migrate_version(db, &version, err, sizeof(err)), ARR_OK,
                 "version of an empty database: %s", err);
    cr_expect_eq(version, 0);

    arr_migrate_result r = {-1, -1, -1};
    apply_ok(SQL_DIR, &r);
    cr_expect_eq(r.applied, files, "applied %d of %d files", r.applied, files);
    cr_expect_eq(r.total, files);
    cr_expect_eq(r.version, highest, "version %d, highest file %d", r.version, highest);
    cr_expect_eq(atoi(query_text(db, "SELECT count(*) FROM public.arr_schema_migrations")), files);
    cr_expect_eq(atoi(query_text(db, "SELECT count(*) FROM public.arr_schema_migrations "
                                     "WHERE sha256 ~ '^[0-9a-f]{64}$' AND name ~ '^[0-9]{3}_'")),
                 files, "a recorded migration lacks its name or SHA-256");

    arr_migrate_result again = {-1, -1, -1};
    apply_ok(SQL_DIR, &again);
    cr_expect_eq(again.applied, 0, "a second run applied %d files", again.applied);
    cr_expect_eq(again.total, files);
    cr_expect_eq(again.version, highest);
    cr_assert_eq(arr_migrate_version(db, &version, err, sizeof(err)), ARR_OK, "%s", err);
    cr_expect_eq(version, highest);
    /* The session lock was released. */
    cr_expect_str_eq(query_text(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                    "AND pid = pg_backend_pid()"),
                     "0");

    /* A folder that does not exist. */
    arr_migrate_result none;
    err[0] = '\0';
    cr_expect_eq(arr_migrate_apply(db, "/nonexistent/arrears/sql", &none, err, sizeof(err)),
                 ARR_ENOTFOUND);
    cr_expect(strstr(err, "/nonexistent/arrears/sql") != NULL, "message: %s", err);
}

Test(migrate, creates_the_service_schemas)
{
    arr_migrate_result r;
    apply_ok(SQL_DIR, &r);
    const char *tables[] = {"ingest.accounts", "ingest.rejects", "outreach.steps",
                            "reconciliation.ledger", "reconciliation.payments"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        cr_expect_str_eq(query_text(db, "SELECT to_regclass('%s')::text", tables[i]), tables[i],
                         "table %s is missing", tables[i]);
    const char *services[] = {"ingest", "scoring", "outreach", "reconciliation", "audit"};
    /* The inboxes of the services a replay reads number their claims (013). */
    const char *inbox_columns[] = {"event_id,topic,kafka_partition,kafka_offset,processed_at",
                                   "event_id,topic,kafka_partition,kafka_offset,processed_at,seq",
                                   "event_id,topic,kafka_partition,kafka_offset,processed_at,seq",
                                   "event_id,topic,kafka_partition,kafka_offset,processed_at,seq",
                                   "event_id,topic,kafka_partition,kafka_offset,processed_at"};
    for (size_t i = 0; i < 5; i++) {
        cr_expect_neq(
            strcmp(query_text(db, "SELECT to_regclass('%s.outbox')::text", services[i]), "<null>"),
            0, "%s.outbox is missing", services[i]);
        cr_expect_neq(
            strcmp(query_text(db, "SELECT to_regclass('%s.inbox')::text", services[i]), "<null>"),
            0, "%s.inbox is missing", services[i]);
        cr_expect_str_eq(query_text(db,
                                    "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)"
                                    " FROM information_schema.columns"
                                    " WHERE table_schema = '%s' AND table_name = 'outbox'",
                                    services[i]),
                         "id,topic,key,value,created_at");
        cr_expect_str_eq(query_text(db,
                                    "SELECT string_agg(column_name, ',' ORDER BY ordinal_position)"
                                    " FROM information_schema.columns"
                                    " WHERE table_schema = '%s' AND table_name = 'inbox'",
                                    services[i]),
                         inbox_columns[i]);
    }

    /* The ledger refuses a balance that does not add up... */
    char err[512] = "";
    arr_err e = arr_pg_exec(db,
                            "INSERT INTO reconciliation.ledger (tenant, account_id, currency,"
                            " placed_cents, applied_cents, reversed_cents, balance_cents,"
                            " updated_at) VALUES ('acme', 'A-1', 'EUR', 10000, 2500, 0, 8000,"
                            " now())",
                            err, sizeof(err));
    cr_expect_eq(e, ARR_EINVAL, "inconsistent balance gave %s (%s)", arr_strerror(e), err);
    cr_expect(strstr(err, "23514") != NULL, "not a CHECK violation: %s", err);
    /* ...and takes one that does. */
    e = arr_pg_exec(db,
                    "INSERT INTO reconciliation.ledger (tenant, account_id, currency,"
                    " placed_cents, applied_cents, reversed_cents, balance_cents, updated_at)"
                    " VALUES ('acme', 'A-1', 'EUR', 10000, 2500, 500, 8000, now())",
                    err, sizeof(err));
    cr_expect_eq(e, ARR_OK, "consistent balance refused: %s", err);
    cr_expect_str_eq(query_text(db, "SELECT count(*) FROM reconciliation.ledger"), "1");
}

Test(migrate, refuses_a_changed_file)
{
    char first[256];
    first_migration(first, sizeof(first));
    arr_migrate_result r;
    apply_ok(SQL_DIR, &r);
    int version = r.version;

    copy_migrations(first, "\n-- edited after it was applied\n");
    arr_migrate_result changed = {-1, -1, -1};
    char err[1024] = "";
    arr_err e = arr_migrate_apply(db, tmpdir, &changed, err, sizeof(err));
    cr_assert_eq(e, ARR_ECONFIG, "a changed file gave %s (%s)", arr_strerror(e), err);
    cr_expect(strstr(err, "changed after it was applied") != NULL, "message: %s", err);
    cr_expect(strstr(err, first) != NULL, "message does not name %s: %s", first, err);
    cr_expect_eq(changed.applied, 0);
    int v = -1;
    cr_assert_eq(arr_migrate_version(db, &v, err, sizeof(err)), ARR_OK, "%s", err);
    cr_expect_eq(v, version);
    /* The session lock was released on the error path too. */
    cr_expect_str_eq(query_text(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                    "AND pid = pg_backend_pid()"),
                     "0");
}

Test(migrate, broken_new_file_leaves_nothing_applied)
{
    int highest = 0;
    int files = count_migrations(SQL_DIR, &highest);
    cr_assert_lt(highest, 999, "999 is taken by a real migration");
    copy_migrations(NULL, NULL);
    char path[1024];
    snprintf(path, sizeof(path), "%s/999_broken.sql", tmpdir);
    write_file(path, "CREATE TABLE public.broken_marker (x integer);\n"
                     "INSERT INTO public.broken_marker VALUES (1);\n"
                     "SELEC this is not sql;\n");

    arr_migrate_result r = {-1, -1, -1};
    char err[1024] = "";
    arr_err e = arr_migrate_apply(db, tmpdir, &r, err, sizeof(err));
    cr_assert_neq(e, ARR_OK, "a broken migration was applied");
    cr_expect_eq(e, ARR_EPG, "gave %s (%s)", arr_strerror(e), err);
    cr_expect(strstr(err, "999_broken.sql") != NULL, "message does not name the file: %s", err);
    cr_expect(strstr(err, "42601") != NULL, "message lacks the SQLSTATE: %s", err);
    cr_expect_eq(r.applied, files, "the good files before it: %d applied", r.applied);

    /* Nothing of the broken file remains. */
    cr_expect_str_eq(query_text(db, "SELECT to_regclass('public.broken_marker')::text"), "<null>",
                     "the broken file's first statement was kept");
    cr_expect_str_eq(
        query_text(db, "SELECT count(*) FROM public.arr_schema_migrations WHERE version = 999"),
        "0");
    int v = -1;
    cr_assert_eq(arr_migrate_version(db, &v, err, sizeof(err)), ARR_OK, "%s", err);
    cr_expect_eq(v, highest);
    cr_expect_eq(PQtransactionStatus(arr_pg_conn(db)), PQTRANS_IDLE, "a transaction was left open");
    cr_expect_str_eq(query_text(db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                    "AND pid = pg_backend_pid()"),
                     "0", "the migration lock was not released after the failure");

    /* Once fixed, it applies. */
    write_file(path, "CREATE TABLE public.broken_marker (x integer);\n"
                     "INSERT INTO public.broken_marker VALUES (1);\n");
    arr_migrate_result fixed;
    apply_ok(tmpdir, &fixed);
    cr_expect_eq(fixed.applied, 1);
    cr_expect_eq(fixed.version, 999);
    cr_expect_str_eq(query_text(db, "SELECT count(*) FROM public.broken_marker"), "1");
}

Test(migrate, refuses_two_files_with_one_number)
{
    char a[1024], b[1024];
    snprintf(a, sizeof(a), "%s/005_one.sql", tmpdir);
    snprintf(b, sizeof(b), "%s/005_two.sql", tmpdir);
    write_file(a, "CREATE TABLE public.dup_one (x integer);\n");
    write_file(b, "CREATE TABLE public.dup_two (x integer);\n");
    arr_migrate_result r = {-1, -1, -1};
    char err[1024] = "";
    arr_err e = arr_migrate_apply(db, tmpdir, &r, err, sizeof(err));
    cr_assert_eq(e, ARR_ECONFIG, "two files numbered 005 gave %s (%s)", arr_strerror(e), err);
    cr_expect(strstr(err, "005_one.sql") != NULL && strstr(err, "005_two.sql") != NULL,
              "message does not name both files: %s", err);
    cr_expect_eq(r.applied, 0);
    cr_expect_str_eq(query_text(db, "SELECT to_regclass('public.dup_one')::text"), "<null>");
    cr_expect_str_eq(query_text(db, "SELECT to_regclass('public.dup_two')::text"), "<null>");
}
