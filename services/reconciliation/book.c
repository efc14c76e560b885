#include "book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/buf.h"
#include "arrears/clock.h"
#include "payload.h"

#define I64(buf, v) snprintf(buf, sizeof(buf), "%lld", (long long)(v))
/* What matching needs of a candidate account. */
#define CANDIDATE                                                                                  \
    "account_id, currency, balance_cents, instalment_due_cents, settlement_due_cents,"             \
    " COALESCE(debtor_name, '') AS name, status"

static const struct {
    const char *name, *sql;
    int n;
} statements[] = {
    {"rb_acct_open",
     "INSERT INTO reconciliation.ledger (tenant, account_id, currency, placed_cents,"
     " balance_cents, updated_at, status, kafka_partition, invoice_id, debtor_name, terms)"
     " VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10)"
     " ON CONFLICT (tenant, account_id) DO NOTHING",
     10},
    {"rb_acct_get",
     "SELECT currency, status, placed_cents, adjusted_cents, applied_cents, reversed_cents,"
     " waived_cents, balance_cents, terms FROM reconciliation.ledger"
     " WHERE tenant = $1 AND account_id = $2 FOR UPDATE",
     2},
    {"rb_acct_put",
     "UPDATE reconciliation.ledger SET status = $3, adjusted_cents = $4, applied_cents = $5,"
     " reversed_cents = $6, waived_cents = $7, balance_cents = $8, terms = $9,"
     " instalment_due_cents = $10, settlement_due_cents = $11, next_deadline = $12,"
     " updated_at = $13 WHERE tenant = $1 AND account_id = $2",
     13},
    /* A payment's (or a return's) whole effect in one round trip: its allocations, its
     * row, the account's ledger. */
    {"rb_change",
     "WITH a AS (INSERT INTO reconciliation.allocations (tenant, payment_id, seq, account_id,"
     " invoice_id, bucket, cents, by_payment, at) SELECT $1, $2, COALESCE((SELECT MAX(seq)"
     " FROM reconciliation.allocations WHERE tenant = $1 AND payment_id = $2), 0) + x.o, $3,"
     " x.inv, x.b, x.c, $4, $13 FROM unnest($5::text[], $6::text[], $7::bigint[])"
     " WITH ORDINALITY AS x(inv, b, c, o)),"
     " p AS (UPDATE reconciliation.payments SET account_id = $3, status = $8,"
     " matched_via = NULLIF($9, ''), allocated_cents = $10, unapplied_cents = $11,"
     " note = COALESCE(NULLIF($12, ''), note) WHERE tenant = $1 AND payment_id = $4)"
     " UPDATE reconciliation.ledger SET status = $14, adjusted_cents = $15, applied_cents = $16,"
     " reversed_cents = $17, waived_cents = $18, balance_cents = $19, terms = $20,"
     " instalment_due_cents = $21, settlement_due_cents = $22, next_deadline = $23,"
     " updated_at = $13 WHERE tenant = $1 AND account_id = $3",
     23},
    /* The claim also says whether returns wait for this payment (one round trip less). */
    {"rb_pay_claim",
     "WITH ins AS (INSERT INTO reconciliation.payments (tenant, payment_id, kind, source,"
     " amount_cents, currency, received_at, reference, payer_name, end_to_end_id, type_code,"
     " return_code, returned_payment_id, event_id, status, note)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULLIF($9, ''), NULLIF($10, ''),"
     " NULLIF($11, ''), NULLIF($12, ''), NULLIF($13, ''), $14, $15, NULLIF($16, ''))"
     " ON CONFLICT (tenant, payment_id) DO NOTHING RETURNING 1)"
     " SELECT (SELECT count(*) FROM ins), EXISTS (SELECT 1 FROM reconciliation.payments"
     " WHERE tenant = $1 AND returned_payment_id = $2 AND status = 'pending_original')",
     16},
    {"rb_pay_set",
     "UPDATE reconciliation.payments SET account_id = NULLIF($3, ''), status = $4,"
     " matched_via = NULLIF($5, ''), allocated_cents = $6, unapplied_cents = $7,"
     " note = COALESCE(NULLIF($8, ''), note) WHERE tenant = $1 AND payment_id = $2",
     8},
    {"rb_pay_get",
     "SELECT kind, status, COALESCE(account_id, ''), amount_cents, currency, reversed_cents,"
     " reference, source, (extract(epoch FROM received_at) * 1000)::bigint,"
     " COALESCE(return_code, '')"
     " FROM reconciliation.payments WHERE tenant = $1 AND payment_id = $2 FOR UPDATE",
     2},
    {"rb_pay_reversed",
     "UPDATE reconciliation.payments SET reversed_cents = reversed_cents + $3"
     " WHERE tenant = $1 AND payment_id = $2",
     3},
    {"rb_pending_returns",
     "SELECT payment_id, event_id FROM reconciliation.payments WHERE tenant = $1"
     " AND returned_payment_id = $2 AND status = 'pending_original' ORDER BY recorded_at,"
     " payment_id FOR UPDATE",
     2},
    {"rb_alloc_net",
     "SELECT invoice_id, bucket, SUM(cents) FROM reconciliation.allocations"
     " WHERE tenant = $1 AND payment_id = $2 GROUP BY invoice_id, bucket"
     " HAVING SUM(cents) > 0 ORDER BY MIN(seq)",
     2},
    /* Each arm its own index scan (a UNION, not an OR): the plan must not depend on
     * statistics that lag behind a ledger growing by thousands of accounts a second. */
    {"rb_lookup_ids",
     "SELECT account_id, currency, balance_cents, instalment_due_cents, settlement_due_cents,"
     " name, status, bool_or(by_id) FROM (SELECT " CANDIDATE ", true AS by_id"
     " FROM reconciliation.ledger WHERE tenant = $1 AND account_id = ANY($2::text[])"
     " UNION ALL SELECT " CANDIDATE ", false FROM reconciliation.ledger WHERE tenant = $1"
     " AND invoice_id = ANY($2::text[])) c GROUP BY 1, 2, 3, 4, 5, 6, 7"
     " ORDER BY account_id LIMIT 32",
     2},
    {"rb_lookup_amount",
     "SELECT *, false FROM (SELECT " CANDIDATE " FROM reconciliation.ledger WHERE tenant = $1"
     " AND balance_cents = $2::bigint UNION SELECT " CANDIDATE " FROM reconciliation.ledger"
     " WHERE tenant = $1 AND instalment_due_cents > 0 AND instalment_due_cents = $2::bigint"
     " UNION SELECT " CANDIDATE " FROM reconciliation.ledger WHERE tenant = $1"
     " AND settlement_due_cents > 0 AND settlement_due_cents = $2::bigint) c"
     " WHERE status <> 'closed' ORDER BY account_id LIMIT 32",
     2},
    {"rb_exc_open",
     "INSERT INTO reconciliation.exceptions (tenant, payment_id, reason, detail, candidates,"
     " opened_at) VALUES ($1, $2, $3, $4, $5::text[], $6) ON CONFLICT (tenant, payment_id)"
     " DO NOTHING",
     6},
    {"rb_exc_close",
     "UPDATE reconciliation.exceptions SET status = $3, resolved_at = $4, resolved_by = $5,"
     " resolved_account = NULLIF($6, '') WHERE tenant = $1 AND payment_id = $2"
     " AND status = 'open'",
     6},
    {"rb_arr_insert",
     "INSERT INTO reconciliation.arrangements (tenant, id, account_id, kind, terms, made_by,"
     " made_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant, id) DO NOTHING",
     7},
    {"rb_day_due",
     "SELECT tenant, account_id FROM reconciliation.ledger WHERE kafka_partition = $1"
     " AND next_deadline <= $2 ORDER BY tenant, account_id",
     2},
};

