/* scoring_features: folding an account's events into scoring_state, the model's input vector
 * read from it, and the state's cache form. See features.h for the rules of each event. */
#include "features.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"

#include "arrears/uuid.h"

/* The schemas cap money at 10^12 minor units; keeping to it means sums of many amounts stay
 * far from INT64_MAX. */
#define MONEY_MAX INT64_C(1000000000000)
#define MS_PER_DAY INT64_C(86400000)

/* ------------------------------------------------------------------ names */

static const char *const feature_names[SF_COUNT] = {
    [SF_BALANCE_LOG] = "balance_log",
    [SF_DAYS_PAST_DUE] = "days_past_due",
    [SF_OPEN_DEBTS] = "open_debts",
    [SF_SVC_TELECOM] = "svc_telecom",
    [SF_SVC_WATER] = "svc_water",
    [SF_SVC_MEDICAL] = "svc_medical",
    [SF_TENURE_MONTHS] = "tenure_months",
    [SF_PRIOR_DELINQ] = "prior_delinq",
    [SF_PAYMENTS_12M] = "payments_12m",
    [SF_AUTOPAY] = "autopay",
    [SF_EMAIL_OK] = "email_ok",
    [SF_SMS_OK] = "sms_ok",
    [SF_CONTACTS] = "contacts",
    [SF_PROMISES_KEPT] = "promises_kept",
    [SF_PROMISES_BROKEN] = "promises_broken",
    [SF_PARTIAL_PAYMENTS] = "partial_payments",
};

const char *scoring_feature_name(scoring_feature f)
{
    if ((int)f < 0 || f >= SF_COUNT)
        return NULL;
    return feature_names[f];
}

int scoring_feature_by_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < SF_COUNT; i++)
        if (strcmp(feature_names[i], name) == 0)
            return i;
    return -1;
}

static const char *const status_names[SCORING_STATUS__COUNT] = {
    [SCORING_STATUS_NONE] = "none",         [SCORING_STATUS_OPEN] = "open",
    [SCORING_STATUS_PAID] = "paid",         [SCORING_STATUS_CLOSED] = "closed",
    [SCORING_STATUS_DISPUTED] = "disputed", [SCORING_STATUS_CEASE] = "cease",
};

const char *scoring_status_name(scoring_status s)
{
    if ((int)s < 0 || s >= SCORING_STATUS__COUNT)
        return NULL;
    return status_names[s];
}

int scoring_status_by_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < SCORING_STATUS__COUNT; i++)
        if (strcmp(status_names[i], name) == 0)
            return i;
    return -1;
}

/* Indexed by scoring_service; "" for unknown so that no name maps to it. */
static const char *const service_names[SCORING_SVC__COUNT] = {
    [SCORING_SVC_UNKNOWN] = "",        [SCORING_SVC_ELECTRICITY] = "electricity",
    [SCORING_SVC_GAS] = "gas",         [SCORING_SVC_WATER] = "water",
    [SCORING_SVC_TELECOM] = "telecom", [SCORING_SVC_MEDICAL] = "medical",
    [SCORING_SVC_OTHER] = "other",
};

scoring_service scoring_service_by_name(const char *name)
{
    if (!name || !*name)
        return SCORING_SVC_UNKNOWN;
    for (int i = 1; i < SCORING_SVC__COUNT; i++)
        if (strcmp(service_names[i], name) == 0)
            return (scoring_service)i;
    return SCORING_SVC_UNKNOWN;
}

/* ------------------------------------------------------------------ state */

void scoring_state_init(scoring_state *st)
{
    memset(st, 0, sizeof(*st));
    st->due_day = SCORING_DAY_UNKNOWN;
    st->tenure_months = -1;
    st->prior_delinquencies = -1;
    st->payments_12m = -1;
    st->autopay = -1;
}

int scoring_state_seen(const scoring_state *st, const char *event_id)
{
    return event_id && st->last_event_id[0] && strcmp(st->last_event_id, event_id) == 0;
}

scoring_status scoring_state_status(const scoring_state *st)
{
    if (st->lifecycle == SCORING_LC_CLOSED)
        return SCORING_STATUS_CLOSED;
    if (st->cease)
        return SCORING_STATUS_CEASE;
    if (st->disputed)
        return SCORING_STATUS_DISPUTED;
    switch (st->lifecycle) {
    case SCORING_LC_OPEN:
        return SCORING_STATUS_OPEN;
    case SCORING_LC_PAID:
        return SCORING_STATUS_PAID;
    default:
        return SCORING_STATUS_NONE;
    }
}

