/* audit_store: see store.h. The batch is kept as PostgreSQL array literals, one per column,
 * so that a batch of any size is one INSERT ... SELECT FROM unnest(...) ON CONFLICT. */
#include "store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"
#include "arrears/envelope.h"
#include "arrears/utf8.h"

enum {
    C_ID,
    C_TOPIC,
    C_PART,
    C_OFF,
    C_TENANT,
    C_ACCOUNT,
    C_TYPE,
    C_TIME,
    C_CAUSE,
    C_PRODUCER,
    C_MESSAGE,
    C__COUNT
};
enum { U_TOPIC, U_PART, U_OFF, U_REASON, U_RAW, U__COUNT };

struct audit_store {
    char ns[64];
    arr_buf ev[C__COUNT];
    arr_buf un[U__COUNT];
    arr_buf scratch;
    long n_ev, n_un;
};

/* clang-format off */
static const char SQL_EVENTS[] =
    "WITH r AS (INSERT INTO audit.events (event_id, namespace, topic, kafka_partition,"
    " kafka_offset, tenant, account_id, event_type, event_time, causation_id, producer,"
    " message)"
    " SELECT k.id, $12, k.topic, k.part, k.off, k.tenant, k.acct, k.type, k.at, k.cause,"
    " k.producer, k.message"
    " FROM unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[],"
    " $7::text[], $8::timestamptz[], $9::uuid[], $10::text[], $11::text[])"
    " AS k(id, topic, part, off, tenant, acct, type, at, cause, producer, message)"
    " ON CONFLICT (event_id) DO NOTHING RETURNING 1)"
    " SELECT count(*) FROM r";
static const char SQL_UNDECODABLE[] =
    "INSERT INTO audit.undecodable (namespace, topic, kafka_partition, kafka_offset, reason, raw)"
    " SELECT $6, k.* FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[])"
    " AS k ON CONFLICT DO NOTHING";
/* clang-format on */

static void reset(audit_store *st)
{
    for (int c = 0; c < C__COUNT; c++) {
        arr_buf_reset(&st->ev[c]);
        arr_pg_array_open(&st->ev[c]);
    }
    for (int c = 0; c < U__COUNT; c++) {
        arr_buf_reset(&st->un[c]);
        arr_pg_array_open(&st->un[c]);
    }
    st->n_ev = st->n_un = 0;
}

arr_err audit_store_new(const char *ns, audit_store **out)
{
    audit_store *st = calloc(1, sizeof(*st));
    if (!st)
        return ARR_ENOMEM;
    if (strlen(ns) >= sizeof(st->ns)) {
        free(st);
        return ARR_EINVAL;
    }
    snprintf(st->ns, sizeof(st->ns), "%s", ns);
    for (int c = 0; c < C__COUNT; c++)
        arr_buf_init(&st->ev[c],
                     c == C_MESSAGE ? AUDIT_STORE_BYTES_MAX : AUDIT_STORE_BYTES_MAX / 8);
    for (int c = 0; c < U__COUNT; c++)
        arr_buf_init(&st->un[c], c == U_RAW ? AUDIT_STORE_BYTES_MAX : AUDIT_STORE_BYTES_MAX / 8);
    arr_buf_init(&st->scratch, 8 * 1024 * 1024);
    reset(st);
    *out = st;
    return ARR_OK;
}

void audit_store_free(audit_store *st)
{
    if (!st)
        return;
    for (int c = 0; c < C__COUNT; c++)
        arr_buf_free(&st->ev[c]);
    for (int c = 0; c < U__COUNT; c++)
        arr_buf_free(&st->un[c]);
    arr_buf_free(&st->scratch);
    free(st);
}

arr_err audit_store_prepare(arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = arr_pg_prepare(pg, "au_events", SQL_EVENTS, 12, why, whylen);
    return e ? e : arr_pg_prepare(pg, "au_undecodable", SQL_UNDECODABLE, 6, why, whylen);
}

/* The topic as the catalogue names it: without this deployment's namespace prefix. */
static const char *bare_topic(const audit_store *st, const char *topic)
{
    size_t n = strlen(st->ns);
    return n && strncmp(topic, st->ns, n) == 0 ? topic + n : topic;
}

/* Text PostgreSQL accepts whatever the bytes were: malformed UTF-8 and NULs become \xNN. */
static arr_err printable(arr_buf *out, const char *s, size_t len)
{
    arr_buf_reset(out);
    arr_err e = ARR_OK;
    for (size_t i = 0; !e && i < len;) {
        uint32_t cp;
        size_t k = arr_utf8_next((const unsigned char *)s, len, i, &cp);
        if (k && cp) {
            e = arr_buf_append(out, s + i, k);
            i += k;
        } else {
            e = arr_buf_appendf(out, "\\x%02X", (unsigned char)s[i]);
            i++;
        }
    }
    return e ? e : arr_buf_append(out, "", 0);
}

