/* recon_book: reconciliation's own tables (the ledger, payments, allocations, exceptions,
 * arrangements) and the transactions that change them. Every function runs inside the
 * caller's open PostgreSQL transaction and queues the events it causes through the caller's
 * emit hook (the service's outbox), so a change and its events commit together or not at all.
 *
 * Exactly once: a payment is claimed under (tenant, payment_id) before anything else; a second
 * delivery of the same payment, or a second import of the same file, finds the claim and does
 * nothing. Accounts are locked (SELECT ... FOR UPDATE) while they change.
 *
 * The book borrows pg, the hooks and the policies; it owns its per-tenant matching
 * configurations (loaded on first use). */
#ifndef ARREARS_RECON_BOOK_H
#define ARREARS_RECON_BOOK_H

#include <stdint.h>
#include "arrears/envelope.h"
#include "arrears/err.h"
#include "arrears/pg.h"
#include "account.h"
#include "entry.h"
#include "match.h"

#define RECON_TOPIC_EVENTS "arrears.payments.events"
#define RECON_BOOK_TENANTS_MAX 64

typedef struct recon_book_hooks {
    /* Queue env (borrowed) for topic (unprefixed catalogue name) in the open transaction. */
    arr_err (*emit)(void *ctx, const char *topic, const arr_envelope *env);
    /* Build an event caused by cause (arr_envelope_derive with the caller's producer identity
     * and clock). Steals payload. */
    arr_err (*derive)(void *ctx, arr_envelope *out, const arr_envelope *cause, const char *type,
                      const char *derived_name, json_t *payload);
    /* Optional: stage the account's cached balance for after the commit. */
    void (*cache)(void *ctx, const char *tenant, const char *account, int64_t balance_cents,
                  const char *status);
    void *ctx;
} recon_book_hooks;

typedef struct recon_book {
    arr_pg *pg;             /* borrowed */
    recon_book_hooks hooks; /* borrowed ctx */
    char matching_path[512];
    char waterfall_path[512];
    int n_tenants;
    struct {
        char tenant[ARR_TENANT_MAX + 1];
        recon_match_config match;
        recon_waterfall waterfall;
    } tenants[RECON_BOOK_TENANTS_MAX];
    int returns_waiting; /* the payment being taken has returns waiting for it */
} recon_book;

/* Prepares the statements on pg. deploy_dir holds reconciliation/matching.json and
 * reconciliation/waterfalls.json. */
arr_err recon_book_init(recon_book *b, arr_pg *pg, const recon_book_hooks *hooks,
                        const char *deploy_dir, char *why, size_t whylen);
void recon_book_free(recon_book *b);

/* The accounts' events: open the ledger (account.placed, at kafka_partition), follow the
 * creditor's changes (account.updated) and closures (account.closed). */
arr_err recon_book_account_event(recon_book *b, const arr_envelope *env, int32_t kafka_partition,
                                 char *why, size_t whylen);
/* One payment.received: claim, then match and allocate, reverse, or record. ARR_EINVAL when
 * the payload breaks its contract (the caller dead-letters it). */
arr_err recon_book_take(recon_book *b, const arr_envelope *env, char *why, size_t whylen);
/* A person places an unmatched payment on account (recorded as manual, with who). ARR_ENOTFOUND
 * when the payment or account is unknown, ARR_EINVAL when the payment is not an open exception
 * or the currencies differ. cause: the command's own envelope (for event ids and times). */
arr_err recon_book_resolve(recon_book *b, const arr_envelope *cause, const char *payment_id,
                           const char *account_id, const char *who, char *why, size_t whylen);
/* A plan, promise or settlement offer for an account. terms is the arrangement as JSON:
 * plan {"id","instalments":[{"due_date","amount_cents"}],"grace_days"}, promise {"id",
 * "amount_cents","date","grace_days"}, settlement {"id","amount_cents","from","until"}.
 * Idempotent by id. */
arr_err recon_book_arrange(recon_book *b, const arr_envelope *cause, const char *kind,
                           json_t *terms, const char *made_by, char *why, size_t whylen);
/* A reply.received with intent promise becomes a promise (grace from the waterfall policy:
 * 3 days). Other intents are ignored here. */
arr_err recon_book_reply(recon_book *b, const arr_envelope *env, char *why, size_t whylen);
/* clock.day_started: instalments missed, promises broken and offers expired on the accounts of
 * that partition. */
arr_err recon_book_day(recon_book *b, const arr_envelope *env, char *why, size_t whylen);

#endif
