#include "template.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "arrears/money.h"
#include "arrears/utf8.h"

/* ------------------------------------------------------------------ languages and texts */

enum { LANG_EN = 0, LANG_ES = 1, LANG_N = 2 };
static const char *const LANG_CODE[LANG_N] = {"en", "es"};

static const char *const DISCLOSURE_FIRST[LANG_N] = {
    "This is a communication from a debt collector attempting to collect a debt; any "
    "information obtained will be used for that purpose.",
    "Este mensaje es de un cobrador de deudas que intenta cobrar una deuda; usaremos para ese "
    "fin cualquier dato que obtengamos.",
};
static const char *const DISCLOSURE_LATER[LANG_N] = {
    "This communication is from a debt collector.",
    "Este mensaje proviene de un cobrador de deudas.",
};
/* Email opt-out: the text before the link; the sentence ends with "." after it. */
static const char *const EMAIL_OPT_OUT[LANG_N] = {
    "To stop emails, reply STOP or visit ",
    "Para dejar de recibir correos, responda STOP o visite ",
};
static const char *const SMS_OPT_OUT[LANG_N] = {
    "Reply STOP to opt out.",
    "Responda STOP para cancelar.",
};
static const char *const MONTHS[LANG_N][12] = {
    {"January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"},
    {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
     "octubre", "noviembre", "diciembre"},
};

/* ------------------------------------------------------------------ variables */

enum vtype { V_STR, V_LINK, V_DATE, V_MONEY, V_OPT_OUT };

typedef struct var_def {
    const char *name;
    size_t off; /* into outreach_template_vars */
    enum vtype type;
} var_def;

#define VAR(n) #n, offsetof(outreach_template_vars, n)
static const var_def VARS[] = {
    {VAR(first_name), V_STR},
    {VAR(consumer_name), V_STR},
    {VAR(consumer_address), V_STR},
    {VAR(balance), V_MONEY},
    {VAR(due_date), V_DATE},
    {VAR(payment_link), V_LINK},
    {VAR(opt_out_link), V_LINK},
    {VAR(dispute_link), V_LINK},
    {VAR(reference), V_STR},
    {VAR(creditor), V_STR},
    {VAR(collector), V_STR},
    {VAR(collector_address), V_STR},
    {VAR(agent_phone), V_STR},
    {VAR(validation_end_date), V_DATE},
    {VAR(itemization_date), V_DATE},
    {VAR(itemization_amount), V_MONEY},
    {VAR(itemization_interest), V_MONEY},
    {VAR(itemization_fees), V_MONEY},
    {VAR(itemization_payments), V_MONEY},
    {VAR(itemization_credits), V_MONEY},
    {"opt_out_text", 0, V_OPT_OUT},
};
#undef VAR
#define N_VARS (sizeof VARS / sizeof VARS[0])
_Static_assert(N_VARS <= 32, "placeholder masks are 32 bits");

