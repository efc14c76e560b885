/* arrears payments: the operator's side of reconciliation.
 *   import    a bank or processor file, parsed whole (a file that fails its control totals is
 *             refused whole, with the reason), published as payment.received events; with
 *             --wait, the outcome of each payment once the service has applied it.
 *   exceptions the payments no rule could place, with the candidates and why.
 *   resolve   a person places an exception on an account (recorded as manual, with who).
 *   arrange   a plan, promise or settlement offer for an account.
 *   verify    the ledger invariants, for every account and every payment.
 * resolve and arrange write reconciliation's tables with the service's own code (recon_book)
 * in one transaction; their events wait in reconciliation.outbox for the service's relay. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "arrears/buf.h"
#include "arrears/clock.h"
#include "arrears/kafka.h"
#include "arrears/outbox.h"
#include "arrears/pg.h"
#include "bai2.h"
#include "book.h"
#include "camt.h"
#include "cli.h"
#include "inbound.h"
#include "jsonl.h"
#include "nacha.h"

#define FILE_MAX (512L * 1024 * 1024)
#define PUBLISH_CHUNK 5000

static void usage(FILE *to)
{
    fprintf(to,
            "usage: arrears payments import FILE --format camt053|camt054|bai2|nacha|json\n"
            "                       [--tenant T] [--wait SECONDS]\n"
            "       arrears payments exceptions [--tenant T] [--json]\n"
            "       arrears payments resolve PAYMENT --account A [--tenant T] [--by NAME]\n"
            "       arrears payments arrange --account A --kind plan|promise|settlement\n"
            "                       --terms JSON [--tenant T] [--by NAME]\n"
            "       arrears payments arrange --file F [--tenant T] [--by NAME]\n"
            "           F: one {\"account_id\", \"kind\", \"terms\"} per line, in one transaction\n"
            "       arrears payments verify [--tenant T]\n"
            "The tenant defaults to $ARR_TENANT, else \"default\".\n");
}

static const char *tenant_of(cli_ctx *c, int argc, char **argv)
{
    const char *dflt = "default";
    char why[128];
    arr_config_str(c->cfg, "ARR_TENANT", "default", &dflt, why, sizeof(why));
    return cli_arg(argc, argv, "--tenant", dflt);
}

static arr_err read_file(const char *path, char **data, size_t *len, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return arr_errbuf_fail(ARR_EIO, why, whylen, "%s: cannot open", path);
    arr_buf b;
    arr_buf_init(&b, FILE_MAX);
    char chunk[65536];
    size_t n;
    arr_err e = ARR_OK;
    while (!e && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        e = arr_buf_append(&b, chunk, n);
    if (!e && ferror(f))
        e = ARR_EIO;
    fclose(f);
    if (e) {
        arr_buf_free(&b);
        return arr_errbuf_fail(e, why, whylen, "%s: %s", path,
                               e == ARR_ELIMIT ? "larger than 512 MiB" : "read error");
    }
    *len = b.len;
    *data = arr_buf_steal(&b);
    if (!*data)
        *data = calloc(1, 1);
    return ARR_OK;
}

static arr_err parse(const char *format, const char *data, size_t len, recon_entries *l, char *what,
                     size_t whatlen, char *why, size_t whylen)
{
    arr_err e;
    if (strcmp(format, "camt053") == 0 || strcmp(format, "camt054") == 0) {
        recon_camt_summary s;
        e = recon_camt_parse(data, len, l, &s, why, whylen);
        if (!e && strcmp(s.kind, format) != 0)
            return arr_errbuf_fail(ARR_EINVAL, why, whylen, "the file is a %s, not a %s", s.kind,
                                   format);
        if (!e)
            snprintf(what, whatlen,
                     "%d statement(s), %d entries, credits %lld, debits %lld %s; %d total(s) and "
                     "%d balance(s) checked",
                     s.statements, s.entries, (long long)s.credit_cents, (long long)s.debit_cents,
                     s.currency, s.summary_checks, s.balance_checks);
        return e;
    }
    if (strcmp(format, "bai2") == 0) {
        recon_bai2_summary s;
        e = recon_bai2_parse(data, len, l, &s, why, whylen);
        if (!e)
            snprintf(what, whatlen,
                     "%lld group(s), %lld account(s), %lld details, credits %lld, debits %lld; "
                     "control totals verified",
                     (long long)s.groups, (long long)s.accounts, (long long)s.details,
                     (long long)s.credit_cents, (long long)s.debit_cents);
        return e;
    }
    if (strcmp(format, "nacha") == 0) {
        recon_nacha_summary s;
        e = recon_nacha_parse(data, len, l, &s, why, whylen);
        if (!e)
            snprintf(what, whatlen,
                     "%d batch(es), %d entries, %d addenda, debits %lld, credits %lld; control "
                     "totals and entry hashes verified",
                     s.batches, s.entries, s.addenda, (long long)s.debit_cents,
                     (long long)s.credit_cents);
        return e;
    }
    if (strcmp(format, "json") == 0) {
        e = recon_jsonl_parse(data, len, l, why, whylen);
        if (!e)
            snprintf(what, whatlen, "%zu line(s)", l->n);
        return e;
    }
    return arr_errbuf_fail(ARR_EINVAL, why, whylen,
                           "--format must be camt053, camt054, bai2, nacha or json");
}

/* How many of the file's payment ids the service has recorded, by status. */
typedef struct outcome {
    long recorded, applied, unmatched, reversed_returns, pending, other;
} outcome;

