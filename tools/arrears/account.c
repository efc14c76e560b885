/* placeholder, replaced by its author */
#include <stdio.h>
#include "cli.h"

int cli_account(cli_ctx *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    fprintf(stderr, "arrears account: not built yet\n");
    return 2;
}
