/* scoring_model: the logistic scorecard. The file format, "arrears-scorecard-1":
 *
 *   {"format": "arrears-scorecard-1",          required, exactly this
 *    "model_id": "scorecard-default-1",        required, ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$
 *    "trained_at": "2026-11-27",               required, YYYY-MM-DD
 *    "horizon_days": 30,                       required, 1..365
 *    "description": "...",                     optional
 *    "training": {"rows": N, "since": "YYYY-MM-DD", "l2": 1.0},   optional or null; since
 *                                                                 optional
 *    "metrics": {"auc": A, "log_loss": L, "holdout_rows": N,      optional or null
 *                "calibration": [{"count": N, "predicted": P, "observed": O}, x10]},
 *                                                                 calibration optional
 *    "intercept": -0.4,                        required
 *    "features": [{"name": "balance_log",      required, a scoring_feature_name, once
 *                  "mean": 4.1, "scale": 1.2,  required; scale > 0
 *                  "coef": -0.5,               required, standardised units
 *                  "clip": [0, 12],            optional, lo <= hi
 *                  "reason_up": "BALANCE_SMALL", "reason_down": "BALANCE_LARGE"}, ...]}
 *                                              required, ^[A-Z][A-Z0-9_]{0,63}$
 *
 * Unknown fields are rejected (a misspelt "clip" must not silently score differently); a new
 * field means a new format. */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A contribution is capped in magnitude so that absurd inputs without a clip cannot turn the
 * logit into inf - inf; the probability saturates long before (|logit| > 40). */
#define CONTRIB_CAP 1e6

typedef struct sm_term {
    double lo, hi; /* -inf / +inf without a clip */
    double mean;
    double w;              /* coef / scale: contribution = w * (clip(x) - mean) */
    const char *up, *down; /* interned: one pointer per distinct code in the model */
    int feature;
} sm_term;

struct scoring_model {
    scoring_model_spec spec;
    int n_active; /* present terms with coef != 0, in feature order */
    /* How many ranked terms scoring keeps: SCORING_MODEL_MAX_REASONS, unless two features
     * share a code and a duplicate may have to give its place to the next term. */
    int rank_cap;
    sm_term active[SF_COUNT];
};

/* ------------------------------------------------------------------ value checks */

static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int code_ok(const char *s)
{
    if (!is_upper(s[0]))
        return 0;
    size_t n = 1;
    for (; s[n]; n++)
        if (!is_upper(s[n]) && !is_digit(s[n]) && s[n] != '_')
            return 0;
    return n < SCORING_MODEL_CODE_MAX;
}

int scoring_model_id_valid(const char *s)
{
    if (!is_upper(s[0]) && !is_digit(s[0]) && !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    size_t n = 1;
    for (; s[n]; n++) {
        char c = s[n];
        if (!is_upper(c) && !is_digit(c) && !(c >= 'a' && c <= 'z') && c != '.' && c != '_' &&
            c != '-')
            return 0;
    }
    return n < SCORING_MODEL_ID_MAX;
}

int scoring_model_date_valid(const char *s)
{
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return 0;
        } else if (!is_digit(s[i])) {
            return 0;
        }
    }
    if (s[10])
        return 0;
    int y = atoi(s), mo = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[mo - 1] + (mo == 2 && leap);
}

/* The spec's char arrays come from callers: each must hold a NUL. */
static int terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static arr_err check_term(const scoring_model_term *t, const char *pfx, char *why, size_t len)
{
    if (!isfinite(t->mean))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s.mean: must be a finite number", pfx);
    if (!isfinite(t->scale))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s.scale: must be a finite number", pfx);
    if (t->scale <= 0)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s.scale: must be > 0", pfx);
    if (!isfinite(t->coef))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s.coef: must be a finite number", pfx);
    if (t->has_clip && (!isfinite(t->clip_lo) || !isfinite(t->clip_hi) || t->clip_lo > t->clip_hi))
        return arr_errbuf_fail(ARR_EINVAL, why, len,
                               "%s.clip: must be [lo, hi] with finite lo <= hi", pfx);
    if (!terminated(t->reason_up, sizeof t->reason_up) || !code_ok(t->reason_up))
        return arr_errbuf_fail(ARR_EINVAL, why, len,
                               "%s.reason_up: must match ^[A-Z][A-Z0-9_]{0,63}$", pfx);
    if (!terminated(t->reason_down, sizeof t->reason_down) || !code_ok(t->reason_down))
        return arr_errbuf_fail(ARR_EINVAL, why, len,
                               "%s.reason_down: must match ^[A-Z][A-Z0-9_]{0,63}$", pfx);
    return ARR_OK;
}

