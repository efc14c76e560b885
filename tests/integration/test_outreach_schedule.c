/* Integration tests of outreach_schedule against the real Redis of the stack
 * (ARR_REDIS_HOST / ARR_REDIS_PORT, default 127.0.0.1:16379). Redis not reachable is a
 * failure, not a skip: scripts/test starts the stack first.
 *
 * Every test works in its own random namespace; the suite's fini clears it, also when an
 * assertion failed. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "redis_env.h"

/* Test harness state: the namespace of the running test, for the fini. */
static char test_ns[40];

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
    snprintf(test_ns, sizeof(test_ns), "test.schedule.%s", tok);
}

static void teardown(void)
{
    arr_redis *r = NULL;
    if (arr_redis_connect(redis_host(), redis_port(), 2000, &r, NULL, 0) != ARR_OK)
        return;
    outreach_schedule_clear(r, test_ns, NULL, 0);
    arr_redis_free(r);
}

TestSuite(outreach_schedule, .init = setup, .fini = teardown, .timeout = 120);

#define OK(call)                                                                                   \
    do {                                                                                           \
        char why_[512] = "";                                                                       \
        arr_err e_ = (call);                                                                       \
        cr_assert_eq(e_, ARR_OK, "%s: %s (%s)", #call, arr_strerror(e_), why_);                    \
    } while (0)

static void put(arr_redis *r, const char *account, const char *step, int64_t due)
{
    char why[512] = "";
    arr_err e = outreach_schedule_put(r, test_ns, "t1", account, step, due, why, sizeof(why));
    cr_assert_eq(e, ARR_OK, "put %s %s: %s (%s)", account, step, arr_strerror(e), why);
}

static void counts(arr_redis *r, size_t want_due, size_t want_leased)
{
    size_t due = 99, leased = 99;
    char why[512] = "";
    arr_err e = outreach_schedule_count(r, test_ns, &due, &leased, why, sizeof(why));
    cr_assert_eq(e, ARR_OK, "count: %s (%s)", arr_strerror(e), why);
    cr_assert_eq(due, want_due, "due: %zu, want %zu", due, want_due);
    cr_assert_eq(leased, want_leased, "leased: %zu, want %zu", leased, want_leased);
}

static size_t claim(arr_redis *r, int64_t now, int64_t lease, size_t max,
                    outreach_schedule_item *items)
{
    size_t n = 12345;
    char why[512] = "";
    arr_err e = outreach_schedule_claim(r, test_ns, now, lease, max, items, &n, why, sizeof(why));
    cr_assert_eq(e, ARR_OK, "claim: %s (%s)", arr_strerror(e), why);
    cr_assert_leq(n, max);
    return n;
}

static int ack(arr_redis *r, const char *member)
{
    int acked = -1;
    char why[512] = "";
    arr_err e = outreach_schedule_ack(r, test_ns, member, &acked, why, sizeof(why));
    cr_assert_eq(e, ARR_OK, "ack %s: %s (%s)", member, arr_strerror(e), why);
    return acked;
}

static int remove_step(arr_redis *r, const char *account, const char *step)
{
    int removed = -1;
    char why[512] = "";
    arr_err e =
        outreach_schedule_remove(r, test_ns, "t1", account, step, &removed, why, sizeof(why));
    cr_assert_eq(e, ARR_OK, "remove: %s (%s)", arr_strerror(e), why);
    return removed;
}

Test(outreach_schedule, put_replace_remove)
{
    arr_redis *r = connect_or_fail();
    counts(r, 0, 0);
    put(r, "acc-1", "s1", 1000);
    put(r, "acc-2", "s1", 1500);
    counts(r, 2, 0);
    /* The account's next step replaces its previous one. */
    put(r, "acc-1", "s2", 2000);
    counts(r, 2, 0);
    /* Putting the same member again moves it. */
    put(r, "acc-2", "s1", 500);
    counts(r, 2, 0);

    outreach_schedule_item items[4];
    size_t n = claim(r, 5000, 1000, 4, items);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(items[0].member, "t1/acc-2|s1");
    cr_expect_str_eq(items[0].tenant, "t1");
    cr_expect_str_eq(items[0].account, "acc-2");
    cr_expect_str_eq(items[0].step_id, "s1");
    cr_expect_eq(items[0].due_ms, 500);
    cr_expect_str_eq(items[1].member, "t1/acc-1|s2");
    cr_expect_eq(items[1].due_ms, 2000);
    counts(r, 0, 2);

    /* Remove: a different step id leaves the member, the right one or NULL removes it, due or
     * leased. */
    OK(outreach_schedule_clear(r, test_ns, why_, sizeof(why_)));
    put(r, "acc-1", "s1", 1000);
    put(r, "acc-2", "s1", 1000);
    cr_expect_eq(remove_step(r, "acc-1", "s9"), 0);
    counts(r, 2, 0);
    cr_expect_eq(remove_step(r, "acc-1", "s1"), 1);
    counts(r, 1, 0);
    cr_expect_eq(remove_step(r, "acc-1", NULL), 0);
    cr_expect_eq(remove_step(r, "acc-nobody", NULL), 0);
    n = claim(r, 1000, 1000, 4, items);
    cr_assert_eq(n, 1);
    counts(r, 0, 1);
    cr_expect_eq(remove_step(r, "acc-2", "s2"), 0);
    counts(r, 0, 1);
    cr_expect_eq(remove_step(r, "acc-2", NULL), 1, "stop at once must also drop a lease");
    counts(r, 0, 0);
    cr_expect_eq(ack(r, items[0].member), 0);
    counts(r, 0, 0);
    arr_redis_free(r);
}

Test(outreach_schedule, claim_order_and_now_boundary)
{
    arr_redis *r = connect_or_fail();
    const int64_t now = 1700000000000LL;
    /* Put out of order; one due exactly now, one a millisecond later. */
    put(r, "a5", "x", now + 1);
    put(r, "a3", "x", now - 10);
    put(r, "a4", "x", now);
    put(r, "a1", "x", now - 86400000LL * 3); /* three days late: an outage */
    put(r, "a2", "x", now - 86400000LL);
    put(r, "a6", "x", now + 3600000);

    outreach_schedule_item items[10];
    /* max limits the batch, the oldest first. */
    size_t n = claim(r, now, 60000, 2, items);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(items[0].account, "a1");
    cr_expect_eq(items[0].due_ms, now - 86400000LL * 3);
    cr_expect_str_eq(items[1].account, "a2");
    n = claim(r, now, 60000, 10, items);
    cr_assert_eq(n, 2, "due == now must be claimed, due == now + 1 not (got %zu)", n);
    cr_expect_str_eq(items[0].account, "a3");
    cr_expect_str_eq(items[1].account, "a4");
    cr_expect_eq(items[1].due_ms, now);
    counts(r, 2, 4);
    cr_expect_eq(claim(r, now, 60000, 10, items), 0);
    n = claim(r, now + 1, 60000, 10, items);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(items[0].account, "a5");
    cr_expect_eq(items[0].due_ms, now + 1);
    counts(r, 1, 5);
    arr_redis_free(r);
}

Test(outreach_schedule, lease_expiry_requeues_with_original_due_time)
{
    arr_redis *r = connect_or_fail();
    put(r, "acc-1", "s1", 500);
    put(r, "acc-2", "s1", 700);
    outreach_schedule_item items[4];
    size_t n = claim(r, 1000, 100, 4, items);
    cr_assert_eq(n, 2);
    counts(r, 0, 2);

    /* acc-2's replica finishes; acc-1's dies. */
    cr_expect_eq(ack(r, items[1].member), 1);
    counts(r, 0, 1);
    size_t requeued = 99;
    OK(outreach_schedule_expire(r, test_ns, 1099, 10, &requeued, why_, sizeof(why_)));
    cr_expect_eq(requeued, 0, "a lease running until 1100 expired at 1099");
    OK(outreach_schedule_expire(r, test_ns, 1100, 10, &requeued, why_, sizeof(why_)));
    cr_expect_eq(requeued, 1);
    counts(r, 1, 0);

    /* The late ack of the dead claim changes nothing. */
    cr_expect_eq(ack(r, items[0].member), 0);
    counts(r, 1, 0);

    /* Re-claimed with its original due time, in its place before later ones. */
    put(r, "acc-3", "s1", 600);
    n = claim(r, 2000, 100, 4, items);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(items[0].member, "t1/acc-1|s1");
    cr_expect_eq(items[0].due_ms, 500);
    cr_expect_str_eq(items[1].member, "t1/acc-3|s1");
    cr_expect_eq(ack(r, items[0].member), 1);
    cr_expect_eq(ack(r, items[1].member), 1);
    counts(r, 0, 0);
    /* Acked accounts are unscheduled. */
    cr_expect_eq(remove_step(r, "acc-1", NULL), 0);
    arr_redis_free(r);
}

Test(outreach_schedule, defer_and_next_step_while_leased)
{
    arr_redis *r = connect_or_fail();
    put(r, "acc-1", "s1", 500);
    put(r, "acc-2", "s1", 500);
    outreach_schedule_item items[4];
    cr_assert_eq(claim(r, 1000, 100, 4, items), 2);

    /* acc-1 deferred: the same step later; the ack that follows does nothing. */
    put(r, "acc-1", "s1", 5000);
    counts(r, 1, 1);
    cr_expect_eq(ack(r, "t1/acc-1|s1"), 0);
    counts(r, 1, 1);
    /* acc-2 done: its next step, then the ack of the old one. */
    put(r, "acc-2", "s2", 9000);
    counts(r, 2, 0);
    cr_expect_eq(ack(r, "t1/acc-2|s1"), 0);
    counts(r, 2, 0);
    /* Nothing of the old claims comes back on expiry. */
    size_t requeued = 99;
    OK(outreach_schedule_expire(r, test_ns, 100000, 10, &requeued, why_, sizeof(why_)));
    cr_expect_eq(requeued, 0);
    size_t n = claim(r, 100000, 100, 4, items);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(items[0].member, "t1/acc-1|s1");
    cr_expect_eq(items[0].due_ms, 5000);
    cr_expect_str_eq(items[1].member, "t1/acc-2|s2");
    cr_expect_eq(items[1].due_ms, 9000);
    arr_redis_free(r);
}

Test(outreach_schedule, rejects_bad_ids_and_limits)
{
    arr_redis *r = connect_or_fail();
    char why[512];
    char longid[200];
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    struct {
        const char *tenant, *account, *step;
    } bad[] = {
        {"t|1", "a", "s"}, {"t 1", "a", "s"}, {"t/1", "a", "s"},  {"", "a", "s"},
        {"t", "a|b", "s"}, {"t", "a b", "s"}, {"t", "", "s"},     {"t", "a", "s|2"},
        {"t", "a", "s\n"}, {"t", "a", ""},    {"t", longid, "s"}, {"t", "a", longid},
        {NULL, "a", "s"},  {"t", NULL, "s"},  {"t", "a", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        arr_err e = outreach_schedule_put(r, test_ns, bad[i].tenant, bad[i].account, bad[i].step, 1,
                                          why, sizeof(why));
        cr_expect_eq(e, ARR_EINVAL, "case %zu accepted", i);
        cr_expect_neq(why[0], '\0', "case %zu: no reason", i);
    }
    cr_expect_eq(outreach_schedule_put(r, "bad ns", "t", "a", "s", 1, why, sizeof(why)),
                 ARR_EINVAL);
    cr_expect_eq(outreach_schedule_put(r, test_ns, "t", "a", "s", -1, why, sizeof(why)),
                 ARR_EINVAL);
    /* An account id may hold '/' (the tenant may not). */
    cr_expect_eq(outreach_schedule_put(r, test_ns, "t", "a/b", "s", 1, why, sizeof(why)), ARR_OK,
                 "%s", why);
    counts(r, 1, 0);

    outreach_schedule_item items[1];
    size_t n = 77;
    cr_expect_eq(outreach_schedule_claim(r, test_ns, 10, 10, 0, items, &n, why, sizeof(why)),
                 ARR_EINVAL);
    cr_expect_eq(outreach_schedule_claim(r, test_ns, 10, 10, OUTREACH_SCHEDULE_CLAIM_MAX + 1, items,
                                         &n, why, sizeof(why)),
                 ARR_EINVAL);
    cr_expect_eq(outreach_schedule_claim(r, test_ns, 10, 0, 1, items, &n, why, sizeof(why)),
                 ARR_EINVAL);
    cr_expect_eq(n, 77, "n written on failure");
    cr_expect_eq(outreach_schedule_claim(r, test_ns, 10, 10, 1, items, &n, why, sizeof(why)),
                 ARR_OK, "%s", why);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(items[0].tenant, "t");
    cr_expect_str_eq(items[0].account, "a/b");
    cr_expect_str_eq(items[0].step_id, "s");
    int acked = 5;
    cr_expect_eq(outreach_schedule_ack(r, test_ns, "no-separator", &acked, why, sizeof(why)),
                 ARR_EINVAL);
    cr_expect_eq(acked, 5);
    size_t q = 3;
    cr_expect_eq(outreach_schedule_expire(r, test_ns, 10, 0, &q, why, sizeof(why)), ARR_EINVAL);
    cr_expect_eq(q, 3);
    arr_redis_free(r);
}

#define MANY 10000

typedef struct claimer {
    unsigned char *seen; /* this thread's marks, MANY bytes */
    size_t claimed, batches;
    arr_err err;
    char why[512];
} claimer;

/* Claims in small batches until nothing is due, on its own connection. No Criterion asserts
 * here: the main thread checks the result. */
static void *claim_loop(void *arg)
{
    claimer *c = arg;
    arr_redis *r = NULL;
    c->err = arr_redis_connect(redis_host(), redis_port(), 5000, &r, c->why, sizeof(c->why));
    if (c->err)
        return NULL;
    outreach_schedule_item items[50];
    for (;;) {
        size_t n = 0;
        c->err = outreach_schedule_claim(r, test_ns, 1000000, 600000, 50, items, &n, c->why,
                                         sizeof(c->why));
        if (c->err || n == 0)
            break;
        c->batches++;
        for (size_t i = 0; i < n; i++) {
            int idx = atoi(items[i].account + 4); /* "acc-NNNNN" */
            if (strncmp(items[i].account, "acc-", 4) != 0 || idx < 0 || idx >= MANY ||
                items[i].due_ms != idx) {
                c->err = ARR_EDECODE;
                snprintf(c->why, sizeof(c->why), "unexpected claim %s due %lld", items[i].member,
                         (long long)items[i].due_ms);
                break;
            }
            c->seen[idx]++;
            c->claimed++;
        }
        if (c->err)
            break;
    }
    arr_redis_free(r);
    return NULL;
}

Test(outreach_schedule, concurrent_claims_are_disjoint_and_complete)
{
    arr_redis *r = connect_or_fail();
    /* 10,000 accounts due at 0..9999 ms; each due time names its account. */
    for (int i = 0; i < MANY; i++) {
        char acct[16];
        snprintf(acct, sizeof(acct), "acc-%05d", i);
        put(r, acct, "s1", i);
    }
    counts(r, MANY, 0);

    claimer c[2];
    memset(c, 0, sizeof(c));
    pthread_t th[2];
    for (int t = 0; t < 2; t++) {
        c[t].seen = calloc(MANY, 1);
        cr_assert_not_null(c[t].seen);
        cr_assert_eq(pthread_create(&th[t], NULL, claim_loop, &c[t]), 0);
    }
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < 2; t++)
        cr_assert_eq(c[t].err, ARR_OK, "thread %d: %s (%s)", t, arr_strerror(c[t].err), c[t].why);

    size_t both = 0, none = 0;
    for (int i = 0; i < MANY; i++) {
        int total = c[0].seen[i] + c[1].seen[i];
        if (total > 1)
            both++;
        if (total == 0)
            none++;
    }
    cr_expect_eq(both, 0, "%zu members claimed more than once", both);
    cr_expect_eq(none, 0, "%zu members never claimed", none);
    cr_expect_eq(c[0].claimed + c[1].claimed, MANY);
    /* Both really took part (each claimed something): a weak check of the concurrency. */
    cr_expect(c[0].claimed > 0 && c[1].claimed > 0, "claims %zu and %zu", c[0].claimed,
              c[1].claimed);
    counts(r, 0, MANY);
    free(c[0].seen);
    free(c[1].seen);
    arr_redis_free(r);
}

Test(outreach_schedule, clear_removes_everything)
{
    arr_redis *r = connect_or_fail();
    put(r, "acc-1", "s1", 1);
    put(r, "acc-2", "s1", 2);
    outreach_schedule_item items[1];
    cr_assert_eq(claim(r, 10, 10, 1, items), 1);
    counts(r, 1, 1);
    OK(outreach_schedule_clear(r, test_ns, why_, sizeof(why_)));
    counts(r, 0, 0);
    cr_expect_eq(remove_step(r, "acc-2", NULL), 0, "the account index survived the clear");
    arr_redis_free(r);
}

/* Planners call ensure after every event: a step a sender holds must stay in its hands. The
 * sweep calls put_absent: it fills a hole, never replaces what a planner wrote. */
Test(outreach_schedule, ensure_keeps_claims_and_put_absent_fills_holes_only)
{
    arr_redis *r = connect_or_fail();
    outreach_schedule_item items[4];
    int changed = -1;
    put(r, "A1", "s1", 1000);
    cr_assert_eq(claim(r, 2000, 5000, 4, items), 1);
    OK(outreach_schedule_ensure(r, test_ns, "t1", "A1", "s1", 1000, &changed, why_, sizeof(why_)));
    cr_assert_eq(changed, 0, "ensure of the claimed step changed it");
    counts(r, 0, 1); /* still leased: no second sender can claim it */
    cr_assert_eq(claim(r, 3000, 5000, 4, items), 0);
    OK(outreach_schedule_ensure(r, test_ns, "t1", "A1", "s2", 4000, &changed, why_, sizeof(why_)));
    cr_assert_eq(changed, 1, "a new step replaces the member");
    counts(r, 1, 0);
    cr_assert_eq(ack(r, items[0].member), 0, "the old claim was taken over by the new step");

    OK(outreach_schedule_put_absent(r, test_ns, "t1", "A1", "s1", 500, &changed, why_,
                                    sizeof(why_)));
    cr_assert_eq(changed, 0, "put_absent replaced a member");
    counts(r, 1, 0);
    cr_assert_eq(claim(r, 10000, 5000, 4, items), 1);
    cr_assert_str_eq(items[0].step_id, "s2");
    OK(outreach_schedule_put_absent(r, test_ns, "t1", "A1", "s3", 500, &changed, why_,
                                    sizeof(why_)));
    cr_assert_eq(changed, 0, "put_absent replaced a leased member");
    cr_assert_eq(ack(r, items[0].member), 1);
    counts(r, 0, 0);
    OK(outreach_schedule_put_absent(r, test_ns, "t1", "A1", "s3", 500, &changed, why_,
                                    sizeof(why_)));
    cr_assert_eq(changed, 1, "put_absent did not fill the hole");
    counts(r, 1, 0);
    arr_redis_free(r);
}
