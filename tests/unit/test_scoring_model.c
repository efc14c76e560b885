/* Unit tests of services/scoring/model.c, the logistic scorecard. Expected probabilities are
 * worked out by hand: sigmoid(ln 3) = 3 / (1 + 3) = 0.75, sigmoid(ln 6) = 6/7, and so on, so
 * each is exact up to the last bit or two of a double. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

#define DEFAULT_MODEL ARR_SOURCE_DIR "/deploy/models/scorecard-default-1.json"

/* ------------------------------------------------------------------ helpers */

static scoring_model_spec base_spec(void)
{
    scoring_model_spec s;
    memset(&s, 0, sizeof s);
    strcpy(s.model_id, "test-1");
    strcpy(s.trained_at, "2026-01-01");
    s.horizon_days = 30;
    return s;
}

static void set_term(scoring_model_spec *s, scoring_feature f, double mean, double scale,
                     double coef, const char *up, const char *down)
{
    scoring_model_term *t = &s->terms[f];
    memset(t, 0, sizeof *t);
    t->present = 1;
    t->mean = mean;
    t->scale = scale;
    t->coef = coef;
    snprintf(t->reason_up, sizeof t->reason_up, "%s", up);
    snprintf(t->reason_down, sizeof t->reason_down, "%s", down);
}

