#include "inbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/uuid.h"
#include "payload.h"

/* The namespace of payment event ids: fixed, so ids are the same on every machine. */
#define INBOUND_NS "6f1c2a7e-3b1d-4c55-9a1e-52d0c4a7b901"

arr_err recon_inbound_envelope(const recon_entry *e, const char *tenant, int64_t produced_at_ms,
                               const char *service, const char *instance, arr_envelope *out,
                               char *why, size_t whylen)
{
    arr_envelope_init(out);
    char name[ARR_TENANT_MAX + RECON_ID_MAX + 16];
    snprintf(name, sizeof(name), "payment.received/%s/%s", tenant, e->payment_id);
    arr_err err = arr_uuid_named(INBOUND_NS, name, out->event_id);
    if (err)
        return arr_errbuf_fail(err, why, whylen, "payment %s: cannot derive its event id",
                               e->payment_id);
    snprintf(out->event_type, sizeof(out->event_type), "payment.received");
    out->schema_version = 1;
    snprintf(out->tenant, sizeof(out->tenant), "%s", tenant);
    snprintf(out->account, sizeof(out->account), "%s", recon_payload_routing_key(e));
    out->event_time_ms = e->received_at_ms;
    out->produced_at_ms = produced_at_ms;
    memcpy(out->correlation_id, out->event_id, ARR_UUID_STRLEN);
    snprintf(out->producer_service, sizeof(out->producer_service), "%s", service);
    snprintf(out->producer_version, sizeof(out->producer_version), "%s", ARR_VERSION);
    snprintf(out->producer_instance, sizeof(out->producer_instance), "%s", instance);
    out->payload = recon_payload_from_entry(e);
    if (!out->payload)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "payment %s: payload", e->payment_id);
    return ARR_OK;
}

arr_err recon_inbound_publish(arr_kafka_producer *p, const char *topic, const char *tenant,
                              const recon_entries *l, size_t from, size_t to,
                              int64_t produced_at_ms, const char *service, const char *instance,
                              char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    for (size_t i = from; !e && i < to; i++) {
        arr_envelope env;
        char *value = NULL, key[ARR_KEY_MAX];
        size_t len = 0;
        e = recon_inbound_envelope(&l->v[i], tenant, produced_at_ms, service, instance, &env, why,
                                   whylen);
        if (!e)
            e = arr_envelope_to_message(&env, &value, &len, key, why, whylen);
        if (!e)
            e = arr_kafka_produce(p, topic, key, strlen(key), value, len);
        if (e == ARR_EKAFKA)
            arr_errbuf_set(why, whylen, "payment %s: the broker refused it", l->v[i].payment_id);
        free(value);
        arr_envelope_clear(&env);
    }
    arr_err f = arr_kafka_producer_flush(p, 60000, why, whylen);
    return e ? e : f;
}
