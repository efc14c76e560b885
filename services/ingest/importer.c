#include "importer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "arrears/buf.h"
#include "arrears/clock.h"
#include "arrears/envelope.h"
#include "arrears/hash.h"
#include "arrears/outbatch.h"
#include "arrears/uuid.h"
#include "account_store.h"
#include "events.h"
#include "recover.h"
#include "validate.h"

#define TOPIC(imp) ((imp)->o.topic ? (imp)->o.topic : INGEST_TOPIC_ACCOUNTS)
#define COPY_MAX ((size_t)512 * 1024 * 1024)
#define REJECT_TEXT_MAX 4096
#define COPY_CHUNK ((size_t)256 * 1024)
/* Batches whose events may still be on their way to Kafka: past this, the writer waits. */
#define UNACKED_MAX 4

typedef enum pending_kind { P_NEW, P_CHANGED, P_UNCHANGED, P_DUPLICATE } pending_kind;

typedef struct pending {
    ingest_record rec;
    ingest_verdict verdict;
    long long line;
    size_t text_off, text_len; /* the payload's JSON text in the batch's texts */
    size_t row_off, row_len;   /* the account's COPY row in the batch's rows */
    size_t msg_off, msg_len;   /* its account.placed message line in the batch's placed */
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
    arr_buf texts;       /* the payloads' JSON texts, one after the other */
    arr_buf rows;        /* COPY rows of the accounts, built by the reading thread */
    arr_buf placed;      /* their account.placed messages, should they be new */
    long long last_line; /* highest line in the batch */
    long long read;      /* records read into the batch */
} batch;

/* Publishes a committed batch (its events to Kafka, its accounts to the cache) on a thread
 * of its own while the writer goes on with the next batch. Owns msgs and cache while busy. */
typedef struct publisher {
    pthread_t thread;
    int started, busy, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    arr_buf msgs;  /* the batch's events, "key\tvalue" lines */
    arr_buf cache; /* "account\tbalance\tcurrency" lines for the cache */
    arr_err failed;
    char failed_why[256];
} publisher;

/* Two batches, so that reading and validating the next one overlaps writing this one: the
 * reading thread fills `fill`; the writer thread owns `work` (and the database connection,
 * the producer and Redis) while `busy` is set. */
struct ingest_import {
    ingest_import_opts o;
    char tenant[ARR_TENANT_MAX + 1], source[256], sha256[65], as_of[11];
    char import_id[37];     /* set once by ingest_import_begin: both threads read it */
    ingest_import_stats st; /* committed figures: written by the writer under mu */
    int64_t event_time_ms;
    char event_at[ARR_TIME_STRLEN]; /* event_time_ms as text, for every row */
    batch work, fill;
    int batch_rows;
    size_t slots_n; /* a power of two, at least 2 * batch_rows */
    arr_buf copy;
    arr_buf msgs;  /* the batch's events, "key\tvalue" lines (arr_outbatch) */
    int64_t owner; /* advisory-lock key of this import (arr_outbatch_own) */
    int owned;
    ingest_event_ctx ev;      /* what this import's events share */
    long long published_line; /* placed events up to this line are acknowledged */
    arr_buf stored;           /* the batch's events other than account.placed: kept with it */
    int n_stored;
    struct {
        long long batch_id; /* its stored events, or 0 */
        long long line;     /* its last line */
    } unacked[UNACKED_MAX]; /* batches produced, not yet known acknowledged */
    int n_unacked;
    int commits;          /* batches committed by this run (crash_after_commits) */
    int settling;         /* the first `settling` of them are deleted in the open transaction */
    long long read_live;  /* records read so far, committed or not (reading thread) */
    long long resumed_at; /* copies of st's, fixed at the start, for the reading thread */
    int already_done;
    pthread_t writer;
    int writer_started, busy, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    publisher pub;
    arr_err failed; /* the writer's first error; the import stops at the next hand-off */
    char failed_why[512];
};

static int batch_alloc(batch *b, const ingest_import *imp);
static void *writer_main(void *arg);

/* The columns of a stored account, in the order prebuild writes them. */
#define SQL_ACCOUNT_COLUMNS                                                                        \
    "tenant, account_id, regime, currency, balance_cents, original_balance_cents, due_date,"       \
    " service_type, debtor_ref, placed_event_id, placed_at, updated_at, payload, content_hash,"    \
    " status, last_import_id, last_line, warnings"

/* Changed accounts pass through here on their way to the upsert. */
static const char *const SQL_STAGE =
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage (LIKE ingest.accounts) ON COMMIT DELETE ROWS";

