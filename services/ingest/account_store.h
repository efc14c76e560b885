/* ingest_account_store: stores one validated account at a time (the Kafka door), in the
 * caller's transaction, with the same table, content hash and change detection as the
 * batch importer. */
#ifndef ARREARS_INGEST_ACCOUNT_STORE_H
#define ARREARS_INGEST_ACCOUNT_STORE_H

#include <stdint.h>
#include <jansson.h>
#include "arrears/pg.h"
#include "record.h"

typedef enum ingest_store_kind {
    INGEST_STORE_NEW = 0,
    INGEST_STORE_CHANGED,
    INGEST_STORE_UNCHANGED,
} ingest_store_kind;

typedef struct ingest_store_result {
    ingest_store_kind kind;
    json_t *before; /* the stored payload when CHANGED (new reference), else NULL */
    int64_t before_balance_cents;
} ingest_store_result;

/* Prepares the statements on pg (once per connection), the tenant's lock among them. */
arr_err ingest_store_prepare(arr_pg *pg, char *why, size_t whylen);
/* Prepares the tenant's lock alone, for a connection that stores accounts otherwise (the
 * batch importer). */
arr_err ingest_store_prepare_lock(arr_pg *pg, char *why, size_t whylen);
/* Takes the tenant's account lock for the open transaction: whoever stores the tenant's
 * accounts (this door, the batch importer) takes it first, so two never add the same account
 * at once. */
arr_err ingest_store_lock_tenant(arr_pg *pg, const char *tenant, char *why, size_t whylen);
/* payload and hash: the compact JSON text and the hash ingest_record_payload_text gives for
 * r; v: its verdict, whose warnings are stored with the account. placed_event_id is kept only
 * when the account is new. Takes the tenant's lock (ingest_store_lock_tenant). */
arr_err ingest_store_account(arr_pg *pg, const char *tenant, const ingest_record *r,
                             const ingest_verdict *v, const char *payload, const char *hash,
                             const char *placed_event_id, int64_t event_time_ms,
                             ingest_store_result *out, char *why, size_t whylen);

#endif
