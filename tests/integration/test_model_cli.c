/* Integration tests of `arrears model train` and `arrears model evaluate` against the real
 * PostgreSQL of the stack (ARR_PG_CONNINFO), running the built binary (ARR_BIN_DIR).
 *
 * Each test's init writes a synthetic score history into scoring.scores for a tenant of its
 * own ("test-model-<random>"): ROWS scores of ACCOUNTS accounts over DAYS days, features
 * drawn from a seeded PRNG and outcomes from a known logistic model in which long days past
 * due and large balances make a payment MORE likely, the opposite of the shipped default
 * scorecard, so the default ranks this tenant worse than chance and a trained model must beat
 * it. The fini deletes the tenant's rows and the temporary files, also when an assertion
 * failed.
 *
 * This target links arr_common only (tests/CMakeLists.txt adds a service's modules to
 * test_<service>_*.c), so a written model is checked through its JSON and by loading it in
 * `arrears model evaluate`, which calls scoring_model_load. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arrears/clock.h"
#include "arrears/pg.h"
#include "arrears/uuid.h"
#include "cli_env.h"
/* The feature order only (SF_*); nothing of arr_scoring is called. */
#include "../../services/scoring/features.h"

#define ROWS 20000
#define ACCOUNTS 5000
#define DAYS 90
#define HORIZON_DAYS 30
#define DAY_MS 86400000LL
#define SEED 20261127u

static char tenant[64];
static char since[16];        /* first day of the history, YYYY-MM-DD */
static char tmpdir[128];      /* mkdtemp; removed by the fini */
static arr_pg *admin;         /* writes and deletes the tenant's rows */
static long expected_matured; /* scored at least HORIZON_DAYS before the tenant's latest */
static long expected_paid;    /* of those, paid within HORIZON_DAYS */

/* ------------------------------------------------------------------ helpers */

static void make_token(char *out, size_t len)
{
    unsigned char raw[32];
    FILE *f = fopen("/dev/urandom", "rb");
    cr_assert_not_null(f, "cannot open /dev/urandom");
    cr_assert_eq(fread(raw, 1, sizeof(raw), f), sizeof(raw));
    fclose(f);
    size_t i = 0;
    for (; i + 1 < len && i < sizeof(raw); i++)
        out[i] = (char)('a' + raw[i] % 26);
    out[i] = '\0';
}

/* splitmix64: the history is the same on every run and machine. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(void) /* [0, 1) */
{
    return (double)(rng_next() >> 11) * 0x1.0p-53;
}

/* AUC and log loss of the "  new" or "  current" row of train's comparison table. */
static void table_row(const char *out, const char *which, double *auc, double *ll)
{
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "  %s ", which);
    const char *s = line_after(out, prefix);
    cr_assert_not_null(s, "no '%s' row in:\n%s", which, out);
    char id[128];
    cr_assert_eq(sscanf(s, "%127s %lf %lf", id, auc, ll), 3, "bad '%s' row: %s", which, s);
}

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", tmpdir, name);
}

static json_t *load_json(const char *path)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    cr_assert_not_null(doc, "%s: %s (line %d)", path, jerr.text, jerr.line);
    return doc;
}

static json_t *feature_entry(json_t *doc, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "features"), i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            return f;
    }
    cr_assert_fail("no feature %s in the model", name);
    return NULL;
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ------------------------------------------------------------------ the history */

