/* Unit tests of services/outreach/decide.c: what outreach_decide adds to the compliance engine
 * (test_outreach_compliance.c tests the law itself). A step with no usable contact point is
 * suppressed with its channel's contact.no_usable_* rule; a pending promise defers a regular
 * step until the promise ends under the hold's rule, unless the law defers it longer; a
 * suppression of the law wins over both. Also what the function builds for the engine: the
 * medium opt-outs, the contact history from the sent steps, and the channel names.
 *
 * The settings are the shipped deploy/outreach/tenants.json (tenant "acme" gets the defaults:
 * cadence default-1, daily cap of 1 email). The base case is an open third-party account in
 * New York whose validation notice went out on 2026-05-01, with one e-mail address, one mobile
 * with sms and voice consent, a postal address, and a regular email step decided on Tuesday
 * 2026-06-16 10:00 EDT (14:00Z): allowed. New York is UTC-4 in summer. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decide.h"

#define SETTINGS ARR_SOURCE_DIR "/deploy/outreach/tenants.json"
#define DAY_MS (86400 * 1000LL)

#define FULL                                                                                       \
    "{'emails':[{'address':'a@example.com','consent':true}],"                                      \
    "'phones':[{'number':'+15550000001','type':'mobile','sms_consent':true,"                       \
    "           'voice_consent':true}],"                                                           \
    "'address':{'line1':'12 Oak St','city':'Springfield','state':'IL','zip':'62701',"              \
    "           'country':'US'},"                                                                  \
    "'timezones':['America/New_York']}"
#define NOTHING "{'timezones':['America/New_York']}" /* no point on any channel */

/* UTC instant of a civil time, from glibc's timegm (not from the code under test). */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) * 1000;
}

#define T_BASE utc(2026, 6, 16, 14, 0) /* Tuesday 10:00 EDT */

typedef struct fx {
    outreach_settings *settings;
    outreach_tz_db *tz;
    outreach_account a; /* large: the fixture lives on the heap */
    outreach_step st;
    const outreach_contact_point *point;
    outreach_compliance_decision d;
} fx;

/* Debtor JSON written with ' for ", read into the account's facts. */
static void set_facts(fx *f, const char *debtor)
{
    char *s = strdup(debtor);
    cr_assert_not_null(s);
    for (char *q = s; *q; q++)
        if (*q == '\'')
            *q = '"';
    json_error_t err;
    json_t *j = json_loads(s, 0, &err);
    cr_assert_not_null(j, "bad test JSON %s: %s", s, err.text);
    char why[256] = "";
    cr_assert_eq(outreach_facts_read("acme", j, &f->a.facts, why, sizeof why), ARR_OK, "%s", why);
    json_decref(j);
    free(s);
}

static fx *setup(const char *debtor)
{
    fx *f = calloc(1, sizeof *f);
    cr_assert_not_null(f);
    char why[512] = "";
    cr_assert_eq(outreach_settings_load(SETTINGS, &f->settings, why, sizeof why), ARR_OK, "%s",
                 why);
    cr_assert_eq(outreach_tz_db_new(NULL, &f->tz, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(outreach_tz_db_load_us(f->tz, why, sizeof why), ARR_OK, "%s", why);
    strcpy(f->a.tenant, "acme");
    strcpy(f->a.account, "A-1");
    f->a.placed = 1;
    f->a.regime = OUTREACH_COMPLIANCE_THIRD_PARTY;
    strcpy(f->a.status, "open");
    f->a.validation_ms = utc(2026, 5, 1, 14, 0);
    f->a.first_contact_ms = utc(2026, 5, 1, 14, 0);
    f->a.sms_consent_ms = utc(2026, 5, 1, 14, 0);
    f->a.voice_consent_ms = utc(2026, 5, 1, 14, 0);
    set_facts(f, debtor);
    f->st.channel = OUTREACH_COMPLIANCE_EMAIL;
    f->st.kind = OUTREACH_COMPLIANCE_REGULAR;
    strcpy(f->st.status, "planned");
    return f;
}

static void teardown(fx *f)
{
    outreach_settings_free(f->settings);
    outreach_tz_db_free(f->tz);
    free(f);
}

static void decide(fx *f, int64_t at_ms)
{
    char why[256] = "";
    f->point = (const outreach_contact_point *)0x1; /* must be written */
    memset(&f->d, 0x5a, sizeof f->d);
    cr_assert_eq(outreach_decide(f->settings, f->tz, &f->a, &f->st, at_ms, &f->point, &f->d, why,
                                 sizeof why),
                 ARR_OK, "%s", why);
}

static void expect(const fx *f, outreach_compliance_verdict v, const char *rule, int64_t until,
                   const char *what)
{
    cr_assert_eq(f->d.verdict, v, "%s: verdict %d, rule %s", what, f->d.verdict, f->d.rule_id);
    cr_assert_str_eq(f->d.rule_id, rule, "%s", what);
    cr_assert_eq(f->d.until_ms, until, "%s: until %lld", what, (long long)f->d.until_ms);
    cr_assert_not_null(f->d.reason, "%s", what);
}

TestSuite(decide);

/* ------------------------------------------------------------------ the base case */

Test(decide, base_case_allows_with_the_point_it_picked)
{
    fx *f = setup(FULL);
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_ALLOW, OUTREACH_RULE_ALLOW, 0, "base");
    cr_assert_eq(f->point, &f->a.facts.emails[0], "the point lives in the account's facts");
    teardown(f);
}

/* ------------------------------------------------------------------ no usable contact point */

Test(decide, no_point_suppresses_with_the_channels_rule)
{
    static const struct {
        outreach_compliance_channel ch;
        const char *rule;
    } cases[] = {
        {OUTREACH_COMPLIANCE_EMAIL, "contact.no_usable_email"},
        {OUTREACH_COMPLIANCE_SMS, "contact.no_usable_sms_number"},
        {OUTREACH_COMPLIANCE_VOICE, "contact.no_usable_phone"},
        {OUTREACH_COMPLIANCE_LETTER, "contact.no_postal_address"},
    };
    fx *f = setup(NOTHING);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f->st.channel = cases[i].ch;
        decide(f, T_BASE);
        expect(f, OUTREACH_COMPLIANCE_SUPPRESS, cases[i].rule, 0, cases[i].rule);
        cr_assert_null(f->point, "%s", cases[i].rule);
    }
    teardown(f);
}

