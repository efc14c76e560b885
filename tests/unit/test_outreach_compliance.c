/* Unit tests of services/outreach/compliance.c: one table per rule, with its boundaries.
 *
 * Hand facts the expectations rest on:
 *   - New York is UTC-4 in summer (EDT), UTC-5 in winter (EST); Chicago one hour behind it;
 *     Los Angeles UTC-7 in summer; Honolulu UTC-10; Puerto Rico UTC-4 all year.
 *   - 2026-03-08 02:00 EST = 07:00Z New York springs forward; 2026-11-01 02:00 EDT = 06:00Z it
 *     falls back (Chicago: 08:00Z and 07:00Z).
 *   - 2026-06-16 is a Tuesday; 2026-06-22 a Monday; 2026-06-01 a Monday.
 *   - With the zone unknown, summer hours 08:00-21:00 everywhere from Puerto Rico (UTC-4) to
 *     Honolulu (UTC-10) share only 18:00Z (08:00 HST) to 01:00Z (21:00 AST).
 *   - New York + Los Angeles share 11:00-21:00 New York time.
 * The base case is an open third-party account in New York whose validation notice went out on
 * 2026-05-01, contacted by email on Tuesday 2026-06-16 10:00 EDT (14:00Z): allowed. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "compliance.h"

/* UTC instant of a civil time, from glibc's timegm (not from the code under test). */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

#define MIN_MS (60 * 1000LL)
#define T_BASE utc(2026, 6, 16, 14, 0) /* Tuesday 10:00 EDT */

enum zones { NY, CHI, NY_LA, LA_NY, NY_HNL, UNKNOWN };

typedef struct fx {
    outreach_tz_db *db;
    const outreach_tz *zones[2];
    outreach_compliance_candidate cand;
    outreach_compliance_account acct;
    outreach_compliance_contact hist[16];
    outreach_compliance_policy policy;
    outreach_compliance_input in;
} fx;

static const outreach_tz *load(fx *f, const char *name)
{
    const outreach_tz *z = NULL;
    char why[256] = "";
    cr_assert_eq(outreach_tz_db_load(f->db, name, &z, why, sizeof why), ARR_OK, "%s", why);
    return z;
}

static void set_zones(fx *f, enum zones which)
{
    static const char *const names[][2] = {
        [NY] = {"America/New_York", NULL},
        [CHI] = {"America/Chicago", NULL},
        [NY_LA] = {"America/New_York", "America/Los_Angeles"},
        [LA_NY] = {"America/Los_Angeles", "America/New_York"},
        [NY_HNL] = {"America/New_York", "Pacific/Honolulu"},
        [UNKNOWN] = {NULL, NULL},
    };
    f->acct.nzones = 0;
    for (int i = 0; i < 2 && names[which][i]; i++)
        f->zones[f->acct.nzones++] = load(f, names[which][i]);
}

