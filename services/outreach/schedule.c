#include "schedule.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every script gets the same four keys: KEYS[1] due, KEYS[2] lease, KEYS[3] due_of,
 * KEYS[4] member. Scripts are sent with EVAL each time (Redis caches the compiled script by
 * its digest); they are short. Scores come back from Lua as strings (RESP2). */

/* ARGV: account key, member, due ms. */
static const char PUT_LUA[] = "local old = redis.call('HGET', KEYS[4], ARGV[1])\n"
                              "if old and old ~= ARGV[2] then\n"
                              "  redis.call('ZREM', KEYS[1], old)\n"
                              "  redis.call('ZREM', KEYS[2], old)\n"
                              "  redis.call('HDEL', KEYS[3], old)\n"
                              "end\n"
                              "redis.call('ZREM', KEYS[2], ARGV[2])\n"
                              "redis.call('HDEL', KEYS[3], ARGV[2])\n"
                              "redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])\n"
                              "redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])\n"
                              "return 1\n";

/* PUT, except that a member already scheduled for the account (due or leased) is left as it
 * is: a claim in a replica's hands is not taken back. */
static const char ENSURE_LUA[] =
    "if redis.call('HGET', KEYS[4], ARGV[1]) == ARGV[2] then return 0 end\n"
    "local old = redis.call('HGET', KEYS[4], ARGV[1])\n"
    "if old then\n"
    "  redis.call('ZREM', KEYS[1], old)\n"
    "  redis.call('ZREM', KEYS[2], old)\n"
    "  redis.call('HDEL', KEYS[3], old)\n"
    "end\n"
    "redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])\n"
    "redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])\n"
    "return 1\n";

/* PUT only when the account has no member at all (the sweep fills holes; replacing a member
 * is a planner's decision). */
static const char ABSENT_LUA[] =
    "if redis.call('HEXISTS', KEYS[4], ARGV[1]) == 1 then return 0 end\n"
    "redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])\n"
    "redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])\n"
    "return 1\n";

/* ARGV: account key, the member it must be or "" for any. */
static const char REMOVE_LUA[] = "local m = redis.call('HGET', KEYS[4], ARGV[1])\n"
                                 "if not m then return 0 end\n"
                                 "if ARGV[2] ~= '' and m ~= ARGV[2] then return 0 end\n"
                                 "redis.call('ZREM', KEYS[1], m)\n"
                                 "redis.call('ZREM', KEYS[2], m)\n"
                                 "redis.call('HDEL', KEYS[3], m)\n"
                                 "redis.call('HDEL', KEYS[4], ARGV[1])\n"
                                 "return 1\n";

/* ARGV: now ms, lease end ms, max. Returns {member, due, member, due, ...}. */
static const char CLAIM_LUA[] =
    "local ms = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0,"
    " ARGV[3])\n"
    "for i = 1, #ms, 2 do\n"
    "  redis.call('ZREM', KEYS[1], ms[i])\n"
    "  redis.call('ZADD', KEYS[2], ARGV[2], ms[i])\n"
    "  redis.call('HSET', KEYS[3], ms[i], ms[i + 1])\n"
    "end\n"
    "return ms\n";

/* ARGV: member, account key. */
static const char ACK_LUA[] = "if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end\n"
                              "redis.call('HDEL', KEYS[3], ARGV[1])\n"
                              "if redis.call('HGET', KEYS[4], ARGV[2]) == ARGV[1] then\n"
                              "  redis.call('HDEL', KEYS[4], ARGV[2])\n"
                              "end\n"
                              "return 1\n";

/* ARGV: now ms, max. A lease without its due time (not written by this module) is requeued
 * as due now. */
static const char EXPIRE_LUA[] =
    "local ms = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])\n"
    "for _, m in ipairs(ms) do\n"
    "  local d = redis.call('HGET', KEYS[3], m)\n"
    "  if not d then d = ARGV[1] end\n"
    "  redis.call('ZREM', KEYS[2], m)\n"
    "  redis.call('HDEL', KEYS[3], m)\n"
    "  redis.call('ZADD', KEYS[1], d, m)\n"
    "end\n"
    "return #ms\n";