arr_err recon_book_init(recon_book *b, arr_pg *pg, const recon_book_hooks *hooks,
                        const char *deploy_dir, char *why, size_t whylen)
{
    memset(b, 0, sizeof(*b));
    b->pg = pg;
    b->hooks = *hooks;
    snprintf(b->matching_path, sizeof(b->matching_path), "%s/reconciliation/matching.json",
             deploy_dir);
    snprintf(b->waterfall_path, sizeof(b->waterfall_path), "%s/reconciliation/waterfalls.json",
             deploy_dir);
    arr_err e = ARR_OK;
    for (size_t i = 0; !e && i < sizeof(statements) / sizeof(statements[0]); i++)
        e = arr_pg_prepare(pg, statements[i].name, statements[i].sql, statements[i].n, why, whylen);
    return e;
}

void recon_book_free(recon_book *b)
{
    for (int i = 0; i < b->n_tenants; i++)
        recon_match_config_free(&b->tenants[i].match);
    b->n_tenants = 0;
}

/* The waterfall of a tenant from waterfalls.json {"tenants": {"<t>": {...}, "*": {...}}}. */
static arr_err policies(recon_book *b, const char *tenant, int *slot, char *why, size_t whylen)
{
    for (int i = 0; i < b->n_tenants; i++)
        if (strcmp(b->tenants[i].tenant, tenant) == 0) {
            *slot = i;
            return ARR_OK;
        }
    if (b->n_tenants == RECON_BOOK_TENANTS_MAX)
        return arr_errbuf_fail(ARR_ELIMIT, why, whylen, "more than %d tenants",
                               RECON_BOOK_TENANTS_MAX);
    int i = b->n_tenants;
    arr_err e =
        recon_match_config_load(b->matching_path, tenant, &b->tenants[i].match, why, whylen);
    if (e)
        return e;
    e = recon_waterfall_load(b->waterfall_path, tenant, &b->tenants[i].waterfall, why, whylen);
    if (e) {
        recon_match_config_free(&b->tenants[i].match);
        return e;
    }
    snprintf(b->tenants[i].tenant, sizeof(b->tenants[i].tenant), "%s", tenant);
    b->n_tenants++;
    *slot = i;
    return ARR_OK;
}

/* ---- the ledger row ---------------------------------------------------------------- */

static arr_err load_account(recon_book *b, const char *tenant, const char *account,
                            recon_account *a, int *found, char *why, size_t whylen)
{
    PGresult *res = NULL;
    const char *params[] = {tenant, account};
    memset(a, 0, sizeof(*a));
    *found = 0;
    arr_err e = arr_pg_run(b->pg, "rb_acct_get", 2, params, &res, why, whylen);
    if (!e && PQntuples(res) == 1) {
        *found = 1;
        snprintf(a->currency, sizeof(a->currency), "%s", PQgetvalue(res, 0, 0));
        recon_status_from_name(PQgetvalue(res, 0, 1), &a->status);
        a->placed_cents = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        a->adjusted_cents = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
        a->applied_cents = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        a->reversed_cents = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
        a->waived_cents = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
        a->balance_cents = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
        json_error_t jerr;
        json_t *terms = json_loads(PQgetvalue(res, 0, 8), 0, &jerr);
        e = terms ? recon_account_terms_from_json(a, terms, why, whylen)
                  : arr_errbuf_fail(ARR_EDECODE, why, whylen, "ledger terms: %s", jerr.text);
        json_decref(terms);
        if (e == ARR_EDECODE)
            e = ARR_EFATAL; /* our own row is unreadable: not the input's fault */
    }
    PQclear(res);
    return e;
}

/* What a payment or a return did besides the ledger: allocations of alloc_payment, and the
 * payments row of row_payment (which is also the allocations' by_payment). */
typedef struct book_change {
    const char *alloc_payment, *row_payment;
    const recon_alloc *allocs;
    size_t n_allocs;
    const char *status, *via, *note;
    int64_t allocated, unapplied;
} book_change;