/* ------------------------------------------------------------------ payload fields */

static arr_err bad(char *why, size_t whylen, const char *field, const char *detail)
{
    arr_errbuf_set(why, whylen, "field payload.%s: %s", field, detail);
    return ARR_EINVAL;
}

/* An integer field in [min, max]. Absent: ARR_OK with *present 0 when present is given,
 * else an error. */
static arr_err int_field(json_t *obj, const char *key, const char *field, int64_t min, int64_t max,
                         int64_t *out, int *present, char *why, size_t whylen)
{
    json_t *v = json_object_get(obj, key);
    if (present)
        *present = v != NULL;
    if (!v) {
        if (present)
            return ARR_OK;
        return bad(why, whylen, field, "is missing");
    }
    if (!json_is_integer(v))
        return bad(why, whylen, field, "must be an integer");
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) {
        arr_errbuf_set(why, whylen, "field payload.%s: must be from %lld to %lld", field,
                       (long long)min, (long long)max);
        return ARR_EINVAL;
    }
    *out = i;
    return ARR_OK;
}

/* A boolean field; absent: *out = -1 when optional, else an error. */
static arr_err bool_field(json_t *obj, const char *key, const char *field, int optional,
                          int32_t *out, char *why, size_t whylen)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (optional) {
            *out = -1;
            return ARR_OK;
        }
        return bad(why, whylen, field, "is missing");
    }
    if (!json_is_boolean(v))
        return bad(why, whylen, field, "must be true or false");
    *out = json_is_true(v) ? 1 : 0;
    return ARR_OK;
}

static arr_err currency_field(json_t *obj, char out[4], char *why, size_t whylen)
{
    json_t *v = json_object_get(obj, "currency");
    if (!v)
        return bad(why, whylen, "currency", "is missing");
    const char *s = json_string_value(v);
    if (!s || json_string_length(v) != 3)
        return bad(why, whylen, "currency", "must be a 3-letter ISO 4217 code");
    for (int i = 0; i < 3; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return bad(why, whylen, "currency", "must be a 3-letter ISO 4217 code");
    memcpy(out, s, 4);
    return ARR_OK;
}

/* A payment's currency must be the account's: scoring adds and compares its amounts. */
static arr_err same_currency(scoring_state *n, json_t *payload, char *why, size_t whylen)
{
    char cur[4];
    arr_err e = currency_field(payload, cur, why, whylen);
    if (e)
        return e;
    if (n->currency[0] && strcmp(cur, n->currency) != 0) {
        arr_errbuf_set(why, whylen, "field payload.currency: %s is not the account's currency %s",
                       cur, n->currency);
        return ARR_EINVAL;
    }
    memcpy(n->currency, cur, 4);
    return ARR_OK;
}

/* "YYYY-MM-DD", a real calendar date, to days since the epoch; -1 when malformed. */
static int parse_date(const char *s, int32_t *out)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return -1;
    *out = (int32_t)arr_days_from_civil(y, m, d);
    return 0;
}

static int32_t sat_inc(int32_t v)
{
    return v < INT32_MAX ? v + 1 : v;
}

/* ------------------------------------------------------------------ events */

/* The consent flags of the debtor's contact points. Only consent is read: the addresses and
 * numbers themselves never leave the payload. */
