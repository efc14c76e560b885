#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "arrears/envelope.h"

#define EVENT_ID "0190b9e4-1c2d-7abc-8def-0123456789ab"
#define CAUSE_ID "0190b9e4-0a00-7000-8000-000000000001"
#define T_EVENT 1767323045006LL /* 2026-01-02T03:04:05.006Z */
#define T_PRODUCED 1767323045120LL

/* The fields of a valid message, one macro each, so every malformed row below differs from
 * a valid message in exactly one place. */
#define F_ID "\"event_id\":\"" EVENT_ID "\""
#define F_TYPE "\"event_type\":\"account.placed\""
#define F_VER "\"schema_version\":1"
#define F_TEN "\"tenant\":\"acme-water\""
#define F_ACC "\"account\":\"ACC/42\""
#define F_ET "\"event_time\":\"2026-01-02T03:04:05.006Z\""
#define F_PA "\"produced_at\":\"2026-01-02T03:04:05.120Z\""
#define F_CAU "\"causation_id\":\"" CAUSE_ID "\""
#define F_COR "\"correlation_id\":\"" CAUSE_ID "\""
#define F_PROD                                                                                     \
    "\"producer\":{\"service\":\"ingest\",\"version\":\"0.1.0\",\"instance\":\"ingest-1\"}"
#define F_PAY "\"payload\":{\"account_id\":\"ACC/42\",\"balance_cents\":4000}"

#define MSG(a, b, c, d, e, f, g, h, i, j, k)                                                       \
    "{" a "," b "," c "," d "," e "," f "," g "," h "," i "," j "," k "}"
#define VALID MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD, F_PAY)

#define A16 "aaaaaaaaaaaaaaaa"
#define A128 A16 A16 A16 A16 A16 A16 A16 A16

static void fill_valid(arr_envelope *env)
{
    arr_envelope_init(env);
    strcpy(env->event_id, EVENT_ID);
    strcpy(env->event_type, "account.placed");
    env->schema_version = 1;
    strcpy(env->tenant, "acme-water");
    strcpy(env->account, "ACC/42");
    env->event_time_ms = T_EVENT;
    env->produced_at_ms = T_PRODUCED;
    strcpy(env->causation_id, CAUSE_ID);
    strcpy(env->correlation_id, CAUSE_ID);
    strcpy(env->producer_service, "ingest");
    strcpy(env->producer_version, "0.1.0");
    strcpy(env->producer_instance, "ingest-1");
    env->payload = json_pack("{s:s, s:i}", "account_id", "ACC/42", "balance_cents", 4000);
    cr_assert_not_null(env->payload);
}

static void assert_cleared(const arr_envelope *env)
{
    arr_envelope zero;
    memset(&zero, 0, sizeof zero);
    cr_assert_null(env->payload);
    cr_assert_eq(memcmp(env, &zero, sizeof zero), 0, "envelope not cleared");
}

Test(envelope_encode, exact_compact_form_in_fixed_order)
{
    arr_envelope env;
    fill_valid(&env);
    char *out = NULL, err[256] = "";
    size_t len = 0;
    cr_assert_eq(arr_envelope_encode(&env, &out, &len, err, sizeof err), ARR_OK, "%s", err);
    cr_assert_str_eq(out, VALID);
    cr_assert_eq(len, strlen(VALID));
    free(out);
    arr_envelope_clear(&env);
}

Test(envelope_encode, empty_causation_is_null)
{
    arr_envelope env;
    fill_valid(&env);
    env.causation_id[0] = '\0';
    char *out = NULL, err[256] = "";
    size_t len = 0;
    cr_assert_eq(arr_envelope_encode(&env, &out, &len, err, sizeof err), ARR_OK, "%s", err);
    cr_assert_not_null(strstr(out, "\"causation_id\":null,"), "%s", out);
    arr_envelope back;
    cr_assert_eq(arr_envelope_decode(out, len, &back, err, sizeof err), ARR_OK, "%s", err);
    cr_assert_str_eq(back.causation_id, "");
    free(out);
    arr_envelope_clear(&back);
    arr_envelope_clear(&env);
}

