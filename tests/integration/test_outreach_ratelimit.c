/* Integration tests of outreach_ratelimit against the real Redis of the stack
 * (ARR_REDIS_HOST / ARR_REDIS_PORT, default 127.0.0.1:16379), and unit tests of its parser.
 * Redis not reachable is a failure, not a skip: scripts/test starts the stack first.
 *
 * Every clock value is injected (now_ms): no assertion depends on the wall clock. Every test
 * works in its own random namespace; the suite's fini deletes its keys, also when an
 * assertion failed. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "redis_env.h"

/* Test harness state: the namespace of the running test, for the fini. */
static char test_ns[40];

/* An arbitrary epoch-like instant; the script never reads Redis's clock. */
#define T0 ((int64_t)1700000000000)

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    unsigned char raw[12];
    FILE *f = fopen("/dev/urandom", "rb");
    cr_assert_not_null(f, "cannot open /dev/urandom");
    cr_assert_eq(fread(raw, 1, sizeof(raw), f), sizeof(raw));
    fclose(f);
    char tok[sizeof(raw) + 1];
    for (size_t i = 0; i < sizeof(raw); i++)
        tok[i] = (char)('a' + raw[i] % 26);
    tok[sizeof(raw)] = '\0';
    snprintf(test_ns, sizeof(test_ns), "test.ratelimit.%s", tok);
}

/* Deletes every key of the namespace (SCAN, not KEYS: the Redis is shared). */
static void teardown(void)
{
    arr_redis *r = NULL;
    if (arr_redis_connect(redis_host(), redis_port(), 2000, &r, NULL, 0) != ARR_OK)
        return;
    char pattern[80], cursor[32] = "0";
    snprintf(pattern, sizeof(pattern), "arr:rl:%s:*", test_ns);
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
        redisReply *rep = NULL;
        if (arr_redis_cmd(r, 6, argv, NULL, &rep, NULL, 0) != ARR_OK)
            break;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            freeReplyObject(rep);
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        for (size_t i = 0; i < rep->element[1]->elements; i++) {
            const char *del[] = {"DEL", rep->element[1]->element[i]->str};
            arr_redis_cmd(r, 2, del, NULL, NULL, NULL, 0);
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    arr_redis_free(r);
}

TestSuite(outreach_ratelimit, .init = setup, .fini = teardown, .timeout = 120);

static void key_of(const char *bucket, char *key, size_t len)
{
    snprintf(key, len, "arr:rl:%s:%s", test_ns, bucket);
}

/* One take; returns the wait (0: taken). */
static int64_t take(arr_redis *r, const char *bucket, double rate, int burst, int64_t now)
{
    int64_t wait = -77;
    char why[512] = "";
    arr_err e =
        outreach_ratelimit_take(r, test_ns, bucket, rate, burst, now, &wait, why, sizeof(why));
    cr_assert_eq(e, ARR_OK, "take %s at %lld: %s (%s)", bucket, (long long)now, arr_strerror(e),
                 why);
    cr_assert_geq(wait, 0);
    return wait;
}

/* Takes until refused; returns the number taken and the wait of the refusal in *wait. */
static int drain(arr_redis *r, const char *bucket, double rate, int burst, int64_t now,
                 int64_t *wait)
{
    for (int n = 0; n <= burst + 1; n++) {
        int64_t w = take(r, bucket, rate, burst, now);
        if (w > 0) {
            if (wait)
                *wait = w;
            return n;
        }
    }
    cr_assert_fail("bucket %s gave more than burst + 1 = %d tokens at one instant", bucket,
                   burst + 1);
    return -1;
}

/* A plain command whose reply is a string (NULL reply: ""), copied into out. */
static void cmd_str(arr_redis *r, int argc, const char **argv, char *out, size_t len)
{
    redisReply *rep = NULL;
    char why[512] = "";
    arr_err e = arr_redis_cmd(r, argc, argv, NULL, &rep, why, sizeof(why));
    cr_assert_eq(e, ARR_OK, "%s: %s (%s)", argv[0], arr_strerror(e), why);
    if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS)
        snprintf(out, len, "%s", rep->str);
    else if (rep->type == REDIS_REPLY_INTEGER)
        snprintf(out, len, "%lld", rep->integer);
    else
        snprintf(out, len, "%s", "");
    freeReplyObject(rep);
}

