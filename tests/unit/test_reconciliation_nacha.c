/* Unit tests of services/reconciliation/nacha.c: NACHA ACH files as a debt collector
 * receives them. Expected values are read by hand from the fixture text (quoted in the
 * comments) or worked out by hand for the files built here; broken variants are made by
 * editing fixture text at a line and column, and each must be refused as a whole with a
 * reason naming the line, the record and the field. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nacha.h"

#define FIXTURES ARR_FIXTURES_DIR "/payments/nacha/"

/* 2000-01-01, 2019-08-29, 2019-06-25 and 2019-07-02 at 00:00 UTC, in ms (date -u -d ... +%s). */
#define MS_2000_01_01 946684800000LL
#define MS_2019_08_29 1567036800000LL
#define MS_2019_06_25 1561420800000LL
#define MS_2019_07_02 1562025600000LL

static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, FIXTURES "%s", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char *buf = malloc(8192);
    cr_assert_not_null(buf);
    size_t n = fread(buf, 1, 8191, f);
    fclose(f);
    cr_assert(n > 0 && n < 8191, "%s: unexpected size %zu", path, n);
    buf[n] = '\0';
    return buf;
}

/* Start of 1-based line `line` in text. */
static char *line_at(char *text, int line)
{
    char *p = text;
    for (int i = 1; i < line; i++) {
        p = strchr(p, '\n');
        cr_assert_not_null(p, "no line %d", line);
        p++;
    }
    return p;
}

/* Overwrites text at a 1-based line and column (the record layouts' numbering). */
static void set_at(char *text, int line, int column, const char *s)
{
    char *p = line_at(text, line);
    char *nl = strchr(p, '\n');
    size_t linelen = nl ? (size_t)(nl - p) : strlen(p);
    cr_assert(column - 1 + strlen(s) <= linelen, "line %d too short for column %d", line, column);
    memcpy(p + column - 1, s, strlen(s));
}

/* Copy of text with every "\n" as "\r\n", or with trailing blanks of each line removed, or
 * with no line breaks at all. */
static char *with_crlf(const char *text)
{
    char *o = malloc(strlen(text) * 2 + 1), *q = o;
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            *q++ = '\r';
        *q++ = *p;
    }
    *q = '\0';
    return o;
}

static char *trimmed_lines(const char *text)
{
    char *o = malloc(strlen(text) + 1), *q = o;
    for (const char *p = text; *p; p++) {
        if (*p == '\n' || (*p == ' ' && p[strspn(p, " ")] == '\n') ||
            (*p == ' ' && p[strspn(p, " ")] == '\0')) {
            if (*p == '\n')
                *q++ = '\n';
            else
                p += strspn(p, " ") - 1;
            continue;
        }
        *q++ = *p;
    }
    *q = '\0';
    return o;
}

static char *unbroken(const char *text)
{
    char *o = malloc(strlen(text) + 1), *q = o;
    for (const char *p = text; *p; p++)
        if (*p != '\n')
            *q++ = *p;
    *q = '\0';
    return o;
}

static void parse_ok(const char *text, recon_entries *l, recon_nacha_summary *sum)
{
    char why[512] = "";
    arr_err e = recon_nacha_parse(text, strlen(text), l, sum, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s", why);
}

/* Refused as a whole: the list keeps the one entry it had, why starts with `prefix`. */
static void parse_fails(const char *text, const char *prefix)
{
    recon_entries l;
    recon_entries_init(&l, 0);
    recon_entry *x;
    cr_assert_eq(recon_entries_push(&l, &x), ARR_OK);
    strcpy(x->payment_id, "earlier");
    recon_nacha_summary sum;
    memset(&sum, 0x5a, sizeof sum);
    char why[512] = "";
    arr_err e = recon_nacha_parse(text, strlen(text), &l, &sum, why, sizeof why);
    cr_assert_eq(e, ARR_EINVAL, "accepted; expected: %s", prefix);
    cr_assert_eq(strncmp(why, prefix, strlen(prefix)), 0, "why: %s\nexpected: %s", why, prefix);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.v[0].payment_id, "earlier");
    recon_nacha_summary untouched;
    memset(&untouched, 0x5a, sizeof untouched);
    cr_assert_eq(memcmp(&sum, &untouched, sizeof sum), 0);
    recon_entries_free(&l);
}