static arr_err fold_debtor(scoring_state *n, json_t *debtor, char *why, size_t whylen)
{
    n->email_ok = 0;
    n->sms_ok = 0;
    if (!debtor)
        return ARR_OK;
    if (!json_is_object(debtor))
        return bad(why, whylen, "debtor", "must be an object");
    char field[64];
    json_t *emails = json_object_get(debtor, "emails");
    if (emails && !json_is_array(emails))
        return bad(why, whylen, "debtor.emails", "must be an array");
    size_t i;
    json_t *it;
    json_array_foreach(emails, i, it)
    {
        int32_t consent;
        if (!json_is_object(it)) {
            snprintf(field, sizeof(field), "debtor.emails[%zu]", i);
            return bad(why, whylen, field, "must be an object");
        }
        snprintf(field, sizeof(field), "debtor.emails[%zu].consent", i);
        arr_err e = bool_field(it, "consent", field, 0, &consent, why, whylen);
        if (e)
            return e;
        if (consent)
            n->email_ok = 1;
    }
    json_t *phones = json_object_get(debtor, "phones");
    if (phones && !json_is_array(phones))
        return bad(why, whylen, "debtor.phones", "must be an array");
    json_array_foreach(phones, i, it)
    {
        if (!json_is_object(it)) {
            snprintf(field, sizeof(field), "debtor.phones[%zu]", i);
            return bad(why, whylen, field, "must be an object");
        }
        const char *type = json_string_value(json_object_get(it, "type"));
        if (!type || (strcmp(type, "mobile") != 0 && strcmp(type, "landline") != 0)) {
            snprintf(field, sizeof(field), "debtor.phones[%zu].type", i);
            return bad(why, whylen, field, "must be mobile or landline");
        }
        int32_t consent;
        snprintf(field, sizeof(field), "debtor.phones[%zu].sms_consent", i);
        arr_err e = bool_field(it, "sms_consent", field, 0, &consent, why, whylen);
        if (e)
            return e;
        /* Consent on a landline means nothing for texts (ingest drops it anyway). */
        if (consent && strcmp(type, "mobile") == 0)
            n->sms_ok = 1;
    }
    return ARR_OK;
}

static arr_err fold_profile(scoring_state *n, json_t *profile, char *why, size_t whylen)
{
    n->tenure_months = n->prior_delinquencies = n->payments_12m = n->autopay = -1;
    if (!profile)
        return ARR_OK;
    if (!json_is_object(profile))
        return bad(why, whylen, "profile", "must be an object");
    static const struct {
        const char *key, *field;
        size_t off;
    } counts[] = {
        {"tenure_months", "profile.tenure_months", offsetof(scoring_state, tenure_months)},
        {"prior_delinquencies", "profile.prior_delinquencies",
         offsetof(scoring_state, prior_delinquencies)},
        {"payments_12m", "profile.payments_12m", offsetof(scoring_state, payments_12m)},
    };
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        int64_t v;
        int present;
        arr_err e = int_field(profile, counts[k].key, counts[k].field, 0, 999999999, &v, &present,
                              why, whylen);
        if (e)
            return e;
        if (present)
            *(int32_t *)((char *)n + counts[k].off) = (int32_t)v;
    }
    return bool_field(profile, "autopay", "profile.autopay", 1, &n->autopay, why, whylen);
}

/* account.placed and account.updated carry the whole account. */
static arr_err fold_account(scoring_state *n, json_t *p, int placed, char *why, size_t whylen)
{
    int64_t bal, orig;
    arr_err e = int_field(p, "balance_cents", "balance_cents", -MONEY_MAX, MONEY_MAX, &bal, NULL,
                          why, whylen);
    if (!e)
        e = int_field(p, "original_balance_cents", "original_balance_cents", 0, MONEY_MAX, &orig,
                      NULL, why, whylen);
    if (!e)
        e = currency_field(p, n->currency, why, whylen);
    if (e)
        return e;
    json_t *due = json_object_get(p, "due_date");
    if (!due)
        return bad(why, whylen, "due_date", "is missing");
    if (parse_date(json_string_value(due), &n->due_day) != 0)
        return bad(why, whylen, "due_date", "must be a calendar date YYYY-MM-DD");
    const char *svc = json_string_value(json_object_get(p, "service_type"));
    if (!svc)
        return bad(why, whylen, "service_type", "is missing or not a string");
    n->service = scoring_service_by_name(svc);
    if (n->service == SCORING_SVC_UNKNOWN)
        return bad(why, whylen, "service_type",
                   "must be electricity, gas, water, telecom, medical or other");
    e = fold_profile(n, json_object_get(p, "profile"), why, whylen);
    if (!e)
        e = fold_debtor(n, json_object_get(p, "debtor"), why, whylen);
    if (e)
        return e;
    n->balance_cents = bal;
    n->original_balance_cents = orig;
    /* A new placement reopens a recalled account; an update of a closed one does not. */
    if (placed || n->lifecycle != SCORING_LC_CLOSED)
        n->lifecycle = bal > 0 ? SCORING_LC_OPEN : SCORING_LC_PAID;
    return ARR_OK;
}

