/* Unit tests of services/outreach/cadence.c: the shipped policies (default-1 and uniform-1)
 * against the shipped templates, every load error naming its field, and the planner: whole
 * cadences for two strategies, offsets from placement and from the previous step, conditions
 * skipping steps, escalation and exhaustion, a policy change mid-cadence, strategy switches,
 * the uniform cadence, and costs. Expected times are worked out by hand in the comments, from
 * T0 = 2026-01-01T00:00:00Z. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cadence.h"

#define DEFAULT_POLICY ARR_SOURCE_DIR "/deploy/outreach/cadences/default-1.json"
#define UNIFORM_POLICY ARR_SOURCE_DIR "/deploy/outreach/cadences/uniform-1.json"
#define TEMPLATES ARR_SOURCE_DIR "/deploy/outreach/templates/default-1.json"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define DAY INT64_C(86400000)
#define HOUR INT64_C(3600000)

#define EMAIL OUTREACH_COMPLIANCE_EMAIL
#define SMS OUTREACH_COMPLIANCE_SMS
#define VOICE OUTREACH_COMPLIANCE_VOICE
#define LETTER OUTREACH_COMPLIANCE_LETTER

/* ------------------------------------------------------------------ helpers */

static outreach_template_set *templates(void)
{
    outreach_template_set *s = NULL;
    char why[512] = "";
    arr_err e = outreach_template_set_load(TEMPLATES, &s, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s", why);
    return s;
}

static outreach_cadence_policy *load(const char *path)
{
    outreach_template_set *t = templates();
    outreach_cadence_policy *p = NULL;
    char why[512] = "";
    arr_err e = outreach_cadence_policy_load(path, t, &p, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s", why);
    cr_assert_not_null(p);
    outreach_template_set_free(t);
    return p;
}

/* JSON written with ' for " so the tests stay readable. */
static char *dq(const char *text)
{
    char *s = strdup(text);
    cr_assert_not_null(s);
    for (char *q = s; *q; q++)
        if (*q == '\'')
            *q = '"';
    return s;
}

static arr_err parse_with(const char *text, const outreach_template_set *t,
                          outreach_cadence_policy **out, char *why, size_t whylen)
{
    char *s = dq(text);
    arr_err e = outreach_cadence_policy_parse(s, strlen(s), t, out, why, whylen);
    free(s);
    return e;
}

static outreach_cadence_policy *parse_ok(const char *text)
{
    outreach_cadence_policy *p = NULL;
    char why[512] = "";
    arr_err e = parse_with(text, NULL, &p, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s", why);
    return p;
}

static void fails_with(const char *text, const outreach_template_set *t, const char *want)
{
    outreach_cadence_policy *p = (outreach_cadence_policy *)0x1;
    char why[512] = "";
    arr_err e = parse_with(text, t, &p, why, sizeof why);
    cr_assert_eq(e, ARR_ECONFIG, "want ECONFIG for %s, got %d (%s)", text, e, why);
    cr_assert_not_null(strstr(why, want), "why \"%s\" lacks \"%s\"", why, want);
    cr_assert_eq(p, (outreach_cadence_policy *)0x1, "out written on failure");
}

static void fails(const char *text, const char *want)
{
    fails_with(text, NULL, want);
}

/* The head of a policy; a test appends its "strategies" object and the closing brace. */
#define HEAD                                                                                       \
    "{'format':'arrears-cadence-1','version':'t-1',"                                               \
    "'unit_costs_cents':{'email':1,'sms':3,'voice':40,'letter':75,'agent_minute':90},"             \
    "'weekly_caps':{'email':3,'sms':2,'voice':3,'letter':1},"
#define STRATS(x) HEAD "'strategies':{" x "}}"
/* A one-step fallback, to make a policy valid around the part under test. */
#define STAR                                                                                       \
    "'*':{'steps':[{'id':'a','offset_days':0,'from':'placement','channel':'email',"                \
    "'template':'t'}]}"
/* A fallback whose only step is the one given. */
#define STEP1(s) STRATS("'*':{'steps':[" s "]}")
/* A fallback of two steps. */
#define STEP2(x, y) STRATS("'*':{'steps':[" x "," y "]}")
#define EMAIL_STEP(id, off, from)                                                                  \
    "{'id':'" id "','offset_days':" #off ",'from':'" from "','channel':'email','template':'t'}"

/* Account with every contact point and consent, third-party regime. */
static outreach_cadence_account acct_all(const char *strategy, int64_t balance)
{
    outreach_cadence_account a = {
        .strategy = strategy,
        .placed_ms = T0,
        .scored_at_ms = T0,
        .regime = OUTREACH_COMPLIANCE_THIRD_PARTY,
        .balance_cents = balance,
        .has_email = 1,
        .has_mobile = 1,
        .sms_consent = 1,
        .has_phone = 1,
        .voice_consent = 1,
        .has_address = 1,
    };
    return a;
}

/* What a caller keeps per account: the run and its done steps (copies, so they outlive a
 * policy). */
typedef struct sim {
    char version[64], scored[48], strategy[48];
    char ids[64][48];
    outreach_cadence_done done[64];
    outreach_cadence_progress pr;
} sim;

static void sim_init(sim *s)
{
    memset(s, 0, sizeof *s);
}

static void sim_sync(sim *s)
{
    s->pr.policy_version = s->version[0] ? s->version : NULL;
    s->pr.scored_strategy = s->scored[0] ? s->scored : NULL;
    s->pr.strategy = s->strategy[0] ? s->strategy : NULL;
    s->pr.done = s->pr.ndone ? s->done : NULL;
}

static void sim_add(sim *s, const char *id, outreach_compliance_channel ch, int64_t at, int sent)
{
    size_t i = s->pr.ndone++;
    cr_assert_lt(i, 64);
    snprintf(s->ids[i], sizeof s->ids[i], "%s", id);
    s->done[i].step_id = s->ids[i];
    s->done[i].channel = ch;
    s->done[i].at_ms = at;
    s->done[i].sent = sent;
    if (sent && at > s->pr.last_sent_ms[ch])
        s->pr.last_sent_ms[ch] = at;
    sim_sync(s);
}

/* Records an answer: the run it belongs to, its skipped steps; and the step, when done_at >= 0
 * (sent when sent is 1). */
static void sim_apply(sim *s, const outreach_cadence_step_out *o, int64_t done_at, int sent)
{
    if (o->new_run)
        s->pr.ndone = 0;
    snprintf(s->version, sizeof s->version, "%s", o->policy_version);
    snprintf(s->scored, sizeof s->scored, "%s", o->scored_strategy);
    snprintf(s->strategy, sizeof s->strategy, "%s", o->strategy);
    s->pr.start_ms = o->start_ms;
    sim_sync(s);
    for (size_t i = 0; i < o->nskipped; i++)
        sim_add(s, o->skipped[i].step_id, o->skipped[i].channel, o->skipped[i].due_ms, 0);
    if (o->outcome == OUTREACH_CADENCE_STEP && done_at >= 0)
        sim_add(s, o->step_id, o->channel, done_at, sent);
}

/* The caller's side of an escalation: the next run starts at escalate_at_ms. */
static void sim_escalate(sim *s, const outreach_cadence_step_out *o)
{
    cr_assert_not_null(o->escalate_to);
    snprintf(s->strategy, sizeof s->strategy, "%s", o->escalate_to);
    s->pr.start_ms = o->escalate_at_ms;
    s->pr.ndone = 0;
    sim_sync(s);
}

static outreach_cadence_step_out next_ok(const outreach_cadence_policy *p,
                                         const outreach_cadence_account *a, const sim *s)
{
    outreach_cadence_step_out o;
    char why[512] = "";
    arr_err e = outreach_cadence_next(p, a, s ? &s->pr : NULL, &o, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s", why);
    return o;
}

/* Two answers are the same (field by field: padding bytes are not compared). */
static void same_answer(const outreach_cadence_step_out *x, const outreach_cadence_step_out *y)
{
    cr_assert_eq(x->outcome, y->outcome);
    cr_assert_eq(x->rule_id, y->rule_id);
    cr_assert_eq(x->new_run, y->new_run);
    cr_assert_eq(x->switched, y->switched);
    cr_assert_eq(x->version_changed, y->version_changed);
    cr_assert_eq(x->policy_version, y->policy_version);
    cr_assert_str_eq(x->scored_strategy, y->scored_strategy);
    cr_assert_str_eq(x->strategy, y->strategy);
    cr_assert_eq(x->cadence, y->cadence);
    cr_assert_eq(x->start_ms, y->start_ms);
    cr_assert_eq(x->step_id, y->step_id);
    cr_assert_eq(x->step_index, y->step_index);
    cr_assert_eq(x->template_id, y->template_id);
    cr_assert_eq(x->channel, y->channel);
    cr_assert_eq(x->kind, y->kind);
    cr_assert_eq(x->due_ms, y->due_ms);
    cr_assert_eq(x->escalate_to, y->escalate_to);
    cr_assert_eq(x->escalate_at_ms, y->escalate_at_ms);
    cr_assert_eq(x->nskipped, y->nskipped);
    for (size_t i = 0; i < x->nskipped; i++) {
        cr_assert_eq(x->skipped[i].step_id, y->skipped[i].step_id);
        cr_assert_eq(x->skipped[i].rule_id, y->skipped[i].rule_id);
        cr_assert_eq(x->skipped[i].due_ms, y->skipped[i].due_ms);
    }
}

static void expect_step(const outreach_cadence_step_out *o, const char *id,
                        outreach_compliance_channel ch, const char *tmpl, int64_t due)
{
    cr_assert_eq(o->outcome, OUTREACH_CADENCE_STEP, "want step %s, got outcome %d (%s)", id,
                 o->outcome, o->rule_id ? o->rule_id : "");
    cr_assert_str_eq(o->step_id, id);
    cr_assert_eq(o->channel, ch, "%s: channel %d", id, o->channel);
    cr_assert_str_eq(o->template_id, tmpl);
    cr_assert_eq(o->due_ms, due, "%s: due %lld, want %lld (T0 %+lld ms)", id, (long long)o->due_ms,
                 (long long)due, (long long)(o->due_ms - T0));
    cr_assert_null(o->rule_id);
}

static void expect_skip(const outreach_cadence_step_out *o, size_t i, const char *id,
                        const char *rule, int64_t due)
{
    cr_assert_gt(o->nskipped, i, "want skipped[%zu] %s, only %zu skipped", i, id, o->nskipped);
    cr_assert_str_eq(o->skipped[i].step_id, id);
    cr_assert_str_eq(o->skipped[i].rule_id, rule);
    cr_assert_eq(o->skipped[i].due_ms, due, "skipped %s: due %lld, want %lld", id,
                 (long long)o->skipped[i].due_ms, (long long)due);
}

/* ------------------------------------------------------------------ shipped policies */

Test(cadence_shipped, default_loads_against_the_templates)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    cr_assert_str_eq(outreach_cadence_policy_version(p), "cadence-default-1");
    /* every strategy of deploy/strategy/default-1.json has its own cadence */
    const char *scoring[] = {"digital-light",    "digital-standard", "voice-assisted",
                             "settlement-offer", "agent-review",     "do-not-pursue",
                             "no-action"};
    for (size_t i = 0; i < sizeof scoring / sizeof scoring[0]; i++)
        cr_assert_str_eq(outreach_cadence_resolve(p, scoring[i]), scoring[i]);
    cr_assert_str_eq(outreach_cadence_resolve(p, "brand-new"), "*");
    cr_assert_eq(outreach_cadence_step_count(p, "digital-light"), 5);
    cr_assert_eq(outreach_cadence_step_count(p, "digital-standard"), 6);
    cr_assert_eq(outreach_cadence_step_count(p, "do-not-pursue"), 0);
    cr_assert_eq(outreach_cadence_step_count(p, "no-action"), 0);
    cr_assert_eq(outreach_cadence_step_count(p, "brand-new"), 6);
    cr_assert_null(outreach_cadence_resolve(p, NULL));
    cr_assert_eq(outreach_cadence_step_count(NULL, "x"), -1);
    outreach_cadence_policy_free(p);
}

Test(cadence_shipped, uniform_loads_and_serves_every_strategy_with_star)
{
    outreach_cadence_policy *p = load(UNIFORM_POLICY);
    cr_assert_str_eq(outreach_cadence_policy_version(p), "cadence-uniform-1");
    const char *all[] = {"digital-light",    "digital-standard", "voice-assisted",
                         "settlement-offer", "agent-review",     "do-not-pursue"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        cr_assert_str_eq(outreach_cadence_resolve(p, all[i]), "*");
        cr_assert_eq(outreach_cadence_step_count(p, all[i]), 6);
    }
    cr_assert_str_eq(outreach_cadence_resolve(p, "no-action"), "no-action");
    cr_assert_eq(outreach_cadence_step_count(p, "no-action"), 0);
    outreach_cadence_policy_free(p);
}

Test(cadence_shipped, missing_file_is_eio_naming_the_path)
{
    outreach_cadence_policy *p = (outreach_cadence_policy *)0x1;
    char why[512] = "";
    arr_err e = outreach_cadence_policy_load("/nonexistent/cad.json", NULL, &p, why, sizeof why);
    cr_assert_eq(e, ARR_EIO);
    cr_assert_not_null(strstr(why, "/nonexistent/cad.json"), "%s", why);
    cr_assert_eq(p, (outreach_cadence_policy *)0x1);
}

/* ------------------------------------------------------------------ load errors */

Test(cadence_load, minimal_policy_and_comments)
{
    outreach_cadence_policy *p =
        parse_ok("{'_c':'x','format':'arrears-cadence-1','version':'t-1',"
                 "'unit_costs_cents':{'email':1,'sms':3,'voice':40,'letter':75,'agent_minute':90},"
                 "'weekly_caps':{'email':3,'sms':2,'voice':3,'letter':1},"
                 "'strategies':{'_c':1,'*':{'_c':2,'steps':[{'_c':3,'id':'a','offset_days':0,"
                 "'from':'placement','channel':'email','template':'t','conditions':['has_email']}"
                 "]}}}");
    cr_assert_str_eq(outreach_cadence_policy_version(p), "t-1");
    cr_assert_eq(outreach_cadence_step_count(p, "x"), 1);
    outreach_cadence_policy_free(p);
}

Test(cadence_load, top_level_errors_name_their_field)
{
    fails("[1]", "cadence policy: must be a JSON object");
    fails("{'format':'arrears-cadence-1','version':'t 1'}", "version: must be 1 to 63");
    fails("{'format':'arrears-cadence-2','version':'t-1'}",
          "format: must be \"arrears-cadence-1\"");
    fails("{'format':'arrears-cadence-1','version':'t-1','tenants':{}}", "tenants: unknown key");
    fails("{'format':'arrears-cadence-1','version':'t-1',"
          "'unit_costs_cents':{'email':1,'sms':3,'voice':40,'letter':75}}",
          "unit_costs_cents.agent_minute: is missing");
    fails("{'format':'arrears-cadence-1','version':'t-1',"
          "'unit_costs_cents':{'email':1,'sms':-3,'voice':40,'letter':75,'agent_minute':1}}",
          "unit_costs_cents.sms: must be an integer from 0 to 1000000");
    fails("{'format':'arrears-cadence-1','version':'t-1',"
          "'unit_costs_cents':{'email':1,'sms':3,'voice':40,'letter':75,'agent_minute':1,'fax':2}}",
          "unit_costs_cents.fax: unknown key");
    fails("{'format':'arrears-cadence-1','version':'t-1',"
          "'unit_costs_cents':{'email':1,'sms':3,'voice':40,'letter':75,'agent_minute':1}}",
          "weekly_caps: is missing");
    fails(HEAD "'daily_caps':{'email':1,'sms':1,'voice':1001,'letter':1},'strategies':{" STAR "}}",
          "daily_caps.voice: must be an integer from 0 to 1000");
    fails(HEAD "'daily_caps':{'email':1,'sms':1,'voice':1},'strategies':{" STAR "}}",
          "daily_caps.letter: is missing");
    fails(HEAD "'strategies':[]}", "strategies: must be an object");
    fails(STRATS("'a':{'steps':[]}"), "strategies.*: is missing");
    fails(STRATS("'Digital':{'steps':[]}," STAR), "strategies.Digital: a strategy name must be");
    fails(STRATS("'a':{'steps':{}}," STAR), "strategies.a.steps: must be an array");
    fails(STRATS("'a':{}," STAR), "strategies.a.steps: must be an array");
    fails(STRATS("'a':{'steps':[],'next':1}," STAR), "strategies.a.next: unknown key");
    /* duplicate keys are refused by the JSON reader */
    fails(STRATS(STAR "," STAR), "duplicate");
}

Test(cadence_load, step_errors_name_their_field)
{
    fails(STEP1("{'id':'a','from':'placement','channel':'email','template':'t'}"),
          "strategies.*.steps[0].offset_days: is missing");
    fails(STEP2(EMAIL_STEP("a", 0, "placement"), EMAIL_STEP("b", -1, "previous")),
          "strategies.*.steps[1].offset_days: must be an integer from 0 to 3650");
    fails(STEP1(EMAIL_STEP("a", 3651, "previous")),
          "strategies.*.steps[0].offset_days: must be an integer from 0 to 3650");
    fails(STEP1(EMAIL_STEP("a", 1.5, "previous")), "steps[0].offset_days: must be an integer");
    fails(STEP1(EMAIL_STEP("a", 1, "start")),
          "strategies.*.steps[0].from: must be \"placement\" or \"previous\"");
    fails(STEP1("{'offset_days':0,'from':'placement','channel':'email','template':'t'}"),
          "strategies.*.steps[0].id: must be a string");
    fails(STEP1("{'id':'A b','offset_days':0,'from':'placement','channel':'email','template':'t'}"),
          "strategies.*.steps[0].id: must be a string matching");
    fails(STEP2(EMAIL_STEP("a", 0, "placement"), EMAIL_STEP("a", 1, "previous")),
          "strategies.*.steps[1].id: \"a\" is also steps[0].id");
    fails(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'fax','template':'t'}"),
          "strategies.*.steps[0].channel: must be");
    fails(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email'}"),
          "strategies.*.steps[0].template: must be a template id");
    fails(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email',"
                "'template':'Reminder-1'}"),
          "strategies.*.steps[0].template: must be a template id");
    fails(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'t',"
                "'kind':'cease_final_notice'}"),
          "strategies.*.steps[0].kind: \"cease_final_notice\" is sent on an event");
    fails(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'sms','template':'t',"
                "'kind':'opt_out_confirmation'}"),
          "steps[0].kind: \"opt_out_confirmation\" is sent on an event");
    fails(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'t',"
                "'kind':'reminder'}"),
          "strategies.*.steps[0].kind: must be \"regular\" or \"validation_notice\"");
    fails(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'sms','template':'t',"
                "'kind':'validation_notice'}"),
          "strategies.*.steps[0].kind: a validation_notice goes by email or letter, not sms");
    fails(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'t',"
                "'delay':1}"),
          "strategies.*.steps[0].delay: unknown key");
    fails(STEP1("12"), "strategies.*.steps[0]: must be an object");
}

