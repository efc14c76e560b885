#include "callback.h"

#include "channel.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arrears/utf8.h"
#include "compliance.h"

/* Twilio's codes (https://www.twilio.com/docs/api/errors), the one default list of both
 * directions (channel.c's refused sends, the delivery callbacks here). A number that cannot be
 * used: invalid 'To' (21211), cannot be reached (21214), does not appear valid (21217), invalid
 * (21401, 21421, 13223), type without SMS (21407), not reachable by SMS (21612), not a mobile
 * (21614), calling not supported or invalid (13224), and the delivery-time codes (30003,
 * 30005, 30006: see callback.h). The consumer opted out: the carrier-level STOP (21610). */
const char *const outreach_callback_bad_number_codes[] = {
    "21211", "21214", "21217", "21401", "21407", "21421", "21612",
    "21614", "13223", "13224", "30003", "30005", "30006", NULL,
};
const char *const outreach_callback_opted_out_codes[] = {"21610", NULL};

/* ------------------------------------------------------------------ text helpers */

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* 1 when [a, b) starts with word (lower-case ASCII), in any case. */
static int starts_ci(const char *a, const char *b, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(b - a) < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != (unsigned char)word[i])
            return 0;
    return 1;
}

/* 1 when [a, b) ends with word (lower-case, may hold UTF-8), in any ASCII case. */
static int ends_ci(const char *a, const char *b, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(b - a) >= n && starts_ci(b - n, b, word);
}

/* A provider value fit to quote in a reason: printable ASCII, '?' for anything else, at most
 * 32 bytes then "...". Only enum values are quoted, never a number, an address or a text. */
static void show(char out[40], const char *v)
{
    size_t i = 0, o = 0;
    for (; v[i] && o < 32; i++) {
        unsigned char c = (unsigned char)v[i];
        out[o++] = c >= 0x20 && c < 0x7F && c != '"' && c != '\\' ? (char)c : '?';
    }
    if (v[i]) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* ------------------------------------------------------------------ forms */

static int hexval(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

enum { DEC_OK = 0, DEC_ESCAPE, DEC_NUL };

/* Decodes src[0, n) into dst (n bytes are enough): '+' is a space, %XX a byte. */
static int decode(const char *src, size_t n, char *dst, size_t *dlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3)
                return DEC_ESCAPE;
            int hi = hexval((unsigned char)src[i + 1]), lo = hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return DEC_ESCAPE;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c == 0) /* a NUL would silently cut the value short for every C reader */
            return DEC_NUL;
        dst[o++] = (char)c;
    }
    *dlen = o;
    return DEC_OK;
}

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || n > OUTREACH_CALLBACK_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7E)
            return 0;
    return 1;
}

arr_err outreach_callback_form_parse(const char *body, size_t len, outreach_callback_form *out,
                                     char *why, size_t whylen)
{
    if (!out || (!body && len))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "form: NULL argument");
    if (len > OUTREACH_CALLBACK_BODY_MAX)
        return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "form: body of %zu bytes, more than %u",
                               len, OUTREACH_CALLBACK_BODY_MAX);
    outreach_callback_form f;
    memset(&f, 0, sizeof f);
    if (len == 0) {
        *out = f;
        return ARR_OK;
    }

    /* Count first, so a body of many empty fields is refused before anything is allocated. */
    size_t nseg = 0;
    for (size_t i = 0; i < len; i++)
        if (body[i] != '&' && (i == 0 || body[i - 1] == '&'))
            nseg++;
    if (nseg > OUTREACH_CALLBACK_FIELDS_MAX)
        return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "form: %zu fields, more than %d", nseg,
                               OUTREACH_CALLBACK_FIELDS_MAX);
    /* Decoding never grows: each field needs its raw bytes plus two NULs at most. */
    char *buf = malloc(len + 2 * nseg + 1);
    if (!buf)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "form: out of memory");

    arr_err e = ARR_OK;
    size_t o = 0;
    const char *p = body, *end = body + len;
    for (;;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *seg_end = amp ? amp : end;
        if (seg_end > p) {
            const char *eq = memchr(p, '=', (size_t)(seg_end - p));
            const char *name_end = eq ? eq : seg_end;
            char *name = buf + o;
            size_t nl = 0;
            if (decode(p, (size_t)(name_end - p), name, &nl) != DEC_OK || !name_ok(name, nl)) {
                e = arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                    "field #%zu: name is not 1..%d printable ASCII characters "
                                    "(or has a bad %%-escape)",
                                    f.count + 1, OUTREACH_CALLBACK_NAME_MAX);
                break;
            }
            name[nl] = '\0';
            o += nl + 1;
            for (size_t j = 0; j < f.count && !e; j++)
                if (strcmp(f.fields[j].name, name) == 0)
                    e = arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: given twice", name);
            if (e)
                break;
            char *val = buf + o;
            size_t vl = 0;
            int r = eq ? decode(eq + 1, (size_t)(seg_end - eq - 1), val, &vl) : DEC_OK;
            if (r == DEC_ESCAPE) {
                e = arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: bad %%-escape", name);
                break;
            }
            if (r == DEC_NUL) {
                e = arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: NUL byte", name);
                break;
            }
            val[vl] = '\0';
            o += vl + 1;
            if (!arr_utf8_valid(val, vl)) {
                e = arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: invalid UTF-8", name);
                break;
            }
            f.fields[f.count].name = name;
            f.fields[f.count].value = val;
            f.fields[f.count].value_len = vl;
            f.count++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    if (e) {
        free(buf);
        return e;
    }
    f.buf = buf;
    *out = f;
    return ARR_OK;
}

