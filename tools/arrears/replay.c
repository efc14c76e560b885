/* arrears replay: re-runs one service's decisions for a tenant on the inputs it consumed, and
 * proves they come out the same (see replay.h). Exit codes: 0 every compared decision was
 * reproduced exactly, 4 some differ (each reported with its first differing field and likely
 * cause), 1 the replay could not run, 2 usage. */
#include "replay.h"
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"

static void usage(FILE *to)
{
    fprintf(to,
            "usage: arrears replay --service scoring|outreach|reconciliation --tenant T\n"
            "                      [--from TIME] [--to TIME] [--accounts FILE] [--shadow FILE]\n"
            "                      [--namespace NS] [--show N] [--json]\n"
            "  Reads the service's recorded inputs from the audit store (audit.events) in the\n"
            "  order its inbox claimed them, runs its decision code on them into a shadow\n"
            "  (--shadow FILE: the replayed decisions as JSON lines; nothing live is written,\n"
            "  the connection is read-only) and compares with the decisions recorded then.\n"
            "  TIME: YYYY-MM-DD or RFC 3339; decisions whose event time is in [from, to) are\n"
            "  compared (state is always rebuilt from the account's first event). --accounts:\n"
            "  one account id per line. --namespace: the topic namespace (default\n"
            "  $ARR_TOPIC_PREFIX, '' in production). Configuration as the service's\n"
            "  (ARR_SCORING_MODEL, ARR_SCORING_STRATEGY, ARR_SCORING_EXPERIMENTS, ...):\n"
            "  point them at other versions to see what would change.\n"
            "  Exit: 0 all reproduced, 4 differences, 1 failure, 2 usage.\n");
}

int cli_replay_wanted(const cli_replay_opts *o, const char *account, int64_t at_ms)
{
    if (at_ms < o->from_ms || at_ms >= o->to_ms)
        return 0;
    if (!o->accounts)
        return 1;
    size_t lo = 0, hi = o->n_accounts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(o->accounts[mid], account);
        if (!c)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

void cli_replay_differ(cli_replay_result *r, const char *account, const char *decision,
                       const char *field, const char *recorded, const char *replayed,
                       const char *cause)
{
    r->differed++;
    int k = 0;
    while (k < r->n_causes && strcmp(r->causes[k].cause, cause) != 0)
        k++;
    if (k == r->n_causes && k < CLI_REPLAY_CAUSES_MAX) {
        snprintf(r->causes[k].cause, sizeof(r->causes[k].cause), "%s", cause);
        r->n_causes++;
    }
    if (k < r->n_causes)
        r->causes[k].n++;
    if (r->n_diffs == CLI_REPLAY_SHOW_MAX)
        return;
    cli_replay_diff *d = &r->diffs[r->n_diffs++];
    snprintf(d->account, sizeof(d->account), "%s", account);
    snprintf(d->decision, sizeof(d->decision), "%s", decision);
    snprintf(d->field, sizeof(d->field), "%s", field);
    snprintf(d->recorded, sizeof(d->recorded), "%s", recorded);
    snprintf(d->replayed, sizeof(d->replayed), "%s", replayed);
    snprintf(d->cause, sizeof(d->cause), "%s", cause);
}

static void compact(json_t *v, char *out, size_t outlen)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(out, outlen, "%s", s ? s : "(absent)");
    free(s);
}

int cli_replay_first_diff(json_t *recorded, json_t *replayed, char *field, size_t fieldlen,
                          char *rec, size_t reclen, char *rep, size_t replen)
{
    json_t *sides[2] = {replayed, recorded};
    for (int s = 0; s < 2; s++) {
        const char *key;
        json_t *v;
        json_object_foreach(sides[s], key, v)
        {
            json_t *a = json_object_get(recorded, key), *b = json_object_get(replayed, key);
            if (a && b && json_equal(a, b))
                continue;
            snprintf(field, fieldlen, "%s", key);
            compact(a, rec, reclen);
            compact(b, rep, replen);
            return 1;
        }
    }
    return 0;
}

arr_err cli_replay_begin(arr_pg *pg, char *why, size_t whylen)
{
    return arr_pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", why, whylen);
}

arr_err cli_replay_declare(arr_pg *pg, const char *sql, int n, const char *const *params, char *why,
                           size_t whylen)
{
    PGresult *res = PQexecParams(arr_pg_conn(pg), sql, n, NULL, params, NULL, NULL, 0);
    arr_err e = ARR_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        e = arr_errbuf_fail(ARR_EPG, why, whylen, "replay query: %s",
                            PQerrorMessage(arr_pg_conn(pg)));
    PQclear(res);
    return e;
}

