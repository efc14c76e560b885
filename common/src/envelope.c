#include "arrears/envelope.h"
#include "arrears/jsonw.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"

static const char RULE_UUID[] = "must be a canonical lower-case UUID";
static const char RULE_NAME[] = "must be 1 to 64 printable ASCII characters without spaces";

/* One rule per text field of the struct, shared by encode and decode so that we never write
 * what we would refuse to read. */
typedef struct text_rule {
    const char *field;
    size_t offset;
    size_t size;
    int (*valid)(const char *s);
    const char *rule;
} text_rule;

static int name_valid(const char *s);
static int causation_valid(const char *s);

#define TEXT_RULE(field, member, valid, rule)                                                      \
    {                                                                                              \
        field, offsetof(arr_envelope, member), sizeof(((arr_envelope *)0)->member), valid, rule    \
    }

enum {
    R_EVENT_ID,
    R_EVENT_TYPE,
    R_TENANT,
    R_ACCOUNT,
    R_CAUSATION,
    R_CORRELATION,
    R_SERVICE,
    R_VERSION,
    R_INSTANCE,
    R__COUNT
};

static const text_rule rules[R__COUNT] = {
    [R_EVENT_ID] = TEXT_RULE("event_id", event_id, arr_uuid_valid, RULE_UUID),
    [R_EVENT_TYPE] = TEXT_RULE("event_type", event_type, arr_event_type_valid,
                               "must match [a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+, at most 64 "
                               "characters"),
    [R_TENANT] =
        TEXT_RULE("tenant", tenant, arr_tenant_valid, "must match [a-z0-9][a-z0-9_-]{0,63}"),
    [R_ACCOUNT] = TEXT_RULE("account", account, arr_account_valid,
                            "must be 1 to 128 printable ASCII characters without spaces"),
    [R_CAUSATION] = TEXT_RULE("causation_id", causation_id, causation_valid,
                              "must be a canonical lower-case UUID or null"),
    [R_CORRELATION] = TEXT_RULE("correlation_id", correlation_id, arr_uuid_valid, RULE_UUID),
    [R_SERVICE] = TEXT_RULE("producer.service", producer_service, name_valid, RULE_NAME),
    [R_VERSION] = TEXT_RULE("producer.version", producer_version, name_valid, RULE_NAME),
    [R_INSTANCE] = TEXT_RULE("producer.instance", producer_instance, name_valid, RULE_NAME),
};

/* Wire order of the envelope; the encoder writes the keys in this order. */
enum {
    F_EVENT_ID,
    F_EVENT_TYPE,
    F_SCHEMA_VERSION,
    F_TENANT,
    F_ACCOUNT,
    F_EVENT_TIME,
    F_PRODUCED_AT,
    F_CAUSATION_ID,
    F_CORRELATION_ID,
    F_PRODUCER,
    F_PAYLOAD,
    F__COUNT
};

static const char *const top_fields[F__COUNT] = {
    "event_id",    "event_type",   "schema_version", "tenant",   "account", "event_time",
    "produced_at", "causation_id", "correlation_id", "producer", "payload",
};

static const char *const producer_fields[3] = {"service", "version", "instance"};

