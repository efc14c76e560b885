/* ingest_validate: a raw record -> an accepted ingest_record (with warnings) or a rejection
 * with a stable reason code, the field and why. Pure: the export's "as of" date is an input
 * (days past due are counted to it), never the clock.
 *
 * Reason codes (stable; documented in docs/ingest.md):
 *   missing_account_id, bad_account_id, missing_field, bad_amount, unknown_currency,
 *   bad_date, bad_email, bad_phone, bad_phone_type, bad_bool, bad_number, bad_state,
 *   bad_zip, bad_country, bad_timezone, bad_regime, bad_service_type, bad_language, too_long,
 *   bad_row (from the reader), duplicate_in_file (from the import).
 * Warning codes: landline_sms_consent (a landline marked for SMS: consent not carried),
 *   timezone_derived, timezone_ambiguous (several zones: contact must suit all),
 *   timezone_unknown (none given and none derivable, e.g. no US state: contact rules must
 *   allow a time only where it suits every zone the consumer could be in),
 *   no_contact_point (no email and no phone), original_below_balance. */
#ifndef ARREARS_INGEST_VALIDATE_H
#define ARREARS_INGEST_VALIDATE_H

#include <jansson.h>
#include "mapping.h"
#include "raw.h"
#include "arrears/buf.h"
#include "record.h"

/* Mapping defaults fill absent fields before validation. as_of: "YYYY-MM-DD". */
void ingest_validate(const ingest_raw *raw, const ingest_mapping *m, const char *as_of,
                     ingest_record *out, ingest_verdict *v);

/* The account payload of account.placed / account.updated (new reference): every field of
 * the record, the debtor's contact data under "debtor", the profile, and the derived
 * days_past_due, aging_bucket and medical_no_report. */
json_t *ingest_record_payload(const ingest_record *r);
/* No record's payload text is longer (the record's fields are all capped). */
#define INGEST_PAYLOAD_MAX ((size_t)64 * 1024)
/* SHA-256 (hex, 65 bytes) of the payload in canonical form (sorted keys, compact), minus
 * the derived fields that move with the date: two exports of an unchanged account hash the
 * same. */
void ingest_record_hash(const ingest_record *r, char out[65]);
/* The same hash from a payload tree (as ingest_record_payload builds it): what the text path
 * is checked against. */
void ingest_payload_hash(json_t *payload, char out[65]);
/* The same payload appended to out as compact JSON text with keys sorted at every level,
 * and its hash as ingest_record_hash computes it, without a JSON tree (the importer's hot
 * path). On error out is left as it was. */
arr_err ingest_record_payload_text(const ingest_record *r, arr_buf *out, char hash[65]);
/* The verdict's warnings appended to out as a JSON array of {"code", "detail", "field"};
 * nothing when there are none. */
arr_err ingest_warnings_text(const ingest_verdict *v, arr_buf *out);
/* The top-level payload keys whose values differ (and "debtor.<key>" inside the debtor), as
 * a new JSON array of strings, sorted. */
json_t *ingest_payload_changes(json_t *before, json_t *after);

#endif
