#include "nacha.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_LEN 94
#define MAX_ADDENDA_PER_ENTRY 9999 /* the CTX addenda count field is 4 digits */
#define MAX_FILE_COUNT 99999999LL  /* the file control entry/addenda count is 8 digits */
#define MAX_BATCHES 999999LL       /* the file control batch count is 6 digits */
#define HASH_MOD 10000000000ULL    /* entry hashes keep their last 10 digits */

/* ------------------------------------------------------------------ code tables */

typedef struct code_text {
    const char *code, *text;
} code_text;

static const code_text return_reasons[] = {
    {"R01", "insufficient funds"},
    {"R02", "account closed"},
    {"R03", "no account or unable to locate account"},
    {"R04", "invalid account number structure"},
    {"R05", "unauthorized debit to consumer account using corporate SEC code"},
    {"R06", "returned per ODFI's request"},
    {"R07", "authorization revoked by customer"},
    {"R08", "payment stopped"},
    {"R09", "uncollected funds"},
    {"R10", "customer advises originator is not known or not authorized"},
    {"R11", "customer advises entry not in accordance with the terms of the authorization"},
    {"R12", "account sold to another DFI"},
    {"R13", "invalid ACH routing number"},
    {"R14", "representative payee deceased or unable to continue in that capacity"},
    {"R15", "beneficiary or account holder deceased"},
    {"R16", "account frozen or entry returned per OFAC instruction"},
    {"R17", "file record edit criteria or questionable circumstances"},
    {"R18", "improper effective entry date"},
    {"R19", "amount field error"},
    {"R20", "non-transaction account"},
    {"R21", "invalid company identification"},
    {"R22", "invalid individual ID number"},
    {"R23", "credit entry refused by receiver"},
    {"R24", "duplicate entry"},
    {"R25", "addenda error"},
    {"R26", "mandatory field error"},
    {"R27", "trace number error"},
    {"R28", "routing number check digit error"},
    {"R29", "corporate customer advises not authorized"},
    {"R30", "RDFI not participant in check truncation program"},
    {"R31", "permissible return entry (CCD and CTX only)"},
    {"R32", "RDFI non-settlement"},
    {"R33", "return of XCK entry"},
    {"R34", "limited participation DFI"},
    {"R35", "return of improper debit entry"},
    {"R36", "return of improper credit entry"},
    {"R37", "source document presented for payment"},
    {"R38", "stop payment on source document"},
    {"R39", "improper source document"},
    {"R61", "misrouted return"},
    {"R62", "return of erroneous or reversing debit"},
    {"R67", "duplicate return"},
    {"R68", "untimely return"},
    {"R69", "field error(s)"},
    {"R70", "permissible return entry not accepted or return not requested by ODFI"},
    {"R71", "misrouted dishonored return"},
    {"R72", "untimely dishonored return"},
    {"R73", "timely original return"},
    {"R74", "corrected return"},
    {"R75", "return not a duplicate"},
    {"R76", "no errors found"},
    {"R77", "non-acceptance of R62 dishonored return"},
};

static const code_text change_reasons[] = {
    {"C01", "incorrect DFI account number"},
    {"C02", "incorrect routing number"},
    {"C03", "incorrect routing number and DFI account number"},
    {"C05", "incorrect transaction code"},
    {"C06", "incorrect DFI account number and transaction code"},
    {"C07", "incorrect routing number, DFI account number and transaction code"},
    {"C09", "incorrect individual identification number"},
    {"C13", "addenda format error"},
    {"C61", "misrouted notification of change"},
    {"C62", "incorrect trace number"},
    {"C63", "incorrect company identification number"},
    {"C64", "incorrect individual identification number or identification number"},
    {"C65", "incorrectly formatted corrected data"},
    {"C66", "incorrect discretionary data"},
    {"C67", "routing number not from original entry detail record"},
    {"C68", "DFI account number not from original entry detail record"},
    {"C69", "incorrect transaction code"},
};