static void setup(fx *f)
{
    memset(f, 0, sizeof *f);
    char why[256] = "";
    cr_assert_eq(outreach_tz_db_new(NULL, &f->db, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(outreach_tz_db_load_us(f->db, why, sizeof why), ARR_OK, "%s", why);
    f->cand.channel = OUTREACH_COMPLIANCE_EMAIL;
    f->cand.kind = OUTREACH_COMPLIANCE_REGULAR;
    f->cand.address_id = "email-1";
    f->cand.at_ms = T_BASE;
    f->acct.regime = OUTREACH_COMPLIANCE_THIRD_PARTY;
    f->acct.status = OUTREACH_COMPLIANCE_OPEN;
    f->acct.zones = f->zones;
    set_zones(f, NY);
    f->acct.validation_notice_sent_ms = utc(2026, 5, 1, 14, 0);
    f->acct.first_communication_ms = utc(2026, 5, 1, 14, 0);
    f->acct.sms_consent_ms = utc(2026, 5, 1, 14, 0);
    outreach_compliance_policy_default(&f->policy);
    f->in = (outreach_compliance_input){&f->cand, &f->acct, f->hist, 0, &f->policy, f->db};
}

static void teardown(fx *f)
{
    outreach_tz_db_free(f->db);
}

static void add(fx *f, outreach_compliance_channel ch, outreach_compliance_outcome outcome,
                int by_consumer, int64_t at_ms)
{
    cr_assert_lt(f->in.nhistory, sizeof f->hist / sizeof f->hist[0]);
    f->hist[f->in.nhistory++] =
        (outreach_compliance_contact){ch, OUTREACH_COMPLIANCE_REGULAR, outcome, by_consumer, at_ms};
}

static void expect(fx *f, outreach_compliance_verdict verdict, const char *rule, int64_t until,
                   const char *what)
{
    outreach_compliance_decision d;
    memset(&d, 0, sizeof d);
    char why[256] = "";
    cr_assert_eq(outreach_compliance_decide(&f->in, &d, why, sizeof why), ARR_OK, "%s: %s", what,
                 why);
    cr_assert_eq(d.verdict, verdict, "%s: verdict %d (%s), want %d (%s)", what, d.verdict,
                 d.rule_id, verdict, rule);
    cr_assert_str_eq(d.rule_id, rule, "%s", what);
    cr_assert_eq(d.until_ms, until, "%s: until %lld, want %lld (diff %lld min)", what,
                 (long long)d.until_ms, (long long)until, (long long)(d.until_ms - until) / MIN_MS);
    cr_assert(d.reason && d.reason[0], "%s: a reason", what);
}

static void allow(fx *f, const char *what)
{
    expect(f, OUTREACH_COMPLIANCE_ALLOW, "allow", 0, what);
}

static void suppressed(fx *f, const char *rule, const char *what)
{
    expect(f, OUTREACH_COMPLIANCE_SUPPRESS, rule, 0, what);
}

static void deferred(fx *f, const char *rule, int64_t until, const char *what)
{
    expect(f, OUTREACH_COMPLIANCE_DEFER, rule, until, what);
}

#define TIME_RULE "regf.1006.6b1.inconvenient_time"

/* ---- rule 6: the 08:00-21:00 window ---- */

Test(outreach_compliance, local_time_window_boundaries_and_clock_changes)
{
    const struct {
        enum zones zones;
        int64_t at, until; /* until 0: allowed */
        const char *what;
    } rows[] = {
        /* New York, summer (EDT, UTC-4). */
        {NY, utc(2026, 6, 16, 11, 59), utc(2026, 6, 16, 12, 0), "07:59 EDT"},
        {NY, utc(2026, 6, 16, 12, 0), 0, "08:00 EDT"},
        {NY, utc(2026, 6, 17, 0, 59), 0, "20:59 EDT"},
        {NY, utc(2026, 6, 17, 1, 0) - 1, 0, "20:59:59.999 EDT"},
        {NY, utc(2026, 6, 17, 1, 0), utc(2026, 6, 17, 12, 0), "21:00 EDT"},
        {NY, utc(2026, 6, 17, 3, 30), utc(2026, 6, 17, 12, 0), "23:30 EDT"},
        /* New York, winter (EST, UTC-5). */
        {NY, utc(2026, 1, 15, 12, 59), utc(2026, 1, 15, 13, 0), "07:59 EST"},
        {NY, utc(2026, 1, 15, 13, 0), 0, "08:00 EST"},
        {NY, utc(2026, 1, 16, 1, 59), 0, "20:59 EST"},
        {NY, utc(2026, 1, 16, 2, 0), utc(2026, 1, 16, 13, 0), "21:00 EST"},
        /* New York springs forward on Sunday 2026-03-08: 08:00 is EDT, 12:00Z, although the
         * clock read EST at the time asked. */
        {NY, utc(2026, 3, 7, 12, 59), utc(2026, 3, 7, 13, 0), "Mar 7 07:59 EST"},
        {NY, utc(2026, 3, 8, 2, 0), utc(2026, 3, 8, 12, 0), "Mar 7 21:00 EST"},
        {NY, utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 12, 0), "Mar 8 01:30 EST"},
        {NY, utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 12, 0), "Mar 8 03:00 EDT (02:00 skipped)"},
        {NY, utc(2026, 3, 8, 11, 59), utc(2026, 3, 8, 12, 0), "Mar 8 07:59 EDT"},
        {NY, utc(2026, 3, 8, 12, 0), 0, "Mar 8 08:00 EDT"},
        {NY, utc(2026, 3, 9, 0, 59), 0, "Mar 8 20:59 EDT"},
        {NY, utc(2026, 3, 9, 1, 0), utc(2026, 3, 9, 12, 0), "Mar 8 21:00 EDT"},
        /* New York falls back on Sunday 2026-11-01: 01:30 happens twice; 08:00 is EST. */
        {NY, utc(2026, 11, 1, 1, 0), utc(2026, 11, 1, 13, 0), "Oct 31 21:00 EDT"},
        {NY, utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 13, 0), "Nov 1 01:30 EDT"},
        {NY, utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 13, 0), "Nov 1 01:30 EST"},
        {NY, utc(2026, 11, 1, 12, 59), utc(2026, 11, 1, 13, 0), "Nov 1 07:59 EST"},
        {NY, utc(2026, 11, 1, 13, 0), 0, "Nov 1 08:00 EST"},
        {NY, utc(2026, 11, 2, 1, 59), 0, "Nov 1 20:59 EST"},
        {NY, utc(2026, 11, 2, 2, 0), utc(2026, 11, 2, 13, 0), "Nov 1 21:00 EST"},
        /* Chicago, the same nights one hour later. */
        {CHI, utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 13, 0), "Chicago Mar 8 01:30 CST"},
        {CHI, utc(2026, 3, 8, 12, 59), utc(2026, 3, 8, 13, 0), "Chicago Mar 8 07:59 CDT"},
        {CHI, utc(2026, 3, 8, 13, 0), 0, "Chicago Mar 8 08:00 CDT"},
        {CHI, utc(2026, 3, 9, 1, 59), 0, "Chicago Mar 8 20:59 CDT"},
        {CHI, utc(2026, 3, 9, 2, 0), utc(2026, 3, 9, 13, 0), "Chicago Mar 8 21:00 CDT"},
        {CHI, utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 14, 0), "Chicago Nov 1 01:30 CDT"},
        {CHI, utc(2026, 11, 1, 7, 30), utc(2026, 11, 1, 14, 0), "Chicago Nov 1 01:30 CST"},
        {CHI, utc(2026, 11, 1, 13, 59), utc(2026, 11, 1, 14, 0), "Chicago Nov 1 07:59 CST"},
        {CHI, utc(2026, 11, 1, 14, 0), 0, "Chicago Nov 1 08:00 CST"},
        {CHI, utc(2026, 11, 2, 2, 59), 0, "Chicago Nov 1 20:59 CST"},
        {CHI, utc(2026, 11, 2, 3, 0), utc(2026, 11, 2, 14, 0), "Chicago Nov 1 21:00 CST"},
        /* New York + Los Angeles: 11:00-21:00 New York time (15:00Z-01:00Z in summer). */
        {NY_LA, utc(2026, 6, 16, 12, 0), utc(2026, 6, 16, 15, 0), "NY+LA 08:00 NY"},
        {NY_LA, utc(2026, 6, 16, 14, 59), utc(2026, 6, 16, 15, 0), "NY+LA 10:59 NY"},
        {NY_LA, utc(2026, 6, 16, 15, 0), 0, "NY+LA 11:00 NY"},
        {NY_LA, utc(2026, 6, 17, 0, 59), 0, "NY+LA 20:59 NY"},
        {NY_LA, utc(2026, 6, 17, 1, 0), utc(2026, 6, 17, 15, 0), "NY+LA 21:00 NY"},
        {LA_NY, utc(2026, 6, 16, 14, 59), utc(2026, 6, 16, 15, 0), "LA+NY 10:59 NY"},
        {LA_NY, utc(2026, 6, 17, 1, 0), utc(2026, 6, 17, 15, 0), "LA+NY 21:00 NY"},
        {NY_LA, utc(2026, 1, 15, 15, 59), utc(2026, 1, 15, 16, 0), "NY+LA winter 10:59 NY"},
        {NY_LA, utc(2026, 1, 16, 2, 0), utc(2026, 1, 16, 16, 0), "NY+LA winter 21:00 NY"},
        /* Zone unknown: all US zones, 18:00Z-01:00Z. */
        {UNKNOWN, utc(2026, 6, 16, 17, 59), utc(2026, 6, 16, 18, 0), "US 07:59 HST"},
        {UNKNOWN, utc(2026, 6, 16, 18, 0), 0, "US 08:00 HST"},
        {UNKNOWN, utc(2026, 6, 17, 0, 59), 0, "US 20:59 AST"},
        {UNKNOWN, utc(2026, 6, 17, 1, 0), utc(2026, 6, 17, 18, 0), "US 21:00 AST"},
        {UNKNOWN, utc(2026, 1, 15, 12, 0), utc(2026, 1, 15, 18, 0), "US winter 08:00 AST"},
        {UNKNOWN, utc(2026, 1, 16, 1, 0), utc(2026, 1, 16, 18, 0), "US winter 21:00 AST"},
        {UNKNOWN, utc(2026, 3, 8, 12, 0), utc(2026, 3, 8, 18, 0), "US on Mar 8"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fx f;
        setup(&f);
        set_zones(&f, rows[i].zones);
        f.cand.at_ms = rows[i].at;
        if (rows[i].until)
            deferred(&f, TIME_RULE, rows[i].until, rows[i].what);
        else
            allow(&f, rows[i].what);
        teardown(&f);
    }
}

