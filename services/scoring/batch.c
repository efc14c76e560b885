#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"
#include "arrears/hash.h"
#include "arrears/jsonw.h"
#include "arrears/outbatch.h"
#include "arrears/uuid.h"

#define BUF_MAX ((size_t)256 * 1024 * 1024)
/* Accounts re-scored per transaction when a day begins: bounds a batch whatever the size of
 * the partition (the next chunk follows as a continuation event). */
#define RESCORE_CHUNK 2000
#define RESCORE_CHUNK_SQL "2000"

typedef struct item {
    arr_envelope env; /* payload owned */
    char topic[64];
    int32_t partition;
    int64_t offset;
    char *value; /* the message as consumed (owned), for a dead letter */
    size_t value_len;
    int fresh; /* claimed by this batch (the first of its id in the batch) */
    int dead;  /* refused by its account's state: dead-lettered, not folded */
    /* clock.day_started: the partition re-scored, where this chunk starts (after that
     * account), and the accounts of the chunk (indices into accts), in key order */
    int32_t day_partition;
    char after_tenant[ARR_TENANT_MAX + 1], after_account[ARR_ACCOUNT_MAX + 1];
    int *chunk;
    int n_chunk;
} item;

typedef struct account {
    char key[ARR_KEY_MAX];
    char tenant[ARR_TENANT_MAX + 1];
    char account_id[ARR_ACCOUNT_MAX + 1];
    int32_t partition;
    scoring_state st;
    int dirty;  /* state to save (and to cache) */
    int scored; /* index into scored[] + 1, 0: not scored in this batch */
    char state_text[SCORING_STATE_ENCODED_MAX]; /* encoded by save() when dirty or scored */
} account;

typedef struct scored_entry {
    int account;
    int probability_bp;
    const char *strategy, *segment, *arm, *status; /* borrowed from the engine */
} scored_entry;

struct scoring_batch {
    char ns[64]; /* the topic namespace: a day re-scores only the accounts that came through it */
    item *items;
    int n_items, cap_items;
    account *accts;
    int n_accts, cap_accts;
    int *slots; /* open addressing over accts by key; -1 empty */
    size_t n_slots;
    arr_buf msgs, copy, outputs_copy, a1, a2, a3, a4, a5;
    int n_msgs;
    scored_entry *scored;
    scoring_scored *scored_out;
    int n_scored, cap_scored, cap_scored_out;
    arr_buf dead; /* dead letters, "key\tvalue\n" lines for the scoring DLQ */
    int n_dead;
    arr_buf clock; /* continuations of a day's re-scoring, lines for arrears.clock */
    int n_clock;
};

static const struct {
    const char *name, *sql;
    int n;
} statements[] = {
    {"sc_claim",
     "INSERT INTO scoring.inbox (event_id, topic, kafka_partition, kafka_offset)"
     " SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[])"
     " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
     4},
    /* Of the events claimed before, those claimed at this very position: redeliveries. The
     * same event at another position is a duplicate input, whose outputs already went. */
    {"sc_redelivered",
     "SELECT i.event_id FROM scoring.inbox i"
     " JOIN unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[]) AS k(id, topic, part, off)"
     " ON i.event_id = k.id AND i.topic = k.topic AND i.kafka_partition = k.part"
     " AND i.kafka_offset = k.off",
     4},
    {"sc_replay",
     "SELECT tenant || '/' || account_id, message FROM scoring.scores"
     " WHERE cause_event_id = ANY($1::uuid[]) ORDER BY scored_at, score_event_id",
     1},
    {"sc_load",
     "SELECT a.tenant, a.account_id, a.state FROM unnest($1::text[], $2::text[]) AS k(t, a)"
     " JOIN scoring.accounts a ON a.tenant = k.t AND a.account_id = k.a"
     " ORDER BY a.tenant, a.account_id FOR UPDATE OF a", /* one lock order for every replica */
     2},
    {"sc_load_partition",
     "SELECT tenant, account_id, state FROM scoring.accounts"
     " WHERE namespace = $4 AND kafka_partition = $1 AND status = 'open'"
     " AND (tenant, account_id) > ($2, $3)"
     " ORDER BY tenant, account_id LIMIT " RESCORE_CHUNK_SQL " FOR UPDATE",
     4},
    {"sc_save",
     "INSERT INTO scoring.accounts (tenant, account_id, kafka_partition, status, state, namespace)"
     " SELECT k.*, $6 FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[]) k"
     " ON CONFLICT (tenant, account_id) DO UPDATE SET kafka_partition = EXCLUDED.kafka_partition,"
     " status = EXCLUDED.status, state = EXCLUDED.state, namespace = EXCLUDED.namespace,"
     " updated_at = now()",
     6},
    {"sc_outputs_replay",
     "SELECT kind, key, message FROM scoring.outputs WHERE event_id = ANY($1::uuid[])", 1},
    /* A score is paid by the first payment after it (not by the one that caused it). */
    {"sc_label",
     "WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])"
     " AS u(tenant, account, t))"
     " UPDATE scoring.scores s SET paid_at = (SELECT min(u.t) FROM u WHERE u.tenant = s.tenant"
     " AND u.account = s.account_id AND u.t > s.scored_at)"
     " WHERE s.paid_at IS NULL AND (s.tenant, s.account_id) IN (SELECT tenant, account FROM u)"
     " AND s.scored_at < (SELECT max(u.t) FROM u WHERE u.tenant = s.tenant"
     " AND u.account = s.account_id)",
     3},
};

