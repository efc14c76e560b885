#include "account.h"

#include <stdio.h>
#include <string.h>
#include "entry.h"

static const char *const bucket_names[] = {"fees", "interest", "principal", "credit"};
static const char *const status_names[] = {"open", "paid", "settled", "closed"};
static const char *const term_names[] = {"none", "active", "done", "broken"};

const char *recon_bucket_name(recon_bucket b)
{
    return (unsigned)b < 4 ? bucket_names[b] : "principal";
}

int recon_bucket_from_name(const char *s, recon_bucket *out)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, bucket_names[i]) == 0) {
            *out = (recon_bucket)i;
            return 1;
        }
    return 0;
}

const char *recon_status_name(recon_status s)
{
    return (unsigned)s < 4 ? status_names[s] : "open";
}

int recon_status_from_name(const char *s, recon_status *out)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, status_names[i]) == 0) {
            *out = (recon_status)i;
            return 1;
        }
    return 0;
}

static int term_from_name(const char *s, recon_term_status *out)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, term_names[i]) == 0) {
            *out = (recon_term_status)i;
            return 1;
        }
    return 0;
}

void recon_waterfall_default(recon_waterfall *w)
{
    memset(w, 0, sizeof(*w));
    w->order[0] = RECON_FEES;
    w->order[1] = RECON_INTEREST;
    w->order[2] = RECON_PRINCIPAL;
    snprintf(w->version, sizeof(w->version), "fees-interest-principal");
}

arr_err recon_waterfall_from_json(json_t *j, recon_waterfall *out, char *why, size_t whylen)
{
    recon_waterfall w;
    recon_waterfall_default(&w);
    const char *version = json_string_value(json_object_get(j, "version"));
    if (!version || !*version || strlen(version) >= sizeof(w.version))
        return arr_errbuf_fail(ARR_ECONFIG, why, whylen, "waterfall: version missing or too long");
    snprintf(w.version, sizeof(w.version), "%s", version);
    json_t *order = json_object_get(j, "order");
    if (order) {
        if (!json_is_array(order) || json_array_size(order) != 3)
            return arr_errbuf_fail(ARR_ECONFIG, why, whylen,
                                   "waterfall %s: order must list fees, interest and principal",
                                   version);
        int seen = 0;
        for (size_t i = 0; i < 3; i++) {
            recon_bucket b;
            if (!recon_bucket_from_name(json_string_value(json_array_get(order, i)), &b) ||
                b == RECON_CREDIT || (seen & (1 << b)))
                return arr_errbuf_fail(ARR_ECONFIG, why, whylen,
                                       "waterfall %s: order[%zu] must be fees, interest or "
                                       "principal, each once",
                                       version, i);
            seen |= 1 << b;
            w.order[i] = b;
        }
    }
    json_t *oldest = json_object_get(j, "oldest_invoice_first");
    if (oldest && !json_is_boolean(oldest))
        return arr_errbuf_fail(ARR_ECONFIG, why, whylen,
                               "waterfall %s: oldest_invoice_first must be true or false", version);
    w.oldest_invoice_first = json_is_true(oldest);
    *out = w;
    return ARR_OK;
}

/* Item lookup and creation. Items past the cap fold into the last one of the same bucket:
 * the money stays exact, only the invoice detail is coarser. */
static recon_item *item_for(recon_account *a, const char *invoice_id, recon_bucket b,
                            int64_t due_ms)
{
    for (size_t i = 0; i < a->n_items; i++)
        if (a->items[i].bucket == b && strcmp(a->items[i].invoice_id, invoice_id) == 0)
            return &a->items[i];
    if (a->n_items < RECON_ITEMS_MAX) {
        recon_item *it = &a->items[a->n_items++];
        memset(it, 0, sizeof(*it));
        snprintf(it->invoice_id, sizeof(it->invoice_id), "%s", invoice_id);
        it->bucket = b;
        it->due_ms = due_ms;
        return it;
    }
    for (size_t i = a->n_items; i-- > 0;)
        if (a->items[i].bucket == b)
            return &a->items[i];
    return &a->items[a->n_items - 1];
}

