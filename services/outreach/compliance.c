#include "compliance.h"

#include <string.h>

#define DAY_MS 86400000LL
#define WINDOW_SEARCH_MS (8 * DAY_MS) /* windows repeat daily: a week and a day is ample */
#define FIXED_POINT_ROUNDS 64

/* The inputs every rule reads, checked once. */
typedef struct ctx {
    const outreach_compliance_candidate *cand;
    const outreach_compliance_account *acct;
    const outreach_compliance_contact *hist;
    size_t nhist;
    const outreach_compliance_policy *policy;
    const outreach_tz *const *zones;
    size_t nzones;
    int start_min, end_min; /* the time window in force */
} ctx;

static const char *const channel_names[OUTREACH_COMPLIANCE_CHANNELS] = {"email", "sms", "voice",
                                                                        "letter"};
static const char *const weekly_cap_ids[OUTREACH_COMPLIANCE_CHANNELS] = {
    "tenant.cap_weekly_email", "tenant.cap_weekly_sms", "tenant.cap_weekly_voice",
    "tenant.cap_weekly_letter"};
static const char *const daily_cap_ids[OUTREACH_COMPLIANCE_CHANNELS] = {
    "tenant.cap_daily_email", "tenant.cap_daily_sms", "tenant.cap_daily_voice",
    "tenant.cap_daily_letter"};

static arr_err decide(outreach_compliance_decision *out, outreach_compliance_verdict v,
                      int64_t until_ms, const char *rule_id, const char *reason)
{
    *out = (outreach_compliance_decision){v, until_ms, rule_id, reason};
    return ARR_OK;
}

static arr_err suppress(outreach_compliance_decision *out, const char *rule_id, const char *reason)
{
    return decide(out, OUTREACH_COMPLIANCE_SUPPRESS, 0, rule_id, reason);
}

void outreach_compliance_policy_default(outreach_compliance_policy *p)
{
    memset(p, 0, sizeof *p);
    p->window_start_min = 8 * 60;
    p->window_end_min = 21 * 60;
}

/* ---- local days in one zone ---- */

static arr_err local_day(const outreach_tz *z, int64_t ms, int64_t *day)
{
    outreach_local l;
    arr_err e = outreach_tz_local(z, ms, &l);
    if (e == ARR_OK)
        *day = l.epoch_day;
    return e;
}

static arr_err day_start(const outreach_tz *z, int64_t day, int64_t *ms)
{
    return outreach_tz_utc_of(z, day * 86400, INT64_MIN, ms);
}

static int is_our_call(const outreach_compliance_contact *h)
{
    return h->channel == OUTREACH_COMPLIANCE_VOICE && !h->by_consumer;
}

/* ---- rule 5: call frequency ---- */

/* Earliest instant >= t at which one more call keeps every 7 consecutive local days at 7 calls
 * or fewer, in every zone. Calls more than 9 days before t cannot share a 7-day span with any
 * day from t's on, in any zone (offsets differ by at most 26 hours). */
static arr_err earliest_7in7(const ctx *c, int64_t t, int64_t *out)
{
    int64_t best = t;
    for (size_t zi = 0; zi < c->nzones; zi++) {
        const outreach_tz *z = c->zones[zi];
        int64_t d0, last = INT64_MIN;
        arr_err e = local_day(z, t, &d0);
        for (size_t i = 0; e == ARR_OK && i < c->nhist; i++) {
            int64_t hd;
            if (is_our_call(&c->hist[i]) && c->hist[i].at_ms >= t - 9 * DAY_MS &&
                (e = local_day(z, c->hist[i].at_ms, &hd)) == ARR_OK && hd > last)
                last = hd;
        }
        if (e != ARR_OK)
            return e;
        /* Day d is free when days d-6..d hold at most 6 calls; from day last+7 on, none. */
        int64_t d = d0;
        for (; d < last + 7; d++) {
            int calls = 0;
            for (size_t i = 0; i < c->nhist; i++) {
                int64_t hd;
                if (!is_our_call(&c->hist[i]) || c->hist[i].at_ms < t - 9 * DAY_MS)
                    continue;
                if ((e = local_day(z, c->hist[i].at_ms, &hd)) != ARR_OK)
                    return e;
                calls += hd >= d - 6 && hd <= d;
            }
            if (calls < 7)
                break;
        }
        int64_t start;
        if (d > d0) {
            if ((e = day_start(z, d, &start)) != ARR_OK)
                return e;
            best = start > best ? start : best;
        }
    }
    *out = best;
    return ARR_OK;
}