arr_err scoring_batch_prepare(arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    for (size_t i = 0; !e && i < sizeof(statements) / sizeof(statements[0]); i++)
        e = arr_pg_prepare(pg, statements[i].name, statements[i].sql, statements[i].n, why, whylen);
    return e;
}

arr_err scoring_batch_new(scoring_batch **out)
{
    scoring_batch *b = calloc(1, sizeof(*b));
    if (!b)
        return ARR_ENOMEM;
    arr_buf *bufs[] = {&b->msgs, &b->copy, &b->outputs_copy, &b->a1,   &b->a2,
                       &b->a3,   &b->a4,   &b->a5,           &b->dead, &b->clock};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        arr_buf_init(bufs[i], BUF_MAX);
    *out = b;
    return ARR_OK;
}

void scoring_batch_reset(scoring_batch *b)
{
    for (int i = 0; i < b->n_items; i++) {
        arr_envelope_clear(&b->items[i].env);
        free(b->items[i].value);
        free(b->items[i].chunk);
    }
    b->n_items = 0;
    arr_buf_reset(&b->dead);
    b->n_dead = 0;
    arr_buf_reset(&b->clock);
    b->n_clock = 0;
    b->n_accts = 0;
    if (b->slots)
        memset(b->slots, 0xff, b->n_slots * sizeof(int));
    arr_buf_reset(&b->msgs);
    b->n_msgs = 0;
    b->n_scored = 0;
}

void scoring_batch_set_namespace(scoring_batch *b, const char *ns)
{
    snprintf(b->ns, sizeof(b->ns), "%s", ns ? ns : "");
}

void scoring_batch_free(scoring_batch *b)
{
    if (!b)
        return;
    scoring_batch_reset(b);
    arr_buf *bufs[] = {&b->msgs, &b->copy, &b->outputs_copy, &b->a1,   &b->a2,
                       &b->a3,   &b->a4,   &b->a5,           &b->dead, &b->clock};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        arr_buf_free(bufs[i]);
    free(b->items);
    free(b->accts);
    free(b->slots);
    free(b->scored);
    free(b->scored_out);
    free(b);
}

static int grow(void **p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return 1;
    int c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * size);
    if (!q)
        return 0;
    *p = q;
    *cap = c;
    return 1;
}

arr_err scoring_batch_add(scoring_batch *b, arr_envelope *env, const arr_kafka_msg *msg)
{
    if (!grow((void **)&b->items, &b->cap_items, b->n_items + 1, sizeof(item)))
        return ARR_ENOMEM;
    char *value = malloc(msg->value_len + 1);
    if (!value)
        return ARR_ENOMEM;
    memcpy(value, msg->value, msg->value_len);
    value[msg->value_len] = '\0';
    item *it = &b->items[b->n_items++];
    memset(it, 0, sizeof(*it));
    it->env = *env;
    env->payload = NULL; /* stolen */
    snprintf(it->topic, sizeof(it->topic), "%s", msg->topic);
    it->partition = msg->partition;
    it->offset = msg->offset;
    it->value = value;
    it->value_len = msg->value_len;
    /* A day's re-scoring names its partition (the consumed one for the scheduler's ticks) and,
     * when it continues one, the last account done. */
    json_t *part = json_object_get(it->env.payload, "partition");
    it->day_partition = json_is_integer(part) ? (int32_t)json_integer_value(part) : msg->partition;
    const char *at = json_string_value(json_object_get(it->env.payload, "after_tenant"));
    const char *aa = json_string_value(json_object_get(it->env.payload, "after_account"));
    snprintf(it->after_tenant, sizeof(it->after_tenant), "%s", at ? at : "");
    snprintf(it->after_account, sizeof(it->after_account), "%s", aa ? aa : "");
    return ARR_OK;
}