static const struct {
    const char *name, *sql;
    int n;
} statements[] = {
    {"imp_open",
     "INSERT INTO ingest.imports (import_id, tenant, source, sha256, mode, as_of, event_time,"
     " topic) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (import_id) DO NOTHING",
     8},
    {"imp_get",
     "SELECT status, lines_done, records_read, accepted, rejected, placed, updated, unchanged,"
     " closed, warnings, (extract(epoch from event_time) * 1000)::bigint, published_line"
     " FROM ingest.imports WHERE import_id = $1",
     1},
    /* One probe of the primary key per record (LATERAL ... LIMIT 1 keeps the planner from a
     * hash join over the tenant's rows, which a generic plan picked as the tenant grew). Only
     * the account ids go: a first import's probes all miss, and cost little more than
     * parsing what was sent. */
    {"imp_compare",
     "SELECT s.ord, a.content_hash, a.status, coalesce(a.last_import_id = $2, false),"
     " a.last_line, a.balance_cents"
     " FROM unnest($3::text[]) WITH ORDINALITY AS s(account_id, ord)"
     " JOIN LATERAL (SELECT content_hash, status, last_import_id, last_line, balance_cents"
     " FROM ingest.accounts a WHERE a.tenant = $1 AND a.account_id = s.account_id LIMIT 1) a"
     " ON true",
     3},
    {"imp_before",
     "SELECT s.ord, a.payload::text FROM unnest($2::text[]) WITH ORDINALITY AS s(account_id, ord)"
     " JOIN LATERAL (SELECT payload FROM ingest.accounts a WHERE a.tenant = $1"
     " AND a.account_id = s.account_id LIMIT 1) a ON true",
     2},
    {"imp_seen",
     "UPDATE ingest.accounts a SET last_import_id = $2, last_line = u.line"
     " FROM unnest($3::text[], $4::bigint[]) AS u(account_id, line)"
     " WHERE a.tenant = $1 AND a.account_id = u.account_id",
     4},
    {"imp_upsert",
     "INSERT INTO ingest.accounts AS a (" SQL_ACCOUNT_COLUMNS ") SELECT " SQL_ACCOUNT_COLUMNS
     " FROM ingest_stage ON CONFLICT (tenant, account_id) DO UPDATE SET"
     " regime = EXCLUDED.regime, currency = EXCLUDED.currency,"
     " balance_cents = EXCLUDED.balance_cents,"
     " original_balance_cents = EXCLUDED.original_balance_cents, due_date = EXCLUDED.due_date,"
     " service_type = EXCLUDED.service_type, debtor_ref = EXCLUDED.debtor_ref,"
     " payload = EXCLUDED.payload, content_hash = EXCLUDED.content_hash, status = 'open',"
     " last_import_id = EXCLUDED.last_import_id, last_line = EXCLUDED.last_line,"
     " warnings = EXCLUDED.warnings, updated_at = EXCLUDED.updated_at",
     0},
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
        e = ingest_recover_prepare(imp->o.pg, why, whylen);
    if (!e)
        e = ingest_store_prepare_lock(imp->o.pg, why, whylen);
    return e;
}

static arr_err load_state(ingest_import *imp, char *why, size_t whylen)
{
    char at[ARR_TIME_STRLEN];
    arr_time_format(imp->o.now_ms, at, sizeof(at));
    const char *open[] = {imp->import_id,
                          imp->tenant,
                          imp->source,
                          imp->sha256,
                          imp->o.snapshot ? "snapshot" : "delta",
                          imp->as_of,
                          at,
                          TOPIC(imp)};
    PGresult *res = NULL;
    arr_err e = arr_pg_run(imp->o.pg, "imp_open", 8, open, NULL, why, whylen);
    const char *get[] = {imp->import_id};
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
    arr_time_format(imp->event_time_ms, imp->event_at, sizeof(imp->event_at));
    imp->published_line = strtoll(PQgetvalue(res, 0, 11), NULL, 10);
    imp->ev = (ingest_event_ctx){.tenant = imp->tenant,
                                 .import_id = imp->import_id,
                                 .event_time_ms = imp->event_time_ms,
                                 .produced_at_ms = imp->o.now_ms,
                                 .who = &imp->o.who};
    imp->st.resumed_at = imp->st.lines_done;
    PQclear(res);
    return ARR_OK;
}

/* One process at a time runs an import. Once it owns it, it publishes again this import's
 * account.placed events of the lines past published_line that an earlier run committed (the
 * same ids), then relays the stored event batches (ingest.outbox_batches) of every import
 * whose owner is dead, this one's included. */
