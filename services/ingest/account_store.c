#include "account_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"
#include "validate.h"

arr_err ingest_store_prepare_lock(arr_pg *pg, char *why, size_t whylen)
{
    return arr_pg_prepare(pg, "store_lock",
                          "SELECT pg_advisory_xact_lock(hashtext('ingest.accounts/' || $1))", 1,
                          why, whylen);
}

arr_err ingest_store_lock_tenant(arr_pg *pg, const char *tenant, char *why, size_t whylen)
{
    const char *params[] = {tenant};
    return arr_pg_run(pg, "store_lock", 1, params, NULL, why, whylen);
}

arr_err ingest_store_prepare(arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = ingest_store_prepare_lock(pg, why, whylen);
    if (!e)
        e = arr_pg_prepare(pg, "store_get",
                           "SELECT content_hash, payload::text, status, balance_cents"
                           " FROM ingest.accounts WHERE tenant = $1 AND account_id = $2"
                           " FOR UPDATE",
                           2, why, whylen);
    if (!e)
        e = arr_pg_prepare(
            pg, "store_put",
            "INSERT INTO ingest.accounts AS a (tenant, account_id, regime, currency,"
            " balance_cents, original_balance_cents, due_date, service_type, debtor_ref,"
            " placed_event_id, placed_at, updated_at, payload, content_hash, status, warnings)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nullif($9, ''), $10, $11, $11, $12, $13,"
            " 'open', $14) ON CONFLICT (tenant, account_id) DO UPDATE SET regime = EXCLUDED.regime,"
            " currency = EXCLUDED.currency, balance_cents = EXCLUDED.balance_cents,"
            " original_balance_cents = EXCLUDED.original_balance_cents,"
            " due_date = EXCLUDED.due_date, service_type = EXCLUDED.service_type,"
            " debtor_ref = EXCLUDED.debtor_ref, payload = EXCLUDED.payload,"
            " content_hash = EXCLUDED.content_hash, status = 'open',"
            " warnings = EXCLUDED.warnings, updated_at = EXCLUDED.updated_at",
            14, why, whylen);
    return e;
}

static arr_err load(arr_pg *pg, const char *tenant, const ingest_record *r, const char *hash,
                    ingest_store_result *out, char *why, size_t whylen)
{
    const char *params[] = {tenant, r->account_id};
    PGresult *res = NULL;
    arr_err e = ingest_store_lock_tenant(pg, tenant, why, whylen);
    if (!e)
        e = arr_pg_run(pg, "store_get", 2, params, &res, why, whylen);
    if (e)
        return e;
    memset(out, 0, sizeof(*out));
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        out->kind = PQntuples(res) == 0 ? INGEST_STORE_NEW : INGEST_STORE_CHANGED;
    } else if (strcmp(PQgetvalue(res, 0, 0), hash) == 0 &&
               strcmp(PQgetvalue(res, 0, 2), "open") == 0) {
        out->kind = INGEST_STORE_UNCHANGED;
    } else {
        out->kind = INGEST_STORE_CHANGED;
    }
    if (out->kind == INGEST_STORE_CHANGED) {
        out->before =
            PQgetisnull(res, 0, 1) ? json_object() : json_loads(PQgetvalue(res, 0, 1), 0, NULL);
        out->before_balance_cents = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    }
    PQclear(res);
    return ARR_OK;
}

arr_err ingest_store_account(arr_pg *pg, const char *tenant, const ingest_record *r,
                             const ingest_verdict *v, const char *payload, const char *hash,
                             const char *placed_event_id, int64_t event_time_ms,
                             ingest_store_result *out, char *why, size_t whylen)
{
    arr_err e = load(pg, tenant, r, hash, out, why, whylen);
    if (e || out->kind == INGEST_STORE_UNCHANGED)
        return e;
    char bal[24], orig[24], at[ARR_TIME_STRLEN];
    snprintf(bal, sizeof(bal), "%lld", (long long)r->balance_cents);
    snprintf(orig, sizeof(orig), "%lld", (long long)r->original_balance_cents);
    arr_time_format(event_time_ms, at, sizeof(at));
    arr_buf warnings;
    arr_buf_init(&warnings, INGEST_PAYLOAD_MAX);
    if (ingest_warnings_text(v, &warnings) != ARR_OK) {
        arr_buf_free(&warnings);
        return ARR_ENOMEM;
    }
    const char *params[] = {tenant,
                            r->account_id,
                            r->regime,
                            r->currency,
                            bal,
                            orig,
                            r->due_date,
                            r->service_type,
                            r->debtor_ref,
                            placed_event_id,
                            at,
                            payload,
                            hash,
                            warnings.len ? warnings.data : NULL};
    e = arr_pg_run(pg, "store_put", 14, params, NULL, why, whylen);
    arr_buf_free(&warnings);
    return e;
}
