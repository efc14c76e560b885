#include "arrears/err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const names[ARR_ERR__COUNT] = {
    [ARR_OK] = "ok",
    [ARR_EINVAL] = "invalid argument or input",
    [ARR_ENOMEM] = "out of memory",
    [ARR_ELIMIT] = "size limit reached",
    [ARR_EIO] = "input/output error",
    [ARR_ENOTFOUND] = "not found",
    [ARR_ECONFIG] = "configuration error",
    [ARR_EDECODE] = "message does not match its contract",
    [ARR_ETIMEOUT] = "timed out",
    [ARR_EKAFKA] = "kafka error",
    [ARR_EPG] = "postgresql error",
    [ARR_EREDIS] = "redis error",
    [ARR_EHTTP] = "http error",
    [ARR_EABORT] = "transaction aborted",
    [ARR_EFATAL] = "fatal error",
    [ARR_ESHUTDOWN] = "shutdown requested",
};

const char *arr_strerror(arr_err e)
{
    if ((unsigned)e >= ARR_ERR__COUNT || !names[e])
        return "unknown error";
    return names[e];
}

arr_err_class arr_err_classify(arr_err e)
{
    switch (e) {
    case ARR_OK:
        return ARR_ERRCLASS_NONE;
    case ARR_EINVAL:
    case ARR_ELIMIT:
    case ARR_EDECODE:
    case ARR_ENOTFOUND:
        return ARR_ERRCLASS_INPUT;
    case ARR_EIO:
    case ARR_ETIMEOUT:
    case ARR_EKAFKA:
    case ARR_EPG:
    case ARR_EREDIS:
    case ARR_EHTTP:
        return ARR_ERRCLASS_RETRIABLE;
    case ARR_EABORT:
        return ARR_ERRCLASS_ABORTABLE;
    default:
        return ARR_ERRCLASS_FATAL;
    }
}

const char *arr_errclass_name(arr_err_class c)
{
    switch (c) {
    case ARR_ERRCLASS_NONE:
        return "none";
    case ARR_ERRCLASS_INPUT:
        return "input";
    case ARR_ERRCLASS_RETRIABLE:
        return "retriable";
    case ARR_ERRCLASS_ABORTABLE:
        return "abortable";
    default:
        return "fatal";
    }
}

void arr_errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

arr_err arr_errbuf_fail(arr_err e, char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return e;
}
