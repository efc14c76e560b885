/* arrears db: schema migrations. */
#include <stdio.h>
#include <string.h>
#include "arrears/migrate.h"
#include "arrears/pg.h"
#include "cli.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: arrears db migrate   apply pending files of $ARR_SQL_DIR, each once,\n"
                "                            each in its own transaction\n"
                "       arrears db version   print the highest applied migration\n");
}

int cli_db(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    int migrate = strcmp(argv[0], "migrate") == 0;
    if (!migrate && strcmp(argv[0], "version") != 0) {
        fprintf(stderr, "arrears db: unknown command '%s'\n", argv[0]);
        usage(stderr);
        return 2;
    }
    char why[1024];
    arr_pg *pg = NULL;
    arr_err e = arr_pg_connect(c->pg_conninfo, &pg, why, sizeof(why));
    if (e) {
        fprintf(stderr, "arrears db: %s\n", why);
        return 1;
    }
    if (migrate) {
        arr_migrate_result r;
        e = arr_migrate_apply(pg, c->sql_dir, &r, why, sizeof(why));
        if (!e)
            printf("db: %d migration(s) applied, %d in %s, schema version %d\n", r.applied, r.total,
                   c->sql_dir, r.version);
    } else {
        int v;
        e = arr_migrate_version(pg, &v, why, sizeof(why));
        if (!e)
            printf("%d\n", v);
    }
    arr_pg_free(pg);
    if (e) {
        fprintf(stderr, "arrears db: %s\n", why);
        return 1;
    }
    return 0;
}
