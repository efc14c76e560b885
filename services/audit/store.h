/* audit_store: the audit service's batch of consumed messages, written to audit.events (every
 * arrears envelope, by event id) and audit.undecodable (anything else, with why) in one
 * statement each, idempotently: a redelivered or republished event is recorded once, so the
 * service runs at least once and the table still holds each event exactly once.
 *
 * The batch owns copies of what it needs; messages are not borrowed past audit_store_add. */
#ifndef ARREARS_AUDIT_STORE_H
#define ARREARS_AUDIT_STORE_H

#include "arrears/buf.h"
#include "arrears/err.h"
#include "arrears/kafka.h"
#include "arrears/pg.h"

typedef struct audit_store audit_store;

/* ns: the topic namespace (ARR_TOPIC_PREFIX, "" in production), copied; it is stripped from
 * the topic names recorded, and recorded in its own column. */
arr_err audit_store_new(const char *ns, audit_store **out);
void audit_store_free(audit_store *st);
/* Prepares the statements on pg (once per connection). */
arr_err audit_store_prepare(arr_pg *pg, char *why, size_t whylen);
/* Bytes a batch may hold per column: a batch that reaches it is written before it grows. */
#define AUDIT_STORE_BYTES_MAX (64u * 1024 * 1024)

/* Adds one consumed message: an envelope goes to the events, anything else (with the
 * decoder's reason) to the undecodable. Borrows msg for the call only. ARR_ELIMIT (the batch
 * unchanged) when it does not fit: flush, then add it again. */
arr_err audit_store_add(audit_store *st, const arr_kafka_msg *msg);
/* Writes the batch in one PostgreSQL transaction (committed on ARR_OK) and empties it.
 * *recorded: events newly recorded (not seen before); *undecodable: messages kept as such. */
arr_err audit_store_flush(audit_store *st, arr_pg *pg, long *recorded, long *undecodable, char *why,
                          size_t whylen);

#endif