void outreach_callback_form_free(outreach_callback_form *f)
{
    if (!f)
        return;
    free(f->buf);
    memset(f, 0, sizeof *f);
}

const char *outreach_callback_form_get(const outreach_callback_form *f, const char *name)
{
    if (!f || !name)
        return NULL;
    for (size_t i = 0; i < f->count && i < OUTREACH_CALLBACK_FIELDS_MAX; i++)
        if (strcmp(f->fields[i].name, name) == 0)
            return f->fields[i].value;
    return NULL;
}

/* ------------------------------------------------------------------ status callbacks */

enum { K_MSG = 1, K_CALL = 2 };

static const struct {
    const char *name;
    unsigned kinds;
} STATES[] = {
    [OUTREACH_CALLBACK_ST_ACCEPTED] = {"accepted", K_MSG},
    [OUTREACH_CALLBACK_ST_SCHEDULED] = {"scheduled", K_MSG},
    [OUTREACH_CALLBACK_ST_QUEUED] = {"queued", K_MSG | K_CALL},
    [OUTREACH_CALLBACK_ST_SENDING] = {"sending", K_MSG},
    [OUTREACH_CALLBACK_ST_SENT] = {"sent", K_MSG},
    [OUTREACH_CALLBACK_ST_DELIVERED] = {"delivered", K_MSG},
    [OUTREACH_CALLBACK_ST_UNDELIVERED] = {"undelivered", K_MSG},
    [OUTREACH_CALLBACK_ST_FAILED] = {"failed", K_MSG | K_CALL},
    [OUTREACH_CALLBACK_ST_READ] = {"read", K_MSG},
    [OUTREACH_CALLBACK_ST_CANCELED] = {"canceled", K_MSG | K_CALL},
    [OUTREACH_CALLBACK_ST_INITIATED] = {"initiated", K_CALL},
    [OUTREACH_CALLBACK_ST_RINGING] = {"ringing", K_CALL},
    [OUTREACH_CALLBACK_ST_IN_PROGRESS] = {"in-progress", K_CALL},
    [OUTREACH_CALLBACK_ST_COMPLETED] = {"completed", K_CALL},
    [OUTREACH_CALLBACK_ST_BUSY] = {"busy", K_CALL},
    [OUTREACH_CALLBACK_ST_NO_ANSWER] = {"no-answer", K_CALL},
};
#define N_STATES (sizeof STATES / sizeof STATES[0])

static const char *const ANSWERED_BY[] = {
    [OUTREACH_CALLBACK_AB_NONE] = "none",
    [OUTREACH_CALLBACK_AB_HUMAN] = "human",
    [OUTREACH_CALLBACK_AB_MACHINE_START] = "machine_start",
    [OUTREACH_CALLBACK_AB_MACHINE_END_BEEP] = "machine_end_beep",
    [OUTREACH_CALLBACK_AB_MACHINE_END_SILENCE] = "machine_end_silence",
    [OUTREACH_CALLBACK_AB_MACHINE_END_OTHER] = "machine_end_other",
    [OUTREACH_CALLBACK_AB_FAX] = "fax",
    [OUTREACH_CALLBACK_AB_UNKNOWN] = "unknown",
};
#define N_ANSWERED_BY (sizeof ANSWERED_BY / sizeof ANSWERED_BY[0])

