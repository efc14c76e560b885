#include "camt.h"

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/money.h"

/* Longest element text kept; remittance lines are 140 characters by the schema, so a longer
 * text is only ever cut for the reference (ids that do not fit are refused instead). */
#define TXT_MAX 1024

typedef struct parse_ctx {
    const char *kind; /* "camt053" or "camt054" */
    recon_entries *out;
    recon_camt_summary sum;
    char *why;
    size_t whylen;
} parse_ctx;

typedef struct stmt_ctx {
    char id[RECON_ID_MAX + 1];
    char page[8]; /* PgNb when the statement is a page after the first, else "" */
    int partial;  /* one page of several: its balances may cover entries on other pages */
    char ccy[4];  /* first entry's currency */
    int mixed;    /* entries in more than one currency: sums are meaningless */
    int64_t n_all, n_cdt, n_dbt;
    int64_t sum_all, sum_cdt, sum_dbt;
    char booked_ccy[4];
    int booked_mixed;
    int64_t booked_net; /* booked credits - booked debits */
} stmt_ctx;

typedef struct ntry_info {
    long long line;
    int ordinal;
    int booked, rvsl, credit, dated;
    int64_t amount;
    char ccy[4];
    int64_t date_ms;
    char asr[RECON_ID_MAX + 1]; /* AcctSvcrRef */
    int asr_long;
    char addtl[TXT_MAX]; /* AddtlNtryInf */
    char code[16];       /* BkTxCd */
} ntry_info;

/* ------------------------------------------------------------------ small helpers */

static int is_xml_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int is_named(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *first_el(xmlNode *n, const char *name)
{
    if (!n)
        return NULL;
    for (xmlNode *ch = n->children; ch; ch = ch->next)
        if (is_named(ch, name))
            return ch;
    return NULL;
}

static xmlNode *next_el(xmlNode *n, const char *name)
{
    for (n = n ? n->next : NULL; n; n = n->next)
        if (is_named(n, name))
            return n;
    return NULL;
}

/* "A/B/C" below n, taking the first match at each step. */
static xmlNode *at(xmlNode *n, const char *path)
{
    char seg[32];
    while (n && *path) {
        size_t k = strcspn(path, "/");
        if (k >= sizeof seg)
            return NULL;
        memcpy(seg, path, k);
        seg[k] = '\0';
        n = first_el(n, seg);
        path += k;
        if (*path == '/')
            path++;
    }
    return n;
}

/* An element's line from start_element below, else libxml2's own (exact up to 65535). */
static long long line_of(const xmlNode *n)
{
    if (n && n->type == XML_ELEMENT_NODE && n->psvi)
        return (long long)(intptr_t)n->psvi;
    return n ? (long long)xmlGetLineNo(n) : 0;
}

/* libxml2 keeps 16 bits of line number per element (XML_PARSE_BIG_LINES only helps text
 * nodes), and statements run past 65535 lines: the full line of each start tag goes into the
 * element's psvi, which nothing else uses without schema validation. */
static void start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                          const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                          int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxt *px = ctx;
    xmlNode *before = px->node;
    xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                          nb_defaulted, attributes);
    if (px->node && px->node != before && px->input && px->input->line > 0)
        px->node->psvi = (void *)(intptr_t)px->input->line;
}

/* Cuts an incomplete UTF-8 sequence left at the end by a byte-counted truncation. */
static void utf8_trim_tail(char *s)
{
    size_t n = strlen(s), i = n, cont = 0;
    while (i > 0 && cont < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        cont++;
    }
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = (lead & 0xE0) == 0xC0   ? 2
                  : (lead & 0xF0) == 0xE0 ? 3
                  : (lead & 0xF8) == 0xF0 ? 4
                                          : 1;
    if (lead >= 0xC0 && cont + 1 < need)
        s[i - 1] = '\0';
}

/* The element's own text and CDATA children, trimmed. Entity reference nodes are skipped,
 * never expanded. Returns 1 when the text did not fit in cap (buf then holds a prefix). */
static int text_of(xmlNode *n, char *buf, size_t cap)
{
    size_t len = 0;
    int cut = 0;
    buf[0] = '\0';
    if (!n)
        return 0;
    for (xmlNode *ch = n->children; ch && !cut; ch = ch->next) {
        if ((ch->type != XML_TEXT_NODE && ch->type != XML_CDATA_SECTION_NODE) || !ch->content)
            continue;
        size_t k = strlen((const char *)ch->content);
        if (len + k >= cap) {
            k = cap - 1 - len;
            cut = 1;
        }
        memcpy(buf + len, ch->content, k);
        len += k;
    }
    size_t b = 0;
    while (b < len && is_xml_space(buf[b]))
        b++;
    while (len > b && is_xml_space(buf[len - 1]))
        len--;
    memmove(buf, buf + b, len - b);
    buf[len - b] = '\0';
    if (cut)
        utf8_trim_tail(buf);
    return cut;
}

