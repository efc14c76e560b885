/* arr_outbatch: a batch-level outbox, for producers that write thousands of events per
 * transaction (the ingest importer). Where arr_outbox stores one row per event and a relay
 * reads them back, here the batch's events are stored as one row in the same transaction as
 * the data they describe, published straight from the producer's memory once that
 * transaction has committed, and the row is deleted (in a later transaction) once Kafka has
 * acknowledged every message. The stored row only matters after a crash: arr_outbatch_relay
 * then publishes what was committed but maybe not acknowledged, oldest first. So an event is
 * never published before its data is committed, and never lost after; a crash may publish a
 * batch twice, with the same event ids, which consumers recognise.
 *
 * A batch names its owner, a 64-bit advisory-lock key that the writing process holds for
 * its session (arr_outbatch_own) while it publishes its own batches: the relay leaves alone
 * the batches of an owner that is alive, so a batch is not relayed while its writer is still
 * publishing it.
 *
 * Messages are held as text lines "key\tvalue\n": keys are printable ASCII without spaces and
 * values compact JSON, neither ever contains a tab or a newline.
 *
 * schema must match [a-z_]+ and have an outbox_batches table (deploy/sql). */
#ifndef ARREARS_OUTBATCH_H
#define ARREARS_OUTBATCH_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/buf.h"
#include "arrears/err.h"
#include "arrears/kafka.h"
#include "arrears/pg.h"

/* Appends one message to msgs (owned by the caller). ARR_EINVAL when the key or the value
 * contains a tab or a newline. */
arr_err arr_outbatch_append(arr_buf *msgs, const char *key, const char *value, size_t value_len);
/* Reads the message line at *p (before end) and moves *p past it: 1 with key/value set, 0 at
 * the end, -1 for a line without its tab or newline. Borrows everything. */
int arr_outbatch_next(const char **p, const char *end, const char **key, size_t *key_len,
                      const char **value, size_t *value_len);
/* Prepares the statements on pg for this schema (once per connection). */
arr_err arr_outbatch_prepare(arr_pg *pg, const char *schema, char *errbuf, size_t errlen);
/* Takes the session-level advisory lock `owner` without waiting: *got = 0 when another
 * session holds it. Released when the connection closes. */
arr_err arr_outbatch_own(arr_pg *pg, int64_t owner, int *got, char *errbuf, size_t errlen);
/* Gives the lock back (errors are ignored: closing the connection releases it too). */
void arr_outbatch_disown(arr_pg *pg, int64_t owner);
/* Inside the caller's transaction: stores the n messages of msgs for topic; *id gets the
 * batch's id. */
arr_err arr_outbatch_store(arr_pg *pg, const char *schema, const char *topic, int64_t owner,
                           const arr_buf *msgs, int n, long long *id, char *errbuf, size_t errlen);
/* Queues every message of msgs (len bytes) on the producer, without waiting: flush the
 * producer before calling arr_outbatch_done. */
arr_err arr_outbatch_produce(arr_kafka_producer *p, const char *topic, const char *msgs, size_t len,
                             char *errbuf, size_t errlen);
/* Inside the caller's transaction: forgets a batch whose messages Kafka acknowledged. */
arr_err arr_outbatch_done(arr_pg *pg, const char *schema, long long id, char *errbuf,
                          size_t errlen);
/* Publishes and deletes, oldest first and each in its own transaction, every stored batch
 * whose owner is not alive (or is this session). *relayed gets the number of batches. */
arr_err arr_outbatch_relay(arr_pg *pg, const char *schema, arr_kafka_producer *p, int *relayed,
                           char *errbuf, size_t errlen);

#endif