static int var_index(const char *name, size_t len)
{
    for (size_t i = 0; i < N_VARS; i++)
        if (strlen(VARS[i].name) == len && memcmp(VARS[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static uint32_t var_bit(const char *name)
{
    int i = var_index(name, strlen(name));
    return i < 0 ? 0 : (uint32_t)1 << i;
}

/* The fields 1006.34(c) puts in a validation notice. */
static const char *const VALIDATION_VARS[] = {
    "consumer_name",
    "consumer_address",
    "collector",
    "collector_address",
    "creditor",
    "reference",
    "itemization_date",
    "itemization_amount",
    "itemization_interest",
    "itemization_fees",
    "itemization_payments",
    "itemization_credits",
    "balance",
    "validation_end_date",
    "dispute_link",
};

/* ------------------------------------------------------------------ the set */

typedef struct variant {
    char *subject; /* owned; NULL when none */
    char *text;    /* owned */
    char *html;    /* owned; NULL when none */
} variant;

typedef struct tmpl {
    char id[OUTREACH_TEMPLATE_ID_MAX + 1];
    outreach_template_channel channel;
    outreach_template_kind kind;
    variant v[LANG_N];
} tmpl;

struct outreach_template_set {
    char version[64];
    size_t subject_max, text_max, html_max;
    int sms_max_segments;
    size_t n;
    tmpl *t; /* owned, n entries */
};

static const char *const CHANNEL_NAMES[] = {NULL, "email", "sms", "voice", "letter"};
static const char *const KIND_NAMES[] = {NULL, "reminder", "validation_notice",
                                         "opt_out_confirmation", "cease_notice"};

const char *outreach_template_channel_name(outreach_template_channel c)
{
    return c >= OUTREACH_TEMPLATE_CHANNEL_EMAIL && c <= OUTREACH_TEMPLATE_CHANNEL_LETTER
               ? CHANNEL_NAMES[c]
               : "unknown";
}

const char *outreach_template_kind_name(outreach_template_kind k)
{
    return k >= OUTREACH_TEMPLATE_KIND_REMINDER && k <= OUTREACH_TEMPLATE_KIND_CEASE_NOTICE
               ? KIND_NAMES[k]
               : "unknown";
}

void outreach_template_set_free(outreach_template_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        for (int l = 0; l < LANG_N; l++) {
            free(set->t[i].v[l].subject);
            free(set->t[i].v[l].text);
            free(set->t[i].v[l].html);
        }
    free(set->t);
    free(set);
}

const char *outreach_template_set_version(const outreach_template_set *set)
{
    return set ? set->version : "";
}

int outreach_template_set_sms_max_segments(const outreach_template_set *set)
{
    return set ? set->sms_max_segments : 0;
}

static const tmpl *find(const outreach_template_set *set, const char *id)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->t[i].id, id) == 0)
            return &set->t[i];
    return NULL;
}

arr_err outreach_template_info(const outreach_template_set *set, const char *template_id,
                               outreach_template_channel *channel, outreach_template_kind *kind)
{
    if (!set || !template_id)
        return ARR_EINVAL;
    const tmpl *t = find(set, template_id);
    if (!t)
        return ARR_ENOTFOUND;
    if (channel)
        *channel = t->channel;
    if (kind)
        *kind = t->kind;
    return ARR_OK;
}

/* ------------------------------------------------------------------ characters */

/* C0, DEL and C1 control characters, of code points decoded by arr_utf8_next. */
static int is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* ------------------------------------------------------------------ SMS length */

/* Septets cp takes in GSM 03.38: 1 basic set, 2 extension table (escape + code), 0 neither. */
static int gsm_septets(uint32_t cp)
{
    if (cp < 0x80) {
        switch (cp) {
        case '\n':
        case '\r':
            return 1;
        case 0x0C: /* form feed */
        case '^':
        case '{':
        case '}':
        case '\\':
        case '[':
        case ']':
        case '~':
        case '|':
            return 2;
        case '`':
            return 0;
        default:
            return cp >= 0x20 && cp < 0x7F ? 1 : 0;
        }
    }
    /* The basic set's non-ASCII characters (3GPP TS 23.038 6.2.1). */
    static const uint16_t basic[] = {
        0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
        0x00C9, 0x00D1, 0x00D6, 0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6,
        0x00E8, 0x00E9, 0x00EC, 0x00F1, 0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC, 0x0393,
        0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9,
    };
    for (size_t k = 0; k < sizeof basic / sizeof basic[0]; k++)
        if (basic[k] == cp)
            return 1;
    return cp == 0x20AC ? 2 : 0; /* euro sign: extension table */
}

arr_err outreach_template_sms_measure(const char *utf8, size_t len, outreach_template_sms_info *out,
                                      char *why, size_t whylen)
{
    if (!out || (!utf8 && len))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "sms: text and out needed");
    const unsigned char *s = (const unsigned char *)utf8;
    int gsm = 1;
    size_t i = 0;
    uint32_t cp;
    while (i < len) {
        size_t n = arr_utf8_next(s, len, i, &cp);
        if (!n)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "sms: invalid UTF-8 at byte %zu", i);
        if (!gsm_septets(cp))
            gsm = 0;
        i += n;
    }
    /* Second pass: units, then segments packed greedily without splitting an escape pair or a
     * surrogate pair, as concatenated messages are built. */
    size_t single = gsm ? 160 : 70, part = gsm ? 153 : 67;
    size_t units = 0, used = 0;
    int segments = 1;
    for (i = 0; i < len;) {
        i += arr_utf8_next(s, len, i, &cp); /* valid: the first pass checked */
        size_t w = gsm ? (size_t)gsm_septets(cp) : (cp > 0xFFFF ? 2 : 1);
        units += w;
        if (used + w > part) {
            segments++;
            used = w;
        } else {
            used += w;
        }
    }
    if (units <= single)
        segments = 1;
    out->encoding = gsm ? OUTREACH_TEMPLATE_SMS_GSM7 : OUTREACH_TEMPLATE_SMS_UCS2;
    out->units = units;
    out->segments = segments;
    return ARR_OK;
}

/* ------------------------------------------------------------------ loading */

typedef struct load_ctx {
    char *why;
    size_t whylen;
} load_ctx;

/* Scans a placeholder starting at s[i] == '{' && s[i+1] == '{'. On success the name is
 * s[*name_off .. +*name_len] and the placeholder ends before s[*end]. */
static int placeholder_at(const char *s, size_t i, size_t *name_off, size_t *name_len, size_t *end)
{
    size_t p = i + 2, start = p;
    while ((s[p] >= 'a' && s[p] <= 'z') || s[p] == '_')
        p++;
    if (p == start || s[p] != '}' || s[p + 1] != '}')
        return 0;
    *name_off = start;
    *name_len = p - start;
    *end = p + 2;
    return 1;
}

/* Checks one template string: no control characters but those in controls, placeholders
 * known and allowed here. *mask gets the placeholders used. */