static arr_err own(ingest_import *imp, char *why, size_t whylen)
{
    imp->owner = ingest_import_owner(imp->import_id);
    int got = 0;
    arr_err e = arr_outbatch_own(imp->o.pg, imp->owner, &got, why, whylen);
    if (!e && !got) {
        snprintf(why, whylen, "import %s is running in another process; try again when it ends",
                 imp->import_id);
        e = ARR_EABORT;
    }
    imp->owned = !e;
    long republished = 0;
    if (!e)
        e = ingest_recover_import(imp->o.pg, imp->o.producer, TOPIC(imp), &imp->ev,
                                  imp->published_line, imp->st.lines_done, &republished, why,
                                  whylen);
    if (!e)
        imp->published_line = imp->st.lines_done;
    return e;
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
    imp->batch_rows = o->batch_rows > 0 ? o->batch_rows : 10000;
    snprintf(imp->tenant, sizeof(imp->tenant), "%s", o->tenant);
    snprintf(imp->source, sizeof(imp->source), "%s", o->source);
    snprintf(imp->sha256, sizeof(imp->sha256), "%s", o->sha256);
    snprintf(imp->as_of, sizeof(imp->as_of), "%s", o->as_of);
    arr_buf_init(&imp->copy, COPY_MAX);
    arr_buf_init(&imp->msgs, COPY_MAX);
    arr_buf_init(&imp->stored, COPY_MAX);
    arr_buf_init(&imp->pub.msgs, COPY_MAX);
    arr_buf_init(&imp->pub.cache, COPY_MAX);
    for (imp->slots_n = 16; imp->slots_n < (size_t)imp->batch_rows * 2; imp->slots_n *= 2)
        ;
    pthread_mutex_init(&imp->mu, NULL);
    pthread_cond_init(&imp->cv, NULL);
    char name[160];
    snprintf(name, sizeof(name), "import/%s/%s", imp->sha256, o->snapshot ? "snapshot" : "delta");
    arr_err e = batch_alloc(&imp->work, imp) || batch_alloc(&imp->fill, imp) ? ARR_ENOMEM : ARR_OK;
    if (!e)
        e = arr_uuid_named(imp->tenant, name, imp->import_id);
    memcpy(imp->st.import_id, imp->import_id, sizeof(imp->st.import_id));
    if (!e)
        e = prepare(imp, why, whylen);
    if (!e)
        e = load_state(imp, why, whylen);
    if (!e)
        e = own(imp, why, whylen);
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
    for (int i = 0; i < b->n_pend; i++)
        json_decref(b->pend[i].before);
    arr_buf_reset(&b->texts);
    arr_buf_reset(&b->rows);
    arr_buf_reset(&b->placed);
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
    if (imp->pub.started) {
        pthread_mutex_lock(&imp->pub.mu);
        imp->pub.stop = 1;
        pthread_cond_broadcast(&imp->pub.cv);
        pthread_mutex_unlock(&imp->pub.mu);
        pthread_join(imp->pub.thread, NULL);
        pthread_mutex_destroy(&imp->pub.mu);
        pthread_cond_destroy(&imp->pub.cv);
    }
    arr_buf_free(&imp->pub.msgs);
    arr_buf_free(&imp->pub.cache);
    batch *bs[] = {&imp->work, &imp->fill};
    for (int i = 0; i < 2; i++) {
        clear_batch(bs[i], imp->slots_n);
        free(bs[i]->pend);
        free(bs[i]->rej);
        free(bs[i]->slots);
        arr_buf_free(&bs[i]->texts);
        arr_buf_free(&bs[i]->rows);
        arr_buf_free(&bs[i]->placed);
    }
    if (imp->owned)
        arr_outbatch_disown(imp->o.pg, imp->owner);
    pthread_mutex_destroy(&imp->mu);
    pthread_cond_destroy(&imp->cv);
    arr_buf_free(&imp->copy);
    arr_buf_free(&imp->msgs);
    arr_buf_free(&imp->stored);
    free(imp);
}

/* A batch has room for batch_rows records, accepted or rejected, plus the rejects that
 * duplicates found at write time turn into (at most every accepted one). */
static int batch_alloc(batch *b, const ingest_import *imp)
{
    b->pend = calloc((size_t)imp->batch_rows, sizeof(pending));
    b->rej = calloc((size_t)imp->batch_rows * 2, sizeof(reject));
    b->slots = malloc(imp->slots_n * sizeof(int));
    arr_buf_init(&b->texts, COPY_MAX);
    arr_buf_init(&b->rows, COPY_MAX);
    arr_buf_init(&b->placed, COPY_MAX);
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
static int duplicate_in_batch(batch *b, size_t slots_n, const char *account_id)
{
    size_t mask = slots_n - 1;
    for (size_t i = arr_hash_fnv1a64(account_id) & mask;; i = (i + 1) & mask) {
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

static arr_err prebuild(const ingest_import *imp, batch *b, pending *p);

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
            /* Written here, on the reading thread, to share the work with the writer. */
            p->text_off = b->texts.len;
            arr_err e = ingest_record_payload_text(&p->rec, &b->texts, p->hash);
            if (e) {
                snprintf(why, whylen, "line %lld: cannot write the account's payload",
                         (long long)raw->line);
                return e;
            }
            p->text_len = b->texts.len - p->text_off;
            e = prebuild(imp, b, p);
            if (e) {
                snprintf(why, whylen, "line %lld: cannot prepare the account's row and event",
                         (long long)raw->line);
                return e;
            }
            b->n_pend++;
        }
    }
    if (b->n_pend + b->n_rej >= imp->batch_rows)
        return hand_off(imp, why, whylen);
    return ARR_OK;
}