static void refresh_status(recon_account *a)
{
    if (a->status == RECON_CLOSED)
        return;
    if (a->balance_cents > 0 && (a->status == RECON_PAID || a->status == RECON_SETTLED))
        a->status = RECON_OPEN;
    else if (a->balance_cents <= 0 && a->status == RECON_OPEN)
        a->status = RECON_PAID;
}

static void rebalance(recon_account *a)
{
    a->balance_cents = a->placed_cents + a->adjusted_cents - a->applied_cents + a->reversed_cents -
                       a->waived_cents;
}

static int64_t cents_field(json_t *p, const char *name)
{
    json_t *v = json_object_get(p, name);
    return json_is_integer(v) && json_integer_value(v) > 0 ? json_integer_value(v) : 0;
}

arr_err recon_account_open(recon_account *a, json_t *p, char *why, size_t whylen)
{
    memset(a, 0, sizeof(*a));
    json_t *bal = json_object_get(p, "balance_cents");
    const char *cur = json_string_value(json_object_get(p, "currency"));
    if (!json_is_integer(bal))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field payload.balance_cents: missing");
    if (!cur || strlen(cur) != 3)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field payload.currency: missing");
    int64_t balance = json_integer_value(bal);
    int64_t fees = cents_field(p, "fees_cents"), interest = cents_field(p, "interest_cents");
    if (fees + interest > (balance > 0 ? balance : 0))
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "field payload.fees_cents: fees and interest exceed the balance");
    memcpy(a->currency, cur, 4);
    const char *inv = json_string_value(json_object_get(p, "invoice_id"));
    if (!inv || strlen(inv) > RECON_TERM_ID_MAX)
        inv = "placement";
    int64_t due = 0;
    const char *dd = json_string_value(json_object_get(p, "due_date"));
    if (dd)
        recon_date_ms(dd, strlen(dd), &due);
    if (fees)
        item_for(a, inv, RECON_FEES, due)->open_cents = fees;
    if (interest)
        item_for(a, inv, RECON_INTEREST, due)->open_cents = interest;
    if (balance > 0) /* a credit (negative balance) owes nothing: no item */
        item_for(a, inv, RECON_PRINCIPAL, due)->open_cents = balance - fees - interest;
    a->placed_cents = balance;
    rebalance(a);
    a->status = balance > 0 ? RECON_OPEN : RECON_PAID;
    return ARR_OK;
}

void recon_account_adjust(recon_account *a, int64_t delta, const char *invoice_id, int64_t due_ms)
{
    if (delta == 0)
        return;
    a->adjusted_cents += delta;
    if (delta > 0) {
        item_for(a, invoice_id && *invoice_id ? invoice_id : "adjustment", RECON_PRINCIPAL, due_ms)
            ->open_cents += delta;
    } else {
        int64_t cut = -delta;
        for (size_t i = a->n_items; i-- > 0 && cut > 0;) {
            int64_t take = a->items[i].open_cents < cut ? a->items[i].open_cents : cut;
            a->items[i].open_cents -= take;
            cut -= take;
        }
    }
    rebalance(a);
    refresh_status(a);
}

void recon_account_close(recon_account *a)
{
    a->status = RECON_CLOSED;
}

/* The items in the waterfall's order (indexes into a->items). */
static size_t waterfall_order(const recon_account *a, const recon_waterfall *w, size_t *idx)
{
    size_t n = 0;
    for (size_t i = 0; i < a->n_items; i++)
        idx[n++] = i;
    int rank[4];
    for (int k = 0; k < 3; k++)
        rank[w->order[k]] = k;
    rank[RECON_CREDIT] = 3;
    /* Insertion sort: at most RECON_ITEMS_MAX items, and stable (placement order breaks ties). */
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0) {
            const recon_item *x = &a->items[idx[j - 1]], *y = &a->items[v];
            int before;
            if (w->oldest_invoice_first)
                before = y->due_ms < x->due_ms ||
                         (y->due_ms == x->due_ms && rank[y->bucket] < rank[x->bucket]);
            else
                before = rank[y->bucket] < rank[x->bucket] ||
                         (rank[y->bucket] == rank[x->bucket] && y->due_ms < x->due_ms);
            if (!before)
                break;
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    return n;
}