static const char COUNT_LUA[] =
    "return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])}\n";

#define KEY_SIZE (sizeof("arr:sched:") + OUTREACH_SCHEDULE_NS_MAX + sizeof(":due_of"))
#define ACCT_SIZE (OUTREACH_SCHEDULE_TENANT_MAX + 1 + OUTREACH_SCHEDULE_ACCOUNT_MAX + 1)

typedef struct sched_keys {
    char due[KEY_SIZE], lease[KEY_SIZE], due_of[KEY_SIZE], member[KEY_SIZE];
} sched_keys;

static arr_err make_keys(const char *ns, sched_keys *k, char *why, size_t whylen)
{
    if (!ns)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "schedule: namespace is NULL");
    size_t len = strlen(ns);
    if (len > OUTREACH_SCHEDULE_NS_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "schedule: namespace longer than %d bytes",
                               OUTREACH_SCHEDULE_NS_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)ns[i];
        if (c < 0x21 || c > 0x7e)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "schedule: namespace has a space or non-printable byte");
    }
    snprintf(k->due, sizeof(k->due), "arr:sched:%s:due", ns);
    snprintf(k->lease, sizeof(k->lease), "arr:sched:%s:lease", ns);
    snprintf(k->due_of, sizeof(k->due_of), "arr:sched:%s:due_of", ns);
    snprintf(k->member, sizeof(k->member), "arr:sched:%s:member", ns);
    return ARR_OK;
}

/* 1 when s (len bytes, not necessarily NUL-terminated) is a valid id. */
static int id_ok(const char *s, size_t len, size_t max, int slash_ok)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == '|' || (c == '/' && !slash_ok))
            return 0;
    }
    return 1;
}

static arr_err check_id(const char *what, const char *s, size_t max, int slash_ok, char *why,
                        size_t whylen)
{
    if (!s)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "schedule: %s is NULL", what);
    size_t len = strnlen(s, max + 1);
    if (!id_ok(s, len, max, slash_ok))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "schedule: %s must be 1 to %zu printable ASCII bytes without "
                               "spaces or '|'%s",
                               what, max, slash_ok ? "" : " or '/'");
    return ARR_OK;
}

/* Validates the ids and writes "<tenant>/<account>" into acct (and, when step_id is not NULL,
 * "<tenant>/<account>|<step id>" into member). */
static arr_err make_member(const char *tenant, const char *account, const char *step_id,
                           char acct[ACCT_SIZE], char member[OUTREACH_SCHEDULE_MEMBER_SIZE],
                           char *why, size_t whylen)
{
    arr_err e = check_id("tenant", tenant, OUTREACH_SCHEDULE_TENANT_MAX, 0, why, whylen);
    if (!e)
        e = check_id("account", account, OUTREACH_SCHEDULE_ACCOUNT_MAX, 1, why, whylen);
    if (!e && step_id)
        e = check_id("step id", step_id, OUTREACH_SCHEDULE_STEP_MAX, 1, why, whylen);
    if (e)
        return e;
    snprintf(acct, ACCT_SIZE, "%s/%s", tenant, account);
    if (step_id)
        snprintf(member, OUTREACH_SCHEDULE_MEMBER_SIZE, "%s|%s", acct, step_id);
    return ARR_OK;
}

