/* Unit tests of common/src/deadletter.c: a message a service cannot accept becomes a
 * deadletter.recorded envelope that keeps the original bytes, the reason and where the message
 * came from, filed under the original tenant/account when the key is valid, else
 * unknown/unknown; its event id depends only on (topic, partition, offset) for a service. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrears/deadletter.h"
#include "arrears/envelope.h"
#include "arrears/uuid.h"

#define T_NOW 1767323045006LL /* 2026-01-02T03:04:05.006Z */

static const arr_producer_id WHO = {"scoring", "0.1.0", "scoring-1"};

static arr_kafka_msg msg_of(const char *topic, int32_t partition, int64_t offset, const char *key,
                            size_t key_len, const char *value, size_t value_len)
{
    arr_kafka_msg m;
    memset(&m, 0, sizeof m);
    m.topic = topic;
    m.partition = partition;
    m.offset = offset;
    m.key = key;
    m.key_len = key_len;
    m.value = value;
    m.value_len = value_len;
    m.rk = NULL;
    return m;
}

static arr_kafka_msg text_msg(const char *key, const char *value)
{
    return msg_of("arrears.accounts", 7, 123456, key, key ? strlen(key) : 0, value,
                  value ? strlen(value) : 0);
}

typedef struct built {
    char key[ARR_KEY_MAX];
    char event_id[ARR_UUID_STRLEN];
    arr_envelope env; /* decoded from the value */
} built;

/* Builds the dead letter and decodes it back with the strict envelope decoder. */
static void build(const arr_kafka_msg *m, const char *reason, built *b)
{
    char *value = NULL;
    size_t len = 0;
    memset(b, 0, sizeof(*b));
    cr_assert_eq(arr_deadletter_build(m, reason, &WHO, T_NOW, &value, &len, b->key, b->event_id),
                 ARR_OK);
    cr_assert_not_null(value);
    char err[256] = "";
    arr_err e = arr_envelope_decode(value, len, &b->env, err, sizeof err);
    cr_assert_eq(e, ARR_OK, "dead letter does not decode: %s", err);
    free(value);
}

static const char *pstr(const built *b, const char *field)
{
    return json_string_value(json_object_get(b->env.payload, field));
}

/* A small base64 decoder of the standard alphabet with padding, written for the test. */
static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static size_t b64decode(const char *s, unsigned char *out, size_t cap)
{
    size_t n = strlen(s), o = 0;
    cr_assert_eq(n % 4, 0, "base64 length %zu", n);
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=') {
                v[k] = 0;
                pad++;
            } else {
                cr_assert_eq(pad, 0, "data after padding");
                v[k] = b64val(s[i + k]);
                cr_assert_geq(v[k], 0, "bad base64 char %c", s[i + k]);
            }
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        unsigned char bytes[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
                                  (unsigned char)w};
        for (int k = 0; k < 3 - pad; k++) {
            cr_assert_lt(o, cap);
            out[o++] = bytes[k];
        }
    }
    return o;
}

/* ------------------------------------------------------------------ envelope */

