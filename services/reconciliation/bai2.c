#include "bai2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRY(x)                                                                                     \
    do {                                                                                           \
        arr_err e_ = (x);                                                                          \
        if (e_ != ARR_OK)                                                                          \
            return e_;                                                                             \
    } while (0)

/* A D (distributed availability) funds type names its pair count; beyond this it is not a
 * count any bank would send, and the loop over missing pairs would fail anyway. */
#define DIST_MAX 1000

typedef struct slice {
    const char *p;
    size_t n;
} slice;

typedef struct lines {
    const char *d;
    size_t len, off;
    int64_t line;
} lines;

/* One physical record. */
typedef struct phys {
    int64_t line;
    int rt;     /* record type as a number, -1 when not two digits */
    char rc[3]; /* the two characters as written, for messages */
    slice body; /* between "NN," and the closing '/' */
} phys;

/* The logical record being read: its first physical record followed by `left` 88s. */
typedef struct parser {
    char *why;
    size_t whylen;
    int rt;
    char rc[3];
    int64_t first_line;
    phys seg;   /* the physical record the last field came from */
    size_t pos; /* next field's offset in seg.body; > body.n once the record is used up */
    lines more; /* positioned at the next 88 */
    int64_t left;
} parser;

enum { EXPECT_01, IN_FILE, IN_GROUP, IN_ACCOUNT, DONE };

typedef struct file_state {
    int phase;
    int64_t file_line, group_line, acct_line, end_line;
    int64_t file_recs, group_recs, acct_recs;
    int64_t file_sum, group_sum, acct_sum;
    int64_t groups_in_file, accts_in_group;
    int group_status;
    int64_t asof_ms;
    char group_cur[4], acct_cur[4];
    recon_bai2_summary sum;
} file_state;

static const char *rt_name(int rt)
{
    switch (rt) {
    case 1:
        return "file header";
    case 2:
        return "group header";
    case 3:
        return "account identifier";
    case 16:
        return "transaction detail";
    case 49:
        return "account trailer";
    case 88:
        return "continuation";
    case 98:
        return "group trailer";
    case 99:
        return "file trailer";
    }
    return "unknown record";
}

