/* Unit tests of services/scoring/strategy.c and of the shipped table
 * deploy/strategy/default-1.json. The default table's rules, in order (ranges are
 * min <= x < max):
 *   0 closed          no-action         status closed or paid
 *   1 disputed        no-action         status disputed
 *   2 cease           no-action         status cease
 *   3 large-balance   agent-review      balance >= 250000
 *   4 likely-small    digital-light     p >= 0.6 and balance < 10000
 *   5 unlikely-large  settlement-offer  p < 0.15 and balance >= 50000
 *   6 needs-voice     voice-assisted    0.15 <= p < 0.35 and balance >= 30000
 *   7 small-balance   digital-light     balance < 5000
 *   8 default         digital-standard  always
 * Costs: email 1, sms 3, voice 40, letter 75 cents; budget share 0.25. Expected recovery is
 * floor(balance x probability) and the budget floor(recovery x 0.25), worked out by hand in
 * the comments. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "strategy.h"

#define DEFAULT_TABLE ARR_SOURCE_DIR "/deploy/strategy/default-1.json"

static scoring_strategy_table table;

static void load_default(void)
{
    char why[256] = "";
    arr_err e = scoring_strategy_load(DEFAULT_TABLE, &table, why, sizeof(why));
    cr_assert_eq(e, ARR_OK, "%s", why);
}

static scoring_strategy_decision decide(double p, int64_t balance, scoring_status status)
{
    scoring_strategy_input in = {
        .probability = p, .balance_cents = balance, .days_past_due = 30, .status = status};
    scoring_strategy_decision d;
    cr_assert_eq(scoring_strategy_decide(&table, &in, &d), ARR_OK, "p %g balance %lld", p,
                 (long long)balance);
    return d;
}

typedef struct row {
    double p;
    int64_t balance;
    scoring_status status;
    const char *segment, *strategy;
    int rule;
    int64_t expected;
} row;

static void check_rows(const row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const row *w = &rows[i];
        scoring_strategy_decision d = decide(w->p, w->balance, w->status);
        char at[96];
        snprintf(at, sizeof(at), "row %zu (p %g, balance %lld, %s)", i, w->p, (long long)w->balance,
                 scoring_status_name(w->status));
        cr_assert_str_eq(d.segment, w->segment, "%s: segment %s", at, d.segment);
        cr_assert_str_eq(d.strategy, w->strategy, "%s: strategy %s", at, d.strategy);
        cr_assert_eq(d.rule, w->rule, "%s: rule %d", at, d.rule);
        if (w->expected >= 0)
            cr_assert_eq(d.expected_recovery_cents, w->expected, "%s: expected %lld", at,
                         (long long)d.expected_recovery_cents);
    }
}

#define OPEN SCORING_STATUS_OPEN

Test(scoring_strategy, default_table_loads, .init = load_default)
{
    cr_assert_str_eq(table.version, "strategy-default-1");
    cr_assert_eq(table.contact_cost_cents[SCORING_CH_EMAIL], 1);
    cr_assert_eq(table.contact_cost_cents[SCORING_CH_SMS], 3);
    cr_assert_eq(table.contact_cost_cents[SCORING_CH_VOICE], 40);
    cr_assert_eq(table.contact_cost_cents[SCORING_CH_LETTER], 75);
    cr_assert_eq(table.budget_share_ppm, 250000);
    cr_assert_eq(table.n_rules, 9);
    cr_assert_str_eq(table.rules[3].reason, "SEGMENT_LARGE_BALANCE");
}

Test(scoring_strategy, statuses, .init = load_default)
{
    const row rows[] = {
        {0.9, 10000, SCORING_STATUS_CLOSED, "closed", "no-action", 0, 9000},
        {0.9, 10000, SCORING_STATUS_PAID, "closed", "no-action", 0, 9000},
        {0.9, 10000, SCORING_STATUS_DISPUTED, "disputed", "no-action", 1, 9000},
        {0.9, 10000, SCORING_STATUS_CEASE, "cease", "no-action", 2, 9000},
        /* a strategy without contact is never "do not pursue", whatever the value */
        {0.0, 0, SCORING_STATUS_CEASE, "cease", "no-action", 2, 0},
        {0.9, 300000, SCORING_STATUS_CLOSED, "closed", "no-action", 0, 270000},
        /* open, and not yet placed: the balance rules decide */
        {0.5, 10000, SCORING_STATUS_OPEN, "default", "digital-standard", 8, 5000},
        {0.5, 10000, SCORING_STATUS_NONE, "default", "digital-standard", 8, 5000},
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
    scoring_strategy_decision d = decide(0.9, 10000, SCORING_STATUS_CLOSED);
    cr_assert_eq(d.next_channel, SCORING_CH_NONE);
    cr_assert_eq(d.next_contact_cost_cents, 0);
    cr_assert_str_eq(d.reason, "SEGMENT_CLOSED");
}