static arr_err change_arrays(const book_change *c, arr_buf *inv, arr_buf *bucket, arr_buf *cents)
{
    arr_err e = arr_pg_array_open(inv);
    if (!e)
        e = arr_pg_array_open(bucket);
    if (!e)
        e = arr_pg_array_open(cents);
    for (size_t i = 0; !e && i < c->n_allocs; i++) {
        char v[24];
        I64(v, c->allocs[i].cents);
        e = arr_pg_array_add(inv, c->allocs[i].invoice_id);
        if (!e)
            e = arr_pg_array_add(bucket, recon_bucket_name(c->allocs[i].bucket));
        if (!e)
            e = arr_pg_array_add(cents, v);
    }
    if (!e)
        e = arr_pg_array_close(inv);
    if (!e)
        e = arr_pg_array_close(bucket);
    if (!e)
        e = arr_pg_array_close(cents);
    return e;
}

/* Writes the account's ledger row, with change (may be NULL) in the same statement.
 * cache: 0 when balance and status stay as they were (a day's deadlines), so a day touching
 * thousands of accounts stages nothing for Redis. */
static arr_err save_account(recon_book *b, const char *tenant, const char *account,
                            const recon_account *a, int64_t at_ms, int cache,
                            const book_change *change, char *why, size_t whylen)
{
    if (!recon_account_consistent(a))
        return arr_errbuf_fail(ARR_EFATAL, why, whylen,
                               "ledger identity broken for an account of %s", tenant);
    char adj[24], app[24], rev[24], wai[24], bal[24], inst[24], sett[24], at[ARR_TIME_STRLEN],
        dl[ARR_TIME_STRLEN];
    I64(adj, a->adjusted_cents);
    I64(app, a->applied_cents);
    I64(rev, a->reversed_cents);
    I64(wai, a->waived_cents);
    I64(bal, a->balance_cents);
    I64(inst, recon_account_instalment_due(a));
    int64_t sdue = a->settlement.status == RECON_TERM_ACTIVE
                       ? a->settlement.amount_cents - a->settlement.paid_cents
                       : 0;
    I64(sett, sdue > 0 ? sdue : 0);
    arr_time_format(at_ms, at, sizeof(at));
    int64_t next = recon_account_next_deadline(a);
    if (next)
        arr_time_format(next, dl, sizeof(dl));
    json_t *terms = recon_account_terms_json(a);
    char *tj = terms ? json_dumps(terms, JSON_COMPACT) : NULL;
    json_decref(terms);
    if (!tj)
        return arr_errbuf_fail(ARR_ENOMEM, why, whylen, "ledger terms");
    arr_err e;
    if (!change) {
        const char *params[] = {tenant, account, recon_status_name(a->status),
                                adj,    app,     rev,
                                wai,    bal,     tj,
                                inst,   sett,    next ? dl : NULL,
                                at};
        e = arr_pg_run(b->pg, "rb_acct_put", 13, params, NULL, why, whylen);
    } else {
        arr_buf inv, bucket, cents;
        arr_buf_init(&inv, 65536);
        arr_buf_init(&bucket, 4096);
        arr_buf_init(&cents, 4096);
        char al[24], un[24];
        I64(al, change->allocated);
        I64(un, change->unapplied);
        e = change_arrays(change, &inv, &bucket, &cents);
        const char *params[] = {tenant,
                                change->alloc_payment,
                                account,
                                change->row_payment,
                                inv.data,
                                bucket.data,
                                cents.data,
                                change->status,
                                change->via ? change->via : "",
                                al,
                                un,
                                change->note ? change->note : "",
                                at,
                                recon_status_name(a->status),
                                adj,
                                app,
                                rev,
                                wai,
                                bal,
                                tj,
                                inst,
                                sett,
                                next ? dl : NULL};
        if (!e)
            e = arr_pg_run(b->pg, "rb_change", 23, params, NULL, why, whylen);
        arr_buf_free(&inv);
        arr_buf_free(&bucket);
        arr_buf_free(&cents);
    }
    free(tj);
    if (!e && cache && b->hooks.cache)
        b->hooks.cache(b->hooks.ctx, tenant, account, a->balance_cents,
                       recon_status_name(a->status));
    return e;
}

/* ---- events ------------------------------------------------------------------------ */

/* Emits type on arrears.payments.events for account (the cause's tenant), with a stable id
 * derived from the cause and name: a redo of the same input makes the same event. */
static arr_err emit(recon_book *b, const arr_envelope *cause, const char *account, const char *type,
                    const char *name, int64_t event_time_ms, json_t *payload)
{
    if (!payload)
        return ARR_ENOMEM;
    arr_envelope c = *cause; /* shares the payload pointer: derive never touches it */
    snprintf(c.account, sizeof(c.account), "%s", account);
    arr_envelope out;
    arr_err e = b->hooks.derive(b->hooks.ctx, &out, &c, type, name, payload);
    if (!e) {
        out.event_time_ms = event_time_ms;
        e = b->hooks.emit(b->hooks.ctx, RECON_TOPIC_EVENTS, &out);
    }
    arr_envelope_clear(&out);
    return e;
}

/* ---- accounts ---------------------------------------------------------------------- */

static void debtor_name(json_t *p, char *out, size_t cap)
{
    json_t *d = json_object_get(p, "debtor");
    const char *f = json_string_value(json_object_get(d, "first_name"));
    const char *l = json_string_value(json_object_get(d, "last_name"));
    snprintf(out, cap, "%s%s%s", f ? f : "", f && l ? " " : "", l ? l : "");
}

static arr_err open_account(recon_book *b, const arr_envelope *env, int32_t partition, char *why,
                            size_t whylen)
{
    recon_account a;
    arr_err e = recon_account_open(&a, env->payload, why, whylen);
    if (e)
        return e;
    char placed[24], at[ARR_TIME_STRLEN], part[16], name[160];
    I64(placed, a.placed_cents);
    arr_time_format(env->event_time_ms, at, sizeof(at));
    snprintf(part, sizeof(part), "%d", (int)partition);
    debtor_name(env->payload, name, sizeof(name));
    const char *inv = json_string_value(json_object_get(env->payload, "invoice_id"));
    json_t *terms = recon_account_terms_json(&a);
    char *tj = terms ? json_dumps(terms, JSON_COMPACT) : NULL;
    json_decref(terms);
    if (!tj)
        return ARR_ENOMEM;
    const char *params[] = {env->tenant, env->account, a.currency,
                            placed,      at,           recon_status_name(a.status),
                            part,        inv,          name[0] ? name : NULL,
                            tj};
    e = arr_pg_run(b->pg, "rb_acct_open", 10, params, NULL, why, whylen);
    free(tj);
    if (!e && arr_pg_affected(b->pg) == 1 && b->hooks.cache)
        b->hooks.cache(b->hooks.ctx, env->tenant, env->account, a.balance_cents,
                       recon_status_name(a.status));
    return e;
}