static arr_err copy_out(ingest_import *imp, const char *copy_sql, char *why, size_t whylen)
{
    arr_err e =
        arr_pg_copy_buf(imp->o.pg, copy_sql, imp->copy.data, imp->copy.len, NULL, why, whylen);
    arr_buf_reset(&imp->copy);
    return e;
}

/* On the reading thread, while the writer is busy with the previous batch: the account's
 * COPY row (the columns of SQL_ACCOUNT_COLUMNS) and its account.placed message, as they
 * will be if the account turns out to be new, which in a first import they all are. The
 * payload text gets a NUL after it in texts, so that it can be read as a string. */
static arr_err prebuild(const ingest_import *imp, batch *b, pending *p)
{
    char line[24], bal[24], orig[24];
    arr_err e = ingest_event_placed_id(&imp->ev, p->rec.account_id, p->event_id);
    ll(line, p->line);
    ll(bal, p->rec.balance_cents);
    ll(orig, p->rec.original_balance_cents);
    size_t warn_off = b->texts.len;
    if (!e)
        e = arr_buf_append(&b->texts, "", 1); /* ends the payload text */
    if (!e)
        e = ingest_warnings_text(&p->verdict, &b->texts);
    const char *warnings = b->texts.len > warn_off + 1 ? b->texts.data + warn_off + 1 : NULL;
    const char *payload = b->texts.data + p->text_off;
    const char *cols[] = {imp->tenant,
                          p->rec.account_id,
                          p->rec.regime,
                          p->rec.currency,
                          bal,
                          orig,
                          p->rec.due_date,
                          p->rec.service_type,
                          p->rec.debtor_ref[0] ? p->rec.debtor_ref : NULL,
                          p->event_id,
                          imp->event_at,
                          imp->event_at,
                          payload,
                          p->hash,
                          "open",
                          imp->import_id,
                          line,
                          warnings};
    size_t n = sizeof(cols) / sizeof(cols[0]);
    p->row_off = b->rows.len;
    for (size_t c = 0; !e && c < n; c++)
        e = arr_pg_copy_field(&b->rows, cols[c], c + 1 == n);
    p->row_len = b->rows.len - p->row_off;
    p->msg_off = b->placed.len;
    if (!e)
        e = ingest_event_line(&imp->ev, p->rec.account_id, "account.placed", p->event_id, payload,
                              p->text_len, &b->placed);
    p->msg_len = b->placed.len - p->msg_off;
    return e;
}

/* The prebuilt rows of one kind of account into a table, sent as they are gathered so
 * PostgreSQL parses while the rest is copied. */
static arr_err store_accounts(ingest_import *imp, pending_kind kind, const char *copy_sql,
                              char *why, size_t whylen)
{
    batch *b = &imp->work;
    arr_err e = arr_pg_copy_begin(imp->o.pg, copy_sql, why, whylen);
    if (e)
        return e;
    for (int i = 0; !e && i < b->n_pend; i++) {
        const pending *p = &b->pend[i];
        if (p->kind != kind)
            continue;
        e = arr_buf_append(&imp->copy, b->rows.data + p->row_off, p->row_len);
        if (!e && imp->copy.len >= COPY_CHUNK) {
            e = arr_pg_copy_put(imp->o.pg, imp->copy.data, imp->copy.len, why, whylen);
            arr_buf_reset(&imp->copy);
        }
    }
    if (!e && imp->copy.len)
        e = arr_pg_copy_put(imp->o.pg, imp->copy.data, imp->copy.len, why, whylen);
    arr_buf_reset(&imp->copy);
    char endwhy[256]; /* the first error is the one that says what went wrong */
    arr_err end = arr_pg_copy_end(imp->o.pg, NULL, e ? endwhy : why, e ? sizeof(endwhy) : whylen);
    return e ? e : end;
}

static arr_err store_changed(ingest_import *imp, int n_changed, char *why, size_t whylen)
{
    if (!n_changed)
        return ARR_OK;
    arr_err e = store_accounts(
        imp, P_CHANGED, "COPY ingest_stage (" SQL_ACCOUNT_COLUMNS ") FROM STDIN", why, whylen);
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_upsert", 0, NULL, NULL, why, whylen);
    return e;
}

typedef struct arrays {
    arr_buf ids, lines;
} arrays;

static void arrays_init(arrays *a)
{
    arr_buf_init(&a->ids, COPY_MAX);
    arr_buf_init(&a->lines, COPY_MAX);
}

static void arrays_free(arrays *a)
{
    arr_buf_free(&a->ids);
    arr_buf_free(&a->lines);
}

/* The account ids of the records of one kind (all of them when kind < 0) as an array
 * literal, and their lines too when with_lines is set. */
