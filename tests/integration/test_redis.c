/* Integration tests of arr_redis against the real Redis of the stack (ARR_REDIS_HOST/PORT).
 *
 * Every key is under arrears:test:redis:<random>: and the suite's fini deletes the keys the
 * test used, also when an assertion failed. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arrears/redis.h"

#define MAX_KEYS 16

static char prefix[64];
static char keys[MAX_KEYS][128];
static int n_keys;

static const char *host(void)
{
    const char *h = getenv("ARR_REDIS_HOST");
    if (!h || !*h)
        cr_assert_fail("ARR_REDIS_HOST is not set: load var/stack.env (scripts/stack up) first");
    return h;
}

static int port(void)
{
    const char *p = getenv("ARR_REDIS_PORT");
    if (!p || !*p)
        cr_assert_fail("ARR_REDIS_PORT is not set: load var/stack.env (scripts/stack up) first");
    int v = atoi(p);
    cr_assert(v > 0 && v < 65536, "ARR_REDIS_PORT '%s' is not a port", p);
    return v;
}

static void make_token(char *out, size_t len)
{
    unsigned char raw[32];
    FILE *f = fopen("/dev/urandom", "rb");
    cr_assert_not_null(f, "cannot open /dev/urandom");
    cr_assert_eq(fread(raw, 1, sizeof(raw), f), sizeof(raw));
    fclose(f);
    size_t i = 0;
    for (; i + 1 < len && i < sizeof(raw); i++)
        out[i] = (char)('a' + raw[i] % 26);
    out[i] = '\0';
}

/* A key of this run, remembered for deletion. */
static const char *key(const char *name)
{
    for (int i = 0; i < n_keys; i++) {
        if (strcmp(keys[i] + strlen(prefix), name) == 0)
            return keys[i];
    }
    cr_assert_lt(n_keys, MAX_KEYS);
    snprintf(keys[n_keys], sizeof(keys[0]), "%s%s", prefix, name);
    return keys[n_keys++];
}

static arr_redis *connect_or_fail(void)
{
    arr_redis *r = NULL;
    char err[512] = "";
    arr_err e = arr_redis_connect(host(), port(), 2000, &r, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "connect: %s (%s)", arr_strerror(e), err);
    cr_assert_not_null(r);
    return r;
}