arr_err cli_replay_fetch(arr_pg *pg, const char *fetch, PGresult **out, char *why, size_t whylen)
{
    *out = PQexec(arr_pg_conn(pg), fetch);
    if (PQresultStatus(*out) == PGRES_TUPLES_OK)
        return ARR_OK;
    arr_err e =
        arr_errbuf_fail(ARR_EPG, why, whylen, "replay fetch: %s", PQerrorMessage(arr_pg_conn(pg)));
    PQclear(*out);
    *out = NULL;
    return e;
}

/* ---- a string-keyed open-addressing table --------------------------------------------- */

static uint64_t table_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static arr_err table_grow(cli_replay_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    cli_replay_slot *s = calloc(cap, sizeof(*s));
    if (!s)
        return ARR_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].key)
            continue;
        size_t k = table_hash(t->slots[i].key) & (cap - 1);
        while (s[k].key)
            k = (k + 1) & (cap - 1);
        s[k] = t->slots[i];
    }
    free(t->slots);
    t->slots = s;
    t->cap = cap;
    return ARR_OK;
}

void *cli_replay_table_get(const cli_replay_table *t, const char *key)
{
    if (!t->cap)
        return NULL;
    size_t k = table_hash(key) & (t->cap - 1);
    while (t->slots[k].key && strcmp(t->slots[k].key, key) != 0)
        k = (k + 1) & (t->cap - 1);
    return t->slots[k].key ? t->slots[k].val : NULL;
}

arr_err cli_replay_table_add(cli_replay_table *t, const char *key, size_t size, void **out,
                             int *added)
{
    if ((t->n + 1) * 2 > t->cap && table_grow(t) != ARR_OK)
        return ARR_ENOMEM;
    size_t k = table_hash(key) & (t->cap - 1);
    while (t->slots[k].key && strcmp(t->slots[k].key, key) != 0)
        k = (k + 1) & (t->cap - 1);
    if (added)
        *added = !t->slots[k].key;
    if (!t->slots[k].key) {
        void *v = calloc(1, size);
        char *kk = strdup(key);
        if (!v || !kk) {
            free(v);
            free(kk);
            return ARR_ENOMEM;
        }
        t->slots[k].key = kk;
        t->slots[k].val = v;
        t->n++;
    }
    *out = t->slots[k].val;
    return ARR_OK;
}

void cli_replay_table_free(cli_replay_table *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slots[i].key);
        free(t->slots[i].val);
    }
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One account id per line (blank lines and surrounding spaces ignored), sorted. */
static arr_err read_accounts(const char *path, cli_replay_opts *o, char *why, size_t whylen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whylen, "%s: cannot open", path);
        return ARR_EIO;
    }
    char line[256];
    size_t cap = 0;
    arr_err e = ARR_OK;
    while (!e && fgets(line, sizeof(line), f)) {
        char *s = line, *end;
        while (*s == ' ' || *s == '\t')
            s++;
        end = s + strcspn(s, " \t\r\n");
        *end = '\0';
        if (!*s)
            continue;
        if (o->n_accounts == cap) {
            cap = cap ? cap * 2 : 256;
            char **grown = realloc(o->accounts, cap * sizeof(char *));
            if (!grown) {
                e = ARR_ENOMEM;
                break;
            }
            o->accounts = grown;
        }
        if (!(o->accounts[o->n_accounts] = strdup(s)))
            e = ARR_ENOMEM;
        else
            o->n_accounts++;
    }
    fclose(f);
    if (!e && !o->n_accounts) {
        snprintf(why, whylen, "%s: no account ids", path);
        e = ARR_EINVAL;
    }
    if (!e)
        qsort(o->accounts, o->n_accounts, sizeof(char *), cmp_str);
    return e;
}

/* YYYY-MM-DD (midnight UTC) or RFC 3339. */
static arr_err parse_time(const char *s, int64_t *ms)
{
    int y, m, d;
    char rest;
    if (strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &rest) == 3 && m >= 1 &&
        m <= 12 && d >= 1 && d <= 31) {
        *ms = arr_days_from_civil(y, m, d) * 86400000LL;
        return ARR_OK;
    }
    return arr_time_parse(s, ms);
}

static void print_text(const char *service, const cli_replay_opts *o, const cli_replay_result *r,
                       int show)
{
    printf("replay of %s for tenant %s%s%s%s\n", service, o->tenant, o->ns[0] ? " (namespace " : "",
           o->ns, o->ns[0] ? ")" : "");
    printf("  inputs read                          %ld\n", r->inputs);
    printf("  decisions compared                   %ld\n", r->compared);
    printf("  reproduced exactly                   %ld", r->reproduced);
    if (r->compared)
        printf(" (%.2f%%)", 100.0 * (double)r->reproduced / (double)r->compared);
    printf("\n  different                            %ld\n", r->differed);
    printf("  decided by the replay, not recorded  %ld\n", r->unrecorded);
    printf("  recorded, input missing from audit   %ld\n", r->unexplained);
    for (int k = 0; k < r->n_causes; k++)
        printf("  cause: %s (%ld)\n", r->causes[k].cause, r->causes[k].n);
    for (int k = 0; k < r->n_diffs && k < show; k++) {
        const cli_replay_diff *d = &r->diffs[k];
        printf("  differs: account %s decision %s field %s: recorded %s, replayed %s (%s)\n",
               d->account, d->decision, d->field, d->recorded, d->replayed, d->cause);
    }
}

