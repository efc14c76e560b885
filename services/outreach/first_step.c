#include "first_step.h"

#include <stdio.h>
#include <string.h>

arr_err outreach_first_step(json_t *score_payload, int64_t event_time_ms, outreach_decision *out,
                            char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    const char *strategy = json_string_value(json_object_get(score_payload, "strategy"));
    if (!strategy) {
        snprintf(why, whylen, "field payload.strategy: must be a string");
        return ARR_EINVAL;
    }
    if (strcmp(strategy, "do-not-pursue") == 0) {
        out->suppress = 1;
        out->rule_id = "value.below_cost";
        return ARR_OK;
    }
    /* Email is the cheapest channel: every cadence opens with it. The contact-time rules
     * move it into the consumer's allowed hours when cadences arrive. */
    out->channel = "email";
    out->due_at_ms = event_time_ms;
    return ARR_OK;
}
