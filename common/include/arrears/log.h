/* arr_log: structured JSON logs, one object per line on a stream (stderr by default).
 *
 * Each line: {"ts":"2026-11-26T22:13:48.123Z","level":"info","service":"scoring",
 * "instance":"scoring-1","msg":"...", ...fields}. Fields are passed as key/value string pairs
 * terminated by NULL. Never log debtor personal data: log tenant, account key, event ids and
 * counts only. The logger is owned by the service context (no global state); it is safe to
 * call from several threads (one write() per line). */
#ifndef ARREARS_LOG_H
#define ARREARS_LOG_H

#include <stdio.h>
#include "arrears/err.h"

typedef enum arr_log_level {
    ARR_LOG_DEBUG = 0,
    ARR_LOG_INFO,
    ARR_LOG_WARN,
    ARR_LOG_ERROR,
} arr_log_level;

typedef struct arr_log {
    const char *service;  /* borrowed, must outlive the logger */
    const char *instance; /* borrowed */
    arr_log_level level;  /* lines below this level are skipped */
    int fd;               /* destination file descriptor, 2 by default */
} arr_log;

void arr_log_init(arr_log *lg, const char *service, const char *instance, arr_log_level level);
/* "debug", "info", "warn", "error" -> level; ARR_EINVAL otherwise. */
arr_err arr_log_level_parse(const char *s, arr_log_level *out);

/* Varargs: const char *key, const char *value pairs, then NULL. Values are JSON-escaped. */
void arr_log_write(const arr_log *lg, arr_log_level level, const char *msg, ...)
    __attribute__((sentinel));

#define arr_log_debug(lg, msg, ...) arr_log_write((lg), ARR_LOG_DEBUG, (msg), __VA_ARGS__)
#define arr_log_info(lg, msg, ...) arr_log_write((lg), ARR_LOG_INFO, (msg), __VA_ARGS__)
#define arr_log_warn(lg, msg, ...) arr_log_write((lg), ARR_LOG_WARN, (msg), __VA_ARGS__)
#define arr_log_error(lg, msg, ...) arr_log_write((lg), ARR_LOG_ERROR, (msg), __VA_ARGS__)

#endif
