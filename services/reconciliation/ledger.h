/* recon_ledger: applying a payment to an account's ledger. Pure: ledger + payment ->
 * outcome. The invariant balance = placed - applied + reversed holds after every outcome;
 * currencies never mix. Matching by reference and allocation waterfalls come later; this
 * is the exact-account path. */
#ifndef ARREARS_RECON_LEDGER_H
#define ARREARS_RECON_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/err.h"

typedef struct recon_ledger {
    int exists; /* 0: no account known under this key */
    char currency[4];
    int64_t placed_cents, applied_cents, reversed_cents, balance_cents;
} recon_ledger;

typedef struct recon_payment {
    char payment_id[129];
    char source[33];
    int64_t amount_cents; /* > 0 */
    char currency[4];
    int64_t received_at_ms;
} recon_payment;

typedef struct recon_outcome {
    int applied;                  /* 1: ledger changes as below */
    const char *unmatched_reason; /* when not applied: stable code */
    recon_ledger after;
} recon_outcome;

/* ARR_EINVAL with why naming the field when the payment.received payload is malformed. */
arr_err recon_payment_from_payload(json_t *payload, recon_payment *out, char *why, size_t len);
void recon_apply_payment(const recon_ledger *before, const recon_payment *p, recon_outcome *out);
/* 1 when the ledger satisfies balance = placed - applied + reversed. */
int recon_ledger_consistent(const recon_ledger *l);

#endif