Test(outreach_compliance, window_applies_to_sms_and_calls_not_letters)
{
    fx f;
    setup(&f);
    f.cand.at_ms = utc(2026, 6, 17, 3, 0); /* 23:00 EDT */
    f.cand.channel = OUTREACH_COMPLIANCE_SMS;
    deferred(&f, TIME_RULE, utc(2026, 6, 17, 12, 0), "sms at 23:00");
    f.cand.channel = OUTREACH_COMPLIANCE_VOICE;
    deferred(&f, TIME_RULE, utc(2026, 6, 17, 12, 0), "call at 23:00");
    f.cand.channel = OUTREACH_COMPLIANCE_LETTER;
    allow(&f, "letter at 23:00");
    set_zones(&f, UNKNOWN);
    allow(&f, "letter at 23:00, zone unknown");
    teardown(&f);
}

Test(outreach_compliance, tenant_window_and_consumer_hours)
{
    fx f;
    setup(&f);
    f.policy.window_start_min = 9 * 60;
    f.policy.window_end_min = 20 * 60;
    f.cand.at_ms = utc(2026, 6, 16, 12, 30);
    deferred(&f, TIME_RULE, utc(2026, 6, 16, 13, 0), "tenant 09:00-20:00 at 08:30");
    f.cand.at_ms = utc(2026, 6, 16, 23, 59);
    allow(&f, "tenant 09:00-20:00 at 19:59");
    f.cand.at_ms = utc(2026, 6, 17, 0, 0);
    deferred(&f, TIME_RULE, utc(2026, 6, 17, 13, 0), "tenant 09:00-20:00 at 20:00");

    /* The consumer's own hours replace the window, narrower or wider. */
    f.acct.convenient = (outreach_compliance_hours){1, 10 * 60, 18 * 60};
    f.cand.at_ms = utc(2026, 6, 16, 13, 0);
    deferred(&f, TIME_RULE, utc(2026, 6, 16, 14, 0), "consumer 10-18 at 09:00");
    f.cand.at_ms = utc(2026, 6, 16, 22, 0);
    deferred(&f, TIME_RULE, utc(2026, 6, 17, 14, 0), "consumer 10-18 at 18:00");
    f.acct.convenient = (outreach_compliance_hours){1, 7 * 60, 22 * 60};
    f.cand.at_ms = utc(2026, 6, 16, 11, 30);
    allow(&f, "consumer 07-22 at 07:30");
    f.cand.at_ms = utc(2026, 6, 17, 1, 30);
    allow(&f, "consumer 07-22 at 21:30");

    /* 08:00-09:00 in New York and in Honolulu never overlap. */
    set_zones(&f, NY_HNL);
    f.acct.convenient = (outreach_compliance_hours){1, 8 * 60, 9 * 60};
    suppressed(&f, "regf.1006.6b1.no_common_window", "no common hour");
    teardown(&f);
}

/* ---- rule 5: call frequency ---- */

#define CALLS_RULE "regf.1006.14b2.call_frequency_7in7"
#define CONV_RULE "regf.1006.14b2.after_conversation"

static void voice(fx *f)
{
    f->cand.channel = OUTREACH_COMPLIANCE_VOICE;
    f->cand.address_id = "phone-1";
}

/* Our calls at 10:00 EDT (14:00Z) on the given June days. */
static void calls_on(fx *f, const int *days, size_t n)
{
    static const outreach_compliance_outcome outcomes[] = {
        OUTREACH_COMPLIANCE_ATTEMPT, OUTREACH_COMPLIANCE_NO_ANSWER, OUTREACH_COMPLIANCE_VOICEMAIL};
    for (size_t i = 0; i < n; i++)
        add(f, OUTREACH_COMPLIANCE_VOICE, outcomes[i % 3], 0, utc(2026, 6, days[i], 14, 0));
}

Test(outreach_compliance, seven_calls_in_seven_days)
{
    fx f;
    static const int six[] = {10, 12, 12, 15, 15, 15};
    setup(&f);
    voice(&f);
    calls_on(&f, six, 6);
    allow(&f, "7th call: 6 in Jun 10-16");
    calls_on(&f, (const int[]){15}, 1);
    /* 7 calls in Jun 10-16; the Jun 10 call leaves the span on Jun 17, 08:00 EDT = 12:00Z. */
    deferred(&f, CALLS_RULE, utc(2026, 6, 17, 12, 0), "8th call");
    f.cand.at_ms = utc(2026, 6, 17, 2, 0); /* 22:00 on the 16th: rule 5 first, then 08:00 */
    deferred(&f, CALLS_RULE, utc(2026, 6, 17, 12, 0), "8th call at 22:00");
    f.cand.at_ms = utc(2026, 6, 17, 12, 0);
    allow(&f, "Jun 17 08:00: Jun 11-17 hold 6");
    teardown(&f);

    /* The oldest of 7 calls on Jun 9: day d-7, outside the span. */
    setup(&f);
    voice(&f);
    calls_on(&f, (const int[]){9, 12, 12, 15, 15, 15, 15}, 7);
    allow(&f, "7 calls but one on day d-7");
    teardown(&f);

    /* Local days, not UTC days: 23:30 EDT on Jun 9 is Jun 10 in UTC. */
    setup(&f);
    voice(&f);
    calls_on(&f, (const int[]){12, 12, 15, 15, 15, 15}, 6);
    add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_NO_ANSWER, 0, utc(2026, 6, 10, 3, 30));
    allow(&f, "the 7th call was on Jun 9 local");
    teardown(&f);

    /* Calls the consumer made, and other channels, do not count. */
    setup(&f);
    voice(&f);
    calls_on(&f, (const int[]){10, 12, 12, 15, 15}, 5);
    add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_NO_ANSWER, 1, utc(2026, 6, 15, 15, 0));
    add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_VOICEMAIL, 1, utc(2026, 6, 15, 16, 0));
    add(&f, OUTREACH_COMPLIANCE_SMS, OUTREACH_COMPLIANCE_SENT, 0, utc(2026, 6, 15, 17, 0));
    add(&f, OUTREACH_COMPLIANCE_EMAIL, OUTREACH_COMPLIANCE_SENT, 0, utc(2026, 6, 15, 18, 0));
    allow(&f, "5 of ours, 2 of theirs, a text and an email");
    teardown(&f);

    /* Seven calls earlier the same day block until day d+7. */
    setup(&f);
    voice(&f);
    for (int i = 0; i < 7; i++)
        add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_NO_ANSWER, 0,
            utc(2026, 6, 16, 12, 0) + i * 10 * MIN_MS);
    deferred(&f, CALLS_RULE, utc(2026, 6, 23, 12, 0), "7 calls this morning");
    teardown(&f);

    /* Jun 11 x2, 12, 13, 14, 15: the 16th and 17th spans hold 7; the 18th's holds 5. */
    setup(&f);
    voice(&f);
    calls_on(&f, (const int[]){11, 11, 12, 13, 14, 15, 16}, 7);
    f.cand.at_ms = utc(2026, 6, 16, 20, 0);
    deferred(&f, CALLS_RULE, utc(2026, 6, 18, 12, 0), "rolling span");
    f.cand.channel = OUTREACH_COMPLIANCE_EMAIL;
    allow(&f, "an email is no call");
    teardown(&f);
}