/* An event whose payload the account's state refuses (a payment in another currency):
 * kept as a dead letter naming it, never folded; stored with its claim, so a redelivery
 * produces it again. */
static arr_err dead_letter(scoring_batch *b, item *it, const arr_producer_id *who, int64_t now_ms,
                           const char *reason)
{
    char key[ARR_KEY_MAX], id[ARR_UUID_STRLEN], *value = NULL;
    size_t len = 0;
    arr_kafka_msg view = {.topic = it->topic,
                          .partition = it->partition,
                          .offset = it->offset,
                          .value = it->value,
                          .value_len = it->value_len};
    arr_err e = arr_deadletter_build(&view, reason, who, now_ms, &value, &len, key, id);
    if (!e)
        e = arr_outbatch_append(&b->dead, key, value, len);
    const char *cols[] = {it->env.event_id, "dead_letter", key, value};
    for (int c = 0; !e && c < 4; c++)
        e = arr_pg_copy_field(&b->outputs_copy, cols[c], c == 3);
    b->n_dead += !e;
    it->dead = !e;
    free(value);
    return e;
}

/* ------------------------------------------------------------------ accounts of the batch */

static arr_err rehash(scoring_batch *b, size_t n)
{
    int *s = malloc(n * sizeof(int));
    if (!s)
        return ARR_ENOMEM;
    memset(s, 0xff, n * sizeof(int));
    for (int i = 0; i < b->n_accts; i++) {
        size_t j = arr_hash_fnv1a64(b->accts[i].key) & (n - 1);
        while (s[j] >= 0)
            j = (j + 1) & (n - 1);
        s[j] = i;
    }
    free(b->slots);
    b->slots = s;
    b->n_slots = n;
    return ARR_OK;
}

/* The account of tenant/account_id, added (empty state) when absent; *out its index. */
static arr_err account_of(scoring_batch *b, const char *tenant, const char *account_id,
                          int32_t partition, int *out)
{
    char key[ARR_KEY_MAX];
    snprintf(key, sizeof(key), "%s/%s", tenant, account_id);
    if ((size_t)(b->n_accts + 1) * 2 > b->n_slots) {
        arr_err e = rehash(b, b->n_slots ? b->n_slots * 2 : 1024);
        if (e)
            return e;
    }
    size_t j = arr_hash_fnv1a64(key) & (b->n_slots - 1);
    for (; b->slots[j] >= 0; j = (j + 1) & (b->n_slots - 1)) {
        if (strcmp(b->accts[b->slots[j]].key, key) == 0) {
            *out = b->slots[j];
            return ARR_OK;
        }
    }
    if (!grow((void **)&b->accts, &b->cap_accts, b->n_accts + 1, sizeof(account)))
        return ARR_ENOMEM;
    account *a = &b->accts[b->n_accts];
    memset(a, 0, sizeof(*a));
    memcpy(a->key, key, sizeof(key));
    snprintf(a->tenant, sizeof(a->tenant), "%s", tenant);
    snprintf(a->account_id, sizeof(a->account_id), "%s", account_id);
    a->partition = partition;
    scoring_state_init(&a->st);
    b->slots[j] = b->n_accts;
    *out = b->n_accts++;
    return ARR_OK;
}

/* ------------------------------------------------------------------ database steps */

static int is_tick(const item *it)
{
    return strcmp(it->env.event_type, "clock.day_started") == 0;
}

/* A day's tick addressed to scoring. */
static int is_clock(const item *it)
{
    return is_tick(it) && arr_event_for_service(it->env.payload, "scoring");
}

/* A tick for other services only: claimed in the inbox, nothing else (no account to load). */
static int is_other_tick(const item *it)
{
    return is_tick(it) && !is_clock(it);
}