static arr_err outcomes(arr_pg *pg, const char *tenant, const recon_entries *l, outcome *o,
                        char *why, size_t whylen)
{
    memset(o, 0, sizeof(*o));
    arr_buf arr;
    arr_buf_init(&arr, (size_t)1 << 30);
    arr_err e = arr_pg_array_open(&arr);
    for (size_t i = 0; !e && i < l->n; i++)
        e = arr_pg_array_add(&arr, l->v[i].payment_id);
    if (!e)
        e = arr_pg_array_close(&arr);
    PGresult *res = NULL;
    const char *params[] = {tenant, arr.data};
    if (!e)
        e = arr_pg_run(pg, "pay_outcomes", 2, params, &res, why, whylen);
    for (int i = 0; !e && i < PQntuples(res); i++) {
        const char *kind = PQgetvalue(res, i, 0), *status = PQgetvalue(res, i, 1);
        long n = strtol(PQgetvalue(res, i, 2), NULL, 10);
        o->recorded += n;
        if (strcmp(kind, "payment") == 0 &&
            (strcmp(status, "applied") == 0 || strcmp(status, "resolved") == 0))
            o->applied += n;
        else if (strcmp(status, "unmatched") == 0)
            o->unmatched += n;
        else if (strcmp(kind, "return") == 0 && strcmp(status, "applied") == 0)
            o->reversed_returns += n;
        else if (strcmp(status, "pending_original") == 0)
            o->pending += n;
        else
            o->other += n;
    }
    PQclear(res);
    arr_buf_free(&arr);
    return e;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* How many different payment ids the list holds (a file may repeat a payment). */
static size_t distinct_ids(const recon_entries *l)
{
    if (l->n == 0)
        return 0;
    const char **ids = malloc(l->n * sizeof(*ids));
    if (!ids)
        return l->n;
    for (size_t i = 0; i < l->n; i++)
        ids[i] = l->v[i].payment_id;
    qsort(ids, l->n, sizeof(*ids), cmp_id);
    size_t n = 1;
    for (size_t i = 1; i < l->n; i++)
        n += strcmp(ids[i], ids[i - 1]) != 0;
    free(ids);
    return n;
}

static int connect_pg(cli_ctx *c, arr_pg **pg)
{
    char why[512];
    if (arr_pg_connect(c->pg_conninfo, pg, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears payments: PostgreSQL: %s\n", why);
        return 0;
    }
    return 1;
}

static int cmd_import(cli_ctx *c, int argc, char **argv)
{
    const char *path = argc >= 2 && argv[1][0] != '-' ? argv[1] : NULL;
    const char *format = cli_arg(argc, argv, "--format", NULL);
    const char *tenant = tenant_of(c, argc, argv);
    long wait_s = strtol(cli_arg(argc, argv, "--wait", "0"), NULL, 10);
    if (!path || !format || !arr_tenant_valid(tenant) || wait_s < 0) {
        usage(stderr);
        return 2;
    }
    char why[1024], what[512] = "", topic[192];
    char *data = NULL;
    size_t len = 0;
    recon_entries l;
    recon_entries_init(&l, 0);
    arr_err e = read_file(path, &data, &len, why, sizeof(why));
    if (!e)
        e = parse(format, data, len, &l, what, sizeof(what), why, sizeof(why));
    free(data);
    if (e) {
        fprintf(stderr, "arrears payments import: %s refused: %s\n", path, why);
        recon_entries_free(&l);
        return 1;
    }
    long kinds[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < l.n; i++)
        kinds[l.v[i].kind]++;
    printf("import: %s (%s): %s\n", path, format, what);
    size_t distinct = distinct_ids(&l);
    printf("import: %zu record(s): %ld payment(s), %ld return(s), %ld notice(s), %ld "
           "skipped; %zu distinct id(s), %zu repeated in the file\n",
           l.n, kinds[RECON_PAYMENT], kinds[RECON_RETURN], kinds[RECON_NOTICE],
           kinds[RECON_SKIPPED], distinct, l.n - distinct);
    arr_pg *pg = NULL;
    outcome before = {0};
    if (wait_s > 0) {
        if (!connect_pg(c, &pg)) {
            recon_entries_free(&l);
            return 1;
        }
        e = arr_pg_prepare(pg, "pay_outcomes",
                           "SELECT kind, status, count(*) FROM reconciliation.payments"
                           " WHERE tenant = $1 AND payment_id = ANY($2::text[])"
                           " GROUP BY kind, status",
                           2, why, sizeof(why));
        if (!e)
            e = outcomes(pg, tenant, &l, &before, why, sizeof(why));
    }
    arr_kafka_producer *p = NULL;
    if (!e)
        e = arr_kafka_producer_new(c->brokers, "arrears-cli-payments", NULL, &p, why, sizeof(why));
    cli_topic(c, RECON_TOPIC_INBOUND, topic, sizeof(topic));
    arr_clock clock;
    arr_clock_init_real(&clock);
    int tty = isatty(2);
    for (size_t from = 0; !e && from < l.n; from += PUBLISH_CHUNK) {
        size_t to = from + PUBLISH_CHUNK < l.n ? from + PUBLISH_CHUNK : l.n;
        e = recon_inbound_publish(p, topic, tenant, &l, from, to, arr_clock_now_ms(&clock),
                                  "reconciliation", "arrears-cli", why, sizeof(why));
        if (!e && l.n > PUBLISH_CHUNK && tty) {
            fprintf(stderr, "\rimport: published %zu/%zu", to, l.n);
            fflush(stderr);
        }
    }
    if (l.n > PUBLISH_CHUNK && tty)
        fprintf(stderr, "\n");
    arr_kafka_producer_free(p);
    if (e) {
        fprintf(stderr, "arrears payments import: %s\n", why);
        arr_pg_free(pg);
        recon_entries_free(&l);
        return 1;
    }
    printf("import: %zu record(s) published to %s (%ld already recorded before)\n", l.n, topic,
           before.recorded);
    int rc = 0;
    if (wait_s > 0) {
        outcome o = {0};
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            e = outcomes(pg, tenant, &l, &o, why, sizeof(why));
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (e || (size_t)o.recorded == distinct || t.tv_sec - t0.tv_sec >= wait_s)
                break;
            if (tty)
                fprintf(stderr, "\rimport: %ld/%zu recorded by reconciliation", o.recorded,
                        distinct);
            usleep(200000);
        }
        if (tty)
            fprintf(stderr, "\n");
        if (e) {
            fprintf(stderr, "arrears payments import: %s\n", why);
            rc = 1;
        } else {
            printf("import: recorded %ld/%zu: applied %ld, unmatched %ld (see arrears payments "
                   "exceptions), returns applied %ld, returns waiting for their payment %ld, "
                   "recorded only %ld\n",
                   o.recorded, distinct, o.applied, o.unmatched, o.reversed_returns, o.pending,
                   o.other);
            if ((size_t)o.recorded != distinct) {
                fprintf(stderr, "arrears payments import: only %ld of %zu recorded after %ld s\n",
                        o.recorded, distinct, wait_s);
                rc = 1;
            }
        }
    }
    arr_pg_free(pg);
    recon_entries_free(&l);
    return rc;
}

static int cmd_exceptions(cli_ctx *c, int argc, char **argv)
{
    const char *tenant = tenant_of(c, argc, argv);
    int as_json = 0;
    for (int i = 1; i < argc; i++)
        as_json |= strcmp(argv[i], "--json") == 0;
    arr_pg *pg;
    if (!connect_pg(c, &pg))
        return 1;
    char why[512];
    const char *params[] = {tenant};
    PGresult *res = NULL;
    arr_err e =
        arr_pg_prepare(pg, "exc_list",
                       "SELECT e.payment_id, p.amount_cents, p.currency, p.source,"
                       " e.reason, e.detail, array_to_string(e.candidates, ' '),"
                       " to_char(e.opened_at, 'YYYY-MM-DD'),"
                       " (now()::date - e.opened_at::date)"
                       " FROM reconciliation.exceptions e JOIN reconciliation.payments p"
                       " USING (tenant, payment_id) WHERE e.tenant = $1 AND e.status = 'open'"
                       " ORDER BY e.opened_at, e.payment_id",
                       1, why, sizeof(why));
    if (!e)
        e = arr_pg_run(pg, "exc_list", 1, params, &res, why, sizeof(why));
    if (e) {
        fprintf(stderr, "arrears payments exceptions: %s\n", why);
        arr_pg_free(pg);
        return 1;
    }
    json_t *list = json_array();
    if (!as_json)
        printf("%-40s %12s %-4s %-9s %-26s %-10s %s\n", "payment", "amount", "ccy", "source",
               "reason", "opened", "candidates");
    for (int i = 0; i < PQntuples(res); i++) {
        if (as_json)
            json_array_append_new(
                list, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "payment_id",
                                PQgetvalue(res, i, 0), "amount_cents",
                                (json_int_t)strtoll(PQgetvalue(res, i, 1), NULL, 10), "currency",
                                PQgetvalue(res, i, 2), "source", PQgetvalue(res, i, 3), "reason",
                                PQgetvalue(res, i, 4), "detail", PQgetvalue(res, i, 5),
                                "candidates", PQgetvalue(res, i, 6), "opened",
                                PQgetvalue(res, i, 7), "age_days", atoi(PQgetvalue(res, i, 8))));
        else
            printf("%-40s %12s %-4s %-9s %-26s %-10s %s\n    %s\n", PQgetvalue(res, i, 0),
                   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
                   PQgetvalue(res, i, 4), PQgetvalue(res, i, 7), PQgetvalue(res, i, 6),
                   PQgetvalue(res, i, 5));
    }
    if (as_json) {
        char *s = json_dumps(list, JSON_INDENT(2));
        printf("%s\n", s ? s : "[]");
        free(s);
    } else {
        printf("%d open exception(s) for %s\n", PQntuples(res), tenant);
    }
    json_decref(list);
    PQclear(res);
    arr_pg_free(pg);
    return 0;
}

