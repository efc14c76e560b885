/* scoring_train: Newton's method on the penalised logistic loss, and the measures of a model.
 *
 * With at most SF_COUNT + 1 = 17 parameters, each iteration is one pass over the rows that
 * accumulates the gradient and the Hessian (O(n k^2)), then a dense Cholesky solve. The
 * standardised design is never materialised: each row is clipped and standardised as it is
 * read, so memory stays O(k^2) whatever n is. A step that raises the objective is halved
 * (rare for the logistic loss, but it keeps a tiny l2 on near-separable data from
 * oscillating). */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPARAM (SF_COUNT + 1) /* intercept first */

static const char *fname(int f)
{
    const char *n = scoring_feature_name((scoring_feature)f);
    return n ? n : "?";
}

/* ------------------------------------------------------------------ options */

void scoring_train_opts_init(scoring_train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mask = SCORING_TRAIN_MASK_ALL;
    o->l2 = SCORING_TRAIN_DEFAULT_L2;
    o->max_iter = SCORING_TRAIN_DEFAULT_MAX_ITER;
    o->tol = SCORING_TRAIN_DEFAULT_TOL;
}

void scoring_train_opts_from_model(scoring_train_opts *o, const scoring_model *tmpl)
{
    scoring_train_opts_init(o);
    const scoring_model_spec *s = scoring_model_spec_of(tmpl);
    o->mask = 0;
    for (int f = 0; f < SF_COUNT; f++) {
        const scoring_model_term *t = &s->terms[f];
        if (!t->present)
            continue;
        o->mask |= 1u << f;
        o->has_clip[f] = t->has_clip;
        o->clip_lo[f] = t->clip_lo;
        o->clip_hi[f] = t->clip_hi;
    }
    if (s->has_training)
        o->l2 = s->training_l2;
}

static arr_err check_opts(const scoring_train_opts *o, char *why, size_t len)
{
    if (!o)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "opts: missing");
    if (o->mask & ~SCORING_TRAIN_MASK_ALL)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "opts.mask: bits beyond the %d features",
                               SF_COUNT);
    if (!isfinite(o->l2) || o->l2 < 0)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "opts.l2: must be a finite number >= 0");
    if (o->max_iter < 1)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "opts.max_iter: must be >= 1");
    if (!isfinite(o->tol) || o->tol <= 0)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "opts.tol: must be a finite number > 0");
    for (int f = 0; f < SF_COUNT; f++) {
        if ((o->mask & (1u << f)) && o->has_clip[f] &&
            (!isfinite(o->clip_lo[f]) || !isfinite(o->clip_hi[f]) || o->clip_lo[f] > o->clip_hi[f]))
            return arr_errbuf_fail(ARR_EINVAL, why, len,
                                   "opts.clip[%s]: must be finite with lo <= hi", fname(f));
    }
    return ARR_OK;
}

/* ------------------------------------------------------------------ fit */

typedef struct fit_ctx {
    const double *x;
    const uint8_t *y;
    const uint8_t *include;
    size_t n;
    int d;            /* parameters: 1 + fitted features */
    int feat[NPARAM]; /* feature of parameter j >= 1 */
    double lo[NPARAM], hi[NPARAM], mean[NPARAM], inv[NPARAM];
} fit_ctx;

