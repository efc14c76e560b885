/* The reconciliation replay. Each account's ledger (recon_account) is folded again from the
 * inputs reconciliation consumed, in the order its inbox claimed them (reconciliation.inbox.seq:
 * account.placed/updated/closed, payment.received, reply.received, clock.day_started), with
 * the arrangements people made (reconciliation.arrangements, not events) merged in by time.
 * Every decision recorded in the audit store (producer reconciliation, linked to its input by
 * causation_id) is decided again by the pure account code on the state of that moment and the
 * payloads compared field by field:
 *   payment.applied   recon_account_apply with the tenant's waterfall (ARR_DEPLOY_DIR, as the
 *                     service: <dir>/reconciliation/waterfalls.json)
 *   payment.settled   what that apply settled
 *   payment.reversed  recon_account_reverse of what is left of the original (pending returns
 *                     settled when their payment arrives, as the service does)
 *   plan.instalment_missed, promise.broken   recon_account_day for the clock's partition
 *   payment.unmatched the fields the input gives (matching is not re-run: see below)
 * A difference in payment.applied is blamed on the waterfall when the configured one differs
 * from the recorded version or from the order the recorded allocation implies.
 *
 * Not covered: matching is taken as recorded (the account a payment went to, matched_via,
 * and an unmatched payment's reason and candidates), so a change in match.c or matching.json
 * is not shown; decisions made by people (arrears payments resolve) have no input in the
 * inbox and are counted as unexplained, and the account they touch may differ afterwards.
 * Memory: one recon_account per account of the tenant and one record per payment. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"
#include "arrears/envelope.h"
#include "account.h"
#include "payload.h"
#include "replay.h"

#define FETCH_INPUTS "FETCH 5000 FROM rr"
#define FETCH_ARRANGEMENTS "FETCH 1000 FROM ra"

/* ---- what the replay keeps ------------------------------------------------------------ */

typedef struct acct {
    recon_account a;
    int partition; /* of its account.placed: the clock's days are per partition */
} acct;

typedef enum pay_status { PAY_RECORDED, PAY_APPLIED, PAY_UNMATCHED, PAY_PENDING } pay_status;

/* One claimed payments row, as the service keeps it in reconciliation.payments. */
typedef struct pay {
    recon_kind kind;
    pay_status status;
    char account[ARR_ACCOUNT_MAX + 1];
    char currency[4];
    int64_t amount, reversed, received_ms;
    size_t n_allocs;
    recon_alloc allocs[RECON_ALLOCS_MAX * 2]; /* net per invoice and bucket, first-use order */
    /* A return waiting for its original (PAY_PENDING). */
    char original[RECON_ID_MAX + 1], source[RECON_SOURCE_MAX + 1], return_code[16];
    char next_waiting[RECON_ID_MAX + 1]; /* the next return waiting for the same original */
} pay;

/* Returns waiting for one original, in arrival order (a chain through pay.next_waiting). */
typedef struct waiting {
    char first[RECON_ID_MAX + 1], last[RECON_ID_MAX + 1];
} waiting;

typedef struct decision {
    char type[ARR_EVENT_TYPE_MAX + 1];
    char account[ARR_ACCOUNT_MAX + 1];
    char key[RECON_ID_MAX + 16];
    int64_t at_ms;
    json_t *payload; /* owned */
    int used;
    /* payment.applied: to name the waterfall a difference comes from. */
    int has_before;
    recon_account before;
    char payment_id[RECON_ID_MAX + 1];
    int64_t amount;
} decision;

/* One inbox claim: its input and the decisions recorded for it. */
typedef struct group {
    long long seq;
    int has_input, partition;
    int64_t processed_ms;
    arr_buf input;
    arr_envelope *out; /* recorded decisions */
    size_t n_out, cap_out;
} group;

typedef struct run {
    cli_ctx *c;
    arr_pg *pg;
    const cli_replay_opts *o;
    cli_replay_result *r;
    recon_waterfall w;
    cli_replay_table accts, pays, waits, arranged;
    group g;
    decision *d; /* replayed for the current group */
    size_t n_d, cap_d;
    const char *cause_id; /* the current group's input */
    /* arrangements, merged in by time */
    PGresult *ar;
    int ar_i, ar_done;
} run;

/* ---- configuration ----------------------------------------------------------------------- */

/* The tenant's waterfall as the service loads it: waterfalls.json's entry or "*". */
static arr_err load_waterfall(cli_ctx *c, const char *tenant, recon_waterfall *w, char *why,
                              size_t whylen)
{
    const char *deploy;
    arr_err e =
        arr_config_str(c->cfg, "ARR_DEPLOY_DIR", ARR_SOURCE_DIR "/deploy", &deploy, why, whylen);
    if (e)
        return e;
    char path[1024];
    snprintf(path, sizeof(path), "%s/reconciliation/waterfalls.json", deploy);
    return recon_waterfall_load(path, tenant, w, why, whylen);
}

