/* arrears report: the measures the business reads (DOMAIN.md) for one tenant over a period of
 * whole UTC days [from, to], as aligned tables or, with --json, one JSON object.
 *
 *   arrears report --tenant T --from YYYY-MM-DD --to YYYY-MM-DD [--currency C] [--json]
 *
 * Every number comes from the SQL functions of the `report` schema (deploy/sql/014_report.sql,
 * definitions in docs/report.md), so an analyst calling them gets the same figures; this
 * command runs them in one read-only snapshot (REPEATABLE READ: all measures see the same
 * moment) and lays them out. Where they read:
 *   aging, DSO, CEI, cohorts  reconciliation.ledger's balance now, rewound to a day by
 *                             reconciliation.allocations and the adjustments and waivers of
 *                             audit.events; placement and due date from ingest.accounts
 *   cost to collect           outreach.steps sent, cost_cents (the policy's unit cost)
 *   promise-kept rate         reconciliation.arrangements and allocations
 *   right-party contact       outreach.steps (voice conversations) and outreach.replies
 *   suppressions, deferrals   outreach.steps suppressed; audit.events outreach.deferred and
 *                             step-less outreach.suppressed
 *   unmatched payments        reconciliation.exceptions and payments
 *   champion / challenger     scoring.scores (the arm) with the money and costs above
 * Money is reported per currency (a tenant with several must name one); it is printed from
 * integer cents and rates from their numeric text, never through floating point. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/buf.h"
#include "arrears/jsonw.h"
#include "arrears/pg.h"
#include "cli.h"

/* The measures, each one statement. args names the parameters in order: t tenant,
 * c currency, f from, e end (to). */
enum {
    Q_AGING,
    Q_SUMMARY,
    Q_COHORTS,
    Q_COSTS,
    Q_PROMISES,
    Q_RPC,
    Q_SUPPRESSIONS,
    Q_UNMATCHED,
    Q_ARMS,
    Q_COUNT
};

static const struct {
    const char *name, *args, *sql;
} queries[Q_COUNT] = {
    [Q_AGING] = {"rep_aging", "tcfe",
                 "SELECT at, as_of, bucket, accounts, amount_cents"
                 " FROM report.aging_period($1, $2, $3::date, $4::date)"},
    [Q_SUMMARY] = {"rep_summary", "tcfe",
                   "SELECT days, beginning_cents, credit_sales_cents, placed_accounts,"
                   " ending_cents, ending_current_cents, collected_cents, dso, cei"
                   " FROM report.summary($1, $2, $3::date, $4::date)"},
    [Q_COHORTS] = {"rep_cohorts", "tcfe",
                   "SELECT cohort, accounts, placed_cents, collected_cents,"
                   " collected_in_period_cents, recovery_rate, liquidation_rate"
                   " FROM report.cohorts($1, $2, $3::date, $4::date)"},
    [Q_COSTS] = {"rep_costs", "tcfe",
                 "SELECT channel, contacts, cost_cents, cost_per_collected"
                 " FROM report.contact_costs($1, $2, $3::date, $4::date)"},
    [Q_PROMISES] = {"rep_promises", "tfe",
                    "SELECT due, kept, broken, kept_rate"
                    " FROM report.promises($1, $2::date, $3::date)"},
    [Q_RPC] = {"rep_rpc", "tfe",
               "SELECT contacted_accounts, right_party_accounts, rate"
               " FROM report.right_party($1, $2::date, $3::date)"},
    [Q_SUPPRESSIONS] = {"rep_suppressions", "tfe",
                        "SELECT rule_id, suppressed_steps, suppressed_unplanned, deferrals,"
                        " deferred_steps FROM report.suppressions($1, $2::date, $3::date)"},
    [Q_UNMATCHED] = {"rep_unmatched", "tce",
                     "SELECT age, payments, amount_cents"
                     " FROM report.unmatched($1, $2, $3::date)"},
    [Q_ARMS] = {"rep_arms", "tce",
                "SELECT arm, accounts, placed_cents, collected_cents, recovery_rate,"
                " contact_cost_cents, net_recovery_cents FROM report.arms($1, $2, $3::date)"},
};

typedef struct report_opts {
    const char *tenant, *from, *to, *currency;
    int json;
} report_opts;

typedef struct report_data {
    char currency[4]; /* "" when the tenant has no money recorded */
    PGresult *res[Q_COUNT];
} report_data;

