/* arrears: the one error enum of the project.
 *
 * Every fallible function returns an arr_err and fills its out-parameters only on ARR_OK.
 * Errors are classified the way librdkafka classifies them, so a caller knows what to do:
 *   - retriable: the same call may succeed later (broker or database unavailable, timeout);
 *   - abortable: the current unit of work (a Kafka or SQL transaction) must be aborted and
 *     redone from its input, but the process can go on;
 *   - fatal: the process cannot go on safely (fenced producer, bad configuration).
 * Input errors (bad record, bad message) are none of these: the input is rejected and kept.
 */
#ifndef ARREARS_ERR_H
#define ARREARS_ERR_H

#include <stddef.h>

typedef enum arr_err {
    ARR_OK = 0,
    ARR_EINVAL,    /* bad argument or bad input; the message explains */
    ARR_ENOMEM,    /* allocation failed */
    ARR_ELIMIT,    /* a size cap was reached (buffer, body, line) */
    ARR_EIO,       /* file or socket error */
    ARR_ENOTFOUND, /* a named thing (key, file, row) does not exist */
    ARR_ECONFIG,   /* configuration missing or invalid */
    ARR_EDECODE,   /* a message or record does not match its contract */
    ARR_ETIMEOUT,  /* an operation did not finish in time */
    ARR_EKAFKA,    /* Kafka error; see arr_err_class for what to do */
    ARR_EPG,       /* PostgreSQL error */
    ARR_EREDIS,    /* Redis error */
    ARR_EHTTP,     /* HTTP server or client error */
    ARR_EABORT,    /* transaction must be aborted and the work redone */
    ARR_EFATAL,    /* the process must stop */
    ARR_ESHUTDOWN, /* a shutdown was requested while waiting */
    ARR_ERR__COUNT
} arr_err;

typedef enum arr_err_class {
    ARR_ERRCLASS_NONE = 0,  /* ARR_OK */
    ARR_ERRCLASS_INPUT,     /* reject the input, keep it, go on */
    ARR_ERRCLASS_RETRIABLE, /* try the same call again later */
    ARR_ERRCLASS_ABORTABLE, /* abort the unit of work and redo it */
    ARR_ERRCLASS_FATAL,     /* stop the process */
} arr_err_class;

/* Formats a reason into a caller's error buffer (errbuf may be NULL or errlen 0: ignored). */
/* arr_errbuf_set, then returns e: `return arr_errbuf_fail(ARR_EINVAL, why, len, ...)`. */
arr_err arr_errbuf_fail(arr_err e, char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void arr_errbuf_set(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Static, never NULL. */
const char *arr_strerror(arr_err e);
arr_err_class arr_err_classify(arr_err e);
const char *arr_errclass_name(arr_err_class c);

#endif