/* ---- replayed decisions ------------------------------------------------------------------ */

static arr_err decide(run *x, const char *type, const char *account, const char *key, int64_t at_ms,
                      json_t *payload, decision **out)
{
    if (!payload)
        return ARR_ENOMEM;
    if (x->n_d == x->cap_d) {
        size_t cap = x->cap_d ? x->cap_d * 2 : 16;
        decision *d = realloc(x->d, cap * sizeof(*d));
        if (!d) {
            json_decref(payload);
            return ARR_ENOMEM;
        }
        x->d = d;
        x->cap_d = cap;
    }
    decision *d = &x->d[x->n_d++];
    memset(d, 0, offsetof(decision, before));
    snprintf(d->type, sizeof(d->type), "%s", type);
    snprintf(d->account, sizeof(d->account), "%s", account);
    snprintf(d->key, sizeof(d->key), "%s", key);
    d->at_ms = at_ms;
    d->payload = payload;
    if (out)
        *out = d;
    if (x->o->shadow) {
        char *s = json_dumps(payload, JSON_COMPACT);
        fprintf(x->o->shadow,
                "{\"account\":\"%s\",\"event_type\":\"%s\",\"cause_event_id\":\"%s\","
                "\"payload\":%s}\n",
                account, type, x->cause_id, s ? s : "null");
        free(s);
    }
    return ARR_OK;
}

/* What identifies a decision among those of one input (with its type and account). */
static void key_of(const char *type, json_t *p, char *out, size_t outlen)
{
    const char *k = json_string_value(json_object_get(p, "payment_id"));
    if (strcmp(type, "payment.reversed") == 0)
        k = json_string_value(json_object_get(p, "return_id"));
    else if (strcmp(type, "promise.broken") == 0)
        k = json_string_value(json_object_get(p, "promise_id"));
    if (strcmp(type, "plan.instalment_missed") == 0) {
        const char *plan = json_string_value(json_object_get(p, "plan_id"));
        snprintf(out, outlen, "%s/%lld", plan ? plan : "",
                 (long long)json_integer_value(json_object_get(p, "instalment_number")));
        return;
    }
    snprintf(out, outlen, "%s", k ? k : "");
}

static json_int_t positive(int64_t v)
{
    return (json_int_t)(v > 0 ? v : 0);
}

/* Adds allocations (negative for a reversal) to a payment's net ones. */
static void net_allocs(pay *p, const recon_alloc *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < p->n_allocs && (p->allocs[k].bucket != a[i].bucket ||
                                   strcmp(p->allocs[k].invoice_id, a[i].invoice_id) != 0))
            k++;
        if (k == p->n_allocs) {
            if (k == sizeof(p->allocs) / sizeof(p->allocs[0]))
                continue; /* cannot be: an account has at most RECON_ITEMS_MAX items */
            p->allocs[k] = a[i];
            p->allocs[k].cents = 0;
            p->n_allocs++;
        }
        p->allocs[k].cents += a[i].cents;
    }
}

static arr_err settle_waiting(run *x, const char *payment_id);