static long long cmd_int(arr_redis *r, int argc, const char **argv)
{
    char out[64];
    cmd_str(r, argc, argv, out, sizeof(out));
    return atoll(out);
}

static void hset(arr_redis *r, const char *bucket, const char *tokens, const char *ts)
{
    char key[160], out[32];
    key_of(bucket, key, sizeof(key));
    const char *argv[] = {"HSET", key, "tokens", tokens, "ts", ts};
    cmd_str(r, 6, argv, out, sizeof(out));
}

static void hget(arr_redis *r, const char *bucket, const char *field, char *out, size_t len)
{
    char key[160];
    key_of(bucket, key, sizeof(key));
    const char *argv[] = {"HGET", key, field};
    cmd_str(r, 3, argv, out, len);
}

Test(outreach_ratelimit, new_bucket_gives_burst_then_waits)
{
    arr_redis *r = connect_or_fail();
    /* 10/s: one token every 100 ms. */
    cr_expect_eq(drain(r, "sms", 10, 5, T0, NULL), 5);
    cr_expect_eq(take(r, "sms", 10, 5, T0), 100, "wait at 10/s");
    cr_expect_eq(take(r, "sms", 10, 5, T0 + 40), 60);
    cr_expect_eq(take(r, "sms", 10, 5, T0 + 99), 1);
    cr_expect_eq(take(r, "sms", 10, 5, T0 + 100), 0, "the token due at +100 ms");
    cr_expect_eq(take(r, "sms", 10, 5, T0 + 100), 100);

    /* 3/s: the wait rounds up (333.3 ms -> 334), never down. */
    cr_expect_eq(drain(r, "voice", 3, 1, T0, NULL), 1);
    cr_expect_eq(take(r, "voice", 3, 1, T0), 334);
    cr_expect_eq(take(r, "voice", 3, 1, T0 + 333), 1);
    cr_expect_eq(take(r, "voice", 3, 1, T0 + 334), 0);

    /* Buckets are independent. */
    cr_expect_eq(drain(r, "email", 10, 2, T0, NULL), 2);
    arr_redis_free(r);
}

Test(outreach_ratelimit, refill_gives_exactly_k_tokens)
{
    arr_redis *r = connect_or_fail();
    int64_t now = T0, wait = 0;
    cr_assert_eq(drain(r, "sms", 10, 50, now, &wait), 50);
    cr_expect_eq(wait, 100);
    for (int k = 1; k <= 7; k++) {
        now += (int64_t)k * 100;
        cr_expect_eq(drain(r, "sms", 10, 50, now, &wait), k, "after %d ms", k * 100);
        cr_expect_eq(wait, 100);
    }
    /* Idle far longer than the time to fill: capped at burst. */
    now += 3600 * 1000;
    cr_expect_eq(drain(r, "sms", 10, 50, now, NULL), 50);
    arr_redis_free(r);
}

