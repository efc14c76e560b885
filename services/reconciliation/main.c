/* arrears-reconciliation: puts every payment on the right account exactly once and keeps
 * the balance true.
 *
 * The story (foundation): join the consumer group on arrears.accounts and
 * arrears.payments.inbound; an account.placed opens the account's ledger; a
 * payment.received is, in one PostgreSQL transaction with its inbox record, stored under its
 * unique payment id, applied to the ledger and announced as payment.applied (or
 * payment.unmatched with the reason) through the outbox; then the outbox is relayed to
 * arrears.payments.events, the offset committed and the cached balance refreshed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/service.h"
#include "ledger.h"

#define TOPIC_EVENTS "arrears.payments.events"

/* The cached balance, the field of the account's view reconciliation owns. */
static void cache_balance(arr_svc *s, const arr_envelope *env, int64_t balance_cents)
{
    char bal[24];
    snprintf(bal, sizeof(bal), "%lld", (long long)balance_cents);
    const char *fv[] = {"balance_cents", bal};
    arr_svc_cache_account(s, env->tenant, env->account, 1, fv);
}

static const char *const input_topics[] = {"arrears.accounts", "arrears.payments.inbound", NULL};
static const arr_svc_spec spec = {
    .name = "reconciliation",
    .default_http_port = 18084,
    .topics = input_topics,
    .dead_letter_topic = "arrears.reconciliation.dlq",
};

static arr_err prepare(arr_svc *s, char *why, size_t whylen)
{
    struct {
        const char *name, *sql;
        int n;
    } st[] = {
        {"recon_ledger_open",
         "INSERT INTO reconciliation.ledger (tenant, account_id, currency, placed_cents,"
         " balance_cents, updated_at) VALUES ($1, $2, $3, $4, $4, $5)"
         " ON CONFLICT (tenant, account_id) DO NOTHING",
         5},
        {"recon_ledger_get",
         "SELECT currency, placed_cents, applied_cents, reversed_cents, balance_cents"
         " FROM reconciliation.ledger WHERE tenant = $1 AND account_id = $2 FOR UPDATE",
         2},
        {"recon_ledger_put",
         "UPDATE reconciliation.ledger SET applied_cents = $3, reversed_cents = $4,"
         " balance_cents = $5, updated_at = $6 WHERE tenant = $1 AND account_id = $2",
         6},
        {"recon_payment_insert",
         "INSERT INTO reconciliation.payments (tenant, payment_id, account_id, source,"
         " amount_cents, currency, received_at, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7,"
         " $8) ON CONFLICT (tenant, payment_id) DO NOTHING",
         8},
    };
    arr_err e = ARR_OK;
    for (size_t i = 0; !e && i < sizeof(st) / sizeof(st[0]); i++)
        e = arr_pg_prepare(s->pg, st[i].name, st[i].sql, st[i].n, why, whylen);
    return e;
}

static arr_err open_ledger(arr_svc *s, const arr_envelope *env, char *why, size_t whylen)
{
    json_t *bal = json_object_get(env->payload, "balance_cents");
    const char *cur = json_string_value(json_object_get(env->payload, "currency"));
    if (!json_is_integer(bal) || !cur || strlen(cur) != 3) {
        snprintf(why, whylen, "field payload.balance_cents/currency: missing or malformed");
        return ARR_EINVAL;
    }
    char cents[24], at[ARR_TIME_STRLEN];
    snprintf(cents, sizeof(cents), "%lld", (long long)json_integer_value(bal));
    arr_time_format(env->event_time_ms, at, sizeof(at));
    const char *params[] = {env->tenant, env->account, cur, cents, at};
    arr_err e = arr_pg_run(s->pg, "recon_ledger_open", 5, params, NULL, why, whylen);
    if (!e && arr_pg_affected(s->pg) == 1) {
        cache_balance(s, env, json_integer_value(bal));
    }
    return e;
}

static arr_err load_ledger(arr_svc *s, const arr_envelope *env, recon_ledger *l, char *why,
                           size_t whylen)
{
    PGresult *res = NULL;
    const char *params[] = {env->tenant, env->account};
    memset(l, 0, sizeof(*l));
    arr_err e = arr_pg_run(s->pg, "recon_ledger_get", 2, params, &res, why, whylen);
    if (!e && PQntuples(res) == 1) {
        l->exists = 1;
        snprintf(l->currency, sizeof(l->currency), "%s", PQgetvalue(res, 0, 0));
        l->placed_cents = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        l->applied_cents = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        l->reversed_cents = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
        l->balance_cents = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    }
    PQclear(res);
    return e;
}