static void add_alloc(recon_alloc *allocs, size_t *n, const char *invoice, recon_bucket b,
                      int64_t cents)
{
    recon_alloc *al = &allocs[(*n)++];
    snprintf(al->invoice_id, sizeof(al->invoice_id), "%s", invoice);
    al->bucket = b;
    al->cents = cents;
}

static int in_window(const recon_settlement *s, int64_t at_ms)
{
    return at_ms >= s->from_ms && at_ms < s->until_ms + RECON_DAY_MS;
}

static void count_toward_terms(recon_account *a, const char *payment_id, int64_t amount,
                               int64_t at_ms, recon_applied *out)
{
    recon_plan *pl = &a->plan;
    if (pl->status == RECON_TERM_ACTIVE) {
        int64_t left = amount;
        for (int i = 0; i < pl->n && left > 0; i++) {
            int64_t owed = pl->inst[i].amount_cents - pl->inst[i].paid_cents;
            int64_t put = owed < left ? owed : left;
            if (put > 0) {
                pl->inst[i].paid_cents += put;
                left -= put;
                out->instalment_cents += put;
            }
        }
        if (recon_account_instalment_due(a) == 0) {
            pl->status = RECON_TERM_DONE;
            out->plan_completed = 1;
        }
    }
    recon_promise *pr = &a->promise;
    if (pr->status == RECON_TERM_ACTIVE) {
        pr->paid_cents += amount;
        if (pr->paid_cents >= pr->amount_cents) {
            pr->status = RECON_TERM_DONE;
            out->promise_kept = 1;
        }
    }
    recon_settlement *st = &a->settlement;
    if (st->status == RECON_TERM_ACTIVE && in_window(st, at_ms)) {
        st->paid_cents += amount;
        if (st->paid_cents >= st->amount_cents && a->balance_cents > 0) {
            /* The rest is forgiven: every open item is waived. */
            st->waived_cents = a->balance_cents;
            for (size_t i = 0; i < a->n_items; i++)
                a->items[i].open_cents = 0;
            a->waived_cents += st->waived_cents;
            st->status = RECON_TERM_DONE;
            snprintf(st->settled_by, sizeof(st->settled_by), "%s", payment_id);
            rebalance(a);
            a->status = RECON_SETTLED;
            out->settled = 1;
        } else if (st->paid_cents >= st->amount_cents) {
            st->status = RECON_TERM_DONE; /* paid in full anyway: nothing to forgive */
            snprintf(st->settled_by, sizeof(st->settled_by), "%s", payment_id);
        }
    }
}

void recon_account_apply(recon_account *a, const recon_waterfall *w, const char *payment_id,
                         int64_t amount, int64_t at_ms, recon_applied *out)
{
    memset(out, 0, sizeof(*out));
    size_t idx[RECON_ITEMS_MAX];
    size_t n = waterfall_order(a, w, idx);
    int64_t left = amount;
    for (size_t k = 0; k < n && left > 0; k++) {
        recon_item *it = &a->items[idx[k]];
        int64_t put = it->open_cents < left ? it->open_cents : left;
        if (put <= 0)
            continue;
        it->open_cents -= put;
        left -= put;
        add_alloc(out->allocs, &out->n_allocs, it->invoice_id, it->bucket, put);
    }
    out->allocated_cents = amount - left;
    out->unapplied_cents = left;
    if (left > 0)
        add_alloc(out->allocs, &out->n_allocs, "", RECON_CREDIT, left);
    a->applied_cents += amount;
    rebalance(a);
    refresh_status(a);
    count_toward_terms(a, payment_id, amount, at_ms, out);
}

