/* ingest_fields: parsers for the single fields of a billing export. Pure and strict: each
 * returns ARR_OK with the normalised value, or ARR_EINVAL with a short reason in why
 * (the caller adds the record, line and field). No floating point anywhere near money. */
#ifndef ARREARS_INGEST_FIELDS_H
#define ARREARS_INGEST_FIELDS_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"

typedef enum ingest_amount_format {
    INGEST_AMOUNT_DECIMAL = 0, /* major units with up to 2 decimals: "1234.5", "-12.00" */
    INGEST_AMOUNT_CENTS,       /* integer minor units: "123450" */
} ingest_amount_format;

typedef struct ingest_amount_opts {
    ingest_amount_format format;
    char decimal_sep;          /* '.' (default) or ',' */
    char thousands_sep;        /* 0 (none, default), ',' '.' ' ' or '\'' */
    int allow_currency_symbol; /* accept a leading "$" (after an optional sign) */
} ingest_amount_opts;

/* Text -> cents. Surrounding blanks are ignored; a leading '-' or '+' and parentheses
 * "(12.00)" for negatives are accepted; more than 2 decimals, letters, empty text, or a
 * magnitude over 10^12 cents are rejected. Currencies with 0 or 3 minor digits are not
 * supported yet (the caller restricts currencies). */
arr_err ingest_parse_amount(const char *text, const ingest_amount_opts *o, int64_t *cents,
                            char *why, size_t whylen);

/* Text in the given format -> "YYYY-MM-DD" (11 bytes). Formats: "%Y-%m-%d", "%m/%d/%Y",
 * "%d/%m/%Y", "%Y%m%d", "%d.%m.%Y", "%m-%d-%Y"; one- or two-digit day and month where the
 * format has a separator. Calendar-checked (leap years), years 1900..2999. */
arr_err ingest_parse_date(const char *text, const char *format, char out[11], char *why,
                          size_t whylen);
/* 1 when format is one of the supported date formats. */
int ingest_date_format_known(const char *format);
/* Days from a to b (both YYYY-MM-DD, already valid): b - a. */
int ingest_days_between(const char *a, const char *b);

/* Trims, lower-cases the domain, checks one '@', a dotted domain with a 2+ letter TLD,
 * allowed characters, at most 254 bytes. out: 255 bytes. */
arr_err ingest_parse_email(const char *text, char out[255], char *why, size_t whylen);

/* A North American number in any common punctuation ("(512) 555-0100", "512.555.0100",
 * "+1 512 555 0100", "15125550100") -> E.164 "+15125550100" (17 bytes). Rejects wrong
 * lengths, area or exchange codes starting with 0 or 1, and letters. Numbers already in
 * E.164 with another country code are accepted as they are (8..15 digits). */
arr_err ingest_parse_phone(const char *text, char out[17], char *why, size_t whylen);

/* "mobile"/"cell"/"wireless"/"m" -> 0, "landline"/"home"/"work"/"fixed"/"l" -> 1. */
arr_err ingest_parse_phone_type(const char *text, int *landline, char *why, size_t whylen);

/* yes/no/true/false/1/0/y/n (any case). */
arr_err ingest_parse_bool(const char *text, int *out, char *why, size_t whylen);

/* USPS state or territory code (any case) -> upper case (3 bytes). */
arr_err ingest_parse_state(const char *text, char out[3], char *why, size_t whylen);
/* "12345" or "12345-6789" (or 9 digits, normalised to 12345-6789). out: 11 bytes. */
arr_err ingest_parse_zip(const char *text, char out[11], char *why, size_t whylen);
/* 1 when the IANA zone name is one arrears knows (the US zones and common others). */
int ingest_timezone_known(const char *tz);

/* The IANA zones a US address may be in, from its state and, for states split between
 * zones, its ZIP code where the ZIP decides it. Fills up to max names (each < 40 bytes) and
 * returns how many; several means the contact rules must hold in all of them. 0 when the
 * state is unknown. */
int ingest_timezones_for(const char *state, const char *zip, char (*out)[40], int max);

#endif