/* Earliest instant >= t on or after local day 8 of the latest telephone conversation. */
static arr_err earliest_after_conversation(const ctx *c, int64_t t, int64_t *out)
{
    int64_t best = t;
    for (size_t zi = 0; zi < c->nzones; zi++) {
        const outreach_tz *z = c->zones[zi];
        int64_t d0, conv = INT64_MIN, start;
        arr_err e = local_day(z, t, &d0);
        for (size_t i = 0; e == ARR_OK && i < c->nhist; i++) {
            const outreach_compliance_contact *h = &c->hist[i];
            int64_t hd;
            if (h->channel == OUTREACH_COMPLIANCE_VOICE &&
                h->outcome == OUTREACH_COMPLIANCE_CONVERSATION &&
                (e = local_day(z, h->at_ms, &hd)) == ARR_OK && hd > conv)
                conv = hd;
        }
        if (e != ARR_OK)
            return e;
        if (conv != INT64_MIN && d0 < conv + 7) {
            if ((e = day_start(z, conv + 7, &start)) != ARR_OK)
                return e;
            best = start > best ? start : best;
        }
    }
    *out = best;
    return ARR_OK;
}

/* ---- rule 6: time window ---- */

/* Earliest instant >= t whose local time in z lies in the window. */
static arr_err window_open_in(const ctx *c, const outreach_tz *z, int64_t t, int64_t *out)
{
    outreach_local l;
    arr_err e = outreach_tz_local(z, t, &l);
    if (e != ARR_OK)
        return e;
    int64_t sod = (int64_t)l.hour * 3600 + l.minute * 60 + l.second;
    if (sod >= c->start_min * 60LL && sod < c->end_min * 60LL) {
        *out = t;
        return ARR_OK;
    }
    /* The next opening: today's when before it, else tomorrow's. A clock set back may show
     * today's opening again; utc_of picks the occurrence at or after t. */
    int64_t day = l.epoch_day + (sod >= c->start_min * 60LL);
    for (int k = 0; k < 2; k++) {
        e = outreach_tz_utc_of(z, (day + k) * 86400 + c->start_min * 60LL, t, out);
        if (e != ARR_ENOTFOUND)
            return e;
    }
    return e;
}

/* Earliest instant >= t inside the window in every zone; INT64_MAX when there is none. */
static arr_err earliest_window(const ctx *c, int64_t t, int64_t *out)
{
    int64_t from = t;
    while (t - from <= WINDOW_SEARCH_MS) {
        int moved = 0;
        for (size_t zi = 0; zi < c->nzones; zi++) {
            int64_t open;
            arr_err e = window_open_in(c, c->zones[zi], t, &open);
            if (e != ARR_OK)
                return e;
            if (open > t) {
                t = open;
                moved = 1;
            }
        }
        if (!moved) {
            *out = t;
            return ARR_OK;
        }
    }
    *out = INT64_MAX;
    return ARR_OK;
}

/* ---- rule 7: tenant caps ---- */

/* Earliest instant >= t at which neither the daily nor the weekly cap of the channel is
 * reached in any zone's local day and week (weeks start on Monday). */
static arr_err earliest_caps(const ctx *c, int64_t t, int64_t *out, const char **rule)
{
    outreach_compliance_channel ch = c->cand->channel;
    int daily = c->policy->daily_cap[ch], weekly = c->policy->weekly_cap[ch];
    int64_t best = t;
    *rule = NULL;
    for (size_t zi = 0; zi < c->nzones && (daily > 0 || weekly > 0); zi++) {
        const outreach_tz *z = c->zones[zi];
        int64_t d0, hd, start;
        arr_err e = local_day(z, t, &d0);
        /* 1970-01-05, epoch day 4, was a Monday. */
        int64_t week = (d0 - 4 >= 0 ? d0 - 4 : d0 - 10) / 7;
        int today = 0, this_week = 0;
        for (size_t i = 0; e == ARR_OK && i < c->nhist; i++) {
            const outreach_compliance_contact *h = &c->hist[i];
            if (h->channel != ch || h->by_consumer || h->at_ms < t - 9 * DAY_MS)
                continue;
            if ((e = local_day(z, h->at_ms, &hd)) != ARR_OK)
                break;
            today += hd == d0;
            this_week += (hd - 4 >= 0 ? hd - 4 : hd - 10) / 7 == week;
        }
        if (e != ARR_OK)
            return e;
        if (weekly > 0 && this_week >= weekly) {
            if ((e = day_start(z, week * 7 + 11, &start)) != ARR_OK)
                return e;
            if (start > best) {
                best = start;
                *rule = weekly_cap_ids[ch];
            }
        }
        if (daily > 0 && today >= daily) {
            if ((e = day_start(z, d0 + 1, &start)) != ARR_OK)
                return e;
            if (start > best) {
                best = start;
                *rule = daily_cap_ids[ch];
            }
        }
    }
    *out = best;
    return ARR_OK;
}

