#include "channel.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arrears/buf.h"
#include "arrears/hash.h"
#include "arrears/utf8.h"
#include "callback.h" /* the default provider code lists */

#define SMTP_REPLY_MAX 256
#define RETRY_AFTER_MAX_S 86400
#define HEADER_LINE_MAX 998
#define LINK_MAX 900
#define ADDR_MAX 254
#define EW_CHUNK 36 /* UTF-8 bytes per RFC 2047 encoded-word: 48 base64 chars, 60 in all */

/* ------------------------------------------------------------------ results */

const char *outreach_channel_outcome_name(outreach_channel_outcome o)
{
    switch (o) {
    case OUTREACH_CHANNEL_ACCEPTED:
        return "accepted";
    case OUTREACH_CHANNEL_RETRIABLE:
        return "retriable";
    case OUTREACH_CHANNEL_PERMANENT_CONTACT:
        return "permanent_contact";
    case OUTREACH_CHANNEL_OPTED_OUT:
        return "opted_out";
    case OUTREACH_CHANNEL_PERMANENT:
        return "permanent";
    }
    return "unknown";
}

static void res_clear(outreach_channel_result *res)
{
    memset(res, 0, sizeof *res);
    res->outcome = OUTREACH_CHANNEL_PERMANENT;
}

/* Copies src (n bytes) into dst as one printable line: control characters (C0, DEL) become
 * spaces, every occurrence of redact (when not NULL or empty) becomes "<to>", and the copy is
 * truncated to dstlen - 1 bytes without splitting a UTF-8 sequence. */
static void copy_clean(char *dst, size_t dstlen, const char *src, size_t n, const char *redact)
{
    if (!dstlen)
        return;
    size_t rl = redact ? strlen(redact) : 0, o = 0;
    for (size_t i = 0; i < n && o + 1 < dstlen;) {
        if (rl && n - i >= rl && memcmp(src + i, redact, rl) == 0) {
            if (o + 4 >= dstlen)
                break;
            memcpy(dst + o, "<to>", 4);
            o += 4;
            i += rl;
            continue;
        }
        unsigned char c = (unsigned char)src[i++];
        dst[o++] = (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
    }
    /* do not end in the middle of a UTF-8 sequence */
    size_t cut = o;
    while (cut > 0 && ((unsigned char)dst[cut - 1] & 0xC0) == 0x80)
        cut--;
    if (cut > 0 && (unsigned char)dst[cut - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)dst[cut - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (o - (cut - 1) < need)
            o = cut - 1;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    dst[o] = '\0';
}

static void vdetail(outreach_channel_result *res, const char *redact, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vdetail(outreach_channel_result *res, const char *redact, const char *fmt, va_list ap)
{
    char tmp[512];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0)
        n = 0;
    size_t len = (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    copy_clean(res->detail, sizeof res->detail, tmp, len, redact);
}

static void res_detail(outreach_channel_result *res, const char *redact, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void res_detail(outreach_channel_result *res, const char *redact, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdetail(res, redact, fmt, ap);
    va_end(ap);
}

/* Sets outcome and detail, returns e: `return fail(res, OUTCOME, ARR_E..., to, "why", ...)`. */
static arr_err fail(outreach_channel_result *res, outreach_channel_outcome o, arr_err e,
                    const char *redact, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static arr_err fail(outreach_channel_result *res, outreach_channel_outcome o, arr_err e,
                    const char *redact, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdetail(res, redact, fmt, ap);
    va_end(ap);
    res->outcome = o;
    return e;
}

static void set_code(outreach_channel_result *res, const char *code)
{
    copy_clean(res->code, sizeof res->code, code, strlen(code), NULL);
}

/* ------------------------------------------------------------------ text checks */

/* A header value: valid UTF-8 without any control character (C0, DEL, C1): no CR or LF can
 * start a new header. */
static int header_text_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = arr_utf8_next(u, len, i, &cp);
        if (!n || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return 0;
        i += n;
    }
    return 1;
}

/* Printable ASCII without space (0x21..0x7E), 1..max bytes. */
static int token_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7E)
            return 0;
    return 1;
}

static int key_ok(const char *key)
{
    return token_ok(key, OUTREACH_CHANNEL_KEY_MAX);
}

static int is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* A DNS name: labels of [A-Za-z0-9-] (not starting or ending with "-"), dot-separated, at
 * least two labels. */
static int domain_ok(const char *d, size_t n)
{
    if (n == 0 || n > 253)
        return 0;
    size_t label = 0, labels = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-')
                return 0;
            label = 0;
            labels++;
            continue;
        }
        int ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok || (label == 0 && c == '-') || ++label > 63)
            return 0;
    }
    return label > 0 && d[n - 1] != '-' && labels >= 2;
}

int outreach_channel_address_ok(const char *a, size_t n)
{
    if (!a || n < 3 || n > ADDR_MAX)
        return 0;
    const char *at = NULL;
    for (size_t i = 0; i < n; i++) {
        if (a[i] == '@')
            at = a + i;
    }
    if (!at || at == a)
        return 0;
    size_t local = (size_t)(at - a);
    if (local > 64 || a[0] == '.' || a[local - 1] == '.')
        return 0;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c == '.') {
            if (a[i + 1] == '.')
                return 0;
        } else if (!is_atext(c)) {
            return 0;
        }
    }
    return domain_ok(at + 1, n - local - 1);
}

static int address_ok(const char *a)
{
    return a && outreach_channel_address_ok(a, strlen(a));
}

/* An http(s) URL fit for a header or a form field: printable ASCII, no space, none of <>",
 * at most LINK_MAX bytes. */
static int link_ok(const char *u)
{
    if (!token_ok(u, LINK_MAX))
        return 0;
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
        return 0;
    return strpbrk(u, "<>\",") == NULL;
}

static int mailto_ok(const char *u)
{
    return token_ok(u, LINK_MAX) && strncmp(u, "mailto:", 7) == 0 && strpbrk(u, "<>\",") == NULL;
}

/* E.164: "+", 7..15 digits, the first not 0. */
static int e164_ok(const char *s)
{
    if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return 0;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++)
        if (*p < '0' || *p > '9')
            return 0;
    return n >= 7 && n <= 15;
}

/* ------------------------------------------------------------------ hashing */