arr_err recon_book_account_event(recon_book *b, const arr_envelope *env, int32_t partition,
                                 char *why, size_t whylen)
{
    if (strcmp(env->event_type, "account.placed") == 0)
        return open_account(b, env, partition, why, whylen);
    int updated = strcmp(env->event_type, "account.updated") == 0;
    if (!updated && strcmp(env->event_type, "account.closed") != 0)
        return ARR_OK;
    recon_account a;
    int found;
    arr_err e = load_account(b, env->tenant, env->account, &a, &found, why, whylen);
    if (e || !found)
        return e; /* an update of an account never placed here: nothing to follow */
    if (updated) {
        json_t *bal = json_object_get(env->payload, "balance_cents");
        json_t *prev = json_object_get(env->payload, "previous_balance_cents");
        if (!json_is_integer(bal) || !json_is_integer(prev))
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "field payload.balance_cents/previous_balance_cents: missing");
        const char *inv = json_string_value(json_object_get(env->payload, "invoice_id"));
        const char *dd = json_string_value(json_object_get(env->payload, "due_date"));
        int64_t due = env->event_time_ms;
        if (dd)
            recon_date_ms(dd, strlen(dd), &due);
        recon_account_adjust(&a, json_integer_value(bal) - json_integer_value(prev), inv, due);
    } else {
        recon_account_close(&a);
    }
    return save_account(b, env->tenant, env->account, &a, env->event_time_ms, 1, NULL, why, whylen);
}

/* ---- payments ---------------------------------------------------------------------- */

static arr_err claim(recon_book *b, const arr_envelope *env, const recon_entry *p,
                     const char *status, int *fresh, char *why, size_t whylen)
{
    char amount[24], at[ARR_TIME_STRLEN];
    I64(amount, p->amount_cents);
    arr_time_format(p->received_at_ms, at, sizeof(at));
    const char *params[] = {env->tenant,
                            p->payment_id,
                            recon_kind_name(p->kind),
                            p->source,
                            amount,
                            p->currency,
                            at,
                            p->reference,
                            p->payer_name,
                            p->end_to_end_id,
                            p->type_code,
                            p->return_code,
                            p->returned_payment_id,
                            env->event_id,
                            status,
                            p->skip_reason};
    PGresult *res = NULL;
    arr_err e = arr_pg_run(b->pg, "rb_pay_claim", 16, params, &res, why, whylen);
    *fresh = !e && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "1") == 0;
    b->returns_waiting = !e && PQntuples(res) == 1 && PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    return e;
}

static arr_err set_payment(recon_book *b, const char *tenant, const char *payment_id,
                           const char *account, const char *status, const char *via,
                           int64_t allocated, int64_t unapplied, const char *note, char *why,
                           size_t whylen)
{
    char al[24], un[24];
    I64(al, allocated);
    I64(un, unapplied);
    const char *params[] = {tenant, payment_id, account, status, via, al, un, note ? note : ""};
    return arr_pg_run(b->pg, "rb_pay_set", 8, params, NULL, why, whylen);
}

/* A payments row, locked. */
typedef struct pay_row {
    int found;
    char kind[16], status[24], account[RECON_ID_MAX + 1], currency[4], source[RECON_SOURCE_MAX + 1];
    char reference[RECON_REF_MAX + 1], return_code[16];
    int64_t amount, reversed, received_ms;
} pay_row;

static arr_err load_payment(recon_book *b, const char *tenant, const char *payment_id, pay_row *r,
                            char *why, size_t whylen)
{
    PGresult *res = NULL;
    const char *params[] = {tenant, payment_id};
    memset(r, 0, sizeof(*r));
    arr_err e = arr_pg_run(b->pg, "rb_pay_get", 2, params, &res, why, whylen);
    if (!e && PQntuples(res) == 1) {
        r->found = 1;
        snprintf(r->kind, sizeof(r->kind), "%s", PQgetvalue(res, 0, 0));
        snprintf(r->status, sizeof(r->status), "%s", PQgetvalue(res, 0, 1));
        snprintf(r->account, sizeof(r->account), "%s", PQgetvalue(res, 0, 2));
        r->amount = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
        snprintf(r->currency, sizeof(r->currency), "%s", PQgetvalue(res, 0, 4));
        r->reversed = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
        snprintf(r->reference, sizeof(r->reference), "%s", PQgetvalue(res, 0, 6));
        snprintf(r->source, sizeof(r->source), "%s", PQgetvalue(res, 0, 7));
        r->received_ms = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
        snprintf(r->return_code, sizeof(r->return_code), "%s", PQgetvalue(res, 0, 9));
    }
    PQclear(res);
    return e;
}

static arr_err reverse_on(recon_book *b, const arr_envelope *cause, const recon_entry *ret,
                          const char *original, char *why, size_t whylen);

/* Returns that arrived before their payment wait as pending_original; the payment's arrival
 * settles them, in arrival order. */