/* Quotes untrusted text for a message: at most 32 characters, non-printables as '?'. */
static const char *show(slice s, char buf[48])
{
    size_t n = 0;
    for (size_t i = 0; i < s.n && n < 32; i++) {
        unsigned char c = (unsigned char)s.p[i];
        buf[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (s.n > 32) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

__attribute__((format(printf, 6, 7))) static arr_err fail_at(parser *p, int64_t line,
                                                             const char *where, const char *field,
                                                             arr_err e, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return arr_errbuf_fail(e, p->why, p->whylen, "line %lld (%s) field %s: %s", (long long)line,
                           where, field, msg);
}

/* A failure about the current field of the logical record. */
__attribute__((format(printf, 3, 4))) static arr_err failf(parser *p, const char *field,
                                                           const char *fmt, ...)
{
    char msg[320], where[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->seg.line != p->first_line)
        snprintf(where, sizeof where, "88 continuation of the %s %s of line %lld", p->rc,
                 rt_name(p->rt), (long long)p->first_line);
    else
        snprintf(where, sizeof where, "%s %s", p->rc, rt_name(p->rt));
    return fail_at(p, p->seg.line, where, field, ARR_EINVAL, "%s", msg);
}

static int next_line(lines *r, slice *out)
{
    if (r->off >= r->len)
        return 0;
    const char *s = r->d + r->off;
    size_t rest = r->len - r->off;
    const char *nl = memchr(s, '\n', rest);
    size_t n = nl ? (size_t)(nl - s) : rest;
    r->off += nl ? n + 1 : n;
    r->line++;
    /* CR of CRLF, and padding some banks add up to the physical record length */
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    out->p = s;
    out->n = n;
    return 1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int known_rt(int rt)
{
    return rt == 1 || rt == 2 || rt == 3 || rt == 16 || rt == 49 || rt == 88 || rt == 98 ||
           rt == 99;
}

/* Splits a non-empty line into record code and body. Strict about the closing '/': a line cut
 * short (a truncated file, a lost line end) must not pass for a record with defaulted fields. */
static arr_err read_phys(parser *p, slice raw, int64_t line, phys *out)
{
    char where[64], sb[48];
    memset(out, 0, sizeof *out);
    out->line = line;
    out->rc[0] = raw.n > 0 ? raw.p[0] : '?';
    out->rc[1] = raw.n > 1 ? raw.p[1] : '?';
    for (int i = 0; i < 2; i++)
        if ((unsigned char)out->rc[i] < 0x20 || (unsigned char)out->rc[i] >= 0x7f)
            out->rc[i] = '?';
    out->rt = raw.n >= 2 && is_digit(raw.p[0]) && is_digit(raw.p[1])
                  ? (raw.p[0] - '0') * 10 + (raw.p[1] - '0')
                  : -1;
    snprintf(where, sizeof where, "%s %s", out->rc, rt_name(known_rt(out->rt) ? out->rt : -1));
    if (!known_rt(out->rt))
        return fail_at(p, line, where, "record code", ARR_EINVAL,
                       "\"%s\" is not a BAI2 record code (01, 02, 03, 16, 88, 49, 98, 99)%s",
                       out->rc, line == 1 ? "; a BAI2 file begins with an 01 file header" : "");
    if (raw.n > 2 && raw.p[2] != ',' && raw.p[2] != '/')
        return fail_at(p, line, where, "record code", ARR_EINVAL,
                       "the record code is followed by \"%s\" instead of ','",
                       show((slice){raw.p + 2, 1}, sb));
    if (raw.p[raw.n - 1] != '/' || raw.n < 3)
        return fail_at(p, line, where, "end of record", ARR_EINVAL,
                       "the record does not end with '/' (truncated line?)");
    out->body.p = raw.p + 3;
    out->body.n = raw.n > 3 ? raw.n - 4 : 0;
    return ARR_OK;
}

/* The next field of the logical record, moving into the following 88 when this physical
 * record is used up. 0 when the whole logical record is. */
static int next_field(parser *p, slice *f)
{
    while (p->pos > p->seg.body.n) {
        slice raw;
        if (p->left == 0 || !next_line(&p->more, &raw))
            return 0;
        /* validated when the chain was collected */
        if (read_phys(p, raw, p->more.line, &p->seg) != ARR_OK)
            return 0;
        p->pos = 0;
        p->left--;
    }
    const char *b = p->seg.body.p + p->pos;
    size_t rest = p->seg.body.n - p->pos;
    const char *c = memchr(b, ',', rest);
    size_t n = c ? (size_t)(c - b) : rest;
    f->p = b;
    f->n = n;
    p->pos += n + 1;
    return 1;
}

/* A field that is not text; missing fields read as empty. */
static arr_err field(parser *p, const char *name, int required, slice *f)
{
    if (!next_field(p, f)) {
        f->p = "";
        f->n = 0;
    }
    if (memchr(f->p, '/', f->n))
        return failf(p, name, "'/' inside the field (a '/' ends a record)");
    if (required && f->n == 0)
        return failf(p, name, "missing");
    return ARR_OK;
}

/* Trailing empty fields are tolerated; anything else after the last field is not. */
static arr_err expect_end(parser *p)
{
    slice f;
    char sb[48];
    while (next_field(p, &f))
        if (f.n > 0)
            return failf(p, "after the last", "unexpected extra field \"%s\"", show(f, sb));
    return ARR_OK;
}

static int parse_count(slice s, int64_t *v)
{
    if (s.n == 0 || s.n > 18)
        return 0;
    int64_t x = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (!is_digit(s.p[i]))
            return 0;
        x = x * 10 + (s.p[i] - '0');
    }
    *v = x;
    return 1;
}

/* [+|-]digits, in minor units. */
static int parse_signed(slice s, int64_t *v)
{
    int neg = 0;
    if (s.n > 0 && (s.p[0] == '+' || s.p[0] == '-')) {
        neg = s.p[0] == '-';
        s.p++;
        s.n--;
    }
    int64_t x;
    if (recon_amount_parse(s.p, s.n, 0, &x) != ARR_OK)
        return 0;
    *v = neg ? -x : x;
    return 1;
}

static int add_checked(int64_t *acc, int64_t v)
{
    if ((v > 0 && *acc > INT64_MAX - v) || (v < 0 && *acc < INT64_MIN - v))
        return 0;
    *acc += v;
    return 1;
}

/* HHMM, 2400 and 9999 (both "end of day" in BAI2) included. */
static int valid_time(slice s)
{
    if (s.n != 4)
        return 0;
    for (int i = 0; i < 4; i++)
        if (!is_digit(s.p[i]))
            return 0;
    if (memcmp(s.p, "9999", 4) == 0)
        return 1;
    int h = (s.p[0] - '0') * 10 + (s.p[1] - '0'), m = (s.p[2] - '0') * 10 + (s.p[3] - '0');
    return (h < 24 && m < 60) || (h == 24 && m == 0);
}

static int valid_currency(slice s)
{
    if (s.n != 3)
        return 0;
    for (int i = 0; i < 3; i++)
        if (s.p[i] < 'A' || s.p[i] > 'Z')
            return 0;
    return 1;
}

/* Three digits, 001-999; -1 otherwise. */
static int parse_type_code(slice s)
{
    if (s.n != 3 || !is_digit(s.p[0]) || !is_digit(s.p[1]) || !is_digit(s.p[2]))
        return -1;
    int v = (s.p[0] - '0') * 100 + (s.p[1] - '0') * 10 + (s.p[2] - '0');
    return v >= 1 ? v : -1;
}

static arr_err date_field(parser *p, const char *name, int required, int64_t *ms, int *present)
{
    slice f;
    char sb[48];
    TRY(field(p, name, required, &f));
    *present = f.n > 0;
    if (f.n > 0 && recon_date_ms(f.p, f.n, ms) != ARR_OK)
        return failf(p, name, "\"%s\" is not a date YYMMDD", show(f, sb));
    return ARR_OK;
}

static arr_err time_field(parser *p, const char *name, int required)
{
    slice f;
    char sb[48];
    TRY(field(p, name, required, &f));
    if (f.n > 0 && !valid_time(f))
        return failf(p, name, "\"%s\" is not a time HHMM", show(f, sb));
    return ARR_OK;
}

static arr_err count_field(parser *p, const char *name, int required, int64_t *v)
{
    slice f;
    char sb[48];
    TRY(field(p, name, required, &f));
    *v = 0;
    if (f.n > 0 && !parse_count(f, v))
        return failf(p, name, "\"%s\" is not a count (digits only)", show(f, sb));
    return ARR_OK;
}

static arr_err amount_field(parser *p, const char *name, int required, int64_t *v)
{
    slice f;
    char sb[48];
    TRY(field(p, name, required, &f));
    *v = 0;
    if (f.n > 0 && !parse_signed(f, v))
        return failf(p, name, "\"%s\" is not an amount (optional sign, then digits)", show(f, sb));
    return ARR_OK;
}

/* The funds type and the extra fields it brings. A V value date goes to *value_ms. The
 * availability amounts split the item's amount over days and are not part of control totals. */
static arr_err funds_type(parser *p, int64_t *value_ms, int *has_value)
{
    slice f;
    char sb[48];
    int64_t v;
    *has_value = 0;
    TRY(field(p, "funds type", 0, &f));
    if (f.n == 0)
        return ARR_OK;
    if (f.n == 1) {
        switch (f.p[0]) {
        case '0':
        case '1':
        case '2':
        case 'Z':
            return ARR_OK;
        case 'S':
            TRY(amount_field(p, "immediate availability", 0, &v));
            TRY(amount_field(p, "one-day availability", 0, &v));
            return amount_field(p, "more than one-day availability", 0, &v);
        case 'V':
            TRY(date_field(p, "value date", 1, value_ms, has_value));
            return time_field(p, "value time", 0);
        case 'D': {
            int64_t n;
            TRY(count_field(p, "availability distributions", 1, &n));
            if (n > DIST_MAX)
                return failf(p, "availability distributions", "%lld is more than %d", (long long)n,
                             DIST_MAX);
            for (int64_t i = 0; i < n; i++) {
                TRY(count_field(p, "availability days", 1, &v));
                TRY(amount_field(p, "availability amount", 1, &v));
            }
            return ARR_OK;
        }
        }
    }
    return failf(p, "funds type", "unknown funds type \"%s\" (0, 1, 2, S, V, D or Z)", show(f, sb));
}

/* ------------------------------------------------------------------ ids */

static void fid_emit(char c, char *buf, size_t *total, uint64_t *h)
{
    *h ^= (unsigned char)c;
    *h *= 1099511628211ULL;
    if (*total < RECON_BAI2_FILE_ID_MAX)
        buf[*total] = c;
    (*total)++;
}

/* sender-receiver-date-time-number with unsafe characters replaced; a long one keeps a hash of
 * the whole so two files differing past the cut still get different ids. */
static void build_file_id(const slice parts[5], char out[RECON_BAI2_FILE_ID_MAX + 1])
{
    char buf[RECON_BAI2_FILE_ID_MAX + 1];
    size_t total = 0;
    uint64_t h = 14695981039346656037ULL;
    for (int i = 0; i < 5; i++) {
        if (i > 0)
            fid_emit('-', buf, &total, &h);
        for (size_t j = 0; j < parts[i].n; j++) {
            char c = parts[i].p[j];
            int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c);
            fid_emit(ok ? c : '_', buf, &total, &h);
        }
    }
    if (total <= RECON_BAI2_FILE_ID_MAX) {
        buf[total] = '\0';
        memcpy(out, buf, total + 1);
    } else {
        snprintf(out, RECON_BAI2_FILE_ID_MAX + 1, "%.46s~%016llx", buf, (unsigned long long)h);
    }
}

static int is_line_form(const char *s, size_t n)
{
    if (n < 2 || s[0] != 'L')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!is_digit(s[i]))
            return 0;
    return 1;
}

static void line_id(recon_entry *e, const char *file_id)
{
    snprintf(e->payment_id, sizeof e->payment_id, "bai2:%s/L%lld", file_id, (long long)e->line);
}

/* The bank-reference id when the reference can carry it; uniqueness is settled at the end. */
static void provisional_id(recon_entry *e, const char *file_id, slice ref)
{
    char r[RECON_ID_MAX + 1];
    if (ref.n == 0 || ref.n > RECON_ID_MAX || is_line_form(ref.p, ref.n)) {
        line_id(e, file_id);
        return;
    }
    for (size_t i = 0; i < ref.n; i++) {
        unsigned char c = (unsigned char)ref.p[i];
        r[i] = (c > 0x20 && c < 0x7f) ? (char)c : '_';
    }
    r[ref.n] = '\0';
    int n = snprintf(e->payment_id, sizeof e->payment_id, "bai2:%s/%s", file_id, r);
    if (n < 0 || (size_t)n > RECON_ID_MAX)
        line_id(e, file_id);
}

static int cmp_id(const void *a, const void *b)
{
    const recon_entry *x = *(recon_entry *const *)a, *y = *(recon_entry *const *)b;
    return strcmp(x->payment_id, y->payment_id);
}

/* A bank reference used twice in the file identifies neither entry: both fall back to their
 * line. Bank-reference ids never look like line ids (is_line_form), so the two kinds cannot
 * collide. */
static arr_err settle_ids(recon_entries *out, size_t n0, const char *file_id, char *why,
                          size_t whylen)
{
    size_t skip = strlen("bai2:") + strlen(file_id) + 1, k = 0;
    for (size_t i = n0; i < out->n; i++) {
        const char *s = out->v[i].payment_id + skip;
        if (!is_line_form(s, strlen(s)))
            k++;
    }
    if (k < 2)
        return ARR_OK;
    recon_entry **v = malloc(k * sizeof *v);
    if (!v)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "out of memory checking payment ids");
    k = 0;
    for (size_t i = n0; i < out->n; i++) {
        const char *s = out->v[i].payment_id + skip;
        if (!is_line_form(s, strlen(s)))
            v[k++] = &out->v[i];
    }
    qsort(v, k, sizeof *v, cmp_id);
    for (size_t i = 0; i < k;) {
        size_t j = i + 1;
        while (j < k && strcmp(v[i]->payment_id, v[j]->payment_id) == 0)
            j++;
        if (j - i > 1)
            for (size_t m = i; m < j; m++)
                line_id(v[m], file_id);
        i = j;
    }
    free(v);
    return ARR_OK;
}