static void usage(FILE *to)
{
    fprintf(to, "usage: arrears report --tenant T --from YYYY-MM-DD --to YYYY-MM-DD\n"
                "                      [--currency CCY] [--json]\n"
                "The measures of a tenant over the UTC days from..to (both included): aging at\n"
                "the start and the end, DSO, CEI, recovery and liquidation per placement cohort,\n"
                "cost to collect per channel, promise-kept and right-party-contact rates,\n"
                "suppressions and deferrals per rule, unmatched payments by age, champion\n"
                "against challenger. Amounts are in the tenant's currency (--currency when it\n"
                "has several). Definitions: docs/report.md; the same numbers in SQL: the\n"
                "functions of the report schema.\n");
}

/* ------------------------------------------------------------------ arguments */

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* 1 when s is a real calendar day written YYYY-MM-DD. */
static int valid_day(const char *s)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    }
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return 0;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

static int valid_currency(const char *s)
{
    return strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
           s[2] >= 'A' && s[2] <= 'Z';
}

/* 0 when argv makes a report; else the reason goes to why. */
static int parse_opts(int argc, char **argv, report_opts *o, char *why, size_t whylen)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < argc; i++) {
        const char **slot = NULL;
        if (strcmp(argv[i], "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strcmp(argv[i], "--tenant") == 0)
            slot = &o->tenant;
        else if (strcmp(argv[i], "--from") == 0)
            slot = &o->from;
        else if (strcmp(argv[i], "--to") == 0)
            slot = &o->to;
        else if (strcmp(argv[i], "--currency") == 0)
            slot = &o->currency;
        if (!slot) {
            snprintf(why, whylen, "unknown argument '%s'", argv[i]);
            return -1;
        }
        if (i + 1 >= argc) {
            snprintf(why, whylen, "%s needs a value", argv[i]);
            return -1;
        }
        *slot = argv[++i];
    }
    if (!o->tenant || !*o->tenant)
        snprintf(why, whylen, "--tenant is required");
    else if (!o->from || !o->to)
        snprintf(why, whylen, "--from and --to are required");
    else if (!valid_day(o->from) || !valid_day(o->to))
        snprintf(why, whylen, "--from and --to are days written YYYY-MM-DD");
    else if (strcmp(o->from, o->to) > 0) /* same fixed format: text order is date order */
        snprintf(why, whylen, "--from %s is after --to %s", o->from, o->to);
    else if (o->currency && !valid_currency(o->currency))
        snprintf(why, whylen, "--currency is an ISO 4217 code such as USD");
    else
        return 0;
    return -1;
}

/* ------------------------------------------------------------------ the numbers */

/* The tenant's currency: the one asked for, else the only one its accounts and payments use
 * ("" when none: every amount is then zero). With several and none asked for, the user must
 * choose (ARR_EINVAL): a sum across currencies means nothing. */
static arr_err pick_currency(arr_pg *pg, const report_opts *o, char out[4], char *why,
                             size_t whylen)
{
    out[0] = '\0';
    if (o->currency) {
        snprintf(out, 4, "%s", o->currency);
        return ARR_OK;
    }
    PGresult *res = NULL;
    const char *params[] = {o->tenant};
    arr_err e =
        arr_pg_prepare(pg, "rep_currencies", "SELECT * FROM report.currencies($1)", 1, why, whylen);
    if (!e)
        e = arr_pg_run(pg, "rep_currencies", 1, params, &res, why, whylen);
    if (e)
        return e;
    int n = PQntuples(res);
    if (n == 1) {
        snprintf(out, 4, "%s", PQgetvalue(res, 0, 0));
    } else if (n > 1) {
        arr_buf list;
        arr_buf_init(&list, 4096);
        for (int i = 0; i < n; i++)
            arr_buf_appendf(&list, "%s%s", i ? ", " : "", PQgetvalue(res, i, 0));
        e = arr_errbuf_fail(ARR_EINVAL, why, whylen,
                            "tenant %s has amounts in %s: name one with --currency", o->tenant,
                            list.data ? list.data : "");
        arr_buf_free(&list);
    }
    PQclear(res);
    return e;
}

static void data_free(report_data *d)
{
    for (int q = 0; q < Q_COUNT; q++)
        PQclear(d->res[q]);
    memset(d, 0, sizeof(*d));
}

/* Runs every measure in one read-only snapshot; d's results are the caller's (data_free). */
static arr_err collect(arr_pg *pg, const report_opts *o, report_data *d, char *why, size_t whylen)
{
    memset(d, 0, sizeof(*d));
    arr_err e = arr_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", why, whylen);
    /* Hash joins only: the measures join a tenant's whole portfolio, and a tenant's statistics
       in tables shared by many are often stale (autoanalyze waits for a tenth of the table to
       change). Planned on an estimate of one row, a nested loop took minutes where a hash
       join takes a second (10,000 accounts among millions). */
    if (!e)
        e = arr_pg_exec(pg, "SET LOCAL enable_nestloop = off", why, whylen);
    if (!e)
        e = pick_currency(pg, o, d->currency, why, whylen);
    for (int q = 0; !e && q < Q_COUNT; q++) {
        const char *params[4];
        int n = 0;
        for (const char *a = queries[q].args; *a; a++) {
            switch (*a) {
            case 't':
                params[n++] = o->tenant;
                break;
            case 'c': /* NULL matches no account: a tenant without money reports zeros */
                params[n++] = d->currency[0] ? d->currency : NULL;
                break;
            case 'f':
                params[n++] = o->from;
                break;
            default:
                params[n++] = o->to;
                break;
            }
        }
        e = arr_pg_prepare(pg, queries[q].name, queries[q].sql, n, why, whylen);
        if (!e)
            e = arr_pg_run(pg, queries[q].name, n, params, &d->res[q], why, whylen);
    }
    if (e)
        arr_pg_rollback(pg);
    else
        e = arr_pg_commit(pg, why, whylen);
    if (e)
        data_free(d);
    return e;
}

/* ------------------------------------------------------------------ formatting */

static const char *val(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static long long ival(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Cents as units with two decimals and thousands separators: -1,234.56. */
static const char *money(char *out, size_t cap, long long cents)
{
    unsigned long long u = cents < 0 ? 0ULL - (unsigned long long)cents : (unsigned long long)cents;
    char digits[32], grouped[48];
    int n = snprintf(digits, sizeof(digits), "%llu", u / 100), g = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    snprintf(out, cap, "%s%s.%02llu", cents < 0 ? "-" : "", grouped, u % 100);
    return out;
}

/* A fraction's numeric text as a percentage, by moving the decimal point two places
 * ("0.3333" -> "33.33%", "1.2500" -> "125.00%"); NULL -> "n/a". */
static const char *percent(char *out, size_t cap, const char *num)
{
    if (!num) {
        snprintf(out, cap, "n/a");
        return out;
    }
    int neg = *num == '-';
    const char *s = num + neg, *dot = strchr(s, '.');
    size_t ilen = dot ? (size_t)(dot - s) : strlen(s);
    const char *frac = dot ? dot + 1 : "";
    char whole[24];
    size_t w = 0;
    for (size_t i = 0; i < ilen && w + 3 < sizeof(whole); i++)
        whole[w++] = s[i];
    for (int k = 0; k < 2; k++)
        whole[w++] = *frac ? *frac++ : '0';
    whole[w] = '\0';
    const char *lead = whole;
    while (lead[0] == '0' && lead[1])
        lead++;
    snprintf(out, cap, "%s%s%s%s%%", neg ? "-" : "", lead, *frac ? "." : "", frac);
    return out;
}

static const char *or_na(const char *s)
{
    return s ? s : "n/a";
}

/* ------------------------------------------------------------------ human output */

static void print_aging(const report_data *d)
{
    const PGresult *r = d->res[Q_AGING];
    int rows = PQntuples(r), half = rows / 2; /* start buckets, then end buckets */
    char a[32], b[32], h0[48], h1[48];
    snprintf(h0, sizeof(h0), "start: end of %s", half ? PQgetvalue(r, 0, 1) : "");
    snprintf(h1, sizeof(h1), "end: end of %s", half ? PQgetvalue(r, half, 1) : "");
    printf("Aging of open receivables by days past due\n");
    printf("  %-9s %31s %31s\n", "", h0, h1);
    printf("  %-9s %10s %20s %10s %20s\n", "bucket", "accounts", "amount", "accounts", "amount");
    long long n0 = 0, c0 = 0, n1 = 0, c1 = 0;
    for (int i = 0; i < half; i++) {
        n0 += ival(r, i, 3);
        c0 += ival(r, i, 4);
        n1 += ival(r, half + i, 3);
        c1 += ival(r, half + i, 4);
        printf("  %-9s %10lld %20s %10lld %20s\n", PQgetvalue(r, i, 2), ival(r, i, 3),
               money(a, sizeof(a), ival(r, i, 4)), ival(r, half + i, 3),
               money(b, sizeof(b), ival(r, half + i, 4)));
    }
    printf("  %-9s %10lld %20s %10lld %20s\n\n", "total", n0, money(a, sizeof(a), c0), n1,
           money(b, sizeof(b), c1));
}

static void print_summary(const report_data *d)
{
    const PGresult *r = d->res[Q_SUMMARY];
    char a[32];
    printf("Receivables, DSO and CEI\n");
    printf("  %-34s %20s\n", "beginning receivables", money(a, sizeof(a), ival(r, 0, 1)));
    char label[64];
    snprintf(label, sizeof(label), "credit sales (%lld placed)", ival(r, 0, 3));
    printf("  %-34s %20s\n", label, money(a, sizeof(a), ival(r, 0, 2)));
    printf("  %-34s %20s\n", "ending receivables", money(a, sizeof(a), ival(r, 0, 4)));
    printf("  %-34s %20s\n", "ending current receivables", money(a, sizeof(a), ival(r, 0, 5)));
    printf("  %-34s %20s\n", "collected in the period", money(a, sizeof(a), ival(r, 0, 6)));
    printf("  %-34s %20s days\n", "DSO", or_na(val(r, 0, 7)));
    printf("  %-34s %20s %%\n\n", "CEI", or_na(val(r, 0, 8)));
}

static void print_cohorts(const report_data *d, const report_opts *o)
{
    const PGresult *r = d->res[Q_COHORTS];
    char a[32], b[32], c[32], p[48], q[48];
    printf("Recovery by placement cohort (collected from placement to %s)\n", o->to);
    printf("  %-7s %9s %18s %18s %18s %9s %11s\n", "cohort", "accounts", "placed", "collected",
           "in period", "recovery", "liquidation");
    for (int i = 0; i < PQntuples(r); i++)
        printf("  %-7s %9lld %18s %18s %18s %9s %11s\n", PQgetvalue(r, i, 0), ival(r, i, 1),
               money(a, sizeof(a), ival(r, i, 2)), money(b, sizeof(b), ival(r, i, 3)),
               money(c, sizeof(c), ival(r, i, 4)), percent(p, sizeof(p), val(r, i, 5)),
               percent(q, sizeof(q), val(r, i, 6)));
    if (PQntuples(r) == 0)
        printf("  (no account placed by %s)\n", o->to);
    printf("\n");
}

static void print_costs(const report_data *d)
{
    const PGresult *r = d->res[Q_COSTS];
    char a[32], p[48];
    printf("Cost to collect in the period\n");
    printf("  %-8s %10s %16s %15s\n", "channel", "contacts", "cost", "cost/collected");
    for (int i = 0; i < PQntuples(r); i++)
        printf("  %-8s %10lld %16s %15s\n", PQgetvalue(r, i, 0), ival(r, i, 1),
               money(a, sizeof(a), ival(r, i, 2)), percent(p, sizeof(p), val(r, i, 3)));
    printf("\n");
}

static void print_rates(const report_data *d)
{
    const PGresult *pr = d->res[Q_PROMISES], *rc = d->res[Q_RPC];
    char p[48];
    printf("Promises due in the period: %lld, kept %lld, broken %lld; kept rate %s\n",
           ival(pr, 0, 0), ival(pr, 0, 1), ival(pr, 0, 2), percent(p, sizeof(p), val(pr, 0, 3)));
    printf("Right-party contact: %lld of %lld accounts contacted in the period; rate %s\n\n",
           ival(rc, 0, 1), ival(rc, 0, 0), percent(p, sizeof(p), val(rc, 0, 2)));
}

static void print_suppressions(const report_data *d)
{
    const PGresult *r = d->res[Q_SUPPRESSIONS];
    printf("Suppressions and deferrals by rule in the period\n");
    printf("  %-42s %10s %10s %10s %10s\n", "rule", "suppressed", "unplanned", "deferrals",
           "deferred");
    printf("  %-42s %10s %10s %10s %10s\n", "", "steps", "", "", "steps");
    for (int i = 0; i < PQntuples(r); i++)
        printf("  %-42s %10lld %10lld %10lld %10lld\n", PQgetvalue(r, i, 0), ival(r, i, 1),
               ival(r, i, 2), ival(r, i, 3), ival(r, i, 4));
    if (PQntuples(r) == 0)
        printf("  (none)\n");
    printf("\n");
}

static void print_unmatched(const report_data *d, const report_opts *o)
{
    const PGresult *r = d->res[Q_UNMATCHED];
    char a[32];
    long long n = 0, c = 0;
    printf("Unmatched payments by age at the end of %s\n", o->to);
    printf("  %-10s %10s %20s\n", "age (days)", "payments", "amount");
    for (int i = 0; i < PQntuples(r); i++) {
        n += ival(r, i, 1);
        c += ival(r, i, 2);
        printf("  %-10s %10lld %20s\n", PQgetvalue(r, i, 0), ival(r, i, 1),
               money(a, sizeof(a), ival(r, i, 2)));
    }
    printf("  %-10s %10lld %20s\n\n", "total", n, money(a, sizeof(a), c));
}

static void print_arms(const report_data *d, const report_opts *o)
{
    const PGresult *r = d->res[Q_ARMS];
    char a[32], b[32], c[32], e[32], p[48];
    printf("Champion against challenger (from placement to %s)\n", o->to);
    printf("  %-10s %9s %18s %18s %9s %14s %18s\n", "arm", "accounts", "placed", "collected",
           "recovery", "contact cost", "net recovery");
    for (int i = 0; i < PQntuples(r); i++)
        printf("  %-10s %9lld %18s %18s %9s %14s %18s\n", PQgetvalue(r, i, 0), ival(r, i, 1),
               money(a, sizeof(a), ival(r, i, 2)), money(b, sizeof(b), ival(r, i, 3)),
               percent(p, sizeof(p), val(r, i, 4)), money(c, sizeof(c), ival(r, i, 5)),
               money(e, sizeof(e), ival(r, i, 6)));
    if (PQntuples(r) == 0)
        printf("  (no account placed by %s)\n", o->to);
}

static void print_human(const report_data *d, const report_opts *o)
{
    const PGresult *s = d->res[Q_SUMMARY];
    printf("Report for tenant %s, %s to %s (%s days, UTC), amounts in %s\n\n", o->tenant, o->from,
           o->to, PQgetvalue(s, 0, 0), d->currency[0] ? d->currency : "(no money recorded)");
    print_aging(d);
    print_summary(d);
    print_cohorts(d, o);
    print_costs(d);
    print_rates(d);
    print_suppressions(d);
    print_unmatched(d, o);
    print_arms(d, o);
}

/* ------------------------------------------------------------------ JSON */

static void j_int(arr_jsonw *w, const char *key, const PGresult *r, int row, int col)
{
    arr_jsonw_key(w, key);
    arr_jsonw_int(w, ival(r, row, col));
}

/* A numeric as the JSON number PostgreSQL wrote (exact), or null. */
static void j_num(arr_jsonw *w, const char *key, const PGresult *r, int row, int col)
{
    arr_jsonw_key(w, key);
    const char *v = val(r, row, col);
    if (v)
        arr_jsonw_raw(w, v, strlen(v));
    else
        arr_jsonw_null(w);
}

static void j_str(arr_jsonw *w, const char *key, const char *v)
{
    arr_jsonw_key(w, key);
    if (v)
        arr_jsonw_string(w, v);
    else
        arr_jsonw_null(w);
}

/* One row as a JSON object, column by column: 's' text, 'i' integer, 'n' numeric (null when
 * NULL). */
typedef struct json_col {
    const char *key;
    char kind;
    int col;
} json_col;

static void j_row(arr_jsonw *w, const PGresult *r, int row, const json_col *cols, size_t n)
{
    arr_jsonw_object_begin(w);
    for (size_t k = 0; k < n; k++) {
        if (cols[k].kind == 's')
            j_str(w, cols[k].key, PQgetvalue(r, row, cols[k].col));
        else if (cols[k].kind == 'i')
            j_int(w, cols[k].key, r, row, cols[k].col);
        else
            j_num(w, cols[k].key, r, row, cols[k].col);
    }
    arr_jsonw_object_end(w);
}

/* Rows [from, to) as an array under key. */
static void j_rows(arr_jsonw *w, const char *key, const PGresult *r, int from, int to,
                   const json_col *cols, size_t n)
{
    arr_jsonw_key(w, key);
    arr_jsonw_array_begin(w);
    for (int i = from; i < to; i++)
        j_row(w, r, i, cols, n);
    arr_jsonw_array_end(w);
}

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static void json_aging(arr_jsonw *w, const PGresult *r, int first, int n)
{
    static const json_col cols[] = {
        {"bucket", 's', 2}, {"accounts", 'i', 3}, {"amount_cents", 'i', 4}};
    long long accounts = 0, cents = 0;
    for (int i = first; i < first + n; i++) {
        accounts += ival(r, i, 3);
        cents += ival(r, i, 4);
    }
    arr_jsonw_object_begin(w);
    j_str(w, "as_of", n ? PQgetvalue(r, first, 1) : NULL);
    j_rows(w, "buckets", r, first, first + n, cols, NCOLS(cols));
    arr_jsonw_key(w, "accounts");
    arr_jsonw_int(w, accounts);
    arr_jsonw_key(w, "amount_cents");
    arr_jsonw_int(w, cents);
    arr_jsonw_object_end(w);
}

static void json_summary(arr_jsonw *w, const PGresult *r)
{
    arr_jsonw_key(w, "receivables");
    arr_jsonw_object_begin(w);
    j_int(w, "beginning_cents", r, 0, 1);
    j_int(w, "credit_sales_cents", r, 0, 2);
    j_int(w, "placed_accounts", r, 0, 3);
    j_int(w, "ending_cents", r, 0, 4);
    j_int(w, "ending_current_cents", r, 0, 5);
    j_int(w, "collected_cents", r, 0, 6);
    arr_jsonw_object_end(w);
    j_num(w, "dso_days", r, 0, 7);
    j_num(w, "cei_percent", r, 0, 8);
}

static void json_cohorts(arr_jsonw *w, const PGresult *r)
{
    static const json_col cols[] = {{"cohort", 's', 0},
                                    {"accounts", 'i', 1},
                                    {"placed_cents", 'i', 2},
                                    {"collected_cents", 'i', 3},
                                    {"collected_in_period_cents", 'i', 4},
                                    {"recovery_rate", 'n', 5},
                                    {"liquidation_rate", 'n', 6}};
    j_rows(w, "cohorts", r, 0, PQntuples(r), cols, NCOLS(cols));
}

static void json_costs(arr_jsonw *w, const PGresult *r)
{
    static const json_col cols[] = {{"channel", 's', 0},
                                    {"contacts", 'i', 1},
                                    {"cost_cents", 'i', 2},
                                    {"cost_per_collected", 'n', 3}};
    int last = PQntuples(r) - 1; /* the total */
    arr_jsonw_key(w, "cost_to_collect");
    arr_jsonw_object_begin(w);
    j_rows(w, "channels", r, 0, last > 0 ? last : 0, cols, NCOLS(cols));
    if (last >= 0) {
        j_int(w, "contacts", r, last, 1);
        j_int(w, "cost_cents", r, last, 2);
        j_num(w, "cost_per_collected", r, last, 3);
    }
    arr_jsonw_object_end(w);
}

static void json_rates(arr_jsonw *w, const PGresult *pr, const PGresult *rc)
{
    arr_jsonw_key(w, "promises");
    arr_jsonw_object_begin(w);
    j_int(w, "due", pr, 0, 0);
    j_int(w, "kept", pr, 0, 1);
    j_int(w, "broken", pr, 0, 2);
    j_num(w, "kept_rate", pr, 0, 3);
    arr_jsonw_object_end(w);
    arr_jsonw_key(w, "right_party_contact");
    arr_jsonw_object_begin(w);
    j_int(w, "contacted_accounts", rc, 0, 0);
    j_int(w, "right_party_accounts", rc, 0, 1);
    j_num(w, "rate", rc, 0, 2);
    arr_jsonw_object_end(w);
}

static void json_suppressions(arr_jsonw *w, const PGresult *r)
{
    static const json_col cols[] = {{"rule_id", 's', 0},
                                    {"suppressed_steps", 'i', 1},
                                    {"suppressed_unplanned", 'i', 2},
                                    {"deferrals", 'i', 3},
                                    {"deferred_steps", 'i', 4}};
    j_rows(w, "suppressions", r, 0, PQntuples(r), cols, NCOLS(cols));
}

static void json_unmatched(arr_jsonw *w, const PGresult *r, const char *as_of)
{
    static const json_col cols[] = {
        {"age", 's', 0}, {"payments", 'i', 1}, {"amount_cents", 'i', 2}};
    long long n = 0, c = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        n += ival(r, i, 1);
        c += ival(r, i, 2);
    }
    arr_jsonw_key(w, "unmatched");
    arr_jsonw_object_begin(w);
    j_str(w, "as_of", as_of);
    j_rows(w, "buckets", r, 0, PQntuples(r), cols, NCOLS(cols));
    arr_jsonw_key(w, "payments");
    arr_jsonw_int(w, n);
    arr_jsonw_key(w, "amount_cents");
    arr_jsonw_int(w, c);
    arr_jsonw_object_end(w);
}

static void json_arms(arr_jsonw *w, const PGresult *r)
{
    static const json_col cols[] = {{"arm", 's', 0},
                                    {"accounts", 'i', 1},
                                    {"placed_cents", 'i', 2},
                                    {"collected_cents", 'i', 3},
                                    {"recovery_rate", 'n', 4},
                                    {"contact_cost_cents", 'i', 5},
                                    {"net_recovery_cents", 'i', 6}};
    j_rows(w, "arms", r, 0, PQntuples(r), cols, NCOLS(cols));
}

static arr_err print_json(const report_data *d, const report_opts *o)
{
    arr_buf out;
    arr_buf_init(&out, 64u * 1024 * 1024);
    arr_jsonw w;
    arr_jsonw_init(&w, &out);
    const PGresult *ag = d->res[Q_AGING];
    int half = PQntuples(ag) / 2;
    arr_jsonw_object_begin(&w);
    j_str(&w, "tenant", o->tenant);
    j_str(&w, "from", o->from);
    j_str(&w, "to", o->to);
    j_int(&w, "days", d->res[Q_SUMMARY], 0, 0);
    j_str(&w, "currency", d->currency[0] ? d->currency : NULL);
    arr_jsonw_key(&w, "aging");
    arr_jsonw_object_begin(&w);
    arr_jsonw_key(&w, "start");
    json_aging(&w, ag, 0, half);
    arr_jsonw_key(&w, "end");
    json_aging(&w, ag, half, half);
    arr_jsonw_object_end(&w);
    json_summary(&w, d->res[Q_SUMMARY]);
    json_cohorts(&w, d->res[Q_COHORTS]);
    json_costs(&w, d->res[Q_COSTS]);
    json_rates(&w, d->res[Q_PROMISES], d->res[Q_RPC]);
    json_suppressions(&w, d->res[Q_SUPPRESSIONS]);
    json_unmatched(&w, d->res[Q_UNMATCHED], o->to);
    json_arms(&w, d->res[Q_ARMS]);
    arr_jsonw_object_end(&w);
    arr_err e = arr_jsonw_finish(&w);
    if (!e)
        printf("%s\n", out.data);
    arr_buf_free(&out);
    return e;
}

/* ------------------------------------------------------------------ the command */

int cli_report(cli_ctx *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    report_opts o;
    char why[1024];
    if (parse_opts(argc, argv, &o, why, sizeof(why)) != 0) {
        fprintf(stderr, "arrears report: %s\n", why);
        usage(stderr);
        return 2;
    }
    arr_pg *pg;
    if (arr_pg_connect(c->pg_conninfo, &pg, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears report: PostgreSQL: %s\n", why);
        return 1;
    }
    report_data d;
    arr_err e = collect(pg, &o, &d, why, sizeof(why));
    arr_pg_free(pg);
    if (e) {
        /* undefined schema or function: the database predates the report's migration */
        int old = strstr(why, "[3F000]") || strstr(why, "[42883]");
        fprintf(stderr, "arrears report: %s%s\n", why,
                old ? " (deploy/sql/014_report.sql not applied: arrears db migrate)" : "");
        return 1;
    }
    if (o.json)
        e = print_json(&d, &o);
    else
        print_human(&d, &o);
    data_free(&d);
    if (e) {
        fprintf(stderr, "arrears report: JSON output: %s\n", arr_strerror(e));
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
