/* ingest_record: one delinquent account as a billing export describes it, after mapping
 * from CSV columns, JSON Lines fields or an HTTP batch, and the validator that accepts it
 * (with warnings) or rejects it (with a stable reason code, the field and why).
 * Pure: no I/O, no clock. The "as of" date (the export's date) is an input. */
#ifndef ARREARS_INGEST_RECORD_H
#define ARREARS_INGEST_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/envelope.h"
#include "arrears/err.h"

#define INGEST_MAX_EMAILS 2
#define INGEST_MAX_PHONES 3
#define INGEST_MAX_TZ 4
#define INGEST_MAX_WARNINGS 8
#define INGEST_TEXT_MAX 128

typedef enum ingest_phone_type { INGEST_PHONE_MOBILE = 0, INGEST_PHONE_LANDLINE } ingest_phone_type;

typedef struct ingest_phone {
    char e164[17]; /* +15125550100 */
    ingest_phone_type type;
    int sms_consent;   /* prior express consent for texts */
    int voice_consent; /* prior express consent for autodialed/prerecorded calls */
} ingest_phone;

typedef struct ingest_email {
    char address[255];
    int consent; /* 0 when the consumer opted out at the creditor */
} ingest_email;

typedef struct ingest_address {
    char line1[INGEST_TEXT_MAX], line2[INGEST_TEXT_MAX], city[64];
    char state[3];   /* USPS code */
    char zip[11];    /* 12345 or 12345-6789 */
    char country[3]; /* ISO 3166 alpha-2, "US" by default */
} ingest_address;

typedef struct ingest_debtor {
    char first_name[64], last_name[64];
    ingest_email emails[INGEST_MAX_EMAILS];
    int n_emails;
    ingest_phone phones[INGEST_MAX_PHONES];
    int n_phones;
    ingest_address address;
    char timezones[INGEST_MAX_TZ][40]; /* IANA names; more than one = must suit all */
    int n_timezones;
    int tz_derived;   /* derived from the address, not given */
    char language[8]; /* BCP 47: "en", "es" */
} ingest_debtor;

typedef struct ingest_profile {
    int tenure_months;       /* -1 unknown */
    int autopay;             /* 0/1, -1 unknown */
    int prior_delinquencies; /* -1 unknown */
    int payments_12m;        /* -1 unknown */
} ingest_profile;

typedef struct ingest_record {
    char account_id[ARR_ACCOUNT_MAX + 1];
    char regime[16]; /* "creditor" or "third_party" */
    char currency[4];
    int64_t balance_cents; /* negative: a credit */
    int64_t original_balance_cents;
    char invoice_id[65];   /* the debt's invoice at the creditor, "" when not given */
    char issue_date[11];   /* YYYY-MM-DD or "" */
    char due_date[11];     /* YYYY-MM-DD */
    char service_type[16]; /* electricity gas water telecom medical other */
    char debtor_ref[65];   /* the creditor's customer id; opaque */
    ingest_debtor debtor;
    ingest_profile profile;
    /* derived by the validator */
    int days_past_due;        /* as of the export date */
    const char *aging_bucket; /* "current" "1-30" "31-60" "61-90" "91-180" "180+" */
    int medical_no_report;    /* medical and original balance under $500: never report */
} ingest_record;

typedef struct ingest_issue {
    const char *code; /* static, stable: see ingest_reason_codes */
    char field[48];
    char detail[160];
} ingest_issue;

typedef struct ingest_verdict {
    int accepted;
    ingest_issue reject;                        /* when !accepted */
    ingest_issue warnings[INGEST_MAX_WARNINGS]; /* recorded, not rejecting */
    int n_warnings;
} ingest_verdict;

#endif
