/* recon_match: see match.h for the rules. */
#include "match.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MIN_TOKEN_LEN 4
#define DEFAULT_THRESHOLD_BP 8500
/* regexec fills only the groups up to the id's; nobody needs more than nine. */
#define GROUP_MAX 9

/* ------------------------------------------------------------------ configuration */

static arr_err cfail(char *why, size_t whylen, const char *ctx, const char *field, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));
static arr_err cfail(char *why, size_t whylen, const char *ctx, const char *field, const char *fmt,
                     ...)
{
    char detail[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    arr_errbuf_set(why, whylen, "%s%s: %s", ctx, field, detail);
    return ARR_ECONFIG;
}

static int printable_word(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (; *s; s++)
        if (*s < '!' || *s > '~')
            return 0;
    return 1;
}

/* Integer setting in [lo, hi]; absent keeps *v. */
static arr_err int_setting(json_t *obj, const char *key, int lo, int hi, int *v, const char *ctx,
                           char *why, size_t whylen)
{
    json_t *x = json_object_get(obj, key);
    if (!x)
        return ARR_OK;
    if (!json_is_integer(x) || json_integer_value(x) < lo || json_integer_value(x) > hi)
        return cfail(why, whylen, ctx, key, "must be an integer from %d to %d", lo, hi);
    *v = (int)json_integer_value(x);
    return ARR_OK;
}

/* Keys starting with '_' are comments; anything else not in `known` is a mistake. */
static arr_err only_keys(json_t *obj, const char *const *known, const char *ctx, char *why,
                         size_t whylen)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        (void)v;
        if (key[0] == '_')
            continue;
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = strcmp(*k, key) == 0;
        if (!ok)
            return cfail(why, whylen, ctx, key, "unknown setting");
    }
    return ARR_OK;
}

static arr_err parse_pattern(json_t *p, int i, recon_match_pattern *out, const char *ctx, char *why,
                             size_t whylen)
{
    char field[48];
    snprintf(field, sizeof field, "patterns[%d]", i);
    if (!json_is_object(p))
        return cfail(why, whylen, ctx, field, "must be an object");
    static const char *const known[] = {"regex", "prefix", "group", NULL};
    char sub[64];
    snprintf(sub, sizeof sub, "%s%s.", ctx, field);
    arr_err e = only_keys(p, known, sub, why, whylen);
    if (e)
        return e;

    json_t *rx = json_object_get(p, "regex");
    const char *src = json_string_value(rx);
    if (!src || !src[0] || strlen(src) >= sizeof out->source)
        return cfail(why, whylen, sub, "regex", "must be a string of 1 to %zu bytes",
                     sizeof out->source - 1);
    json_t *pf = json_object_get(p, "prefix");
    const char *prefix = pf ? json_string_value(pf) : "";
    if (!prefix || (prefix[0] && !printable_word(prefix, 1, sizeof out->prefix - 1)))
        return cfail(why, whylen, sub, "prefix",
                     "must be a string of at most %zu printable characters, no spaces",
                     sizeof out->prefix - 1);
    int group = 0;
    e = int_setting(p, "group", 1, GROUP_MAX, &group, sub, why, whylen);
    if (e)
        return e;

    int rc = regcomp(&out->re, src, REG_EXTENDED | REG_ICASE);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &out->re, msg, sizeof msg);
        return cfail(why, whylen, sub, "regex", "does not compile: %s", msg);
    }
    size_t nsub = out->re.re_nsub;
    const char *bad = NULL;
    char msg[160];
    if (nsub == 0) {
        bad = "has no capture group: put the id in parentheses";
    } else if (group == 0 && nsub > 1) {
        snprintf(msg, sizeof msg,
                 "has %zu capture groups: say which one holds the id with \"group\"", nsub);
        bad = msg;
    } else if ((size_t)group > nsub) {
        snprintf(msg, sizeof msg, "has %zu capture groups, \"group\" is %d", nsub, group);
        bad = msg;
    }
    if (bad) {
        regfree(&out->re);
        return cfail(why, whylen, sub, "regex", "%s", bad);
    }
    out->group = group ? group : 1;
    snprintf(out->prefix, sizeof out->prefix, "%s", prefix);
    snprintf(out->source, sizeof out->source, "%s", src);
    return ARR_OK;
}

