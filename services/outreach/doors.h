/* outreach_doors: the webhooks the providers call, per tenant of ARR_OUTREACH_CALLBACK_SECRETS
 * ("tenant:secret,..."), with HTTP Basic authentication (user = the tenant, password = its
 * secret; providers put them in the callback URL) or "Bearer <secret>":
 *   POST /v1/outreach/callbacks/<tenant>/status  message and call status callbacks
 *   POST /v1/outreach/callbacks/<tenant>/sms     inbound texts (replies: STOP, "I paid"...)
 *   POST /v1/outreach/callbacks/<tenant>/email   inbound email replies from the mail gateway
 * Each body (application/x-www-form-urlencoded, callback.h) is checked and published as
 * provider.status or provider.inbound on arrears.outreach.callbacks, and the answer (200) waits
 * for the broker's acknowledgement: a provider that gets no 200 calls again, and the event id
 * is named from the tenant and the provider's ids, so a repeat is recognised downstream.
 * 401 without valid credentials, 422 naming the field for a body that does not read.
 *
 * Ownership: the doors own their producer; outreach_doors_free after the HTTP endpoint
 * stopped (arr_svc ext_free). */
#ifndef ARREARS_OUTREACH_DOORS_H
#define ARREARS_OUTREACH_DOORS_H

#include "arrears/service.h"

typedef struct outreach_doors outreach_doors;

/* Registers the routes on s->http (before it starts). *out NULL when no tenant is
 * configured. */
arr_err outreach_doors_new(arr_svc *s, outreach_doors **out, char *why, size_t whylen);
void outreach_doors_free(outreach_doors *d);

#endif
