/* recon_camt: ISO 20022 bank-to-customer statements (camt.053) and debit/credit notifications
 * (camt.054) into recon_entry records. Pure: bytes in, entries out, no I/O.
 *
 * Any schema version is read (camt.05x.001.02, .04, .08, ...): elements are matched on their
 * local names, never on the namespace URI. The file is all or nothing: a malformed document, a
 * bad amount, date or indicator, or a control total that does not add up (TxsSummry counts and
 * sums, opening + credits - debits = closing balance, split transaction amounts against their
 * entry) refuses the whole file, and nothing it produced stays in the list.
 *
 * One recon_entry per Ntry, or one per TxDtls when an entry carries several transactions that
 * each state an amount (a batch booking). Booked credits become RECON_PAYMENT; everything else
 * is RECON_SKIPPED with its amount kept and skip_reason one of "not_booked", "reversal_entry"
 * (RvslInd true, either direction), "debit_entry", "zero_amount".
 *
 * payment_id: "<kind>:<AcctSvcrRef>[/<n>]" when the entry has a servicer reference, else
 * "<kind>:<Stmt or Ntfctn Id>/<entry ordinal within it>[/<n>]", where /<n> is the 1-based
 * transaction number of a split entry. A page other than the first of a paginated statement
 * ("StmtPgntn/PgNb" > 1) gets "<kind>:<Id>/p<PgNb>/<ordinal>[/<n>]", because pages share the
 * statement Id and each restarts its ordinals.
 *
 * Safety: no network access, no external DTD, no entity expansion; a document with a DOCTYPE
 * is refused; documents above RECON_CAMT_MAX_BYTES are refused with ARR_ELIMIT. */
#ifndef ARREARS_RECON_CAMT_H
#define ARREARS_RECON_CAMT_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"
#include "entry.h"

#define RECON_CAMT_MAX_BYTES ((size_t)256 * 1024 * 1024)

typedef struct recon_camt_summary {
    char kind[8];     /* "camt053" or "camt054", from the message element */
    char currency[4]; /* currency of the first entry in the file ("" when none); the totals
                         below count only entries in it */
    int statements;   /* Stmt / Ntfctn elements */
    int entries;      /* Ntry elements read */
    int payments;     /* records appended as RECON_PAYMENT */
    int skipped;      /* records appended as RECON_SKIPPED */
    int64_t credit_cents, debit_cents; /* booked CRDT / DBIT entries, in `currency` */
    int summary_checks; /* TxsSummry figures (counts, sums, net) that were present and agreed */
    int balance_checks; /* statements whose opening + credits - debits = closing was verified */
} recon_camt_summary;

/* Parses the whole document data[0..len) and appends its records to out (entries owned by
 * out, as always). On ARR_OK fills *sum (may be NULL). On error out->n is back to what it was,
 * *sum is untouched and why says line, field and reason: ARR_EINVAL for bad input (including
 * "not a camt.053 or camt.054 document" and control total mismatches), ARR_ELIMIT at out's cap
 * or above RECON_CAMT_MAX_BYTES, ARR_ENOMEM. */
arr_err recon_camt_parse(const char *data, size_t len, recon_entries *out, recon_camt_summary *sum,
                         char *why, size_t whylen);

#endif