static int sid_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > OUTREACH_CALLBACK_SID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum((unsigned char)s[i]))
            return 0;
    return 1;
}

static int digits_ok(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int e164_ok(const char *s)
{
    return s[0] == '+' && s[1] >= '1' && s[1] <= '9' && digits_ok(s + 1, 8, 15);
}

static int code_in(const char *code, const char *const *list)
{
    if (!code[0])
        return 0;
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

outreach_callback_outcome outreach_callback_outcome_of(const outreach_callback_status *s,
                                                       const char *const *bad_number_codes,
                                                       const char *const *opted_out_codes)
{
    if (!s)
        return OUTREACH_CALLBACK_PENDING;
    const char *const *bad =
        bad_number_codes ? bad_number_codes : outreach_callback_bad_number_codes;
    const char *const *opted =
        opted_out_codes ? opted_out_codes : outreach_callback_opted_out_codes;
    switch (s->status) {
    case OUTREACH_CALLBACK_ST_DELIVERED:
    case OUTREACH_CALLBACK_ST_READ:
        return OUTREACH_CALLBACK_DELIVERED;
    case OUTREACH_CALLBACK_ST_UNDELIVERED:
    case OUTREACH_CALLBACK_ST_FAILED:
        if (code_in(s->error_code, bad))
            return OUTREACH_CALLBACK_BAD_CONTACT;
        if (code_in(s->error_code, opted))
            return OUTREACH_CALLBACK_OPTED_OUT;
        return s->kind == OUTREACH_CALLBACK_CALL ? OUTREACH_CALLBACK_CALL_NO_ANSWER
                                                 : OUTREACH_CALLBACK_UNDELIVERED_RETRY;
    case OUTREACH_CALLBACK_ST_CANCELED:
        return s->kind == OUTREACH_CALLBACK_CALL ? OUTREACH_CALLBACK_CALL_NO_ANSWER
                                                 : OUTREACH_CALLBACK_UNDELIVERED_RETRY;
    case OUTREACH_CALLBACK_ST_BUSY:
    case OUTREACH_CALLBACK_ST_NO_ANSWER:
        return OUTREACH_CALLBACK_CALL_NO_ANSWER;
    case OUTREACH_CALLBACK_ST_COMPLETED:
        switch (s->answered_by) {
        case OUTREACH_CALLBACK_AB_HUMAN:
            return OUTREACH_CALLBACK_CALL_CONVERSATION;
        case OUTREACH_CALLBACK_AB_MACHINE_START:
        case OUTREACH_CALLBACK_AB_MACHINE_END_BEEP:
        case OUTREACH_CALLBACK_AB_MACHINE_END_SILENCE:
        case OUTREACH_CALLBACK_AB_MACHINE_END_OTHER:
        case OUTREACH_CALLBACK_AB_FAX:
            return OUTREACH_CALLBACK_CALL_VOICEMAIL;
        case OUTREACH_CALLBACK_AB_NONE:
        case OUTREACH_CALLBACK_AB_UNKNOWN:
            break;
        }
        return s->duration_s > 0 ? OUTREACH_CALLBACK_CALL_CONVERSATION
                                 : OUTREACH_CALLBACK_CALL_ATTEMPT;
    case OUTREACH_CALLBACK_ST_ACCEPTED:
    case OUTREACH_CALLBACK_ST_SCHEDULED:
    case OUTREACH_CALLBACK_ST_QUEUED:
    case OUTREACH_CALLBACK_ST_SENDING:
    case OUTREACH_CALLBACK_ST_SENT:
    case OUTREACH_CALLBACK_ST_INITIATED:
    case OUTREACH_CALLBACK_ST_RINGING:
    case OUTREACH_CALLBACK_ST_IN_PROGRESS:
        break;
    }
    return OUTREACH_CALLBACK_PENDING;
}

arr_err outreach_callback_status_parse(const outreach_callback_form *f,
                                       outreach_callback_status *out, char *why, size_t whylen)
{
    if (!f || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "status: NULL argument");
    outreach_callback_status s;
    memset(&s, 0, sizeof s);
    char shown[40];
    const char *msid = outreach_callback_form_get(f, "MessageSid");
    const char *csid = outreach_callback_form_get(f, "CallSid");
    if (msid && csid)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "fields MessageSid and CallSid: both given, one expected");
    if (!msid && !csid)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "fields MessageSid and CallSid: missing, one expected");
    s.kind = msid ? OUTREACH_CALLBACK_MESSAGE : OUTREACH_CALLBACK_CALL;
    unsigned kind_bit = msid ? K_MSG : K_CALL;
    const char *sid_field = msid ? "MessageSid" : "CallSid";
    const char *sid = msid ? msid : csid;
    if (!sid_ok(sid))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: not 2..%d letters and digits",
                               sid_field, OUTREACH_CALLBACK_SID_MAX);
    memcpy(s.sid, sid, strlen(sid) + 1);

    const char *st_field = msid ? "MessageStatus" : "CallStatus";
    const char *st = outreach_callback_form_get(f, st_field);
    if (!st)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: missing", st_field);
    for (size_t i = 1; i < N_STATES; i++)
        if ((STATES[i].kinds & kind_bit) && strcmp(st, STATES[i].name) == 0)
            s.status = (outreach_callback_state)i;
    if (!s.status) {
        show(shown, st);
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: unknown value \"%s\"", st_field,
                               shown);
    }

    const char *code = outreach_callback_form_get(f, "ErrorCode");
    if (code && code[0] && !digits_ok(code, 1, OUTREACH_CALLBACK_CODE_MAX))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field ErrorCode: not 1..%d digits",
                               OUTREACH_CALLBACK_CODE_MAX);
    if (code)
        memcpy(s.error_code, code, strlen(code) + 1);

    s.answered_by = OUTREACH_CALLBACK_AB_NONE;
    s.duration_s = -1;
    if (s.kind == OUTREACH_CALLBACK_CALL) {
        const char *ab = outreach_callback_form_get(f, "AnsweredBy");
        if (ab && ab[0]) {
            /* "none" is our name for absent, not a provider value */
            for (size_t i = OUTREACH_CALLBACK_AB_HUMAN; i < N_ANSWERED_BY; i++)
                if (strcmp(ab, ANSWERED_BY[i]) == 0)
                    s.answered_by = (outreach_callback_answered_by)i;
            if (s.answered_by == OUTREACH_CALLBACK_AB_NONE) {
                show(shown, ab);
                return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                       "field AnsweredBy: unknown value \"%s\"", shown);
            }
        }
        const char *dur = outreach_callback_form_get(f, "CallDuration");
        if (dur && dur[0]) {
            if (!digits_ok(dur, 1, 9))
                return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                       "field CallDuration: not 0..999999999 seconds");
            s.duration_s = atoi(dur);
        }
    }
    s.outcome = outreach_callback_outcome_of(&s, NULL, NULL);
    *out = s;
    return ARR_OK;
}