/* 32 hex digits (128 bits of SHA-256) from the key: a stable, well-spread name. */
static void key_hex(const char *key, char out[33])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
    sodium_bin2hex(out, 33, h, 16);
}

/* ------------------------------------------------------------------ backoff */

int64_t outreach_channel_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
                                    uint64_t jitter_seed)
{
    if (base_ms <= 0 || cap_ms <= 0)
        return 0;
    if (attempt < 1)
        attempt = 1;
    int64_t e = base_ms < cap_ms ? base_ms : cap_ms;
    for (int i = 1; i < attempt && e < cap_ms; i++)
        e = e > cap_ms / 2 ? cap_ms : e * 2;
    int64_t half = e / 2;
    uint64_t span = (uint64_t)(e - half) + 1;
    /* splitmix64: the golden-ratio step, then its finaliser. */
    uint64_t r = arr_hash_mix64(
        (jitter_seed ^ arr_hash_mix64((uint64_t)(unsigned)attempt + 0x9e3779b97f4a7c15ULL)) +
        0x9e3779b97f4a7c15ULL);
    return half + (int64_t)(r % span);
}

/* ------------------------------------------------------------------ email: headers */

/* Standard base64 (RFC 4648, padded) of n bytes, appended. */
static arr_err b64_append(arr_buf *b, const unsigned char *s, size_t n)
{
    char out[sodium_base64_ENCODED_LEN(EW_CHUNK, sodium_base64_VARIANT_ORIGINAL)];
    if (sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) > sizeof(out))
        return ARR_ELIMIT;
    sodium_bin2base64(out, sizeof(out), s, n, sodium_base64_VARIANT_ORIGINAL);
    return arr_buf_append(b, out, strlen(out));
}

/* RFC 2047 encoded-words "=?UTF-8?B?...?=" of at most EW_CHUNK bytes of text each, cut between
 * characters, separated by a fold (CRLF SP). s is valid UTF-8. */
static arr_err encoded_words(arr_buf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    int first = 1;
    do {
        size_t j = i;
        while (j < len) {
            uint32_t cp;
            size_t n = arr_utf8_next(u, len, j, &cp);
            if (!n || j + n - i > EW_CHUNK)
                break;
            j += n;
        }
        arr_err e = arr_buf_appendf(b, "%s=?UTF-8?B?", first ? "" : "\r\n ");
        if (!e)
            e = b64_append(b, u + i, j - i);
        if (!e)
            e = arr_buf_append(b, "?=", 2);
        if (e)
            return e;
        first = 0;
        i = j;
    } while (i < len);
    return ARR_OK;
}

/* Plain when printable ASCII without "=?" (which a reader would take for an encoded word) and
 * short enough for one line after a header name of name_len bytes. */
static int plain_ascii(const char *s, size_t name_len)
{
    size_t n = strlen(s);
    if (n + name_len + 2 > HEADER_LINE_MAX || strstr(s, "=?"))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
            return 0;
    return 1;
}

/* Display name: as is when only atext and single spaces, else encoded words. */
static arr_err display_name(arr_buf *b, const char *name)
{
    size_t n = strlen(name);
    int plain = n > 0 && n <= 64 && name[0] != ' ' && name[n - 1] != ' ';
    for (size_t i = 0; plain && i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(is_atext(c) || (c == ' ' && name[i + 1] != ' ')))
            plain = 0;
    }
    if (plain)
        return arr_buf_append(b, name, n);
    return encoded_words(b, name);
}

static arr_err date_header(arr_buf *b, int64_t ms)
{
    static const char *const DAYS[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const MONS[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t;
    if (ms == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        t = ts.tv_sec;
    } else {
        t = (time_t)(ms / 1000);
    }
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1970 || tm.tm_year + 1900 > 9999)
        return ARR_EINVAL;
    return arr_buf_appendf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", DAYS[tm.tm_wday],
                           tm.tm_mday, MONS[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                           tm.tm_sec);
}

/* ------------------------------------------------------------------ email: bodies */

/* Quoted-printable (RFC 2045 6.7) of UTF-8 text with any line ends (LF, CRLF, CR), written
 * with CRLF line ends and at most 76 characters a line. Encoded besides the rules: a "." or
 * the "F" of "From " starting a line (SMTP and mbox safety); the output is 7-bit. */
static arr_err qp_append(arr_buf *b, const char *s)
{
    static const char HEX[] = "0123456789ABCDEF";
    size_t col = 0;
    arr_err e = ARR_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && !e; p++) {
        unsigned char c = *p;
        if (c == '\r' || c == '\n') {
            if (c == '\r' && p[1] == '\n')
                p++;
            e = arr_buf_append(b, "\r\n", 2);
            col = 0;
            continue;
        }
        int at_eol = p[1] == '\0' || p[1] == '\r' || p[1] == '\n';
        int enc = c == '=' || (c < 0x20 && c != '\t') || c > 0x7E;
        if (c == '\t' || c == ' ')
            enc = at_eol; /* trailing white space would be lost */
        /* keep room for the soft break "=" unless this token ends the line; a multi-byte
           character is kept whole on one line (=C3=B1), which readers handle best */
        size_t limit = at_eol ? 76 : 75, need = enc ? 3 : 1;
        if (c >= 0xC0)
            need = 3 * (c >= 0xF0 ? 4u : c >= 0xE0 ? 3u : 2u);
        if (col + need > limit) {
            e = arr_buf_append(b, "=\r\n", 3);
            col = 0;
        }
        if (col == 0 && (c == '.' || (c == 'F' && strncmp((const char *)p, "From ", 5) == 0)))
            enc = 1;
        if (e)
            break;
        if (enc) {
            char tok[3] = {'=', HEX[c >> 4], HEX[c & 15]};
            e = arr_buf_append(b, tok, 3);
            col += 3;
        } else {
            e = arr_buf_append(b, p, 1);
            col += 1;
        }
    }
    return e;
}

typedef struct email_build {
    arr_buf out;
    char msgid[OUTREACH_CHANNEL_ID_MAX]; /* "<" 128-byte key "@" 253-byte domain ">" fits */
} email_build;