static arr_err settle_pending_returns(recon_book *b, const arr_envelope *cause,
                                      const char *payment_id, char *why, size_t whylen)
{
    if (!b->returns_waiting)
        return ARR_OK;
    b->returns_waiting = 0;
    PGresult *res = NULL;
    const char *params[] = {cause->tenant, payment_id};
    arr_err e = arr_pg_run(b->pg, "rb_pending_returns", 2, params, &res, why, whylen);
    int n = e ? 0 : PQntuples(res);
    for (int i = 0; !e && i < n; i++) {
        const char *rid = PQgetvalue(res, i, 0);
        pay_row r;
        e = load_payment(b, cause->tenant, rid, &r, why, whylen);
        if (!e && r.found) {
            recon_entry ret;
            memset(&ret, 0, sizeof(ret));
            ret.kind = RECON_RETURN;
            snprintf(ret.payment_id, sizeof(ret.payment_id), "%s", rid);
            ret.amount_cents = r.amount;
            memcpy(ret.currency, r.currency, sizeof(ret.currency));
            snprintf(ret.source, sizeof(ret.source), "%s", r.source);
            snprintf(ret.return_code, sizeof(ret.return_code), "%s", r.return_code);
            snprintf(ret.returned_payment_id, sizeof(ret.returned_payment_id), "%s", payment_id);
            ret.received_at_ms = r.received_ms;
            e = reverse_on(b, cause, &ret, payment_id, why, whylen);
        }
    }
    PQclear(res);
    return e;
}

/* Applies a claimed payment to account: allocation, terms, ledger, events. */
static arr_err apply_to(recon_book *b, const arr_envelope *cause, const recon_entry *p,
                        const char *account, const char *via, const char *status, char *why,
                        size_t whylen)
{
    int slot;
    arr_err e = policies(b, cause->tenant, &slot, why, whylen);
    if (e)
        return e;
    recon_account a;
    int found;
    e = load_account(b, cause->tenant, account, &a, &found, why, whylen);
    if (e)
        return e;
    if (!found)
        return arr_errbuf_fail(ARR_ENOTFOUND, why, whylen, "account %s of %s is not known", account,
                               cause->tenant);
    if (strcmp(a.currency, p->currency) != 0)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "payment %s is in %s, the account in %s: currencies never mix",
                               p->payment_id, p->currency, a.currency);
    const recon_waterfall *w = &b->tenants[slot].waterfall;
    recon_applied ap;
    recon_account_apply(&a, w, p->payment_id, p->amount_cents, p->received_at_ms, &ap);
    book_change ch = {.alloc_payment = p->payment_id,
                      .row_payment = p->payment_id,
                      .allocs = ap.allocs,
                      .n_allocs = ap.n_allocs,
                      .status = status,
                      .via = via,
                      .allocated = ap.allocated_cents,
                      .unapplied = ap.unapplied_cents};
    e = save_account(b, cause->tenant, account, &a, p->received_at_ms, 1, &ch, why, whylen);
    if (e)
        return e;
    char at[ARR_TIME_STRLEN];
    arr_time_format(p->received_at_ms, at, sizeof(at));
    json_t *pl = json_pack(
        "{s:s, s:s, s:I, s:s, s:I, s:I, s:o, s:s, s:I, s:b, s:b, s:s, s:s, s:s}", "payment_id",
        p->payment_id, "source", p->source, "amount_cents", (json_int_t)p->amount_cents, "currency",
        p->currency, "balance_after_cents", (json_int_t)(a.balance_cents > 0 ? a.balance_cents : 0),
        "credit_cents", (json_int_t)(a.balance_cents < 0 ? -a.balance_cents : 0), "allocation",
        recon_allocations_json(ap.allocs, ap.n_allocs), "matched_via", via, "unapplied_cents",
        (json_int_t)ap.unapplied_cents, "promise_kept", ap.promise_kept, "plan_completed",
        ap.plan_completed, "status_after", recon_status_name(a.status), "waterfall_version",
        w->version, "received_at", at);
    if (pl && ap.instalment_cents)
        json_object_set_new(pl, "instalment_cents", json_integer(ap.instalment_cents));
    e = emit(b, cause, account, "payment.applied", "recon.applied", p->received_at_ms, pl);
    if (!e && ap.settled) {
        e = emit(b, cause, account, "payment.settled", "recon.settled", p->received_at_ms,
                 json_pack("{s:s, s:s, s:I, s:I, s:s}", "settlement_id", a.settlement.id,
                           "payment_id", p->payment_id, "paid_cents",
                           (json_int_t)a.settlement.paid_cents, "waived_cents",
                           (json_int_t)a.settlement.waived_cents, "currency", a.currency));
    }
    if (!e)
        e = settle_pending_returns(b, cause, p->payment_id, why, whylen);
    return e;
}

/* Candidates for a payment: accounts named (hint), ids in the reference, then amounts. */
static arr_err lookup(recon_book *b, const char *stmt, const char *tenant, const char *arg,
                      unsigned found_by, recon_candidate *c, size_t *n, char names[][160],
                      char *why, size_t whylen)
{
    PGresult *res = NULL;
    const char *params[] = {tenant, arg};
    arr_err e = arr_pg_run(b->pg, stmt, 2, params, &res, why, whylen);
    for (int i = 0; !e && i < PQntuples(res); i++) {
        const char *id = PQgetvalue(res, i, 0);
        size_t k = 0;
        while (k < *n && strcmp(c[k].account_id, id) != 0)
            k++;
        if (k == *n) {
            if (*n == RECON_MATCH_CANDIDATES_MAX)
                break;
            memset(&c[k], 0, sizeof(c[k]));
            snprintf(c[k].account_id, sizeof(c[k].account_id), "%s", id);
            snprintf(c[k].currency, sizeof(c[k].currency), "%s", PQgetvalue(res, i, 1));
            c[k].open_balance_cents = strtoll(PQgetvalue(res, i, 2), NULL, 10);
            c[k].instalment_due_cents = strtoll(PQgetvalue(res, i, 3), NULL, 10);
            c[k].settlement_due_cents = strtoll(PQgetvalue(res, i, 4), NULL, 10);
            snprintf(names[k], 160, "%s", PQgetvalue(res, i, 5));
            c[k].name = names[k];
            c[k].status_open = strcmp(PQgetvalue(res, i, 6), "closed") != 0;
            (*n)++;
        }
        unsigned by = found_by;
        if (found_by == 2u && PQgetvalue(res, i, 7)[0] != 't')
            by = 4u; /* found through an invoice id */
        c[k].found_by |= by;
    }
    PQclear(res);
    return e;
}