static double clipped(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Sum of the unpenalised loss at beta; with g and H (d x d, upper triangle then mirrored),
 * also its gradient and Hessian. */
static double pass(const fit_ctx *c, const double *beta, double *g, double *h)
{
    const int d = c->d;
    double loss = 0;
    if (g) {
        memset(g, 0, sizeof(double) * (size_t)d);
        memset(h, 0, sizeof(double) * (size_t)d * (size_t)d);
    }
    double z[NPARAM];
    z[0] = 1;
    for (size_t i = 0; i < c->n; i++) {
        if (c->include && !c->include[i])
            continue;
        const double *row = c->x + i * SF_COUNT;
        double eta = beta[0];
        for (int j = 1; j < d; j++) {
            z[j] = (clipped(row[c->feat[j]], c->lo[j], c->hi[j]) - c->mean[j]) * c->inv[j];
            eta += beta[j] * z[j];
        }
        /* One exp for both p and the loss, without overflow on either side. */
        double e, p, sp; /* sp = log(1 + exp(eta)) */
        if (eta >= 0) {
            e = exp(-eta);
            p = 1 / (1 + e);
            sp = eta + log1p(e);
        } else {
            e = exp(eta);
            p = e / (1 + e);
            sp = log1p(e);
        }
        int yi = c->y[i];
        loss += sp - (yi ? eta : 0);
        if (!g)
            continue;
        double r = p - yi, w = p * (1 - p);
        for (int a = 0; a < d; a++) {
            g[a] += r * z[a];
            double wz = w * z[a];
            double *ha = h + a * d;
            for (int b = a; b < d; b++)
                ha[b] += wz * z[b];
        }
    }
    if (g)
        for (int a = 0; a < d; a++)
            for (int b = 0; b < a; b++)
                h[a * d + b] = h[b * d + a];
    return loss;
}

/* Solves A s = b for symmetric positive definite A (d x d, overwritten by its Cholesky
 * factor). Returns 0, or -1 when A is not positive definite. */
static int cholesky_solve(double *a, int d, const double *b, double *s)
{
    for (int j = 0; j < d; j++) {
        double sum = a[j * d + j];
        for (int k = 0; k < j; k++)
            sum -= a[j * d + k] * a[j * d + k];
        if (!(sum > 0))
            return -1;
        double ljj = sqrt(sum);
        a[j * d + j] = ljj;
        for (int i = j + 1; i < d; i++) {
            double t = a[i * d + j];
            for (int k = 0; k < j; k++)
                t -= a[i * d + k] * a[j * d + k];
            a[i * d + j] = t / ljj;
        }
    }
    for (int i = 0; i < d; i++) { /* L u = b */
        double t = b[i];
        for (int k = 0; k < i; k++)
            t -= a[i * d + k] * s[k];
        s[i] = t / a[i * d + i];
    }
    for (int i = d - 1; i >= 0; i--) { /* L^T s = u */
        double t = s[i];
        for (int k = i + 1; k < d; k++)
            t -= a[k * d + i] * s[k];
        s[i] = t / a[i * d + i];
    }
    return 0;
}

/* Newton step into step[]: H step = g, with a tiny ridge when H is only semi-definite
 * (a feature collinear with others and no l2). */
static arr_err newton_step(const double *h, const double *g, int d, double *step, char *why,
                           size_t len)
{
    double a[NPARAM * NPARAM];
    memcpy(a, h, sizeof(double) * (size_t)d * (size_t)d);
    if (cholesky_solve(a, d, g, step) == 0)
        return ARR_OK;
    double top = 1;
    for (int j = 0; j < d; j++)
        top = fmax(top, h[j * d + j]);
    memcpy(a, h, sizeof(double) * (size_t)d * (size_t)d);
    for (int j = 0; j < d; j++)
        a[j * d + j] += 1e-10 * top;
    if (cholesky_solve(a, d, g, step) == 0)
        return ARR_OK;
    return arr_errbuf_fail(ARR_EINVAL, why, len,
                           "x: the features are collinear; fit with opts.l2 > 0");
}

/* Counts, checks and standardises: fills c (but d, feat of the non-constant features only)
 * and the fit's mean/scale/constant. */
static arr_err prepare(fit_ctx *c, const scoring_train_opts *o, scoring_train_fit_result *r,
                       size_t *pos, char *why, size_t len)
{
    double sum[SF_COUNT] = {0}, ss[SF_COUNT] = {0};
    int64_t rows = 0;
    *pos = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->include && !c->include[i])
            continue;
        if (c->y[i] > 1)
            return arr_errbuf_fail(ARR_EINVAL, why, len, "y[%zu]: must be 0 or 1", i);
        const double *row = c->x + i * SF_COUNT;
        for (int f = 0; f < SF_COUNT; f++) {
            if (!(o->mask & (1u << f)))
                continue;
            if (!isfinite(row[f]))
                return arr_errbuf_fail(ARR_EINVAL, why, len, "x[%zu].%s: not finite", i, fname(f));
            sum[f] += o->has_clip[f] ? clipped(row[f], o->clip_lo[f], o->clip_hi[f]) : row[f];
        }
        *pos += c->y[i];
        rows++;
    }
    if (rows == 0)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "x: no rows to fit");
    if (*pos == 0 || *pos == (size_t)rows)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "y: both classes are needed");
    for (int f = 0; f < SF_COUNT; f++)
        r->mean[f] = (o->mask & (1u << f)) ? sum[f] / (double)rows : 0;
    /* Second pass for the variance: the one-pass formula loses digits when mean >> std. */
    for (size_t i = 0; i < c->n; i++) {
        if (c->include && !c->include[i])
            continue;
        const double *row = c->x + i * SF_COUNT;
        for (int f = 0; f < SF_COUNT; f++) {
            if (!(o->mask & (1u << f)))
                continue;
            double v = o->has_clip[f] ? clipped(row[f], o->clip_lo[f], o->clip_hi[f]) : row[f];
            ss[f] += (v - r->mean[f]) * (v - r->mean[f]);
        }
    }
    c->d = 1;
    for (int f = 0; f < SF_COUNT; f++) {
        r->scale[f] = 1;
        if (!(o->mask & (1u << f)))
            continue;
        double sd = sqrt(ss[f] / (double)rows);
        /* The mean of equal values need not be exactly that value: rounding leaves a tiny
         * spread that must not pass for variance. */
        if (!(sd > 1e-12 * fmax(1, fabs(r->mean[f])))) {
            r->constant |= 1u << f;
            continue;
        }
        r->scale[f] = sd;
        int j = c->d++;
        c->feat[j] = f;
        c->mean[j] = r->mean[f];
        c->inv[j] = 1 / sd;
        c->lo[j] = o->has_clip[f] ? o->clip_lo[f] : -INFINITY;
        c->hi[j] = o->has_clip[f] ? o->clip_hi[f] : INFINITY;
    }
    r->rows = rows;
    return ARR_OK;
}

