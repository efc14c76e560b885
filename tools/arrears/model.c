/* arrears model: trains the scorecard on the score history and measures models.
 *
 * The history is scoring.scores: one row per score with the model's input vector (features,
 * in the order of scoring_feature) and paid_at, the first payment applied after the score.
 * A row is used once its outcome has matured: scored at least the horizon before the latest
 * score in scope (the tenant's with --tenant, else the table's), so a score whose horizon
 * has not passed yet is never counted as unpaid. Its label is 1 when it was paid within the
 * horizon. Rows are streamed through a server-side cursor in one REPEATABLE READ, READ ONLY
 * transaction, so the latest score and the rows come from the same snapshot; only the
 * feature matrix is kept in memory.
 *
 * train splits the rows by account (scoring_train_is_holdout on "tenant/account_id", so one
 * account never lands on both sides), fits on the training side with the current model as
 * the template (features, clips, reason codes), compares the new and the current model on
 * the held-out side, and writes the new model only when it is no worse on both AUC and log
 * loss (exit 3 otherwise, unless --force). evaluate measures one model file on every matured
 * row. Exit codes: 0 done, 1 failure, 2 usage error, 3 refused by the quality gate. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "arrears/clock.h"
#include "arrears/pg.h"
#include "cli.h"
#include "model.h"
#include "train.h"

#define MODEL_EXIT_REFUSED 3
#define MODEL_DEFAULT_CURRENT ARR_SOURCE_DIR "/deploy/models/scorecard-default-1.json"
#define MODEL_DEFAULT_HOLDOUT 0.2
#define MODEL_DEFAULT_MIN_ROWS 1000
#define MODEL_FETCH_ROWS 10000 /* rows per FETCH: the statement is built from it */
#define MODEL_STR_(x) #x
#define MODEL_STR(x) MODEL_STR_(x)
#define MODEL_FETCH_ROWS_STR MODEL_STR(MODEL_FETCH_ROWS)

typedef struct model_args {
    int train;            /* 1: train, 0: evaluate */
    const char *file;     /* evaluate: the model to measure */
    const char *since;    /* YYYY-MM-DD; required by train, NULL: all of the history */
    const char *out;      /* train: where the new model goes */
    const char *current;  /* train: the template and baseline; NULL: ARR_SCORING_MODEL */
    const char *tenant;   /* NULL: every tenant */
    const char *model_id; /* train: NULL: scorecard-YYYYMMDD */
    int horizon_days;     /* 0: the model's */
    int has_l2;
    double l2;
    double holdout;
    long min_rows;
    int force;
} model_args;

/* The matured rows, in the cursor's order. Arrays are owned (rows_free). */
typedef struct model_rows {
    double *x;        /* n rows of SF_COUNT raw values, row-major */
    uint8_t *y;       /* labels */
    uint8_t *holdout; /* 1: the row's account is held out */
    size_t n, cap;
    int64_t skipped;       /* rows whose features are not SF_COUNT finite numbers */
    char latest[64];       /* latest scored_at in scope, UTC; "" when there is none */
    char cutoff[64];       /* latest - horizon: rows scored after it have not matured */
    int64_t positives;     /* labels 1 among all rows */
    int64_t held;          /* rows held out */
    int64_t held_positive; /* labels 1 among them */
} model_rows;

