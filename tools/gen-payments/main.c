/* gen-payments: payments, returns and payment arrangements for a portfolio written by
 * gen-portfolio (JSON Lines), for the reconciliation tests and benchmarks. Payments and returns
 * are in our JSON-lines payment format (services/reconciliation/jsonl.h), arrangements in the
 * terms the reconciliation book takes (plan, settlement). Every category is built so that the
 * right answer is known: expected.json is worked out from what was written, not by running
 * anything, and says what a correct matcher must end with.
 *
 * Everything comes from --seed through a private generator (splitmix64), never rand() or the
 * clock, and the portfolio is taken in file order: the same arguments give the same bytes.
 * The portfolio is held in memory because accounts are drawn without replacement; its size,
 * its lines and its fields are capped. */
#include "arrears/hash.h"
#include "arrears/utf8.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define LINE_CAP (64 * 1024) /* longest portfolio line, newline excluded */
#define ACCOUNTS_MAX 10000000u
#define PAYMENTS_MAX 10000000u /* --payments */
#define TEXT_CAP 128           /* account_id (the service's limit), invoice_id, each name */
#define PAYER_CAP 140          /* payer_name limit of the JSON-lines format */
#define TERM_ID_CAP 64         /* arrangement ids of the book: "settle-<A>" must fit */
#define ARRANGE_MIN 3000       /* cents: the smallest balance that gets an arrangement */
#define MISSING_RETURNS 10
#define FIRST_DAY 2 /* payments arrive 2026-11-02 .. 2026-11-28 */
#define LAST_DAY 28
#define SETTLE_DAY 20

static const char *const INSTALMENT_DUE[3] = {"2026-12-01", "2027-01-01", "2027-02-01"};

/* ------------------------------------------------------------------ randomness */

#define GOLDEN 0x9e3779b97f4a7c15ULL


typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next64(rng *r)
{
    r->s += GOLDEN;
    return arr_hash_mix64(r->s);
}

/* Uniform in [0, n), n > 0: draws past the last whole multiple of n are redrawn (no bias). */
static uint64_t below(rng *r, uint64_t n)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
    do {
        x = next64(r);
    } while (x >= lim);
    return x % n;
}

static int64_t between(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)below(r, (uint64_t)(hi - lo) + 1);
}

/* ------------------------------------------------------------------ the portfolio */

typedef struct acct {
    char *id, *invoice, *payer; /* one allocation, id first; invoice and payer may be "" */
    int64_t cents;
    long line;
    char currency[4];
    unsigned char unique_balance, used;
} acct;

typedef struct portfolio {
    acct *a;
    size_t n, cap;
} portfolio;