static void assert_encode_refused(arr_envelope *env, arr_err want, const char *reason)
{
    char *out = NULL, err[256] = "";
    size_t len = 0;
    cr_assert_eq(arr_envelope_encode(env, &out, &len, err, sizeof err), want, "reason: %s", err);
    cr_assert_null(out);
    cr_assert_not_null(strstr(err, reason), "want \"%s\" in \"%s\"", reason, err);
}

Test(envelope_encode, refuses_what_decode_would_reject)
{
    arr_envelope env;
    fill_valid(&env);
    strcpy(env.tenant, "acme/water");
    assert_encode_refused(&env, ARR_EINVAL, "field tenant");
    strcpy(env.tenant, "acme");
    strcpy(env.correlation_id, "");
    assert_encode_refused(&env, ARR_EINVAL, "field correlation_id");
    strcpy(env.correlation_id, CAUSE_ID);
    env.schema_version = 0;
    assert_encode_refused(&env, ARR_EINVAL, "field schema_version");
    env.schema_version = 2;
    env.event_time_ms = -62135596800001LL; /* just before year 1 */
    assert_encode_refused(&env, ARR_EINVAL, "field event_time");
    env.event_time_ms = T_EVENT;
    json_decref(env.payload);
    env.payload = json_array();
    assert_encode_refused(&env, ARR_EINVAL, "field payload");
    arr_envelope_clear(&env);
}

Test(envelope_encode, refuses_an_oversized_message)
{
    arr_envelope env;
    fill_valid(&env);
    char *big = malloc(ARR_MESSAGE_MAX + 1);
    memset(big, 'x', ARR_MESSAGE_MAX);
    big[ARR_MESSAGE_MAX] = '\0';
    json_object_set_new(env.payload, "note", json_string(big));
    free(big);
    assert_encode_refused(&env, ARR_ELIMIT, "message larger than 1048576 bytes");
    arr_envelope_clear(&env);
}

Test(envelope_decode, round_trip)
{
    arr_envelope env, back;
    fill_valid(&env);
    char *out = NULL, err[256] = "";
    size_t len = 0;
    cr_assert_eq(arr_envelope_encode(&env, &out, &len, err, sizeof err), ARR_OK, "%s", err);
    cr_assert_eq(arr_envelope_decode(out, len, &back, err, sizeof err), ARR_OK, "%s", err);
    cr_assert_str_eq(back.event_id, env.event_id);
    cr_assert_str_eq(back.event_type, env.event_type);
    cr_assert_eq(back.schema_version, 1);
    cr_assert_str_eq(back.tenant, env.tenant);
    cr_assert_str_eq(back.account, env.account);
    cr_assert_eq(back.event_time_ms, T_EVENT);
    cr_assert_eq(back.produced_at_ms, T_PRODUCED);
    cr_assert_str_eq(back.causation_id, CAUSE_ID);
    cr_assert_str_eq(back.correlation_id, CAUSE_ID);
    cr_assert_str_eq(back.producer_service, "ingest");
    cr_assert_str_eq(back.producer_version, "0.1.0");
    cr_assert_str_eq(back.producer_instance, "ingest-1");
    cr_assert(json_equal(back.payload, env.payload));
    /* The document is gone; only the envelope holds the payload now. */
    cr_assert_eq(back.payload->refcount, 1);
    free(out);
    arr_envelope_clear(&back);
    assert_cleared(&back);
    arr_envelope_clear(&env);
}

Test(envelope_decode, offsets_and_fractions_become_utc_ms)
{
    const char *msg = MSG(F_ID, F_TYPE, "\"schema_version\":3", F_TEN, F_ACC,
                          "\"event_time\":\"2026-01-02T04:04:05.0069+01:00\"",
                          "\"produced_at\":\"2026-01-01T22:04:05.12-05:00\"",
                          "\"causation_id\":null", F_COR, F_PROD, "\"payload\":{}");
    arr_envelope env;
    char err[256] = "";
    cr_assert_eq(arr_envelope_decode(msg, strlen(msg), &env, err, sizeof err), ARR_OK, "%s", err);
    cr_assert_eq(env.schema_version, 3);
    cr_assert_eq(env.event_time_ms, T_EVENT);
    cr_assert_eq(env.produced_at_ms, T_PRODUCED);
    cr_assert_str_eq(env.causation_id, "");
    arr_envelope_clear(&env);
}

