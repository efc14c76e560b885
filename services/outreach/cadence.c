/* outreach_cadence: loading and checking a cadence policy, and the planner. The file format
 * and the planning rules are described in cadence.h. */
#include "cadence.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((int)OUTREACH_CADENCE_UNIT_EMAIL == (int)OUTREACH_COMPLIANCE_EMAIL &&
                   (int)OUTREACH_CADENCE_UNIT_SMS == (int)OUTREACH_COMPLIANCE_SMS &&
                   (int)OUTREACH_CADENCE_UNIT_VOICE == (int)OUTREACH_COMPLIANCE_VOICE &&
                   (int)OUTREACH_CADENCE_UNIT_LETTER == (int)OUTREACH_COMPLIANCE_LETTER,
               "a channel's cost unit has the channel's value");

#define BALANCE_ARG_MAX INT64_C(1000000000000)
#define TEMPLATE_ID_MAX 64 /* NUL included, as OUTREACH_TEMPLATE_ID_MAX + 1 */

/* ------------------------------------------------------------------ names */

static const char *const UNIT_NAMES[OUTREACH_CADENCE_UNITS] = {"email", "sms", "voice", "letter",
                                                               "agent_minute"};
static const char *const KIND_NAMES[] = {"regular", "validation_notice", "opt_out_confirmation",
                                         "cease_final_notice"};

const char *outreach_cadence_unit_name(outreach_cadence_unit u)
{
    return (int)u >= 0 && u < OUTREACH_CADENCE_UNITS ? UNIT_NAMES[u] : "unknown";
}

arr_err outreach_cadence_unit_by_name(const char *name, outreach_cadence_unit *u)
{
    if (!name || !u)
        return ARR_EINVAL;
    for (int i = 0; i < OUTREACH_CADENCE_UNITS; i++)
        if (strcmp(UNIT_NAMES[i], name) == 0) {
            *u = (outreach_cadence_unit)i;
            return ARR_OK;
        }
    return ARR_ENOTFOUND;
}

const char *outreach_cadence_channel_name(outreach_compliance_channel c)
{
    return (int)c >= 0 && c < OUTREACH_COMPLIANCE_CHANNELS ? UNIT_NAMES[c] : "unknown";
}

const char *outreach_cadence_kind_name(outreach_compliance_kind k)
{
    return (int)k >= 0 && k <= OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE ? KIND_NAMES[k] : "unknown";
}

/* ------------------------------------------------------------------ conditions */

typedef enum cond_type {
    C_HAS_EMAIL = 0,
    C_HAS_MOBILE_SMS_CONSENT,
    C_HAS_PHONE,
    C_HAS_VOICE_CONSENT,
    C_HAS_ADDRESS,
    C_THIRD_PARTY,
    C_CREDITOR,
    C_VALIDATION_NOTICE_PENDING,
    C_BALANCE_AT_LEAST,
    C_BALANCE_BELOW,
    C__COUNT
} cond_type;

typedef struct cond_def {
    const char *name;
    const char *rule_id;
    int has_arg; /* "<name>:<cents>" */
} cond_def;

#define RULE(n) OUTREACH_CADENCE_RULE_CONDITION_PREFIX n
static const cond_def CONDS[C__COUNT] = {
    {"has_email", RULE("has_email"), 0},
    {"has_mobile_sms_consent", RULE("has_mobile_sms_consent"), 0},
    {"has_phone", RULE("has_phone"), 0},
    {"has_voice_consent", RULE("has_voice_consent"), 0},
    {"has_address", RULE("has_address"), 0},
    {"third_party", RULE("third_party"), 0},
    {"creditor", RULE("creditor"), 0},
    {"validation_notice_pending", RULE("validation_notice_pending"), 0},
    {"balance_at_least", RULE("balance_at_least"), 1},
    {"balance_below", RULE("balance_below"), 1},
};
#undef RULE

/* The contact point each channel needs. */
static const cond_type CHANNEL_COND[OUTREACH_COMPLIANCE_CHANNELS] = {
    C_HAS_EMAIL, C_HAS_MOBILE_SMS_CONSENT, C_HAS_PHONE, C_HAS_ADDRESS};

typedef struct cond {
    cond_type type;
    int64_t arg;
} cond;

static int cond_holds(const cond *c, const outreach_cadence_account *a)
{
    switch (c->type) {
    case C_HAS_EMAIL:
        return a->has_email != 0;
    case C_HAS_MOBILE_SMS_CONSENT:
        return a->has_mobile && a->sms_consent;
    case C_HAS_PHONE:
        return a->has_phone != 0;
    case C_HAS_VOICE_CONSENT:
        return a->has_phone && a->voice_consent;
    case C_HAS_ADDRESS:
        return a->has_address != 0;
    case C_THIRD_PARTY:
        return a->regime == OUTREACH_COMPLIANCE_THIRD_PARTY;
    case C_CREDITOR:
        return a->regime == OUTREACH_COMPLIANCE_CREDITOR;
    case C_VALIDATION_NOTICE_PENDING:
        return !a->validation_notice_sent;
    case C_BALANCE_AT_LEAST:
        return a->balance_cents >= c->arg;
    case C_BALANCE_BELOW:
        return a->balance_cents < c->arg;
    case C__COUNT:
        break;
    }
    return 0;
}

