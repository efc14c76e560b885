#include "importer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/buf.h"
#include "arrears/clock.h"
#include "arrears/envelope.h"
#include "arrears/outbox.h"
#include "arrears/uuid.h"
#include "validate.h"

#define TOPIC_ACCOUNTS "arrears.accounts"
#define TOPIC(imp) ((imp)->o.topic ? (imp)->o.topic : TOPIC_ACCOUNTS)
#define COPY_MAX ((size_t)512 * 1024 * 1024)
#define REJECT_TEXT_MAX 4096

typedef enum pending_kind { P_NEW, P_CHANGED, P_UNCHANGED, P_DUPLICATE } pending_kind;

typedef struct pending {
    ingest_record rec;
    ingest_verdict verdict;
    long long line;
    json_t *payload; /* owned */
    char hash[65];
    char event_id[ARR_UUID_STRLEN];
    pending_kind kind;
    json_t *before; /* stored payload when it changed; owned */
    long long before_balance;
} pending;

typedef struct reject {
    long long line;
    char account_id[ARR_ACCOUNT_MAX + 1];
    ingest_issue issue;
    char *text; /* owned, capped */
} reject;

/* One batch of records: filled by the reading thread, then written by the writer. */
typedef struct batch {
    pending *pend;
    int n_pend;
    reject *rej;
    int n_rej;
    int *slots;          /* account-id hash set: index into pend, -1 empty */
    long long last_line; /* highest line in the batch */
    long long read;      /* records read into the batch */
} batch;

/* Two batches, so that reading and validating the next one overlaps writing this one: the
 * reading thread fills `fill`; the writer thread owns `work` (and the database connection,
 * the producer and Redis) while `busy` is set. */
struct ingest_import {
    ingest_import_opts o;
    char tenant[ARR_TENANT_MAX + 1], source[256], sha256[65], as_of[11];
    ingest_import_stats st; /* committed figures: written by the writer under mu */
    int64_t event_time_ms;
    batch work, fill;
    int batch_rows;
    size_t slots_n; /* a power of two, at least 2 * batch_rows */
    arr_buf copy;
    long long read_live;  /* records read so far, committed or not (reading thread) */
    long long resumed_at; /* copies of st's, fixed at the start, for the reading thread */
    int already_done;
    pthread_t writer;
    int writer_started, busy, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    arr_err failed; /* the writer's first error; the import stops at the next hand-off */
    char failed_why[512];
};

static int batch_alloc(batch *b, const ingest_import *imp);
static void *writer_main(void *arg);