Test(scoring_strategy, large_balance_boundary, .init = load_default)
{
    const row rows[] = {
        /* 249999 x 0.5 = 124999.5 -> 124999; nothing else fits p 0.5: default */
        {0.5, 249999, OPEN, "default", "digital-standard", 8, 124999},
        {0.5, 250000, OPEN, "large-balance", "agent-review", 3, 125000},
        {0.5, 250001, OPEN, "large-balance", "agent-review", 3, 125000},
        /* before the settlement rule: 250000 x 0.01 = 2500 */
        {0.01, 250000, OPEN, "large-balance", "agent-review", 3, 2500},
        {0.9, 250000, OPEN, "large-balance", "agent-review", 3, 225000},
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
    scoring_strategy_decision d = decide(0.5, 250000, OPEN);
    cr_assert_eq(d.next_channel, SCORING_CH_VOICE);
    cr_assert_eq(d.next_contact_cost_cents, 40);
    cr_assert_eq(d.contact_budget_cents, 31250); /* 125000 x 0.25 */
}

Test(scoring_strategy, likely_small_boundaries, .init = load_default)
{
    const row rows[] = {
        {0.6, 9999, OPEN, "likely-small", "digital-light", 4, 5999},   /* 5999.4 */
        {0.59999, 9999, OPEN, "default", "digital-standard", 8, 5999}, /* 5999.30001 */
        {0.60001, 9999, OPEN, "likely-small", "digital-light", 4, 5999},
        {0.6, 10000, OPEN, "default", "digital-standard", 8, 6000},
        {0.6, 10001, OPEN, "default", "digital-standard", 8, 6000}, /* 6000.6 */
        {1.0, 9999, OPEN, "likely-small", "digital-light", 4, 9999},
        /* below 5000 both rules 4 and 7 give digital-light; rule 4 comes first */
        {0.6, 4999, OPEN, "likely-small", "digital-light", 4, 2999},
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(scoring_strategy, unlikely_large_boundaries, .init = load_default)
{
    const row rows[] = {
        {0.1499, 50000, OPEN, "unlikely-large", "settlement-offer", 5, 7495},
        {0.15, 50000, OPEN, "needs-voice", "voice-assisted", 6, 7500},
        {0.1501, 50000, OPEN, "needs-voice", "voice-assisted", 6, 7505},
        {0.1499, 49999, OPEN, "default", "digital-standard", 8, 7494}, /* 7494.85 */
        {0.1499, 50001, OPEN, "unlikely-large", "settlement-offer", 5, 7495},
        {0.0001, 50000, OPEN, "unlikely-large", "settlement-offer", 5, 5},
        {0.1499, 249999, OPEN, "unlikely-large", "settlement-offer", 5, 37474}, /* .85 */
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(scoring_strategy, needs_voice_boundaries, .init = load_default)
{
    const row rows[] = {
        {0.15, 30000, OPEN, "needs-voice", "voice-assisted", 6, 4500},
        {0.15, 29999, OPEN, "default", "digital-standard", 8, 4499}, /* 4499.85 */
        {0.15, 30001, OPEN, "needs-voice", "voice-assisted", 6, 4500},
        {0.1499, 30000, OPEN, "default", "digital-standard", 8, 4497},
        {0.3499, 30000, OPEN, "needs-voice", "voice-assisted", 6, 10497},
        {0.35, 30000, OPEN, "default", "digital-standard", 8, 10500},
        {0.3501, 30000, OPEN, "default", "digital-standard", 8, 10503},
        {0.25, 49999, OPEN, "needs-voice", "voice-assisted", 6, 12499},
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(scoring_strategy, small_balance_boundaries, .init = load_default)
{
    const row rows[] = {
        {0.5, 4999, OPEN, "small-balance", "digital-light", 7, 2499},
        {0.5, 5000, OPEN, "default", "digital-standard", 8, 2500},
        {0.5, 5001, OPEN, "default", "digital-standard", 8, 2500},
        {0.05, 4999, OPEN, "small-balance", "digital-light", 7, 249},
        /* the everyday portfolio: $5 to $500 with middling odds stays digital */
        {0.4, 2500, OPEN, "small-balance", "digital-light", 7, 1000},
        {0.4, 12000, OPEN, "default", "digital-standard", 8, 4800},
        {0.2, 25000, OPEN, "default", "digital-standard", 8, 5000},
        {0.1, 45000, OPEN, "default", "digital-standard", 8, 4500},
        {0.7, 49999, OPEN, "default", "digital-standard", 8, 34999},
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

Test(scoring_strategy, do_not_pursue_below_the_next_contact, .init = load_default)
{
    const row rows[] = {
        /* email costs 1: 1 x 0.5 = 0.5 -> 0 < 1 */
        {0.5, 1, OPEN, "no-value", "do-not-pursue", 7, 0},
        /* 2 x 0.5 = 1 = the cost: still worth it */
        {0.5, 2, OPEN, "small-balance", "digital-light", 7, 1},
        {0.0, 4000, OPEN, "no-value", "do-not-pursue", 7, 0},
        {0.5, 0, OPEN, "no-value", "do-not-pursue", 7, 0},
        {0.9, -5000, OPEN, "no-value", "do-not-pursue", 4, 0}, /* a credit */
        /* voice costs 40: 250000 x 0.000156 = 39 < 40; 250000 x 0.00016 = 40 */
        {0.000156, 250000, OPEN, "no-value", "do-not-pursue", 3, 39},
        {0.00016, 250000, OPEN, "large-balance", "agent-review", 3, 40},
        {0.0, 50000, OPEN, "no-value", "do-not-pursue", 5, 0},
    };
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
    scoring_strategy_decision d = decide(0.5, 1, OPEN);
    cr_assert_str_eq(d.reason, "RECOVERY_BELOW_CONTACT_COST");
    cr_assert_eq(d.next_channel, SCORING_CH_NONE);
    cr_assert_eq(d.next_contact_cost_cents, 0);
    cr_assert_eq(d.contact_budget_cents, 0);
    d = decide(0.5, 2, OPEN);
    cr_assert_str_eq(d.reason, "SEGMENT_SMALL_BALANCE");
    cr_assert_eq(d.next_channel, SCORING_CH_EMAIL);
    cr_assert_eq(d.next_contact_cost_cents, 1);
    cr_assert_eq(d.contact_budget_cents, 0); /* 1 x 0.25 */
}

Test(scoring_strategy, budget, .init = load_default)
{
    /* 12345 x 0.4 = 4938; 4938 x 0.25 = 1234.5 -> 1234 */
    scoring_strategy_decision d = decide(0.4, 12345, OPEN);
    cr_assert_eq(d.expected_recovery_cents, 4938);
    cr_assert_eq(d.contact_budget_cents, 1234);
}

Test(scoring_strategy, huge_balances_do_not_overflow, .init = load_default)
{
    const int64_t balances[] = {INT64_MAX, INT64_MAX - 1, INT64_C(4000000000000000),
                                INT64_C(999999999999)};
    const double ps[] = {1.0, 0.999999, 0.5, 0.123457, 0.000001, 0.0};
    for (size_t i = 0; i < sizeof(balances) / sizeof(balances[0]); i++)
        for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
            scoring_strategy_decision d = decide(ps[k], balances[i], OPEN);
            /* Independently, in 128 bits: floor(b x ppm / 1e6), ppm = round(p x 1e6). */
            __int128 ppm = (__int128)llround(ps[k] * 1e6);
            __int128 er = (__int128)balances[i] * ppm / 1000000;
            __int128 budget = er * 250000 / 1000000;
            cr_assert(d.expected_recovery_cents == (int64_t)er, "b %lld p %g: %lld",
                      (long long)balances[i], ps[k], (long long)d.expected_recovery_cents);
            cr_assert(d.contact_budget_cents == (int64_t)budget, "b %lld p %g: budget %lld",
                      (long long)balances[i], ps[k], (long long)d.contact_budget_cents);
            cr_assert(d.expected_recovery_cents <= balances[i]);
        }
    scoring_strategy_decision d = decide(1.0, INT64_MAX, OPEN);
    cr_assert_eq(d.expected_recovery_cents, INT64_MAX);
    d = decide(1.0, INT64_MIN, OPEN);
    cr_assert_eq(d.expected_recovery_cents, 0);
    cr_assert_eq(scoring_strategy_share_cents(INT64_MAX, 2000000), INT64_MAX, "ppm capped");
}

Test(scoring_strategy, bad_decision_input, .init = load_default)
{
    scoring_strategy_decision d;
    const double bad_p[] = {NAN, -0.0001, 1.0001, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof(bad_p) / sizeof(bad_p[0]); i++) {
        scoring_strategy_input in = {
            .probability = bad_p[i], .balance_cents = 100, .status = SCORING_STATUS_OPEN};
        cr_assert_eq(scoring_strategy_decide(&table, &in, &d), ARR_EINVAL, "p %g", bad_p[i]);
    }
    scoring_strategy_input in = {
        .probability = 0.5, .balance_cents = 100, .status = SCORING_STATUS__COUNT};
    cr_assert_eq(scoring_strategy_decide(&table, &in, &d), ARR_EINVAL);
    in.status = SCORING_STATUS_OPEN;
    cr_assert_eq(scoring_strategy_decide(NULL, &in, &d), ARR_EINVAL);
    cr_assert_eq(scoring_strategy_decide(&table, NULL, &d), ARR_EINVAL);
    cr_assert_eq(scoring_strategy_decide(&table, &in, NULL), ARR_EINVAL);
    cr_assert_eq(scoring_strategy_ppm(0.15), 150000);
    cr_assert_eq(scoring_strategy_ppm(0.0000005), 1, "half up");
    cr_assert_eq(scoring_strategy_ppm(NAN), -1);
}

/* ------------------------------------------------------------------ other conditions */

static const char *base_json =
    "{\"format\": \"arrears-strategy-1\", \"version\": \"t-1\","
    " \"contact_costs_cents\": {\"email\": 1, \"sms\": 3, \"voice\": 40, \"letter\": 75},"
    " \"budget_share\": 0.25,"
    " \"strategies\": {\"a\": {\"next_channel\": \"letter\"}, \"b\": {\"next_channel\": \"sms\"},"
    "                  \"do-not-pursue\": {}, \"none\": {}},"
    " \"rules\": [{\"segment\": \"s0\", \"strategy\": \"a\", \"when\": {\"status\": [\"open\"]}},"
    "           {\"segment\": \"s1\", \"strategy\": \"b\", \"when\": {\"min_balance_cents\": 10}},"
    "           {\"segment\": \"s2\", \"strategy\": \"none\", \"when\": {}}]}";

static json_t *base(void)
{
    json_error_t err;
    json_t *j = json_loads(base_json, 0, &err);
    cr_assert_not_null(j, "%s", err.text);
    return j;
}

static json_t *rule_when(json_t *root, size_t i)
{
    return json_object_get(json_array_get(json_object_get(root, "rules"), i), "when");
}

Test(scoring_strategy, days_past_due_and_recovery_conditions)
{
    json_t *root = base();
    json_t *w0 = rule_when(root, 0);
    json_object_del(w0, "status");
    json_object_set_new(w0, "min_days_past_due", json_integer(30));
    json_object_set_new(w0, "max_days_past_due", json_integer(90));
    json_t *w1 = rule_when(root, 1);
    json_object_del(w1, "min_balance_cents");
    json_object_set_new(w1, "min_expected_recovery_cents", json_integer(100));
    json_object_set_new(w1, "max_expected_recovery_cents", json_integer(200));
    json_object_set_new(json_array_get(json_object_get(root, "rules"), 1), "reason",
                        json_string("MID_VALUE"));
    char why[256] = "";
    cr_assert_eq(scoring_strategy_parse(root, &table, why, sizeof(why)), ARR_OK, "%s", why);
    json_decref(root);
    struct {
        int64_t dpd, balance;
        int rule;
    } rows[] = {
        {29, 1000, 2}, {30, 1000, 0}, {89, 1000, 0}, {90, 1000, 2}, /* er 500: not rule 1 */
        {10, 199, 2},  {10, 200, 1},  {10, 399, 1},  {10, 400, 2},  /* er 99, 100, 199, 200 */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scoring_strategy_input in = {.probability = 0.5,
                                     .balance_cents = rows[i].balance,
                                     .days_past_due = rows[i].dpd,
                                     .status = SCORING_STATUS_OPEN};
        scoring_strategy_decision d;
        cr_assert_eq(scoring_strategy_decide(&table, &in, &d), ARR_OK);
        cr_assert_eq(d.rule, rows[i].rule, "dpd %lld balance %lld: rule %d", (long long)rows[i].dpd,
                     (long long)rows[i].balance, d.rule);
    }
    scoring_strategy_input in = {.probability = 0.5,
                                 .balance_cents = 300,
                                 .days_past_due = 10,
                                 .status = SCORING_STATUS_OPEN};
    scoring_strategy_decision d;
    cr_assert_eq(scoring_strategy_decide(&table, &in, &d), ARR_OK);
    cr_assert_str_eq(d.reason, "MID_VALUE");
    cr_assert_eq(d.next_channel, SCORING_CH_SMS);
    /* Letter costs 75: 149 x 0.5 = 74 < 75 on rule 0 */
    in.balance_cents = 149;
    in.days_past_due = 30;
    cr_assert_eq(scoring_strategy_decide(&table, &in, &d), ARR_OK);
    cr_assert_str_eq(d.strategy, "do-not-pursue");
    cr_assert_eq(d.rule, 0);
    in.balance_cents = 150;
    cr_assert_eq(scoring_strategy_decide(&table, &in, &d), ARR_OK);
    cr_assert_str_eq(d.strategy, "a");
}

/* ------------------------------------------------------------------ loader errors */

static void expect_bad(json_t *root, const char *place)
{
    char why[256] = "";
    scoring_strategy_table t;
    memset(&t, 0x11, sizeof(t));
    scoring_strategy_table before;
    memcpy(&before, &t, sizeof(t));
    arr_err e = scoring_strategy_parse(root, &t, why, sizeof(why));
    cr_assert_eq(e, ARR_EINVAL, "accepted; expected an error at %s", place);
    cr_assert_not_null(strstr(why, place), "why \"%s\" does not name %s", why, place);
    cr_assert_eq(memcmp(&t, &before, sizeof(t)), 0, "a refused table changed *t");
    json_decref(root);
}

static json_t *set(json_t *root, const char *key, json_t *v)
{
    json_object_set_new(root, key, v);
    return root;
}

static json_t *obj(json_t *root, const char *key)
{
    return json_object_get(root, key);
}

static json_t *rule(json_t *root, size_t i)
{
    return json_array_get(obj(root, "rules"), i);
}

Test(scoring_strategy, base_table_is_valid)
{
    json_t *root = base();
    char why[256] = "";
    cr_assert_eq(scoring_strategy_parse(root, &table, why, sizeof(why)), ARR_OK, "%s", why);
    json_decref(root);
}

Test(scoring_strategy, loader_errors_name_the_field)
{
    json_t *r;

    expect_bad(json_array(), "(top)");
    expect_bad(set(base(), "colour", json_string("red")), "colour: unknown key");

    r = base();
    json_object_del(r, "format");
    expect_bad(r, "format");
    expect_bad(set(base(), "format", json_string("arrears-strategy-2")), "format");
    r = base();
    json_object_del(r, "version");
    expect_bad(r, "version");
    expect_bad(set(base(), "version", json_string("has space")), "version");
    expect_bad(set(base(), "version", json_string("")), "version");

    expect_bad(set(base(), "contact_costs_cents", json_integer(1)), "contact_costs_cents");
    r = base();
    set(obj(r, "contact_costs_cents"), "fax", json_integer(1));
    expect_bad(r, "contact_costs_cents.fax");
    r = base();
    set(obj(r, "contact_costs_cents"), "sms", json_integer(-1));
    expect_bad(r, "contact_costs_cents.sms");
    r = base();
    set(obj(r, "contact_costs_cents"), "voice", json_real(40.5));
    expect_bad(r, "contact_costs_cents.voice");
    r = base();
    json_object_del(obj(r, "contact_costs_cents"), "letter");
    expect_bad(r, "contact_costs_cents.letter");

    expect_bad(set(base(), "budget_share", json_real(1.5)), "budget_share");
    expect_bad(set(base(), "budget_share", json_real(-0.1)), "budget_share");
    expect_bad(set(base(), "budget_share", json_string("0.25")), "budget_share");
    r = base();
    json_object_del(r, "budget_share");
    expect_bad(r, "budget_share");

    expect_bad(set(base(), "strategies", json_object()), "strategies");
    r = base();
    set(obj(r, "strategies"), "Digital", json_object());
    expect_bad(r, "strategies.Digital");
    r = base();
    set(obj(obj(r, "strategies"), "a"), "colour", json_string("red"));
    expect_bad(r, "strategies.a.colour");
    r = base();
    set(obj(obj(r, "strategies"), "a"), "next_channel", json_string("pigeon"));
    expect_bad(r, "strategies.a");
    r = base();
    set(obj(r, "strategies"), "a", json_string("email"));
    expect_bad(r, "strategies.a");
    r = base();
    json_object_del(obj(r, "strategies"), "do-not-pursue");
    expect_bad(r, "strategies.do-not-pursue");
    r = base();
    set(obj(obj(r, "strategies"), "do-not-pursue"), "next_channel", json_string("email"));
    expect_bad(r, "strategies.do-not-pursue");

    expect_bad(set(base(), "rules", json_array()), "rules");
    expect_bad(set(base(), "rules", json_object()), "rules");
    r = base();
    json_array_set_new(obj(r, "rules"), 1, json_string("rule"));
    expect_bad(r, "rules[1]");
    r = base();
    set(rule(r, 1), "strategy", json_string("z"));
    expect_bad(r, "rules[1].strategy");
    r = base();
    json_object_del(rule(r, 1), "strategy");
    expect_bad(r, "rules[1].strategy");
    r = base();
    set(rule(r, 0), "segment", json_string("Bad Segment"));
    expect_bad(r, "rules[0].segment");
    r = base();
    set(rule(r, 0), "segment", json_string("a-segment-name-that-is-far-too-long-for-a-reason"));
    expect_bad(r, "rules[0].segment");
    r = base();
    set(rule(r, 0), "reason", json_string("lower_case"));
    expect_bad(r, "rules[0].reason");
    r = base();
    set(rule(r, 0), "colour", json_string("red"));
    expect_bad(r, "rules[0].colour");
    r = base();
    json_object_del(rule(r, 1), "when");
    expect_bad(r, "rules[1].when");
    r = base();
    set(rule(r, 1), "when", json_array());
    expect_bad(r, "rules[1].when");

    r = base();
    set(rule_when(r, 1), "min_balance_cents", json_string("x"));
    expect_bad(r, "rules[1].when.min_balance_cents");
    r = base();
    set(rule_when(r, 1), "max_balance_cents", json_real(10.5));
    expect_bad(r, "rules[1].when.max_balance_cents");
    r = base();
    set(rule_when(r, 1), "min_balanse_cents", json_integer(5));
    expect_bad(r, "rules[1].when.min_balanse_cents: unknown key");
    r = base();
    set(rule_when(r, 1), "min_probability", json_real(1.5));
    expect_bad(r, "rules[1].when.min_probability");
    r = base();
    set(rule_when(r, 1), "max_probability", json_integer(-1));
    expect_bad(r, "rules[1].when.max_probability");
    r = base();
    set(rule_when(r, 1), "min_expected_recovery_cents", json_true());
    expect_bad(r, "rules[1].when.min_expected_recovery_cents");
    r = base();
    set(rule_when(r, 1), "max_expected_recovery_cents", json_integer(INT64_C(1000000000001)));
    expect_bad(r, "rules[1].when.max_expected_recovery_cents");
    r = base();
    set(rule_when(r, 1), "min_days_past_due", json_integer(-1));
    expect_bad(r, "rules[1].when.min_days_past_due");
    r = base();
    set(rule_when(r, 1), "max_days_past_due", json_string("90"));
    expect_bad(r, "rules[1].when.max_days_past_due");
    r = base();
    set(rule_when(r, 1), "max_balance_cents", json_integer(10));
    expect_bad(r, "rules[1].when: min_balance_cents must be below max_balance_cents");
    r = base();
    set(rule_when(r, 1), "min_probability", json_real(0.5));
    set(rule_when(r, 1), "max_probability", json_real(0.5));
    expect_bad(r, "rules[1].when: min_probability");
    r = base();
    set(rule_when(r, 1), "min_days_past_due", json_integer(90));
    set(rule_when(r, 1), "max_days_past_due", json_integer(30));
    expect_bad(r, "rules[1].when: min_days_past_due");
    r = base();
    set(rule_when(r, 1), "min_expected_recovery_cents", json_integer(9));
    set(rule_when(r, 1), "max_expected_recovery_cents", json_integer(9));
    expect_bad(r, "rules[1].when: min_expected_recovery_cents");

    r = base();
    json_array_append_new(json_object_get(rule_when(r, 0), "status"), json_string("lost"));
    expect_bad(r, "rules[0].when.status[1]");
    r = base();
    set(rule_when(r, 0), "status", json_array());
    expect_bad(r, "rules[0].when.status");
    r = base();
    set(rule_when(r, 0), "status", json_string("open"));
    expect_bad(r, "rules[0].when.status");

    /* The catch-all: missing at the end, or too early. */
    r = base();
    set(rule_when(r, 2), "min_balance_cents", json_integer(1));
    expect_bad(r, "rules[2].when: the last rule must be the catch-all");
    r = base();
    json_object_clear(rule_when(r, 1));
    expect_bad(r, "rules[1].when: a catch-all before the last rule");

    r = base();
    json_t *rules = obj(r, "rules");
    while (json_array_size(rules) <= SCORING_STRATEGY_RULES_MAX)
        json_array_insert(rules, 0, json_array_get(rules, 0));
    expect_bad(r, "rules: at most");
}

Test(scoring_strategy, load_file_errors)
{
    char why[256] = "";
    scoring_strategy_table t;
    cr_assert_eq(scoring_strategy_load("/nonexistent/strategy.json", &t, why, sizeof(why)),
                 ARR_EIO);
    cr_assert_not_null(strstr(why, "/nonexistent/strategy.json"), "%s", why);

    char path[] = "/tmp/arr-strategy-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"format\": \"arrears-strategy-1\",\n \"format\": \"arrears-strategy-1\"}\n", f);
    fclose(f);
    cr_assert_eq(scoring_strategy_load(path, &t, why, sizeof(why)), ARR_EINVAL);
    cr_assert_not_null(strstr(why, "line 2"), "duplicate key: %s", why);
    f = fopen(path, "w");
    fputs("{\"format\": \n", f);
    fclose(f);
    cr_assert_eq(scoring_strategy_load(path, &t, why, sizeof(why)), ARR_EINVAL);
    cr_assert_not_null(strstr(why, path), "%s", why);
    remove(path);
}

Test(scoring_strategy, channel_names)
{
    cr_assert_str_eq(scoring_channel_name(SCORING_CH_EMAIL), "email");
    cr_assert_str_eq(scoring_channel_name(SCORING_CH_LETTER), "letter");
    cr_assert_null(scoring_channel_name(SCORING_CH_NONE));
    cr_assert_eq(scoring_channel_by_name("voice"), SCORING_CH_VOICE);
    cr_assert_eq(scoring_channel_by_name("fax"), SCORING_CH_NONE);
    cr_assert_eq(scoring_channel_by_name(NULL), SCORING_CH_NONE);
}
