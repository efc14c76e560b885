#include "ratelimit.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS[1] the bucket. ARGV: now ms, rate in nano-tokens per ms (= micro-tokens per s), burst
 * in tokens, TTL margin ms. Returns the wait in ms, 0 when a token was taken.
 *
 * Counts are whole nano-tokens held in doubles, always below 2^53 (burst <= 1e6 tokens,
 * rate <= 1e12 nano/ms, and the refill is computed only while short of full), so every sum
 * and product is exact. A field that does not parse (a foreign writer) makes the bucket empty
 * as of now: it errs on the side of sending less and heals on this write. The TTL counts from
 * this write on Redis's clock; if the key vanishes, a real-time bucket would be full too. */
static const char TAKE_LUA[] =
    "local ONE = 1e9\n"
    "local now, rate = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local cap = tonumber(ARGV[3]) * ONE\n"
    "local function cdiv(a, b)\n"
    "  local q = math.floor(a / b)\n"
    "  if q * b < a then q = q + 1 elseif q > 0 and (q - 1) * b >= a then q = q - 1 end\n"
    "  return q\n"
    "end\n"
    "local f = redis.call('HMGET', KEYS[1], 'tokens', 'ts')\n"
    "local tokens, ts = 0, now\n"
    "if not f[1] and not f[2] then\n"
    "  tokens = cap\n"
    "else\n"
    "  local t, s = tonumber(f[1]), tonumber(f[2])\n"
    "  if t and s and t >= 0 and t <= 1e7 and s >= 0 and s <= 9007199254740992 then\n"
    "    tokens, ts = math.min(math.floor(t * ONE + 0.5), cap), math.floor(s)\n"
    "  end\n"
    "end\n"
    /* Skew: a ts ahead of now is no time elapsed, and ts never moves back. */
    "if now > ts then\n"
    "  if tokens < cap then\n"
    "    if now - ts >= cdiv(cap - tokens, rate) then tokens = cap\n"
    "    else tokens = tokens + (now - ts) * rate end\n"
    "  end\n"
    "  ts = now\n"
    "end\n"
    "local wait = 0\n"
    "if tokens >= ONE then tokens = tokens - ONE\n"
    "else wait = (ts - now) + cdiv(ONE - tokens, rate) end\n"
    "redis.call('HSET', KEYS[1], 'tokens', string.format('%.9f', tokens / ONE),"
    " 'ts', string.format('%.0f', ts))\n"
    "redis.call('PEXPIRE', KEYS[1],"
    " string.format('%.0f', cdiv(cap - tokens, rate) + tonumber(ARGV[4])))\n"
    "return wait\n";

#define KEY_SIZE (sizeof("arr:rl:") + OUTREACH_RATELIMIT_NS_MAX + 1 + OUTREACH_RATELIMIT_BUCKET_MAX)

static arr_err check_name(const char *what, const char *s, size_t max, int colon_ok, char *why,
                          size_t whylen)
{
    if (!s)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "ratelimit: %s is NULL", what);
    size_t len = strnlen(s, max + 1);
    int ok = len >= 1 && len <= max;
    for (size_t i = 0; ok && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        ok = c >= 0x21 && c <= 0x7e && (c != ':' || colon_ok);
    }
    if (!ok)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "ratelimit: %s must be 1 to %zu printable ASCII bytes without "
                               "spaces%s",
                               what, max, colon_ok ? "" : " or ':'");
    return ARR_OK;
}

static arr_err check_limit(double rate_per_s, long long burst, char *why, size_t whylen)
{
    /* The negated comparisons also catch NaN. */
    if (!(rate_per_s >= OUTREACH_RATELIMIT_RATE_MIN && rate_per_s <= OUTREACH_RATELIMIT_RATE_MAX))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "ratelimit: rate %g/s is not between %g/s and %g/s", rate_per_s,
                               OUTREACH_RATELIMIT_RATE_MIN, OUTREACH_RATELIMIT_RATE_MAX);
    if (burst < 1 || burst > OUTREACH_RATELIMIT_BURST_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "ratelimit: burst %lld is not 1..%d", burst,
                               OUTREACH_RATELIMIT_BURST_MAX);
    return ARR_OK;
}

/* The rate in whole micro-tokens per second: rounded down, but a value within float noise
 * below a whole number is that number (0.3 * 1e6 may come out as 299999.99999999994). */
static double rate_micro(double rate_per_s)
{
    double x = rate_per_s * 1e6, n = round(x);
    if (n > x && n - x > x * 4 * DBL_EPSILON)
        n = floor(x);
    return n;
}