static arr_err fold_closed(scoring_state *n, json_t *p, char *why, size_t whylen)
{
    int64_t bal;
    int present;
    arr_err e = int_field(p, "balance_cents", "balance_cents", -MONEY_MAX, MONEY_MAX, &bal,
                          &present, why, whylen);
    if (e)
        return e;
    if (present)
        n->balance_cents = bal;
    n->lifecycle = SCORING_LC_CLOSED;
    return ARR_OK;
}

static arr_err fold_applied(scoring_state *n, json_t *p, char *why, size_t whylen)
{
    int64_t amount, after, credit = 0;
    int has_credit;
    arr_err e =
        int_field(p, "amount_cents", "amount_cents", 1, MONEY_MAX, &amount, NULL, why, whylen);
    if (!e)
        e = int_field(p, "balance_after_cents", "balance_after_cents", 0, MONEY_MAX, &after, NULL,
                      why, whylen);
    if (!e)
        e = int_field(p, "credit_cents", "credit_cents", 0, MONEY_MAX, &credit, &has_credit, why,
                      whylen);
    if (!e)
        e = same_currency(n, p, why, whylen);
    if (e)
        return e;
    /* An overpayment kept as a credit is owed to the consumer: a negative balance. */
    n->balance_cents = after - credit;
    n->payments = sat_inc(n->payments);
    n->payments_total_cents =
        n->payments_total_cents > INT64_MAX - amount ? INT64_MAX : n->payments_total_cents + amount;
    if (n->balance_cents > 0)
        n->partial_payments = sat_inc(n->partial_payments);
    else if (n->lifecycle == SCORING_LC_OPEN)
        n->lifecycle = SCORING_LC_PAID;
    if (n->promise_open) {
        n->promise_paid_cents =
            n->promise_paid_cents > INT64_MAX - amount ? INT64_MAX : n->promise_paid_cents + amount;
        /* An unspecified amount is kept by any payment. */
        if (n->promise_amount_cents == 0 || n->promise_paid_cents >= n->promise_amount_cents ||
            n->balance_cents <= 0) {
            n->promises_kept = sat_inc(n->promises_kept);
            n->promise_open = 0;
            n->promise_amount_cents = n->promise_paid_cents = 0;
        }
    }
    return ARR_OK;
}

static arr_err fold_reversed(scoring_state *n, json_t *p, char *why, size_t whylen)
{
    int64_t amount, after;
    arr_err e =
        int_field(p, "amount_cents", "amount_cents", 1, MONEY_MAX, &amount, NULL, why, whylen);
    if (!e)
        e = int_field(p, "balance_after_cents", "balance_after_cents", 0, MONEY_MAX, &after, NULL,
                      why, whylen);
    if (!e)
        e = same_currency(n, p, why, whylen);
    if (e)
        return e;
    n->balance_cents = after;
    /* Floor at 0: the reversal of a payment applied before this state was built. */
    n->payments_total_cents =
        n->payments_total_cents > amount ? n->payments_total_cents - amount : 0;
    if (n->lifecycle == SCORING_LC_PAID && n->balance_cents > 0)
        n->lifecycle = SCORING_LC_OPEN;
    return ARR_OK;
}

static arr_err fold_reply(scoring_state *n, json_t *p, char *why, size_t whylen)
{
    const char *intent = json_string_value(json_object_get(p, "intent"));
    if (!intent)
        return bad(why, whylen, "intent", "is missing or not a string");
    /* A STOP opts the consumer out of one channel (texts from that number): outreach applies
     * it there, and the other channels go on. Only an attorney ends direct contact. */
    if (strcmp(intent, "attorney") == 0) {
        n->cease = 1;
    } else if (strcmp(intent, "dispute") == 0 || strcmp(intent, "original_creditor_request") == 0) {
        n->disputed = 1;
    } else if (strcmp(intent, "promise") == 0) {
        int64_t amount = 0;
        int present;
        arr_err e = int_field(p, "promised_amount_cents", "promised_amount_cents", 1, MONEY_MAX,
                              &amount, &present, why, whylen);
        if (e)
            return e;
        if (present && (e = same_currency(n, p, why, whylen)) != ARR_OK)
            return e;
        /* The consumer's latest word replaces an earlier pending promise. */
        n->promise_open = 1;
        n->promise_amount_cents = amount;
        n->promise_paid_cents = 0;
    }
    /* "paid" is the consumer's claim, not a payment: reconciliation will say. Unknown
     * intents (a later schema) change nothing either. */
    return ARR_OK;
}