static void uncount_terms(recon_account *a, const char *payment_id, int64_t amount,
                          recon_reversed *out)
{
    recon_plan *pl = &a->plan;
    if (pl->status == RECON_TERM_ACTIVE || pl->status == RECON_TERM_DONE) {
        int64_t left = amount;
        for (int i = pl->n; i-- > 0 && left > 0;) {
            int64_t take = pl->inst[i].paid_cents < left ? pl->inst[i].paid_cents : left;
            pl->inst[i].paid_cents -= take;
            left -= take;
        }
        if (pl->status == RECON_TERM_DONE && recon_account_instalment_due(a) > 0)
            pl->status = RECON_TERM_ACTIVE;
    }
    recon_promise *pr = &a->promise;
    if (pr->status == RECON_TERM_ACTIVE || pr->status == RECON_TERM_DONE) {
        pr->paid_cents = pr->paid_cents > amount ? pr->paid_cents - amount : 0;
        if (pr->status == RECON_TERM_DONE && pr->paid_cents < pr->amount_cents) {
            pr->status = RECON_TERM_ACTIVE;
            out->promise_reopened = 1;
        }
    }
    recon_settlement *st = &a->settlement;
    if (st->status == RECON_TERM_DONE || st->status == RECON_TERM_ACTIVE) {
        st->paid_cents = st->paid_cents > amount ? st->paid_cents - amount : 0;
        if (st->status == RECON_TERM_DONE && strcmp(st->settled_by, payment_id) == 0) {
            /* The payment that settled is gone: the waiver goes back on the principal. */
            if (st->waived_cents > 0) {
                a->waived_cents -= st->waived_cents;
                recon_item *it = a->n_items ? item_for(a, a->items[0].invoice_id, RECON_PRINCIPAL,
                                                       a->items[0].due_ms)
                                            : item_for(a, "placement", RECON_PRINCIPAL, 0);
                it->open_cents += st->waived_cents;
            }
            st->waived_cents = 0;
            st->settled_by[0] = '\0';
            st->status = RECON_TERM_ACTIVE;
            out->unsettled = 1;
        }
    }
}

void recon_account_reverse(recon_account *a, const char *payment_id, const recon_alloc *allocs,
                           size_t n_allocs, int64_t amount, int64_t at_ms, recon_reversed *out)
{
    (void)at_ms;
    memset(out, 0, sizeof(*out));
    int64_t left = amount;
    /* The credit first (the consumer gets back what was over), then the items last paid. */
    for (size_t i = n_allocs; i-- > 0 && left > 0;) {
        if (allocs[i].bucket != RECON_CREDIT || allocs[i].cents <= 0)
            continue;
        int64_t take = allocs[i].cents < left ? allocs[i].cents : left;
        add_alloc(out->allocs, &out->n_allocs, "", RECON_CREDIT, -take);
        left -= take;
    }
    for (size_t i = n_allocs; i-- > 0 && left > 0;) {
        if (allocs[i].bucket == RECON_CREDIT || allocs[i].cents <= 0)
            continue;
        int64_t take = allocs[i].cents < left ? allocs[i].cents : left;
        item_for(a, allocs[i].invoice_id, allocs[i].bucket, 0)->open_cents += take;
        add_alloc(out->allocs, &out->n_allocs, allocs[i].invoice_id, allocs[i].bucket, -take);
        left -= take;
    }
    if (left > 0) /* more than was allocated: the rest goes back on the principal */
        item_for(a, a->n_items ? a->items[0].invoice_id : "placement", RECON_PRINCIPAL, 0)
            ->open_cents += left;
    a->reversed_cents += amount;
    uncount_terms(a, payment_id, amount, out);
    rebalance(a);
    if (a->status == RECON_SETTLED && out->unsettled)
        a->status = RECON_OPEN;
    refresh_status(a);
}