/* One score: its features, its time and its outcome, from the known model. */
static void draw(double x[SF_COUNT], int *paid_in_time, int *late_kind)
{
    memset(x, 0, sizeof(double) * SF_COUNT);
    x[SF_BALANCE_LOG] = log1p(20 + 1980 * uniform());
    x[SF_DAYS_PAST_DUE] = floor(180 * uniform());
    x[SF_OPEN_DEBTS] = 1;
    double svc = uniform();
    x[SF_SVC_TELECOM] = svc < 0.35;
    x[SF_SVC_WATER] = svc >= 0.35 && svc < 0.6;
    x[SF_SVC_MEDICAL] = svc >= 0.6 && svc < 0.8;
    x[SF_TENURE_MONTHS] = floor(120 * uniform());
    x[SF_PRIOR_DELINQ] = floor(4 * uniform());
    x[SF_PAYMENTS_12M] = floor(13 * uniform());
    x[SF_AUTOPAY] = uniform() < 0.15;
    x[SF_EMAIL_OK] = uniform() < 0.6;
    x[SF_SMS_OK] = uniform() < 0.5;
    x[SF_CONTACTS] = floor(10 * uniform());
    x[SF_PROMISES_KEPT] = floor(3 * uniform());
    x[SF_PROMISES_BROKEN] = floor(3 * uniform());
    x[SF_PARTIAL_PAYMENTS] = floor(3 * uniform());
    /* The known model: days past due and balance with the signs the default does not expect. */
    double z = -0.3 + 1.5 * (x[SF_DAYS_PAST_DUE] - 90) / 52 + 1.0 * (x[SF_BALANCE_LOG] - 5.6) +
               0.5 * (x[SF_PAYMENTS_12M] - 6) / 3.7;
    *paid_in_time = uniform() < 1 / (1 + exp(-z));
    *late_kind = (int)(3 * uniform()); /* unpaid in time: 0 never, 1 on the boundary, 2 later */
}

static void insert_history(void)
{
    char err[512] = "";
    arr_err e = arr_pg_copy_begin(
        admin,
        "COPY scoring.scores (score_event_id, cause_event_id, tenant, account_id, scored_at, "
        "cause_type, arm, model_id, strategy_table_version, probability, expected_recovery_cents, "
        "segment, strategy, features, message, paid_at) FROM STDIN",
        err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "copy: %s (%s)", arr_strerror(e), err);
    arr_clock clock;
    arr_clock_init_real(&clock);
    int64_t today = arr_clock_now_ms(&clock) / DAY_MS * DAY_MS;
    int64_t base = today - (DAYS + HORIZON_DAYS + 10) * DAY_MS; /* ends 40 days ago */
    char iso[ARR_TIME_STRLEN];
    arr_time_format(base, iso, sizeof(iso));
    snprintf(since, sizeof(since), "%.10s", iso);
    static int64_t at[ROWS];
    static unsigned char paid[ROWS];
    int64_t latest = 0;
    rng_state = SEED;
    for (int i = 0; i < ROWS; i++) {
        double x[SF_COUNT];
        int in_time, late;
        draw(x, &in_time, &late);
        at[i] = base + (int64_t)(uniform() * (double)(DAYS * DAY_MS));
        if (i == ROWS - 1)
            at[i] = base + DAYS * DAY_MS; /* the latest, exactly */
        latest = at[i] > latest ? at[i] : latest;
        paid[i] = (unsigned char)in_time;
        char sid[ARR_UUID_STRLEN], cid[ARR_UUID_STRLEN], t[ARR_TIME_STRLEN],
            pa[ARR_TIME_STRLEN] = "\\N", feats[SF_COUNT * 26 + 4], line[2048];
        cr_assert_eq(arr_uuid_v4(sid), ARR_OK);
        cr_assert_eq(arr_uuid_v4(cid), ARR_OK);
        arr_time_format(at[i], t, sizeof(t));
        if (in_time)
            arr_time_format(at[i] + (int64_t)(uniform() * (double)(HORIZON_DAYS * DAY_MS)), pa,
                            sizeof(pa));
        else if (late == 1) /* paid_at = scored_at + horizon: not within it */
            arr_time_format(at[i] + HORIZON_DAYS * DAY_MS, pa, sizeof(pa));
        else if (late == 2)
            arr_time_format(at[i] + HORIZON_DAYS * DAY_MS + 1 + (int64_t)(uniform() * 20 * DAY_MS),
                            pa, sizeof(pa));
        size_t k = 0;
        for (int f = 0; f < SF_COUNT; f++)
            k += (size_t)snprintf(feats + k, sizeof(feats) - k, "%c%.17g", f ? ',' : '{', x[f]);
        snprintf(feats + k, sizeof(feats) - k, "}");
        int n = snprintf(line, sizeof(line),
                         "%s\t%s\t%s\tACC-%05d\t%s\taccount.placed\tchampion\tscorecard-default-1\t"
                         "test\t0.5\t0\ttest\ttest\t%s\t{}\t%s\n",
                         sid, cid, tenant, i % ACCOUNTS, t, feats, pa);
        e = arr_pg_copy_put(admin, line, (size_t)n, err, sizeof(err));
        cr_assert_eq(e, ARR_OK, "copy row %d: %s (%s)", i, arr_strerror(e), err);
    }
    long rows = 0;
    e = arr_pg_copy_end(admin, &rows, err, sizeof(err));
    cr_assert_eq(e, ARR_OK, "copy end: %s (%s)", arr_strerror(e), err);
    cr_assert_eq(rows, ROWS);
    expected_matured = expected_paid = 0;
    for (int i = 0; i < ROWS; i++) {
        if (at[i] + HORIZON_DAYS * DAY_MS <= latest) {
            expected_matured++;
            expected_paid += paid[i];
        }
    }
}

