/* recon_account: one account's money as reconciliation keeps it, and everything that changes
 * it. Pure: state + input + policy -> new state + what happened. No I/O, no clock.
 *
 * Ledger identity, checked after every change (recon_account_consistent):
 *     balance = placed + adjusted - applied + reversed - waived
 * placed: the balance at placement; adjusted: the creditor's later changes (account.updated);
 * applied: every payment applied, whole (an overpayment makes the balance negative: a credit
 * owed back, flagged refund_due); reversed: returns, refunds and chargebacks of applied
 * payments; waived: what a settlement forgave. With no adjustment and no settlement this is
 * DOMAIN.md's balance = placed - applied + reversed.
 *
 * The balance is made of items (fees, interest, principal; one per invoice and kind), each with
 * what is still open. A payment is allocated across items by the tenant's waterfall; what is
 * left is unapplied (credit): allocated + unapplied = amount for every payment. A reversal
 * undoes a payment's allocations, the credit first, then its items in reverse order.
 *
 * Terms: at most one payment plan, one promise to pay and one settlement offer are live at a
 * time (a new one replaces the old, recorded by the caller). Money applied while they are live
 * counts toward them; recon_account_day finds the instalments missed after the grace days,
 * broken promises and expired offers. */
#ifndef ARREARS_RECON_ACCOUNT_H
#define ARREARS_RECON_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/err.h"
#include "entry.h"

#define RECON_ITEMS_MAX 32
#define RECON_INSTALMENTS_MAX 60
#define RECON_TERM_ID_MAX 64
#define RECON_DAY_MS 86400000LL

typedef enum recon_bucket {
    RECON_FEES = 0,
    RECON_INTEREST = 1,
    RECON_PRINCIPAL = 2,
    RECON_CREDIT = 3, /* unapplied: never an item, only an allocation */
} recon_bucket;

typedef enum recon_status {
    RECON_OPEN = 0, /* owes money */
    RECON_PAID,     /* balance <= 0 by payments */
    RECON_SETTLED,  /* a settlement forgave the rest */
    RECON_CLOSED,   /* closed at the creditor; payments still recorded */
} recon_status;

typedef struct recon_item {
    char invoice_id[RECON_TERM_ID_MAX + 1];
    recon_bucket bucket;
    int64_t due_ms;     /* the invoice's due date: oldest first */
    int64_t open_cents; /* >= 0 */
} recon_item;

typedef enum recon_term_status {
    RECON_TERM_NONE = 0,
    RECON_TERM_ACTIVE, /* plan running, promise pending, offer accepted */
    RECON_TERM_DONE,   /* plan completed, promise kept, account settled */
    RECON_TERM_BROKEN, /* instalment missed, promise broken, offer expired */
} recon_term_status;

typedef struct recon_instalment {
    int64_t due_ms;
    int64_t amount_cents;
    int64_t paid_cents;
    int missed; /* 1 once announced as missed: never twice */
} recon_instalment;

typedef struct recon_plan {
    recon_term_status status;
    char id[RECON_TERM_ID_MAX + 1];
    int grace_days;
    int n;
    recon_instalment inst[RECON_INSTALMENTS_MAX];
} recon_plan;

typedef struct recon_promise {
    recon_term_status status;
    char id[RECON_TERM_ID_MAX + 1];
    int64_t amount_cents;
    int64_t date_ms;
    int grace_days;
    int64_t paid_cents; /* applied since it was made */
} recon_promise;

typedef struct recon_settlement {
    recon_term_status status;
    char id[RECON_TERM_ID_MAX + 1];
    int64_t amount_cents;      /* what the consumer agreed to pay in full settlement */
    int64_t from_ms, until_ms; /* the window: payments on days in [from, until] count */
    int64_t paid_cents;
    int64_t waived_cents;              /* set when it settles; restored if a reversal undoes it */
    char settled_by[RECON_ID_MAX + 1]; /* the payment that completed it */
} recon_settlement;

typedef struct recon_account {
    char currency[4];
    recon_status status;
    int64_t placed_cents, adjusted_cents, applied_cents, reversed_cents, waived_cents;
    int64_t balance_cents;
    size_t n_items;
    recon_item items[RECON_ITEMS_MAX];
    recon_plan plan;
    recon_promise promise;
    recon_settlement settlement;
} recon_account;

/* The waterfall of a tenant: buckets in order, then oldest due first within a bucket; or
 * oldest invoice first, then buckets in order within an invoice. */
typedef struct recon_waterfall {
    recon_bucket order[3];
    int oldest_invoice_first;
    char version[64];
} recon_waterfall;

/* {"version":"...","order":["fees","interest","principal"],"oldest_invoice_first":false} */
arr_err recon_waterfall_from_json(json_t *j, recon_waterfall *out, char *why, size_t whylen);
/* The waterfall of tenant in the file at path ({"tenants": {"<tenant>"|"*": {...}}}): the
 * service's and the replay's one reading of deploy/reconciliation/waterfalls.json. */
arr_err recon_waterfall_load(const char *path, const char *tenant, recon_waterfall *w, char *why,
                             size_t whylen);
void recon_waterfall_default(recon_waterfall *out);