static scoring_model *build_ok(const scoring_model_spec *s)
{
    scoring_model *m = NULL;
    char why[256] = "";
    cr_assert_eq(scoring_model_build(s, &m, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_not_null(m);
    return m;
}

static scoring_model_result score(const scoring_model *m, const double *x)
{
    scoring_model_result r;
    memset(&r, 0xab, sizeof r); /* garbage in the output must not matter */
    scoring_model_score(m, x, &r);
    return r;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(splitmix(s) >> 11) * 0x1.0p-53;
}

/* A plausible raw feature vector, some values beyond the default model's clips. */
static void random_account(uint64_t *s, double x[SF_COUNT])
{
    x[SF_BALANCE_LOG] = log1p(uniform(s) * 5000);
    x[SF_DAYS_PAST_DUE] = floor(uniform(s) * 800);
    x[SF_OPEN_DEBTS] = floor(uniform(s) * 5);
    int svc = (int)(uniform(s) * 5);
    x[SF_SVC_TELECOM] = svc == 0;
    x[SF_SVC_WATER] = svc == 1;
    x[SF_SVC_MEDICAL] = svc == 2;
    x[SF_TENURE_MONTHS] = floor(uniform(s) * 300);
    x[SF_PRIOR_DELINQ] = floor(uniform(s) * 6);
    x[SF_PAYMENTS_12M] = floor(uniform(s) * 30);
    x[SF_AUTOPAY] = uniform(s) < 0.15;
    x[SF_EMAIL_OK] = uniform(s) < 0.6;
    x[SF_SMS_OK] = uniform(s) < 0.5;
    x[SF_CONTACTS] = floor(uniform(s) * 40);
    x[SF_PROMISES_KEPT] = floor(uniform(s) * 4);
    x[SF_PROMISES_BROKEN] = floor(uniform(s) * 4);
    x[SF_PARTIAL_PAYMENTS] = floor(uniform(s) * 25);
}

/* ------------------------------------------------------------------ probabilities */

Test(scoring_model, known_probabilities)
{
    scoring_model_spec s = base_spec();
    set_term(&s, SF_BALANCE_LOG, 0, 1, log(3), "BALANCE_SMALL", "BALANCE_LARGE");
    scoring_model *m = build_ok(&s);
    double x[SF_COUNT] = {0};

    x[SF_BALANCE_LOG] = 1; /* z = 1: logit ln 3, p = 3/4 */
    scoring_model_result r = score(m, x);
    cr_assert_float_eq(r.logit, log(3), 1e-15);
    cr_assert_float_eq(r.probability, 0.75, 1e-15, "%.17g", r.probability);
    cr_assert_eq(r.probability_bp, 7500);

    x[SF_BALANCE_LOG] = -1; /* z = -1: p = 1/4 */
    r = score(m, x);
    cr_assert_float_eq(r.probability, 0.25, 1e-15);
    cr_assert_eq(r.probability_bp, 2500);

    x[SF_BALANCE_LOG] = 0; /* at the mean: p = 1/2 and no reason */
    r = score(m, x);
    cr_assert_float_eq(r.probability, 0.5, 1e-15);
    cr_assert_eq(r.probability_bp, 5000);
    cr_assert_eq(r.n_reasons, 0);
    cr_assert_null(r.reasons[0]);
    scoring_model_free(m);

    /* mean 1, scale 2: x = 3 gives z = 1; intercept ln 2 adds: logit ln 6, p = 6/7 */
    s = base_spec();
    s.intercept = log(2);
    set_term(&s, SF_DAYS_PAST_DUE, 1, 2, log(3), "DPD_SHORT", "DPD_LONG");
    m = build_ok(&s);
    x[SF_DAYS_PAST_DUE] = 3;
    r = score(m, x);
    cr_assert_float_eq(r.probability, 6.0 / 7.0, 1e-15, "%.17g", r.probability);
    cr_assert_eq(r.probability_bp, 8571); /* 8571.43 */
    scoring_model_free(m);

    /* two terms: ln 2 + ln 5 = ln 10, p = 10/11; and 1/3 rounds to 3333, 2/3 to 6667 */
    s = base_spec();
    set_term(&s, SF_OPEN_DEBTS, 0, 1, log(2), "OPEN_DEBTS_FEW", "OPEN_DEBTS_MANY");
    set_term(&s, SF_AUTOPAY, 0, 1, log(5), "AUTOPAY_ON", "AUTOPAY_OFF");
    m = build_ok(&s);
    double y[SF_COUNT] = {0};
    y[SF_OPEN_DEBTS] = 1;
    y[SF_AUTOPAY] = 1;
    r = score(m, y);
    cr_assert_float_eq(r.probability, 10.0 / 11.0, 1e-15);
    y[SF_AUTOPAY] = 0; /* ln 2: 2/3 */
    r = score(m, y);
    cr_assert_eq(r.probability_bp, 6667);
    y[SF_OPEN_DEBTS] = -1; /* -ln 2: 1/3 */
    r = score(m, y);
    cr_assert_eq(r.probability_bp, 3333);
    scoring_model_free(m);
}

Test(scoring_model, intercept_only_and_saturation)
{
    scoring_model_spec s = base_spec();
    s.intercept = -log(3); /* 1/4 whatever the account */
    scoring_model *m = build_ok(&s);
    uint64_t seed = 7;
    double x[SF_COUNT];
    for (int i = 0; i < 100; i++) {
        random_account(&seed, x);
        scoring_model_result r = score(m, x);
        cr_assert_float_eq(r.probability, 0.25, 1e-15);
        cr_assert_eq(r.n_reasons, 0);
    }
    scoring_model_free(m);

    s.intercept = 800; /* exp(-800) underflows: p is exactly 1, and -800 exactly 0 */
    m = build_ok(&s);
    scoring_model_result r = score(m, x);
    cr_assert_eq(r.probability, 1.0);
    cr_assert_eq(r.probability_bp, 10000);
    scoring_model_free(m);
    s.intercept = -800;
    m = build_ok(&s);
    r = score(m, x);
    cr_assert_eq(r.probability, 0.0);
    cr_assert_eq(r.probability_bp, 0);
    cr_assert(!isnan(r.logit));
    scoring_model_free(m);
}

Test(scoring_model, features_missing_from_the_model_contribute_nothing)
{
    scoring_model_spec s = base_spec();
    set_term(&s, SF_PAYMENTS_12M, 0, 1, log(3), "PAYS_REGULARLY", "PAYS_RARELY");
    scoring_model *m = build_ok(&s);
    uint64_t seed = 11;
    double x[SF_COUNT];
    for (int i = 0; i < 100; i++) {
        random_account(&seed, x);
        x[SF_PAYMENTS_12M] = 1;
        scoring_model_result r = score(m, x);
        cr_assert_float_eq(r.probability, 0.75, 1e-15);
        cr_assert_eq(r.n_reasons, 1);
        cr_assert_str_eq(r.reasons[0], "PAYS_REGULARLY");
    }
    scoring_model_free(m);
}

Test(scoring_model, clipping)
{
    scoring_model_spec s = base_spec();
    set_term(&s, SF_CONTACTS, 0, 1, log(3), "CONTACTS_MANY", "CONTACTS_FEW");
    s.terms[SF_CONTACTS].has_clip = 1;
    s.terms[SF_CONTACTS].clip_lo = 0;
    s.terms[SF_CONTACTS].clip_hi = 2;
    scoring_model *m = build_ok(&s);
    double x[SF_COUNT] = {0};
    x[SF_CONTACTS] = 10; /* clipped to 2: logit 2 ln 3 = ln 9, p = 9/10 */
    scoring_model_result r = score(m, x);
    cr_assert_float_eq(r.probability, 0.9, 1e-15, "%.17g", r.probability);
    x[SF_CONTACTS] = 2; /* on the bound: the same */
    cr_assert_float_eq(score(m, x).probability, 0.9, 1e-15);
    x[SF_CONTACTS] = -5; /* clipped to 0, the mean: 1/2 */
    r = score(m, x);
    cr_assert_float_eq(r.probability, 0.5, 1e-15);
    cr_assert_eq(r.n_reasons, 0);
    x[SF_CONTACTS] = INFINITY; /* an infinity is clipped like any large value */
    cr_assert_float_eq(score(m, x).probability, 0.9, 1e-15);
    x[SF_CONTACTS] = NAN; /* missing: contributes 0 */
    r = score(m, x);
    cr_assert_float_eq(r.probability, 0.5, 1e-15);
    cr_assert_eq(r.n_reasons, 0);
    scoring_model_free(m);

    s.terms[SF_CONTACTS].has_clip = 0; /* no clip: x = 10 counts in full, p = 3^10/(3^10+1) */
    m = build_ok(&s);
    x[SF_CONTACTS] = 10;
    cr_assert_float_eq(score(m, x).probability, 59049.0 / 59050.0, 1e-15);
    x[SF_CONTACTS] = -INFINITY; /* unclipped infinity: missing */
    cr_assert_float_eq(score(m, x).probability, 0.5, 1e-15);
    x[SF_CONTACTS] = 1e308; /* absurd but finite: saturates, never NaN */
    r = score(m, x);
    cr_assert_eq(r.probability, 1.0);
    scoring_model_free(m);
}

/* ------------------------------------------------------------------ reasons */

/* Contributions (coef * z with mean 0, scale 1, coef 1, so x is the contribution). */
static scoring_model *unit_model(void)
{
    scoring_model_spec s = base_spec();
    set_term(&s, SF_BALANCE_LOG, 0, 1, 1, "BALANCE_SMALL", "BALANCE_LARGE");
    set_term(&s, SF_DAYS_PAST_DUE, 0, 1, 1, "DPD_SHORT", "DPD_LONG");
    set_term(&s, SF_OPEN_DEBTS, 0, 1, 1, "OPEN_DEBTS_FEW", "OPEN_DEBTS_MANY");
    set_term(&s, SF_SVC_TELECOM, 0, 1, 1, "SERVICE_TELECOM", "SERVICE_NOT_TELECOM");
    set_term(&s, SF_SVC_WATER, 0, 1, 1, "SERVICE_WATER", "SERVICE_NOT_WATER");
    set_term(&s, SF_SVC_MEDICAL, 0, 1, 1, "SERVICE_NOT_MEDICAL", "SERVICE_MEDICAL");
    return build_ok(&s);
}

Test(scoring_model, reasons_ranked_by_magnitude_with_direction)
{
    scoring_model *m = unit_model();
    double x[SF_COUNT] = {0};
    x[SF_BALANCE_LOG] = 0.5;
    x[SF_DAYS_PAST_DUE] = -2;
    x[SF_OPEN_DEBTS] = 1;
    x[SF_SVC_TELECOM] = -1; /* ties with open_debts: the lower feature index comes first */
    x[SF_SVC_WATER] = 0.1;  /* fifth: left out */
    scoring_model_result r = score(m, x);
    cr_assert_float_eq(r.logit, 0.5 - 2 + 1 - 1 + 0.1, 1e-15);
    cr_assert_eq(r.n_reasons, 4);
    static const char *const want[] = {"DPD_LONG", "OPEN_DEBTS_FEW", "SERVICE_NOT_TELECOM",
                                       "BALANCE_SMALL"};
    static const int want_f[] = {SF_DAYS_PAST_DUE, SF_OPEN_DEBTS, SF_SVC_TELECOM, SF_BALANCE_LOG};
    static const double want_c[] = {-2, 1, -1, 0.5};
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(r.reasons[i], want[i], "reason %d: %s", i, r.reasons[i]);
        cr_assert_eq(r.reason_features[i], want_f[i]);
        cr_assert_float_eq(r.reason_contributions[i], want_c[i], 1e-15);
    }

    /* Reverse every sign: every code turns to its other direction, the order stays. */
    for (int f = 0; f < SF_COUNT; f++)
        x[f] = -x[f];
    r = score(m, x);
    static const char *const rev[] = {"DPD_SHORT", "OPEN_DEBTS_MANY", "SERVICE_TELECOM",
                                      "BALANCE_LARGE"};
    for (int i = 0; i < 4; i++)
        cr_assert_str_eq(r.reasons[i], rev[i], "reason %d: %s", i, r.reasons[i]);
    scoring_model_free(m);
}

Test(scoring_model, ties_are_broken_by_feature_index)
{
    scoring_model *m = unit_model();
    double x[SF_COUNT] = {0};
    /* All six equal in magnitude, mixed in sign: the first four features, in order. */
    static const double v[] = {1, -1, 1, -1, 1, -1};
    for (int f = 0; f < 6; f++)
        x[f] = v[5 - f];
    scoring_model_result r = score(m, x);
    cr_assert_eq(r.n_reasons, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r.reason_features[i], i);
    cr_assert_str_eq(r.reasons[0], "BALANCE_LARGE");
    cr_assert_str_eq(r.reasons[1], "DPD_SHORT");
    scoring_model_free(m);
}

Test(scoring_model, tiny_contributions_name_no_reason)
{
    scoring_model *m = unit_model();
    double x[SF_COUNT] = {0};
    x[SF_BALANCE_LOG] = SCORING_MODEL_REASON_EPSILON / 10; /* below epsilon: no reason */
    x[SF_DAYS_PAST_DUE] = -SCORING_MODEL_REASON_EPSILON / 10;
    x[SF_OPEN_DEBTS] = SCORING_MODEL_REASON_EPSILON * 10; /* above: named */
    scoring_model_result r = score(m, x);
    cr_assert_eq(r.n_reasons, 1);
    cr_assert_str_eq(r.reasons[0], "OPEN_DEBTS_FEW");
    cr_assert_null(r.reasons[1]);
    cr_assert_eq(r.reason_features[1], -1);
    /* but they still count in the logit */
    cr_assert_float_eq(r.logit, SCORING_MODEL_REASON_EPSILON * 10, 1e-20);
    scoring_model_free(m);

    /* A zero coefficient never explains anything, however far the value. */
    scoring_model_spec s = base_spec();
    set_term(&s, SF_TENURE_MONTHS, 0, 1, 0, "TENURE_LONG", "TENURE_SHORT");
    m = build_ok(&s);
    double y[SF_COUNT] = {0};
    y[SF_TENURE_MONTHS] = 1e6;
    r = score(m, y);
    cr_assert_eq(r.n_reasons, 0);
    cr_assert_float_eq(r.probability, 0.5, 1e-15);
    scoring_model_free(m);
}

Test(scoring_model, a_code_shared_by_two_features_is_named_once)
{
    scoring_model_spec s = base_spec();
    set_term(&s, SF_EMAIL_OK, 0, 1, 1, "REACHABLE", "EMAIL_UNREACHABLE");
    set_term(&s, SF_SMS_OK, 0, 1, 1, "REACHABLE", "SMS_UNREACHABLE");
    set_term(&s, SF_AUTOPAY, 0, 1, 1, "AUTOPAY_ON", "AUTOPAY_OFF");
    /* the same code in both directions of one feature is allowed too */
    set_term(&s, SF_SVC_WATER, 0, 1, 1, "SERVICE_WATER", "SERVICE_WATER");
    set_term(&s, SF_CONTACTS, 0, 1, 1, "CONTACTS_FEW", "CONTACTS_MANY");
    scoring_model *m = build_ok(&s);
    double x[SF_COUNT] = {0};
    x[SF_EMAIL_OK] = 3;
    x[SF_SMS_OK] = 2;
    x[SF_AUTOPAY] = 1;
    x[SF_SVC_WATER] = -0.5;
    x[SF_CONTACTS] = 0.25; /* fifth by size, fourth once the duplicate is dropped */
    scoring_model_result r = score(m, x);
    cr_assert_eq(r.n_reasons, 4);
    cr_assert_str_eq(r.reasons[0], "REACHABLE");
    cr_assert_eq(r.reason_features[0], SF_EMAIL_OK);
    cr_assert_str_eq(r.reasons[1], "AUTOPAY_ON");
    cr_assert_str_eq(r.reasons[2], "SERVICE_WATER");
    cr_assert_str_eq(r.reasons[3], "CONTACTS_FEW");
    cr_assert_float_eq(r.logit, 5.75, 1e-15);
    scoring_model_free(m);
}

/* ------------------------------------------------------------------ loader errors */

enum where { TOP, FEAT0, FEAT1, TRAINING, METRICS, BIN2 };

typedef struct bad_case {
    enum where at;
    const char *key;
    const char *value; /* JSON text; NULL deletes the key */
    const char *field; /* what why must name */
} bad_case;

static const bad_case bad_cases[] = {
    {TOP, "format", NULL, "format"},
    {TOP, "format", "\"arrears-scorecard-2\"", "format"},
    {TOP, "format", "1", "format"},
    {TOP, "colour", "\"blue\"", "colour"},
    {TOP, "model_id", NULL, "model_id"},
    {TOP, "model_id", "\"has space\"", "model_id"},
    {TOP, "model_id", "\"\"", "model_id"},
    {TOP, "model_id", "\"a123456789012345678901234567890123456789012345678901234567890123\"",
     "model_id"},
    {TOP, "trained_at", NULL, "trained_at"},
    {TOP, "trained_at", "\"2026-13-01\"", "trained_at"},
    {TOP, "trained_at", "\"2026-02-30\"", "trained_at"},
    {TOP, "trained_at", "\"2026-11-27T10:00:00Z\"", "trained_at"},
    {TOP, "horizon_days", NULL, "horizon_days"},
    {TOP, "horizon_days", "0", "horizon_days"},
    {TOP, "horizon_days", "\"30\"", "horizon_days"},
    {TOP, "horizon_days", "30.5", "horizon_days"},
    {TOP, "description", "5", "description"},
    {TOP, "training", "\"yes\"", "training"},
    {TOP, "metrics", "[]", "metrics"},
    {TOP, "intercept", NULL, "intercept"},
    {TOP, "intercept", "\"-0.4\"", "intercept"},
    {TOP, "features", NULL, "features"},
    {TOP, "features", "{}", "features"},
    {TOP, "features", "[1]", "features[0]"},
    {TRAINING, "rows", "-1", "training.rows"},
    {TRAINING, "rows", "1.5", "training.rows"},
    {TRAINING, "l2", NULL, "training.l2"},
    {TRAINING, "l2", "-1", "training.l2"},
    {TRAINING, "since", "\"last year\"", "training.since"},
    {TRAINING, "epochs", "3", "training.epochs"},
    {METRICS, "auc", "1.5", "metrics.auc"},
    {METRICS, "auc", NULL, "metrics.auc"},
    {METRICS, "log_loss", "-0.1", "metrics.log_loss"},
    {METRICS, "holdout_rows", "-3", "metrics.holdout_rows"},
    {METRICS, "gini", "0.4", "metrics.gini"},
    {METRICS, "calibration", "[]", "metrics.calibration"},
    {BIN2, "observed", "2", "metrics.calibration[2].observed"},
    {BIN2, "predicted", "-0.5", "metrics.calibration[2].predicted"},
    {BIN2, "count", "-1", "metrics.calibration[2].count"},
    {FEAT0, "name", NULL, "features[0].name"},
    {FEAT0, "name", "\"balance\"", "features[0].name"},
    {FEAT0, "name", "\"BALANCE_LOG\"", "features[0].name"},
    {FEAT1, "name", "\"balance_log\"", "features[1].name"}, /* duplicate */
    {FEAT0, "mean", NULL, "features[0].mean"},
    {FEAT0, "mean", "null", "features[0].mean"},
    {FEAT1, "scale", "0", "features[1].scale"},
    {FEAT1, "scale", "-1.5", "features[1].scale"},
    {FEAT0, "scale", NULL, "features[0].scale"},
    {FEAT0, "coef", "\"big\"", "features[0].coef"},
    {FEAT0, "coef", NULL, "features[0].coef"},
    {FEAT0, "clip", "[12, 0]", "features[0].clip"},
    {FEAT0, "clip", "[0]", "features[0].clip"},
    {FEAT0, "clip", "[0, \"12\"]", "features[0].clip"},
    {FEAT0, "clip", "{\"lo\": 0}", "features[0].clip"},
    {FEAT0, "clp", "[0, 12]", "features[0].clp"},
    {FEAT0, "reason_up", NULL, "features[0].reason_up"},
    {FEAT0, "reason_up", "\"balance_small\"", "features[0].reason_up"},
    {FEAT0, "reason_up", "\"\"", "features[0].reason_up"},
    {FEAT0, "reason_up", "\"9LIVES\"", "features[0].reason_up"},
    {FEAT0, "reason_up", "\"_X\"", "features[0].reason_up"},
    {FEAT0, "reason_up", "\"BALANCE-SMALL\"", "features[0].reason_up"},
    {FEAT1, "reason_down", "\"A1234567890123456789012345678901234567890123456789012345678901234\"",
     "features[1].reason_down"}, /* 65 characters */
    {FEAT1, "reason_down", "7", "features[1].reason_down"},
};

static json_t *valid_doc(void)
{
    static const char *text =
        "{\"format\": \"arrears-scorecard-1\", \"model_id\": \"m-1\", \"trained_at\": "
        "\"2026-11-27\", \"horizon_days\": 30, \"description\": \"test\","
        " \"training\": {\"rows\": 1000, \"since\": \"2026-01-01\", \"l2\": 1.0},"
        " \"metrics\": {\"auc\": 0.7, \"log_loss\": 0.5, \"holdout_rows\": 200, \"calibration\": ["
        "{\"count\": 1, \"predicted\": 0.05, \"observed\": 0}, {\"count\": 0, \"predicted\": 0, "
        "\"observed\": 0}, {\"count\": 3, \"predicted\": 0.25, \"observed\": 0.33},"
        "{\"count\": 0, \"predicted\": 0, \"observed\": 0}, {\"count\": 0, \"predicted\": 0, "
        "\"observed\": 0}, {\"count\": 0, \"predicted\": 0, \"observed\": 0}, {\"count\": 0, "
        "\"predicted\": 0, \"observed\": 0}, {\"count\": 0, \"predicted\": 0, \"observed\": 0},"
        "{\"count\": 0, \"predicted\": 0, \"observed\": 0}, {\"count\": 2, \"predicted\": 0.95, "
        "\"observed\": 1}]},"
        " \"intercept\": -0.4, \"features\": ["
        "{\"name\": \"balance_log\", \"mean\": 4.1, \"scale\": 1.2, \"coef\": -0.5, \"clip\": [0, "
        "12], \"reason_up\": \"BALANCE_SMALL\", \"reason_down\": \"BALANCE_LARGE\"},"
        "{\"name\": \"autopay\", \"mean\": 0.2, \"scale\": 0.4, \"coef\": 0.3,"
        " \"reason_up\": \"AUTOPAY_ON\", \"reason_down\": \"AUTOPAY_OFF\"}]}";
    json_error_t err;
    json_t *doc = json_loads(text, 0, &err);
    cr_assert_not_null(doc, "%s", err.text);
    return doc;
}

Test(scoring_model_load, the_valid_document_parses)
{
    json_t *doc = valid_doc();
    scoring_model *m = NULL;
    char why[256] = "";
    cr_assert_eq(scoring_model_parse(doc, &m, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_str_eq(scoring_model_id(m), "m-1");
    const scoring_model_spec *s = scoring_model_spec_of(m);
    cr_assert_eq(s->horizon_days, 30);
    cr_assert(s->has_training && s->has_metrics && s->metrics.has_calibration);
    cr_assert_eq(s->training_rows, 1000);
    cr_assert_str_eq(s->training_since, "2026-01-01");
    cr_assert_eq(s->metrics.calibration[9].count, 2);
    cr_assert(s->terms[SF_BALANCE_LOG].present && s->terms[SF_AUTOPAY].present);
    cr_assert(!s->terms[SF_DAYS_PAST_DUE].present);
    cr_assert(s->terms[SF_BALANCE_LOG].has_clip && !s->terms[SF_AUTOPAY].has_clip);
    scoring_model_free(m);
    json_decref(doc);
}

Test(scoring_model_load, every_error_names_its_field)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        json_t *doc = valid_doc();
        json_t *obj = doc;
        json_t *feats = json_object_get(doc, "features");
        json_t *metrics = json_object_get(doc, "metrics");
        if (c->at == FEAT0)
            obj = json_array_get(feats, 0);
        else if (c->at == FEAT1)
            obj = json_array_get(feats, 1);
        else if (c->at == TRAINING)
            obj = json_object_get(doc, "training");
        else if (c->at == METRICS)
            obj = metrics;
        else if (c->at == BIN2)
            obj = json_array_get(json_object_get(metrics, "calibration"), 2);
        if (c->value) {
            json_t *v = json_loads(c->value, JSON_DECODE_ANY, NULL);
            cr_assert_not_null(v, "case %zu: bad test value", i);
            json_object_set_new(obj, c->key, v);
        } else {
            json_object_del(obj, c->key);
        }
        scoring_model *m = NULL;
        char why[256] = "";
        arr_err e = scoring_model_parse(doc, &m, why, sizeof why);
        cr_assert_eq(e, ARR_EINVAL, "case %zu (%s) accepted", i, c->field);
        cr_assert_null(m);
        /* the field, followed by ':' so "features[1].name" is not "features[1].name_x" */
        char want[96];
        snprintf(want, sizeof want, "%s:", c->field);
        cr_assert(strncmp(why, want, strlen(want)) == 0,
                  "case %zu: why \"%s\" does not start "
                  "with %s",
                  i, why, want);
        json_decref(doc);
    }
}

Test(scoring_model_load, null_metrics_and_training_are_absent)
{
    json_t *doc = valid_doc();
    json_object_set_new(doc, "metrics", json_null());
    json_object_set_new(doc, "training", json_null());
    json_object_del(doc, "description");
    scoring_model *m = NULL;
    char why[256] = "";
    cr_assert_eq(scoring_model_parse(doc, &m, why, sizeof why), ARR_OK, "%s", why);
    cr_assert(!scoring_model_spec_of(m)->has_metrics);
    cr_assert(!scoring_model_spec_of(m)->has_training);
    scoring_model_free(m);
    json_object_del(doc, "metrics");
    json_object_del(doc, "training");
    cr_assert_eq(scoring_model_parse(doc, &m, why, sizeof why), ARR_OK, "%s", why);
    scoring_model_free(m);
    /* and an empty feature list is a constant model */
    json_object_set_new(doc, "features", json_array());
    cr_assert_eq(scoring_model_parse(doc, &m, why, sizeof why), ARR_OK, "%s", why);
    scoring_model_free(m);
    json_decref(doc);
}

Test(scoring_model_load, not_an_object)
{
    scoring_model *m = NULL;
    char why[256] = "";
    json_t *arr = json_array();
    cr_assert_eq(scoring_model_parse(arr, &m, why, sizeof why), ARR_EINVAL);
    cr_assert(strncmp(why, "model:", 6) == 0, "%s", why);
    cr_assert_eq(scoring_model_parse(NULL, &m, why, sizeof why), ARR_EINVAL);
    json_decref(arr);
}

/* JSON cannot carry NaN or infinity, so a spec built in code is where they can come from. */
Test(scoring_model_load, non_finite_numbers_in_a_spec)
{
    static const struct {
        int what;
        const char *field;
    } cases[] = {
        {0, "features[balance_log].mean:"},
        {1, "features[balance_log].scale:"},
        {2, "features[balance_log].coef:"},
        {3, "features[balance_log].clip:"},
        {4, "intercept:"},
        {5, "metrics.auc:"},
        {6, "metrics.log_loss:"},
        {7, "training.l2:"},
        {8, "metrics.calibration[0].predicted:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        scoring_model_spec s = base_spec();
        set_term(&s, SF_BALANCE_LOG, 4, 1, -0.5, "BALANCE_SMALL", "BALANCE_LARGE");
        s.has_metrics = 1;
        s.metrics.auc = 0.7;
        s.metrics.log_loss = 0.5;
        s.metrics.has_calibration = 1;
        s.has_training = 1;
        s.training_l2 = 1;
        scoring_model_term *t = &s.terms[SF_BALANCE_LOG];
        switch (cases[i].what) {
        case 0:
            t->mean = NAN;
            break;
        case 1:
            t->scale = INFINITY;
            break;
        case 2:
            t->coef = -INFINITY;
            break;
        case 3:
            t->has_clip = 1;
            t->clip_lo = -INFINITY;
            t->clip_hi = 3;
            break;
        case 4:
            s.intercept = NAN;
            break;
        case 5:
            s.metrics.auc = NAN;
            break;
        case 6:
            s.metrics.log_loss = INFINITY;
            break;
        case 7:
            s.training_l2 = NAN;
            break;
        case 8:
            s.metrics.calibration[0].predicted = NAN;
            break;
        }
        scoring_model *m = NULL;
        char why[256] = "";
        cr_assert_eq(scoring_model_build(&s, &m, why, sizeof why), ARR_EINVAL, "case %zu", i);
        cr_assert(strncmp(why, cases[i].field, strlen(cases[i].field)) == 0, "case %zu: %s", i,
                  why);
    }
}

Test(scoring_model_load, spec_strings_are_checked)
{
    scoring_model_spec s = base_spec();
    set_term(&s, SF_BALANCE_LOG, 4, 1, -0.5, "BALANCE_SMALL", "BALANCE_LARGE");
    memset(s.terms[SF_BALANCE_LOG].reason_up, 'A', sizeof s.terms[0].reason_up); /* no NUL */
    scoring_model *m = NULL;
    char why[256] = "";
    cr_assert_eq(scoring_model_build(&s, &m, why, sizeof why), ARR_EINVAL);
    cr_assert(strncmp(why, "features[balance_log].reason_up:", 32) == 0, "%s", why);
    s = base_spec();
    memset(s.model_id, 'a', sizeof s.model_id);
    cr_assert_eq(scoring_model_build(&s, &m, why, sizeof why), ARR_EINVAL);
    cr_assert(strncmp(why, "model_id:", 9) == 0, "%s", why);
    s = base_spec();
    strcpy(s.trained_at, "2024-02-29"); /* a leap day is a date */
    m = build_ok(&s);
    scoring_model_free(m);
    strcpy(s.trained_at, "2025-02-29");
    cr_assert_eq(scoring_model_build(&s, &m, why, sizeof why), ARR_EINVAL);
    cr_assert(strncmp(why, "trained_at:", 11) == 0, "%s", why);
}

/* Writes text to a fresh file under /tmp; returns its path in buf. */
static void temp_file(char *buf, size_t size, const char *text)
{
    snprintf(buf, size, "/tmp/arrears-test-model-XXXXXX");
    int fd = mkstemp(buf);
    cr_assert(fd >= 0);
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
}

Test(scoring_model_load, file_errors)
{
    scoring_model *m = NULL;
    char why[512] = "";
    cr_assert_eq(scoring_model_load("/nonexistent/model.json", &m, why, sizeof why), ARR_ENOTFOUND);
    cr_assert_not_null(strstr(why, "/nonexistent/model.json"), "%s", why);

    char path[64];
    temp_file(path, sizeof path, "{\"format\": \"arrears-scorecard-1\",\n  \"model_id\": }");
    cr_assert_eq(scoring_model_load(path, &m, why, sizeof why), ARR_EINVAL);
    char want[96];
    snprintf(want, sizeof want, "%s:2:", path); /* the line of the syntax error */
    cr_assert(strncmp(why, want, strlen(want)) == 0, "%s", why);
    unlink(path);

    /* Duplicate keys would make the file mean whatever the parser keeps: rejected. */
    temp_file(path, sizeof path, "{\"intercept\": 1, \"intercept\": 2}");
    cr_assert_eq(scoring_model_load(path, &m, why, sizeof why), ARR_EINVAL);
    unlink(path);

    /* A number too large for a double. */
    temp_file(path, sizeof path, "{\"intercept\": 1e400}");
    cr_assert_eq(scoring_model_load(path, &m, why, sizeof why), ARR_EINVAL);
    unlink(path);

    /* A semantic error names the file and then the field. */
    temp_file(path, sizeof path,
              "{\"format\": \"arrears-scorecard-1\", \"model_id\": \"x\", \"trained_at\": "
              "\"2026-01-01\", \"horizon_days\": 30, \"intercept\": 0, \"features\": [{\"name\": "
              "\"autopay\", \"mean\": 0, \"scale\": 0, \"coef\": 1, \"reason_up\": \"A\", "
              "\"reason_down\": \"B\"}]}");
    cr_assert_eq(scoring_model_load(path, &m, why, sizeof why), ARR_EINVAL);
    snprintf(want, sizeof want, "%s: features[0].scale: must be > 0", path);
    cr_assert_str_eq(why, want);
    unlink(path);
}

/* ------------------------------------------------------------------ the shipped model */

static scoring_model *default_model(void)
{
    scoring_model *m = NULL;
    char why[512] = "";
    cr_assert_eq(scoring_model_load(DEFAULT_MODEL, &m, why, sizeof why), ARR_OK, "%s", why);
    return m;
}

/* $120 telecom bill, 45 days late, one invoice, two years a customer, never late before,
 * 4 payments in the last year, no autopay, e-mail but no SMS, two contacts so far. */
static void typical_account(double x[SF_COUNT])
{
    memset(x, 0, sizeof(double) * SF_COUNT);
    x[SF_BALANCE_LOG] = log1p(120);
    x[SF_DAYS_PAST_DUE] = 45;
    x[SF_OPEN_DEBTS] = 1;
    x[SF_SVC_TELECOM] = 1;
    x[SF_TENURE_MONTHS] = 24;
    x[SF_PAYMENTS_12M] = 4;
    x[SF_EMAIL_OK] = 1;
    x[SF_CONTACTS] = 2;
}

Test(scoring_model_default, loads_and_scores_sensibly)
{
    scoring_model *m = default_model();
    cr_assert_str_eq(scoring_model_id(m), "scorecard-default-1");
    const scoring_model_spec *s = scoring_model_spec_of(m);
    cr_assert(!s->has_metrics, "a hand-set prior has no metrics");
    cr_assert_eq(s->horizon_days, 30);
    cr_assert_not_null(strstr(s->description, "not trained"));
    for (int f = 0; f < SF_COUNT; f++)
        cr_assert(s->terms[f].present, "feature %d missing", f);

    double x[SF_COUNT];
    typical_account(x);
    scoring_model_result r = score(m, x);
    cr_assert(r.probability > 0.2 && r.probability < 0.6, "typical account: %f", r.probability);
    cr_assert_eq(r.n_reasons, 4);

    uint64_t seed = 42;
    for (int i = 0; i < 10000; i++) {
        random_account(&seed, x);
        r = score(m, x);
        cr_assert(r.probability > 0 && r.probability < 1, "%f", r.probability);
        cr_assert(r.probability_bp >= 0 && r.probability_bp <= 10000);
        for (int k = 0; k < r.n_reasons; k++)
            cr_assert_not_null(r.reasons[k]);
    }
    scoring_model_free(m);
}

/* Moving one feature the way experience says, from the typical account. */
Test(scoring_model_default, directions)
{
    scoring_model *m = default_model();
    double base[SF_COUNT], x[SF_COUNT];
    typical_account(base);
    double p0 = score(m, base).probability;
    static const struct {
        int f;
        double v;
        int up;
    } moves[] = {
        {SF_BALANCE_LOG, 3.0, 1},   {SF_BALANCE_LOG, 7.0, 0}, {SF_DAYS_PAST_DUE, 200, 0},
        {SF_AUTOPAY, 1, 1},         {SF_PAYMENTS_12M, 12, 1}, {SF_TENURE_MONTHS, 120, 1},
        {SF_SMS_OK, 1, 1},          {SF_PROMISES_KEPT, 2, 1}, {SF_PRIOR_DELINQ, 3, 0},
        {SF_PROMISES_BROKEN, 2, 0}, {SF_EMAIL_OK, 0, 0},      {SF_OPEN_DEBTS, 4, 0},
    };
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        memcpy(x, base, sizeof x);
        x[moves[i].f] = moves[i].v;
        double p = score(m, x).probability;
        if (moves[i].up)
            cr_assert(p > p0, "move %zu: %f <= %f", i, p, p0);
        else
            cr_assert(p < p0, "move %zu: %f >= %f", i, p, p0);
    }
    /* medical instead of telecom lowers it, and says so */
    memcpy(x, base, sizeof x);
    x[SF_SVC_TELECOM] = 0;
    x[SF_SVC_MEDICAL] = 1;
    scoring_model_result r = score(m, x);
    cr_assert(r.probability < p0);
    int named = 0;
    for (int k = 0; k < r.n_reasons; k++)
        named |= strcmp(r.reasons[k], "SERVICE_MEDICAL") == 0;
    cr_assert(named, "SERVICE_MEDICAL not among the reasons");
    /* an account at every mean scores sigmoid(intercept) */
    const scoring_model_spec *s = scoring_model_spec_of(m);
    for (int f = 0; f < SF_COUNT; f++)
        x[f] = s->terms[f].mean;
    cr_assert_float_eq(score(m, x).probability, 1 / (1 + exp(-s->intercept)), 1e-12);
    scoring_model_free(m);
}

/* ------------------------------------------------------------------ round trip */

static scoring_model *reparse(const scoring_model *m, char **text_out)
{
    json_t *doc = scoring_model_to_json(m);
    cr_assert_not_null(doc);
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    cr_assert_not_null(back);
    scoring_model *m2 = NULL;
    char why[256] = "";
    cr_assert_eq(scoring_model_parse(back, &m2, why, sizeof why), ARR_OK, "%s", why);
    json_decref(back);
    *text_out = text;
    return m2;
}

static void same_scores(const scoring_model *a, const scoring_model *b)
{
    uint64_t seed = 99;
    double x[SF_COUNT];
    for (int i = 0; i < 5000; i++) {
        random_account(&seed, x);
        scoring_model_result ra = score(a, x), rb = score(b, x);
        cr_assert_eq(ra.probability, rb.probability, "row %d: %.17g != %.17g", i, ra.probability,
                     rb.probability);
        cr_assert_eq(ra.logit, rb.logit);
        cr_assert_eq(ra.n_reasons, rb.n_reasons);
        for (int k = 0; k < ra.n_reasons; k++) {
            cr_assert_str_eq(ra.reasons[k], rb.reasons[k]);
            cr_assert_eq(ra.reason_contributions[k], rb.reason_contributions[k]);
        }
    }
}

Test(scoring_model_json, round_trip_scores_identically)
{
    scoring_model *m = default_model();
    char *t1, *t2;
    scoring_model *m2 = reparse(m, &t1);
    same_scores(m, m2);
    scoring_model *m3 = reparse(m2, &t2);
    cr_assert_str_eq(t1, t2, "the document is a fixed point");
    free(t1);
    free(t2);
    scoring_model_free(m3);
    scoring_model_free(m2);
    scoring_model_free(m);

    /* numbers with every bit significant, training, metrics and calibration */
    scoring_model_spec s = base_spec();
    s.intercept = 1.0 / 3;
    s.has_training = 1;
    s.training_rows = 123456;
    s.training_l2 = 0.1;
    strcpy(s.training_since, "2025-12-01");
    s.has_metrics = 1;
    s.metrics.auc = 0.712345678901234;
    s.metrics.log_loss = 0.5;
    s.metrics.holdout_rows = 321;
    s.metrics.has_calibration = 1;
    for (int i = 0; i < SCORING_MODEL_CALIB_BINS; i++) {
        s.metrics.calibration[i].count = i * 7;
        s.metrics.calibration[i].predicted = (i + 0.5) / 10;
        s.metrics.calibration[i].observed = i / 10.0;
    }
    strcpy(s.description, "round trip \"quoted\" \xc3\xa9");
    for (int f = 0; f < SF_COUNT; f++) {
        set_term(&s, (scoring_feature)f, sqrt(f + 2.0), 3.141592653589793 / (f + 1),
                 (f % 2 ? -1 : 1) / 7.0, "UP", "DOWN");
        s.terms[f].has_clip = f % 3 == 0;
        s.terms[f].clip_lo = 0.1;
        s.terms[f].clip_hi = 10.0 / 3;
    }
    s.terms[SF_SMS_OK].present = 0;
    m = build_ok(&s);
    m2 = reparse(m, &t1);
    same_scores(m, m2);
    const scoring_model_spec *a = scoring_model_spec_of(m), *b = scoring_model_spec_of(m2);
    cr_assert_eq(a->intercept, b->intercept);
    cr_assert_eq(a->metrics.auc, b->metrics.auc);
    cr_assert_eq(a->metrics.calibration[9].count, 63);
    cr_assert_eq(b->metrics.calibration[9].count, 63);
    cr_assert_eq(b->metrics.calibration[9].predicted, 0.95);
    cr_assert_str_eq(a->description, b->description);
    cr_assert_str_eq(b->training_since, "2025-12-01");
    cr_assert(!b->terms[SF_SMS_OK].present);
    for (int f = 0; f < SF_COUNT; f++) {
        cr_assert_eq(a->terms[f].present, b->terms[f].present);
        cr_assert_eq(a->terms[f].mean, b->terms[f].mean);
        cr_assert_eq(a->terms[f].scale, b->terms[f].scale);
        cr_assert_eq(a->terms[f].coef, b->terms[f].coef);
        cr_assert_eq(a->terms[f].has_clip, b->terms[f].has_clip);
        if (a->terms[f].has_clip)
            cr_assert_eq(a->terms[f].clip_hi, b->terms[f].clip_hi);
    }
    free(t1);
    scoring_model_free(m2);
    scoring_model_free(m);
}
