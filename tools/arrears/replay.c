/* placeholder, replaced by its author */
#include <stdio.h>
#include "cli.h"

int cli_replay(cli_ctx *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    fprintf(stderr, "arrears replay: not built yet\n");
    return 2;
}