static arr_err msgid_make(const outreach_channel_smtp_cfg *cfg, const char *key, char *out,
                          size_t outlen)
{
    const char *domain = cfg->msgid_domain && *cfg->msgid_domain ? cfg->msgid_domain : NULL;
    if (!domain) {
        const char *at = cfg->from ? strrchr(cfg->from, '@') : NULL;
        if (!at)
            return ARR_EINVAL;
        domain = at + 1;
    }
    if (!domain_ok(domain, strlen(domain)) || !key_ok(key))
        return ARR_EINVAL;
    size_t kl = strlen(key);
    int plain = kl <= 128 && key[0] != '.' && key[kl - 1] != '.' && !strstr(key, "..");
    for (size_t i = 0; plain && i < kl; i++) {
        unsigned char c = (unsigned char)key[i];
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    }
    int n;
    if (plain) {
        n = snprintf(out, outlen, "<%s@%s>", key, domain);
    } else {
        char hex[33];
        key_hex(key, hex);
        n = snprintf(out, outlen, "<h.%s@%s>", hex, domain);
    }
    return n < 0 || (size_t)n >= outlen ? ARR_ELIMIT : ARR_OK;
}

arr_err outreach_channel_message_id(const outreach_channel_smtp_cfg *cfg,
                                    const char *idempotency_key, char *out, size_t outlen)
{
    if (!cfg || !out || !outlen)
        return ARR_EINVAL;
    return msgid_make(cfg, idempotency_key, out, outlen);
}

arr_err outreach_channel_email_from_rendered(const outreach_rendered *r, outreach_email *msg)
{
    if (!r || !msg || r->channel != OUTREACH_TEMPLATE_CHANNEL_EMAIL || !r->text.data)
        return ARR_EINVAL;
    memset(msg, 0, sizeof *msg);
    msg->subject = r->has_subject && r->subject.data ? r->subject.data : "";
    msg->text = r->text.data;
    msg->html = r->has_html && r->html.data ? r->html.data : NULL;
    msg->lang = r->lang[0] ? r->lang : NULL;
    return ARR_OK;
}

/* Checks everything and builds the message. Fills res on failure. */
static arr_err email_build_msg(const outreach_channel_smtp_cfg *cfg, const outreach_email *m,
                               const char *key, email_build *eb, outreach_channel_result *res)
{
    const char *to = m->to;
    if (!address_ok(to)) {
        set_code(res, "invalid_to");
        return fail(res, OUTREACH_CHANNEL_PERMANENT_CONTACT, ARR_EINVAL, to,
                    "to is not a plain ASCII address (local@domain)");
    }
    if (!address_ok(cfg->from))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL,
                    "smtp from is not an address (local@domain)");
    if (cfg->reply_to && *cfg->reply_to && !address_ok(cfg->reply_to))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL,
                    "smtp reply_to is not an address");
    if (cfg->from_name && !header_text_ok(cfg->from_name))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL,
                    "smtp from_name has a control character or invalid UTF-8");
    if (!key_ok(key))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "idempotency key must be 1..%d printable ASCII characters",
                    OUTREACH_CHANNEL_KEY_MAX);
    if (msgid_make(cfg, key, eb->msgid, sizeof eb->msgid) != ARR_OK)
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL,
                    "no Message-ID domain: set msgid_domain or a from with a valid domain");
    if (!m->subject || !header_text_ok(m->subject) || strlen(m->subject) > HEADER_LINE_MAX * 4)
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "subject missing, too long, or with a control character (CR/LF) or invalid "
                    "UTF-8");
    if (!m->text || !arr_utf8_valid(m->text, strlen(m->text)))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "text missing or invalid UTF-8");
    if (m->html && !arr_utf8_valid(m->html, strlen(m->html)))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL, "html is invalid UTF-8");
    if (!link_ok(m->opt_out_link))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "opt_out_link missing or not an http(s) URL of printable ASCII");
    if (m->opt_out_mailto && !mailto_ok(m->opt_out_mailto))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "opt_out_mailto is not a mailto: URL of printable ASCII");
    if (m->lang) {
        size_t ll = strlen(m->lang);
        int ok = ll >= 2 && ll <= 35;
        for (size_t i = 0; ok && i < ll; i++) {
            char c = m->lang[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-';
        }
        if (!ok)
            return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                        "lang is not a language tag");
    }

    arr_buf *b = &eb->out;
    arr_buf_init(b, OUTREACH_CHANNEL_EMAIL_MAX);
    arr_err e = arr_buf_append(b, "From: ", 6);
    if (!e && cfg->from_name && *cfg->from_name) {
        e = display_name(b, cfg->from_name);
        if (!e) { /* fold before the address when the line would pass 78 characters */
            const char *nl = b->len ? strrchr(b->data, '\n') : NULL;
            size_t col = nl ? b->len - (size_t)(nl + 1 - b->data) : b->len;
            e = arr_buf_appendf(b, "%s<%s>\r\n", col + strlen(cfg->from) + 3 > 78 ? "\r\n " : " ",
                                cfg->from);
        }
    } else if (!e) {
        e = arr_buf_appendf(b, "%s\r\n", cfg->from);
    }
    if (!e)
        e = arr_buf_appendf(b, "To: %s\r\n", to);
    if (!e)
        e = arr_buf_append(b, "Subject: ", 9);
    if (!e)
        e = plain_ascii(m->subject, 8) ? arr_buf_append(b, m->subject, strlen(m->subject))
                                       : encoded_words(b, m->subject);
    if (!e)
        e = arr_buf_append(b, "\r\n", 2);
    if (!e) {
        e = date_header(b, m->date_ms);
        if (e == ARR_EINVAL)
            return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                        "date_ms is outside years 1970..9999");
    }
    if (!e)
        e = arr_buf_appendf(b, "Message-ID: %s\r\n", eb->msgid);
    if (!e && cfg->reply_to && *cfg->reply_to)
        e = arr_buf_appendf(b, "Reply-To: %s\r\n", cfg->reply_to);
    if (!e)
        e = arr_buf_appendf(b, "List-Unsubscribe: <%s>", m->opt_out_link);
    if (!e && m->opt_out_mailto)
        e = arr_buf_appendf(b, ",\r\n <%s>", m->opt_out_mailto);
    if (!e)
        e = arr_buf_append(b, "\r\n", 2);
    if (!e && m->one_click)
        e = arr_buf_appendf(b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    if (!e && m->lang)
        e = arr_buf_appendf(b, "Content-Language: %s\r\n", m->lang);
    if (!e)
        e = arr_buf_appendf(b, "MIME-Version: 1.0\r\n");
    if (e)
        goto out;

    static const char PART[] = "Content-Type: text/%s; charset=UTF-8\r\n"
                               "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    if (!m->html) {
        e = arr_buf_appendf(b, PART, "plain");
        if (!e)
            e = qp_append(b, m->text);
        if (!e)
            e = arr_buf_append(b, "\r\n", 2);
    } else {
        /* "=_" never occurs in quoted-printable output: the boundary cannot collide */
        char hex[33], boundary[64];
        key_hex(key, hex);
        snprintf(boundary, sizeof boundary, "=_arrears_%.24s", hex);
        e = arr_buf_appendf(b,
                            "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n"
                            "This is a multi-part message in MIME format.\r\n\r\n--%s\r\n",
                            boundary, boundary);
        if (!e)
            e = arr_buf_appendf(b, PART, "plain");
        if (!e)
            e = qp_append(b, m->text);
        if (!e)
            e = arr_buf_appendf(b, "\r\n--%s\r\n", boundary);
        if (!e)
            e = arr_buf_appendf(b, PART, "html");
        if (!e)
            e = qp_append(b, m->html);
        if (!e)
            e = arr_buf_appendf(b, "\r\n--%s--\r\n", boundary);
    }