/* ------------------------------------------------------------------ inbound sms */

arr_err outreach_callback_inbound_sms_parse(const outreach_callback_form *f,
                                            outreach_callback_inbound_sms *out, char *why,
                                            size_t whylen)
{
    if (!f || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "inbound sms: NULL argument");
    const char *sid = outreach_callback_form_get(f, "MessageSid");
    const char *from = outreach_callback_form_get(f, "From");
    const char *to = outreach_callback_form_get(f, "To");
    const char *body = outreach_callback_form_get(f, "Body");
    if (!sid || !sid_ok(sid))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field MessageSid: %s",
                               sid ? "not 2..64 letters and digits" : "missing");
    if (!from || !e164_ok(from))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field From: %s",
                               from ? "not an E.164 number" : "missing");
    if (!to || !(e164_ok(to) || digits_ok(to, 3, 8)))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field To: %s",
                               to ? "not an E.164 number or a short code" : "missing");
    if (!body)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field Body: missing");
    size_t bl = strlen(body);
    if (bl > OUTREACH_CALLBACK_SMS_BODY_MAX)
        return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "field Body: %zu bytes, more than %d", bl,
                               OUTREACH_CALLBACK_SMS_BODY_MAX);
    /* Validated lengths fit the arrays: sid <= 64, numbers <= 16. */
    memcpy(out->sid, sid, strlen(sid) + 1);
    memcpy(out->from, from, strlen(from) + 1);
    memcpy(out->to, to, strlen(to) + 1);
    memcpy(out->body, body, bl + 1);
    out->body_len = bl;
    return ARR_OK;
}

