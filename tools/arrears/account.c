/* arrears account: one account, for a person asking "what is going on with it, and why?"
 *
 *   show     its state now, read from each owner's tables in one read-only snapshot:
 *            ingest's placement, reconciliation's ledger, live arrangements and the open
 *            exceptions naming it, scoring's latest score and status, outreach's run,
 *            consents, stop/dispute/cease/hold facts, opt-outs, next open step and step
 *            counts. Those tables are keyed by (tenant, account), so no namespace applies.
 *   history  every event that touched it, from the audit store (audit.events, one row per
 *            published event) in event time order, one line each with the event's reason in
 *            words, built from its payload (proto/schemas/<type>.schema.json).
 *
 * Neither prints personal data (names, addresses, e-mail addresses, phone numbers): columns
 * that hold it are never selected, summaries use ids only, and history --json drops the
 * personal fields of a payload unless --with-personal-data is given (an auditor's request). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "arrears/clock.h"
#include "arrears/money.h"
#include "arrears/pg.h"
#include "cli.h"

static void usage(FILE *to)
{
    fprintf(to, "usage: arrears account show ID [--tenant T] [--json]\n"
                "           the account's state now: placement, ledger, live arrangements, open\n"
                "           exceptions naming it, latest score, outreach (run, consents, stops,\n"
                "           opt-outs, next open step, step counts)\n"
                "       arrears account history ID [--tenant T] [--json] [--limit N]\n"
                "                       [--namespace NS] [--with-personal-data]\n"
                "           every event that touched the account (audit.events), oldest first,\n"
                "           with why; --limit N: the first N. --json: [{event_id, event_type,\n"
                "           event_time, producer, summary, causation_id, payload}], without the\n"
                "           payloads' personal data unless --with-personal-data.\n"
                "The tenant defaults to $ARR_TENANT, else \"default\"; the namespace to\n"
                "$ARR_TOPIC_PREFIX, else \"\" (production). Times are UTC. An account with\n"
                "nothing recorded exits 1.\n");
}

/* ------------------------------------------------------------------ arguments */

typedef struct args {
    const char *id, *tenant, *ns;
    long limit; /* 0: all */
    int json, personal;
} args;

static int valid_account(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return 0;
    for (; *s; s++) {
        if (*s < '!' || *s > '~')
            return 0;
    }
    return 1;
}

/* Fills a from argv (argv[0] is the subcommand); 0 on a usage error. */
static int parse_args(cli_ctx *c, int argc, char **argv, int history, args *a)
{
    char why[128];
    memset(a, 0, sizeof(*a));
    a->tenant = "default";
    a->ns = "";
    arr_config_str(c->cfg, "ARR_TENANT", "default", &a->tenant, why, sizeof(why));
    arr_config_str(c->cfg, "ARR_TOPIC_PREFIX", "", &a->ns, why, sizeof(why));
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if (history && strcmp(argv[i], "--with-personal-data") == 0) {
            a->personal = 1;
        } else if (strcmp(argv[i], "--tenant") == 0 && v) {
            a->tenant = argv[++i];
        } else if (history && strcmp(argv[i], "--namespace") == 0 && v) {
            a->ns = argv[++i];
        } else if (history && strcmp(argv[i], "--limit") == 0 && v) {
            char *end;
            a->limit = strtol(argv[++i], &end, 10);
            if (*end || a->limit <= 0 || a->limit > 1000000000) /* limit + 1 must fit */
                return 0;
        } else if (argv[i][0] != '-' && !a->id) {
            a->id = argv[i];
        } else {
            return 0;
        }
    }
    return a->id && valid_account(a->id) && arr_tenant_valid(a->tenant);
}

/* ------------------------------------------------------------------ small helpers */

/* A bounded line that summaries are appended to; overflow truncates. */
typedef struct line {
    char s[1024];
    size_t len;
} line;

static void add(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(line *l, const char *fmt, ...)
{
    size_t room = sizeof(l->s) - l->len;
    if (room <= 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->s + l->len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* Minor units in the currency's own digits, e.g. "-12.50" for USD. */
static const char *amount(json_int_t cents, const char *cur, char *out, size_t cap)
{
    int d = arr_currency_decimals(cur && strlen(cur) == 3 ? cur : "XXX");
    unsigned long long a = cents < 0 ? 0ULL - (unsigned long long)cents : (unsigned long long)cents;
    unsigned long long p = 1;
    for (int i = 0; i < d; i++)
        p *= 10;
    if (d == 0)
        snprintf(out, cap, "%s%llu", cents < 0 ? "-" : "", a);
    else
        snprintf(out, cap, "%s%llu.%0*llu", cents < 0 ? "-" : "", a / p, d, a % p);
    return out;
}

/* The same with the code: "-12.50 USD". */
static const char *money(json_int_t cents, const char *cur, char *out, size_t cap)
{
    char a[40];
    snprintf(out, cap, "%s %s", amount(cents, cur, a, sizeof(a)),
             cur && strlen(cur) == 3 ? cur : "???");
    return out;
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static json_int_t num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static int has(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return v && !json_is_null(v);
}

static int is_true(json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

/* A string field, or "-" when absent, for the text output. */
static const char *dash(json_t *o, const char *k)
{
    const char *s = str(o, k);
    return s && *s ? s : "-";
}

/* The strings of an array joined by sep (reason codes, changes, candidates). */
static void add_list(line *l, json_t *arr, const char *sep)
{
    size_t i;
    json_t *v;
    int first = 1;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v)) {
            add(l, "%s%s", first ? "" : sep, json_string_value(v));
            first = 0;
        }
    }
}

/* The day of an epoch-ms date as YYYY-MM-DD (the ledger keeps dates as ms). */
static const char *ms_day(json_int_t ms, char *out, size_t cap)
{
    char t[ARR_TIME_STRLEN];
    if (arr_time_format((int64_t)ms, t, sizeof(t)) != ARR_OK)
        snprintf(t, sizeof(t), "?");
    snprintf(out, cap, "%.10s", t);
    return out;
}

/* ------------------------------------------------------------------ reading rows */

/* Type oids of the columns read (pg_type.h is a server header). */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_JSON = 114,
    OID_FLOAT8 = 701,
    OID_TIMESTAMPTZ = 1184,
    OID_JSONB = 3802
};

/* "2026-11-27 05:42:37.435+00" (the session runs in UTC) as RFC 3339 with milliseconds, like
 * the envelopes: "2026-11-27T05:42:37.435Z". */
static json_t *pg_time(const char *v)
{
    char buf[64], out[ARR_TIME_STRLEN];
    int64_t ms;
    size_t n = strlen(v);
    if (n < 22 || n + 4 > sizeof(buf) || strcmp(v + n - 3, "+00") != 0)
        return json_string(v);
    snprintf(buf, sizeof(buf), "%s:00", v);
    buf[10] = 'T';
    if (arr_time_parse(buf, &ms) != ARR_OK || arr_time_format(ms, out, sizeof(out)) != ARR_OK)
        return json_string(v);
    return json_string(out);
}

/* One value as JSON by its column's type; SQL NULL is null. */
static json_t *cell(PGresult *res, int row, int i)
{
    if (PQgetisnull(res, row, i))
        return json_null();
    const char *v = PQgetvalue(res, row, i);
    switch (PQftype(res, i)) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        return json_integer(strtoll(v, NULL, 10));
    case OID_FLOAT8:
        return json_real(strtod(v, NULL));
    case OID_BOOL:
        return json_boolean(v[0] == 't');
    case OID_TIMESTAMPTZ:
        return pg_time(v);
    case OID_JSON:
    case OID_JSONB: {
        json_t *j = json_loads(v, 0, NULL);
        return j ? j : json_null();
    }
    default:
        return json_string(v);
    }
}