/* A payment applied to account (matching as recorded): allocation, terms, its events. */
static arr_err apply_payment(run *x, const recon_entry *p, pay *py, const char *account,
                             const char *via)
{
    acct *ac = cli_replay_table_get(&x->accts, account);
    if (!ac)
        return ARR_OK; /* never placed here: the service could not have applied it */
    decision *d;
    recon_account before = ac->a;
    recon_applied ap;
    recon_account_apply(&ac->a, &x->w, p->payment_id, p->amount_cents, p->received_at_ms, &ap);
    py->status = PAY_APPLIED;
    snprintf(py->account, sizeof(py->account), "%s", account);
    net_allocs(py, ap.allocs, ap.n_allocs);
    const recon_account *a = &ac->a;
    char at[ARR_TIME_STRLEN];
    arr_time_format(p->received_at_ms, at, sizeof(at));
    json_t *pl = json_pack(
        "{s:s, s:s, s:I, s:s, s:I, s:I, s:o, s:s, s:I, s:b, s:b, s:s, s:s, s:s}", "payment_id",
        p->payment_id, "source", p->source, "amount_cents", (json_int_t)p->amount_cents, "currency",
        p->currency, "balance_after_cents", positive(a->balance_cents), "credit_cents",
        positive(-a->balance_cents), "allocation", recon_allocations_json(ap.allocs, ap.n_allocs),
        "matched_via", via, "unapplied_cents", (json_int_t)ap.unapplied_cents, "promise_kept",
        ap.promise_kept, "plan_completed", ap.plan_completed, "status_after",
        recon_status_name(a->status), "waterfall_version", x->w.version, "received_at", at);
    if (pl && ap.instalment_cents)
        json_object_set_new(pl, "instalment_cents", json_integer(ap.instalment_cents));
    arr_err e = decide(x, "payment.applied", account, p->payment_id, p->received_at_ms, pl, &d);
    if (!e) {
        d->has_before = 1;
        d->before = before;
        snprintf(d->payment_id, sizeof(d->payment_id), "%s", p->payment_id);
        d->amount = p->amount_cents;
    }
    if (!e && ap.settled)
        e = decide(x, "payment.settled", account, p->payment_id, p->received_at_ms,
                   json_pack("{s:s, s:s, s:I, s:I, s:s}", "settlement_id", a->settlement.id,
                             "payment_id", p->payment_id, "paid_cents",
                             (json_int_t)a->settlement.paid_cents, "waived_cents",
                             (json_int_t)a->settlement.waived_cents, "currency", a->currency),
                   NULL);
    return e ? e : settle_waiting(x, p->payment_id);
}

/* A return of original: what is left of it is undone on its account. */
static arr_err reverse_payment(run *x, const char *return_id, int64_t amount, const char *currency,
                               const char *return_code, int64_t at_ms, const char *original)
{
    pay *o = cli_replay_table_get(&x->pays, original);
    int64_t left = o ? o->amount - o->reversed : 0;
    int64_t take = amount < left ? amount : left;
    if (!o || o->kind != RECON_PAYMENT || strcmp(o->currency, currency) != 0 || take <= 0)
        return ARR_OK; /* recorded only, as the service does */
    o->reversed += take;
    if (o->status != PAY_APPLIED)
        return ARR_OK; /* an exception withdrawn: nothing applied to undo */
    acct *ac = cli_replay_table_get(&x->accts, o->account);
    if (!ac)
        return ARR_OK;
    recon_alloc net[RECON_ALLOCS_MAX];
    size_t nn = 0;
    for (size_t i = 0; i < o->n_allocs && nn < RECON_ALLOCS_MAX; i++)
        if (o->allocs[i].cents > 0)
            net[nn++] = o->allocs[i];
    recon_reversed rv;
    recon_account_reverse(&ac->a, original, net, nn, take, at_ms, &rv);
    net_allocs(o, rv.allocs, rv.n_allocs);
    const recon_account *a = &ac->a;
    json_t *pl = json_pack("{s:s, s:s, s:I, s:s, s:I, s:b, s:b, s:s}", "payment_id", original,
                           "return_id", return_id, "amount_cents", (json_int_t)take, "currency",
                           a->currency, "balance_after_cents", positive(a->balance_cents),
                           "unsettled", rv.unsettled, "promise_reopened", rv.promise_reopened,
                           "status_after", recon_status_name(a->status));
    if (pl && return_code[0])
        json_object_set_new(pl, "return_code", json_string(return_code));
    return decide(x, "payment.reversed", o->account, return_id, at_ms, pl, NULL);
}

/* Returns that came before their payment are settled, in arrival order, once it is taken. */
static arr_err settle_waiting(run *x, const char *payment_id)
{
    waiting *w = cli_replay_table_get(&x->waits, payment_id);
    if (!w || !w->first[0])
        return ARR_OK;
    char id[RECON_ID_MAX + 1];
    snprintf(id, sizeof(id), "%s", w->first);
    w->first[0] = '\0';
    arr_err e = ARR_OK;
    while (!e && id[0]) {
        pay *rp = cli_replay_table_get(&x->pays, id);
        if (!rp)
            break;
        rp->status = PAY_RECORDED;
        e = reverse_payment(x, id, rp->amount, rp->currency, rp->return_code, rp->received_ms,
                            payment_id);
        snprintf(id, sizeof(id), "%s", rp->next_waiting);
    }
    return e;
}

/* The recorded decision on payment_id of type in the current group, or NULL. */
static const arr_envelope *recorded(const run *x, const char *type, const char *payment_id)
{
    for (size_t i = 0; i < x->g.n_out; i++) {
        const arr_envelope *o = &x->g.out[i];
        const char *id = json_string_value(json_object_get(o->payload, "payment_id"));
        if (strcmp(o->event_type, type) == 0 && id && strcmp(id, payment_id) == 0)
            return o;
    }
    return NULL;
}