/* ------------------------------------------------------------------ inbound email */

static int blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void trim(const char **a, const char **b)
{
    while (*a < *b && blank((unsigned char)**a))
        (*a)++;
    while (*b > *a && blank((unsigned char)(*b)[-1]))
        (*b)--;
}

/* 1 when [a, b) is 1..max printable ASCII characters without spaces. */
static int token_ok(const char *a, const char *b, size_t max)
{
    if (a >= b || (size_t)(b - a) > max)
        return 0;
    for (; a < b; a++)
        if ((unsigned char)*a < 0x21 || (unsigned char)*a > 0x7E)
            return 0;
    return 1;
}

/* A line after which everything is the quoted original (the trimmed line [a, b)). */
static int separator(const char *a, const char *b)
{
    if (starts_ci(a, b, "-----original message-----") ||
        starts_ci(a, b, "-----mensaje original-----"))
        return 1;
    size_t n = 0;
    while (a + n < b && a[n] == '_')
        n++;
    return n >= 10 && a + n == b;
}

static int intro_line(const char *a, const char *b)
{
    return starts_ci(a, b, "on ") || starts_ci(a, b, "el ");
}

static int wrote_line(const char *a, const char *b)
{
    return ends_ci(a, b, "wrote:") || ends_ci(a, b, "escribi\xc3\xb3:") ||
           ends_ci(a, b, "escribio:");
}

/* Copies the consumer's own part of t[0, n) to dst (n + 1 bytes are enough): lines quoted
 * with ">" are skipped, and the text ends at a separator, or at an "On ... wrote:" intro
 * (clients wrap it: "On Mon, ... <x@y>" then "wrote:" on the next line). Line ends become
 * "\n"; trailing blanks are dropped. */
static size_t strip_quoted(const char *t, size_t n, char *dst)
{
    size_t o = 0, prev_start = 0;
    int prev_intro = 0;
    const char *p = t, *end = t + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *a = p, *b = le;
        trim(&a, &b);
        const char *next = nl ? nl + 1 : end;
        if (a < b && *a == '>') {
            p = next;
            continue;
        }
        if (separator(a, b))
            break;
        int intro = intro_line(a, b);
        if (wrote_line(a, b)) {
            if (intro)
                break;
            if (prev_intro) {
                o = prev_start;
                break;
            }
        }
        const char *ce = le > p && le[-1] == '\r' ? le - 1 : le;
        prev_start = o;
        prev_intro = intro;
        memcpy(dst + o, p, (size_t)(ce - p));
        o += (size_t)(ce - p);
        dst[o++] = '\n';
        p = next;
    }
    while (o > 0 && blank((unsigned char)dst[o - 1]))
        o--;
    return o;
}