arr_err recon_account_set_plan(recon_account *a, const char *id, const int64_t *due_ms,
                               const int64_t *amounts, int n, int grace_days, char *why,
                               size_t whylen)
{
    if (!id || !*id || strlen(id) > RECON_TERM_ID_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "plan: id missing or too long");
    if (n < 1 || n > RECON_INSTALMENTS_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "plan %s: 1 to %d instalments", id,
                               RECON_INSTALMENTS_MAX);
    if (grace_days < 0 || grace_days > 60)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "plan %s: grace days 0 to 60", id);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (amounts[i] <= 0)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "plan %s: instalment %d amount must be positive", id, i + 1);
        if (i > 0 && due_ms[i] <= due_ms[i - 1])
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "plan %s: instalment %d is not after the one before", id, i + 1);
        total += amounts[i];
    }
    if (total != a->balance_cents)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "plan %s: instalments total %lld, the balance is %lld", id,
                               (long long)total, (long long)a->balance_cents);
    recon_plan *pl = &a->plan;
    memset(pl, 0, sizeof(*pl));
    pl->status = RECON_TERM_ACTIVE;
    snprintf(pl->id, sizeof(pl->id), "%s", id);
    pl->grace_days = grace_days;
    pl->n = n;
    for (int i = 0; i < n; i++) {
        pl->inst[i].due_ms = due_ms[i];
        pl->inst[i].amount_cents = amounts[i];
    }
    return ARR_OK;
}

arr_err recon_account_set_promise(recon_account *a, const char *id, int64_t amount, int64_t date_ms,
                                  int grace_days, char *why, size_t whylen)
{
    if (!id || !*id || strlen(id) > RECON_TERM_ID_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "promise: id missing or too long");
    if (amount <= 0)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "promise %s: amount must be positive", id);
    if (grace_days < 0 || grace_days > 60)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "promise %s: grace days 0 to 60", id);
    recon_promise *pr = &a->promise;
    memset(pr, 0, sizeof(*pr));
    pr->status = RECON_TERM_ACTIVE;
    snprintf(pr->id, sizeof(pr->id), "%s", id);
    pr->amount_cents = amount;
    pr->date_ms = date_ms;
    pr->grace_days = grace_days;
    return ARR_OK;
}

arr_err recon_account_set_settlement(recon_account *a, const char *id, int64_t amount,
                                     int64_t from_ms, int64_t until_ms, char *why, size_t whylen)
{
    if (!id || !*id || strlen(id) > RECON_TERM_ID_MAX)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "settlement: id missing or too long");
    if (amount <= 0 || amount > a->balance_cents)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "settlement %s: amount must be positive and at most the balance",
                               id);
    if (until_ms < from_ms)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                               "settlement %s: window ends before it starts", id);
    recon_settlement *st = &a->settlement;
    memset(st, 0, sizeof(*st));
    st->status = RECON_TERM_ACTIVE;
    snprintf(st->id, sizeof(st->id), "%s", id);
    st->amount_cents = amount;
    st->from_ms = from_ms;
    st->until_ms = until_ms;
    return ARR_OK;
}

int64_t recon_account_instalment_due(const recon_account *a)
{
    if (a->plan.status != RECON_TERM_ACTIVE)
        return 0;
    for (int i = 0; i < a->plan.n; i++) {
        int64_t owed = a->plan.inst[i].amount_cents - a->plan.inst[i].paid_cents;
        if (owed > 0)
            return owed;
    }
    return 0;
}

