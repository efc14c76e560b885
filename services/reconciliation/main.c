/* arrears-reconciliation: puts every payment on the right account exactly once and keeps
 * the balance true.
 *
 * The story: join the consumer group on the accounts, the inbound payments, the consumers'
 * replies and the clock. An account.placed opens the account's ledger, later account events
 * follow the creditor's changes. Each payment.received (whatever door it came through: a
 * bank file, a processor webhook, POST /v1/payments) is, in one PostgreSQL transaction with
 * its inbox record, claimed under its source-unique payment id, matched (reference, then
 * amount and name, else the exceptions queue), allocated by the tenant's waterfall, counted
 * toward the account's plan, promise or settlement, or, for a return, undone; its events go
 * through the outbox. A reply promising to pay becomes a promise; each new day finds the
 * instalments missed and the promises broken. Then the outbox is relayed to
 * arrears.payments.events, the offsets committed and the cached balances refreshed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/service.h"
#include "book.h"
#include "doors.h"

typedef struct recon_ctx {
    arr_svc *svc;
    recon_book book;
} recon_ctx;

static arr_err emit_hook(void *ctx, const char *topic, const arr_envelope *env)
{
    return arr_svc_emit(((recon_ctx *)ctx)->svc, topic, env);
}

static arr_err derive_hook(void *ctx, arr_envelope *out, const arr_envelope *cause,
                           const char *type, const char *name, json_t *payload)
{
    return arr_svc_derive(((recon_ctx *)ctx)->svc, out, cause, type, name, payload);
}

/* The balance and status are the fields of the account's cached view reconciliation owns. */
static void cache_hook(void *ctx, const char *tenant, const char *account, int64_t balance,
                       const char *status)
{
    char bal[24];
    snprintf(bal, sizeof(bal), "%lld", (long long)balance);
    const char *fv[] = {"balance_cents", bal, "ledger_status", status};
    arr_svc_cache_account(((recon_ctx *)ctx)->svc, tenant, account, 2, fv);
}

static void doors_free(void *d)
{
    recon_doors_free(d);
}

static arr_err routes(arr_svc *s, char *why, size_t whylen)
{
    recon_doors *d = NULL;
    arr_err e = recon_doors_new(s, &d, why, whylen);
    if (!e && d) {
        s->ext = d;
        s->ext_free = doors_free;
    }
    return e;
}

static const char *const input_topics[] = {"arrears.accounts", "arrears.payments.inbound",
                                           "arrears.outreach.replies", "arrears.clock", NULL};
static const arr_svc_spec spec = {
    .name = "reconciliation",
    .default_http_port = 18084,
    .topics = input_topics,
    .dead_letter_topic = "arrears.reconciliation.dlq",
    .routes = routes,
};

static arr_err apply(void *opaque, arr_svc *s, const arr_envelope *env, char *why, size_t whylen)
{
    recon_ctx *ctx = opaque;
    const char *type = env->event_type;
    if (strncmp(type, "account.", 8) == 0)
        return recon_book_account_event(&ctx->book, env, s->current ? s->current->partition : 0,
                                        why, whylen);
    if (strcmp(type, "payment.received") == 0)
        return recon_book_take(&ctx->book, env, why, whylen);
    if (strcmp(type, "reply.received") == 0)
        return recon_book_reply(&ctx->book, env, why, whylen);
    if (strcmp(type, "clock.day_started") == 0)
        return arr_event_for_service(env->payload, "reconciliation")
                   ? recon_book_day(&ctx->book, env, why, whylen)
                   : ARR_OK;
    return ARR_OK; /* recorded in the inbox; nothing of ours */
}

int main(int argc, char **argv)
{
    arr_svc svc;
    recon_ctx ctx = {.svc = &svc};
    arr_err e = arr_svc_open(&svc, &spec, argc, argv);
    char why[512];
    const char *deploy = NULL;
    if (!e)
        e = arr_config_str(svc.cfg, "ARR_DEPLOY_DIR", ARR_DEPLOY_DIR, &deploy, why, sizeof(why));
    recon_book_hooks hooks = {
        .emit = emit_hook, .derive = derive_hook, .cache = cache_hook, .ctx = &ctx};
    if (!e && (e = recon_book_init(&ctx.book, svc.pg, &hooks, deploy, why, sizeof(why))) != ARR_OK)
        arr_svc_failed(&svc, e, "cannot prepare statements", why);
    arr_svc_handler h = {.apply = apply, .opaque = &ctx};
    if (!e)
        e = arr_svc_run_pg(&svc, &h);
    recon_book_free(&ctx.book);
    arr_svc_close(&svc);
    return e && e != ARR_ESHUTDOWN ? 1 : 0;
}