static arr_err claim(scoring_batch *b, arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = arr_pg_array_open(&b->a1);
    e = e ? e : arr_pg_array_open(&b->a2);
    e = e ? e : arr_pg_array_open(&b->a3);
    e = e ? e : arr_pg_array_open(&b->a4);
    for (int i = 0; !e && i < b->n_items; i++) {
        char part[16], off[24];
        snprintf(part, sizeof(part), "%d", (int)b->items[i].partition);
        snprintf(off, sizeof(off), "%lld", (long long)b->items[i].offset);
        e = arr_pg_array_add(&b->a1, b->items[i].env.event_id);
        e = e ? e : arr_pg_array_add(&b->a2, b->items[i].topic);
        e = e ? e : arr_pg_array_add(&b->a3, part);
        e = e ? e : arr_pg_array_add(&b->a4, off);
    }
    e = e ? e : arr_pg_array_close(&b->a1);
    e = e ? e : arr_pg_array_close(&b->a2);
    e = e ? e : arr_pg_array_close(&b->a3);
    e = e ? e : arr_pg_array_close(&b->a4);
    const char *params[] = {b->a1.data, b->a2.data, b->a3.data, b->a4.data};
    PGresult *res = NULL;
    if (!e)
        e = arr_pg_run(pg, "sc_claim", 4, params, &res, why, whylen);
    /* Only the first item of an id is fresh: a repeat within the batch is a redelivery. */
    for (int r = 0; !e && r < PQntuples(res); r++) {
        for (int i = 0; i < b->n_items; i++) {
            if (strcmp(b->items[i].env.event_id, PQgetvalue(res, r, 0)) == 0) {
                b->items[i].fresh = 1;
                break;
            }
        }
    }
    PQclear(res);
    return e;
}

static arr_err append_message(scoring_batch *b, const char *key, const char *value, size_t len)
{
    arr_err e = arr_outbatch_append(&b->msgs, key, value, len);
    b->n_msgs += !e;
    return e;
}

/* The four arrays (id, topic, partition, offset) of the items that are not fresh. */
static arr_err positions(scoring_batch *b, int *n)
{
    arr_buf *arr[] = {&b->a1, &b->a2, &b->a3, &b->a4};
    arr_err e = ARR_OK;
    for (int k = 0; !e && k < 4; k++)
        e = arr_pg_array_open(arr[k]);
    *n = 0;
    for (int i = 0; !e && i < b->n_items; i++) {
        const item *it = &b->items[i];
        if (it->fresh)
            continue;
        char part[16], off[24];
        snprintf(part, sizeof(part), "%d", (int)it->partition);
        snprintf(off, sizeof(off), "%lld", (long long)it->offset);
        e = arr_pg_array_add(&b->a1, it->env.event_id);
        e = e ? e : arr_pg_array_add(&b->a2, it->topic);
        e = e ? e : arr_pg_array_add(&b->a3, part);
        e = e ? e : arr_pg_array_add(&b->a4, off);
        (*n)++;
    }
    for (int k = 0; !e && k < 4; k++)
        e = arr_pg_array_close(arr[k]);
    return e;
}

/* Events redelivered (their batch's Kafka transaction aborted after PostgreSQL committed):
 * their scores and dead letters as they were produced the first time. */
static arr_err replay(scoring_batch *b, arr_pg *pg, char *why, size_t whylen)
{
    int n = 0;
    arr_err e = positions(b, &n);
    if (e || !n)
        return e;
    const char *pos[] = {b->a1.data, b->a2.data, b->a3.data, b->a4.data};
    PGresult *res = NULL;
    e = arr_pg_run(pg, "sc_redelivered", 4, pos, &res, why, whylen);
    e = e ? e : arr_pg_array_open(&b->a1);
    for (int r = 0; !e && r < PQntuples(res); r++)
        e = arr_pg_array_add(&b->a1, PQgetvalue(res, r, 0));
    e = e ? e : arr_pg_array_close(&b->a1);
    n = e ? 0 : PQntuples(res);
    PQclear(res);
    if (e || !n)
        return e;
    const char *params[] = {b->a1.data};
    res = NULL;
    e = arr_pg_run(pg, "sc_replay", 1, params, &res, why, whylen);
    for (int r = 0; !e && r < PQntuples(res); r++)
        e = append_message(b, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                           (size_t)PQgetlength(res, r, 1));
    PQclear(res);
    res = NULL;
    if (!e)
        e = arr_pg_run(pg, "sc_outputs_replay", 1, params, &res, why, whylen);
    for (int r = 0; !e && r < PQntuples(res); r++) {
        int dead = strcmp(PQgetvalue(res, r, 0), "dead_letter") == 0;
        e = arr_outbatch_append(dead ? &b->dead : &b->clock, PQgetvalue(res, r, 1),
                                PQgetvalue(res, r, 2), (size_t)PQgetlength(res, r, 2));
        *(dead ? &b->n_dead : &b->n_clock) += !e;
    }
    PQclear(res);
    return e;
}

/* The stored state of row r into its account, unless the batch holds that account already
 * (then it was loaded before, or is new). */
static arr_err decode_state(scoring_batch *b, PGresult *res, int r, int32_t partition, int *out,
                            char *why, size_t whylen)
{
    int n = b->n_accts, idx;
    arr_err e = account_of(b, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), partition, &idx);
    *out = idx;
    if (!e && idx == n)
        e = scoring_state_decode(PQgetvalue(res, r, 2), (size_t)PQgetlength(res, r, 2),
                                 &b->accts[idx].st, why, whylen);
    return e;
}