void recon_account_day(recon_account *a, int64_t day_ms, recon_day *out)
{
    memset(out, 0, sizeof(*out));
    recon_plan *pl = &a->plan;
    if (pl->status == RECON_TERM_ACTIVE) {
        for (int i = 0; i < pl->n; i++) {
            recon_instalment *in = &pl->inst[i];
            if (!in->missed && in->paid_cents < in->amount_cents &&
                day_ms > in->due_ms + pl->grace_days * RECON_DAY_MS) {
                in->missed = 1;
                out->missed[out->n_missed++] = i;
            }
        }
        if (out->n_missed)
            pl->status = RECON_TERM_BROKEN; /* the plan is in default: back to outreach */
    }
    recon_promise *pr = &a->promise;
    if (pr->status == RECON_TERM_ACTIVE && day_ms > pr->date_ms + pr->grace_days * RECON_DAY_MS) {
        pr->status = RECON_TERM_BROKEN;
        out->promise_broken = 1;
    }
    recon_settlement *st = &a->settlement;
    if (st->status == RECON_TERM_ACTIVE && day_ms > st->until_ms) {
        st->status = RECON_TERM_BROKEN;
        out->settlement_expired = 1;
    }
}

int64_t recon_account_next_deadline(const recon_account *a)
{
    int64_t next = 0;
#define CONSIDER(t)                                                                                \
    do {                                                                                           \
        int64_t t_ = (t);                                                                          \
        if (!next || t_ < next)                                                                    \
            next = t_;                                                                             \
    } while (0)
    if (a->plan.status == RECON_TERM_ACTIVE)
        for (int i = 0; i < a->plan.n; i++)
            if (!a->plan.inst[i].missed &&
                a->plan.inst[i].paid_cents < a->plan.inst[i].amount_cents) {
                CONSIDER(a->plan.inst[i].due_ms + (a->plan.grace_days + 1) * RECON_DAY_MS);
                break;
            }
    if (a->promise.status == RECON_TERM_ACTIVE)
        CONSIDER(a->promise.date_ms + (a->promise.grace_days + 1) * RECON_DAY_MS);
    if (a->settlement.status == RECON_TERM_ACTIVE)
        CONSIDER(a->settlement.until_ms + RECON_DAY_MS);
#undef CONSIDER
    return next;
}

int recon_account_consistent(const recon_account *a)
{
    if (a->balance_cents != a->placed_cents + a->adjusted_cents - a->applied_cents +
                                a->reversed_cents - a->waived_cents)
        return 0;
    for (size_t i = 0; i < a->n_items; i++)
        if (a->items[i].open_cents < 0)
            return 0;
    return 1;
}

/* JSON of the items and terms. Dates travel as ms since the epoch: the state is ours only. */
json_t *recon_account_terms_json(const recon_account *a)
{
    json_t *items = json_array();
    for (size_t i = 0; i < a->n_items; i++)
        json_array_append_new(items,
                              json_pack("{s:s, s:s, s:I, s:I}", "invoice", a->items[i].invoice_id,
                                        "bucket", recon_bucket_name(a->items[i].bucket), "due",
                                        (json_int_t)a->items[i].due_ms, "open",
                                        (json_int_t)a->items[i].open_cents));
    json_t *j = json_pack("{s:o}", "items", items);
    if (a->plan.status != RECON_TERM_NONE) {
        json_t *inst = json_array();
        for (int i = 0; i < a->plan.n; i++)
            json_array_append_new(
                inst, json_pack("[I, I, I, b]", (json_int_t)a->plan.inst[i].due_ms,
                                (json_int_t)a->plan.inst[i].amount_cents,
                                (json_int_t)a->plan.inst[i].paid_cents, a->plan.inst[i].missed));
        json_object_set_new(j, "plan",
                            json_pack("{s:s, s:s, s:i, s:o}", "status", term_names[a->plan.status],
                                      "id", a->plan.id, "grace", a->plan.grace_days, "inst", inst));
    }
    if (a->promise.status != RECON_TERM_NONE)
        json_object_set_new(
            j, "promise",
            json_pack("{s:s, s:s, s:I, s:I, s:i, s:I}", "status", term_names[a->promise.status],
                      "id", a->promise.id, "amount", (json_int_t)a->promise.amount_cents, "date",
                      (json_int_t)a->promise.date_ms, "grace", a->promise.grace_days, "paid",
                      (json_int_t)a->promise.paid_cents));
    if (a->settlement.status != RECON_TERM_NONE)
        json_object_set_new(j, "settlement",
                            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "status",
                                      term_names[a->settlement.status], "id", a->settlement.id,
                                      "amount", (json_int_t)a->settlement.amount_cents, "from",
                                      (json_int_t)a->settlement.from_ms, "until",
                                      (json_int_t)a->settlement.until_ms, "paid",
                                      (json_int_t)a->settlement.paid_cents, "waived",
                                      (json_int_t)a->settlement.waived_cents, "by",
                                      a->settlement.settled_by));
    return j;
}