/* One allocation of a payment (or, negative, of a reversal) to a bucket of an invoice. */
typedef struct recon_alloc {
    char invoice_id[RECON_TERM_ID_MAX + 1];
    recon_bucket bucket;
    int64_t cents;
} recon_alloc;

#define RECON_ALLOCS_MAX (RECON_ITEMS_MAX + 1)

/* What applying one payment did. */
typedef struct recon_applied {
    size_t n_allocs;
    recon_alloc allocs[RECON_ALLOCS_MAX]; /* positive; bucket CREDIT for the unapplied part */
    int64_t allocated_cents, unapplied_cents;
    int64_t instalment_cents; /* counted toward the plan */
    int plan_completed;
    int promise_kept;
    int settled; /* the payment completed the settlement: settlement.waived_cents forgiven */
} recon_applied;

/* What reversing (part of) a payment did. */
typedef struct recon_reversed {
    size_t n_allocs;
    recon_alloc allocs[RECON_ALLOCS_MAX]; /* negative: what was undone */
    int unsettled;        /* the reversal undid a settlement: the waiver was restored */
    int promise_reopened; /* a kept promise counts as unpaid again */
} recon_reversed;

/* Opens an account from account.placed: one principal item of the balance (fees and interest
 * items when the payload gives fees_cents/interest_cents as parts of the balance). */
arr_err recon_account_open(recon_account *a, json_t *placed_payload, char *why, size_t whylen);
/* The creditor changed its balance by delta (account.updated: balance - previous balance):
 * an adjustment. A raise opens (or grows) the invoice's principal item, a cut reduces items
 * newest first; a cut beyond what is open becomes a credit. */
void recon_account_adjust(recon_account *a, int64_t delta_cents, const char *invoice_id,
                          int64_t due_ms);
/* The creditor closed the account (account.closed). */
void recon_account_close(recon_account *a);

/* Applies a payment of amount (> 0, in the account's currency: the caller checked it) made
 * at at_ms, and counts it toward the live terms. */
void recon_account_apply(recon_account *a, const recon_waterfall *w, const char *payment_id,
                         int64_t amount_cents, int64_t at_ms, recon_applied *out);
/* Reverses amount (<= what is left of it) of an earlier payment whose allocations were
 * `allocs` (positive, as recorded when applied, minus any earlier partial reversals). */
void recon_account_reverse(recon_account *a, const char *payment_id, const recon_alloc *allocs,
                           size_t n_allocs, int64_t amount_cents, int64_t at_ms,
                           recon_reversed *out);

/* Terms. Each replaces a live one of its kind. ARR_EINVAL with why when the terms do not fit
 * (no instalments, amounts not positive, plan total not the balance, window backwards). */
arr_err recon_account_set_plan(recon_account *a, const char *id, const int64_t *due_ms,
                               const int64_t *amounts, int n, int grace_days, char *why,
                               size_t whylen);
arr_err recon_account_set_promise(recon_account *a, const char *id, int64_t amount_cents,
                                  int64_t date_ms, int grace_days, char *why, size_t whylen);
arr_err recon_account_set_settlement(recon_account *a, const char *id, int64_t amount_cents,
                                     int64_t from_ms, int64_t until_ms, char *why, size_t whylen);

/* What turning to day_ms found, each to be announced once. */
typedef struct recon_day {
    int n_missed;
    int missed[RECON_INSTALMENTS_MAX]; /* instalment indexes newly missed */
    int promise_broken;
    int settlement_expired;
} recon_day;
/* Marks what became late when day_ms (00:00 UTC) starts: an instalment unpaid after due +
 * grace days, a promise short after date + grace days, an offer past its window. */
void recon_account_day(recon_account *a, int64_t day_ms, recon_day *out);
/* The next day on which recon_account_day may find something, or 0 when none. */
int64_t recon_account_next_deadline(const recon_account *a);
/* The next unpaid instalment's remaining amount, or 0. */
int64_t recon_account_instalment_due(const recon_account *a);

/* 1 when the ledger identity holds and every item is >= 0. */
int recon_account_consistent(const recon_account *a);

/* A payment's allocation by bucket, as payment.applied carries it: {"fees_cents",
 * "interest_cents","principal_cents"} (reversal amounts counted by magnitude). New reference. */
json_t *recon_allocations_json(const recon_alloc *allocs, size_t n);

/* The state as JSON (items and terms; the ledger figures travel in columns) and back. */
json_t *recon_account_terms_json(const recon_account *a);
arr_err recon_account_terms_from_json(recon_account *a, json_t *j, char *why, size_t whylen);
/* An arrangement's terms as `arrears payments arrange` takes them, on a: kind "plan"
 * ({"instalments":[{"due_date","amount_cents"}],"grace_days"}), "promise" ({"amount_cents",
 * "date","grace_days"}) or "settlement" ({"amount_cents","from","until"}). ARR_EINVAL with the
 * field in why. Borrows t and id. */
arr_err recon_account_set_terms(recon_account *a, const char *kind, json_t *t, const char *id,
                                char *why, size_t whylen);

const char *recon_bucket_name(recon_bucket b);
int recon_bucket_from_name(const char *s, recon_bucket *out);
const char *recon_status_name(recon_status s);
int recon_status_from_name(const char *s, recon_status *out);

#endif