Test(envelope_decode, reads_only_len_bytes)
{
    char *buf = malloc(strlen(VALID) + 8);
    strcpy(buf, VALID);
    memcpy(buf + strlen(VALID), "garbage", 8); /* no NUL right after the message */
    arr_envelope env;
    char err[256] = "";
    cr_assert_eq(arr_envelope_decode(buf, strlen(VALID), &env, err, sizeof err), ARR_OK, "%s", err);
    arr_envelope_clear(&env);
    free(buf);
}

typedef struct bad_case {
    const char *name;
    const char *msg;
    size_t len; /* 0: strlen(msg) */
    const char *reason;
} bad_case;

static const bad_case bad_cases[] = {
    {"not JSON", "hello", 0, "not JSON: "},
    {"empty", "", 0, "not JSON: "},
    {"truncated", VALID, 60, "not JSON: "},
    {"trailing garbage", VALID " x", 0, "not JSON: "},
    {"top level array", "[1,2]", 0, "envelope: must be a JSON object"},
    {"duplicate key",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD,
         F_PAY ",\"tenant\":\"b\""),
     0, "duplicate object key"},
    {"unknown field",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD, F_PAY ",\"extra\":1"),
     0, "field extra: unknown field"},
    {"unknown producer field",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR,
         "\"producer\":{\"service\":\"s\",\"version\":\"1\",\"instance\":\"i\",\"host\":\"h\"}",
         F_PAY),
     0, "field producer.host: unknown field"},
    {"missing tenant",
     "{" F_ID "," F_TYPE "," F_VER "," F_ACC "," F_ET "," F_PA "," F_CAU "," F_COR "," F_PROD
     "," F_PAY "}",
     0, "field tenant: missing"},
    {"missing causation",
     "{" F_ID "," F_TYPE "," F_VER "," F_TEN "," F_ACC "," F_ET "," F_PA "," F_COR "," F_PROD
     "," F_PAY "}",
     0, "field causation_id: missing"},
    {"missing producer instance",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR,
         "\"producer\":{\"service\":\"s\",\"version\":\"1\"}", F_PAY),
     0, "field producer.instance: missing"},
    {"schema_version as string",
     MSG(F_ID, F_TYPE, "\"schema_version\":\"1\"", F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD,
         F_PAY),
     0, "field schema_version: must be an integer >= 1"},
    {"schema_version real",
     MSG(F_ID, F_TYPE, "\"schema_version\":1.0", F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD,
         F_PAY),
     0, "field schema_version: must be an integer >= 1"},
    {"schema_version zero",
     MSG(F_ID, F_TYPE, "\"schema_version\":0", F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD,
         F_PAY),
     0, "field schema_version: must be an integer >= 1"},
    {"schema_version beyond int",
     MSG(F_ID, F_TYPE, "\"schema_version\":2147483648", F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR,
         F_PROD, F_PAY),
     0, "field schema_version: must be an integer >= 1"},
    {"event_id number",
     MSG("\"event_id\":5", F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD, F_PAY), 0,
     "field event_id: must be a string"},
    {"bad uuid",
     MSG("\"event_id\":\"not-a-uuid\"", F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR,
         F_PROD, F_PAY),
     0, "field event_id: must be a canonical lower-case UUID"},
    {"upper-case uuid",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU,
         "\"correlation_id\":\"0190B9E4-0A00-7000-8000-000000000001\"", F_PROD, F_PAY),
     0, "field correlation_id: must be a canonical lower-case UUID"},
    {"empty causation",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, "\"causation_id\":\"\"", F_COR, F_PROD,
         F_PAY),
     0, "field causation_id: must be a canonical lower-case UUID or null"},
    {"null correlation",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, "\"correlation_id\":null", F_PROD,
         F_PAY),
     0, "field correlation_id: must be a string"},
    {"bad event type",
     MSG(F_ID, "\"event_type\":\"Account.Placed\"", F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR,
         F_PROD, F_PAY),
     0, "field event_type: must match"},
    {"impossible date",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, "\"event_time\":\"2026-02-30T00:00:00Z\"", F_PA, F_CAU,
         F_COR, F_PROD, F_PAY),
     0, "field event_time: not an RFC 3339 time"},
    {"time without zone",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, "\"produced_at\":\"2026-01-02T03:04:05\"", F_CAU,
         F_COR, F_PROD, F_PAY),
     0, "field produced_at: not an RFC 3339 time"},
    {"time as number",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, "\"event_time\":1767323045006", F_PA, F_CAU, F_COR,
         F_PROD, F_PAY),
     0, "field event_time: must be a string"},
    {"tenant with slash",
     MSG(F_ID, F_TYPE, F_VER, "\"tenant\":\"acme/water\"", F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD,
         F_PAY),
     0, "field tenant: must match [a-z0-9][a-z0-9_-]{0,63}"},
    {"tenant upper case",
     MSG(F_ID, F_TYPE, F_VER, "\"tenant\":\"Acme\"", F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD,
         F_PAY),
     0, "field tenant: must match"},
    {"tenant empty",
     MSG(F_ID, F_TYPE, F_VER, "\"tenant\":\"\"", F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD, F_PAY), 0,
     "field tenant: must match"},
    {"tenant too long",
     MSG(F_ID, F_TYPE, F_VER, "\"tenant\":\"" A16 A16 A16 A16 "a\"", F_ACC, F_ET, F_PA, F_CAU,
         F_COR, F_PROD, F_PAY),
     0, "field tenant: must match"},
    {"account too long",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, "\"account\":\"" A128 "a\"", F_ET, F_PA, F_CAU, F_COR, F_PROD,
         F_PAY),
     0, "field account: must be 1 to 128 printable ASCII characters"},
    {"account with space",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, "\"account\":\"ACC 42\"", F_ET, F_PA, F_CAU, F_COR, F_PROD,
         F_PAY),
     0, "field account: must be"},
    {"account with NUL", /* jansson refuses \u0000 unless asked to allow it */
     MSG(F_ID, F_TYPE, F_VER, F_TEN, "\"account\":\"ACC\\u000042\"", F_ET, F_PA, F_CAU, F_COR,
         F_PROD, F_PAY),
     0, "not JSON: "},
    {"invalid UTF-8",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, "\"account\":\"ACC\xff\"", F_ET, F_PA, F_CAU, F_COR, F_PROD,
         F_PAY),
     0, "not JSON: "},
    {"producer not object",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, "\"producer\":\"ingest\"",
         F_PAY),
     0, "field producer: must be an object"},
    {"producer service with space",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR,
         "\"producer\":{\"service\":\"in gest\",\"version\":\"1\",\"instance\":\"i\"}", F_PAY),
     0, "field producer.service: must be"},
    {"payload array",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD, "\"payload\":[]"), 0,
     "field payload: must be an object"},
    {"payload null",
     MSG(F_ID, F_TYPE, F_VER, F_TEN, F_ACC, F_ET, F_PA, F_CAU, F_COR, F_PROD, "\"payload\":null"),
     0, "field payload: must be an object"},
};