static arr_err unmatched(recon_book *b, const arr_envelope *cause, const recon_entry *p,
                         const recon_candidate *c, const recon_match_result *r, char *why,
                         size_t whylen)
{
    arr_buf arr;
    arr_buf_init(&arr, 8192);
    arr_err e = arr_pg_array_open(&arr);
    json_t *cands = json_array();
    for (int i = 0; !e && i < r->n_ranked && i < 10; i++) {
        e = arr_pg_array_add(&arr, c[r->ranked[i]].account_id);
        json_array_append_new(cands, json_string(c[r->ranked[i]].account_id));
    }
    if (!e)
        e = arr_pg_array_close(&arr);
    char at[ARR_TIME_STRLEN];
    arr_time_format(p->received_at_ms, at, sizeof(at));
    const char *params[] = {cause->tenant, p->payment_id, r->reason, r->detail, arr.data, at};
    if (!e)
        e = arr_pg_run(b->pg, "rb_exc_open", 6, params, NULL, why, whylen);
    arr_buf_free(&arr);
    if (!e)
        e = set_payment(b, cause->tenant, p->payment_id, "", "unmatched", NULL, 0, 0, r->reason,
                        why, whylen);
    if (e) {
        json_decref(cands);
        return e;
    }
    json_t *pl =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:o}", "payment_id", p->payment_id,
                  "amount_cents", (json_int_t)p->amount_cents, "currency", p->currency, "reason",
                  r->detail, "rule", r->reason, "source", p->source, "candidates", cands);
    if (pl && p->reference[0])
        json_object_set_new(pl, "reference", json_string(p->reference));
    return emit(b, cause, cause->account, "payment.unmatched", "recon.unmatched", p->received_at_ms,
                pl);
}

static arr_err take_payment(recon_book *b, const arr_envelope *env, const recon_entry *p, char *why,
                            size_t whylen)
{
    int slot;
    arr_err e = policies(b, env->tenant, &slot, why, whylen);
    if (e)
        return e;
    const recon_match_config *cfg = &b->tenants[slot].match;
    recon_candidate c[RECON_MATCH_CANDIDATES_MAX];
    char names[RECON_MATCH_CANDIDATES_MAX][160];
    size_t n = 0;
    arr_buf arr;
    arr_buf_init(&arr, 16384);
    if (p->account_hint[0]) {
        e = arr_pg_array_open(&arr);
        if (!e)
            e = arr_pg_array_add(&arr, p->account_hint);
        if (!e)
            e = arr_pg_array_close(&arr);
        if (!e)
            e = lookup(b, "rb_lookup_ids", env->tenant, arr.data, 1u, c, &n, names, why, whylen);
        /* The hint names an account id exactly; an invoice id equal to it is no hint. */
        for (size_t i = 0; i < n; i++)
            if (strcmp(c[i].account_id, p->account_hint) != 0)
                c[i].found_by &= ~1u;
    }
    char text[RECON_REF_MAX + RECON_ID_MAX + 2];
    snprintf(text, sizeof(text), "%s %s", p->reference, p->end_to_end_id);
    char tokens[RECON_MATCH_TOKENS_MAX][RECON_ID_MAX + 1];
    size_t nt = e ? 0 : recon_match_refs(cfg, text, tokens, RECON_MATCH_TOKENS_MAX);
    if (!e && nt) {
        arr_buf_reset(&arr);
        e = arr_pg_array_open(&arr);
        for (size_t i = 0; !e && i < nt; i++)
            e = arr_pg_array_add(&arr, tokens[i]);
        if (!e)
            e = arr_pg_array_close(&arr);
        if (!e)
            e = lookup(b, "rb_lookup_ids", env->tenant, arr.data, 2u, c, &n, names, why, whylen);
    }
    arr_buf_free(&arr);
    if (!e && n == 0) {
        char amount[24];
        I64(amount, p->amount_cents);
        e = lookup(b, "rb_lookup_amount", env->tenant, amount, 8u, c, &n, names, why, whylen);
    }
    if (e)
        return e;
    recon_match_input in = {.amount_cents = p->amount_cents,
                            .currency = p->currency,
                            .payer_name = p->payer_name,
                            .candidates = c,
                            .n_candidates = n};
    recon_match_result r;
    recon_match_decide(cfg, &in, &r);
    if (r.via == RECON_MATCH_NONE) {
        e = unmatched(b, env, p, c, &r, why, whylen);
        /* A return that came first withdraws the exception it would have met. */
        return e ? e : settle_pending_returns(b, env, p->payment_id, why, whylen);
    }
    const char *via = r.via == RECON_MATCH_HINT        ? "hint"
                      : r.via == RECON_MATCH_REFERENCE ? "reference"
                                                       : "amount_name";
    return apply_to(b, env, p, c[r.chosen].account_id, via, "applied", why, whylen);
}