arr_err outreach_callback_inbound_email_parse(const outreach_callback_form *f,
                                              outreach_callback_inbound_email *out, char *why,
                                              size_t whylen)
{
    if (!f || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "inbound email: NULL argument");
    outreach_callback_inbound_email m;
    memset(&m, 0, sizeof m);

    const char *v = outreach_callback_form_get(f, "message_id");
    if (!v)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field message_id: missing");
    const char *a = v, *b = v + strlen(v);
    trim(&a, &b);
    if (!token_ok(a, b, OUTREACH_CALLBACK_ID_MAX))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "field message_id: not 1..%d printable ASCII characters",
                               OUTREACH_CALLBACK_ID_MAX);
    memcpy(m.message_id, a, (size_t)(b - a));

    v = outreach_callback_form_get(f, "from");
    if (!v)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field from: missing");
    a = v;
    b = v + strlen(v);
    const char *lt = strrchr(v, '<');
    if (lt) { /* "Name <addr>": the address is in the last brackets; no ">" leaves it empty */
        const char *gt = strchr(lt, '>');
        a = gt ? lt + 1 : lt;
        b = gt ? gt : lt;
    }
    trim(&a, &b);
    if (!outreach_channel_address_ok(a, (size_t)(b - a)))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field from: not an addr-spec");
    size_t al = (size_t)(b - a);
    memcpy(m.from, a, al);
    /* The domain is case-insensitive, the local part is the mailbox owner's to interpret. */
    for (char *q = strrchr(m.from, '@'); *q; q++)
        *q = (char)lower((unsigned char)*q);

    v = outreach_callback_form_get(f, "in_reply_to");
    if (v) {
        const char *open = strchr(v, '<');
        const char *close = open ? strchr(open + 1, '>') : NULL;
        if (close && close > open + 1 && token_ok(open, close + 1, OUTREACH_CALLBACK_ID_MAX) &&
            !memchr(open + 1, '<', (size_t)(close - open - 1)))
            memcpy(m.in_reply_to, open, (size_t)(close + 1 - open));
    }

    const char *subject = outreach_callback_form_get(f, "subject");
    const char *text = outreach_callback_form_get(f, "text");
    size_t sl = subject ? strlen(subject) : 0, tl = text ? strlen(text) : 0;
    char *body = malloc(sl + 1 + tl + 2);
    if (!body)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "inbound email: out of memory");
    for (size_t i = 0; i < sl; i++) /* one line, so the first "\n" ends it */
        body[i] = subject[i] == '\r' || subject[i] == '\n' ? ' ' : subject[i];
    body[sl] = '\n';
    size_t n = text ? strip_quoted(text, tl, body + sl + 1) : 0;
    body[sl + 1 + n] = '\0';
    m.body = body;
    m.body_len = sl + 1 + n;
    m.subject_len = sl;
    *out = m;
    return ARR_OK;
}

void outreach_callback_inbound_email_free(outreach_callback_inbound_email *m)
{
    if (!m)
        return;
    free(m->body);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ intent */

/* Base letters of U+00C0..U+00FF (upper then lower case); the multiplication and division
 * signs are spaces. */
static const char LATIN1[] = "aaaaaaaceeeeiiiidnooooo ouuuuyts"
                             "aaaaaaaceeeeiiiidnooooo ouuuuyty";

#define MARK '|' /* a sentence mark (, . ; : ! ?), so "No, I'll pay" keeps its comma */

/* Folds text for matching: " word word | word " (one space between tokens, one around).
 * Letters and digits lower-cased, Latin-1 accents dropped, apostrophes removed ("don't" ->
 * "dont"), sentence punctuation a MARK, anything else (and malformed UTF-8) a space. */
static char *fold(const char *text)
{
    size_t n = strlen(text);
    char *d = malloc(2 * n + 3); /* a byte gives at most a MARK and its space */
    if (!d)
        return NULL;
    const unsigned char *u = (const unsigned char *)text;
    size_t o = 0;
    d[o++] = ' ';
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = arr_utf8_next(u, n, i, &cp);
        char c = ' ';
        if (!len) {
            len = 1;
        } else if (cp < 0x80) {
            if (is_alnum((unsigned char)cp))
                c = (char)lower((unsigned char)cp);
            else if (cp == '\'' || cp == '`')
                c = 0;
            else if (strchr(",.;:!?", (int)cp))
                c = MARK;
        } else if (cp >= 0xC0 && cp <= 0xFF) {
            c = LATIN1[cp - 0xC0];
        } else if (cp == 0x2018 || cp == 0x2019 || cp == 0x02BC) { /* curly apostrophes */
            c = 0;
        } else if (cp == 0xA1 || cp == 0xBF) { /* inverted ! and ? */
            c = MARK;
        }
        i += len;
        if (!c)
            continue;
        if (c == ' ') {
            if (d[o - 1] != ' ')
                d[o++] = ' ';
        } else if (c == MARK) {
            if (o >= 2 && d[o - 2] == MARK && d[o - 1] == ' ')
                continue;
            if (d[o - 1] != ' ')
                d[o++] = ' ';
            d[o++] = MARK;
            d[o++] = ' ';
        } else {
            d[o++] = c;
        }
    }
    if (d[o - 1] != ' ')
        d[o++] = ' ';
    d[o] = '\0';
    return d;
}

/* A phrase, folded; a trailing '*' matches any word ending ("disput*": dispute, disputed,
 * disputo). negatable: a negation right before it cancels it ("never paid it"); off for
 * phrases that start with their subject, where a word before is not about the verb ("No I
 * will pay"). */
typedef struct phrase {
    const char *text;
    int negatable;
} phrase;

