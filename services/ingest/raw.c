/* ingest_raw: the canonical field names. They are the keys of mapping files, the JSON Lines
 * keys of the identity mapping and the column names of arrears' own CSV layout, so they are
 * part of the tenants' contract: never rename one. */
#include <string.h>

#include "raw.h"

/* Indexed by ingest_field; the enum name lower-cased without IF_. */
static const char *const field_names[IF__COUNT] = {
    [IF_ACCOUNT_ID] = "account_id",
    [IF_REGIME] = "regime",
    [IF_CURRENCY] = "currency",
    [IF_BALANCE] = "balance",
    [IF_ORIGINAL_BALANCE] = "original_balance",
    [IF_INVOICE_ID] = "invoice_id",
    [IF_ISSUE_DATE] = "issue_date",
    [IF_DUE_DATE] = "due_date",
    [IF_SERVICE_TYPE] = "service_type",
    [IF_DEBTOR_REF] = "debtor_ref",
    [IF_FIRST_NAME] = "first_name",
    [IF_LAST_NAME] = "last_name",
    [IF_EMAIL] = "email",
    [IF_EMAIL2] = "email2",
    [IF_PHONE] = "phone",
    [IF_PHONE_TYPE] = "phone_type",
    [IF_PHONE_SMS_CONSENT] = "phone_sms_consent",
    [IF_PHONE_VOICE_CONSENT] = "phone_voice_consent",
    [IF_PHONE2] = "phone2",
    [IF_PHONE2_TYPE] = "phone2_type",
    [IF_PHONE2_SMS_CONSENT] = "phone2_sms_consent",
    [IF_PHONE2_VOICE_CONSENT] = "phone2_voice_consent",
    [IF_ADDRESS_LINE1] = "address_line1",
    [IF_ADDRESS_LINE2] = "address_line2",
    [IF_CITY] = "city",
    [IF_STATE] = "state",
    [IF_ZIP] = "zip",
    [IF_COUNTRY] = "country",
    [IF_TIMEZONE] = "timezone",
    [IF_LANGUAGE] = "language",
    [IF_TENURE_MONTHS] = "tenure_months",
    [IF_AUTOPAY] = "autopay",
    [IF_PRIOR_DELINQUENCIES] = "prior_delinquencies",
    [IF_PAYMENTS_12M] = "payments_12m",
};

const char *ingest_field_name(ingest_field f)
{
    if ((int)f < 0 || f >= IF__COUNT)
        return "unknown";
    return field_names[f];
}

int ingest_field_from_name(const char *name)
{
    if (!name)
        return -1;
    /* 34 names, looked up once per mapping key: a linear scan is plenty. */
    for (int f = 0; f < IF__COUNT; f++)
        if (strcmp(field_names[f], name) == 0)
            return f;
    return -1;
}