out:
    if (e == ARR_ELIMIT)
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ELIMIT, NULL,
                    "email larger than %u bytes once encoded", OUTREACH_CHANNEL_EMAIL_MAX);
    if (e)
        return fail(res, OUTREACH_CHANNEL_PERMANENT, e, NULL, "building the email: %s",
                    arr_strerror(e));
    return ARR_OK;
}

/* ------------------------------------------------------------------ email: SMTP */

typedef struct upload {
    const char *data;
    size_t len, off;
} upload;

static size_t upload_read(char *dst, size_t size, size_t nmemb, void *ud)
{
    upload *u = ud;
    size_t want = size * nmemb, left = u->len - u->off;
    size_t n = want < left ? want : left;
    memcpy(dst, u->data + u->off, n);
    u->off += n;
    return n;
}

/* What the SMTP conversation said last: the verb of the last command (never its arguments,
 * which carry credentials for AUTH) and the last reply line with its code. */
typedef struct smtp_trace {
    char cmd[16];
    int reply_code; /* the last reply (QUIT's excepted) */
    char reply[SMTP_REPLY_MAX];
    char err_cmd[16]; /* the command the last refusal (4xx, 5xx) answered; "" = greeting */
    int err_code;     /* 0 when nothing was refused */
    char err[SMTP_REPLY_MAX];
} smtp_trace;

static int smtp_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)h;
    smtp_trace *t = ud;
    if (type == CURLINFO_HEADER_OUT) {
        /* only a known verb: the lines that continue an AUTH exchange are credentials */
        static const char *const VERBS[] = {"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL",
                                            "RCPT", "DATA", "RSET",     "QUIT", "NOOP"};
        for (size_t v = 0; v < sizeof VERBS / sizeof VERBS[0]; v++) {
            size_t n = strlen(VERBS[v]);
            if (size >= n && strncasecmp(data, VERBS[v], n) == 0 &&
                (size == n || data[n] == ' ' || data[n] == '\r' || data[n] == '\n')) {
                memcpy(t->cmd, VERBS[v], n + 1);
                break;
            }
        }
    } else if (type == CURLINFO_HEADER_IN) {
        /* one or more reply lines: keep the last complete one that starts with a code */
        size_t start = 0;
        while (start < size) {
            size_t end = start;
            while (end < size && data[end] != '\n')
                end++;
            size_t len = end - start;
            while (len && (data[start + len - 1] == '\r' || data[start + len - 1] == '\n'))
                len--;
            /* after a refusal curl says QUIT (or RSET): their replies must not hide it */
            int closing = strcmp(t->cmd, "QUIT") == 0 || strcmp(t->cmd, "RSET") == 0;
            if (!closing && len >= 3 && data[start] >= '1' && data[start] <= '5' &&
                data[start + 1] >= '0' && data[start + 1] <= '9' && data[start + 2] >= '0' &&
                data[start + 2] <= '9') {
                t->reply_code = (data[start] - '0') * 100 + (data[start + 1] - '0') * 10 +
                                (data[start + 2] - '0');
                copy_clean(t->reply, sizeof t->reply, data + start, len, NULL);
                if (t->reply_code >= 400) {
                    t->err_code = t->reply_code;
                    memcpy(t->err, t->reply, sizeof t->err);
                    memcpy(t->err_cmd, t->cmd, sizeof t->cmd);
                }
            }
            start = end + 1;
        }
    }
    return 0;
}

/* The enhanced status code ("5.1.1") of a reply line "550 5.1.1 ...", or "" when none. */
static void enhanced_code(const char *reply, char *out, size_t outlen)
{
    out[0] = '\0';
    if (strlen(reply) < 5 || (reply[3] != ' ' && reply[3] != '-'))
        return;
    const char *p = reply + 4;
    if ((p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
        return;
    size_t i = 2, d = 0;
    while (p[i] >= '0' && p[i] <= '9' && d < 3)
        i++, d++;
    if (d == 0 || p[i] != '.')
        return;
    i++;
    d = 0;
    while (p[i] >= '0' && p[i] <= '9' && d < 3)
        i++, d++;
    if (d == 0 || (p[i] != ' ' && p[i] != '\0'))
        return;
    if (i < outlen) {
        memcpy(out, p, i);
        out[i] = '\0';
    }
}

/* A 5xx answer to RCPT: the mailbox (or its domain) is bad, the mailbox is full (a soft
 * bounce, retried), or a refusal that is not the address's fault (policy, relaying). */
static outreach_channel_outcome rcpt_5xx(int code, const char *enh)
{
    if (enh[0]) {
        if (strncmp(enh, "5.1.", 4) == 0)
            return strcmp(enh, "5.1.7") == 0 || strcmp(enh, "5.1.8") == 0
                       ? OUTREACH_CHANNEL_PERMANENT /* our sender address */
                       : OUTREACH_CHANNEL_PERMANENT_CONTACT;
        if (strcmp(enh, "5.2.1") == 0)
            return OUTREACH_CHANNEL_PERMANENT_CONTACT;
        if (strcmp(enh, "5.2.2") == 0)
            return OUTREACH_CHANNEL_RETRIABLE;
        return OUTREACH_CHANNEL_PERMANENT;
    }
    if (code == 550 || code == 551 || code == 553)
        return OUTREACH_CHANNEL_PERMANENT_CONTACT;
    if (code == 552)
        return OUTREACH_CHANNEL_RETRIABLE;
    return OUTREACH_CHANNEL_PERMANENT;
}

static int curl_config_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_LOGIN_DENIED:
    case CURLE_NOT_BUILT_IN:
        return 1;
    default:
        return 0;
    }
}

