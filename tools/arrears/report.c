/* placeholder, replaced by its author */
#include <stdio.h>
#include "cli.h"

int cli_report(cli_ctx *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    fprintf(stderr, "arrears report: not built yet\n");
    return 2;
}