Test(deadletter, valid_key_keeps_tenant_and_account)
{
    const char *value = "{\"not\":\"an envelope\"}";
    arr_kafka_msg m = text_msg("acme-water/ACC/42", value);
    built b;
    build(&m, "field event_id: must be a canonical lower-case UUID", &b);
    cr_assert_str_eq(b.env.event_type, "deadletter.recorded");
    cr_assert_eq(b.env.schema_version, 1);
    /* the key splits at its first slash: accounts may contain '/' */
    cr_assert_str_eq(b.env.tenant, "acme-water");
    cr_assert_str_eq(b.env.account, "ACC/42");
    cr_assert_str_eq(b.key, "acme-water/ACC/42");
    cr_assert_eq(b.env.event_time_ms, T_NOW);
    cr_assert_eq(b.env.produced_at_ms, T_NOW);
    cr_assert_str_eq(b.env.event_id, b.event_id);
    cr_assert(arr_uuid_valid(b.event_id));
    cr_assert_str_eq(b.env.producer_service, "scoring");
    cr_assert_str_eq(b.env.producer_version, "0.1.0");
    cr_assert_str_eq(b.env.producer_instance, "scoring-1");
    cr_assert_str_eq(b.env.causation_id, "");
    cr_assert(arr_uuid_valid(b.env.correlation_id));

    json_t *p = b.env.payload;
    cr_assert_str_eq(pstr(&b, "source_topic"), "arrears.accounts");
    cr_assert(json_is_integer(json_object_get(p, "partition")));
    cr_assert_eq(json_integer_value(json_object_get(p, "partition")), 7);
    cr_assert(json_is_integer(json_object_get(p, "offset")));
    cr_assert_eq(json_integer_value(json_object_get(p, "offset")), 123456);
    cr_assert_str_eq(pstr(&b, "reason"), "field event_id: must be a canonical lower-case UUID");
    cr_assert_str_eq(pstr(&b, "raw"), value);
    cr_assert_str_eq(pstr(&b, "raw_encoding"), "utf8");
    cr_assert_str_eq(pstr(&b, "original_key"), "acme-water/ACC/42");
    /* key_encoding: absent means utf8 */
    const char *kenc = pstr(&b, "key_encoding");
    if (kenc)
        cr_assert_str_eq(kenc, "utf8");
    arr_envelope_clear(&b.env);
}

Test(deadletter, invalid_keys_file_under_unknown)
{
    char too_long[ARR_KEY_MAX + 8];
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    too_long[10] = '/';
    static const char *const rows[] = {
        "noslash",       /* no separator */
        "Acme/ACC-1",    /* tenant must be lower case */
        "-acme/ACC-1",   /* tenant must start with a letter or digit */
        "acme/",         /* empty account */
        "/ACC-1",        /* empty tenant */
        "acme/AC C",     /* space in the account */
        "acme.water/A1", /* '.' is not a tenant character */
        "",              /* empty key */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) + 1; i++) {
        const char *key = i < sizeof(rows) / sizeof(rows[0]) ? rows[i] : too_long;
        arr_kafka_msg m = text_msg(key, "garbage");
        built b;
        build(&m, "not JSON", &b);
        cr_assert_str_eq(b.env.tenant, "unknown", "key \"%s\"", key);
        cr_assert_str_eq(b.env.account, "unknown", "key \"%s\"", key);
        cr_assert_str_eq(b.key, "unknown/unknown", "key \"%s\"", key);
        /* the original key is kept as it was */
        cr_assert_str_eq(pstr(&b, "original_key"), key);
        arr_envelope_clear(&b.env);
    }
}

Test(deadletter, no_key_files_under_unknown_with_null_original_key)
{
    arr_kafka_msg m = text_msg(NULL, "garbage");
    built b;
    build(&m, "not JSON", &b);
    cr_assert_str_eq(b.env.tenant, "unknown");
    cr_assert_str_eq(b.env.account, "unknown");
    cr_assert_str_eq(b.key, "unknown/unknown");
    json_t *ok = json_object_get(b.env.payload, "original_key");
    cr_assert_not_null(ok, "original_key is required");
    cr_assert(json_is_null(ok));
    arr_envelope_clear(&b.env);
}

Test(deadletter, key_is_only_the_given_bytes)
{
    /* key_len covers "acme/A1"; the bytes after it are not part of the key. */
    const char *buf = "acme/A1XYZ";
    arr_kafka_msg m = msg_of("arrears.scores", 0, 0, buf, 7, "v", 1);
    built b;
    build(&m, "r", &b);
    cr_assert_str_eq(b.env.tenant, "acme");
    cr_assert_str_eq(b.env.account, "A1");
    cr_assert_str_eq(b.key, "acme/A1");
    cr_assert_str_eq(pstr(&b, "original_key"), "acme/A1");
    arr_envelope_clear(&b.env);
}

/* ------------------------------------------------------------------ raw bytes */