/* ------------------------------------------------------------------ the policy */

/* Implicit conditions (at most 3) come first, then the written ones. */
#define STEP_CONDS_MAX (OUTREACH_CADENCE_MAX_CONDITIONS + 3)

typedef struct step {
    char id[OUTREACH_CADENCE_NAME_MAX];
    char template_id[TEMPLATE_ID_MAX];
    outreach_compliance_channel channel;
    outreach_compliance_kind kind;
    int from_previous;
    int64_t offset_days;
    int nconds;
    cond conds[STEP_CONDS_MAX];
} step;

typedef struct cadence {
    char name[OUTREACH_CADENCE_NAME_MAX];
    int escalate_to; /* index into the policy's cadences; -1: none */
    int64_t escalate_after_days;
    int nsteps;
    step *steps; /* owned; NULL when nsteps is 0 */
} cadence;

struct outreach_cadence_policy {
    char version[OUTREACH_CADENCE_VERSION_MAX];
    int64_t unit_cost[OUTREACH_CADENCE_UNITS];
    int weekly_cap[OUTREACH_COMPLIANCE_CHANNELS];
    int daily_cap[OUTREACH_COMPLIANCE_CHANNELS];
    int ncad;
    cadence cad[OUTREACH_CADENCE_MAX_STRATEGIES];
    int fallback; /* index of "*" */
};

void outreach_cadence_policy_free(outreach_cadence_policy *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->ncad; i++)
        free(p->cad[i].steps);
    free(p);
}

const char *outreach_cadence_policy_version(const outreach_cadence_policy *p)
{
    return p ? p->version : "";
}

static int find_cadence(const outreach_cadence_policy *p, const char *name)
{
    for (int i = 0; i < p->ncad; i++)
        if (strcmp(p->cad[i].name, name) == 0)
            return i;
    return -1;
}

static const cadence *resolve(const outreach_cadence_policy *p, const char *strategy)
{
    int i = find_cadence(p, strategy);
    return &p->cad[i >= 0 ? i : p->fallback];
}

const char *outreach_cadence_resolve(const outreach_cadence_policy *p, const char *strategy)
{
    if (!p || !strategy)
        return NULL;
    return resolve(p, strategy)->name;
}

int outreach_cadence_step_count(const outreach_cadence_policy *p, const char *strategy)
{
    if (!p || !strategy)
        return -1;
    return resolve(p, strategy)->nsteps;
}

arr_err outreach_cadence_caps(const outreach_cadence_policy *p, outreach_compliance_policy *cp)
{
    if (!p || !cp)
        return ARR_EINVAL;
    for (int c = 0; c < OUTREACH_COMPLIANCE_CHANNELS; c++) {
        cp->weekly_cap[c] = p->weekly_cap[c];
        cp->daily_cap[c] = p->daily_cap[c];
    }
    return ARR_OK;
}

arr_err outreach_cadence_unit_cost(const outreach_cadence_policy *p, outreach_cadence_unit unit,
                                   int64_t *cents)
{
    if (!p || !cents || (int)unit < 0 || unit >= OUTREACH_CADENCE_UNITS)
        return ARR_EINVAL;
    *cents = p->unit_cost[unit];
    return ARR_OK;
}

arr_err outreach_cadence_cost_sum(const outreach_cadence_policy *p,
                                  const int64_t counts[OUTREACH_CADENCE_UNITS],
                                  int64_t *total_cents, char *why, size_t whylen)
{
    if (!p || !counts || !total_cents)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "cost: policy, counts and total needed");
    int64_t sum = 0;
    for (int u = 0; u < OUTREACH_CADENCE_UNITS; u++) {
        if (counts[u] < 0)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "counts.%s: must not be negative",
                                   UNIT_NAMES[u]);
        int64_t part;
        if (__builtin_mul_overflow(counts[u], p->unit_cost[u], &part) ||
            __builtin_add_overflow(sum, part, &sum))
            return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "counts.%s: the cost overflows",
                                   UNIT_NAMES[u]);
    }
    *total_cents = sum;
    return ARR_OK;
}

/* ------------------------------------------------------------------ loading */

typedef struct load_ctx {
    const outreach_template_set *templates;
    char *why;
    size_t whylen;
} load_ctx;

/* Field paths are short (a strategy name and a step id are below 48 bytes); a longer one would
 * only be cut in the message. */
#define PLACE_MAX 256
static void place_fmt(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void place_fmt(char *dst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, PLACE_MAX, fmt, ap);
    va_end(ap);
}