__attribute__((format(printf, 3, 4))) static int failf(char *why, size_t whylen, const char *fmt,
                                                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

typedef struct cur {
    const char *p, *end;
} cur;

static int peek(const cur *c)
{
    return c->p < c->end ? (unsigned char)*c->p : -1;
}

static void ws(cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
        c->p++;
}

static int hex4(cur *c, uint32_t *v)
{
    if (c->end - c->p < 4)
        return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char h = *c->p++;
        int d = h >= '0' && h <= '9'   ? h - '0'
                : h >= 'a' && h <= 'f' ? h - 'a' + 10
                : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

static size_t utf8_put(uint32_t cp, char *u)
{
    if (cp < 0x80) {
        u[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    u[0] = (char)(0xf0 | cp >> 18);
    u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    u[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

enum { STR_OK = 0, STR_BAD = -1, STR_LONG = -2, STR_NUL = -3 };

/* Decodes the JSON string at c->p (its opening quote) into dst (cap bytes with the NUL; raw
 * bytes are copied as they are), or only steps over it when dst is NULL. A string too long for
 * dst or holding \u0000 is still stepped over whole, so the caller can name the field. */
static int str_decode(cur *c, char *dst, size_t cap)
{
    size_t n = 0;
    int rc = STR_OK;
    c->p++;
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p++;
        char u[4] = {(char)ch};
        size_t k = 1;
        uint32_t cp;
        if (ch == '"') {
            if (dst && rc == STR_OK)
                dst[n] = '\0';
            return rc;
        }
        if (ch < 0x20)
            return STR_BAD;
        if (ch == '\\') {
            if (c->p >= c->end)
                return STR_BAD;
            ch = (unsigned char)*c->p++;
            static const char names[] = "\"\\/bfnrtu", vals[] = "\"\\/\b\f\n\r\t";
            const char *esc = strchr(names, ch);
            if (!ch || !esc)
                return STR_BAD;
            if (ch != 'u') {
                cp = (unsigned char)vals[esc - names];
            } else {
                if (hex4(c, &cp) || (cp >= 0xdc00 && cp < 0xe000))
                    return STR_BAD;
                if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
                    uint32_t lo;
                    if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u')
                        return STR_BAD;
                    c->p += 2;
                    if (hex4(c, &lo) || lo < 0xdc00 || lo >= 0xe000)
                        return STR_BAD;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                if (cp == 0 && rc == STR_OK)
                    rc = STR_NUL;
            }
            k = utf8_put(cp, u);
        }
        if (dst && rc == STR_OK) {
            if (n + k >= cap)
                rc = STR_LONG;
            else
                memcpy(dst + n, u, k);
        }
        n += k;
    }
    return STR_BAD;
}

/* A number or literal: its text, stepped over. */
static void scalar(cur *c, const char **s, size_t *n)
{
    *s = c->p;
    while (c->p < c->end && strchr("0123456789+-.eEtruefalsn", *c->p) && *c->p)
        c->p++;
    *n = (size_t)(c->p - *s);
}

static int is_lit(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static size_t digits(const char *s, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && s[j] >= '0' && s[j] <= '9')
        j++;
    return j - i;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(const char *s, size_t n)
{
    size_t i = n && s[0] == '-', d = digits(s, i, n);
    if (d == 0 || (d > 1 && s[i] == '0'))
        return 0;
    i += d;
    if (i < n && s[i] == '.') {
        if ((d = digits(s, ++i, n)) == 0)
            return 0;
        i += d;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i += i + 1 < n && (s[i + 1] == '+' || s[i + 1] == '-') ? 2 : 1;
        if ((d = digits(s, i, n)) == 0)
            return 0;
        i += d;
    }
    return i == n;
}

/* Steps over any value; nesting is bounded so a hostile line cannot exhaust the stack. */
static int skip_value(cur *c, int depth)
{
    ws(c);
    int open = peek(c);
    if (open == '"')
        return str_decode(c, NULL, 0) == STR_BAD ? -1 : 0;
    if (open == '{' || open == '[') {
        int close = open == '{' ? '}' : ']';
        if (depth >= 32)
            return -1;
        c->p++;
        ws(c);
        if (peek(c) == close) {
            c->p++;
            return 0;
        }
        for (;;) {
            ws(c);
            if (open == '{') {
                if (peek(c) != '"' || str_decode(c, NULL, 0) == STR_BAD)
                    return -1;
                ws(c);
                if (peek(c) != ':')
                    return -1;
                c->p++;
            }
            if (skip_value(c, depth + 1))
                return -1;
            ws(c);
            if (peek(c) == ',') {
                c->p++;
            } else if (peek(c) == close) {
                c->p++;
                return 0;
            } else {
                return -1;
            }
        }
    }
    const char *s;
    size_t n;
    scalar(c, &s, &n);
    return json_number(s, n) || is_lit(s, n, "true") || is_lit(s, n, "false") ||
                   is_lit(s, n, "null")
               ? 0
               : -1;
}

/* -?[0-9]{1,15}(.[0-9]{1,2})? in minor units (two decimals). */
static int parse_cents(const char *s, int64_t *v)
{
    int neg = *s == '-', nd = 0, nf = 0;
    int64_t w = 0, f = 0;
    for (s += neg; *s >= '0' && *s <= '9'; s++, nd++)
        w = w * 10 + (*s - '0');
    if (nd == 0 || nd > 15)
        return -1;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, nf++)
            f = f * 10 + (*s - '0');
        if (nf == 0 || nf > 2)
            return -1;
    }
    if (*s)
        return -1;
    *v = (w * 100 + (nf == 1 ? f * 10 : f)) * (neg ? -1 : 1);
    return 0;
}

enum { F_ID, F_CURRENCY, F_BALANCE, F_INVOICE, F_FIRST, F_LAST, F_COUNT };
static const char *const FIELDS[F_COUNT] = {"account_id", "currency",   "balance",
                                            "invoice_id", "first_name", "last_name"};

/* The fields this tool needs out of one portfolio line; every other field is stepped over. */
static int parse_account(const char *line, size_t len, long ln, acct *out, char *why, size_t whylen)
{
    char val[F_COUNT][TEXT_CAP + 1] = {{0}};
    unsigned seen = 0;
    cur c = {line, line + len};
    ws(&c);
    if (peek(&c) != '{')
        return failf(why, whylen, "line %ld: not a JSON object", ln);
    c.p++;
    ws(&c);
    if (peek(&c) == '}')
        c.p++;
    else
        for (;;) {
            char key[16];
            int f = -1, rc;
            ws(&c);
            if (peek(&c) != '"' || (rc = str_decode(&c, key, sizeof key)) == STR_BAD)
                goto bad;
            for (int i = 0; rc == STR_OK && i < F_COUNT; i++)
                if (strcmp(key, FIELDS[i]) == 0)
                    f = i;
            ws(&c);
            if (peek(&c) != ':')
                goto bad;
            c.p++;
            ws(&c);
            if (f < 0) {
                if (skip_value(&c, 0))
                    goto bad;
            } else if (seen >> f & 1) {
                return failf(why, whylen, "line %ld field %s: appears twice", ln, FIELDS[f]);
            } else if (peek(&c) == '"') {
                rc = str_decode(&c, val[f], sizeof val[f]);
                if (rc == STR_BAD)
                    goto bad;
                if (rc == STR_LONG)
                    return failf(why, whylen, "line %ld field %s: longer than %d bytes", ln,
                                 FIELDS[f], TEXT_CAP);
                /* raw bytes are copied as they are: they must already be UTF-8, or the
                 * output is not JSON */
                if (rc == STR_NUL || !arr_utf8_valid(val[f], strlen(val[f])))
                    return failf(why, whylen, "line %ld field %s: %s", ln, FIELDS[f],
                                 rc ? "contains a NUL character" : "not valid UTF-8");
                seen |= 1u << f;
            } else {
                const char *s;
                size_t n;
                if (peek(&c) == '{' || peek(&c) == '[')
                    return failf(why, whylen, "line %ld field %s: not a string", ln, FIELDS[f]);
                scalar(&c, &s, &n);
                if (f == F_BALANCE && json_number(s, n) && n <= TEXT_CAP) {
                    memcpy(val[f], s, n); /* 19.14 as well as "19.14" */
                    seen |= 1u << f;
                } else if (json_number(s, n) || is_lit(s, n, "true") || is_lit(s, n, "false")) {
                    return failf(why, whylen, "line %ld field %s: not a string", ln, FIELDS[f]);
                } else if (!is_lit(s, n, "null")) { /* null: as if absent */
                    goto bad;
                }
            }
            ws(&c);
            if (peek(&c) == '}') {
                c.p++;
                break;
            }
            if (peek(&c) != ',')
                goto bad;
            c.p++;
        }
    ws(&c);
    if (c.p != c.end)
        return failf(why, whylen, "line %ld: text after the JSON object", ln);

    const char *id = val[F_ID], *cy = val[F_CURRENCY];
    if (!(seen >> F_ID & 1) || !*id)
        return failf(why, whylen, "line %ld field account_id: missing", ln);
    for (const char *p = id; *p; p++)
        if (*p < '!' || *p > '~')
            return failf(why, whylen,
                         "line %ld field account_id: not printable ASCII without spaces", ln);
    if (!(seen >> F_BALANCE & 1))
        return failf(why, whylen, "line %ld field balance: missing", ln);
    if (parse_cents(val[F_BALANCE], &out->cents))
        return failf(why, whylen,
                     "line %ld field balance: not a decimal amount with at most two decimals "
                     "(like \"19.14\")",
                     ln);
    /* An absent currency is USD: the default deploy/mappings/gen-portfolio.jsonl.json gives,
     * and gen-portfolio leaves it out on some lines even with --broken-rate 0. */
    if (!(seen >> F_CURRENCY & 1))
        cy = "USD";
    if (strlen(cy) != 3 || strspn(cy, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
        return failf(why, whylen, "line %ld field currency: not three capital letters", ln);

    /* The payer as a bank would show it; too long for payer_name means no name to match on. */
    char payer[2 * TEXT_CAP + 2];
    snprintf(payer, sizeof payer, "%s%s%s", val[F_FIRST], *val[F_FIRST] && *val[F_LAST] ? " " : "",
             val[F_LAST]);
    if (strlen(payer) > PAYER_CAP)
        payer[0] = '\0';
    size_t li = strlen(id) + 1, lv = strlen(val[F_INVOICE]) + 1, lp = strlen(payer) + 1;
    char *mem = malloc(li + lv + lp);
    if (!mem)
        return failf(why, whylen, "line %ld: out of memory", ln);
    out->id = memcpy(mem, id, li);
    out->invoice = memcpy(mem + li, val[F_INVOICE], lv);
    out->payer = memcpy(mem + li + lv, payer, lp);
    memcpy(out->currency, cy, 4);
    out->line = ln;
    out->used = out->unique_balance = 0;
    return 0;
bad:
    return failf(why, whylen, "line %ld: not valid JSON (at byte %zu)", ln,
                 (size_t)(c.p - line) + 1);
}

static void portfolio_free(portfolio *pf)
{
    for (size_t i = 0; i < pf->n; i++)
        free(pf->a[i].id);
    free(pf->a);
}

static int load_portfolio(const char *path, portfolio *pf, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return failf(why, whylen, "cannot read: %s", strerror(errno));
    char *buf = malloc(LINE_CAP + 1);
    int rc = buf ? 0 : failf(why, whylen, "out of memory");
    for (long ln = 1; !rc; ln++) {
        size_t n = 0;
        int ch;
        while ((ch = getc_unlocked(f)) != EOF && ch != '\n' && n <= LINE_CAP)
            buf[n++] = (char)ch;
        if (n > LINE_CAP) {
            rc = failf(why, whylen, "line %ld: longer than %d bytes", ln, LINE_CAP);
            break;
        }
        if (ch == EOF && n == 0)
            break;
        if (n && buf[n - 1] == '\r')
            n--;
        const char *s = buf;
        if (ln == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 BOM */
            s += 3, n -= 3;
        if (memchr(s, '\0', n)) {
            rc = failf(why, whylen, "line %ld: contains a NUL byte", ln);
        } else if (strspn(s, " \t") == n) {
            continue; /* blank line */
        } else if (pf->n == ACCOUNTS_MAX) {
            rc = failf(why, whylen, "line %ld: more than %u accounts", ln, ACCOUNTS_MAX);
        } else if (pf->n == pf->cap) {
            size_t cap = pf->cap ? pf->cap * 2 : 1024;
            acct *a = realloc(pf->a, cap * sizeof *a);
            if (!a)
                rc = failf(why, whylen, "line %ld: out of memory", ln);
            else
                pf->a = a, pf->cap = cap;
        }
        if (!rc && (rc = parse_account(s, n, ln, &pf->a[pf->n], why, whylen)) == 0)
            pf->n++;
    }
    if (!rc && ferror(f))
        rc = failf(why, whylen, "read error: %s", strerror(errno));
    if (!rc && pf->n == 0)
        rc = failf(why, whylen, "no accounts");
    free(buf);
    fclose(f);
    return rc;
}

static int cmp_by_id(const void *x, const void *y)
{
    const acct *a = *(const acct *const *)x, *b = *(const acct *const *)y;
    int c = strcmp(a->id, b->id);
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Refuses a repeated account id (one payment per account could not hold) and marks the
 * balances no other account has, the only ones a match by amount and name may use. */
static int index_portfolio(portfolio *pf, char *why, size_t whylen)
{
    size_t n = pf->n;
    acct **by_id = malloc(n * sizeof *by_id);
    int64_t *bal = malloc(n * sizeof *bal);
    int rc = by_id && bal ? 0 : failf(why, whylen, "out of memory");
    for (size_t i = 0; !rc && i < n; i++)
        by_id[i] = &pf->a[i], bal[i] = pf->a[i].cents;
    if (!rc) {
        qsort(by_id, n, sizeof *by_id, cmp_by_id);
        qsort(bal, n, sizeof *bal, cmp_i64);
    }
    for (size_t i = 1; !rc && i < n; i++)
        if (strcmp(by_id[i - 1]->id, by_id[i]->id) == 0)
            rc = failf(why, whylen, "line %ld field account_id: %s already on line %ld",
                       by_id[i]->line, by_id[i]->id, by_id[i - 1]->line);
    for (size_t i = 0; !rc && i < n; i++) {
        size_t lo = 0, hi = n; /* first position not below the balance */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (bal[mid] < pf->a[i].cents)
                lo = mid + 1;
            else
                hi = mid;
        }
        pf->a[i].unique_balance = lo + 1 == n || bal[lo + 1] != pf->a[i].cents;
    }
    free(by_id);
    free(bal);
    return rc;
}

/* ------------------------------------------------------------------ generation */

enum { C_EXACT, C_PARTIAL, C_OVER, C_NAME, C_MISC, C_INST, C_SETTLE, C_COUNT };
static const char *const CAT_NAMES[C_COUNT] = {
    "exact", "partial", "over", "amount_name", "unmatchable", "instalments", "settlements"};
static const unsigned CAT_PERCENT[C_COUNT] = {40, 15, 5, 10, 5, 0, 0}; /* of --payments */

typedef struct pay {
    int64_t cents;
    uint32_t acct; /* portfolio index; unmatchable: 0, for the currency only */
    uint32_t misc; /* unmatchable: the digits of its reference */
    uint8_t cat, day;
} pay;

typedef struct dup {
    uint32_t gap, k, src; /* a copy of pays[src], written before pays[gap] (gap n: at the end) */
} dup;

typedef struct ret {
    uint32_t src; /* the returned payment */
    int64_t cents;
    int refund; /* return_code "refund" for half, else "R01" for all of it */
} ret;

typedef struct gen {
    portfolio pf;
    uint64_t seed;
    rng r;
    uint32_t *order, *plans, *settles; /* portfolio indexes */
    size_t n_plans, n_settles;
    pay *pays; /* in file order: payment k is "gen-<seed>-<k+1>" */
    size_t n_pays;
    dup *dups; /* sorted by place */
    size_t n_dups;
    ret *rets; /* sorted by the payment returned */
    size_t n_rets;
    int64_t missing[MISSING_RETURNS]; /* amounts of the returns of nothing */
    /* A payment matched by amount and name must meet one account owing its amount: the
     * amounts plans and offers make others owe are kept from it, and partial payments never
     * leave one of its amounts behind (sorted, for lookups). */
    int64_t *owed, *by_name;
    size_t n_owed, n_by_name;
} gen;

static int has(const int64_t *v, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == x;
}

/* What was written, for expected.json. */
typedef struct totals {
    size_t count[C_COUNT], lines, refunds;
    int64_t applied, returned, unmatched;
} totals;

static int64_t instalment(int64_t balance, int i)
{
    return i == 0 ? balance - 2 * (balance / 3) : balance / 3; /* the odd cents go first */
}

static int64_t settlement_offer(int64_t balance)
{
    return balance * 60 / 100;
}

static int eligible(const gen *g, const acct *a, int cat)
{
    if (a->used || a->cents <= 0)
        return 0;
    if (cat == C_INST || cat == C_SETTLE) /* the arrangements themselves */
        return a->cents >= ARRANGE_MIN && strlen(a->id) + 7 <= TERM_ID_CAP;
    if (cat == C_PARTIAL)
        return a->cents >= 2 && a->invoice[0];
    if (cat == C_NAME)
        return a->unique_balance && a->payer[0] && !has(g->owed, g->n_owed, a->cents);
    return 1;
}

/* Takes up to want accounts for cat in the shuffled order, each account once overall. */
static size_t pick(gen *g, int cat, size_t want, uint32_t *out, const char *what)
{
    size_t got = 0;
    for (size_t i = 0; i < g->pf.n && got < want; i++) {
        acct *a = &g->pf.a[g->order[i]];
        if (eligible(g, a, cat)) {
            a->used = 1;
            out[got++] = g->order[i];
        }
    }
    if (got < want)
        fprintf(stderr, "gen-payments: the portfolio ran out of accounts for %s: %zu of %zu\n",
                what, got, want);
    return got;
}

static void add_pay(gen *g, int cat, uint32_t ai)
{
    pay *p = &g->pays[g->n_pays++];
    int64_t balance = g->pf.a[ai].cents;
    p->cat = (uint8_t)cat;
    p->acct = ai;
    p->misc = 0;
    p->day = (uint8_t)between(&g->r, FIRST_DAY, LAST_DAY);
    p->cents = balance;
    if (cat == C_PARTIAL) {
        for (int tries = 0; tries < 50; tries++) {
            p->cents = balance * between(&g->r, 10, 90) / 100;
            p->cents = p->cents < 1 ? 1 : p->cents >= balance ? balance - 1 : p->cents;
            if (!has(g->by_name, g->n_by_name, balance - p->cents))
                break;
        }
    } else if (cat == C_OVER) {
        p->cents = balance + between(&g->r, 1, 5000);
    } else if (cat == C_MISC) {
        p->cents = between(&g->r, 1, 99999);
        p->misc = (uint32_t)below(&g->r, 1000000);
    } else if (cat == C_INST) {
        p->cents = instalment(balance, 0); /* the only one due by 2026-12-31 */
    } else if (cat == C_SETTLE) {
        p->cents = settlement_offer(balance);
        p->day = SETTLE_DAY;
    }
}

static int cmp_dup(const void *x, const void *y)
{
    const dup *a = x, *b = y;
    return a->gap != b->gap ? (a->gap > b->gap) - (a->gap < b->gap) : (a->k > b->k) - (a->k < b->k);
}

static int cmp_ret(const void *x, const void *y)
{
    const ret *a = x, *b = y;
    return (a->src > b->src) - (a->src < b->src);
}

/* All the random choices, in a fixed order; n is --payments. */
static int generate(gen *g, size_t n)
{
    size_t n_acct = g->pf.n, n_arr = n_acct / 100, cap = 2 * n_arr, want[C_COUNT];
    for (int c = 0; c < C_COUNT; c++)
        cap += want[c] = n * CAT_PERCENT[c] / 100;
    g->order = malloc(n_acct * sizeof *g->order);
    g->plans = malloc((n_arr + 1) * sizeof *g->plans);
    g->settles = malloc((n_arr + 1) * sizeof *g->settles);
    g->pays = malloc((cap + 1) * sizeof *g->pays);
    uint32_t *idx = malloc((cap + 1) * sizeof *idx);
    if (!g->order || !g->plans || !g->settles || !g->pays || !idx)
        goto nomem;
    for (size_t i = 0; i < n_acct; i++) {
        size_t j = (size_t)below(&g->r, i + 1); /* Fisher-Yates, inside out */
        if (j != i)
            g->order[i] = g->order[j];
        g->order[j] = (uint32_t)i;
    }

    /* The narrowest categories choose first so the broad ones do not use up their accounts. */
    g->n_plans = pick(g, C_INST, n_arr, g->plans, "payment plans");
    g->n_settles = pick(g, C_SETTLE, n_arr, g->settles, "settlements");
    g->owed = malloc((3 * n_arr + 1) * sizeof *g->owed);
    g->by_name = malloc((want[C_NAME] + 1) * sizeof *g->by_name);
    if (!g->owed || !g->by_name)
        goto nomem;
    for (size_t i = 0; i < g->n_plans; i++) {
        g->owed[g->n_owed++] = instalment(g->pf.a[g->plans[i]].cents, 0);
        g->owed[g->n_owed++] = instalment(g->pf.a[g->plans[i]].cents, 1);
    }
    for (size_t i = 0; i < g->n_settles; i++)
        g->owed[g->n_owed++] = settlement_offer(g->pf.a[g->settles[i]].cents);
    qsort(g->owed, g->n_owed, sizeof *g->owed, cmp_i64);
    static const int PICK_ORDER[] = {C_NAME, C_PARTIAL, C_EXACT, C_OVER};
    for (size_t k = 0; k < sizeof PICK_ORDER / sizeof *PICK_ORDER; k++) {
        int c = PICK_ORDER[k];
        size_t got = pick(g, c, want[c], idx, CAT_NAMES[c]);
        if (c == C_NAME) {
            for (size_t i = 0; i < got; i++)
                g->by_name[g->n_by_name++] = g->pf.a[idx[i]].cents;
            qsort(g->by_name, g->n_by_name, sizeof *g->by_name, cmp_i64);
        }
        for (size_t i = 0; i < got; i++)
            add_pay(g, c, idx[i]);
    }
    for (size_t i = 0; i < want[C_MISC]; i++)
        add_pay(g, C_MISC, 0);
    for (size_t i = 0; i < g->n_plans; i++)
        add_pay(g, C_INST, g->plans[i]);
    for (size_t i = 0; i < g->n_settles / 2; i++)
        add_pay(g, C_SETTLE, g->settles[i]);
    for (size_t i = g->n_pays; i > 1; i--) { /* mix the categories */
        size_t j = (size_t)below(&g->r, i);
        pay t = g->pays[i - 1];
        g->pays[i - 1] = g->pays[j];
        g->pays[j] = t;
    }

    /* Duplicates: distinct lines, each copied to a random place after its original. */
    size_t np = g->n_pays;
    g->n_dups = np * 3 / 100;
    if (!(g->dups = malloc((g->n_dups + 1) * sizeof *g->dups)))
        goto nomem;
    for (size_t i = 0; i < np; i++)
        idx[i] = (uint32_t)i;
    for (size_t k = 0; k < g->n_dups; k++) {
        size_t j = k + (size_t)below(&g->r, np - k);
        uint32_t src = idx[j];
        idx[j] = idx[k];
        g->dups[k] = (dup){(uint32_t)between(&g->r, src + 1, (int64_t)np), (uint32_t)k, src};
    }
    qsort(g->dups, g->n_dups, sizeof *g->dups, cmp_dup);

    /* Returns: 2% of the exact and partial payments. */
    size_t pool = 0;
    for (size_t i = 0; i < np; i++)
        if (g->pays[i].cat == C_EXACT || g->pays[i].cat == C_PARTIAL)
            idx[pool++] = (uint32_t)i;
    g->n_rets = pool * 2 / 100;
    if (!(g->rets = malloc((g->n_rets + 1) * sizeof *g->rets)))
        goto nomem;
    for (size_t k = 0; k < g->n_rets; k++) {
        size_t j = k + (size_t)below(&g->r, pool - k);
        ret *t = &g->rets[k];
        t->src = idx[j];
        idx[j] = idx[k];
        t->refund = (int)below(&g->r, 2);
        t->cents = g->pays[t->src].cents;
        if (t->refund && t->cents > 1)
            t->cents /= 2;
    }
    qsort(g->rets, g->n_rets, sizeof *g->rets, cmp_ret);
    for (int k = 0; k < MISSING_RETURNS; k++)
        g->missing[k] = between(&g->r, 1, 99999);
    free(idx);
    return 0;
nomem:
    free(idx);
    fprintf(stderr, "gen-payments: out of memory\n");
    return -1;
}

static void gen_free(gen *g)
{
    free(g->owed);
    free(g->by_name);
    free(g->order);
    free(g->plans);
    free(g->settles);
    free(g->pays);
    free(g->dups);
    free(g->rets);
    portfolio_free(&g->pf);
}

/* ------------------------------------------------------------------ output */

static void put_str(FILE *f, const char *s)
{
    putc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            putc(ch, f);
    }
    putc('"', f);
}

static void put_payment(FILE *f, const gen *g, size_t k)
{
    const pay *p = &g->pays[k];
    const acct *a = &g->pf.a[p->acct];
    char ref[TEXT_CAP + 32];
    if (p->cat == C_EXACT)
        snprintf(ref, sizeof ref, "Payment for account %s", a->id);
    else if (p->cat == C_PARTIAL)
        snprintf(ref, sizeof ref, "INV %s", a->invoice);
    else if (p->cat == C_OVER)
        snprintf(ref, sizeof ref, "ACCT %s", a->id);
    else if (p->cat == C_MISC)
        snprintf(ref, sizeof ref, "misc deposit %06" PRIu32, p->misc);
    else if (p->cat == C_INST)
        snprintf(ref, sizeof ref, "%s", a->id);
    else if (p->cat == C_SETTLE)
        snprintf(ref, sizeof ref, "settlement %s", a->id);
    else
        ref[0] = '\0'; /* C_NAME: only the amount and the name tell */
    fprintf(f, "{\"payment_id\":\"gen-%" PRIu64 "-%zu\",\"amount_cents\":%" PRId64 ",\"currency\":",
            g->seed, k + 1, p->cents);
    put_str(f, a->currency);
    fprintf(f, ",\"received_at\":\"2026-11-%02dT12:00:00Z\",\"reference\":", p->day);
    put_str(f, ref);
    fputs(",\"payer_name\":", f);
    put_str(f, p->cat == C_MISC ? "Unknown Payer" : a->payer);
    fputs("}\n", f);
}

/* a: the payer of the payment returned, NULL for a return of nothing. */
static void put_return(FILE *f, const gen *g, size_t n, int64_t cents, const acct *a,
                       const char *returned, int refund)
{
    fprintf(f,
            "{\"payment_id\":\"gen-%" PRIu64 "-r%zu\",\"amount_cents\":%" PRId64
            ",\"currency\":\"%s\",\"received_at\":\"2026-11-29T12:00:00Z\","
            "\"reference\":\"%s of %s\",\"payer_name\":",
            g->seed, n, cents, (a ? a : &g->pf.a[0])->currency, refund ? "refund" : "return R01",
            returned);
    put_str(f, a ? a->payer : "Unknown Payer");
    fprintf(f, ",\"kind\":\"return\",\"returned_payment_id\":\"%s\",\"return_code\":\"%s\"}\n",
            returned, refund ? "refund" : "R01");
}

static FILE *open_out(const char *dir, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        fprintf(stderr, "gen-payments: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path)
{
    int bad = ferror(f) | fflush(f);
    if (fclose(f) || bad) {
        fprintf(stderr, "gen-payments: write failed: %s: %s\n", path,
                strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

static int write_payments(const gen *g, const char *dir, totals *t)
{
    char path[4200];
    FILE *f = open_out(dir, "payments.jsonl", path, sizeof path);
    if (!f)
        return -1;
    for (size_t i = 0, d = 0; i <= g->n_pays; i++) {
        for (; d < g->n_dups && g->dups[d].gap == i; d++, t->lines++)
            put_payment(f, g, g->dups[d].src);
        if (i == g->n_pays)
            break;
        const pay *p = &g->pays[i];
        put_payment(f, g, i);
        t->lines++;
        t->count[p->cat]++;
        *(p->cat == C_MISC ? &t->unmatched : &t->applied) += p->cents;
    }
    return close_out(f, path);
}

static int write_returns(const gen *g, const char *dir, totals *t)
{
    char path[4200], orig[64];
    FILE *f = open_out(dir, "returns.jsonl", path, sizeof path);
    if (!f)
        return -1;
    for (size_t k = 0; k < g->n_rets; k++) {
        const ret *r = &g->rets[k];
        snprintf(orig, sizeof orig, "gen-%" PRIu64 "-%" PRIu32, g->seed, r->src + 1);
        put_return(f, g, k + 1, r->cents, &g->pf.a[g->pays[r->src].acct], orig, r->refund);
        t->returned += r->cents;
        t->refunds += (size_t)r->refund;
    }
    for (size_t k = 0; k < MISSING_RETURNS; k++) {
        snprintf(orig, sizeof orig, "gen-%" PRIu64 "-missing-%zu", g->seed, k + 1);
        put_return(f, g, g->n_rets + k + 1, g->missing[k], NULL, orig, 0);
    }
    return close_out(f, path);
}

static int write_arrangements(const gen *g, const char *dir)
{
    char path[4200], id[TERM_ID_CAP + 1];
    FILE *f = open_out(dir, "arrangements.jsonl", path, sizeof path);
    if (!f)
        return -1;
    for (size_t i = 0; i < g->n_plans + g->n_settles; i++) {
        int plan = i < g->n_plans;
        const acct *a = &g->pf.a[plan ? g->plans[i] : g->settles[i - g->n_plans]];
        snprintf(id, sizeof id, "%s-%s", plan ? "plan" : "settle", a->id);
        fputs("{\"account_id\":", f);
        put_str(f, a->id);
        fprintf(f, ",\"kind\":\"%s\",\"terms\":{\"id\":", plan ? "plan" : "settlement");
        put_str(f, id);
        if (plan) {
            fputs(",\"instalments\":[", f);
            for (int k = 0; k < 3; k++)
                fprintf(f, "%s{\"due_date\":\"%s\",\"amount_cents\":%" PRId64 "}", k ? "," : "",
                        INSTALMENT_DUE[k], instalment(a->cents, k));
            fputs("],\"grace_days\":5}}\n", f);
        } else {
            fprintf(f,
                    ",\"amount_cents\":%" PRId64
                    ",\"from\":\"2026-11-01\",\"until\":\"2026-12-31\"}}\n",
                    settlement_offer(a->cents));
        }
    }
    return close_out(f, path);
}

static int write_expected(const gen *g, const char *dir, const char *tenant, const totals *t)
{
    char path[4200];
    FILE *f = open_out(dir, "expected.json", path, sizeof path);
    if (!f)
        return -1;
    fprintf(f, "{\n  \"tenant\": \"%s\",\n  \"seed\": \"%" PRIu64 "\",\n  \"accounts\": %zu,\n",
            tenant, g->seed, g->pf.n);
    fprintf(f, "  \"payments_lines\": %zu,\n  \"distinct_payments\": %zu,\n", t->lines, g->n_pays);
    for (int c = 0; c < C_COUNT; c++)
        fprintf(f, "  \"%s\": %zu,\n", CAT_NAMES[c], t->count[c]);
    fprintf(f,
            "  \"duplicates\": %zu,\n  \"returns\": %zu,\n  \"returns_refund\": %zu,\n"
            "  \"returns_missing\": %d,\n  \"arrangements_plan\": %zu,\n"
            "  \"arrangements_settlement\": %zu,\n  \"applied_cents\": %" PRId64 ",\n"
            "  \"returned_cents\": %" PRId64 ",\n  \"unmatched_cents\": %" PRId64 "\n}\n",
            g->n_dups, g->n_rets, t->refunds, MISSING_RETURNS, g->n_plans, g->n_settles, t->applied,
            t->returned, t->unmatched);
    return close_out(f, path);
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: gen-payments --portfolio FILE --seed S --tenant T --out-dir DIR\n"
            "                    [--payments N] [--quiet]\n"
            "  Payments for a portfolio from gen-portfolio --format jsonl, the same bytes for\n"
            "  the same arguments. Writes to DIR (made if missing): payments.jsonl and\n"
            "  returns.jsonl (the JSON-lines payment format), arrangements.jsonl (plans and\n"
            "  settlements) and expected.json (counts and totals a matcher must reach).\n"
            "  --payments  scale of the mix (default: the number of accounts): 40%% exact,\n"
            "              15%% partial, 5%% overpaid, 10%% by amount and name, 5%% unmatchable;\n"
            "              instalments, settlements and 3%% duplicates come on top\n"
            "  --tenant    [a-z0-9][a-z0-9_-]{0,63}, recorded in expected.json\n"
            "  --quiet     no summary on stderr\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > max)
        return -1;
    *v = x;
    return 0;
}

static int tenant_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") >= 1 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int fail_arg(const char *what, const char *v)
{
    fprintf(stderr, "gen-payments: bad %s: %s (see --help)\n", what, v ? v : "(missing)");
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *seed_s = NULL, *tenant = NULL, *dir = NULL, *count_s = NULL;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], **slot;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        slot = !strcmp(a, "--portfolio")  ? &path
               : !strcmp(a, "--seed")     ? &seed_s
               : !strcmp(a, "--tenant")   ? &tenant
               : !strcmp(a, "--out-dir")  ? &dir
               : !strcmp(a, "--payments") ? &count_s
                                          : NULL;
        if (!slot) {
            fprintf(stderr, "gen-payments: unknown argument %s (see --help)\n", a);
            return 2;
        }
        if (i + 1 == argc)
            return fail_arg(a, NULL);
        *slot = argv[++i];
    }
    gen g = {0};
    uint64_t n = 0;
    if (!path || !seed_s || !tenant || !dir) {
        fprintf(stderr, "gen-payments: --portfolio, --seed, --tenant and --out-dir are needed\n");
        usage(stderr);
        return 2;
    }
    if (parse_u64(seed_s, UINT64_MAX, &g.seed))
        return fail_arg("--seed", seed_s);
    if (!tenant_ok(tenant))
        return fail_arg("--tenant", tenant);
    if (count_s && parse_u64(count_s, PAYMENTS_MAX, &n))
        return fail_arg("--payments", count_s);
    if (!*dir || strlen(dir) > 4000)
        return fail_arg("--out-dir", dir);

    char why[256];
    if (load_portfolio(path, &g.pf, why, sizeof why) || index_portfolio(&g.pf, why, sizeof why)) {
        fprintf(stderr, "gen-payments: %s: %s\n", path, why);
        gen_free(&g);
        return 1;
    }
    struct stat st;
    if (mkdir(dir, 0777) && (errno != EEXIST || stat(dir, &st) || !S_ISDIR(st.st_mode))) {
        fprintf(stderr, "gen-payments: cannot make directory %s: %s\n", dir,
                strerror(errno == EEXIST ? ENOTDIR : errno));
        gen_free(&g);
        return 1;
    }
    g.r.s = arr_hash_mix64(g.seed ^ 0x9a7e57ab1e5eedULL);
    totals t = {{0}, 0, 0, 0, 0, 0};
    int rc = generate(&g, count_s ? (size_t)n : g.pf.n);
    /* In this order: expected.json holds what the others wrote. */
    if (!rc)
        rc = write_payments(&g, dir, &t);
    if (!rc)
        rc = write_returns(&g, dir, &t);
    if (!rc)
        rc = write_arrangements(&g, dir);
    if (!rc)
        rc = write_expected(&g, dir, tenant, &t);
    if (!rc && !quiet)
        fprintf(stderr,
                "gen-payments: %zu accounts, seed %" PRIu64 ", tenant %s: %zu payments + %zu "
                "duplicates (exact %zu, partial %zu, over %zu, amount_name %zu, unmatchable %zu, "
                "instalments %zu, settlements %zu), %zu returns + %d of nothing, %zu plans, %zu "
                "settlement offers -> %s\n",
                g.pf.n, g.seed, tenant, g.n_pays, g.n_dups, t.count[C_EXACT], t.count[C_PARTIAL],
                t.count[C_OVER], t.count[C_NAME], t.count[C_MISC], t.count[C_INST],
                t.count[C_SETTLE], g.n_rets, MISSING_RETURNS, g.n_plans, g.n_settles, dir);
    gen_free(&g);
    return rc ? 1 : 0;
}