Test(outreach_ratelimit, fractional_rate_never_exceeds_burst_plus_rate_times_elapsed)
{
    arr_redis *r = connect_or_fail();
    /* 0.3/s with burst 2 (never reached after the first drain, so nothing is capped): over
     * 10 s, 2 + 0.3 * 10 = 5 tokens exactly, the 5th at +10000 ms to the ms (3333.33 ms per
     * token, the fractions carried over, none lost or gained). */
    cr_expect_eq(drain(r, "slow", 0.3, 2, T0, NULL), 2);
    cr_expect_eq(take(r, "slow", 0.3, 2, T0 + 3333), 1);
    cr_expect_eq(take(r, "slow", 0.3, 2, T0 + 3334), 0);
    cr_expect_eq(take(r, "slow", 0.3, 2, T0 + 6666), 1);
    cr_expect_eq(take(r, "slow", 0.3, 2, T0 + 6667), 0);
    cr_expect_eq(take(r, "slow", 0.3, 2, T0 + 9999), 1);
    cr_expect_eq(take(r, "slow", 0.3, 2, T0 + 10000), 0);
    cr_expect_eq(take(r, "slow", 0.3, 2, T0 + 10000), 3334);

    /* 1000/m (16.67/s) is no whole number of micro-tokens per second: it is rounded down
     * (16.666666/s), so the 1002nd token of the minute comes 1 ms late, never early. */
    double rate = 1000.0 / 60;
    int64_t wait = 0;
    cr_expect_eq(drain(r, "minute", rate, 2, T0, NULL), 2);
    int taken = 0;
    for (int64_t t = T0 + 1; t < T0 + 60000; t += 7)
        taken += drain(r, "minute", rate, 2, t, NULL);
    cr_expect_eq(taken, 999, "tokens before the minute is over");
    cr_expect_eq(drain(r, "minute", rate, 2, T0 + 60000, &wait), 0);
    cr_expect_eq(wait, 1);
    cr_expect_eq(drain(r, "minute", rate, 2, T0 + 60001, NULL), 1);

    /* The capacity caps the refill: at burst 1, what accrues while the bucket is full is
     * lost (1 token at +3334, not 1.0002). */
    cr_expect_eq(drain(r, "capped", 0.3, 1, T0, NULL), 1);
    cr_expect_eq(take(r, "capped", 0.3, 1, T0 + 3333), 1);
    cr_expect_eq(take(r, "capped", 0.3, 1, T0 + 3334), 0);
    cr_expect_eq(take(r, "capped", 0.3, 1, T0 + 3334), 3334);
    arr_redis_free(r);
}

Test(outreach_ratelimit, state_is_stored_with_a_ttl)
{
    arr_redis *r = connect_or_fail();
    char key[160], out[64];
    key_of("sms", key, sizeof(key));
    cr_expect_eq(drain(r, "sms", 10, 5, T0, NULL), 5);
    hget(r, "sms", "ts", out, sizeof(out));
    cr_expect_str_eq(out, "1700000000000");
    hget(r, "sms", "tokens", out, sizeof(out));
    cr_expect_eq(strtod(out, NULL), 0.0, "tokens '%s'", out);
    /* Empty at 10/s with burst 5: full in 500 ms, plus the margin. */
    const char *pttl[] = {"PTTL", key};
    long long ttl = cmd_int(r, 2, pttl);
    cr_expect(ttl > 0 && ttl <= 500 + OUTREACH_RATELIMIT_TTL_MARGIN_MS, "PTTL %lld", ttl);

    /* The TTL follows the time to refill: 1000 s at 0.001/s. The lower bound leaves more
     * slack than the suite's timeout, so it cannot depend on the machine's speed. */
    key_of("slow", key, sizeof(key));
    cr_expect_eq(take(r, "slow", 0.001, 3, T0), 0);
    hget(r, "slow", "tokens", out, sizeof(out));
    cr_expect_eq(strtod(out, NULL), 2.0, "tokens '%s'", out);
    const char *pttl2[] = {"PTTL", key};
    ttl = cmd_int(r, 2, pttl2);
    cr_expect(ttl > 1000000 + OUTREACH_RATELIMIT_TTL_MARGIN_MS - 300000 &&
                  ttl <= 1000000 + OUTREACH_RATELIMIT_TTL_MARGIN_MS,
              "PTTL %lld", ttl);
    arr_redis_free(r);
}

Test(outreach_ratelimit, clock_skew_gives_no_extra_tokens)
{
    arr_redis *r = connect_or_fail();
    /* Replica A's clock is 1 s ahead of replica B's; both share the bucket. */
    int64_t a = T0 + 1000, b = T0, wait = 0;
    cr_assert_eq(drain(r, "sms", 10, 3, a, NULL), 3);
    /* B sees no time elapsed, and its wait counts up to A's stamp first. */
    cr_expect_eq(drain(r, "sms", 10, 3, b, &wait), 0);
    cr_expect_eq(wait, 1000 + 100);
    cr_expect_eq(drain(r, "sms", 10, 3, b + 500, &wait), 0);
    cr_expect_eq(wait, 500 + 100);
    /* B did not move the stamp back: A gets no credit for B's earlier clock. */
    char out[64];
    hget(r, "sms", "ts", out, sizeof(out));
    cr_expect_eq(atoll(out), a, "ts '%s'", out);
    cr_expect_eq(drain(r, "sms", 10, 3, a, NULL), 0);
    cr_expect_eq(drain(r, "sms", 10, 3, a + 100, NULL), 1);
    cr_expect_eq(drain(r, "sms", 10, 3, b + 1200, NULL), 1);

    /* A stored stamp far ahead (written by a clock 5 s fast): only the tokens stored. */
    hset(r, "ahead", "2.5", "1700000005000");
    cr_expect_eq(drain(r, "ahead", 10, 3, T0, &wait), 2);
    cr_expect_eq(wait, 5000 + 50);
    cr_expect_eq(drain(r, "ahead", 10, 3, T0 + 4999, NULL), 0);
    cr_expect_eq(drain(r, "ahead", 10, 3, T0 + 5050, NULL), 1);
    arr_redis_free(r);
}