/* ------------------------------------------------------------------ return-WEB.ach */

/* return-WEB.ach, two batches with one return each:
 * 3: 626091400606123456789        0000012354MjMxNDAwMjAtOGQPaul Jones            S 1091000017611242
 * 4: 799R01091400600000001      09100001                                            091000017611242
 * 7: 621091400606867530999999     0000004565NmRjZTJmMzItMGNBob Marley            S 1021000029461242
 * 8: 799R03091400600000003      02100002                                            021000029461242
 * batch headers: effective entry date 000101; file control debit 12354, credit 4565. */
static void check_return_web(const recon_entries *l, const recon_nacha_summary *s)
{
    cr_assert_eq(l->n, 2);
    const recon_entry *a = &l->v[0], *b = &l->v[1];
    cr_assert_eq(a->kind, RECON_RETURN);
    cr_assert_str_eq(a->payment_id, "nacha:return:091000017611242");
    cr_assert_str_eq(a->returned_payment_id, "nacha:091400600000001");
    cr_assert_str_eq(a->return_code, "R01");
    cr_assert_eq(a->amount_cents, 12354);
    cr_assert_str_eq(a->currency, "USD");
    cr_assert_str_eq(a->source, "nacha");
    cr_assert_str_eq(a->payer_name, "Paul Jones");
    cr_assert_str_eq(a->reference, "MjMxNDAwMjAtOGQ");
    cr_assert_str_eq(a->type_code, "26");
    cr_assert_str_eq(a->end_to_end_id, "091400600000001");
    cr_assert_str_eq(a->skip_reason, "");
    cr_assert_eq(a->received_at_ms, MS_2000_01_01);
    cr_assert_eq(a->line, 3);

    /* Transaction code 21: a returned credit (money we sent coming back), recorded only. */
    cr_assert_eq(b->kind, RECON_NOTICE);
    cr_assert_str_eq(b->skip_reason, "returned_credit:R03");
    cr_assert_str_eq(b->payment_id, "nacha:return:021000029461242");
    cr_assert_str_eq(b->returned_payment_id, "");
    cr_assert_str_eq(b->return_code, "R03");
    cr_assert_eq(b->amount_cents, 4565);
    cr_assert_str_eq(b->payer_name, "Bob Marley");
    cr_assert_str_eq(b->reference, "NmRjZTJmMzItMGN");
    cr_assert_str_eq(b->type_code, "21");
    cr_assert_eq(b->line, 7);

    cr_assert_eq(s->batches, 2);
    cr_assert_eq(s->entries, 2);
    cr_assert_eq(s->addenda, 2);
    cr_assert_eq(s->returns, 1);
    cr_assert_eq(s->notices, 1); /* the returned credit */
    cr_assert_eq(s->payments + s->skipped, 0);
    cr_assert_eq(s->debit_cents, 12354);
    cr_assert_eq(s->credit_cents, 4565);
}

Test(recon_nacha, return_web_fixture)
{
    char *t = slurp("return-WEB.ach");
    recon_entries l;
    recon_entries_init(&l, 0);
    recon_nacha_summary s;
    parse_ok(t, &l, &s);
    check_return_web(&l, &s);
    recon_entries_free(&l);
    free(t);
}

Test(recon_nacha, crlf_trimmed_and_unbroken_forms_parse_the_same)
{
    char *t = slurp("return-WEB.ach");
    char *crlf = with_crlf(t), *trim = trimmed_lines(t), *both = with_crlf(trim);
    char *flat = unbroken(t);
    cr_assert_not_null(strstr(crlf, "S 1091000017611242\r\n"));
    cr_assert_not_null(strstr(trim, "TRUST     ASF APPLICATION SUPERVI\n5200"));
    cr_assert_null(strchr(flat, '\n'));
    const char *forms[] = {crlf, trim, both, flat};
    for (size_t i = 0; i < 4; i++) {
        recon_entries l;
        recon_entries_init(&l, 0);
        recon_nacha_summary s;
        parse_ok(forms[i], &l, &s);
        check_return_web(&l, &s);
        recon_entries_free(&l);
    }
    free(crlf);
    free(trim);
    free(both);
    free(flat);
    free(t);
}