/* The stored states of the fresh events' accounts (each asked for once), and of every open
 * account of the partitions whose day began. */
static arr_err load(scoring_batch *b, arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = arr_pg_array_open(&b->a1);
    e = e ? e : arr_pg_array_open(&b->a2);
    for (int i = 0; !e && i < b->n_items; i++) {
        const item *it = &b->items[i];
        if (!it->fresh || is_tick(it))
            continue;
        int n = b->n_accts, idx;
        e = account_of(b, it->env.tenant, it->env.account, it->partition, &idx);
        if (!e && idx == n) {
            e = arr_pg_array_add(&b->a1, it->env.tenant);
            e = e ? e : arr_pg_array_add(&b->a2, it->env.account);
        }
    }
    e = e ? e : arr_pg_array_close(&b->a1);
    e = e ? e : arr_pg_array_close(&b->a2);
    const char *params[] = {b->a1.data, b->a2.data};
    PGresult *res = NULL;
    if (!e)
        e = arr_pg_run(pg, "sc_load", 2, params, &res, why, whylen);
    for (int r = 0; !e && r < PQntuples(res); r++) {
        int idx;
        e = account_of(b, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), 0, &idx);
        if (!e)
            e = scoring_state_decode(PQgetvalue(res, r, 2), (size_t)PQgetlength(res, r, 2),
                                     &b->accts[idx].st, why, whylen);
    }
    PQclear(res);
    for (int i = 0; !e && i < b->n_items; i++) {
        if (!b->items[i].fresh || !is_clock(&b->items[i]))
            continue;
        item *day = &b->items[i];
        char part[16];
        snprintf(part, sizeof(part), "%d", (int)day->day_partition);
        const char *pp[] = {part, day->after_tenant, day->after_account, b->ns};
        res = NULL;
        e = arr_pg_run(pg, "sc_load_partition", 4, pp, &res, why, whylen);
        int rows = e ? 0 : PQntuples(res);
        if (!e && rows && !(day->chunk = malloc((size_t)rows * sizeof(int))))
            e = ARR_ENOMEM;
        for (int r = 0; !e && r < rows; r++)
            e = decode_state(b, res, r, day->day_partition, &day->chunk[day->n_chunk++], why,
                             whylen);
        PQclear(res);
    }
    return e;
}

/* ------------------------------------------------------------------ scoring */

int scoring_triggers_score(const char *type)
{
    static const char *const triggers[] = {
        "account.placed",         "account.updated",  "account.closed",
        "payment.applied",        "payment.reversed", "promise.broken",
        "plan.instalment_missed", "reply.received",   NULL};
    for (int i = 0; triggers[i]; i++) {
        if (strcmp(type, triggers[i]) == 0)
            return 1;
    }
    return 0;
}

static arr_err copy_history_row(scoring_batch *b, const account *a, const scoring_decision *d,
                                const arr_envelope *out, const char *cause_type,
                                const char *message)
{
    char at[ARR_TIME_STRLEN], p[32], er[24], feats[SF_COUNT * 26 + 4];
    arr_time_format(out->event_time_ms, at, sizeof(at));
    snprintf(p, sizeof(p), "%.17g", d->score.probability);
    snprintf(er, sizeof(er), "%lld", (long long)d->strategy.expected_recovery_cents);
    size_t n = 0;
    feats[n++] = '{';
    for (int f = 0; f < SF_COUNT; f++)
        n += (size_t)snprintf(feats + n, sizeof(feats) - n, "%s%.17g", f ? "," : "", d->x[f]);
    snprintf(feats + n, sizeof(feats) - n, "}");
    const char *cols[] = {out->event_id,
                          out->causation_id,
                          a->tenant,
                          a->account_id,
                          at,
                          cause_type,
                          d->arm,
                          d->model_id,
                          d->strategy_table_version,
                          p,
                          er,
                          d->strategy.segment,
                          d->strategy.strategy,
                          feats,
                          message,
                          NULL};
    size_t k = sizeof(cols) / sizeof(cols[0]);
    arr_err e = ARR_OK;
    for (size_t c = 0; !e && c < k; c++)
        e = arr_pg_copy_field(&b->copy, cols[c], c + 1 == k);
    return e;
}