static arr_err config_from_json(json_t *j, recon_match_config *out, const char *ctx, char *why,
                                size_t whylen)
{
    if (!out)
        return ARR_EINVAL;
    if (!json_is_object(j))
        return cfail(why, whylen, ctx, "(settings)", "must be a JSON object");
    static const char *const known[] = {"version", "patterns", "min_token_len", "name_threshold_bp",
                                        NULL};
    arr_err e = only_keys(j, known, ctx, why, whylen);
    if (e)
        return e;

    recon_match_config n;
    memset(&n, 0, sizeof n);
    n.min_token_len = DEFAULT_MIN_TOKEN_LEN;
    n.name_threshold_bp = DEFAULT_THRESHOLD_BP;
    const char *ver = json_string_value(json_object_get(j, "version"));
    if (!ver || !printable_word(ver, 1, sizeof n.version - 1))
        return cfail(why, whylen, ctx, "version",
                     "must be 1 to %zu printable characters, no spaces", sizeof n.version - 1);
    snprintf(n.version, sizeof n.version, "%s", ver);
    e = int_setting(j, "min_token_len", 1, RECON_ID_MAX, &n.min_token_len, ctx, why, whylen);
    if (!e)
        e = int_setting(j, "name_threshold_bp", 0, 10000, &n.name_threshold_bp, ctx, why, whylen);
    if (e)
        return e;

    json_t *pats = json_object_get(j, "patterns");
    if (!json_is_array(pats))
        return cfail(why, whylen, ctx, "patterns", "must be an array");
    if (json_array_size(pats) > RECON_MATCH_PATTERNS_MAX)
        return cfail(why, whylen, ctx, "patterns", "has %zu entries, at most %d",
                     json_array_size(pats), RECON_MATCH_PATTERNS_MAX);
    for (size_t i = 0; i < json_array_size(pats); i++) {
        e = parse_pattern(json_array_get(pats, i), (int)i, &n.patterns[i], ctx, why, whylen);
        if (e) {
            recon_match_config_free(&n);
            return e;
        }
        n.n_patterns = (int)i + 1;
    }
    /* A regex_t keeps its compiled program behind a pointer (glibc, musl), so moving the
     * struct keeps it valid; this way *out is written only on success. */
    *out = n;
    return ARR_OK;
}

arr_err recon_match_config_from_json(json_t *j, recon_match_config *out, char *why, size_t whylen)
{
    return config_from_json(j, out, "", why, whylen);
}

arr_err recon_match_config_parse(const char *text, size_t len, const char *tenant,
                                 recon_match_config *out, char *why, size_t whylen)
{
    if (!text || !tenant || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "config: text, tenant and out needed");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return arr_errbuf_fail(ARR_ECONFIG, why, whylen, "line %d: %s", jerr.line, jerr.text);
    arr_err e = ARR_OK;
    json_t *tenants = json_object_get(root, "tenants");
    static const char *const known[] = {"tenants", NULL};
    if (!json_is_object(root))
        e = cfail(why, whylen, "", "(top level)", "must be a JSON object");
    else if (!json_is_object(tenants))
        e = cfail(why, whylen, "", "tenants", "must be an object of tenant settings");
    else
        e = only_keys(root, known, "", why, whylen);
    if (!e) {
        const char *key = tenant;
        json_t *cfg = json_object_get(tenants, tenant);
        if (!cfg) {
            key = "*";
            cfg = json_object_get(tenants, "*");
        }
        if (!cfg) {
            e = cfail(why, whylen, "", "tenants", "no entry for tenant \"%s\" and no \"*\"",
                      tenant);
        } else {
            char ctx[160];
            snprintf(ctx, sizeof ctx, "tenants.%s.", key);
            e = config_from_json(cfg, out, ctx, why, whylen);
        }
    }
    json_decref(root);
    return e;
}

