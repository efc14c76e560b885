/* Unit tests of services/scoring/train.c: the logistic fit recovers the coefficients of the
 * model that generated the data, the metrics give their textbook values on small hand-worked
 * inputs, and the holdout split is stable. Data come from a seeded splitmix64, so every run
 * sees the same rows. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

#define DEFAULT_MODEL ARR_SOURCE_DIR "/deploy/models/scorecard-default-1.json"

/* ------------------------------------------------------------------ data */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return ((double)(splitmix(s) >> 11) + 0.5) * 0x1.0p-53; /* (0, 1): safe for log */
}

static double normal(uint64_t *s)
{
    double u = uniform(s), v = uniform(s);
    return sqrt(-2 * log(u)) * cos(2 * 3.141592653589793 * v);
}

/* The generating model, in raw units: logit = B + sum W[f] * x[f]. */
static const double W[SF_COUNT] = {
    -0.4,  /* balance_log ~ N(4.6, 1.1) */
    -0.01, /* days_past_due ~ U[0, 180) */
    -0.2,  /* open_debts 1..3 */
    0.1,   /* svc_telecom, one of four service types */
    0.2,   /* svc_water */
    -0.5,  /* svc_medical */
    0.005, /* tenure_months ~ U[0, 120) */
    -0.3,  /* prior_delinq 0..3 */
    0.08,  /* payments_12m 0..12 */
    0.6,   /* autopay ~ B(0.15) */
    0.3,   /* email_ok ~ B(0.6) */
    0.25,  /* sms_ok ~ B(0.5) */
    -0.05, /* contacts 0..10 */
    0.4,   /* promises_kept 0..2 */
    -0.45, /* promises_broken 0..2 */
    0.2,   /* partial_payments ~ N(0, 1) */
};
static const double B = 1.5;

static void draw_row(uint64_t *s, double *x)
{
    x[SF_BALANCE_LOG] = 4.6 + 1.1 * normal(s);
    x[SF_DAYS_PAST_DUE] = 180 * uniform(s);
    x[SF_OPEN_DEBTS] = 1 + (uniform(s) < 0.3) + (uniform(s) < 0.1);
    double svc = uniform(s);
    x[SF_SVC_TELECOM] = svc < 0.35;
    x[SF_SVC_WATER] = svc >= 0.35 && svc < 0.6;
    x[SF_SVC_MEDICAL] = svc >= 0.6 && svc < 0.8;
    x[SF_TENURE_MONTHS] = 120 * uniform(s);
    x[SF_PRIOR_DELINQ] = floor(4 * uniform(s));
    x[SF_PAYMENTS_12M] = floor(13 * uniform(s));
    x[SF_AUTOPAY] = uniform(s) < 0.15;
    x[SF_EMAIL_OK] = uniform(s) < 0.6;
    x[SF_SMS_OK] = uniform(s) < 0.5;
    x[SF_CONTACTS] = floor(11 * uniform(s));
    x[SF_PROMISES_KEPT] = floor(3 * uniform(s));
    x[SF_PROMISES_BROKEN] = floor(3 * uniform(s));
    x[SF_PARTIAL_PAYMENTS] = normal(s);
}

typedef struct data {
    size_t n;
    double *x;
    uint8_t *y;
} data;

static data make_data(size_t n, uint64_t seed)
{
    data d = {n, malloc(sizeof(double) * SF_COUNT * n), malloc(n)};
    cr_assert(d.x && d.y);
    for (size_t i = 0; i < n; i++) {
        double *x = d.x + i * SF_COUNT;
        draw_row(&seed, x);
        double eta = B;
        for (int f = 0; f < SF_COUNT; f++)
            eta += W[f] * x[f];
        d.y[i] = uniform(&seed) < 1 / (1 + exp(-eta));
    }
    return d;
}

static void free_data(data *d)
{
    free(d->x);
    free(d->y);
}

static scoring_train_fit_result fit_ok(const data *d, const uint8_t *include,
                                       const scoring_train_opts *o)
{
    scoring_train_fit_result r;
    char why[256] = "";
    cr_assert_eq(scoring_train_fit(d->x, d->y, include, d->n, o, &r, why, sizeof why), ARR_OK, "%s",
                 why);
    return r;
}