/* Undoes up to ret->amount of original on its account. */
static arr_err reverse_on(recon_book *b, const arr_envelope *cause, const recon_entry *ret,
                          const char *original, char *why, size_t whylen)
{
    pay_row r;
    arr_err e = load_payment(b, cause->tenant, original, &r, why, whylen);
    if (e)
        return e;
    if (!r.found) {
        return set_payment(b, cause->tenant, ret->payment_id, "", "pending_original", NULL, 0, 0,
                           "waiting for the payment it returns", why, whylen);
    }
    const char *kind = r.kind, *status = r.status, *account = r.account, *currency = r.currency;
    int64_t amount = r.amount, already = r.reversed;
    int64_t left = amount - already;
    int64_t take = ret->amount_cents < left ? ret->amount_cents : left;
    const char *note = NULL;
    if (strcmp(kind, "payment") != 0)
        note = "the original is not a payment";
    else if (strcmp(currency, ret->currency) != 0)
        note = "currency differs from the original payment's";
    else if (take <= 0)
        note = "the original payment is already fully reversed";
    if (note) {
        return set_payment(b, cause->tenant, ret->payment_id, "", "recorded", NULL, 0, 0, note, why,
                           whylen);
    }
    char tk[24];
    I64(tk, take);
    const char *p3[] = {cause->tenant, original, tk};
    e = arr_pg_run(b->pg, "rb_pay_reversed", 3, p3, NULL, why, whylen);
    if (e)
        return e;
    if (strcmp(status, "applied") != 0 && strcmp(status, "resolved") != 0) {
        /* Never applied (an open exception): the money is gone again, nothing to undo. */
        char at[ARR_TIME_STRLEN];
        arr_time_format(ret->received_at_ms, at, sizeof(at));
        const char *p6[] = {cause->tenant, original, "withdrawn", at, "return", ""};
        if (take == left)
            e = arr_pg_run(b->pg, "rb_exc_close", 6, p6, NULL, why, whylen);
        return e ? e
                 : set_payment(b, cause->tenant, ret->payment_id, "", "recorded", NULL, 0, 0,
                               "the original was unmatched: its exception is withdrawn", why,
                               whylen);
    }
    /* What the original still has allocated, in the order it was allocated. */
    recon_alloc allocs[RECON_ALLOCS_MAX];
    size_t na = 0;
    PGresult *res = NULL;
    const char *params[] = {cause->tenant, original};
    e = arr_pg_run(b->pg, "rb_alloc_net", 2, params, &res, why, whylen);
    for (int i = 0; !e && i < PQntuples(res) && na < RECON_ALLOCS_MAX; i++) {
        snprintf(allocs[na].invoice_id, sizeof(allocs[na].invoice_id), "%s", PQgetvalue(res, i, 0));
        recon_bucket_from_name(PQgetvalue(res, i, 1), &allocs[na].bucket);
        allocs[na].cents = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        na++;
    }
    PQclear(res);
    recon_account a;
    int found;
    if (!e)
        e = load_account(b, cause->tenant, account, &a, &found, why, whylen);
    if (e)
        return e;
    if (!found)
        return arr_errbuf_fail(ARR_EFATAL, why, whylen, "applied payment on a missing account");
    recon_reversed rv;
    recon_account_reverse(&a, original, allocs, na, take, ret->received_at_ms, &rv);
    book_change ch = {.alloc_payment = original,
                      .row_payment = ret->payment_id,
                      .allocs = rv.allocs,
                      .n_allocs = rv.n_allocs,
                      .status = "applied",
                      .note =
                          take < ret->amount_cents ? "more than was left of the payment" : NULL};
    e = save_account(b, cause->tenant, account, &a, ret->received_at_ms, 1, &ch, why, whylen);
    if (e)
        return e;
    char name[RECON_ID_MAX + 32];
    snprintf(name, sizeof(name), "recon.reversed/%s", ret->payment_id);
    json_t *pl =
        json_pack("{s:s, s:s, s:I, s:s, s:I, s:b, s:b, s:s}", "payment_id", original, "return_id",
                  ret->payment_id, "amount_cents", (json_int_t)take, "currency", a.currency,
                  "balance_after_cents", (json_int_t)(a.balance_cents > 0 ? a.balance_cents : 0),
                  "unsettled", rv.unsettled, "promise_reopened", rv.promise_reopened,
                  "status_after", recon_status_name(a.status));
    if (pl && ret->return_code[0])
        json_object_set_new(pl, "return_code", json_string(ret->return_code));
    return emit(b, cause, account, "payment.reversed", name, ret->received_at_ms, pl);
}

arr_err recon_book_take(recon_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    recon_entry p;
    arr_err e = recon_payload_to_entry(env->payload, &p, why, whylen);
    if (e)
        return e;
    /* The envelope's account is the account the source named, else the payment's own id
     * (or a return's original): a producer that names the account only there still counts. */
    if (!p.account_hint[0] && strcmp(env->account, p.payment_id) != 0 &&
        strcmp(env->account, p.returned_payment_id) != 0)
        snprintf(p.account_hint, sizeof(p.account_hint), "%s", env->account);
    int fresh;
    int recorded_only = p.kind == RECON_NOTICE || p.kind == RECON_SKIPPED;
    e = claim(b, env, &p, recorded_only ? "recorded" : "unmatched", &fresh, why, whylen);
    if (e)
        return e;
    if (!fresh) {
        return ARR_OK; /* the same payment again: applied once already */
    }
    if (recorded_only) {
        return ARR_OK;
    }
    if (p.kind == RECON_RETURN)
        return reverse_on(b, env, &p, p.returned_payment_id, why, whylen);
    return take_payment(b, env, &p, why, whylen);
}

/* ---- people's decisions -------------------------------------------------------------- */

arr_err recon_book_resolve(recon_book *b, const arr_envelope *cause, const char *payment_id,
                           const char *account, const char *who, char *why, size_t whylen)
{
    pay_row r;
    arr_err e = load_payment(b, cause->tenant, payment_id, &r, why, whylen);
    if (e)
        return e;
    if (!r.found)
        return arr_errbuf_fail(ARR_ENOTFOUND, why, whylen, "no payment %s in %s", payment_id,
                               cause->tenant);
    recon_entry p;
    memset(&p, 0, sizeof(p));
    p.kind = RECON_PAYMENT;
    int open =
        strcmp(r.kind, "payment") == 0 && strcmp(r.status, "unmatched") == 0 && r.reversed == 0;
    snprintf(p.payment_id, sizeof(p.payment_id), "%s", payment_id);
    p.amount_cents = r.amount;
    memcpy(p.currency, r.currency, sizeof(p.currency));
    snprintf(p.reference, sizeof(p.reference), "%s", r.reference);
    snprintf(p.source, sizeof(p.source), "%s", r.source);
    p.received_at_ms = r.received_ms;
    if (!open)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "payment %s is not an open exception (already applied, resolved "
                               "or returned)",
                               payment_id);
    b->returns_waiting = 1; /* not claimed here: look */
    e = apply_to(b, cause, &p, account, "manual", "resolved", why, whylen);
    char at[ARR_TIME_STRLEN];
    arr_time_format(cause->event_time_ms, at, sizeof(at));
    const char *p6[] = {cause->tenant, payment_id, "resolved", at, who, account};
    if (!e)
        e = arr_pg_run(b->pg, "rb_exc_close", 6, p6, NULL, why, whylen);
    return e;
}