Test(cadence_load, at_most_32_steps)
{
    char buf[16384];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s", HEAD "'strategies':{'*':{'steps':[");
    for (int i = 0; i < 33; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len,
                                "%s{'id':'s%d','offset_days':1,'from':'previous','channel':"
                                "'email','template':'t'}",
                                i ? "," : "", i);
    snprintf(buf + len, sizeof buf - len, "]}}}");
    fails(buf, "strategies.*.steps: at most 32 steps, not 33");
    /* 32 is fine: cut the last step */
    char *last = strstr(buf, ",{'id':'s32'");
    cr_assert_not_null(last);
    snprintf(last, sizeof buf - (size_t)(last - buf), "]}}}");
    outreach_cadence_policy *p = parse_ok(buf);
    cr_assert_eq(outreach_cadence_step_count(p, "*"), 32);
    outreach_cadence_policy_free(p);
}

#define COND_STEP(c)                                                                               \
    STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'t',"         \
          "'conditions':[" c "]}")

Test(cadence_load, condition_errors_name_their_field)
{
    fails(COND_STEP("'has_email','has_fax'"),
          "strategies.*.steps[0].conditions[1]: unknown condition \"has_fax\"");
    fails(COND_STEP("'balance_at_least'"),
          "strategies.*.steps[0].conditions[0]: \"balance_at_least\" needs a whole number");
    fails(COND_STEP("'balance_at_least:-5'"), "conditions[0]: \"balance_at_least\" needs");
    fails(COND_STEP("'balance_below:12x'"), "conditions[0]: \"balance_below\" needs");
    fails(COND_STEP("'balance_below:'"), "conditions[0]: \"balance_below\" needs");
    fails(COND_STEP("'balance_at_least:1000000000001'"), "conditions[0]: \"balance_at_least\"");
    fails(COND_STEP("'has_phone:3'"),
          "strategies.*.steps[0].conditions[0]: condition \"has_phone\" takes no argument");
    fails(COND_STEP("'has_phone','third_party','has_phone'"),
          "strategies.*.steps[0].conditions[2]: condition \"has_phone\" is given twice");
    fails(COND_STEP("'balance_at_least:1','balance_at_least:2'"),
          "conditions[1]: condition \"balance_at_least\" is given twice");
    fails(COND_STEP("'has_email',1"), "strategies.*.steps[0].conditions[1]: must be a string");
    fails(COND_STEP("'has_email','has_phone','has_address','third_party','creditor',"
                    "'validation_notice_pending','balance_at_least:1','balance_below:9',"
                    "'has_voice_consent'"),
          "strategies.*.steps[0].conditions: at most 8 conditions");
    fails(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'t',"
                "'conditions':'has_email'}"),
          "strategies.*.steps[0].conditions: must be an array");
    /* all names at once, 8 of them, with an argument each where needed: fine */
    outreach_cadence_policy *p =
        parse_ok(COND_STEP("'has_email','has_phone','has_address','third_party',"
                           "'has_mobile_sms_consent','validation_notice_pending',"
                           "'balance_at_least:1','balance_below:9'"));
    outreach_cadence_policy_free(p);
}

Test(cadence_load, escalation_errors_name_their_field)
{
    fails(STRATS("'a':{'steps':[],'escalate_to':'zz'}," STAR),
          "strategies.a.escalate_to: unknown strategy \"zz\"");
    fails(STRATS("'a':{'steps':[],'escalate_to':'*'}," STAR),
          "strategies.a.escalate_to: must name a strategy of this policy, not \"*\"");
    fails(STRATS("'a':{'steps':[],'escalate_to':5}," STAR),
          "strategies.a.escalate_to: must be a strategy name or null");
    fails(STRATS("'a':{'steps':[],'escalate_after_days':2}," STAR),
          "strategies.a.escalate_after_days: only with escalate_to");
    fails(STRATS(
              "'a':{'steps':[],'escalate_to':'b','escalate_after_days':-2},'b':{'steps':[]}," STAR),
          "strategies.a.escalate_after_days: must be an integer from 0 to 3650");
    fails(STRATS("'a':{'steps':[],'escalate_to':'a'}," STAR),
          "strategies.a.escalate_to: escalation cycle a -> a");
    fails(STRATS("'a':{'steps':[],'escalate_to':'b'},'b':{'steps':[],'escalate_to':'a'}," STAR),
          "strategies.a.escalate_to: escalation cycle a -> b -> a");
    /* a cycle further down the chain of "*": named from its first member */
    fails(STRATS("'*':{'steps':[],'escalate_to':'x'},'x':{'steps':[],'escalate_to':'y'},"
                 "'y':{'steps':[],'escalate_to':'z'},'z':{'steps':[],'escalate_to':'x'}"),
          "strategies.x.escalate_to: escalation cycle x -> y -> z -> x");
    /* a chain without a cycle is fine, and null is no escalation */
    outreach_cadence_policy *p =
        parse_ok(STRATS("'*':{'steps':[],'escalate_to':'x'},'x':{'steps':[],'escalate_to':'y'},"
                        "'y':{'steps':[],'escalate_to':null}"));
    outreach_cadence_policy_free(p);
}

Test(cadence_load, templates_checked_against_the_set)
{
    outreach_template_set *t = templates();
    fails_with(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email',"
                     "'template':'nope'}"),
               t,
               "strategies.*.steps[0].template: unknown template \"nope\" (template set "
               "default-1)");
    fails_with(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'sms',"
                     "'template':'reminder_email_1'}"),
               t,
               "strategies.*.steps[0].template: template \"reminder_email_1\" is for email, "
               "the step is sms");
    fails_with(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email',"
                     "'template':'validation_notice_email'}"),
               t,
               "steps[0].template: template \"validation_notice_email\" is a "
               "validation_notice, a regular step needs a reminder");
    fails_with(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email',"
                     "'template':'reminder_email_1','kind':'validation_notice'}"),
               t,
               "template \"reminder_email_1\" is a reminder, a validation_notice step needs a "
               "validation_notice");
    fails_with(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'sms',"
                     "'template':'opt_out_confirmation_sms'}"),
               t, "is a opt_out_confirmation, a regular step needs a reminder");
    fails_with(STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email',"
                     "'template':'cease_final_notice_email'}"),
               t, "is a cease_notice, a regular step needs a reminder");
    /* without a set, only the syntax is checked: the same file loads */
    outreach_cadence_policy *p = parse_ok(
        STEP1("{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'nope'}"));
    outreach_cadence_policy_free(p);
    outreach_template_set_free(t);
}