Test(decide, a_bad_point_is_no_point)
{
    fx *f = setup(FULL);
    strcpy(f->a.bad[f->a.nbad++], f->a.facts.emails[0].id);
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_SUPPRESS, "contact.no_usable_email", 0, "bad email");
    cr_assert_null(f->point);
    teardown(f);
}

Test(decide, no_point_suppresses_what_the_law_would_only_defer)
{
    fx *f = setup(NOTHING);
    decide(f, utc(2026, 6, 16, 5, 0)); /* 01:00 EDT: the law defers to 08:00 */
    expect(f, OUTREACH_COMPLIANCE_SUPPRESS, "contact.no_usable_email", 0, "night, no point");
    teardown(f);
}

/* ------------------------------------------------------------------ a pending promise */

Test(decide, a_pending_promise_defers_until_it_ends)
{
    fx *f = setup(FULL);
    int64_t until = T_BASE + 3 * DAY_MS;
    f->a.promise_until_ms = until;
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_DEFER, "promise.pending", until, "no hold rule");
    cr_assert_not_null(f->point, "the point is still picked");

    strcpy(f->a.hold_rule, "reply.says_paid");
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_DEFER, "reply.says_paid", until, "the hold's own rule");
    cr_assert_eq(f->d.rule_id, f->a.hold_rule, "the rule points into the account");

    f->st.kind = OUTREACH_COMPLIANCE_VALIDATION_NOTICE;
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_ALLOW, OUTREACH_RULE_ALLOW, 0, "only regular steps wait");
    teardown(f);
}

Test(decide, a_promise_ended_holds_nothing)
{
    fx *f = setup(FULL);
    f->a.promise_until_ms = T_BASE; /* ends at the decision's instant */
    strcpy(f->a.hold_rule, "promise.pending");
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_ALLOW, OUTREACH_RULE_ALLOW, 0, "ended");
    teardown(f);
}

Test(decide, the_later_of_the_laws_deferral_and_the_promise)
{
    fx *f = setup(FULL);
    int64_t at = utc(2026, 6, 16, 5, 0);         /* 01:00 EDT */
    int64_t law_until = utc(2026, 6, 16, 12, 0); /* 08:00 EDT */
    f->a.promise_until_ms = utc(2026, 6, 16, 6, 0);
    decide(f, at);
    expect(f, OUTREACH_COMPLIANCE_DEFER, OUTREACH_RULE_INCONVENIENT_TIME, law_until,
           "the law defers longer");
    f->a.promise_until_ms = law_until;
    decide(f, at);
    expect(f, OUTREACH_COMPLIANCE_DEFER, OUTREACH_RULE_INCONVENIENT_TIME, law_until,
           "a tie keeps the law's rule");
    f->a.promise_until_ms = utc(2026, 6, 20, 0, 0);
    decide(f, at);
    expect(f, OUTREACH_COMPLIANCE_DEFER, "promise.pending", utc(2026, 6, 20, 0, 0),
           "the promise holds longer");
    teardown(f);
}