static arr_err arrays_of(arrays *a, const batch *b, int kind, int with_lines)
{
    arr_err e = arr_pg_array_open(&a->ids);
    if (!e && with_lines)
        e = arr_pg_array_open(&a->lines);
    for (int i = 0; !e && i < b->n_pend; i++) {
        const pending *p = &b->pend[i];
        if (kind >= 0 && (int)p->kind != kind)
            continue;
        e = arr_pg_array_add(&a->ids, p->rec.account_id);
        if (!e && with_lines) {
            char line[24];
            ll(line, p->line);
            e = arr_pg_array_add(&a->lines, line);
        }
    }
    if (!e)
        e = arr_pg_array_close(&a->ids);
    if (!e && with_lines)
        e = arr_pg_array_close(&a->lines);
    return e;
}

/* The stored payloads of the changed records, for what changed. */
static arr_err fetch_before(ingest_import *imp, arrays *a, char *why, size_t whylen)
{
    batch *b = &imp->work;
    int n = 0;
    for (int i = 0; i < b->n_pend; i++)
        n += b->pend[i].kind == P_CHANGED;
    if (!n)
        return ARR_OK;
    int *map = malloc((size_t)n * sizeof(int)); /* ordinal in the query -> record */
    if (!map)
        return ARR_ENOMEM;
    for (int i = 0, k = 0; i < b->n_pend; i++) {
        if (b->pend[i].kind == P_CHANGED)
            map[k++] = i;
    }
    arr_err e = arrays_of(a, b, P_CHANGED, 0);
    PGresult *res = NULL;
    const char *params[] = {imp->tenant, a->ids.data};
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_before", 2, params, &res, why, whylen);
    for (int r = 0; !e && r < PQntuples(res); r++) {
        long ord = strtol(PQgetvalue(res, r, 0), NULL, 10);
        if (ord < 1 || ord > n) {
            e = ARR_EFATAL;
            snprintf(why, whylen, "ingest: stored payload %ld of %d", ord, n);
            break;
        }
        pending *p = &b->pend[map[ord - 1]];
        p->before =
            PQgetisnull(res, r, 1) ? json_object() : json_loads(PQgetvalue(res, r, 1), 0, NULL);
        if (!p->before)
            e = ARR_ENOMEM;
    }
    PQclear(res);
    free(map);
    return e;
}

/* Sets each pending record's kind from the stored account: rows come back only for the
 * accounts already stored, numbered by their place in the batch. */
static arr_err classify(ingest_import *imp, arrays *a, char *why, size_t whylen)
{
    batch *b = &imp->work;
    arr_err e = arrays_of(a, b, -1, 0);
    PGresult *res = NULL;
    const char *params[] = {imp->tenant, imp->import_id, a->ids.data};
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_compare", 3, params, &res, why, whylen);
    for (int i = 0; !e && i < b->n_pend; i++)
        b->pend[i].kind = P_NEW;
    for (int r = 0; !e && r < PQntuples(res); r++) {
        long ord = strtol(PQgetvalue(res, r, 0), NULL, 10);
        if (ord < 1 || ord > b->n_pend) {
            snprintf(why, whylen, "ingest: comparison returned record %ld of %d", ord, b->n_pend);
            e = ARR_EFATAL;
            break;
        }
        pending *p = &b->pend[ord - 1];
        if (PQgetvalue(res, r, 3)[0] == 't' && !PQgetisnull(res, r, 4) &&
            strtoll(PQgetvalue(res, r, 4), NULL, 10) < p->line) {
            p->kind = P_DUPLICATE; /* seen earlier in this import */
        } else if (strcmp(PQgetvalue(res, r, 1), p->hash) == 0 &&
                   strcmp(PQgetvalue(res, r, 2), "open") == 0) {
            p->kind = P_UNCHANGED;
        } else {
            p->kind = P_CHANGED;
            p->before_balance = strtoll(PQgetvalue(res, r, 5), NULL, 10);
        }
    }
    PQclear(res);
    return e ? e : fetch_before(imp, a, why, whylen);
}

/* Duplicates found against earlier batches become rejects; nothing of them is stored. */
static void reject_duplicates(ingest_import *imp)
{
    for (int i = 0; i < imp->work.n_pend; i++) {
        pending *p = &imp->work.pend[i];
        if (p->kind != P_DUPLICATE)
            continue;
        ingest_issue dup = {.code = "duplicate_in_file", .field = "account_id"};
        snprintf(dup.detail, sizeof(dup.detail), "the account appears earlier in the file");
        add_reject(&imp->work, p->line, p->rec.account_id, &dup, p->rec.account_id);
    }
}

/* Unchanged accounts only learn that this import saw them (for duplicates and the
 * snapshot's closure). */
static arr_err mark_seen(ingest_import *imp, arrays *a, int n_unchanged, char *why, size_t whylen)
{
    if (!n_unchanged)
        return ARR_OK;
    arr_err e = arrays_of(a, &imp->work, P_UNCHANGED, 1);
    const char *params[] = {imp->tenant, imp->import_id, a->ids.data, a->lines.data};
    return e ? e : arr_pg_run(imp->o.pg, "imp_seen", 4, params, NULL, why, whylen);
}