__attribute__((format(printf, 4, 5))) static arr_err fail(arr_err e, char *errbuf, size_t errlen,
                                                          const char *fmt, ...)
{
    if (errbuf && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return e;
}

void arr_envelope_init(arr_envelope *env)
{
    memset(env, 0, sizeof *env);
}

void arr_envelope_clear(arr_envelope *env)
{
    if (env->payload)
        json_decref(env->payload);
    arr_envelope_init(env);
}

static int all_in_range(const char *s, size_t max, int (*ok)(char c, size_t i))
{
    size_t i = 0;
    for (; s[i]; i++)
        if (i >= max || !ok(s[i], i))
            return 0;
    return i > 0;
}

static int tenant_char(char c, size_t i)
{
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    return i > 0 && (c == '_' || c == '-');
}

static int visible_char(char c, size_t i)
{
    (void)i;
    return c >= 0x21 && c <= 0x7e;
}

int arr_tenant_valid(const char *s)
{
    return s && all_in_range(s, ARR_TENANT_MAX, tenant_char);
}

int arr_account_valid(const char *s)
{
    return s && all_in_range(s, ARR_ACCOUNT_MAX, visible_char);
}

static int name_valid(const char *s)
{
    return s && all_in_range(s, ARR_NAME_MAX, visible_char);
}

static int causation_valid(const char *s)
{
    return s && (s[0] == '\0' || arr_uuid_valid(s));
}

int arr_event_type_valid(const char *s)
{
    if (!s)
        return 0;
    size_t len = strlen(s), dots = 0;
    if (len == 0 || len > ARR_EVENT_TYPE_MAX)
        return 0;
    int seg_start = 1;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (seg_start)
                return 0;
            dots++;
            seg_start = 1;
        } else if (c >= 'a' && c <= 'z') {
            seg_start = 0;
        } else if (!seg_start && ((c >= '0' && c <= '9') || c == '_')) {
            continue;
        } else {
            return 0;
        }
    }
    return dots > 0 && !seg_start;
}

static char *rule_field(arr_envelope *env, const text_rule *r)
{
    return (char *)env + r->offset;
}

static const char *rule_field_c(const arr_envelope *env, const text_rule *r)
{
    return (const char *)env + r->offset;
}

/* ------------------------------------------------------------------ encode */

static arr_err check_text_fields(const arr_envelope *env, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < R__COUNT; i++) {
        const text_rule *r = &rules[i];
        const char *s = rule_field_c(env, r);
        if (!memchr(s, '\0', r->size) || !r->valid(s))
            return fail(ARR_EINVAL, errbuf, errlen, "field %s: %s", r->field, r->rule);
    }
    return ARR_OK;
}

static arr_err check_envelope(const arr_envelope *env, char *errbuf, size_t errlen)
{
    arr_err e = check_text_fields(env, errbuf, errlen);
    if (e)
        return e;
    if (env->schema_version < 1)
        return fail(ARR_EINVAL, errbuf, errlen, "field schema_version: must be an integer >= 1");
    if (!json_is_object(env->payload))
        return fail(ARR_EINVAL, errbuf, errlen, "field payload: must be an object");
    return ARR_OK;
}

static arr_err format_time(int64_t ms, const char *field, char *out, char *errbuf, size_t errlen)
{
    if (arr_time_format(ms, out, ARR_TIME_STRLEN) != ARR_OK)
        return fail(ARR_EINVAL, errbuf, errlen, "field %s: outside the years 0001 to 9999", field);
    return ARR_OK;
}

static json_t *build_object(const arr_envelope *env, const char *event_time,
                            const char *produced_at)
{
    const char *causation = env->causation_id[0] ? env->causation_id : NULL;
    return json_pack(
        "{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s?, s:s, s:{s:s, s:s, s:s}, s:O}",
        top_fields[F_EVENT_ID], env->event_id, top_fields[F_EVENT_TYPE], env->event_type,
        top_fields[F_SCHEMA_VERSION], env->schema_version, top_fields[F_TENANT], env->tenant,
        top_fields[F_ACCOUNT], env->account, top_fields[F_EVENT_TIME], event_time,
        top_fields[F_PRODUCED_AT], produced_at, top_fields[F_CAUSATION_ID], causation,
        top_fields[F_CORRELATION_ID], env->correlation_id, top_fields[F_PRODUCER],
        producer_fields[0], env->producer_service, producer_fields[1], env->producer_version,
        producer_fields[2], env->producer_instance, top_fields[F_PAYLOAD], env->payload);
}

/* Sized first so that an oversized payload is refused before we allocate for it, and so the
 * result comes from malloc() whatever allocator jansson was given. */