static arr_err bad(const load_ctx *c, const char *place, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static arr_err bad(const load_ctx *c, const char *place, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return arr_errbuf_fail(ARR_ECONFIG, c->why, c->whylen, "%s: %s", place, detail);
}

/* Refuses any key of obj not in allowed (NULL-terminated) and not a "_" comment. */
static arr_err known_keys(const load_ctx *c, json_t *obj, const char *const *allowed,
                          const char *place)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (key[0] == '_')
            continue;
        int ok = 0;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], key) == 0;
        if (!ok) {
            char at[PLACE_MAX];
            place_fmt(at, "%s%s%s", place, *place ? "." : "", key);
            return bad(c, at, "unknown key");
        }
    }
    return ARR_OK;
}

/* [a-z0-9][a-z0-9_-]{0,46} */
static int name_ok(const char *s)
{
    if (!s || !s[0] || strlen(s) >= OUTREACH_CADENCE_NAME_MAX)
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char ch = s[i];
        int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && (i == 0 || (ch != '_' && ch != '-')))
            return 0;
    }
    return 1;
}

/* [a-z0-9_]{1,63}, as template.h */
static int template_id_ok(const char *s)
{
    if (!s || !s[0] || strlen(s) >= TEMPLATE_ID_MAX)
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return 1;
}