/* Predictions of one model on a subset of the rows, and its metrics there. */
typedef struct model_measure {
    scoring_model_metrics m;
    size_t rows;
    double positive_rate;
} model_measure;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: arrears model train --since YYYY-MM-DD --out FILE [--current FILE]\n"
            "                           [--horizon-days N] [--l2 X] [--holdout SHARE]\n"
            "                           [--min-rows N] [--tenant T] [--model-id ID] [--force]\n"
            "       arrears model evaluate FILE [--since YYYY-MM-DD] [--horizon-days N]\n"
            "                           [--tenant T]\n\n"
            "Both read the score history (scoring.scores in $ARR_PG_CONNINFO): the scores since\n"
            "the date whose outcome has matured, i.e. scored at least the horizon before the\n"
            "latest score (the tenant's with --tenant). Label 1: paid within the horizon.\n\n"
            "train       fits a new scorecard on the accounts outside the held-out share,\n"
            "            compares it with the current model on the held-out accounts and\n"
            "            writes it only when its AUC is no lower and its log loss no higher\n"
            "  --since         first day (UTC) of the history to learn from\n"
            "  --out           the model file to write (replaced atomically)\n"
            "  --current       the model in use: template (features, clips, reason codes) and\n"
            "                  baseline (default $ARR_SCORING_MODEL, as the scoring service\n"
            "                  reads it, else deploy/models/scorecard-default-1.json)\n"
            "  --horizon-days  days within which a payment counts (default: the model's)\n"
            "  --l2            L2 penalty (default: the current model's, else 1.0)\n"
            "  --holdout       share of accounts held out for the comparison (default 0.2)\n"
            "  --min-rows      fewest matured rows to train on (default 1000)\n"
            "  --tenant        learn from one tenant's history only\n"
            "  --model-id      the new model's id (default scorecard-YYYYMMDD, today UTC)\n"
            "  --force         write the new model even when it does worse\n"
            "evaluate    the same metrics and calibration table for the model FILE on every\n"
            "            matured row (no split)\n\n"
            "Exit codes: 0 done, 1 failure (database, files, too few rows, one class only),\n"
            "2 usage error, 3 refused: the new model does worse than the current one and\n"
            "nothing was written.\n");
}

/* ------------------------------------------------------------------ arguments */

/* A finite number accepted by ok(); else 0 with "FLAG: 'V' is not RANGE" on stderr. */
static int parse_double(const char *flag, const char *v, int (*ok)(double), const char *range,
                        double *out)
{
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || !ok(d)) {
        fprintf(stderr, "arrears model: %s: '%s' is not %s\n", flag, v, range);
        return 0;
    }
    *out = d;
    return 1;
}

static int l2_ok(double d)
{
    return d >= 0;
}

static int share_ok(double d)
{
    return d > 0 && d < 1;
}

static int parse_long(const char *flag, const char *v, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long l = strtol(v, &end, 10);
    if (errno || end == v || *end || l < lo || l > hi) {
        fprintf(stderr, "arrears model: %s: '%s' is not an integer in [%ld, %ld]\n", flag, v, lo,
                hi);
        return 0;
    }
    *out = l;
    return 1;
}