static arr_err check_metrics(const scoring_model_metrics *mt, char *why, size_t len)
{
    if (!isfinite(mt->auc) || mt->auc < 0 || mt->auc > 1)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "metrics.auc: must be a number in [0, 1]");
    if (!isfinite(mt->log_loss) || mt->log_loss < 0)
        return arr_errbuf_fail(ARR_EINVAL, why, len,
                               "metrics.log_loss: must be a finite number >= 0");
    if (mt->holdout_rows < 0)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "metrics.holdout_rows: must be >= 0");
    if (!mt->has_calibration)
        return ARR_OK;
    for (int i = 0; i < SCORING_MODEL_CALIB_BINS; i++) {
        const scoring_model_calib_bin *b = &mt->calibration[i];
        if (b->count < 0)
            return arr_errbuf_fail(ARR_EINVAL, why, len,
                                   "metrics.calibration[%d].count: must be >= 0", i);
        if (!isfinite(b->predicted) || b->predicted < 0 || b->predicted > 1)
            return arr_errbuf_fail(ARR_EINVAL, why, len,
                                   "metrics.calibration[%d].predicted: must be in [0, 1]", i);
        if (!isfinite(b->observed) || b->observed < 0 || b->observed > 1)
            return arr_errbuf_fail(ARR_EINVAL, why, len,
                                   "metrics.calibration[%d].observed: must be in [0, 1]", i);
    }
    return ARR_OK;
}

static arr_err check_spec(const scoring_model_spec *s, char *why, size_t len)
{
    if (!terminated(s->model_id, sizeof s->model_id) || !scoring_model_id_valid(s->model_id))
        return arr_errbuf_fail(ARR_EINVAL, why, len,
                               "model_id: must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$");
    if (!terminated(s->trained_at, sizeof s->trained_at) ||
        !scoring_model_date_valid(s->trained_at))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "trained_at: must be a date YYYY-MM-DD");
    if (s->horizon_days < 1 || s->horizon_days > 365)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "horizon_days: must be an integer in 1..365");
    if (!terminated(s->description, sizeof s->description))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "description: longer than %d bytes",
                               SCORING_MODEL_DESC_MAX - 1);
    if (s->has_training) {
        if (s->training_rows < 0)
            return arr_errbuf_fail(ARR_EINVAL, why, len, "training.rows: must be >= 0");
        if (!terminated(s->training_since, sizeof s->training_since) ||
            (s->training_since[0] && !scoring_model_date_valid(s->training_since)))
            return arr_errbuf_fail(ARR_EINVAL, why, len,
                                   "training.since: must be a date YYYY-MM-DD");
        if (!isfinite(s->training_l2) || s->training_l2 < 0)
            return arr_errbuf_fail(ARR_EINVAL, why, len,
                                   "training.l2: must be a finite number >= 0");
    }
    if (s->has_metrics) {
        arr_err e = check_metrics(&s->metrics, why, len);
        if (e != ARR_OK)
            return e;
    }
    if (!isfinite(s->intercept))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "intercept: must be a finite number");
    for (int f = 0; f < SF_COUNT; f++) {
        if (!s->terms[f].present)
            continue;
        char pfx[64];
        const char *name = scoring_feature_name((scoring_feature)f);
        snprintf(pfx, sizeof pfx, "features[%s]", name ? name : "?");
        arr_err e = check_term(&s->terms[f], pfx, why, len);
        if (e != ARR_OK)
            return e;
    }
    return ARR_OK;
}

/* ------------------------------------------------------------------ build */