arr_err scoring_state_apply(scoring_state *st, const char *event_type, json_t *payload,
                            int64_t event_time_ms, const char *event_id, char *why, size_t whylen)
{
    enum {
        EV_PLACED,
        EV_UPDATED,
        EV_CLOSED,
        EV_APPLIED,
        EV_REVERSED,
        EV_BROKEN,
        EV_MISSED,
        EV_SENT,
        EV_REPLY
    };
    static const char *const types[] = {
        [EV_PLACED] = "account.placed",         [EV_UPDATED] = "account.updated",
        [EV_CLOSED] = "account.closed",         [EV_APPLIED] = "payment.applied",
        [EV_REVERSED] = "payment.reversed",     [EV_BROKEN] = "promise.broken",
        [EV_MISSED] = "plan.instalment_missed", [EV_SENT] = "outreach.sent",
        [EV_REPLY] = "reply.received",
    };
    if (!st || !event_type) {
        arr_errbuf_set(why, whylen, "state and event type are required");
        return ARR_EINVAL;
    }
    int ev = -1;
    for (int i = 0; i < (int)(sizeof(types) / sizeof(types[0])); i++)
        if (strcmp(event_type, types[i]) == 0)
            ev = i;
    if (ev < 0)
        return ARR_OK;
    if (scoring_state_seen(st, event_id))
        return ARR_OK;
    if (!event_id || !arr_uuid_valid(event_id)) {
        arr_errbuf_set(why, whylen, "field event_id: must be a UUID");
        return ARR_EINVAL;
    }
    if (!json_is_object(payload)) {
        arr_errbuf_set(why, whylen, "field payload: must be an object");
        return ARR_EINVAL;
    }
    /* Work on a copy so that a rejected event leaves the state as it was; memcpy rather
     * than assignment keeps the padding too, so states stay comparable with memcmp. */
    scoring_state n;
    memcpy(&n, st, sizeof(n));
    arr_err e = ARR_OK;
    switch (ev) {
    case EV_PLACED:
    case EV_UPDATED:
        e = fold_account(&n, payload, ev == EV_PLACED, why, whylen);
        break;
    case EV_CLOSED:
        e = fold_closed(&n, payload, why, whylen);
        break;
    case EV_APPLIED:
        e = fold_applied(&n, payload, why, whylen);
        break;
    case EV_REVERSED:
        e = fold_reversed(&n, payload, why, whylen);
        break;
    case EV_BROKEN:
        n.promises_broken = sat_inc(n.promises_broken);
        n.promise_open = 0;
        n.promise_amount_cents = n.promise_paid_cents = 0;
        break;
    case EV_MISSED:
        /* An instalment of a payment plan is a promise of its own. */
        n.promises_broken = sat_inc(n.promises_broken);
        break;
    case EV_SENT:
        n.contacts = sat_inc(n.contacts);
        break;
    case EV_REPLY:
        e = fold_reply(&n, payload, why, whylen);
        break;
    }
    if (e)
        return e;
    n.open_debts = n.lifecycle == SCORING_LC_OPEN && n.balance_cents > 0 ? 1 : 0;
    n.last_event_ms = event_time_ms;
    n.version = n.version < INT64_MAX ? n.version + 1 : n.version;
    memcpy(n.last_event_id, event_id, 37);
    memcpy(st, &n, sizeof(n));
    return ARR_OK;
}

/* ------------------------------------------------------------------ features */

/* Floor division: event times before 1970 still fall on the right day. */
static int64_t day_of(int64_t ms)
{
    int64_t d = ms / MS_PER_DAY;
    return ms % MS_PER_DAY < 0 ? d - 1 : d;
}