arr_err recon_match_config_load(const char *path, const char *tenant, recon_match_config *out,
                                char *why, size_t whylen)
{
    if (!path)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "config: path is missing");
    FILE *f = fopen(path, "rb");
    if (!f)
        return arr_errbuf_fail(ARR_EIO, why, whylen, "%s: %s", path, strerror(errno));
    char *buf = malloc(RECON_MATCH_CONFIG_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return ARR_ENOMEM;
    }
    size_t n = fread(buf, 1, RECON_MATCH_CONFIG_FILE_MAX + 1, f);
    int rerr = ferror(f);
    fclose(f);
    arr_err e;
    if (rerr)
        e = arr_errbuf_fail(ARR_EIO, why, whylen, "%s: read error", path);
    else if (n > RECON_MATCH_CONFIG_FILE_MAX)
        e = arr_errbuf_fail(ARR_ECONFIG, why, whylen, "%s: larger than %d bytes", path,
                            RECON_MATCH_CONFIG_FILE_MAX);
    else {
        char inner[400];
        e = recon_match_config_parse(buf, n, tenant, out, inner, sizeof inner);
        if (e)
            arr_errbuf_set(why, whylen, "%s: %s", path, inner);
    }
    free(buf);
    return e;
}

void recon_match_config_free(recon_match_config *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_patterns && i < RECON_MATCH_PATTERNS_MAX; i++)
        regfree(&c->patterns[i].re);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ reference tokens */

static int ascii_alnum(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static int run_char(char ch)
{
    return ascii_alnum(ch) || ch == '_' || ch == '-';
}

static size_t add_token(char out[][RECON_ID_MAX + 1], size_t n, size_t max, const char *prefix,
                        const char *s, size_t len)
{
    size_t plen = strlen(prefix);
    if (n >= max || len == 0 || plen + len > RECON_ID_MAX)
        return n;
    char tok[RECON_ID_MAX + 1];
    memcpy(tok, prefix, plen);
    memcpy(tok + plen, s, len);
    tok[plen + len] = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(out[i], tok) == 0)
            return n;
    memcpy(out[n], tok, plen + len + 1);
    return n + 1;
}