/* ---- rules 5 to 7 together ---- */

/* Moves *t on to next; the first rule that moves it names the deferral. */
static void move_to(int64_t *t, int64_t next, const char *id, const char *text, const char **rule,
                    const char **reason)
{
    if (next > *t && !*rule) {
        *rule = id;
        *reason = text;
    }
    *t = next;
}

/* Runs the deferring rules until none moves the time. *rule stays NULL when t is allowed;
 * *until is INT64_MAX when the zones share no allowed hour. */
static arr_err deferral(const ctx *c, int64_t *until, const char **rule, const char **reason)
{
    int voice = c->cand->channel == OUTREACH_COMPLIANCE_VOICE;
    int timed = c->cand->channel != OUTREACH_COMPLIANCE_LETTER;
    int capped = c->cand->kind == OUTREACH_COMPLIANCE_REGULAR;
    int64_t t = c->cand->at_ms;
    *rule = NULL;
    for (int round = 0; round < FIXED_POINT_ROUNDS; round++) {
        int64_t before = t, next;
        const char *cap_rule;
        arr_err e;
        if (voice) {
            if ((e = earliest_7in7(c, t, &next)) != ARR_OK)
                return e;
            move_to(&t, next, OUTREACH_RULE_CALLS_7IN7,
                    "7 calls already placed within 7 consecutive days", rule, reason);
            if ((e = earliest_after_conversation(c, t, &next)) != ARR_OK)
                return e;
            move_to(&t, next, OUTREACH_RULE_AFTER_CONVERSATION,
                    "a telephone conversation took place within the last 7 days", rule, reason);
        }
        if (timed) {
            if ((e = earliest_window(c, t, &next)) != ARR_OK)
                return e;
            if (next == INT64_MAX) {
                *rule = OUTREACH_RULE_NO_COMMON_WINDOW;
                *reason = "the allowed hours of the consumer's zones never overlap";
                *until = INT64_MAX;
                return ARR_OK;
            }
            move_to(&t, next, OUTREACH_RULE_INCONVENIENT_TIME,
                    "outside the allowed hours in the consumer's local time", rule, reason);
        }
        if (capped) {
            if ((e = earliest_caps(c, t, &next, &cap_rule)) != ARR_OK)
                return e;
            move_to(&t, next, cap_rule, "the tenant's contact cap for this channel is reached",
                    rule, reason);
        }
        if (t == before) {
            *until = t;
            return ARR_OK;
        }
    }
    return ARR_ELIMIT; /* unreachable with real zones: every rule settles within a week */
}

/* ---- validation notice and disputes ---- */

/* 1 when y-m-d, or the weekday it is observed on, is a legal public holiday. */
static int holiday(int64_t y, int m, int d, int wd)
{
    /* nth weekday w of month m: the day-of-month range it falls in */
#define NTH(mon, w, n) (m == (mon) && wd == (w) && d > 7 * ((n)-1) && d <= 7 * (n))
#define LAST(mon, w) (m == (mon) && wd == (w) && d > 24)
    if (NTH(1, 1, 3) || NTH(2, 1, 3) || LAST(5, 1) || NTH(9, 1, 1) || NTH(10, 1, 2) ||
        NTH(11, 4, 4))
        return 1; /* MLK, Washington's Birthday, Memorial, Labor, Columbus, Thanksgiving */
#undef NTH
#undef LAST
    static const struct {
        int m, d;
    } fixed[] = {{1, 1}, {6, 19}, {7, 4}, {11, 11}, {12, 25}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (fixed[i].m == 6 && y < 2021)
            continue; /* Juneteenth became a legal public holiday in 2021 */
        int64_t h = outreach_tz_days_from_civil(y, fixed[i].m, fixed[i].d);
        int64_t day = outreach_tz_days_from_civil(y, m, d);
        if (day == h || (wd == 5 && day + 1 == h) || (wd == 1 && day - 1 == h))
            return 1; /* the day itself, or Friday before a Saturday, Monday after a Sunday */
    }
    /* New Year's Day on a Saturday is observed on December 31 of the year before. */
    return m == 12 && d == 31 && wd == 5;
}