/* ------------------------------------------------------------------ records */

static arr_err rec_01(parser *p, file_state *st, int64_t nrec)
{
    slice parts[5], f; /* sender, receiver, creation date, creation time, file id number */
    char sb[48];
    int64_t ms, v;
    TRY(field(p, "sender", 1, &parts[0]));
    TRY(field(p, "receiver", 1, &parts[1]));
    TRY(field(p, "creation date", 1, &parts[2]));
    if (recon_date_ms(parts[2].p, parts[2].n, &ms) != ARR_OK)
        return failf(p, "creation date", "\"%s\" is not a date YYMMDD", show(parts[2], sb));
    TRY(field(p, "creation time", 1, &parts[3]));
    if (!valid_time(parts[3]))
        return failf(p, "creation time", "\"%s\" is not a time HHMM", show(parts[3], sb));
    TRY(field(p, "file id number", 1, &parts[4]));
    TRY(count_field(p, "physical record length", 0, &v));
    TRY(count_field(p, "block size", 0, &v));
    TRY(field(p, "version", 1, &f));
    if (f.n != 1 || f.p[0] != '2')
        return failf(p, "version", "BAI version \"%s\" is not supported (only 2)", show(f, sb));
    TRY(expect_end(p));
    build_file_id(parts, st->sum.file_id);
    st->phase = IN_FILE;
    st->file_line = p->first_line;
    st->file_recs = nrec;
    return ARR_OK;
}