Test(recon_nacha, return_reason_table)
{
    cr_assert_str_eq(recon_nacha_return_reason("R01"), "insufficient funds");
    cr_assert_str_eq(recon_nacha_return_reason("R02"), "account closed");
    cr_assert_not_null(strstr(recon_nacha_return_reason("R03"), "unable to locate"));
    cr_assert_not_null(strstr(recon_nacha_return_reason("R04"), "invalid account number"));
    const char *common[] = {"R05", "R06", "R07", "R08", "R09", "R10", "R16", "R20", "R29"};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        cr_assert_not_null(recon_nacha_return_reason(common[i]), "%s", common[i]);
    cr_assert_null(recon_nacha_return_reason("R98"));
    cr_assert_null(recon_nacha_return_reason("r01"));
    cr_assert_null(recon_nacha_return_reason(""));
    cr_assert_null(recon_nacha_return_reason(NULL));
    cr_assert_str_eq(recon_nacha_change_reason("C01"), "incorrect DFI account number");
    cr_assert_null(recon_nacha_change_reason("C99"));
}

/* ------------------------------------------------------------------ cor-example.ach */

/* cor-example.ach, one COR batch (service class 220, effective date 000000), file creation
 * date 190829:
 * 3: 621231380104744-5678-99      0000000000location #23   Best Co. #23          S 1121042880000001
 * 4: 798C01121042880000001      121042881918171614                                  091012980000088
 * The notice's own trace equals the original's; the namespaces keep their ids apart. */
Test(recon_nacha, notification_of_change_fixture)
{
    char *t = slurp("cor-example.ach");
    recon_entries l;
    recon_entries_init(&l, 0);
    recon_nacha_summary s;
    parse_ok(t, &l, &s);
    cr_assert_eq(l.n, 1);
    const recon_entry *a = &l.v[0];
    cr_assert_eq(a->kind, RECON_NOTICE);
    cr_assert_str_eq(a->payment_id, "nacha:noc:121042880000001");
    cr_assert_str_eq(a->returned_payment_id, "nacha:121042880000001");
    cr_assert_str_eq(a->skip_reason, "noc:C01");
    cr_assert_eq(a->amount_cents, 0);
    cr_assert_str_eq(a->payer_name, "Best Co. #23");
    cr_assert_str_eq(a->reference, "location #23 1918171614");
    cr_assert_str_eq(a->type_code, "21");
    cr_assert_str_eq(a->currency, "USD");
    cr_assert_eq(a->received_at_ms, MS_2019_08_29);
    cr_assert_eq(a->line, 3);
    cr_assert_eq(s.batches, 1);
    cr_assert_eq(s.entries, 1);
    cr_assert_eq(s.addenda, 1);
    cr_assert_eq(s.notices, 1);
    cr_assert_eq(s.payments + s.returns + s.skipped, 0);
    cr_assert_eq(s.debit_cents, 0);
    cr_assert_eq(s.credit_cents, 0);
    recon_entries_free(&l);
    free(t);
}

Test(recon_nacha, malformed_change_code)
{
    char *t = slurp("cor-example.ach");
    set_at(t, 4, 4, "X01");
    parse_fails(t, "line 4 (7 addenda) field change code: malformed code 'X01'");
    free(t);
}

Test(recon_nacha, cor_entry_without_addenda_98)
{
    /* indicator 0 and the addenda line turned into a second entry would change the hash;
     * instead the addenda becomes a 05, which a COR entry cannot carry alone. */
    char *t = slurp("cor-example.ach");
    set_at(t, 4, 2, "05");
    set_at(t, 4, 84, "0001");
    set_at(t, 4, 88, "0000001");
    parse_fails(t, "line 3 (6 entry detail) field addenda record indicator: an entry of a COR "
                   "batch without an addenda 98");
    free(t);
}

/* ------------------------------------------------------------------ ppd-debit.ach */

/* ppd-debit.ach, one PPD batch (service class 225, effective date 190625), trimmed lines:
 * 3: 62723138010412345678         0100000000               Receiver Account Name   0121042880000001
 * file control debit 000100000000, credit 0. */
