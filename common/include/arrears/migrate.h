/* arr_migrate: applies the numbered SQL files of a folder (NNN_name.sql) once each, in order,
 * each in its own transaction, recorded in public.arr_schema_migrations with a SHA-256 of its
 * text. A file changed after it was applied is refused (migrations are append-only). A
 * session advisory lock serialises concurrent migrators (several replicas starting at once). */
#ifndef ARREARS_MIGRATE_H
#define ARREARS_MIGRATE_H

#include <stddef.h>
#include "arrears/err.h"
#include "arrears/pg.h"

typedef struct arr_migrate_result {
    int applied; /* files applied by this call */
    int total;   /* files in the folder */
    int version; /* highest applied number afterwards */
} arr_migrate_result;

arr_err arr_migrate_apply(arr_pg *pg, const char *dir, arr_migrate_result *out, char *errbuf,
                          size_t errlen);
/* Highest applied number, 0 when none (or the table does not exist yet). */
arr_err arr_migrate_version(arr_pg *pg, int *version, char *errbuf, size_t errlen);

#endif