static const char *lookup(const code_text *t, size_t n, const char *code)
{
    if (!code)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].code, code) == 0)
            return t[i].text;
    return NULL;
}

const char *recon_nacha_return_reason(const char *code)
{
    return lookup(return_reasons, sizeof(return_reasons) / sizeof(return_reasons[0]), code);
}

const char *recon_nacha_change_reason(const char *code)
{
    return lookup(change_reasons, sizeof(change_reasons) / sizeof(change_reasons[0]), code);
}

/* Transaction codes by what they do to the receiver's account. */
typedef enum tx_class {
    TX_UNKNOWN = 0,
    TX_LIVE,       /* moves money */
    TX_PRENOTE,    /* zero-dollar account test */
    TX_ZERO,       /* zero-dollar entry carrying remittance data */
    TX_RETURN_NOC, /* automated return or notification of change */
} tx_class;

static tx_class tx_lookup(int tc, int *debit)
{
    /* Account groups 2x demand, 3x savings, 4x general ledger, 5x loan share one pattern
     * in the last digit; loans have no debit prenote or zero-dollar debit. */
    int group = tc / 10, d = tc % 10;
    if (group < 2 || group > 5)
        return TX_UNKNOWN;
    *debit = d >= 5;
    switch (d) {
    case 1:
    case 6:
        return TX_RETURN_NOC;
    case 2:
        return TX_LIVE;
    case 3:
        return TX_PRENOTE;
    case 4:
        return TX_ZERO;
    case 7:
        return group == 5 ? TX_UNKNOWN : TX_LIVE;
    case 8:
    case 9:
        return group == 5 ? TX_UNKNOWN : d == 8 ? TX_PRENOTE : TX_ZERO;
    case 5:
        return group == 5 ? TX_LIVE : TX_UNKNOWN; /* 55: loan debit (reversals) */
    default:
        return TX_UNKNOWN;
    }
}

/* ------------------------------------------------------------------ parser state */

typedef enum pstate {
    ST_START, /* before the file header */
    ST_FILE,  /* after the file header or a batch control */
    ST_BATCH, /* after a batch header */
    ST_ENTRY, /* after an entry detail or its addenda */
    ST_DONE,  /* after the file control */
} pstate;

typedef struct batch {
    long long line;
    int service;
    char company_id[11]; /* trimmed */
    char sec[4];
    char odfi[9];
    char number[8];
    int64_t received_ms;
    long long count; /* entries + addenda */
    uint64_t hash;
    int64_t debit, credit;
} batch;

typedef struct pending {
    long long line;
    int tc;
    tx_class cls;
    int debit; /* the transaction code debits the receiver's account */
    int64_t amount;
    int indicator;
    int addenda;
    char special[3]; /* "98" or "99" when the entry carries one, else "" */
    char trace[16];
    char name[RECON_NAME_MAX + 1];
    char code[4];
    char orig_trace[16];
    char reference[RECON_REF_MAX + 1];
} pending;

typedef struct parser {
    const char *p, *end;
    int unbroken;
    long long line;
    char r[REC_LEN + 1]; /* current record, padded with spaces */
    char *why;
    size_t whylen;
    recon_entries *out;
    pstate st;
    int64_t created_ms;
    batch b;
    pending e;
    long long records; /* through the file control, for the block count */
    long long batches, count;
    uint64_t hash;
    int64_t debit, credit;
    recon_nacha_summary sum;
} parser;

static const char *rec_name(char t)
{
    switch (t) {
    case '1':
        return "1 file header";
    case '5':
        return "5 batch header";
    case '6':
        return "6 entry detail";
    case '7':
        return "7 addenda";
    case '8':
        return "8 batch control";
    case '9':
        return "9 file control";
    case 0:
        return "end of file";
    default:
        return "unknown record";
    }
}

static arr_err fail_at(parser *ps, long long line, char type, const char *field, const char *fmt,
                       ...) __attribute__((format(printf, 5, 6)));