/* A row as an object keyed by the column names (the statements name them). */
static json_t *row_object(PGresult *res, int row)
{
    json_t *o = json_object();
    for (int i = 0; i < PQnfields(res); i++)
        json_object_set_new(o, PQfname(res, i), cell(res, row, i));
    return o;
}

/* Prepares and runs one statement; the caller PQclear()s *res. */
static arr_err query(arr_pg *pg, const char *name, const char *sql, int n, const char *const *p,
                     PGresult **res, char *why, size_t whylen)
{
    *res = NULL;
    arr_err e = arr_pg_prepare(pg, name, sql, n, why, whylen);
    return e ? e : arr_pg_run(pg, name, n, p, res, why, whylen);
}

static int connect_pg(cli_ctx *c, const char *cmd, arr_pg **pg)
{
    char why[512];
    arr_err e = arr_pg_connect(c->pg_conninfo, pg, why, sizeof(why));
    if (!e && (e = arr_pg_exec(*pg, "SET TIME ZONE 'UTC'", why, sizeof(why))) != ARR_OK)
        arr_pg_free(*pg);
    if (e) {
        fprintf(stderr, "arrears account %s: PostgreSQL: %s\n", cmd, why);
        return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ show: what is read */

/* One section of the state: a statement on (tenant $1, account $2) whose columns become the
 * keys of one object (or null), or of an array of them. Every statement uses an index
 * starting with (tenant, account_id). */
typedef struct section {
    const char *key, *sql;
    int many;
} section;

static const section sections[] = {
    /* debtor_ref is the creditor's opaque customer id; of the payload only two scalars are
     * read, never its debtor block. */
    {"placement",
     "SELECT regime, currency, balance_cents, original_balance_cents,"
     " due_date::text AS due_date,"
     " greatest(current_date - due_date, 0) AS days_past_due, service_type, status,"
     " payload->>'invoice_id' AS invoice_id,"
     " (payload->>'medical_no_report')::boolean AS medical_no_report,"
     " debtor_ref, placed_at, updated_at"
     " FROM ingest.accounts WHERE tenant = $1 AND account_id = $2",
     0},
    /* Not debtor_name: personal data, kept for matching payments only. */
    {"ledger",
     "SELECT status, currency, balance_cents, placed_cents, adjusted_cents,"
     " applied_cents, reversed_cents, waived_cents, refund_due, invoice_id,"
     " instalment_due_cents, settlement_due_cents, next_deadline, updated_at, terms"
     " FROM reconciliation.ledger WHERE tenant = $1 AND account_id = $2",
     0},
    /* Open exceptions whose candidates name the account: the tenant's open queue (partial
     * index exceptions_open); never the payer's name or the reference text. */
    {"exceptions",
     "SELECT e.payment_id, e.reason, p.amount_cents, p.currency, p.source, e.opened_at,"
     " cardinality(e.candidates) AS candidates FROM reconciliation.exceptions e"
     " JOIN reconciliation.payments p USING (tenant, payment_id)"
     " WHERE e.tenant = $1 AND e.status = 'open' AND $2 = ANY(e.candidates)"
     " ORDER BY e.opened_at, e.payment_id",
     1},
    {"score",
     "SELECT scored_at, probability, segment, strategy, arm, model_id,"
     " strategy_table_version, expected_recovery_cents, cause_type,"
     " cause_event_id::text AS cause_event_id, score_event_id::text AS score_event_id,"
     " message::json AS message FROM scoring.scores"
     " WHERE tenant = $1 AND account_id = $2"
     " ORDER BY scored_at DESC, score_event_id DESC LIMIT 1",
     0},
    {"scoring",
     "SELECT status, namespace, updated_at FROM scoring.accounts"
     " WHERE tenant = $1 AND account_id = $2",
     0},
    /* Not debtor: the placement's personal data. */
    {"outreach",
     "SELECT namespace, status, status_rule, regime, strategy, scored_at, run_no,"
     " run_strategy, run_scored_strategy, run_policy_version, run_start, run_over,"
     " sms_consent_at, voice_consent_at, stop_at, dispute_at, original_creditor_at,"
     " verification_at, validation_at, first_contact_at, promise_until, hold_rule,"
     " updated_at FROM outreach.accounts WHERE tenant = $1 AND account_id = $2",
     0},
    {"opt_outs",
     "SELECT address_id, channel, reason, at FROM outreach.opt_outs"
     " WHERE tenant = $1 AND account_id = $2 ORDER BY at, address_id",
     1},
    {"bad_contacts",
     "SELECT address_id, channel, error_code, at FROM outreach.bad_contacts"
     " WHERE tenant = $1 AND account_id = $2 ORDER BY at, address_id",
     1},
    {"next_step",
     "SELECT step_id::text AS step_id, channel, due_at, step_key, kind, status, run_no,"
     " template_id, strategy, address_id, attempts FROM outreach.steps"
     " WHERE tenant = $1 AND account_id = $2 AND status IN ('planned', 'sending')"
     " ORDER BY due_at, step_id LIMIT 1",
     0},
    {"last_sent",
     "SELECT step_id::text AS step_id, channel, coalesce(done_at, updated_at) AS at,"
     " step_key, template_id, template_version, delivery, address_id FROM outreach.steps"
     " WHERE tenant = $1 AND account_id = $2 AND status = 'sent'"
     " ORDER BY 3 DESC, step_id LIMIT 1",
     0},
    {"step_counts",
     "SELECT status, count(*) AS n FROM outreach.steps"
     " WHERE tenant = $1 AND account_id = $2 GROUP BY status",
     1},
};

/* By primary key: the ledger's terms name the live arrangements, and arrangements has no
 * index by account (a tenant may hold millions). */
static const char arrangement_sql[] =
    "SELECT id, kind, made_by, made_at FROM reconciliation.arrangements"
    " WHERE tenant = $1 AND id = ANY($3::text[]) AND account_id = $2";

/* ------------------------------------------------------------------ show: shaping */

/* The live plan, promise and settlement of the ledger's terms (reconciliation's own state,
 * services/reconciliation/account.c), with who made each from arrangements. */
static json_t *arrangements_of(json_t *terms)
{
    static const char *const kinds[] = {"plan", "promise", "settlement"};
    json_t *list = json_array();
    for (size_t k = 0; k < 3; k++) {
        json_t *t = json_object_get(terms, kinds[k]);
        if (!json_is_object(t))
            continue;
        const char *status = str(t, "status");
        json_t *a = json_pack("{s:s, s:s?, s:s?, s:b}", "kind", kinds[k], "id", str(t, "id"),
                              "status", status, "open", status && strcmp(status, "active") == 0);
        if (k == 0) { /* inst: [[due_ms, amount, paid, missed], ...] */
            json_t *inst = json_object_get(t, "inst"), *next = json_null();
            int paid = 0, missed = 0;
            size_t i;
            json_t *v;
            json_array_foreach(inst, i, v)
            {
                json_int_t amount = json_integer_value(json_array_get(v, 1));
                json_int_t got = json_integer_value(json_array_get(v, 2));
                missed += json_is_true(json_array_get(v, 3));
                if (got >= amount) {
                    paid++;
                } else if (json_is_null(next)) {
                    char day[16];
                    ms_day(json_integer_value(json_array_get(v, 0)), day, sizeof(day));
                    next = json_pack("{s:I, s:s, s:I, s:I}", "number", (json_int_t)i + 1,
                                     "due_date", day, "amount_cents", amount, "paid_cents", got);
                }
            }
            json_object_set_new(a, "instalments", json_integer((json_int_t)json_array_size(inst)));
            json_object_set_new(a, "instalments_paid", json_integer(paid));
            json_object_set_new(a, "instalments_missed", json_integer(missed));
            json_object_set_new(a, "next_instalment", next);
            json_object_set_new(a, "grace_days", json_integer(num(t, "grace")));
        } else if (k == 1) {
            char day[16];
            json_object_set_new(a, "amount_cents", json_integer(num(t, "amount")));
            json_object_set_new(a, "date", json_string(ms_day(num(t, "date"), day, sizeof(day))));
            json_object_set_new(a, "paid_cents", json_integer(num(t, "paid")));
            json_object_set_new(a, "grace_days", json_integer(num(t, "grace")));
        } else {
            char from[16], until[16];
            json_object_set_new(a, "amount_cents", json_integer(num(t, "amount")));
            json_object_set_new(a, "from", json_string(ms_day(num(t, "from"), from, 16)));
            json_object_set_new(a, "until", json_string(ms_day(num(t, "until"), until, 16)));
            json_object_set_new(a, "paid_cents", json_integer(num(t, "paid")));
            json_object_set_new(a, "waived_cents", json_integer(num(t, "waived")));
            const char *by = str(t, "by");
            json_object_set_new(a, "settled_by", by && *by ? json_string(by) : json_null());
        }
        json_object_set_new(a, "made_by", json_null());
        json_object_set_new(a, "made_at", json_null());
        json_array_append_new(list, a);
    }
    return list;
}

/* Who made the live arrangements and when, from reconciliation.arrangements. */
static arr_err arrangements_made(arr_pg *pg, const char *const *key, json_t *list, char *why,
                                 size_t whylen)
{
    if (json_array_size(list) == 0)
        return ARR_OK;
    arr_buf ids;
    arr_buf_init(&ids, 1 << 16);
    arr_err e = arr_pg_array_open(&ids);
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a)
    {
        if (!e && str(a, "id"))
            e = arr_pg_array_add(&ids, str(a, "id"));
    }
    if (!e)
        e = arr_pg_array_close(&ids);
    PGresult *res = NULL;
    const char *p[] = {key[0], key[1], ids.data};
    if (!e)
        e = query(pg, "acct_arrangements", arrangement_sql, 3, p, &res, why, whylen);
    for (int r = 0; !e && r < PQntuples(res); r++) {
        json_t *made = row_object(res, r);
        json_array_foreach(list, i, a)
        {
            const char *id = str(a, "id"), *kind = str(a, "kind");
            if (id && kind && strcmp(id, str(made, "id")) == 0 &&
                strcmp(kind, str(made, "kind")) == 0) {
                json_object_set(a, "made_by", json_object_get(made, "made_by"));
                json_object_set(a, "made_at", json_object_get(made, "made_at"));
            }
        }
        json_decref(made);
    }
    PQclear(res);
    arr_buf_free(&ids);
    return e;
}

/* The score's reason codes and contact budget live only in its message (the envelope). */
static void shape_score(json_t *score)
{
    if (!json_is_object(score))
        return;
    json_t *payload = json_object_get(json_object_get(score, "message"), "payload");
    json_t *codes = json_object_get(payload, "reason_codes");
    json_object_set_new(score, "reason_codes",
                        json_is_array(codes) ? json_copy(codes) : json_array());
    json_object_set_new(score, "currency",
                        json_string(str(payload, "currency") ? str(payload, "currency") : ""));
    json_object_set(score, "contact_budget_cents",
                    has(payload, "contact_budget_cents")
                        ? json_object_get(payload, "contact_budget_cents")
                        : json_null());
    json_object_del(score, "message");
}

/* outreach: the account row's fields and, under them, what its steps and contacts say. */
static json_t *shape_outreach(json_t *doc)
{
    static const char *const statuses[] = {"planned",    "sending", "sent",
                                           "suppressed", "skipped", "failed"};
    json_t *o = json_object_get(doc, "outreach");
    json_t *counts = json_object_get(doc, "step_counts");
    json_t *steps = json_object();
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        json_object_set_new(steps, statuses[i], json_integer(0));
    size_t i;
    json_t *c;
    json_int_t total = 0;
    json_array_foreach(counts, i, c)
    {
        json_object_set_new(steps, str(c, "status"), json_integer(num(c, "n")));
        total += num(c, "n");
    }
    json_t *out = json_is_object(o) ? json_incref(o) : json_object();
    if (!json_is_object(o) && total == 0 &&
        json_array_size(json_object_get(doc, "opt_outs")) == 0) {
        json_decref(out);
        json_decref(steps);
        return json_null();
    }
    static const char *const moved[] = {"opt_outs", "bad_contacts", "next_step", "last_sent"};
    for (size_t k = 0; k < sizeof(moved) / sizeof(moved[0]); k++)
        json_object_set(out, moved[k], json_object_get(doc, moved[k]));
    json_object_set_new(out, "steps", steps);
    return out;
}

/* The account's state as one JSON object; *known is 0 when no owner has a row of it. */
static arr_err read_state(arr_pg *pg, const char *tenant, const char *id, json_t **out, int *known,
                          char *why, size_t whylen)
{
    const char *key[] = {tenant, id};
    json_t *doc = json_pack("{s:s, s:s}", "tenant", tenant, "account_id", id);
    /* One snapshot: the owners write concurrently, and their rows should agree. */
    arr_err e = arr_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", why, whylen);
    for (size_t s = 0; !e && s < sizeof(sections) / sizeof(sections[0]); s++) {
        const section *sec = &sections[s];
        char name[48];
        snprintf(name, sizeof(name), "acct_%s", sec->key);
        PGresult *res = NULL;
        e = query(pg, name, sec->sql, 2, key, &res, why, whylen);
        if (e)
            break;
        json_t *v = sec->many ? json_array() : json_null();
        for (int r = 0; r < PQntuples(res); r++) {
            json_t *row = row_object(res, r);
            if (sec->many) {
                json_array_append_new(v, row);
            } else {
                json_decref(v);
                v = row;
            }
        }
        PQclear(res);
        json_object_set_new(doc, sec->key, v);
    }
    json_t *ledger = json_object_get(doc, "ledger");
    json_t *arr = arrangements_of(json_object_get(ledger, "terms"));
    if (!e)
        e = arrangements_made(pg, key, arr, why, whylen);
    json_object_set_new(doc, "arrangements", arr);
    if (json_is_object(ledger))
        json_object_del(ledger, "terms");
    arr_pg_rollback(pg);
    if (e) {
        json_decref(doc);
        return e;
    }
    shape_score(json_object_get(doc, "score"));
    json_object_set_new(doc, "outreach", shape_outreach(doc));
    static const char *const folded[] = {"opt_outs", "bad_contacts", "next_step", "last_sent",
                                         "step_counts"};
    for (size_t k = 0; k < sizeof(folded) / sizeof(folded[0]); k++)
        json_object_del(doc, folded[k]);
    *known = 0;
    static const char *const owners[] = {"placement", "ledger", "score", "scoring", "outreach"};
    for (size_t k = 0; k < sizeof(owners) / sizeof(owners[0]); k++)
        *known |= has(doc, owners[k]);
    *out = doc;
    return ARR_OK;
}

/* ------------------------------------------------------------------ show: text */

static void print_placement(json_t *p)
{
    char a[48], b[48];
    if (!json_is_object(p)) {
        printf("placement    none in ingest.accounts\n");
        return;
    }
    const char *cur = str(p, "currency");
    printf("placement    %s at the creditor, %s regime, %s: balance %s (original %s)\n",
           dash(p, "status"), dash(p, "regime"), dash(p, "service_type"),
           money(num(p, "balance_cents"), cur, a, 48),
           money(num(p, "original_balance_cents"), cur, b, 48));
    printf("             due %s, %lld day(s) past due today%s; invoice %s, debtor ref %s\n",
           dash(p, "due_date"), (long long)num(p, "days_past_due"),
           is_true(p, "medical_no_report") ? " (medical under $500: never reported)" : "",
           dash(p, "invoice_id"), dash(p, "debtor_ref"));
    printf("             placed %s, updated %s\n", dash(p, "placed_at"), dash(p, "updated_at"));
}

static void print_ledger(json_t *l, json_t *arrangements, json_t *exceptions)
{
    char m[6][48];
    if (!json_is_object(l)) {
        printf("ledger       none in reconciliation.ledger\n");
    } else {
        const char *cur = str(l, "currency");
        printf("ledger       %s: balance %s = placed %s + adjusted %s - applied %s + reversed %s"
               " - waived %s\n",
               dash(l, "status"), money(num(l, "balance_cents"), cur, m[0], 48),
               amount(num(l, "placed_cents"), cur, m[1], 48),
               amount(num(l, "adjusted_cents"), cur, m[2], 48),
               amount(num(l, "applied_cents"), cur, m[3], 48),
               amount(num(l, "reversed_cents"), cur, m[4], 48),
               amount(num(l, "waived_cents"), cur, m[5], 48));
        printf("             %snext deadline %s, updated %s\n",
               is_true(l, "refund_due") ? "credit: refund due; " : "", dash(l, "next_deadline"),
               dash(l, "updated_at"));
    }
    const char *cur = str(l, "currency");
    size_t i;
    json_t *a;
    json_array_foreach(arrangements, i, a)
    {
        line x = {.len = 0};
        const char *kind = str(a, "kind");
        add(&x, "%s %s %s", kind, dash(a, "id"), dash(a, "status"));
        if (strcmp(kind, "plan") == 0) {
            add(&x, ": %lld of %lld instalment(s) paid, %lld missed",
                (long long)num(a, "instalments_paid"), (long long)num(a, "instalments"),
                (long long)num(a, "instalments_missed"));
            json_t *n = json_object_get(a, "next_instalment");
            if (json_is_object(n))
                add(&x, "; next #%lld %s due %s", (long long)num(n, "number"),
                    money(num(n, "amount_cents") - num(n, "paid_cents"), cur, m[0], 48),
                    dash(n, "due_date"));
        } else if (strcmp(kind, "promise") == 0) {
            add(&x, ": %s by %s, %s paid", money(num(a, "amount_cents"), cur, m[0], 48),
                dash(a, "date"), money(num(a, "paid_cents"), cur, m[1], 48));
        } else {
            add(&x, ": %s between %s and %s, %s paid", money(num(a, "amount_cents"), cur, m[0], 48),
                dash(a, "from"), dash(a, "until"), money(num(a, "paid_cents"), cur, m[1], 48));
        }
        add(&x, " (made %s by %s)", dash(a, "made_at"), dash(a, "made_by"));
        printf("%s%s\n", i ? "             " : "arrangement  ", x.s);
    }
    json_array_foreach(exceptions, i, a)
    {
        printf("%s payment %s %s from %s: %s, %lld candidate(s), open since %s\n",
               i ? "            " : "exception   ", dash(a, "payment_id"),
               money(num(a, "amount_cents"), str(a, "currency"), m[0], 48), dash(a, "source"),
               dash(a, "reason"), (long long)num(a, "candidates"), dash(a, "opened_at"));
    }
}

static void print_score(json_t *s, json_t *sc)
{
    if (!json_is_object(s)) {
        printf("score        none in scoring.scores\n");
    } else {
        char m[48];
        line x = {.len = 0};
        add_list(&x, json_object_get(s, "reason_codes"), " ");
        printf("score        %s: p %.4f, segment %s, strategy %s, expected recovery %s\n",
               dash(s, "scored_at"), json_real_value(json_object_get(s, "probability")),
               dash(s, "segment"), dash(s, "strategy"),
               money(num(s, "expected_recovery_cents"), str(s, "currency"), m, sizeof(m)));
        printf("             reasons %s\n", x.len ? x.s : "-");
        printf("             model %s, strategy table %s, arm %s; caused by %s %s\n",
               dash(s, "model_id"), dash(s, "strategy_table_version"), dash(s, "arm"),
               dash(s, "cause_type"), dash(s, "cause_event_id"));
    }
    if (json_is_object(sc))
        printf("scoring      %s (namespace '%s', updated %s)\n", dash(sc, "status"),
               str(sc, "namespace") ? str(sc, "namespace") : "", dash(sc, "updated_at"));
}

static void print_outreach(json_t *o)
{
    if (!json_is_object(o)) {
        printf("outreach     none in outreach.accounts\n");
        return;
    }
    printf("outreach     %s%s%s (namespace '%s'); strategy %s, scored %s\n", dash(o, "status"),
           has(o, "status_rule") ? " by rule " : "",
           has(o, "status_rule") ? str(o, "status_rule") : "",
           str(o, "namespace") ? str(o, "namespace") : "", dash(o, "strategy"),
           dash(o, "scored_at"));
    printf("             run %lld: strategy %s (scored %s), policy %s, started %s%s%s\n",
           (long long)num(o, "run_no"), dash(o, "run_strategy"), dash(o, "run_scored_strategy"),
           dash(o, "run_policy_version"), dash(o, "run_start"),
           has(o, "run_over") ? ", over by rule " : "",
           has(o, "run_over") ? str(o, "run_over") : "");
    printf("             consent: sms %s, voice %s\n", dash(o, "sms_consent_at"),
           dash(o, "voice_consent_at"));
    printf("             stop %s, dispute %s, original creditor asked %s, verification %s\n",
           dash(o, "stop_at"), dash(o, "dispute_at"), dash(o, "original_creditor_at"),
           dash(o, "verification_at"));
    printf("             validation notice %s, first contact %s, hold until %s (rule %s)\n",
           dash(o, "validation_at"), dash(o, "first_contact_at"), dash(o, "promise_until"),
           dash(o, "hold_rule"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "opt_outs"), i, v)
        printf("             opt-out %s %s (%s) %s\n", dash(v, "channel"), dash(v, "address_id"),
               dash(v, "reason"), dash(v, "at"));
    json_array_foreach(json_object_get(o, "bad_contacts"), i, v)
        printf("             bad contact %s %s (%s) %s\n", dash(v, "channel"),
               dash(v, "address_id"), dash(v, "error_code"), dash(v, "at"));
    json_t *n = json_object_get(o, "next_step");
    if (json_is_object(n))
        printf("             next step %s %s due %s (%s, %s, run %lld, template %s)\n",
               dash(n, "channel"), dash(n, "step_key"), dash(n, "due_at"), dash(n, "status"),
               dash(n, "kind"), (long long)num(n, "run_no"), dash(n, "template_id"));
    else
        printf("             next step none open\n");
    json_t *ls = json_object_get(o, "last_sent");
    if (json_is_object(ls))
        printf("             last sent %s %s at %s (template %s, delivery %s)\n",
               dash(ls, "channel"), dash(ls, "step_key"), dash(ls, "at"), dash(ls, "template_id"),
               dash(ls, "delivery"));
    json_t *st = json_object_get(o, "steps");
    printf("             steps: %lld sent, %lld suppressed, %lld skipped, %lld failed, %lld "
           "planned, %lld sending\n",
           (long long)num(st, "sent"), (long long)num(st, "suppressed"),
           (long long)num(st, "skipped"), (long long)num(st, "failed"),
           (long long)num(st, "planned"), (long long)num(st, "sending"));
}

static int cmd_show(cli_ctx *c, int argc, char **argv)
{
    args a;
    if (!parse_args(c, argc, argv, 0, &a)) {
        usage(stderr);
        return 2;
    }
    arr_pg *pg;
    if (!connect_pg(c, "show", &pg))
        return 1;
    char why[512];
    json_t *doc = NULL;
    int known = 0;
    arr_err e = read_state(pg, a.tenant, a.id, &doc, &known, why, sizeof(why));
    arr_pg_free(pg);
    if (e) {
        fprintf(stderr, "arrears account show: %s\n", why);
        return 1;
    }
    if (!known) {
        fprintf(stderr, "arrears account show: no account %s for tenant %s\n", a.id, a.tenant);
        json_decref(doc);
        return 1;
    }
    if (a.json) {
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        printf("%s\n", s ? s : "{}");
        free(s);
    } else {
        printf("account      %s/%s\n", a.tenant, a.id);
        print_placement(json_object_get(doc, "placement"));
        print_ledger(json_object_get(doc, "ledger"), json_object_get(doc, "arrangements"),
                     json_object_get(doc, "exceptions"));
        print_score(json_object_get(doc, "score"), json_object_get(doc, "scoring"));
        print_outreach(json_object_get(doc, "outreach"));
    }
    json_decref(doc);
    return 0;
}

/* ------------------------------------------------------------------ history: summaries */

/* Each summary names ids, amounts, rules and codes: never a payload's personal fields, nor
 * free text a person wrote (references, replies, provider details). */

static void sum_placement(const char *type, json_t *p, line *l)
{
    char a[48], b[48];
    const char *cur = str(p, "currency");
    if (strcmp(type, "account.submitted") == 0) {
        add(l, "submitted: balance %s, due %s", money(num(p, "balance_cents"), cur, a, 48),
            dash(p, "due_date"));
        return;
    }
    if (strcmp(type, "account.closed") == 0) {
        add(l, "closed at the creditor: %s", dash(p, "reason"));
        if (has(p, "balance_cents"))
            add(l, ", balance %s", money(num(p, "balance_cents"), cur, a, 48));
        return;
    }
    int updated = strcmp(type, "account.updated") == 0;
    add(l, "%s: balance %s", updated ? "updated" : "placed",
        money(num(p, "balance_cents"), cur, a, 48));
    if (updated)
        add(l, " (was %s)", money(num(p, "previous_balance_cents"), cur, b, 48));
    else
        add(l, " (original %s)", money(num(p, "original_balance_cents"), cur, b, 48));
    add(l, ", due %s", dash(p, "due_date"));
    if (has(p, "days_past_due"))
        add(l, " (%lld days past due)", (long long)num(p, "days_past_due"));
    add(l, ", %s, %s", dash(p, "regime"), dash(p, "service_type"));
    if (has(p, "invoice_id"))
        add(l, ", invoice %s", str(p, "invoice_id"));
    if (is_true(p, "medical_no_report"))
        add(l, ", medical: not reported");
    json_t *changes = json_object_get(p, "changes");
    if (json_array_size(changes)) {
        add(l, "; changed ");
        add_list(l, changes, ", ");
    }
}

static void sum_score(json_t *p, line *l)
{
    add(l, "p %.4f, strategy %s, segment %s; reasons ",
        json_number_value(json_object_get(p, "probability")), dash(p, "strategy"),
        dash(p, "segment"));
    json_t *codes = json_object_get(p, "reason_codes");
    if (json_array_size(codes))
        add_list(l, codes, " ");
    else
        add(l, "-");
    add(l, "; model %s, table %s, arm %s", dash(p, "model_id"), dash(p, "strategy_table_version"),
        dash(p, "arm"));
    if (has(p, "experiment"))
        add(l, " (experiment %s)", str(p, "experiment"));
    add(l, "; cause %s", dash(p, "cause_event_type"));
    if (has(p, "days_past_due"))
        add(l, " at %lld days past due", (long long)num(p, "days_past_due"));
}

/* outreach.planned|sent|delivered|failed|deferred|suppressed: the step, then per verb. */
static void sum_outreach(const char *verb, json_t *p, line *l)
{
    add(l, "%s %s step %s", verb, has(p, "channel") ? str(p, "channel") : "(no channel)",
        dash(p, "step_key"));
    if (has(p, "run_no"))
        add(l, " (run %lld)", (long long)num(p, "run_no"));
    if (has(p, "kind") && strcmp(str(p, "kind"), "regular") != 0)
        add(l, " [%s]", str(p, "kind"));
    if (has(p, "rule_id"))
        add(l, " by rule %s", str(p, "rule_id"));
    if (strcmp(verb, "planned") == 0) {
        add(l, " due %s", dash(p, "due_at"));
        static const char *const what[][2] = {{"template_id", "template"},
                                              {"strategy", "strategy"},
                                              {"policy_version", "policy"},
                                              {"cadence_id", "cadence"}};
        for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
            if (has(p, what[i][0]))
                add(l, ", %s %s", what[i][1], str(p, what[i][0]));
        }
    } else if (strcmp(verb, "sent") == 0) {
        char m[48];
        add(l, " at %s via %s (%s), template %s v%s", dash(p, "at"), dash(p, "provider"),
            dash(p, "provider_message_id"), dash(p, "template_id"), dash(p, "template_version"));
        if (has(p, "lang"))
            add(l, " (%s)", str(p, "lang"));
        if (has(p, "cost_cents"))
            add(l, ", cost %s", money(num(p, "cost_cents"), str(p, "currency"), m, sizeof(m)));
    } else if (strcmp(verb, "delivered") == 0) {
        add(l, " (%s)", dash(p, "provider_message_id"));
        if (has(p, "call_outcome"))
            add(l, ", call outcome %s", str(p, "call_outcome"));
    } else if (strcmp(verb, "failed") == 0) {
        add(l, ": error %s, %s", dash(p, "error_code"),
            is_true(p, "retriable") ? "will retry" : "final");
        if (has(p, "contact_point"))
            add(l, ", contact point %s", str(p, "contact_point"));
    } else if (strcmp(verb, "deferred") == 0) {
        add(l, " until %s", dash(p, "until"));
    } else if (strcmp(verb, "suppressed") == 0) {
        if (has(p, "at"))
            add(l, " at %s", str(p, "at"));
        if (has(p, "detail")) /* the schema's auditor text, without personal data */
            add(l, ": %s", str(p, "detail"));
    }
}