/* An event of this batch other than account.placed: published, and also stored with the
 * batch (what it says cannot be derived again from the stored account). */
static arr_err queue_envelope(ingest_import *imp, const char *account_id, const char *type,
                              const char *payload, size_t payload_len)
{
    size_t start = imp->stored.len;
    arr_err e =
        ingest_event_line(&imp->ev, account_id, type, NULL, payload, payload_len, &imp->stored);
    if (!e)
        e = arr_buf_append(&imp->msgs, imp->stored.data + start, imp->stored.len - start);
    imp->n_stored += !e;
    return e;
}

/* account.updated: the new payload plus what changed and the balance before. */
static arr_err queue_updated(ingest_import *imp, const batch *b, pending *p)
{
    json_t *payload = json_loadb(b->texts.data + p->text_off, p->text_len, 0, NULL);
    if (!payload)
        return ARR_ENOMEM;
    json_t *changes = ingest_payload_changes(p->before, payload);
    json_object_set_new(payload, "changes", changes);
    json_object_set_new(payload, "previous_balance_cents", json_integer(p->before_balance));
    char *text = changes ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!text)
        return ARR_ENOMEM;
    arr_err e = queue_envelope(imp, p->rec.account_id, "account.updated", text, strlen(text));
    free(text);
    return e;
}

/* account.placed or account.updated for each new or changed record, and the counts. */
static arr_err queue_events(ingest_import *imp, ingest_import_stats *next)
{
    batch *b = &imp->work;
    arr_err e = ARR_OK;
    for (int i = 0; !e && i < b->n_pend; i++) {
        pending *p = &b->pend[i];
        if (p->kind == P_DUPLICATE)
            continue;
        next->accepted++;
        next->warnings += p->verdict.n_warnings;
        if (p->kind == P_UNCHANGED) {
            next->unchanged++;
        } else if (p->kind == P_NEW) {
            next->placed++;
            /* prebuilt: the payload as it is, the id the stored placed_event_id */
            e = arr_buf_append(&imp->msgs, b->placed.data + p->msg_off, p->msg_len);
        } else {
            next->updated++;
            e = queue_updated(imp, b, p);
        }
    }
    return e;
}

/* The batch's events, stored with its data (arr_outbatch). */
static arr_err store_events(ingest_import *imp, long long *id, char *why, size_t whylen)
{
    *id = 0;
    if (!imp->n_stored)
        return ARR_OK;
    return arr_outbatch_store(imp->o.pg, "ingest", TOPIC(imp), imp->owner, &imp->stored,
                              imp->n_stored, id, why, whylen);
}

static arr_err publisher_idle(ingest_import *imp, char *why, size_t whylen);

/* Deletes, in the open transaction, the stored batches whose events Kafka has acknowledged:
 * all of them once the producer's queue is empty. Without `wait`, a queue still sending is
 * left alone (asked again with the next batch) unless too many batches are outstanding. */
static arr_err settle(ingest_import *imp, int wait, char *why, size_t whylen)
{
    imp->settling = 0;
    if (!imp->n_unacked)
        return ARR_OK;
    wait = wait || imp->n_unacked == UNACKED_MAX;
    arr_err e = publisher_idle(imp, why, whylen); /* all produced before asking about them */
    if (!e)
        e = arr_kafka_producer_flush(imp->o.producer, wait ? 60000 : 0, why, whylen);
    if (e == ARR_ETIMEOUT && !wait)
        return ARR_OK;
    long long line = imp->published_line;
    for (int i = 0; !e && i < imp->n_unacked; i++) {
        if (imp->unacked[i].batch_id)
            e = arr_outbatch_done(imp->o.pg, "ingest", imp->unacked[i].batch_id, why, whylen);
        line = imp->unacked[i].line > line ? imp->unacked[i].line : line;
    }
    if (!e && line > imp->published_line)
        e = ingest_recover_published(imp->o.pg, imp->import_id, line, why, whylen);
    if (!e)
        imp->settling = imp->n_unacked;
    return e;
}

/* After a commit: the settled batches are known published; the new one (line > 0) waits
 * for its acknowledgement. */
