/* recon_stripe: processor webhooks in Stripe's event format. Pure: no I/O.
 *
 * A webhook is first checked with recon_stripe_verify (the Stripe-Signature header is an
 * HMAC-SHA256 over "<t>.<body>"), then turned into recon_entry values by recon_stripe_parse.
 *
 * Ids are chosen so a redelivered event, or two events about one payment, apply once:
 *   charge.succeeded          PAYMENT "processor:<charge id>"
 *   payment_intent.succeeded  PAYMENT "processor:<latest charge id>" (the same id as the
 *                             charge.succeeded of that payment), else "processor:<intent id>"
 *   charge.refunded           one RETURN "processor:<refund id>" per listed refund, so an event
 *                             that lists earlier refunds again repeats their ids; without the
 *                             list only a full refund is accepted: "processor:<charge id>/refund"
 *   charge.dispute.created    RETURN "processor:<dispute id>", return_code "chargeback"
 *                             ("dispute" while entry.h's return_code is too small for it)
 *   any other type            SKIPPED "processor:<event id>", skip_reason "event_type_ignored"
 * Returns carry returned_payment_id "processor:<charge id>". Listed refunds whose status is
 * "failed" or "canceled" moved no money: they become SKIPPED ("refund_failed",
 * "refund_canceled") under the refund's id. */
#ifndef ARREARS_RECON_STRIPE_H
#define ARREARS_RECON_STRIPE_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"
#include "entry.h"

/* Largest webhook body recon_stripe_parse reads (ARR_ELIMIT beyond). */
#define RECON_STRIPE_BODY_MAX (1024 * 1024)
/* Room recon_stripe_sign needs: "t=<up to 20 digits>,v1=<64 hex>" and the NUL. */
#define RECON_STRIPE_SIG_MAX 96

/* Checks a Stripe-Signature header ("t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]") over
 * "<t>.<body>" (t exactly as written in the header) with HMAC-SHA256 keyed by the whole secret
 * string. Accepts when any v1 matches (constant-time compare) and |now_s - t| <= tolerance_s.
 * Otherwise ARR_EINVAL with why set to exactly one of: "no timestamp" (missing, not digits, or
 * given twice), "timestamp outside the tolerance", "no v1 signature", "signature mismatch";
 * a missing secret or a negative tolerance is ARR_EINVAL too. Nothing is kept. */
arr_err recon_stripe_verify(const char *header, const char *body, size_t body_len,
                            const char *secret, int64_t now_s, int64_t tolerance_s, char *why,
                            size_t whylen);

/* Writes the header for body signed at time t (t >= 0) into out ("t=<t>,v1=<hex>"); the test
 * suite and the debtor simulator sign their webhooks with it. ARR_ELIMIT when
 * outlen < RECON_STRIPE_SIG_MAX. */
arr_err recon_stripe_sign(const char *body, size_t body_len, const char *secret, int64_t t,
                          char *out, size_t outlen);

/* Turns one event (the webhook body, at most RECON_STRIPE_BODY_MAX bytes) into entries appended
 * to out (source "processor", line = 1-based ordinal within the event). All or nothing: on any
 * error out is left as it was. ARR_EINVAL names the JSON path ("field data.object.amount:
 * missing or not a positive integer"); ARR_ELIMIT for an oversized body or a full list. */
arr_err recon_stripe_parse(const char *body, size_t len, recon_entries *out, char *why,
                           size_t whylen);

#endif
