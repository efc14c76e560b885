/* ingest_import: an export (a file, an HTTP batch) into PostgreSQL and the account events.
 *
 * Records are validated one by one on the caller's thread, which also writes each accepted
 * account's payload, COPY row and account.placed message ahead of time; a writer thread
 * stores them in batches, so reading the next batch overlaps writing this one. Each batch is
 * one transaction that takes the tenant's lock, compares the records with the stored
 * accounts, COPYs the new accounts straight into ingest.accounts, stages the changed ones in
 * a temporary table and upserts them, marks the unchanged ones as seen, stores the batch's
 * other events (account.updated, account.closed) as one row of ingest.outbox_batches,
 * records rejects and warnings, and advances the import's checkpoint. After the commit a
 * publisher thread hands the batch's events to Kafka from memory (the account.placed ones
 * were never stored as events) and refreshes the cached view in Redis. Once Kafka has
 * acknowledged them, a later transaction records ingest.imports.published_line (placed
 * events up to that line are out) and deletes the stored batches.
 *
 * So the database never lacks an account that was published, and no stored change stays
 * unpublished: an import killed at any moment resumes after its last committed batch, first
 * publishing again the placed events past published_line and relaying the stored batches
 * (ingest_recover), with the same event ids (they derive from the import and the account).
 * The second run of a finished import changes nothing.
 *
 * In snapshot mode, finishing closes every open account of the tenant that this import did
 * not contain (account.closed). Duplicates of an account within one export are rejected
 * (duplicate_in_file), detected in the batch and, across batches, through last_line. */
#ifndef ARREARS_INGEST_IMPORTER_H
#define ARREARS_INGEST_IMPORTER_H

#include <stdint.h>
#include "arrears/deadletter.h"
#include "arrears/kafka.h"
#include "arrears/pg.h"
#include "arrears/redis.h"
#include "mapping.h"
#include "raw.h"
#include "record.h"

typedef struct ingest_import ingest_import;

typedef struct ingest_import_opts {
    const char *tenant;
    const char *source;            /* file name or "http:<id>" */
    const char *sha256;            /* of the whole input (hex) */
    int snapshot;                  /* 1: close the tenant's accounts this import lacks */
    const char *as_of;             /* YYYY-MM-DD: days past due are counted to it */
    int64_t now_ms;                /* event time of a new import (from the injectable clock) */
    int batch_rows;                /* records per transaction, default 10000 */
    const char *topic;             /* where account events go; NULL: INGEST_TOPIC_ACCOUNTS as it is,
                                    * without a prefix (tests isolate themselves on a scratch
                                    * topic) */
    const ingest_mapping *mapping; /* borrowed */
    arr_pg *pg;                    /* borrowed: this import's connection */
    arr_kafka_producer *producer;  /* borrowed */
    arr_redis *redis;              /* borrowed, may be NULL */
    arr_producer_id who;
    int crash_after_commits; /* tests only: _exit(137) right after the Nth commit, before its
                              * events are published, as a kill -9 there would (0: never) */
} ingest_import_opts;

typedef struct ingest_import_stats {
    long long read, accepted, rejected, placed, updated, unchanged, closed, warnings;
    long long lines_done; /* checkpoint: records up to this line are committed */
    long long resumed_at; /* the checkpoint found when the import started (0: fresh) */
    int already_done;     /* the same input was imported before: nothing to do */
    char import_id[37];
} ingest_import_stats;

/* Creates or resumes the import of this tenant + input + mode. */
arr_err ingest_import_begin(const ingest_import_opts *o, ingest_import **out, char *why,
                            size_t whylen);
/* One record (bad != NULL: the reader could not read it; raw->line and raw_text still say
 * where and what). Flushes a batch when full. */
arr_err ingest_import_add(ingest_import *imp, const ingest_raw *raw, const char *raw_text,
                          const ingest_issue *bad, char *why, size_t whylen);
/* Commits what is left, applies the snapshot closure, marks the import done. */
arr_err ingest_import_finish(ingest_import *imp, char *why, size_t whylen);
/* The figures once ingest_import_finish returned (or before anything was added). */
const ingest_import_stats *ingest_import_stats_get(const ingest_import *imp);
/* A consistent copy while the import runs (the writer thread updates them); read counts
 * the records taken so far, committed or not. */
void ingest_import_progress(ingest_import *imp, ingest_import_stats *out);
void ingest_import_free(ingest_import *imp);

#endif