static arr_err add_undecodable(audit_store *st, const arr_kafka_msg *msg, const char *reason)
{
    char part[16], off[24];
    snprintf(part, sizeof(part), "%d", (int)msg->partition);
    snprintf(off, sizeof(off), "%lld", (long long)msg->offset);
    arr_err e = printable(&st->scratch, msg->value ? msg->value : "", msg->value_len);
    e = e ? e : arr_pg_array_add(&st->un[U_TOPIC], bare_topic(st, msg->topic));
    e = e ? e : arr_pg_array_add(&st->un[U_PART], part);
    e = e ? e : arr_pg_array_add(&st->un[U_OFF], off);
    e = e ? e : arr_pg_array_add(&st->un[U_REASON], reason);
    e = e ? e : arr_pg_array_add(&st->un[U_RAW], st->scratch.data ? st->scratch.data : "");
    st->n_un += !e;
    return e;
}

/* A row that did not fit is taken back whole, so the columns stay aligned. */
static void mark(const audit_store *st, size_t ev[C__COUNT], size_t un[U__COUNT])
{
    for (int c = 0; c < C__COUNT; c++)
        ev[c] = st->ev[c].len;
    for (int c = 0; c < U__COUNT; c++)
        un[c] = st->un[c].len;
}

static void undo(audit_store *st, const size_t ev[C__COUNT], const size_t un[U__COUNT])
{
    for (int c = 0; c < C__COUNT; c++)
        arr_buf_truncate(&st->ev[c], ev[c]);
    for (int c = 0; c < U__COUNT; c++)
        arr_buf_truncate(&st->un[c], un[c]);
}

static arr_err add(audit_store *st, const arr_kafka_msg *msg);

arr_err audit_store_add(audit_store *st, const arr_kafka_msg *msg)
{
    size_t ev[C__COUNT], un[U__COUNT];
    long n_ev = st->n_ev, n_un = st->n_un;
    mark(st, ev, un);
    arr_err e = add(st, msg);
    if (e) {
        undo(st, ev, un);
        st->n_ev = n_ev;
        st->n_un = n_un;
    }
    return e;
}

static arr_err add(audit_store *st, const arr_kafka_msg *msg)
{
    arr_envelope env;
    arr_envelope_init(&env);
    char why[400];
    if (!msg->value ||
        arr_envelope_decode(msg->value, msg->value_len, &env, why, sizeof(why)) != ARR_OK) {
        if (!msg->value)
            snprintf(why, sizeof(why), "empty message");
        arr_envelope_clear(&env);
        return add_undecodable(st, msg, why);
    }
    char part[16], off[24], at[ARR_TIME_STRLEN];
    snprintf(part, sizeof(part), "%d", (int)msg->partition);
    snprintf(off, sizeof(off), "%lld", (long long)msg->offset);
    arr_err e = arr_time_format(env.event_time_ms, at, sizeof(at));
    arr_buf_reset(&st->scratch);
    e = e ? e : arr_buf_append(&st->scratch, msg->value, msg->value_len);
    const char *cols[C__COUNT] = {env.event_id,
                                  bare_topic(st, msg->topic),
                                  part,
                                  off,
                                  env.tenant,
                                  env.account,
                                  env.event_type,
                                  at,
                                  env.causation_id[0] ? env.causation_id : NULL,
                                  env.producer_service,
                                  st->scratch.data};
    for (int c = 0; !e && c < C__COUNT; c++)
        e = arr_pg_array_add(&st->ev[c], cols[c]);
    st->n_ev += !e;
    arr_envelope_clear(&env);
    return e;
}

arr_err audit_store_flush(audit_store *st, arr_pg *pg, long *recorded, long *undecodable, char *why,
                          size_t whylen)
{
    *recorded = *undecodable = 0;
    arr_err e = ARR_OK;
    for (int c = 0; c < C__COUNT; c++)
        e = e ? e : arr_pg_array_close(&st->ev[c]);
    for (int c = 0; c < U__COUNT; c++)
        e = e ? e : arr_pg_array_close(&st->un[c]);
    e = e ? e : arr_pg_begin(pg, why, whylen);
    PGresult *res = NULL;
    if (!e && st->n_ev) {
        const char *p[12];
        for (int c = 0; c < C__COUNT; c++)
            p[c] = st->ev[c].data;
        p[11] = st->ns;
        e = arr_pg_run(pg, "au_events", 12, p, &res, why, whylen);
        if (!e)
            *recorded = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    if (!e && st->n_un) {
        const char *p[6];
        for (int c = 0; c < U__COUNT; c++)
            p[c] = st->un[c].data;
        p[5] = st->ns;
        res = NULL;
        e = arr_pg_run(pg, "au_undecodable", 6, p, &res, why, whylen);
        PQclear(res);
        if (!e)
            *undecodable = st->n_un;
    }
    e = e ? e : arr_pg_commit(pg, why, whylen);
    if (e)
        arr_pg_rollback(pg);
    reset(st);
    return e;
}