/* An integer in [lo, hi]. */
static arr_err int_in(const load_ctx *c, json_t *v, const char *place, int64_t lo, int64_t hi,
                      int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return bad(c, place, "must be an integer from %lld to %lld", (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return ARR_OK;
}

/* {"email": n, ...} with every name of names (count n) present. */
static arr_err per_name(const load_ctx *c, json_t *v, const char *place, const char *const *names,
                        int n, int64_t hi, int64_t *out)
{
    const char *allowed[OUTREACH_CADENCE_UNITS + 1];
    for (int i = 0; i < n; i++)
        allowed[i] = names[i];
    allowed[n] = NULL;
    if (!json_is_object(v))
        return bad(c, place, "must be an object");
    arr_err e = known_keys(c, v, allowed, place);
    if (e)
        return e;
    for (int i = 0; i < n; i++) {
        char at[PLACE_MAX];
        place_fmt(at, "%s.%s", place, names[i]);
        json_t *x = json_object_get(v, names[i]);
        if (!x)
            return bad(c, at, "is missing");
        if ((e = int_in(c, x, at, 0, hi, &out[i])) != ARR_OK)
            return e;
    }
    return ARR_OK;
}

static int channel_by_name(const char *s)
{
    for (int i = 0; s && i < OUTREACH_COMPLIANCE_CHANNELS; i++)
        if (strcmp(UNIT_NAMES[i], s) == 0)
            return i;
    return -1;
}

/* Appends condition t unless the step has it already (a written condition may repeat an
 * implicit one; repeats among written ones are refused by the caller). */
static void add_cond(step *s, cond_type t, int64_t arg)
{
    for (int i = 0; i < s->nconds; i++)
        if (s->conds[i].type == t)
            return;
    s->conds[s->nconds].type = t;
    s->conds[s->nconds].arg = arg;
    s->nconds++;
}

static arr_err parse_conditions(const load_ctx *c, json_t *v, const char *place, step *s)
{
    if (!v)
        return ARR_OK;
    if (!json_is_array(v))
        return bad(c, place, "must be an array of condition names");
    if (json_array_size(v) > OUTREACH_CADENCE_MAX_CONDITIONS)
        return bad(c, place, "at most %d conditions", OUTREACH_CADENCE_MAX_CONDITIONS);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        char at[PLACE_MAX];
        place_fmt(at, "%s[%zu]", place, i);
        const char *text = json_string_value(x);
        if (!text)
            return bad(c, at, "must be a string");
        const char *colon = strchr(text, ':');
        size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
        int t = -1;
        for (int k = 0; k < C__COUNT && t < 0; k++)
            if (strlen(CONDS[k].name) == nlen && memcmp(CONDS[k].name, text, nlen) == 0)
                t = k;
        if (t < 0)
            return bad(c, at,
                       "unknown condition \"%s\" (has_email, has_mobile_sms_consent, has_phone, "
                       "has_voice_consent, has_address, third_party, creditor, "
                       "validation_notice_pending, balance_at_least:<cents>, "
                       "balance_below:<cents>)",
                       text);
        int64_t arg = 0;
        if (CONDS[t].has_arg) {
            char *end = NULL;
            const char *num = colon ? colon + 1 : "";
            errno = 0;
            long long n = *num >= '0' && *num <= '9' ? strtoll(num, &end, 10) : -1;
            if (!colon || n < 0 || errno || !end || *end || n > BALANCE_ARG_MAX)
                return bad(c, at, "\"%s\" needs a whole number of cents from 0 to %lld: %s:5000",
                           CONDS[t].name, (long long)BALANCE_ARG_MAX, CONDS[t].name);
            arg = n;
        } else if (colon) {
            return bad(c, at, "condition \"%s\" takes no argument", CONDS[t].name);
        }
        /* repeated written conditions: refused (an implicit one may be written again) */
        for (size_t j = 0; j < i; j++) {
            const char *prev = json_string_value(json_array_get(v, j));
            size_t plen = strcspn(prev, ":");
            if (plen == nlen && memcmp(prev, text, nlen) == 0)
                return bad(c, at, "condition \"%s\" is given twice", CONDS[t].name);
        }
        add_cond(s, (cond_type)t, arg);
    }
    return ARR_OK;
}

static arr_err check_template(const load_ctx *c, const step *s, const char *place)
{
    if (!c->templates)
        return ARR_OK;
    outreach_template_channel tch;
    outreach_template_kind tkind;
    arr_err e = outreach_template_info(c->templates, s->template_id, &tch, &tkind);
    if (e == ARR_ENOTFOUND)
        return bad(c, place, "unknown template \"%s\" (template set %s)", s->template_id,
                   outreach_template_set_version(c->templates));
    if (e)
        return bad(c, place, "cannot check template \"%s\"", s->template_id);
    static const outreach_template_channel want_ch[OUTREACH_COMPLIANCE_CHANNELS] = {
        OUTREACH_TEMPLATE_CHANNEL_EMAIL, OUTREACH_TEMPLATE_CHANNEL_SMS,
        OUTREACH_TEMPLATE_CHANNEL_VOICE, OUTREACH_TEMPLATE_CHANNEL_LETTER};
    if (tch != want_ch[s->channel])
        return bad(c, place, "template \"%s\" is for %s, the step is %s", s->template_id,
                   outreach_template_channel_name(tch), UNIT_NAMES[s->channel]);
    outreach_template_kind want_kind = s->kind == OUTREACH_COMPLIANCE_VALIDATION_NOTICE
                                           ? OUTREACH_TEMPLATE_KIND_VALIDATION_NOTICE
                                           : OUTREACH_TEMPLATE_KIND_REMINDER;
    if (tkind != want_kind)
        return bad(c, place, "template \"%s\" is a %s, a %s step needs a %s", s->template_id,
                   outreach_template_kind_name(tkind), KIND_NAMES[s->kind],
                   outreach_template_kind_name(want_kind));
    return ARR_OK;
}

static arr_err parse_step(const load_ctx *c, json_t *v, const char *place, step *s)
{
    static const char *const keys[] = {"id",       "offset_days", "from",       "channel",
                                       "template", "kind",        "conditions", NULL};
    if (!json_is_object(v))
        return bad(c, place, "must be an object");
    arr_err e = known_keys(c, v, keys, place);
    if (e)
        return e;
    char at[PLACE_MAX];

    place_fmt(at, "%s.id", place);
    const char *id = json_string_value(json_object_get(v, "id"));
    if (!name_ok(id))
        return bad(c, at, "must be a string matching [a-z0-9][a-z0-9_-]{0,%d}",
                   OUTREACH_CADENCE_NAME_MAX - 2);
    snprintf(s->id, sizeof s->id, "%s", id);

    place_fmt(at, "%s.offset_days", place);
    json_t *off = json_object_get(v, "offset_days");
    if (!off)
        return bad(c, at, "is missing");
    if ((e = int_in(c, off, at, 0, OUTREACH_CADENCE_MAX_OFFSET_DAYS, &s->offset_days)) != ARR_OK)
        return e;

    place_fmt(at, "%s.from", place);
    const char *from = json_string_value(json_object_get(v, "from"));
    if (from && strcmp(from, "placement") == 0)
        s->from_previous = 0;
    else if (from && strcmp(from, "previous") == 0)
        s->from_previous = 1;
    else
        return bad(c, at, "must be \"placement\" or \"previous\"");

    place_fmt(at, "%s.channel", place);
    int ch = channel_by_name(json_string_value(json_object_get(v, "channel")));
    if (ch < 0)
        return bad(c, at, "must be \"email\", \"sms\", \"voice\" or \"letter\"");
    s->channel = (outreach_compliance_channel)ch;

    place_fmt(at, "%s.kind", place);
    json_t *kind = json_object_get(v, "kind");
    s->kind = OUTREACH_COMPLIANCE_REGULAR;
    if (kind) {
        const char *k = json_string_value(kind);
        if (k && strcmp(k, "regular") == 0)
            s->kind = OUTREACH_COMPLIANCE_REGULAR;
        else if (k && strcmp(k, "validation_notice") == 0)
            s->kind = OUTREACH_COMPLIANCE_VALIDATION_NOTICE;
        else if (k &&
                 (strcmp(k, "opt_out_confirmation") == 0 || strcmp(k, "cease_final_notice") == 0))
            return bad(c, at, "\"%s\" is sent on an event, never on a cadence", k);
        else
            return bad(c, at, "must be \"regular\" or \"validation_notice\"");
    }
    if (s->kind == OUTREACH_COMPLIANCE_VALIDATION_NOTICE &&
        s->channel != OUTREACH_COMPLIANCE_EMAIL && s->channel != OUTREACH_COMPLIANCE_LETTER)
        return bad(c, at, "a validation_notice goes by email or letter, not %s",
                   UNIT_NAMES[s->channel]);

    place_fmt(at, "%s.template", place);
    const char *tid = json_string_value(json_object_get(v, "template"));
    if (!template_id_ok(tid))
        return bad(c, at, "must be a template id matching [a-z0-9_]{1,%d}", TEMPLATE_ID_MAX - 1);
    snprintf(s->template_id, sizeof s->template_id, "%s", tid);
    if ((e = check_template(c, s, at)) != ARR_OK)
        return e;

    /* implicit conditions first, then the written ones */
    s->nconds = 0;
    add_cond(s, CHANNEL_COND[s->channel], 0);
    if (s->kind == OUTREACH_COMPLIANCE_VALIDATION_NOTICE) {
        add_cond(s, C_THIRD_PARTY, 0);
        add_cond(s, C_VALIDATION_NOTICE_PENDING, 0);
    }
    place_fmt(at, "%s.conditions", place);
    return parse_conditions(c, json_object_get(v, "conditions"), at, s);
}

static arr_err parse_cadence(const load_ctx *c, const char *name, json_t *v, cadence *cad,
                             const char **escalate_name)
{
    static const char *const keys[] = {"steps", "escalate_to", "escalate_after_days", NULL};
    char place[PLACE_MAX];
    place_fmt(place, "strategies.%s", name);
    if (strcmp(name, OUTREACH_CADENCE_FALLBACK) != 0 && !name_ok(name))
        return bad(c, place, "a strategy name must be \"*\" or match [a-z0-9][a-z0-9_-]{0,%d}",
                   OUTREACH_CADENCE_NAME_MAX - 2);
    if (!json_is_object(v))
        return bad(c, place, "must be an object");
    arr_err e = known_keys(c, v, keys, place);
    if (e)
        return e;
    snprintf(cad->name, sizeof cad->name, "%s", name);
    cad->escalate_to = -1;

    char at[PLACE_MAX];
    place_fmt(at, "%s.escalate_to", place);
    json_t *esc = json_object_get(v, "escalate_to");
    *escalate_name = NULL;
    if (esc && !json_is_null(esc)) {
        const char *en = json_string_value(esc);
        if (!en)
            return bad(c, at, "must be a strategy name or null");
        if (strcmp(en, OUTREACH_CADENCE_FALLBACK) == 0)
            return bad(c, at, "must name a strategy of this policy, not \"*\"");
        *escalate_name = en;
    }
    place_fmt(at, "%s.escalate_after_days", place);
    json_t *after = json_object_get(v, "escalate_after_days");
    cad->escalate_after_days = 0;
    if (after) {
        if (!*escalate_name)
            return bad(c, at, "only with escalate_to");
        if ((e = int_in(c, after, at, 0, OUTREACH_CADENCE_MAX_OFFSET_DAYS,
                        &cad->escalate_after_days)) != ARR_OK)
            return e;
    }

    place_fmt(at, "%s.steps", place);
    json_t *steps = json_object_get(v, "steps");
    if (!json_is_array(steps))
        return bad(c, at, "must be an array (empty for no contact)");
    size_t n = json_array_size(steps);
    if (n > OUTREACH_CADENCE_MAX_STEPS)
        return bad(c, at, "at most %d steps, not %zu", OUTREACH_CADENCE_MAX_STEPS, n);
    cad->nsteps = 0;
    if (n == 0)
        return ARR_OK;
    cad->steps = calloc(n, sizeof *cad->steps);
    if (!cad->steps)
        return arr_errbuf_fail(ARR_ENOMEM, c->why, c->whylen, "%s: out of memory", at);
    for (size_t i = 0; i < n; i++) {
        char sat[PLACE_MAX];
        place_fmt(sat, "%s.steps[%zu]", place, i);
        if ((e = parse_step(c, json_array_get(steps, i), sat, &cad->steps[i])) != ARR_OK)
            return e;
        for (size_t j = 0; j < i; j++)
            if (strcmp(cad->steps[j].id, cad->steps[i].id) == 0) {
                place_fmt(sat, "%s.steps[%zu].id", place, i);
                return bad(c, sat, "\"%s\" is also steps[%zu].id", cad->steps[i].id, j);
            }
        cad->nsteps++;
    }
    return ARR_OK;
}

/* Refuses an escalation chain that comes back to where it began, naming the chain. */
static arr_err check_cycles(const load_ctx *c, const outreach_cadence_policy *p)
{
    for (int start = 0; start < p->ncad; start++) {
        int at = p->cad[start].escalate_to;
        for (int hops = 0; at >= 0 && hops <= p->ncad; hops++) {
            if (at == start) {
                char chain[512];
                size_t len = (size_t)snprintf(chain, sizeof chain, "%s", p->cad[start].name);
                int k = p->cad[start].escalate_to;
                for (int h = 0; h <= hops && len < sizeof chain; h++) {
                    len +=
                        (size_t)snprintf(chain + len, sizeof chain - len, " -> %s", p->cad[k].name);
                    k = p->cad[k].escalate_to;
                }
                char place[PLACE_MAX];
                place_fmt(place, "strategies.%s.escalate_to", p->cad[start].name);
                return bad(c, place, "escalation cycle %s", chain);
            }
            at = p->cad[at].escalate_to;
        }
    }
    return ARR_OK;
}

static arr_err load_policy(const load_ctx *c, json_t *root, outreach_cadence_policy *p)
{
    static const char *const keys[] = {
        "format", "version", "unit_costs_cents", "weekly_caps", "daily_caps", "strategies", NULL};
    if (!json_is_object(root))
        return bad(c, "cadence policy", "must be a JSON object");
    arr_err e = known_keys(c, root, keys, "");
    if (e)
        return e;
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (!fmt || strcmp(fmt, OUTREACH_CADENCE_FORMAT) != 0)
        return bad(c, "format", "must be \"%s\"", OUTREACH_CADENCE_FORMAT);
    const char *ver = json_string_value(json_object_get(root, "version"));
    int ver_ok = ver && ver[0] && strlen(ver) < sizeof p->version;
    for (const char *q = ver; ver_ok && *q; q++)
        ver_ok = *q >= '!' && *q <= '~';
    if (!ver_ok)
        return bad(c, "version", "must be 1 to %zu printable characters, no spaces",
                   sizeof p->version - 1);
    snprintf(p->version, sizeof p->version, "%s", ver);

    json_t *costs = json_object_get(root, "unit_costs_cents");
    if (!costs)
        return bad(c, "unit_costs_cents", "is missing");
    if ((e = per_name(c, costs, "unit_costs_cents", UNIT_NAMES, OUTREACH_CADENCE_UNITS,
                      OUTREACH_CADENCE_MAX_UNIT_COST, p->unit_cost)) != ARR_OK)
        return e;
    int64_t caps[OUTREACH_COMPLIANCE_CHANNELS] = {0};
    json_t *weekly = json_object_get(root, "weekly_caps");
    if (!weekly)
        return bad(c, "weekly_caps", "is missing");
    if ((e = per_name(c, weekly, "weekly_caps", UNIT_NAMES, OUTREACH_COMPLIANCE_CHANNELS,
                      OUTREACH_CADENCE_MAX_CAP, caps)) != ARR_OK)
        return e;
    for (int i = 0; i < OUTREACH_COMPLIANCE_CHANNELS; i++)
        p->weekly_cap[i] = (int)caps[i];
    json_t *daily = json_object_get(root, "daily_caps");
    if (daily) {
        if ((e = per_name(c, daily, "daily_caps", UNIT_NAMES, OUTREACH_COMPLIANCE_CHANNELS,
                          OUTREACH_CADENCE_MAX_CAP, caps)) != ARR_OK)
            return e;
        for (int i = 0; i < OUTREACH_COMPLIANCE_CHANNELS; i++)
            p->daily_cap[i] = (int)caps[i];
    }

    json_t *strategies = json_object_get(root, "strategies");
    if (!json_is_object(strategies))
        return bad(c, "strategies", "must be an object");
    const char *esc_names[OUTREACH_CADENCE_MAX_STRATEGIES];
    const char *name;
    json_t *def;
    json_object_foreach(strategies, name, def)
    {
        if (name[0] == '_')
            continue;
        if (p->ncad >= OUTREACH_CADENCE_MAX_STRATEGIES)
            return bad(c, "strategies", "at most %d strategies", OUTREACH_CADENCE_MAX_STRATEGIES);
        /* counted before parsing so that free releases a half-parsed cadence's steps */
        cadence *cad = &p->cad[p->ncad++];
        if ((e = parse_cadence(c, name, def, cad, &esc_names[p->ncad - 1])) != ARR_OK)
            return e;
    }
    p->fallback = find_cadence(p, OUTREACH_CADENCE_FALLBACK);
    if (p->fallback < 0)
        return bad(c, "strategies.*", "is missing: it serves every strategy not named");
    for (int i = 0; i < p->ncad; i++) {
        if (!esc_names[i])
            continue;
        int t = find_cadence(p, esc_names[i]);
        if (t < 0) {
            char place[PLACE_MAX];
            place_fmt(place, "strategies.%s.escalate_to", p->cad[i].name);
            return bad(c, place, "unknown strategy \"%s\"", esc_names[i]);
        }
        p->cad[i].escalate_to = t;
    }
    return check_cycles(c, p);
}

arr_err outreach_cadence_policy_from_json(json_t *root, const outreach_template_set *templates,
                                          outreach_cadence_policy **out, char *why, size_t whylen)
{
    if (!root || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "cadence policy: root and out needed");
    outreach_cadence_policy *p = calloc(1, sizeof *p);
    if (!p)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "cadence policy: out of memory");
    load_ctx c = {templates, why, whylen};
    arr_err e = load_policy(&c, root, p);
    if (e) {
        outreach_cadence_policy_free(p);
        return e;
    }
    *out = p;
    return ARR_OK;
}