static arr_err dump(const json_t *root, char **out, size_t *outlen, char *errbuf, size_t errlen)
{
    const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
    size_t need = json_dumpb(root, NULL, 0, flags);
    if (need == 0)
        return fail(ARR_EINVAL, errbuf, errlen, "payload: cannot be serialised");
    if (need > ARR_MESSAGE_MAX)
        return fail(ARR_ELIMIT, errbuf, errlen, "message larger than %d bytes", ARR_MESSAGE_MAX);
    char *text = malloc(need + 1);
    if (!text)
        return ARR_ENOMEM;
    json_dumpb(root, text, need, flags);
    text[need] = '\0';
    *out = text;
    *outlen = need;
    return ARR_OK;
}

arr_err arr_envelope_encode(const arr_envelope *env, char **out, size_t *outlen, char *errbuf,
                            size_t errlen)
{
    if (!env || !out || !outlen)
        return fail(ARR_EINVAL, errbuf, errlen, "encode: NULL argument");
    char event_time[ARR_TIME_STRLEN], produced_at[ARR_TIME_STRLEN];
    arr_err e = check_envelope(env, errbuf, errlen);
    if (!e)
        e = format_time(env->event_time_ms, "event_time", event_time, errbuf, errlen);
    if (!e)
        e = format_time(env->produced_at_ms, "produced_at", produced_at, errbuf, errlen);
    if (e)
        return e;
    json_t *root = build_object(env, event_time, produced_at);
    if (!root)
        return ARR_ENOMEM;
    e = dump(root, out, outlen, errbuf, errlen);
    json_decref(root);
    return e;
}

static void text_member(arr_jsonw *w, int field, const char *value)
{
    arr_jsonw_key(w, top_fields[field]);
    arr_jsonw_string(w, value);
}

arr_err arr_envelope_encode_text(const arr_envelope *env, const char *payload_json,
                                 size_t payload_len, arr_buf *out, char *errbuf, size_t errlen)
{
    if (!env || !payload_json || !out)
        return fail(ARR_EINVAL, errbuf, errlen, "encode: NULL argument");
    if (payload_len < 2 || payload_json[0] != '{' || payload_json[payload_len - 1] != '}')
        return fail(ARR_EINVAL, errbuf, errlen, "field payload: must be an object");
    char event_time[ARR_TIME_STRLEN], produced_at[ARR_TIME_STRLEN];
    arr_err e = check_text_fields(env, errbuf, errlen);
    if (!e && env->schema_version < 1)
        e = fail(ARR_EINVAL, errbuf, errlen, "field schema_version: must be an integer >= 1");
    if (!e)
        e = format_time(env->event_time_ms, "event_time", event_time, errbuf, errlen);
    if (!e)
        e = format_time(env->produced_at_ms, "produced_at", produced_at, errbuf, errlen);
    if (e)
        return e;
    size_t start = out->len;
    arr_jsonw w;
    arr_jsonw_init(&w, out);
    arr_jsonw_object_begin(&w);
    text_member(&w, F_EVENT_ID, env->event_id);
    text_member(&w, F_EVENT_TYPE, env->event_type);
    arr_jsonw_key(&w, top_fields[F_SCHEMA_VERSION]);
    arr_jsonw_int(&w, env->schema_version);
    text_member(&w, F_TENANT, env->tenant);
    text_member(&w, F_ACCOUNT, env->account);
    text_member(&w, F_EVENT_TIME, event_time);
    text_member(&w, F_PRODUCED_AT, produced_at);
    if (env->causation_id[0]) {
        text_member(&w, F_CAUSATION_ID, env->causation_id);
    } else {
        arr_jsonw_key(&w, top_fields[F_CAUSATION_ID]);
        arr_jsonw_null(&w);
    }
    text_member(&w, F_CORRELATION_ID, env->correlation_id);
    arr_jsonw_key(&w, top_fields[F_PRODUCER]);
    arr_jsonw_object_begin(&w);
    arr_jsonw_key(&w, producer_fields[0]);
    arr_jsonw_string(&w, env->producer_service);
    arr_jsonw_key(&w, producer_fields[1]);
    arr_jsonw_string(&w, env->producer_version);
    arr_jsonw_key(&w, producer_fields[2]);
    arr_jsonw_string(&w, env->producer_instance);
    arr_jsonw_object_end(&w);
    arr_jsonw_key(&w, top_fields[F_PAYLOAD]);
    arr_jsonw_raw(&w, payload_json, payload_len);
    arr_jsonw_object_end(&w);
    e = arr_jsonw_finish(&w);
    if (!e && out->len - start > ARR_MESSAGE_MAX)
        e = fail(ARR_ELIMIT, errbuf, errlen, "message larger than %d bytes", ARR_MESSAGE_MAX);
    if (e) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return e;
}