static long or_default(long v, long def)
{
    return v > 0 ? v : def;
}

/* Sets the curl options both transports share. Returns the first failing option's code. */
static CURLcode common_opts(CURL *h, const char *ca_file, long connect_ms, long total_ms,
                            char *errbuf)
{
    CURLcode rc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                              or_default(connect_ms, OUTREACH_CHANNEL_CONNECT_TIMEOUT_MS));
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                              or_default(total_ms, OUTREACH_CHANNEL_TIMEOUT_MS));
    if (!rc && ca_file && *ca_file)
        rc = curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    return rc;
}

struct outreach_channel_conns {
    CURL *smtp, *http;
};

arr_err outreach_channel_conns_new(outreach_channel_conns **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? ARR_OK : ARR_ENOMEM;
}

void outreach_channel_conns_free(outreach_channel_conns *c)
{
    if (!c)
        return;
    if (c->smtp)
        curl_easy_cleanup(c->smtp);
    if (c->http)
        curl_easy_cleanup(c->http);
    free(c);
}

/* The handle of a send: the cache's (its connection kept, its options cleared) or a new one. */
static CURL *handle_take(outreach_channel_conns *c, int smtp)
{
    if (!c)
        return curl_easy_init();
    CURL **h = smtp ? &c->smtp : &c->http;
    if (*h)
        curl_easy_reset(*h);
    else
        *h = curl_easy_init();
    return *h;
}

/* After the send: a cached handle forgets its options (they point into the send's stack
 * frame); its connection stays open. Any other handle is closed. */
static void handle_give(outreach_channel_conns *c, CURL *h)
{
    if (!h)
        return;
    if (c)
        curl_easy_reset(h);
    else
        curl_easy_cleanup(h);
}

static arr_err curl_setup_failed(outreach_channel_result *res, CURLcode rc)
{
    char code[32];
    snprintf(code, sizeof code, "curl:%d", (int)rc);
    set_code(res, code);
    if (rc == CURLE_OUT_OF_MEMORY)
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ENOMEM, NULL, "curl: out of memory");
    return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL, "curl option refused: %s",
                curl_easy_strerror(rc));
}

arr_err outreach_channel_email_send(const outreach_channel_smtp_cfg *cfg, const outreach_email *msg,
                                    const char *idempotency_key, outreach_channel_result *res)
{
    if (!res)
        return ARR_EINVAL;
    res_clear(res);
    if (!cfg || !msg)
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL, "cfg and msg are required");
    if (!cfg->url || (strncmp(cfg->url, "smtp://", 7) != 0 && strncmp(cfg->url, "smtps://", 8)) ||
        !token_ok(cfg->url, LINK_MAX))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL,
                    "smtp url must be smtp://host:port or smtps://host:port");

    email_build eb;
    memset(&eb, 0, sizeof eb);
    arr_err e = email_build_msg(cfg, msg, idempotency_key, &eb, res);
    if (e) {
        arr_buf_free(&eb.out);
        return e;
    }

    CURL *h = handle_take(cfg->conns, 1);
    if (!h) {
        arr_buf_free(&eb.out);
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ENOMEM, NULL, "curl_easy_init failed");
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    char from[ADDR_MAX + 3], to[ADDR_MAX + 3];
    snprintf(from, sizeof from, "<%s>", cfg->from);
    snprintf(to, sizeof to, "<%s>", msg->to);
    struct curl_slist *rcpt = curl_slist_append(NULL, to);
    upload up = {eb.out.data, eb.out.len, 0};
    smtp_trace trace;
    memset(&trace, 0, sizeof trace);

    CURLcode rc = rcpt ? CURLE_OK : CURLE_OUT_OF_MEMORY;
    if (!rc)
        rc = common_opts(h, cfg->ca_file, cfg->connect_timeout_ms, cfg->timeout_ms, errbuf);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_URL, cfg->url);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    if (!rc && cfg->username && *cfg->username) {
        rc = curl_easy_setopt(h, CURLOPT_USERNAME, cfg->username);
        if (!rc)
            rc = curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
    }
    if (!rc && cfg->use_tls)
        rc = curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_READDATA, &up);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
    /* the debug callback sees the conversation; nothing is printed */
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, smtp_debug);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_DEBUGDATA, &trace);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    if (rc) {
        e = curl_setup_failed(res, rc);
        goto done;
    }

    rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    res->status = trace.reply_code ? trace.reply_code : (int)code;

    if (rc == CURLE_OK) {
        res->outcome = OUTREACH_CHANNEL_ACCEPTED;
        copy_clean(res->provider_id, sizeof res->provider_id, eb.msgid, strlen(eb.msgid), NULL);
        copy_clean(res->detail, sizeof res->detail, trace.reply, strlen(trace.reply), msg->to);
        e = ARR_OK;
        goto done;
    }
    char cc[32];
    snprintf(cc, sizeof cc, "curl:%d", (int)rc);
    if (rc == CURLE_OUT_OF_MEMORY) {
        set_code(res, cc);
        e = fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ENOMEM, NULL, "curl: out of memory");
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        set_code(res, cc);
        e = fail(res, OUTREACH_CHANNEL_RETRIABLE, ARR_ETIMEOUT, msg->to,
                 "smtp timeout (last command %s): %s", trace.cmd[0] ? trace.cmd : "none", errbuf);
    } else if (trace.err_code >= 400) {
        res->status = trace.err_code;
        char enh[16];
        enhanced_code(trace.err, enh, sizeof enh);
        if (enh[0]) {
            set_code(res, enh);
        } else {
            char c3[16];
            snprintf(c3, sizeof c3, "%d", trace.err_code);
            set_code(res, c3);
        }
        const char *cmd = trace.err_cmd[0] ? trace.err_cmd : "greeting";
        outreach_channel_outcome o;
        if (trace.err_code < 500)
            o = OUTREACH_CHANNEL_RETRIABLE;
        else if (strcmp(cmd, "RCPT") == 0)
            o = rcpt_5xx(trace.err_code, enh);
        else
            o = OUTREACH_CHANNEL_PERMANENT;
        arr_err oe = ARR_EINVAL;
        if (o == OUTREACH_CHANNEL_RETRIABLE)
            oe = ARR_EHTTP;
        else if (o == OUTREACH_CHANNEL_PERMANENT && strcmp(cmd, "RCPT") != 0 &&
                 strcmp(cmd, "DATA") != 0)
            oe = ARR_ECONFIG; /* AUTH, MAIL, EHLO, STARTTLS, the greeting: every send fails */
        e = fail(res, o, oe, msg->to, "smtp %s refused: %s", cmd, trace.err);
    } else if (curl_config_error(rc)) {
        set_code(res, cc);
        e = fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, msg->to, "smtp: %s",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
    } else {
        set_code(res, cc);
        e = fail(res, OUTREACH_CHANNEL_RETRIABLE, ARR_EHTTP, msg->to, "smtp transport: %s",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }

done:
    /* the cleanup may still talk to the server (QUIT): the trace must outlive it */
    handle_give(cfg->conns, h);
    curl_slist_free_all(rcpt);
    arr_buf_free(&eb.out);
    return e;
}