static arr_err rec_02(parser *p, file_state *st, int64_t nrec)
{
    slice f;
    char sb[48];
    int present;
    TRY(field(p, "ultimate receiver", 0, &f));
    TRY(field(p, "originator", 1, &f));
    TRY(field(p, "group status", 1, &f));
    if (f.n != 1 || f.p[0] < '1' || f.p[0] > '4')
        return failf(p, "group status", "\"%s\" is not 1, 2, 3 or 4", show(f, sb));
    st->group_status = f.p[0] - '0';
    TRY(date_field(p, "as-of date", 1, &st->asof_ms, &present));
    TRY(time_field(p, "as-of time", 0));
    TRY(field(p, "currency", 0, &f));
    if (f.n > 0 && !valid_currency(f))
        return failf(p, "currency", "\"%s\" is not an ISO 4217 code", show(f, sb));
    memcpy(st->group_cur, f.n > 0 ? f.p : "USD", 3);
    st->group_cur[3] = '\0';
    TRY(field(p, "as-of date modifier", 0, &f));
    if (f.n > 0 && (f.n != 1 || f.p[0] < '1' || f.p[0] > '4'))
        return failf(p, "as-of date modifier", "\"%s\" is not 1, 2, 3 or 4", show(f, sb));
    TRY(expect_end(p));
    st->phase = IN_GROUP;
    st->group_line = p->first_line;
    st->group_recs = nrec;
    st->group_sum = 0;
    st->accts_in_group = 0;
    st->sum.groups++;
    return ARR_OK;
}