static arr_err store_payment(arr_svc *s, const arr_envelope *env, const recon_payment *p,
                             const recon_outcome *o, int *fresh, char *why, size_t whylen)
{
    char amount[24], at[ARR_TIME_STRLEN], applied[24], reversed[24], balance[24];
    snprintf(amount, sizeof(amount), "%lld", (long long)p->amount_cents);
    arr_time_format(p->received_at_ms, at, sizeof(at));
    const char *pay[] = {env->tenant, p->payment_id, env->account, p->source,
                         amount,      p->currency,   at,           env->event_id};
    arr_err e = arr_pg_run(s->pg, "recon_payment_insert", 8, pay, NULL, why, whylen);
    *fresh = !e && arr_pg_affected(s->pg) == 1;
    if (e || !*fresh)
        return e; /* the same payment id again: already applied, change nothing */
    snprintf(applied, sizeof(applied), "%lld", (long long)o->after.applied_cents);
    snprintf(reversed, sizeof(reversed), "%lld", (long long)o->after.reversed_cents);
    snprintf(balance, sizeof(balance), "%lld", (long long)o->after.balance_cents);
    const char *led[] = {env->tenant, env->account, applied, reversed, balance, at};
    return arr_pg_run(s->pg, "recon_ledger_put", 6, led, NULL, why, whylen);
}

static arr_err emit_outcome(arr_svc *s, const arr_envelope *env, const recon_payment *p,
                            const recon_outcome *o)
{
    json_t *payload;
    const char *type;
    if (o->applied) {
        type = "payment.applied";
        payload = json_pack("{s:s, s:I, s:s, s:I}", "payment_id", p->payment_id, "amount_cents",
                            (json_int_t)p->amount_cents, "currency", p->currency,
                            "balance_after_cents", (json_int_t)o->after.balance_cents);
    } else {
        type = "payment.unmatched";
        payload = json_pack("{s:s, s:I, s:s, s:s}", "payment_id", p->payment_id, "amount_cents",
                            (json_int_t)p->amount_cents, "currency", p->currency, "reason",
                            o->unmatched_reason);
    }
    arr_envelope out;
    arr_err e = arr_svc_derive(s, &out, env, type, type, payload);
    if (!e) {
        out.event_time_ms = env->event_time_ms;
        e = arr_svc_emit(s, TOPIC_EVENTS, &out);
    }
    arr_envelope_clear(&out);
    return e;
}

static arr_err take_payment(arr_svc *s, const arr_envelope *env, char *why, size_t whylen)
{
    recon_payment p;
    recon_ledger before;
    recon_outcome o;
    arr_err e = recon_payment_from_payload(env->payload, &p, why, whylen);
    if (!e)
        e = load_ledger(s, env, &before, why, whylen);
    if (e)
        return e;
    recon_apply_payment(&before, &p, &o);
    int fresh = 1;
    if (o.applied)
        e = store_payment(s, env, &p, &o, &fresh, why, whylen);
    if (!e && fresh)
        e = emit_outcome(s, env, &p, &o);
    if (!e && o.applied && fresh) {
        cache_balance(s, env, o.after.balance_cents);
    }
    return e;
}

static arr_err apply(void *opaque, arr_svc *s, const arr_envelope *env, char *why, size_t whylen)
{
    (void)opaque;
    if (strcmp(env->event_type, "account.placed") == 0)
        return open_ledger(s, env, why, whylen);
    if (strcmp(env->event_type, "payment.received") == 0)
        return take_payment(s, env, why, whylen);
    return ARR_OK; /* other account events: recorded in the inbox, nothing to do yet */
}

int main(int argc, char **argv)
{
    arr_svc svc;
    arr_err e = arr_svc_open(&svc, &spec, argc, argv);
    char why[512];
    if (!e && (e = prepare(&svc, why, sizeof(why))) != ARR_OK)
        arr_svc_failed(&svc, e, "cannot prepare statements", why);
    arr_svc_handler h = {.apply = apply, .opaque = NULL};
    if (!e)
        e = arr_svc_run_pg(&svc, &h);
    arr_svc_close(&svc);
    return e && e != ARR_ESHUTDOWN ? 1 : 0;
}