/* The CLI's hooks for recon_book: events into reconciliation.outbox, in the namespace. */
typedef struct cli_book {
    cli_ctx *c;
    arr_pg *pg;
    arr_clock clock;
} cli_book;

static arr_err cli_emit(void *ctx, const char *topic, const arr_envelope *env)
{
    cli_book *cb = ctx;
    char name[192], *value = NULL, key[ARR_KEY_MAX], why[256];
    size_t len;
    arr_err e = arr_envelope_to_message(env, &value, &len, key, why, sizeof(why));
    if (!e)
        e = arr_outbox_add(cb->pg, "reconciliation", cli_topic(cb->c, topic, name, sizeof(name)),
                           key, value, why, sizeof(why));
    free(value);
    return e;
}

static arr_err cli_derive(void *ctx, arr_envelope *out, const arr_envelope *cause, const char *type,
                          const char *name, json_t *payload)
{
    cli_book *cb = ctx;
    return arr_envelope_derive(out, cause, type, 1, name, payload, "reconciliation", ARR_VERSION,
                               "arrears-cli", arr_clock_now_ms(&cb->clock));
}

/* One command in one transaction, with the book's own statements. */
static int with_book(cli_ctx *c, const char *what, const arr_envelope *cause,
                     arr_err (*run)(recon_book *b, const arr_envelope *cause, void *arg, char *why,
                                    size_t whylen),
                     void *arg)
{
    cli_book cb = {.c = c};
    arr_clock_init_real(&cb.clock);
    if (!connect_pg(c, &cb.pg))
        return 1;
    char why[1024] = "";
    recon_book b;
    recon_book_hooks hooks = {.emit = cli_emit, .derive = cli_derive, .ctx = &cb};
    const char *deploy = ARR_SOURCE_DIR "/deploy";
    arr_config_str(c->cfg, "ARR_DEPLOY_DIR", deploy, &deploy, why, sizeof(why));
    arr_err e = recon_book_init(&b, cb.pg, &hooks, deploy, why, sizeof(why));
    if (!e)
        e = arr_outbox_prepare(cb.pg, "reconciliation", why, sizeof(why));
    if (!e)
        e = arr_pg_begin(cb.pg, why, sizeof(why));
    if (!e) {
        e = run(&b, cause, arg, why, sizeof(why));
        if (!e)
            e = arr_pg_commit(cb.pg, why, sizeof(why));
        else
            arr_pg_rollback(cb.pg);
    }
    recon_book_free(&b);
    arr_pg_free(cb.pg);
    if (e) {
        fprintf(stderr, "arrears payments %s: %s\n", what, why[0] ? why : arr_strerror(e));
        return 1;
    }
    return 0;
}