/* The first equal code already in the model, so reasons can be told apart by pointer. */
static const char *intern(const scoring_model *m, const char *code)
{
    for (int i = 0; i < m->n_active; i++) {
        if (strcmp(m->active[i].up, code) == 0)
            return m->active[i].up;
        if (strcmp(m->active[i].down, code) == 0)
            return m->active[i].down;
    }
    return code;
}

arr_err scoring_model_build(const scoring_model_spec *spec, scoring_model **out, char *why,
                            size_t len)
{
    if (!spec)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "model: missing");
    arr_err e = check_spec(spec, why, len);
    if (e != ARR_OK)
        return e;
    scoring_model *m = calloc(1, sizeof *m);
    if (!m)
        return ARR_ENOMEM;
    m->spec = *spec;
    for (int f = 0; f < SF_COUNT; f++) {
        scoring_model_term *t = &m->spec.terms[f];
        if (!t->present) {
            memset(t, 0, sizeof *t); /* what is not in the model is not kept either */
            continue;
        }
        if (t->coef == 0)
            continue; /* kept in the file, but it can neither move the score nor explain it */
        sm_term *a = &m->active[m->n_active];
        a->feature = f;
        a->lo = t->has_clip ? t->clip_lo : -INFINITY;
        a->hi = t->has_clip ? t->clip_hi : INFINITY;
        a->mean = t->mean;
        a->w = t->coef / t->scale;
        a->up = intern(m, t->reason_up);
        a->down = strcmp(t->reason_down, t->reason_up) == 0 ? a->up : intern(m, t->reason_down);
        m->n_active++;
    }
    m->rank_cap = SCORING_MODEL_MAX_REASONS;
    for (int i = 0; i < m->n_active; i++)
        for (int j = 0; j < i; j++)
            if (m->active[i].up == m->active[j].up || m->active[i].up == m->active[j].down ||
                m->active[i].down == m->active[j].up || m->active[i].down == m->active[j].down)
                m->rank_cap = SF_COUNT;
    *out = m;
    return ARR_OK;
}

int scoring_model_bp(double p)
{
    return (int)lround(p * 10000.0);
}

void scoring_model_free(scoring_model *m)
{
    free(m);
}

const char *scoring_model_id(const scoring_model *m)
{
    return m->spec.model_id;
}

const scoring_model_spec *scoring_model_spec_of(const scoring_model *m)
{
    return &m->spec;
}

/* ------------------------------------------------------------------ score */

void scoring_model_score(const scoring_model *m, const double x[SF_COUNT],
                         scoring_model_result *out)
{
    /* The largest reason-worthy contributions, by |contribution| descending; equal ones keep
     * feature order because they arrive in it and only a strictly larger one passes them. */
    struct {
        double abs, c;
        const sm_term *t;
    } rank[SF_COUNT];
    const int cap = m->rank_cap;
    int nrank = 0;
    double logit = m->spec.intercept;
    for (int i = 0; i < m->n_active; i++) {
        const sm_term *t = &m->active[i];
        double v = x[t->feature];
        if (v < t->lo)
            v = t->lo;
        else if (v > t->hi)
            v = t->hi;
        if (!isfinite(v))
            continue; /* missing: contributes 0 */
        double c = t->w * (v - t->mean);
        if (c > CONTRIB_CAP)
            c = CONTRIB_CAP;
        else if (c < -CONTRIB_CAP)
            c = -CONTRIB_CAP;
        logit += c;
        double a = fabs(c);
        if (a < SCORING_MODEL_REASON_EPSILON)
            continue;
        int j = nrank < cap ? nrank++ : cap; /* when full, the last one may fall off */
        for (; j > 0 && rank[j - 1].abs < a; j--)
            if (j < cap)
                rank[j] = rank[j - 1];
        if (j < cap) {
            rank[j].abs = a;
            rank[j].c = c;
            rank[j].t = t;
        }
    }
    double p;
    if (logit >= 0) {
        p = 1.0 / (1.0 + exp(-logit));
    } else {
        double ex = exp(logit); /* no overflow for very negative logits */
        p = ex / (1.0 + ex);
    }
    out->probability = p;
    out->probability_bp = scoring_model_bp(p);
    out->logit = logit;
    int n = 0;
    for (int i = 0; i < nrank && n < SCORING_MODEL_MAX_REASONS; i++) {
        const char *code = rank[i].c > 0 ? rank[i].t->up : rank[i].t->down;
        int seen = 0;
        for (int k = 0; k < n; k++)
            seen |= out->reasons[k] == code;
        if (seen)
            continue;
        out->reasons[n] = code;
        out->reason_features[n] = rank[i].t->feature;
        out->reason_contributions[n] = rank[i].c;
        n++;
    }
    out->n_reasons = n;
    for (int k = n; k < SCORING_MODEL_MAX_REASONS; k++) {
        out->reasons[k] = NULL;
        out->reason_features[k] = -1;
        out->reason_contributions[k] = 0;
    }
}

