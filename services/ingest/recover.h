/* ingest_recover: publishes again what a crash may have left unpublished by an import.
 *
 * An import publishes each batch's account.placed events from memory once the batch has
 * committed, and records in ingest.imports.published_line the line up to which Kafka has
 * acknowledged them; its other events (account.updated, account.closed) are also stored
 * with the batch (arr_outbatch). After a crash, the accounts this import stored past
 * published_line get their placed events again (the same ids, derived from the import and
 * the account, so consumers see repeats, never new events), and the stored batches are
 * relayed. The importer does this for itself when it resumes; the ingest service does it
 * for imports whose process is gone and was never restarted. */
#ifndef ARREARS_INGEST_RECOVER_H
#define ARREARS_INGEST_RECOVER_H

#include "arrears/kafka.h"
#include "arrears/pg.h"
#include "events.h"

/* Prepares the statements on pg (once per connection; arr_outbatch_prepare too). */
arr_err ingest_recover_prepare(arr_pg *pg, char *why, size_t whylen);
/* One import, owned by the caller (arr_outbatch_own with ingest_import_owner), whose events
 * went to topic: lines (published_line, lines_done]. *published gets how many events went. */
arr_err ingest_recover_import(arr_pg *pg, arr_kafka_producer *p, const char *topic,
                              const ingest_event_ctx *c, long long published_line,
                              long long lines_done, long *published, char *why, size_t whylen);
/* In the caller's transaction (or on its own): the import's placed events up to line are
 * acknowledged by Kafka (ingest.imports.published_line). */
arr_err ingest_recover_published(arr_pg *pg, const char *import_id, long long line, char *why,
                                 size_t whylen);
/* Every import left running by a process that is gone. */
arr_err ingest_recover_orphans(arr_pg *pg, arr_kafka_producer *p, const arr_producer_id *who,
                               int64_t now_ms, long *published, char *why, size_t whylen);

#endif