static const char *const SQL_STAGE =
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage (line bigint, account_id text, event_id uuid,"
    " content_hash text, payload json, regime text, currency text, balance_cents bigint,"
    " original_balance_cents bigint, due_date date, service_type text, debtor_ref text)"
    " ON COMMIT DELETE ROWS";

static const struct {
    const char *name, *sql;
    int n;
} statements[] = {
    {"imp_open",
     "INSERT INTO ingest.imports (import_id, tenant, source, sha256, mode, as_of, event_time)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (import_id) DO NOTHING",
     7},
    {"imp_get",
     "SELECT status, lines_done, records_read, accepted, rejected, placed, updated, unchanged,"
     " closed, warnings, (extract(epoch from event_time) * 1000)::bigint"
     " FROM ingest.imports WHERE import_id = $1",
     1},
    {"imp_lock", "SELECT pg_advisory_xact_lock(hashtext('ingest.accounts/' || $1))", 1},
    {"imp_compare",
     "SELECT s.line, a.content_hash, a.payload::text, a.status,"
     " coalesce(a.last_import_id = $2 AND a.last_line < s.line, false), a.balance_cents"
     " FROM ingest_stage s LEFT JOIN ingest.accounts a"
     " ON a.tenant = $1 AND a.account_id = s.account_id ORDER BY s.line",
     2},
    {"imp_drop_dups", "DELETE FROM ingest_stage WHERE line = ANY($1::bigint[])", 1},
    {"imp_upsert",
     "INSERT INTO ingest.accounts AS a (tenant, account_id, regime, currency, balance_cents,"
     " original_balance_cents, due_date, service_type, debtor_ref, placed_event_id, placed_at,"
     " updated_at, payload, content_hash, status, last_import_id, last_line)"
     " SELECT $1, account_id, regime, currency, balance_cents, original_balance_cents, due_date,"
     " service_type, debtor_ref, event_id, $3, $3, payload, content_hash, 'open', $2, line"
     " FROM ingest_stage ON CONFLICT (tenant, account_id) DO UPDATE SET"
     " regime = EXCLUDED.regime, currency = EXCLUDED.currency,"
     " balance_cents = EXCLUDED.balance_cents,"
     " original_balance_cents = EXCLUDED.original_balance_cents, due_date = EXCLUDED.due_date,"
     " service_type = EXCLUDED.service_type, debtor_ref = EXCLUDED.debtor_ref,"
     " payload = EXCLUDED.payload, content_hash = EXCLUDED.content_hash, status = 'open',"
     " last_import_id = EXCLUDED.last_import_id, last_line = EXCLUDED.last_line,"
     " updated_at = CASE WHEN a.content_hash IS DISTINCT FROM EXCLUDED.content_hash"
     " OR a.status <> 'open' THEN EXCLUDED.updated_at ELSE a.updated_at END",
     3},
    {"imp_checkpoint",
     "UPDATE ingest.imports SET lines_done = $2, records_read = $3, accepted = $4,"
     " rejected = $5, placed = $6, updated = $7, unchanged = $8, closed = $9, warnings = $10"
     " WHERE import_id = $1",
     10},
    {"imp_close",
     "UPDATE ingest.accounts a SET status = 'closed', updated_at = $3 FROM ("
     "SELECT account_id FROM ingest.accounts WHERE tenant = $1 AND status = 'open'"
     " AND last_import_id IS DISTINCT FROM $2 ORDER BY account_id LIMIT 5000) c"
     " WHERE a.tenant = $1 AND a.account_id = c.account_id"
     " RETURNING a.account_id, a.balance_cents, a.currency",
     3},
    {"imp_done",
     "UPDATE ingest.imports SET status = 'done', finished_at = now() WHERE import_id = $1", 1},
};

static void ll(char out[24], long long v)
{
    snprintf(out, 24, "%lld", v);
}

static arr_err prepare(ingest_import *imp, char *why, size_t whylen)
{
    arr_err e = arr_pg_exec(imp->o.pg, SQL_STAGE, why, whylen);
    for (size_t i = 0; !e && i < sizeof(statements) / sizeof(statements[0]); i++)
        e = arr_pg_prepare(imp->o.pg, statements[i].name, statements[i].sql, statements[i].n, why,
                           whylen);
    if (!e)
        e = arr_outbox_prepare(imp->o.pg, "ingest", why, whylen);
    return e;
}

static arr_err load_state(ingest_import *imp, char *why, size_t whylen)
{
    char at[ARR_TIME_STRLEN];
    arr_time_format(imp->o.now_ms, at, sizeof(at));
    const char *open[] = {imp->st.import_id,
                          imp->tenant,
                          imp->source,
                          imp->sha256,
                          imp->o.snapshot ? "snapshot" : "delta",
                          imp->as_of,
                          at};
    PGresult *res = NULL;
    arr_err e = arr_pg_run(imp->o.pg, "imp_open", 7, open, NULL, why, whylen);
    const char *get[] = {imp->st.import_id};
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_get", 1, get, &res, why, whylen);
    if (e)
        return e;
    long long *fields[] = {&imp->st.lines_done, &imp->st.read,   &imp->st.accepted,
                           &imp->st.rejected,   &imp->st.placed, &imp->st.updated,
                           &imp->st.unchanged,  &imp->st.closed, &imp->st.warnings};
    imp->st.already_done = strcmp(PQgetvalue(res, 0, 0), "done") == 0;
    for (int i = 0; i < 9; i++)
        *fields[i] = strtoll(PQgetvalue(res, 0, i + 1), NULL, 10);
    imp->event_time_ms = strtoll(PQgetvalue(res, 0, 10), NULL, 10);
    imp->st.resumed_at = imp->st.lines_done;
    PQclear(res);
    return ARR_OK;
}

arr_err ingest_import_begin(const ingest_import_opts *o, ingest_import **out, char *why,
                            size_t whylen)
{
    if (!arr_tenant_valid(o->tenant)) {
        snprintf(why, whylen, "tenant '%s' must match [a-z0-9][a-z0-9_-]{0,63}", o->tenant);
        return ARR_EINVAL;
    }
    ingest_import *imp = calloc(1, sizeof(*imp));
    if (!imp)
        return ARR_ENOMEM;
    imp->o = *o;
    imp->batch_rows = o->batch_rows > 0 ? o->batch_rows : 5000;
    snprintf(imp->tenant, sizeof(imp->tenant), "%s", o->tenant);
    snprintf(imp->source, sizeof(imp->source), "%s", o->source);
    snprintf(imp->sha256, sizeof(imp->sha256), "%s", o->sha256);
    snprintf(imp->as_of, sizeof(imp->as_of), "%s", o->as_of);
    arr_buf_init(&imp->copy, COPY_MAX);
    for (imp->slots_n = 16; imp->slots_n < (size_t)imp->batch_rows * 2; imp->slots_n *= 2)
        ;
    pthread_mutex_init(&imp->mu, NULL);
    pthread_cond_init(&imp->cv, NULL);
    char name[160];
    snprintf(name, sizeof(name), "import/%s/%s", imp->sha256, o->snapshot ? "snapshot" : "delta");
    arr_err e = batch_alloc(&imp->work, imp) || batch_alloc(&imp->fill, imp) ? ARR_ENOMEM : ARR_OK;
    if (!e)
        e = arr_uuid_named(imp->tenant, name, imp->st.import_id);
    if (!e)
        e = prepare(imp, why, whylen);
    if (!e)
        e = load_state(imp, why, whylen);
    imp->already_done = imp->st.already_done;
    imp->resumed_at = imp->st.resumed_at;
    if (!e && !imp->st.already_done) {
        if (pthread_create(&imp->writer, NULL, writer_main, imp) != 0)
            e = ARR_ENOMEM;
        imp->writer_started = !e;
    }
    if (e) {
        ingest_import_free(imp);
        return e;
    }
    *out = imp;
    return ARR_OK;
}

const ingest_import_stats *ingest_import_stats_get(const ingest_import *imp)
{
    return &imp->st;
}

void ingest_import_progress(ingest_import *imp, ingest_import_stats *out)
{
    pthread_mutex_lock(&imp->mu);
    *out = imp->st;
    pthread_mutex_unlock(&imp->mu);
    out->read = imp->read_live > out->read ? imp->read_live : out->read;
}

static void clear_batch(batch *b, size_t slots_n)
{
    for (int i = 0; i < b->n_pend; i++) {
        json_decref(b->pend[i].payload);
        json_decref(b->pend[i].before);
    }
    for (int i = 0; i < b->n_rej; i++)
        free(b->rej[i].text);
    b->n_pend = 0;
    b->n_rej = 0;
    b->read = 0;
    b->last_line = 0;
    if (b->slots)
        memset(b->slots, 0xff, slots_n * sizeof(int));
}

void ingest_import_free(ingest_import *imp)
{
    if (!imp)
        return;
    if (imp->writer_started) {
        pthread_mutex_lock(&imp->mu);
        imp->stop = 1;
        pthread_cond_broadcast(&imp->cv);
        pthread_mutex_unlock(&imp->mu);
        pthread_join(imp->writer, NULL);
    }
    batch *bs[] = {&imp->work, &imp->fill};
    for (int i = 0; i < 2; i++) {
        clear_batch(bs[i], imp->slots_n);
        free(bs[i]->pend);
        free(bs[i]->rej);
        free(bs[i]->slots);
    }
    pthread_mutex_destroy(&imp->mu);
    pthread_cond_destroy(&imp->cv);
    arr_buf_free(&imp->copy);
    free(imp);
}

/* A batch has room for batch_rows records, accepted or rejected, plus the rejects that
 * duplicates found at write time turn into (at most every accepted one). */
static int batch_alloc(batch *b, const ingest_import *imp)
{
    b->pend = calloc((size_t)imp->batch_rows, sizeof(pending));
    b->rej = calloc((size_t)imp->batch_rows * 2, sizeof(reject));
    b->slots = malloc(imp->slots_n * sizeof(int));
    if (b->slots)
        memset(b->slots, 0xff, imp->slots_n * sizeof(int));
    return !(b->pend && b->rej && b->slots);
}

static void add_reject(batch *b, long long line, const char *account_id, const ingest_issue *issue,
                       const char *text)
{
    reject *r = &b->rej[b->n_rej++];
    r->line = line;
    snprintf(r->account_id, sizeof(r->account_id), "%s", account_id ? account_id : "");
    r->issue = *issue;
    size_t n = text ? strnlen(text, REJECT_TEXT_MAX) : 0;
    r->text = malloc(n + 1);
    if (r->text) {
        memcpy(r->text, text ? text : "", n);
        r->text[n] = '\0';
    }
}

/* Open addressing over the batch's account ids (twice the batch size, so it never fills):
 * a linear scan would cost millions of comparisons per batch. */
static uint64_t id_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int duplicate_in_batch(batch *b, size_t slots_n, const char *account_id)
{
    size_t mask = slots_n - 1;
    for (size_t i = id_hash(account_id) & mask;; i = (i + 1) & mask) {
        int slot = b->slots[i];
        if (slot < 0) {
            b->slots[i] = b->n_pend; /* the record about to be added */
            return 0;
        }
        if (strcmp(b->pend[slot].rec.account_id, account_id) == 0)
            return 1;
    }
}

static arr_err flush(ingest_import *imp, char *why, size_t whylen);

/* The writer: writes `work` whenever the reading thread hands it over. */
static void *writer_main(void *arg)
{
    ingest_import *imp = arg;
    pthread_mutex_lock(&imp->mu);
    for (;;) {
        while (!imp->busy && !imp->stop)
            pthread_cond_wait(&imp->cv, &imp->mu);
        if (!imp->busy)
            break;
        pthread_mutex_unlock(&imp->mu);
        char why[512] = "";
        arr_err e = imp->failed ? ARR_OK : flush(imp, why, sizeof(why));
        clear_batch(&imp->work, imp->slots_n);
        pthread_mutex_lock(&imp->mu);
        if (e && !imp->failed) {
            imp->failed = e;
            snprintf(imp->failed_why, sizeof(imp->failed_why), "%s", why);
        }
        imp->busy = 0;
        pthread_cond_broadcast(&imp->cv);
    }
    pthread_mutex_unlock(&imp->mu);
    return NULL;
}

/* Waits until the writer is idle; returns its error, if it had one. */
static arr_err writer_idle(ingest_import *imp, char *why, size_t whylen)
{
    pthread_mutex_lock(&imp->mu);
    while (imp->busy)
        pthread_cond_wait(&imp->cv, &imp->mu);
    arr_err e = imp->failed;
    if (e)
        snprintf(why, whylen, "%s", imp->failed_why);
    pthread_mutex_unlock(&imp->mu);
    return e;
}

/* Gives the filled batch to the writer and takes the emptied one back. */
static arr_err hand_off(ingest_import *imp, char *why, size_t whylen)
{
    arr_err e = writer_idle(imp, why, whylen);
    if (e)
        return e;
    batch t = imp->work;
    imp->work = imp->fill;
    imp->fill = t;
    pthread_mutex_lock(&imp->mu);
    imp->busy = 1;
    pthread_cond_broadcast(&imp->cv);
    pthread_mutex_unlock(&imp->mu);
    return ARR_OK;
}

arr_err ingest_import_add(ingest_import *imp, const ingest_raw *raw, const char *raw_text,
                          const ingest_issue *bad, char *why, size_t whylen)
{
    if (imp->already_done || raw->line <= imp->resumed_at)
        return ARR_OK; /* committed by an earlier run of this import */
    batch *b = &imp->fill;
    imp->read_live++;
    b->read++;
    b->last_line = raw->line;
    const char *acct = raw->v[IF_ACCOUNT_ID];
    if (bad) {
        add_reject(b, raw->line, acct, bad, raw_text);
    } else {
        pending *p = &b->pend[b->n_pend];
        memset(p, 0, sizeof(*p));
        ingest_validate(raw, imp->o.mapping, imp->as_of, &p->rec, &p->verdict);
        if (!p->verdict.accepted) {
            add_reject(b, raw->line, acct, &p->verdict.reject, raw_text);
        } else if (duplicate_in_batch(b, imp->slots_n, p->rec.account_id)) {
            ingest_issue dup = {.code = "duplicate_in_file", .field = "account_id"};
            snprintf(dup.detail, sizeof(dup.detail), "the account appears earlier in the file");
            add_reject(b, raw->line, acct, &dup, raw_text);
        } else {
            p->line = raw->line;
            /* Built here, on the reading thread, to share the work with the writer. */
            p->payload = ingest_record_payload(&p->rec);
            if (!p->payload)
                return ARR_ENOMEM;
            ingest_payload_hash(p->payload, p->hash);
            b->n_pend++;
        }
    }
    if (b->n_pend + b->n_rej >= imp->batch_rows)
        return hand_off(imp, why, whylen);
    return ARR_OK;
}

static arr_err copy_out(ingest_import *imp, const char *copy_sql, char *why, size_t whylen)
{
    if (!imp->copy.len)
        return ARR_OK;
    arr_err e = arr_pg_copy_begin(imp->o.pg, copy_sql, why, whylen);
    if (!e)
        e = arr_pg_copy_put(imp->o.pg, imp->copy.data, imp->copy.len, why, whylen);
    long rows = 0;
    arr_err end = arr_pg_copy_end(imp->o.pg, &rows, why, whylen);
    arr_buf_reset(&imp->copy);
    return e ? e : end;
}

static arr_err stage_row(ingest_import *imp, pending *p)
{
    char line[24], bal[24], orig[24], name[ARR_ACCOUNT_MAX + 80];
    snprintf(name, sizeof(name), "%s/%s/account.placed", imp->st.import_id, p->rec.account_id);
    arr_err e = arr_uuid_named(imp->tenant, name, p->event_id);
    char *json = e ? NULL : json_dumps(p->payload, JSON_COMPACT);
    if (!e && !json)
        e = ARR_ENOMEM;
    ll(line, p->line);
    ll(bal, p->rec.balance_cents);
    ll(orig, p->rec.original_balance_cents);
    const char *cols[] = {line,
                          p->rec.account_id,
                          p->event_id,
                          p->hash,
                          json,
                          p->rec.regime,
                          p->rec.currency,
                          bal,
                          orig,
                          p->rec.due_date,
                          p->rec.service_type,
                          p->rec.debtor_ref[0] ? p->rec.debtor_ref : NULL};
    size_t n = sizeof(cols) / sizeof(cols[0]);
    for (size_t i = 0; !e && i < n; i++)
        e = arr_pg_copy_field(&imp->copy, cols[i], i + 1 == n);
    free(json);
    return e;
}

static arr_err stage(ingest_import *imp, char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    for (int i = 0; !e && i < imp->work.n_pend; i++)
        e = stage_row(imp, &imp->work.pend[i]);
    if (!e)
        e = copy_out(imp,
                     "COPY ingest_stage (line, account_id, event_id, content_hash, payload,"
                     " regime, currency, balance_cents, original_balance_cents, due_date,"
                     " service_type, debtor_ref) FROM STDIN",
                     why, whylen);
    /* A fresh temporary table has no statistics: without them the comparison below scans
     * all of ingest.accounts instead of probing its primary key. */
    if (!e)
        e = arr_pg_exec(imp->o.pg, "ANALYZE ingest_stage", why, whylen);
    return e;
}

/* Sets each pending record's kind from the stored account; rows come back in line order,
 * which is the order the batch was filled in. */
static arr_err classify(ingest_import *imp, char *why, size_t whylen)
{
    PGresult *res = NULL;
    const char *params[] = {imp->tenant, imp->st.import_id};
    arr_err e = arr_pg_run(imp->o.pg, "imp_compare", 2, params, &res, why, whylen);
    if (e)
        return e;
    if (PQntuples(res) != imp->work.n_pend) {
        PQclear(res);
        snprintf(why, whylen, "ingest: staged %d records, compared %d", imp->work.n_pend,
                 PQntuples(res));
        return ARR_EFATAL;
    }
    for (int i = 0; i < imp->work.n_pend; i++) {
        pending *p = &imp->work.pend[i];
        if (PQgetvalue(res, i, 4)[0] == 't') {
            p->kind = P_DUPLICATE;
        } else if (PQgetisnull(res, i, 1)) {
            p->kind = P_NEW;
        } else if (strcmp(PQgetvalue(res, i, 1), p->hash) == 0 &&
                   strcmp(PQgetvalue(res, i, 3), "open") == 0) {
            p->kind = P_UNCHANGED;
        } else {
            p->kind = P_CHANGED;
            p->before = json_loads(PQgetvalue(res, i, 2), 0, NULL);
            p->before_balance = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        }
    }
    PQclear(res);
    return ARR_OK;
}

/* Duplicates found against earlier batches become rejects and leave the staging table. */
static arr_err drop_duplicates(ingest_import *imp, char *why, size_t whylen)
{
    arr_buf ids;
    arr_buf_init(&ids, COPY_MAX);
    arr_err e = arr_buf_append(&ids, "{", 1);
    int n = 0;
    for (int i = 0; !e && i < imp->work.n_pend; i++) {
        pending *p = &imp->work.pend[i];
        if (p->kind != P_DUPLICATE)
            continue;
        e = arr_buf_appendf(&ids, "%s%lld", n++ ? "," : "", p->line);
        ingest_issue dup = {.code = "duplicate_in_file", .field = "account_id"};
        snprintf(dup.detail, sizeof(dup.detail), "the account appears earlier in the file");
        add_reject(&imp->work, p->line, p->rec.account_id, &dup, p->rec.account_id);
    }
    if (!e)
        e = arr_buf_append(&ids, "}", 1);
    if (!e && n) {
        const char *params[] = {ids.data};
        e = arr_pg_run(imp->o.pg, "imp_drop_dups", 1, params, NULL, why, whylen);
    }
    arr_buf_free(&ids);
    return e;
}

static arr_err upsert(ingest_import *imp, char *why, size_t whylen)
{
    char at[ARR_TIME_STRLEN];
    arr_time_format(imp->event_time_ms, at, sizeof(at));
    const char *params[] = {imp->tenant, imp->st.import_id, at};
    return arr_pg_run(imp->o.pg, "imp_upsert", 3, params, NULL, why, whylen);
}

/* One event of this import for the account into the COPY buffer of the outbox. Its id is
 * event_id when given, else derived from the import, the account and the type, so a batch
 * replayed after a crash produces the very same events. Steals payload. */
static arr_err queue_envelope(ingest_import *imp, const char *account_id, const char *type,
                              const char *event_id, json_t *payload)
{
    arr_envelope env;
    arr_envelope_init(&env);
    env.payload = payload;
    if (!payload)
        return ARR_ENOMEM;
    char name[ARR_ACCOUNT_MAX + 80];
    snprintf(name, sizeof(name), "%s/%s/%s", imp->st.import_id, account_id, type);
    arr_err e = event_id ? ARR_OK : arr_uuid_named(imp->tenant, name, env.event_id);
    if (event_id)
        memcpy(env.event_id, event_id, ARR_UUID_STRLEN);
    snprintf(env.event_type, sizeof(env.event_type), "%s", type);
    env.schema_version = 1;
    snprintf(env.tenant, sizeof(env.tenant), "%s", imp->tenant);
    snprintf(env.account, sizeof(env.account), "%s", account_id);
    env.event_time_ms = imp->event_time_ms;
    env.produced_at_ms = imp->o.now_ms;
    memcpy(env.correlation_id, imp->st.import_id, ARR_UUID_STRLEN); /* one import, one story */
    snprintf(env.producer_service, sizeof(env.producer_service), "%s", imp->o.who.service);
    snprintf(env.producer_version, sizeof(env.producer_version), "%s", imp->o.who.version);
    snprintf(env.producer_instance, sizeof(env.producer_instance), "%s", imp->o.who.instance);
    char *value = NULL, key[ARR_KEY_MAX], why[256];
    size_t len;
    if (!e)
        e = arr_envelope_to_message(&env, &value, &len, key, why, sizeof(why));
    if (!e)
        e = arr_pg_copy_field(&imp->copy, TOPIC(imp), 0);
    if (!e)
        e = arr_pg_copy_field(&imp->copy, key, 0);
    if (!e)
        e = arr_pg_copy_field(&imp->copy, value, 1);
    free(value);
    arr_envelope_clear(&env);
    return e;
}

/* account.placed or account.updated for one record. */
static arr_err queue_event(ingest_import *imp, pending *p)
{
    if (p->kind == P_NEW) /* the payload as it is; its id is the stored placed_event_id */
        return queue_envelope(imp, p->rec.account_id, "account.placed", p->event_id,
                              json_incref(p->payload));
    json_t *payload = json_deep_copy(p->payload);
    if (payload) {
        json_object_set_new(payload, "changes", ingest_payload_changes(p->before, p->payload));
        json_object_set_new(payload, "previous_balance_cents", json_integer(p->before_balance));
    }
    return queue_envelope(imp, p->rec.account_id, "account.updated", NULL, payload);
}

static arr_err queue_events(ingest_import *imp, ingest_import_stats *next, char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    for (int i = 0; !e && i < imp->work.n_pend; i++) {
        pending *p = &imp->work.pend[i];
        if (p->kind == P_DUPLICATE)
            continue;
        next->accepted++;
        next->warnings += p->verdict.n_warnings;
        if (p->kind == P_UNCHANGED) {
            next->unchanged++;
            continue;
        }
        *(p->kind == P_NEW ? &next->placed : &next->updated) += 1;
        e = queue_event(imp, p);
    }
    if (!e)
        e = copy_out(imp, "COPY ingest.outbox (topic, key, value) FROM STDIN", why, whylen);
    return e;
}

static arr_err copy_rejects(ingest_import *imp, ingest_import_stats *next, char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    for (int i = 0; !e && i < imp->work.n_rej; i++) {
        reject *r = &imp->work.rej[i];
        char source[300], line[24];
        snprintf(source, sizeof(source), "%s:%lld", imp->source, r->line);
        ll(line, r->line);
        char detail[256];
        snprintf(detail, sizeof(detail), "%s: field %s: %s", r->issue.code, r->issue.field,
                 r->issue.detail);
        const char *cols[] = {source,
                              imp->tenant,
                              r->account_id[0] ? r->account_id : NULL,
                              r->issue.field[0] ? r->issue.field : NULL,
                              r->issue.code,
                              detail,
                              r->text ? r->text : "",
                              imp->st.import_id,
                              line};
        for (size_t k = 0; !e && k < 9; k++)
            e = arr_pg_copy_field(&imp->copy, cols[k], k == 8);
        next->rejected++;
    }
    if (!e)
        e = copy_out(imp,
                     "COPY ingest.rejects (source, tenant, account_id, field, reason_code, detail,"
                     " raw, import_id, line) FROM STDIN",
                     why, whylen);
    return e;
}

static arr_err copy_warnings(ingest_import *imp, char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    for (int i = 0; !e && i < imp->work.n_pend; i++) {
        pending *p = &imp->work.pend[i];
        if (p->kind == P_DUPLICATE)
            continue;
        char line[24];
        ll(line, p->line);
        for (int w = 0; !e && w < p->verdict.n_warnings; w++) {
            const ingest_issue *iss = &p->verdict.warnings[w];
            const char *cols[] = {imp->st.import_id, imp->tenant,
                                  p->rec.account_id, line,
                                  iss->code,         iss->field[0] ? iss->field : NULL,
                                  iss->detail};
            for (size_t k = 0; !e && k < 7; k++)
                e = arr_pg_copy_field(&imp->copy, cols[k], k == 6);
        }
    }
    if (!e)
        e = copy_out(imp,
                     "COPY ingest.warnings (import_id, tenant, account_id, line, code, field,"
                     " detail) FROM STDIN",
                     why, whylen);
    return e;
}

static arr_err checkpoint(ingest_import *imp, const ingest_import_stats *n, char *why,
                          size_t whylen)
{
    char v[9][24];
    const long long vals[] = {n->lines_done, n->read,      n->accepted, n->rejected, n->placed,
                              n->updated,    n->unchanged, n->closed,   n->warnings};
    for (int i = 0; i < 9; i++)
        ll(v[i], vals[i]);
    const char *params[] = {
        imp->st.import_id, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
    return arr_pg_run(imp->o.pg, "imp_checkpoint", 10, params, NULL, why, whylen);
}

/* After the commit: publish, then refresh the cache (a failure there only leaves it stale). */
static arr_err publish(ingest_import *imp, char *why, size_t whylen)
{
    int n;
    do {
        arr_err e = arr_outbox_relay(imp->o.pg, "ingest", imp->o.producer, 5000, &n, why, whylen);
        if (e)
            return e;
    } while (n == 5000);
    if (!imp->o.redis)
        return ARR_OK;
    for (int i = 0; i < imp->work.n_pend; i++) {
        pending *p = &imp->work.pend[i];
        if (p->kind != P_NEW && p->kind != P_CHANGED)
            continue;
        char key[ARR_KEY_MAX + 16], bal[24];
        snprintf(key, sizeof(key), "arr:acct:%s/%s", imp->tenant, p->rec.account_id);
        ll(bal, p->rec.balance_cents);
        const char *argv[] = {"HSET",          key,      "placed_cents", bal, "currency",
                              p->rec.currency, "status", "open"};
        arr_redis_append(imp->o.redis, 8, argv, NULL);
    }
    char rwhy[256];
    arr_redis_flush(imp->o.redis, rwhy, sizeof(rwhy));
    return ARR_OK;
}

/* Ends a batch's transaction: on success the checkpoint and the commit, then the figures
 * become visible and the outbox is relayed; on failure everything is rolled back. */
static arr_err commit(ingest_import *imp, arr_err e, const ingest_import_stats *next, char *why,
                      size_t whylen)
{
    if (!e)
        e = checkpoint(imp, next, why, whylen);
    if (!e)
        e = arr_pg_commit(imp->o.pg, why, whylen);
    if (e) {
        arr_pg_rollback(imp->o.pg);
        arr_buf_reset(&imp->copy);
        return e;
    }
    pthread_mutex_lock(&imp->mu);
    imp->st = *next;
    pthread_mutex_unlock(&imp->mu);
    return publish(imp, why, whylen);
}

static arr_err flush(ingest_import *imp, char *why, size_t whylen)
{
    if (imp->work.n_pend + imp->work.n_rej == 0)
        return ARR_OK;
    ingest_import_stats next = imp->st; /* only this thread writes st while importing */
    next.lines_done = imp->work.last_line;
    next.read += imp->work.read;
    const char *lock[] = {imp->tenant};
    arr_err e = arr_pg_begin(imp->o.pg, why, whylen);
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_lock", 1, lock, NULL, why, whylen);
    if (!e && imp->work.n_pend)
        e = stage(imp, why, whylen);
    if (!e && imp->work.n_pend)
        e = classify(imp, why, whylen);
    if (!e && imp->work.n_pend)
        e = drop_duplicates(imp, why, whylen);
    if (!e && imp->work.n_pend)
        e = upsert(imp, why, whylen);
    if (!e)
        e = queue_events(imp, &next, why, whylen);
    if (!e)
        e = copy_rejects(imp, &next, why, whylen);
    if (!e)
        e = copy_warnings(imp, why, whylen);
    return commit(imp, e, &next, why, whylen);
}

/* account.closed for one account the snapshot no longer lists. */
static arr_err queue_closed(ingest_import *imp, const char *account_id, const char *balance,
                            const char *currency)
{
    json_t *payload = json_pack("{s:s, s:s, s:I, s:s}", "account_id", account_id, "reason",
                                "absent_from_snapshot", "balance_cents",
                                (json_int_t)strtoll(balance, NULL, 10), "currency", currency);
    return queue_envelope(imp, account_id, "account.closed", NULL, payload);
}

/* Closes, 5,000 at a time, the open accounts of the tenant this snapshot did not contain. */
static arr_err close_missing(ingest_import *imp, int *closed, char *why, size_t whylen)
{
    char at[ARR_TIME_STRLEN];
    arr_time_format(imp->event_time_ms, at, sizeof(at));
    const char *params[] = {imp->tenant, imp->st.import_id, at};
    const char *lock[] = {imp->tenant};
    PGresult *res = NULL;
    ingest_import_stats next = imp->st;
    arr_err e = arr_pg_begin(imp->o.pg, why, whylen);
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_lock", 1, lock, NULL, why, whylen);
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_close", 3, params, &res, why, whylen);
    *closed = e ? 0 : PQntuples(res);
    for (int i = 0; !e && i < *closed; i++)
        e = queue_closed(imp, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    PQclear(res);
    next.closed += *closed;
    if (!e)
        e = copy_out(imp, "COPY ingest.outbox (topic, key, value) FROM STDIN", why, whylen);
    return commit(imp, e, &next, why, whylen);
}

arr_err ingest_import_finish(ingest_import *imp, char *why, size_t whylen)
{
    if (imp->already_done)
        return ARR_OK;
    arr_err e = ARR_OK;
    if (imp->fill.n_pend + imp->fill.n_rej)
        e = hand_off(imp, why, whylen);
    if (!e) /* from here on this thread has the connection to itself */
        e = writer_idle(imp, why, whylen);
    int closed = imp->o.snapshot;
    /* Right after a large first import the table has no statistics yet, and the closure's
     * join would be planned as if it were tiny: give the planner the real numbers first. */
    if (!e && closed)
        e = arr_pg_exec(imp->o.pg, "ANALYZE ingest.accounts", why, whylen);
    while (!e && closed)
        e = close_missing(imp, &closed, why, whylen);
    const char *params[] = {imp->st.import_id};
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_done", 1, params, NULL, why, whylen);
    return e;
}