typedef struct resolve_arg {
    const char *payment, *account, *who;
} resolve_arg;

static arr_err run_resolve(recon_book *b, const arr_envelope *cause, void *arg, char *why,
                           size_t whylen)
{
    resolve_arg *r = arg;
    return recon_book_resolve(b, cause, r->payment, r->account, r->who, why, whylen);
}

static int cmd_resolve(cli_ctx *c, int argc, char **argv)
{
    const char *tenant = tenant_of(c, argc, argv);
    resolve_arg r = {.payment = argc >= 2 && argv[1][0] != '-' ? argv[1] : NULL,
                     .account = cli_arg(argc, argv, "--account", NULL),
                     .who = cli_arg(argc, argv, "--by", getenv("USER") ? getenv("USER") : "cli")};
    if (!r.payment || !r.account || !arr_account_valid(r.account) || !arr_tenant_valid(tenant)) {
        usage(stderr);
        return 2;
    }
    arr_clock clock;
    arr_clock_init_real(&clock);
    arr_envelope cause;
    char name[300];
    snprintf(name, sizeof(name), "payments.resolve/%s/%s", r.payment, r.account);
    cli_envelope(&cause, tenant, r.account, "payment.resolved", name, arr_clock_now_ms(&clock),
                 "reconciliation");
    int rc = with_book(c, "resolve", &cause, run_resolve, &r);
    arr_envelope_clear(&cause);
    if (!rc)
        printf("resolve: payment %s applied to %s/%s by %s\n", r.payment, tenant, r.account, r.who);
    return rc;
}