Test(recon_nacha, ppd_debit_fixture)
{
    char *t = slurp("ppd-debit.ach");
    recon_entries l;
    recon_entries_init(&l, 0);
    recon_nacha_summary s;
    parse_ok(t, &l, &s);
    cr_assert_eq(l.n, 1);
    const recon_entry *a = &l.v[0];
    cr_assert_eq(a->kind, RECON_PAYMENT);
    cr_assert_str_eq(a->payment_id, "nacha:121042880000001");
    cr_assert_str_eq(a->end_to_end_id, "121042880000001");
    cr_assert_eq(a->amount_cents, 100000000);
    cr_assert_str_eq(a->currency, "USD");
    cr_assert_str_eq(a->payer_name, "Receiver Account Name");
    cr_assert_str_eq(a->reference, "");
    cr_assert_str_eq(a->type_code, "27");
    cr_assert_str_eq(a->returned_payment_id, "");
    cr_assert_eq(a->received_at_ms, MS_2019_06_25);
    cr_assert_eq(a->line, 3);
    cr_assert_eq(s.payments, 1);
    cr_assert_eq(s.entries, 1);
    cr_assert_eq(s.addenda, 0);
    cr_assert_eq(s.debit_cents, 100000000);
    cr_assert_eq(s.credit_cents, 0);
    recon_entries_free(&l);
    free(t);
}

Test(recon_nacha, wrong_check_digit)
{
    char *t = slurp("ppd-debit.ach");
    set_at(t, 3, 12, "5"); /* 231380104 is valid: 3*(2+3+1) + 7*(3+8+0) + (1+0+4) = 100 */
    parse_fails(t, "line 3 (6 entry detail) field check digit: expected 4 found 5");
    free(t);
}

Test(recon_nacha, credit_in_a_debits_only_batch)
{
    char *t = slurp("ppd-debit.ach");
    set_at(t, 3, 2, "22");
    parse_fails(t, "line 3 (6 entry detail) field transaction code: credit 22 in a debits-only");
    free(t);
}

/* ------------------------------------------------------------------ broken return-WEB */

Test(recon_nacha, truncated_without_file_control)
{
    char *t = slurp("return-WEB.ach");
    *line_at(t, 10) = '\0';
    parse_fails(t, "line 10 (end of file) field record type: expected 5 batch header or 9 file "
                   "control, found the end of the data");
    *line_at(t, 6) = '\0'; /* cut inside nothing: after a batch control */
    parse_fails(t, "line 6 (end of file) field record type");
    *line_at(t, 4) = '\0'; /* cut inside a batch */
    parse_fails(t, "line 4 (end of file) field record type: expected 6 entry detail, 7 addenda "
                   "or 8 batch control");
    parse_fails("", "line 1 (end of file) field record type: expected 1 file header");
    free(t);
}

Test(recon_nacha, wrong_batch_entry_hash)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 5, 11, "0009140061");
    parse_fails(t, "line 5 (8 batch control) field entry hash: expected 9140060 found 9140061");
    free(t);
}

Test(recon_nacha, wrong_batch_total)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 5, 21, "000000012355");
    parse_fails(t, "line 5 (8 batch control) field total debit amount: expected 12354 found 12355");
    free(t);
}

Test(recon_nacha, wrong_file_totals_and_counts)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 10, 44, "000000004566");
    parse_fails(t, "line 10 (9 file control) field total credit amount: expected 4565 found 4566");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 10, 22, "0018280121");
    parse_fails(t, "line 10 (9 file control) field entry hash: expected 18280120 found 18280121");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 10, 14, "00000003");
    parse_fails(t, "line 10 (9 file control) field entry/addenda count: expected 4 found 3");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 10, 2, "000003");
    parse_fails(t, "line 10 (9 file control) field batch count: expected 2 found 3");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 10, 8, "000002"); /* 10 records make one block */
    parse_fails(t, "line 10 (9 file control) field block count: expected 1 found 2");
    free(t);
}