arr_err recon_book_arrange(recon_book *b, const arr_envelope *cause, const char *kind,
                           json_t *terms, const char *made_by, char *why, size_t whylen)
{
    const char *id = json_string_value(json_object_get(terms, "id"));
    if (!id || !*id || strlen(id) > RECON_TERM_ID_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field id: missing or too long");
    recon_account a;
    int found;
    arr_err e = load_account(b, cause->tenant, cause->account, &a, &found, why, whylen);
    if (e)
        return e;
    if (!found)
        return arr_errbuf_fail(ARR_ENOTFOUND, why, whylen, "account %s of %s is not known",
                               cause->account, cause->tenant);
    char *tj = json_dumps(terms, JSON_COMPACT | JSON_SORT_KEYS);
    char at[ARR_TIME_STRLEN];
    arr_time_format(cause->event_time_ms, at, sizeof(at));
    const char *params[] = {cause->tenant, id, cause->account, kind, tj, made_by, at};
    e = tj ? arr_pg_run(b->pg, "rb_arr_insert", 7, params, NULL, why, whylen) : ARR_ENOMEM;
    free(tj);
    if (e || arr_pg_affected(b->pg) == 0)
        return e; /* the same arrangement again: made once */
    e = recon_account_set_terms(&a, kind, terms, id, why, whylen);
    if (!e)
        e = save_account(b, cause->tenant, cause->account, &a, cause->event_time_ms, 1, NULL, why,
                         whylen);
    return e;
}

arr_err recon_book_reply(recon_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    const char *intent = json_string_value(json_object_get(env->payload, "intent"));
    if (!intent || strcmp(intent, "promise") != 0 ||
        !json_object_get(env->payload, "promised_amount_cents"))
        return ARR_OK;
    const char *rid = json_string_value(json_object_get(env->payload, "reply_id"));
    json_t *amt = json_object_get(env->payload, "promised_amount_cents");
    const char *date = json_string_value(json_object_get(env->payload, "promised_date"));
    if (!rid || !date)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "field payload.reply_id/promised_date: missing");
    char id[RECON_TERM_ID_MAX + 1];
    snprintf(id, sizeof(id), "promise:%.56s", rid);
    json_t *t = json_pack("{s:s, s:O, s:s, s:i}", "id", id, "amount_cents", amt, "date", date,
                          "grace_days", 3);
    if (!t)
        return ARR_ENOMEM;
    arr_err e = recon_book_arrange(b, env, "promise", t, "reply", why, whylen);
    json_decref(t);
    return e == ARR_ENOTFOUND ? ARR_OK : e; /* a reply on an account we never had */
}

/* ---- the day turning ----------------------------------------------------------------- */

static arr_err day_account(recon_book *b, const arr_envelope *env, const char *tenant,
                           const char *account, int64_t day_ms, char *why, size_t whylen)
{
    recon_account a;
    int found;
    arr_err e = load_account(b, tenant, account, &a, &found, why, whylen);
    if (e || !found)
        return e;
    recon_day d;
    recon_account_day(&a, day_ms, &d);
    e = save_account(b, tenant, account, &a, day_ms, 0, NULL, why, whylen);
    arr_envelope c = *env;
    snprintf(c.tenant, sizeof(c.tenant), "%s", tenant);
    char date[16], name[RECON_TERM_ID_MAX + 48];
    for (int i = 0; !e && i < d.n_missed; i++) {
        const recon_instalment *in = &a.plan.inst[d.missed[i]];
        char at[ARR_TIME_STRLEN];
        arr_time_format(in->due_ms, at, sizeof(at));
        snprintf(date, sizeof(date), "%.10s", at);
        snprintf(name, sizeof(name), "recon.missed/%s/%d", a.plan.id, d.missed[i] + 1);
        e = emit(b, &c, account, "plan.instalment_missed", name, day_ms,
                 json_pack("{s:s, s:i, s:s, s:I, s:s}", "plan_id", a.plan.id, "instalment_number",
                           d.missed[i] + 1, "due_date", date, "amount_due_cents",
                           (json_int_t)(in->amount_cents - in->paid_cents), "currency",
                           a.currency));
    }
    if (!e && d.promise_broken) {
        char at[ARR_TIME_STRLEN];
        arr_time_format(a.promise.date_ms, at, sizeof(at));
        snprintf(date, sizeof(date), "%.10s", at);
        snprintf(name, sizeof(name), "recon.broken/%s", a.promise.id);
        e = emit(b, &c, account, "promise.broken", name, day_ms,
                 json_pack("{s:s, s:I, s:s, s:s, s:I}", "promise_id", a.promise.id,
                           "promised_amount_cents", (json_int_t)a.promise.amount_cents, "currency",
                           a.currency, "promised_date", date, "paid_cents",
                           (json_int_t)a.promise.paid_cents));
    }
    return e;
}

arr_err recon_book_day(recon_book *b, const arr_envelope *env, char *why, size_t whylen)
{
    const char *day = json_string_value(json_object_get(env->payload, "day"));
    json_t *part = json_object_get(env->payload, "partition");
    int64_t day_ms;
    if (!day || recon_date_ms(day, strlen(day), &day_ms) != ARR_OK || !json_is_integer(part))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "field payload.day/partition: missing or malformed");
    char p[16], at[ARR_TIME_STRLEN];
    snprintf(p, sizeof(p), "%lld", (long long)json_integer_value(part));
    arr_time_format(day_ms, at, sizeof(at));
    const char *params[] = {p, at};
    PGresult *res = NULL;
    arr_err e = arr_pg_run(b->pg, "rb_day_due", 2, params, &res, why, whylen);
    for (int i = 0; !e && i < PQntuples(res); i++)
        e = day_account(b, env, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), day_ms, why, whylen);
    PQclear(res);
    return e;
}