/* Parses a member (len bytes) into item (member, tenant, account, step id). 0 if invalid. */
static int parse_member(const char *s, size_t len, outreach_schedule_item *item)
{
    if (len >= OUTREACH_SCHEDULE_MEMBER_SIZE || memchr(s, '\0', len))
        return 0;
    const char *slash = memchr(s, '/', len);
    const char *bar = memchr(s, '|', len);
    if (!slash || !bar || bar < slash)
        return 0;
    size_t tl = (size_t)(slash - s), al = (size_t)(bar - slash - 1),
           sl = len - (size_t)(bar - s) - 1;
    if (!id_ok(s, tl, OUTREACH_SCHEDULE_TENANT_MAX, 0) ||
        !id_ok(slash + 1, al, OUTREACH_SCHEDULE_ACCOUNT_MAX, 1) ||
        !id_ok(bar + 1, sl, OUTREACH_SCHEDULE_STEP_MAX, 1))
        return 0;
    memcpy(item->member, s, len);
    item->member[len] = '\0';
    memcpy(item->tenant, s, tl);
    item->tenant[tl] = '\0';
    memcpy(item->account, slash + 1, al);
    item->account[al] = '\0';
    memcpy(item->step_id, bar + 1, sl);
    item->step_id[sl] = '\0';
    return 1;
}

/* A score as Redis prints it (%.17g): digits, or an exponent form for large values. */
static int parse_ms(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno) {
        return 0;
    } else if (*end != '\0') {
        errno = 0;
        double d = strtod(s, &end);
        if (end == s || *end != '\0' || errno || !(d >= 0) ||
            d > (double)OUTREACH_SCHEDULE_TIME_MAX)
            return 0;
        v = (long long)llround(d);
    }
    if (v < 0 || v > OUTREACH_SCHEDULE_TIME_MAX)
        return 0;
    *out = (int64_t)v;
    return 1;
}

static arr_err check_time(const char *what, int64_t t, char *why, size_t whylen)
{
    if (t < 0 || t > OUTREACH_SCHEDULE_TIME_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "schedule: %s %" PRId64 " is outside 0..2^53 ms", what, t);
    return ARR_OK;
}

static arr_err check_max(size_t max, char *why, size_t whylen)
{
    if (max < 1 || max > OUTREACH_SCHEDULE_CLAIM_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "schedule: max %zu is not 1..%d", max,
                               OUTREACH_SCHEDULE_CLAIM_MAX);
    return ARR_OK;
}

#define EVAL_MAX_ARGS 3

/* EVAL script 4 due lease due_of member args... The reply is the caller's when out is set. */
static arr_err eval(arr_redis *r, const char *script, const sched_keys *k, int nargs,
                    const char *const *args, redisReply **out, char *why, size_t whylen)
{
    const char *argv[7 + EVAL_MAX_ARGS] = {"EVAL",   script,    "4",      k->due,
                                           k->lease, k->due_of, k->member};
    for (int i = 0; i < nargs; i++)
        argv[7 + i] = args[i];
    return arr_redis_cmd(r, 7 + nargs, argv, NULL, out, why, whylen);
}

/* An EVAL whose script returns an integer. */
static arr_err eval_int(arr_redis *r, const char *script, const sched_keys *k, int nargs,
                        const char *const *args, long long *out, char *why, size_t whylen)
{
    redisReply *rep = NULL;
    arr_err e = eval(r, script, k, nargs, args, &rep, why, whylen);
    if (e)
        return e;
    if (rep->type != REDIS_REPLY_INTEGER) {
        int type = rep->type;
        freeReplyObject(rep);
        return arr_errbuf_fail(ARR_EREDIS, why, whylen,
                               "schedule: script reply of type %d, expected an integer", type);
    }
    *out = rep->integer;
    freeReplyObject(rep);
    return ARR_OK;
}

static arr_err put_with(const char *script, arr_redis *r, const char *ns, const char *tenant,
                        const char *account, const char *step_id, int64_t due_ms, int *changed,
                        char *why, size_t whylen)
{
    sched_keys k;
    char acct[ACCT_SIZE], member[OUTREACH_SCHEDULE_MEMBER_SIZE], due[24];
    arr_err e = make_keys(ns, &k, why, whylen);
    if (!e)
        e = check_id("step id", step_id, OUTREACH_SCHEDULE_STEP_MAX, 1, why, whylen);
    if (!e)
        e = make_member(tenant, account, step_id, acct, member, why, whylen);
    if (!e)
        e = check_time("due time", due_ms, why, whylen);
    if (e)
        return e;
    snprintf(due, sizeof(due), "%" PRId64, due_ms);
    const char *args[] = {acct, member, due};
    long long v = 0;
    e = eval_int(r, script, &k, 3, args, &v, why, whylen);
    if (!e && changed)
        *changed = v == 1;
    return e;
}