/* ------------------------------------------------------------------ decode */

/* json_unpack_ex only says how many keys were left over; name the first for the reason. */
static arr_err unknown_field(json_t *obj, const char *const *known, size_t n, const char *prefix,
                             const json_error_t *jerr, char *errbuf, size_t errlen)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        size_t i = 0;
        while (i < n && strcmp(key, known[i]) != 0)
            i++;
        if (i == n)
            return fail(ARR_EDECODE, errbuf, errlen, "field %s%.64s: unknown field", prefix, key);
    }
    return fail(ARR_EDECODE, errbuf, errlen, "%s%s", prefix, jerr->text);
}

static arr_err missing_field(json_t *const *v, const char *const *names, size_t n,
                             const char *prefix, char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (!v[i])
            return fail(ARR_EDECODE, errbuf, errlen, "field %s%s: missing", prefix, names[i]);
    return ARR_OK;
}

static arr_err decode_text(const json_t *v, const text_rule *r, arr_envelope *out, char *errbuf,
                           size_t errlen)
{
    if (!json_is_string(v))
        return fail(ARR_EDECODE, errbuf, errlen, "field %s: must be a string", r->field);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= r->size || !r->valid(s))
        return fail(ARR_EDECODE, errbuf, errlen, "field %s: %s", r->field, r->rule);
    memcpy(rule_field(out, r), s, n + 1);
    return ARR_OK;
}

/* null means "no cause"; an empty string would be a second spelling of the same thing. */
static arr_err decode_causation(const json_t *v, arr_envelope *out, char *errbuf, size_t errlen)
{
    if (json_is_null(v))
        return ARR_OK;
    const text_rule *r = &rules[R_CAUSATION];
    if (json_is_string(v) && json_string_length(v) == 0)
        return fail(ARR_EDECODE, errbuf, errlen, "field %s: %s", r->field, r->rule);
    return decode_text(v, r, out, errbuf, errlen);
}

static arr_err decode_time(const json_t *v, const char *field, int64_t *out, char *errbuf,
                           size_t errlen)
{
    if (!json_is_string(v))
        return fail(ARR_EDECODE, errbuf, errlen, "field %s: must be a string", field);
    if (arr_time_parse(json_string_value(v), out) != ARR_OK)
        return fail(ARR_EDECODE, errbuf, errlen, "field %s: not an RFC 3339 time", field);
    return ARR_OK;
}

static arr_err decode_schema_version(const json_t *v, arr_envelope *out, char *errbuf,
                                     size_t errlen)
{
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > INT_MAX)
        return fail(ARR_EDECODE, errbuf, errlen, "field schema_version: must be an integer >= 1");
    out->schema_version = (int)json_integer_value(v);
    return ARR_OK;
}

static arr_err decode_producer(json_t *v, arr_envelope *out, char *errbuf, size_t errlen)
{
    if (!json_is_object(v))
        return fail(ARR_EDECODE, errbuf, errlen, "field producer: must be an object");
    json_t *f[3] = {NULL, NULL, NULL};
    json_error_t jerr;
    if (json_unpack_ex(v, &jerr, 0, "{s?o, s?o, s?o !}", producer_fields[0], &f[0],
                       producer_fields[1], &f[1], producer_fields[2], &f[2]) != 0)
        return unknown_field(v, producer_fields, 3, "producer.", &jerr, errbuf, errlen);
    arr_err e = missing_field(f, producer_fields, 3, "producer.", errbuf, errlen);
    for (size_t i = 0; i < 3 && !e; i++)
        e = decode_text(f[i], &rules[R_SERVICE + i], out, errbuf, errlen);
    return e;
}

