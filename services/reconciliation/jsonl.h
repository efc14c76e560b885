/* recon_jsonl: our own JSON-lines payment file (`arrears payments import FILE --format json`)
 * and the body of POST /v1/payments. Pure: no I/O.
 *
 * One JSON object per line:
 *   payment_id      string, required: printable ASCII without spaces; becomes
 *                   "<source>:<payment_id>" unless it already contains ':'
 *   amount_cents    positive integer (minor units), required; not a float, not a string
 *   currency        three capital letters (ISO 4217), required
 *   received_at     RFC 3339 time or YYYY-MM-DD (00:00 UTC), required
 *   reference       string, optional (at most 512 bytes; whitespace runs collapsed)
 *   payer_name      string, optional (at most 140 bytes; PERSONAL DATA)
 *   account_id      string, optional: printable ASCII without spaces, at most 128
 *   kind            "payment" (default) or "return"
 *   returned_payment_id, return_code
 *                   strings, required for a return and refused otherwise; the former follows
 *                   the payment_id rule, the latter is 1 to 7 printable ASCII characters
 *   end_to_end_id   string, optional: printable ASCII, at most 128
 * Optional fields may be null. Any other field is an error. */
#ifndef ARREARS_RECON_JSONL_H
#define ARREARS_RECON_JSONL_H

#include <stddef.h>
#include <jansson.h>
#include "arrears/err.h"
#include "entry.h"

/* Longest line, newline excluded (ARR_ELIMIT beyond). */
#define RECON_JSONL_LINE_MAX (64 * 1024)

/* One JSON object per line ("\n" or "\r\n"; blank lines and a leading UTF-8 BOM skipped),
 * source "json", line = the 1-based line number. All or nothing: on error out is left as it
 * was and why says "line N field F: reason" (or "line N: reason" for the line as a whole).
 * ARR_ELIMIT for an over-long line or a full list, ARR_EINVAL otherwise. */
arr_err recon_jsonl_parse(const char *data, size_t len, recon_entries *out, char *why,
                          size_t whylen);

/* Parses one decoded object the same way into *e (filled only on success; e->line is 0), with
 * the given source ([a-z0-9][a-z0-9_.-]*, e.g. "api" for POST /v1/payments), which also
 * prefixes payment_id and returned_payment_id. why says "field F: reason". obj is borrowed. */
arr_err recon_jsonl_entry(json_t *obj, const char *source, recon_entry *e, char *why,
                          size_t whylen);

#endif
