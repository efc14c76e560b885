/* outreach_first_step: what outreach does with a fresh score, before cadences exist.
 * Pure: strategy + event time -> plan one step on a channel, or suppress with a rule id.
 * Every suppression names the stable rule that caused it, for the auditor. */
#ifndef ARREARS_OUTREACH_FIRST_STEP_H
#define ARREARS_OUTREACH_FIRST_STEP_H

#include <stdint.h>
#include <jansson.h>
#include "arrears/err.h"

typedef struct outreach_decision {
    int suppress;        /* 1: no contact */
    const char *rule_id; /* when suppressed, e.g. "value.below_cost" */
    const char *channel; /* when planned: "email", "sms", "voice" */
    int64_t due_at_ms;
} outreach_decision;

/* ARR_EINVAL with why when the score.computed payload lacks a strategy. */
arr_err outreach_first_step(json_t *score_payload, int64_t event_time_ms, outreach_decision *out,
                            char *why, size_t whylen);

#endif