Test(deadletter, utf8_text_is_kept_as_text)
{
    const char *value = "caf\xc3\xa9 \xe2\x82\xac 12,00"; /* "café € 12,00" */
    arr_kafka_msg m = text_msg("acme/A1", value);
    built b;
    build(&m, "bad", &b);
    cr_assert_str_eq(pstr(&b, "raw_encoding"), "utf8");
    cr_assert_str_eq(pstr(&b, "raw"), value);
    arr_envelope_clear(&b.env);
}

Test(deadletter, only_value_len_bytes_are_kept)
{
    const char *buf = "{\"a\":1}TRAILING";
    arr_kafka_msg m = msg_of("arrears.scores", 1, 2, "acme/A1", 7, buf, 7);
    built b;
    build(&m, "bad", &b);
    cr_assert_str_eq(pstr(&b, "raw"), "{\"a\":1}");
    arr_envelope_clear(&b.env);
}

Test(deadletter, invalid_utf8_is_base64_and_decodes_back)
{
    static const unsigned char rows[][6] = {
        {0xff, 0xfe, 0x41, 0x42, 0xc3, 0x28}, /* invalid lead bytes, bad continuation */
        {0x80, 0x81, 0x82, 0x83, 0x84, 0x85}, /* lone continuation bytes */
        {0x41, 0x42, 0x43, 0x44, 0x45, 0xc3}, /* text cut inside a character */
    };
    static const size_t lens[] = {6, 5, 6}; /* lengths 6 and 5: with and without padding */
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        arr_kafka_msg m =
            msg_of("arrears.payments.inbound", 3, 99, "acme/A1", 7, (const char *)rows[i], lens[i]);
        built b;
        build(&m, "not JSON", &b);
        cr_assert_str_eq(pstr(&b, "raw_encoding"), "base64", "row %zu", i);
        unsigned char back[16];
        size_t n = b64decode(pstr(&b, "raw"), back, sizeof back);
        cr_assert_eq(n, lens[i], "row %zu: %zu bytes back", i, n);
        cr_assert_eq(memcmp(back, rows[i], lens[i]), 0, "row %zu: bytes differ", i);
        arr_envelope_clear(&b.env);
    }
}

Test(deadletter, empty_and_null_values_are_empty_text)
{
    arr_kafka_msg m = text_msg("acme/A1", NULL); /* a tombstone */
    built b;
    build(&m, "empty", &b);
    cr_assert_str_eq(pstr(&b, "raw"), "");
    cr_assert_str_eq(pstr(&b, "raw_encoding"), "utf8");
    arr_envelope_clear(&b.env);
    m = msg_of("arrears.accounts", 0, 1, "acme/A1", 7, "", 0);
    build(&m, "empty", &b);
    cr_assert_str_eq(pstr(&b, "raw"), "");
    cr_assert_str_eq(pstr(&b, "raw_encoding"), "utf8");
    arr_envelope_clear(&b.env);
}

/* BUG (common/src/deadletter.c, raw_field): json_stringn accepts a NUL byte as valid UTF-8, so
 * a value such as "ab\0cd" is kept as text and encoded as "ab\u0000cd"; arr_envelope_decode
 * (common/src/envelope.c, json_loadb without JSON_ALLOW_NUL) then rejects the whole dead letter,
 * so a service cannot read back what it recorded. Suggested fix: in raw_field, choose base64
 * when memchr(data, '\0', len) finds a NUL. This test fails in build() until then. */
Test(deadletter, value_with_nul_byte_decodes_back)
{
    static const char value[] = {'a', 'b', '\0', 'c', 'd'};
    arr_kafka_msg m = msg_of("arrears.accounts", 0, 5, "acme/A1", 7, value, sizeof value);
    built b;
    build(&m, "bad", &b);
    const char *enc = pstr(&b, "raw_encoding");
    cr_assert_not_null(enc);
    unsigned char back[16];
    size_t n;
    if (strcmp(enc, "base64") == 0) {
        n = b64decode(pstr(&b, "raw"), back, sizeof back);
    } else {
        json_t *raw = json_object_get(b.env.payload, "raw");
        n = json_string_length(raw);
        cr_assert_leq(n, sizeof back);
        memcpy(back, json_string_value(raw), n);
    }
    cr_assert_eq(n, sizeof value);
    cr_assert_eq(memcmp(back, value, sizeof value), 0);
    arr_envelope_clear(&b.env);
}