static arr_err check_part(load_ctx *c, const char *where, const char *s, const char *controls,
                          int allow_opt_out, uint32_t *mask)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s), i = 0;
    uint32_t m = 0;
    while (i < len) {
        uint32_t cp;
        size_t at = i, n = arr_utf8_next(u, len, i, &cp);
        if (!n)
            return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "%s: invalid UTF-8", where);
        i += n;
        if (is_control(cp) && !(cp && cp < 0x80 && strchr(controls, (int)cp)))
            return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                                   "%s: control character U+%04X at byte %zu", where, (unsigned)cp,
                                   at);
        if (cp != '{' || s[i] != '{')
            continue;
        size_t off, nlen, end;
        if (!placeholder_at(s, at, &off, &nlen, &end))
            return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                                   "%s: malformed placeholder at byte %zu (write {{name}})", where,
                                   at);
        int v = var_index(s + off, nlen);
        if (v < 0)
            return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "%s: unknown variable {{%.*s}}",
                                   where, (int)nlen, s + off);
        if (VARS[v].type == V_OPT_OUT && !allow_opt_out)
            return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                                   "%s: {{opt_out_text}} belongs in an email or sms body", where);
        m |= (uint32_t)1 << v;
        i = end;
    }
    *mask = m;
    return ARR_OK;
}

static int is_comment_key(const char *k)
{
    return k[0] == '_';
}

static arr_err only_keys(load_ctx *c, json_t *obj, const char *const *known, const char *where)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        (void)v;
        if (is_comment_key(k))
            continue;
        int ok = 0;
        for (size_t i = 0; known[i]; i++)
            if (strcmp(known[i], k) == 0)
                ok = 1;
        if (!ok)
            return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "%s: unknown key \"%s\"", where,
                                   k);
    }
    return ARR_OK;
}

static int lookup_name(const char *const *names, int n, const char *s)
{
    for (int i = 1; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return 0;
}

static arr_err opt_string(load_ctx *c, json_t *obj, const char *key, const char *where,
                          const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v)
        return ARR_OK;
    if (!json_is_string(v) || json_string_length(v) == 0)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "%s.%s: must be a non-empty string",
                               where, key);
    *out = json_string_value(v);
    return ARR_OK;
}

/* Parses one language of one template into t (channel and kind are checked against the
 * template's when already set by the other language). */
static arr_err load_variant(load_ctx *c, json_t *obj, const char *where, tmpl *t, variant *v)
{
    static const char *const known[] = {"channel", "kind", "subject", "text", "html", NULL};
    if (!json_is_object(obj))
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "%s: must be an object", where);
    arr_err e = only_keys(c, obj, known, where);
    if (e)
        return e;
    const char *channel_s, *kind_s, *subject, *text, *html;
    if ((e = opt_string(c, obj, "channel", where, &channel_s)) ||
        (e = opt_string(c, obj, "kind", where, &kind_s)) ||
        (e = opt_string(c, obj, "subject", where, &subject)) ||
        (e = opt_string(c, obj, "text", where, &text)) ||
        (e = opt_string(c, obj, "html", where, &html)))
        return e;
    int ch = channel_s ? lookup_name(CHANNEL_NAMES, 5, channel_s) : 0;
    if (!ch)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "%s.channel: must be \"email\", \"sms\", \"voice\" or \"letter\"",
                               where);
    int kind = kind_s ? lookup_name(KIND_NAMES, 5, kind_s) : OUTREACH_TEMPLATE_KIND_REMINDER;
    if (!kind)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "%s.kind: must be \"reminder\", \"validation_notice\", "
                               "\"opt_out_confirmation\" or \"cease_notice\"",
                               where);
    if (t->channel && (int)t->channel != ch)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "%s.channel: \"%s\" differs from the other language's \"%s\"", where,
                               CHANNEL_NAMES[ch], CHANNEL_NAMES[t->channel]);
    if (t->kind && (int)t->kind != kind)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "%s.kind: \"%s\" differs from the other language's \"%s\"", where,
                               KIND_NAMES[kind], KIND_NAMES[t->kind]);
    if (kind == OUTREACH_TEMPLATE_KIND_OPT_OUT_CONFIRMATION && ch != OUTREACH_TEMPLATE_CHANNEL_SMS)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "%s.kind: opt_out_confirmation is for sms only", where);
    if (kind == OUTREACH_TEMPLATE_KIND_VALIDATION_NOTICE && ch != OUTREACH_TEMPLATE_CHANNEL_EMAIL &&
        ch != OUTREACH_TEMPLATE_CHANNEL_LETTER)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "%s.kind: validation_notice is for email or letter only", where);
    if (!text)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "%s.text: must be a non-empty string", where);
    if (ch == OUTREACH_TEMPLATE_CHANNEL_EMAIL && !subject)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "%s.subject: an email needs a subject", where);
    if (subject && (ch == OUTREACH_TEMPLATE_CHANNEL_SMS || ch == OUTREACH_TEMPLATE_CHANNEL_VOICE))
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "%s.subject: not for %s", where,
                               CHANNEL_NAMES[ch]);
    if (html && ch != OUTREACH_TEMPLATE_CHANNEL_EMAIL)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "%s.html: email only", where);

    int body_opt_out = ch == OUTREACH_TEMPLATE_CHANNEL_EMAIL || ch == OUTREACH_TEMPLATE_CHANNEL_SMS;
    char w[200];
    uint32_t mask = 0, text_mask = 0, html_mask = 0;
    if (subject) {
        snprintf(w, sizeof w, "%s.subject", where);
        if ((e = check_part(c, w, subject, "", 0, &mask)))
            return e;
    }
    snprintf(w, sizeof w, "%s.text", where);
    if ((e = check_part(c, w, text, "\n", body_opt_out, &text_mask)))
        return e;
    if (html) {
        snprintf(w, sizeof w, "%s.html", where);
        if ((e = check_part(c, w, html, "\n\t", body_opt_out, &html_mask)))
            return e;
    }
    if (kind == OUTREACH_TEMPLATE_KIND_VALIDATION_NOTICE) {
        for (size_t k = 0; k < sizeof VALIDATION_VARS / sizeof VALIDATION_VARS[0]; k++) {
            uint32_t b = var_bit(VALIDATION_VARS[k]);
            const char *part = !(text_mask & b) ? "text" : html && !(html_mask & b) ? "html" : NULL;
            if (part)
                return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                                       "%s.%s: a validation notice must show {{%s}}", where, part,
                                       VALIDATION_VARS[k]);
        }
    }

    variant n = {NULL, NULL, NULL};
    n.text = strdup(text);
    n.subject = subject ? strdup(subject) : NULL;
    n.html = html ? strdup(html) : NULL;
    if (!n.text || (subject && !n.subject) || (html && !n.html)) {
        free(n.text);
        free(n.subject);
        free(n.html);
        return arr_errbuf_fail(ARR_ENOMEM, c->why, c->whylen, "%s: out of memory", where);
    }
    *v = n;
    t->channel = (outreach_template_channel)ch;
    t->kind = (outreach_template_kind)kind;
    return ARR_OK;
}

