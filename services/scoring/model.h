/* scoring_model: the logistic scorecard that turns a feature vector into the probability that
 * an account pays within the model's horizon, with the reason codes that explain it.
 *
 *   logit = intercept + sum_i coef_i * (clip_i(x_i) - mean_i) / scale_i
 *   probability = 1 / (1 + exp(-logit))
 *
 * A feature absent from the model file contributes 0. Models are files under deploy/models/
 * (format "arrears-scorecard-1", documented in model.c) written by people or by the trainer
 * (train.h); a loaded model is immutable, so one model may score from many threads at once.
 *
 * Pure: no wall clock, no global state. Scoring allocates nothing. */
#ifndef ARREARS_SCORING_MODEL_H
#define ARREARS_SCORING_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/err.h"
#include "features.h"

#define SCORING_MODEL_FORMAT "arrears-scorecard-1"
#define SCORING_MODEL_MAX_REASONS 4
/* A contribution (in logit units) smaller than this names no reason: a feature at its mean
 * explains nothing, and rounding must not make it appear to. */
#define SCORING_MODEL_REASON_EPSILON 1e-6
/* Buffer sizes, NUL included. */
#define SCORING_MODEL_ID_MAX 64   /* ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ */
#define SCORING_MODEL_DATE_MAX 11 /* YYYY-MM-DD */
#define SCORING_MODEL_CODE_MAX 65 /* ^[A-Z][A-Z0-9_]{0,63}$ */
#define SCORING_MODEL_DESC_MAX 1024
#define SCORING_MODEL_CALIB_BINS 10 /* bin i holds predictions in [i/10, (i+1)/10), 1.0 in 9 */

typedef struct scoring_model scoring_model; /* opaque, immutable once built */

/* One feature's term. reason_up names the account when this term raises the probability
 * (positive contribution), reason_down when it lowers it; the same code in both is allowed. */
typedef struct scoring_model_term {
    int present; /* 0: the feature is not in the model; the rest is ignored */
    double mean;
    double scale; /* > 0 */
    double coef;  /* in standardised units */
    int has_clip; /* raw values are clipped to [clip_lo, clip_hi] before standardising */
    double clip_lo, clip_hi;
    char reason_up[SCORING_MODEL_CODE_MAX];
    char reason_down[SCORING_MODEL_CODE_MAX];
} scoring_model_term;

typedef struct scoring_model_calib_bin {
    int64_t count;
    double predicted; /* mean predicted probability in the bin; 0 when empty */
    double observed;  /* observed rate of label 1 in the bin; 0 when empty */
} scoring_model_calib_bin;

typedef struct scoring_model_metrics {
    double auc;      /* [0, 1] */
    double log_loss; /* >= 0 */
    int64_t holdout_rows;
    int has_calibration;
    scoring_model_calib_bin calibration[SCORING_MODEL_CALIB_BINS];
} scoring_model_metrics;

/* Everything a model file says, as a plain value: copy it, change it, build a new model. */
typedef struct scoring_model_spec {
    char model_id[SCORING_MODEL_ID_MAX];
    char trained_at[SCORING_MODEL_DATE_MAX];
    int horizon_days;                         /* 1..365 */
    char description[SCORING_MODEL_DESC_MAX]; /* "" when absent */
    int has_training;
    int64_t training_rows;
    char training_since[SCORING_MODEL_DATE_MAX]; /* "" when absent */
    double training_l2;
    int has_metrics; /* a hand-set model has none */
    scoring_model_metrics metrics;
    double intercept;
    scoring_model_term terms[SF_COUNT]; /* indexed by scoring_feature */
} scoring_model_spec;

typedef struct scoring_model_result {
    double probability; /* exactly 0 or 1 only when the logit saturates a double */
    int probability_bp; /* probability in basis points, rounded: 0..10000 */
    double logit;
    int n_reasons; /* 0..SCORING_MODEL_MAX_REASONS */
    /* Largest |contribution| first, ties by feature order; each code once. The strings belong
     * to the model and live as long as it; entries past n_reasons are NULL / -1 / 0. */
    const char *reasons[SCORING_MODEL_MAX_REASONS];
    int reason_features[SCORING_MODEL_MAX_REASONS]; /* scoring_feature */
    double reason_contributions[SCORING_MODEL_MAX_REASONS];
} scoring_model_result;

/* Validates spec (copied; the caller keeps it) and precomputes the scoring terms.
 * ARR_EINVAL with why naming the field ("features[balance_log].scale: must be > 0"),
 * ARR_ENOMEM. *out is the caller's, freed with scoring_model_free. */
arr_err scoring_model_build(const scoring_model_spec *spec, scoring_model **out, char *why,
                            size_t len);
/* A model from its JSON document (borrowed). ARR_EINVAL with why naming the field
 * ("features[3].scale: must be > 0"), ARR_ENOMEM. */
arr_err scoring_model_parse(json_t *doc, scoring_model **out, char *why, size_t len);
/* A model from a file: ARR_ENOTFOUND when it does not exist, ARR_EIO when it cannot be read,
 * ARR_EINVAL when it is not a valid model (why names the file position or the field). */
arr_err scoring_model_load(const char *path, scoring_model **out, char *why, size_t len);
/* NULL is allowed. */
void scoring_model_free(scoring_model *m);

/* The model's document (new reference; NULL on allocation failure). Reals are written with
 * 17 significant digits, so parsing it back scores bit for bit the same. */
json_t *scoring_model_to_json(const scoring_model *m);
/* Borrowed from the model. */
const char *scoring_model_id(const scoring_model *m);
const scoring_model_spec *scoring_model_spec_of(const scoring_model *m);

/* 1 when id is a valid model_id: ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$. */
int scoring_model_id_valid(const char *id);
/* 1 when s is a real calendar date YYYY-MM-DD, years 0001 to 9999 (trained_at, since). */
int scoring_model_date_valid(const char *s);
/* A probability (0..1) in basis points, rounded half away from zero: what probability_bp
 * holds, for whoever recomputes it from a stored probability. */
int scoring_model_bp(double p);

/* The hot path. x holds raw feature values (as features.c computes them); a value that is
 * not finite after clipping (NaN, or an infinity with no clip) counts as missing and
 * contributes 0. out is fully written. */
void scoring_model_score(const scoring_model *m, const double x[SF_COUNT],
                         scoring_model_result *out);

#endif