arr_err outreach_cadence_policy_parse(const char *text, size_t len,
                                      const outreach_template_set *templates,
                                      outreach_cadence_policy **out, char *why, size_t whylen)
{
    if (!text || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "cadence policy: text and out needed");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return arr_errbuf_fail(ARR_ECONFIG, why, whylen, "line %d: %s", jerr.line, jerr.text);
    arr_err e = outreach_cadence_policy_from_json(root, templates, out, why, whylen);
    json_decref(root);
    return e;
}

arr_err outreach_cadence_policy_load(const char *path, const outreach_template_set *templates,
                                     outreach_cadence_policy **out, char *why, size_t whylen)
{
    if (!path || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "cadence policy: path and out needed");
    FILE *f = fopen(path, "rb");
    if (!f)
        return arr_errbuf_fail(ARR_EIO, why, whylen, "%s: %s", path, strerror(errno));
    char *buf = malloc(OUTREACH_CADENCE_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, OUTREACH_CADENCE_FILE_MAX + 1, f);
    int rerr = ferror(f);
    fclose(f);
    arr_err e;
    if (rerr) {
        e = arr_errbuf_fail(ARR_EIO, why, whylen, "%s: read error", path);
    } else if (n > OUTREACH_CADENCE_FILE_MAX) {
        e = arr_errbuf_fail(ARR_ECONFIG, why, whylen, "%s: larger than %u bytes", path,
                            OUTREACH_CADENCE_FILE_MAX);
    } else {
        char inner[400] = "";
        e = outreach_cadence_policy_parse(buf, n, templates, out, inner, sizeof inner);
        if (e)
            arr_errbuf_set(why, whylen, "%s: %s", path, inner);
    }
    free(buf);
    return e;
}