static arr_err take(run *x, const arr_envelope *env)
{
    recon_entry p;
    char why[300];
    if (recon_payload_to_entry(env->payload, &p, why, sizeof(why)) != ARR_OK)
        return ARR_OK; /* dead-lettered by the service too */
    if (!p.account_hint[0] && strcmp(env->account, p.payment_id) != 0 &&
        strcmp(env->account, p.returned_payment_id) != 0)
        snprintf(p.account_hint, sizeof(p.account_hint), "%s", env->account);
    pay *py;
    int fresh;
    arr_err e = cli_replay_table_add(&x->pays, p.payment_id, sizeof(pay), (void **)&py, &fresh);
    if (e || !fresh)
        return e; /* the same payment again: taken once */
    py->kind = p.kind;
    py->amount = p.amount_cents;
    py->received_ms = p.received_at_ms;
    snprintf(py->currency, sizeof(py->currency), "%s", p.currency);
    if (p.kind == RECON_NOTICE || p.kind == RECON_SKIPPED)
        return ARR_OK;
    if (p.kind == RECON_RETURN) {
        if (cli_replay_table_get(&x->pays, p.returned_payment_id))
            return reverse_payment(x, p.payment_id, p.amount_cents, p.currency, p.return_code,
                                   p.received_at_ms, p.returned_payment_id);
        py->status = PAY_PENDING;
        snprintf(py->original, sizeof(py->original), "%s", p.returned_payment_id);
        snprintf(py->source, sizeof(py->source), "%s", p.source);
        snprintf(py->return_code, sizeof(py->return_code), "%s", p.return_code);
        waiting *w;
        e = cli_replay_table_add(&x->waits, p.returned_payment_id, sizeof(waiting), (void **)&w,
                                 NULL);
        if (e)
            return e;
        if (w->first[0]) {
            pay *last = cli_replay_table_get(&x->pays, w->last);
            if (last)
                snprintf(last->next_waiting, sizeof(last->next_waiting), "%s", p.payment_id);
        } else {
            snprintf(w->first, sizeof(w->first), "%s", p.payment_id);
        }
        snprintf(w->last, sizeof(w->last), "%s", p.payment_id);
        return ARR_OK;
    }
    /* Matching as recorded: the account the applied event names, else the exceptions queue. */
    const arr_envelope *ap = recorded(x, "payment.applied", p.payment_id);
    if (ap) {
        const char *via = json_string_value(json_object_get(ap->payload, "matched_via"));
        return apply_payment(x, &p, py, ap->account, via ? via : "");
    }
    const arr_envelope *un = recorded(x, "payment.unmatched", p.payment_id);
    if (!un && p.account_hint[0] && cli_replay_table_get(&x->accts, p.account_hint))
        return apply_payment(x, &p, py, p.account_hint, "hint"); /* must have been applied */
    py->status = PAY_UNMATCHED;
    if (!un)
        return settle_waiting(x, p.payment_id);
    /* The payment's own fields; the rule, reason and candidates are matching's, as recorded. */
    json_t *pl = json_pack("{s:s, s:I, s:s, s:s}", "payment_id", p.payment_id, "amount_cents",
                           (json_int_t)p.amount_cents, "currency", p.currency, "source", p.source);
    static const char *const matching[] = {"reason", "rule", "candidates"};
    for (int i = 0; pl && i < 3; i++) {
        json_t *v = json_object_get(un->payload, matching[i]);
        if (v)
            json_object_set(pl, matching[i], v);
    }
    if (pl && p.reference[0])
        json_object_set_new(pl, "reference", json_string(p.reference));
    e = decide(x, "payment.unmatched", env->account, p.payment_id, p.received_at_ms, pl, NULL);
    return e ? e : settle_waiting(x, p.payment_id);
}

/* ---- terms --------------------------------------------------------------------------- */

/* The terms of an arrangement on the account (the checks are recon_account_set_*'s). */
static void arrange(run *x, const char *account, const char *kind, json_t *t)
{
    acct *ac = cli_replay_table_get(&x->accts, account);
    const char *id = json_string_value(json_object_get(t, "id"));
    void *seen;
    int fresh;
    if (!ac || !id || cli_replay_table_add(&x->arranged, id, 1, &seen, &fresh) != ARR_OK || !fresh)
        return; /* unknown account, or the same arrangement again: made once */
    char why[300];
    recon_account_set_terms(&ac->a, kind, t, id, why, sizeof(why)); /* refused terms: none */
}