Test(outreach_ratelimit, foreign_or_oversized_state_errs_on_the_side_of_less)
{
    arr_redis *r = connect_or_fail();
    int64_t wait = 0;
    /* Fields that do not parse: an empty bucket as of now, healed by the write. */
    hset(r, "junk", "abc", "1700000000000");
    cr_expect_eq(drain(r, "junk", 10, 3, T0, &wait), 0);
    cr_expect_eq(wait, 100);
    cr_expect_eq(drain(r, "junk", 10, 3, T0 + 100, NULL), 1);
    hset(r, "nan", "nan", "1700000000000");
    cr_expect_eq(drain(r, "nan", 10, 3, T0, NULL), 0);
    hset(r, "neg", "-5", "1700000000000");
    cr_expect_eq(drain(r, "neg", 10, 3, T0, NULL), 0);
    /* More tokens than the burst (the burst was lowered): capped. */
    hset(r, "lowered", "50", "1700000000000");
    cr_expect_eq(drain(r, "lowered", 10, 3, T0, NULL), 3);
    arr_redis_free(r);
}

#define SHARED_BURST 1000

typedef struct taker {
    pthread_barrier_t *start;
    int taken;
    arr_err err;
    char why[512];
} taker;

/* Takes at one fixed instant until refused, on its own connection. No Criterion asserts here:
 * the main thread checks the result. */
static void *take_loop(void *arg)
{
    taker *t = arg;
    arr_redis *r = NULL;
    t->err = arr_redis_connect(redis_host(), redis_port(), 5000, &r, t->why, sizeof(t->why));
    pthread_barrier_wait(t->start);
    if (t->err)
        return NULL;
    for (int i = 0; i <= SHARED_BURST; i++) {
        int64_t wait = -1;
        t->err = outreach_ratelimit_take(r, test_ns, "shared", 1, SHARED_BURST, T0, &wait, t->why,
                                         sizeof(t->why));
        if (t->err || wait != 0)
            break;
        t->taken++;
    }
    arr_redis_free(r);
    return NULL;
}