/* ------------------------------------------------------------------ http: requests */

typedef struct http_resp {
    arr_buf body;
    int over; /* the body passed the cap; the transfer was stopped */
    char retry_after[64];
} http_resp;

static size_t http_write(char *data, size_t size, size_t nmemb, void *ud)
{
    http_resp *r = ud;
    size_t n = size * nmemb;
    if (arr_buf_append(&r->body, data, n) != ARR_OK) {
        r->over = 1;
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    }
    return n;
}

static size_t http_header(char *data, size_t size, size_t nmemb, void *ud)
{
    http_resp *r = ud;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        r->retry_after[0] = '\0'; /* a new response (after a 100 Continue) */
    } else if (n > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
        size_t i = 12;
        while (i < n && (data[i] == ' ' || data[i] == '\t'))
            i++;
        size_t end = n;
        while (end > i && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' '))
            end--;
        copy_clean(r->retry_after, sizeof r->retry_after, data + i, end - i, NULL);
    }
    return n;
}

/* Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date; seconds from now, capped at a
 * day; 0 when absent, past or unreadable. */
static int retry_after_seconds(const char *v)
{
    if (!v[0])
        return 0;
    if (v[0] >= '0' && v[0] <= '9') {
        long s = 0;
        for (const char *p = v; *p; p++) {
            if (*p < '0' || *p > '9')
                return 0;
            if (s <= RETRY_AFTER_MAX_S)
                s = s * 10 + (*p - '0');
        }
        return s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)s;
    }
    time_t at = curl_getdate(v, NULL);
    if (at == (time_t)-1)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double d = difftime(at, ts.tv_sec);
    if (d <= 0)
        return 0;
    return d > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (int)d;
}

/* application/x-www-form-urlencoded: unreserved characters as is, space "+", else %XX. */
static arr_err form_field(arr_buf *b, const char *name, const char *value)
{
    static const char HEX[] = "0123456789ABCDEF";
    arr_err e = arr_buf_appendf(b, "%s%s=", b->len ? "&" : "", name);
    for (const unsigned char *p = (const unsigned char *)value; *p && !e; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            e = arr_buf_append(b, p, 1);
        } else if (c == ' ') {
            e = arr_buf_append(b, "+", 1);
        } else {
            char q[3] = {'%', HEX[c >> 4], HEX[c & 15]};
            e = arr_buf_append(b, q, 3);
        }
    }
    return e;
}

static int code_in(const char *code, const char *const *list)
{
    for (; code[0] && list && *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

/* A JSON member as text: a string as is, an integer in decimal; "" otherwise. */
static void json_text(json_t *root, const char *key, char *out, size_t outlen, const char *redact)
{
    out[0] = '\0';
    json_t *v = json_is_object(root) ? json_object_get(root, key) : NULL;
    if (json_is_string(v)) {
        copy_clean(out, outlen, json_string_value(v), json_string_length(v), redact);
    } else if (json_is_integer(v)) {
        snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
    }
}

static int header_name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}

/* Checks what both endpoints need. Fills res on failure. */
static arr_err http_check(const outreach_channel_http_cfg *cfg, const char *to, const char *key,
                          const char *status_callback_url, outreach_channel_result *res)
{
    if (!cfg)
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL, "cfg is required");
    if (!link_ok(cfg->base_url))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL,
                    "provider base_url must be an http(s) URL");
    if (!token_ok(cfg->account_sid, 256) || strchr(cfg->account_sid, ':') ||
        !token_ok(cfg->auth_token, 256))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL,
                    "provider account_sid and auth_token are required (printable, no ':' in "
                    "the sid)");
    if (!cfg->from || !header_text_ok(cfg->from) || !*cfg->from)
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL,
                    "provider from is required");
    if (cfg->idempotency_header && !header_name_ok(cfg->idempotency_header))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, NULL,
                    "idempotency_header is not a header name");
    if (!key_ok(key))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "idempotency key must be 1..%d printable ASCII characters",
                    OUTREACH_CHANNEL_KEY_MAX);
    if (status_callback_url && !link_ok(status_callback_url))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "status_callback_url is not an http(s) URL of printable ASCII");
    if (!e164_ok(to)) {
        set_code(res, "invalid_to");
        return fail(res, OUTREACH_CHANNEL_PERMANENT_CONTACT, ARR_EINVAL, to,
                    "to is not an E.164 number (+ and 7..15 digits)");
    }
    return ARR_OK;
}

