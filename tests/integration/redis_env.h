/* The Redis of the local stack for integration tests (ARR_REDIS_HOST / ARR_REDIS_PORT, as
 * var/stack.env sets them; 127.0.0.1:16379 otherwise). Header-only, test code only. */
#ifndef ARREARS_TESTS_REDIS_ENV_H
#define ARREARS_TESTS_REDIS_ENV_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include "arrears/err.h"
#include "arrears/redis.h"

static const char *redis_host(void)
{
    const char *h = getenv("ARR_REDIS_HOST");
    return h && *h ? h : "127.0.0.1";
}

static int redis_port(void)
{
    const char *p = getenv("ARR_REDIS_PORT");
    int v = p && *p ? atoi(p) : 16379;
    cr_assert(v > 0 && v < 65536, "ARR_REDIS_PORT '%s' is not a port", p);
    return v;
}

/* A new connection the caller frees; the test fails with how to start the stack when Redis
 * does not answer. */
static arr_redis *connect_or_fail(void)
{
    arr_redis *r = NULL;
    char err[512] = "";
    arr_err e = arr_redis_connect(redis_host(), redis_port(), 2000, &r, err, sizeof(err));
    cr_assert_eq(e, ARR_OK,
                 "Redis is not reachable at %s:%d (%s: %s): start the stack (scripts/stack up) "
                 "and load var/stack.env, or set ARR_REDIS_HOST / ARR_REDIS_PORT",
                 redis_host(), redis_port(), arr_strerror(e), err);
    cr_assert_eq(arr_redis_ping(r, err, sizeof(err)), ARR_OK, "Redis PING failed: %s", err);
    return r;
}

#endif
