/* ingest_reader: streams records out of an export file, one at a time, in constant memory
 * whatever the file size. CSV (RFC 4180, parsed with libcsv): UTF-8 with or without a byte
 * order mark, CRLF or LF, quoted fields holding commas, quotes and line breaks; the header
 * row is bound to the mapping's columns. JSON Lines: one object per line, keys as mapped.
 *
 * A record that cannot be read as a record at all (wrong number of columns, broken quoting,
 * invalid UTF-8, a line over the size cap, bad JSON) is returned as ARR_EINVAL with its
 * issue (code "bad_row", the line, the reason), never skipped: the caller rejects and keeps
 * it, so accepted + rejected = read holds. */
#ifndef ARREARS_INGEST_READER_H
#define ARREARS_INGEST_READER_H

#include <stdio.h>
#include <jansson.h>
#include "arrears/err.h"
#include "mapping.h"
#include "raw.h"
#include "record.h"

#define INGEST_RECORD_MAX (64 * 1024) /* bytes of one record; larger is a bad_row */

typedef struct ingest_reader ingest_reader;

/* Borrows f and m (both must outlive the reader). For CSV reads and binds the header:
 * a mapped column missing from the header is ARR_EDECODE with why naming it. */
arr_err ingest_reader_open(FILE *f, const ingest_mapping *m, ingest_reader **out, char *why,
                           size_t whylen);
/* ARR_OK: *raw holds the next record (values valid until the next call).
 * ARR_EINVAL: the next record is unreadable; *bad says why, raw->line where.
 * ARR_ENOTFOUND: end of input. ARR_EIO: the file could not be read. */
arr_err ingest_reader_next(ingest_reader *r, ingest_raw *raw, ingest_issue *bad);
/* The record's original text as read (for the rejects table), capped at INGEST_RECORD_MAX;
 * valid until the next call. */
const char *ingest_reader_text(const ingest_reader *r);
/* Bytes consumed so far (for progress and ETA). */
long long ingest_reader_offset(const ingest_reader *r);
void ingest_reader_free(ingest_reader *r);

/* One JSON object (a JSON Lines record, an HTTP batch element, an account.submitted
 * payload) -> raw fields through the mapping's keys. Strings are taken as they are, integers
 * and booleans as their text, null as absent; nested objects or arrays, or a value that is
 * not valid UTF-8, are a bad_row naming the key. Values are copied into buf (buflen bytes;
 * too small is a bad_row "record too large"); raw borrows from buf. */
arr_err ingest_raw_from_json(json_t *obj, const ingest_mapping *m, ingest_raw *raw,
                             ingest_issue *bad, char *buf, size_t buflen);

#endif