/* One score of account a caused by event cause (at its event time). */
static arr_err score_one(scoring_batch *b, int ai, const arr_envelope *cause,
                         const scoring_engine *engine, const arr_producer_id *who, int64_t now_ms,
                         char *why, size_t whylen)
{
    account *a = &b->accts[ai];
    scoring_decision d;
    arr_err e =
        scoring_engine_decide(engine, a->tenant, a->account_id, &a->st, cause->event_time_ms, &d);
    if (e)
        return e;
    arr_envelope out;
    arr_envelope_init(&out);
    char name[ARR_KEY_MAX + 80];
    snprintf(name, sizeof(name), "score.computed/%s/%s", cause->event_id, a->key);
    e = arr_uuid_named(a->tenant, name, out.event_id);
    snprintf(out.event_type, sizeof(out.event_type), "score.computed");
    out.schema_version = 1;
    snprintf(out.tenant, sizeof(out.tenant), "%s", a->tenant);
    snprintf(out.account, sizeof(out.account), "%s", a->account_id);
    out.event_time_ms = cause->event_time_ms;
    out.produced_at_ms = now_ms;
    memcpy(out.causation_id, cause->event_id, ARR_UUID_STRLEN);
    memcpy(out.correlation_id, cause->correlation_id[0] ? cause->correlation_id : cause->event_id,
           ARR_UUID_STRLEN);
    snprintf(out.producer_service, sizeof(out.producer_service), "%s", who->service);
    snprintf(out.producer_version, sizeof(out.producer_version), "%s", who->version);
    snprintf(out.producer_instance, sizeof(out.producer_instance), "%s", who->instance);
    arr_buf *payload = &b->a5, *msg = &b->a4;
    arr_buf_reset(payload);
    arr_buf_reset(msg);
    if (!e)
        e = scoring_decision_payload(&d, &a->st, cause->event_type, payload);
    if (!e)
        e = arr_envelope_encode_text(&out, payload->data, payload->len, msg, why, whylen);
    if (!e)
        e = append_message(b, a->key, msg->data, msg->len);
    if (!e)
        e = copy_history_row(b, a, &d, &out, cause->event_type, msg->data);
    if (!e && !a->scored) {
        if (!grow((void **)&b->scored, &b->cap_scored, b->n_scored + 1, sizeof(scored_entry)))
            e = ARR_ENOMEM;
        else
            a->scored = ++b->n_scored;
    }
    if (!e) {
        scored_entry *s = &b->scored[a->scored - 1];
        *s = (scored_entry){
            ai,    d.score.probability_bp,       d.strategy.strategy, d.strategy.segment,
            d.arm, scoring_status_name(d.status)};
    }
    arr_envelope_clear(&out);
    return e;
}

/* The next chunk of a day's re-scoring: the same day, partition and event time, after the
 * last account of this chunk; its id derives from this event and that account. */
static arr_err continue_day(scoring_batch *b, const item *it, const arr_producer_id *who,
                            int64_t now_ms, char *why, size_t whylen)
{
    const account *last = &b->accts[it->chunk[it->n_chunk - 1]];
    arr_envelope next;
    arr_envelope_init(&next);
    char name[ARR_KEY_MAX + 96];
    snprintf(name, sizeof(name), "%s/after/%s", it->env.event_id, last->key);
    arr_err e = arr_uuid_named(it->env.tenant, name, next.event_id);
    snprintf(next.event_type, sizeof(next.event_type), "%s", it->env.event_type);
    next.schema_version = 1;
    snprintf(next.tenant, sizeof(next.tenant), "%s", it->env.tenant);
    snprintf(next.account, sizeof(next.account), "%s", it->env.account);
    next.event_time_ms = it->env.event_time_ms;
    next.produced_at_ms = now_ms;
    memcpy(next.causation_id, it->env.event_id, ARR_UUID_STRLEN);
    memcpy(next.correlation_id, it->env.correlation_id, ARR_UUID_STRLEN);
    snprintf(next.producer_service, sizeof(next.producer_service), "%s", who->service);
    snprintf(next.producer_version, sizeof(next.producer_version), "%s", who->version);
    snprintf(next.producer_instance, sizeof(next.producer_instance), "%s", who->instance);
    const char *day = json_string_value(json_object_get(it->env.payload, "day"));
    arr_buf *payload = &b->a5, *msg = &b->a4;
    arr_buf_reset(payload);
    arr_buf_reset(msg);
    arr_jsonw w;
    arr_jsonw_init(&w, payload);
    arr_jsonw_object_begin(&w);
    arr_jsonw_key(&w, "day");
    arr_jsonw_string(&w, day ? day : "");
    arr_jsonw_key(&w, "partition");
    arr_jsonw_int(&w, it->day_partition);
    arr_jsonw_key(&w, "after_tenant");
    arr_jsonw_string(&w, last->tenant);
    arr_jsonw_key(&w, "after_account");
    arr_jsonw_string(&w, last->account_id);
    const json_t *services = json_object_get(it->env.payload, "services");
    if (json_is_array(services)) {
        arr_jsonw_key(&w, "services");
        arr_jsonw_array_begin(&w);
        for (size_t k = 0; k < json_array_size(services); k++)
            arr_jsonw_string(&w, json_string_value(json_array_get(services, k)));
        arr_jsonw_array_end(&w);
    }
    arr_jsonw_object_end(&w);
    char key[ARR_KEY_MAX];
    e = e ? e : arr_jsonw_finish(&w);
    e = e ? e : arr_envelope_key(&next, key, sizeof(key));
    e = e ? e : arr_envelope_encode_text(&next, payload->data, payload->len, msg, why, whylen);
    e = e ? e : arr_outbatch_append(&b->clock, key, msg->data, msg->len);
    const char *cols[] = {it->env.event_id, "clock", key, msg->data};
    for (int c = 0; !e && c < 4; c++)
        e = arr_pg_copy_field(&b->outputs_copy, cols[c], c == 3);
    b->n_clock += !e;
    arr_envelope_clear(&next);
    return e;
}