/* A reply promising to pay becomes a promise, as recon_book_reply makes it. */
static void reply(run *x, const arr_envelope *env)
{
    const char *intent = json_string_value(json_object_get(env->payload, "intent"));
    json_t *amt = json_object_get(env->payload, "promised_amount_cents");
    const char *rid = json_string_value(json_object_get(env->payload, "reply_id"));
    const char *date = json_string_value(json_object_get(env->payload, "promised_date"));
    if (!intent || strcmp(intent, "promise") != 0 || !amt || !rid || !date)
        return;
    char id[RECON_TERM_ID_MAX + 1];
    snprintf(id, sizeof(id), "promise:%.56s", rid);
    json_t *t = json_pack("{s:s, s:O, s:s, s:i}", "id", id, "amount_cents", amt, "date", date,
                          "grace_days", 3);
    if (t)
        arrange(x, env->account, "promise", t);
    json_decref(t);
}

/* The arrangements people made before t_ms (the moment the next input was claimed). */
static arr_err arrangements_until(run *x, int64_t t_ms, char *why, size_t whylen)
{
    for (;;) {
        if (x->ar && x->ar_i == PQntuples(x->ar)) {
            PQclear(x->ar);
            x->ar = NULL;
        }
        if (!x->ar && !x->ar_done) {
            x->ar_i = 0;
            arr_err e = cli_replay_fetch(x->pg, FETCH_ARRANGEMENTS, &x->ar, why, whylen);
            if (e)
                return e;
            x->ar_done = PQntuples(x->ar) == 0;
        }
        if (!x->ar || x->ar_done)
            return ARR_OK;
        if (strtoll(PQgetvalue(x->ar, x->ar_i, 0), NULL, 10) >= t_ms)
            return ARR_OK;
        json_t *t = json_loads(PQgetvalue(x->ar, x->ar_i, 3), 0, NULL);
        x->r->inputs++;
        if (t)
            arrange(x, PQgetvalue(x->ar, x->ar_i, 1), PQgetvalue(x->ar, x->ar_i, 2), t);
        json_decref(t);
        x->ar_i++;
    }
}

/* ---- accounts and days ------------------------------------------------------------- */

static arr_err account_event(run *x, const arr_envelope *env, int partition)
{
    acct *ac = cli_replay_table_get(&x->accts, env->account);
    char why[300];
    if (strcmp(env->event_type, "account.placed") == 0) {
        recon_account a;
        if (ac || recon_account_open(&a, env->payload, why, sizeof(why)) != ARR_OK)
            return ARR_OK; /* placed once; a refused one is dead-lettered */
        arr_err e = cli_replay_table_add(&x->accts, env->account, sizeof(acct), (void **)&ac, NULL);
        if (!e) {
            ac->a = a;
            ac->partition = partition;
        }
        return e;
    }
    if (!ac)
        return ARR_OK;
    if (strcmp(env->event_type, "account.closed") == 0) {
        recon_account_close(&ac->a);
    } else if (strcmp(env->event_type, "account.updated") == 0) {
        json_t *bal = json_object_get(env->payload, "balance_cents");
        json_t *prev = json_object_get(env->payload, "previous_balance_cents");
        if (!json_is_integer(bal) || !json_is_integer(prev))
            return ARR_OK;
        const char *inv = json_string_value(json_object_get(env->payload, "invoice_id"));
        const char *dd = json_string_value(json_object_get(env->payload, "due_date"));
        int64_t due = env->event_time_ms;
        if (dd)
            recon_date_ms(dd, strlen(dd), &due);
        recon_account_adjust(&ac->a, json_integer_value(bal) - json_integer_value(prev), inv, due);
    }
    return ARR_OK;
}

/* What the day found late on one account, announced as the service announces it. */
static arr_err day_account(run *x, const char *account, recon_account *a, int64_t day_ms)
{
    recon_day d;
    recon_account_day(a, day_ms, &d);
    char at[ARR_TIME_STRLEN], date[16], key[RECON_TERM_ID_MAX + 16];
    arr_err e = ARR_OK;
    for (int i = 0; !e && i < d.n_missed; i++) {
        const recon_instalment *in = &a->plan.inst[d.missed[i]];
        arr_time_format(in->due_ms, at, sizeof(at));
        snprintf(date, sizeof(date), "%.10s", at);
        snprintf(key, sizeof(key), "%s/%d", a->plan.id, d.missed[i] + 1);
        e = decide(x, "plan.instalment_missed", account, key, day_ms,
                   json_pack("{s:s, s:i, s:s, s:I, s:s}", "plan_id", a->plan.id,
                             "instalment_number", d.missed[i] + 1, "due_date", date,
                             "amount_due_cents", (json_int_t)(in->amount_cents - in->paid_cents),
                             "currency", a->currency),
                   NULL);
    }
    if (!e && d.promise_broken) {
        arr_time_format(a->promise.date_ms, at, sizeof(at));
        snprintf(date, sizeof(date), "%.10s", at);
        e = decide(x, "promise.broken", account, a->promise.id, day_ms,
                   json_pack("{s:s, s:I, s:s, s:s, s:I}", "promise_id", a->promise.id,
                             "promised_amount_cents", (json_int_t)a->promise.amount_cents,
                             "currency", a->currency, "promised_date", date, "paid_cents",
                             (json_int_t)a->promise.paid_cents),
                   NULL);
    }
    return e;
}