/* ------------------------------------------------------------------ whole cadences */

/* digital-light, sends an hour after each due time: "previous" offsets count from the send,
 * the final "placement" step does not move. */
Test(cadence_plan, digital_light_from_start_to_exhaustion)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    outreach_cadence_account a = acct_all("digital-light", 4000);
    sim s;
    sim_init(&s);

    /* nothing begun: the first run starts at placement */
    outreach_cadence_step_out o = next_ok(p, &a, NULL);
    expect_step(&o, "validation", EMAIL, "validation_notice_email", T0);
    cr_assert_eq(o.kind, OUTREACH_COMPLIANCE_VALIDATION_NOTICE);
    cr_assert_eq(o.new_run, 1);
    cr_assert_eq(o.switched, 0);
    cr_assert_eq(o.version_changed, 0);
    cr_assert_str_eq(o.policy_version, "cadence-default-1");
    cr_assert_str_eq(o.strategy, "digital-light");
    cr_assert_str_eq(o.scored_strategy, "digital-light");
    cr_assert_str_eq(o.cadence, "digital-light");
    cr_assert_eq(o.start_ms, T0);
    cr_assert_eq(o.step_index, 0);
    cr_assert_eq(o.nskipped, 0);
    /* a zeroed progress is the same as none */
    outreach_cadence_step_out o2 = next_ok(p, &a, &s);
    same_answer(&o, &o2);
    sim_apply(&s, &o, T0 + HOUR, 1);

    /* email-1: 3 days after the notice went out (T0 + 1 h) */
    o = next_ok(p, &a, &s);
    expect_step(&o, "email-1", EMAIL, "reminder_email_1", T0 + 3 * DAY + HOUR);
    cr_assert_eq(o.kind, OUTREACH_COMPLIANCE_REGULAR);
    cr_assert_eq(o.new_run, 0);
    cr_assert_eq(o.step_index, 1);
    /* asking again gives the same answer */
    o2 = next_ok(p, &a, &s);
    same_answer(&o, &o2);
    sim_apply(&s, &o, T0 + 3 * DAY + 2 * HOUR, 1);

    /* sms-1: 4 days after email-1 was sent */
    o = next_ok(p, &a, &s);
    expect_step(&o, "sms-1", SMS, "reminder_sms_1", T0 + 7 * DAY + 2 * HOUR);
    sim_apply(&s, &o, T0 + 7 * DAY + 3 * HOUR, 1);

    /* email-2: 7 days after */
    o = next_ok(p, &a, &s);
    expect_step(&o, "email-2", EMAIL, "reminder_email_2", T0 + 14 * DAY + 3 * HOUR);
    sim_apply(&s, &o, T0 + 14 * DAY + 4 * HOUR, 1);

    /* final: 30 days from placement, whatever the delays before */
    o = next_ok(p, &a, &s);
    expect_step(&o, "final", EMAIL, "final_email", T0 + 30 * DAY);
    cr_assert_eq(o.step_index, 4);
    sim_apply(&s, &o, T0 + 30 * DAY + 9 * HOUR, 1);

    /* used up, no escalation */
    o = next_ok(p, &a, &s);
    cr_assert_eq(o.outcome, OUTREACH_CADENCE_EXHAUSTED);
    cr_assert_str_eq(o.rule_id, OUTREACH_CADENCE_RULE_EXHAUSTED);
    cr_assert_null(o.escalate_to);
    cr_assert_eq(o.escalate_at_ms, 0);
    cr_assert_eq(o.nskipped, 0);
    outreach_cadence_policy_free(p);
}

