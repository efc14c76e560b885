/* ingest_events: the account events of an import, as message lines (arr_outbatch form,
 * "key\tvalue\n"). Shared by the importer, which writes them while it imports, and by the
 * recovery, which writes the same events again for a batch whose publication a crash may
 * have cut short. Pure: no I/O. */
#ifndef ARREARS_INGEST_EVENTS_H
#define ARREARS_INGEST_EVENTS_H

#include <stdint.h>
#include "arrears/buf.h"
#include "arrears/deadletter.h"
#include "arrears/envelope.h"
#include "arrears/err.h"

/* Where account events go, in the namespace of ARR_TOPIC_PREFIX; ARR_TOPIC_ACCOUNTS may name
 * another topic. */
#define INGEST_TOPIC_ACCOUNTS "arrears.accounts"

/* What every event of one import shares. Borrowed strings. */
typedef struct ingest_event_ctx {
    const char *tenant;
    const char *import_id; /* also the events' correlation id: one import, one story */
    int64_t event_time_ms; /* fixed when the import began, so a resumed one derives the same */
    int64_t produced_at_ms;
    const arr_producer_id *who;
} ingest_event_ctx;

/* The id of the account.placed event of this import for the account (also stored as the
 * account's placed_event_id): the same whichever run of the import derives it. */
arr_err ingest_event_placed_id(const ingest_event_ctx *c, const char *account_id,
                               char out[ARR_UUID_STRLEN]);
/* The advisory-lock key its running process holds for the import (arr_outbatch_own). */
int64_t ingest_import_owner(const char *import_id);
/* One event appended to out as a message line; its id is event_id when given, else derived
 * from the import, the account and the type. payload: compact JSON object text. On error
 * out is left as it was. */
arr_err ingest_event_line(const ingest_event_ctx *c, const char *account_id, const char *type,
                          const char *event_id, const char *payload, size_t payload_len,
                          arr_buf *out);

#endif