Test(envelope_decode, rejects_malformed_messages_with_a_reason)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        arr_envelope env;
        memset(&env, 0x5a, sizeof env); /* decode must not trust what was there */
        char err[512] = "";
        size_t len = c->len ? c->len : strlen(c->msg);
        arr_err e = arr_envelope_decode(c->msg, len, &env, err, sizeof err);
        cr_expect_eq(e, ARR_EDECODE, "%s: got %d (%s)", c->name, e, err);
        cr_expect_not_null(strstr(err, c->reason), "%s: want \"%s\" in \"%s\"", c->name, c->reason,
                           err);
        cr_expect_null(env.payload, "%s: payload left behind", c->name);
        cr_expect_eq(env.event_id[0], '\0', "%s: envelope not cleared", c->name);
    }
}

Test(envelope_decode, sanity_of_the_table_base)
{
    arr_envelope env;
    char err[256] = "";
    cr_assert_eq(arr_envelope_decode(VALID, strlen(VALID), &env, err, sizeof err), ARR_OK, "%s",
                 err);
    arr_envelope_clear(&env);
}

Test(envelope_decode, not_json_reason_has_line_and_column)
{
    const char *msg = "{\n\"event_id\": }";
    arr_envelope env;
    char err[256] = "";
    cr_assert_eq(arr_envelope_decode(msg, strlen(msg), &env, err, sizeof err), ARR_EDECODE);
    cr_assert_not_null(strstr(err, "at line 2 column"), "%s", err);
}

