/* scoring_strategy: loading and checking a strategy table, and the decision it gives. The
 * format and the decision are described in strategy.h. */
#include "strategy.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The schemas' money bound: a cost or a balance threshold beyond it is a typo. */
#define MONEY_MAX INT64_C(1000000000000)
#define PPM INT64_C(1000000)

static const char *const channel_names[SCORING_CH__COUNT] = {"email", "sms", "voice", "letter"};

const char *scoring_channel_name(scoring_channel c)
{
    if ((int)c < 0 || c >= SCORING_CH__COUNT)
        return NULL;
    return channel_names[c];
}

scoring_channel scoring_channel_by_name(const char *name)
{
    for (int i = 0; name && i < SCORING_CH__COUNT; i++)
        if (strcmp(channel_names[i], name) == 0)
            return (scoring_channel)i;
    return SCORING_CH_NONE;
}

/* ------------------------------------------------------------------ arithmetic */

int64_t scoring_strategy_ppm(double p)
{
    if (!(p >= 0.0 && p <= 1.0)) /* also refuses NaN */
        return -1;
    return (int64_t)(p * 1e6 + 0.5);
}

int64_t scoring_strategy_share_cents(int64_t balance_cents, int64_t ppm)
{
    if (balance_cents <= 0 || ppm <= 0)
        return 0;
    if (ppm > PPM)
        ppm = PPM;
    /* floor(b * ppm / 1e6) without forming b * ppm: with b = q * 1e6 + r it is
     * q * ppm + floor(r * ppm / 1e6), each term at most b and r * ppm below 1e12. */
    return balance_cents / PPM * ppm + balance_cents % PPM * ppm / PPM;
}

/* ------------------------------------------------------------------ loading */

static arr_err fail(char *why, size_t whylen, const char *place, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static arr_err fail(char *why, size_t whylen, const char *place, const char *fmt, ...)
{
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    arr_errbuf_set(why, whylen, "%s: %s", place, detail);
    return ARR_EINVAL;
}

/* Refuses any key of obj not in allowed (NULL-terminated): a misspelt condition must not
 * silently become "no condition". */
static arr_err known_keys(json_t *obj, const char *const *allowed, const char *place, char *why,
                          size_t whylen)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], key) == 0;
        if (!ok) {
            char at[160];
            snprintf(at, sizeof(at), "%s%s%s", place, *place ? "." : "", key);
            return fail(why, whylen, at, "unknown key");
        }
    }
    return ARR_OK;
}

/* [a-z0-9][a-z0-9_-]* that fits SCORING_STRATEGY_NAME_MAX. */
static int name_ok(const char *s)
{
    if (!s || !s[0] || strlen(s) >= SCORING_STRATEGY_NAME_MAX)
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '-')))
            return 0;
    }
    return 1;
}