/* ------------------------------------------------------------------ parse */

static const char *const top_keys[] = {"format",      "model_id", "trained_at", "horizon_days",
                                       "description", "training", "metrics",    "intercept",
                                       "features",    NULL};
static const char *const training_keys[] = {"rows", "since", "l2", NULL};
static const char *const metrics_keys[] = {"auc", "log_loss", "holdout_rows", "calibration", NULL};
static const char *const bin_keys[] = {"count", "predicted", "observed", NULL};
static const char *const term_keys[] = {"name", "mean",      "scale",       "coef",
                                        "clip", "reason_up", "reason_down", NULL};

/* pfx is "" at the top level, else "training", "features[3]", ... */
static arr_err check_keys(json_t *obj, const char *const *known, const char *pfx, char *why,
                          size_t len)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int ok = 0;
        for (const char *const *p = known; *p && !ok; p++)
            ok = strcmp(*p, k) == 0;
        if (!ok)
            return arr_errbuf_fail(ARR_EINVAL, why, len, "%s%s%.64s: unknown field", pfx,
                                   *pfx ? "." : "", k);
    }
    return ARR_OK;
}

/* A string without embedded NULs, or NULL. */
static const char *str_of(json_t *v)
{
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

static arr_err get_number(json_t *obj, const char *key, const char *pfx, double *out, char *why,
                          size_t len)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s%s%s: must be a number", pfx,
                               *pfx ? "." : "", key);
    *out = json_number_value(v);
    return ARR_OK;
}

static arr_err get_count(json_t *obj, const char *key, const char *pfx, int64_t *out, char *why,
                         size_t len)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s.%s: must be an integer >= 0", pfx, key);
    *out = json_integer_value(v);
    return ARR_OK;
}

/* Copies a code-shaped string into dst (SCORING_MODEL_CODE_MAX bytes). */
static arr_err get_code(json_t *obj, const char *key, const char *pfx, char *dst, char *why,
                        size_t len)
{
    const char *s = str_of(json_object_get(obj, key));
    if (!s || !code_ok(s))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s.%s: must match ^[A-Z][A-Z0-9_]{0,63}$",
                               pfx, key);
    snprintf(dst, SCORING_MODEL_CODE_MAX, "%s", s);
    return ARR_OK;
}

static arr_err parse_training(json_t *tr, scoring_model_spec *s, char *why, size_t len)
{
    if (!tr || json_is_null(tr))
        return ARR_OK;
    if (!json_is_object(tr))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "training: must be an object or null");
    arr_err e = check_keys(tr, training_keys, "training", why, len);
    if (e == ARR_OK)
        e = get_count(tr, "rows", "training", &s->training_rows, why, len);
    if (e == ARR_OK)
        e = get_number(tr, "l2", "training", &s->training_l2, why, len);
    if (e != ARR_OK)
        return e;
    json_t *since = json_object_get(tr, "since");
    if (since && !json_is_null(since)) {
        const char *d = str_of(since);
        if (!d || !scoring_model_date_valid(d))
            return arr_errbuf_fail(ARR_EINVAL, why, len,
                                   "training.since: must be a date YYYY-MM-DD");
        snprintf(s->training_since, sizeof s->training_since, "%s", d);
    }
    s->has_training = 1;
    return ARR_OK;
}