static void setup(void)
{
    /* As the services do (arr_sig): a write to a connection the server closed must come back
     * as an error, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    char tok[11];
    make_token(tok, sizeof(tok));
    snprintf(prefix, sizeof(prefix), "arrears:test:redis:%s:", tok);
    n_keys = 0;
}

static void teardown(void)
{
    if (n_keys == 0)
        return;
    arr_redis *r = NULL;
    if (arr_redis_connect(host(), port(), 2000, &r, NULL, 0) != ARR_OK)
        return;
    const char *argv[MAX_KEYS + 1] = {"DEL"};
    for (int i = 0; i < n_keys; i++)
        argv[i + 1] = keys[i];
    arr_redis_cmd(r, n_keys + 1, argv, NULL, NULL, NULL, 0);
    arr_redis_free(r);
    n_keys = 0;
}

TestSuite(redis, .init = setup, .fini = teardown, .timeout = 60);

/* Runs a command that must succeed and returns its reply (caller frees). */
static redisReply *cmd_ok(arr_redis *r, int argc, const char **argv)
{
    redisReply *rep = NULL;
    char err[512] = "";
    arr_err e = arr_redis_cmd(r, argc, argv, NULL, &rep, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "%s: %s (%s)", argv[0], arr_strerror(e), err);
    cr_assert_not_null(rep);
    return rep;
}

static long long cmd_int(arr_redis *r, int argc, const char **argv)
{
    redisReply *rep = cmd_ok(r, argc, argv);
    cr_assert_eq(rep->type, REDIS_REPLY_INTEGER, "%s: reply type %d", argv[0], rep->type);
    long long v = rep->integer;
    freeReplyObject(rep);
    return v;
}

Test(redis, connect_cmd_and_binary_values)
{
    arr_redis *r = connect_or_fail();
    char err[512] = "";
    cr_assert_eq(arr_redis_ping(r, err, sizeof(err)), ARR_OK, "%s", err);

    const char *k = key("plain");
    const char *set[] = {"SET", k, "hello world"};
    redisReply *rep = cmd_ok(r, 3, set);
    cr_expect_eq(rep->type, REDIS_REPLY_STATUS);
    cr_expect_str_eq(rep->str, "OK");
    freeReplyObject(rep);
    const char *get[] = {"GET", k};
    rep = cmd_ok(r, 2, get);
    cr_assert_eq(rep->type, REDIS_REPLY_STRING);
    cr_expect_str_eq(rep->str, "hello world");
    freeReplyObject(rep);

    /* Binary-safe: a value with NUL and CR/LF bytes, given with explicit lengths. */
    const char bin[] = {'a', '\0', 'b', '\r', '\n', '\xff', 'z'};
    const char *kb = key("binary");
    const char *setb[] = {"SET", kb, bin};
    size_t lens[] = {3, strlen(kb), sizeof(bin)};
    cr_assert_eq(arr_redis_cmd(r, 3, setb, lens, NULL, err, sizeof(err)), ARR_OK, "%s", err);
    const char *getb[] = {"GET", kb};
    rep = cmd_ok(r, 2, getb);
    cr_assert_eq(rep->type, REDIS_REPLY_STRING);
    cr_assert_eq(rep->len, sizeof(bin));
    cr_expect_eq(memcmp(rep->str, bin, sizeof(bin)), 0, "binary value changed");
    freeReplyObject(rep);

    /* A missing key is a nil reply, not an error. */
    const char *getm[] = {"GET", key("missing")};
    rep = cmd_ok(r, 2, getm);
    cr_expect_eq(rep->type, REDIS_REPLY_NIL);
    freeReplyObject(rep);

    const char *incr[] = {"INCRBY", key("counter"), "41"};
    cr_expect_eq(cmd_int(r, 3, incr), 41);
    const char *incr1[] = {"INCR", key("counter")};
    cr_expect_eq(cmd_int(r, 2, incr1), 42);
    arr_redis_free(r);
}

#define PIPE_FIELDS 10000

Test(redis, pipeline_of_ten_thousand_hsets)
{
    arr_redis *r = connect_or_fail();
    const char *h = key("hash");
    for (int i = 0; i < PIPE_FIELDS; i++) {
        char field[32], value[48];
        snprintf(field, sizeof(field), "f%d", i);
        snprintf(value, sizeof(value), "value-%d-%d", i, i * 7);
        const char *argv[] = {"HSET", h, field, value};
        cr_assert_eq(arr_redis_append(r, 4, argv, NULL), ARR_OK, "append %d", i);
    }
    char err[512] = "";
    cr_assert_eq(arr_redis_flush(r, err, sizeof(err)), ARR_OK, "flush: %s", err);
    const char *hlen[] = {"HLEN", h};
    cr_assert_eq(cmd_int(r, 2, hlen), PIPE_FIELDS);

    /* A sample, spread over the range and including both ends. */
    for (int s = 0; s < 200; s++) {
        int i = s == 0 ? 0 : s == 1 ? PIPE_FIELDS - 1 : (int)((s * 7919L) % PIPE_FIELDS);
        char field[32], want[48];
        snprintf(field, sizeof(field), "f%d", i);
        snprintf(want, sizeof(want), "value-%d-%d", i, i * 7);
        const char *argv[] = {"HGET", h, field};
        redisReply *rep = cmd_ok(r, 3, argv);
        cr_assert_eq(rep->type, REDIS_REPLY_STRING, "HGET %s: type %d", field, rep->type);
        cr_assert_str_eq(rep->str, want, "HGET %s", field);
        freeReplyObject(rep);
    }

    /* An empty flush is fine. */
    cr_expect_eq(arr_redis_flush(r, err, sizeof(err)), ARR_OK, "%s", err);
    arr_redis_free(r);
}

Test(redis, error_reply_is_eredis_with_text)
{
    arr_redis *r = connect_or_fail();
    const char *k = key("string");
    const char *set[] = {"SET", k, "not a hash"};
    freeReplyObject(cmd_ok(r, 3, set));

    const char *hget[] = {"HGET", k, "field"};
    redisReply *rep = (redisReply *)0x1;
    char err[512] = "";
    arr_err e = arr_redis_cmd(r, 3, hget, NULL, &rep, err, sizeof(err));
    cr_assert_eq(e, ARR_EREDIS, "HGET on a string gave %s", arr_strerror(e));
    cr_expect_null(rep, "an error reply was handed to the caller");
    cr_expect(strstr(err, "WRONGTYPE") != NULL, "error text missing: '%s'", err);

    const char *bogus[] = {"NOSUCHCOMMANDFORARREARS", "x"};
    err[0] = '\0';
    cr_expect_eq(arr_redis_cmd(r, 2, bogus, NULL, NULL, err, sizeof(err)), ARR_EREDIS);
    cr_expect(strstr(err, "unknown command") != NULL, "error text missing: '%s'", err);

    /* The connection is still usable and in step. */
    const char *get[] = {"GET", k};
    rep = cmd_ok(r, 2, get);
    cr_assert_eq(rep->type, REDIS_REPLY_STRING);
    cr_expect_str_eq(rep->str, "not a hash");
    freeReplyObject(rep);
    arr_redis_free(r);
}

Test(redis, pipeline_reports_first_error_and_consumes_all_replies)
{
    arr_redis *r = connect_or_fail();
    const char *s = key("string");
    const char *h = key("hash");
    const char *after = key("after");
    const char *set[] = {"SET", s, "text"};
    freeReplyObject(cmd_ok(r, 3, set));

    const char *c1[] = {"HSET", h, "a", "1"};
    const char *c2[] = {"HSET", s, "a", "1"};    /* WRONGTYPE */
    const char *c3[] = {"INCR", s};              /* ERR value is not an integer */
    const char *c4[] = {"HSET", h, "b", "2"};
    const char *c5[] = {"SET", after, "done"};
    cr_assert_eq(arr_redis_append(r, 4, c1, NULL), ARR_OK);
    cr_assert_eq(arr_redis_append(r, 4, c2, NULL), ARR_OK);
    cr_assert_eq(arr_redis_append(r, 2, c3, NULL), ARR_OK);
    cr_assert_eq(arr_redis_append(r, 4, c4, NULL), ARR_OK);
    cr_assert_eq(arr_redis_append(r, 3, c5, NULL), ARR_OK);
    char err[512] = "";
    arr_err e = arr_redis_flush(r, err, sizeof(err));
    cr_assert_eq(e, ARR_EREDIS, "a pipeline with failing commands gave %s", arr_strerror(e));
    cr_expect(strstr(err, "WRONGTYPE") != NULL, "not the first error: '%s'", err);
    cr_expect(strstr(err, "not an integer") == NULL, "the second error replaced the first");

    /* The commands around the errors ran... */
    const char *hlen[] = {"HLEN", h};
    cr_expect_eq(cmd_int(r, 2, hlen), 2);
    /* ...and every reply was read: the next reply belongs to the next command. */
    const char *get[] = {"GET", after};
    redisReply *rep = cmd_ok(r, 2, get);
    cr_assert_eq(rep->type, REDIS_REPLY_STRING, "reply type %d: replies out of step", rep->type);
    cr_expect_str_eq(rep->str, "done");
    freeReplyObject(rep);
    cr_expect_eq(arr_redis_flush(r, err, sizeof(err)), ARR_OK, "nothing should be pending");
    char perr[512] = "";
    cr_expect_eq(arr_redis_ping(r, perr, sizeof(perr)), ARR_OK, "%s", perr);
    arr_redis_free(r);
}

Test(redis, killed_connection_fails_then_reconnects)
{
    arr_redis *r = connect_or_fail();
    arr_redis *killer = connect_or_fail();
    const char *id_cmd[] = {"CLIENT", "ID"};
    long long id = cmd_int(r, 2, id_cmd);
    char idbuf[32];
    snprintf(idbuf, sizeof(idbuf), "%lld", id);
    const char *kill[] = {"CLIENT", "KILL", "ID", idbuf};
    cr_assert_eq(cmd_int(killer, 4, kill), 1, "CLIENT KILL did not find the connection");

    const char *k = key("after-kill");
    const char *set[] = {"SET", k, "v"};
    char err[512] = "";
    arr_err e = arr_redis_cmd(r, 3, set, NULL, NULL, err, sizeof(err));
    cr_assert_eq(e, ARR_EREDIS, "a command on a killed connection gave %s", arr_strerror(e));
    cr_expect_neq(err[0], '\0', "no message");
    /* The next command reconnects by itself. */
    err[0] = '\0';
    e = arr_redis_cmd(r, 3, set, NULL, NULL, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "no reconnect after a lost connection: %s (%s)", arr_strerror(e),
                 err);
    cr_expect_neq(cmd_int(r, 2, id_cmd), id, "still the killed connection?");
    const char *get[] = {"GET", k};
    redisReply *rep = cmd_ok(killer, 2, get);
    cr_assert_eq(rep->type, REDIS_REPLY_STRING);
    cr_expect_str_eq(rep->str, "v");
    freeReplyObject(rep);

    /* A pipeline queued on a killed connection reports the loss, and the next one works. */
    snprintf(idbuf, sizeof(idbuf), "%lld", (long long)cmd_int(r, 2, id_cmd));
    cr_assert_eq(cmd_int(killer, 4, kill), 1);
    const char *h = key("pipe-after-kill");
    const char *hset[] = {"HSET", h, "f", "1"};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(arr_redis_append(r, 4, hset, NULL), ARR_OK);
    e = arr_redis_flush(r, err, sizeof(err));
    cr_assert_eq(e, ARR_EREDIS, "a pipeline on a killed connection gave %s", arr_strerror(e));
    for (int i = 0; i < 3; i++)
        cr_assert_eq(arr_redis_append(r, 4, hset, NULL), ARR_OK);
    e = arr_redis_flush(r, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "pipeline after reconnect: %s (%s)", arr_strerror(e), err);
    const char *hlen[] = {"HLEN", h};
    cr_expect_eq(cmd_int(r, 2, hlen), 1);
    arr_redis_free(killer);
    arr_redis_free(r);
}

Test(redis, stage_holds_writes_until_flushed)
{
    arr_redis *r = connect_or_fail();
    arr_redis_stage *st = NULL;
    cr_assert_eq(arr_redis_stage_new(3, &st), ARR_OK);
    const char *k1 = key("stage1"), *k2 = key("stage2"), *k3 = key("stage3"), *k4 = key("stage4");

    /* The stage keeps its own copies of the strings. */
    char field[16] = "amount", value[16] = "1200";
    const char *fv1[] = {field, value, "currency", "EUR"};
    cr_assert_eq(arr_redis_stage_hset(st, k1, 2, fv1), ARR_OK);
    strcpy(field, "XXXXXX");
    strcpy(value, "9999");
    size_t mark = arr_redis_stage_mark(st);
    cr_expect_eq(mark, 1);
    const char *fv2[] = {"f", "rolled back"};
    cr_assert_eq(arr_redis_stage_hset(st, k2, 1, fv2), ARR_OK);
    arr_redis_stage_truncate(st, mark); /* that event was rolled back */
    cr_expect_eq(arr_redis_stage_mark(st), 1);
    const char *fv3[] = {"f", "3"};
    cr_assert_eq(arr_redis_stage_hset(st, k3, 1, fv3), ARR_OK);
    cr_assert_eq(arr_redis_stage_hset(st, k4, 1, fv3), ARR_OK);
    cr_expect_eq(arr_redis_stage_hset(st, key("stage5"), 1, fv3), ARR_ELIMIT);
    cr_expect_eq(arr_redis_stage_hset(st, k4, 0, fv3), ARR_EINVAL);
    const char *many[40];
    for (int i = 0; i < 40; i++)
        many[i] = "x";
    cr_expect_eq(arr_redis_stage_hset(st, k4, 17, many), ARR_EINVAL);

    /* Nothing reached Redis before the flush. */
    const char *exists[] = {"EXISTS", k1, k2, k3, k4};
    cr_expect_eq(cmd_int(r, 5, exists), 0, "staged writes reached Redis before the flush");
    char err[512] = "";
    cr_assert_eq(arr_redis_stage_flush(st, r, err, sizeof(err)), ARR_OK, "%s", err);
    cr_expect_eq(arr_redis_stage_mark(st), 0, "the stage was not emptied");
    const char *ex2[] = {"EXISTS", k2};
    cr_expect_eq(cmd_int(r, 2, ex2), 0, "a truncated write was sent");
    const char *ex134[] = {"EXISTS", k1, k3, k4};
    cr_expect_eq(cmd_int(r, 4, ex134), 3);
    const char *hget[] = {"HGET", k1, "amount"};
    redisReply *rep = cmd_ok(r, 3, hget);
    cr_assert_eq(rep->type, REDIS_REPLY_STRING, "field 'amount' missing");
    cr_expect_str_eq(rep->str, "1200");
    freeReplyObject(rep);
    const char *hlen[] = {"HLEN", k1};
    cr_expect_eq(cmd_int(r, 2, hlen), 2);

    /* A failing staged command: the others still apply, the stage is emptied anyway, and the
     * connection stays in step. */
    const char *s = key("stage-string");
    const char *set[] = {"SET", s, "text"};
    freeReplyObject(cmd_ok(r, 3, set));
    const char *fv4[] = {"g", "4"};
    cr_assert_eq(arr_redis_stage_hset(st, s, 1, fv4), ARR_OK);
    cr_assert_eq(arr_redis_stage_hset(st, k3, 1, fv4), ARR_OK);
    err[0] = '\0';
    cr_expect_eq(arr_redis_stage_flush(st, r, err, sizeof(err)), ARR_EREDIS);
    cr_expect(strstr(err, "WRONGTYPE") != NULL, "message: %s", err);
    cr_expect_eq(arr_redis_stage_mark(st), 0, "the stage was not emptied after an error");
    const char *hget3[] = {"HGET", k3, "g"};
    rep = cmd_ok(r, 3, hget3);
    cr_assert_eq(rep->type, REDIS_REPLY_STRING, "reply type %d", rep->type);
    cr_expect_str_eq(rep->str, "4");
    freeReplyObject(rep);
    /* An empty stage flushes to nothing. */
    cr_expect_eq(arr_redis_stage_flush(st, r, err, sizeof(err)), ARR_OK, "%s", err);
    arr_redis_stage_free(st);
    arr_redis_free(r);
}

Test(redis, connect_to_closed_port_fails)
{
    arr_redis *r = (arr_redis *)0x1;
    char err[512] = "";
    time_t t0 = time(NULL);
    arr_err e = arr_redis_connect("127.0.0.1", 1, 1000, &r, err, sizeof(err));
    cr_assert_eq(e, ARR_EREDIS, "gave %s", arr_strerror(e));
    cr_expect_eq(r, (arr_redis *)0x1, "out was written on failure");
    cr_expect(strstr(err, "127.0.0.1:1") != NULL, "message does not name the address: '%s'", err);
    cr_expect_leq(time(NULL) - t0, 3);
}