/* Appends s to dst (capacity cap), cutting at the cap on a character boundary. */
static void put(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst), k = strlen(s);
    if (n + k >= cap)
        k = cap - 1 - n;
    memcpy(dst + n, s, k);
    dst[n + k] = '\0';
    utf8_trim_tail(dst);
}

static void append_text(char *dst, size_t cap, const char *s)
{
    recon_text_append(dst, cap, s, strlen(s));
    utf8_trim_tail(dst);
}

static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 32) : *a;
        char y = *b >= 'a' && *b <= 'z' ? (char)(*b - 32) : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static void fmt_cents(int64_t v, int decimals, char *buf, size_t cap)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    if (decimals == 0)
        snprintf(buf, cap, "%s%llu", v < 0 ? "-" : "", (unsigned long long)u);
    else
        snprintf(buf, cap, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(u / scale),
                 decimals, (unsigned long long)(u % scale));
}

static arr_err failv(parse_ctx *c, arr_err e, long long line, const char *field, const char *fmt,
                     va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return arr_errbuf_fail(e, c->why, c->whylen, "line %lld field %s: %s", line, field, msg);
}

__attribute__((format(printf, 4, 5))) static arr_err fail(parse_ctx *c, long long line,
                                                          const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    arr_err e = failv(c, ARR_EINVAL, line, field, fmt, ap);
    va_end(ap);
    return e;
}

static int add_ok(int64_t *acc, int64_t v)
{
    return !__builtin_add_overflow(*acc, v, acc);
}

/* ------------------------------------------------------------------ fields */

/* Decimal text with an exact number of minor units. The schema allows up to 5 fraction
 * digits, so trailing zeros beyond the currency's are dropped first ("8.850" EUR is 8.85);
 * a significant digit beyond them ("12.345" EUR) is refused. */
static arr_err decimal_of(const char *t, int decimals, int64_t *cents)
{
    size_t n = strlen(t);
    const char *dot = memchr(t, '.', n);
    if (dot) {
        size_t point = (size_t)(dot - t), n0 = n;
        while (n > point + 1 + (size_t)decimals && t[n - 1] == '0')
            n--;
        if (n < n0 && n == point + 1) /* "2700.00" JPY: no fraction left, drop the point */
            n--;
    }
    return recon_amount_parse(t, n, decimals, cents);
}

