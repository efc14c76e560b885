/* ingest_raw: one record as read from an export, before validation: the text of each
 * canonical field (NULL when the export has no value for it). Readers fill it from CSV
 * columns (through the tenant's mapping) or JSON Lines keys; the validator reads it. */
#ifndef ARREARS_INGEST_RAW_H
#define ARREARS_INGEST_RAW_H

typedef enum ingest_field {
    IF_ACCOUNT_ID = 0,
    IF_REGIME,
    IF_CURRENCY,
    IF_BALANCE,
    IF_ORIGINAL_BALANCE,
    IF_INVOICE_ID,
    IF_ISSUE_DATE,
    IF_DUE_DATE,
    IF_SERVICE_TYPE,
    IF_DEBTOR_REF,
    IF_FIRST_NAME,
    IF_LAST_NAME,
    IF_EMAIL,
    IF_EMAIL2,
    IF_PHONE,
    IF_PHONE_TYPE,
    IF_PHONE_SMS_CONSENT,
    IF_PHONE_VOICE_CONSENT,
    IF_PHONE2,
    IF_PHONE2_TYPE,
    IF_PHONE2_SMS_CONSENT,
    IF_PHONE2_VOICE_CONSENT,
    IF_ADDRESS_LINE1,
    IF_ADDRESS_LINE2,
    IF_CITY,
    IF_STATE,
    IF_ZIP,
    IF_COUNTRY,
    IF_TIMEZONE,
    IF_LANGUAGE,
    IF_TENURE_MONTHS,
    IF_AUTOPAY,
    IF_PRIOR_DELINQUENCIES,
    IF_PAYMENTS_12M,
    IF__COUNT
} ingest_field;

typedef struct ingest_raw {
    const char *v[IF__COUNT]; /* borrowed from the reader; valid until its next call */
    long line;                /* the line the record starts on (1 = first line of the file) */
} ingest_raw;

/* The canonical name ("account_id", "phone2_sms_consent", ...): static. */
const char *ingest_field_name(ingest_field f);
/* -1 when name is not a canonical field. */
int ingest_field_from_name(const char *name);

#endif