/* POSTs form to {base_url}/{resource} and classifies the answer. */
static arr_err http_post(const outreach_channel_http_cfg *cfg, const char *resource,
                         const char *form, size_t form_len, const char *to, const char *key,
                         outreach_channel_result *res)
{
    arr_buf url;
    arr_buf_init(&url, LINK_MAX + 32);
    size_t bl = strlen(cfg->base_url);
    while (bl > 0 && cfg->base_url[bl - 1] == '/')
        bl--;
    arr_err e = arr_buf_appendf(&url, "%.*s/%s", (int)bl, cfg->base_url, resource);
    if (e) {
        arr_buf_free(&url);
        return fail(res, OUTREACH_CHANNEL_PERMANENT, e, NULL, "building the url: %s",
                    arr_strerror(e));
    }

    http_resp r;
    memset(&r, 0, sizeof r);
    arr_buf_init(&r.body,
                 cfg->max_response_bytes ? cfg->max_response_bytes : OUTREACH_CHANNEL_RESPONSE_MAX);
    char idem[OUTREACH_CHANNEL_KEY_MAX + 80];
    snprintf(idem, sizeof idem, "%s: %s",
             cfg->idempotency_header ? cfg->idempotency_header : "Idempotency-Key", key);
    struct curl_slist *hdrs = curl_slist_append(NULL, idem);
    struct curl_slist *tmp = hdrs ? curl_slist_append(hdrs, "Accept: application/json") : NULL;
    if (tmp) {
        hdrs = tmp;
        tmp = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    }
    if (tmp)
        hdrs = tmp;
    char ua[64];
    snprintf(ua, sizeof ua, "arrears/%s", ARR_VERSION);
    char errbuf[CURL_ERROR_SIZE] = "";

    CURL *h = handle_take(cfg->conns, 0);
    CURLcode rc = h && tmp ? CURLE_OK : CURLE_OUT_OF_MEMORY;
    if (!rc)
        rc = common_opts(h, cfg->ca_file, cfg->connect_timeout_ms, cfg->timeout_ms, errbuf);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_URL, url.data);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_USERNAME, cfg->account_sid);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->auth_token);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form_len);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header);
    if (!rc)
        rc = curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    if (rc) {
        e = curl_setup_failed(res, rc);
        goto done;
    }

    rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    res->status = (int)status;
    char cc[32];
    snprintf(cc, sizeof cc, "curl:%d", (int)rc);

    if (status == 0) { /* no answer at all */
        set_code(res, cc);
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        if (rc == CURLE_OUT_OF_MEMORY)
            e = fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ENOMEM, NULL, "curl: out of memory");
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            e = fail(res, OUTREACH_CHANNEL_RETRIABLE, ARR_ETIMEOUT, to, "%s: timeout: %s", resource,
                     why);
        else if (curl_config_error(rc))
            e = fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, to, "%s: %s", resource, why);
        else
            e = fail(res, OUTREACH_CHANNEL_RETRIABLE, ARR_EHTTP, to, "%s: transport: %s", resource,
                     why);
        goto done;
    }

    /* an answer came: it decides, even if its body was cut (cap, timeout, reset) */
    json_t *doc = r.body.len ? json_loadb(r.body.data, r.body.len, 0, NULL) : NULL;
    char pcode[32], pmsg[200];
    json_text(doc, "code", pcode, sizeof pcode, to);
    json_text(doc, "message", pmsg, sizeof pmsg, to);
    const char *cut = r.over           ? " (answer over the size cap)"
                      : rc != CURLE_OK ? " (answer cut)"
                                       : "";

    if (status >= 200 && status <= 299) {
        json_text(doc, "sid", res->provider_id, sizeof res->provider_id, NULL);
        json_text(doc, "status", res->provider_status, sizeof res->provider_status, NULL);
        res->outcome = OUTREACH_CHANNEL_ACCEPTED;
        if (!res->provider_id[0])
            res_detail(res, to, "%s: %ld without a sid%s", resource, status, cut);
        json_decref(doc);
        e = ARR_OK;
        goto done;
    }

    if (pcode[0]) {
        set_code(res, pcode);
    } else {
        char sc[16];
        snprintf(sc, sizeof sc, "http:%ld", status);
        set_code(res, sc);
    }
    if (!pmsg[0] && r.body.len && !doc)
        copy_clean(pmsg, sizeof pmsg, r.body.data, r.body.len < 160 ? r.body.len : 160, to);
    const char *const *bad =
        cfg->bad_number_codes ? cfg->bad_number_codes : outreach_callback_bad_number_codes;
    const char *const *opted =
        cfg->opted_out_codes ? cfg->opted_out_codes : outreach_callback_opted_out_codes;
    if (status >= 400 && status <= 499 && code_in(pcode, bad)) {
        e = fail(res, OUTREACH_CHANNEL_PERMANENT_CONTACT, ARR_EINVAL, to, "%s: %ld %s: %s",
                 resource, status, pcode, pmsg);
    } else if (status >= 400 && status <= 499 && code_in(pcode, opted)) {
        e = fail(res, OUTREACH_CHANNEL_OPTED_OUT, ARR_EINVAL, to, "%s: %ld %s: %s", resource,
                 status, pcode, pmsg);
    } else if (status == 408 || status == 409 || status == 425 || status == 429 || status >= 500) {
        res->retry_after_s = retry_after_seconds(r.retry_after);
        e = fail(res, OUTREACH_CHANNEL_RETRIABLE, ARR_EHTTP, to, "%s: %ld%s%s%s%s", resource,
                 status, pcode[0] ? " " : "", pcode, pmsg[0] ? ": " : "", pmsg);
    } else if (status == 401 || status == 403 || status == 404 || status == 407 ||
               (status >= 300 && status <= 399)) {
        e = fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ECONFIG, to,
                 "%s: %ld (credentials or base_url)%s%s", resource, status, pmsg[0] ? ": " : "",
                 pmsg);
    } else if (status >= 400 && status <= 499) {
        e = fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, to, "%s: %ld%s%s%s%s", resource,
                 status, pcode[0] ? " " : "", pcode, pmsg[0] ? ": " : "", pmsg);
    } else {
        e = fail(res, OUTREACH_CHANNEL_RETRIABLE, ARR_EHTTP, to, "%s: unexpected status %ld",
                 resource, status);
    }
    json_decref(doc);

done:
    handle_give(cfg->conns, h);
    curl_slist_free_all(hdrs);
    arr_buf_free(&r.body);
    arr_buf_free(&url);
    return e;
}