/* [A-Z][A-Z0-9_]{0,63} */
static int reason_ok(const char *s)
{
    if (!s || !(s[0] >= 'A' && s[0] <= 'Z') || strlen(s) >= SCORING_STRATEGY_REASON_MAX)
        return 0;
    for (size_t i = 0; s[i]; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static arr_err parse_costs(json_t *v, scoring_strategy_table *t, char *why, size_t whylen)
{
    static const char *const keys[] = {"email", "sms", "voice", "letter", NULL};
    if (!json_is_object(v))
        return fail(why, whylen, "contact_costs_cents", "must be an object");
    arr_err e = known_keys(v, keys, "contact_costs_cents", why, whylen);
    if (e)
        return e;
    for (int c = 0; c < SCORING_CH__COUNT; c++) {
        char at[64];
        snprintf(at, sizeof(at), "contact_costs_cents.%s", channel_names[c]);
        json_t *cost = json_object_get(v, channel_names[c]);
        if (!cost)
            return fail(why, whylen, at, "is missing");
        if (!json_is_integer(cost) || json_integer_value(cost) < 0 ||
            json_integer_value(cost) > MONEY_MAX)
            return fail(why, whylen, at, "must be an integer from 0 to %lld", (long long)MONEY_MAX);
        t->contact_cost_cents[c] = json_integer_value(cost);
    }
    return ARR_OK;
}

static arr_err parse_strategies(json_t *v, scoring_strategy_table *t, char *why, size_t whylen)
{
    static const char *const keys[] = {"next_channel", NULL};
    if (!json_is_object(v) || json_object_size(v) == 0)
        return fail(why, whylen, "strategies", "must be a non-empty object");
    if (json_object_size(v) > SCORING_STRATEGY_MAX)
        return fail(why, whylen, "strategies", "at most %d", SCORING_STRATEGY_MAX);
    t->do_not_pursue = -1;
    const char *name;
    json_t *def;
    json_object_foreach(v, name, def)
    {
        char at[128];
        snprintf(at, sizeof(at), "strategies.%s", name);
        if (!name_ok(name))
            return fail(why, whylen, at, "a name must match [a-z0-9][a-z0-9_-]{0,%d}",
                        SCORING_STRATEGY_NAME_MAX - 2);
        if (!json_is_object(def))
            return fail(why, whylen, at, "must be an object");
        arr_err e = known_keys(def, keys, at, why, whylen);
        if (e)
            return e;
        scoring_strategy_def *d = &t->strategies[t->n_strategies];
        snprintf(d->name, sizeof(d->name), "%s", name);
        d->next_channel = SCORING_CH_NONE;
        json_t *ch = json_object_get(def, "next_channel");
        if (ch) {
            d->next_channel = scoring_channel_by_name(json_string_value(ch));
            if (d->next_channel == SCORING_CH_NONE)
                return fail(why, whylen, at, "next_channel must be email, sms, voice or letter");
        }
        if (strcmp(name, SCORING_STRATEGY_DO_NOT_PURSUE) == 0) {
            if (d->next_channel != SCORING_CH_NONE)
                return fail(why, whylen, at, "must not have a next_channel");
            t->do_not_pursue = t->n_strategies;
        }
        t->n_strategies++;
    }
    if (t->do_not_pursue < 0)
        return fail(why, whylen, "strategies." SCORING_STRATEGY_DO_NOT_PURSUE,
                    "must be defined: it is the strategy when contact would cost more than it "
                    "can recover");
    return ARR_OK;
}

static int strategy_index(const scoring_strategy_table *t, const char *name)
{
    for (int i = 0; name && i < t->n_strategies; i++)
        if (strcmp(t->strategies[i].name, name) == 0)
            return i;
    return -1;
}

/* One optional bound of "when": kind 'p' a probability, 'm' money, 'd' days. */
static arr_err parse_bound(json_t *when, const char *key, char kind, const char *place, int *has,
                           double *pv, int64_t *iv, char *why, size_t whylen)
{
    json_t *v = json_object_get(when, key);
    *has = v != NULL;
    if (!v)
        return ARR_OK;
    char at[160];
    snprintf(at, sizeof(at), "%s.%s", place, key);
    if (kind == 'p') {
        if (!json_is_number(v) || !(json_number_value(v) >= 0.0 && json_number_value(v) <= 1.0))
            return fail(why, whylen, at, "must be a number from 0 to 1");
        *pv = json_number_value(v);
        return ARR_OK;
    }
    int64_t lo = kind == 'd' ? 0 : -MONEY_MAX;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > MONEY_MAX)
        return fail(why, whylen, at, "must be an integer from %lld to %lld", (long long)lo,
                    (long long)MONEY_MAX);
    *iv = json_integer_value(v);
    return ARR_OK;
}

static arr_err parse_when(json_t *v, const char *place, scoring_strategy_when *w, char *why,
                          size_t whylen)
{
    static const char *const keys[] = {"min_probability",
                                       "max_probability",
                                       "min_balance_cents",
                                       "max_balance_cents",
                                       "min_expected_recovery_cents",
                                       "max_expected_recovery_cents",
                                       "min_days_past_due",
                                       "max_days_past_due",
                                       "status",
                                       NULL};
    if (!json_is_object(v))
        return fail(why, whylen, place, "must be an object");
    arr_err e = known_keys(v, keys, place, why, whylen);
    double unused_d = 0;
    int64_t unused_i = 0;
    if (!e)
        e = parse_bound(v, "min_probability", 'p', place, &w->has_min_p, &w->min_p, &unused_i, why,
                        whylen);
    if (!e)
        e = parse_bound(v, "max_probability", 'p', place, &w->has_max_p, &w->max_p, &unused_i, why,
                        whylen);
    if (!e)
        e = parse_bound(v, "min_balance_cents", 'm', place, &w->has_min_balance, &unused_d,
                        &w->min_balance_cents, why, whylen);
    if (!e)
        e = parse_bound(v, "max_balance_cents", 'm', place, &w->has_max_balance, &unused_d,
                        &w->max_balance_cents, why, whylen);
    if (!e)
        e = parse_bound(v, "min_expected_recovery_cents", 'm', place, &w->has_min_er, &unused_d,
                        &w->min_er_cents, why, whylen);
    if (!e)
        e = parse_bound(v, "max_expected_recovery_cents", 'm', place, &w->has_max_er, &unused_d,
                        &w->max_er_cents, why, whylen);
    if (!e)
        e = parse_bound(v, "min_days_past_due", 'd', place, &w->has_min_dpd, &unused_d, &w->min_dpd,
                        why, whylen);
    if (!e)
        e = parse_bound(v, "max_days_past_due", 'd', place, &w->has_max_dpd, &unused_d, &w->max_dpd,
                        why, whylen);
    if (e)
        return e;
    /* An empty range can never match: surely a mistake in the table. */
    if (w->has_min_p && w->has_max_p && !(w->min_p < w->max_p))
        return fail(why, whylen, place, "min_probability must be below max_probability");
    if (w->has_min_balance && w->has_max_balance && !(w->min_balance_cents < w->max_balance_cents))
        return fail(why, whylen, place, "min_balance_cents must be below max_balance_cents");
    if (w->has_min_er && w->has_max_er && !(w->min_er_cents < w->max_er_cents))
        return fail(why, whylen, place,
                    "min_expected_recovery_cents must be below max_expected_recovery_cents");
    if (w->has_min_dpd && w->has_max_dpd && !(w->min_dpd < w->max_dpd))
        return fail(why, whylen, place, "min_days_past_due must be below max_days_past_due");
    json_t *st = json_object_get(v, "status");
    if (st) {
        char at[160];
        snprintf(at, sizeof(at), "%s.status", place);
        if (!json_is_array(st) || json_array_size(st) == 0)
            return fail(why, whylen, at, "must be a non-empty array of statuses");
        size_t i;
        json_t *it;
        json_array_foreach(st, i, it)
        {
            int s = scoring_status_by_name(json_string_value(it));
            if (s < 0) {
                snprintf(at, sizeof(at), "%s.status[%zu]", place, i);
                return fail(why, whylen, at,
                            "must be one of none, open, paid, closed, disputed, cease");
            }
            w->status_mask |= 1u << s;
        }
    }
    return ARR_OK;
}

static int catch_all(const scoring_strategy_when *w)
{
    return !w->has_min_p && !w->has_max_p && !w->has_min_balance && !w->has_max_balance &&
           !w->has_min_er && !w->has_max_er && !w->has_min_dpd && !w->has_max_dpd &&
           !w->status_mask;
}

static arr_err parse_rules(json_t *v, scoring_strategy_table *t, char *why, size_t whylen)
{
    static const char *const keys[] = {"segment", "strategy", "reason", "when", NULL};
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(why, whylen, "rules", "must be a non-empty array");
    if (json_array_size(v) > SCORING_STRATEGY_RULES_MAX)
        return fail(why, whylen, "rules", "at most %d", SCORING_STRATEGY_RULES_MAX);
    size_t n = json_array_size(v);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(v, i);
        char place[32], at[64];
        snprintf(place, sizeof(place), "rules[%zu]", i);
        if (!json_is_object(r))
            return fail(why, whylen, place, "must be an object");
        arr_err e = known_keys(r, keys, place, why, whylen);
        if (e)
            return e;
        scoring_strategy_rule *rule = &t->rules[i];
        const char *seg = json_string_value(json_object_get(r, "segment"));
        snprintf(at, sizeof(at), "%s.segment", place);
        if (!name_ok(seg))
            return fail(why, whylen, at, "must be a name matching [a-z0-9][a-z0-9_-]{0,%d}",
                        SCORING_STRATEGY_NAME_MAX - 2);
        snprintf(rule->segment, sizeof(rule->segment), "%s", seg);
        snprintf(at, sizeof(at), "%s.strategy", place);
        json_t *sv = json_object_get(r, "strategy");
        if (!json_is_string(sv))
            return fail(why, whylen, at, "must be the name of a strategy");
        rule->strategy = strategy_index(t, json_string_value(sv));
        if (rule->strategy < 0)
            return fail(why, whylen, at, "\"%.64s\" is not in strategies", json_string_value(sv));
        json_t *rv = json_object_get(r, "reason");
        if (rv) {
            snprintf(at, sizeof(at), "%s.reason", place);
            if (!reason_ok(json_string_value(rv)))
                return fail(why, whylen, at, "must match [A-Z][A-Z0-9_]{0,63}");
            snprintf(rule->reason, sizeof(rule->reason), "%s", json_string_value(rv));
        } else {
            /* SEGMENT_ and at most 47 characters fit the 64 a reason code may have. */
            int k = snprintf(rule->reason, sizeof(rule->reason), "SEGMENT_");
            for (const char *p = seg; *p; p++, k++)
                rule->reason[k] = *p == '-' ? '_' : (*p >= 'a' && *p <= 'z') ? *p - 'a' + 'A' : *p;
            rule->reason[k] = '\0';
        }
        snprintf(at, sizeof(at), "%s.when", place);
        json_t *wv = json_object_get(r, "when");
        if (!wv)
            return fail(why, whylen, at, "is missing ({} for the catch-all)");
        e = parse_when(wv, at, &rule->when, why, whylen);
        if (e)
            return e;
        int all = catch_all(&rule->when);
        if (all && i + 1 < n)
            return fail(why, whylen, at,
                        "a catch-all before the last rule makes rules[%zu] "
                        "and after unreachable",
                        i + 1);
        if (!all && i + 1 == n)
            return fail(why, whylen, at, "the last rule must be the catch-all, \"when\": {}");
    }
    t->n_rules = (int)n;
    return ARR_OK;
}