/* ------------------------------------------------------------------ planning */

static int instant_ok(int64_t t)
{
    return t >= 0 && t < OUTREACH_COMPLIANCE_MAX_MS;
}

static arr_err check_input(const outreach_cadence_account *a, const outreach_cadence_progress *pr,
                           char *why, size_t whylen)
{
    if (!a->strategy || !a->strategy[0] || strlen(a->strategy) >= OUTREACH_CADENCE_NAME_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "account.strategy: must be 1 to %d bytes",
                               OUTREACH_CADENCE_NAME_MAX - 1);
    if (!instant_ok(a->placed_ms))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "account.placed_ms: out of range");
    if (!instant_ok(a->scored_at_ms))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "account.scored_at_ms: out of range");
    if (a->regime != OUTREACH_COMPLIANCE_THIRD_PARTY && a->regime != OUTREACH_COMPLIANCE_CREDITOR)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "account.regime: out of range");
    if (!pr)
        return ARR_OK;
    if (!pr->strategy != !pr->scored_strategy)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "progress.%s: needed with progress.%s",
                               pr->strategy ? "scored_strategy" : "strategy",
                               pr->strategy ? "strategy" : "scored_strategy");
    if (pr->strategy && (!pr->strategy[0] || strlen(pr->strategy) >= OUTREACH_CADENCE_NAME_MAX))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "progress.strategy: must be 1 to %d bytes",
                               OUTREACH_CADENCE_NAME_MAX - 1);
    if (pr->scored_strategy &&
        (!pr->scored_strategy[0] || strlen(pr->scored_strategy) >= OUTREACH_CADENCE_NAME_MAX))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "progress.scored_strategy: must be 1 to %d bytes",
                               OUTREACH_CADENCE_NAME_MAX - 1);
    if (!instant_ok(pr->start_ms))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "progress.start_ms: out of range");
    if (pr->ndone && !pr->done)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "progress.done: NULL with ndone %zu",
                               pr->ndone);
    for (size_t i = 0; i < pr->ndone; i++) {
        const outreach_cadence_done *d = &pr->done[i];
        if (!d->step_id)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "progress.done[%zu].step_id: missing",
                                   i);
        if ((int)d->channel < 0 || d->channel >= OUTREACH_COMPLIANCE_CHANNELS)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "progress.done[%zu].channel: out of range", i);
        if (!instant_ok(d->at_ms))
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "progress.done[%zu].at_ms: out of range", i);
    }
    for (int ch = 0; ch < OUTREACH_COMPLIANCE_CHANNELS; ch++)
        if (!instant_ok(pr->last_sent_ms[ch]))
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "progress.last_sent_ms[%s]: out of range", UNIT_NAMES[ch]);
    return ARR_OK;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* 1 when a contact on channel ch was sent within 24 h of due by something other than the
 * run's own steps. */