Test(recon_nacha, wrong_batch_count_and_number)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 9, 5, "000003");
    parse_fails(t, "line 9 (8 batch control) field entry/addenda count: expected 2 found 3");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 9, 88, "0000003");
    parse_fails(t, "line 9 (8 batch control) field batch number: expected 0000002");
    free(t);
}

Test(recon_nacha, letter_in_amount)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 3, 30, "00000123S4");
    parse_fails(t, "line 3 (6 entry detail) field amount: not a number: '00000123S4'");
    free(t);
}

Test(recon_nacha, unknown_transaction_code)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 3, 2, "25");
    parse_fails(t, "line 3 (6 entry detail) field transaction code: unknown transaction code 25");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 7, 2, "61");
    parse_fails(t, "line 7 (6 entry detail) field transaction code: unknown transaction code 61");
    free(t);
}

Test(recon_nacha, malformed_return_code)
{
    static const char *const bad[] = {"X01", "R0A", "01R", "   ", "RR1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *t = slurp("return-WEB.ach");
        set_at(t, 8, 4, bad[i]);
        char want[128];
        snprintf(want, sizeof want,
                 "line 8 (7 addenda) field return reason code: malformed code '%s'", bad[i]);
        parse_fails(t, want);
        free(t);
    }
}

Test(recon_nacha, well_formed_unknown_return_code_is_kept)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 4, 4, "R98"); /* the first return: a returned debit (code 26) */
    recon_entries l;
    recon_entries_init(&l, 0);
    recon_nacha_summary s;
    parse_ok(t, &l, &s);
    cr_assert_str_eq(l.v[0].return_code, "R98");
    cr_assert_eq(l.v[0].kind, RECON_RETURN);
    recon_entries_free(&l);
    free(t);
}

Test(recon_nacha, returned_prenote_is_a_notice)
{
    /* Second return's amount 4565 -> 0, with its batch and file credit totals. */
    char *t = slurp("return-WEB.ach");
    set_at(t, 7, 30, "0000000000");
    set_at(t, 9, 33, "000000000000");
    set_at(t, 10, 44, "000000000000");
    recon_entries l;
    recon_entries_init(&l, 0);
    recon_nacha_summary s;
    parse_ok(t, &l, &s);
    cr_assert_eq(l.v[1].kind, RECON_NOTICE);
    cr_assert_str_eq(l.v[1].skip_reason, "return:R03");
    cr_assert_str_eq(l.v[1].return_code, "R03");
    cr_assert_str_eq(l.v[1].returned_payment_id, "nacha:091400600000003");
    cr_assert_eq(l.v[1].amount_cents, 0);
    cr_assert_eq(s.returns, 1);
    cr_assert_eq(s.notices, 1);
    recon_entries_free(&l);
    free(t);
}

Test(recon_nacha, addenda_against_indicator)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 3, 79, "0");
    parse_fails(t, "line 4 (7 addenda) field record type: addenda after the entry on line 3, "
                   "whose addenda record indicator is 0");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 4, 1, "6"); /* the addenda turns into an entry: line 3 is left without one */
    parse_fails(t, "line 3 (6 entry detail) field addenda record indicator: 1 but no addenda "
                   "record follows");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 3, 79, "2");
    parse_fails(t, "line 3 (6 entry detail) field addenda record indicator: expected 0 or 1");
    free(t);
}

Test(recon_nacha, records_out_of_order)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 2, 1, "6");
    parse_fails(t, "line 2 (6 entry detail) field record type: expected 5 batch header or 9 file "
                   "control");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 1, 1, "5");
    parse_fails(t, "line 1 (5 batch header) field record type: expected 1 file header");
    free(t);
    t = slurp("return-WEB.ach");
    set_at(t, 6, 1, "X");
    parse_fails(t, "line 6 (unknown record) field record type: unknown record type 'X'");
    free(t);
}

Test(recon_nacha, only_filler_after_file_control)
{
    char *t = slurp("cor-example.ach");
    set_at(t, 8, 1, "1");
    parse_fails(t, "line 8 (1 file header) field record type: expected only block filler");
    free(t);
    /* blank lines after the filler are harmless */
    t = slurp("cor-example.ach");
    size_t n = strlen(t);
    char *more = malloc(n + 4);
    memcpy(more, t, n);
    memcpy(more + n, "\n\n", 3);
    recon_entries l;
    recon_entries_init(&l, 0);
    parse_ok(more, &l, NULL);
    cr_assert_eq(l.n, 1);
    recon_entries_free(&l);
    free(more);
    free(t);
}