/* digital-standard, sent on time: 0, 2, 5, 10, 15, 25 days; then escalation to
 * voice-follow-up 3 days after the final email (day 28) and its two calls a week apart. */
Test(cadence_plan, digital_standard_escalates_to_voice_follow_up)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    outreach_cadence_account a = acct_all("digital-standard", 20000);
    sim s;
    sim_init(&s);
    struct {
        const char *id;
        outreach_compliance_channel ch;
        const char *tmpl;
        int64_t due;
    } want[] = {
        {"validation", EMAIL, "validation_notice_email", T0},
        {"email-1", EMAIL, "reminder_email_1", T0 + 2 * DAY},
        {"sms-1", SMS, "reminder_sms_1", T0 + 5 * DAY},
        {"email-2", EMAIL, "reminder_email_2", T0 + 10 * DAY},
        {"sms-2", SMS, "reminder_sms_2", T0 + 15 * DAY},
        {"final", EMAIL, "final_email", T0 + 25 * DAY},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        outreach_cadence_step_out o = next_ok(p, &a, &s);
        expect_step(&o, want[i].id, want[i].ch, want[i].tmpl, want[i].due);
        cr_assert_eq(o.step_index, (int)i);
        sim_apply(&s, &o, want[i].due, 1);
    }
    outreach_cadence_step_out o = next_ok(p, &a, &s);
    cr_assert_eq(o.outcome, OUTREACH_CADENCE_EXHAUSTED);
    cr_assert_str_eq(o.rule_id, OUTREACH_CADENCE_RULE_EXHAUSTED);
    cr_assert_str_eq(o.escalate_to, "voice-follow-up");
    cr_assert_eq(o.escalate_at_ms, T0 + 28 * DAY);
    sim_escalate(&s, &o);

    /* the escalation run: scoring still says digital-standard, which is no switch */
    o = next_ok(p, &a, &s);
    expect_step(&o, "voice-1", VOICE, "voice_reminder", T0 + 28 * DAY);
    cr_assert_eq(o.new_run, 0);
    cr_assert_eq(o.switched, 0);
    cr_assert_str_eq(o.strategy, "voice-follow-up");
    cr_assert_str_eq(o.scored_strategy, "digital-standard");
    cr_assert_str_eq(o.cadence, "voice-follow-up");
    cr_assert_eq(o.start_ms, T0 + 28 * DAY);
    sim_apply(&s, &o, T0 + 28 * DAY + 14 * HOUR, 1);

    o = next_ok(p, &a, &s);
    expect_step(&o, "voice-2", VOICE, "voice_reminder", T0 + 35 * DAY + 14 * HOUR);
    sim_apply(&s, &o, T0 + 35 * DAY + 14 * HOUR, 1);

    o = next_ok(p, &a, &s);
    cr_assert_eq(o.outcome, OUTREACH_CADENCE_EXHAUSTED);
    cr_assert_null(o.escalate_to);
    outreach_cadence_policy_free(p);
}

/* Same escalation for $100: both calls are skipped (balance_at_least:15000), nothing in the
 * run was sent: NONE, the skipped steps keep their timeline (day 28 and day 35). */
Test(cadence_plan, escalation_whose_steps_do_not_apply_is_none)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    outreach_cadence_account a = acct_all("digital-standard", 10000);
    sim s;
    sim_init(&s);
    snprintf(s.scored, sizeof s.scored, "digital-standard");
    snprintf(s.strategy, sizeof s.strategy, "voice-follow-up");
    snprintf(s.version, sizeof s.version, "cadence-default-1");
    s.pr.start_ms = T0 + 28 * DAY;
    s.pr.last_sent_ms[EMAIL] = T0 + 25 * DAY;
    sim_sync(&s);

    outreach_cadence_step_out o = next_ok(p, &a, &s);
    cr_assert_eq(o.outcome, OUTREACH_CADENCE_NONE);
    cr_assert_str_eq(o.rule_id, OUTREACH_CADENCE_RULE_NONE_APPLICABLE);
    cr_assert_null(o.escalate_to);
    cr_assert_eq(o.nskipped, 2);
    expect_skip(&o, 0, "voice-1", "cadence.condition.balance_at_least", T0 + 28 * DAY);
    expect_skip(&o, 1, "voice-2", "cadence.condition.balance_at_least", T0 + 35 * DAY);
    cr_assert_eq(o.skipped[0].channel, VOICE);
    cr_assert_str_eq(o.skipped[0].template_id, "voice_reminder");

    /* recorded as done (not sent): the same answer, nothing left to skip */
    sim_apply(&s, &o, -1, 0);
    outreach_cadence_step_out o2 = next_ok(p, &a, &s);
    cr_assert_eq(o2.outcome, OUTREACH_CADENCE_NONE);
    cr_assert_str_eq(o2.rule_id, OUTREACH_CADENCE_RULE_NONE_APPLICABLE);
    cr_assert_eq(o2.nskipped, 0);
    outreach_cadence_policy_free(p);
}

Test(cadence_plan, do_not_pursue_is_never_contacted)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    outreach_cadence_account a = acct_all("do-not-pursue", 900);
    outreach_cadence_step_out o = next_ok(p, &a, NULL);
    cr_assert_eq(o.outcome, OUTREACH_CADENCE_NONE);
    cr_assert_str_eq(o.rule_id, OUTREACH_CADENCE_RULE_NO_STEPS);
    cr_assert_null(o.escalate_to);
    cr_assert_eq(o.nskipped, 0);
    cr_assert_str_eq(o.cadence, "do-not-pursue");
    cr_assert_eq(o.new_run, 1);
    outreach_cadence_policy_free(p);
}

/* ------------------------------------------------------------------ conditions */

/* digital-light without an email address: the notice and email-1 are skipped (has_email, the
 * email channel's implicit condition); sms-1 keeps its place: notice at T0, email-1 at
 * T0 + 3 d (from the skipped notice's due time), sms-1 at T0 + 7 d. */