static arr_err load_limit(load_ctx *c, json_t *limits, const char *key, long long lo, long long hi,
                          long long *val)
{
    json_t *v = json_object_get(limits, key);
    if (!v)
        return ARR_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "limits.%s: must be an integer from %lld to %lld", key, lo, hi);
    *val = (long long)json_integer_value(v);
    return ARR_OK;
}

static int valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > OUTREACH_TEMPLATE_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int valid_version(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7F)
            return 0;
    return 1;
}

static arr_err load_set(load_ctx *c, json_t *root, outreach_template_set *set)
{
    static const char *const known[] = {"version", "limits", "templates", NULL};
    static const char *const known_limits[] = {"subject_bytes", "text_bytes", "html_bytes",
                                               "sms_max_segments", NULL};
    if (!json_is_object(root))
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "(top level): must be an object");
    arr_err e = only_keys(c, root, known, "(top level)");
    if (e)
        return e;
    const char *version = json_string_value(json_object_get(root, "version"));
    if (!version || !valid_version(version))
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "version: must be 1 to 63 printable characters, no spaces");
    snprintf(set->version, sizeof set->version, "%s", version);

    long long subject_max = 256, text_max = 32768, html_max = 131072, sms_max = 3;
    json_t *limits = json_object_get(root, "limits");
    if (limits) {
        if (!json_is_object(limits))
            return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "limits: must be an object");
        /* 998: the longest line RFC 5322 allows in a header. */
        if ((e = only_keys(c, limits, known_limits, "limits")) ||
            (e = load_limit(c, limits, "subject_bytes", 16, 998, &subject_max)) ||
            (e = load_limit(c, limits, "text_bytes", 64, 1 << 20, &text_max)) ||
            (e = load_limit(c, limits, "html_bytes", 64, 4 << 20, &html_max)) ||
            (e = load_limit(c, limits, "sms_max_segments", 1, 10, &sms_max)))
            return e;
    }
    set->subject_max = (size_t)subject_max;
    set->text_max = (size_t)text_max;
    set->html_max = (size_t)html_max;
    set->sms_max_segments = (int)sms_max;

    json_t *templates = json_object_get(root, "templates");
    if (!json_is_object(templates) || json_object_size(templates) == 0)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "templates: must be a non-empty object");
    if (json_object_size(templates) > OUTREACH_TEMPLATE_MAX_TEMPLATES)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "templates: more than %d",
                               OUTREACH_TEMPLATE_MAX_TEMPLATES);
    set->t = calloc(json_object_size(templates), sizeof *set->t);
    if (!set->t)
        return arr_errbuf_fail(ARR_ENOMEM, c->why, c->whylen, "templates: out of memory");
    const char *id;
    json_t *langs;
    json_object_foreach(templates, id, langs)
    {
        if (is_comment_key(id))
            continue;
        if (!valid_id(id))
            return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                                   "templates.%.80s: an id is 1 to 63 of [a-z0-9_]", id);
        char where[120];
        snprintf(where, sizeof where, "templates.%s", id);
        if (!json_is_object(langs))
            return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                                   "%s: must be an object of languages", where);
        tmpl *t = &set->t[set->n++]; /* counted now so set_free releases a half-loaded one */
        snprintf(t->id, sizeof t->id, "%s", id);
        const char *lang;
        json_t *obj;
        json_object_foreach(langs, lang, obj)
        {
            if (is_comment_key(lang))
                continue;
            int l = strcmp(lang, "en") == 0 ? LANG_EN : strcmp(lang, "es") == 0 ? LANG_ES : -1;
            if (l < 0)
                return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                                       "%s.%.20s: language not supported (en, es)", where, lang);
            char w[160];
            snprintf(w, sizeof w, "%s.%s", where, lang);
            if ((e = load_variant(c, obj, w, t, &t->v[l])))
                return e;
        }
        for (int l = 0; l < LANG_N; l++)
            if (!t->v[l].text)
                return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                                       "%s: language \"%s\" is missing (en and es are required)",
                                       where, LANG_CODE[l]);
    }
    if (set->n == 0)
        return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen,
                               "templates: must be a non-empty object");
    return ARR_OK;
}