static arr_err rec_03(parser *p, file_state *st, int64_t nrec)
{
    slice f;
    char sb[48];
    int64_t v, total = 0, ms;
    int present;
    TRY(field(p, "account number", 1, &f));
    TRY(field(p, "currency", 0, &f));
    if (f.n > 0 && !valid_currency(f))
        return failf(p, "currency", "\"%s\" is not an ISO 4217 code", show(f, sb));
    memcpy(st->acct_cur, f.n > 0 ? f.p : st->group_cur, 3);
    st->acct_cur[3] = '\0';
    for (;;) {
        if (!next_field(p, &f))
            break;
        if (f.n == 0) { /* "03,acct,USD,/": no summaries */
            TRY(expect_end(p));
            break;
        }
        if (parse_type_code(f) < 0)
            return failf(p, "type code", "unknown type code \"%s\" (three digits, 001-999)",
                         show(f, sb));
        TRY(amount_field(p, "amount", 0, &v));
        if (!add_checked(&total, v))
            return failf(p, "amount", "the account's total overflows");
        TRY(count_field(p, "item count", 0, &v));
        TRY(funds_type(p, &ms, &present));
    }
    st->phase = IN_ACCOUNT;
    st->acct_line = p->first_line;
    st->acct_recs = nrec;
    st->acct_sum = total;
    st->accts_in_group++;
    st->sum.accounts++;
    return ARR_OK;
}