static arr_err fail_at(parser *ps, long long line, char type, const char *field, const char *fmt,
                       ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    /* Field text quoted from the file: keep the message printable ASCII. */
    for (char *c = reason; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    return arr_errbuf_fail(ARR_EINVAL, ps->why, ps->whylen, "line %lld (%s) field %s: %s", line,
                           rec_name(type), field, reason);
}

/* An error in the current record. */
#define FAIL(ps, field, ...) fail_at((ps), (ps)->line, (ps)->r[0], (field), __VA_ARGS__)

/* Field text by 1-based column, as the record layouts number them. */
static const char *col(const parser *ps, int from)
{
    return ps->r + from - 1;
}

static int all_digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int all_char(const char *s, int n, char c)
{
    for (int i = 0; i < n; i++)
        if (s[i] != c)
            return 0;
    return 1;
}

/* A numeric field (at most 18 digits, so int64 holds it). */
static arr_err num_field(parser *ps, int from, int width, const char *field, int64_t *v)
{
    const char *s = col(ps, from);
    if (!all_digits(s, width))
        return FAIL(ps, field, "not a number: '%.*s'", width, s);
    int64_t x = 0;
    for (int i = 0; i < width; i++)
        x = x * 10 + (s[i] - '0');
    *v = x;
    return ARR_OK;
}

/* A numeric field kept as text (routing numbers, traces). */
static arr_err digit_field(parser *ps, int from, int width, const char *field, char *dst)
{
    const char *s = col(ps, from);
    if (!all_digits(s, width))
        return FAIL(ps, field, "not a number: '%.*s'", width, s);
    memcpy(dst, s, (size_t)width);
    dst[width] = '\0';
    return ARR_OK;
}

/* Free text appended to dst: bytes beyond ASCII become '?' so downstream JSON stays valid
 * UTF-8; recon_text_append trims and collapses blanks. */
static void put_text(char *dst, size_t cap, const char *s, int n)
{
    char tmp[REC_LEN];
    for (int i = 0; i < n; i++)
        tmp[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
    recon_text_append(dst, cap, tmp, (size_t)n);
}

static void trimmed(char *dst, const char *s, int n)
{
    while (n > 0 && *s == ' ')
        s++, n--;
    while (n > 0 && s[n - 1] == ' ')
        n--;
    memcpy(dst, s, (size_t)n);
    dst[n] = '\0';
}

/* Next record into ps->r: 1 with a record, 0 at the end of data, -1 on error (why set). */
static int next_record(parser *ps)
{
    if (ps->p >= ps->end)
        return 0;
    const char *s = ps->p, *e;
    if (ps->unbroken) {
        size_t left = (size_t)(ps->end - s);
        e = s + (left < REC_LEN ? left : REC_LEN);
        ps->p = e;
    } else {
        const char *nl = memchr(s, '\n', (size_t)(ps->end - s));
        e = nl ? nl : ps->end;
        ps->p = nl ? nl + 1 : ps->end;
        if (e > s && e[-1] == '\r')
            e--;
    }
    ps->line++;
    size_t n = (size_t)(e - s);
    while (n > REC_LEN && s[n - 1] == ' ')
        n--;
    ps->r[0] = n ? s[0] : ' ';
    if (n > REC_LEN) {
        FAIL(ps, "record length", "%zu characters, expected %d", n, REC_LEN);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            FAIL(ps, "record text", "control character 0x%02x at column %zu", c, i + 1);
            return -1;
        }
    }
    memcpy(ps->r, s, n);
    memset(ps->r + n, ' ', REC_LEN - n);
    ps->r[REC_LEN] = '\0';
    return 1;
}

/* YYMMDD: a real date, or blank/000000 meaning "use the file creation date". */
static arr_err date_field(parser *ps, int from, const char *field, int64_t fallback, int64_t *ms)
{
    const char *s = col(ps, from);
    if (all_char(s, 6, ' ') || all_char(s, 6, '0')) {
        *ms = fallback;
        return ARR_OK;
    }
    if (recon_date_ms(s, 6, ms) != ARR_OK)
        return FAIL(ps, field, "not a date (YYMMDD): '%.6s'", s);
    return ARR_OK;
}

/* ------------------------------------------------------------------ records */

static arr_err file_header(parser *ps)
{
    int64_t v = 0;
    arr_err e = num_field(ps, 2, 2, "priority code", &v);
    if (e)
        return e;
    const char *s = col(ps, 24);
    if (recon_date_ms(s, 6, &ps->created_ms) != ARR_OK)
        return FAIL(ps, "file creation date", "not a date (YYMMDD): '%.6s'", s);
    if (memcmp(col(ps, 35), "094", 3) != 0)
        return FAIL(ps, "record size", "expected 094 found '%.3s'", col(ps, 35));
    if (memcmp(col(ps, 38), "10", 2) != 0)
        return FAIL(ps, "blocking factor", "expected 10 found '%.2s'", col(ps, 38));
    if (*col(ps, 40) != '1')
        return FAIL(ps, "format code", "expected 1 found '%c'", *col(ps, 40));
    return ARR_OK;
}

static arr_err batch_header(parser *ps)
{
    batch *b = &ps->b;
    memset(b, 0, sizeof(*b));
    b->line = ps->line;
    int64_t v = 0;
    arr_err e = num_field(ps, 2, 3, "service class code", &v);
    if (e)
        return e;
    if (v == 280)
        return FAIL(ps, "service class code", "280 (automated accounting advices) not supported");
    if (v != 200 && v != 220 && v != 225)
        return FAIL(ps, "service class code", "expected 200, 220 or 225 found %03d", (int)v);
    b->service = (int)v;
    trimmed(b->company_id, col(ps, 41), 10);
    const char *sec = col(ps, 51);
    for (int i = 0; i < 3; i++)
        if ((sec[i] < 'A' || sec[i] > 'Z') && (sec[i] < '0' || sec[i] > '9'))
            return FAIL(ps, "standard entry class code", "not a code: '%.3s'", sec);
    memcpy(b->sec, sec, 3);
    if (strcmp(b->sec, "IAT") == 0 || strcmp(b->sec, "ADV") == 0)
        return FAIL(ps, "standard entry class code", "%s batches are not supported", b->sec);
    if ((e = date_field(ps, 70, "effective entry date", ps->created_ms, &b->received_ms)) ||
        (e = digit_field(ps, 80, 8, "originating DFI identification", b->odfi)) ||
        (e = digit_field(ps, 88, 7, "batch number", b->number)))
        return e;
    if (++ps->batches > MAX_BATCHES)
        return FAIL(ps, "record type", "more than %lld batches", MAX_BATCHES);
    return ARR_OK;
}

static arr_err count_record(parser *ps)
{
    ps->b.count++;
    if (++ps->count > MAX_FILE_COUNT)
        return FAIL(ps, "record type", "more than %lld entry and addenda records", MAX_FILE_COUNT);
    return ARR_OK;
}

static arr_err entry_detail(parser *ps)
{
    pending *p = &ps->e;
    memset(p, 0, sizeof(*p));
    p->line = ps->line;
    int64_t v = 0;
    arr_err e = num_field(ps, 2, 2, "transaction code", &v);
    if (e)
        return e;
    p->tc = (int)v;
    p->cls = tx_lookup(p->tc, &p->debit);
    if (p->cls == TX_UNKNOWN)
        return FAIL(ps, "transaction code", "unknown transaction code %02d", p->tc);
    char rdfi[10];
    if ((e = digit_field(ps, 4, 9, "receiving DFI identification", rdfi)))
        return e;
    int sum = 0;
    static const int weight[8] = {3, 7, 1, 3, 7, 1, 3, 7};
    for (int i = 0; i < 8; i++)
        sum += weight[i] * (rdfi[i] - '0');
    if ((10 - sum % 10) % 10 != rdfi[8] - '0')
        return FAIL(ps, "check digit", "expected %d found %c for routing number %.8s",
                    (10 - sum % 10) % 10, rdfi[8], rdfi);
    if ((e = num_field(ps, 30, 10, "amount", &p->amount)))
        return e;
    char ind = *col(ps, 79);
    if (ind != '0' && ind != '1')
        return FAIL(ps, "addenda record indicator", "expected 0 or 1 found '%c'", ind);
    p->indicator = ind - '0';
    if ((e = digit_field(ps, 80, 15, "trace number", p->trace)))
        return e;
    if ((e = count_record(ps)))
        return e;
    put_text(p->reference, sizeof(p->reference), col(ps, 40), 15);
    put_text(p->name, sizeof(p->name), col(ps, 55), 22);

    batch *b = &ps->b;
    int64_t rdfi8 = 0;
    for (int i = 0; i < 8; i++)
        rdfi8 = rdfi8 * 10 + (rdfi[i] - '0');
    b->hash = (b->hash + (uint64_t)rdfi8) % HASH_MOD;
    ps->hash = (ps->hash + (uint64_t)rdfi8) % HASH_MOD;
    /* Below 1e8 entries of under 1e10 cents each, the sums stay far from overflow. */
    if (p->debit) {
        b->debit += p->amount;
        ps->debit += p->amount;
    } else {
        b->credit += p->amount;
        ps->credit += p->amount;
    }
    if (b->service == 220 && p->debit)
        return FAIL(ps, "transaction code", "debit %02d in a credits-only (220) batch", p->tc);
    if (b->service == 225 && !p->debit)
        return FAIL(ps, "transaction code", "credit %02d in a debits-only (225) batch", p->tc);
    return ARR_OK;
}

static arr_err addenda(parser *ps)
{
    pending *p = &ps->e;
    if (!p->indicator)
        return FAIL(ps, "record type",
                    "addenda after the entry on line %lld, whose addenda record indicator is 0",
                    p->line);
    if (p->special[0])
        return FAIL(ps, "addenda type code",
                    "a second addenda after the addenda %s of the entry on line %lld", p->special,
                    p->line);
    if (++p->addenda > MAX_ADDENDA_PER_ENTRY)
        return FAIL(ps, "record type", "more than %d addenda for the entry on line %lld",
                    MAX_ADDENDA_PER_ENTRY, p->line);
    arr_err e = count_record(ps);
    if (e)
        return e;
    ps->sum.addenda++;
    const char *type = col(ps, 2);
    char scratch[16];
    if (memcmp(type, "02", 2) == 0)
        return ARR_OK; /* point-of-sale terminal data: nothing to match on */
    if (memcmp(type, "05", 2) == 0) {
        if ((e = digit_field(ps, 84, 4, "addenda sequence number", scratch)) ||
            (e = digit_field(ps, 88, 7, "entry detail sequence number", scratch)))
            return e;
        put_text(p->reference, sizeof(p->reference), col(ps, 4), 80);
        return ARR_OK;
    }
    int is_return = memcmp(type, "99", 2) == 0;
    if (!is_return && memcmp(type, "98", 2) != 0)
        return FAIL(ps, "addenda type code", "unsupported addenda type '%.2s'", type);
    if (p->addenda > 1)
        return FAIL(ps, "addenda type code",
                    "addenda %.2s after other addenda of the entry on line %lld", type, p->line);
    memcpy(p->special, type, 2);
    const char *code = col(ps, 4);
    char letter = is_return ? 'R' : 'C';
    if (code[0] != letter || !all_digits(code + 1, 2))
        return FAIL(ps, is_return ? "return reason code" : "change code",
                    "malformed code '%.3s' (expected %c and 2 digits)", code, letter);
    memcpy(p->code, code, 3);
    p->code[3] = '\0';
    if ((e = digit_field(ps, 7, 15, "original entry trace number", p->orig_trace)) ||
        (e = digit_field(ps, 28, 8, "original receiving DFI identification", scratch)) ||
        (e = digit_field(ps, 80, 15, "trace number", scratch)))
        return e;
    /* Returns: addenda information; notices: the corrected data the collector must apply. */
    if (is_return)
        put_text(p->reference, sizeof(p->reference), col(ps, 36), 44);
    else
        put_text(p->reference, sizeof(p->reference), col(ps, 36), 29);
    return ARR_OK;
}

/* The pending entry is complete: classify it and append it. */
static arr_err finish_entry(parser *ps)
{
    pending *p = &ps->e;
    const char *field = NULL, *why = NULL;
    if (p->indicator && p->addenda == 0) {
        field = "addenda record indicator";
        why = "1 but no addenda record follows";
    } else if (!p->special[0] && strcmp(ps->b.sec, "COR") == 0) {
        field = "addenda record indicator";
        why = "an entry of a COR batch without an addenda 98";
    } else if (!p->special[0] && p->cls == TX_RETURN_NOC) {
        field = "transaction code";
        why = "a return or notification of change code without an addenda 98 or 99";
    } else if (!p->special[0] && (p->cls == TX_PRENOTE || p->cls == TX_ZERO) && p->amount) {
        field = "amount";
        why = "not zero for a prenote or zero-dollar transaction code";
    } else if (!p->special[0] && p->cls == TX_LIVE && p->amount == 0) {
        field = "amount";
        why = "zero for a live entry";
    }
    if (field)
        return fail_at(ps, p->line, '6', field, "%s", why);

    recon_entry *x;
    arr_err e = recon_entries_push(ps->out, &x);
    if (e == ARR_ELIMIT)
        return arr_errbuf_fail(e, ps->why, ps->whylen,
                               "line %lld (6 entry detail): more than %zu entries", p->line,
                               ps->out->max);
    if (e)
        return arr_errbuf_fail(e, ps->why, ps->whylen, "line %lld (6 entry detail): no memory",
                               p->line);
    snprintf(x->source, sizeof(x->source), "nacha");
    snprintf(x->currency, sizeof(x->currency), "USD");
    snprintf(x->type_code, sizeof(x->type_code), "%02d", p->tc);
    x->amount_cents = p->amount;
    x->received_at_ms = ps->b.received_ms;
    x->line = p->line;
    memcpy(x->reference, p->reference, sizeof(x->reference));
    memcpy(x->payer_name, p->name, sizeof(x->payer_name));
    ps->sum.entries++;

    if (p->special[0]) {
        int is_return = p->special[1] == '9';
        snprintf(x->payment_id, sizeof(x->payment_id), "nacha:%s:%s", is_return ? "return" : "noc",
                 p->trace);
        snprintf(x->returned_payment_id, sizeof(x->returned_payment_id), "nacha:%s", p->orig_trace);
        snprintf(x->end_to_end_id, sizeof(x->end_to_end_id), "%s", p->orig_trace);
        if (is_return) {
            snprintf(x->return_code, sizeof(x->return_code), "%s", p->code);
            /* A returned credit (codes ending in 1: 21, 31, 41, 51) is money we sent coming
             * back, not a debtor's payment undone: recorded, never applied. */
            if (p->amount > 0 && p->tc % 10 == 1) {
                snprintf(x->skip_reason, sizeof(x->skip_reason), "returned_credit:%s", p->code);
                x->returned_payment_id[0] = '\0';
            } else if (p->amount > 0) {
                x->kind = RECON_RETURN;
                ps->sum.returns++;
                return ARR_OK;
            } else {
                snprintf(x->skip_reason, sizeof(x->skip_reason), "return:%s", p->code);
            }
        } else {
            snprintf(x->skip_reason, sizeof(x->skip_reason), "noc:%s", p->code);
        }
        x->kind = RECON_NOTICE;
        ps->sum.notices++;
        return ARR_OK;
    }
    snprintf(x->payment_id, sizeof(x->payment_id), "nacha:%s", p->trace);
    snprintf(x->end_to_end_id, sizeof(x->end_to_end_id), "%s", p->trace);
    if (p->cls == TX_LIVE && p->debit) {
        x->kind = RECON_PAYMENT;
        ps->sum.payments++;
        return ARR_OK;
    }
    x->kind = RECON_SKIPPED;
    snprintf(x->skip_reason, sizeof(x->skip_reason), "%s",
             p->cls == TX_PRENOTE ? "prenote"
             : p->cls == TX_ZERO  ? "zero_dollar_entry"
                                  : "credit_entry");
    ps->sum.skipped++;
    return ARR_OK;
}

static arr_err expect_num(parser *ps, int from, int width, const char *field, int64_t want)
{
    int64_t v = 0;
    arr_err e = num_field(ps, from, width, field, &v);
    if (e)
        return e;
    if (v != want)
        return FAIL(ps, field, "expected %lld found %lld", (long long)want, (long long)v);
    return ARR_OK;
}

static arr_err batch_control(parser *ps)
{
    batch *b = &ps->b;
    arr_err e;
    char s[16];
    if ((e = expect_num(ps, 2, 3, "service class code", b->service)) ||
        (e = expect_num(ps, 5, 6, "entry/addenda count", b->count)) ||
        (e = expect_num(ps, 11, 10, "entry hash", (int64_t)b->hash)) ||
        (e = expect_num(ps, 21, 12, "total debit amount", b->debit)) ||
        (e = expect_num(ps, 33, 12, "total credit amount", b->credit)))
        return e;
    /* Some tools right-align the company id here and left-align it in the header. */
    trimmed(s, col(ps, 45), 10);
    if (strcmp(s, b->company_id) != 0)
        return FAIL(ps, "company identification", "expected '%s' found '%s'", b->company_id, s);
    if ((e = digit_field(ps, 80, 8, "originating DFI identification", s)))
        return e;
    if (strcmp(s, b->odfi) != 0)
        return FAIL(ps, "originating DFI identification", "expected %s found %s", b->odfi, s);
    if ((e = digit_field(ps, 88, 7, "batch number", s)))
        return e;
    if (strcmp(s, b->number) != 0)
        return FAIL(ps, "batch number", "expected %s (header on line %lld) found %s", b->number,
                    b->line, s);
    return ARR_OK;
}

static arr_err file_control(parser *ps)
{
    arr_err e;
    long long blocks = (ps->records + 9) / 10;
    if ((e = expect_num(ps, 2, 6, "batch count", ps->batches)) ||
        (e = expect_num(ps, 8, 6, "block count", blocks)) ||
        (e = expect_num(ps, 14, 8, "entry/addenda count", ps->count)) ||
        (e = expect_num(ps, 22, 10, "entry hash", (int64_t)ps->hash)) ||
        (e = expect_num(ps, 32, 12, "total debit amount", ps->debit)) ||
        (e = expect_num(ps, 44, 12, "total credit amount", ps->credit)))
        return e;
    return ARR_OK;
}

static int cmp_id(const void *a, const void *b)
{
    const recon_entry *x = *(const recon_entry *const *)a, *y = *(const recon_entry *const *)b;
    int c = strcmp(x->payment_id, y->payment_id);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Trace numbers are unique within a file; a repeat would be applied once and lose money. */
static arr_err unique_ids(parser *ps, size_t from)
{
    size_t n = ps->out->n - from;
    if (n < 2)
        return ARR_OK;
    const recon_entry **v = malloc(n * sizeof(*v));
    if (!v)
        return arr_errbuf_fail(ARR_ENOMEM, ps->why, ps->whylen, "no memory for %zu ids", n);
    for (size_t i = 0; i < n; i++)
        v[i] = &ps->out->v[from + i];
    qsort(v, n, sizeof(*v), cmp_id);
    arr_err e = ARR_OK;
    for (size_t i = 1; i < n && !e; i++)
        if (strcmp(v[i]->payment_id, v[i - 1]->payment_id) == 0)
            e = fail_at(ps, v[i]->line, '6', "trace number", "%s repeats the entry on line %lld",
                        v[i]->payment_id, (long long)v[i - 1]->line);
    free(v);
    return e;
}

static const char *expected_in(pstate st)
{
    switch (st) {
    case ST_START:
        return "1 file header";
    case ST_FILE:
        return "5 batch header or 9 file control";
    case ST_BATCH:
        return "6 entry detail";
    case ST_ENTRY:
        return "6 entry detail, 7 addenda or 8 batch control";
    case ST_DONE:
        return "only block filler (all 9s)";
    }
    return "";
}

static arr_err step(parser *ps)
{
    char t = ps->r[0];
    arr_err e = ARR_OK;
    if (ps->st == ST_DONE) {
        if (all_char(ps->r, REC_LEN, '9') || all_char(ps->r, REC_LEN, ' '))
            return ARR_OK;
        return FAIL(ps, "record type", "expected %s after the file control", expected_in(ST_DONE));
    }
    ps->records++;
    int ok = (t == '1' && ps->st == ST_START) || (t == '5' && ps->st == ST_FILE) ||
             (t == '6' && (ps->st == ST_BATCH || ps->st == ST_ENTRY)) ||
             ((t == '7' || t == '8') && ps->st == ST_ENTRY) || (t == '9' && ps->st == ST_FILE);
    if (!ok) {
        if (t == '8' && ps->st == ST_BATCH)
            return FAIL(ps, "record type", "batch control of a batch without entries");
        if (t != '1' && t != '5' && t != '6' && t != '7' && t != '8' && t != '9')
            return FAIL(ps, "record type", "unknown record type '%c', expected %s", t,
                        expected_in(ps->st));
        return FAIL(ps, "record type", "expected %s", expected_in(ps->st));
    }
    if (ps->st == ST_ENTRY && t != '7' && (e = finish_entry(ps)))
        return e;
    switch (t) {
    case '1':
        e = file_header(ps);
        ps->st = ST_FILE;
        break;
    case '5':
        e = batch_header(ps);
        ps->st = ST_BATCH;
        break;
    case '6':
        e = entry_detail(ps);
        ps->st = ST_ENTRY;
        break;
    case '7':
        e = addenda(ps);
        break;
    case '8':
        e = batch_control(ps);
        ps->st = ST_FILE;
        break;
    case '9':
        e = file_control(ps);
        ps->st = ST_DONE;
        break;
    }
    return e;
}

arr_err recon_nacha_parse(const char *data, size_t len, recon_entries *out,
                          recon_nacha_summary *sum, char *why, size_t whylen)
{
    if (!out || (!data && len))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "recon_nacha_parse: no data or list");
    if (!data)
        data = "";
    parser *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "recon_nacha_parse: no memory");
    ps->p = data;
    ps->end = data + len;
    ps->unbroken = len > REC_LEN && !memchr(data, '\n', len);
    ps->why = why;
    ps->whylen = whylen;
    ps->out = out;
    ps->st = ST_START;
    size_t n0 = out->n;

    arr_err e = ARR_OK;
    int r;
    while (!e && (r = next_record(ps)) != 0)
        e = r < 0 ? ARR_EINVAL : step(ps);
    if (!e && ps->st != ST_DONE)
        e = fail_at(ps, ps->line + 1, 0, "record type", "expected %s, found the end of the data",
                    expected_in(ps->st));
    if (!e)
        e = unique_ids(ps, n0);
    if (e) {
        out->n = n0;
    } else if (sum) {
        ps->sum.batches = (int)ps->batches;
        ps->sum.debit_cents = ps->debit;
        ps->sum.credit_cents = ps->credit;
        *sum = ps->sum;
    }
    free(ps);
    return e;
}
