/* Unit tests of services/outreach/first_step.c: a fresh score either suppresses contact with a
 * stable rule id (do-not-pursue -> "value.below_cost") or plans one email at the event time.
 * The decision depends on the event time given, never on the wall clock. */
#include <criterion/criterion.h>
#include <string.h>

#include "first_step.h"

#define T_EVENT 1767323045006LL /* 2026-01-02T03:04:05.006Z */

/* A score.computed payload as the scoring service writes it, with the given strategy. */
static json_t *score_payload(const char *strategy)
{
    json_t *p = json_pack("{s:f, s:I, s:s, s:s, s:s, s:[s], s:s, s:s}", "probability", 0.6,
                          "expected_recovery_cents", (json_int_t)1, "currency", "USD", "segment",
                          "no-value", "strategy", strategy, "reason_codes", "BALANCE_SMALL",
                          "model_id", "placeholder-0", "strategy_table_version", "foundation-0");
    cr_assert_not_null(p);
    return p;
}

Test(outreach_first_step, do_not_pursue_is_suppressed_below_cost)
{
    json_t *p = score_payload("do-not-pursue");
    outreach_decision d;
    memset(&d, 0x5a, sizeof d);
    char why[128] = "";
    cr_assert_eq(outreach_first_step(p, T_EVENT, &d, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(d.suppress, 1);
    cr_assert_str_eq(d.rule_id, "value.below_cost");
    cr_assert_null(d.channel, "a suppressed step has no channel");
    cr_assert_eq(d.due_at_ms, 0);
    json_decref(p);
}

Test(outreach_first_step, other_strategies_plan_an_email_at_event_time)
{
    static const struct {
        const char *strategy;
        int64_t event_ms;
    } rows[] = {
        {"digital-light", T_EVENT},
        {"digital-standard", T_EVENT},
        {"digital-standard", 0},
        {"digital-light", 4102444800000LL}, /* 2100-01-01T00:00:00Z */
        {"some-future-strategy", T_EVENT + 1},
        {"do-not-pursue-later", T_EVENT}, /* only the exact name suppresses */
        {"DO-NOT-PURSUE", T_EVENT},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *p = score_payload(rows[i].strategy);
        outreach_decision d;
        memset(&d, 0x5a, sizeof d);
        char why[128] = "";
        cr_assert_eq(outreach_first_step(p, rows[i].event_ms, &d, why, sizeof why), ARR_OK,
                     "%s: %s", rows[i].strategy, why);
        cr_assert_eq(d.suppress, 0, "%s", rows[i].strategy);
        cr_assert_null(d.rule_id, "%s", rows[i].strategy);
        cr_assert_str_eq(d.channel, "email", "%s", rows[i].strategy);
        cr_assert_eq(d.due_at_ms, rows[i].event_ms, "%s", rows[i].strategy);
        json_decref(p);
    }
}

Test(outreach_first_step, same_input_same_decision)
{
    json_t *p = score_payload("digital-light");
    outreach_decision a, b;
    char why[128];
    cr_assert_eq(outreach_first_step(p, T_EVENT, &a, why, sizeof why), ARR_OK);
    cr_assert_eq(outreach_first_step(p, T_EVENT, &b, why, sizeof why), ARR_OK);
    cr_assert_eq(a.suppress, b.suppress);
    cr_assert_str_eq(a.channel, b.channel);
    cr_assert_eq(a.due_at_ms, b.due_at_ms);
    json_decref(p);
}

Test(outreach_first_step, missing_or_non_string_strategy_is_einval)
{
    static const char *const bad[] = {
        "{\"segment\":\"standard\"}",
        "{\"strategy\":null}",
        "{\"strategy\":1}",
        "{\"strategy\":[\"digital-light\"]}",
        "{\"strategy\":{\"name\":\"digital-light\"}}",
        "{\"strategy\":true}",
        "{}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *p = json_loads(bad[i], 0, NULL);
        cr_assert_not_null(p, "row %zu", i);
        outreach_decision d;
        char why[128] = "";
        cr_assert_eq(outreach_first_step(p, T_EVENT, &d, why, sizeof why), ARR_EINVAL, "%s",
                     bad[i]);
        cr_assert_not_null(strstr(why, "payload.strategy"), "%s: why \"%s\"", bad[i], why);
        cr_assert_eq(d.suppress, 0, "%s", bad[i]);
        cr_assert_null(d.channel, "%s", bad[i]);
        json_decref(p);
    }
}

Test(outreach_first_step, null_payload_is_einval)
{
    outreach_decision d;
    char why[128] = "";
    cr_assert_eq(outreach_first_step(NULL, T_EVENT, &d, why, sizeof why), ARR_EINVAL);
    cr_assert_not_null(strstr(why, "payload.strategy"), "%s", why);
}