static scoring_model *default_model(void)
{
    scoring_model *m = NULL;
    char why[512] = "";
    cr_assert_eq(scoring_model_load(DEFAULT_MODEL, &m, why, sizeof why), ARR_OK, "%s", why);
    return m;
}

/* ------------------------------------------------------------------ fit */

/* With 200,000 rows the standard error of a standardised coefficient is about 0.006, so a
 * tolerance of 0.03 is 5 standard errors: it fails on a wrong fit, not on noise. */
#define COEF_TOL 0.03

Test(scoring_train, recovers_the_generating_coefficients, .timeout = 120)
{
    data d = make_data(200000, 1);
    scoring_train_opts o;
    scoring_train_opts_init(&o);
    o.l2 = 1e-6;
    scoring_train_fit_result r = fit_ok(&d, NULL, &o);
    cr_assert(r.converged, "no convergence in %d iterations", r.iterations);
    cr_assert(r.iterations <= 12, "%d iterations", r.iterations);
    cr_assert_eq(r.rows, 200000);
    cr_assert_eq(r.constant, 0);
    /* In standardised space the true coefficient is W * scale, and the true intercept is the
     * generating logit at the means. */
    double worst = 0, eta_at_mean = B;
    for (int f = 0; f < SF_COUNT; f++) {
        double want = W[f] * r.scale[f], err = fabs(r.coef[f] - want);
        cr_assert(err < COEF_TOL, "%s: %f, want %f", scoring_feature_name(f), r.coef[f], want);
        worst = fmax(worst, err);
        eta_at_mean += W[f] * r.mean[f];
    }
    cr_assert(fabs(r.intercept - eta_at_mean) < COEF_TOL, "intercept %f, want %f", r.intercept,
              eta_at_mean);
    worst = fmax(worst, fabs(r.intercept - eta_at_mean));
    fprintf(stderr, "coefficient recovery: worst |error| %.4f (standardised), %d iterations\n",
            worst, r.iterations);
    /* the means and scales are the sample's */
    cr_assert(fabs(r.mean[SF_BALANCE_LOG] - 4.6) < 0.01);
    cr_assert(fabs(r.scale[SF_BALANCE_LOG] - 1.1) < 0.01);
    cr_assert(fabs(r.scale[SF_AUTOPAY] - sqrt(0.15 * 0.85)) < 0.005);
    /* the loss is below that of the intercept alone */
    double ybar = 0;
    for (size_t i = 0; i < d.n; i++)
        ybar += d.y[i];
    ybar /= (double)d.n;
    double base = -(ybar * log(ybar) + (1 - ybar) * log(1 - ybar));
    cr_assert(r.log_loss < base - 0.02, "%f vs %f", r.log_loss, base);
    free_data(&d);
}