Test(cadence_conditions, no_email_skips_to_sms)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    outreach_cadence_account a = acct_all("digital-light", 4000);
    a.has_email = 0;
    sim s;
    sim_init(&s);
    outreach_cadence_step_out o = next_ok(p, &a, &s);
    expect_step(&o, "sms-1", SMS, "reminder_sms_1", T0 + 7 * DAY);
    cr_assert_eq(o.nskipped, 2);
    expect_skip(&o, 0, "validation", "cadence.condition.has_email", T0);
    expect_skip(&o, 1, "email-1", "cadence.condition.has_email", T0 + 3 * DAY);
    cr_assert_eq(o.skipped[0].kind, OUTREACH_COMPLIANCE_VALIDATION_NOTICE);
    cr_assert_eq(o.skipped[1].kind, OUTREACH_COMPLIANCE_REGULAR);
    sim_apply(&s, &o, T0 + 7 * DAY, 1);

    /* after the sms: email-2 (day 14) and final (day 30) skipped; the run sent one: EXHAUSTED */
    o = next_ok(p, &a, &s);
    cr_assert_eq(o.outcome, OUTREACH_CADENCE_EXHAUSTED);
    cr_assert_eq(o.nskipped, 2);
    expect_skip(&o, 0, "email-2", "cadence.condition.has_email", T0 + 14 * DAY);
    expect_skip(&o, 1, "final", "cadence.condition.has_email", T0 + 30 * DAY);
    outreach_cadence_policy_free(p);
}

Test(cadence_conditions, sms_needs_mobile_and_consent)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    outreach_cadence_account a = acct_all("digital-light", 4000);
    a.sms_consent = 0;
    sim s;
    sim_init(&s);
    sim_add(&s, "validation", EMAIL, T0, 1);
    sim_add(&s, "email-1", EMAIL, T0 + 3 * DAY, 1);
    snprintf(s.scored, sizeof s.scored, "digital-light");
    snprintf(s.strategy, sizeof s.strategy, "digital-light");
    s.pr.start_ms = T0;
    sim_sync(&s);
    /* sms-1 (day 7) skipped; email-2 = 7 days after it: day 14 */
    outreach_cadence_step_out o = next_ok(p, &a, &s);
    expect_step(&o, "email-2", EMAIL, "reminder_email_2", T0 + 14 * DAY);
    cr_assert_eq(o.nskipped, 1);
    expect_skip(&o, 0, "sms-1", "cadence.condition.has_mobile_sms_consent", T0 + 7 * DAY);

    /* a consent without a mobile number does not do either */
    a.sms_consent = 1;
    a.has_mobile = 0;
    o = next_ok(p, &a, &s);
    expect_skip(&o, 0, "sms-1", "cadence.condition.has_mobile_sms_consent", T0 + 7 * DAY);
    /* both: the sms goes */
    a.has_mobile = 1;
    o = next_ok(p, &a, &s);
    expect_step(&o, "sms-1", SMS, "reminder_sms_1", T0 + 7 * DAY);
    outreach_cadence_policy_free(p);
}

Test(cadence_conditions, validation_notice_only_in_third_party_and_once)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    outreach_cadence_account a = acct_all("digital-light", 4000);
    /* creditor regime: no validation notice; email-1 three days after its due time */
    a.regime = OUTREACH_COMPLIANCE_CREDITOR;
    outreach_cadence_step_out o = next_ok(p, &a, NULL);
    expect_step(&o, "email-1", EMAIL, "reminder_email_1", T0 + 3 * DAY);
    cr_assert_eq(o.nskipped, 1);
    expect_skip(&o, 0, "validation", "cadence.condition.third_party", T0);
    /* third party, but a notice went out already */
    a.regime = OUTREACH_COMPLIANCE_THIRD_PARTY;
    a.validation_notice_sent = 1;
    o = next_ok(p, &a, NULL);
    expect_step(&o, "email-1", EMAIL, "reminder_email_1", T0 + 3 * DAY);
    expect_skip(&o, 0, "validation", "cadence.condition.validation_notice_pending", T0);
    outreach_cadence_policy_free(p);
}

/* Every condition name on one step each, first failing one named. */
Test(cadence_conditions, each_condition)
{
    outreach_cadence_policy *p = parse_ok(
        STRATS("'*':{'steps':["
               "{'id':'c1','offset_days':1,'from':'previous','channel':'voice','template':'t',"
               "'conditions':['has_voice_consent']},"
               "{'id':'c2','offset_days':1,'from':'previous','channel':'letter','template':'t'},"
               "{'id':'c3','offset_days':1,'from':'previous','channel':'email','template':'t',"
               "'conditions':['creditor']},"
               "{'id':'c4','offset_days':1,'from':'previous','channel':'email','template':'t',"
               "'conditions':['balance_at_least:5000']},"
               "{'id':'c5','offset_days':1,'from':'previous','channel':'email','template':'t',"
               "'conditions':['balance_below:5000']},"
               "{'id':'c6','offset_days':1,'from':'previous','channel':'voice','template':'t',"
               "'conditions':['balance_below:9000','has_voice_consent']}]}"));
    outreach_cadence_account a = acct_all("x", 5000);
    /* all contact points, third party, $50.00: c1 applies */
    outreach_cadence_step_out o = next_ok(p, &a, NULL);
    expect_step(&o, "c1", VOICE, "t", T0 + DAY);

    /* no voice consent, no address, third party, $50.00:
     * c1 has_voice_consent, c2 has_address, c3 creditor skipped; c4 (>= 5000) applies */
    a.voice_consent = 0;
    a.has_address = 0;
    o = next_ok(p, &a, NULL);
    expect_step(&o, "c4", EMAIL, "t", T0 + 4 * DAY);
    cr_assert_eq(o.nskipped, 3);
    expect_skip(&o, 0, "c1", "cadence.condition.has_voice_consent", T0 + DAY);
    expect_skip(&o, 1, "c2", "cadence.condition.has_address", T0 + 2 * DAY);
    expect_skip(&o, 2, "c3", "cadence.condition.creditor", T0 + 3 * DAY);

    /* $49.99: c4 skipped, c5 (< 5000) applies */
    a.balance_cents = 4999;
    o = next_ok(p, &a, NULL);
    expect_step(&o, "c5", EMAIL, "t", T0 + 5 * DAY);
    expect_skip(&o, 3, "c4", "cadence.condition.balance_at_least", T0 + 4 * DAY);

    /* no phone at all: c6 fails first on has_phone (the channel's own, checked first) */
    a.has_phone = 0;
    a.has_email = 0;
    o = next_ok(p, &a, NULL);
    cr_assert_eq(o.outcome, OUTREACH_CADENCE_NONE);
    cr_assert_str_eq(o.rule_id, OUTREACH_CADENCE_RULE_NONE_APPLICABLE);
    cr_assert_eq(o.nskipped, 6);
    expect_skip(&o, 0, "c1", "cadence.condition.has_phone", T0 + DAY);
    expect_skip(&o, 3, "c4", "cadence.condition.has_email", T0 + 4 * DAY);
    expect_skip(&o, 5, "c6", "cadence.condition.has_phone", T0 + 6 * DAY);
    /* a phone and $90.00: c6 fails on balance_below (written first), not on consent */
    a.has_phone = 1;
    a.balance_cents = 9000;
    o = next_ok(p, &a, NULL);
    expect_skip(&o, 5, "c6", "cadence.condition.balance_below", T0 + 6 * DAY);
    outreach_cadence_policy_free(p);
}

/* ------------------------------------------------------------------ offsets */

/* a: email day 5 from placement; b: sms day 1 from placement, so due before a was sent: it is
 * raised to a's send time. c: letter 2 days after b. */
Test(cadence_offsets, placement_vs_previous_and_order_kept)
{
    outreach_cadence_policy *p = parse_ok(
        STRATS("'*':{'steps':["
               "{'id':'a','offset_days':5,'from':'placement','channel':'email','template':'t'},"
               "{'id':'b','offset_days':1,'from':'placement','channel':'sms','template':'t'},"
               "{'id':'c','offset_days':2,'from':'previous','channel':'letter','template':'t'},"
               "{'id':'d','offset_days':0,'from':'previous','channel':'email','template':'t'}]}"));
    outreach_cadence_account a = acct_all("x", 5000);
    sim s;
    sim_init(&s);
    outreach_cadence_step_out o = next_ok(p, &a, &s);
    expect_step(&o, "a", EMAIL, "t", T0 + 5 * DAY);
    sim_apply(&s, &o, T0 + 5 * DAY + 2 * HOUR, 1);
    o = next_ok(p, &a, &s);
    expect_step(&o, "b", SMS, "t", T0 + 5 * DAY + 2 * HOUR);
    sim_apply(&s, &o, T0 + 5 * DAY + 3 * HOUR, 1);
    o = next_ok(p, &a, &s);
    expect_step(&o, "c", LETTER, "t", T0 + 7 * DAY + 3 * HOUR);
    /* the letter was suppressed by the compliance engine: done all the same, and d counts
     * from then (offset 0) */
    sim_apply(&s, &o, T0 + 7 * DAY + 3 * HOUR, 0);
    o = next_ok(p, &a, &s);
    expect_step(&o, "d", EMAIL, "t", T0 + 7 * DAY + 3 * HOUR);
    outreach_cadence_policy_free(p);
}

/* A first step "from previous" counts from the run's start; a skipped step keeps later ones
 * from being due before it. */