static void sum_reply(json_t *p, line *l)
{
    char m[48];
    add(l, "reply via %s: intent %s", dash(p, "channel"), dash(p, "intent"));
    if (has(p, "keyword"))
        add(l, " (%s)", str(p, "keyword"));
    if (has(p, "promised_amount_cents"))
        add(l, ", promises %s by %s",
            money(num(p, "promised_amount_cents"), str(p, "currency"), m, sizeof(m)),
            dash(p, "promised_date"));
    if (has(p, "address_id"))
        add(l, ", from address %s", str(p, "address_id"));
    add(l, ", reply %s", dash(p, "reply_id"));
}

static void sum_payment(const char *type, json_t *p, line *l)
{
    char a[48], b[48], c[48];
    const char *cur = str(p, "currency");
    if (strcmp(type, "payment.received") == 0) {
        add(l, "received %s %s %s from %s", dash(p, "kind"), dash(p, "payment_id"),
            money(num(p, "amount_cents"), cur, a, 48), dash(p, "source"));
        if (has(p, "returned_payment_id"))
            add(l, ", returns %s", str(p, "returned_payment_id"));
        if (has(p, "return_code"))
            add(l, " (%s)", str(p, "return_code"));
    } else if (strcmp(type, "payment.applied") == 0) {
        json_t *al = json_object_get(p, "allocation");
        add(l, "applied %s %s", dash(p, "payment_id"), money(num(p, "amount_cents"), cur, a, 48));
        if (json_is_object(al))
            add(l, " (fees %s, interest %s, principal %s)",
                money(num(al, "fees_cents"), cur, a, 48),
                money(num(al, "interest_cents"), cur, b, 48),
                money(num(al, "principal_cents"), cur, c, 48));
        if (has(p, "matched_via"))
            add(l, " matched by %s", str(p, "matched_via"));
        if (has(p, "source"))
            add(l, " from %s", str(p, "source"));
        add(l, "; balance after %s", money(num(p, "balance_after_cents"), cur, a, 48));
        if (num(p, "credit_cents"))
            add(l, ", credit %s", money(num(p, "credit_cents"), cur, a, 48));
        if (num(p, "instalment_cents"))
            add(l, ", %s toward the plan", money(num(p, "instalment_cents"), cur, a, 48));
        if (is_true(p, "promise_kept"))
            add(l, ", promise kept");
        if (is_true(p, "plan_completed"))
            add(l, ", plan completed");
        if (has(p, "status_after"))
            add(l, "; status %s", str(p, "status_after"));
    } else if (strcmp(type, "payment.reversed") == 0) {
        add(l, "reversed %s %s", dash(p, "payment_id"), money(num(p, "amount_cents"), cur, a, 48));
        if (has(p, "return_id"))
            add(l, " by %s", str(p, "return_id"));
        if (has(p, "return_code"))
            add(l, " (%s)", str(p, "return_code"));
        add(l, "; balance after %s", money(num(p, "balance_after_cents"), cur, a, 48));
        if (is_true(p, "unsettled"))
            add(l, ", settlement undone");
        if (is_true(p, "promise_reopened"))
            add(l, ", promise open again");
        if (has(p, "status_after"))
            add(l, "; status %s", str(p, "status_after"));
    } else if (strcmp(type, "payment.settled") == 0) {
        add(l, "settled %s: paid %s, waived %s", dash(p, "settlement_id"),
            money(num(p, "paid_cents"), cur, a, 48), money(num(p, "waived_cents"), cur, b, 48));
        if (has(p, "payment_id"))
            add(l, " (completed by %s)", str(p, "payment_id"));
    } else { /* payment.unmatched */
        add(l, "unmatched %s %s: %s", dash(p, "payment_id"),
            money(num(p, "amount_cents"), cur, a, 48), dash(p, "rule"));
        json_t *cands = json_object_get(p, "candidates");
        if (json_array_size(cands)) {
            add(l, "; candidates ");
            add_list(l, cands, " ");
        }
    }
}