Test(scoring_train, the_model_of_a_fit_scores_like_the_fit, .timeout = 120)
{
    data d = make_data(50000, 2);
    scoring_model *tmpl = default_model();
    scoring_train_opts o;
    scoring_train_opts_from_model(&o, tmpl);
    cr_assert_eq(o.mask, SCORING_TRAIN_MASK_ALL);
    cr_assert(o.has_clip[SF_DAYS_PAST_DUE]);
    uint8_t *train = malloc(d.n), *hold = malloc(d.n);
    size_t nh = 0;
    for (size_t i = 0; i < d.n; i++) {
        char key[48];
        snprintf(key, sizeof key, "tenant-a/ACC-%zu", i);
        hold[i] = (uint8_t)scoring_train_is_holdout(key, 0.2);
        train[i] = !hold[i];
        nh += hold[i];
    }
    scoring_train_fit_result r = fit_ok(&d, train, &o);
    cr_assert_eq((size_t)r.rows, d.n - nh);

    /* score the holdout with the model built from the fit, then record its metrics */
    scoring_train_meta meta = {
        .model_id = "scorecard-test-2", .trained_at = "2026-11-28", .since = "2026-01-01"};
    scoring_model *m = NULL;
    char why[256] = "";
    cr_assert_eq(scoring_train_to_model(&r, tmpl, &meta, &m, why, sizeof why), ARR_OK, "%s", why);
    double *p = malloc(sizeof(double) * nh);
    uint8_t *yh = malloc(nh);
    size_t k = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (!hold[i])
            continue;
        const double *x = d.x + i * SF_COUNT;
        scoring_model_result res;
        scoring_model_score(m, x, &res);
        /* the fit's own linear predictor, clipped as the model clips */
        double eta = r.intercept;
        for (int f = 0; f < SF_COUNT; f++) {
            double v = x[f];
            if (r.has_clip[f])
                v = fmin(fmax(v, r.clip_lo[f]), r.clip_hi[f]);
            eta += r.coef[f] * (v - r.mean[f]) / r.scale[f];
        }
        cr_assert_float_eq(res.logit, eta, 1e-9);
        p[k] = res.probability;
        yh[k++] = d.y[i];
    }
    scoring_model_metrics mt = {.holdout_rows = (int64_t)nh, .has_calibration = 1};
    cr_assert_eq(scoring_train_auc(p, yh, nh, &mt.auc, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(scoring_train_log_loss(p, yh, nh, &mt.log_loss, why, sizeof why), ARR_OK);
    cr_assert_eq(scoring_train_calibration(p, yh, nh, mt.calibration, why, sizeof why), ARR_OK);
    cr_assert(mt.auc > 0.7, "holdout AUC %f", mt.auc);
    /* a well-specified model is calibrated: each well-filled bin within a few points */
    for (int b = 0; b < SCORING_MODEL_CALIB_BINS; b++)
        if (mt.calibration[b].count > 500)
            cr_assert(fabs(mt.calibration[b].observed - mt.calibration[b].predicted) < 0.05,
                      "bin %d: observed %f, predicted %f", b, mt.calibration[b].observed,
                      mt.calibration[b].predicted);
    meta.metrics = &mt;
    scoring_model *m2 = NULL;
    cr_assert_eq(scoring_train_to_model(&r, tmpl, &meta, &m2, why, sizeof why), ARR_OK, "%s", why);
    const scoring_model_spec *s = scoring_model_spec_of(m2);
    cr_assert_str_eq(s->model_id, "scorecard-test-2");
    cr_assert_str_eq(s->trained_at, "2026-11-28");
    cr_assert_eq(s->horizon_days, 30, "the template's horizon");
    cr_assert(s->has_training && s->has_metrics);
    cr_assert_eq(s->training_rows, (int64_t)(d.n - nh));
    cr_assert_str_eq(s->training_since, "2026-01-01");
    cr_assert_eq(s->metrics.auc, mt.auc);
    /* signs agree with the default model here, so the codes are the template's */
    cr_assert_str_eq(s->terms[SF_BALANCE_LOG].reason_up, "BALANCE_SMALL");
    cr_assert_str_eq(s->terms[SF_SVC_MEDICAL].reason_down, "SERVICE_MEDICAL");

    /* the trained model survives its own file */
    json_t *doc = scoring_model_to_json(m2);
    scoring_model *m3 = NULL;
    cr_assert_eq(scoring_model_parse(doc, &m3, why, sizeof why), ARR_OK, "%s", why);
    json_decref(doc);
    for (size_t i = 0; i < 1000; i++) {
        scoring_model_result a, b;
        scoring_model_score(m2, d.x + i * SF_COUNT, &a);
        scoring_model_score(m3, d.x + i * SF_COUNT, &b);
        cr_assert_eq(a.probability, b.probability);
    }
    scoring_model_free(m3);
    scoring_model_free(m2);
    scoring_model_free(m);
    scoring_model_free(tmpl);
    free(p);
    free(yh);
    free(train);
    free(hold);
    free_data(&d);
}

Test(scoring_train, reason_codes_follow_a_sign_change)
{
    data d = make_data(20000, 3);
    scoring_model *def = default_model();
    /* A template that believed large balances pay more (coef +0.3, BALANCE_LARGE when up). */
    scoring_model_spec s = *scoring_model_spec_of(def);
    s.terms[SF_BALANCE_LOG].coef = 0.3;
    strcpy(s.terms[SF_BALANCE_LOG].reason_up, "BALANCE_LARGE");
    strcpy(s.terms[SF_BALANCE_LOG].reason_down, "BALANCE_SMALL");
    scoring_model *tmpl = NULL;
    char why[256] = "";
    cr_assert_eq(scoring_model_build(&s, &tmpl, why, sizeof why), ARR_OK, "%s", why);
    scoring_train_opts o;
    scoring_train_opts_from_model(&o, tmpl);
    scoring_train_fit_result r = fit_ok(&d, NULL, &o);
    cr_assert(r.coef[SF_BALANCE_LOG] < 0);
    scoring_train_meta meta = {.model_id = "t", .trained_at = "2026-11-28"};
    scoring_model *m = NULL;
    cr_assert_eq(scoring_train_to_model(&r, tmpl, &meta, &m, why, sizeof why), ARR_OK, "%s", why);
    /* the data say small balances pay: a small balance raising the score is BALANCE_SMALL */
    const scoring_model_term *t = &scoring_model_spec_of(m)->terms[SF_BALANCE_LOG];
    cr_assert_str_eq(t->reason_up, "BALANCE_SMALL");
    cr_assert_str_eq(t->reason_down, "BALANCE_LARGE");
    double x[SF_COUNT];
    memcpy(x, d.x, sizeof x);
    x[SF_BALANCE_LOG] = 0; /* $0: far below the mean */
    scoring_model_result res;
    scoring_model_score(m, x, &res);
    int found = 0;
    for (int k = 0; k < res.n_reasons; k++)
        found |= strcmp(res.reasons[k], "BALANCE_SMALL") == 0;
    cr_assert(found, "BALANCE_SMALL not named for a tiny balance");
    scoring_model_free(m);
    scoring_model_free(tmpl);
    scoring_model_free(def);
    free_data(&d);
}

Test(scoring_train, mask_include_and_constant_features)
{
    data d = make_data(20000, 4);
    for (size_t i = 0; i < d.n; i++)
        d.x[i * SF_COUNT + SF_SVC_WATER] = 0.1; /* constant: no information */
    scoring_train_opts o;
    scoring_train_opts_init(&o);
    o.l2 = 0; /* the constant column must not make the system singular */
    o.mask = (1u << SF_BALANCE_LOG) | (1u << SF_AUTOPAY) | (1u << SF_SVC_WATER);
    uint8_t *odd = malloc(d.n);
    for (size_t i = 0; i < d.n; i++)
        odd[i] = i % 2;
    scoring_train_fit_result r = fit_ok(&d, odd, &o);
    cr_assert_eq(r.rows, 10000);
    cr_assert(r.converged);
    cr_assert_eq(r.constant, 1u << SF_SVC_WATER);
    cr_assert_eq(r.scale[SF_SVC_WATER], 1);
    cr_assert_eq(r.coef[SF_SVC_WATER], 0);
    cr_assert_float_eq(r.mean[SF_SVC_WATER], 0.1, 1e-12);
    cr_assert(r.coef[SF_BALANCE_LOG] < -0.2 && r.coef[SF_AUTOPAY] > 0.1, "%f %f",
              r.coef[SF_BALANCE_LOG], r.coef[SF_AUTOPAY]);
    for (int f = 0; f < SF_COUNT; f++) {
        if (o.mask & (1u << f))
            continue;
        cr_assert_eq(r.coef[f], 0);
        cr_assert_eq(r.mean[f], 0);
        cr_assert_eq(r.scale[f], 1);
    }
    /* the model holds exactly the masked features */
    scoring_model *tmpl = default_model();
    scoring_train_meta meta = {.model_id = "masked", .trained_at = "2026-11-28"};
    scoring_model *m = NULL;
    char why[256] = "";
    cr_assert_eq(scoring_train_to_model(&r, tmpl, &meta, &m, why, sizeof why), ARR_OK, "%s", why);
    for (int f = 0; f < SF_COUNT; f++)
        cr_assert_eq(scoring_model_spec_of(m)->terms[f].present, !!(o.mask & (1u << f)));
    scoring_model_free(m);
    scoring_model_free(tmpl);
    free(odd);
    free_data(&d);
}

Test(scoring_train, l2_shrinks_and_splits_duplicate_columns)
{
    data d = make_data(20000, 5);
    for (size_t i = 0; i < d.n; i++) /* svc_telecom becomes an exact copy of autopay */
        d.x[i * SF_COUNT + SF_SVC_TELECOM] = d.x[i * SF_COUNT + SF_AUTOPAY];
    scoring_train_opts o;
    scoring_train_opts_init(&o);
    o.l2 = 1;
    scoring_train_fit_result r = fit_ok(&d, NULL, &o);
    cr_assert(r.converged);
    /* the penalty is symmetric in the two copies, so it splits the effect evenly */
    cr_assert_float_eq(r.coef[SF_SVC_TELECOM], r.coef[SF_AUTOPAY], 1e-6, "%f %f",
                       r.coef[SF_SVC_TELECOM], r.coef[SF_AUTOPAY]);
    o.l2 = 1e5; /* five times the rows: every coefficient shrinks towards 0 */
    scoring_train_fit_result big = fit_ok(&d, NULL, &o);
    for (int f = 0; f < SF_COUNT; f++)
        cr_assert(fabs(big.coef[f]) < fabs(r.coef[f]) || r.coef[f] == 0, "%s: %f vs %f",
                  scoring_feature_name(f), big.coef[f], r.coef[f]);
    free_data(&d);
}

Test(scoring_train, separable_data_converge_with_l2)
{
    enum { N = 1000 };
    double *x = calloc(N * SF_COUNT, sizeof(double));
    uint8_t y[N];
    for (int i = 0; i < N; i++) {
        x[i * SF_COUNT + SF_CONTACTS] = i;
        y[i] = i >= N / 2;
    }
    scoring_train_opts o;
    scoring_train_opts_init(&o);
    o.mask = 1u << SF_CONTACTS;
    o.l2 = 1;
    scoring_train_fit_result r;
    char why[256] = "";
    cr_assert_eq(scoring_train_fit(x, y, NULL, N, &o, &r, why, sizeof why), ARR_OK, "%s", why);
    cr_assert(r.converged, "%d iterations", r.iterations);
    cr_assert(isfinite(r.coef[SF_CONTACTS]) && r.coef[SF_CONTACTS] > 5, "%f", r.coef[SF_CONTACTS]);
    /* without l2 the coefficient grows without bound: max_iter stops it, still finite */
    o.l2 = 0;
    o.max_iter = 8;
    cr_assert_eq(scoring_train_fit(x, y, NULL, N, &o, &r, why, sizeof why), ARR_OK, "%s", why);
    cr_assert(!r.converged);
    cr_assert_eq(r.iterations, 8);
    cr_assert(isfinite(r.coef[SF_CONTACTS]));
    free(x);
}

Test(scoring_train, fit_rejects_bad_input)
{
    data d = make_data(100, 6);
    scoring_train_opts o;
    scoring_train_opts_init(&o);
    scoring_train_fit_result r;
    char why[256] = "";

    d.y[7] = 2;
    cr_assert_eq(scoring_train_fit(d.x, d.y, NULL, d.n, &o, &r, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "y[7]: must be 0 or 1");
    d.y[7] = 1;

    d.x[12 * SF_COUNT + SF_TENURE_MONTHS] = NAN;
    cr_assert_eq(scoring_train_fit(d.x, d.y, NULL, d.n, &o, &r, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "x[12].tenure_months: not finite");
    o.mask &= ~(1u << SF_TENURE_MONTHS); /* an unused feature may hold anything */
    cr_assert_eq(scoring_train_fit(d.x, d.y, NULL, d.n, &o, &r, why, sizeof why), ARR_OK, "%s",
                 why);
    scoring_train_opts_init(&o);
    d.x[12 * SF_COUNT + SF_TENURE_MONTHS] = 1;

    uint8_t *ones = malloc(d.n);
    memset(ones, 1, d.n);
    cr_assert_eq(scoring_train_fit(d.x, ones, NULL, d.n, &o, &r, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "y: both classes are needed");
    uint8_t *none = calloc(d.n, 1);
    cr_assert_eq(scoring_train_fit(d.x, d.y, none, d.n, &o, &r, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "x: no rows to fit");

    static const struct {
        int what;
        const char *field;
    } opts_cases[] = {{0, "opts.l2:"},       {1, "opts.l2:"},  {2, "opts.mask:"},
                      {3, "opts.max_iter:"}, {4, "opts.tol:"}, {5, "opts.clip[contacts]:"}};
    for (size_t i = 0; i < sizeof opts_cases / sizeof opts_cases[0]; i++) {
        scoring_train_opts_init(&o);
        switch (opts_cases[i].what) {
        case 0:
            o.l2 = -1;
            break;
        case 1:
            o.l2 = NAN;
            break;
        case 2:
            o.mask = 1u << SF_COUNT;
            break;
        case 3:
            o.max_iter = 0;
            break;
        case 4:
            o.tol = 0;
            break;
        case 5:
            o.has_clip[SF_CONTACTS] = 1;
            o.clip_lo[SF_CONTACTS] = 5;
            o.clip_hi[SF_CONTACTS] = 1;
            break;
        }
        cr_assert_eq(scoring_train_fit(d.x, d.y, NULL, d.n, &o, &r, why, sizeof why), ARR_EINVAL,
                     "case %zu", i);
        cr_assert(strncmp(why, opts_cases[i].field, strlen(opts_cases[i].field)) == 0,
                  "case %zu: %s", i, why);
    }

    /* a fitted feature the template does not have: no reason codes to give it */
    scoring_train_opts_init(&o);
    r = fit_ok(&d, NULL, &o);
    scoring_model *def = default_model();
    scoring_model_spec s = *scoring_model_spec_of(def);
    s.terms[SF_CONTACTS].present = 0;
    scoring_model *tmpl = NULL;
    cr_assert_eq(scoring_model_build(&s, &tmpl, why, sizeof why), ARR_OK, "%s", why);
    scoring_train_meta meta = {.model_id = "x", .trained_at = "2026-11-28"};
    scoring_model *m = NULL;
    cr_assert_eq(scoring_train_to_model(&r, tmpl, &meta, &m, why, sizeof why), ARR_EINVAL);
    cr_assert(strncmp(why, "features[contacts]:", 19) == 0, "%s", why);
    meta.trained_at = "yesterday";
    cr_assert_eq(scoring_train_to_model(&r, def, &meta, &m, why, sizeof why), ARR_EINVAL);
    cr_assert(strncmp(why, "trained_at:", 11) == 0, "%s", why);
    scoring_model_free(tmpl);
    scoring_model_free(def);
    free(ones);
    free(none);
    free_data(&d);
}

/* ------------------------------------------------------------------ AUC */

static double auc_of(const double *p, const uint8_t *y, size_t n)
{
    double a = -1;
    char why[128] = "";
    cr_assert_eq(scoring_train_auc(p, y, n, &a, why, sizeof why), ARR_OK, "%s", why);
    return a;
}

Test(scoring_train_metrics, auc)
{
    static const double p[] = {0.1, 0.2, 0.3, 0.7, 0.8, 0.9};
    static const uint8_t sep[] = {0, 0, 0, 1, 1, 1}, rev[] = {1, 1, 1, 0, 0, 0};
    cr_assert_float_eq(auc_of(p, sep, 6), 1.0, 1e-15);
    cr_assert_float_eq(auc_of(p, rev, 6), 0.0, 1e-15);
    static const double tied[] = {0.4, 0.4, 0.4, 0.4, 0.4, 0.4};
    cr_assert_float_eq(auc_of(tied, sep, 6), 0.5, 1e-15);
    /* positives 0.35, 0.8 against negatives 0.1, 0.4: 3 of 4 pairs in order */
    static const double q[] = {0.1, 0.4, 0.35, 0.8};
    static const uint8_t qy[] = {0, 0, 1, 1};
    cr_assert_float_eq(auc_of(q, qy, 4), 0.75, 1e-15);
    /* a tie across classes counts half: 0.5 vs 0.2 (1), vs 0.5 (1/2), 0.9 vs both (2) */
    static const double t[] = {0.5, 0.2, 0.9, 0.5};
    static const uint8_t ty[] = {1, 0, 1, 0};
    cr_assert_float_eq(auc_of(t, ty, 4), 3.5 / 4, 1e-15);

    double a;
    char why[128] = "";
    static const uint8_t one_class[] = {1, 1, 1, 1, 1, 1};
    cr_assert_eq(scoring_train_auc(p, one_class, 6, &a, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "y: both classes are needed");
    static const double out_of_range[] = {0.1, 1.5};
    static const uint8_t two[] = {0, 1};
    cr_assert_eq(scoring_train_auc(out_of_range, two, 2, &a, why, sizeof why), ARR_EINVAL);
    cr_assert(strncmp(why, "p[1]:", 5) == 0, "%s", why);
}

Test(scoring_train_metrics, auc_of_a_million_rows, .timeout = 60)
{
    size_t n = 1000000;
    double *p = malloc(sizeof(double) * n);
    uint8_t *y = malloc(n);
    uint64_t seed = 8;
    for (size_t i = 0; i < n; i++) {
        p[i] = floor(uniform(&seed) * 1000) / 1000; /* many ties */
        y[i] = uniform(&seed) < 0.3;
    }
    double a = auc_of(p, y, n); /* noise: AUC 0.5 with a standard error of about 0.0006 */
    cr_assert(fabs(a - 0.5) < 0.005, "%f", a);
    for (size_t i = 0; i < n; i++) /* informative: p is the label's probability */
        y[i] = uniform(&seed) < p[i];
    /* p ~ U(0,1), y ~ B(p): positives have density 2p, negatives 2(1 - p), so
     * AUC = P(p+ > p-) = 4 * int_0^1 x (x - x^2/2) dx = 4 (1/3 - 1/8) = 5/6 */
    a = auc_of(p, y, n);
    cr_assert(fabs(a - 5.0 / 6) < 0.005, "%f", a);
    free(p);
    free(y);
}

/* ------------------------------------------------------------------ log loss, calibration */

Test(scoring_train_metrics, log_loss)
{
    static const double p[] = {0.8, 0.3};
    static const uint8_t y[] = {1, 0};
    double l;
    char why[128] = "";
    cr_assert_eq(scoring_train_log_loss(p, y, 2, &l, why, sizeof why), ARR_OK);
    cr_assert_float_eq(l, -(log(0.8) + log(0.7)) / 2, 1e-15);
    static const double half[] = {0.5, 0.5, 0.5};
    static const uint8_t hy[] = {1, 0, 1};
    cr_assert_eq(scoring_train_log_loss(half, hy, 3, &l, why, sizeof why), ARR_OK);
    cr_assert_float_eq(l, log(2), 1e-15);
    /* certain and wrong: clamped to -log(1e-15); certain and right: about 1e-15 */
    static const double sure[] = {0, 1};
    static const uint8_t wrong[] = {1, 0}, right[] = {0, 1};
    cr_assert_eq(scoring_train_log_loss(sure, wrong, 2, &l, why, sizeof why), ARR_OK);
    cr_assert_float_eq(l, -log(1e-15), 1e-9);
    cr_assert_eq(scoring_train_log_loss(sure, right, 2, &l, why, sizeof why), ARR_OK);
    cr_assert(l >= 0 && l < 1e-14, "%g", l);
    cr_assert_eq(scoring_train_log_loss(sure, right, 0, &l, why, sizeof why), ARR_EINVAL);
    static const double nan_p[] = {NAN};
    cr_assert_eq(scoring_train_log_loss(nan_p, right, 1, &l, why, sizeof why), ARR_EINVAL);
    cr_assert(strncmp(why, "p[0]:", 5) == 0, "%s", why);
}

Test(scoring_train_metrics, calibration)
{
    static const double p[] = {0.0, 0.05, 0.1, 0.15, 0.95, 1.0, 0.55, 0.55, 0.55, 0.55};
    static const uint8_t y[] = {0, 0, 1, 0, 1, 1, 1, 0, 1, 1};
    scoring_model_calib_bin bins[SCORING_MODEL_CALIB_BINS];
    char why[128] = "";
    cr_assert_eq(scoring_train_calibration(p, y, 10, bins, why, sizeof why), ARR_OK, "%s", why);
    int64_t total = 0;
    for (int b = 0; b < SCORING_MODEL_CALIB_BINS; b++)
        total += bins[b].count;
    cr_assert_eq(total, 10);
    cr_assert_eq(bins[0].count, 2); /* 0.0, 0.05 */
    cr_assert_float_eq(bins[0].predicted, 0.025, 1e-15);
    cr_assert_eq(bins[0].observed, 0);
    cr_assert_eq(bins[1].count, 2); /* 0.1 opens bin 1 */
    cr_assert_float_eq(bins[1].observed, 0.5, 1e-15);
    cr_assert_eq(bins[5].count, 4);
    cr_assert_float_eq(bins[5].predicted, 0.55, 1e-15);
    cr_assert_float_eq(bins[5].observed, 0.75, 1e-15);
    cr_assert_eq(bins[9].count, 2); /* 0.95 and 1.0: the last bin is closed */
    cr_assert_eq(bins[9].observed, 1);
    cr_assert_eq(bins[3].count, 0);
    cr_assert_eq(bins[3].predicted, 0);

    /* the sum holds for any input */
    size_t n = 100000;
    double *q = malloc(sizeof(double) * n);
    uint8_t *z = malloc(n);
    uint64_t seed = 10;
    for (size_t i = 0; i < n; i++) {
        q[i] = uniform(&seed);
        z[i] = uniform(&seed) < q[i];
    }
    cr_assert_eq(scoring_train_calibration(q, z, n, bins, why, sizeof why), ARR_OK);
    total = 0;
    for (int b = 0; b < SCORING_MODEL_CALIB_BINS; b++) {
        total += bins[b].count;
        cr_assert(fabs(bins[b].observed - bins[b].predicted) < 0.02, "bin %d", b);
    }
    cr_assert_eq(total, (int64_t)n);
    cr_assert_eq(scoring_train_calibration(q, z, 0, bins, why, sizeof why), ARR_OK);
    free(q);
    free(z);
}

/* ------------------------------------------------------------------ split */

Test(scoring_train_split, fnv1a_reference_values)
{
    /* from the FNV reference test vectors */
    cr_assert_eq(scoring_train_hash(""), 0xcbf29ce484222325ULL);
    cr_assert_eq(scoring_train_hash("a"), 0xaf63dc4c8601ec8cULL);
    cr_assert_eq(scoring_train_hash("foobar"), 0x85944171f73967e8ULL);
}

Test(scoring_train_split, stable_nested_and_close_to_the_share)
{
    size_t n = 100000, held = 0, held30 = 0;
    char key[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "tenant-%zu/ACC-%07zu", i % 7, i);
        int h = scoring_train_is_holdout(key, 0.2);
        cr_assert_eq(h, scoring_train_is_holdout(key, 0.2), "not stable");
        int h30 = scoring_train_is_holdout(key, 0.3);
        cr_assert(!h || h30, "a key held out at 20%% must be held out at 30%%");
        held += (size_t)h;
        held30 += (size_t)h30;
        cr_assert_eq(scoring_train_is_holdout(key, 0), 0);
        cr_assert_eq(scoring_train_is_holdout(key, 1), 1);
    }
    /* binomial standard error sqrt(0.16 / 1e5) = 0.0013: 0.006 is more than 4 of them */
    double share = (double)held / (double)n, share30 = (double)held30 / (double)n;
    cr_assert(fabs(share - 0.2) < 0.006, "%f", share);
    cr_assert(fabs(share30 - 0.3) < 0.006, "%f", share30);
    /* Known keys keep their side forever: pinned, so a change of hash (which would move
     * accounts between training and holdout across retrainings) is noticed. */
    static const char *const held_keys[] = {"tenant-a/ACC-14", "tenant-a/ACC-18", "tenant-a/ACC-22",
                                            "tenant-a/ACC-31"};
    for (int i = 0; i < 4; i++)
        cr_assert(scoring_train_is_holdout(held_keys[i], 0.2), "%s", held_keys[i]);
    for (int i = 1; i <= 13; i++) {
        snprintf(key, sizeof key, "tenant-a/ACC-%d", i);
        cr_assert(!scoring_train_is_holdout(key, 0.2), "%s", key);
    }
}