typedef struct arrange_arg {
    const char *kind, *who;
    json_t *terms;
} arrange_arg;

static arr_err run_arrange(recon_book *b, const arr_envelope *cause, void *arg, char *why,
                           size_t whylen)
{
    arrange_arg *a = arg;
    return recon_book_arrange(b, cause, a->kind, a->terms, a->who, why, whylen);
}

/* --file: one arrangement per line {"account_id","kind","terms"}, all in one transaction. */
typedef struct arrange_file {
    const char *path, *who, *tenant;
    long made, lines;
} arrange_file;

static arr_err run_arrange_file(recon_book *b, const arr_envelope *cause, void *arg, char *why,
                                size_t whylen)
{
    arrange_file *af = arg;
    FILE *f = fopen(af->path, "r");
    if (!f)
        return arr_errbuf_fail(ARR_EIO, why, whylen, "%s: cannot open", af->path);
    char line[65536];
    arr_err e = ARR_OK;
    while (!e && fgets(line, sizeof(line), f)) {
        af->lines++;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        const char *account = json_string_value(json_object_get(o, "account_id"));
        const char *kind = json_string_value(json_object_get(o, "kind"));
        json_t *terms = json_object_get(o, "terms");
        if (!o || !account || !arr_account_valid(account) || !kind || !json_is_object(terms)) {
            e = arr_errbuf_fail(ARR_EINVAL, why, whylen,
                                "%s line %ld: must be {\"account_id\", \"kind\", \"terms\"}",
                                af->path, af->lines);
        } else {
            arr_envelope c = *cause;
            snprintf(c.account, sizeof(c.account), "%s", account);
            char inner[600];
            e = recon_book_arrange(b, &c, kind, terms, af->who, inner, sizeof(inner));
            if (e)
                arr_errbuf_set(why, whylen, "%s line %ld: %s", af->path, af->lines, inner);
            else
                af->made++;
        }
        json_decref(o);
    }
    fclose(f);
    return e;
}