/* BUG (common/src/deadletter.c, arr_deadletter_build): a key that is not valid UTF-8 is written
 * to original_key as base64, but the key_encoding field that proto/schemas/
 * deadletter.recorded.schema.json defines for it ("absent means utf8") is never written
 * (key_enc is computed and dropped), so a reader takes the base64 text for the key itself.
 * Suggested fix: json_object_set_new(payload, "key_encoding", json_string(key_enc)) when
 * key_enc is "base64". */
Test(deadletter, binary_key_is_marked_base64)
{
    static const unsigned char key[] = {0xff, 0x00, 0x10, 0x2f, 0x41};
    arr_kafka_msg m = msg_of("arrears.accounts", 2, 77, (const char *)key, sizeof key, "v", 1);
    built b;
    build(&m, "bad key", &b);
    cr_assert_str_eq(b.env.tenant, "unknown");
    cr_assert_str_eq(b.env.account, "unknown");
    cr_assert_str_eq(b.key, "unknown/unknown");
    unsigned char back[16];
    size_t n = b64decode(pstr(&b, "original_key"), back, sizeof back);
    cr_expect_eq(n, sizeof key);
    cr_expect_eq(memcmp(back, key, sizeof key), 0);
    const char *kenc = pstr(&b, "key_encoding");
    cr_assert_not_null(kenc, "key_encoding missing for a base64 original_key");
    cr_assert_str_eq(kenc, "base64");
    arr_envelope_clear(&b.env);
}

/* ------------------------------------------------------------------ event id */

static void id_of(const char *topic, int32_t partition, int64_t offset, const char *reason,
                  const char *value, int64_t now, char out[ARR_UUID_STRLEN])
{
    arr_kafka_msg m = msg_of(topic, partition, offset, "acme/A1", 7, value, strlen(value));
    char *v = NULL, key[ARR_KEY_MAX];
    size_t len = 0;
    cr_assert_eq(arr_deadletter_build(&m, reason, &WHO, now, &v, &len, key, out), ARR_OK);
    free(v);
}

Test(deadletter, event_id_depends_on_topic_partition_offset)
{
    char a[ARR_UUID_STRLEN], again[ARR_UUID_STRLEN], later[ARR_UUID_STRLEN];
    char other_off[ARR_UUID_STRLEN], other_part[ARR_UUID_STRLEN], other_topic[ARR_UUID_STRLEN];
    id_of("arrears.accounts", 7, 123456, "r1", "v1", T_NOW, a);
    /* the same message recorded again after a crash, at another time, reason or value */
    id_of("arrears.accounts", 7, 123456, "r1", "v1", T_NOW, again);
    id_of("arrears.accounts", 7, 123456, "other reason", "v2", T_NOW + 60000, later);
    id_of("arrears.accounts", 7, 123457, "r1", "v1", T_NOW, other_off);
    id_of("arrears.accounts", 8, 123456, "r1", "v1", T_NOW, other_part);
    id_of("arrears.scores", 7, 123456, "r1", "v1", T_NOW, other_topic);
    cr_assert(arr_uuid_valid(a));
    cr_assert_str_eq(a, again);
    cr_assert_str_eq(a, later);
    cr_assert_str_neq(a, other_off);
    cr_assert_str_neq(a, other_part);
    cr_assert_str_neq(a, other_topic);
    /* offsets 1 and 11 of partitions 11 and 1 must not collide through the text form */
    char x[ARR_UUID_STRLEN], y[ARR_UUID_STRLEN];
    id_of("t", 11, 1, "r", "v", T_NOW, x);
    id_of("t", 1, 11, "r", "v", T_NOW, y);
    cr_assert_str_neq(x, y);
}