static arr_err parse_calibration(json_t *cal, scoring_model_metrics *mt, char *why, size_t len)
{
    if (!cal || json_is_null(cal))
        return ARR_OK;
    if (!json_is_array(cal) || json_array_size(cal) != SCORING_MODEL_CALIB_BINS)
        return arr_errbuf_fail(ARR_EINVAL, why, len,
                               "metrics.calibration: must be an array of %d bins",
                               SCORING_MODEL_CALIB_BINS);
    for (int i = 0; i < SCORING_MODEL_CALIB_BINS; i++) {
        json_t *b = json_array_get(cal, (size_t)i);
        char pfx[40];
        snprintf(pfx, sizeof pfx, "metrics.calibration[%d]", i);
        if (!json_is_object(b))
            return arr_errbuf_fail(ARR_EINVAL, why, len, "%s: must be an object", pfx);
        scoring_model_calib_bin *o = &mt->calibration[i];
        arr_err e = check_keys(b, bin_keys, pfx, why, len);
        if (e == ARR_OK)
            e = get_count(b, "count", pfx, &o->count, why, len);
        if (e == ARR_OK)
            e = get_number(b, "predicted", pfx, &o->predicted, why, len);
        if (e == ARR_OK)
            e = get_number(b, "observed", pfx, &o->observed, why, len);
        if (e != ARR_OK)
            return e;
    }
    mt->has_calibration = 1;
    return ARR_OK;
}

static arr_err parse_metrics(json_t *mj, scoring_model_spec *s, char *why, size_t len)
{
    if (!mj || json_is_null(mj))
        return ARR_OK;
    if (!json_is_object(mj))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "metrics: must be an object or null");
    scoring_model_metrics *mt = &s->metrics;
    arr_err e = check_keys(mj, metrics_keys, "metrics", why, len);
    if (e == ARR_OK)
        e = get_number(mj, "auc", "metrics", &mt->auc, why, len);
    if (e == ARR_OK)
        e = get_number(mj, "log_loss", "metrics", &mt->log_loss, why, len);
    if (e == ARR_OK)
        e = get_count(mj, "holdout_rows", "metrics", &mt->holdout_rows, why, len);
    if (e == ARR_OK)
        e = parse_calibration(json_object_get(mj, "calibration"), mt, why, len);
    if (e != ARR_OK)
        return e;
    s->has_metrics = 1;
    return check_metrics(mt, why, len);
}

static arr_err parse_term(json_t *tj, const char *pfx, scoring_model_term *t, int *feature,
                          char *why, size_t len)
{
    if (!json_is_object(tj))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s: must be an object", pfx);
    arr_err e = check_keys(tj, term_keys, pfx, why, len);
    if (e != ARR_OK)
        return e;
    const char *name = str_of(json_object_get(tj, "name"));
    if (!name)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s.name: must be a string", pfx);
    int f = scoring_feature_by_name(name);
    if (f < 0 || f >= SF_COUNT)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s.name: unknown feature \"%.64s\"", pfx,
                               name);
    *feature = f;
    memset(t, 0, sizeof *t);
    t->present = 1;
    e = get_number(tj, "mean", pfx, &t->mean, why, len);
    if (e == ARR_OK)
        e = get_number(tj, "scale", pfx, &t->scale, why, len);
    if (e == ARR_OK)
        e = get_number(tj, "coef", pfx, &t->coef, why, len);
    if (e != ARR_OK)
        return e;
    json_t *clip = json_object_get(tj, "clip");
    if (clip && !json_is_null(clip)) {
        if (!json_is_array(clip) || json_array_size(clip) != 2 ||
            !json_is_number(json_array_get(clip, 0)) || !json_is_number(json_array_get(clip, 1)))
            return arr_errbuf_fail(ARR_EINVAL, why, len,
                                   "%s.clip: must be [lo, hi] with finite lo <= hi", pfx);
        t->has_clip = 1;
        t->clip_lo = json_number_value(json_array_get(clip, 0));
        t->clip_hi = json_number_value(json_array_get(clip, 1));
    }
    e = get_code(tj, "reason_up", pfx, t->reason_up, why, len);
    if (e == ARR_OK)
        e = get_code(tj, "reason_down", pfx, t->reason_down, why, len);
    if (e == ARR_OK)
        e = check_term(t, pfx, why, len);
    return e;
}