static int sent_elsewhere_same_day(const outreach_cadence_progress *pr,
                                   const outreach_cadence_done *done, size_t ndone,
                                   outreach_compliance_channel ch, int64_t due)
{
    if (!pr || pr->last_sent_ms[ch] <= 0)
        return 0;
    int64_t sent = pr->last_sent_ms[ch];
    if (!(sent > due - OUTREACH_CADENCE_DAY_MS && sent < due + OUTREACH_CADENCE_DAY_MS))
        return 0;
    for (size_t i = 0; i < ndone; i++)
        if (done[i].sent && done[i].channel == ch && done[i].at_ms == sent)
            return 0; /* our own step */
    return 1;
}

arr_err outreach_cadence_next(const outreach_cadence_policy *p,
                              const outreach_cadence_account *acct,
                              const outreach_cadence_progress *progress,
                              outreach_cadence_step_out *out, char *why, size_t whylen)
{
    if (!p || !acct || !out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "cadence: policy, account and out needed");
    arr_err e = check_input(acct, progress, why, whylen);
    if (e)
        return e;

    outreach_cadence_step_out r;
    memset(&r, 0, sizeof r);
    r.policy_version = p->version;
    snprintf(r.scored_strategy, sizeof r.scored_strategy, "%s", acct->strategy);

    const outreach_cadence_done *done = NULL;
    size_t ndone = 0;
    int fresh = !progress || !progress->strategy;
    if (fresh) {
        snprintf(r.strategy, sizeof r.strategy, "%s", acct->strategy);
        r.start_ms = acct->placed_ms;
        r.new_run = 1;
    } else if (resolve(p, acct->strategy) != resolve(p, progress->scored_strategy)) {
        if (acct->scored_at_ms <= 0)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "account.scored_at_ms: needed when the strategy changes "
                                   "cadence (%s -> %s)",
                                   progress->scored_strategy, acct->strategy);
        snprintf(r.strategy, sizeof r.strategy, "%s", acct->strategy);
        r.start_ms = max64(acct->scored_at_ms, acct->placed_ms);
        r.new_run = 1;
        r.switched = 1;
    } else {
        snprintf(r.strategy, sizeof r.strategy, "%s", progress->strategy);
        r.start_ms = progress->start_ms;
        done = progress->done;
        ndone = progress->ndone;
    }
    r.version_changed =
        !fresh && progress->policy_version && strcmp(progress->policy_version, p->version) != 0;

    const cadence *cad = resolve(p, r.strategy);
    r.cadence = cad->name;

    /* the run's last done time, and whether it sent anything */
    int64_t last_done = 0;
    int any_sent = 0;
    for (size_t i = 0; i < ndone; i++) {
        last_done = max64(last_done, done[i].at_ms);
        any_sent |= done[i].sent != 0;
    }
    /* resume after the last done step, in this policy's order */
    int first = 0;
    for (int i = 0; i < cad->nsteps; i++)
        for (size_t d = 0; d < ndone; d++)
            if (strcmp(cad->steps[i].id, done[d].step_id) == 0) {
                first = i + 1;
                break;
            }

    int64_t prev = ndone > 0 ? max64(last_done, r.start_ms) : r.start_ms;
    int64_t floor = max64(last_done, r.start_ms);
    for (int i = first; i < cad->nsteps; i++) {
        const step *s = &cad->steps[i];
        int64_t due =
            (s->from_previous ? prev : r.start_ms) + s->offset_days * OUTREACH_CADENCE_DAY_MS;
        if (due < floor)
            due = floor;
        const char *rule = NULL;
        for (int k = 0; k < s->nconds && !rule; k++)
            if (!cond_holds(&s->conds[k], acct))
                rule = CONDS[s->conds[k].type].rule_id;
        if (!rule && sent_elsewhere_same_day(progress, done, ndone, s->channel, due))
            rule = OUTREACH_CADENCE_RULE_SAME_DAY;
        if (rule) {
            outreach_cadence_skip *k = &r.skipped[r.nskipped++];
            k->step_id = s->id;
            k->rule_id = rule;
            k->template_id = s->template_id;
            k->channel = s->channel;
            k->kind = s->kind;
            k->due_ms = due;
            prev = floor = due;
            continue;
        }
        r.outcome = OUTREACH_CADENCE_STEP;
        r.step_id = s->id;
        r.step_index = i;
        r.template_id = s->template_id;
        r.channel = s->channel;
        r.kind = s->kind;
        r.due_ms = due;
        *out = r;
        return ARR_OK;
    }

    if (cad->nsteps == 0) {
        r.outcome = OUTREACH_CADENCE_NONE;
        r.rule_id = OUTREACH_CADENCE_RULE_NO_STEPS;
    } else if (any_sent) {
        r.outcome = OUTREACH_CADENCE_EXHAUSTED;
        r.rule_id = OUTREACH_CADENCE_RULE_EXHAUSTED;
    } else {
        r.outcome = OUTREACH_CADENCE_NONE;
        r.rule_id = OUTREACH_CADENCE_RULE_NONE_APPLICABLE;
    }
    if (cad->escalate_to >= 0) {
        r.escalate_to = p->cad[cad->escalate_to].name;
        r.escalate_at_ms = floor + cad->escalate_after_days * OUTREACH_CADENCE_DAY_MS;
    }
    *out = r;
    return ARR_OK;
}
