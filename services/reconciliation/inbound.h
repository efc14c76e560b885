/* recon_inbound: the one way in. Every door (files, processor webhooks, POST /v1/payments)
 * turns what it read into recon_entry values and publishes each as a payment.received on
 * arrears.payments.inbound; the service is the only writer of the tables. The event id is
 * derived from the tenant and the payment id, so sending the same payment twice sends the
 * same event (and the inbox and the payment's claim make it count once). */
#ifndef ARREARS_RECON_INBOUND_H
#define ARREARS_RECON_INBOUND_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/envelope.h"
#include "arrears/kafka.h"
#include "entry.h"

#define RECON_TOPIC_INBOUND "arrears.payments.inbound"

/* Fills out (the caller clears it) for entry e of tenant; event time is e->received_at_ms. */
arr_err recon_inbound_envelope(const recon_entry *e, const char *tenant, int64_t produced_at_ms,
                               const char *service, const char *instance, arr_envelope *out,
                               char *why, size_t whylen);
/* Publishes entries [from, to) of l to topic (already in the caller's namespace) and waits for
 * every acknowledgement. ARR_EKAFKA with why when any delivery failed: the caller may send
 * the same entries again, safely. p is borrowed. */
arr_err recon_inbound_publish(arr_kafka_producer *p, const char *topic, const char *tenant,
                              const recon_entries *l, size_t from, size_t to,
                              int64_t produced_at_ms, const char *service, const char *instance,
                              char *why, size_t whylen);

#endif