void scoring_features_vector(const scoring_state *st, int64_t as_of_ms, double x[SF_COUNT])
{
    for (int i = 0; i < SF_COUNT; i++)
        x[i] = 0.0;
    x[SF_BALANCE_LOG] = st->balance_cents > 0 ? log1p((double)st->balance_cents / 100.0) : 0.0;
    if (st->due_day != SCORING_DAY_UNKNOWN) {
        int64_t dpd = day_of(as_of_ms) - st->due_day;
        x[SF_DAYS_PAST_DUE] = dpd > 0 ? (double)dpd : 0.0;
    }
    x[SF_OPEN_DEBTS] = st->open_debts;
    x[SF_SVC_TELECOM] = st->service == SCORING_SVC_TELECOM;
    x[SF_SVC_WATER] = st->service == SCORING_SVC_WATER;
    x[SF_SVC_MEDICAL] = st->service == SCORING_SVC_MEDICAL;
    x[SF_TENURE_MONTHS] =
        st->tenure_months < 0 ? SCORING_DEFAULT_TENURE_MONTHS : (double)st->tenure_months;
    x[SF_PRIOR_DELINQ] = st->prior_delinquencies < 0 ? 0.0 : st->prior_delinquencies;
    x[SF_PAYMENTS_12M] = st->payments_12m < 0 ? 0.0 : st->payments_12m;
    x[SF_AUTOPAY] = st->autopay == 1;
    x[SF_EMAIL_OK] = st->email_ok == 1;
    x[SF_SMS_OK] = st->sms_ok == 1;
    x[SF_CONTACTS] = st->contacts;
    x[SF_PROMISES_KEPT] = st->promises_kept;
    x[SF_PROMISES_BROKEN] = st->promises_broken;
    x[SF_PARTIAL_PAYMENTS] = st->partial_payments;
}

/* ------------------------------------------------------------------ cache form */

#define STATE_TAG "v1"

typedef enum fkind { F_I64, F_I32, F_CUR, F_DAY, F_ID } fkind;

/* The encoded fields, in order, with the range decode accepts. */
static const struct sfield {
    const char *name;
    fkind kind;
    size_t off;
    int64_t min, max;
} sfields[] = {
#define I64(f, lo, hi)                                                                             \
    {                                                                                              \
#f, F_I64, offsetof(scoring_state, f), lo, hi                                              \
    }
#define I32(f, lo, hi)                                                                             \
    {                                                                                              \
#f, F_I32, offsetof(scoring_state, f), lo, hi                                              \
    }
    I64(balance_cents, INT64_MIN, INT64_MAX),
    I64(original_balance_cents, INT64_MIN, INT64_MAX),
    {"currency", F_CUR, offsetof(scoring_state, currency), 0, 0},
    {"due_day", F_DAY, offsetof(scoring_state, due_day), INT32_MIN + 1, INT32_MAX},
    I32(service, 0, SCORING_SVC__COUNT - 1),
    I32(open_debts, 0, INT32_MAX),
    I32(tenure_months, -1, INT32_MAX),
    I32(prior_delinquencies, -1, INT32_MAX),
    I32(payments_12m, -1, INT32_MAX),
    I32(autopay, -1, 1),
    I32(email_ok, 0, 1),
    I32(sms_ok, 0, 1),
    I32(contacts, 0, INT32_MAX),
    I32(promises_kept, 0, INT32_MAX),
    I32(promises_broken, 0, INT32_MAX),
    I32(promise_open, 0, 1),
    I64(promise_amount_cents, 0, INT64_MAX),
    I64(promise_paid_cents, 0, INT64_MAX),
    I32(partial_payments, 0, INT32_MAX),
    I32(payments, 0, INT32_MAX),
    I64(payments_total_cents, 0, INT64_MAX),
    I32(lifecycle, 0, SCORING_LC__COUNT - 1),
    I32(disputed, 0, 1),
    I32(cease, 0, 1),
    I64(last_event_ms, INT64_MIN, INT64_MAX),
    I64(version, 0, INT64_MAX),
    {"last_event_id", F_ID, offsetof(scoring_state, last_event_id), 0, 0},
#undef I64
#undef I32
};
#define N_SFIELDS (sizeof(sfields) / sizeof(sfields[0]))

