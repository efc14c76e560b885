/* outreach_events: what outreach does with each event it consumes, inside the inbox
 * transaction of the event (arr_svc_run_pg):
 *   account.placed/updated  the consumer's facts, consents and contact index; then settle
 *   account.closed          status closed: open steps suppressed (status.closed)
 *   score.computed          the strategy; the first (or a switched) cadence run is planned
 *   payment.applied/settled a paid or settled account's open steps are suppressed at once,
 *   payment.reversed        ...and a reversal that reopens it lets outreach go on
 *   promise.broken, plan.instalment_missed  the hold of a promise ends
 *   reply.received          STOP (consent revoked, opt-out, one confirmation text), dispute,
 *                           original-creditor request, attorney, promise, "I paid" (a hold)
 *   provider.status         matched to its step and passed on keyed by the account; one that
 *                           overtook the send waits in outreach.early_callbacks
 *   provider.status_matched delivery and call outcomes onto their step (bad numbers, opt-outs
 *                           at the provider), by the replica that owns the account
 *   provider.inbound        an inbound reply, classified and fanned out as reply.received to
 *                           every account reached at that address or number
 *   clock.day_started       the simulated campaign's time moves on
 * A payload that cannot be read is ARR_EINVAL with the field named (dead-lettered). */
#ifndef ARREARS_OUTREACH_EVENTS_H
#define ARREARS_OUTREACH_EVENTS_H

#include <stddef.h>
#include <jansson.h>
#include "arrears/envelope.h"
#include "arrears/err.h"
#include "book.h"

arr_err outreach_events_prepare(arr_pg *pg, char *why, size_t whylen);

arr_err outreach_events_apply(outreach_book *b, const arr_envelope *env, char *why, size_t whylen);

/* Applies a provider.status payload (borrowed) to the step st of the locked account a. */
arr_err outreach_events_status(outreach_book *b, outreach_account *a, outreach_step *st,
                               json_t *payload, const outreach_cause *c, char *why, size_t whylen);

/* Applies the callbacks that overtook the send of st (now recorded with its provider id). */
arr_err outreach_events_early(outreach_book *b, outreach_account *a, outreach_step *st,
                              const outreach_cause *c, char *why, size_t whylen);

#endif