static arr_err decode_payload(json_t *v, arr_envelope *out, char *errbuf, size_t errlen)
{
    if (!json_is_object(v))
        return fail(ARR_EDECODE, errbuf, errlen, "field payload: must be an object");
    out->payload = json_incref(v);
    return ARR_OK;
}

static arr_err unpack_top(json_t *root, json_t **v, char *errbuf, size_t errlen)
{
    const char *const *k = top_fields;
    json_error_t jerr;
    if (json_unpack_ex(root, &jerr, 0, "{s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o, s?o !}",
                       k[0], &v[0], k[1], &v[1], k[2], &v[2], k[3], &v[3], k[4], &v[4], k[5], &v[5],
                       k[6], &v[6], k[7], &v[7], k[8], &v[8], k[9], &v[9], k[10], &v[10]) != 0)
        return unknown_field(root, top_fields, F__COUNT, "", &jerr, errbuf, errlen);
    return missing_field(v, top_fields, F__COUNT, "", errbuf, errlen);
}

static arr_err decode_root(json_t *root, arr_envelope *out, char *errbuf, size_t errlen)
{
    if (!json_is_object(root))
        return fail(ARR_EDECODE, errbuf, errlen, "envelope: must be a JSON object");
    json_t *v[F__COUNT] = {NULL};
    arr_err e = unpack_top(root, v, errbuf, errlen);
    if (e)
        return e;
    if ((e = decode_text(v[F_EVENT_ID], &rules[R_EVENT_ID], out, errbuf, errlen)) ||
        (e = decode_text(v[F_EVENT_TYPE], &rules[R_EVENT_TYPE], out, errbuf, errlen)) ||
        (e = decode_schema_version(v[F_SCHEMA_VERSION], out, errbuf, errlen)) ||
        (e = decode_text(v[F_TENANT], &rules[R_TENANT], out, errbuf, errlen)) ||
        (e = decode_text(v[F_ACCOUNT], &rules[R_ACCOUNT], out, errbuf, errlen)) ||
        (e = decode_time(v[F_EVENT_TIME], "event_time", &out->event_time_ms, errbuf, errlen)) ||
        (e = decode_time(v[F_PRODUCED_AT], "produced_at", &out->produced_at_ms, errbuf, errlen)) ||
        (e = decode_causation(v[F_CAUSATION_ID], out, errbuf, errlen)) ||
        (e = decode_text(v[F_CORRELATION_ID], &rules[R_CORRELATION], out, errbuf, errlen)) ||
        (e = decode_producer(v[F_PRODUCER], out, errbuf, errlen)))
        return e;
    /* Last, so that no reference is taken when an earlier field fails. */
    return decode_payload(v[F_PAYLOAD], out, errbuf, errlen);
}

