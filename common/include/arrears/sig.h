/* arr_sig: graceful shutdown without signal handlers or global flags.
 * arr_sig_block, called first in main before any thread exists, blocks SIGINT and SIGTERM in
 * every thread (threads inherit the mask) and ignores SIGPIPE. The service loop then asks
 * arr_sig_pending between units of work, so a stop never lands in the middle of one. */
#ifndef ARREARS_SIG_H
#define ARREARS_SIG_H

#include <signal.h>
#include "arrears/err.h"

typedef struct arr_sig {
    sigset_t set;
    int received; /* the first signal taken, or 0 */
} arr_sig;

arr_err arr_sig_block(arr_sig *s);
/* Returns the signal number once one is pending (and keeps returning it), else 0. */
int arr_sig_pending(arr_sig *s);

#endif