/* Folds the fresh events in order and scores the triggers; a payload scoring cannot read
 * is an input error for the caller to dead-letter (why names the event). */
static arr_err apply_all(scoring_batch *b, const scoring_engine *engine, const arr_producer_id *who,
                         int64_t now_ms, char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    for (int i = 0; !e && i < b->n_items; i++) {
        item *it = &b->items[i];
        if (!it->fresh || is_other_tick(it))
            continue;
        if (is_clock(it)) { /* this chunk of the partition's open accounts, as of the day */
            for (int k = 0; !e && k < it->n_chunk; k++) {
                if (scoring_state_status(&b->accts[it->chunk[k]].st) == SCORING_STATUS_OPEN)
                    e = score_one(b, it->chunk[k], &it->env, engine, who, now_ms, why, whylen);
            }
            if (!e && it->n_chunk == RESCORE_CHUNK)
                e = continue_day(b, it, who, now_ms, why, whylen);
            continue;
        }
        int ai;
        e = account_of(b, it->env.tenant, it->env.account, it->partition, &ai);
        if (e)
            break;
        account *a = &b->accts[ai];
        int64_t version = a->st.version;
        char reason[256];
        e = scoring_state_apply(&a->st, it->env.event_type, it->env.payload, it->env.event_time_ms,
                                it->env.event_id, reason, sizeof(reason));
        if (e == ARR_EINVAL) {
            char full[400];
            snprintf(full, sizeof(full), "payload: %s", reason);
            e = dead_letter(b, it, who, now_ms, full);
            continue;
        }
        if (e) {
            snprintf(why, whylen, "event %s (%s): %s", it->env.event_id, it->env.event_type,
                     reason);
            return e;
        }
        if (a->st.version == version)
            continue; /* a type scoring does not fold (other services' events share the topics) */
        a->dirty = 1;
        a->partition = it->partition;
        if (scoring_triggers_score(it->env.event_type))
            e = score_one(b, ai, &it->env, engine, who, now_ms, why, whylen);
    }
    return e;
}

/* ------------------------------------------------------------------ writing back */

static arr_err save(scoring_batch *b, arr_pg *pg, char *why, size_t whylen)
{
    arr_buf *arr[] = {&b->a1, &b->a2, &b->a3, &b->a4, &b->a5};
    arr_err e = ARR_OK;
    for (int k = 0; !e && k < 5; k++)
        e = arr_pg_array_open(arr[k]);
    int n = 0;
    for (int i = 0; !e && i < b->n_accts; i++) {
        account *a = &b->accts[i];
        size_t len;
        if (a->dirty || a->scored) /* once, for the table and the cache */
            e = scoring_state_encode(&a->st, a->state_text, sizeof(a->state_text), &len);
        if (e || !a->dirty)
            continue;
        char part[16];
        snprintf(part, sizeof(part), "%d", (int)a->partition);
        e = arr_pg_array_add(&b->a1, a->tenant);
        e = e ? e : arr_pg_array_add(&b->a2, a->account_id);
        e = e ? e : arr_pg_array_add(&b->a3, part);
        e = e ? e : arr_pg_array_add(&b->a4, scoring_status_name(scoring_state_status(&a->st)));
        e = e ? e : arr_pg_array_add(&b->a5, a->state_text);
        n++;
    }
    for (int k = 0; !e && k < 5; k++)
        e = arr_pg_array_close(arr[k]);
    const char *params[] = {b->a1.data, b->a2.data, b->a3.data, b->a4.data, b->a5.data, b->ns};
    if (!e && n)
        e = arr_pg_run(pg, "sc_save", 6, params, NULL, why, whylen);
    return e;
}