static void sum_terms(const char *type, json_t *p, line *l)
{
    char a[48], b[48];
    const char *cur = str(p, "currency");
    if (strcmp(type, "promise.broken") == 0)
        add(l, "promise %s broken: %s promised by %s, %s paid", dash(p, "promise_id"),
            money(num(p, "promised_amount_cents"), cur, a, 48), dash(p, "promised_date"),
            money(num(p, "paid_cents"), cur, b, 48));
    else
        add(l, "plan %s: instalment %lld of %s due %s missed", dash(p, "plan_id"),
            (long long)num(p, "instalment_number"), money(num(p, "amount_due_cents"), cur, a, 48),
            dash(p, "due_date"));
}

static void sum_other(const char *type, json_t *p, line *l)
{
    if (strcmp(type, "deadletter.recorded") == 0) {
        const char *reason = dash(p, "reason");
        add(l, "dead letter of %s[%lld]@%lld: %.200s", dash(p, "source_topic"),
            (long long)num(p, "partition"), (long long)num(p, "offset"), reason);
    } else if (strcmp(type, "clock.day_started") == 0) {
        add(l, "day %s began (partition %lld)", dash(p, "day"), (long long)num(p, "partition"));
    } else if (strcmp(type, "provider.status") == 0 ||
               strcmp(type, "provider.status_matched") == 0) {
        add(l, "provider %s status %s: %s", dash(p, "kind"), dash(p, "status"), dash(p, "outcome"));
        if (has(p, "step_id"))
            add(l, " for step %s", str(p, "step_id"));
        if (has(p, "error_code"))
            add(l, " (error %s)", str(p, "error_code"));
    } else if (strcmp(type, "provider.inbound") == 0) {
        add(l, "inbound %s message %s", dash(p, "channel"), dash(p, "provider_message_id"));
    } else {
        add(l, "(no summary for this type)");
    }
}