/* ------------------------------------------------------------------ the law first */

Test(decide, a_law_suppression_wins_over_no_point_and_a_promise)
{
    static const struct {
        const char *status;
        const char *rule;
    } cases[] = {
        {"paid", OUTREACH_RULE_STATUS_PAID},
        {"settled", OUTREACH_RULE_STATUS_SETTLED},
        {"closed", OUTREACH_RULE_STATUS_CLOSED},
        {"bankrupt", OUTREACH_RULE_STATUS_BANKRUPT},
        {"deceased", OUTREACH_RULE_STATUS_DECEASED},
        {"attorney", OUTREACH_RULE_ATTORNEY},
        {"cease", OUTREACH_RULE_CEASE},
        {"disputed", OUTREACH_RULE_DISPUTE},
    };
    fx *f = setup(NOTHING);
    f->a.promise_until_ms = T_BASE + 3 * DAY_MS;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strcpy(f->a.status, cases[i].status);
        decide(f, T_BASE);
        expect(f, OUTREACH_COMPLIANCE_SUPPRESS, cases[i].rule, 0, cases[i].status);
        cr_assert_null(f->point, "%s", cases[i].status);
    }
    teardown(f);
}

Test(decide, a_medium_opt_out_reaches_the_law)
{
    fx *f = setup(FULL);
    f->a.promise_until_ms = T_BASE + 3 * DAY_MS;
    strcpy(f->a.opted_out[f->a.nopted++], "medium:email");
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_SUPPRESS, OUTREACH_RULE_OPTED_OUT_MEDIUM, 0, "medium:email");
    f->st.channel = OUTREACH_COMPLIANCE_SMS;
    f->a.promise_until_ms = 0;
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_ALLOW, OUTREACH_RULE_ALLOW, 0, "another medium");
    teardown(f);
}

Test(decide, an_opted_out_address_is_still_picked_for_the_law_to_name)
{
    fx *f = setup(FULL);
    strcpy(f->a.opted_out[f->a.nopted++], f->a.facts.emails[0].id);
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_SUPPRESS, OUTREACH_RULE_OPTED_OUT_ADDRESS, 0, "opted out");
    cr_assert_eq(f->point, &f->a.facts.emails[0]);
    teardown(f);
}

/* ------------------------------------------------------------------ history */

Test(decide, the_history_is_the_sent_steps)
{
    fx *f = setup(FULL);
    outreach_step *s = &f->a.steps[f->a.nsteps++];
    s->channel = OUTREACH_COMPLIANCE_EMAIL;
    s->kind = OUTREACH_COMPLIANCE_REGULAR;
    s->done_ms = T_BASE - 3600 * 1000LL;
    strcpy(s->status, "sent");
    decide(f, T_BASE);
    /* the daily cap of 1 email: the next local day, then 08:00 EDT */
    expect(f, OUTREACH_COMPLIANCE_DEFER, "tenant.cap_daily_email", utc(2026, 6, 17, 12, 0),
           "an email sent today");
    strcpy(s->status, "suppressed");
    decide(f, T_BASE);
    expect(f, OUTREACH_COMPLIANCE_ALLOW, OUTREACH_RULE_ALLOW, 0, "a step not sent");
    teardown(f);
}

/* ------------------------------------------------------------------ names */

Test(decide, channel_names)
{
    static const char *const names[] = {"email", "sms", "voice", "letter"};
    for (int i = 0; i < OUTREACH_COMPLIANCE_CHANNELS; i++) {
        outreach_compliance_channel ch = OUTREACH_COMPLIANCE_CHANNELS;
        cr_assert_eq(outreach_decide_channel_of(names[i], &ch), ARR_OK, "%s", names[i]);
        cr_assert_eq(ch, (outreach_compliance_channel)i, "%s", names[i]);
    }
    outreach_compliance_channel ch = OUTREACH_COMPLIANCE_SMS;
    cr_assert_eq(outreach_decide_channel_of("fax", &ch), ARR_EDECODE);
    cr_assert_eq(outreach_decide_channel_of("Email", &ch), ARR_EDECODE);
    cr_assert_eq(outreach_decide_channel_of("", &ch), ARR_EDECODE);
    cr_assert_eq(outreach_decide_channel_of(NULL, &ch), ARR_EDECODE);
    cr_assert_eq(ch, OUTREACH_COMPLIANCE_SMS, "untouched on failure");
}