/* Copies a checked string field into dst (size bytes); required unless opt. */
static arr_err get_text(json_t *doc, const char *key, int opt, int (*valid)(const char *),
                        const char *rule, char *dst, size_t size, char *why, size_t len)
{
    json_t *v = json_object_get(doc, key);
    if (opt && (!v || json_is_null(v)))
        return ARR_OK;
    const char *s = str_of(v);
    if (!s || strlen(s) >= size || (valid && !valid(s)))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "%s: %s", key, rule);
    memcpy(dst, s, strlen(s) + 1);
    return ARR_OK;
}

/* Parses into *s (zeroed first); checks types and shapes, check_spec the values. */
static arr_err parse_spec(json_t *doc, scoring_model_spec *s, char *why, size_t len)
{
    memset(s, 0, sizeof *s);
    if (!json_is_object(doc))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "model: must be a JSON object");
    arr_err e = check_keys(doc, top_keys, "", why, len);
    if (e != ARR_OK)
        return e;
    const char *fmt = str_of(json_object_get(doc, "format"));
    if (!fmt || strcmp(fmt, SCORING_MODEL_FORMAT) != 0)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "format: must be \"%s\"",
                               SCORING_MODEL_FORMAT);
    e = get_text(doc, "model_id", 0, scoring_model_id_valid,
                 "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", s->model_id, sizeof s->model_id,
                 why, len);
    if (e == ARR_OK)
        e = get_text(doc, "trained_at", 0, scoring_model_date_valid, "must be a date YYYY-MM-DD",
                     s->trained_at, sizeof s->trained_at, why, len);
    if (e != ARR_OK)
        return e;
    json_t *h = json_object_get(doc, "horizon_days");
    if (!json_is_integer(h) || json_integer_value(h) < 1 || json_integer_value(h) > 365)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "horizon_days: must be an integer in 1..365");
    s->horizon_days = (int)json_integer_value(h);
    e = get_text(doc, "description", 1, NULL, "must be a string shorter than 1024 bytes",
                 s->description, sizeof s->description, why, len);
    if (e == ARR_OK)
        e = parse_training(json_object_get(doc, "training"), s, why, len);
    if (e == ARR_OK)
        e = parse_metrics(json_object_get(doc, "metrics"), s, why, len);
    if (e == ARR_OK)
        e = get_number(doc, "intercept", "", &s->intercept, why, len);
    if (e != ARR_OK)
        return e;
    json_t *feats = json_object_get(doc, "features");
    if (!json_is_array(feats))
        return arr_errbuf_fail(ARR_EINVAL, why, len, "features: must be an array");
    int where[SF_COUNT]; /* file index of each feature seen, or -1 */
    for (int f = 0; f < SF_COUNT; f++)
        where[f] = -1;
    size_t i;
    json_t *tj;
    json_array_foreach(feats, i, tj)
    {
        char pfx[40];
        snprintf(pfx, sizeof pfx, "features[%zu]", i);
        scoring_model_term t;
        int f = -1;
        e = parse_term(tj, pfx, &t, &f, why, len);
        if (e != ARR_OK)
            return e;
        if (where[f] >= 0)
            return arr_errbuf_fail(ARR_EINVAL, why, len, "%s.name: duplicate of features[%d]", pfx,
                                   where[f]);
        where[f] = (int)i;
        s->terms[f] = t;
    }
    return ARR_OK;
}

arr_err scoring_model_parse(json_t *doc, scoring_model **out, char *why, size_t len)
{
    scoring_model_spec *s = malloc(sizeof *s); /* ~4 KB: kept off the stack */
    if (!s)
        return ARR_ENOMEM;
    arr_err e = parse_spec(doc, s, why, len);
    if (e == ARR_OK)
        e = scoring_model_build(s, out, why, len);
    free(s);
    return e;
}