static void summarize(const char *type, json_t *payload, line *l)
{
    if (!json_is_object(payload)) {
        add(l, "(no readable payload)");
    } else if (strncmp(type, "account.", 8) == 0 &&
               (strcmp(type + 8, "placed") == 0 || strcmp(type + 8, "updated") == 0 ||
                strcmp(type + 8, "closed") == 0 || strcmp(type + 8, "submitted") == 0)) {
        sum_placement(type, payload, l);
    } else if (strcmp(type, "score.computed") == 0) {
        sum_score(payload, l);
    } else if (strncmp(type, "outreach.", 9) == 0) {
        sum_outreach(type + 9, payload, l);
    } else if (strcmp(type, "reply.received") == 0) {
        sum_reply(payload, l);
    } else if (strncmp(type, "payment.", 8) == 0) {
        sum_payment(type, payload, l);
    } else if (strcmp(type, "promise.broken") == 0 || strcmp(type, "plan.instalment_missed") == 0) {
        sum_terms(type, payload, l);
    } else {
        sum_other(type, payload, l);
    }
}

/* Payload fields that are personal data (the schemas mark them), left out of --json unless
 * asked for. A dead letter's raw bytes may be any of these messages. */
static const struct {
    const char *type;
    const char *fields[12];
} personal[] = {
    {"account.placed", {"debtor"}},
    {"account.updated", {"debtor"}},
    {"account.submitted",
     {"first_name", "last_name", "email", "email2", "phone", "phone2", "address_line1",
      "address_line2", "city", "zip"}},
    {"payment.received", {"payer_name"}},
    {"provider.inbound", {"from", "text"}},
    {"deadletter.recorded", {"raw", "original_key"}},
};