Test(cadence_offsets, first_previous_and_skipped_floor)
{
    outreach_cadence_policy *p = parse_ok(
        STRATS("'*':{'steps':["
               "{'id':'a','offset_days':2,'from':'previous','channel':'email','template':'t'},"
               "{'id':'b','offset_days':10,'from':'placement','channel':'sms','template':'t'},"
               "{'id':'c','offset_days':3,'from':'placement','channel':'email','template':'t'}]}"));
    outreach_cadence_account a = acct_all("x", 5000);
    a.has_mobile = 0;
    sim s;
    sim_init(&s);
    outreach_cadence_step_out o = next_ok(p, &a, &s);
    expect_step(&o, "a", EMAIL, "t", T0 + 2 * DAY);
    sim_apply(&s, &o, T0 + 2 * DAY, 1);
    /* b (day 10) skipped; c would be day 3, raised to day 10 */
    o = next_ok(p, &a, &s);
    expect_step(&o, "c", EMAIL, "t", T0 + 10 * DAY);
    expect_skip(&o, 0, "b", "cadence.condition.has_mobile_sms_consent", T0 + 10 * DAY);
    outreach_cadence_policy_free(p);
}

/* ------------------------------------------------------------------ policy change */

#define V1_STEPS                                                                                   \
    "{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'t'},"              \
    "{'id':'b','offset_days':2,'from':'previous','channel':'sms','template':'t'},"                 \
    "{'id':'c','offset_days':3,'from':'previous','channel':'email','template':'t'},"               \
    "{'id':'d','offset_days':5,'from':'previous','channel':'email','template':'t'}"

/* Under v1, a and b were sent (T0 and T0 + 2 d). */
static void v1_progress(sim *s)
{
    sim_init(s);
    snprintf(s->version, sizeof s->version, "v1");
    snprintf(s->scored, sizeof s->scored, "x");
    snprintf(s->strategy, sizeof s->strategy, "x");
    s->pr.start_ms = T0;
    sim_add(s, "a", EMAIL, T0, 1);
    sim_add(s, "b", SMS, T0 + 2 * DAY, 1);
}

static outreach_cadence_policy *version(const char *v, const char *steps)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{'format':'arrears-cadence-1','version':'%s',"
             "'unit_costs_cents':{'email':1,'sms':3,'voice':40,'letter':75,'agent_minute':90},"
             "'weekly_caps':{'email':3,'sms':2,'voice':3,'letter':1},"
             "'strategies':{'*':{'steps':[%s]}}}",
             v, steps);
    return parse_ok(buf);
}

Test(cadence_policy_change, same_version_continues)
{
    outreach_cadence_policy *v1 = version("v1", V1_STEPS);
    sim s;
    v1_progress(&s);
    outreach_cadence_account a = acct_all("x", 5000);
    outreach_cadence_step_out o = next_ok(v1, &a, &s);
    expect_step(&o, "c", EMAIL, "t", T0 + 5 * DAY);
    cr_assert_eq(o.version_changed, 0);
    outreach_cadence_policy_free(v1);
}

/* v2 inserts n before b and changes c's offset to 4: the run goes on after b (the last done
 * step in v2's order), n is not sent retroactively, c uses its new offset: T0 + 2 d + 4 d. */
Test(cadence_policy_change, continues_after_the_last_done_step)
{
    outreach_cadence_policy *v2 = version(
        "v2", "{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'t'},"
              "{'id':'n','offset_days':1,'from':'previous','channel':'sms','template':'t2'},"
              "{'id':'b','offset_days':2,'from':'previous','channel':'sms','template':'t'},"
              "{'id':'c','offset_days':4,'from':'previous','channel':'email','template':'t'},"
              "{'id':'d','offset_days':5,'from':'previous','channel':'email','template':'t'}");
    sim s;
    v1_progress(&s);
    outreach_cadence_account a = acct_all("x", 5000);
    outreach_cadence_step_out o = next_ok(v2, &a, &s);
    expect_step(&o, "c", EMAIL, "t", T0 + 6 * DAY);
    cr_assert_eq(o.step_index, 3);
    cr_assert_eq(o.version_changed, 1);
    cr_assert_eq(o.new_run, 0);
    cr_assert_str_eq(o.policy_version, "v2");
    cr_assert_eq(o.nskipped, 0);
    sim_apply(&s, &o, T0 + 6 * DAY, 1);
    /* recorded under v2: no longer a change */
    o = next_ok(v2, &a, &s);
    expect_step(&o, "d", EMAIL, "t", T0 + 11 * DAY);
    cr_assert_eq(o.version_changed, 0);
    outreach_cadence_policy_free(v2);
}

/* v3 drops b and c and reorders: [d, a, e]. The last done step v3 still has is a (index 1):
 * next is e, counted from b's send (the run's latest done time). b, which v3 lacks, is
 * ignored; d, before a in v3, is not sent. */
Test(cadence_policy_change, removed_and_reordered_steps)
{
    outreach_cadence_policy *v3 = version(
        "v3", "{'id':'d','offset_days':5,'from':'previous','channel':'email','template':'t'},"
              "{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'t'},"
              "{'id':'e','offset_days':1,'from':'previous','channel':'voice','template':'t'}");
    sim s;
    v1_progress(&s);
    outreach_cadence_account a = acct_all("x", 5000);
    outreach_cadence_step_out o = next_ok(v3, &a, &s);
    expect_step(&o, "e", VOICE, "t", T0 + 3 * DAY);
    cr_assert_eq(o.version_changed, 1);
    outreach_cadence_policy_free(v3);
}

/* v4 has only the two steps already sent: the run is used up. v5 shares no id: the run starts
 * again from v5's first step, counted from the latest done time. */
Test(cadence_policy_change, nothing_left_or_nothing_shared)
{
    outreach_cadence_policy *v4 = version(
        "v4", "{'id':'a','offset_days':0,'from':'placement','channel':'email','template':'t'},"
              "{'id':'b','offset_days':2,'from':'previous','channel':'sms','template':'t'}");
    sim s;
    v1_progress(&s);
    outreach_cadence_account a = acct_all("x", 5000);
    outreach_cadence_step_out o = next_ok(v4, &a, &s);
    cr_assert_eq(o.outcome, OUTREACH_CADENCE_EXHAUSTED);
    cr_assert_eq(o.version_changed, 1);
    outreach_cadence_policy_free(v4);

    outreach_cadence_policy *v5 = version(
        "v5", "{'id':'z1','offset_days':1,'from':'previous','channel':'email','template':'t'}");
    o = next_ok(v5, &a, &s);
    expect_step(&o, "z1", EMAIL, "t", T0 + 3 * DAY);
    outreach_cadence_policy_free(v5);
}

/* ------------------------------------------------------------------ strategy change */

#define TWO_STRATEGIES                                                                             \
    STRATS("'alpha':{'steps':["                                                                    \
           "{'id':'a1','offset_days':0,'from':'placement','channel':'email','template':'ta1'},"    \
           "{'id':'a2','offset_days':1,'from':'previous','channel':'sms','template':'ta2'},"       \
           "{'id':'a3','offset_days':5,'from':'previous','channel':'email','template':'ta3'}]},"   \
           "'beta':{'steps':["                                                                     \
           "{'id':'b1','offset_days':0,'from':'placement','channel':'email','template':'tb1'},"    \
           "{'id':'b2','offset_days':1,'from':'previous','channel':'sms','template':'tb2'},"       \
           "{'id':'b3','offset_days':2,'from':'previous','channel':'voice','template':'tb3'}]}"    \
           "," STAR)

/* alpha's a1 (email) went out at T0 + 1 h; at T0 + 5 h a new score says beta. The next step
 * comes from beta, whose run starts at the score's time; b1 is an email within 24 h of a1:
 * skipped; b2 (sms) one day after b1's due time: T0 + 1 d 5 h. */
Test(cadence_switch, new_strategy_without_repeating_a_channel_the_same_day)
{
    outreach_cadence_policy *p = parse_ok(TWO_STRATEGIES);
    outreach_cadence_account a = acct_all("alpha", 5000);
    sim s;
    sim_init(&s);
    outreach_cadence_step_out o = next_ok(p, &a, &s);
    expect_step(&o, "a1", EMAIL, "ta1", T0);
    sim_apply(&s, &o, T0 + HOUR, 1);
    o = next_ok(p, &a, &s);
    expect_step(&o, "a2", SMS, "ta2", T0 + DAY + HOUR); /* planned, not sent yet */

    a.strategy = "beta";
    a.scored_at_ms = T0 + 5 * HOUR;
    o = next_ok(p, &a, &s);
    expect_step(&o, "b2", SMS, "tb2", T0 + DAY + 5 * HOUR);
    cr_assert_eq(o.new_run, 1);
    cr_assert_eq(o.switched, 1);
    cr_assert_str_eq(o.strategy, "beta");
    cr_assert_str_eq(o.scored_strategy, "beta");
    cr_assert_eq(o.start_ms, T0 + 5 * HOUR);
    cr_assert_eq(o.nskipped, 1);
    expect_skip(&o, 0, "b1", OUTREACH_CADENCE_RULE_SAME_DAY, T0 + 5 * HOUR);
    sim_apply(&s, &o, -1, 0);
    cr_assert_eq(s.pr.ndone, 1); /* the alpha steps are forgotten, b1 recorded */

    /* alpha's a2 had been claimed and went out at T0 + 1 d 6 h, after the switch: b2, due an
     * hour before it on the same channel, is skipped too; b3 two days after b2's due time */
    s.pr.last_sent_ms[SMS] = T0 + DAY + 6 * HOUR;
    o = next_ok(p, &a, &s);
    cr_assert_eq(o.new_run, 0);
    expect_step(&o, "b3", VOICE, "tb3", T0 + 3 * DAY + 5 * HOUR);
    expect_skip(&o, 0, "b2", OUTREACH_CADENCE_RULE_SAME_DAY, T0 + DAY + 5 * HOUR);
    outreach_cadence_policy_free(p);
}

