/* arr_redis: a Redis connection (hiredis) for the cached account view and working sets.
 * Redis is a cache: everything in it can be rebuilt from PostgreSQL, so callers treat a
 * Redis failure as "cache stale", never as lost truth. Never store debtor personal data.
 * Not thread-safe: one connection per thread. Replies returned to the caller are owned by
 * the caller (freeReplyObject). */
#ifndef ARREARS_REDIS_H
#define ARREARS_REDIS_H

#include <stddef.h>
#include <hiredis/hiredis.h>
#include "arrears/err.h"

typedef struct arr_redis arr_redis;

arr_err arr_redis_connect(const char *host, int port, int timeout_ms, arr_redis **out, char *errbuf,
                          size_t errlen);
void arr_redis_free(arr_redis *r);

/* One command from an argument vector (binary-safe; lens may be NULL for C strings).
 * An error reply is ARR_EREDIS with its text in errbuf. */
arr_err arr_redis_cmd(arr_redis *r, int argc, const char **argv, const size_t *lens,
                      redisReply **out, char *errbuf, size_t errlen);

/* Pipelining: queue commands, then read all replies with one round trip. */
arr_err arr_redis_append(arr_redis *r, int argc, const char **argv, const size_t *lens);
/* Reads the replies of every queued command; returns the first error, if any. */
arr_err arr_redis_flush(arr_redis *r, char *errbuf, size_t errlen);

arr_err arr_redis_ping(arr_redis *r, char *errbuf, size_t errlen);

#endif