static int valid_ccy(const char *s)
{
    if (strlen(s) != 3)
        return 0;
    for (int i = 0; i < 3; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return 0;
    return 1;
}

/* An amount element with its Ccy attribute. */
static arr_err amount_of(parse_ctx *c, xmlNode *amt, const char *field, char ccy[4], int64_t *cents)
{
    long long line = line_of(amt);
    xmlChar *a = xmlGetNoNsProp(amt, BAD_CAST "Ccy");
    if (!a)
        return fail(c, line, field, "missing Ccy attribute");
    int ok = valid_ccy((const char *)a);
    if (ok)
        memcpy(ccy, a, 4);
    else
        fail(c, line, field, "bad currency \"%.16s\"", (const char *)a);
    xmlFree(a);
    if (!ok)
        return ARR_EINVAL;
    char t[64];
    int dec = arr_currency_decimals(ccy);
    if (text_of(amt, t, sizeof t) || decimal_of(t, dec, cents) != ARR_OK)
        return fail(c, line, field,
                    "bad amount \"%.40s\" for %s (digits, at most %d decimals, no sign)", t, ccy,
                    dec);
    return ARR_OK;
}

static arr_err direction_of(parse_ctx *c, xmlNode *n, const char *field, int *credit)
{
    char t[16];
    text_of(n, t, sizeof t);
    if (strcmp(t, "CRDT") == 0)
        *credit = 1;
    else if (strcmp(t, "DBIT") == 0)
        *credit = 0;
    else
        return fail(c, n ? line_of(n) : 0, field, "expected CRDT or DBIT, got \"%s\"", t);
    return ARR_OK;
}

static arr_err bool_of(parse_ctx *c, xmlNode *n, const char *field, int *v)
{
    char t[16];
    text_of(n, t, sizeof t);
    if (strcmp(t, "true") == 0 || strcmp(t, "1") == 0)
        *v = 1;
    else if (strcmp(t, "false") == 0 || strcmp(t, "0") == 0)
        *v = 0;
    else
        return fail(c, line_of(n), field, "expected true or false, got \"%s\"", t);
    return ARR_OK;
}

/* BookgDt or ValDt: Dt, or the date part of DtTm (the bank's local date). */
static arr_err date_of(parse_ctx *c, xmlNode *holder, const char *field, int64_t *ms, int *found)
{
    xmlNode *dt = first_el(holder, "Dt");
    xmlNode *n = dt ? dt : first_el(holder, "DtTm");
    if (!n)
        return ARR_OK;
    char t[64];
    text_of(n, t, sizeof t);
    size_t len = dt ? strlen(t) : (strlen(t) > 10 && t[10] == 'T' ? 10 : strlen(t));
    if (recon_date_ms(t, len, ms) != ARR_OK)
        return fail(c, line_of(n), field, "bad date \"%.40s\"", t);
    *found = 1;
    return ARR_OK;
}

/* Domain/family/subfamily ("PMNT/RCDT/ESCT") or else the proprietary code, cut to fit. */
static void tx_code(xmlNode *bk, char *dst, size_t cap)
{
    char t[64];
    dst[0] = '\0';
    if (!bk)
        return;
    xmlNode *domn = first_el(bk, "Domn");
    if (domn) {
        text_of(first_el(domn, "Cd"), t, sizeof t);
        put(dst, cap, t);
        xmlNode *fmly = first_el(domn, "Fmly");
        if (fmly) {
            put(dst, cap, "/");
            text_of(first_el(fmly, "Cd"), t, sizeof t);
            put(dst, cap, t);
            put(dst, cap, "/");
            text_of(first_el(fmly, "SubFmlyCd"), t, sizeof t);
            put(dst, cap, t);
        }
        return;
    }
    text_of(at(bk, "Prtry/Cd"), t, sizeof t);
    put(dst, cap, t);
}

static void append_el(char *dst, size_t cap, xmlNode *n)
{
    char t[TXT_MAX];
    text_of(n, t, sizeof t);
    append_text(dst, cap, t);
}

/* References and remittance text of one transaction into e. */
static void tx_refs(xmlNode *tx, recon_entry *e)
{
    char t[TXT_MAX];
    xmlNode *refs = first_el(tx, "Refs");
    text_of(first_el(refs, "EndToEndId"), t, sizeof t);
    if (t[0] && !ascii_ieq(t, "NOTPROVIDED")) {
        put(e->end_to_end_id, sizeof e->end_to_end_id, t);
        append_text(e->reference, sizeof e->reference, t);
    }
    static const char *const ids[] = {"InstrId", "PmtInfId", "MsgId"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        append_el(e->reference, sizeof e->reference, first_el(refs, ids[i]));
    xmlNode *rmt = first_el(tx, "RmtInf");
    for (xmlNode *u = first_el(rmt, "Ustrd"); u; u = next_el(u, "Ustrd"))
        append_el(e->reference, sizeof e->reference, u);
    for (xmlNode *s = first_el(rmt, "Strd"); s; s = next_el(s, "Strd")) {
        append_el(e->reference, sizeof e->reference, at(s, "CdtrRefInf/Ref"));
        for (xmlNode *a = first_el(s, "AddtlRmtInf"); a; a = next_el(a, "AddtlRmtInf"))
            append_el(e->reference, sizeof e->reference, a);
    }
    append_el(e->reference, sizeof e->reference, first_el(tx, "AddtlTxInf"));
}

/* The counterparty: the debtor of a credit, the creditor of a debit (Nm, or Pty/Nm from
 * version 8 on), else the ultimate one. */
static void party_name(xmlNode *tx, int credit, char *dst, size_t cap)
{
    xmlNode *rp = first_el(tx, "RltdPties");
    const char *const who[2] = {credit ? "Dbtr" : "Cdtr", credit ? "UltmtDbtr" : "UltmtCdtr"};
    char t[TXT_MAX];
    for (int i = 0; i < 2; i++) {
        xmlNode *p = first_el(rp, who[i]);
        xmlNode *nm = first_el(p, "Nm");
        text_of(nm ? nm : at(p, "Pty/Nm"), t, sizeof t);
        if (t[0]) {
            append_text(dst, cap, t);
            return;
        }
    }
}

/* The next TxDtls of an entry after prev (NULL: the first), across its NtryDtls. */
static xmlNode *next_tx(xmlNode *ntry, xmlNode *prev)
{
    xmlNode *dtls;
    if (prev) {
        xmlNode *tx = next_el(prev, "TxDtls");
        if (tx)
            return tx;
        dtls = next_el(prev->parent, "NtryDtls");
    } else {
        dtls = first_el(ntry, "NtryDtls");
    }
    for (; dtls; dtls = next_el(dtls, "NtryDtls")) {
        xmlNode *tx = first_el(dtls, "TxDtls");
        if (tx)
            return tx;
    }
    return NULL;
}

/* TxDtls/Amt (version 4 on), else AmtDtls/TxAmt/Amt. */
static xmlNode *tx_amount(xmlNode *tx)
{
    xmlNode *a = first_el(tx, "Amt");
    return a ? a : at(tx, "AmtDtls/TxAmt/Amt");
}

/* ------------------------------------------------------------------ entries */

static arr_err make_id(parse_ctx *c, const stmt_ctx *st, const ntry_info *ni, int n, char *dst,
                       size_t cap)
{
    char buf[512];
    int k;
    /* The bank's own reference names the booking whatever message reports it: a camt.054
     * notice and the day's camt.053 statement of the same entry are one payment. */
    if (ni->asr[0])
        k = snprintf(buf, sizeof buf, "camt:%s", ni->asr);
    else if (st->page[0])
        k = snprintf(buf, sizeof buf, "%s:%s/p%s/%d", c->kind, st->id, st->page, ni->ordinal);
    else
        k = snprintf(buf, sizeof buf, "%s:%s/%d", c->kind, st->id, ni->ordinal);
    if (k >= 0 && n > 0 && (size_t)k < sizeof buf)
        k += snprintf(buf + k, sizeof buf - (size_t)k, "/%d", n);
    if (ni->asr_long || k < 0 || (size_t)k >= cap)
        return fail(c, ni->line, ni->asr[0] ? "Ntry/AcctSvcrRef" : "Id",
                    "reference too long for a payment id (%d bytes at most)", (int)cap - 1);
    memcpy(dst, buf, (size_t)k + 1);
    return ARR_OK;
}

/* One record: the whole entry (split 0) or its split-th transaction. */
static arr_err emit(parse_ctx *c, const stmt_ctx *st, const ntry_info *ni, xmlNode *tx,
                    int64_t amount, int credit, int split)
{
    char id[RECON_ID_MAX + 1];
    arr_err rc = make_id(c, st, ni, split, id, sizeof id);
    if (rc != ARR_OK)
        return rc;
    recon_entry *e;
    rc = recon_entries_push(c->out, &e);
    if (rc != ARR_OK)
        return arr_errbuf_fail(rc, c->why, c->whylen, "line %lld field Ntry: %s", ni->line,
                               rc == ARR_ELIMIT ? "more entries than the list's cap"
                                                : "out of memory");
    memcpy(e->payment_id, id, sizeof id);
    put(e->source, sizeof e->source, c->kind);
    e->amount_cents = amount;
    memcpy(e->currency, ni->ccy, sizeof e->currency);
    e->received_at_ms = ni->date_ms;
    e->line = ni->line;
    if (tx) {
        tx_refs(tx, e);
        party_name(tx, credit, e->payer_name, sizeof e->payer_name);
    }
    append_text(e->reference, sizeof e->reference, ni->addtl);
    xmlNode *bk = tx ? first_el(tx, "BkTxCd") : NULL;
    if (bk && (split || !ni->code[0]))
        tx_code(bk, e->type_code, sizeof e->type_code);
    else
        put(e->type_code, sizeof e->type_code, ni->code);

    const char *skip = !ni->booked   ? "not_booked"
                       : ni->rvsl    ? "reversal_entry"
                       : !credit     ? "debit_entry"
                       : amount == 0 ? "zero_amount"
                                     : NULL;
    if (skip) {
        e->kind = RECON_SKIPPED;
        put(e->skip_reason, sizeof e->skip_reason, skip);
        c->sum.skipped++;
    } else {
        e->kind = RECON_PAYMENT;
        c->sum.payments++;
    }
    return ARR_OK;
}

static arr_err tally(parse_ctx *c, stmt_ctx *st, const ntry_info *ni)
{
    if (!st->ccy[0])
        memcpy(st->ccy, ni->ccy, 4);
    else if (strcmp(st->ccy, ni->ccy) != 0)
        st->mixed = 1;
    st->n_all++;
    int ok = add_ok(&st->sum_all, ni->amount);
    if (ni->credit) {
        st->n_cdt++;
        ok = ok && add_ok(&st->sum_cdt, ni->amount);
    } else {
        st->n_dbt++;
        ok = ok && add_ok(&st->sum_dbt, ni->amount);
    }
    if (!c->sum.currency[0])
        memcpy(c->sum.currency, ni->ccy, 4);
    if (ni->booked) {
        if (!st->booked_ccy[0])
            memcpy(st->booked_ccy, ni->ccy, 4);
        else if (strcmp(st->booked_ccy, ni->ccy) != 0)
            st->booked_mixed = 1;
        ok = ok && add_ok(&st->booked_net, ni->credit ? ni->amount : -ni->amount);
        if (strcmp(c->sum.currency, ni->ccy) == 0)
            ok = ok && add_ok(ni->credit ? &c->sum.credit_cents : &c->sum.debit_cents, ni->amount);
    }
    if (!ok)
        return fail(c, ni->line, "Ntry/Amt", "statement totals overflow");
    return ARR_OK;
}

static arr_err do_entry(parse_ctx *c, stmt_ctx *st, xmlNode *ntry, int ordinal)
{
    ntry_info ni;
    memset(&ni, 0, sizeof ni);
    ni.line = line_of(ntry);
    ni.ordinal = ordinal;
    arr_err rc;

    xmlNode *amt = first_el(ntry, "Amt");
    if (!amt)
        return fail(c, ni.line, "Ntry/Amt", "missing");
    if ((rc = amount_of(c, amt, "Ntry/Amt", ni.ccy, &ni.amount)) != ARR_OK)
        return rc;
    xmlNode *ind = first_el(ntry, "CdtDbtInd");
    if (!ind)
        return fail(c, ni.line, "Ntry/CdtDbtInd", "missing");
    if ((rc = direction_of(c, ind, "Ntry/CdtDbtInd", &ni.credit)) != ARR_OK)
        return rc;
    xmlNode *rv = first_el(ntry, "RvslInd");
    if (rv && (rc = bool_of(c, rv, "Ntry/RvslInd", &ni.rvsl)) != ARR_OK)
        return rc;
    /* Sts holds the code itself up to version 7, Sts/Cd (or Sts/Prtry) from version 8. */
    xmlNode *sts = first_el(ntry, "Sts");
    xmlNode *cd = first_el(sts, "Cd");
    char t[64];
    text_of(cd ? cd : sts, t, sizeof t);
    if (!t[0] && !first_el(sts, "Prtry"))
        return fail(c, sts ? line_of(sts) : ni.line, "Ntry/Sts", "missing status");
    ni.booked = strcmp(t, "BOOK") == 0;
    if ((rc = date_of(c, first_el(ntry, "BookgDt"), "Ntry/BookgDt", &ni.date_ms, &ni.dated)) !=
        ARR_OK)
        return rc;
    if (!ni.dated &&
        (rc = date_of(c, first_el(ntry, "ValDt"), "Ntry/ValDt", &ni.date_ms, &ni.dated)) != ARR_OK)
        return rc;
    if (ni.booked && !ni.dated)
        return fail(c, ni.line, "Ntry/BookgDt", "booked entry without booking or value date");
    ni.asr_long = text_of(first_el(ntry, "AcctSvcrRef"), ni.asr, sizeof ni.asr);
    tx_code(first_el(ntry, "BkTxCd"), ni.code, sizeof ni.code);
    text_of(first_el(ntry, "AddtlNtryInf"), ni.addtl, sizeof ni.addtl);
    if ((rc = tally(c, st, &ni)) != ARR_OK)
        return rc;

    /* A batch booking is split only when every transaction states its own amount; a lone
     * TxDtls is just the entry's details (its Amt may even be in another currency). */
    int ntx = 0, namt = 0;
    for (xmlNode *tx = next_tx(ntry, NULL); tx; tx = next_tx(ntry, tx)) {
        ntx++;
        namt += tx_amount(tx) != NULL;
    }
    if (ntx < 2 || namt != ntx)
        return emit(c, st, &ni, next_tx(ntry, NULL), ni.amount, ni.credit, 0);

    int64_t total = 0;
    int n = 0;
    for (xmlNode *tx = next_tx(ntry, NULL); tx; tx = next_tx(ntry, tx)) {
        xmlNode *ta = tx_amount(tx);
        const char *field = is_named(ta->parent, "TxDtls") ? "TxDtls/Amt" : "TxDtls/AmtDtls/TxAmt";
        char ccy[4];
        int64_t v = 0;
        int credit = ni.credit;
        if ((rc = amount_of(c, ta, field, ccy, &v)) != ARR_OK)
            return rc;
        if (strcmp(ccy, ni.ccy) != 0)
            return fail(c, line_of(ta), field,
                        "currency %s differs from the entry's %s, so the split cannot be checked",
                        ccy, ni.ccy);
        xmlNode *tind = first_el(tx, "CdtDbtInd");
        if (tind && (rc = direction_of(c, tind, "TxDtls/CdtDbtInd", &credit)) != ARR_OK)
            return rc;
        if (!add_ok(&total, credit == ni.credit ? v : -v))
            return fail(c, line_of(ta), field, "transaction amounts overflow");
        if ((rc = emit(c, st, &ni, tx, v, credit, ++n)) != ARR_OK)
            return rc;
    }
    if (total != ni.amount) {
        char a[32], b[32];
        int dec = arr_currency_decimals(ni.ccy);
        fmt_cents(ni.amount, dec, a, sizeof a);
        fmt_cents(total, dec, b, sizeof b);
        return fail(c, ni.line, "NtryDtls/TxDtls",
                    "statement %s control total mismatch: expected %s %s (Ntry/Amt), found %s in "
                    "its %d transactions",
                    st->id, a, ni.ccy, b, n);
    }
    return ARR_OK;
}

/* ------------------------------------------------------------------ control totals */

static arr_err count_of(parse_ctx *c, xmlNode *n, const char *field, int64_t *v)
{
    char t[32];
    size_t len;
    text_of(n, t, sizeof t);
    len = strlen(t);
    if (len == 0 || len > 15 || strspn(t, "0123456789") != len)
        return fail(c, line_of(n), field, "bad number \"%s\"", t);
    *v = strtoll(t, NULL, 10);
    return ARR_OK;
}

static arr_err mismatch(parse_ctx *c, const stmt_ctx *st, xmlNode *n, const char *field,
                        const char *expected, const char *found)
{
    return fail(c, line_of(n), field, "statement %s control total mismatch: expected %s, found %s",
                st->id, expected, found);
}

/* NbOfNtries and Sum of one TxsSummry block (TtlNtries, TtlCdtNtries, TtlDbtNtries). */
static arr_err check_block(parse_ctx *c, const stmt_ctx *st, xmlNode *blk, const char *name,
                           int64_t count, int64_t sum, int dec, int sums_ok)
{
    char field[64], a[32], b[32];
    arr_err rc;
    xmlNode *nb = first_el(blk, "NbOfNtries");
    if (nb) {
        int64_t v = 0;
        snprintf(field, sizeof field, "TxsSummry/%s/NbOfNtries", name);
        if ((rc = count_of(c, nb, field, &v)) != ARR_OK)
            return rc;
        if (v != count) {
            snprintf(a, sizeof a, "%lld", (long long)v);
            snprintf(b, sizeof b, "%lld entries", (long long)count);
            return mismatch(c, st, nb, field, a, b);
        }
        c->sum.summary_checks++;
    }
    xmlNode *s = first_el(blk, "Sum");
    if (s && sums_ok) {
        int64_t v = 0;
        char t[64];
        snprintf(field, sizeof field, "TxsSummry/%s/Sum", name);
        if (text_of(s, t, sizeof t) || decimal_of(t, dec, &v) != ARR_OK)
            return fail(c, line_of(s), field, "bad amount \"%.40s\"", t);
        if (v != sum) {
            fmt_cents(sum, dec, b, sizeof b);
            return mismatch(c, st, s, field, t, b);
        }
        c->sum.summary_checks++;
    }
    return ARR_OK;
}

static arr_err check_summary(parse_ctx *c, const stmt_ctx *st, xmlNode *stmt)
{
    xmlNode *ts = first_el(stmt, "TxsSummry");
    if (!ts)
        return ARR_OK;
    /* Sums carry no currency: they are in the entries' one. */
    char acct[8];
    text_of(at(stmt, "Acct/Ccy"), acct, sizeof acct);
    const char *ccy = st->ccy[0] ? st->ccy : valid_ccy(acct) ? acct : "EUR";
    int dec = arr_currency_decimals(ccy), sums_ok = !st->mixed;
    arr_err rc;
    xmlNode *tot = first_el(ts, "TtlNtries");
    if ((rc = check_block(c, st, tot, "TtlNtries", st->n_all, st->sum_all, dec, sums_ok)) != ARR_OK)
        return rc;
    if ((rc = check_block(c, st, first_el(ts, "TtlCdtNtries"), "TtlCdtNtries", st->n_cdt,
                          st->sum_cdt, dec, sums_ok)) != ARR_OK)
        return rc;
    if ((rc = check_block(c, st, first_el(ts, "TtlDbtNtries"), "TtlDbtNtries", st->n_dbt,
                          st->sum_dbt, dec, sums_ok)) != ARR_OK)
        return rc;
    /* Net: TtlNetNtryAmt + CdtDbtInd up to version 2, TtlNetNtry/{Amt,CdtDbtInd} after. */
    xmlNode *net = first_el(tot, "TtlNetNtry");
    xmlNode *na = net ? first_el(net, "Amt") : first_el(tot, "TtlNetNtryAmt");
    xmlNode *ni = first_el(net ? net : tot, "CdtDbtInd");
    if (na && sums_ok) {
        const char *field =
            net ? "TxsSummry/TtlNtries/TtlNetNtry/Amt" : "TxsSummry/TtlNtries/TtlNetNtryAmt";
        char t[64], b[32];
        int64_t v = 0;
        int credit = 1;
        if (text_of(na, t, sizeof t) || decimal_of(t, dec, &v) != ARR_OK)
            return fail(c, line_of(na), field, "bad amount \"%.40s\"", t);
        if (ni && (rc = direction_of(c, ni, "TxsSummry/TtlNtries/CdtDbtInd", &credit)) != ARR_OK)
            return rc;
        int64_t found = st->sum_cdt - st->sum_dbt;
        if ((credit ? v : -v) != found) {
            char e[80];
            snprintf(e, sizeof e, "%s %s", t, credit ? "CRDT" : "DBIT");
            fmt_cents(found, dec, b, sizeof b);
            return mismatch(c, st, na, field, e, b);
        }
        c->sum.summary_checks++;
    }
    return ARR_OK;
}

static arr_err balance_of(parse_ctx *c, xmlNode *bal, const char *code, char ccy[4], int64_t *v)
{
    char field[32];
    snprintf(field, sizeof field, "Bal/%s/Amt", code);
    xmlNode *amt = first_el(bal, "Amt");
    if (!amt)
        return fail(c, line_of(bal), field, "missing");
    arr_err rc = amount_of(c, amt, field, ccy, v);
    if (rc != ARR_OK)
        return rc;
    int credit;
    snprintf(field, sizeof field, "Bal/%s/CdtDbtInd", code);
    xmlNode *ind = first_el(bal, "CdtDbtInd");
    if (!ind)
        return fail(c, line_of(bal), field, "missing");
    if ((rc = direction_of(c, ind, field, &credit)) != ARR_OK)
        return rc;
    if (!credit)
        *v = -*v;
    return ARR_OK;
}

/* Opening booked (OPBD, or PRCD: previously closed) + booked entries = closing booked (CLBD),
 * when both balances are there in one currency, all booked entries are in it and the
 * statement is not one page of several. */
static arr_err check_balance(parse_ctx *c, const stmt_ctx *st, xmlNode *stmt)
{
    xmlNode *open = NULL, *close = NULL;
    char t[16], ocode[8] = "";
    for (xmlNode *b = first_el(stmt, "Bal"); b; b = next_el(b, "Bal")) {
        text_of(at(b, "Tp/CdOrPrtry/Cd"), t, sizeof t);
        if (!open && (strcmp(t, "OPBD") == 0 || strcmp(t, "PRCD") == 0)) {
            open = b;
            memcpy(ocode, t, 5);
        } else if (!close && strcmp(t, "CLBD") == 0) {
            close = b;
        }
    }
    if (!open || !close || st->partial)
        return ARR_OK;
    char oc[4], cc[4];
    int64_t ov, cv, expect;
    arr_err rc;
    if ((rc = balance_of(c, open, ocode, oc, &ov)) != ARR_OK ||
        (rc = balance_of(c, close, "CLBD", cc, &cv)) != ARR_OK)
        return rc;
    if (strcmp(oc, cc) != 0 || st->booked_mixed ||
        (st->booked_ccy[0] && strcmp(st->booked_ccy, oc)))
        return ARR_OK;
    expect = ov;
    if (!add_ok(&expect, st->booked_net))
        return fail(c, line_of(first_el(close, "Amt")), "Bal/CLBD/Amt", "balance overflows");
    if (expect != cv) {
        int dec = arr_currency_decimals(oc);
        char a[48], b[48], o[32], n[32];
        fmt_cents(cv, dec, a, sizeof a);
        fmt_cents(ov, dec, o, sizeof o);
        fmt_cents(st->booked_net, dec, n, sizeof n);
        fmt_cents(expect, dec, b, sizeof b);
        return fail(c, line_of(first_el(close, "Amt")), "Bal/CLBD/Amt",
                    "statement %s control total mismatch: expected closing balance %s %s, found "
                    "%s (%s %s + booked entries %s)",
                    st->id, a, oc, b, ocode, o, n);
    }
    c->sum.balance_checks++;
    return ARR_OK;
}

/* ------------------------------------------------------------------ statements */

static arr_err do_stmt(parse_ctx *c, xmlNode *stmt)
{
    stmt_ctx st;
    memset(&st, 0, sizeof st);
    long long line = line_of(stmt);
    xmlNode *idn = first_el(stmt, "Id");
    if (text_of(idn, st.id, sizeof st.id))
        return fail(c, line_of(idn), "Id", "longer than %d bytes", RECON_ID_MAX);
    if (!st.id[0])
        return fail(c, line, "Id", "missing statement id");

    xmlNode *pg = first_el(stmt, "StmtPgntn");
    if (!pg)
        pg = first_el(stmt, "NtfctnPgntn");
    if (pg) {
        char nb[16];
        int last = 1;
        xmlNode *pn = first_el(pg, "PgNb");
        size_t len;
        text_of(pn, nb, sizeof nb);
        len = strlen(nb);
        if (len == 0 || len > 5 || strspn(nb, "0123456789") != len)
            return fail(c, pn ? line_of(pn) : line_of(pg), "PgNb", "bad page number \"%s\"", nb);
        const char *p = nb;
        while (p[0] == '0' && p[1])
            p++;
        xmlNode *lp = first_el(pg, "LastPgInd");
        arr_err rc = lp ? bool_of(c, lp, "LastPgInd", &last) : ARR_OK;
        if (rc != ARR_OK)
            return rc;
        if (strcmp(p, "1") != 0)
            put(st.page, sizeof st.page, p);
        st.partial = st.page[0] || !last;
    }

    c->sum.statements++;
    int ordinal = 0;
    for (xmlNode *n = first_el(stmt, "Ntry"); n; n = next_el(n, "Ntry")) {
        c->sum.entries++;
        arr_err rc = do_entry(c, &st, n, ++ordinal);
        if (rc != ARR_OK)
            return rc;
    }
    arr_err rc = check_summary(c, &st, stmt);
    return rc != ARR_OK ? rc : check_balance(c, &st, stmt);
}

/* ------------------------------------------------------------------ document */

static size_t find(const char *d, size_t n, size_t from, const char *pat)
{
    size_t k = strlen(pat);
    for (size_t i = from; i + k <= n; i++)
        if (memcmp(d + i, pat, k) == 0)
            return i;
    return n;
}

/* A DOCTYPE in the prolog, found before libxml2 reads any of it: statements never have one,
 * and entity declarations are the way to blow up a document. */
static int has_doctype(const char *d, size_t n)
{
    size_t i = n >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    for (;;) {
        while (i < n && is_xml_space(d[i]))
            i++;
        if (i + 1 >= n || d[i] != '<')
            return 0;
        if (d[i + 1] == '?') {
            i = find(d, n, i + 2, "?>") + 2;
        } else if (n - i >= 4 && memcmp(d + i, "<!--", 4) == 0) {
            i = find(d, n, i + 4, "-->") + 3;
        } else {
            return n - i >= 9 && memcmp(d + i, "<!DOCTYPE", 9) == 0;
        }
    }
}

static int cmp_id(const void *a, const void *b)
{
    const recon_entry *const *x = a, *const *y = b;
    return strcmp((*x)->payment_id, (*y)->payment_id);
}

/* Two records with one payment id would be applied once: refuse the file instead. */
static arr_err check_unique(parse_ctx *c, size_t from)
{
    size_t n = c->out->n - from;
    if (n < 2)
        return ARR_OK;
    recon_entry **v = malloc(n * sizeof *v);
    if (!v)
        return arr_errbuf_fail(ARR_ENOMEM, c->why, c->whylen, "out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = &c->out->v[from + i];
    qsort(v, n, sizeof *v, cmp_id);
    arr_err rc = ARR_OK;
    for (size_t i = 1; i < n && rc == ARR_OK; i++)
        if (strcmp(v[i - 1]->payment_id, v[i]->payment_id) == 0) {
            long long a = v[i - 1]->line, b = v[i]->line;
            rc = fail(c, a > b ? a : b, "AcctSvcrRef or statement Id",
                      "payment id %s repeats the one of the entry at line %lld", v[i]->payment_id,
                      a > b ? b : a);
        }
    free(v);
    return rc;
}

static arr_err do_document(parse_ctx *c, xmlDoc *doc)
{
    if (doc->intSubset || doc->extSubset)
        return fail(c, 1, "DOCTYPE", "document type declarations are not accepted");
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *msg = root;
    if (msg && !is_named(msg, "BkToCstmrStmt") && !is_named(msg, "BkToCstmrDbtCdtNtfctn"))
        for (msg = root->children; msg && msg->type != XML_ELEMENT_NODE; msg = msg->next)
            ;
    const char *stmt_name;
    if (is_named(msg, "BkToCstmrStmt")) {
        c->kind = "camt053";
        stmt_name = "Stmt";
    } else if (is_named(msg, "BkToCstmrDbtCdtNtfctn")) {
        c->kind = "camt054";
        stmt_name = "Ntfctn";
    } else {
        return fail(c, msg ? line_of(msg) : line_of(root), msg ? (const char *)msg->name : "root",
                    "not a camt.053 or camt.054 document");
    }
    put(c->sum.kind, sizeof c->sum.kind, c->kind);
    for (xmlNode *s = first_el(msg, stmt_name); s; s = next_el(s, stmt_name)) {
        arr_err rc = do_stmt(c, s);
        if (rc != ARR_OK)
            return rc;
    }
    if (c->sum.statements == 0)
        return fail(c, line_of(msg), stmt_name, "the message has no %s", stmt_name);
    return ARR_OK;
}

arr_err recon_camt_parse(const char *data, size_t len, recon_entries *out, recon_camt_summary *sum,
                         char *why, size_t whylen)
{
    parse_ctx c;
    memset(&c, 0, sizeof c);
    c.out = out;
    c.why = why;
    c.whylen = whylen;
    if (!out || (!data && len))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "recon_camt_parse: no list or no data");
    if (len == 0)
        return fail(&c, 0, "document", "empty file");
    if (len > RECON_CAMT_MAX_BYTES)
        return arr_errbuf_fail(ARR_ELIMIT, why, whylen,
                               "line 0 field document: %zu bytes, more than the %zu-byte cap", len,
                               RECON_CAMT_MAX_BYTES);
    if (has_doctype(data, len))
        return fail(&c, 1, "DOCTYPE", "document type declarations are not accepted");

    xmlParserCtxt *px = xmlNewParserCtxt();
    if (!px)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "out of memory");
    px->sax->startElementNs = start_element; /* this context's own copy of the handlers */
    /* No XML_PARSE_NOENT (no entity substitution), no DTDLOAD, no HUGE (libxml2's own
     * limits on text and depth stay on); errors are kept in the context, not printed. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES;
    xmlDoc *doc = xmlCtxtReadMemory(px, data, (int)len, NULL, NULL, opts);
    arr_err rc;
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(px);
        char msg[256] = "unreadable";
        if (e && e->message) {
            snprintf(msg, sizeof msg, "%s", e->message);
            size_t k = strlen(msg);
            while (k > 0 && (msg[k - 1] == '\n' || msg[k - 1] == ' '))
                msg[--k] = '\0';
        }
        rc = fail(&c, e ? (long long)e->line : 0, "xml", "malformed XML: %s", msg);
        xmlFreeParserCtxt(px);
        return rc;
    }
    size_t n0 = out->n;
    rc = do_document(&c, doc);
    if (rc == ARR_OK)
        rc = check_unique(&c, n0);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(px);
    if (rc != ARR_OK) {
        out->n = n0;
        return rc;
    }
    if (sum)
        *sum = c.sum;
    return ARR_OK;
}