Test(outreach_compliance, seven_days_after_a_conversation)
{
    fx f;
    setup(&f);
    voice(&f);
    /* Conversation on Wednesday Jun 10 at 15:00 EDT: day 1; Jun 16 is day 7, Jun 17 day 8. */
    add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_CONVERSATION, 0,
        utc(2026, 6, 10, 19, 0));
    deferred(&f, CONV_RULE, utc(2026, 6, 17, 12, 0), "day 7");
    f.cand.at_ms = utc(2026, 6, 17, 3, 59); /* 23:59 on day 7 */
    deferred(&f, CONV_RULE, utc(2026, 6, 17, 12, 0), "day 7, 23:59");
    f.cand.at_ms = utc(2026, 6, 17, 12, 0);
    allow(&f, "day 8, 08:00");
    f.cand.at_ms = T_BASE;
    f.cand.channel = OUTREACH_COMPLIANCE_SMS;
    f.cand.address_id = "sms-1";
    allow(&f, "a text on day 7");
    teardown(&f);

    /* The consumer's own call counts as a conversation. */
    setup(&f);
    voice(&f);
    add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_CONVERSATION, 1,
        utc(2026, 6, 10, 19, 0));
    deferred(&f, CONV_RULE, utc(2026, 6, 17, 12, 0), "inbound conversation");
    teardown(&f);

    /* A conversation at 23:30 EDT on Jun 10 (Jun 11 in UTC): day 8 is still Jun 17. */
    setup(&f);
    voice(&f);
    add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_CONVERSATION, 0,
        utc(2026, 6, 11, 3, 30));
    f.cand.at_ms = utc(2026, 6, 17, 12, 0);
    allow(&f, "late conversation, local day");
    teardown(&f);

    /* A call without conversation is no conversation. */
    setup(&f);
    voice(&f);
    add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_VOICEMAIL, 0, utc(2026, 6, 15, 19, 0));
    allow(&f, "voicemail yesterday");
    teardown(&f);

    /* Two zones: 05:00Z Jun 11 is Jun 11 in New York but Jun 10 in Los Angeles; New York's day 8
     * (Jun 18 00:00 EDT = 04:00Z) is later, and then the common window opens at 11:00 EDT. */
    setup(&f);
    voice(&f);
    set_zones(&f, NY_LA);
    add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_CONVERSATION, 0, utc(2026, 6, 11, 5, 0));
    f.cand.at_ms = utc(2026, 6, 17, 15, 0);
    deferred(&f, CONV_RULE, utc(2026, 6, 18, 15, 0), "NY+LA conversation");
    teardown(&f);

    /* Both call rules fail: the 7-in-7 rule names the deferral and the later instant wins.
     * 8 calls (the conversation was one) on Jun 10-15 free day 18; the conversation on Jun 15
     * frees day 22 (Monday), 08:00 EDT = 12:00Z. */
    setup(&f);
    voice(&f);
    calls_on(&f, (const int[]){10, 11, 12, 13, 14, 15, 15}, 7);
    add(&f, OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_CONVERSATION, 0,
        utc(2026, 6, 15, 19, 0));
    deferred(&f, CALLS_RULE, utc(2026, 6, 22, 12, 0), "both call rules");
    teardown(&f);
}

/* ---- rule 7: tenant caps ---- */

Test(outreach_compliance, tenant_caps_defer_to_next_week_or_day)
{
    fx f;
    setup(&f);
    f.policy.weekly_cap[OUTREACH_COMPLIANCE_EMAIL] = 2;
    add(&f, OUTREACH_COMPLIANCE_EMAIL, OUTREACH_COMPLIANCE_DELIVERED, 0, utc(2026, 6, 14, 14, 0));
    add(&f, OUTREACH_COMPLIANCE_EMAIL, OUTREACH_COMPLIANCE_SENT, 0, utc(2026, 6, 15, 14, 0));
    add(&f, OUTREACH_COMPLIANCE_EMAIL, OUTREACH_COMPLIANCE_SENT, 1, utc(2026, 6, 15, 15, 0));
    add(&f, OUTREACH_COMPLIANCE_SMS, OUTREACH_COMPLIANCE_SENT, 0, utc(2026, 6, 15, 16, 0));
    allow(&f, "1 email this week (Sunday's was last week, the consumer's is theirs)");
    add(&f, OUTREACH_COMPLIANCE_EMAIL, OUTREACH_COMPLIANCE_BOUNCED, 0, utc(2026, 6, 16, 13, 0));
    f.cand.at_ms = utc(2026, 6, 17, 14, 0);
    /* Next Monday Jun 22 00:00 EDT, then 08:00 EDT = 12:00Z. */
    deferred(&f, "tenant.cap_weekly_email", utc(2026, 6, 22, 12, 0), "3rd email on Wednesday");
    f.cand.at_ms = utc(2026, 6, 22, 0, 0); /* Sunday 20:00 EDT */
    deferred(&f, "tenant.cap_weekly_email", utc(2026, 6, 22, 12, 0), "3rd email on Sunday");
    f.cand.kind = OUTREACH_COMPLIANCE_VALIDATION_NOTICE;
    allow(&f, "a validation notice is not capped");
    teardown(&f);

    setup(&f);
    f.cand.channel = OUTREACH_COMPLIANCE_SMS;
    f.cand.address_id = "sms-1";
    f.policy.daily_cap[OUTREACH_COMPLIANCE_SMS] = 1;
    add(&f, OUTREACH_COMPLIANCE_SMS, OUTREACH_COMPLIANCE_DELIVERED, 0, utc(2026, 6, 16, 13, 0));
    f.cand.at_ms = utc(2026, 6, 17, 0, 0); /* 20:00 EDT */
    deferred(&f, "tenant.cap_daily_sms", utc(2026, 6, 17, 12, 0), "2nd sms today");
    f.cand.at_ms = utc(2026, 6, 17, 12, 0);
    allow(&f, "sms tomorrow");
    teardown(&f);
}

/* ---- rule 1: the account ---- */