arr_err scoring_state_encode(const scoring_state *st, char *buf, size_t cap, size_t *len)
{
    char tmp[SCORING_STATE_ENCODED_MAX];
    size_t n = (size_t)snprintf(tmp, sizeof(tmp), "%s", STATE_TAG);
    for (size_t i = 0; i < N_SFIELDS; i++) {
        const struct sfield *f = &sfields[i];
        const char *p = (const char *)st + f->off;
        char *out = tmp + n;
        size_t room = sizeof(tmp) - n;
        int w;
        switch (f->kind) {
        case F_I64: {
            int64_t v;
            memcpy(&v, p, sizeof(v));
            w = snprintf(out, room, "|%lld", (long long)v);
            break;
        }
        case F_I32: {
            int32_t v;
            memcpy(&v, p, sizeof(v));
            w = snprintf(out, room, "|%ld", (long)v);
            break;
        }
        case F_DAY: {
            int32_t v;
            memcpy(&v, p, sizeof(v));
            w = v == SCORING_DAY_UNKNOWN ? snprintf(out, room, "|-")
                                         : snprintf(out, room, "|%ld", (long)v);
            break;
        }
        default: /* F_CUR, F_ID: text fields, "-" when empty */
            w = snprintf(out, room, "|%s", *p ? p : "-");
            break;
        }
        if (w < 0 || (size_t)w >= room)
            return ARR_ELIMIT; /* cannot happen with valid fields: the maximum is ~400 bytes */
        n += (size_t)w;
    }
    if (n + 1 > cap)
        return ARR_ELIMIT;
    memcpy(buf, tmp, n + 1);
    *len = n;
    return ARR_OK;
}

/* Canonical decimal only ("-0", leading zeros and '+' refused), so that every state has
 * exactly one text. */
static int parse_i64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 19 || (s[i] == '0' && n - i > 1) || (neg && s[i] == '0'))
        return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)v;
    }
    return 0;
}

arr_err scoring_state_decode(const char *buf, size_t len, scoring_state *st, char *why,
                             size_t whylen)
{
    if (!buf || !st) {
        arr_errbuf_set(why, whylen, "state text is missing");
        return ARR_EINVAL;
    }
    size_t taglen = strlen(STATE_TAG);
    if (len < taglen + 1 || memcmp(buf, STATE_TAG "|", taglen + 1) != 0) {
        arr_errbuf_set(why, whylen, "not a " STATE_TAG " scoring state");
        return ARR_EINVAL;
    }
    scoring_state n;
    scoring_state_init(&n);
    size_t pos = taglen + 1;
    for (size_t i = 0; i < N_SFIELDS; i++) {
        const struct sfield *f = &sfields[i];
        size_t end = pos;
        while (end < len && buf[end] != '|')
            end++;
        int last = i + 1 == N_SFIELDS;
        if ((last && end != len) || (!last && end == len)) {
            arr_errbuf_set(why, whylen, "expected %zu fields after the version", N_SFIELDS);
            return ARR_EINVAL;
        }
        const char *s = buf + pos;
        size_t sl = end - pos;
        char *dst = (char *)&n + f->off;
        int dash = sl == 1 && s[0] == '-';
        int ok = 1;
        if (f->kind == F_CUR) {
            if (dash) {
                dst[0] = '\0';
            } else {
                ok = sl == 3;
                for (size_t k = 0; ok && k < 3; k++)
                    ok = s[k] >= 'A' && s[k] <= 'Z';
                if (ok) {
                    memcpy(dst, s, 3);
                    dst[3] = '\0';
                }
            }
        } else if (f->kind == F_ID) {
            if (dash) {
                dst[0] = '\0';
            } else {
                char id[37];
                ok = sl == 36;
                if (ok) {
                    memcpy(id, s, 36);
                    id[36] = '\0';
                    ok = arr_uuid_valid(id);
                }
                if (ok)
                    memcpy(dst, id, 37);
            }
        } else if (f->kind == F_DAY && dash) {
            int32_t v = SCORING_DAY_UNKNOWN;
            memcpy(dst, &v, sizeof(v));
        } else {
            int64_t v;
            ok = parse_i64(s, sl, &v) == 0 && v >= f->min && v <= f->max;
            if (ok && f->kind == F_I64) {
                memcpy(dst, &v, sizeof(v));
            } else if (ok) {
                int32_t v32 = (int32_t)v;
                memcpy(dst, &v32, sizeof(v32));
            }
        }
        if (!ok) {
            arr_errbuf_set(why, whylen, "field %s: malformed or out of range", f->name);
            return ARR_EINVAL;
        }
        pos = end + 1;
    }
    memcpy(st, &n, sizeof(n));
    return ARR_OK;
}