static void setup(void)
{
    char tok[11];
    make_token(tok, sizeof(tok));
    snprintf(tenant, sizeof(tenant), "test-model-%s", tok);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/arrears-test-model-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp");
    admin = db_connect_or_fail();
    cr_assert_eq(db_long(admin,
                         "SELECT count(*) FROM pg_tables WHERE schemaname = 'scoring' AND "
                         "tablename = 'scores'",
                         0, NULL),
                 1, "scoring.scores is missing: run `arrears db migrate` first");
    insert_history();
}

static void teardown(void)
{
    if (admin) {
        const char *params[1] = {tenant};
        db_exec_unchecked(admin, "DELETE FROM scoring.scores WHERE tenant = $1", 1, params);
        arr_pg_free(admin);
        admin = NULL;
    }
    if (tmpdir[0]) {
        static const char *names[] = {"good.json", "bad.json", "none.json"};
        char p[256];
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            path_of(p, sizeof(p), names[i]);
            remove(p);
        }
        rmdir(tmpdir);
        tmpdir[0] = '\0';
    }
}

TestSuite(model_cli, .init = setup, .fini = teardown, .timeout = 180);

/* ------------------------------------------------------------------ tests */

/* Trains good.json on the tenant's history; returns train's output in out. */
static void train_good(char *out, size_t outlen, char *good, size_t glen)
{
    path_of(good, glen, "good.json");
    /* --current explicitly: $ARR_SCORING_MODEL, the default, may name another model. */
    int rc = run_cli(out, outlen,
                     "model train --since %s --tenant %s --out %s --current "
                     "%s/deploy/models/scorecard-default-1.json",
                     since, tenant, good, ARR_SOURCE_DIR);
    cr_assert_eq(rc, 0, "train exited %d:\n%s", rc, out);
}