static int64_t ival(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void sval(json_t *o, const char *k, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, k));
    snprintf(out, cap, "%s", s ? s : "");
}

arr_err recon_account_terms_from_json(recon_account *a, json_t *j, char *why, size_t whylen)
{
    json_t *items = json_object_get(j, "items");
    if (!json_is_array(items) || json_array_size(items) > RECON_ITEMS_MAX)
        return arr_errbuf_fail(ARR_EDECODE, why, whylen, "account terms: items malformed");
    a->n_items = 0;
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v)
    {
        recon_item *it = &a->items[a->n_items++];
        memset(it, 0, sizeof(*it));
        sval(v, "invoice", it->invoice_id, sizeof(it->invoice_id));
        if (!recon_bucket_from_name(json_string_value(json_object_get(v, "bucket")), &it->bucket))
            return arr_errbuf_fail(ARR_EDECODE, why, whylen, "account terms: item bucket");
        it->due_ms = ival(v, "due");
        it->open_cents = ival(v, "open");
    }
    memset(&a->plan, 0, sizeof(a->plan));
    memset(&a->promise, 0, sizeof(a->promise));
    memset(&a->settlement, 0, sizeof(a->settlement));
    json_t *pl = json_object_get(j, "plan");
    if (pl) {
        json_t *inst = json_object_get(pl, "inst");
        if (!term_from_name(json_string_value(json_object_get(pl, "status")), &a->plan.status) ||
            !json_is_array(inst) || json_array_size(inst) > RECON_INSTALMENTS_MAX)
            return arr_errbuf_fail(ARR_EDECODE, why, whylen, "account terms: plan malformed");
        sval(pl, "id", a->plan.id, sizeof(a->plan.id));
        a->plan.grace_days = (int)ival(pl, "grace");
        json_array_foreach(inst, i, v)
        {
            recon_instalment *in = &a->plan.inst[a->plan.n++];
            in->due_ms = json_integer_value(json_array_get(v, 0));
            in->amount_cents = json_integer_value(json_array_get(v, 1));
            in->paid_cents = json_integer_value(json_array_get(v, 2));
            in->missed = json_is_true(json_array_get(v, 3));
        }
    }
    json_t *pr = json_object_get(j, "promise");
    if (pr) {
        if (!term_from_name(json_string_value(json_object_get(pr, "status")), &a->promise.status))
            return arr_errbuf_fail(ARR_EDECODE, why, whylen, "account terms: promise malformed");
        sval(pr, "id", a->promise.id, sizeof(a->promise.id));
        a->promise.amount_cents = ival(pr, "amount");
        a->promise.date_ms = ival(pr, "date");
        a->promise.grace_days = (int)ival(pr, "grace");
        a->promise.paid_cents = ival(pr, "paid");
    }
    json_t *st = json_object_get(j, "settlement");
    if (st) {
        if (!term_from_name(json_string_value(json_object_get(st, "status")),
                            &a->settlement.status))
            return arr_errbuf_fail(ARR_EDECODE, why, whylen, "account terms: settlement malformed");
        sval(st, "id", a->settlement.id, sizeof(a->settlement.id));
        a->settlement.amount_cents = ival(st, "amount");
        a->settlement.from_ms = ival(st, "from");
        a->settlement.until_ms = ival(st, "until");
        a->settlement.paid_cents = ival(st, "paid");
        a->settlement.waived_cents = ival(st, "waived");
        sval(st, "by", a->settlement.settled_by, sizeof(a->settlement.settled_by));
    }
    return ARR_OK;
}

