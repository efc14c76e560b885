/* scoring_challenger: the stable champion/challenger split; see challenger.h. */
#include "challenger.h"

#include <stdint.h>
#include <string.h>
#include <sodium.h>

int scoring_challenger_bucket(const char *tenant, const char *account_id, const char *experiment)
{
    if (!tenant || !account_id || !experiment)
        return -1;
    /* Idempotent and thread-safe; fails only when the library cannot start at all. */
    if (sodium_init() < 0)
        return -1;
    /* Streamed, so no id is too long and nothing is allocated. */
    crypto_hash_sha256_state h;
    unsigned char md[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const unsigned char *)experiment, strlen(experiment));
    crypto_hash_sha256_update(&h, (const unsigned char *)"/", 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)tenant, strlen(tenant));
    crypto_hash_sha256_update(&h, (const unsigned char *)"/", 1);
    crypto_hash_sha256_update(&h, (const unsigned char *)account_id, strlen(account_id));
    crypto_hash_sha256_final(&h, md);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | md[i];
    return (int)(v % SCORING_BUCKETS);
}

int scoring_challenger_is_challenger(int bucket, int share_bp)
{
    return bucket >= 0 && bucket < share_bp;
}

const char *scoring_challenger_arm(int is_challenger)
{
    return is_challenger ? SCORING_ARM_CHALLENGER : SCORING_ARM_CHAMPION;
}

arr_err scoring_challenger_share_bp(double share, int *share_bp, char *why, size_t whylen)
{
    if (!share_bp || !(share >= 0.0 && share <= 1.0)) {
        arr_errbuf_set(why, whylen, "challenger_share: must be a number from 0 to 1");
        return ARR_EINVAL;
    }
    *share_bp = (int)(share * SCORING_BUCKETS + 0.5);
    return ARR_OK;
}