Test(model_cli, train_writes_a_model_better_than_the_default)
{
    static char out[16384];
    char good[256];
    train_good(out, sizeof(out), good, sizeof(good));

    /* Only matured rows, labelled by the horizon. */
    const char *s = line_after(out, "model train: rows ");
    cr_assert_not_null(s, "no rows line in:\n%s", out);
    long matured, paid, train_rows, held;
    cr_assert_eq(sscanf(s, "%ld matured (%ld paid within the horizon): train %ld, held-out %ld",
                        &matured, &paid, &train_rows, &held),
                 4, "bad rows line: %s", s);
    cr_expect_eq(matured, expected_matured, "matured rows: %ld, expected %ld", matured,
                 expected_matured);
    cr_expect_eq(paid, expected_paid, "paid rows: %ld, expected %ld", paid, expected_paid);
    cr_expect_eq(train_rows + held, matured);
    cr_expect(held > matured / 10 && held < matured * 3 / 10, "held-out %ld of %ld", held, matured);

    double new_auc, new_ll, cur_auc, cur_ll;
    table_row(out, "new", &new_auc, &new_ll);
    table_row(out, "current", &cur_auc, &cur_ll);
    cr_expect_gt(new_auc, 0.6, "new model's held-out AUC %.4f", new_auc);
    cr_expect_gt(new_auc, cur_auc + 0.2, "new AUC %.4f vs the default's %.4f", new_auc, cur_auc);
    cr_expect_lt(new_ll, cur_ll, "new log loss %.4f vs the default's %.4f", new_ll, cur_ll);
    cr_expect_not_null(strstr(out, "calibration of the new model"), "no calibration table");

    /* The file: what was printed, with the metadata of the run. */
    json_t *doc = load_json(good);
    arr_clock clock;
    arr_clock_init_real(&clock);
    char today[ARR_TIME_STRLEN], id[64];
    arr_time_format(arr_clock_now_ms(&clock), today, sizeof(today));
    today[10] = '\0';
    snprintf(id, sizeof(id), "scorecard-%.4s%.2s%.2s", today, today + 5, today + 8);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "format")), "arrears-scorecard-1");
    cr_expect_str_eq(json_string_value(json_object_get(doc, "model_id")), id);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "trained_at")), today);
    cr_expect_eq(json_integer_value(json_object_get(doc, "horizon_days")), HORIZON_DAYS);
    json_t *tr = json_object_get(doc, "training");
    cr_expect_eq(json_integer_value(json_object_get(tr, "rows")), train_rows);
    cr_expect_str_eq(json_string_value(json_object_get(tr, "since")), since);
    cr_expect_float_eq(json_number_value(json_object_get(tr, "l2")), 1.0, 1e-12);
    json_t *m = json_object_get(doc, "metrics");
    double auc = json_number_value(json_object_get(m, "auc"));
    cr_expect_gt(auc, 0.6, "stored AUC %.6f", auc);
    cr_expect_float_eq(auc, new_auc, 6e-5, "stored AUC %.6f, printed %.4f", auc, new_auc);
    cr_expect_float_eq(json_number_value(json_object_get(m, "log_loss")), new_ll, 6e-5);
    cr_expect_eq(json_integer_value(json_object_get(m, "holdout_rows")), held);
    json_t *cal = json_object_get(m, "calibration");
    cr_assert_eq(json_array_size(cal), 10);
    long sum = 0;
    size_t i;
    json_t *bin;
    json_array_foreach(cal, i, bin) sum += (long)json_integer_value(json_object_get(bin, "count"));
    cr_expect_eq(sum, held, "calibration counts sum to %ld, held-out rows %ld", sum, held);

    /* Learned the known model's signs; reason codes follow the sign (template's, swapped). */
    json_t *dpd = feature_entry(doc, "days_past_due");
    cr_expect_gt(json_number_value(json_object_get(dpd, "coef")), 0.5);
    cr_expect_str_eq(json_string_value(json_object_get(dpd, "reason_up")), "DPD_LONG");
    cr_expect_gt(json_number_value(json_object_get(feature_entry(doc, "balance_log"), "coef")),
                 0.3);
    json_decref(doc);

    /* The file loads (scoring_model_load in evaluate) and scores as stored. */
    static char ev[8192];
    int rc =
        run_cli(ev, sizeof(ev), "model evaluate %s --since %s --tenant %s", good, since, tenant);
    cr_assert_eq(rc, 0, "evaluate of the trained file exited %d:\n%s", rc, ev);
}

Test(model_cli, a_worse_model_is_refused_unless_forced)
{
    static char out[16384];
    char good[256], bad[256];
    train_good(out, sizeof(out), good, sizeof(good));
    path_of(bad, sizeof(bad), "bad.json");

    /* l2 = 1e9 shrinks every coefficient to ~0: predictions collapse to the base rate. */
    int rc = run_cli(out, sizeof(out),
                     "model train --since %s --tenant %s --current %s --l2 1e9 --out %s", since,
                     tenant, good, bad);
    cr_assert_eq(rc, 3, "train with l2 1e9 exited %d:\n%s", rc, out);
    cr_expect_not_null(strstr(out, "refused"), "no refusal message:\n%s", out);
    cr_expect_not(exists(bad), "a refused model was written");
    double new_auc, new_ll, cur_auc, cur_ll;
    table_row(out, "new", &new_auc, &new_ll);
    table_row(out, "current", &cur_auc, &cur_ll);
    cr_expect_gt(new_ll, cur_ll);

    rc = run_cli(out, sizeof(out),
                 "model train --since %s --tenant %s --current %s --l2 1e9 --out %s --force "
                 "--model-id scorecard-shrunk",
                 since, tenant, good, bad);
    cr_assert_eq(rc, 0, "train --force exited %d:\n%s", rc, out);
    cr_assert(exists(bad), "--force wrote nothing");
    json_t *doc = load_json(bad);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "model_id")), "scorecard-shrunk");
    cr_expect_float_eq(json_number_value(json_object_get(json_object_get(doc, "training"), "l2")),
                       1e9, 1);
    double coef = json_number_value(json_object_get(feature_entry(doc, "days_past_due"), "coef"));
    cr_expect_lt(fabs(coef), 1e-3, "days_past_due coef %g under l2 1e9", coef);
    json_decref(doc);
}