arr_err scoring_train_fit(const double *x, const uint8_t *y, const uint8_t *include, size_t n,
                          const scoring_train_opts *opts, scoring_train_fit_result *out, char *why,
                          size_t len)
{
    arr_err e = check_opts(opts, why, len);
    if (e != ARR_OK)
        return e;
    if (!x || !y)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "x: no rows to fit");
    fit_ctx c = {.x = x, .y = y, .include = include, .n = n};
    scoring_train_fit_result r;
    memset(&r, 0, sizeof r);
    r.mask = opts->mask;
    r.l2 = opts->l2;
    size_t pos;
    e = prepare(&c, opts, &r, &pos, why, len);
    if (e != ARR_OK)
        return e;

    const int d = c.d;
    double *h = malloc(sizeof(double) * NPARAM * NPARAM); /* off the stack: 2.3 KB x 2 */
    if (!h)
        return ARR_ENOMEM;
    double beta[NPARAM] = {0}, prev[NPARAM] = {0}, step[NPARAM] = {0}, g[NPARAM];
    double ybar = (double)pos / (double)r.rows;
    beta[0] = log(ybar / (1 - ybar)); /* the exact answer when no feature matters */
    double prev_obj = INFINITY;
    int it = 0;
    while (it < opts->max_iter) {
        it++;
        double pen = 0;
        for (int j = 1; j < d; j++)
            pen += beta[j] * beta[j];
        double obj = pass(&c, beta, g, h) + 0.5 * opts->l2 * pen;
        if (!(obj <= prev_obj + 1e-12 * fabs(prev_obj))) {
            /* Worse than where the step started (never on the first iteration): halve it. */
            double big = 0;
            for (int j = 0; j < d; j++) {
                step[j] *= 0.5;
                beta[j] = prev[j] - step[j];
                big = fmax(big, fabs(step[j]));
            }
            if (big < opts->tol) {
                memcpy(beta, prev, sizeof beta);
                r.converged = 1; /* no step improves: prev is the minimum to tolerance */
                break;
            }
            continue;
        }
        for (int j = 1; j < d; j++) {
            g[j] += opts->l2 * beta[j];
            h[j * d + j] += opts->l2;
        }
        e = newton_step(h, g, d, step, why, len);
        if (e != ARR_OK) {
            free(h);
            return e;
        }
        memcpy(prev, beta, sizeof beta);
        prev_obj = obj;
        double big = 0;
        for (int j = 0; j < d; j++) {
            beta[j] -= step[j];
            big = fmax(big, fabs(step[j]));
        }
        if (big < opts->tol) {
            r.converged = 1;
            break;
        }
    }
    free(h);
    double pen = 0;
    for (int j = 1; j < d; j++)
        pen += beta[j] * beta[j];
    double loss = pass(&c, beta, NULL, NULL);
    if (loss + 0.5 * opts->l2 * pen > prev_obj) { /* max_iter hit mid-backtrack */
        memcpy(beta, prev, sizeof beta);
        loss = pass(&c, beta, NULL, NULL);
    }
    r.iterations = it;
    r.log_loss = loss / (double)r.rows;
    r.intercept = beta[0];
    for (int j = 1; j < d; j++)
        r.coef[c.feat[j]] = beta[j];
    for (int f = 0; f < SF_COUNT; f++) {
        if (!(opts->mask & (1u << f)))
            continue;
        r.has_clip[f] = opts->has_clip[f];
        r.clip_lo[f] = opts->has_clip[f] ? opts->clip_lo[f] : 0;
        r.clip_hi[f] = opts->has_clip[f] ? opts->clip_hi[f] : 0;
    }
    *out = r;
    return ARR_OK;
}