arr_err scoring_model_load(const char *path, scoring_model **out, char *why, size_t len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int err = errno;
        arr_errbuf_set(why, len, "%s: %s", path, strerror(err));
        return err == ENOENT ? ARR_ENOTFOUND : ARR_EIO;
    }
    json_error_t jerr;
    json_t *doc = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
    int read_failed = ferror(fp);
    fclose(fp);
    if (read_failed) {
        json_decref(doc);
        arr_errbuf_set(why, len, "%s: read error", path);
        return ARR_EIO;
    }
    if (!doc) {
        arr_errbuf_set(why, len, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return ARR_EINVAL;
    }
    char inner[256] = "";
    arr_err e = scoring_model_parse(doc, out, inner, sizeof inner);
    json_decref(doc);
    if (e != ARR_OK)
        arr_errbuf_set(why, len, "%s: %s", path, inner);
    return e;
}

/* ------------------------------------------------------------------ to JSON */

/* Sets key to val (stolen); remembers a failure in *ok, including a NULL val. */
static void put(json_t *obj, const char *key, json_t *val, int *ok)
{
    if (!val || json_object_set_new(obj, key, val) != 0)
        *ok = 0;
}

static json_t *metrics_json(const scoring_model_metrics *mt)
{
    int ok = 1;
    json_t *o = json_object();
    if (!o)
        return NULL;
    put(o, "auc", json_real(mt->auc), &ok);
    put(o, "log_loss", json_real(mt->log_loss), &ok);
    put(o, "holdout_rows", json_integer(mt->holdout_rows), &ok);
    if (mt->has_calibration) {
        json_t *cal = json_array();
        for (int i = 0; cal && i < SCORING_MODEL_CALIB_BINS; i++) {
            const scoring_model_calib_bin *b = &mt->calibration[i];
            json_t *bj = json_object();
            if (!bj) {
                ok = 0;
                break;
            }
            put(bj, "count", json_integer(b->count), &ok);
            put(bj, "predicted", json_real(b->predicted), &ok);
            put(bj, "observed", json_real(b->observed), &ok);
            if (json_array_append_new(cal, bj) != 0)
                ok = 0;
        }
        put(o, "calibration", cal, &ok);
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *scoring_model_to_json(const scoring_model *m)
{
    const scoring_model_spec *s = &m->spec;
    int ok = 1;
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    put(doc, "format", json_string(SCORING_MODEL_FORMAT), &ok);
    put(doc, "model_id", json_string(s->model_id), &ok);
    put(doc, "trained_at", json_string(s->trained_at), &ok);
    put(doc, "horizon_days", json_integer(s->horizon_days), &ok);
    if (s->description[0])
        put(doc, "description", json_string(s->description), &ok);
    if (s->has_training) {
        json_t *tr = json_object();
        if (tr) {
            put(tr, "rows", json_integer(s->training_rows), &ok);
            if (s->training_since[0])
                put(tr, "since", json_string(s->training_since), &ok);
            put(tr, "l2", json_real(s->training_l2), &ok);
        }
        put(doc, "training", tr, &ok);
    }
    if (s->has_metrics)
        put(doc, "metrics", metrics_json(&s->metrics), &ok);
    put(doc, "intercept", json_real(s->intercept), &ok);
    json_t *feats = json_array();
    for (int f = 0; feats && f < SF_COUNT; f++) {
        const scoring_model_term *t = &s->terms[f];
        if (!t->present)
            continue;
        json_t *tj = json_object();
        if (!tj) {
            ok = 0;
            break;
        }
        put(tj, "name", json_string(scoring_feature_name((scoring_feature)f)), &ok);
        put(tj, "mean", json_real(t->mean), &ok);
        put(tj, "scale", json_real(t->scale), &ok);
        put(tj, "coef", json_real(t->coef), &ok);
        if (t->has_clip)
            put(tj, "clip", json_pack("[f, f]", t->clip_lo, t->clip_hi), &ok);
        put(tj, "reason_up", json_string(t->reason_up), &ok);
        put(tj, "reason_down", json_string(t->reason_down), &ok);
        if (json_array_append_new(feats, tj) != 0)
            ok = 0;
    }
    put(doc, "features", feats, &ok);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
