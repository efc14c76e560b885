/* The whole decision: arm, model, strategy, payload; deterministic for the same input. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "challenger.h"
#include "engine.h"

#define DEPLOY ARR_SOURCE_DIR "/deploy"
#define T0 1793491200000LL /* 2026-11-01T00:00:00Z */

static scoring_engine *load(const char *experiments)
{
    scoring_engine *e = NULL;
    char why[512] = "";
    arr_err err = scoring_engine_load(DEPLOY "/models/scorecard-default-1.json",
                                      DEPLOY "/strategy/default-1.json", experiments, &e, why,
                                      sizeof(why));
    cr_assert_eq(err, ARR_OK, "%s", why);
    return e;
}

static void placed(scoring_state *st, long long balance, const char *due)
{
    scoring_state_init(st);
    char text[512], why[256];
    snprintf(text, sizeof(text),
             "{\"account_id\":\"A\",\"regime\":\"creditor\",\"currency\":\"USD\","
             "\"balance_cents\":%lld,\"original_balance_cents\":%lld,\"due_date\":\"%s\","
             "\"service_type\":\"water\",\"days_past_due\":0,\"aging_bucket\":\"current\","
             "\"medical_no_report\":false,\"debtor\":{\"emails\":[],\"phones\":[]},"
             "\"profile\":{}}",
             balance, balance, due);
    json_t *p = json_loads(text, 0, NULL);
    cr_assert_not_null(p);
    cr_assert_eq(scoring_state_apply(st, "account.placed", p, T0,
                                     "0193b6a0-0000-7000-8000-000000000001", why, sizeof(why)),
                 ARR_OK, "%s", why);
    json_decref(p);
}

static json_t *payload_of(const scoring_decision *d, const scoring_state *st)
{
    arr_buf b;
    arr_buf_init(&b, 1 << 16);
    cr_assert_eq(scoring_decision_payload(d, st, "account.placed", &b), ARR_OK);
    json_t *j = json_loads(b.data, 0, NULL);
    cr_assert_not_null(j, "%s", b.data);
    arr_buf_free(&b);
    return j;
}

Test(scoring_engine, a_decision_is_the_model_and_the_table)
{
    scoring_engine *e = load(NULL);
    scoring_state st;
    placed(&st, 12000, "2026-09-15");
    scoring_decision d;
    cr_assert_eq(scoring_engine_decide(e, "acme", "A", &st, T0, &d), ARR_OK);
    cr_assert_str_eq(d.arm, "champion");
    cr_assert_null(d.experiment);
    cr_assert_str_eq(d.model_id, "scorecard-default-1");
    cr_assert_str_eq(d.strategy_table_version, "strategy-default-1");
    cr_assert_eq(d.days_past_due, 47);
    cr_assert(d.score.probability > 0 && d.score.probability < 1);
    json_t *p = payload_of(&d, &st);
    cr_assert_str_eq(json_string_value(json_object_get(p, "strategy")), d.strategy.strategy);
    cr_assert_eq(json_integer_value(json_object_get(p, "expected_recovery_cents")),
                 d.strategy.expected_recovery_cents);
    cr_assert_float_eq(json_number_value(json_object_get(p, "probability")),
                       d.score.probability_bp / 10000.0, 1e-9);
    cr_assert_eq(json_array_size(json_object_get(p, "reason_codes")), (size_t)d.score.n_reasons);
    cr_assert_str_eq(json_string_value(json_object_get(p, "status")), "open");
    json_decref(p);
    scoring_engine_free(e);
}

Test(scoring_engine, same_state_same_bytes)
{
    scoring_engine *e = load(DEPLOY "/scoring/experiments.json");
    scoring_state st;
    placed(&st, 4500, "2026-08-01");
    arr_buf a, b;
    arr_buf_init(&a, 1 << 16);
    arr_buf_init(&b, 1 << 16);
    for (int i = 0; i < 2; i++) {
        scoring_decision d;
        cr_assert_eq(scoring_engine_decide(e, "demo-utility", "ACC-7", &st, T0, &d), ARR_OK);
        cr_assert_eq(scoring_decision_payload(&d, &st, "account.placed", i ? &b : &a), ARR_OK);
    }
    cr_assert_str_eq(a.data, b.data);
    arr_buf_free(&a);
    arr_buf_free(&b);
    scoring_engine_free(e);
}

/* The tenant's experiment: about its share in the challenger arm, with the challenger's
 * table; the arm is the challenger module's stable split. */
Test(scoring_engine, the_experiment_splits_by_the_stable_hash)
{
    scoring_engine *e = load(DEPLOY "/scoring/experiments.json");
    scoring_state st;
    placed(&st, 20000, "2026-10-01");
    int challengers = 0;
    for (int i = 0; i < 5000; i++) {
        char acct[32];
        snprintf(acct, sizeof(acct), "ACC-%d", i);
        scoring_decision d;
        cr_assert_eq(scoring_engine_decide(e, "demo-utility", acct, &st, T0, &d), ARR_OK);
        int want = scoring_challenger_is_challenger(
            scoring_challenger_bucket("demo-utility", acct, "digital-first-2026-11"), 2000);
        cr_assert_str_eq(d.arm, want ? "challenger" : "champion", "%s", acct);
        cr_assert_str_eq(d.experiment, "digital-first-2026-11");
        cr_assert_str_eq(d.strategy_table_version,
                         want ? "strategy-digital-first-1" : "strategy-default-1");
        challengers += want;
    }
    cr_assert(challengers > 850 && challengers < 1150, "%d of 5000 in the challenger arm",
              challengers);
    scoring_decision d;
    cr_assert_eq(scoring_engine_decide(e, "other-tenant", "ACC-1", &st, T0, &d), ARR_OK);
    cr_assert_str_eq(d.arm, "champion", "a tenant without an experiment");
    scoring_engine_free(e);
}

Test(scoring_engine, below_the_contact_cost_is_do_not_pursue_first)
{
    scoring_engine *e = load(NULL);
    scoring_state st;
    placed(&st, 1, "2026-10-01"); /* one cent: any recovery is below one e-mail */
    scoring_decision d;
    cr_assert_eq(scoring_engine_decide(e, "acme", "A", &st, T0, &d), ARR_OK);
    cr_assert_str_eq(d.strategy.strategy, "do-not-pursue");
    json_t *p = payload_of(&d, &st);
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(p, "reason_codes"), 0)),
                     "RECOVERY_BELOW_CONTACT_COST");
    json_decref(p);
    scoring_engine_free(e);
}

Test(scoring_engine, a_bad_experiments_file_names_the_field)
{
    char path[] = "/tmp/arrears-exp-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const char *text = "{\"format\":\"arrears-experiments-1\",\"tenants\":{\"t\":"
                       "{\"experiment\":\"x\",\"challenger_share\":1.5}}}";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    scoring_engine *e = NULL;
    char why[512] = "";
    cr_assert_eq(scoring_engine_load(DEPLOY "/models/scorecard-default-1.json",
                                     DEPLOY "/strategy/default-1.json", path, &e, why, sizeof(why)),
                 ARR_EINVAL);
    cr_assert(strstr(why, "tenants.t.challenger_share"), "%s", why);
    unlink(path);
}