static void drop_personal(const char *type, json_t *payload)
{
    for (size_t i = 0; i < sizeof(personal) / sizeof(personal[0]); i++) {
        if (strcmp(type, personal[i].type) != 0)
            continue;
        for (size_t k = 0; k < 12 && personal[i].fields[k]; k++)
            json_object_del(payload, personal[i].fields[k]);
    }
}

/* ------------------------------------------------------------------ history */

/* events_by_account (tenant, account_id, event_time) finds the account's rows and gives them
 * in event time; the namespace is a filter on those few rows, and the tie-breaks sort only
 * events sharing a time. LIMIT NULL is no limit; one more than asked tells of a cut. */
static const char history_sql[] =
    "SELECT event_id, event_type, event_time, producer, causation_id, message,"
    " anonymised_at IS NOT NULL FROM audit.events"
    " WHERE tenant = $1 AND account_id = $2 AND namespace = $3"
    " ORDER BY event_time, recorded_at, kafka_offset, event_id LIMIT $4::bigint";

static const char elsewhere_sql[] =
    "SELECT namespace, count(*) FROM audit.events WHERE tenant = $1 AND account_id = $2"
    " GROUP BY namespace ORDER BY namespace";

/* Where else the account has events, for the "nothing here" message. */
static void print_elsewhere(arr_pg *pg, const args *a)
{
    const char *p[] = {a->tenant, a->id};
    PGresult *res = NULL;
    char why[256];
    if (query(pg, "acct_elsewhere", elsewhere_sql, 2, p, &res, why, sizeof(why)) != ARR_OK)
        return;
    for (int i = 0; i < PQntuples(res); i++)
        fprintf(stderr, "  %s event(s) in namespace '%s' (--namespace)\n", PQgetvalue(res, i, 1),
                PQgetvalue(res, i, 0));
    PQclear(res);
}