Test(outreach_compliance, each_status)
{
    const struct {
        outreach_compliance_status status;
        const char *rule; /* NULL: allowed */
    } rows[] = {
        {OUTREACH_COMPLIANCE_OPEN, NULL},
        {OUTREACH_COMPLIANCE_PAID, "status.paid"},
        {OUTREACH_COMPLIANCE_SETTLED, "status.settled"},
        {OUTREACH_COMPLIANCE_CLOSED, "status.closed"},
        {OUTREACH_COMPLIANCE_DISPUTED, "regf.1006.38.dispute_pending"},
        {OUTREACH_COMPLIANCE_CEASE, "regf.1006.6c.cease"},
        {OUTREACH_COMPLIANCE_ATTORNEY, "regf.1006.6b2.attorney"},
        {OUTREACH_COMPLIANCE_BANKRUPT, "status.bankrupt"},
        {OUTREACH_COMPLIANCE_DECEASED, "status.deceased"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (int ch = 0; ch < OUTREACH_COMPLIANCE_CHANNELS; ch++) {
            fx f;
            setup(&f);
            f.cand.channel = (outreach_compliance_channel)ch;
            f.acct.status = rows[i].status;
            char what[64];
            snprintf(what, sizeof what, "status %d channel %d", rows[i].status, ch);
            if (rows[i].rule)
                suppressed(&f, rows[i].rule, what);
            else
                allow(&f, what);
            teardown(&f);
        }
    }
}

Test(outreach_compliance, attorney_and_cease)
{
    fx f;
    setup(&f);
    f.acct.attorney_represented = 1;
    suppressed(&f, "regf.1006.6b2.attorney", "attorney");
    f.cand.kind = OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE;
    f.cand.channel = OUTREACH_COMPLIANCE_LETTER;
    suppressed(&f, "regf.1006.6b2.attorney", "attorney: not even a final notice");
    f.acct.status = OUTREACH_COMPLIANCE_PAID;
    suppressed(&f, "status.paid", "status first");
    teardown(&f);

    const struct {
        outreach_compliance_channel ch;
        outreach_compliance_kind kind;
        int64_t at;
        outreach_compliance_verdict verdict;
        const char *rule;
        int64_t until;
    } rows[] = {
        {OUTREACH_COMPLIANCE_EMAIL, OUTREACH_COMPLIANCE_REGULAR, T_BASE,
         OUTREACH_COMPLIANCE_SUPPRESS, "regf.1006.6c.cease", 0},
        {OUTREACH_COMPLIANCE_SMS, OUTREACH_COMPLIANCE_REGULAR, T_BASE, OUTREACH_COMPLIANCE_SUPPRESS,
         "regf.1006.6c.cease", 0},
        {OUTREACH_COMPLIANCE_EMAIL, OUTREACH_COMPLIANCE_VALIDATION_NOTICE, T_BASE,
         OUTREACH_COMPLIANCE_SUPPRESS, "regf.1006.6c.cease", 0},
        {OUTREACH_COMPLIANCE_LETTER, OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE, T_BASE,
         OUTREACH_COMPLIANCE_ALLOW, "allow", 0},
        {OUTREACH_COMPLIANCE_EMAIL, OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE, T_BASE,
         OUTREACH_COMPLIANCE_ALLOW, "allow", 0},
        {OUTREACH_COMPLIANCE_EMAIL, OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE, utc(2026, 6, 17, 2, 0),
         OUTREACH_COMPLIANCE_DEFER, TIME_RULE, utc(2026, 6, 17, 12, 0)},
        {OUTREACH_COMPLIANCE_SMS, OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE, T_BASE,
         OUTREACH_COMPLIANCE_SUPPRESS, "regf.1006.6c.cease", 0},
        {OUTREACH_COMPLIANCE_VOICE, OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE, T_BASE,
         OUTREACH_COMPLIANCE_SUPPRESS, "regf.1006.6c.cease", 0},
    };
    for (int via_status = 0; via_status < 2; via_status++) {
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            setup(&f);
            if (via_status)
                f.acct.status = OUTREACH_COMPLIANCE_CEASE;
            else
                f.acct.cease_received = 1;
            f.cand.channel = rows[i].ch;
            f.cand.kind = rows[i].kind;
            f.cand.at_ms = rows[i].at;
            char what[64];
            snprintf(what, sizeof what, "cease row %zu via status %d", i, via_status);
            expect(&f, rows[i].verdict, rows[i].rule, rows[i].until, what);
            teardown(&f);
        }
    }
}

/* ---- rule 3: consent and opt-outs ---- */