Test(recon_nacha, overlong_line_and_control_character)
{
    char *t = slurp("return-WEB.ach");
    size_t n = strlen(t);
    char *o = malloc(n + 2);
    char *l2 = line_at(t, 2);
    size_t head = (size_t)(l2 - 1 - t); /* up to the first '\n' */
    memcpy(o, t, head);
    o[head] = 'X';
    memcpy(o + head + 1, t + head, n - head + 1);
    parse_fails(o, "line 1 (1 file header) field record length: 95 characters, expected 94");
    free(o);
    set_at(t, 3, 60, "\t");
    parse_fails(t, "line 3 (6 entry detail) field record text: control character 0x09 at column "
                   "60");
    free(t);
}

Test(recon_nacha, list_cap_refuses_whole_file)
{
    char *t = slurp("return-WEB.ach");
    recon_entries l;
    recon_entries_init(&l, 1);
    char why[256] = "";
    cr_assert_eq(recon_nacha_parse(t, strlen(t), &l, NULL, why, sizeof why), ARR_ELIMIT);
    cr_assert_eq(l.n, 0);
    cr_assert_not_null(strstr(why, "line 7 (6 entry detail)"), "%s", why);
    recon_entries_free(&l);
    free(t);
}

/* ------------------------------------------------------------------ a file built here */