/* ------------------------------------------------------------------ to a model */

static arr_err copy_text(char *dst, size_t size, const char *src, const char *field, char *why,
                         size_t len)
{
    if (strlen(src) >= size)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "meta.%s: longer than %zu bytes", field,
                               size - 1);
    memcpy(dst, src, strlen(src) + 1);
    return ARR_OK;
}

arr_err scoring_train_to_model(const scoring_train_fit_result *fit, const scoring_model *tmpl,
                               const scoring_train_meta *meta, scoring_model **out, char *why,
                               size_t len)
{
    if (!fit || !tmpl || !meta)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "fit, template and meta are all required");
    if (!meta->model_id || !meta->trained_at)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "meta: model_id and trained_at are required");
    const scoring_model_spec *ts = scoring_model_spec_of(tmpl);
    scoring_model_spec *s = calloc(1, sizeof *s);
    if (!s)
        return ARR_ENOMEM;
    arr_err e = copy_text(s->model_id, sizeof s->model_id, meta->model_id, "model_id", why, len);
    if (e == ARR_OK)
        e = copy_text(s->trained_at, sizeof s->trained_at, meta->trained_at, "trained_at", why,
                      len);
    if (e == ARR_OK && meta->since)
        e = copy_text(s->training_since, sizeof s->training_since, meta->since, "since", why, len);
    if (e == ARR_OK && meta->description)
        e = copy_text(s->description, sizeof s->description, meta->description, "description", why,
                      len);
    s->horizon_days = meta->horizon_days ? meta->horizon_days : ts->horizon_days;
    s->has_training = 1;
    s->training_rows = fit->rows;
    s->training_l2 = fit->l2;
    if (meta->metrics) {
        s->has_metrics = 1;
        s->metrics = *meta->metrics;
    }
    s->intercept = fit->intercept;
    for (int f = 0; e == ARR_OK && f < SF_COUNT; f++) {
        if (!(fit->mask & (1u << f)))
            continue;
        const scoring_model_term *tt = &ts->terms[f];
        if (!tt->present) {
            e = arr_errbuf_fail(
                ARR_EINVAL, why, len,
                "features[%s]: not in the template model, so it has no reason codes", fname(f));
            break;
        }
        scoring_model_term *t = &s->terms[f];
        t->present = 1;
        t->mean = fit->mean[f];
        t->scale = fit->scale[f];
        t->coef = fit->coef[f];
        t->has_clip = fit->has_clip[f];
        t->clip_lo = fit->clip_lo[f];
        t->clip_hi = fit->clip_hi[f];
        /* The codes describe the account (small balance), not the direction: when the sign
         * turns, the description of a rising contribution is the old falling one. */
        int flip = tt->coef * fit->coef[f] < 0;
        memcpy(t->reason_up, flip ? tt->reason_down : tt->reason_up, sizeof t->reason_up);
        memcpy(t->reason_down, flip ? tt->reason_up : tt->reason_down, sizeof t->reason_down);
    }
    if (e == ARR_OK)
        e = scoring_model_build(s, out, why, len);
    free(s);
    return e;
}

/* ------------------------------------------------------------------ metrics */