Test(outreach_compliance, opt_outs_per_address_number_and_medium)
{
    static const char *const ids[] = {"email-9", "sms-2", "phone-3", "letter-4"};
    const struct {
        outreach_compliance_channel ch;
        const char *address;
        int medium; /* -1 none, else the channel opted out */
        const char *rule;
    } rows[] = {
        {OUTREACH_COMPLIANCE_EMAIL, "email-9", -1, "regf.1006.6e.opted_out_address"},
        {OUTREACH_COMPLIANCE_EMAIL, "email-1", -1, NULL},
        {OUTREACH_COMPLIANCE_EMAIL, NULL, -1, NULL},
        {OUTREACH_COMPLIANCE_SMS, "sms-2", -1, "regf.1006.6e.opted_out_address"},
        {OUTREACH_COMPLIANCE_SMS, "sms-1", -1, NULL},
        {OUTREACH_COMPLIANCE_VOICE, "phone-3", -1, "regf.1006.14h.opted_out_address"},
        {OUTREACH_COMPLIANCE_LETTER, "letter-4", -1, "regf.1006.14h.opted_out_address"},
        {OUTREACH_COMPLIANCE_EMAIL, "email-1", OUTREACH_COMPLIANCE_EMAIL,
         "regf.1006.6e.opted_out_medium"},
        {OUTREACH_COMPLIANCE_SMS, "sms-1", OUTREACH_COMPLIANCE_SMS,
         "regf.1006.6e.opted_out_medium"},
        {OUTREACH_COMPLIANCE_VOICE, "phone-1", OUTREACH_COMPLIANCE_VOICE,
         "regf.1006.14h.opted_out_medium"},
        {OUTREACH_COMPLIANCE_LETTER, "letter-1", OUTREACH_COMPLIANCE_LETTER,
         "regf.1006.14h.opted_out_medium"},
        {OUTREACH_COMPLIANCE_EMAIL, "email-1", OUTREACH_COMPLIANCE_SMS, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fx f;
        setup(&f);
        f.acct.opted_out_ids = ids;
        f.acct.nopted_out = 4;
        f.cand.channel = rows[i].ch;
        f.cand.address_id = rows[i].address;
        if (rows[i].medium >= 0)
            f.acct.opted_out_medium[rows[i].medium] = 1;
        char what[64];
        snprintf(what, sizeof what, "opt-out row %zu", i);
        if (rows[i].rule)
            suppressed(&f, rows[i].rule, what);
        else
            allow(&f, what);
        /* A suppression beats a deferral: the same at 23:00. */
        f.cand.at_ms = utc(2026, 6, 17, 3, 0);
        if (rows[i].rule)
            suppressed(&f, rows[i].rule, what);
        teardown(&f);
    }
}

Test(outreach_compliance, no_contact_at_work)
{
    fx f;
    setup(&f);
    f.cand.at_work = 1;
    allow(&f, "work address, no objection");
    f.acct.no_contact_at_work = 1;
    suppressed(&f, "regf.1006.6b3.place_of_employment", "work address, employer forbids");
    f.cand.at_work = 0;
    allow(&f, "home address, employer forbids");
    teardown(&f);
}

Test(outreach_compliance, sms_consent_and_stop)
{
    fx f;
    setup(&f);
    f.cand.channel = OUTREACH_COMPLIANCE_SMS;
    f.cand.address_id = "sms-1";
    allow(&f, "consent May 1");
    f.acct.sms_consent_ms = 0;
    suppressed(&f, "tcpa.64_1200.sms_no_consent", "no consent");
    f.acct.stop_received_ms = utc(2026, 6, 1, 14, 0);
    suppressed(&f, "tcpa.revoked_stop", "STOP, never consented");
    f.acct.sms_consent_ms = utc(2026, 5, 1, 14, 0);
    suppressed(&f, "tcpa.revoked_stop", "consent, then STOP");
    f.acct.sms_consent_ms = utc(2026, 6, 5, 14, 0);
    allow(&f, "STOP, then consent again");
    f.acct.sms_consent_ms = f.acct.stop_received_ms;
    suppressed(&f, "tcpa.revoked_stop", "consent and STOP at the same instant");
    f.cand.channel = OUTREACH_COMPLIANCE_EMAIL;
    f.cand.address_id = "email-1";
    allow(&f, "a STOP by text leaves email alone");
    teardown(&f);
}

Test(outreach_compliance, automated_calls_to_mobiles_need_consent)
{
    const struct {
        int mobile, automated;
        int64_t consent, stop;
        const char *rule;
    } rows[] = {
        {1, 1, 0, 0, "tcpa.64_1200.prerecorded_no_consent"},
        {0, 1, 0, 0, NULL},
        {1, 0, 0, 0, NULL},
        {1, 1, 1777644000000LL, 0, NULL},                              /* 2026-05-01T14:00Z */
        {1, 1, 1777644000000LL, 1780322400000LL, "tcpa.revoked_stop"}, /* STOP 2026-06-01 */
        {0, 0, 0, 1780322400000LL, NULL}, /* a manual call to a landline after STOP */
    };
    cr_assert_eq(utc(2026, 5, 1, 14, 0), 1777644000000LL);
    cr_assert_eq(utc(2026, 6, 1, 14, 0), 1780322400000LL);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fx f;
        setup(&f);
        voice(&f);
        f.cand.mobile = rows[i].mobile;
        f.cand.automated = rows[i].automated;
        f.acct.voice_consent_ms = rows[i].consent;
        f.acct.stop_received_ms = rows[i].stop;
        char what[64];
        snprintf(what, sizeof what, "voice row %zu", i);
        if (rows[i].rule)
            suppressed(&f, rows[i].rule, what);
        else
            allow(&f, what);
        teardown(&f);
    }
}

/* ---- rule 2: the one confirmation after STOP ---- */

Test(outreach_compliance, one_opt_out_confirmation_after_stop)
{
    fx f;
    static const char *const ids[] = {"sms-2"};
    int64_t stop = utc(2026, 6, 16, 3, 0); /* 23:00 EDT on the 15th */
    setup(&f);
    f.cand.channel = OUTREACH_COMPLIANCE_SMS;
    f.cand.kind = OUTREACH_COMPLIANCE_OPT_OUT_CONFIRMATION;
    f.cand.address_id = "sms-2";
    f.acct.opted_out_ids = ids;
    f.acct.nopted_out = 1;
    f.acct.opted_out_medium[OUTREACH_COMPLIANCE_SMS] = 1;
    f.acct.stop_received_ms = stop;
    f.cand.at_ms = stop + MIN_MS;
    allow(&f, "confirmation at 23:01, number and medium opted out, consent revoked");
    f.cand.at_ms = stop + 5 * MIN_MS;
    allow(&f, "confirmation at 5 minutes");
    f.cand.at_ms = stop + 5 * MIN_MS + 1;
    suppressed(&f, "tcpa.opt_out_confirmation_late", "confirmation after 5 minutes");
    f.cand.at_ms = stop + MIN_MS;
    f.acct.status = OUTREACH_COMPLIANCE_DISPUTED;
    allow(&f, "a dispute does not block the confirmation");
    f.acct.status = OUTREACH_COMPLIANCE_PAID;
    suppressed(&f, "status.paid", "nothing after paid");
    f.acct.status = OUTREACH_COMPLIANCE_OPEN;
    f.cand.channel = OUTREACH_COMPLIANCE_EMAIL;
    suppressed(&f, "tcpa.opt_out_confirmation_no_stop", "a confirmation is a text");
    f.cand.channel = OUTREACH_COMPLIANCE_SMS;
    /* A confirmation of an older STOP does not count; one of this STOP does. */
    f.hist[0] = (outreach_compliance_contact){OUTREACH_COMPLIANCE_SMS,
                                              OUTREACH_COMPLIANCE_OPT_OUT_CONFIRMATION,
                                              OUTREACH_COMPLIANCE_DELIVERED, 0, stop - 1};
    f.in.nhistory = 1;
    allow(&f, "older confirmation");
    f.hist[1] = f.hist[0];
    f.hist[1].at_ms = stop + 10 * 1000;
    f.in.nhistory = 2;
    suppressed(&f, "tcpa.opt_out_confirmation_once", "second confirmation");
    f.acct.stop_received_ms = 0;
    f.in.nhistory = 0;
    suppressed(&f, "tcpa.opt_out_confirmation_no_stop", "no STOP");
    teardown(&f);

    outreach_compliance_decision d = {0};
    char why[128];
    cr_assert_eq(outreach_compliance_opt_out_confirmation(stop, stop, NULL, 0, &d, why, sizeof why),
                 ARR_OK);
    cr_assert_eq(d.verdict, OUTREACH_COMPLIANCE_ALLOW);
    cr_assert_eq(
        outreach_compliance_opt_out_confirmation(stop, stop - 1, NULL, 0, &d, why, sizeof why),
        ARR_OK);
    cr_assert_str_eq(d.rule_id, "tcpa.opt_out_confirmation_no_stop", "before the STOP");
    cr_assert_eq(outreach_compliance_opt_out_confirmation(stop, stop, NULL, 1, &d, why, sizeof why),
                 ARR_EINVAL);
}

