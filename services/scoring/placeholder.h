/* scoring_placeholder: the stand-in model of the foundation, until the scorecard arrives.
 * Pure: the same account gives the same score, whatever the time or the machine. It already
 * has the shape of the real decision: a probability, an expected recovery in cents, a
 * strategy with "do not pursue" when the expected recovery is below the cost of the next
 * contact, and reason codes. */
#ifndef ARREARS_SCORING_PLACEHOLDER_H
#define ARREARS_SCORING_PLACEHOLDER_H

#include <stdint.h>
#include <jansson.h>
#include "arrears/err.h"

#define SCORING_PLACEHOLDER_MODEL "placeholder-0"
#define SCORING_PLACEHOLDER_STRATEGY_TABLE "foundation-0"

typedef struct scoring_input {
    int64_t balance_cents;
    char currency[4];
    char service_type[16];
} scoring_input;

typedef struct scoring_result {
    int probability_bp; /* basis points: 0..10000 */
    int64_t expected_recovery_cents;
    const char *segment;
    const char *strategy;
    const char *reasons[3]; /* NULL-terminated when fewer */
} scoring_result;

/* ARR_EINVAL with why when the account.placed payload lacks what the model needs. */
arr_err scoring_input_from_payload(json_t *payload, scoring_input *out, char *why, size_t len);
void scoring_placeholder(const scoring_input *in, scoring_result *out);
/* The score.computed payload (new reference). */
json_t *scoring_result_payload(const scoring_result *r, const char *currency);

#endif