int outreach_compliance_business_day(int64_t epoch_day)
{
    int64_t y;
    int m, d;
    int wd = (int)(((epoch_day + 4) % 7 + 7) % 7);
    if (wd == 0 || wd == 6)
        return 0;
    outreach_tz_civil_from_days(epoch_day, &y, &m, &d);
    return !holiday(y, m, d, wd);
}

static int in_engine_range(int64_t ms)
{
    return ms >= 0 && ms < OUTREACH_COMPLIANCE_MAX_MS;
}

arr_err outreach_compliance_validation_period_end(int64_t sent_ms, const outreach_tz *const *zones,
                                                  size_t nzones, int64_t *end_ms, char *why,
                                                  size_t whylen)
{
    if (!zones || nzones == 0 || !end_ms || !in_engine_range(sent_ms))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "validation period: no zones or sending time out of range");
    int64_t best = INT64_MIN;
    for (size_t zi = 0; zi < nzones; zi++) {
        int64_t day, end;
        if (!zones[zi])
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "validation period: NULL zone");
        arr_err e = local_day(zones[zi], sent_ms, &day);
        for (int n = 0; e == ARR_OK && n < OUTREACH_COMPLIANCE_RECEIPT_BUSINESS_DAYS;)
            n += outreach_compliance_business_day(++day);
        if (e == ARR_OK)
            e = day_start(zones[zi], day + OUTREACH_COMPLIANCE_VALIDATION_DAYS + 1, &end);
        if (e != ARR_OK)
            return arr_errbuf_fail(e, why, whylen, "validation period: zone %s",
                                   outreach_tz_name(zones[zi]));
        best = end > best ? end : best;
    }
    *end_ms = best;
    return ARR_OK;
}

/* Rule 1's dispute part: the rule id when collection is paused, else NULL. */
static arr_err dispute_pause(const ctx *c, const char **rule, char *why, size_t whylen)
{
    const outreach_compliance_account *a = c->acct;
    *rule = NULL;
    if (a->status == OUTREACH_COMPLIANCE_DISPUTED) {
        *rule = OUTREACH_RULE_DISPUTE;
        return ARR_OK;
    }
    int64_t end = INT64_MAX; /* creditor regime, or no notice yet: every dispute pauses */
    if (a->regime == OUTREACH_COMPLIANCE_THIRD_PARTY && a->validation_notice_sent_ms != 0) {
        arr_err e = outreach_compliance_validation_period_end(
            a->validation_notice_sent_ms, c->zones, c->nzones, &end, why, whylen);
        if (e != ARR_OK)
            return e;
    }
    /* Pending: received inside the period and not yet answered by a verification. */
    if (a->dispute_received_ms != 0 && a->dispute_received_ms < end &&
        a->verification_sent_ms < a->dispute_received_ms)
        *rule = OUTREACH_RULE_DISPUTE;
    else if (a->original_creditor_request_ms != 0 && a->original_creditor_request_ms < end &&
             a->verification_sent_ms < a->original_creditor_request_ms)
        *rule = OUTREACH_RULE_ORIGINAL_CREDITOR;
    return ARR_OK;
}

/* ---- the opt-out confirmation ---- */