arr_err outreach_schedule_put(arr_redis *r, const char *ns, const char *tenant, const char *account,
                              const char *step_id, int64_t due_ms, char *why, size_t whylen)
{
    return put_with(PUT_LUA, r, ns, tenant, account, step_id, due_ms, NULL, why, whylen);
}

arr_err outreach_schedule_put_absent(arr_redis *r, const char *ns, const char *tenant,
                                     const char *account, const char *step_id, int64_t due_ms,
                                     int *changed, char *why, size_t whylen)
{
    return put_with(ABSENT_LUA, r, ns, tenant, account, step_id, due_ms, changed, why, whylen);
}

arr_err outreach_schedule_ensure(arr_redis *r, const char *ns, const char *tenant,
                                 const char *account, const char *step_id, int64_t due_ms,
                                 int *changed, char *why, size_t whylen)
{
    return put_with(ENSURE_LUA, r, ns, tenant, account, step_id, due_ms, changed, why, whylen);
}

arr_err outreach_schedule_remove(arr_redis *r, const char *ns, const char *tenant,
                                 const char *account, const char *step_id, int *removed, char *why,
                                 size_t whylen)
{
    sched_keys k;
    char acct[ACCT_SIZE], member[OUTREACH_SCHEDULE_MEMBER_SIZE] = "";
    arr_err e = make_keys(ns, &k, why, whylen);
    if (!e)
        e = make_member(tenant, account, step_id, acct, member, why, whylen);
    if (e)
        return e;
    const char *args[] = {acct, member};
    long long v = 0;
    e = eval_int(r, REMOVE_LUA, &k, 2, args, &v, why, whylen);
    if (e)
        return e;
    if (removed)
        *removed = v != 0;
    return ARR_OK;
}

arr_err outreach_schedule_claim(arr_redis *r, const char *ns, int64_t now_ms, int64_t lease_ms,
                                size_t max, outreach_schedule_item *claimed, size_t *n, char *why,
                                size_t whylen)
{
    if (lease_ms <= 0 || now_ms < 0 || lease_ms > OUTREACH_SCHEDULE_TIME_MAX - now_ms)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "schedule: lease %" PRId64 " ms is not positive or too long",
                               lease_ms);
    return outreach_schedule_claim_until(r, ns, now_ms, now_ms + lease_ms, max, claimed, n, why,
                                         whylen);
}

arr_err outreach_schedule_claim_until(arr_redis *r, const char *ns, int64_t due_by_ms,
                                      int64_t lease_until_ms, size_t max,
                                      outreach_schedule_item *claimed, size_t *n, char *why,
                                      size_t whylen)
{
    sched_keys k;
    arr_err e = make_keys(ns, &k, why, whylen);
    if (!e)
        e = check_time("now", due_by_ms, why, whylen);
    if (!e)
        e = check_time("lease end", lease_until_ms, why, whylen);
    if (!e)
        e = check_max(max, why, whylen);
    if (e)
        return e;
    if (!claimed || !n)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "schedule: claimed or n is NULL");
    char now[24], until[24], lim[24];
    snprintf(now, sizeof(now), "%" PRId64, due_by_ms);
    snprintf(until, sizeof(until), "%" PRId64, lease_until_ms);
    snprintf(lim, sizeof(lim), "%zu", max);
    const char *args[] = {now, until, lim};
    redisReply *rep = NULL;
    e = eval(r, CLAIM_LUA, &k, 3, args, &rep, why, whylen);
    if (e)
        return e;
    /* The members are leased now: a reply we cannot read leaves them to expire and be
     * requeued, nothing is lost. Check everything before writing claimed[]. */
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0 || rep->elements / 2 > max) {
        int type = rep->type;
        freeReplyObject(rep);
        return arr_errbuf_fail(ARR_EREDIS, why, whylen,
                               "schedule: claim reply of type %d is not pairs of at most %zu", type,
                               max);
    }
    size_t count = rep->elements / 2;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < count; i++) {
            const redisReply *m = rep->element[2 * i], *d = rep->element[2 * i + 1];
            outreach_schedule_item tmp;
            outreach_schedule_item *item = pass ? &claimed[i] : &tmp;
            if (m->type != REDIS_REPLY_STRING || d->type != REDIS_REPLY_STRING ||
                !parse_member(m->str, m->len, item) || !parse_ms(d->str, &item->due_ms)) {
                arr_errbuf_set(why, whylen, "schedule: claimed member %zu of %s does not parse", i,
                               k.due);
                freeReplyObject(rep);
                return ARR_EDECODE;
            }
        }
    }
    freeReplyObject(rep);
    *n = count;
    return ARR_OK;
}

