#include "events.h"

#include <stdio.h>
#include <string.h>
#include "arrears/hash.h"
#include "arrears/uuid.h"

static arr_err derived_id(const ingest_event_ctx *c, const char *account_id, const char *type,
                          char out[ARR_UUID_STRLEN])
{
    char name[ARR_ACCOUNT_MAX + 80];
    snprintf(name, sizeof(name), "%s/%s/%s", c->import_id, account_id, type);
    return arr_uuid_named(c->tenant, name, out);
}

arr_err ingest_event_placed_id(const ingest_event_ctx *c, const char *account_id,
                               char out[ARR_UUID_STRLEN])
{
    return derived_id(c, account_id, "account.placed", out);
}

arr_err ingest_event_line(const ingest_event_ctx *c, const char *account_id, const char *type,
                          const char *event_id, const char *payload, size_t payload_len,
                          arr_buf *out)
{
    arr_envelope env;
    arr_envelope_init(&env);
    arr_err e = event_id ? ARR_OK : derived_id(c, account_id, type, env.event_id);
    if (event_id)
        memcpy(env.event_id, event_id, ARR_UUID_STRLEN);
    snprintf(env.event_type, sizeof(env.event_type), "%s", type);
    env.schema_version = 1;
    snprintf(env.tenant, sizeof(env.tenant), "%s", c->tenant);
    snprintf(env.account, sizeof(env.account), "%s", account_id);
    env.event_time_ms = c->event_time_ms;
    env.produced_at_ms = c->produced_at_ms;
    snprintf(env.correlation_id, sizeof(env.correlation_id), "%s", c->import_id);
    snprintf(env.producer_service, sizeof(env.producer_service), "%s", c->who->service);
    snprintf(env.producer_version, sizeof(env.producer_version), "%s", c->who->version);
    snprintf(env.producer_instance, sizeof(env.producer_instance), "%s", c->who->instance);
    char key[ARR_KEY_MAX], why[256];
    if (!e)
        e = arr_envelope_key(&env, key, sizeof(key));
    /* "key\tvalue\n" (arr_outbatch's line) by hand: the envelope is encoded straight into
     * out, where arr_outbatch_append would want it as a string of its own first. */
    size_t start = out->len;
    if (!e)
        e = arr_buf_append(out, key, strlen(key));
    if (!e)
        e = arr_buf_append(out, "\t", 1);
    if (!e)
        e = arr_envelope_encode_text(&env, payload, payload_len, out, why, sizeof(why));
    if (!e)
        e = arr_buf_append(out, "\n", 1);
    if (e)
        arr_buf_truncate(out, start);
    arr_envelope_clear(&env);
    return e;
}

int64_t ingest_import_owner(const char *import_id)
{
    return (int64_t)arr_hash_fnv1a64(import_id);
}