arr_err outreach_compliance_opt_out_confirmation(int64_t stop_received_ms, int64_t at_ms,
                                                 const outreach_compliance_contact *history,
                                                 size_t nhistory, outreach_compliance_decision *out,
                                                 char *why, size_t whylen)
{
    if (!out || (nhistory > 0 && !history))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "opt-out confirmation: NULL argument");
    if (stop_received_ms == 0 || at_ms < stop_received_ms)
        return suppress(out, OUTREACH_RULE_CONFIRM_NO_STOP, "no STOP reply to confirm");
    for (size_t i = 0; i < nhistory; i++) {
        const outreach_compliance_contact *h = &history[i];
        if (h->channel == OUTREACH_COMPLIANCE_SMS && !h->by_consumer &&
            h->kind == OUTREACH_COMPLIANCE_OPT_OUT_CONFIRMATION && h->at_ms >= stop_received_ms)
            return suppress(out, OUTREACH_RULE_CONFIRM_ONCE,
                            "the one confirmation of this STOP was already sent");
    }
    if (at_ms - stop_received_ms > OUTREACH_COMPLIANCE_CONFIRM_WINDOW_MS)
        return suppress(out, OUTREACH_RULE_CONFIRM_LATE,
                        "more than 5 minutes after the STOP: no confirmation");
    return decide(out, OUTREACH_COMPLIANCE_ALLOW, 0, OUTREACH_RULE_ALLOW,
                  "one confirmation of the STOP");
}

/* ---- STOP keywords ---- */

static int is_space_or_punct(unsigned char ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r') || (ch >= '!' && ch <= '/') ||
           (ch >= ':' && ch <= '@') || (ch >= '[' && ch <= '`') || (ch >= '{' && ch <= '~');
}

static int upper(unsigned char ch)
{
    return ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch;
}

/* 1 when [p, end) spells word in any case; a ' ' in word matches "", '-' or whitespace. */
static int spells(const char *p, const char *end, const char *word)
{
    for (; *word; word++) {
        if (*word == ' ') {
            if (p < end && (*p == '-' || *p == '_'))
                p++;
            else
                while (p < end && (*p == ' ' || *p == '\t'))
                    p++;
            continue;
        }
        if (p == end || upper((unsigned char)*p) != *word)
            return 0;
        p++;
    }
    return p == end;
}

int outreach_compliance_stop_keyword(const char *text, char keyword_out[16])
{
    static const char *const words[] = {"STOP",    "QUIT",   "END",        "REVOKE",
                                        "OPT OUT", "CANCEL", "UNSUBSCRIBE"};
    if (!text || !keyword_out)
        return 0;
    const char *p = text, *end = text + strlen(text);
    while (p < end && is_space_or_punct((unsigned char)*p))
        p++;
    while (end > p && is_space_or_punct((unsigned char)end[-1]))
        end--;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (spells(p, end, words[i])) {
            strcpy(keyword_out, words[i]);
            return 1;
        }
    }
    return 0;
}

/* ---- the decision ---- */

static arr_err check_input(const outreach_compliance_input *in, ctx *c, char *why, size_t whylen)
{
    if (!in || !in->candidate || !in->account || !in->policy || (in->nhistory && !in->history))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: NULL argument");
    const outreach_compliance_candidate *k = in->candidate;
    const outreach_compliance_account *a = in->account;
    const outreach_compliance_policy *p = in->policy;
    if ((unsigned)k->channel >= OUTREACH_COMPLIANCE_CHANNELS ||
        (unsigned)k->kind > OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE ||
        (unsigned)a->regime > OUTREACH_COMPLIANCE_CREDITOR ||
        (unsigned)a->status > OUTREACH_COMPLIANCE_DECEASED)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: enum out of range");
    if (!in_engine_range(k->at_ms))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: candidate time %lld",
                               (long long)k->at_ms);
    const int64_t instants[] = {a->sms_consent_ms,
                                a->voice_consent_ms,
                                a->stop_received_ms,
                                a->dispute_received_ms,
                                a->original_creditor_request_ms,
                                a->verification_sent_ms,
                                a->validation_notice_sent_ms,
                                a->first_communication_ms};
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++)
        if (!in_engine_range(instants[i]))
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: account instant %zu", i);
    for (size_t i = 0; i < in->nhistory; i++) {
        const outreach_compliance_contact *h = &in->history[i];
        if (!in_engine_range(h->at_ms) || (unsigned)h->channel >= OUTREACH_COMPLIANCE_CHANNELS ||
            (unsigned)h->kind > OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE ||
            (unsigned)h->outcome > OUTREACH_COMPLIANCE_BOUNCED)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: history entry %zu", i);
    }
    if (a->nopted_out && !a->opted_out_ids)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: NULL opted-out list");
    for (size_t i = 0; i < a->nopted_out; i++)
        if (!a->opted_out_ids[i])
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: opted-out id %zu NULL", i);
    c->start_min = a->convenient.set ? a->convenient.start_min : p->window_start_min;
    c->end_min = a->convenient.set ? a->convenient.end_min : p->window_end_min;
    if (c->start_min < 0 || c->start_min >= c->end_min || c->end_min > 1440)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: window %d-%d minutes",
                               c->start_min, c->end_min);
    for (int ch = 0; ch < OUTREACH_COMPLIANCE_CHANNELS; ch++)
        if (p->weekly_cap[ch] < 0 || p->daily_cap[ch] < 0)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: negative cap for %s",
                                   channel_names[ch]);
    if (a->nzones > 0) {
        if (!a->zones)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: NULL zone list");
        for (size_t i = 0; i < a->nzones; i++)
            if (!a->zones[i])
                return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: zone %zu NULL", i);
        c->zones = a->zones;
        c->nzones = a->nzones;
    } else {
        if (!in->db)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "compliance: zone unknown and no tz db for the US zones");
        arr_err e = outreach_tz_db_us(in->db, &c->zones, why, whylen);
        if (e != ARR_OK)
            return e;
        c->nzones = OUTREACH_TZ_US_COUNT;
    }
    c->cand = k;
    c->acct = a;
    c->hist = in->history;
    c->nhist = in->nhistory;
    c->policy = p;
    return ARR_OK;
}