static void print_json(const char *service, const cli_replay_opts *o, const cli_replay_result *r)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "service", service, "tenant", o->tenant,
        "namespace", o->ns, "inputs", (json_int_t)r->inputs, "compared", (json_int_t)r->compared,
        "reproduced", (json_int_t)r->reproduced, "differed", (json_int_t)r->differed, "unrecorded",
        (json_int_t)r->unrecorded, "unexplained", (json_int_t)r->unexplained);
    json_t *causes = json_object(), *diffs = json_array();
    for (int k = 0; k < r->n_causes; k++)
        json_object_set_new(causes, r->causes[k].cause, json_integer(r->causes[k].n));
    for (int k = 0; k < r->n_diffs; k++) {
        const cli_replay_diff *d = &r->diffs[k];
        json_array_append_new(diffs,
                              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "account", d->account,
                                        "decision", d->decision, "field", d->field, "recorded",
                                        d->recorded, "replayed", d->replayed, "cause", d->cause));
    }
    json_object_set_new(j, "causes", causes);
    json_object_set_new(j, "differences", diffs);
    char *s = json_dumps(j, JSON_INDENT(2));
    printf("%s\n", s ? s : "{}");
    free(s);
    json_decref(j);
}

int cli_replay(cli_ctx *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *service = cli_arg(argc, argv, "--service", NULL);
    const char *prefix = getenv("ARR_TOPIC_PREFIX");
    cli_replay_opts o = {.tenant = cli_arg(argc, argv, "--tenant", NULL),
                         .ns = cli_arg(argc, argv, "--namespace", prefix ? prefix : ""),
                         .from_ms = INT64_MIN,
                         .to_ms = INT64_MAX,
                         .show = atoi(cli_arg(argc, argv, "--show", "10"))};
    const char *from = cli_arg(argc, argv, "--from", NULL), *to = cli_arg(argc, argv, "--to", NULL);
    const char *accounts = cli_arg(argc, argv, "--accounts", NULL);
    const char *shadow = cli_arg(argc, argv, "--shadow", NULL);
    int json = 0;
    for (int i = 0; i < argc; i++)
        json |= strcmp(argv[i], "--json") == 0;
    if (!service || !o.tenant || (from && parse_time(from, &o.from_ms)) ||
        (to && parse_time(to, &o.to_ms))) {
        usage(stderr);
        return 2;
    }
    arr_err (*run)(cli_ctx *, arr_pg *, const cli_replay_opts *, cli_replay_result *, char *,
                   size_t) = NULL;
    if (strcmp(service, "scoring") == 0)
        run = cli_replay_scoring;
    else if (strcmp(service, "reconciliation") == 0)
        run = cli_replay_reconciliation;
    else if (strcmp(service, "outreach") == 0)
        run = cli_replay_outreach;
    if (!run) {
        usage(stderr);
        return 2;
    }
    char why[512] = "";
    arr_err e = accounts ? read_accounts(accounts, &o, why, sizeof(why)) : ARR_OK;
    if (!e && shadow && !(o.shadow = fopen(shadow, "w"))) {
        snprintf(why, sizeof(why), "%s: cannot write", shadow);
        e = ARR_EIO;
    }
    arr_pg *pg = NULL;
    if (!e)
        e = arr_pg_connect(c->pg_conninfo, &pg, why, sizeof(why));
    /* Nothing live may change: every statement of this session is refused a write. */
    if (!e)
        e = arr_pg_exec(pg, "SET default_transaction_read_only = on", why, sizeof(why));
    cli_replay_result *r = e ? NULL : calloc(1, sizeof(*r));
    if (!e && !r)
        e = ARR_ENOMEM;
    if (!e)
        e = run(c, pg, &o, r, why, sizeof(why));
    if (o.shadow && fclose(o.shadow) != 0 && !e) {
        snprintf(why, sizeof(why), "%s: write failed", shadow);
        e = ARR_EIO;
    }
    int rc = 1;
    if (e) {
        fprintf(stderr, "arrears replay: %s\n", why[0] ? why : arr_strerror(e));
    } else {
        if (json)
            print_json(service, &o, r);
        else
            print_text(service, &o, r, o.show);
        rc = r->differed || r->unrecorded || r->unexplained ? 4 : 0;
    }
    free(r);
    arr_pg_free(pg);
    for (size_t i = 0; i < o.n_accounts; i++)
        free(o.accounts[i]);
    free(o.accounts);
    return rc;
}