Test(outreach_ratelimit, concurrent_replicas_share_one_burst)
{
    pthread_barrier_t start;
    cr_assert_eq(pthread_barrier_init(&start, NULL, 2), 0);
    taker t[2];
    memset(t, 0, sizeof(t));
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        t[i].start = &start;
        cr_assert_eq(pthread_create(&th[i], NULL, take_loop, &t[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(t[i].err, ARR_OK, "thread %d: %s (%s)", i, arr_strerror(t[i].err), t[i].why);
    cr_expect_eq(t[0].taken + t[1].taken, SHARED_BURST, "taken %d + %d", t[0].taken, t[1].taken);
    /* Both really took part (released together by the barrier): a weak check of the
     * concurrency. */
    cr_expect(t[0].taken > 0 && t[1].taken > 0, "taken %d and %d", t[0].taken, t[1].taken);
    arr_redis *r = connect_or_fail();
    cr_expect_eq(take(r, "shared", 1, SHARED_BURST, T0), 1000);
    arr_redis_free(r);
}

Test(outreach_ratelimit, bad_arguments_never_reach_redis)
{
    arr_redis *r = connect_or_fail();
    char long_name[OUTREACH_RATELIMIT_NS_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    const char *ns = test_ns;
    struct {
        const char *ns, *bucket;
        double rate;
        int burst;
        int64_t now;
        int null_wait;
        const char *reason; /* a word the reason must hold */
    } bad[] = {
        {NULL, "b", 10, 1, T0, 0, "namespace"},
        {"", "b", 10, 1, T0, 0, "namespace"},
        {"a b", "b", 10, 1, T0, 0, "namespace"},
        {"a:b", "b", 10, 1, T0, 0, "namespace"},
        {"a\x7f", "b", 10, 1, T0, 0, "namespace"},
        {long_name, "b", 10, 1, T0, 0, "namespace"},
        {ns, NULL, 10, 1, T0, 0, "bucket"},
        {ns, "", 10, 1, T0, 0, "bucket"},
        {ns, "sms\n", 10, 1, T0, 0, "bucket"},
        {ns, "caf\xc3\xa9", 10, 1, T0, 0, "bucket"},
        {ns, long_name, 10, 1, T0, 0, "bucket"},
        {ns, "b", 0, 1, T0, 0, "rate "},
        {ns, "b", -10, 1, T0, 0, "rate "},
        {ns, "b", 1e-7, 1, T0, 0, "rate "},
        {ns, "b", 1e6 + 1, 1, T0, 0, "rate "},
        {ns, "b", NAN, 1, T0, 0, "rate "},
        {ns, "b", INFINITY, 1, T0, 0, "rate "},
        {ns, "b", 10, 0, T0, 0, "burst"},
        {ns, "b", 10, -1, T0, 0, "burst"},
        {ns, "b", 10, OUTREACH_RATELIMIT_BURST_MAX + 1, T0, 0, "burst"},
        {ns, "b", 10, 1, -1, 0, "now"},
        {ns, "b", 10, 1, OUTREACH_RATELIMIT_TIME_MAX + 1, 0, "now"},
        {ns, "b", 10, 1, T0, 1, "wait_ms"},
    };
    /* Inside MULTI every command Redis receives is queued, and EXEC returns one reply per
     * command: zero replies proves that no bad call sent anything. */
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
    char out[64];
    cmd_str(r, 1, multi, out, sizeof(out));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char why[512] = "";
        int64_t wait = 12345;
        arr_err e =
            outreach_ratelimit_take(r, bad[i].ns, bad[i].bucket, bad[i].rate, bad[i].burst,
                                    bad[i].now, bad[i].null_wait ? NULL : &wait, why, sizeof(why));
        cr_expect_eq(e, ARR_EINVAL, "case %zu: %s", i, arr_strerror(e));
        cr_expect(strstr(why, bad[i].reason) != NULL, "case %zu: reason '%s' lacks '%s'", i, why,
                  bad[i].reason);
        cr_expect_eq(wait, 12345, "case %zu: wait written on failure", i);
    }
    redisReply *rep = NULL;
    cr_assert_eq(arr_redis_cmd(r, 1, exec, NULL, &rep, NULL, 0), ARR_OK);
    cr_expect(rep->type == REDIS_REPLY_ARRAY && rep->elements == 0,
              "EXEC: %zu commands were sent by bad calls", rep->elements);
    freeReplyObject(rep);

    /* The probe itself can fail: a good call inside MULTI is queued (and its "QUEUED" reply
     * is not a wait, so the call reports a Redis error). */
    cmd_str(r, 1, multi, out, sizeof(out));
    int64_t wait = 12345;
    cr_expect_eq(outreach_ratelimit_take(r, test_ns, "b", 10, 1, T0, &wait, NULL, 0), ARR_EREDIS);
    cr_expect_eq(wait, 12345);
    cr_assert_eq(arr_redis_cmd(r, 1, exec, NULL, &rep, NULL, 0), ARR_OK);
    cr_expect(rep->type == REDIS_REPLY_ARRAY && rep->elements == 1, "EXEC: %zu replies",
              rep->elements);
    freeReplyObject(rep);
    /* A NULL connection with good arguments. */
    char why[512] = "";
    cr_expect_eq(outreach_ratelimit_take(NULL, test_ns, "b", 10, 1, T0, &wait, why, sizeof(why)),
                 ARR_EINVAL);
    cr_expect_eq(wait, 12345);
    arr_redis_free(r);
}

Test(outreach_ratelimit, parse_accepts_the_documented_forms)
{
    struct {
        const char *text;
        double rate;
        int burst;
    } good[] = {
        {"30/s", 30, 30},
        {"30/s:60", 30, 60},
        {"30/s:1", 30, 1},
        {"1800/m", 30, 30},
        {"1800/m:5", 30, 5},
        {"0.5/s", 0.5, 1},
        {"0.5/s:3", 0.5, 3},
        {"2.5/s", 2.5, 3},
        {"1000/m", 1000.0 / 60, 17},
        {"1/m", 1.0 / 60, 1},
        {"007/s", 7, 7},
        {"0.000001/s", 1e-6, 1},
        {"1000000/s", 1e6, 1000000},
        {"60000000/m", 1e6, 1000000},
        {"1/s:1000000", 1, 1000000},
        {"1/s:0000002", 1, 2},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        double rate = -1;
        int burst = -1;
        char why[512] = "";
        arr_err e = outreach_ratelimit_parse(good[i].text, &rate, &burst, why, sizeof(why));
        cr_expect_eq(e, ARR_OK, "'%s': %s (%s)", good[i].text, arr_strerror(e), why);
        cr_expect_eq(rate, good[i].rate, "'%s': rate %.17g, want %.17g", good[i].text, rate,
                     good[i].rate);
        cr_expect_eq(burst, good[i].burst, "'%s': burst %d, want %d", good[i].text, burst,
                     good[i].burst);
    }
}

Test(outreach_ratelimit, parse_rejects_everything_else)
{
    struct {
        const char *text;
        const char *reason; /* a word the reason must hold */
    } bad[] = {
        {"", "empty"},
        {"30", "/s or /m"},
        {"30/", "/s or /m"},
        {"30/h", "/s or /m"},
        {"30/ss", "/s or /m"},
        {"30/S", "/s or /m"},
        {"/s", "rate "},
        {"-30/s", "sign"},
        {"+30/s", "sign"},
        {"0/s", "zero"},
        {"0.0/s", "zero"},
        {"0/m:5", "zero"},
        {"30/s:0", "burst"},
        {"30/s:", "burst"},
        {"30/s:-1", "burst"},
        {"30/s:1.5", "burst"},
        {"30/s:6a", "burst"},
        {"30/s:60:1", "burst"},
        {"30/s:1000001", "burst"},
        {"30/s:99999999999999999999999", "burst"},
        {" 30/s", "rate "},
        {"30/s ", "/s or /m"},
        {"30 /s", "/s or /m"},
        {"30/s\n", "/s or /m"},
        {"3e1/s", "/s or /m"},
        {"0x1e/s", "/s or /m"},
        {"inf/s", "rate "},
        {"nan/s", "rate "},
        {".5/s", "rate "},
        {"5./s", "decimal point"},
        {"1,5/s", "/s or /m"},
        {"1000001/s", "rate "},
        {"60000060/m", "rate "},
        {"0.0000009/s", "rate "},
        {"1/s:1/s", "burst"},
        {"abc", "rate "},
        {"000000000000000000000000000000001/s", "rate "},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double rate = -1;
        int burst = -1;
        char why[512] = "";
        arr_err e = outreach_ratelimit_parse(bad[i].text, &rate, &burst, why, sizeof(why));
        cr_expect_eq(e, ARR_EINVAL, "'%s' accepted (rate %g, burst %d)", bad[i].text, rate, burst);
        cr_expect(strstr(why, bad[i].reason) != NULL, "'%s': reason '%s' lacks '%s'", bad[i].text,
                  why, bad[i].reason);
        cr_expect(rate == -1 && burst == -1, "'%s': outputs written on failure", bad[i].text);
    }
    double rate = -1;
    int burst = -1;
    cr_expect_eq(outreach_ratelimit_parse(NULL, &rate, &burst, NULL, 0), ARR_EINVAL);
    cr_expect_eq(outreach_ratelimit_parse("30/s", NULL, &burst, NULL, 0), ARR_EINVAL);
    cr_expect_eq(outreach_ratelimit_parse("30/s", &rate, NULL, NULL, 0), ARR_EINVAL);
    cr_expect(rate == -1 && burst == -1);
}