/* Rules 1 and 2. NULL rule: none applies. */
static const char *account_suppression(const ctx *c, const char **reason)
{
    const outreach_compliance_account *a = c->acct;
    const outreach_compliance_candidate *k = c->cand;
    switch (a->status) {
    case OUTREACH_COMPLIANCE_PAID:
        *reason = "the account is paid";
        return OUTREACH_RULE_STATUS_PAID;
    case OUTREACH_COMPLIANCE_SETTLED:
        *reason = "the account is settled";
        return OUTREACH_RULE_STATUS_SETTLED;
    case OUTREACH_COMPLIANCE_CLOSED:
        *reason = "the account is closed";
        return OUTREACH_RULE_STATUS_CLOSED;
    case OUTREACH_COMPLIANCE_BANKRUPT:
        *reason = "the consumer is in bankruptcy";
        return OUTREACH_RULE_STATUS_BANKRUPT;
    case OUTREACH_COMPLIANCE_DECEASED:
        *reason = "the consumer is deceased";
        return OUTREACH_RULE_STATUS_DECEASED;
    default:
        break;
    }
    if (a->status == OUTREACH_COMPLIANCE_ATTORNEY || a->attorney_represented) {
        *reason = "the consumer is represented by an attorney: no direct contact";
        return OUTREACH_RULE_ATTORNEY;
    }
    int final_notice =
        k->kind == OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE &&
        (k->channel == OUTREACH_COMPLIANCE_LETTER || k->channel == OUTREACH_COMPLIANCE_EMAIL);
    if ((a->status == OUTREACH_COMPLIANCE_CEASE || a->cease_received) && !final_notice) {
        *reason = "the consumer asked to cease: only a final written notice may go";
        return OUTREACH_RULE_CEASE;
    }
    return NULL;
}

