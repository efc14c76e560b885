#include "arrears/deadletter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* Kafka values are bytes; JSON wants UTF-8. Keep text as text, anything else as base64. */
static json_t *raw_field(const char *data, size_t len, const char **encoding)
{
    /* jansson accepts NUL inside a string, but decoders refuse it: such bytes go as base64. */
    json_t *s = NULL;
    if (!data)
        s = json_string("");
    else if (!memchr(data, 0, len))
        s = json_stringn(data, len);
    if (s) {
        *encoding = "utf8";
        return s;
    }
    if (sodium_init() < 0)
        return NULL;
    size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    if (!b64)
        return NULL;
    sodium_bin2base64(b64, b64len, (const unsigned char *)data, len,
                      sodium_base64_VARIANT_ORIGINAL);
    s = json_string(b64);
    free(b64);
    *encoding = "base64";
    return s;
}

static void key_parts(const arr_kafka_msg *msg, char *tenant, char *account)
{
    strcpy(tenant, "unknown");
    strcpy(account, "unknown");
    if (!msg->key || msg->key_len >= ARR_KEY_MAX)
        return;
    char k[ARR_KEY_MAX];
    memcpy(k, msg->key, msg->key_len);
    k[msg->key_len] = '\0';
    char *slash = strchr(k, '/');
    if (!slash)
        return;
    *slash = '\0';
    if (arr_tenant_valid(k) && arr_account_valid(slash + 1)) {
        strcpy(tenant, k);
        strcpy(account, slash + 1);
    }
}

arr_err arr_deadletter_build(const arr_kafka_msg *msg, const char *reason,
                             const arr_producer_id *who, int64_t now_ms, char **value,
                             size_t *value_len, char key[ARR_KEY_MAX],
                             char event_id[ARR_UUID_STRLEN])
{
    const char *enc = "utf8", *key_enc = "utf8";
    json_t *raw = raw_field(msg->value, msg->value_len, &enc);
    json_t *raw_key = msg->key ? raw_field(msg->key, msg->key_len, &key_enc) : json_null();
    json_t *payload = json_object();
    if (!raw || !raw_key || !payload) {
        json_decref(raw);
        json_decref(raw_key);
        json_decref(payload);
        return ARR_ENOMEM;
    }
    json_object_set_new(payload, "source_topic", json_string(msg->topic));
    json_object_set_new(payload, "partition", json_integer(msg->partition));
    json_object_set_new(payload, "offset", json_integer(msg->offset));
    json_object_set_new(payload, "reason", json_string(reason));
    json_object_set_new(payload, "raw", raw);
    json_object_set_new(payload, "raw_encoding", json_string(enc));
    json_object_set_new(payload, "original_key", raw_key);
    if (strcmp(key_enc, "base64") == 0)
        json_object_set_new(payload, "key_encoding", json_string(key_enc));

    arr_envelope env;
    arr_envelope_init(&env);
    char name[512];
    snprintf(name, sizeof(name), "deadletter:%s/%d/%lld", msg->topic, (int)msg->partition,
             (long long)msg->offset);
    arr_err e = arr_uuid_named(who->service, name, env.event_id);
    if (e) {
        json_decref(payload);
        return e;
    }
    snprintf(env.event_type, sizeof(env.event_type), "deadletter.recorded");
    env.schema_version = 1;
    key_parts(msg, env.tenant, env.account);
    env.event_time_ms = now_ms;
    env.produced_at_ms = now_ms;
    memcpy(env.correlation_id, env.event_id, ARR_UUID_STRLEN);
    snprintf(env.producer_service, sizeof(env.producer_service), "%s", who->service);
    snprintf(env.producer_version, sizeof(env.producer_version), "%s", who->version);
    snprintf(env.producer_instance, sizeof(env.producer_instance), "%s", who->instance);
    env.payload = payload;
    char why[256];
    e = arr_envelope_encode(&env, value, value_len, why, sizeof(why));
    if (!e) {
        e = arr_envelope_key(&env, key, ARR_KEY_MAX);
        memcpy(event_id, env.event_id, ARR_UUID_STRLEN);
    }
    arr_envelope_clear(&env);
    return e;
}