arr_err scoring_strategy_parse(json_t *root, scoring_strategy_table *t, char *why, size_t whylen)
{
    static const char *const keys[] = {
        "format", "version", "contact_costs_cents", "budget_share", "strategies", "rules", NULL};
    if (!t)
        return fail(why, whylen, "table", "is missing");
    if (!json_is_object(root))
        return fail(why, whylen, "(top)", "must be an object");
    arr_err e = known_keys(root, keys, "", why, whylen);
    if (e)
        return e;
    /* Build into a scratch table: *t changes only when the whole file is good, so a bad
     * reload leaves the running table in place. */
    static const scoring_strategy_table empty;
    scoring_strategy_table n = empty;
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (!fmt || strcmp(fmt, SCORING_STRATEGY_FORMAT) != 0)
        return fail(why, whylen, "format", "must be \"%s\"", SCORING_STRATEGY_FORMAT);
    const char *ver = json_string_value(json_object_get(root, "version"));
    int ver_ok = ver && ver[0] && strlen(ver) < sizeof(n.version);
    for (const char *p = ver; ver_ok && *p; p++)
        ver_ok = *p >= '!' && *p <= '~';
    if (!ver_ok)
        return fail(why, whylen, "version", "must be 1 to %zu printable characters, no spaces",
                    sizeof(n.version) - 1);
    snprintf(n.version, sizeof(n.version), "%s", ver);
    e = parse_costs(json_object_get(root, "contact_costs_cents"), &n, why, whylen);
    if (e)
        return e;
    json_t *bs = json_object_get(root, "budget_share");
    n.budget_share_ppm = json_is_number(bs) ? scoring_strategy_ppm(json_number_value(bs)) : -1;
    if (n.budget_share_ppm < 0)
        return fail(why, whylen, "budget_share", "must be a number from 0 to 1");
    e = parse_strategies(json_object_get(root, "strategies"), &n, why, whylen);
    if (!e)
        e = parse_rules(json_object_get(root, "rules"), &n, why, whylen);
    if (e)
        return e;
    *t = n;
    return ARR_OK;
}