/* A day starts for a partition: its accounts whose next deadline has come. A scan of the
 * tenant's accounts per day and partition (the service has an index; this is read-only). */
static arr_err day(run *x, const arr_envelope *env)
{
    const char *s = json_string_value(json_object_get(env->payload, "day"));
    json_t *part = json_object_get(env->payload, "partition");
    int64_t day_ms;
    if (!s || recon_date_ms(s, strlen(s), &day_ms) != ARR_OK || !json_is_integer(part))
        return ARR_OK;
    arr_err e = ARR_OK;
    for (size_t i = 0; !e && i < x->accts.cap; i++) {
        acct *ac = x->accts.slots[i].val;
        if (!x->accts.slots[i].key || ac->partition != json_integer_value(part))
            continue;
        int64_t next = recon_account_next_deadline(&ac->a);
        if (next && next <= day_ms)
            e = day_account(x, x->accts.slots[i].key, &ac->a, day_ms);
    }
    return e;
}

/* ---- comparing ----------------------------------------------------------------------- */

static void order_name(const recon_waterfall *w, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s,%s,%s%s", recon_bucket_name(w->order[0]),
             recon_bucket_name(w->order[1]), recon_bucket_name(w->order[2]),
             w->oldest_invoice_first ? " oldest invoice first" : "");
}

/* Why a replayed payment.applied differs: the waterfall's version, or the order the recorded
 * allocation implies (tried on the state before the payment), else not the configuration. */
static void applied_cause(const run *x, const decision *d, json_t *rec, char *out, size_t outlen)
{
    const char *v = json_string_value(json_object_get(rec, "waterfall_version"));
    if (v && strcmp(v, x->w.version) != 0) {
        snprintf(out, outlen, "waterfall changed: recorded %s, replay %s", v, x->w.version);
        return;
    }
    static const recon_bucket orders[6][3] = {{RECON_FEES, RECON_INTEREST, RECON_PRINCIPAL},
                                              {RECON_FEES, RECON_PRINCIPAL, RECON_INTEREST},
                                              {RECON_INTEREST, RECON_FEES, RECON_PRINCIPAL},
                                              {RECON_INTEREST, RECON_PRINCIPAL, RECON_FEES},
                                              {RECON_PRINCIPAL, RECON_FEES, RECON_INTEREST},
                                              {RECON_PRINCIPAL, RECON_INTEREST, RECON_FEES}};
    json_t *want = json_object_get(rec, "allocation");
    for (int k = 0; d->has_before && k < 12; k++) {
        recon_waterfall w = x->w;
        memcpy(w.order, orders[k / 2], sizeof(w.order));
        w.oldest_invoice_first = k % 2;
        if (!memcmp(w.order, x->w.order, sizeof(w.order)) &&
            w.oldest_invoice_first == x->w.oldest_invoice_first)
            continue;
        recon_account a = d->before;
        recon_applied ap;
        recon_account_apply(&a, &w, d->payment_id, d->amount, 0, &ap);
        json_t *got = recon_allocations_json(ap.allocs, ap.n_allocs);
        int same = json_equal(got, want);
        json_decref(got);
        if (same) {
            char was[80], now[80];
            order_name(&w, was, sizeof(was));
            order_name(&x->w, now, sizeof(now));
            snprintf(out, outlen,
                     "waterfall changed: recorded allocation implies %.46s, configured %.46s "
                     "(version %.24s)",
                     was, now, x->w.version);
            return;
        }
    }
    snprintf(out, outlen, "same configuration: the inputs or the code differ");
}

