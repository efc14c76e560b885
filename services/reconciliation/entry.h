/* recon_entry: the one form every payment source is turned into (processor webhooks, camt.053
 * and camt.054 statements, BAI2 files, NACHA files, JSON lines, POST /v1/payments), before
 * matching. Pure: no I/O.
 *
 * Ids are deterministic from the source's content, so a file imported twice or an event
 * delivered twice yields the same payment_id and is applied once: "<source>:<the source's
 * own unique reference>" (processor object id, statement entry reference, trace number), or
 * "<source>:<file or statement id>/<entry position>" when the source gives none.
 *
 * A recon_entries list owns its entries; parsers append to it and stop at its cap. */
#ifndef ARREARS_RECON_ENTRY_H
#define ARREARS_RECON_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"

#define RECON_ID_MAX 128
#define RECON_REF_MAX 512
#define RECON_NAME_MAX 140
#define RECON_SOURCE_MAX 32
#define RECON_ENTRIES_DEFAULT_CAP 5000000

typedef enum recon_kind {
    RECON_PAYMENT = 0, /* money in: apply to an account */
    RECON_RETURN,      /* money back out: undoes returned_payment_id (NACHA return, bank
                          reversal, processor refund or chargeback) */
    RECON_NOTICE,      /* no money moves (NACHA notification of change): recorded only */
    RECON_SKIPPED,     /* money out that undoes no payment of ours (a fee debit on a
                          statement): recorded with skip_reason, never applied */
} recon_kind;

typedef struct recon_entry {
    recon_kind kind;
    char payment_id[RECON_ID_MAX + 1];    /* unique per tenant, see above */
    char source[RECON_SOURCE_MAX + 1];    /* processor, camt053, camt054, bai2, nacha, json, api */
    int64_t amount_cents;                 /* > 0 for payments and returns; >= 0 otherwise */
    char currency[4];                     /* ISO 4217 */
    int64_t received_at_ms;               /* booking/value date at 00:00 UTC, or event time */
    char reference[RECON_REF_MAX + 1];    /* remittance text, references, addenda: for
                                             matching; several fields joined by ' ' */
    char end_to_end_id[RECON_ID_MAX + 1]; /* camt EndToEndId, NACHA trace, may be "" */
    char payer_name[RECON_NAME_MAX + 1];  /* PERSONAL DATA: counterparty name, may be "" */
    char account_hint[RECON_ID_MAX + 1];  /* account id the source states outright
                                             (API, JSON, processor metadata), else "" */
    char type_code[16];                   /* BAI2 type code, NACHA transaction code,
                                             camt bank transaction code; may be "" */
    char return_code[16];                 /* RETURN: R01..R99, "refund", "chargeback" */
    char returned_payment_id[RECON_ID_MAX + 1]; /* RETURN: the payment_id it undoes */
    char skip_reason[64]; /* NOTICE/SKIPPED: stable code, e.g. "debit_entry" */
    int64_t line;         /* 1-based line (or entry ordinal) in the source */
} recon_entry;

typedef struct recon_entries {
    recon_entry *v; /* owned */
    size_t n, cap_alloc;
    size_t max; /* the cap: appending beyond it is ARR_ELIMIT */
} recon_entries;

void recon_entries_init(recon_entries *l, size_t max);
void recon_entries_free(recon_entries *l);
/* A zeroed entry at the end of the list (valid until the next push). ARR_ELIMIT at the cap,
 * ARR_ENOMEM when allocation fails. */
arr_err recon_entries_push(recon_entries *l, recon_entry **out);

/* Decimal text ("123", "123.4", "123.45", optional leading '+'/'-' refused) with at most
 * `decimals` fraction digits into integer minor units, exactly (no floating point).
 * ARR_EINVAL for anything else, including overflow, an empty string or a stray character. */
arr_err recon_amount_parse(const char *s, size_t len, int decimals, int64_t *cents);
/* The date YYYY-MM-DD or YYMMDD (BAI2, NACHA: 20YY) as 00:00 UTC in ms. ARR_EINVAL if not a
 * real calendar date. */
arr_err recon_date_ms(const char *s, size_t len, int64_t *ms);
/* Appends text to dst (capacity cap including the NUL), separated by one space, collapsing
 * runs of whitespace and dropping control characters; silently stops at the cap. */
void recon_text_append(char *dst, size_t cap, const char *text, size_t len);
/* Stable name of a kind: "payment", "return", "notice", "skipped". */
const char *recon_kind_name(recon_kind k);

#endif
