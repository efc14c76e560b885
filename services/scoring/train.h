/* scoring_train: fits the scorecard (model.h) to labelled rows, and measures a model.
 *
 * L2-regularised logistic regression by Newton's method (IRLS). Each used feature is clipped
 * (when the options say so, as the model will clip it) and standardised with the rows' mean
 * and population standard deviation; the coefficients come out in that standardised space,
 * which is exactly what a model file stores. The objective is
 *
 *   sum_i [log(1 + exp(eta_i)) - y_i * eta_i] + (l2 / 2) * sum_j coef_j^2
 *
 * summed (not averaged) over rows, so l2 acts like l2 pseudo-rows of evidence for a zero
 * coefficient; the intercept is not penalised.
 *
 * Pure: no I/O, no wall clock, no global state. Rows are the caller's: the fit allocates
 * O(features^2) and reads the rows a few times per iteration (1,000,000 x 16 is fine); the
 * metrics allocate O(n) at most. */
#ifndef ARREARS_SCORING_TRAIN_H
#define ARREARS_SCORING_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"
#include "features.h"
#include "model.h"

#define SCORING_TRAIN_MASK_ALL ((uint32_t)((1u << SF_COUNT) - 1u))
#define SCORING_TRAIN_DEFAULT_MAX_ITER 50
#define SCORING_TRAIN_DEFAULT_TOL 1e-9
#define SCORING_TRAIN_DEFAULT_L2 1.0
/* The probability given to the observed outcome is floored at eps in the log loss, so one
 * confident mistake costs -log(1e-15) = 34.5 rather than infinity. */
#define SCORING_TRAIN_LOG_LOSS_EPS 1e-15

typedef struct scoring_train_opts {
    uint32_t mask; /* bit f set: feature f is used */
    double l2;     /* >= 0 */
    int max_iter;  /* Newton iterations, step halvings included */
    double tol;    /* converged when no standardised coefficient moves more than this */
    int has_clip[SF_COUNT];
    double clip_lo[SF_COUNT], clip_hi[SF_COUNT];
} scoring_train_opts;

/* The fitted coefficients, in the units of the model file. */
typedef struct scoring_train_fit_result {
    uint32_t mask;     /* the features asked for */
    uint32_t constant; /* those with zero variance: scale 1, coef 0 */
    double intercept;
    double mean[SF_COUNT], scale[SF_COUNT], coef[SF_COUNT]; /* 0, 1, 0 outside the mask */
    int has_clip[SF_COUNT];
    double clip_lo[SF_COUNT], clip_hi[SF_COUNT];
    int64_t rows; /* rows fitted */
    double l2;
    int iterations;
    int converged;   /* 0: max_iter was reached; the coefficients are the last iterate */
    double log_loss; /* mean, unpenalised, on the fitted rows at the final coefficients */
} scoring_train_fit_result;

/* What a trained model file says beyond its coefficients. Strings are the caller's and are
 * copied. */
typedef struct scoring_train_meta {
    const char *model_id;    /* required */
    const char *trained_at;  /* required, YYYY-MM-DD: given, since the trainer has no clock */
    const char *since;       /* optional (NULL): first date of the training data */
    const char *description; /* optional (NULL) */
    int horizon_days;        /* 0: the template's */
    const scoring_model_metrics *metrics; /* optional (NULL): holdout metrics */
} scoring_train_meta;

/* Defaults: every feature, l2 SCORING_TRAIN_DEFAULT_L2, default max_iter and tol, no clip. */
void scoring_train_opts_init(scoring_train_opts *o);
/* Defaults, then the template's features as the mask, its clips, and its training l2 when
 * it has one: retraining keeps the model's shape. */
void scoring_train_opts_from_model(scoring_train_opts *o, const scoring_model *tmpl);

/* x: n rows of SF_COUNT raw values, row-major; y: n labels, each 0 or 1; include: NULL for
 * every row, else rows with include[i] != 0 only (so a holdout needs no copy). All borrowed.
 * ARR_EINVAL with why naming the input ("x[12].balance_log: not finite", "y[3]: must be 0
 * or 1", "y: both classes are needed", "opts.l2: ..."); ARR_ENOMEM. out only on ARR_OK. */
arr_err scoring_train_fit(const double *x, const uint8_t *y, const uint8_t *include, size_t n,
                          const scoring_train_opts *opts, scoring_train_fit_result *out, char *why,
                          size_t len);

/* The model of a fit. Reason codes come from the template (borrowed), so they survive
 * retraining: a feature whose coefficient changed sign gets the template's codes swapped, so
 * a code keeps describing the account (BALANCE_SMALL stays the code of small balances).
 * ARR_EINVAL when a fitted feature has no term in the template, or meta is invalid. *out is
 * the caller's. */
arr_err scoring_train_to_model(const scoring_train_fit_result *fit, const scoring_model *tmpl,
                               const scoring_train_meta *meta, scoring_model **out, char *why,
                               size_t len);

/* Area under the ROC curve by ranks (Mann-Whitney U), tied predictions sharing their average
 * rank; O(n log n), allocates n pairs. ARR_EINVAL when a prediction is not in [0, 1], a label
 * not 0/1, or a class is missing; ARR_ENOMEM. */
arr_err scoring_train_auc(const double *p, const uint8_t *y, size_t n, double *auc, char *why,
                          size_t len);
/* Mean log loss, floored by SCORING_TRAIN_LOG_LOSS_EPS. ARR_EINVAL when n is
 * 0, a prediction not in [0, 1], a label not 0/1. */
arr_err scoring_train_log_loss(const double *p, const uint8_t *y, size_t n, double *out, char *why,
                               size_t len);
/* Reliability bins by predicted probability (bin i: [i/10, (i+1)/10); 1.0 in the last).
 * Counts sum to n. Same errors as the log loss, n = 0 allowed. */
arr_err scoring_train_calibration(const double *p, const uint8_t *y, size_t n,
                                  scoring_model_calib_bin bins[SCORING_MODEL_CALIB_BINS], char *why,
                                  size_t len);

/* 64-bit FNV-1a of a NUL-terminated key. */
uint64_t scoring_train_hash(const char *key);
/* 1 when the key (e.g. "tenant/account") falls in the held-out share (0..1), else 0. Stable
 * across runs and machines: an account stays on its side as data grows. */
int scoring_train_is_holdout(const char *key, double share);

#endif