Test(outreach_compliance, stop_keywords)
{
    const struct {
        const char *text, *keyword; /* keyword NULL: not a STOP */
    } rows[] = {
        {"STOP", "STOP"},
        {"stop", "STOP"},
        {"Stop.", "STOP"},
        {"  STOP!  ", "STOP"},
        {"\tquit\r\n", "QUIT"},
        {"End", "END"},
        {"REVOKE", "REVOKE"},
        {"opt out", "OPT OUT"},
        {"OPT-OUT", "OPT OUT"},
        {"optout", "OPT OUT"},
        {"Opt   Out", "OPT OUT"},
        {"cancel!!!", "CANCEL"},
        {"UnSubscribe", "UNSUBSCRIBE"},
        {"'stop'", "STOP"},
        {"...STOP...", "STOP"},
        {"don't stop", NULL},
        {"stop it", NULL},
        {"please stop", NULL},
        {"STOP STOP", NULL},
        {"stopp", NULL},
        {"S T O P", NULL},
        {"endless", NULL},
        {"opt  - out", NULL},
        {"", NULL},
        {"  .  ", NULL},
        {"I already paid", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char kw[16] = "untouched";
        int got = outreach_compliance_stop_keyword(rows[i].text, kw);
        if (rows[i].keyword) {
            cr_assert_eq(got, 1, "\"%s\"", rows[i].text);
            cr_assert_str_eq(kw, rows[i].keyword, "\"%s\"", rows[i].text);
        } else {
            cr_assert_eq(got, 0, "\"%s\"", rows[i].text);
            cr_assert_str_eq(kw, "untouched", "\"%s\"", rows[i].text);
        }
    }
    char kw[16];
    cr_assert_eq(outreach_compliance_stop_keyword(NULL, kw), 0);
}

/* ---- rule 4 and the dispute part of rule 1: the validation notice ---- */

Test(outreach_compliance, validation_notice_first_in_third_party_mode)
{
    fx f;
    setup(&f);
    f.acct.validation_notice_sent_ms = 0;
    f.acct.first_communication_ms = 0;
    suppressed(&f, "regf.1006.34.validation_notice_first", "a reminder before any notice");
    f.cand.kind = OUTREACH_COMPLIANCE_VALIDATION_NOTICE;
    allow(&f, "the notice itself");
    f.cand.channel = OUTREACH_COMPLIANCE_LETTER;
    f.cand.at_ms = utc(2026, 6, 17, 3, 0);
    allow(&f, "the notice by letter, any hour");
    f.cand.kind = OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE;
    allow(&f, "a final notice is no collection message");
    f.cand.kind = OUTREACH_COMPLIANCE_REGULAR;
    f.cand.channel = OUTREACH_COMPLIANCE_EMAIL;
    f.cand.at_ms = T_BASE;
    f.acct.regime = OUTREACH_COMPLIANCE_CREDITOR;
    allow(&f, "creditor mode");
    f.acct.regime = OUTREACH_COMPLIANCE_THIRD_PARTY;
    /* A first communication on Jun 12 14:00Z: the notice is due before Jun 17 14:00Z. */
    f.acct.first_communication_ms = utc(2026, 6, 12, 14, 0);
    allow(&f, "4 days after the first communication");
    f.cand.at_ms = utc(2026, 6, 17, 14, 0) - 1;
    allow(&f, "just under 5 days");
    f.cand.at_ms = utc(2026, 6, 17, 14, 0);
    suppressed(&f, "regf.1006.34.validation_notice_overdue", "5 days, still no notice");
    f.acct.validation_notice_sent_ms = utc(2026, 6, 15, 14, 0);
    allow(&f, "notice sent");
    teardown(&f);
}

Test(outreach_compliance, validation_period_end)
{
    fx f;
    setup(&f);
    const outreach_tz *ny = f.zones[0];
    const struct {
        int64_t sent, end;
        const char *what;
    } rows[] = {
        /* Mon Jun 1: receipt Mon Jun 8 (5th business day), + 30 = Jul 8, ends Jul 9 00:00 EDT. */
        {utc(2026, 6, 1, 14, 0), utc(2026, 7, 9, 4, 0), "sent Monday"},
        /* 23:30 EDT Jun 1 is Jun 2 in UTC: the local date counts. */
        {utc(2026, 6, 2, 3, 30), utc(2026, 7, 9, 4, 0), "sent late Monday"},
        /* Tue Jun 16: Jun 17, 18, (Juneteenth Fri 19), 22, 23, 24 -> Jul 24, ends Jul 25. */
        {utc(2026, 6, 16, 14, 0), utc(2026, 7, 25, 4, 0), "over Juneteenth"},
        /* Wed Nov 25: (Thanksgiving 26), 27, 30, Dec 1, 2, 3 -> Jan 2, ends Jan 3 00:00 EST. */
        {utc(2026, 11, 25, 15, 0), utc(2027, 1, 3, 5, 0), "over Thanksgiving"},
        /* Mon Dec 21: 22, 23, 24, (Christmas Fri 25), 28, 29 -> Jan 28, ends Jan 29. */
        {utc(2026, 12, 21, 15, 0), utc(2027, 1, 29, 5, 0), "over Christmas"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t end = 0;
        char why[128] = "";
        cr_assert_eq(
            outreach_compliance_validation_period_end(rows[i].sent, &ny, 1, &end, why, sizeof why),
            ARR_OK, "%s", why);
        cr_assert_eq(end, rows[i].end, "%s: %lld", rows[i].what, (long long)end);
    }
    /* New York + Los Angeles, sent 05:00Z Jun 2 (Jun 2 in NY, Jun 1 in LA): New York's end,
     * Jul 10 00:00 EDT, is later than Los Angeles' Jul 9 00:00 PDT (07:00Z). */
    set_zones(&f, NY_LA);
    int64_t end = 0;
    char why[128] = "";
    cr_assert_eq(outreach_compliance_validation_period_end(utc(2026, 6, 2, 5, 0), f.zones, 2, &end,
                                                           why, sizeof why),
                 ARR_OK);
    cr_assert_eq(end, utc(2026, 7, 10, 4, 0));
    end = 7;
    cr_assert_eq(outreach_compliance_validation_period_end(utc(2026, 6, 2, 5, 0), f.zones, 0, &end,
                                                           why, sizeof why),
                 ARR_EINVAL);
    cr_assert_eq(end, 7);
    teardown(&f);
}

static int64_t epoch_day(int y, int mo, int d)
{
    return utc(y, mo, d, 0, 0) / 86400000LL;
}

Test(outreach_compliance, business_days)
{
    const struct {
        int y, mo, d, business;
    } rows[] = {
        {2026, 6, 16, 1},  {2026, 6, 20, 0},  {2026, 6, 21, 0},  /* Tue, Sat, Sun */
        {2026, 1, 1, 0},   {2026, 1, 19, 0},  {2026, 2, 16, 0},  /* New Year, MLK, Washington */
        {2026, 5, 25, 0},  {2026, 5, 18, 1},  {2026, 6, 19, 0},  /* Memorial, a Monday, June 19 */
        {2020, 6, 19, 1},  {2026, 7, 3, 0},   {2026, 7, 2, 1},   /* 2020: not yet; Jul 4 on Sat */
        {2026, 7, 6, 1},   {2026, 9, 7, 0},   {2026, 10, 12, 0}, /* Labor, Columbus */
        {2026, 11, 11, 0}, {2026, 11, 26, 0}, {2026, 11, 27, 1}, /* Veterans, Thanksgiving */
        {2026, 12, 25, 0}, {2027, 12, 24, 0}, {2027, 12, 31, 0}, /* Christmas 2027 on Saturday */
        {2028, 1, 3, 1},   {2023, 1, 2, 0},   {2022, 12, 26, 0}, /* Jan 1 2023 on Sunday */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_assert_eq(outreach_compliance_business_day(epoch_day(rows[i].y, rows[i].mo, rows[i].d)),
                     rows[i].business, "%d-%02d-%02d", rows[i].y, rows[i].mo, rows[i].d);
}

Test(outreach_compliance, disputes_pause_collection_until_verification)
{
    fx f;
    /* Notice sent Monday Jun 1: the period ends Jul 9 00:00 EDT = 04:00Z. */
    const struct {
        outreach_compliance_regime regime;
        int64_t dispute, request, verification;
        outreach_compliance_kind kind;
        const char *rule;
    } rows[] = {
        {OUTREACH_COMPLIANCE_THIRD_PARTY, utc(2026, 7, 9, 4, 0) - 1000, 0, 0,
         OUTREACH_COMPLIANCE_REGULAR, "regf.1006.38.dispute_pending"},
        {OUTREACH_COMPLIANCE_THIRD_PARTY, utc(2026, 7, 9, 4, 0), 0, 0, OUTREACH_COMPLIANCE_REGULAR,
         NULL},
        {OUTREACH_COMPLIANCE_THIRD_PARTY, utc(2026, 6, 20, 14, 0), 0, utc(2026, 7, 1, 14, 0),
         OUTREACH_COMPLIANCE_REGULAR, NULL},
        {OUTREACH_COMPLIANCE_THIRD_PARTY, utc(2026, 6, 20, 14, 0), 0, utc(2026, 6, 19, 14, 0),
         OUTREACH_COMPLIANCE_REGULAR, "regf.1006.38.dispute_pending"},
        {OUTREACH_COMPLIANCE_THIRD_PARTY, utc(2026, 6, 20, 14, 0), 0, 0,
         OUTREACH_COMPLIANCE_VALIDATION_NOTICE, NULL},
        {OUTREACH_COMPLIANCE_THIRD_PARTY, utc(2026, 6, 20, 14, 0), 0, 0,
         OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE, "regf.1006.38.dispute_pending"},
        {OUTREACH_COMPLIANCE_THIRD_PARTY, 0, utc(2026, 6, 20, 14, 0), 0,
         OUTREACH_COMPLIANCE_REGULAR, "regf.1006.38.original_creditor_pending"},
        {OUTREACH_COMPLIANCE_THIRD_PARTY, 0, utc(2026, 7, 10, 14, 0), 0,
         OUTREACH_COMPLIANCE_REGULAR, NULL},
        {OUTREACH_COMPLIANCE_CREDITOR, utc(2026, 7, 10, 14, 0), 0, 0, OUTREACH_COMPLIANCE_REGULAR,
         "regf.1006.38.dispute_pending"},
        {OUTREACH_COMPLIANCE_CREDITOR, utc(2026, 7, 10, 14, 0), 0, utc(2026, 7, 11, 14, 0),
         OUTREACH_COMPLIANCE_REGULAR, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        setup(&f);
        f.acct.regime = rows[i].regime;
        f.acct.validation_notice_sent_ms = utc(2026, 6, 1, 14, 0);
        f.acct.first_communication_ms = utc(2026, 6, 1, 14, 0);
        f.acct.dispute_received_ms = rows[i].dispute;
        f.acct.original_creditor_request_ms = rows[i].request;
        f.acct.verification_sent_ms = rows[i].verification;
        f.cand.kind = rows[i].kind;
        f.cand.at_ms = utc(2026, 7, 14, 14, 0);
        char what[64];
        snprintf(what, sizeof what, "dispute row %zu", i);
        if (rows[i].rule)
            suppressed(&f, rows[i].rule, what);
        else
            allow(&f, what);
        teardown(&f);
    }
}

/* ---- bad input ---- */

Test(outreach_compliance, bad_input_is_refused_and_nothing_written)
{
    fx f;
    setup(&f);
    outreach_compliance_decision d = {OUTREACH_COMPLIANCE_DEFER, 42, "x", "y"};
    char why[128];
    cr_assert_eq(outreach_compliance_decide(NULL, &d, why, sizeof why), ARR_EINVAL);
    cr_assert_eq(outreach_compliance_decide(&f.in, NULL, why, sizeof why), ARR_EINVAL);

    f.policy.window_start_min = 21 * 60;
    f.policy.window_end_min = 8 * 60;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    outreach_compliance_policy_default(&f.policy);
    f.policy.window_end_min = 1441;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    outreach_compliance_policy_default(&f.policy);
    f.policy.weekly_cap[OUTREACH_COMPLIANCE_SMS] = -1;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    outreach_compliance_policy_default(&f.policy);

    f.cand.channel = (outreach_compliance_channel)7;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    f.cand.channel = OUTREACH_COMPLIANCE_EMAIL;
    f.cand.at_ms = -1;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    f.cand.at_ms = OUTREACH_COMPLIANCE_MAX_MS;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    f.cand.at_ms = T_BASE;
    f.acct.nopted_out = 1;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    f.acct.nopted_out = 0;
    f.in.nhistory = 1;
    f.hist[0].at_ms = -5;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    f.in.nhistory = 0;
    f.zones[0] = NULL;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    set_zones(&f, UNKNOWN);
    f.in.db = NULL;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_EINVAL);
    outreach_tz_db *bare = NULL;
    cr_assert_eq(outreach_tz_db_new(NULL, &bare, why, sizeof why), ARR_OK);
    f.in.db = bare;
    cr_assert_eq(outreach_compliance_decide(&f.in, &d, why, sizeof why), ARR_ENOTFOUND,
                 "the db lacks the US zones");
    cr_assert(strstr(why, "US zones"), "%s", why);
    outreach_tz_db_free(bare);

    cr_assert_eq(d.verdict, OUTREACH_COMPLIANCE_DEFER);
    cr_assert_eq(d.until_ms, 42);
    cr_assert_str_eq(d.rule_id, "x");
    teardown(&f);
}