arr_err outreach_template_set_from_json(json_t *root, outreach_template_set **out, char *why,
                                        size_t whylen)
{
    if (!root || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "templates: root and out needed");
    outreach_template_set *set = calloc(1, sizeof *set);
    if (!set)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "templates: out of memory");
    load_ctx c = {why, whylen};
    arr_err e = load_set(&c, root, set);
    if (e) {
        outreach_template_set_free(set);
        return e;
    }
    *out = set;
    return ARR_OK;
}

arr_err outreach_template_set_parse(const char *text, size_t len, outreach_template_set **out,
                                    char *why, size_t whylen)
{
    if (!text || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "templates: text and out needed");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return arr_errbuf_fail(ARR_ECONFIG, why, whylen, "line %d: %s", jerr.line, jerr.text);
    arr_err e = outreach_template_set_from_json(root, out, why, whylen);
    json_decref(root);
    return e;
}

arr_err outreach_template_set_load(const char *path, outreach_template_set **out, char *why,
                                   size_t whylen)
{
    if (!path || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "templates: path and out needed");
    FILE *f = fopen(path, "rb");
    if (!f)
        return arr_errbuf_fail(ARR_EIO, why, whylen, "%s: %s", path, strerror(errno));
    char *buf = malloc(OUTREACH_TEMPLATE_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, OUTREACH_TEMPLATE_FILE_MAX + 1, f);
    int rerr = ferror(f);
    fclose(f);
    arr_err e;
    if (rerr) {
        e = arr_errbuf_fail(ARR_EIO, why, whylen, "%s: read error", path);
    } else if (n > OUTREACH_TEMPLATE_FILE_MAX) {
        e = arr_errbuf_fail(ARR_ECONFIG, why, whylen, "%s: larger than %u bytes", path,
                            OUTREACH_TEMPLATE_FILE_MAX);
    } else {
        char inner[400] = "";
        e = outreach_template_set_parse(buf, n, out, inner, sizeof inner);
        if (e)
            arr_errbuf_set(why, whylen, "%s: %s", path, inner);
    }
    free(buf);
    return e;
}

/* ------------------------------------------------------------------ values */

typedef struct render_ctx {
    const outreach_template_set *set;
    const tmpl *t;
    int lang;
    const outreach_template_vars *vars;
    const char *opt_out_text; /* this channel's opt-out line, plain; NULL when none */
    const char *opt_out_html; /* the email's opt-out paragraph, html */
    int footer;               /* 1: the opt-out line must be in every body */
    char *why;
    size_t whylen;
} render_ctx;

static arr_err value_fail(const render_ctx *c, const char *name, const char *problem)
{
    return arr_errbuf_fail(ARR_EINVAL, c->why, c->whylen, "template %s (%s): variable %s %s",
                           c->t->id, LANG_CODE[c->lang], name, problem);
}