static void compare(run *x, const arr_envelope *rec)
{
    if (!cli_replay_wanted(x->o, rec->account, rec->event_time_ms))
        return;
    x->r->compared++;
    char key[RECON_ID_MAX + 16], field[64], a[160], b[160], cause[200];
    key_of(rec->event_type, rec->payload, key, sizeof(key));
    decision *d = NULL;
    for (size_t i = 0; !d && i < x->n_d; i++)
        if (!x->d[i].used && strcmp(x->d[i].type, rec->event_type) == 0 &&
            strcmp(x->d[i].key, key) == 0)
            d = &x->d[i];
    if (!d) {
        cli_replay_differ(x->r, rec->account, rec->event_id, "event_type", rec->event_type,
                          "(none)", "the state differs: the replay made no such decision");
        return;
    }
    d->used = 1;
    if (strcmp(d->account, rec->account) != 0) {
        cli_replay_differ(x->r, rec->account, rec->event_id, "account", rec->account, d->account,
                          "matching differs: the payment went to another account");
        return;
    }
    if (!cli_replay_first_diff(rec->payload, d->payload, field, sizeof(field), a, sizeof(a), b,
                               sizeof(b))) {
        x->r->reproduced++;
        return;
    }
    if (strcmp(d->type, "payment.applied") == 0)
        applied_cause(x, d, rec->payload, cause, sizeof(cause));
    else
        snprintf(cause, sizeof(cause), "same configuration: the inputs or the code differ");
    cli_replay_differ(x->r, rec->account, rec->event_id, field, a, b, cause);
}

static void group_reset(group *g)
{
    for (size_t i = 0; i < g->n_out; i++)
        arr_envelope_clear(&g->out[i]);
    g->n_out = 0;
    g->has_input = 0;
    arr_buf_reset(&g->input);
}

/* One claim: fold its input, decide again, compare with what was recorded for it. */
static arr_err flush(run *x, char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    arr_envelope in;
    arr_envelope_init(&in);
    x->n_d = 0;
    x->cause_id = "";
    if (x->g.has_input) {
        e = arrangements_until(x, x->g.processed_ms, why, whylen);
        x->r->inputs++;
        char err[300];
        if (!e &&
            arr_envelope_decode(x->g.input.data, x->g.input.len, &in, err, sizeof(err)) == ARR_OK) {
            x->cause_id = in.event_id;
            const char *t = in.event_type;
            if (strncmp(t, "account.", 8) == 0)
                e = account_event(x, &in, x->g.partition);
            else if (strcmp(t, "payment.received") == 0)
                e = take(x, &in);
            else if (strcmp(t, "reply.received") == 0)
                reply(x, &in);
            else if (strcmp(t, "clock.day_started") == 0 &&
                     arr_event_for_service(in.payload, "reconciliation"))
                e = day(x, &in);
        }
    }
    for (size_t i = 0; !e && i < x->g.n_out; i++) {
        if (x->g.has_input)
            compare(x, &x->g.out[i]);
        else if (cli_replay_wanted(x->o, x->g.out[i].account, x->g.out[i].event_time_ms))
            x->r->unexplained++;
    }
    for (size_t i = 0; i < x->n_d; i++) {
        if (!e && !x->d[i].used && cli_replay_wanted(x->o, x->d[i].account, x->d[i].at_ms))
            x->r->unrecorded++;
        json_decref(x->d[i].payload);
    }
    x->n_d = 0;
    arr_envelope_clear(&in);
    group_reset(&x->g);
    return e;
}

static arr_err add_output(group *g, const char *msg, size_t len)
{
    if (g->n_out == g->cap_out) {
        size_t cap = g->cap_out ? g->cap_out * 2 : 8;
        arr_envelope *o = realloc(g->out, cap * sizeof(*o));
        if (!o)
            return ARR_ENOMEM;
        g->out = o;
        g->cap_out = cap;
    }
    char why[300];
    arr_envelope *o = &g->out[g->n_out];
    arr_envelope_init(o);
    if (arr_envelope_decode(msg, len, o, why, sizeof(why)) != ARR_OK) {
        arr_envelope_clear(o);
        return ARR_OK; /* cannot be: the service wrote it */
    }
    g->n_out++;
    return ARR_OK;
}

/* ---- streaming -------------------------------------------------------------------------- */

/* clang-format off */
static const char SQL_INPUTS[] =
    "DECLARE rr NO SCROLL CURSOR FOR"
    " SELECT i.seq, 0 AS kind, e.message, e.kafka_partition,"
    " (extract(epoch FROM i.processed_at) * 1000)::bigint"
    " FROM audit.events e JOIN reconciliation.inbox i ON i.event_id = e.event_id"
    " WHERE (e.tenant = $1 OR e.event_type = 'clock.day_started') AND e.namespace = $2"
    " AND i.topic = ANY($3::text[])"
    " UNION ALL"
    " SELECT i.seq, 1, o.message, 0, 0"
    " FROM audit.events o"
    " LEFT JOIN reconciliation.inbox i ON i.event_id = o.causation_id"
    " WHERE o.tenant = $1 AND o.namespace = $2 AND o.producer = 'reconciliation'"
    " AND o.event_type = ANY($4::text[])"
    " ORDER BY 1 NULLS LAST, 2";