static arr_err check_preds(const double *p, const uint8_t *y, size_t n, size_t *pos, char *why,
                           size_t len)
{
    *pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 0 && p[i] <= 1)) /* NaN fails too */
            return arr_errbuf_fail(ARR_EINVAL, why, len, "p[%zu]: must be a probability in [0, 1]",
                                   i);
        if (y[i] > 1)
            return arr_errbuf_fail(ARR_EINVAL, why, len, "y[%zu]: must be 0 or 1", i);
        *pos += y[i];
    }
    return ARR_OK;
}

typedef struct pred {
    double p;
    uint8_t y;
} pred;

static int pred_cmp(const void *a, const void *b)
{
    double pa = ((const pred *)a)->p, pb = ((const pred *)b)->p;
    return (pa > pb) - (pa < pb);
}

arr_err scoring_train_auc(const double *p, const uint8_t *y, size_t n, double *auc, char *why,
                          size_t len)
{
    size_t pos;
    arr_err e = check_preds(p, y, n, &pos, why, len);
    if (e != ARR_OK)
        return e;
    if (pos == 0 || pos == n)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "y: both classes are needed");
    pred *v = malloc(sizeof *v * n);
    if (!v)
        return ARR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        v[i].p = p[i];
        v[i].y = y[i];
    }
    qsort(v, n, sizeof *v, pred_cmp);
    /* Sum of the positives' ranks (1-based), a tied group sharing the mean of its ranks. The
     * sums stay below 2^53 for any n that fits in memory, so they are exact. */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, gpos = 0;
        while (j < n && v[j].p == v[i].p)
            gpos += v[j++].y;
        rank_sum += (double)gpos * ((double)(i + 1) + (double)j) / 2;
        i = j;
    }
    free(v);
    double np = (double)pos, nn = (double)(n - pos);
    *auc = (rank_sum - np * (np + 1) / 2) / (np * nn);
    return ARR_OK;
}

arr_err scoring_train_log_loss(const double *p, const uint8_t *y, size_t n, double *out, char *why,
                               size_t len)
{
    size_t pos;
    if (n == 0)
        return arr_errbuf_fail(ARR_EINVAL, why, len, "p: no predictions");
    arr_err e = check_preds(p, y, n, &pos, why, len);
    if (e != ARR_OK)
        return e;
    /* Clamp the probability given to what happened: 1 - p is exact for p near 1, whereas
     * 1 - eps rounds, so both kinds of confident mistake cost exactly -log(eps). */
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum -= log(fmax(y[i] ? p[i] : 1 - p[i], SCORING_TRAIN_LOG_LOSS_EPS));
    *out = sum / (double)n;
    return ARR_OK;
}

arr_err scoring_train_calibration(const double *p, const uint8_t *y, size_t n,
                                  scoring_model_calib_bin bins[SCORING_MODEL_CALIB_BINS], char *why,
                                  size_t len)
{
    size_t pos;
    arr_err e = check_preds(p, y, n, &pos, why, len);
    if (e != ARR_OK)
        return e;
    double psum[SCORING_MODEL_CALIB_BINS] = {0};
    int64_t ysum[SCORING_MODEL_CALIB_BINS] = {0};
    memset(bins, 0, sizeof(scoring_model_calib_bin) * SCORING_MODEL_CALIB_BINS);
    for (size_t i = 0; i < n; i++) {
        int b = (int)(p[i] * SCORING_MODEL_CALIB_BINS);
        if (b >= SCORING_MODEL_CALIB_BINS)
            b = SCORING_MODEL_CALIB_BINS - 1;
        bins[b].count++;
        psum[b] += p[i];
        ysum[b] += y[i];
    }
    for (int b = 0; b < SCORING_MODEL_CALIB_BINS; b++) {
        if (!bins[b].count)
            continue;
        bins[b].predicted = psum[b] / (double)bins[b].count;
        bins[b].observed = (double)ysum[b] / (double)bins[b].count;
    }
    return ARR_OK;
}

/* ------------------------------------------------------------------ split */

uint64_t scoring_train_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *s = (const unsigned char *)key; *s; s++) {
        h ^= *s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

int scoring_train_is_holdout(const char *key, double share)
{
    /* FNV-1a's top bits mix poorly for keys that differ only at the end ("ACC-1", "ACC-2"),
     * so the hash goes through the splitmix64 finaliser before it becomes a fraction. */
    uint64_t z = scoring_train_hash(key);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    double u = (double)(z >> 11) * 0x1.0p-53; /* [0, 1) */
    return u < share;
}