/* Appends a string value without its control characters; refuses what the header promises. */
static arr_err format_string(const render_ctx *c, const var_def *d, const char *s, arr_buf *val)
{
    if (!s)
        return value_fail(c, d->name, "has no value");
    size_t len = strlen(s);
    if (len > OUTREACH_TEMPLATE_VALUE_MAX) {
        char problem[64];
        snprintf(problem, sizeof problem, "is longer than %d bytes", OUTREACH_TEMPLATE_VALUE_MAX);
        return value_fail(c, d->name, problem);
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t at = i;
        uint32_t cp;
        size_t n = arr_utf8_next(u, len, i, &cp);
        if (!n)
            return value_fail(c, d->name, "is not valid UTF-8");
        i += n;
        if (!is_control(cp) && arr_buf_append(val, s + at, i - at))
            return ARR_ENOMEM;
    }
    if (val->len == 0)
        return value_fail(c, d->name, "is empty");
    if (d->type == V_LINK && strncasecmp(val->data, "https://", 8) != 0 &&
        strncasecmp(val->data, "http://", 7) != 0)
        return value_fail(c, d->name, "must start with http:// or https://");
    return ARR_OK;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static arr_err format_date(const render_ctx *c, const var_def *d, const char *s, arr_buf *val)
{
    if (!s)
        return value_fail(c, d->name, "has no value");
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int ok = strlen(s) == 10 && s[4] == '-' && s[7] == '-';
    for (int k = 0; ok && k < 10; k++)
        if (k != 4 && k != 7 && (s[k] < '0' || s[k] > '9'))
            ok = 0;
    int y = 0, m = 0, day = 0;
    if (ok) {
        y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        m = (s[5] - '0') * 10 + (s[6] - '0');
        day = (s[8] - '0') * 10 + (s[9] - '0');
        ok =
            y >= 1 && m >= 1 && m <= 12 && day >= 1 && day <= mdays[m - 1] + (m == 2 && is_leap(y));
    }
    if (!ok)
        return value_fail(c, d->name, "must be a date YYYY-MM-DD");
    arr_err e = c->lang == LANG_ES
                    ? arr_buf_appendf(val, "%d de %s de %d", day, MONTHS[LANG_ES][m - 1], y)
                    : arr_buf_appendf(val, "%s %d, %d", MONTHS[LANG_EN][m - 1], day, y);
    return e ? ARR_ENOMEM : ARR_OK;
}

static arr_err format_money(const render_ctx *c, const var_def *d, const outreach_template_money *m,
                            arr_buf *val)
{
    const char *cur = m->currency;
    if (!cur)
        return value_fail(c, d->name, "has no value");
    if (strlen(cur) != 3 || cur[0] < 'A' || cur[0] > 'Z' || cur[1] < 'A' || cur[1] > 'Z' ||
        cur[2] < 'A' || cur[2] > 'Z')
        return value_fail(c, d->name, "has a currency that is not three capital letters");
    int exp = arr_currency_decimals(cur);
    /* Magnitude without overflow for INT64_MIN. */
    uint64_t mag = m->minor < 0 ? (uint64_t)(-(m->minor + 1)) + 1 : (uint64_t)m->minor;
    uint64_t scale = 1;
    for (int k = 0; k < exp; k++)
        scale *= 10;
    uint64_t whole = mag / scale, frac = mag % scale;
    char digits[24], grouped[32];
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)whole);
    int g = 0;
    for (int k = 0; k < nd; k++) {
        if (k > 0 && (nd - k) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = digits[k];
    }
    grouped[g] = '\0';
    arr_err e = arr_buf_appendf(val, "%s%s%s%s", m->minor < 0 ? "-" : "",
                                strcmp(cur, "USD") == 0 ? "$" : cur,
                                strcmp(cur, "USD") == 0 ? "" : " ", grouped);
    if (!e && exp > 0)
        e = arr_buf_appendf(val, ".%0*llu", exp, (unsigned long long)frac);
    return e ? ARR_ENOMEM : ARR_OK;
}

/* The plain value of variable v (opt_out_text excepted), checked. */
static arr_err format_value(const render_ctx *c, int v, arr_buf *val)
{
    const var_def *d = &VARS[v];
    const char *base = (const char *)c->vars;
    if (d->type == V_MONEY) {
        outreach_template_money none = {NULL, 0};
        const outreach_template_money *m =
            base ? (const outreach_template_money *)(base + d->off) : &none;
        return format_money(c, d, m, val);
    }
    const char *s = base ? *(const char *const *)(base + d->off) : NULL;
    return d->type == V_DATE ? format_date(c, d, s, val) : format_string(c, d, s, val);
}

static arr_err append_html_escaped(arr_buf *b, const char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *ent = NULL;
        switch (s[i]) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        arr_err e = arr_buf_append(b, s + run, i - run);
        if (!e)
            e = arr_buf_append(b, ent, strlen(ent));
        if (e)
            return e;
        run = i + 1;
    }
    return arr_buf_append(b, s + run, len - run);
}

/* Expands the placeholders of tpl into out; *placed_opt_out is set when the template put the
 * opt-out line itself. Template text is trusted (it was checked at load). */
static arr_err expand(const render_ctx *c, const char *tpl, int html, arr_buf *out,
                      int *placed_opt_out)
{
    arr_buf val;
    arr_buf_init(&val, OUTREACH_TEMPLATE_VALUE_MAX + 64);
    arr_err e = ARR_OK;
    size_t run = 0, i = 0;
    while (tpl[i] && !e) {
        size_t off, nlen, end;
        if (tpl[i] != '{' || tpl[i + 1] != '{' || !placeholder_at(tpl, i, &off, &nlen, &end)) {
            i++;
            continue;
        }
        if ((e = arr_buf_append(out, tpl + run, i - run)))
            break;
        int v = var_index(tpl + off, nlen);
        if (VARS[v].type == V_OPT_OUT) {
            const char *s = html ? c->opt_out_html : c->opt_out_text;
            e = arr_buf_append(out, s, strlen(s));
            if (placed_opt_out)
                *placed_opt_out = 1;
        } else {
            arr_buf_reset(&val);
            e = format_value(c, v, &val);
            if (!e)
                e = html ? append_html_escaped(out, val.data, val.len)
                         : arr_buf_append(out, val.data, val.len);
        }
        i = run = end;
    }
    if (!e)
        e = arr_buf_append(out, tpl + run, i - run);
    arr_buf_free(&val);
    return e;
}