static const phrase ATTORNEY_P[] = {{"attorney*", 0}, {"lawyer*", 0}, {"abogad*", 0}, {NULL, 0}};
static const phrase DISPUTE_P[] = {
    {"disput*", 0},        {"not my debt", 0}, {"not mine", 0}, {"dont owe", 0}, {"do not owe", 0},
    {"no es mi deuda", 0}, {"no es mia", 0},   {"no debo", 0},  {NULL, 0},
};
static const phrase ORIGINAL_P[] = {
    {"original creditor*", 0}, {"acreedor original*", 0}, {NULL, 0}};
static const phrase PAID_P[] = {
    {"already paid", 1}, {"i paid", 0},   {"paid it", 1},     {"ive paid", 0},
    {"i have paid", 0},  {"ya pague", 0}, {"ya lo pague", 0}, {NULL, 0},
};
static const phrase PROMISE_P[] = {
    {"i will pay", 0}, {"ill pay", 0},     {"will pay on", 0},
    {"pagare", 1},     {"voy a pagar", 1}, {NULL, 0},
};

/* Precedence: the legally weightier reading wins. Missing an attorney notice (1006.6(b)(2))
 * or a dispute or original-creditor request (1006.38) means contacting a consumer the law
 * says to leave alone or to pause for: a violation. Missing "I paid" or a promise only loses a
 * reconciliation hint or a payment plan, so they come last, and a paid claim before a promise
 * ("I already paid, I'll pay nothing more" is not a promise). STOP is decided before all of
 * these: it is the TCPA keyword test on the whole message. */
static const struct {
    outreach_callback_reply_intent intent;
    const phrase *phrases;
} RULES[] = {
    {OUTREACH_CALLBACK_INTENT_ATTORNEY, ATTORNEY_P},
    {OUTREACH_CALLBACK_INTENT_DISPUTE, DISPUTE_P},
    {OUTREACH_CALLBACK_INTENT_ORIGINAL_CREDITOR_REQUEST, ORIGINAL_P},
    {OUTREACH_CALLBACK_INTENT_PAID, PAID_P},
    {OUTREACH_CALLBACK_INTENT_PROMISE, PROMISE_P},
};

static const char *const NEGATIONS[] = {"not",  "no",   "never",  "nunca", "dont",  "didnt",
                                        "wont", "cant", "havent", "hasnt", "jamas", NULL};

/* 1 when the token ending right before folded[pos] (a space) is a negation. */
static int negated(const char *folded, size_t pos)
{
    size_t e = pos, s = pos;
    while (s > 0 && folded[s - 1] != ' ')
        s--;
    for (const char *const *w = NEGATIONS; *w; w++)
        if (strlen(*w) == e - s && memcmp(folded + s, *w, e - s) == 0)
            return 1;
    return 0;
}

static int matches(const char *folded, const phrase *ph)
{
    char needle[64];
    size_t n = strlen(ph->text);
    int prefix = ph->text[n - 1] == '*';
    if (prefix)
        n--;
    needle[0] = ' ';
    memcpy(needle + 1, ph->text, n);
    n++;
    if (!prefix)
        needle[n++] = ' ';
    needle[n] = '\0';
    for (const char *p = strstr(folded, needle); p; p = strstr(p + 1, needle))
        if (!ph->negatable || !negated(folded, (size_t)(p - folded)))
            return 1;
    return 0;
}

arr_err outreach_callback_intent(const char *text, outreach_callback_intent_out *out)
{
    if (!text || !out)
        return ARR_EINVAL;
    outreach_callback_intent_out r;
    memset(&r, 0, sizeof r);
    if (outreach_compliance_stop_keyword(text, r.keyword)) {
        r.intent = OUTREACH_CALLBACK_INTENT_STOP;
        *out = r;
        return ARR_OK;
    }
    char *folded = fold(text);
    if (!folded)
        return ARR_ENOMEM;
    r.intent = OUTREACH_CALLBACK_INTENT_OTHER;
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0] && !r.matched; i++)
        for (const phrase *ph = RULES[i].phrases; ph->text && !r.matched; ph++)
            if (matches(folded, ph)) {
                r.intent = RULES[i].intent;
                r.matched = ph->text;
            }
    free(folded);
    *out = r;
    return ARR_OK;
}