/* Direction of a detail type code: +1 credit, -1 debit, 0 neither; kind and skip reason. */
static int classify(int code, recon_kind *kind, const char **skip)
{
    *skip = "";
    if ((code >= 100 && code <= 399) || (code >= 920 && code <= 959)) {
        *kind = RECON_PAYMENT;
        return 1;
    }
    if ((code >= 400 && code <= 699) || (code >= 960 && code <= 999)) {
        *kind = RECON_SKIPPED;
        *skip = "debit_entry";
        return -1;
    }
    if (code >= 700 && code <= 799) {
        *kind = RECON_SKIPPED;
        *skip = "loan_entry";
        return 0;
    }
    *kind = RECON_NOTICE; /* 890 */
    *skip = "non_monetary";
    return 0;
}

static arr_err rec_16(parser *p, file_state *st, int64_t nrec, recon_entries *out)
{
    slice f, bank, cust;
    char sb[48], text[RECON_REF_MAX + 1];
    int64_t amount = 0, value_ms = 0;
    int has_value;
    TRY(field(p, "type code", 1, &f));
    int code = parse_type_code(f);
    if (code < 100 || (code >= 800 && code <= 919 && code != 890))
        return failf(p, "type code",
                     "unknown type code \"%s\" (a detail takes 100-799, 890 or 920-999; "
                     "001-099 and 900-919 are account status codes)",
                     show(f, sb));
    slice code_text = f;
    TRY(field(p, "amount", 0, &f));
    if (f.n == 0 && code != 890)
        return failf(p, "amount", "missing");
    if (f.n > 0 && f.p[0] == '-')
        return failf(p, "amount",
                     "\"%s\": a detail amount has no minus sign (the type code gives the "
                     "direction)",
                     show(f, sb));
    if (f.n > 0 && !parse_signed(f, &amount))
        return failf(p, "amount", "\"%s\" is not an amount in minor units (digits only)",
                     show(f, sb));
    if (!add_checked(&st->acct_sum, amount))
        return failf(p, "amount", "the account's total overflows");
    TRY(funds_type(p, &value_ms, &has_value));
    TRY(field(p, "bank reference", 0, &bank));
    TRY(field(p, "customer reference", 0, &cust));

    /* the text runs to the closing '/' of the last record of the chain, commas and all; a
     * continuation carries on where the text broke off, so no separator is added */
    size_t tn = 0;
    for (;;) {
        if (p->pos <= p->seg.body.n) {
            size_t n = p->seg.body.n - p->pos;
            if (n > sizeof text - 1 - tn)
                n = sizeof text - 1 - tn;
            memcpy(text + tn, p->seg.body.p + p->pos, n);
            tn += n;
            p->pos = p->seg.body.n + 1;
        }
        slice raw;
        if (p->left == 0 || !next_line(&p->more, &raw))
            break;
        if (read_phys(p, raw, p->more.line, &p->seg) != ARR_OK)
            break;
        p->pos = 0;
        p->left--;
    }
    text[tn] = '\0';

    recon_kind kind;
    const char *skip;
    int dir = classify(code, &kind, &skip);
    if (dir > 0 && !add_checked(&st->sum.credit_cents, amount))
        return failf(p, "amount", "the file's credit total overflows");
    if (dir < 0 && !add_checked(&st->sum.debit_cents, amount))
        return failf(p, "amount", "the file's debit total overflows");
    if (kind != RECON_NOTICE && (st->group_status == 2 || st->group_status == 4)) {
        kind = RECON_SKIPPED;
        skip = st->group_status == 2 ? "group_deletion" : "group_test_only";
    } else if (kind == RECON_PAYMENT && amount == 0) {
        kind = RECON_SKIPPED;
        skip = "zero_amount";
    }

    recon_entry *e;
    arr_err rc = recon_entries_push(out, &e);
    if (rc == ARR_ELIMIT)
        return fail_at(p, p->first_line, "16 transaction detail", "record", rc,
                       "the entry list is full (cap %zu)", out->max);
    if (rc != ARR_OK)
        return fail_at(p, p->first_line, "16 transaction detail", "record", rc,
                       "out of memory after %zu entries", out->n);
    e->kind = kind;
    snprintf(e->source, sizeof e->source, "bai2");
    e->amount_cents = amount;
    memcpy(e->currency, st->acct_cur, 4);
    e->received_at_ms = has_value ? value_ms : st->asof_ms;
    recon_text_append(e->reference, sizeof e->reference, bank.p, bank.n);
    recon_text_append(e->reference, sizeof e->reference, cust.p, cust.n);
    recon_text_append(e->reference, sizeof e->reference, text, tn);
    memcpy(e->type_code, code_text.p, 3);
    e->type_code[3] = '\0';
    snprintf(e->skip_reason, sizeof e->skip_reason, "%s", skip);
    e->line = p->first_line;
    provisional_id(e, st->sum.file_id, bank);

    st->acct_recs += nrec;
    st->sum.details++;
    if (kind == RECON_PAYMENT)
        st->sum.payments++;
    else if (kind == RECON_NOTICE)
        st->sum.notices++;
    else
        st->sum.skipped++;
    return ARR_OK;
}