Test(envelope_decode, oversized_message_is_refused_before_parsing)
{
    size_t len = ARR_MESSAGE_MAX + 1;
    char *buf = malloc(len);
    memset(buf, ' ', len);
    memcpy(buf, VALID, strlen(VALID)); /* valid JSON followed by whitespace */
    arr_envelope env;
    char err[256] = "";
    cr_assert_eq(arr_envelope_decode(buf, len, &env, err, sizeof err), ARR_EDECODE);
    cr_assert_str_eq(err, "message larger than 1048576 bytes");
    assert_cleared(&env);
    /* One byte less is the same message within the cap. */
    cr_assert_eq(arr_envelope_decode(buf, len - 1, &env, err, sizeof err), ARR_OK, "%s", err);
    arr_envelope_clear(&env);
    free(buf);
}

static arr_envelope decoded_cause(void)
{
    arr_envelope cause;
    char err[256] = "";
    cr_assert_eq(arr_envelope_decode(VALID, strlen(VALID), &cause, err, sizeof err), ARR_OK);
    return cause;
}

Test(envelope_derive, inherits_from_the_cause)
{
    arr_envelope cause = decoded_cause(), out;
    json_t *payload = json_object();
    json_incref(payload); /* keep one to watch the count */
    cr_assert_eq(arr_envelope_derive(&out, &cause, "score.computed", 1, NULL, payload, "scoring",
                                     "0.1.0", "scoring-1", T_PRODUCED),
                 ARR_OK);
    cr_assert(arr_uuid_valid(out.event_id));
    cr_assert_eq(out.event_id[14], '7');
    cr_assert_str_neq(out.event_id, cause.event_id);
    cr_assert_str_eq(out.event_type, "score.computed");
    cr_assert_str_eq(out.tenant, "acme-water");
    cr_assert_str_eq(out.account, "ACC/42");
    cr_assert_str_eq(out.causation_id, EVENT_ID);
    cr_assert_str_eq(out.correlation_id, CAUSE_ID);
    cr_assert_str_eq(out.producer_service, "scoring");
    cr_assert_eq(out.produced_at_ms, T_PRODUCED);
    cr_assert_eq(out.payload, payload);
    cr_assert_eq(payload->refcount, 2);
    arr_envelope_clear(&out);
    cr_assert_eq(payload->refcount, 1);
    json_decref(payload);
    arr_envelope_clear(&cause);
}

Test(envelope_derive, v7_id_carries_produced_at)
{
    arr_envelope out;
    /* 0x0190b9e41c2d ms */
    cr_assert_eq(arr_envelope_derive(&out, NULL, "payment.received", 1, NULL, json_object(),
                                     "reconciliation", "0.1.0", "r-1", 0x0190b9e41c2dLL),
                 ARR_OK);
    cr_assert_eq(strncmp(out.event_id, "0190b9e4-1c2d-7", 15), 0, "%s", out.event_id);
    arr_envelope_clear(&out);
}

Test(envelope_derive, named_ids_are_deterministic)
{
    arr_envelope cause = decoded_cause(), a, b, c;
    cr_assert_eq(arr_envelope_derive(&a, &cause, "score.computed", 1, "score", json_object(), "s",
                                     "1", "i", T_PRODUCED),
                 ARR_OK);
    cr_assert_eq(arr_envelope_derive(&b, &cause, "score.computed", 1, "score", json_object(), "s",
                                     "1", "i", T_PRODUCED + 99999),
                 ARR_OK);
    cr_assert_eq(arr_envelope_derive(&c, &cause, "score.computed", 1, "other", json_object(), "s",
                                     "1", "i", T_PRODUCED),
                 ARR_OK);
    char want[ARR_UUID_STRLEN];
    cr_assert_eq(arr_uuid_named(EVENT_ID, "score", want), ARR_OK);
    cr_assert_str_eq(a.event_id, want);
    cr_assert_str_eq(a.event_id, b.event_id);
    cr_assert_str_neq(a.event_id, c.event_id);
    cr_assert_eq(a.event_id[14], '8');
    arr_envelope_clear(&a);
    arr_envelope_clear(&b);
    arr_envelope_clear(&c);
    arr_envelope_clear(&cause);
}

