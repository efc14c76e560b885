#include "arrears/redis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arr_redis {
    redisContext *ctx;
    char *host;
    int port;
    int timeout_ms;
    int pending; /* commands appended but not read */
};

static arr_err open_ctx(arr_redis *r, char *errbuf, size_t errlen)
{
    struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
    if (r->ctx)
        redisFree(r->ctx);
    r->pending = 0;
    r->ctx = redisConnectWithTimeout(r->host, r->port, tv);
    if (!r->ctx || r->ctx->err) {
        arr_errbuf_set(errbuf, errlen, "redis connect %s:%d: %s", r->host, r->port,
                       r->ctx ? r->ctx->errstr : "out of memory");
        return ARR_EREDIS;
    }
    redisSetTimeout(r->ctx, tv);
    return ARR_OK;
}

arr_err arr_redis_connect(const char *host, int port, int timeout_ms, arr_redis **out, char *errbuf,
                          size_t errlen)
{
    arr_redis *r = calloc(1, sizeof(*r));
    if (!r || !(r->host = strdup(host))) {
        free(r);
        return ARR_ENOMEM;
    }
    r->port = port;
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
    arr_err e = open_ctx(r, errbuf, errlen);
    if (e) {
        arr_redis_free(r);
        return e;
    }
    *out = r;
    return ARR_OK;
}

void arr_redis_free(arr_redis *r)
{
    if (!r)
        return;
    if (r->ctx)
        redisFree(r->ctx);
    free(r->host);
    free(r);
}

/* A broken context cannot be reused; reconnect lazily on the next command. */
static arr_err ensure_ctx(arr_redis *r, char *errbuf, size_t errlen)
{
    if (r->ctx && !r->ctx->err)
        return ARR_OK;
    return open_ctx(r, errbuf, errlen);
}

static arr_err check_reply(arr_redis *r, redisReply *rep, char *errbuf, size_t errlen)
{
    if (!rep) {
        arr_errbuf_set(errbuf, errlen, "redis: %s", r->ctx->errstr);
        return ARR_EREDIS;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        arr_errbuf_set(errbuf, errlen, "redis: %s", rep->str);
        return ARR_EREDIS;
    }
    return ARR_OK;
}

arr_err arr_redis_cmd(arr_redis *r, int argc, const char **argv, const size_t *lens,
                      redisReply **out, char *errbuf, size_t errlen)
{
    if (out)
        *out = NULL;
    arr_err e = ensure_ctx(r, errbuf, errlen);
    if (e)
        return e;
    redisReply *rep = redisCommandArgv(r->ctx, argc, argv, lens);
    e = check_reply(r, rep, errbuf, errlen);
    if (rep && (e || !out))
        freeReplyObject(rep);
    else if (out)
        *out = rep;
    return e;
}

arr_err arr_redis_append(arr_redis *r, int argc, const char **argv, const size_t *lens)
{
    if (ensure_ctx(r, NULL, 0))
        return ARR_EREDIS;
    if (redisAppendCommandArgv(r->ctx, argc, argv, lens) != REDIS_OK)
        return ARR_ENOMEM;
    r->pending++;
    return ARR_OK;
}

arr_err arr_redis_flush(arr_redis *r, char *errbuf, size_t errlen)
{
    arr_err first = ARR_OK;
    while (r->pending > 0) {
        void *v = NULL;
        int rc = redisGetReply(r->ctx, &v);
        r->pending--;
        if (rc != REDIS_OK) {
            arr_errbuf_set(errbuf, errlen, "redis: %s", r->ctx->errstr);
            r->pending = 0; /* the context is broken; replies are gone with it */
            return ARR_EREDIS;
        }
        arr_err e = check_reply(r, v, first ? NULL : errbuf, errlen);
        if (e && !first)
            first = e;
        freeReplyObject(v);
    }
    return first;
}

arr_err arr_redis_ping(arr_redis *r, char *errbuf, size_t errlen)
{
    const char *argv[] = {"PING"};
    return arr_redis_cmd(r, 1, argv, NULL, NULL, errbuf, errlen);
}

#define STAGE_MAX_ARGS 34 /* HSET key + 16 pairs */

typedef struct stage_cmd {
    int argc;
    char *argv[STAGE_MAX_ARGS];
} stage_cmd;

struct arr_redis_stage {
    stage_cmd *cmds;
    size_t n, max;
};

arr_err arr_redis_stage_new(size_t max_cmds, arr_redis_stage **out)
{
    arr_redis_stage *st = calloc(1, sizeof(*st));
    if (!st || !(st->cmds = calloc(max_cmds, sizeof(stage_cmd)))) {
        free(st);
        return ARR_ENOMEM;
    }
    st->max = max_cmds;
    *out = st;
    return ARR_OK;
}

static void cmd_free(stage_cmd *c)
{
    for (int i = 0; i < c->argc; i++)
        free(c->argv[i]);
    c->argc = 0;
}

void arr_redis_stage_truncate(arr_redis_stage *st, size_t mark)
{
    while (st->n > mark)
        cmd_free(&st->cmds[--st->n]);
}

void arr_redis_stage_free(arr_redis_stage *st)
{
    if (!st)
        return;
    arr_redis_stage_truncate(st, 0);
    free(st->cmds);
    free(st);
}

size_t arr_redis_stage_mark(const arr_redis_stage *st)
{
    return st->n;
}

arr_err arr_redis_stage_hset(arr_redis_stage *st, const char *key, int npairs,
                             const char *const *fv)
{
    if (npairs < 1 || 2 + 2 * npairs > STAGE_MAX_ARGS)
        return ARR_EINVAL;
    if (st->n == st->max)
        return ARR_ELIMIT;
    stage_cmd *c = &st->cmds[st->n];
    const char *head[2] = {"HSET", key};
    for (int i = 0; i < 2 + 2 * npairs; i++) {
        c->argv[i] = strdup(i < 2 ? head[i] : fv[i - 2]);
        c->argc = i + 1;
        if (!c->argv[i]) {
            cmd_free(c);
            return ARR_ENOMEM;
        }
    }
    st->n++;
    return ARR_OK;
}

arr_err arr_redis_stage_flush(arr_redis_stage *st, arr_redis *r, char *errbuf, size_t errlen)
{
    arr_err queued = ARR_OK;
    for (size_t i = 0; i < st->n; i++) {
        if (arr_redis_append(r, st->cmds[i].argc, (const char **)st->cmds[i].argv, NULL))
            queued = ARR_EREDIS;
    }
    /* Always read back what was queued, so the connection stays in step. */
    arr_err e = arr_redis_flush(r, errbuf, errlen);
    if (!e && queued) {
        arr_errbuf_set(errbuf, errlen, "redis: some staged commands could not be queued");
        e = queued;
    }
    arr_redis_stage_truncate(st, 0);
    return e;
}