static int cmd_history(cli_ctx *c, int argc, char **argv)
{
    args a;
    if (!parse_args(c, argc, argv, 1, &a)) {
        usage(stderr);
        return 2;
    }
    arr_pg *pg;
    if (!connect_pg(c, "history", &pg))
        return 1;
    char why[512], limit[24];
    snprintf(limit, sizeof(limit), "%ld", a.limit + 1);
    const char *p[] = {a.tenant, a.id, a.ns, a.limit ? limit : NULL};
    PGresult *res = NULL;
    if (query(pg, "acct_history", history_sql, 4, p, &res, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears account history: %s\n", why);
        arr_pg_free(pg);
        return 1;
    }
    int n = PQntuples(res), cut = a.limit && n > a.limit;
    if (cut)
        n = (int)a.limit;
    if (n == 0) {
        fprintf(stderr,
                "arrears account history: no events of account %s for tenant %s in "
                "namespace '%s'\n",
                a.id, a.tenant, a.ns);
        print_elsewhere(pg, &a);
        PQclear(res);
        arr_pg_free(pg);
        return 1;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        const char *type = PQgetvalue(res, i, 1);
        json_t *env = json_loads(PQgetvalue(res, i, 5), 0, NULL);
        json_t *payload = json_object_get(env, "payload");
        line l = {.len = 0};
        summarize(type, payload, &l);
        json_t *time = pg_time(PQgetvalue(res, i, 2));
        if (a.json) {
            if (!a.personal && json_is_object(payload))
                drop_personal(type, payload);
            json_array_append_new(list,
                                  json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:O}", "event_id",
                                            PQgetvalue(res, i, 0), "event_type", type, "event_time",
                                            json_incref(time), "producer", PQgetvalue(res, i, 3),
                                            "summary", l.s, "causation_id", cell(res, i, 4),
                                            "payload", payload ? payload : json_null()));
        } else {
            printf("%-24s  %-22s %-14s %s%s\n", json_string_value(time), type,
                   PQgetvalue(res, i, 3), l.s,
                   PQgetvalue(res, i, 6)[0] == 't' ? " [personal data erased]" : "");
        }
        json_decref(time);
        json_decref(env);
    }
    if (a.json) {
        char *s = json_dumps(list, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        printf("%s\n", s ? s : "[]");
        free(s);
    } else {
        printf("%d event(s) of %s/%s%s\n", n, a.tenant, a.id,
               cut ? " shown; more follow (--limit)" : "");
    }
    json_decref(list);
    PQclear(res);
    arr_pg_free(pg);
    return 0;
}

int cli_account(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        usage(argc ? stdout : stderr);
        return argc ? 0 : 2;
    }
    if (strcmp(argv[0], "show") == 0)
        return cmd_show(c, argc, argv);
    if (strcmp(argv[0], "history") == 0)
        return cmd_history(c, argc, argv);
    usage(stderr);
    return 2;
}