Test(model_cli, evaluate_prints_auc_and_calibration)
{
    static char out[8192];
    int rc = run_cli(out, sizeof(out),
                     "model evaluate %s/deploy/models/scorecard-default-1.json "
                     "--since %s --tenant %s",
                     ARR_SOURCE_DIR, since, tenant);
    cr_assert_eq(rc, 0, "evaluate exited %d:\n%s", rc, out);
    const char *s = line_after(out, "model evaluate: rows ");
    cr_assert_not_null(s, "no rows line:\n%s", out);
    long rows, paid;
    cr_assert_eq(sscanf(s, "%ld matured (%ld paid within the horizon)", &rows, &paid), 2, "%s", s);
    cr_expect_eq(rows, expected_matured);
    cr_expect_eq(paid, expected_paid);
    s = line_after(out, "model evaluate: AUC ");
    cr_assert_not_null(s, "no AUC line:\n%s", out);
    double auc, ll;
    cr_assert_eq(sscanf(s, "%lf, log loss %lf", &auc, &ll), 2, "%s", s);
    cr_expect_lt(auc, 0.5, "the default ranks this history at AUC %.4f", auc);
    cr_expect_not_null(strstr(out, "calibration"));

    /* A horizon the default does not have: more rows labelled paid, fewer matured. */
    rc = run_cli(out, sizeof(out),
                 "model evaluate %s/deploy/models/scorecard-default-1.json --tenant %s "
                 "--horizon-days 60",
                 ARR_SOURCE_DIR, tenant);
    cr_assert_eq(rc, 0, "evaluate --horizon-days 60 exited %d:\n%s", rc, out);
    s = line_after(out, "model evaluate: rows ");
    cr_assert_not_null(s);
    long rows60, paid60;
    cr_assert_eq(sscanf(s, "%ld matured (%ld paid within the horizon)", &rows60, &paid60), 2);
    cr_expect_lt(rows60, rows);
}

Test(model_cli, too_little_history_and_bad_usage_are_refused)
{
    static char out[8192];
    char none[256];
    path_of(none, sizeof(none), "none.json");
    arr_clock clock;
    arr_clock_init_real(&clock);
    char today[ARR_TIME_STRLEN];
    arr_time_format(arr_clock_now_ms(&clock), today, sizeof(today));
    today[10] = '\0';
    /* Nothing has matured since today. */
    int rc = run_cli(out, sizeof(out), "model train --since %s --tenant %s --out %s", today, tenant,
                     none);
    cr_expect_eq(rc, 1, "train on no rows exited %d:\n%s", rc, out);
    cr_expect_not_null(strstr(out, "only 0 matured rows"), "%s", out);
    cr_expect_not(exists(none));
    /* More rows required than there are. */
    rc = run_cli(out, sizeof(out), "model train --since %s --tenant %s --out %s --min-rows %d",
                 since, tenant, none, ROWS + 1);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect_not(exists(none));
    /* A tenant without history. */
    rc = run_cli(out, sizeof(out), "model train --since %s --tenant %s-nobody --out %s", since,
                 tenant, none);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect_not_null(strstr(out, "no scores"), "%s", out);
    /* Usage errors name the flag. */
    rc = run_cli(out, sizeof(out), "model train --since 2026-02-30 --out %s", none);
    cr_expect_eq(rc, 2);
    cr_expect_not_null(strstr(out, "--since"), "%s", out);
    rc = run_cli(out, sizeof(out), "model train --since %s --out %s --holdout 1.5", since, none);
    cr_expect_eq(rc, 2);
    cr_expect_not_null(strstr(out, "--holdout"), "%s", out);
    rc = run_cli(out, sizeof(out), "model evaluate");
    cr_expect_eq(rc, 2);
    rc = run_cli(out, sizeof(out), "model evaluate %s/no-such-model.json --tenant %s", tmpdir,
                 tenant);
    cr_expect_eq(rc, 1);
    cr_expect_not_null(strstr(out, "no such file"), "%s", out);
    cr_expect_not(exists(none));
}
