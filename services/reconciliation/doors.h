/* recon_doors: reconciliation's HTTP doors, on the service's endpoint.
 *   POST /v1/payments  {"tenant":T,"payments":[{...}, ...]} with "Authorization: Bearer <token>"
 *       (ARR_RECON_TOKENS "tenant:token,..."): every payment in our JSON form
 *       (services/reconciliation/jsonl.h), all or nothing: 422 names the index and field.
 *   POST /v1/webhooks/processor/<tenant>  a processor event in Stripe's format, signed with the
 *       tenant's secret (ARR_PROCESSOR_SECRETS "tenant:secret,..."); 400 when the signature or
 *       the timestamp is wrong (ARR_PROCESSOR_TOLERANCE_S, default 300).
 * Accepted payments are published to arrears.payments.inbound and acknowledged by the broker
 * before the answer (200 {"accepted":N, ...}), so a 200 means the payment will be applied;
 * the caller may retry anything else, safely. */
#ifndef ARREARS_RECON_DOORS_H
#define ARREARS_RECON_DOORS_H

#include "arrears/service.h"

typedef struct recon_doors recon_doors;

/* Registers the routes on s->http (before it starts). *out is owned by the caller
 * (recon_doors_free); NULL when no tenant is configured (no routes). */
arr_err recon_doors_new(arr_svc *s, recon_doors **out, char *why, size_t whylen);
void recon_doors_free(recon_doors *d);

#endif