Test(envelope_derive, without_cause_starts_a_chain)
{
    arr_envelope out;
    cr_assert_eq(arr_envelope_derive(&out, NULL, "account.submitted", 1, NULL, json_object(),
                                     "ingest", "0.1.0", "ingest-1", T_PRODUCED),
                 ARR_OK);
    cr_assert_str_eq(out.causation_id, "");
    cr_assert_str_eq(out.correlation_id, out.event_id);
    cr_assert_str_eq(out.tenant, "");
    arr_envelope_clear(&out);
}

Test(envelope_derive, refuses_bad_arguments_and_still_takes_the_payload)
{
    arr_envelope out;
    json_t *payload = json_object();
    json_incref(payload);
    cr_assert_eq(arr_envelope_derive(&out, NULL, "nodot", 1, NULL, payload, "s", "1", "i", 0),
                 ARR_EINVAL);
    cr_assert_eq(payload->refcount, 1);
    assert_cleared(&out);
    cr_assert_eq(arr_envelope_derive(&out, NULL, "a.b", 0, NULL, json_array(), "s", "1", "i", 0),
                 ARR_EINVAL);
    cr_assert_eq(arr_envelope_derive(&out, NULL, "a.b", 1, NULL, json_object(), "", "1", "i", 0),
                 ARR_EINVAL);
    json_decref(payload);
}

Test(envelope_derive, result_encodes_once_times_are_set)
{
    arr_envelope cause = decoded_cause(), out;
    cr_assert_eq(arr_envelope_derive(&out, &cause, "score.computed", 2, "score",
                                     json_pack("{s:f}", "probability", 0.25), "scoring", "0.1.0",
                                     "scoring-1", T_PRODUCED),
                 ARR_OK);
    out.event_time_ms = cause.event_time_ms;
    char *text = NULL, err[256] = "";
    size_t len = 0;
    cr_assert_eq(arr_envelope_encode(&out, &text, &len, err, sizeof err), ARR_OK, "%s", err);
    arr_envelope back;
    cr_assert_eq(arr_envelope_decode(text, len, &back, err, sizeof err), ARR_OK, "%s", err);
    cr_assert_str_eq(back.event_id, out.event_id);
    cr_assert_eq(back.schema_version, 2);
    free(text);
    arr_envelope_clear(&back);
    arr_envelope_clear(&out);
    arr_envelope_clear(&cause);
}

Test(envelope_key, tenant_slash_account)
{
    arr_envelope env;
    fill_valid(&env);
    char key[ARR_KEY_MAX];
    cr_assert_eq(arr_envelope_key(&env, key, sizeof key), ARR_OK);
    cr_assert_str_eq(key, "acme-water/ACC/42");
    cr_assert_eq(arr_envelope_key(&env, key, 17), ARR_ELIMIT);
    cr_assert_eq(arr_envelope_key(&env, key, 18), ARR_OK);
    strcpy(env.account, A128);
    strcpy(env.tenant, A16 A16 A16 A16);
    cr_assert_eq(arr_envelope_key(&env, key, sizeof key), ARR_OK);
    cr_assert_eq(strlen(key), ARR_KEY_MAX - 1);
    env.tenant[0] = '\0';
    cr_assert_eq(arr_envelope_key(&env, key, sizeof key), ARR_EINVAL);
    arr_envelope_clear(&env);
}

Test(envelope_fields, tenant)
{
    cr_assert(arr_tenant_valid("a"));
    cr_assert(arr_tenant_valid("0"));
    cr_assert(arr_tenant_valid("acme_water-2"));
    cr_assert(arr_tenant_valid(A16 A16 A16 A16));
    cr_assert_not(arr_tenant_valid(A16 A16 A16 A16 "a"));
    cr_assert_not(arr_tenant_valid(""));
    cr_assert_not(arr_tenant_valid("-acme"));
    cr_assert_not(arr_tenant_valid("_acme"));
    cr_assert_not(arr_tenant_valid("Acme"));
    cr_assert_not(arr_tenant_valid("acme/x"));
    cr_assert_not(arr_tenant_valid("acme.x"));
    cr_assert_not(arr_tenant_valid(NULL));
}

