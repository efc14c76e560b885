/* recon_bai2: BAI2 (version 2) cash management balance reporting files, the format US and
 * Canadian banks use for prior-day and lockbox reports. Pure: no I/O.
 *
 * A file is a sequence of records, one per line (LF or CRLF), fields separated by ',' and the
 * record ended by '/':
 *   01 file header      sender, receiver, creation date YYMMDD, time HHMM, file id number,
 *                       physical record length, block size, version (must be 2)
 *   02 group header     ultimate receiver, originator, group status (1-4), as-of date,
 *                       as-of time, currency (empty: USD), as-of date modifier
 *   03 account          account number, currency (empty: the group's), then repeating
 *                       (type code, amount, item count, funds type [+ its extra fields])
 *   16 detail           type code, amount, funds type [+ extras], bank reference, customer
 *                       reference, text (the rest of the record, commas included)
 *   88 continuation     more fields of the record before it (for a 16: more text)
 *   49 / 98 / 99        account, group and file trailers: control total and counts
 * A '/' ends a record early; the fields it leaves out are empty (an 88 may still supply them).
 *
 * Every control total and record count is checked, and the nesting 01 (02 (03 16* 49)* 98)* 99
 * with nothing after the 99; one failure refuses the whole file. Counting rules (worked out on,
 * and holding for, the fixtures bai2/sample1.txt and sample2.txt):
 *   49 control total = sum of the amounts of the 03 (every type code's amount, status codes
 *      included) and of every 16, 88 continuations included; funds availability amounts (S and
 *      D distributions) are breakdowns of those amounts and are not added.
 *   49 record count  = physical records from the 03 to the 49 inclusive, 88s included.
 *   98 control total = sum of the group's 49 totals; 98 count = records from 02 to 98 inclusive;
 *   99 control total = sum of the 98 totals;        99 count = records from 01 to 99 inclusive.
 *
 * One recon_entry (source "bai2") per 16 record, by type code:
 *   100-399, 920-959  credits: PAYMENT ("zero_amount" SKIPPED if the amount is 0)
 *   400-699, 960-999  debits: SKIPPED "debit_entry"
 *   700-799           loan account activity: SKIPPED "loan_entry"
 *   890               non-monetary information: NOTICE "non_monetary"
 *   anything else     (001-099 and 900-919 are status codes, 800-889 and 891-899 are not
 *                     assigned, "000", "1000", "AB") refuses the file: "unknown type code"
 * Entries of a group whose status is 2 (deletion) or 4 (test only) are SKIPPED "group_deletion"
 * or "group_test_only" (890 stays a NOTICE). A correction group (3) is reported as usual.
 *
 * amount_cents is the 16 amount as written (BAI2 amounts are already in the currency's minor
 * units); currency is the 03's, else the 02's, else USD; received_at_ms is the detail's value
 * date (funds type V) when given, else the group's as-of date; reference joins bank reference,
 * customer reference and text; type_code is the code; line is the 16's line.
 *
 * payment_id is "bai2:<file id>/<bank reference>" when the bank reference is non-empty, unique
 * among this file's 16 records and not itself of the form L<digits>, else
 * "bai2:<file id>/L<line>". The file id joins the 01's sender, receiver, creation date, creation
 * time and file id number with '-' (characters other than A-Z a-z 0-9 become '_'; beyond 63
 * characters it is cut to 46 and ends "~" + 16 hex digits of a hash of the whole). A bank
 * reference keeps printable ASCII, spaces and controls become '_'; when the id would exceed
 * RECON_ID_MAX the line form is used. */
#ifndef ARREARS_RECON_BAI2_H
#define ARREARS_RECON_BAI2_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"
#include "entry.h"

#define RECON_BAI2_FILE_ID_MAX 63

typedef struct recon_bai2_summary {
    int64_t groups, accounts, details;        /* 02, 03 and 16 records */
    int64_t payments, skipped, notices;       /* the details by recon_kind */
    int64_t credit_cents, debit_cents;        /* 16 amounts with credit codes (100-399, 920-959),
                                                 debit codes (400-699, 960-999); loan and 890
                                                 details are in neither */
    char file_id[RECON_BAI2_FILE_ID_MAX + 1]; /* as used in payment ids */
} recon_bai2_summary;

/* Parses a whole BAI2 file held in memory (data need not be NUL-terminated; a UTF-8 BOM and
 * blank lines after the 99 are allowed) and appends one entry per 16 record to out. All or
 * nothing: on error out->n is restored, *sum is untouched and why says "line N (RT name) field
 * F: reason", e.g. "line 16 (49 account trailer) field control total: expected +834000 found
 * +834001". ARR_EINVAL for a bad file, ARR_ELIMIT when out reaches its cap, ARR_ENOMEM.
 * sum may be NULL. The caller keeps ownership of data and out. */
arr_err recon_bai2_parse(const char *data, size_t len, recon_entries *out, recon_bai2_summary *sum,
                         char *why, size_t whylen);

#endif