/* 1 when argv (after train/evaluate) is valid; else 0, with the reason on stderr. */
static int parse_args(int train, int argc, char **argv, model_args *a)
{
    memset(a, 0, sizeof(*a));
    a->train = train;
    a->holdout = MODEL_DEFAULT_HOLDOUT;
    a->min_rows = MODEL_DEFAULT_MIN_ROWS;
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long l;
        if (strcmp(f, "--force") == 0 && train) {
            a->force = 1;
            continue;
        }
        if (f[0] != '-') {
            if (train || a->file) {
                fprintf(stderr, "arrears model: unexpected argument '%s'\n", f);
                return 0;
            }
            a->file = f;
            continue;
        }
        int known = strcmp(f, "--since") == 0 || strcmp(f, "--horizon-days") == 0 ||
                    strcmp(f, "--tenant") == 0;
        int train_only = strcmp(f, "--out") == 0 || strcmp(f, "--current") == 0 ||
                         strcmp(f, "--l2") == 0 || strcmp(f, "--holdout") == 0 ||
                         strcmp(f, "--min-rows") == 0 || strcmp(f, "--model-id") == 0;
        if (!known && !(train && train_only)) {
            fprintf(stderr, "arrears model: unknown option '%s'\n", f);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "arrears model: %s: a value is required\n", f);
            return 0;
        }
        i++;
        if (strcmp(f, "--since") == 0) {
            if (!scoring_model_date_valid(v)) {
                fprintf(stderr, "arrears model: --since: '%s' is not a date YYYY-MM-DD\n", v);
                return 0;
            }
            a->since = v;
        } else if (strcmp(f, "--horizon-days") == 0) {
            if (!parse_long(f, v, 1, 365, &l))
                return 0;
            a->horizon_days = (int)l;
        } else if (strcmp(f, "--tenant") == 0) {
            if (!*v) {
                fprintf(stderr, "arrears model: --tenant: must not be empty\n");
                return 0;
            }
            a->tenant = v;
        } else if (strcmp(f, "--out") == 0) {
            a->out = v;
        } else if (strcmp(f, "--current") == 0) {
            a->current = v;
        } else if (strcmp(f, "--l2") == 0) {
            if (!parse_double(f, v, l2_ok, "a number >= 0", &a->l2))
                return 0;
            a->has_l2 = 1;
        } else if (strcmp(f, "--holdout") == 0) {
            if (!parse_double(f, v, share_ok, "a share strictly between 0 and 1", &a->holdout))
                return 0;
        } else if (strcmp(f, "--min-rows") == 0) {
            if (!parse_long(f, v, 1, 1000000000L, &a->min_rows))
                return 0;
        } else if (strcmp(f, "--model-id") == 0) {
            /* Checked as the model will be, so a bad id fails before the history is read. */
            if (!scoring_model_id_valid(v)) {
                fprintf(stderr,
                        "arrears model: --model-id: '%s' must match "
                        "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$\n",
                        v);
                return 0;
            }
            a->model_id = v;
        }
    }
    if (train && !a->since) {
        fprintf(stderr, "arrears model train: --since is required\n");
        return 0;
    }
    if (train && !a->out) {
        fprintf(stderr, "arrears model train: --out is required\n");
        return 0;
    }
    if (!train && !a->file) {
        fprintf(stderr, "arrears model evaluate: the model FILE is required\n");
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ reading the history */

static void rows_free(model_rows *r)
{
    free(r->x);
    free(r->y);
    free(r->holdout);
    memset(r, 0, sizeof(*r));
}

static arr_err rows_grow(model_rows *r)
{
    size_t cap = r->cap ? r->cap * 2 : 65536;
    if (cap > SIZE_MAX / (sizeof(double) * SF_COUNT))
        return ARR_ENOMEM;
    double *x = realloc(r->x, cap * sizeof(double) * SF_COUNT);
    if (!x)
        return ARR_ENOMEM;
    r->x = x;
    uint8_t *y = realloc(r->y, cap);
    if (!y)
        return ARR_ENOMEM;
    r->y = y;
    uint8_t *h = realloc(r->holdout, cap);
    if (!h)
        return ARR_ENOMEM;
    r->holdout = h;
    r->cap = cap;
    return ARR_OK;
}

/* Parses a float8[] in PostgreSQL's text form ("{1,2.5,-3}") into exactly SF_COUNT finite
 * values; 0 for anything else (another length, NULL elements, NaN, Infinity). */
static int parse_features(const char *s, double x[SF_COUNT])
{
    if (*s++ != '{')
        return 0;
    for (int f = 0; f < SF_COUNT; f++) {
        char *end = NULL;
        x[f] = strtod(s, &end);
        if (end == s || !isfinite(x[f]))
            return 0;
        s = end;
        if (*s != (f + 1 < SF_COUNT ? ',' : '}'))
            return 0;
        s++;
    }
    return *s == '\0';
}

static arr_err pg_fail(PGresult *res, const char *what, char *why, size_t len)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorMessage(res);
    arr_errbuf_set(why, len, "%s: %s%s%.*s", what, state ? state : "", state ? " " : "",
                   (int)strcspn(msg, "\n"), msg);
    PQclear(res);
    return ARR_EPG;
}

