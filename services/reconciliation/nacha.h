/* recon_nacha: a NACHA ACH file, as a debt collector receives it, into recon_entry form.
 * Pure: bytes in, entries out, no I/O.
 *
 * What becomes what (currency always USD, source "nacha", line = the 6 record's line):
 *   - entry with an addenda 99 (return), amount > 0: RECON_RETURN,
 *       payment_id "nacha:return:<the return entry's own trace>",
 *       returned_payment_id "nacha:<original entry trace from the addenda>", return_code "Rnn";
 *     the same with amount 0 (a returned prenote): RECON_NOTICE, skip_reason "return:Rnn";
 *   - entry with an addenda 98 (notification of change): RECON_NOTICE,
 *       payment_id "nacha:noc:<trace>", returned_payment_id "nacha:<original trace>",
 *       skip_reason "noc:Cnn", reference = individual id + corrected data;
 *   - live debit to the receiver (transaction codes 27, 37, 47, 55): RECON_PAYMENT,
 *       payment_id "nacha:<trace>", reference = individual id + addenda 05 text;
 *   - credits (22, 32, 42, 52), prenotes (23, 28, 33, 38, 43, 48, 53) and zero-dollar
 *     remittance entries (24, 29, 34, 39, 44, 49, 54): RECON_SKIPPED with skip_reason
 *     "credit_entry", "prenote" or "zero_dollar_entry".
 * Returns and notices carry their own namespace in payment_id because their trace is
 * numbered by the receiving bank, and can equal a trace we originated (an on-us entry; the
 * cor-example fixture's notice reuses its original's trace). end_to_end_id is the trace
 * that names our original entry: the entry's own for payments and skips, the addenda's
 * original trace for returns and notices. type_code is the two-digit transaction code;
 * received_at is the batch's effective entry date, or the file creation date when the
 * effective date is blank or 000000 (as bank-made return and NOC batches often have).
 *
 * The whole file is verified before anything is kept: record order (1, then batches of
 * 5 (6 7*)+ 8, then 9, then only block filler of all 9s), each addenda indicator against
 * the addenda that follow, each batch control (service class, entry/addenda count, entry
 * hash, total debit and credit, company id, ODFI, batch number) and the file control
 * (batch, block and entry/addenda counts, entry hash, totals), digits in numeric fields,
 * routing check digits, unique payment ids. Records are 94 characters; lines end in LF
 * or CRLF, a line cut short is padded with spaces (tools that trim trailing blanks), and
 * a file without any line break is read as consecutive 94-character records. IAT and ADV
 * batches (other entry layouts) are refused. */
#ifndef ARREARS_RECON_NACHA_H
#define ARREARS_RECON_NACHA_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"
#include "entry.h"

typedef struct recon_nacha_summary {
    int batches, entries, addenda;
    int payments, returns, notices, skipped;
    int64_t debit_cents, credit_cents; /* the file control's totals, as verified */
} recon_nacha_summary;

/* Parses a whole file from memory (data need not be NUL-terminated) and appends its entries
 * to out (caller-owned; entries are copies, nothing points into data). All or nothing: on
 * any error out->n is restored and *sum untouched. sum may be NULL. ARR_EINVAL with why
 * naming line, record type, field and reason ("line 5 (8 batch control) field total debit
 * amount: expected 12354 found 12355"); ARR_ELIMIT when out reaches its cap; ARR_ENOMEM. */
arr_err recon_nacha_parse(const char *data, size_t len, recon_entries *out,
                          recon_nacha_summary *sum, char *why, size_t whylen);

/* Meaning of a return reason code ("R01" -> "insufficient funds"): static text, NULL for a
 * code not in the table (well-formed or not). */
const char *recon_nacha_return_reason(const char *code);
/* Meaning of a notification-of-change code ("C01" -> "incorrect DFI account number"):
 * static text, NULL when unknown. */
const char *recon_nacha_change_reason(const char *code);

#endif