/* People's arrangements (a reply's promise comes with its input). */
static const char SQL_ARRANGEMENTS[] =
    "DECLARE ra NO SCROLL CURSOR FOR"
    " SELECT (extract(epoch FROM made_at) * 1000)::bigint,"
    " account_id, kind, terms::text"
    " FROM reconciliation.arrangements WHERE tenant = $1 AND made_by <> 'reply'"
    " ORDER BY made_at, id";
/* clang-format on */

static arr_err array_param(const char *ns, const char *const *names, arr_buf *out)
{
    arr_err e = arr_pg_array_open(out);
    for (int i = 0; !e && names[i]; i++) {
        char name[200];
        snprintf(name, sizeof(name), "%s%s", ns, names[i]);
        e = arr_pg_array_add(out, name);
    }
    return e ? e : arr_pg_array_close(out);
}

static arr_err stream(run *x, char *why, size_t whylen)
{
    static const char *const inputs[] = {"arrears.accounts", "arrears.payments.inbound",
                                         "arrears.outreach.replies", "arrears.clock", NULL};
    static const char *const outputs[] = {"payment.applied",
                                          "payment.reversed",
                                          "payment.settled",
                                          "promise.broken",
                                          "plan.instalment_missed",
                                          "payment.unmatched",
                                          NULL};
    arr_buf topics, types;
    arr_buf_init(&topics, 4096);
    arr_buf_init(&types, 4096);
    arr_err e = array_param(x->o->ns, inputs, &topics);
    e = e ? e : array_param("", outputs, &types);
    e = e ? e : cli_replay_begin(x->pg, why, whylen);
    const char *params[] = {x->o->tenant, x->o->ns, topics.data, types.data};
    e = e ? e : cli_replay_declare(x->pg, SQL_INPUTS, 4, params, why, whylen);
    e = e ? e : cli_replay_declare(x->pg, SQL_ARRANGEMENTS, 1, params, why, whylen);
    x->g.seq = -1;
    while (!e) {
        PGresult *res;
        if ((e = cli_replay_fetch(x->pg, FETCH_INPUTS, &res, why, whylen)) != ARR_OK)
            break;
        int n = PQntuples(res);
        for (int i = 0; !e && i < n; i++) {
            /* No claim (a person's decision, outside the inbox): each its own group. */
            long long seq = PQgetisnull(res, i, 0) ? -2 : strtoll(PQgetvalue(res, i, 0), NULL, 10);
            if (seq != x->g.seq || seq == -2) {
                e = flush(x, why, whylen);
                x->g.seq = seq;
            }
            const char *msg = PQgetvalue(res, i, 2);
            size_t len = (size_t)PQgetlength(res, i, 2);
            if (!e && PQgetvalue(res, i, 1)[0] == '0') {
                x->g.has_input = 1;
                x->g.partition = atoi(PQgetvalue(res, i, 3));
                x->g.processed_ms = strtoll(PQgetvalue(res, i, 4), NULL, 10);
                e = arr_buf_append(&x->g.input, msg, len);
            } else if (!e) {
                e = add_output(&x->g, msg, len);
            }
        }
        PQclear(res);
        if (n == 0)
            break;
    }
    if (!e)
        e = flush(x, why, whylen);
    PQclear(x->ar);
    x->ar = NULL;
    arr_pg_rollback(x->pg);
    arr_buf_free(&topics);
    arr_buf_free(&types);
    return e;
}

arr_err cli_replay_reconciliation(cli_ctx *c, arr_pg *pg, const cli_replay_opts *o,
                                  cli_replay_result *r, char *why, size_t whylen)
{
    run *x = calloc(1, sizeof(*x));
    if (!x)
        return ARR_ENOMEM;
    x->c = c;
    x->pg = pg;
    x->o = o;
    x->r = r;
    arr_buf_init(&x->g.input, 16 * 1024 * 1024);
    arr_err e = load_waterfall(c, o->tenant, &x->w, why, whylen);
    e = e ? e : stream(x, why, whylen);
    group_reset(&x->g);
    free(x->g.out);
    arr_buf_free(&x->g.input);
    for (size_t i = 0; i < x->n_d; i++)
        json_decref(x->d[i].payload);
    free(x->d);
    cli_replay_table_free(&x->accts);
    cli_replay_table_free(&x->pays);
    cli_replay_table_free(&x->waits);
    cli_replay_table_free(&x->arranged);
    free(x);
    return e;
}