arr_err outreach_schedule_ack(arr_redis *r, const char *ns, const char *member, int *acked,
                              char *why, size_t whylen)
{
    sched_keys k;
    arr_err e = make_keys(ns, &k, why, whylen);
    if (e)
        return e;
    outreach_schedule_item item;
    if (!member || !parse_member(member, strnlen(member, OUTREACH_SCHEDULE_MEMBER_SIZE), &item))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "schedule: ack of a member that is not <tenant>/<account>|<step>");
    char acct[ACCT_SIZE];
    snprintf(acct, sizeof(acct), "%s/%s", item.tenant, item.account);
    const char *args[] = {item.member, acct};
    long long v = 0;
    e = eval_int(r, ACK_LUA, &k, 2, args, &v, why, whylen);
    if (e)
        return e;
    if (acked)
        *acked = v != 0;
    return ARR_OK;
}

arr_err outreach_schedule_expire(arr_redis *r, const char *ns, int64_t now_ms, size_t max,
                                 size_t *requeued, char *why, size_t whylen)
{
    sched_keys k;
    arr_err e = make_keys(ns, &k, why, whylen);
    if (!e)
        e = check_time("now", now_ms, why, whylen);
    if (!e)
        e = check_max(max, why, whylen);
    if (e)
        return e;
    char now[24], lim[24];
    snprintf(now, sizeof(now), "%" PRId64, now_ms);
    snprintf(lim, sizeof(lim), "%zu", max);
    const char *args[] = {now, lim};
    long long v = 0;
    e = eval_int(r, EXPIRE_LUA, &k, 2, args, &v, why, whylen);
    if (e)
        return e;
    if (requeued)
        *requeued = v > 0 ? (size_t)v : 0;
    return ARR_OK;
}

arr_err outreach_schedule_count(arr_redis *r, const char *ns, size_t *due, size_t *leased,
                                char *why, size_t whylen)
{
    sched_keys k;
    arr_err e = make_keys(ns, &k, why, whylen);
    if (e)
        return e;
    redisReply *rep = NULL;
    e = eval(r, COUNT_LUA, &k, 0, NULL, &rep, why, whylen);
    if (e)
        return e;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_INTEGER || rep->element[0]->integer < 0 ||
        rep->element[1]->integer < 0) {
        freeReplyObject(rep);
        return arr_errbuf_fail(ARR_EREDIS, why, whylen, "schedule: unexpected count reply");
    }
    if (due)
        *due = (size_t)rep->element[0]->integer;
    if (leased)
        *leased = (size_t)rep->element[1]->integer;
    freeReplyObject(rep);
    return ARR_OK;
}

arr_err outreach_schedule_clear(arr_redis *r, const char *ns, char *why, size_t whylen)
{
    sched_keys k;
    arr_err e = make_keys(ns, &k, why, whylen);
    if (e)
        return e;
    const char *argv[] = {"DEL", k.due, k.lease, k.due_of, k.member};
    return arr_redis_cmd(r, 5, argv, NULL, NULL, why, whylen);
}