/* Scores and dead letters of fresh events: new rows by construction (their events were
 * claimed just now), so they are COPYed straight in. */
static arr_err history(scoring_batch *b, arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = arr_pg_copy_buf(pg, "COPY scoring.scores FROM STDIN", b->copy.data, b->copy.len,
                                NULL, why, whylen);
    if (!e)
        e = arr_pg_copy_buf(pg, "COPY scoring.outputs (event_id, kind, key, message) FROM STDIN",
                            b->outputs_copy.data, b->outputs_copy.len, NULL, why, whylen);
    arr_buf_reset(&b->copy);
    arr_buf_reset(&b->outputs_copy);
    return e;
}

/* Payments mark the account's earlier scores as paid (the label of training). */
static arr_err label(scoring_batch *b, arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = arr_pg_array_open(&b->a1);
    e = e ? e : arr_pg_array_open(&b->a2);
    e = e ? e : arr_pg_array_open(&b->a3);
    int n = 0;
    for (int i = 0; !e && i < b->n_items; i++) {
        const item *it = &b->items[i];
        if (!it->fresh || it->dead || strcmp(it->env.event_type, "payment.applied") != 0)
            continue;
        char at[ARR_TIME_STRLEN];
        arr_time_format(it->env.event_time_ms, at, sizeof(at));
        e = arr_pg_array_add(&b->a1, it->env.tenant);
        e = e ? e : arr_pg_array_add(&b->a2, it->env.account);
        e = e ? e : arr_pg_array_add(&b->a3, at);
        n++;
    }
    e = e ? e : arr_pg_array_close(&b->a1);
    e = e ? e : arr_pg_array_close(&b->a2);
    e = e ? e : arr_pg_array_close(&b->a3);
    const char *params[] = {b->a1.data, b->a2.data, b->a3.data};
    if (!e && n)
        e = arr_pg_run(pg, "sc_label", 3, params, NULL, why, whylen);
    return e;
}

arr_err scoring_batch_run(scoring_batch *b, arr_pg *pg, const scoring_engine *engine,
                          const arr_producer_id *who, int64_t now_ms, char *why, size_t whylen)
{
    arr_buf_reset(&b->copy);
    arr_buf_reset(&b->outputs_copy);
    arr_err e = arr_pg_begin(pg, why, whylen);
    e = e ? e : claim(b, pg, why, whylen);
    e = e ? e : replay(b, pg, why, whylen);
    e = e ? e : load(b, pg, why, whylen);
    e = e ? e : apply_all(b, engine, who, now_ms, why, whylen);
    e = e ? e : save(b, pg, why, whylen);
    e = e ? e : history(b, pg, why, whylen);
    e = e ? e : label(b, pg, why, whylen);
    e = e ? e : arr_pg_commit(pg, why, whylen);
    if (e)
        arr_pg_rollback(pg);
    return e;
}

const arr_buf *scoring_batch_messages(const scoring_batch *b, int *n)
{
    *n = b->n_msgs;
    return &b->msgs;
}

const arr_buf *scoring_batch_continuations(const scoring_batch *b, int *n)
{
    *n = b->n_clock;
    return &b->clock;
}

const arr_buf *scoring_batch_dead_letters(const scoring_batch *b, int *n)
{
    *n = b->n_dead;
    return &b->dead;
}

const scoring_scored *scoring_batch_cached(scoring_batch *b, int *n)
{
    *n = 0;
    if (!grow((void **)&b->scored_out, &b->cap_scored_out, b->n_accts + 1, sizeof(scoring_scored)))
        return NULL;
    for (int i = 0; i < b->n_accts; i++) {
        const account *a = &b->accts[i];
        if (!a->dirty && !a->scored)
            continue;
        scoring_scored *o = &b->scored_out[(*n)++];
        *o = (scoring_scored){.key = a->key, .probability_bp = -1, .state = a->state_text};
        if (a->scored) {
            const scored_entry *s = &b->scored[a->scored - 1];
            o->probability_bp = s->probability_bp;
            o->strategy = s->strategy;
            o->segment = s->segment;
            o->arm = s->arm;
            o->status = s->status;
        } else {
            o->status = scoring_status_name(scoring_state_status(&a->st));
        }
    }
    return b->scored_out;
}