arr_err scoring_strategy_load(const char *path, scoring_strategy_table *t, char *why, size_t whylen)
{
    if (!path)
        return fail(why, whylen, "path", "is missing");
    FILE *f = fopen(path, "r");
    if (!f) {
        arr_errbuf_set(why, whylen, "%s: %s", path, strerror(errno));
        return ARR_EIO;
    }
    json_error_t jerr;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        arr_errbuf_set(why, whylen, "%s: line %d: %s", path, jerr.line, jerr.text);
        return ARR_EINVAL;
    }
    arr_err e = scoring_strategy_parse(root, t, why, whylen);
    json_decref(root);
    return e;
}

/* ------------------------------------------------------------------ deciding */

static int matches(const scoring_strategy_when *w, const scoring_strategy_input *in, int64_t er)
{
    if (w->has_min_p && !(in->probability >= w->min_p))
        return 0;
    if (w->has_max_p && !(in->probability < w->max_p))
        return 0;
    if (w->has_min_balance && in->balance_cents < w->min_balance_cents)
        return 0;
    if (w->has_max_balance && in->balance_cents >= w->max_balance_cents)
        return 0;
    if (w->has_min_er && er < w->min_er_cents)
        return 0;
    if (w->has_max_er && er >= w->max_er_cents)
        return 0;
    if (w->has_min_dpd && in->days_past_due < w->min_dpd)
        return 0;
    if (w->has_max_dpd && in->days_past_due >= w->max_dpd)
        return 0;
    if (w->status_mask && !(w->status_mask & (1u << in->status)))
        return 0;
    return 1;
}

