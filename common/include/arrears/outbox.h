/* arr_outbox: the transactional outbox and inbox of a service's PostgreSQL schema.
 *
 * A service that changes its tables and must publish the change writes the event into
 * <schema>.outbox in the same transaction, so "stored" and "to be published" commit or fail
 * together. arr_outbox_relay then publishes committed rows in id order through the
 * idempotent producer and deletes them only after Kafka acknowledged them. A crash between
 * the two republishes the rows: consumers recognise the repeat by event id (the inbox below,
 * or deterministic derived ids), so nothing is lost and nothing is applied twice.
 *
 * The inbox (<schema>.inbox) records every consumed event id in the same transaction as its
 * effects; arr_inbox_claim says whether the event is new.
 *
 * schema must match [a-z_]+ and own the tables created by deploy/sql migrations. */
#ifndef ARREARS_OUTBOX_H
#define ARREARS_OUTBOX_H

#include <stddef.h>
#include "arrears/err.h"
#include "arrears/kafka.h"
#include "arrears/pg.h"

/* 1 when schema is a name the outboxes accept ([a-z_]{1,32}). */
int arr_outbox_schema_valid(const char *schema);
/* Prepares the statements on pg for this schema (once per connection). */
arr_err arr_outbox_prepare(arr_pg *pg, const char *schema, char *errbuf, size_t errlen);
/* Inside the caller's transaction. Strings are copied by libpq. */
arr_err arr_outbox_add(arr_pg *pg, const char *schema, const char *topic, const char *key,
                       const char *value, char *errbuf, size_t errlen);
/* Publishes up to max_rows committed rows, in its own transaction; one relayer per schema at a
 * time (advisory lock), so order is kept. *relayed gets the count (0 when another relayer
 * holds the lock or nothing is waiting). */
arr_err arr_outbox_relay(arr_pg *pg, const char *schema, arr_kafka_producer *p, int max_rows,
                         int *relayed, char *errbuf, size_t errlen);
/* Inside the caller's transaction: *fresh = 1 when event_id was not seen before. */
arr_err arr_inbox_claim(arr_pg *pg, const char *schema, const char *event_id, const char *topic,
                        int partition, long long offset, int *fresh, char *errbuf, size_t errlen);

#endif
