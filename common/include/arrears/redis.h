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

/* A stage holds cache writes until the transaction they describe has committed: a service
 * stages while it applies events, truncates back to a mark when one event is rolled back,
 * and flushes (one pipelined round trip) after the commit, or resets after a rollback.
 * The stage owns copies of every string. */
typedef struct arr_redis_stage arr_redis_stage;

arr_err arr_redis_stage_new(size_t max_cmds, arr_redis_stage **out);
void arr_redis_stage_free(arr_redis_stage *st);
/* HSET key f1 v1 [f2 v2 ...]; fv holds 2 * npairs strings. ARR_ELIMIT past max_cmds. */
arr_err arr_redis_stage_hset(arr_redis_stage *st, const char *key, int npairs,
                             const char *const *fv);
size_t arr_redis_stage_mark(const arr_redis_stage *st);
void arr_redis_stage_truncate(arr_redis_stage *st, size_t mark);
/* Sends every staged command in one pipeline and empties the stage, even on error. */
arr_err arr_redis_stage_flush(arr_redis_stage *st, arr_redis *r, char *errbuf, size_t errlen);

#endif