/* ------------------------------------------------------------------ rendering */

static arr_err limit_fail(const render_ctx *c, arr_err e, const char *part, size_t max)
{
    if (e == ARR_ELIMIT)
        return arr_errbuf_fail(ARR_ELIMIT, c->why, c->whylen,
                               "template %s (%s): the %s would exceed %zu bytes", c->t->id,
                               LANG_CODE[c->lang], part, max);
    if (e == ARR_ENOMEM)
        return arr_errbuf_fail(ARR_ENOMEM, c->why, c->whylen, "template %s: out of memory",
                               c->t->id);
    return e; /* EINVAL: why already names the variable */
}

static int lang_of(const char *lang)
{
    if (!lang)
        return -1;
    size_t n = strcspn(lang, "-_");
    if (n != 2)
        return -1;
    for (int l = 0; l < LANG_N; l++)
        if (strncasecmp(lang, LANG_CODE[l], 2) == 0)
            return l;
    return -1;
}

/* Appends newlines until b ends with a blank line (nothing when b is empty). */
static arr_err blank_line(arr_buf *b)
{
    if (b->len == 0)
        return ARR_OK;
    int have = 0;
    while ((size_t)have < b->len && have < 2 && b->data[b->len - 1 - (size_t)have] == '\n')
        have++;
    return arr_buf_append(b, "\n\n", (size_t)(2 - have));
}

static const char *find_ci(const char *hay, size_t len, const char *needle, int last)
{
    size_t n = strlen(needle);
    const char *found = NULL;
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(hay + i, needle, n) == 0) {
            found = hay + i;
            if (!last)
                break;
        }
    return found;
}

/* The email html: the disclosure right after <body ...> (or at the start), the opt-out
 * paragraph right before </body> (or at the end) unless the template placed it. */
static arr_err render_html(const render_ctx *c, const char *tpl, const char *disclosure,
                           arr_buf *out)
{
    arr_buf mid;
    arr_buf_init(&mid, out->max);
    int placed = 0;
    arr_err e = expand(c, tpl, 1, &mid, &placed);
    if (!e) {
        size_t open_end = 0, close_at = mid.len;
        const char *body = find_ci(mid.data ? mid.data : "", mid.len, "<body", 0);
        if (body && (body[5] == '>' || body[5] == ' ' || body[5] == '\t' || body[5] == '\n')) {
            const char *gt = strchr(body, '>');
            if (gt)
                open_end = (size_t)(gt + 1 - mid.data);
        }
        const char *close = find_ci(mid.data ? mid.data : "", mid.len, "</body", 1);
        if (close && (size_t)(close - mid.data) >= open_end)
            close_at = (size_t)(close - mid.data);
        e = arr_buf_append(out, mid.data, open_end);
        if (!e && disclosure) {
            e = arr_buf_append(out, "<p><strong>", 11);
            if (!e)
                e = append_html_escaped(out, disclosure, strlen(disclosure));
            if (!e)
                e = arr_buf_append(out, "</strong></p>\n", 14);
        }
        if (!e)
            e = arr_buf_append(out, mid.data + open_end, close_at - open_end);
        if (!e && c->footer && !placed)
            e = arr_buf_appendf(out, "\n%s\n", c->opt_out_html);
        if (!e)
            e = arr_buf_append(out, mid.data + close_at, mid.len - close_at);
    }
    arr_buf_free(&mid);
    return e;
}

/* The plain body: disclosure, template, opt-out line, joined as the channel reads best. */
static arr_err render_text(const render_ctx *c, const char *tpl, const char *disclosure,
                           arr_buf *out)
{
    outreach_template_channel ch = c->t->channel;
    int paragraphs =
        ch == OUTREACH_TEMPLATE_CHANNEL_EMAIL || ch == OUTREACH_TEMPLATE_CHANNEL_LETTER;
    arr_err e = ARR_OK;
    if (disclosure) {
        e = arr_buf_append(out, disclosure, strlen(disclosure));
        if (!e)
            e = paragraphs                            ? arr_buf_append(out, "\n\n", 2)
                : ch == OUTREACH_TEMPLATE_CHANNEL_SMS ? arr_buf_append(out, "\n", 1)
                                                      : arr_buf_append(out, " ", 1);
    }
    int placed = 0;
    if (!e)
        e = expand(c, tpl, 0, out, &placed);
    if (!e && c->footer && !placed) {
        e = paragraphs ? blank_line(out) : arr_buf_append(out, "\n", 1);
        if (!e)
            e = arr_buf_append(out, c->opt_out_text, strlen(c->opt_out_text));
        if (!e && paragraphs)
            e = arr_buf_append(out, "\n", 1);
    }
    return e;
}

