/* outreach_ratelimit: token buckets in Redis, shared by every replica of the outreach service,
 * so that a provider's rate limit (30 SMS/s for the whole deployment) holds whatever the
 * number of replicas.
 *
 * Ownership: the caller owns the configuration (rate and burst, from outreach_ratelimit_parse)
 * and the clock; Redis holds the only state, one hash per bucket:
 *   arr:rl:<ns>:<bucket>   {tokens: float string, ts: ms of the caller's clock}
 * with a PEXPIRE of the time the bucket takes to refill completely plus a margin: an idle
 * bucket vanishes, and coming back full is exactly what it would have been. Keys hold names
 * of buckets (a provider, a channel), never personal data. Every take is one Lua script
 * (EVAL), atomic with respect to every other replica.
 *
 * Arithmetic: the script counts in whole nano-tokens and the rate in whole micro-tokens per
 * second (= nano-tokens per ms), all below 2^53, so refills are exact and no rounding lets out
 * more than burst + rate * elapsed tokens. The rate is rounded down to a micro-token per
 * second, except that float noise around a whole number of them is taken as that number (0.3
 * is 0.2999...9889 as a double). Clock skew between replicas: a stored ts later than now_ms
 * counts as no time elapsed, and ts never moves back, so a replica whose clock is behind gets
 * nothing the bucket has not earned on the clock that is ahead.
 *
 * Validation: ns is 1 to OUTREACH_RATELIMIT_NS_MAX bytes of printable ASCII (0x21..0x7e)
 * without ':' (the key must name one (ns, bucket) pair); bucket is 1 to
 * OUTREACH_RATELIMIT_BUCKET_MAX printable ASCII bytes. OUTREACH_RATELIMIT_RATE_MIN <=
 * rate_per_s <= OUTREACH_RATELIMIT_RATE_MAX, 1 <= burst <= OUTREACH_RATELIMIT_BURST_MAX,
 * 0 <= now_ms <= 2^53. Bad arguments are ARR_EINVAL with the reason in why, and nothing is
 * sent to Redis.
 *
 * Errors: ARR_EINVAL; ARR_EREDIS when Redis fails or answers an error (retriable: nothing was
 * taken, or a token was taken and the reply lost, which only errs on the side of sending
 * less). Out-parameters are written only on ARR_OK.
 * Threads: the connection is the caller's and is used by one thread at a time (arr_redis);
 * the module keeps no state. */
#ifndef ARREARS_OUTREACH_RATELIMIT_H
#define ARREARS_OUTREACH_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "arrears/err.h"
#include "arrears/redis.h"

#define OUTREACH_RATELIMIT_NS_MAX 64
#define OUTREACH_RATELIMIT_BUCKET_MAX 64
/* Bounds that keep every count of the script an exact integer below 2^53. */
#define OUTREACH_RATELIMIT_RATE_MIN 1e-6 /* one token in 11.6 days */
#define OUTREACH_RATELIMIT_RATE_MAX 1e6
#define OUTREACH_RATELIMIT_BURST_MAX 1000000
#define OUTREACH_RATELIMIT_TIME_MAX ((int64_t)1 << 53)
/* Kept past the time to refill completely, so a key never expires before it is full. */
#define OUTREACH_RATELIMIT_TTL_MARGIN_MS 1000

/* Takes one token from bucket `bucket` of namespace ns when one is available: *wait_ms = 0.
 * Otherwise takes nothing and *wait_ms = the ms until the next token (>= 1). rate_per_s > 0
 * tokens refill per second, continuously; burst >= 1 is the bucket's capacity (a new bucket
 * starts full). now_ms is the caller's clock (the real wall clock: provider limits are real
 * time even when the campaign runs on a simulated one). */
arr_err outreach_ratelimit_take(arr_redis *r, const char *ns, const char *bucket, double rate_per_s,
                                int burst, int64_t now_ms, int64_t *wait_ms, char *why,
                                size_t whylen);

/* Parses a limit from configuration: "<rate>/s" or "<rate>/m" (per minute), optionally
 * ":<burst>"; rate a plain decimal ("30", "0.5"), burst a whole number. The default burst is
 * ceil(rate per second), at least 1. "30/s", "30/s:60", "1800/m", "0.5/s". Anything else
 * (empty, signs, exponents, spaces, zero, a rate outside RATE_MIN..RATE_MAX per second, a
 * burst outside 1..BURST_MAX) is ARR_EINVAL with the reason in why. */
arr_err outreach_ratelimit_parse(const char *text, double *rate_per_s, int *burst, char *why,
                                 size_t whylen);

#endif