/* The same switch two days after a1: nothing the same day, beta starts with b1 at the score's
 * time. */
Test(cadence_switch, later_switch_starts_the_new_cadence)
{
    outreach_cadence_policy *p = parse_ok(TWO_STRATEGIES);
    outreach_cadence_account a = acct_all("alpha", 5000);
    sim s;
    sim_init(&s);
    outreach_cadence_step_out o = next_ok(p, &a, &s);
    sim_apply(&s, &o, T0 + HOUR, 1);
    a.strategy = "beta";
    a.scored_at_ms = T0 + 2 * DAY;
    o = next_ok(p, &a, &s);
    expect_step(&o, "b1", EMAIL, "tb1", T0 + 2 * DAY);
    cr_assert_eq(o.nskipped, 0);
    cr_assert_eq(o.switched, 1);
    /* exactly 24 h after a1 is no longer the same day */
    a.scored_at_ms = T0 + DAY + HOUR;
    o = next_ok(p, &a, &s);
    expect_step(&o, "b1", EMAIL, "tb1", T0 + DAY + HOUR);
    /* 1 ms less is */
    a.scored_at_ms = T0 + DAY + HOUR - 1;
    o = next_ok(p, &a, &s);
    expect_skip(&o, 0, "b1", OUTREACH_CADENCE_RULE_SAME_DAY, T0 + DAY + HOUR - 1);
    outreach_cadence_policy_free(p);
}

/* Within one run, the run's own sends do not count: two emails on the same day are the
 * cadence author's choice. */
Test(cadence_switch, own_steps_are_not_same_day_repeats)
{
    outreach_cadence_policy *p =
        parse_ok(STEP2(EMAIL_STEP("g1", 0, "placement"), EMAIL_STEP("g2", 0, "previous")));
    outreach_cadence_account a = acct_all("x", 5000);
    sim s;
    sim_init(&s);
    outreach_cadence_step_out o = next_ok(p, &a, &s);
    sim_apply(&s, &o, T0 + HOUR, 1);
    o = next_ok(p, &a, &s);
    expect_step(&o, "g2", EMAIL, "t", T0 + HOUR);
    outreach_cadence_policy_free(p);
}

/* Strategies served by the same cadence are no switch; an escalated run survives a new score
 * with the same strategy. A switch needs the score's time. */
Test(cadence_switch, same_cadence_is_no_switch)
{
    outreach_cadence_policy *p = parse_ok(TWO_STRATEGIES);
    outreach_cadence_account a = acct_all("zeta", 5000); /* served by "*" */
    sim s;
    sim_init(&s);
    snprintf(s.scored, sizeof s.scored, "eta"); /* "*" too */
    snprintf(s.strategy, sizeof s.strategy, "eta");
    s.pr.start_ms = T0;
    sim_sync(&s);
    outreach_cadence_step_out o = next_ok(p, &a, &s);
    cr_assert_eq(o.new_run, 0);
    cr_assert_eq(o.switched, 0);
    cr_assert_str_eq(o.scored_strategy, "zeta");
    cr_assert_str_eq(o.strategy, "eta");
    cr_assert_str_eq(o.cadence, "*");
    expect_step(&o, "a", EMAIL, "t", T0);

    /* alpha's run escalated to beta; scoring says alpha again: beta goes on */
    snprintf(s.scored, sizeof s.scored, "alpha");
    snprintf(s.strategy, sizeof s.strategy, "beta");
    sim_add(&s, "b1", EMAIL, T0 + HOUR, 1);
    a.strategy = "alpha";
    o = next_ok(p, &a, &s);
    expect_step(&o, "b2", SMS, "tb2", T0 + DAY + HOUR);
    cr_assert_eq(o.new_run, 0);

    /* a new strategy without the score's time */
    a.strategy = "beta";
    a.scored_at_ms = 0;
    outreach_cadence_step_out keep;
    memset(&keep, 0x5a, sizeof keep);
    memcpy(&o, &keep, sizeof o);
    char why[256] = "";
    cr_assert_eq(outreach_cadence_next(p, &a, &s.pr, &o, why, sizeof why), ARR_EINVAL);
    cr_assert_not_null(strstr(why, "account.scored_at_ms"), "%s", why);
    cr_assert_eq(memcmp(&o, &keep, sizeof o), 0, "out written on failure");
    outreach_cadence_policy_free(p);
}

/* ------------------------------------------------------------------ uniform cadence */

/* Every strategy, do-not-pursue included, gets the same steps at the same days from placement,
 * however late the previous ones went out. no-action is not contacted. */
Test(cadence_uniform, same_steps_for_every_strategy)
{
    outreach_cadence_policy *p = load(UNIFORM_POLICY);
    const char *strategies[] = {"digital-light", "agent-review", "do-not-pursue", "something"};
    struct {
        const char *id;
        outreach_compliance_channel ch;
        const char *tmpl;
        int64_t day;
    } want[] = {
        {"validation", EMAIL, "validation_notice_email", 0},
        {"email-1", EMAIL, "reminder_email_1", 3},
        {"sms-1", SMS, "reminder_sms_1", 7},
        {"email-2", EMAIL, "reminder_email_2", 14},
        {"voice-1", VOICE, "voice_reminder", 21},
        {"final", EMAIL, "final_email", 30},
    };
    for (size_t k = 0; k < sizeof strategies / sizeof strategies[0]; k++) {
        outreach_cadence_account a = acct_all(strategies[k], 2500);
        sim s;
        sim_init(&s);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            outreach_cadence_step_out o = next_ok(p, &a, &s);
            expect_step(&o, want[i].id, want[i].ch, want[i].tmpl, T0 + want[i].day * DAY);
            cr_assert_str_eq(o.cadence, "*");
            cr_assert_str_eq(o.policy_version, "cadence-uniform-1");
            sim_apply(&s, &o, T0 + want[i].day * DAY + 11 * HOUR, 1);
        }
        outreach_cadence_step_out o = next_ok(p, &a, &s);
        cr_assert_eq(o.outcome, OUTREACH_CADENCE_EXHAUSTED);
        cr_assert_null(o.escalate_to);
    }
    outreach_cadence_account a = acct_all("no-action", 2500);
    outreach_cadence_step_out o = next_ok(p, &a, NULL);
    cr_assert_eq(o.outcome, OUTREACH_CADENCE_NONE);
    cr_assert_str_eq(o.rule_id, OUTREACH_CADENCE_RULE_NO_STEPS);
    outreach_cadence_policy_free(p);
}

/* ------------------------------------------------------------------ input errors */