/* ---- configuration and terms from their JSON (files, the arrange command) ---- */

arr_err recon_waterfall_load(const char *path, const char *tenant, recon_waterfall *w, char *why,
                             size_t whylen)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return arr_errbuf_fail(ARR_ECONFIG, why, whylen, "%s: %s", path, jerr.text);
    json_t *tenants = json_object_get(root, "tenants");
    json_t *t = json_object_get(tenants, tenant);
    if (!t)
        t = json_object_get(tenants, "*");
    arr_err e =
        t ? recon_waterfall_from_json(t, w, why, whylen)
          : arr_errbuf_fail(ARR_ECONFIG, why, whylen, "%s: no entry for %s nor *", path, tenant);
    json_decref(root);
    return e;
}

static arr_err terms_date(json_t *o, const char *k, int64_t *ms, char *why, size_t whylen)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s || recon_date_ms(s, strlen(s), ms) != ARR_OK)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: must be a date YYYY-MM-DD", k);
    return ARR_OK;
}

static arr_err terms_cents(json_t *o, const char *k, int64_t *v, char *why, size_t whylen)
{
    json_t *j = json_object_get(o, k);
    if (!json_is_integer(j) || json_integer_value(j) <= 0)
        return arr_errbuf_fail(ARR_EINVAL, why, whylen, "field %s: must be a positive integer", k);
    *v = json_integer_value(j);
    return ARR_OK;
}

static int terms_grace(json_t *o, int dflt)
{
    json_t *g = json_object_get(o, "grace_days");
    return json_is_integer(g) ? (int)json_integer_value(g) : dflt;
}

arr_err recon_account_set_terms(recon_account *a, const char *kind, json_t *t, const char *id,
                                char *why, size_t whylen)
{
    arr_err e;
    if (strcmp(kind, "plan") == 0) {
        json_t *inst = json_object_get(t, "instalments");
        size_t n = json_array_size(inst);
        if (!json_is_array(inst) || n == 0 || n > RECON_INSTALMENTS_MAX)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                   "field instalments: 1 to %d instalments", RECON_INSTALMENTS_MAX);
        int64_t due[RECON_INSTALMENTS_MAX], amt[RECON_INSTALMENTS_MAX];
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_array_get(inst, i);
            if ((e = terms_date(x, "due_date", &due[i], why, whylen)) ||
                (e = terms_cents(x, "amount_cents", &amt[i], why, whylen)))
                return e;
        }
        return recon_account_set_plan(a, id, due, amt, (int)n, terms_grace(t, 5), why, whylen);
    }
    if (strcmp(kind, "promise") == 0) {
        int64_t amount, date;
        if ((e = terms_cents(t, "amount_cents", &amount, why, whylen)) ||
            (e = terms_date(t, "date", &date, why, whylen)))
            return e;
        return recon_account_set_promise(a, id, amount, date, terms_grace(t, 3), why, whylen);
    }
    if (strcmp(kind, "settlement") == 0) {
        int64_t amount, from, until;
        if ((e = terms_cents(t, "amount_cents", &amount, why, whylen)) ||
            (e = terms_date(t, "from", &from, why, whylen)) ||
            (e = terms_date(t, "until", &until, why, whylen)))
            return e;
        return recon_account_set_settlement(a, id, amount, from, until, why, whylen);
    }
    return arr_errbuf_fail(ARR_EINVAL, why, whylen, "kind: plan, promise or settlement");
}

json_t *recon_allocations_json(const recon_alloc *allocs, size_t n)
{
    int64_t sum[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++)
        sum[allocs[i].bucket] += allocs[i].cents < 0 ? -allocs[i].cents : allocs[i].cents;
    return json_pack("{s:I, s:I, s:I}", "fees_cents", (json_int_t)sum[RECON_FEES], "interest_cents",
                     (json_int_t)sum[RECON_INTEREST], "principal_cents",
                     (json_int_t)sum[RECON_PRINCIPAL]);
}