size_t recon_match_refs(const recon_match_config *c, const char *text, char out[][RECON_ID_MAX + 1],
                        size_t max)
{
    if (!text || !out || max == 0)
        return 0;
    char buf[RECON_MATCH_TEXT_MAX + 1];
    size_t len = strnlen(text, RECON_MATCH_TEXT_MAX + 1);
    if (len > RECON_MATCH_TEXT_MAX) {
        /* Never hand on the front half of a token cut by the cap. */
        len = RECON_MATCH_TEXT_MAX;
        if (run_char(text[len]) || text[len] == '.' || text[len] == '/')
            while (len > 0 &&
                   (run_char(text[len - 1]) || text[len - 1] == '.' || text[len - 1] == '/'))
                len--;
    }
    memcpy(buf, text, len);
    buf[len] = 0;

    size_t n = 0;
    int n_patterns = c ? c->n_patterns : 0;
    for (int p = 0; p < n_patterns && n < max; p++) {
        const recon_match_pattern *pat = &c->patterns[p];
        regmatch_t m[GROUP_MAX + 1];
        size_t pos = 0;
        while (pos <= len && n < max) {
            int flags = pos > 0 ? REG_NOTBOL : 0;
            if (regexec(&pat->re, buf + pos, (size_t)pat->group + 1, m, flags) != 0)
                break;
            const regmatch_t *g = &m[pat->group];
            if (g->rm_so >= 0 && g->rm_eo > g->rm_so)
                n = add_token(out, n, max, pat->prefix, buf + pos + g->rm_so,
                              (size_t)(g->rm_eo - g->rm_so));
            /* An empty match would find itself again: step over one byte. */
            pos += m[0].rm_eo > m[0].rm_so ? (size_t)m[0].rm_eo : (size_t)m[0].rm_eo + 1;
        }
    }

    size_t min_len = c ? (size_t)c->min_token_len : DEFAULT_MIN_TOKEN_LEN;
    size_t i = 0;
    while (i < len && n < max) {
        if (!run_char(buf[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len) {
            char ch = buf[i];
            if (run_char(ch) ||
                ((ch == '.' || ch == '/') && ascii_alnum(buf[i - 1]) && ascii_alnum(buf[i + 1])))
                i++;
            else
                break;
        }
        size_t end = i;
        while (start < end && (buf[start] == '-' || buf[start] == '_'))
            start++;
        while (end > start && (buf[end - 1] == '-' || buf[end - 1] == '_'))
            end--;
        int digit = 0;
        for (size_t k = start; k < end && !digit; k++)
            digit = buf[k] >= '0' && buf[k] <= '9';
        if (digit && end - start >= min_len)
            n = add_token(out, n, max, "", buf + start, end - start);
    }
    return n;
}

/* ------------------------------------------------------------------ name similarity */

#define NAME_TOKENS_MAX 8
#define NAME_TOKEN_LEN 32
#define NAME_INPUT_MAX 1024

typedef struct name_tokens {
    int n;
    int len[NAME_TOKENS_MAX];
    char t[NAME_TOKENS_MAX][NAME_TOKEN_LEN + 1];
} name_tokens;

/* U+00C0..U+017F folded to an ASCII capital; ' ' = not a letter (separates), '*' = two
 * letters (see fold2). Built from the Unicode decompositions, letters without one (Ø, Ł, Đ,
 * Ħ, ı) by their base letter. */
static const char fold1[192 + 1] = "AAAAAA*CEEEEIIIIDNOOOOO OUUUUY**"
                                   "AAAAAA*CEEEEIIIIDNOOOOO OUUUUY*Y"
                                   "AAAAAACCCCCCCCDDDDEEEEEEEEEEGGGG"
                                   "GGGGHHHHIIIIIIIIII**JJKKKLLLLLLL"
                                   "LLLNNNNNNNNNOOOOOO**RRRRRRSSSSSS"
                                   "SSTTTTTTUUUUUUUUUUUUWWYYYZZZZZZS";

static const char *fold2(unsigned cp)
{
    switch (cp) {
    case 0xC6:
    case 0xE6:
        return "AE";
    case 0xDE:
    case 0xFE:
        return "TH";
    case 0xDF:
        return "SS";
    case 0x132:
    case 0x133:
        return "IJ";
    default: /* 0x152, 0x153 */
        return "OE";
    }
}

static const char *const dropped_words[] = {"MR",   "MRS", "MS",  "MISS", "MX",  "DR",
                                            "PROF", "SR",  "SRA", "SRTA", "MME", "MLLE",
                                            "JR",   "II",  "III", "IV",   NULL};

typedef struct tok_state {
    name_tokens *nt;
    char cur[NAME_TOKEN_LEN + 1];
    int len;
} tok_state;

static void tok_char(tok_state *s, char ch)
{
    if (s->len < NAME_TOKEN_LEN)
        s->cur[s->len++] = ch;
}

static void tok_end(tok_state *s)
{
    if (s->len == 0)
        return;
    s->cur[s->len] = 0;
    int drop = 0;
    for (const char *const *w = dropped_words; *w && !drop; w++)
        drop = strcmp(*w, s->cur) == 0;
    if (!drop && s->nt->n < NAME_TOKENS_MAX) {
        memcpy(s->nt->t[s->nt->n], s->cur, (size_t)s->len + 1);
        s->nt->len[s->nt->n++] = s->len;
    }
    s->len = 0;
}

static void name_tokenize(const char *name, name_tokens *nt)
{
    memset(nt, 0, sizeof *nt);
    if (!name)
        return;
    tok_state s = {.nt = nt, .len = 0};
    const unsigned char *p = (const unsigned char *)name;
    size_t len = strnlen(name, NAME_INPUT_MAX);
    size_t i = 0;
    while (i < len && nt->n < NAME_TOKENS_MAX) {
        unsigned b = p[i];
        if (b < 0x80) {
            i++;
            if (ascii_alnum((char)b))
                tok_char(&s, (char)(b >= 'a' && b <= 'z' ? b - 32 : b));
            else if (b != '\'')
                tok_end(&s);
            continue;
        }
        /* UTF-8: two- and three-byte forms matter; anything else separates. */
        if (b >= 0xC2 && b <= 0xDF && i + 1 < len && (p[i + 1] & 0xC0) == 0x80) {
            unsigned cp = ((b & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
            i += 2;
            if (cp >= 0xC0 && cp <= 0x17F) {
                char f = fold1[cp - 0xC0];
                if (f == ' ')
                    tok_end(&s);
                else if (f == '*')
                    for (const char *two = fold2(cp); *two; two++)
                        tok_char(&s, *two);
                else
                    tok_char(&s, f);
            } else if (!(cp >= 0x300 && cp <= 0x36F)) { /* combining accents: dropped */
                tok_end(&s);
            }
            continue;
        }
        if (b >= 0xE0 && b <= 0xEF && i + 2 < len && (p[i + 1] & 0xC0) == 0x80 &&
            (p[i + 2] & 0xC0) == 0x80) {
            unsigned cp = ((b & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
            i += 3;
            if (cp != 0x2019 && cp != 0x2018) /* typographic apostrophes join like ' */
                tok_end(&s);
            continue;
        }
        i++;
        tok_end(&s);
    }
    tok_end(&s);
}

static double jaro_winkler(const char *a, int la, const char *b, int lb)
{
    if (la == 0 || lb == 0)
        return 0.0;
    int window = (la > lb ? la : lb) / 2 - 1;
    if (window < 0)
        window = 0;
    unsigned char am[NAME_TOKEN_LEN] = {0}, bm[NAME_TOKEN_LEN] = {0};
    int m = 0;
    for (int i = 0; i < la; i++) {
        int lo = i - window > 0 ? i - window : 0;
        int hi = i + window < lb - 1 ? i + window : lb - 1;
        for (int j = lo; j <= hi; j++) {
            if (!bm[j] && a[i] == b[j]) {
                am[i] = bm[j] = 1;
                m++;
                break;
            }
        }
    }
    if (m == 0)
        return 0.0;
    int t = 0, k = 0;
    for (int i = 0; i < la; i++) {
        if (!am[i])
            continue;
        while (!bm[k])
            k++;
        if (a[i] != b[k])
            t++;
        k++;
    }
    double md = m;
    double jaro = (md / la + md / lb + (md - t / 2.0) / md) / 3.0;
    int l = 0;
    while (l < 4 && l < la && l < lb && a[l] == b[l])
        l++;
    return jaro + l * 0.1 * (1.0 - jaro);
}

static double pair_score(const name_tokens *x, int i, const name_tokens *y, int j)
{
    int lx = x->len[i], ly = y->len[j];
    if (lx == 1 || ly == 1) {
        if (lx == ly)
            return x->t[i][0] == y->t[j][0] ? 1.0 : 0.0;
        return x->t[i][0] == y->t[j][0] ? 0.9 : 0.0; /* an initial of the longer token */
    }
    /* Unrelated tokens share a few letters by chance (HOLDINGS/JONES 0.66): below Winkler's
     * own 0.7 boost threshold a pair counts as no likeness at all. */
    double jw = jaro_winkler(x->t[i], lx, y->t[j], ly);
    return jw < 0.7 ? 0.0 : jw;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static int same_tokens(const name_tokens *x, const name_tokens *y)
{
    if (x->n != y->n)
        return 0;
    char sx[NAME_TOKENS_MAX][NAME_TOKEN_LEN + 1], sy[NAME_TOKENS_MAX][NAME_TOKEN_LEN + 1];
    memcpy(sx, x->t, sizeof sx);
    memcpy(sy, y->t, sizeof sy);
    qsort(sx, (size_t)x->n, sizeof sx[0], cmp_str);
    qsort(sy, (size_t)y->n, sizeof sy[0], cmp_str);
    for (int i = 0; i < x->n; i++)
        if (strcmp(sx[i], sy[i]) != 0)
            return 0;
    return 1;
}

/* Exhaustive search over one-to-one pairings (at most 8!/(8-n)! leaves), pruned: a pairing's
 * score never exceeds its weakest pair so far. */
typedef struct pairing {
    int nx, ny;
    double w[NAME_TOKENS_MAX][NAME_TOKENS_MAX];
    double pen[NAME_TOKENS_MAX];
    double best;
} pairing;

static void pair_search(pairing *p, int i, unsigned used, double weakest)
{
    if (weakest <= p->best)
        return;
    if (i == p->nx) {
        double score = weakest;
        for (int j = 0; j < p->ny; j++)
            if (!(used & (1u << j)))
                score -= p->pen[j];
        if (score > p->best)
            p->best = score;
        return;
    }
    for (int j = 0; j < p->ny; j++)
        if (!(used & (1u << j)))
            pair_search(p, i + 1, used | (1u << j), p->w[i][j] < weakest ? p->w[i][j] : weakest);
}

static int tokens_similarity_bp(const name_tokens *a, const name_tokens *b)
{
    if (a->n == 0 || b->n == 0)
        return 0;
    if (same_tokens(a, b))
        return 10000;
    /* x: the name with fewer tokens; every x token gets a y token. The weakest pair decides
     * (Paul Jones / Paul Johnson must not pass on the first name's strength). */
    const name_tokens *x = a->n <= b->n ? a : b, *y = a->n <= b->n ? b : a;
    pairing p = {.nx = x->n, .ny = y->n, .best = 0.0};
    for (int j = 0; j < p.ny; j++)
        p.pen[j] = y->len[j] == 1 ? 0.05 : 0.10;
    for (int i = 0; i < p.nx; i++)
        for (int j = 0; j < p.ny; j++)
            p.w[i][j] = pair_score(x, i, y, j);
    pair_search(&p, 0, 0, 1.0);
    int bp = (int)(p.best * 10000.0 + 0.5);
    if (bp > 9999)
        bp = 9999; /* only the same tokens score 10000 */
    return bp;
}

int recon_name_similarity_bp(const char *a, const char *b)
{
    name_tokens ta, tb;
    name_tokenize(a, &ta);
    name_tokenize(b, &tb);
    return tokens_similarity_bp(&ta, &tb);
}

/* ------------------------------------------------------------------ deciding */

/* Up to RECON_MATCH_CANDIDATES_MAX distinct accounts of one kind, first seen first. */
typedef struct acct_set {
    int n;
    int overflow;
    size_t idx[RECON_MATCH_CANDIDATES_MAX];
} acct_set;

static int same_account(const recon_candidate *x, const recon_candidate *y)
{
    return strncmp(x->account_id, y->account_id, sizeof x->account_id) == 0;
}

static void set_add(acct_set *s, const recon_candidate *cands, size_t i)
{
    for (int k = 0; k < s->n; k++)
        if (same_account(&cands[s->idx[k]], &cands[i]))
            return;
    if (s->n < RECON_MATCH_CANDIDATES_MAX)
        s->idx[s->n++] = i;
    else
        s->overflow = 1;
}

static void set_count(const acct_set *s, char *dst, size_t cap)
{
    if (s->overflow)
        snprintf(dst, cap, "more than %d", RECON_MATCH_CANDIDATES_MAX);
    else
        snprintf(dst, cap, "%d", s->n);
}

static int same_currency(const recon_candidate *x, const char *currency)
{
    size_t n = strnlen(x->currency, sizeof x->currency);
    return strlen(currency) == n && memcmp(x->currency, currency, n) == 0;
}

static uint64_t distance(int64_t due, int64_t amount)
{
    return due >= amount ? (uint64_t)due - (uint64_t)amount : (uint64_t)amount - (uint64_t)due;
}

static int owes_amount(const recon_candidate *x, int64_t amount)
{
    return (x->open_balance_cents > 0 && x->open_balance_cents == amount) ||
           (x->instalment_due_cents > 0 && x->instalment_due_cents == amount) ||
           (x->settlement_due_cents > 0 && x->settlement_due_cents == amount);
}

static uint64_t closeness(const recon_candidate *x, int64_t amount)
{
    const int64_t due[3] = {x->open_balance_cents, x->instalment_due_cents,
                            x->settlement_due_cents};
    uint64_t best = UINT64_MAX;
    for (int k = 0; k < 3; k++)
        if (due[k] > 0 && distance(due[k], amount) < best)
            best = distance(due[k], amount);
    return best == UINT64_MAX ? distance(x->open_balance_cents, amount) : best;
}

typedef struct rank_key {
    int tier;
    int name_bp;
    uint64_t dist;
    size_t idx;
} rank_key;

static int better(const rank_key *x, const rank_key *y)
{
    if (x->tier != y->tier)
        return x->tier < y->tier;
    if (x->name_bp != y->name_bp)
        return x->name_bp > y->name_bp;
    if (x->dist != y->dist)
        return x->dist < y->dist;
    return x->idx < y->idx;
}

static int candidate_bp(const name_tokens *payer, const recon_candidate *x)
{
    if (payer->n == 0 || !x->name)
        return 0;
    name_tokens t;
    name_tokenize(x->name, &t);
    return tokens_similarity_bp(payer, &t);
}

/* Distinct accounts, best first; the winner (if any) ahead of everything. */
static void rank(const recon_match_input *in, const name_tokens *payer, const recon_candidate *win,
                 recon_match_result *out)
{
    rank_key keys[RECON_MATCH_CANDIDATES_MAX];
    int n = 0;
    for (size_t i = 0; i < in->n_candidates; i++) {
        const recon_candidate *x = &in->candidates[i];
        int same = same_currency(x, in->currency);
        rank_key k = {.tier = 4,
                      .name_bp = candidate_bp(payer, x),
                      .dist = closeness(x, in->amount_cents),
                      .idx = i};
        if (win && same_account(x, win))
            k.tier = -1;
        else if (same && (x->found_by & RECON_FOUND_HINT))
            k.tier = 0;
        else if (same && (x->found_by & (RECON_FOUND_ACCOUNT | RECON_FOUND_INVOICE)))
            k.tier = 1;
        else if (same && (x->found_by & RECON_FOUND_AMOUNT) && owes_amount(x, in->amount_cents))
            k.tier = 2;
        else if (same)
            k.tier = 3;
        int pos = -1;
        for (int r = 0; r < n && pos < 0; r++)
            if (same_account(&in->candidates[keys[r].idx], x))
                pos = r;
        if (pos >= 0) {
            if (!better(&k, &keys[pos]))
                continue;
            memmove(&keys[pos], &keys[pos + 1], (size_t)(n - pos - 1) * sizeof keys[0]);
            n--;
        }
        if (n == RECON_MATCH_CANDIDATES_MAX) {
            if (!better(&k, &keys[n - 1]))
                continue;
            n--;
        }
        int at = n;
        while (at > 0 && better(&k, &keys[at - 1]))
            at--;
        memmove(&keys[at + 1], &keys[at], (size_t)(n - at) * sizeof keys[0]);
        keys[at] = k;
        n++;
    }
    out->n_ranked = n;
    for (int r = 0; r < n; r++) {
        out->ranked[r] = (int)keys[r].idx;
        out->name_bp[r] = keys[r].name_bp;
    }
}

static void finish(recon_match_result *out, recon_match_via via, const char *reason,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void finish(recon_match_result *out, recon_match_via via, const char *reason,
                   const char *fmt, ...)
{
    out->via = via;
    out->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->detail, sizeof out->detail, fmt, ap);
    va_end(ap);
}

void recon_match_decide(const recon_match_config *c, const recon_match_input *in,
                        recon_match_result *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    out->chosen = -1;
    if (!in || in->amount_cents <= 0 || !in->currency || !in->currency[0] ||
        (in->n_candidates > 0 && !in->candidates)) {
        finish(out, RECON_MATCH_NONE, "invalid_input",
               "the payment needs an amount above zero, a currency and its candidates");
        return;
    }
    int threshold = c ? c->name_threshold_bp : DEFAULT_THRESHOLD_BP;
    const char *cur = in->currency;
    name_tokens payer;
    name_tokenize(in->payer_name, &payer);

    acct_set hint_same = {0}, ref_same = {0}, owe = {0}, named_open = {0};
    int hint_other = 0, ref_other = 0, named_closed = 0, best_bp = 0;
    for (size_t i = 0; i < in->n_candidates; i++) {
        const recon_candidate *x = &in->candidates[i];
        int same = same_currency(x, cur);
        if (x->found_by & RECON_FOUND_HINT) {
            if (same)
                set_add(&hint_same, in->candidates, i);
            else
                hint_other = 1;
        }
        if (x->found_by & (RECON_FOUND_ACCOUNT | RECON_FOUND_INVOICE)) {
            if (same)
                set_add(&ref_same, in->candidates, i);
            else
                ref_other = 1;
        }
        if (same && (x->found_by & RECON_FOUND_AMOUNT) && owes_amount(x, in->amount_cents)) {
            set_add(&owe, in->candidates, i);
            int bp = candidate_bp(&payer, x);
            if (bp > best_bp)
                best_bp = bp;
            if (payer.n > 0 && bp >= threshold) {
                if (x->status_open)
                    set_add(&named_open, in->candidates, i);
                else
                    named_closed = 1;
            }
        }
    }

    const recon_candidate *win = NULL;
    char count[32];
    if (hint_same.n == 1) {
        win = &in->candidates[hint_same.idx[0]];
        finish(out, RECON_MATCH_HINT, "hint", "the source named the account");
    } else if (hint_same.n > 1) {
        set_count(&hint_same, count, sizeof count);
        finish(out, RECON_MATCH_NONE, "ambiguous_hint", "the source named %s different accounts",
               count);
    } else if (hint_other) {
        finish(out, RECON_MATCH_NONE, "currency_mismatch",
               "the account the source named is not in the payment's currency %s", cur);
    } else if (ref_same.n == 1) {
        win = &in->candidates[ref_same.idx[0]];
        finish(out, RECON_MATCH_REFERENCE, "reference",
               "the reference text names exactly one account in %s", cur);
    } else if (ref_same.n > 1) {
        set_count(&ref_same, count, sizeof count);
        finish(out, RECON_MATCH_NONE, "ambiguous_reference",
               "the reference text names %s accounts in %s; ranked by name similarity, then "
               "amount closeness",
               count, cur);
    } else if (ref_other) {
        finish(out, RECON_MATCH_NONE, "currency_mismatch",
               "the reference text names only accounts in other currencies than %s", cur);
    } else if (owe.n > 0) {
        set_count(&owe, count, sizeof count);
        if (payer.n == 0) {
            finish(out, RECON_MATCH_NONE, "amount_only_no_name",
                   "%s account(s) owe exactly the amount, but the payment has no payer name to "
                   "confirm one",
                   count);
        } else if (named_open.n == 1) {
            win = &in->candidates[named_open.idx[0]];
            finish(out, RECON_MATCH_AMOUNT_NAME, "amount_name",
                   "one open account owes exactly the amount and its holder's name scores %d bp "
                   "(threshold %d); %s account(s) owe the amount",
                   candidate_bp(&payer, win), threshold, count);
        } else if (named_open.n > 1) {
            char named[32];
            set_count(&named_open, named, sizeof named);
            finish(out, RECON_MATCH_NONE, "ambiguous_amount_name",
                   "%s open accounts owe exactly the amount with names at or above %d bp", named,
                   threshold);
        } else if (named_closed) {
            finish(out, RECON_MATCH_NONE, "account_closed",
                   "only closed accounts owe exactly the amount with a name at or above %d bp",
                   threshold);
        } else {
            finish(out, RECON_MATCH_NONE, "amount_only_name_mismatch",
                   "%s account(s) owe exactly the amount, but the best name scores %d bp, below "
                   "%d",
                   count, best_bp, threshold);
        }
    } else {
        finish(out, RECON_MATCH_NONE, "no_candidate",
               "no account found by hint, reference or exact amount (%zu candidate(s) given)",
               in->n_candidates);
    }

    rank(in, &payer, win, out);
    if (win) {
        out->chosen = out->ranked[0];
        out->account_closed = !in->candidates[out->chosen].status_open;
        if (out->account_closed) {
            size_t used = strlen(out->detail);
            snprintf(out->detail + used, sizeof out->detail - used,
                     "; the account is closed: record the payment, decide what to do with it");
        }
    }
}

const char *recon_match_via_name(recon_match_via v)
{
    switch (v) {
    case RECON_MATCH_HINT:
        return "hint";
    case RECON_MATCH_REFERENCE:
        return "reference";
    case RECON_MATCH_AMOUNT_NAME:
        return "amount_name";
    default:
        return "none";
    }
}