arr_err outreach_channel_sms_send(const outreach_channel_http_cfg *cfg, const char *to,
                                  const char *body, const char *status_callback_url,
                                  const char *idempotency_key, outreach_channel_result *res)
{
    if (!res)
        return ARR_EINVAL;
    res_clear(res);
    arr_err e = http_check(cfg, to, idempotency_key, status_callback_url, res);
    if (e)
        return e;
    size_t bl = body ? strlen(body) : 0;
    if (bl == 0 || !arr_utf8_valid(body, bl))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "sms body missing or invalid UTF-8");
    if (bl > OUTREACH_CHANNEL_SMS_BODY_MAX)
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ELIMIT, NULL,
                    "sms body of %zu bytes, more than %d", bl, OUTREACH_CHANNEL_SMS_BODY_MAX);
    arr_buf form;
    arr_buf_init(&form, OUTREACH_CHANNEL_SMS_BODY_MAX * 3 + 4 * LINK_MAX);
    e = form_field(&form, "To", to);
    if (!e)
        e = form_field(&form, "From", cfg->from);
    if (!e)
        e = form_field(&form, "Body", body);
    if (!e && status_callback_url)
        e = form_field(&form, "StatusCallback", status_callback_url);
    if (e) {
        arr_buf_free(&form);
        return fail(res, OUTREACH_CHANNEL_PERMANENT, e, NULL, "building the form: %s",
                    arr_strerror(e));
    }
    e = http_post(cfg, "Messages", form.data, form.len, to, idempotency_key, res);
    arr_buf_free(&form);
    return e;
}

/* "en" -> "en-US", "es" -> "es-US", another well-formed tag as is; 0 when malformed. */
static int voice_lang(const char *lang, char *out, size_t outlen)
{
    size_t n = strlen(lang), i = 0;
    while (i < n && ((lang[i] >= 'a' && lang[i] <= 'z') || (lang[i] >= 'A' && lang[i] <= 'Z')))
        i++;
    if (i < 2 || i > 3 || n > 35)
        return 0;
    for (size_t j = i; j < n; j++) {
        char c = lang[j];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return 0;
    }
    if (lang[n - 1] == '-' || (i < n && lang[i] != '-'))
        return 0;
    snprintf(out, outlen, "%s%s", lang,
             n == 2 && (strcasecmp(lang, "en") == 0 || strcasecmp(lang, "es") == 0) ? "-US" : "");
    return 1;
}

/* <Response><Say [language="..."]>text</Say></Response>, the text XML-escaped, control
 * characters (which XML 1.0 forbids) as spaces. */
static arr_err twiml(arr_buf *b, const char *lang, const char *text)
{
    arr_err e = arr_buf_append(b, "<Response><Say", 14);
    if (!e && lang)
        e = arr_buf_appendf(b, " language=\"%s\"", lang);
    if (!e)
        e = arr_buf_append(b, ">", 1);
    for (const char *p = text; *p && !e; p++) {
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '&':
            e = arr_buf_append(b, "&amp;", 5);
            break;
        case '<':
            e = arr_buf_append(b, "&lt;", 4);
            break;
        case '>':
            e = arr_buf_append(b, "&gt;", 4);
            break;
        case '"':
            e = arr_buf_append(b, "&quot;", 6);
            break;
        case '\'':
            e = arr_buf_append(b, "&apos;", 6);
            break;
        default:
            e = arr_buf_append(b, c < 0x20 || c == 0x7F ? " " : p, 1);
        }
    }
    if (!e)
        e = arr_buf_append(b, "</Say></Response>", 17);
    return e;
}

arr_err outreach_channel_voice_call_lang(const outreach_channel_http_cfg *cfg, const char *to,
                                         const char *lang, const char *script_url_or_text,
                                         const char *status_callback_url,
                                         const char *idempotency_key, outreach_channel_result *res)
{
    if (!res)
        return ARR_EINVAL;
    res_clear(res);
    arr_err e = http_check(cfg, to, idempotency_key, status_callback_url, res);
    if (e)
        return e;
    const char *s = script_url_or_text;
    size_t sl = s ? strlen(s) : 0;
    if (sl == 0 || !arr_utf8_valid(s, sl))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "voice script missing or invalid UTF-8");
    char tag[40];
    if (lang && !voice_lang(lang, tag, sizeof tag))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "lang is not a language tag");
    int is_url = strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
    if (is_url && !link_ok(s))
        return fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_EINVAL, NULL,
                    "voice script URL is not printable ASCII without spaces");

    arr_buf script, form;
    arr_buf_init(&script, OUTREACH_CHANNEL_VOICE_MAX);
    arr_buf_init(&form, OUTREACH_CHANNEL_VOICE_MAX * 3 + 4 * LINK_MAX);
    e = is_url ? ARR_OK : twiml(&script, lang ? tag : NULL, s);
    if (e == ARR_ELIMIT) {
        e = fail(res, OUTREACH_CHANNEL_PERMANENT, ARR_ELIMIT, NULL,
                 "voice script longer than %d bytes as TwiML", OUTREACH_CHANNEL_VOICE_MAX);
        goto out;
    }
    if (!e)
        e = form_field(&form, "To", to);
    if (!e)
        e = form_field(&form, "From", cfg->from);
    if (!e)
        e = is_url ? form_field(&form, "Url", s) : form_field(&form, "Twiml", script.data);
    if (!e && status_callback_url)
        e = form_field(&form, "StatusCallback", status_callback_url);
    if (!e && cfg->machine_detection)
        e = form_field(&form, "MachineDetection", "Enable");
    if (e) {
        e = fail(res, OUTREACH_CHANNEL_PERMANENT, e, NULL, "building the form: %s",
                 arr_strerror(e));
        goto out;
    }
    e = http_post(cfg, "Calls", form.data, form.len, to, idempotency_key, res);
out:
    arr_buf_free(&script);
    arr_buf_free(&form);
    return e;
}

arr_err outreach_channel_voice_call(const outreach_channel_http_cfg *cfg, const char *to,
                                    const char *script_url_or_text, const char *status_callback_url,
                                    const char *idempotency_key, outreach_channel_result *res)
{
    return outreach_channel_voice_call_lang(cfg, to, NULL, script_url_or_text, status_callback_url,
                                            idempotency_key, res);
}
