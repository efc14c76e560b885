#include "placeholder.h"

#include <stdio.h>
#include <string.h>

/* Cost of the cheapest next contact (one email) in cents: below it, contact loses money. */
#define NEXT_CONTACT_COST_CENTS 2

arr_err scoring_input_from_payload(json_t *payload, scoring_input *out, char *why, size_t len)
{
    json_t *bal = json_object_get(payload, "balance_cents");
    json_t *cur = json_object_get(payload, "currency");
    json_t *svc = json_object_get(payload, "service_type");
    memset(out, 0, sizeof(*out));
    if (!json_is_integer(bal)) {
        snprintf(why, len, "field payload.balance_cents: must be an integer");
        return ARR_EINVAL;
    }
    if (!json_is_string(cur) || json_string_length(cur) != 3) {
        snprintf(why, len, "field payload.currency: must be a 3-letter code");
        return ARR_EINVAL;
    }
    if (!json_is_string(svc) || json_string_length(svc) >= sizeof(out->service_type)) {
        snprintf(why, len, "field payload.service_type: must be a service type");
        return ARR_EINVAL;
    }
    out->balance_cents = json_integer_value(bal);
    memcpy(out->currency, json_string_value(cur), 4);
    memcpy(out->service_type, json_string_value(svc), json_string_length(svc) + 1);
    return ARR_OK;
}

void scoring_placeholder(const scoring_input *in, scoring_result *out)
{
    memset(out, 0, sizeof(*out));
    int small = in->balance_cents < 10000;
    out->probability_bp = small ? 6000 : 4000;
    out->reasons[0] = small ? "BALANCE_SMALL" : "BALANCE_LARGE";
    if (strcmp(in->service_type, "medical") == 0) {
        out->probability_bp -= 1000;
        out->reasons[1] = "SERVICE_MEDICAL";
    }
    int64_t bal = in->balance_cents > 0 ? in->balance_cents : 0;
    /* Split so that no intermediate product can overflow, whatever the balance. */
    out->expected_recovery_cents =
        (bal / 10000) * out->probability_bp + (bal % 10000) * out->probability_bp / 10000;
    if (out->expected_recovery_cents < NEXT_CONTACT_COST_CENTS) {
        out->segment = "no-value";
        out->strategy = "do-not-pursue";
    } else if (bal < 5000) {
        out->segment = "low-balance";
        out->strategy = "digital-light";
    } else {
        out->segment = "standard";
        out->strategy = "digital-standard";
    }
}

json_t *scoring_result_payload(const scoring_result *r, const char *currency)
{
    json_t *reasons = json_array();
    for (int i = 0; i < 3 && r->reasons[i]; i++)
        json_array_append_new(reasons, json_string(r->reasons[i]));
    return json_pack(
        "{s:f, s:I, s:s, s:s, s:s, s:o, s:s, s:s}", "probability", r->probability_bp / 10000.0,
        "expected_recovery_cents", (json_int_t)r->expected_recovery_cents, "currency", currency,
        "segment", r->segment, "strategy", r->strategy, "reason_codes", reasons, "model_id",
        SCORING_PLACEHOLDER_MODEL, "strategy_table_version", SCORING_PLACEHOLDER_STRATEGY_TABLE);
}
