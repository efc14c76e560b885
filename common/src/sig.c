#include "arrears/sig.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

arr_err arr_sig_block(arr_sig *s)
{
    memset(s, 0, sizeof(*s));
    sigemptyset(&s->set);
    sigaddset(&s->set, SIGINT);
    sigaddset(&s->set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &s->set, NULL) != 0)
        return ARR_EFATAL;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return ARR_EFATAL;
    return ARR_OK;
}

int arr_sig_pending(arr_sig *s)
{
    if (s->received)
        return s->received;
    struct timespec zero = {0, 0};
    int sig = sigtimedwait(&s->set, NULL, &zero);
    if (sig > 0)
        s->received = sig;
    return s->received;
}