static arr_err check_total(parser *p, const char *name, int64_t expected)
{
    int64_t found;
    TRY(amount_field(p, name, 1, &found));
    if (found != expected)
        return failf(p, name, "expected %+lld found %+lld", (long long)expected, (long long)found);
    return ARR_OK;
}

static arr_err check_count(parser *p, const char *name, int64_t expected)
{
    int64_t found;
    TRY(count_field(p, name, 1, &found));
    if (found != expected)
        return failf(p, name, "expected %lld found %lld", (long long)expected, (long long)found);
    return ARR_OK;
}

static arr_err rec_49(parser *p, file_state *st, int64_t nrec)
{
    st->acct_recs += nrec;
    TRY(check_total(p, "control total", st->acct_sum));
    TRY(check_count(p, "number of records", st->acct_recs));
    TRY(expect_end(p));
    if (!add_checked(&st->group_sum, st->acct_sum))
        return failf(p, "control total", "the group's total overflows");
    st->group_recs += st->acct_recs;
    st->phase = IN_GROUP;
    return ARR_OK;
}

static arr_err rec_98(parser *p, file_state *st, int64_t nrec)
{
    st->group_recs += nrec;
    TRY(check_total(p, "control total", st->group_sum));
    TRY(check_count(p, "number of accounts", st->accts_in_group));
    TRY(check_count(p, "number of records", st->group_recs));
    TRY(expect_end(p));
    if (!add_checked(&st->file_sum, st->group_sum))
        return failf(p, "control total", "the file's total overflows");
    st->file_recs += st->group_recs;
    st->groups_in_file++;
    st->phase = IN_FILE;
    return ARR_OK;
}

static arr_err rec_99(parser *p, file_state *st, int64_t nrec)
{
    st->file_recs += nrec;
    TRY(check_total(p, "control total", st->file_sum));
    TRY(check_count(p, "number of groups", st->groups_in_file));
    TRY(check_count(p, "number of records", st->file_recs));
    TRY(expect_end(p));
    st->phase = DONE;
    st->end_line = p->first_line;
    return ARR_OK;
}

/* What an open account or group lacks when a record arrives that cannot be inside it. */
static arr_err unclosed(parser *p, const file_state *st)
{
    if (st->phase == IN_ACCOUNT)
        return failf(p, "record code", "the account opened at line %lld has no 49 account trailer",
                     (long long)st->acct_line);
    return failf(p, "record code", "the group opened at line %lld has no 98 group trailer",
                 (long long)st->group_line);
}