/* Rule 3. NULL rule: none applies. */
static const char *consent_suppression(const ctx *c, const char **reason)
{
    const outreach_compliance_account *a = c->acct;
    const outreach_compliance_candidate *k = c->cand;
    int electronic =
        k->channel == OUTREACH_COMPLIANCE_EMAIL || k->channel == OUTREACH_COMPLIANCE_SMS;
    if (a->no_contact_at_work && k->at_work) {
        *reason = "no contact at the consumer's place of employment";
        return OUTREACH_RULE_AT_WORK;
    }
    for (size_t i = 0; k->address_id && i < a->nopted_out; i++) {
        if (strcmp(a->opted_out_ids[i], k->address_id) == 0) {
            *reason = "the consumer opted out of this address or number";
            return electronic ? OUTREACH_RULE_OPTED_OUT_ADDRESS : OUTREACH_RULE_REFUSED_ADDRESS;
        }
    }
    if (a->opted_out_medium[k->channel]) {
        *reason = "the consumer opted out of this medium";
        return electronic ? OUTREACH_RULE_OPTED_OUT_MEDIUM : OUTREACH_RULE_REFUSED_MEDIUM;
    }
    /* Consent given after the latest STOP is new consent. */
    int needs_consent = k->channel == OUTREACH_COMPLIANCE_SMS ||
                        (k->channel == OUTREACH_COMPLIANCE_VOICE && k->automated && k->mobile);
    int64_t consent =
        k->channel == OUTREACH_COMPLIANCE_SMS ? a->sms_consent_ms : a->voice_consent_ms;
    if (needs_consent && a->stop_received_ms != 0 && consent <= a->stop_received_ms) {
        *reason = "the consumer revoked consent with a STOP-style reply";
        return OUTREACH_RULE_STOP;
    }
    if (needs_consent && consent == 0) {
        *reason = k->channel == OUTREACH_COMPLIANCE_SMS
                      ? "no prior express consent to text messages"
                      : "no prior express consent to automated calls to a mobile";
        return k->channel == OUTREACH_COMPLIANCE_SMS ? OUTREACH_RULE_SMS_NO_CONSENT
                                                     : OUTREACH_RULE_PRERECORDED_NO_CONSENT;
    }
    return NULL;
}

/* Rule 4. NULL rule: none applies. */
static const char *validation_suppression(const ctx *c, const char **reason)
{
    const outreach_compliance_account *a = c->acct;
    if (a->regime != OUTREACH_COMPLIANCE_THIRD_PARTY ||
        c->cand->kind != OUTREACH_COMPLIANCE_REGULAR || a->validation_notice_sent_ms != 0)
        return NULL;
    if (a->first_communication_ms == 0) {
        *reason = "the validation notice must be the first communication";
        return OUTREACH_RULE_VALIDATION_FIRST;
    }
    if (c->cand->at_ms >= a->first_communication_ms + OUTREACH_COMPLIANCE_NOTICE_DAYS * DAY_MS) {
        *reason = "the validation notice was due within 5 days of the first communication";
        return OUTREACH_RULE_VALIDATION_OVERDUE;
    }
    return NULL;
}

arr_err outreach_compliance_decide(const outreach_compliance_input *in,
                                   outreach_compliance_decision *out, char *why, size_t whylen)
{
    ctx c;
    arr_err e = check_input(in, &c, why, whylen);
    if (e != ARR_OK)
        return e;
    if (!out)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "compliance: NULL argument");
    const char *reason = NULL, *rule = account_suppression(&c, &reason);
    if (rule)
        return suppress(out, rule, reason);
    if (c.cand->kind != OUTREACH_COMPLIANCE_VALIDATION_NOTICE &&
        c.cand->kind != OUTREACH_COMPLIANCE_OPT_OUT_CONFIRMATION) {
        if ((e = dispute_pause(&c, &rule, why, whylen)) != ARR_OK)
            return e;
        if (rule)
            return suppress(out, rule, "a dispute or request is pending verification");
    }
    if (c.cand->kind == OUTREACH_COMPLIANCE_OPT_OUT_CONFIRMATION) {
        if (c.cand->channel != OUTREACH_COMPLIANCE_SMS)
            return suppress(out, OUTREACH_RULE_CONFIRM_NO_STOP,
                            "an opt-out confirmation is a text message");
        return outreach_compliance_opt_out_confirmation(c.acct->stop_received_ms, c.cand->at_ms,
                                                        c.hist, c.nhist, out, why, whylen);
    }
    if ((rule = consent_suppression(&c, &reason)) || (rule = validation_suppression(&c, &reason)))
        return suppress(out, rule, reason);

    int64_t until;
    if ((e = deferral(&c, &until, &rule, &reason)) != ARR_OK)
        return arr_errbuf_fail(e, why, whylen, "compliance: time rules failed: %s",
                               arr_strerror(e));
    if (!rule)
        return decide(out, OUTREACH_COMPLIANCE_ALLOW, 0, OUTREACH_RULE_ALLOW, "allowed");
    if (until == INT64_MAX)
        return suppress(out, rule, reason);
    return decide(out, OUTREACH_COMPLIANCE_DEFER, until, rule, reason);
}
