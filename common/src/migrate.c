#include "arrears/migrate.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define MIGRATION_MAX_FILES 1000
#define MIGRATION_MAX_BYTES (4 * 1024 * 1024)
#define MIGRATE_LOCK_KEY "7317001"

/* "NNN_name.sql" -> NNN, or -1. */
static int migration_number(const char *name)
{
    size_t len = strlen(name);
    if (len < 9 || strcmp(name + len - 4, ".sql") != 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
    }
    if (name[3] != '_')
        return -1;
    return (name[0] - '0') * 100 + (name[1] - '0') * 10 + (name[2] - '0');
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static arr_err list_files(const char *dir, char ***names, int *count, char *errbuf, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        arr_errbuf_set(errbuf, errlen, "migrations: cannot open folder %s", dir);
        return ARR_ENOTFOUND;
    }
    char **v = calloc(MIGRATION_MAX_FILES, sizeof(char *));
    int n = 0;
    arr_err e = v ? ARR_OK : ARR_ENOMEM;
    struct dirent *ent;
    while (!e && (ent = readdir(d)) != NULL) {
        if (migration_number(ent->d_name) < 0)
            continue;
        if (n == MIGRATION_MAX_FILES) {
            e = ARR_ELIMIT;
            break;
        }
        if (!(v[n++] = strdup(ent->d_name)))
            e = ARR_ENOMEM;
    }
    closedir(d);
    if (e) {
        for (int i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return e;
    }
    qsort(v, (size_t)n, sizeof(char *), cmp_names);
    for (int i = 1; !e && i < n; i++) {
        if (migration_number(v[i]) == migration_number(v[i - 1])) {
            arr_errbuf_set(errbuf, errlen, "migrations: %s and %s share a number", v[i - 1], v[i]);
            e = ARR_ECONFIG;
        }
    }
    if (e) {
        for (int i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return e;
    }
    *names = v;
    *count = n;
    return e;
}

static arr_err read_file(const char *path, char **out, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        arr_errbuf_set(errbuf, errlen, "migrations: cannot read %s", path);
        return ARR_EIO;
    }
    char *buf = malloc(MIGRATION_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MIGRATION_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf)
        return ARR_ENOMEM;
    if (n > MIGRATION_MAX_BYTES) {
        free(buf);
        arr_errbuf_set(errbuf, errlen, "migrations: %s is larger than %d bytes", path,
                       MIGRATION_MAX_BYTES);
        return ARR_ELIMIT;
    }
    buf[n] = '\0';
    *out = buf;
    return ARR_OK;
}

static void sha256_hex(const char *text, char hex[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

static const char *SQL_TABLE =
    "CREATE TABLE IF NOT EXISTS public.arr_schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

/* Applies one file unless it is recorded; refuses a recorded file whose text changed. */
static arr_err apply_one(arr_pg *pg, const char *dir, const char *name, int *applied, char *errbuf,
                         size_t errlen)
{
    char path[4096], num[8], hex[65];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(num, sizeof(num), "%d", migration_number(name));
    char *sql = NULL;
    arr_err e = read_file(path, &sql, errbuf, errlen);
    if (e)
        return e;
    sha256_hex(sql, hex);
    const char *q[] = {num};
    PGresult *res = NULL;
    e = arr_pg_run(pg, "arr_migration_get", 1, q, &res, errbuf, errlen);
    if (!e && PQntuples(res) == 1) {
        if (strcmp(PQgetvalue(res, 0, 0), hex) != 0) {
            arr_errbuf_set(errbuf, errlen, "migrations: %s changed after it was applied", name);
            e = ARR_ECONFIG;
        }
        PQclear(res);
        free(sql);
        return e;
    }
    PQclear(res);
    if (!e)
        e = arr_pg_begin(pg, errbuf, errlen);
    if (!e)
        e = arr_pg_exec(pg, sql, errbuf, errlen);
    const char *ins[] = {num, name, hex};
    if (!e)
        e = arr_pg_run(pg, "arr_migration_put", 3, ins, NULL, errbuf, errlen);
    if (!e)
        e = arr_pg_commit(pg, errbuf, errlen);
    if (e) {
        arr_pg_rollback(pg);
        size_t l = errbuf ? strlen(errbuf) : 0;
        if (errbuf && l + 1 < errlen)
            snprintf(errbuf + l, errlen - l, " (in %s)", name);
    } else {
        (*applied)++;
    }
    free(sql);
    return e;
}

arr_err arr_migrate_apply(arr_pg *pg, const char *dir, arr_migrate_result *out, char *errbuf,
                          size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (sodium_init() < 0)
        return ARR_EFATAL;
    char **names = NULL;
    int n = 0;
    arr_err e = list_files(dir, &names, &n, errbuf, errlen);
    if (e)
        return e;
    out->total = n;
    e = arr_pg_exec(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", errbuf, errlen);
    if (!e)
        e = arr_pg_exec(pg, SQL_TABLE, errbuf, errlen);
    if (!e)
        e = arr_pg_prepare(pg, "arr_migration_get",
                           "SELECT sha256 FROM public.arr_schema_migrations WHERE version = $1", 1,
                           errbuf, errlen);
    if (!e)
        e = arr_pg_prepare(pg, "arr_migration_put",
                           "INSERT INTO public.arr_schema_migrations (version, name, sha256) "
                           "VALUES ($1, $2, $3)",
                           3, errbuf, errlen);
    for (int i = 0; !e && i < n; i++)
        e = apply_one(pg, dir, names[i], &out->applied, errbuf, errlen);
    arr_pg_exec(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", NULL, 0);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!e)
        e = arr_migrate_version(pg, &out->version, errbuf, errlen);
    return e;
}

arr_err arr_migrate_version(arr_pg *pg, int *version, char *errbuf, size_t errlen)
{
    *version = 0;
    PGresult *res = PQexec(arr_pg_conn(pg),
                           "SELECT coalesce(max(version), 0) FROM public.arr_schema_migrations");
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        *version = atoi(PQgetvalue(res, 0, 0));
        PQclear(res);
        return ARR_OK;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    int missing = state && strcmp(state, "42P01") == 0; /* undefined_table: nothing applied */
    if (!missing)
        arr_errbuf_set(errbuf, errlen, "migrations: %s", PQresultErrorMessage(res));
    PQclear(res);
    return missing ? ARR_OK : ARR_EPG;
}
