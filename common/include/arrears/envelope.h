/* arr_envelope: the one envelope every arrears message travels in (proto/envelope.schema.json).
 *
 * Wire form: a UTF-8 JSON object
 *   {"event_id","event_type","schema_version","tenant","account","event_time","produced_at",
 *    "causation_id","correlation_id","producer":{"service","version","instance"},"payload"}
 * Times are RFC 3339 UTC text. causation_id is null for an event with no cause inside arrears.
 * The Kafka key is arr_envelope_key(): "<tenant>/<account>", so each account's events keep
 * their order on one partition. Tenants never contain '/', so the key splits unambiguously.
 *
 * Decoding is strict: unknown or missing envelope fields, wrong types, bad UUIDs, bad times,
 * an over-long or badly formed tenant or account, or a payload that is not an object are all
 * ARR_EDECODE with a reason naming the field. Payload fields are checked by the decoder of
 * each event type (arr_event_*), not here. */
#ifndef ARREARS_ENVELOPE_H
#define ARREARS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/buf.h"
#include "arrears/err.h"
#include "arrears/uuid.h"

#define ARR_TENANT_MAX 64     /* [a-z0-9][a-z0-9_-]* */
#define ARR_ACCOUNT_MAX 128   /* printable ASCII without space, 0x21-0x7e */
#define ARR_EVENT_TYPE_MAX 64 /* [a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+ e.g. account.placed */
#define ARR_NAME_MAX 64       /* producer service, version, instance */
#define ARR_KEY_MAX (ARR_TENANT_MAX + 1 + ARR_ACCOUNT_MAX + 1)
#define ARR_MESSAGE_MAX (1024 * 1024) /* a message larger than this is rejected */

typedef struct arr_envelope {
    char event_id[ARR_UUID_STRLEN];
    char event_type[ARR_EVENT_TYPE_MAX + 1];
    int schema_version; /* >= 1 */
    char tenant[ARR_TENANT_MAX + 1];
    char account[ARR_ACCOUNT_MAX + 1];
    int64_t event_time_ms;                /* when it happened in the world */
    int64_t produced_at_ms;               /* when the producer wrote it */
    char causation_id[ARR_UUID_STRLEN];   /* "" when none */
    char correlation_id[ARR_UUID_STRLEN]; /* required */
    char producer_service[ARR_NAME_MAX + 1];
    char producer_version[ARR_NAME_MAX + 1];
    char producer_instance[ARR_NAME_MAX + 1];
    json_t *payload; /* owned by the envelope (one reference); a JSON object */
} arr_envelope;

/* Zeroes the envelope. */
void arr_envelope_init(arr_envelope *env);
/* Drops the payload reference and zeroes the envelope. */
void arr_envelope_clear(arr_envelope *env);

/* Fills a new envelope caused by `cause` (may be NULL): a fresh v7 event id (or the named
 * id when derived_name is non-NULL: arr_uuid_named(cause event id, derived_name)), the
 * cause's tenant/account/correlation id, causation id = cause's event id, the producer
 * fields given. event_time and produced_at are set by the caller. Takes a reference on
 * payload (steals it: the caller must not decref). */
arr_err arr_envelope_derive(arr_envelope *out, const arr_envelope *cause, const char *event_type,
                            int schema_version, const char *derived_name, json_t *payload,
                            const char *service, const char *version, const char *instance,
                            int64_t produced_at_ms);

/* Validation of single fields, shared with payload decoders and the ingest validator. */
/* 1 when an event is meant for service: its payload names no services (a "services" array of
 * names, as a clock tick addressed to some services only carries), or names this one. A
 * simulated campaign ticks services one after another so that their decisions never race. */
int arr_event_for_service(const json_t *payload, const char *service);

int arr_tenant_valid(const char *s);
int arr_account_valid(const char *s);
int arr_event_type_valid(const char *s);

/* Encodes compactly with keys in a fixed order. *out is malloc'ed, owned by the caller.
 * ARR_EINVAL (with reason) when a field is invalid: we never produce what we would reject. */
arr_err arr_envelope_encode(const arr_envelope *env, char **out, size_t *outlen, char *errbuf,
                            size_t errlen);
/* The same encoding appended to out, with the payload given as JSON text already written
 * (a compact object; env->payload is ignored and may be NULL): for producers that hold
 * their payloads as text, such as the ingest importer. The result is byte for byte what
 * arr_envelope_encode gives for that payload. On error out is left as it was. */
arr_err arr_envelope_encode_text(const arr_envelope *env, const char *payload_json,
                                 size_t payload_len, arr_buf *out, char *errbuf, size_t errlen);

/* Strict decode of len bytes (need not be NUL-terminated). On ARR_EDECODE errbuf says
 * which field and why, e.g. "field tenant: must match [a-z0-9][a-z0-9_-]{0,63}". */
arr_err arr_envelope_decode(const char *buf, size_t len, arr_envelope *out, char *errbuf,
                            size_t errlen);

/* The Kafka message of an envelope: its encoded value (malloc'ed, caller frees) and its key. */
arr_err arr_envelope_to_message(const arr_envelope *env, char **value, size_t *value_len,
                                char key[ARR_KEY_MAX], char *errbuf, size_t errlen);

/* "<tenant>/<account>" into out (ARR_KEY_MAX bytes). */
arr_err arr_envelope_key(const arr_envelope *env, char *out, size_t outlen);

#endif