static void rec(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One record, checked to be exactly 94 characters, appended with "\n". */
static void rec(char *dst, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cr_assert_eq(n, 94, "record of %d characters: %s", n, line);
    strcat(dst, line);
    strcat(dst, "\n");
}

static void entry6(char *dst, const char *tc, const char *rdfi9, long amount, const char *id,
                   const char *name, char indicator, const char *trace)
{
    rec(dst, "6%s%s%-17s%010ld%-15s%-22s  %c%s", tc, rdfi9, "12345678", amount, id, name, indicator,
        trace);
}

/* A PPD batch (service class 200, effective 190702) of four entries:
 *  line 3: 27 debit   231380104 2500 "ACC-1001" "JANE DOE", addenda 05 "INV 77 JULY" (line 4)
 *  line 5: 22 credit  091400606  700 "ACC-1002" "JOHN ROE"
 *  line 6: 28 prenote 231380104    0 "ACC-1003" "AMY POE"
 *  line 7: 37 debit   091400606 1999 "ACC-1004" "  LEE   WU"
 * By hand: 5 entry/addenda records; hash 23138010 + 9140060 + 23138010 + 9140060 = 64556140;
 * debits (27, 28, 37) 2500 + 0 + 1999 = 4499; credits (22) 700; 9 records, one block. */
static void build_ppd(char *f, const char *trace7)
{
    f[0] = '\0';
    rec(f, "101 231380104 1210428821907021200%c094101%-23s%-23s%-8s", 'A', "BANK", "COLLECTOR", "");
    rec(f, "5200%-16s%-20s%-10sPPD%-10s%-6s190702   1121042880000001", "ARREARS COLL", "",
        "1210428820", "LOAN PAY", "");
    entry6(f, "27", "231380104", 2500, "ACC-1001", "JANE DOE", '1', "121042880000011");
    rec(f, "705%-80s00010000011", "INV 77 JULY");
    entry6(f, "22", "091400606", 700, "ACC-1002", "JOHN ROE", '0', "121042880000012");
    entry6(f, "28", "231380104", 0, "ACC-1003", "AMY POE", '0', "121042880000013");
    entry6(f, "37", "091400606", 1999, "ACC-1004", "  LEE   WU", '0', trace7);
    rec(f, "820000000500645561400000000044990000000007001210428820%-19s%-6s121042880000001", "",
        "");
    rec(f, "9000001000001000000050064556140000000004499000000000700%-39s", "");
}

Test(recon_nacha, built_batch_payments_and_skips)
{
    char f[2048];
    build_ppd(f, "121042880000014");
    recon_entries l;
    recon_entries_init(&l, 0);
    recon_nacha_summary s;
    parse_ok(f, &l, &s);
    cr_assert_eq(l.n, 4);
    cr_assert_eq(l.v[0].kind, RECON_PAYMENT);
    cr_assert_str_eq(l.v[0].payment_id, "nacha:121042880000011");
    cr_assert_str_eq(l.v[0].reference, "ACC-1001 INV 77 JULY");
    cr_assert_str_eq(l.v[0].payer_name, "JANE DOE");
    cr_assert_eq(l.v[0].amount_cents, 2500);
    cr_assert_eq(l.v[0].received_at_ms, MS_2019_07_02);
    cr_assert_eq(l.v[1].kind, RECON_SKIPPED);
    cr_assert_str_eq(l.v[1].skip_reason, "credit_entry");
    cr_assert_eq(l.v[1].amount_cents, 700);
    cr_assert_eq(l.v[1].line, 5);
    cr_assert_eq(l.v[2].kind, RECON_SKIPPED);
    cr_assert_str_eq(l.v[2].skip_reason, "prenote");
    cr_assert_str_eq(l.v[2].type_code, "28");
    cr_assert_eq(l.v[3].kind, RECON_PAYMENT);
    cr_assert_str_eq(l.v[3].payer_name, "LEE WU");
    cr_assert_str_eq(l.v[3].type_code, "37");
    cr_assert_eq(l.v[3].amount_cents, 1999);
    cr_assert_eq(l.v[3].line, 7);
    cr_assert_eq(s.payments, 2);
    cr_assert_eq(s.skipped, 2);
    cr_assert_eq(s.entries, 4);
    cr_assert_eq(s.addenda, 1);
    cr_assert_eq(s.debit_cents, 4499);
    cr_assert_eq(s.credit_cents, 700);
    recon_entries_free(&l);
}

Test(recon_nacha, built_batch_refusals)
{
    char f[2048];
    build_ppd(f, "121042880000011"); /* the fourth entry repeats the first one's trace */
    parse_fails(f, "line 7 (6 entry detail) field trace number: nacha:121042880000011 repeats "
                   "the entry on line 3");
    build_ppd(f, "121042880000014");
    set_at(f, 6, 30, "0000000001"); /* prenote with an amount (totals would differ too) */
    parse_fails(f, "line 6 (6 entry detail) field amount: not zero for a prenote");
    build_ppd(f, "121042880000014");
    set_at(f, 5, 79, "1");
    parse_fails(f, "line 5 (6 entry detail) field addenda record indicator: 1 but no addenda");
    build_ppd(f, "121042880000014");
    set_at(f, 4, 2, "17");
    parse_fails(f, "line 4 (7 addenda) field addenda type code: unsupported addenda type '17'");
    build_ppd(f, "121042880000014");
    set_at(f, 5, 2, "21"); /* a return code without its addenda 99 */
    parse_fails(f, "line 5 (6 entry detail) field transaction code: a return or notification");
    build_ppd(f, "121042880000014");
    set_at(f, 2, 51, "IAT");
    parse_fails(f, "line 2 (5 batch header) field standard entry class code: IAT batches are "
                   "not supported");
    build_ppd(f, "121042880000014");
    set_at(f, 2, 70, "190732");
    parse_fails(f, "line 2 (5 batch header) field effective entry date: not a date");
    build_ppd(f, "121042880000014");
    set_at(f, 8, 45, "9999999999");
    parse_fails(f, "line 8 (8 batch control) field company identification: expected "
                   "'1210428820' found '9999999999'");
}

Test(recon_nacha, non_ascii_text_becomes_question_mark)
{
    char *t = slurp("return-WEB.ach");
    set_at(t, 3, 59, "\xe9"); /* the blank in "Paul Jones" (columns 55-76) */
    recon_entries l;
    recon_entries_init(&l, 0);
    parse_ok(t, &l, NULL);
    cr_assert_str_eq(l.v[0].payer_name, "Paul?Jones");
    recon_entries_free(&l);
    set_at(t, 3, 31, "\xe9"); /* inside the amount: quoted as '?' in the reason */
    parse_fails(t, "line 3 (6 entry detail) field amount: not a number: '0?00012354'");
    free(t);
}
