/* Unit tests of outreach_channel_backoff_ms (services/outreach/channel.c): exponential growth,
 * the cap, equal jitter within [e/2, e], determinism per seed, spread across seeds, and the
 * edges (attempt < 1, zero or negative base and cap, cap below base, huge attempts and bases
 * without overflow). Pure: no server is involved. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "channel.h"

/* The un-jittered delay the header promises: base * 2^(attempt-1), capped. */
static int64_t expected_e(int attempt, int64_t base, int64_t cap)
{
    if (attempt < 1)
        attempt = 1;
    int64_t e = base < cap ? base : cap;
    for (int i = 1; i < attempt && e < cap; i++)
        e = e > cap / 2 ? cap : e * 2;
    return e;
}

Test(outreach_backoff, within_equal_jitter_bounds)
{
    for (uint64_t seed = 0; seed < 200; seed++) {
        for (int a = 1; a <= 20; a++) {
            int64_t e = expected_e(a, 500, 300000);
            int64_t d = outreach_channel_backoff_ms(a, 500, 300000, seed);
            cr_assert_geq(d, e / 2, "attempt %d seed %llu: %lld below %lld", a,
                          (unsigned long long)seed, (long long)d, (long long)(e / 2));
            cr_assert_leq(d, e, "attempt %d seed %llu: %lld above %lld", a,
                          (unsigned long long)seed, (long long)d, (long long)e);
        }
    }
}

Test(outreach_backoff, grows_exponentially_then_caps)
{
    /* the lower bound e/2 doubles until the cap: 250, 500, 1000, 2000 ... 150000 */
    int64_t floor_prev = 0;
    for (int a = 1; a <= 9; a++) {
        int64_t e = 500LL << (a - 1);
        int64_t d = outreach_channel_backoff_ms(a, 500, 300000, 42);
        cr_assert_geq(d, e / 2);
        cr_assert_leq(d, e);
        cr_assert_gt(e / 2, floor_prev);
        floor_prev = e / 2;
    }
    /* 500 * 2^10 = 512000 > 300000: capped from attempt 11 on, for every later attempt */
    for (int a = 11; a <= 1000; a += 7) {
        int64_t d = outreach_channel_backoff_ms(a, 500, 300000, 42);
        cr_assert_geq(d, 150000);
        cr_assert_leq(d, 300000);
    }
}

Test(outreach_backoff, deterministic_for_a_seed)
{
    for (int a = 1; a <= 30; a++)
        for (uint64_t seed = 1; seed < 1000000; seed *= 7)
            cr_assert_eq(outreach_channel_backoff_ms(a, 1000, 600000, seed),
                         outreach_channel_backoff_ms(a, 1000, 600000, seed));
}

Test(outreach_backoff, seeds_spread_the_jitter)
{
    /* attempt 5 with base 1000: e = 16000, results in [8000, 16000]; 1000 seeds must not
     * bunch: each eighth of the range gets a fair share, and few values repeat */
    int bins[8] = {0};
    int64_t min = INT64_MAX, max = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        int64_t d = outreach_channel_backoff_ms(5, 1000, 600000, seed * 0x9e3779b97f4a7c15ULL);
        int bin = (int)((d - 8000) * 8 / 8001);
        cr_assert(bin >= 0 && bin < 8);
        bins[bin]++;
        if (d < min)
            min = d;
        if (d > max)
            max = d;
    }
    for (int i = 0; i < 8; i++)
        cr_assert_gt(bins[i], 60, "bin %d has %d of 1000", i, bins[i]);
    cr_assert_lt(min, 8200);
    cr_assert_gt(max, 15800);
    /* consecutive seeds too (a step id counter as the seed) */
    int same = 0;
    for (uint64_t seed = 0; seed < 100; seed++)
        same += outreach_channel_backoff_ms(3, 1000, 600000, seed) ==
                outreach_channel_backoff_ms(3, 1000, 600000, seed + 1);
    cr_assert_lt(same, 5);
}

Test(outreach_backoff, attempts_differ_for_the_same_seed)
{
    /* with the cap reached, e is the same for every attempt: the jitter must still move */
    int same = 0;
    for (int a = 20; a < 120; a++)
        same += outreach_channel_backoff_ms(a, 1000, 60000, 7) ==
                outreach_channel_backoff_ms(a + 1, 1000, 60000, 7);
    cr_assert_lt(same, 5);
}

Test(outreach_backoff, edges)
{
    /* attempt < 1 counts as 1 */
    cr_assert_eq(outreach_channel_backoff_ms(0, 1000, 60000, 9),
                 outreach_channel_backoff_ms(1, 1000, 60000, 9));
    cr_assert_eq(outreach_channel_backoff_ms(-5, 1000, 60000, 9),
                 outreach_channel_backoff_ms(1, 1000, 60000, 9));
    int64_t d1 = outreach_channel_backoff_ms(1, 1000, 60000, 9);
    cr_assert(d1 >= 500 && d1 <= 1000);
    /* nothing to wait */
    cr_assert_eq(outreach_channel_backoff_ms(3, 0, 60000, 9), 0);
    cr_assert_eq(outreach_channel_backoff_ms(3, -10, 60000, 9), 0);
    cr_assert_eq(outreach_channel_backoff_ms(3, 1000, 0, 9), 0);
    cr_assert_eq(outreach_channel_backoff_ms(3, 1000, -1, 9), 0);
    /* cap below base: capped from the first attempt */
    for (int a = 1; a < 10; a++) {
        int64_t d = outreach_channel_backoff_ms(a, 10000, 3000, 9);
        cr_assert(d >= 1500 && d <= 3000, "attempt %d: %lld", a, (long long)d);
    }
    /* a 1 ms base: e/2 is 0, so 0 or 1 */
    int64_t tiny = outreach_channel_backoff_ms(1, 1, 1, 9);
    cr_assert(tiny == 0 || tiny == 1);
}

Test(outreach_backoff, no_overflow)
{
    int64_t d = outreach_channel_backoff_ms(INT32_MAX, INT64_MAX / 2, INT64_MAX, 1);
    cr_assert(d >= INT64_MAX / 2 - 1 && d <= INT64_MAX, "%lld", (long long)d);
    d = outreach_channel_backoff_ms(INT32_MAX, 1, INT64_MAX, UINT64_MAX);
    cr_assert(d >= INT64_MAX / 4 && d <= INT64_MAX);
    d = outreach_channel_backoff_ms(63, 3, INT64_MAX - 1, 5);
    cr_assert(d > 0 && d <= INT64_MAX - 1);
    d = outreach_channel_backoff_ms(INT32_MAX, INT64_MAX, INT64_MAX, 0);
    cr_assert(d >= INT64_MAX / 2 && d <= INT64_MAX);
}