static int cmd_arrange(cli_ctx *c, int argc, char **argv)
{
    const char *file = cli_arg(argc, argv, "--file", NULL);
    if (file) {
        arrange_file af = {.path = file,
                           .who = cli_arg(argc, argv, "--by", "cli"),
                           .tenant = tenant_of(c, argc, argv)};
        if (!arr_tenant_valid(af.tenant)) {
            usage(stderr);
            return 2;
        }
        arr_clock clock;
        arr_clock_init_real(&clock);
        arr_envelope cause;
        char name[600];
        snprintf(name, sizeof(name), "payments.arrange-file/%s", file);
        cli_envelope(&cause, af.tenant, "arrangements", "arrangement.made", name,
                     arr_clock_now_ms(&clock), "reconciliation");
        int rc = with_book(c, "arrange", &cause, run_arrange_file, &af);
        arr_envelope_clear(&cause);
        if (!rc)
            printf("arrange: %ld arrangement(s) from %s for %s\n", af.made, file, af.tenant);
        return rc;
    }
    const char *tenant = tenant_of(c, argc, argv);
    const char *account = cli_arg(argc, argv, "--account", NULL);
    const char *text = cli_arg(argc, argv, "--terms", NULL);
    arrange_arg a = {.kind = cli_arg(argc, argv, "--kind", NULL),
                     .who = cli_arg(argc, argv, "--by", "cli")};
    json_error_t jerr;
    a.terms = text ? json_loads(text, 0, &jerr) : NULL;
    if (!account || !arr_account_valid(account) || !a.kind || !a.terms ||
        !arr_tenant_valid(tenant)) {
        if (text && !a.terms)
            fprintf(stderr, "arrears payments arrange: --terms: %s\n", jerr.text);
        usage(stderr);
        json_decref(a.terms);
        return 2;
    }
    arr_clock clock;
    arr_clock_init_real(&clock);
    arr_envelope cause;
    char name[300];
    const char *id = json_string_value(json_object_get(a.terms, "id"));
    snprintf(name, sizeof(name), "payments.arrange/%s/%s", account, id ? id : "");
    cli_envelope(&cause, tenant, account, "arrangement.made", name, arr_clock_now_ms(&clock),
                 "reconciliation");
    int rc = with_book(c, "arrange", &cause, run_arrange, &a);
    arr_envelope_clear(&cause);
    if (!rc)
        printf("arrange: %s %s recorded for %s/%s\n", a.kind, id ? id : "", tenant, account);
    json_decref(a.terms);
    return rc;
}

/* Each check is a query that counts what breaks an invariant: 0 is the only good answer. */
static const struct {
    const char *name, *sql;
} checks[] = {
    {"ledger identity: balance = placed + adjusted - applied + reversed - waived",
     "SELECT count(*) FROM reconciliation.ledger WHERE ($1 = '' OR tenant = $1) AND"
     " balance_cents <> placed_cents + adjusted_cents - applied_cents + reversed_cents"
     " - waived_cents"},
    {"applied = sum of the account's applied payments",
     "SELECT count(*) FROM reconciliation.ledger l LEFT JOIN (SELECT tenant, account_id,"
     " sum(amount_cents) AS s FROM reconciliation.payments WHERE ($1 = '' OR tenant = $1) AND"
     " kind = 'payment' AND status IN ('applied', 'resolved') GROUP BY 1, 2) p"
     " USING (tenant, account_id)"
     " WHERE ($1 = '' OR l.tenant = $1) AND l.applied_cents <> COALESCE(p.s, 0)"},
    {"reversed = sum of what returns undid on the account",
     "SELECT count(*) FROM reconciliation.ledger l LEFT JOIN (SELECT tenant, account_id,"
     " sum(reversed_cents) AS s FROM reconciliation.payments WHERE ($1 = '' OR tenant = $1) AND"
     " kind = 'payment' AND status IN ('applied', 'resolved') GROUP BY 1, 2) p"
     " USING (tenant, account_id)"
     " WHERE ($1 = '' OR l.tenant = $1) AND l.reversed_cents <> COALESCE(p.s, 0)"},
    {"every applied payment: allocated + unapplied = amount, allocated once",
     "SELECT count(*) FROM reconciliation.payments p LEFT JOIN (SELECT tenant, payment_id,"
     " sum(cents) AS s FROM reconciliation.allocations WHERE ($1 = '' OR tenant = $1) AND"
     " cents > 0 GROUP BY 1, 2) a"
     " USING (tenant, payment_id) WHERE ($1 = '' OR p.tenant = $1) AND p.kind = 'payment'"
     " AND p.status IN ('applied', 'resolved') AND (p.allocated_cents + p.unapplied_cents"
     " <> p.amount_cents OR COALESCE(a.s, 0) <> p.amount_cents)"},
    {"every payment: what is still allocated = amount - reversed",
     "SELECT count(*) FROM reconciliation.payments p JOIN (SELECT tenant, payment_id,"
     " sum(cents) AS s FROM reconciliation.allocations WHERE ($1 = '' OR tenant = $1)"
     " GROUP BY 1, 2) a"
     " USING (tenant, payment_id) WHERE ($1 = '' OR p.tenant = $1)"
     " AND a.s <> p.amount_cents - p.reversed_cents"},
    {"applied returns: each undid its own payment on the same account",
     "SELECT count(*) FROM reconciliation.payments r LEFT JOIN reconciliation.payments o"
     " ON o.tenant = r.tenant AND o.payment_id = r.returned_payment_id"
     " WHERE ($1 = '' OR r.tenant = $1) AND r.kind = 'return' AND r.status = 'applied'"
     " AND (o.payment_id IS NULL OR o.account_id IS DISTINCT FROM r.account_id)"},
    {"unmatched payments each have an exception",
     "SELECT count(*) FROM reconciliation.payments p LEFT JOIN reconciliation.exceptions e"
     " USING (tenant, payment_id) WHERE ($1 = '' OR p.tenant = $1) AND p.status = 'unmatched'"
     " AND e.payment_id IS NULL"},
};