static void settled(ingest_import *imp, long long batch_id, long long line)
{
    for (int i = 0; i < imp->settling; i++)
        imp->published_line =
            imp->unacked[i].line > imp->published_line ? imp->unacked[i].line : imp->published_line;
    memmove(imp->unacked, imp->unacked + imp->settling,
            (size_t)(imp->n_unacked - imp->settling) * sizeof(imp->unacked[0]));
    imp->n_unacked -= imp->settling;
    imp->settling = 0;
    if (line > 0) {
        imp->unacked[imp->n_unacked].batch_id = batch_id;
        imp->unacked[imp->n_unacked++].line = line;
    }
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
                              imp->import_id,
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

static arr_err checkpoint(ingest_import *imp, const ingest_import_stats *n, char *why,
                          size_t whylen)
{
    char v[9][24];
    const long long vals[] = {n->lines_done, n->read,      n->accepted, n->rejected, n->placed,
                              n->updated,    n->unchanged, n->closed,   n->warnings};
    for (int i = 0; i < 9; i++)
        ll(v[i], vals[i]);
    const char *params[] = {imp->import_id, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
    return arr_pg_run(imp->o.pg, "imp_checkpoint", 10, params, NULL, why, whylen);
}

static void cache_accounts(ingest_import *imp, const arr_buf *lines)
{
    const char *l = lines->data, *end = lines->data + lines->len;
    while (l && l < end) {
        const char *nl = memchr(l, '\n', (size_t)(end - l));
        char row[ARR_ACCOUNT_MAX + 64], key[ARR_TENANT_MAX + ARR_ACCOUNT_MAX + 80];
        snprintf(row, sizeof(row), "%.*s", (int)(nl - l), l);
        char *bal = strchr(row, '\t');
        char *cur = bal ? strchr(bal + 1, '\t') : NULL;
        if (cur) {
            *bal++ = '\0';
            *cur++ = '\0';
            snprintf(key, sizeof(key), "arr:acct:%s/%s", imp->tenant, row);
            const char *argv[] = {"HSET",     key, "placed_cents", bal,
                                  "currency", cur, "status",       "open"};
            arr_redis_append(imp->o.redis, 8, argv, NULL);
        }
        l = nl + 1;
    }
    char why[256]; /* a failure only leaves the cache stale: it is rebuilt from PostgreSQL */
    arr_redis_flush(imp->o.redis, why, sizeof(why));
}

static void *publisher_main(void *arg)
{
    ingest_import *imp = arg;
    publisher *pb = &imp->pub;
    pthread_mutex_lock(&pb->mu);
    for (;;) {
        while (!pb->busy && !pb->stop)
            pthread_cond_wait(&pb->cv, &pb->mu);
        if (!pb->busy)
            break;
        pthread_mutex_unlock(&pb->mu);
        char why[256] = "";
        arr_err e = pb->msgs.len ? arr_outbatch_produce(imp->o.producer, TOPIC(imp), pb->msgs.data,
                                                        pb->msgs.len, why, sizeof(why))
                                 : ARR_OK;
        if (imp->o.redis && pb->cache.len)
            cache_accounts(imp, &pb->cache);
        arr_buf_reset(&pb->msgs);
        arr_buf_reset(&pb->cache);
        pthread_mutex_lock(&pb->mu);
        if (e && !pb->failed) {
            pb->failed = e;
            snprintf(pb->failed_why, sizeof(pb->failed_why), "%s", why);
        }
        pb->busy = 0;
        pthread_cond_broadcast(&pb->cv);
    }
    pthread_mutex_unlock(&pb->mu);
    return NULL;
}

/* Waits until the publisher has handed its batch to the producer; its error, if any. */
static arr_err publisher_idle(ingest_import *imp, char *why, size_t whylen)
{
    publisher *pb = &imp->pub;
    if (!pb->started)
        return ARR_OK;
    pthread_mutex_lock(&pb->mu);
    while (pb->busy)
        pthread_cond_wait(&pb->cv, &pb->mu);
    arr_err e = pb->failed;
    if (e)
        snprintf(why, whylen, "%s", pb->failed_why);
    pthread_mutex_unlock(&pb->mu);
    return e;
}

/* After the commit: the batch goes to the publisher, whose previous batch is done by now
 * (its stored copy settles in a later transaction, once Kafka acknowledged it). */
static arr_err publish(ingest_import *imp, char *why, size_t whylen)
{
    publisher *pb = &imp->pub;
    arr_err e = publisher_idle(imp, why, whylen);
    if (!pb->started && !e) {
        pthread_mutex_init(&pb->mu, NULL);
        pthread_cond_init(&pb->cv, NULL);
        e = pthread_create(&pb->thread, NULL, publisher_main, imp) ? ARR_ENOMEM : ARR_OK;
        pb->started = !e;
    }
    arr_buf t = pb->msgs;
    pb->msgs = imp->msgs;
    imp->msgs = t;
    for (int i = 0; !e && imp->o.redis && i < imp->work.n_pend; i++) {
        const pending *p = &imp->work.pend[i];
        if (p->kind == P_NEW || p->kind == P_CHANGED)
            e = arr_buf_appendf(&pb->cache, "%s\t%lld\t%s\n", p->rec.account_id,
                                (long long)p->rec.balance_cents, p->rec.currency);
    }
    if (e) {
        arr_buf_reset(&pb->msgs);
        arr_buf_reset(&pb->cache);
        return e;
    }
    pthread_mutex_lock(&pb->mu);
    pb->busy = 1;
    pthread_cond_broadcast(&pb->cv);
    pthread_mutex_unlock(&pb->mu);
    return ARR_OK;
}

/* Ends a batch's transaction: on success the events are stored, the checkpoint written and
 * the transaction committed, then the figures become visible and the events are published;
 * on failure everything is rolled back (the previous batch's events stay unsettled). */
static arr_err commit(ingest_import *imp, arr_err e, const ingest_import_stats *next, char *why,
                      size_t whylen)
{
    long long batch_id = 0;
    if (!e)
        e = store_events(imp, &batch_id, why, whylen);
    if (!e)
        e = checkpoint(imp, next, why, whylen);
    if (!e)
        e = arr_pg_commit(imp->o.pg, why, whylen);
    if (e) {
        arr_pg_rollback(imp->o.pg);
        arr_buf_reset(&imp->copy);
        arr_buf_reset(&imp->msgs);
        arr_buf_reset(&imp->stored);
        imp->n_stored = 0;
        return e;
    }
    if (imp->o.crash_after_commits > 0 && ++imp->commits == imp->o.crash_after_commits)
        _exit(137);
    arr_buf_reset(&imp->stored);
    imp->n_stored = 0;
    settled(imp, batch_id, next->lines_done);
    pthread_mutex_lock(&imp->mu);
    imp->st = *next;
    pthread_mutex_unlock(&imp->mu);
    return publish(imp, why, whylen);
}

static arr_err flush(ingest_import *imp, char *why, size_t whylen)
{
    batch *b = &imp->work;
    if (b->n_pend + b->n_rej == 0)
        return ARR_OK;
    ingest_import_stats next = imp->st; /* only this thread writes st while importing */
    next.lines_done = b->last_line;
    next.read += b->read;
    int n[P_DUPLICATE + 1] = {0};
    arrays a;
    arrays_init(&a);
    arr_err e = arr_pg_begin(imp->o.pg, why, whylen);
    if (!e)
        e = ingest_store_lock_tenant(imp->o.pg, imp->tenant, why, whylen);
    if (!e && b->n_pend)
        e = classify(imp, &a, why, whylen);
    for (int i = 0; !e && i < b->n_pend; i++)
        n[b->pend[i].kind]++;
    if (!e)
        reject_duplicates(imp);
    if (!e && n[P_NEW])
        e = store_accounts(imp, P_NEW, "COPY ingest.accounts (" SQL_ACCOUNT_COLUMNS ") FROM STDIN",
                           why, whylen);
    if (!e)
        e = store_changed(imp, n[P_CHANGED], why, whylen);
    if (!e)
        e = mark_seen(imp, &a, n[P_UNCHANGED], why, whylen);
    arrays_free(&a);
    if (!e)
        e = queue_events(imp, &next);
    if (!e)
        e = copy_rejects(imp, &next, why, whylen);
    /* Last, so Kafka had the whole batch's work to acknowledge the previous one. */
    if (!e)
        e = settle(imp, 0, why, whylen);
    return commit(imp, e, &next, why, whylen);
}

/* account.closed for one account the snapshot no longer lists. */
static arr_err queue_closed(ingest_import *imp, const char *account_id, const char *balance,
                            const char *currency)
{
    json_t *payload = json_pack("{s:s, s:s, s:I, s:s}", "account_id", account_id, "reason",
                                "absent_from_snapshot", "balance_cents",
                                (json_int_t)strtoll(balance, NULL, 10), "currency", currency);
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!text)
        return ARR_ENOMEM;
    arr_err e = queue_envelope(imp, account_id, "account.closed", text, strlen(text));
    free(text);
    return e;
}

/* Closes, 5,000 at a time, the open accounts of the tenant this snapshot did not contain. */
static arr_err close_missing(ingest_import *imp, int *closed, char *why, size_t whylen)
{
    const char *params[] = {imp->tenant, imp->import_id, imp->event_at};
    PGresult *res = NULL;
    ingest_import_stats next = imp->st;
    arr_err e = arr_pg_begin(imp->o.pg, why, whylen);
    if (!e)
        e = ingest_store_lock_tenant(imp->o.pg, imp->tenant, why, whylen);
    if (!e)
        e = settle(imp, 0, why, whylen);
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_close", 3, params, &res, why, whylen);
    *closed = e ? 0 : PQntuples(res);
    for (int i = 0; !e && i < *closed; i++)
        e = queue_closed(imp, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
    PQclear(res);
    next.closed += *closed;
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
    const char *params[] = {imp->import_id};
    if (!e) /* the last batch's events settle with the import's end */
        e = arr_pg_begin(imp->o.pg, why, whylen);
    if (!e)
        e = settle(imp, 1, why, whylen);
    if (!e)
        e = arr_pg_run(imp->o.pg, "imp_done", 1, params, NULL, why, whylen);
    if (!e)
        e = arr_pg_commit(imp->o.pg, why, whylen);
    else
        arr_pg_rollback(imp->o.pg);
    if (!e)
        settled(imp, 0, 0);
    return e;
}