arr_err outreach_ratelimit_take(arr_redis *r, const char *ns, const char *bucket, double rate_per_s,
                                int burst, int64_t now_ms, int64_t *wait_ms, char *why,
                                size_t whylen)
{
    arr_err e = check_name("namespace", ns, OUTREACH_RATELIMIT_NS_MAX, 0, why, whylen);
    if (!e)
        e = check_name("bucket", bucket, OUTREACH_RATELIMIT_BUCKET_MAX, 1, why, whylen);
    if (!e)
        e = check_limit(rate_per_s, burst, why, whylen);
    if (e)
        return e;
    if (now_ms < 0 || now_ms > OUTREACH_RATELIMIT_TIME_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "ratelimit: now %" PRId64 " is outside 0..2^53 ms", now_ms);
    if (!r || !wait_ms)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "ratelimit: connection or wait_ms is NULL");

    char key[KEY_SIZE], now[24], rate[24], cap[16], margin[16];
    snprintf(key, sizeof(key), "arr:rl:%s:%s", ns, bucket);
    snprintf(now, sizeof(now), "%" PRId64, now_ms);
    snprintf(rate, sizeof(rate), "%.0f", rate_micro(rate_per_s));
    snprintf(cap, sizeof(cap), "%d", burst);
    snprintf(margin, sizeof(margin), "%d", OUTREACH_RATELIMIT_TTL_MARGIN_MS);
    const char *argv[] = {"EVAL", TAKE_LUA, "1", key, now, rate, cap, margin};
    redisReply *rep = NULL;
    e = arr_redis_cmd(r, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL, &rep, why, whylen);
    if (e)
        return e;
    if (rep->type != REDIS_REPLY_INTEGER || rep->integer < 0) {
        int type = rep->type;
        freeReplyObject(rep);
        return arr_errbuf_fail(ARR_EREDIS, why, whylen,
                               "ratelimit: script reply of type %d, expected a wait >= 0", type);
    }
    *wait_ms = (int64_t)rep->integer;
    freeReplyObject(rep);
    return ARR_OK;
}

/* Length of the run of decimal digits at s. */
static size_t digits(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n;
}

#define NUMBER_MAX 32

arr_err outreach_ratelimit_parse(const char *text, double *rate_per_s, int *burst, char *why,
                                 size_t whylen)
{
    if (!text || !rate_per_s || !burst)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "ratelimit: text or output is NULL");
    if (!*text)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "ratelimit: empty limit");
    /* Grammar checked by hand first: strtod alone would take signs, spaces, hex, exponents,
     * "inf" and "nan". */
    if (*text == '-' || *text == '+')
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "ratelimit: '%.40s': the rate must be a positive number without "
                               "a sign",
                               text);
    const char *p = text;
    size_t ni = digits(p), nf = 0;
    if (ni && p[ni] == '.') {
        nf = digits(p + ni + 1);
        if (!nf)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "ratelimit: '%.40s': no digit after the decimal point", text);
    }
    size_t nlen = ni + (nf ? nf + 1 : 0);
    if (!ni || nlen > NUMBER_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "ratelimit: '%.40s' does not start with a rate (a plain decimal "
                               "of at most %d characters, like 30 or 0.5)",
                               text, NUMBER_MAX);
    char num[NUMBER_MAX + 1];
    memcpy(num, p, nlen);
    num[nlen] = '\0';
    char *end = NULL;
    errno = 0;
    double v = strtod(num, &end);
    if (end != num + nlen || errno)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "ratelimit: rate '%s' does not parse", num);
    p += nlen;
    if (p[0] != '/' || (p[1] != 's' && p[1] != 'm') || (p[2] != '\0' && p[2] != ':'))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "ratelimit: '%.40s': the rate must be followed by /s or /m", text);
    double rate = p[1] == 'm' ? v / 60 : v;
    p += 2;
    if (v == 0)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "ratelimit: '%.40s': the rate is zero",
                               text);
    arr_err e = check_limit(rate, 1, why, whylen);
    if (e)
        return e;
    /* Default burst: one second's worth, at least one token. */
    long long b = (long long)ceil(rate);
    if (b < 1)
        b = 1;
    if (*p == ':') {
        p++;
        size_t nb = digits(p);
        if (!nb || p[nb] != '\0')
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "ratelimit: '%.40s': the burst after ':' must be a whole "
                                   "number and end the text",
                                   text);
        /* Saturates just past the maximum: no overflow, and check_limit names the range. */
        b = 0;
        for (size_t i = 0; i < nb; i++)
            if ((b = b * 10 + (p[i] - '0')) > OUTREACH_RATELIMIT_BURST_MAX)
                b = OUTREACH_RATELIMIT_BURST_MAX + 1LL;
    }
    e = check_limit(rate, b, why, whylen);
    if (e)
        return e;
    *rate_per_s = rate;
    *burst = (int)b;
    return ARR_OK;
}
