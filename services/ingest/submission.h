/* ingest_submission: validation of an account.submitted payload (a billing system's record
 * of one delinquent account) and the account.placed payload built from it. Pure: no I/O.
 *
 * Rejections carry a stable reason code, the field and a human explanation, so the record
 * can be kept in ingest.rejects and the dead-letter topic and fixed at the source. */
#ifndef ARREARS_INGEST_SUBMISSION_H
#define ARREARS_INGEST_SUBMISSION_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/envelope.h"
#include "arrears/err.h"

typedef struct ingest_account {
    char account_id[ARR_ACCOUNT_MAX + 1];
    char regime[16];       /* "creditor" or "third_party" */
    char currency[4];      /* ISO 4217 */
    int64_t balance_cents; /* may be negative: a credit */
    int64_t original_balance_cents;
    char due_date[11];     /* YYYY-MM-DD */
    char service_type[16]; /* electricity, gas, water, telecom, medical, other */
    char debtor_ref[65];   /* opaque id at the creditor, "" when absent; never PII */
} ingest_account;

typedef struct ingest_reject {
    const char *code; /* static: missing_field, bad_amount, unknown_currency, bad_date, ... */
    char field[48];
    char detail[160];
} ingest_reject;

/* ARR_OK and *out filled, or ARR_EINVAL with *why filled. The envelope's account key must
 * equal the payload's account_id (a mismatch would file the record under the wrong key). */
arr_err ingest_submission_parse(const arr_envelope *env, ingest_account *out, ingest_reject *why);

/* The account.placed payload (new reference, caller owns). */
json_t *ingest_placed_payload(const ingest_account *a);

/* "code: field F: detail" for logs and dead letters. */
void ingest_reject_format(const ingest_reject *r, char *out, size_t outlen);

#endif