Test(envelope_fields, account)
{
    cr_assert(arr_account_valid("!"));
    cr_assert(arr_account_valid("~ACC/42#x"));
    cr_assert(arr_account_valid(A128));
    cr_assert_not(arr_account_valid(A128 "a"));
    cr_assert_not(arr_account_valid(""));
    cr_assert_not(arr_account_valid("ACC 42"));
    cr_assert_not(arr_account_valid("ACC\t42"));
    cr_assert_not(arr_account_valid("ACC\x7f"));
    cr_assert_not(arr_account_valid("caf\xc3\xa9"));
    cr_assert_not(arr_account_valid(NULL));
}

Test(envelope_fields, event_type)
{
    cr_assert(arr_event_type_valid("a.b"));
    cr_assert(arr_event_type_valid("account.placed"));
    cr_assert(arr_event_type_valid("plan.instalment_missed"));
    cr_assert(arr_event_type_valid("a1_x.b2.c3"));
    cr_assert(arr_event_type_valid("a." A16 A16 A16 "abcdefghijklmn"));
    cr_assert_not(arr_event_type_valid("a." A16 A16 A16 "abcdefghijklmno"));
    cr_assert_not(arr_event_type_valid("account"));
    cr_assert_not(arr_event_type_valid("Account.placed"));
    cr_assert_not(arr_event_type_valid("account..placed"));
    cr_assert_not(arr_event_type_valid(".account.placed"));
    cr_assert_not(arr_event_type_valid("account.placed."));
    cr_assert_not(arr_event_type_valid("account.1placed"));
    cr_assert_not(arr_event_type_valid("_account.placed"));
    cr_assert_not(arr_event_type_valid("account.pla-ced"));
    cr_assert_not(arr_event_type_valid(""));
    cr_assert_not(arr_event_type_valid(NULL));
}

/* The text encoder is the tree encoder's twin: same bytes, with or without a cause. */
Test(envelope_encode, text_payload_gives_the_same_bytes)
{
    for (int cause = 0; cause < 2; cause++) {
        arr_envelope env;
        fill_valid(&env);
        if (!cause)
            env.causation_id[0] = '\0';
        char *want = NULL, err[256] = "";
        size_t len = 0;
        cr_assert_eq(arr_envelope_encode(&env, &want, &len, err, sizeof err), ARR_OK, "%s", err);
        char *payload = json_dumps(env.payload, JSON_COMPACT);
        arr_buf b;
        arr_buf_init(&b, ARR_MESSAGE_MAX * 2);
        cr_assert_eq(arr_buf_append(&b, "x", 1), ARR_OK);
        cr_assert_eq(arr_envelope_encode_text(&env, payload, strlen(payload), &b, err, sizeof err),
                     ARR_OK, "%s", err);
        cr_assert_str_eq(b.data + 1, want);
        /* refused without touching what the buffer held */
        strcpy(env.tenant, "Bad Tenant");
        cr_assert_eq(arr_envelope_encode_text(&env, payload, strlen(payload), &b, err, sizeof err),
                     ARR_EINVAL);
        cr_assert_eq(b.len, 1 + len);
        cr_assert_eq(arr_envelope_encode_text(&env, "[1]", 3, &b, err, sizeof err), ARR_EINVAL);
        free(payload);
        free(want);
        arr_buf_free(&b);
        arr_envelope_clear(&env);
    }
}

/* A tick addressed to some services is for those only; one that names none is for all. */
Test(envelope_services, an_event_is_for_the_services_it_names)
{
    json_t *all = json_pack("{s:s, s:i}", "day", "2026-12-01", "partition", 3);
    json_t *two = json_pack("{s:s, s:[s, s]}", "day", "2026-12-01", "services", "scoring",
                            "reconciliation");
    json_t *odd = json_pack("{s:s}", "services", "outreach"); /* not an array: for all */
    cr_expect(arr_event_for_service(all, "outreach"));
    cr_expect(arr_event_for_service(two, "scoring"));
    cr_expect(arr_event_for_service(two, "reconciliation"));
    cr_expect_not(arr_event_for_service(two, "outreach"));
    cr_expect_not(arr_event_for_service(two, "score"));
    cr_expect(arr_event_for_service(odd, "scoring"));
    json_decref(all);
    json_decref(two);
    json_decref(odd);
}