/* out is overwritten, not cleared first: it may be uninitialised stack memory. */
arr_err arr_envelope_decode(const char *buf, size_t len, arr_envelope *out, char *errbuf,
                            size_t errlen)
{
    if (!out)
        return fail(ARR_EINVAL, errbuf, errlen, "decode: NULL argument");
    arr_envelope_init(out);
    if (!buf)
        return fail(ARR_EINVAL, errbuf, errlen, "decode: NULL argument");
    if (len > ARR_MESSAGE_MAX)
        return fail(ARR_EDECODE, errbuf, errlen, "message larger than %d bytes", ARR_MESSAGE_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return fail(ARR_EDECODE, errbuf, errlen, "not JSON: %s at line %d column %d", jerr.text,
                    jerr.line, jerr.column);
    arr_err e = decode_root(root, out, errbuf, errlen);
    json_decref(root);
    if (e)
        arr_envelope_clear(out);
    return e;
}

/* ------------------------------------------------------------------ derive and key */

static arr_err copy_text(char *dst, size_t size, const char *src)
{
    if (!src)
        return ARR_EINVAL;
    size_t n = strlen(src);
    if (n >= size)
        return ARR_EINVAL;
    memcpy(dst, src, n + 1);
    return ARR_OK;
}

#define COPY(dst, src) copy_text((dst), sizeof(dst), (src))

/* Without a cause there is no event id to name from, so the event type is the namespace;
 * the caller then has to make derived_name unique within that type (include the tenant). */
static arr_err new_event_id(arr_envelope *out, const arr_envelope *cause, const char *event_type,
                            const char *derived_name, int64_t produced_at_ms)
{
    if (!derived_name)
        return arr_uuid_v7(produced_at_ms, out->event_id);
    return arr_uuid_named(cause ? cause->event_id : event_type, derived_name, out->event_id);
}

static arr_err inherit(arr_envelope *out, const arr_envelope *cause)
{
    if (!cause)
        return COPY(out->correlation_id, out->event_id);
    const char *corr = cause->correlation_id[0] ? cause->correlation_id : cause->event_id;
    arr_err e = COPY(out->tenant, cause->tenant);
    if (!e)
        e = COPY(out->account, cause->account);
    if (!e)
        e = COPY(out->causation_id, cause->event_id);
    if (!e)
        e = COPY(out->correlation_id, corr);
    return e;
}

static arr_err derive_fill(arr_envelope *out, const arr_envelope *cause, const char *event_type,
                           int schema_version, const char *derived_name, json_t *payload,
                           const char *service, const char *version, const char *instance,
                           int64_t produced_at_ms)
{
    if (!arr_event_type_valid(event_type) || schema_version < 1 || !json_is_object(payload) ||
        !name_valid(service) || !name_valid(version) || !name_valid(instance))
        return ARR_EINVAL;
    arr_err e = new_event_id(out, cause, event_type, derived_name, produced_at_ms);
    if (!e)
        e = inherit(out, cause);
    if (!e)
        e = COPY(out->event_type, event_type);
    if (!e)
        e = COPY(out->producer_service, service);
    if (!e)
        e = COPY(out->producer_version, version);
    if (!e)
        e = COPY(out->producer_instance, instance);
    out->schema_version = schema_version;
    /* A default only: the caller sets the time the thing happened in the world. */
    out->event_time_ms = produced_at_ms;
    out->produced_at_ms = produced_at_ms;
    return e;
}

/* The payload reference is stolen even on failure, like json_object_set_new, so the caller
 * never has to work out whether to release it. */
arr_err arr_envelope_derive(arr_envelope *out, const arr_envelope *cause, const char *event_type,
                            int schema_version, const char *derived_name, json_t *payload,
                            const char *service, const char *version, const char *instance,
                            int64_t produced_at_ms)
{
    if (!out) {
        json_decref(payload);
        return ARR_EINVAL;
    }
    arr_envelope_init(out);
    arr_err e = derive_fill(out, cause, event_type, schema_version, derived_name, payload, service,
                            version, instance, produced_at_ms);
    if (e) {
        json_decref(payload);
        arr_envelope_init(out);
        return e;
    }
    out->payload = payload;
    return ARR_OK;
}

arr_err arr_envelope_key(const arr_envelope *env, char *out, size_t outlen)
{
    if (!env || !out || !arr_tenant_valid(env->tenant) || !arr_account_valid(env->account))
        return ARR_EINVAL;
    int n = snprintf(out, outlen, "%s/%s", env->tenant, env->account);
    if (n < 0 || (size_t)n >= outlen)
        return ARR_ELIMIT;
    return ARR_OK;
}

arr_err arr_envelope_to_message(const arr_envelope *env, char **value, size_t *value_len,
                                char key[ARR_KEY_MAX], char *errbuf, size_t errlen)
{
    arr_err e = arr_envelope_key(env, key, ARR_KEY_MAX);
    if (!e)
        e = arr_envelope_encode(env, value, value_len, errbuf, errlen);
    return e;
}

int arr_event_for_service(const json_t *payload, const char *service)
{
    const json_t *list = json_object_get(payload, "services");
    if (!json_is_array(list))
        return 1;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *name = json_string_value(json_array_get(list, i));
        if (name && strcmp(name, service) == 0)
            return 1;
    }
    return 0;
}
