/* Unit tests of services/scoring/challenger.c: bucket = first 8 bytes of
 * SHA-256("<experiment>/<tenant>/<account>") as a big-endian integer, mod 10000; the
 * challenger takes the buckets below its share in basis points. The pinned values were
 * computed outside the project:
 *   printf '%s' 'exp-2026-11/utility-a/ACC-000123' | sha256sum  -> b49621e8ed24c078...
 *   0xb49621e8ed24c078 mod 10000 = 4920
 *   printf '%s' 'exp-2026-11/utility-a/acct-1' | sha256sum      -> 72dee4d93046fd1d...
 *   0x72dee4d93046fd1d mod 10000 = 5181 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "challenger.h"

#define N_ACCOUNTS 100000

static void account_id(int i, char *out, size_t len)
{
    snprintf(out, len, "ACC-%06d", i);
}

/* The definition again, one-shot and written independently of the module. */
static int reference_bucket(const char *tenant, const char *account, const char *experiment)
{
    char text[512];
    snprintf(text, sizeof(text), "%s/%s/%s", experiment, tenant, account);
    unsigned char md[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(md, (const unsigned char *)text, strlen(text));
    unsigned long long v = 0;
    for (int i = 0; i < 8; i++)
        v = v * 256 + md[i];
    return (int)(v % 10000);
}

Test(scoring_challenger, pinned_buckets)
{
    cr_assert_eq(scoring_challenger_bucket("utility-a", "ACC-000123", "exp-2026-11"), 4920);
    cr_assert_eq(scoring_challenger_bucket("utility-a", "acct-1", "exp-2026-11"), 5181);
    /* 4920 < 5000: challenger at 50 %; not at 49.2 % (bucket 4920 is the 4921st) */
    cr_assert(scoring_challenger_is_challenger(4920, 5000));
    cr_assert(scoring_challenger_is_challenger(4920, 4921));
    cr_assert_not(scoring_challenger_is_challenger(4920, 4920));
}

Test(scoring_challenger, matches_the_definition_and_is_stable)
{
    cr_assert_geq(sodium_init(), 0);
    for (int i = 0; i < 2000; i++) {
        char id[32];
        account_id(i, id, sizeof(id));
        int b = scoring_challenger_bucket("hospital-b", id, "exp-x");
        cr_assert(b >= 0 && b < SCORING_BUCKETS, "%s: %d", id, b);
        cr_assert_eq(b, reference_bucket("hospital-b", id, "exp-x"), "%s", id);
        cr_assert_eq(b, scoring_challenger_bucket("hospital-b", id, "exp-x"), "%s: not stable", id);
    }
}

Test(scoring_challenger, shares_zero_and_all)
{
    for (int i = 0; i < N_ACCOUNTS; i++) {
        char id[32];
        account_id(i, id, sizeof(id));
        int b = scoring_challenger_bucket("utility-a", id, "exp-2026-11");
        cr_assert_not(scoring_challenger_is_challenger(b, 0), "%s at share 0", id);
        cr_assert(scoring_challenger_is_challenger(b, SCORING_BUCKETS), "%s at share 10000", id);
    }
}

Test(scoring_challenger, twenty_percent_within_one_point)
{
    int challengers = 0;
    for (int i = 0; i < N_ACCOUNTS; i++) {
        char id[32];
        account_id(i, id, sizeof(id));
        challengers += scoring_challenger_is_challenger(
            scoring_challenger_bucket("utility-a", id, "exp-2026-11"), 2000);
    }
    /* 20 % of 100,000 = 20,000; one percentage point = 1,000 */
    cr_assert(challengers >= 19000 && challengers <= 21000, "%d challengers", challengers);
}

Test(scoring_challenger, a_new_experiment_reshuffles)
{
    int moved = 0, in_a = 0, in_both = 0;
    for (int i = 0; i < N_ACCOUNTS; i++) {
        char id[32];
        account_id(i, id, sizeof(id));
        int a = scoring_challenger_bucket("utility-a", id, "exp-2026-11");
        int b = scoring_challenger_bucket("utility-a", id, "exp-2026-12");
        moved += a != b;
        int ca = scoring_challenger_is_challenger(a, 2000);
        in_a += ca;
        in_both += ca && scoring_challenger_is_challenger(b, 2000);
    }
    /* Independent splits: almost every bucket changes, and about 20 % of A's challengers
     * (4 % of all) are challengers in B too, not all of them. */
    cr_assert_gt(moved, N_ACCOUNTS * 99 / 100, "%d moved", moved);
    cr_assert(in_both > in_a * 15 / 100 && in_both < in_a * 25 / 100, "%d of %d", in_both, in_a);
    /* The tenant is part of the key as well. */
    cr_assert_neq(scoring_challenger_bucket("utility-a", "ACC-000123", "exp-2026-11"),
                  scoring_challenger_bucket("utility-b", "ACC-000123", "exp-2026-11"));
}

Test(scoring_challenger, raising_the_share_only_adds_challengers)
{
    for (int i = 0; i < 1000; i++) {
        char id[32];
        account_id(i, id, sizeof(id));
        int b = scoring_challenger_bucket("utility-a", id, "exp-2026-11");
        for (int share = 0; share < SCORING_BUCKETS; share += 500)
            if (scoring_challenger_is_challenger(b, share))
                cr_assert(scoring_challenger_is_challenger(b, share + 500));
    }
}

Test(scoring_challenger, bad_input_is_champion)
{
    cr_assert_eq(scoring_challenger_bucket(NULL, "a", "e"), -1);
    cr_assert_eq(scoring_challenger_bucket("t", NULL, "e"), -1);
    cr_assert_eq(scoring_challenger_bucket("t", "a", NULL), -1);
    cr_assert_not(scoring_challenger_is_challenger(-1, SCORING_BUCKETS));
    /* Empty strings are still text: "//" hashes like any other. */
    int b = scoring_challenger_bucket("", "", "");
    cr_assert(b >= 0 && b < SCORING_BUCKETS);
}

Test(scoring_challenger, arms_and_shares)
{
    cr_assert_str_eq(scoring_challenger_arm(0), "champion");
    cr_assert_str_eq(scoring_challenger_arm(1), "challenger");
    int bp = -1;
    char why[128] = "";
    cr_assert_eq(scoring_challenger_share_bp(0.2, &bp, why, sizeof(why)), ARR_OK);
    cr_assert_eq(bp, 2000);
    cr_assert_eq(scoring_challenger_share_bp(0.0, &bp, why, sizeof(why)), ARR_OK);
    cr_assert_eq(bp, 0);
    cr_assert_eq(scoring_challenger_share_bp(1.0, &bp, why, sizeof(why)), ARR_OK);
    cr_assert_eq(bp, 10000);
    cr_assert_eq(scoring_challenger_share_bp(0.20004, &bp, why, sizeof(why)), ARR_OK);
    cr_assert_eq(bp, 2000);
    cr_assert_eq(scoring_challenger_share_bp(0.20006, &bp, why, sizeof(why)), ARR_OK);
    cr_assert_eq(bp, 2001, "rounded");
    bp = 77;
    cr_assert_eq(scoring_challenger_share_bp(1.01, &bp, why, sizeof(why)), ARR_EINVAL);
    cr_assert_eq(bp, 77);
    cr_assert_not_null(strstr(why, "challenger_share"), "%s", why);
    cr_assert_eq(scoring_challenger_share_bp(-0.01, &bp, why, sizeof(why)), ARR_EINVAL);
    cr_assert_eq(scoring_challenger_share_bp(NAN, &bp, why, sizeof(why)), ARR_EINVAL);
}