static int cmd_verify(cli_ctx *c, int argc, char **argv)
{
    const char *tenant = cli_arg(argc, argv, "--tenant", "");
    arr_pg *pg;
    if (!connect_pg(c, &pg))
        return 1;
    char why[512];
    int bad = 0;
    /* Whole-table audits: hash joins always win, and fresh rows must not fool the planner
     * into nested loops over millions of them. */
    if (arr_pg_exec(pg, "SET enable_nestloop = off", why, sizeof(why)) != ARR_OK)
        fprintf(stderr, "arrears payments verify: %s\n", why);
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "verify_%zu", i);
        const char *params[] = {tenant};
        PGresult *res = NULL;
        arr_err e = arr_pg_prepare(pg, name, checks[i].sql, 1, why, sizeof(why));
        if (!e)
            e = arr_pg_run(pg, name, 1, params, &res, why, sizeof(why));
        if (e) {
            fprintf(stderr, "arrears payments verify: %s\n", why);
            arr_pg_free(pg);
            return 1;
        }
        long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        printf("%-4s %s%s\n", n ? "FAIL" : "ok", checks[i].name, "");
        if (n) {
            printf("     %ld violation(s)\n", n);
            bad = 1;
        }
    }
    PGresult *res = NULL;
    const char *params[] = {tenant};
    if (arr_pg_prepare(
            pg, "verify_totals",
            "SELECT count(*), COALESCE(sum(placed_cents), 0), COALESCE(sum(applied_cents),"
            " 0), COALESCE(sum(reversed_cents), 0), COALESCE(sum(balance_cents), 0)"
            " FROM reconciliation.ledger WHERE $1 = '' OR tenant = $1",
            1, why, sizeof(why)) == ARR_OK &&
        arr_pg_run(pg, "verify_totals", 1, params, &res, why, sizeof(why)) == ARR_OK)
        printf("accounts %s: placed %s, applied %s, reversed %s, balance %s (cents)\n",
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
               PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
    PQclear(res);
    arr_pg_free(pg);
    printf("verify: %s\n", bad ? "invariants broken" : "every invariant holds");
    return bad;
}

int cli_payments(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || (argc == 1 && cli_wants_help(argc, argv))) {
        usage(argc ? stdout : stderr);
        return argc ? 0 : 2;
    }
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[0], "import") == 0)
        return cmd_import(c, argc, argv);
    if (strcmp(argv[0], "exceptions") == 0)
        return cmd_exceptions(c, argc, argv);
    if (strcmp(argv[0], "resolve") == 0)
        return cmd_resolve(c, argc, argv);
    if (strcmp(argv[0], "arrange") == 0)
        return cmd_arrange(c, argc, argv);
    if (strcmp(argv[0], "verify") == 0)
        return cmd_verify(c, argc, argv);
    usage(stderr);
    return 2;
}