arr_err scoring_strategy_decide(const scoring_strategy_table *t, const scoring_strategy_input *in,
                                scoring_strategy_decision *out)
{
    if (!t || !in || !out)
        return ARR_EINVAL;
    int64_t ppm = scoring_strategy_ppm(in->probability);
    if (ppm < 0 || (int)in->status < 0 || in->status >= SCORING_STATUS__COUNT)
        return ARR_EINVAL;
    int64_t er = scoring_strategy_share_cents(in->balance_cents, ppm);
    int r = 0;
    while (r < t->n_rules && !matches(&t->rules[r].when, in, er))
        r++;
    if (r == t->n_rules)
        return ARR_EINVAL; /* only a table not made by scoring_strategy_parse lacks a catch-all */
    const scoring_strategy_rule *rule = &t->rules[r];
    const scoring_strategy_def *def = &t->strategies[rule->strategy];
    scoring_strategy_decision d = {
        .expected_recovery_cents = er,
        .contact_budget_cents = scoring_strategy_share_cents(er, t->budget_share_ppm),
        .segment = rule->segment,
        .strategy = def->name,
        .reason = rule->reason,
        .next_channel = def->next_channel,
        .rule = r,
    };
    if (def->next_channel != SCORING_CH_NONE) {
        d.next_contact_cost_cents = t->contact_cost_cents[def->next_channel];
        /* Equal is still worth it: the contact pays for itself on average. */
        if (er < d.next_contact_cost_cents) {
            d.segment = SCORING_SEGMENT_NO_VALUE;
            d.strategy = t->strategies[t->do_not_pursue].name;
            d.reason = SCORING_REASON_BELOW_COST;
            d.next_channel = SCORING_CH_NONE;
            d.next_contact_cost_cents = 0;
        }
    }
    *out = d;
    return ARR_OK;
}