Test(cadence_input, bad_input_names_the_field_and_leaves_out_alone)
{
    outreach_cadence_policy *p = parse_ok(TWO_STRATEGIES);
    outreach_cadence_step_out keep, o;
    memset(&keep, 0x5a, sizeof keep);
    char why[256];
    struct {
        const char *field;
        outreach_cadence_account a;
        int with_progress;
        outreach_cadence_progress pr;
    } cases[] = {
        {"account.strategy", acct_all(NULL, 1), 0, {0}},
        {"account.strategy", acct_all("", 1), 0, {0}},
        {"account.strategy",
         acct_all("a-strategy-name-that-is-longer-than-forty-seven-bytes", 1),
         0,
         {0}},
        {"account.placed_ms", acct_all("alpha", 1), 0, {0}},
        {"account.scored_at_ms", acct_all("alpha", 1), 0, {0}},
        {"account.regime", acct_all("alpha", 1), 0, {0}},
        {"progress.scored_strategy", acct_all("alpha", 1), 1, {.strategy = "alpha"}},
        {"progress.strategy", acct_all("alpha", 1), 1, {.scored_strategy = "alpha"}},
        {"progress.start_ms",
         acct_all("alpha", 1),
         1,
         {.strategy = "alpha", .scored_strategy = "alpha", .start_ms = -1}},
        {"progress.done",
         acct_all("alpha", 1),
         1,
         {.strategy = "alpha", .scored_strategy = "alpha", .ndone = 2}},
        {"progress.last_sent_ms[voice]",
         acct_all("alpha", 1),
         1,
         {.last_sent_ms = {0, 0, OUTREACH_COMPLIANCE_MAX_MS, 0}}},
    };
    cases[3].a.placed_ms = -1;
    cases[4].a.scored_at_ms = OUTREACH_COMPLIANCE_MAX_MS;
    cases[5].a.regime = (outreach_compliance_regime)7;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(&o, &keep, sizeof o);
        why[0] = 0;
        arr_err e = outreach_cadence_next(
            p, &cases[i].a, cases[i].with_progress ? &cases[i].pr : NULL, &o, why, sizeof why);
        cr_assert_eq(e, ARR_EINVAL, "case %zu (%s): %d", i, cases[i].field, e);
        cr_assert_not_null(strstr(why, cases[i].field), "case %zu: \"%s\" lacks %s", i, why,
                           cases[i].field);
        cr_assert_eq(memcmp(&o, &keep, sizeof o), 0, "case %zu: out written", i);
    }
    /* done entries */
    outreach_cadence_account a = acct_all("alpha", 1);
    outreach_cadence_done d[2] = {{"a1", EMAIL, T0, 1}, {NULL, EMAIL, T0, 1}};
    outreach_cadence_progress pr = {
        .strategy = "alpha", .scored_strategy = "alpha", .done = d, .ndone = 2};
    cr_assert_eq(outreach_cadence_next(p, &a, &pr, &o, why, sizeof why), ARR_EINVAL);
    cr_assert_not_null(strstr(why, "progress.done[1].step_id"), "%s", why);
    d[1].step_id = "a2";
    d[1].channel = (outreach_compliance_channel)9;
    cr_assert_eq(outreach_cadence_next(p, &a, &pr, &o, why, sizeof why), ARR_EINVAL);
    cr_assert_not_null(strstr(why, "progress.done[1].channel"), "%s", why);
    d[1].channel = SMS;
    d[1].at_ms = -5;
    cr_assert_eq(outreach_cadence_next(p, &a, &pr, &o, why, sizeof why), ARR_EINVAL);
    cr_assert_not_null(strstr(why, "progress.done[1].at_ms"), "%s", why);
    cr_assert_eq(memcmp(&o, &keep, sizeof o), 0);
    /* NULL arguments */
    cr_assert_eq(outreach_cadence_next(NULL, &a, NULL, &o, why, sizeof why), ARR_EINVAL);
    cr_assert_eq(outreach_cadence_next(p, NULL, NULL, &o, why, sizeof why), ARR_EINVAL);
    cr_assert_eq(outreach_cadence_next(p, &a, NULL, NULL, why, sizeof why), ARR_EINVAL);
    outreach_cadence_policy_free(p);
}

/* ------------------------------------------------------------------ costs and caps */

Test(cadence_costs, unit_costs_and_sums)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    int64_t want[OUTREACH_CADENCE_UNITS] = {1, 3, 40, 75, 90};
    for (int u = 0; u < OUTREACH_CADENCE_UNITS; u++) {
        int64_t c = -1;
        cr_assert_eq(outreach_cadence_unit_cost(p, (outreach_cadence_unit)u, &c), ARR_OK);
        cr_assert_eq(c, want[u], "%s: %lld", outreach_cadence_unit_name((outreach_cadence_unit)u),
                     (long long)c);
    }
    int64_t c = 77;
    cr_assert_eq(outreach_cadence_unit_cost(p, OUTREACH_CADENCE_UNITS, &c), ARR_EINVAL);
    cr_assert_eq(outreach_cadence_unit_cost(p, (outreach_cadence_unit)-1, &c), ARR_EINVAL);
    cr_assert_eq(outreach_cadence_unit_cost(NULL, OUTREACH_CADENCE_UNIT_SMS, &c), ARR_EINVAL);
    cr_assert_eq(c, 77);

    /* 5 emails, 2 sms, 3 calls, 1 letter, 10 agent minutes:
     * 5x1 + 2x3 + 3x40 + 1x75 + 10x90 = 5 + 6 + 120 + 75 + 900 = 1106 cents */
    int64_t counts[OUTREACH_CADENCE_UNITS] = {5, 2, 3, 1, 10};
    int64_t total = -1;
    char why[256] = "";
    cr_assert_eq(outreach_cadence_cost_sum(p, counts, &total, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(total, 1106);
    /* the uniform cadence's six steps for one account, all sent: 4 emails, 1 sms, 1 call:
     * 4 + 3 + 40 = 47 cents */
    int64_t uniform[OUTREACH_CADENCE_UNITS] = {4, 1, 1, 0, 0};
    cr_assert_eq(outreach_cadence_cost_sum(p, uniform, &total, why, sizeof why), ARR_OK);
    cr_assert_eq(total, 47);

    total = 5;
    int64_t neg[OUTREACH_CADENCE_UNITS] = {1, -1, 0, 0, 0};
    cr_assert_eq(outreach_cadence_cost_sum(p, neg, &total, why, sizeof why), ARR_EINVAL);
    cr_assert_not_null(strstr(why, "counts.sms"), "%s", why);
    /* INT64_MAX emails at 1 cent fit; one more sms does not */
    int64_t big[OUTREACH_CADENCE_UNITS] = {INT64_MAX, 0, 0, 0, 0};
    cr_assert_eq(outreach_cadence_cost_sum(p, big, &total, why, sizeof why), ARR_OK);
    cr_assert_eq(total, INT64_MAX);
    total = 5;
    big[1] = 1;
    cr_assert_eq(outreach_cadence_cost_sum(p, big, &total, why, sizeof why), ARR_ELIMIT);
    cr_assert_not_null(strstr(why, "counts.sms"), "%s", why);
    int64_t huge[OUTREACH_CADENCE_UNITS] = {0, 0, INT64_MAX / 40 + 1, 0, 0};
    cr_assert_eq(outreach_cadence_cost_sum(p, huge, &total, why, sizeof why), ARR_ELIMIT);
    cr_assert_not_null(strstr(why, "counts.voice"), "%s", why);
    cr_assert_eq(total, 5);
    outreach_cadence_policy_free(p);
}

Test(cadence_costs, unit_names)
{
    outreach_cadence_unit u = OUTREACH_CADENCE_UNIT_EMAIL;
    cr_assert_eq(outreach_cadence_unit_by_name("agent_minute", &u), ARR_OK);
    cr_assert_eq(u, OUTREACH_CADENCE_UNIT_AGENT_MINUTE);
    cr_assert_eq(outreach_cadence_unit_by_name("letter", &u), ARR_OK);
    cr_assert_eq(u, OUTREACH_CADENCE_UNIT_LETTER);
    cr_assert_eq(outreach_cadence_unit_by_name("fax", &u), ARR_ENOTFOUND);
    cr_assert_eq(u, OUTREACH_CADENCE_UNIT_LETTER);
    cr_assert_eq(outreach_cadence_unit_by_name(NULL, &u), ARR_EINVAL);
    cr_assert_str_eq(outreach_cadence_unit_name(OUTREACH_CADENCE_UNIT_SMS), "sms");
    cr_assert_str_eq(outreach_cadence_unit_name(OUTREACH_CADENCE_UNITS), "unknown");
    cr_assert_str_eq(outreach_cadence_channel_name(VOICE), "voice");
    cr_assert_str_eq(outreach_cadence_channel_name(OUTREACH_COMPLIANCE_CHANNELS), "unknown");
    cr_assert_str_eq(outreach_cadence_kind_name(OUTREACH_COMPLIANCE_VALIDATION_NOTICE),
                     "validation_notice");
    cr_assert_str_eq(outreach_cadence_kind_name((outreach_compliance_kind)9), "unknown");
}

Test(cadence_costs, caps_go_to_the_compliance_policy)
{
    outreach_cadence_policy *p = load(DEFAULT_POLICY);
    outreach_compliance_policy cp;
    outreach_compliance_policy_default(&cp);
    cr_assert_eq(outreach_cadence_caps(p, &cp), ARR_OK);
    int weekly[] = {3, 2, 3, 2}, daily[] = {1, 1, 1, 1};
    for (int c = 0; c < OUTREACH_COMPLIANCE_CHANNELS; c++) {
        cr_assert_eq(cp.weekly_cap[c], weekly[c], "weekly %d", c);
        cr_assert_eq(cp.daily_cap[c], daily[c], "daily %d", c);
    }
    cr_assert_eq(cp.window_start_min, 480);
    cr_assert_eq(cp.window_end_min, 1260);
    outreach_cadence_policy_free(p);

    /* no daily_caps: none */
    p = parse_ok(STRATS(STAR));
    cr_assert_eq(outreach_cadence_caps(p, &cp), ARR_OK);
    cr_assert_eq(cp.weekly_cap[LETTER], 1);
    cr_assert_eq(cp.daily_cap[EMAIL], 0);
    cr_assert_eq(outreach_cadence_caps(NULL, &cp), ARR_EINVAL);
    outreach_cadence_policy_free(p);
}
