/* ingest_mapping: how one creditor's export maps onto arrears' fields. Every billing system
 * names its columns differently and writes amounts and dates its own way; a mapping file
 * per tenant (JSON, under deploy/mappings/ or given on the command line) says so:
 *
 *   {"format": "csv" | "jsonl",
 *    "delimiter": ",",                       (csv only; one character)
 *    "amount_format": "decimal" | "cents",
 *    "decimal_sep": ".", "thousands_sep": "", "currency_symbol": false,
 *    "date_format": "%m/%d/%Y",
 *    "defaults": {"currency": "USD", "regime": "creditor", ...},   (canonical field -> text)
 *    "columns": {"account_id": "Account Number", ...}}            (canonical field -> column)
 *
 * Loading is strict: unknown keys, unknown canonical fields, a column mapped twice, an
 * unsupported date format are errors naming the key. account_id, balance and due_date must
 * be mapped (or defaulted, for balance never). */
#ifndef ARREARS_INGEST_MAPPING_H
#define ARREARS_INGEST_MAPPING_H

#include <stddef.h>
#include "arrears/err.h"
#include "fields.h"
#include "raw.h"

typedef enum ingest_format { INGEST_CSV = 0, INGEST_JSONL } ingest_format;

typedef struct ingest_mapping {
    ingest_format format;
    char delimiter;
    ingest_amount_opts amount;
    char date_format[16];
    char *defaults[IF__COUNT]; /* owned; NULL when none */
    char *columns[IF__COUNT];  /* owned; source column (csv) or key (jsonl); NULL = unmapped */
} ingest_mapping;

/* *out owned by the caller (ingest_mapping_free). why names the file, key and reason. */
arr_err ingest_mapping_load(const char *path, ingest_mapping **out, char *why, size_t whylen);
/* The identity mapping for a format: canonical names as columns, decimal amounts with '.',
 * dates as %Y-%m-%d, defaults currency USD, regime creditor, country US, language en. */
arr_err ingest_mapping_identity(ingest_format format, ingest_mapping **out);
void ingest_mapping_free(ingest_mapping *m);

#endif