arr_err outreach_template_render(const outreach_template_set *set, const char *template_id,
                                 const char *lang, const outreach_template_vars *vars,
                                 int third_party, int first_communication, outreach_rendered *out,
                                 char *why, size_t whylen)
{
    if (!set || !template_id || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "render: set, template_id and out needed");
    const tmpl *t = find(set, template_id);
    if (!t)
        return arr_errbuf_fail(ARR_ENOTFOUND, why, whylen, "template %.80s: not in set %s",
                               template_id, set->version);
    int l = lang_of(lang);
    int fallback = l < 0;
    if (fallback)
        l = LANG_EN;
    const variant *v = &t->v[l];
    render_ctx c = {set, t, l, vars, NULL, NULL, 0, why, whylen};
    const char *disclosure =
        third_party ? (first_communication ? DISCLOSURE_FIRST[l] : DISCLOSURE_LATER[l]) : NULL;

    arr_buf subject, text, html, link, opt_text, opt_html;
    arr_buf_init(&subject, set->subject_max);
    arr_buf_init(&text, set->text_max);
    arr_buf_init(&html, set->html_max);
    arr_buf_init(&link, OUTREACH_TEMPLATE_VALUE_MAX + 64);
    arr_buf_init(&opt_text, 2 * OUTREACH_TEMPLATE_VALUE_MAX);
    arr_buf_init(&opt_html, 16 * OUTREACH_TEMPLATE_VALUE_MAX);
    arr_err e = ARR_OK;

    if (t->channel == OUTREACH_TEMPLATE_CHANNEL_EMAIL) {
        /* Every email carries the opt-out link: no link, no email. */
        e = format_value(&c, var_index("opt_out_link", 12), &link);
        if (!e)
            e = arr_buf_appendf(&opt_text, "%s%s.", EMAIL_OPT_OUT[l], link.data);
        if (!e) {
            e = arr_buf_append(&opt_html, "<p>", 3);
            if (!e)
                e = append_html_escaped(&opt_html, EMAIL_OPT_OUT[l], strlen(EMAIL_OPT_OUT[l]));
            if (!e)
                e = arr_buf_append(&opt_html, "<a href=\"", 9);
            if (!e)
                e = append_html_escaped(&opt_html, link.data, link.len);
            if (!e)
                e = arr_buf_append(&opt_html, "\">", 2);
            if (!e)
                e = append_html_escaped(&opt_html, link.data, link.len);
            if (!e)
                e = arr_buf_append(&opt_html, "</a>.</p>", 9);
        }
        if (e == ARR_ELIMIT || e == ARR_ENOMEM)
            e = limit_fail(&c, e, "opt-out line", opt_html.max);
        c.opt_out_text = opt_text.data;
        c.opt_out_html = opt_html.data;
        c.footer = 1;
    } else if (t->channel == OUTREACH_TEMPLATE_CHANNEL_SMS &&
               t->kind != OUTREACH_TEMPLATE_KIND_OPT_OUT_CONFIRMATION) {
        c.opt_out_text = SMS_OPT_OUT[l];
        c.footer = 1;
    } else {
        /* {{opt_out_text}} is refused at load outside email and sms bodies; the confirmation
         * text may still name it, as nothing (it follows an opt-out). */
        c.opt_out_text = "";
        c.opt_out_html = "";
    }

    if (!e && v->subject)
        e = limit_fail(&c, expand(&c, v->subject, 0, &subject, NULL), "subject", set->subject_max);
    if (!e)
        e = limit_fail(&c, render_text(&c, v->text, disclosure, &text), "text", set->text_max);
    if (!e && v->html)
        e = limit_fail(&c, render_html(&c, v->html, disclosure, &html), "html", set->html_max);
    outreach_template_sms_info sms = {OUTREACH_TEMPLATE_SMS_NONE, 0, 0};
    if (!e && t->channel == OUTREACH_TEMPLATE_CHANNEL_SMS)
        e = outreach_template_sms_measure(text.data ? text.data : "", text.len, &sms, why, whylen);

    arr_buf_free(&link);
    arr_buf_free(&opt_text);
    arr_buf_free(&opt_html);
    if (e) {
        arr_buf_free(&subject);
        arr_buf_free(&text);
        arr_buf_free(&html);
        return e;
    }
    memset(out, 0, sizeof *out);
    out->channel = t->channel;
    out->kind = t->kind;
    snprintf(out->template_id, sizeof out->template_id, "%s", t->id);
    snprintf(out->version, sizeof out->version, "%s", set->version);
    memcpy(out->lang, LANG_CODE[l], 3);
    out->lang_fallback = fallback;
    out->has_subject = v->subject != NULL;
    out->has_html = v->html != NULL;
    out->subject = subject;
    out->text = text;
    out->html = html;
    out->sms = sms;
    out->over_max_segments =
        t->channel == OUTREACH_TEMPLATE_CHANNEL_SMS && sms.segments > set->sms_max_segments;
    return ARR_OK;
}

void outreach_rendered_free(outreach_rendered *r)
{
    if (!r)
        return;
    arr_buf_free(&r->subject);
    arr_buf_free(&r->text);
    arr_buf_free(&r->html);
    memset(r, 0, sizeof *r);
}
