/* recon_payload: the payment.received payload (proto/schemas/payment.received.schema.json)
 * to and from the recon_entry form. Every door (files, webhooks, POST /v1/payments) publishes
 * this event; the service reads it back. Pure. */
#ifndef ARREARS_RECON_PAYLOAD_H
#define ARREARS_RECON_PAYLOAD_H

#include <jansson.h>
#include "arrears/err.h"
#include "entry.h"

/* A new object (the caller owns the reference), or NULL when out of memory. Optional fields
 * that are empty are left out. */
json_t *recon_payload_from_entry(const recon_entry *e);
/* Strict: ARR_EINVAL with why naming the field ("field payload.amount_cents: ..."). */
arr_err recon_payload_to_entry(json_t *payload, recon_entry *out, char *why, size_t whylen);
/* The envelope account (Kafka key part) of an entry: the account the source named, else the
 * payment it concerns (a return's original), so a return follows its payment's partition. */
const char *recon_payload_routing_key(const recon_entry *e);

#endif