/* The latest score in scope and the maturity cutoff, as UTC text. */
static arr_err read_cutoff(PGconn *conn, const model_args *a, int horizon, model_rows *r, char *why,
                           size_t len)
{
    char hz[16];
    snprintf(hz, sizeof(hz), "%d", horizon);
    const char *params[2] = {hz, a->tenant};
    PGresult *res = PQexecParams(conn,
                                 "SELECT max(scored_at), max(scored_at) - make_interval(days => "
                                 "$1::int) FROM scoring.scores WHERE ($2::text IS NULL OR tenant "
                                 "= $2::text)",
                                 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return pg_fail(res, "reading the latest score of scoring.scores", why, len);
    r->latest[0] = r->cutoff[0] = '\0';
    if (!PQgetisnull(res, 0, 0)) {
        snprintf(r->latest, sizeof(r->latest), "%s", PQgetvalue(res, 0, 0));
        snprintf(r->cutoff, sizeof(r->cutoff), "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return ARR_OK;
}

/* Appends one fetched row; keybuf is scratch space for "tenant/account_id". */
static arr_err add_row(model_rows *r, PGresult *res, int i, double share, char **keybuf,
                       size_t *keycap)
{
    double x[SF_COUNT];
    if (!parse_features(PQgetvalue(res, i, 2), x)) {
        r->skipped++;
        return ARR_OK;
    }
    if (r->n == r->cap && rows_grow(r) != ARR_OK)
        return ARR_ENOMEM;
    uint8_t held = 0;
    if (share > 0) {
        const char *tenant = PQgetvalue(res, i, 0), *account = PQgetvalue(res, i, 1);
        size_t need = strlen(tenant) + strlen(account) + 2;
        if (need > *keycap) {
            char *k = realloc(*keybuf, need);
            if (!k)
                return ARR_ENOMEM;
            *keybuf = k;
            *keycap = need;
        }
        snprintf(*keybuf, need, "%s/%s", tenant, account);
        held = (uint8_t)scoring_train_is_holdout(*keybuf, share);
    }
    uint8_t y = PQgetvalue(res, i, 3)[0] == 't';
    memcpy(r->x + r->n * SF_COUNT, x, sizeof(x));
    r->y[r->n] = y;
    r->holdout[r->n] = held;
    r->n++;
    r->positives += y;
    r->held += held;
    r->held_positive += held && y;
    return ARR_OK;
}

/* Reads the matured rows since a->since (all when NULL) of a->tenant (all when NULL) into
 * *r, marking the held-out accounts (share 0: none). *r is the caller's (rows_free), also
 * on error. */
static arr_err read_rows(arr_pg *pg, const model_args *a, int horizon, double share, model_rows *r,
                         char *why, size_t len)
{
    memset(r, 0, sizeof(*r));
    PGconn *conn = arr_pg_conn(pg);
    arr_err e = arr_pg_exec(pg,
                            "SET TIME ZONE 'UTC'; "
                            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                            why, len);
    if (e)
        return e;
    e = read_cutoff(conn, a, horizon, r, why, len);
    if (e || !r->cutoff[0]) {
        arr_pg_rollback(pg);
        return e;
    }
    char since[32], hz[16];
    if (a->since)
        snprintf(since, sizeof(since), "%s 00:00:00+00", a->since);
    else
        snprintf(since, sizeof(since), "-infinity");
    snprintf(hz, sizeof(hz), "%d", horizon);
    const char *params[4] = {since, r->cutoff, hz, a->tenant};
    /* The order makes a run reproducible to the last bit (the fit sums in row order). */
    PGresult *res = PQexecParams(
        conn,
        "DECLARE model_rows NO SCROLL CURSOR FOR "
        "SELECT tenant, account_id, features, "
        "       paid_at IS NOT NULL AND paid_at < scored_at + make_interval(days => $3::int) "
        "FROM scoring.scores "
        "WHERE scored_at >= $1::timestamptz AND scored_at <= $2::timestamptz "
        "  AND ($4::text IS NULL OR tenant = $4::text) "
        "ORDER BY scored_at, score_event_id",
        4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        e = pg_fail(res, "reading scoring.scores", why, len);
        arr_pg_rollback(pg);
        return e;
    }
    PQclear(res);
    char *keybuf = NULL;
    size_t keycap = 0;
    for (;;) {
        res = PQexec(conn, "FETCH FORWARD " MODEL_FETCH_ROWS_STR " FROM model_rows");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            e = pg_fail(res, "reading scoring.scores", why, len);
            break;
        }
        int rows = PQntuples(res);
        for (int i = 0; !e && i < rows; i++)
            e = add_row(r, res, i, share, &keybuf, &keycap);
        PQclear(res);
        if (e) {
            arr_errbuf_set(why, len, "reading scoring.scores: out of memory after %zu rows", r->n);
            break;
        }
        if (rows < MODEL_FETCH_ROWS)
            break;
    }
    free(keybuf);
    arr_pg_rollback(pg); /* read only: nothing to commit; closes the cursor */
    return e;
}

/* ------------------------------------------------------------------ measuring */

/* Scores the rows with m (only the held-out ones when held_only) and measures it. ARR_EINVAL
 * when the subset is empty or has one class only. */
static arr_err measure(const scoring_model *m, const model_rows *r, int held_only,
                       model_measure *out, char *why, size_t len)
{
    size_t k = held_only ? (size_t)r->held : r->n;
    if (k == 0) {
        arr_errbuf_set(why, len, "no %srows to measure on", held_only ? "held-out " : "");
        return ARR_EINVAL;
    }
    double *p = malloc(k * sizeof(double));
    uint8_t *y = malloc(k);
    if (!p || !y) {
        free(p);
        free(y);
        return ARR_ENOMEM;
    }
    size_t j = 0, pos = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (held_only && !r->holdout[i])
            continue;
        scoring_model_result res;
        scoring_model_score(m, r->x + i * SF_COUNT, &res);
        p[j] = res.probability;
        y[j] = r->y[i];
        pos += y[j];
        j++;
    }
    memset(out, 0, sizeof(*out));
    out->rows = k;
    out->positive_rate = (double)pos / (double)k;
    out->m.holdout_rows = (int64_t)k;
    out->m.has_calibration = 1;
    arr_err e = scoring_train_auc(p, y, k, &out->m.auc, why, len);
    if (!e)
        e = scoring_train_log_loss(p, y, k, &out->m.log_loss, why, len);
    if (!e)
        e = scoring_train_calibration(p, y, k, out->m.calibration, why, len);
    free(p);
    free(y);
    return e;
}

static void print_calibration(const char *title, const scoring_model_metrics *m)
{
    printf("%s\n", title);
    printf("  %-11s %10s %10s %10s\n", "predicted", "count", "mean pred", "observed");
    for (int b = 0; b < SCORING_MODEL_CALIB_BINS; b++) {
        const scoring_model_calib_bin *c = &m->calibration[b];
        char range[16];
        snprintf(range, sizeof(range), "[%.1f, %.1f%c", b / 10.0, (b + 1) / 10.0,
                 b + 1 == SCORING_MODEL_CALIB_BINS ? ']' : ')');
        if (c->count)
            printf("  %-11s %10lld %10.4f %10.4f\n", range, (long long)c->count, c->predicted,
                   c->observed);
        else
            printf("  %-11s %10d %10s %10s\n", range, 0, "-", "-");
    }
}

static void print_scope(const char *cmd, const model_args *a, int horizon, const model_rows *r)
{
    printf("model %s: history since %s%s%s, horizon %d days\n", cmd,
           a->since ? a->since : "the start", a->tenant ? ", tenant " : "",
           a->tenant ? a->tenant : "", horizon);
    printf("model %s: latest score %s: matured = scored at or before %s\n", cmd, r->latest,
           r->cutoff);
}

/* ------------------------------------------------------------------ commands */

/* Writes m's document to path through a temporary file and a rename, so a reader never sees
 * half a model. */
static arr_err write_model(const scoring_model *m, const char *path, char *why, size_t len)
{
    json_t *doc = scoring_model_to_json(m);
    if (!doc)
        return ARR_ENOMEM;
    size_t tlen = strlen(path) + 32;
    char *tmp = malloc(tlen);
    if (!tmp) {
        json_decref(doc);
        return ARR_ENOMEM;
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
    arr_err e = ARR_OK;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        arr_errbuf_set(why, len, "--out %s: cannot create %s: %s", path, tmp, strerror(errno));
        e = ARR_EIO;
    } else {
        int bad = json_dumpf(doc, f, JSON_INDENT(2)) != 0 || fputc('\n', f) == EOF;
        bad = fflush(f) != 0 || bad;
        bad = fsync(fileno(f)) != 0 || bad;
        bad = fclose(f) != 0 || bad;
        if (bad || rename(tmp, path) != 0) {
            arr_errbuf_set(why, len, "--out %s: cannot write: %s", path, strerror(errno));
            remove(tmp);
            e = ARR_EIO;
        }
    }
    free(tmp);
    json_decref(doc);
    return e;
}

static arr_err load_model(const char *flag, const char *path, scoring_model **out, char *why,
                          size_t len)
{
    char inner[512] = "";
    arr_err e = scoring_model_load(path, out, inner, sizeof(inner));
    if (e == ARR_ENOTFOUND)
        arr_errbuf_set(why, len, "%s%s%s: no such file", flag, *flag ? " " : "", path);
    else if (e)
        arr_errbuf_set(why, len, "%s%s%s: %s", flag, *flag ? " " : "", path,
                       inner[0] ? inner : arr_strerror(e));
    return e;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static arr_err connect_and_read(cli_ctx *c, const model_args *a, int horizon, double share,
                                model_rows *r, char *why, size_t len)
{
    arr_pg *pg = NULL;
    arr_err e = arr_pg_connect(c->pg_conninfo, &pg, why, len);
    if (!e) {
        double t0 = mono_s();
        e = read_rows(pg, a, horizon, share, r, why, len);
        if (!e && r->cutoff[0])
            fprintf(stderr, "model: read %zu matured rows in %.1f s\n", r->n, mono_s() - t0);
        if (!e && r->skipped)
            fprintf(stderr,
                    "model: skipped %lld matured rows whose features are not %d finite numbers\n",
                    (long long)r->skipped, SF_COUNT);
    }
    arr_pg_free(pg);
    return e;
}

/* Checks that the rows can teach or measure anything. 1 when they can, else 0 with why. */
static int enough_rows(const model_args *a, const model_rows *r, long min_rows, char *why,
                       size_t len)
{
    const char *scope = a->tenant ? a->tenant : "all tenants";
    if (!r->cutoff[0]) {
        arr_errbuf_set(why, len, "scoring.scores holds no scores for %s", scope);
        return 0;
    }
    if ((long long)r->n < min_rows) {
        arr_errbuf_set(why, len,
                       "only %zu matured rows for %s since %s (at least %ld needed%s): not "
                       "enough to %s",
                       r->n, scope, a->since ? a->since : "the start", min_rows,
                       a->train ? ", --min-rows" : "", a->train ? "train" : "measure");
        return 0;
    }
    if (r->positives == 0 || r->positives == (int64_t)r->n) {
        arr_errbuf_set(why, len, "all %zu matured rows for %s are %s: both classes are needed",
                       r->n, scope, r->positives ? "paid" : "unpaid");
        return 0;
    }
    return 1;
}

static int model_evaluate(cli_ctx *c, const model_args *a)
{
    char why[1024] = "";
    scoring_model *m = NULL;
    model_rows r = {0};
    model_measure mm;
    arr_err e = load_model("", a->file, &m, why, sizeof(why));
    int horizon = 0;
    if (!e) {
        horizon = a->horizon_days ? a->horizon_days : scoring_model_spec_of(m)->horizon_days;
        e = connect_and_read(c, a, horizon, 0, &r, why, sizeof(why));
    }
    if (!e && !enough_rows(a, &r, 1, why, sizeof(why)))
        e = ARR_EINVAL;
    if (!e)
        e = measure(m, &r, 0, &mm, why, sizeof(why));
    if (!e) {
        print_scope("evaluate", a, horizon, &r);
        printf("model evaluate: %s (model %s)\n", a->file, scoring_model_id(m));
        printf("model evaluate: rows %zu matured (%lld paid within the horizon), positive rate "
               "%.4f\n",
               mm.rows, (long long)r.positives, mm.positive_rate);
        printf("model evaluate: AUC %.4f, log loss %.4f\n", mm.m.auc, mm.m.log_loss);
        print_calibration("calibration (every matured row):", &mm.m);
    } else {
        fprintf(stderr, "arrears model evaluate: %s\n", why);
    }
    rows_free(&r);
    scoring_model_free(m);
    return e ? 1 : 0;
}

/* Fits on the training side and builds the model; metrics are added when given. */
static arr_err fit_model(const model_args *a, const model_rows *r, const scoring_model *cur,
                         const scoring_train_meta *meta, scoring_train_fit_result *fit,
                         scoring_model **out, char *why, size_t len)
{
    uint8_t *include = malloc(r->n);
    if (!include)
        return ARR_ENOMEM;
    for (size_t i = 0; i < r->n; i++)
        include[i] = !r->holdout[i];
    scoring_train_opts o;
    scoring_train_opts_from_model(&o, cur);
    if (a->has_l2)
        o.l2 = a->l2;
    arr_err e = scoring_train_fit(r->x, r->y, include, r->n, &o, fit, why, len);
    free(include);
    if (!e)
        e = scoring_train_to_model(fit, cur, meta, out, why, len);
    return e;
}

static void print_train(const model_args *a, int horizon, const model_rows *r,
                        const scoring_train_fit_result *fit, const scoring_model *fresh,
                        const scoring_model *cur, const model_measure *mnew,
                        const model_measure *mcur)
{
    print_scope("train", a, horizon, r);
    printf("model train: rows %zu matured (%lld paid within the horizon): train %lld, "
           "held-out %lld; positive rate %.4f\n",
           r->n, (long long)r->positives, (long long)(r->n - (size_t)r->held), (long long)r->held,
           (double)r->positives / (double)r->n);
    printf("model train: fit: l2 %g, %d iteration(s), %s, training log loss %.4f\n", fit->l2,
           fit->iterations, fit->converged ? "converged" : "NOT converged (max_iter reached)",
           fit->log_loss);
    printf("model train: held-out comparison (%zu rows, positive rate %.4f):\n", mnew->rows,
           mnew->positive_rate);
    printf("  %-8s %-28s %8s %10s\n", "model", "id", "AUC", "log loss");
    printf("  %-8s %-28s %8.4f %10.4f\n", "new", scoring_model_id(fresh), mnew->m.auc,
           mnew->m.log_loss);
    printf("  %-8s %-28s %8.4f %10.4f\n", "current", scoring_model_id(cur), mcur->m.auc,
           mcur->m.log_loss);
    print_calibration("calibration of the new model (held-out rows):", &mnew->m);
}

/* Exit code of train; clock gives today's date (trained_at, default model id). */
static int model_train(cli_ctx *c, const model_args *a, const arr_clock *clock)
{
    char why[1024] = "", today[ARR_TIME_STRLEN], id[SCORING_MODEL_ID_MAX];
    arr_time_format(arr_clock_now_ms(clock), today, sizeof(today));
    today[10] = '\0';
    snprintf(id, sizeof(id), "scorecard-%.4s%.2s%.2s", today, today + 5, today + 8);
    scoring_model *cur = NULL, *fresh = NULL, *final = NULL;
    model_rows r = {0};
    model_measure mnew, mcur;
    scoring_train_fit_result fit;
    int horizon = 0, rc = 1;
    const char *current = a->current;
    arr_err e = ARR_OK;
    if (!current)
        e = arr_config_str(c->cfg, "ARR_SCORING_MODEL", MODEL_DEFAULT_CURRENT, &current, why,
                           sizeof(why));
    if (!e)
        e = load_model(a->current ? "--current" : "ARR_SCORING_MODEL", current, &cur, why,
                       sizeof(why));
    if (!e) {
        horizon = a->horizon_days ? a->horizon_days : scoring_model_spec_of(cur)->horizon_days;
        e = connect_and_read(c, a, horizon, a->holdout, &r, why, sizeof(why));
    }
    if (!e && !enough_rows(a, &r, a->min_rows, why, sizeof(why)))
        e = ARR_EINVAL;
    if (!e && (r.held == 0 || r.held_positive == 0 || r.held_positive == r.held)) {
        arr_errbuf_set(why, sizeof(why),
                       "the %lld held-out rows (--holdout %g) do not hold both classes: "
                       "nothing to compare the models on",
                       (long long)r.held, a->holdout);
        e = ARR_EINVAL;
    }
    char desc[SCORING_MODEL_DESC_MAX] = "";
    if (!e)
        snprintf(desc, sizeof(desc),
                 "Trained by arrears model train on the score history since %s%s%s (%lld rows, "
                 "%lld more held out), horizon %d days, from the template %s.",
                 a->since, a->tenant ? " of tenant " : "", a->tenant ? a->tenant : "",
                 (long long)(r.n - (size_t)r.held), (long long)r.held, horizon,
                 scoring_model_id(cur));
    scoring_train_meta meta = {.model_id = a->model_id ? a->model_id : id,
                               .trained_at = today,
                               .since = a->since,
                               .description = desc,
                               .horizon_days = horizon};
    if (!e)
        e = fit_model(a, &r, cur, &meta, &fit, &fresh, why, sizeof(why));
    if (!e)
        e = measure(fresh, &r, 1, &mnew, why, sizeof(why));
    if (!e)
        e = measure(cur, &r, 1, &mcur, why, sizeof(why));
    if (!e) {
        meta.metrics = &mnew.m;
        e = scoring_train_to_model(&fit, cur, &meta, &final, why, sizeof(why));
    }
    if (e) {
        fprintf(stderr, "arrears model train: %s\n", why);
        goto done;
    }
    print_train(a, horizon, &r, &fit, final, cur, &mnew, &mcur);
    int worse_auc = (mnew.m.auc < mcur.m.auc);
    int worse_ll = (mnew.m.log_loss > mcur.m.log_loss);
    if ((worse_auc || worse_ll) && !a->force) {
        fflush(stdout); /* the report, then the verdict */
        fprintf(stderr,
                "arrears model train: refused: the new model does worse than the current one "
                "(%s) on the held-out rows (%s%s%s); %s not written (--force writes it anyway)\n",
                scoring_model_id(cur), worse_auc ? "lower AUC" : "",
                worse_auc && worse_ll ? ", " : "", worse_ll ? "higher log loss" : "", a->out);
        rc = MODEL_EXIT_REFUSED;
        goto done;
    }
    if (worse_auc || worse_ll)
        printf("model train: --force: writing a model that does worse than the current one\n");
    e = write_model(final, a->out, why, sizeof(why));
    if (e) {
        fprintf(stderr, "arrears model train: %s\n", why);
        goto done;
    }
    printf("model train: wrote %s (model %s)\n", a->out, scoring_model_id(final));
    rc = 0;
done:
    rows_free(&r);
    scoring_model_free(cur);
    scoring_model_free(fresh);
    scoring_model_free(final);
    return rc;
}

int cli_model(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    int train = strcmp(argv[0], "train") == 0;
    if (!train && strcmp(argv[0], "evaluate") != 0) {
        fprintf(stderr, "arrears model: unknown command '%s'\n", argv[0]);
        usage(stderr);
        return 2;
    }
    model_args a;
    if (!parse_args(train, argc - 1, argv + 1, &a)) {
        fprintf(stderr, "run 'arrears model --help' for the usage\n");
        return 2;
    }
    if (!train)
        return model_evaluate(c, &a);
    arr_clock clock;
    arr_clock_init_real(&clock);
    return model_train(c, &a, &clock);
}