static arr_err dispatch(parser *p, file_state *st, int64_t nrec, recon_entries *out)
{
    if (st->phase == DONE)
        return failf(p, "record code", "a record after the 99 file trailer of line %lld",
                     (long long)st->end_line);
    if (st->phase == EXPECT_01 && p->rt != 1)
        return failf(p, "record code", "a BAI2 file begins with an 01 file header");
    switch (p->rt) {
    case 1:
        if (st->phase != EXPECT_01)
            return failf(p, "record code", "a second 01 file header (the first is on line %lld)",
                         (long long)st->file_line);
        return rec_01(p, st, nrec);
    case 2:
        if (st->phase != IN_FILE)
            return unclosed(p, st);
        return rec_02(p, st, nrec);
    case 3:
        if (st->phase == IN_FILE)
            return failf(p, "record code", "an 03 account outside a group (no 02 before it)");
        if (st->phase != IN_GROUP)
            return unclosed(p, st);
        return rec_03(p, st, nrec);
    case 16:
        if (st->phase != IN_ACCOUNT)
            return failf(p, "record code", "a 16 detail outside an account (no 03 before it)");
        return rec_16(p, st, nrec, out);
    case 49:
        if (st->phase != IN_ACCOUNT)
            return failf(p, "record code", "a 49 account trailer with no open account");
        return rec_49(p, st, nrec);
    case 98:
        if (st->phase == IN_FILE)
            return failf(p, "record code", "a 98 group trailer with no open group");
        if (st->phase != IN_GROUP)
            return unclosed(p, st);
        return rec_98(p, st, nrec);
    case 99:
        if (st->phase != IN_FILE)
            return unclosed(p, st);
        return rec_99(p, st, nrec);
    }
    return failf(p, "record code", "an 88 continuation with no record before it to continue");
}

static arr_err parse_all(parser *p, lines *r, file_state *st, recon_entries *out)
{
    slice raw;
    while (next_line(r, &raw)) {
        if (raw.n == 0) {
            if (st->phase == DONE)
                continue;
            return fail_at(p, r->line, "empty line", "record code", ARR_EINVAL,
                           "an empty line inside the file");
        }
        phys first;
        TRY(read_phys(p, raw, r->line, &first));
        p->rt = first.rt;
        memcpy(p->rc, first.rc, sizeof p->rc);
        p->first_line = first.line;
        p->seg = first;
        p->pos = 0;
        p->more = *r;
        p->left = 0;
        if (first.rt != 88) {
            /* collect the 88s that continue this record */
            for (;;) {
                lines peek = *r;
                phys cont;
                if (!next_line(&peek, &raw) || raw.n < 2 || raw.p[0] != '8' || raw.p[1] != '8')
                    break;
                TRY(read_phys(p, raw, peek.line, &cont));
                *r = peek;
                p->left++;
            }
        }
        TRY(dispatch(p, st, 1 + p->left, out));
    }
    if (st->phase == DONE)
        return ARR_OK;
    const char *what = st->phase == EXPECT_01    ? "no 01 file header: the input is empty"
                       : st->phase == IN_ACCOUNT ? "the file ends inside an account (no 49, 98 "
                                                   "or 99 follows; truncated?)"
                       : st->phase == IN_GROUP   ? "the file ends inside a group (no 98 or 99 "
                                                   "follows; truncated?)"
                                                 : "the file ends without a 99 file trailer "
                                                   "(truncated?)";
    return fail_at(p, r->line, "end of file", "record code", ARR_EINVAL, "%s", what);
}

arr_err recon_bai2_parse(const char *data, size_t len, recon_entries *out, recon_bai2_summary *sum,
                         char *why, size_t whylen)
{
    if (!out || (!data && len > 0))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "no input or no entry list");
    parser p;
    memset(&p, 0, sizeof p);
    p.why = why;
    p.whylen = whylen;
    file_state st;
    memset(&st, 0, sizeof st);
    lines r = {data ? data : "", len, 0, 0};
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r.off = 3;
    size_t n0 = out->n;
    arr_err rc = parse_all(&p, &r, &st, out);
    if (rc == ARR_OK)
        rc = settle_ids(out, n0, st.sum.file_id, why, whylen);
    if (rc != ARR_OK) {
        out->n = n0;
        return rc;
    }
    if (sum)
        *sum = st.sum;
    return ARR_OK;
}