/* 1 when [a, b) alone is a STOP keyword; kw receives it. Longer lines cannot be one (a keyword
 * with a little punctuation around), so they are not copied. */
static int stop_line(const char *a, const char *b, char kw[16])
{
    char line[128];
    if ((size_t)(b - a) >= sizeof line)
        return 0;
    memcpy(line, a, (size_t)(b - a));
    line[b - a] = '\0';
    return outreach_compliance_stop_keyword(line, kw);
}

arr_err outreach_callback_email_intent(const outreach_callback_inbound_email *m,
                                       outreach_callback_intent_out *out)
{
    if (!m || !out || !m->body || m->body_len <= m->subject_len)
        return ARR_EINVAL;
    outreach_callback_intent_out r;
    memset(&r, 0, sizeof r);
    r.intent = OUTREACH_CALLBACK_INTENT_STOP;

    /* the subject without reply and forward prefixes ("Re: RE: Fwd:", Spanish "RV:") */
    const char *a = m->body, *b = m->body + m->subject_len;
    static const char *const prefixes[] = {"re:", "fwd:", "fw:", "rv:", "aw:", "tr:", "sv:"};
    for (int again = 1; again;) {
        again = 0;
        trim(&a, &b);
        for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
            if (starts_ci(a, b, prefixes[i])) {
                a += strlen(prefixes[i]);
                again = 1;
            }
    }
    if (a < b && stop_line(a, b, r.keyword)) {
        *out = r;
        return ARR_OK;
    }
    /* each line of the text: "STOP" above a signature still means STOP */
    const char *p = m->body + m->subject_len + 1, *end = m->body + m->body_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (stop_line(p, le, r.keyword)) {
            *out = r;
            return ARR_OK;
        }
        p = nl ? nl + 1 : end;
    }
    return outreach_callback_intent(m->body, out);
}

/* ------------------------------------------------------------------ names */

const char *outreach_callback_kind_name(outreach_callback_kind k)
{
    switch (k) {
    case OUTREACH_CALLBACK_MESSAGE:
        return "message";
    case OUTREACH_CALLBACK_CALL:
        return "call";
    }
    return "unknown";
}

const char *outreach_callback_state_name(outreach_callback_state s)
{
    if ((unsigned)s == 0 || (unsigned)s >= N_STATES)
        return "unknown";
    return STATES[s].name;
}

const char *outreach_callback_answered_by_name(outreach_callback_answered_by a)
{
    if ((unsigned)a >= N_ANSWERED_BY)
        return "unknown";
    return ANSWERED_BY[a];
}

const char *outreach_callback_outcome_name(outreach_callback_outcome o)
{
    switch (o) {
    case OUTREACH_CALLBACK_PENDING:
        return "pending";
    case OUTREACH_CALLBACK_DELIVERED:
        return "delivered";
    case OUTREACH_CALLBACK_UNDELIVERED_RETRY:
        return "undelivered_retry";
    case OUTREACH_CALLBACK_BAD_CONTACT:
        return "bad_contact";
    case OUTREACH_CALLBACK_OPTED_OUT:
        return "opted_out";
    case OUTREACH_CALLBACK_CALL_NO_ANSWER:
        return "call_no_answer";
    case OUTREACH_CALLBACK_CALL_VOICEMAIL:
        return "call_voicemail";
    case OUTREACH_CALLBACK_CALL_CONVERSATION:
        return "call_conversation";
    case OUTREACH_CALLBACK_CALL_ATTEMPT:
        return "call_attempt";
    }
    return "unknown";
}

const char *outreach_callback_intent_name(outreach_callback_reply_intent i)
{
    switch (i) {
    case OUTREACH_CALLBACK_INTENT_STOP:
        return "stop";
    case OUTREACH_CALLBACK_INTENT_DISPUTE:
        return "dispute";
    case OUTREACH_CALLBACK_INTENT_ORIGINAL_CREDITOR_REQUEST:
        return "original_creditor_request";
    case OUTREACH_CALLBACK_INTENT_ATTORNEY:
        return "attorney";
    case OUTREACH_CALLBACK_INTENT_PROMISE:
        return "promise";
    case OUTREACH_CALLBACK_INTENT_PAID:
        return "paid";
    case OUTREACH_CALLBACK_INTENT_OTHER:
        return "other";
    }
    return "unknown";
}
