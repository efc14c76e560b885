/* scoring_engine: the whole decision for one account at one moment, from its feature state:
 * which arm of the tenant's experiment it belongs to, the model's probability and reason
 * codes, the strategy table's strategy (do-not-pursue when the expected recovery is below the
 * cost of the next contact), and the score.computed payload that says all of it.
 *
 * Pure: no I/O once loaded, no wall clock (as_of is the scored event's time), so the same
 * events scored again give the same payloads, byte for byte.
 *
 * Experiments file (deploy/scoring/experiments.json), per tenant:
 *   {"format": "arrears-experiments-1", "tenants": {"<tenant>": {"experiment": "<id>",
 *     "challenger_share": 0.2, "challenger_model": "<path>", "challenger_strategy": "<path>"}}}
 * Either challenger file may be absent (the champion's is used); relative paths are taken
 * from the experiments file's directory. */
#ifndef ARREARS_SCORING_ENGINE_H
#define ARREARS_SCORING_ENGINE_H

#include <stdint.h>
#include "arrears/buf.h"
#include "arrears/err.h"
#include "features.h"
#include "model.h"
#include "strategy.h"

#define SCORING_ENGINE_EXPERIMENTS_MAX 64

typedef struct scoring_engine scoring_engine; /* owns its models and tables */

typedef struct scoring_decision {
    const char *arm;        /* "champion" or "challenger" */
    const char *experiment; /* NULL when the tenant runs none */
    const char *model_id;   /* strings borrowed from the engine */
    const char *strategy_table_version;
    double x[SF_COUNT]; /* the model's input */
    int days_past_due;
    scoring_status status;
    scoring_model_result score;
    scoring_strategy_decision strategy;
} scoring_decision;

/* experiments_path may be NULL (no experiments). */
arr_err scoring_engine_load(const char *model_path, const char *strategy_path,
                            const char *experiments_path, scoring_engine **out, char *why,
                            size_t whylen);
void scoring_engine_free(scoring_engine *e);
const char *scoring_engine_model_id(const scoring_engine *e);

/* Borrows everything; *out borrows strings from e (valid while e lives). */
arr_err scoring_engine_decide(const scoring_engine *e, const char *tenant, const char *account_id,
                              const scoring_state *st, int64_t as_of_ms, scoring_decision *out);
/* The score.computed payload (schema_version 1) appended to out as compact JSON text.
 * cause_type: the event type that caused the score. */
arr_err scoring_decision_payload(const scoring_decision *d, const scoring_state *st,
                                 const char *cause_type, arr_buf *out);

#endif
