/* Unit tests of services/ingest/reader.c, mapping.c and raw.c: cutting CSV and JSON Lines
 * exports into records (quoting, line breaks, line numbers, broken rows and recovery), JSON
 * values as raw text, and strict loading of mapping files. Inputs are written to temporary
 * files; expected values are worked out from the headers, never read back from the code. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mapping.h"
#include "raw.h"
#include "reader.h"

/* ---- helpers ---- */

typedef struct ctx {
    FILE *f;
    ingest_mapping *m;
    ingest_reader *r;
    char why[256];
} ctx;

static FILE *file_of(const char *text, size_t len)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    rewind(f);
    return f;
}

static void set_column(ingest_mapping *m, ingest_field f, const char *column)
{
    free(m->columns[f]);
    m->columns[f] = column ? strdup(column) : NULL;
}

/* The test CSV layout: four mapped columns under export-style names. */
static ingest_mapping *csv_mapping(void)
{
    ingest_mapping *m = calloc(1, sizeof(*m));
    cr_assert_not_null(m);
    m->format = INGEST_CSV;
    m->delimiter = ',';
    m->amount.decimal_sep = '.';
    strcpy(m->date_format, "%Y-%m-%d");
    set_column(m, IF_ACCOUNT_ID, "Account");
    set_column(m, IF_FIRST_NAME, "Name");
    set_column(m, IF_BALANCE, "Balance");
    set_column(m, IF_DUE_DATE, "Due");
    return m;
}

static ingest_mapping *jsonl_mapping(void)
{
    ingest_mapping *m = csv_mapping();
    m->format = INGEST_JSONL;
    set_column(m, IF_ACCOUNT_ID, "acct");
    set_column(m, IF_FIRST_NAME, "name");
    set_column(m, IF_BALANCE, "bal");
    set_column(m, IF_DUE_DATE, "due");
    set_column(m, IF_AUTOPAY, "autopay");
    return m;
}

static arr_err open_len(ctx *c, ingest_mapping *m, const char *text, size_t len)
{
    memset(c, 0, sizeof(*c));
    c->m = m;
    c->f = file_of(text, len);
    return ingest_reader_open(c->f, c->m, &c->r, c->why, sizeof(c->why));
}

static arr_err open_text(ctx *c, ingest_mapping *m, const char *text)
{
    return open_len(c, m, text, strlen(text));
}

static void close_ctx(ctx *c)
{
    ingest_reader_free(c->r);
    ingest_mapping_free(c->m);
    if (c->f)
        fclose(c->f);
}

/* Reads a record that must be good and checks its account and line. */
static void expect_ok(ctx *c, ingest_raw *raw, const char *account, long line)
{
    ingest_issue bad = {0};
    arr_err e = ingest_reader_next(c->r, raw, &bad);
    cr_assert_eq(e, ARR_OK, "expected a record %s at line %ld, got %d (%s)", account, line, e,
                 bad.detail);
    cr_assert_str_eq(raw->v[IF_ACCOUNT_ID], account);
    cr_assert_eq(raw->line, line, "record %s: line %ld, expected %ld", account, raw->line, line);
}

/* Reads a record that must be a bad_row at line whose detail contains part. */
static void expect_bad(ctx *c, long line, const char *part, ingest_issue *out)
{
    ingest_raw raw;
    ingest_issue bad = {0};
    arr_err e = ingest_reader_next(c->r, &raw, &bad);
    cr_assert_eq(e, ARR_EINVAL, "expected a bad_row at line %ld, got %d", line, e);
    cr_assert_not_null(bad.code);
    cr_assert_str_eq(bad.code, "bad_row");
    cr_assert_eq(raw.line, line, "bad_row at line %ld, expected %ld", raw.line, line);
    cr_assert(strstr(bad.detail, part), "detail \"%s\" lacks \"%s\"", bad.detail, part);
    for (int f = 0; f < IF__COUNT; f++)
        cr_assert_null(raw.v[f]);
    if (out)
        *out = bad;
}

static void expect_end(ctx *c)
{
    ingest_raw raw;
    ingest_issue bad = {0};
    cr_assert_eq(ingest_reader_next(c->r, &raw, &bad), ARR_ENOTFOUND);
    /* the end stays the end */
    cr_assert_eq(ingest_reader_next(c->r, &raw, &bad), ARR_ENOTFOUND);
}

#define HEADER "Account,Name,Balance,Due\n"

/* ---- raw.c ---- */

Test(ingest_raw, field_names_follow_the_enum)
{
    cr_assert_str_eq(ingest_field_name(IF_ACCOUNT_ID), "account_id");
    cr_assert_str_eq(ingest_field_name(IF_ORIGINAL_BALANCE), "original_balance");
    cr_assert_str_eq(ingest_field_name(IF_PHONE2_SMS_CONSENT), "phone2_sms_consent");
    cr_assert_str_eq(ingest_field_name(IF_ADDRESS_LINE1), "address_line1");
    cr_assert_str_eq(ingest_field_name(IF_PAYMENTS_12M), "payments_12m");
    cr_assert_eq(ingest_field_from_name("phone2_voice_consent"), IF_PHONE2_VOICE_CONSENT);
    cr_assert_eq(ingest_field_from_name("account_id"), IF_ACCOUNT_ID);
}

Test(ingest_raw, every_name_round_trips_and_unknown_is_minus_one)
{
    for (int f = 0; f < IF__COUNT; f++) {
        const char *name = ingest_field_name((ingest_field)f);
        cr_assert_not_null(name);
        cr_assert_eq(ingest_field_from_name(name), f, "%s", name);
    }
    cr_assert_eq(ingest_field_from_name("Account_ID"), -1);
    cr_assert_eq(ingest_field_from_name("if_account_id"), -1);
    cr_assert_eq(ingest_field_from_name(""), -1);
    cr_assert_eq(ingest_field_from_name(NULL), -1);
}

/* ---- CSV: header ---- */

Test(ingest_csv, header_binds_columns_in_any_order_and_ignores_unmapped)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(),
                           " Due ,Extra,\"Balance\",Name,Account\n"
                           "2025-01-31,zzz,12.50,Ann,A1\n"
                           "2025-02-28,,3,,A2\n"),
                 ARR_OK, "%s", c.why);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    cr_assert_str_eq(raw.v[IF_DUE_DATE], "2025-01-31");
    cr_assert_str_eq(raw.v[IF_BALANCE], "12.50");
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "Ann");
    cr_assert_null(raw.v[IF_LAST_NAME]);
    cr_assert_str_eq(ingest_reader_text(c.r), "2025-01-31,zzz,12.50,Ann,A1");
    expect_ok(&c, &raw, "A2", 3);
    cr_assert_null(raw.v[IF_FIRST_NAME], "an empty field is absent");
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_csv, missing_mapped_column_names_column_and_field)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), "Account,Name,Balance,DueDate\nA1,x,1,2\n"),
                 ARR_EDECODE);
    cr_assert_null(c.r);
    cr_assert(strstr(c.why, "\"Due\""), "%s", c.why);
    cr_assert(strstr(c.why, "due_date"), "%s", c.why);
    close_ctx(&c);
}

Test(ingest_csv, header_match_is_case_sensitive)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), "account,Name,Balance,Due\n"), ARR_EDECODE);
    cr_assert(strstr(c.why, "\"Account\""), "%s", c.why);
    close_ctx(&c);
}

Test(ingest_csv, mapped_column_twice_in_header_is_refused)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), "Account,Name,Balance,Due,Name\n"), ARR_EDECODE);
    cr_assert(strstr(c.why, "twice"), "%s", c.why);
    close_ctx(&c);
}

Test(ingest_csv, empty_file_has_no_header)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), ""), ARR_EDECODE);
    cr_assert(strstr(c.why, "header"), "%s", c.why);
    close_ctx(&c);
    cr_assert_eq(open_text(&c, csv_mapping(), "\n\r\n  \n"), ARR_EDECODE);
    close_ctx(&c);
}

Test(ingest_csv, header_with_broken_quoting_is_a_decode_error)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), "Account,\"Name\"x,Balance,Due\n"), ARR_EDECODE);
    cr_assert(strstr(c.why, "line 1"), "%s", c.why);
    close_ctx(&c);
}

Test(ingest_csv, header_only_gives_no_records)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), HEADER), ARR_OK, "%s", c.why);
    expect_end(&c);
    close_ctx(&c);
}

/* ---- CSV: encodings and line breaks ---- */

Test(ingest_csv, byte_order_mark_is_skipped)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), "\xEF\xBB\xBF" HEADER "A1,Ann,1,2025-01-01\n"),
                 ARR_OK, "%s", c.why);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    expect_end(&c);
    cr_assert_eq(ingest_reader_offset(c.r), 3 + (long long)strlen(HEADER "A1,Ann,1,2025-01-01\n"));
    close_ctx(&c);
}

Test(ingest_csv, crlf_and_lf_give_the_same_records)
{
    const char *lf = HEADER "A1,Ann,1.00,2025-01-01\nA2,\"Bob, Jr\",2.00,2025-01-02\n";
    const char *crlf = "Account,Name,Balance,Due\r\n"
                       "A1,Ann,1.00,2025-01-01\r\nA2,\"Bob, Jr\",2.00,2025-01-02\r\n";
    ctx a, b;
    cr_assert_eq(open_text(&a, csv_mapping(), lf), ARR_OK, "%s", a.why);
    cr_assert_eq(open_text(&b, csv_mapping(), crlf), ARR_OK, "%s", b.why);
    for (int i = 0; i < 2; i++) {
        ingest_raw ra, rb;
        const char *acct = i == 0 ? "A1" : "A2";
        expect_ok(&a, &ra, acct, 2 + i);
        char text_a[128];
        snprintf(text_a, sizeof(text_a), "%s", ingest_reader_text(a.r));
        expect_ok(&b, &rb, acct, 2 + i);
        cr_assert_str_eq(ingest_reader_text(b.r), text_a, "the terminator is not record text");
        for (int f = 0; f < IF__COUNT; f++) {
            if (!ra.v[f])
                cr_assert_null(rb.v[f]);
            else
                cr_assert_str_eq(rb.v[f], ra.v[f]);
        }
    }
    expect_end(&a);
    expect_end(&b);
    close_ctx(&a);
    close_ctx(&b);
}

Test(ingest_csv, quoted_commas_quotes_and_line_breaks)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(),
                           HEADER "A1,\"Smith, John\",1,2025-01-01\n"
                                  "A2,\"He said \"\"hi\"\"\",2,2025-01-01\n"
                                  "A3,\"two\nlines\",3,2025-01-01\n"
                                  "A4,\"three\r\nline\nbreaks\",4,2025-01-01\n"
                                  "A5, \"padded\" ,5,2025-01-01\n"),
                 ARR_OK, "%s", c.why);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "Smith, John");
    expect_ok(&c, &raw, "A2", 3);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "He said \"hi\"");
    expect_ok(&c, &raw, "A3", 4);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "two\nlines");
    cr_assert_str_eq(ingest_reader_text(c.r), "A3,\"two\nlines\",3,2025-01-01");
    /* A3 took lines 4 and 5, so A4 starts on line 6 and takes 6..8. */
    expect_ok(&c, &raw, "A4", 6);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "three\r\nline\nbreaks");
    expect_ok(&c, &raw, "A5", 9);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "padded");
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_csv, final_line_without_newline)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), HEADER "A1,Ann,1,2025-01-01\nA2,\"Bo\",2,2025-02-01"),
                 ARR_OK, "%s", c.why);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    expect_ok(&c, &raw, "A2", 3);
    cr_assert_str_eq(raw.v[IF_DUE_DATE], "2025-02-01");
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "Bo");
    cr_assert_str_eq(ingest_reader_text(c.r), "A2,\"Bo\",2,2025-02-01");
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_csv, blank_lines_are_skipped_and_counted)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(),
                           "\n" HEADER "\nA1,Ann,1,2025-01-01\n\r\n  \t \nA2,Bob,2,2025-01-01\n\n"),
                 ARR_OK, "%s", c.why);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 4);
    expect_ok(&c, &raw, "A2", 7);
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_csv, a_row_of_empty_fields_is_a_record_not_a_blank_line)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), HEADER ",,,\nA1,Ann,1,2025-01-01\n"), ARR_OK);
    ingest_raw raw;
    ingest_issue bad = {0};
    cr_assert_eq(ingest_reader_next(c.r, &raw, &bad), ARR_OK);
    cr_assert_eq(raw.line, 2);
    for (int f = 0; f < IF__COUNT; f++)
        cr_assert_null(raw.v[f]);
    expect_ok(&c, &raw, "A1", 3);
    close_ctx(&c);
}

Test(ingest_csv, other_delimiter)
{
    ingest_mapping *m = csv_mapping();
    m->delimiter = ';';
    ctx c;
    cr_assert_eq(open_text(&c, m, "Account;Name;Balance;Due\nA1;\"a;b, c\";1,50;2025-01-01\n"),
                 ARR_OK, "%s", c.why);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "a;b, c");
    cr_assert_str_eq(raw.v[IF_BALANCE], "1,50");
    expect_end(&c);
    close_ctx(&c);
}

/* ---- CSV: rows that cannot be read ---- */

Test(ingest_csv, wrong_column_count_is_a_bad_row_and_reading_goes_on)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(),
                           HEADER "A1,Ann,1,2025-01-01\nA2,Bob,2\nA3,Cy,3,2025-01-01,extra\n"
                                  "A4,Di,4,2025-01-01\n"),
                 ARR_OK);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    expect_bad(&c, 3, "expected 4 columns, found 3", NULL);
    cr_assert_str_eq(ingest_reader_text(c.r), "A2,Bob,2");
    expect_bad(&c, 4, "expected 4 columns, found 5", NULL);
    expect_ok(&c, &raw, "A4", 5);
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_csv, broken_quoting_is_a_bad_row_then_reading_recovers)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(),
                           HEADER "A1,ab\"c,1,2025-01-01\n"
                                  "\"A2\",\"n\",2,2025-01-01\n"
                                  "A3,\"x\"y\"z,3,2025-01-01\n"
                                  "A4,\"multi\nline\",4,2025-01-01\n"
                                  "A5,\"q\" \"r\",5,2025-01-01\n"
                                  "A6,ok,6,2025-01-01\n"),
                 ARR_OK);
    ingest_raw raw;
    ingest_issue bad;
    expect_bad(&c, 2, "malformed quoting", &bad);
    cr_assert(strstr(bad.detail, "Name"), "%s", bad.detail);
    cr_assert_str_eq(bad.field, "first_name");
    cr_assert_str_eq(ingest_reader_text(c.r), "A1,ab\"c,1,2025-01-01");
    expect_ok(&c, &raw, "A2", 3);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "n");
    /* After the stray quote the record ends at the next line break, quotes or not. */
    expect_bad(&c, 4, "malformed quoting", NULL);
    expect_ok(&c, &raw, "A4", 5);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "multi\nline");
    expect_bad(&c, 7, "malformed quoting", NULL);
    expect_ok(&c, &raw, "A6", 8);
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_csv, unterminated_quote_runs_to_the_end_of_the_file)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(),
                           HEADER "A1,Ann,1,2025-01-01\nA2,\"never closed,2,2025-01-01\n"
                                  "A3,Cy,3,2025-01-01\n"),
                 ARR_OK);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    expect_bad(&c, 3, "unterminated", NULL);
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_csv, invalid_utf8_is_a_bad_row_naming_the_column)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(),
                           "Account,Name,Balance,Due,Notes\n"
                           "A1,Ren\xE9,1,2025-01-01,x\n"
                           "A2,Ann,2,2025-01-01,\xC0\xAF\n"
                           "A3,\xC3\xA9lodie,3,2025-01-01,\xE2\x82\xAC\n"),
                 ARR_OK);
    ingest_issue bad;
    expect_bad(&c, 2, "invalid UTF-8", &bad);
    cr_assert(strstr(bad.detail, "\"Name\""), "%s", bad.detail);
    cr_assert_str_eq(bad.field, "first_name");
    /* an overlong encoding, in a column that is not even mapped */
    expect_bad(&c, 3, "invalid UTF-8", &bad);
    cr_assert(strstr(bad.detail, "\"Notes\""), "%s", bad.detail);
    ingest_raw raw;
    expect_ok(&c, &raw, "A3", 4);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "\xC3\xA9lodie");
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_csv, nul_byte_is_a_bad_row)
{
    const char text[] = HEADER "A1,A\0n,1,2025-01-01\nA2,Bob,2,2025-01-01\n";
    ctx c;
    cr_assert_eq(open_len(&c, csv_mapping(), text, sizeof(text) - 1), ARR_OK);
    expect_bad(&c, 2, "NUL", NULL);
    ingest_raw raw;
    expect_ok(&c, &raw, "A2", 3);
    close_ctx(&c);
}

Test(ingest_csv, bare_carriage_return_is_a_bad_row)
{
    ctx c;
    cr_assert_eq(open_text(&c, csv_mapping(), HEADER "A1,Ann\r,1,2025-01-01\nA2,B,2,2025-01-01\n"),
                 ARR_OK);
    expect_bad(&c, 2, "carriage return", NULL);
    ingest_raw raw;
    expect_ok(&c, &raw, "A2", 3);
    close_ctx(&c);
}

/* Builds HEADER, A1, then a record whose Name holds `big` bytes (quoted, with line breaks
 * when multiline), then A3. */
static char *with_big_record(size_t big, int multiline, size_t *len)
{
    size_t cap = big + 256;
    char *s = malloc(cap);
    cr_assert_not_null(s);
    size_t n = (size_t)sprintf(s, HEADER "A1,Ann,1,2025-01-01\nA2,\"");
    for (size_t i = 0; i < big; i++)
        s[n++] = multiline && i % 1000 == 999 ? '\n' : 'x';
    n += (size_t)sprintf(s + n, "\",2,2025-01-01\nA3,Cy,3,2025-01-01\n");
    *len = n;
    return s;
}

Test(ingest_csv, record_over_the_cap_is_a_bad_row_skipped_to_its_end)
{
    size_t len;
    char *text = with_big_record(INGEST_RECORD_MAX + 5000, 0, &len);
    ctx c;
    cr_assert_eq(open_len(&c, csv_mapping(), text, len), ARR_OK);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    expect_bad(&c, 3, "record over", NULL);
    cr_assert_eq(strlen(ingest_reader_text(c.r)), INGEST_RECORD_MAX, "the kept text is capped");
    expect_ok(&c, &raw, "A3", 4);
    expect_end(&c);
    close_ctx(&c);
    free(text);
}

Test(ingest_csv, multiline_record_over_the_cap_keeps_line_numbers)
{
    size_t len;
    size_t big = 3 * INGEST_RECORD_MAX;
    char *text = with_big_record(big, 1, &len);
    ctx c;
    cr_assert_eq(open_len(&c, csv_mapping(), text, len), ARR_OK);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    expect_bad(&c, 3, "record over", NULL);
    expect_ok(&c, &raw, "A3", 3 + (long)(big / 1000) + 1);
    expect_end(&c);
    close_ctx(&c);
    free(text);
}

Test(ingest_csv, record_just_under_the_cap_is_read)
{
    /* "A2,\"" + name + "\",2,2025-01-01" is exactly the cap. */
    size_t len;
    size_t name = INGEST_RECORD_MAX - strlen("A2,\"\",2,2025-01-01");
    char *text = with_big_record(name, 0, &len);
    ctx c;
    cr_assert_eq(open_len(&c, csv_mapping(), text, len), ARR_OK);
    ingest_raw raw;
    expect_ok(&c, &raw, "A1", 2);
    expect_ok(&c, &raw, "A2", 3);
    cr_assert_eq(strlen(raw.v[IF_FIRST_NAME]), name);
    cr_assert_eq(strlen(ingest_reader_text(c.r)), INGEST_RECORD_MAX);
    expect_ok(&c, &raw, "A3", 4);
    close_ctx(&c);
    free(text);
}

/* ---- streaming ---- */

#define STREAM_RECORDS 200000

/* Writes the export into a pipe from a child process, so the reader cannot seek or size
 * the input and must stream it. */
static FILE *stream_export(pid_t *child)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        FILE *w = fdopen(fds[1], "w");
        if (!w)
            _exit(1);
        fputs("\xEF\xBB\xBF"
              "Account,Name,Balance,Due\r\n",
              w);
        for (int i = 1; i <= STREAM_RECORDS; i++)
            fprintf(w, "ACC-%07d,\"Name %d, Jr\",%d.%02d,2025-01-%02d\r\n", i, i, i, i % 100,
                    1 + i % 28);
        _exit(fclose(w) == 0 ? 0 : 1);
    }
    close(fds[1]);
    *child = pid;
    FILE *f = fdopen(fds[0], "r");
    cr_assert_not_null(f);
    return f;
}

Test(ingest_stream, two_hundred_thousand_records_through_a_pipe)
{
    pid_t child;
    FILE *f = stream_export(&child);
    ingest_mapping *m = csv_mapping();
    ingest_reader *r = NULL;
    char why[256];
    cr_assert_eq(ingest_reader_open(f, m, &r, why, sizeof(why)), ARR_OK, "%s", why);
    ingest_raw raw;
    ingest_issue bad;
    long count = 0;
    arr_err e;
    while ((e = ingest_reader_next(r, &raw, &bad)) == ARR_OK) {
        count++;
        cr_assert_eq(raw.line, count + 1);
    }
    cr_assert_eq(e, ARR_ENOTFOUND, "stopped with %d: %s", e, bad.detail);
    cr_assert_eq(count, STREAM_RECORDS);
    cr_assert_str_eq(raw.v[IF_ACCOUNT_ID], "ACC-0200000");
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "Name 200000, Jr");
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ingest_reader_free(r);
    ingest_mapping_free(m);
    fclose(f);
}

/* ---- JSON Lines ---- */

Test(ingest_jsonl, good_blank_and_bad_lines)
{
    ctx c;
    cr_assert_eq(open_text(&c, jsonl_mapping(),
                           "\xEF\xBB\xBF{\"acct\":\"J1\",\"bal\":\"1.00\",\"due\":\"2025-01-01\"}\n"
                           "\n"
                           "{\"acct\":\"J2\",\"bal\":250,\"autopay\":true,\"other\":{\"x\":1}}\r\n"
                           "{\"acct\":\"J3\",\"bal\":\n"
                           "[1,2]\n"
                           "  \r\n"
                           "{\"acct\":\"J4\",\"acct\":\"J5\"}\n"
                           "{\"acct\":\"J6\",\"name\":\"Ren\\u00e9\",\"due\":null}"),
                 ARR_OK, "%s", c.why);
    ingest_raw raw;
    expect_ok(&c, &raw, "J1", 1);
    cr_assert_str_eq(raw.v[IF_BALANCE], "1.00");
    cr_assert_str_eq(ingest_reader_text(c.r),
                     "{\"acct\":\"J1\",\"bal\":\"1.00\",\"due\":\"2025-01-01\"}");
    expect_ok(&c, &raw, "J2", 3);
    cr_assert_str_eq(raw.v[IF_BALANCE], "250");
    cr_assert_str_eq(raw.v[IF_AUTOPAY], "true");
    cr_assert_null(raw.v[IF_DUE_DATE]);
    expect_bad(&c, 4, "bad JSON", NULL);
    expect_bad(&c, 5, "not a JSON object", NULL);
    expect_bad(&c, 7, "duplicate", NULL);
    expect_ok(&c, &raw, "J6", 8);
    cr_assert_str_eq(raw.v[IF_FIRST_NAME], "Ren\xC3\xA9");
    cr_assert_null(raw.v[IF_DUE_DATE]);
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_jsonl, invalid_utf8_line_is_a_bad_row)
{
    ctx c;
    cr_assert_eq(
        open_text(&c, jsonl_mapping(), "{\"acct\":\"J1\",\"name\":\"\xFF\"}\n{\"acct\":\"J2\"}\n"),
        ARR_OK);
    expect_bad(&c, 1, "bad JSON", NULL);
    ingest_raw raw;
    expect_ok(&c, &raw, "J2", 2);
    close_ctx(&c);
}

Test(ingest_jsonl, line_over_the_cap_is_a_bad_row)
{
    size_t big = INGEST_RECORD_MAX + 10;
    char *s = malloc(big + 128);
    cr_assert_not_null(s);
    size_t n = (size_t)sprintf(s, "{\"acct\":\"J1\",\"name\":\"");
    memset(s + n, 'x', big);
    n += big;
    n += (size_t)sprintf(s + n, "\"}\n{\"acct\":\"J2\"}\n");
    ctx c;
    cr_assert_eq(open_len(&c, jsonl_mapping(), s, n), ARR_OK);
    expect_bad(&c, 1, "record over", NULL);
    ingest_raw raw;
    expect_ok(&c, &raw, "J2", 2);
    expect_end(&c);
    close_ctx(&c);
    free(s);
}

/* ---- ingest_raw_from_json ---- */

static json_t *parse_json(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    cr_assert_not_null(j, "%s", err.text);
    return j;
}

Test(ingest_json, values_as_text)
{
    ingest_mapping *m = jsonl_mapping();
    set_column(m, IF_TENURE_MONTHS, "tenure");
    set_column(m, IF_PHONE_SMS_CONSENT, "sms");
    set_column(m, IF_ORIGINAL_BALANCE, "orig");
    set_column(m, IF_CITY, "city");
    json_t *o = parse_json("{\"acct\":\"K1\",\"bal\":\"12.34\",\"tenure\":-7,\"autopay\":false,"
                           "\"sms\":true,\"due\":null,\"orig\":12.5,\"name\":\"\",\"x\":[1]}");
    ingest_raw raw;
    raw.line = 42;
    ingest_issue bad = {0};
    char buf[256];
    cr_assert_eq(ingest_raw_from_json(o, m, &raw, &bad, buf, sizeof(buf)), ARR_OK, "%s",
                 bad.detail);
    cr_assert_str_eq(raw.v[IF_ACCOUNT_ID], "K1");
    cr_assert_str_eq(raw.v[IF_BALANCE], "12.34");
    cr_assert_str_eq(raw.v[IF_TENURE_MONTHS], "-7");
    cr_assert_str_eq(raw.v[IF_AUTOPAY], "false");
    cr_assert_str_eq(raw.v[IF_PHONE_SMS_CONSENT], "true");
    cr_assert_str_eq(raw.v[IF_ORIGINAL_BALANCE], "12.5");
    cr_assert_null(raw.v[IF_DUE_DATE], "null is absent");
    cr_assert_null(raw.v[IF_FIRST_NAME], "an empty string is absent");
    cr_assert_null(raw.v[IF_CITY], "a missing key is absent");
    cr_assert_eq(raw.line, 42, "the caller's line is left alone");
    for (int f = 0; f < IF__COUNT; f++)
        if (raw.v[f])
            cr_assert(raw.v[f] >= buf && raw.v[f] < buf + sizeof(buf), "borrows from buf");
    json_decref(o);
    ingest_mapping_free(m);
}

Test(ingest_json, nested_value_is_a_bad_row_naming_the_key)
{
    ingest_mapping *m = jsonl_mapping();
    ingest_raw raw;
    ingest_issue bad = {0};
    char buf[256];
    json_t *o = parse_json("{\"acct\":\"K1\",\"name\":{\"first\":\"A\"}}");
    cr_assert_eq(ingest_raw_from_json(o, m, &raw, &bad, buf, sizeof(buf)), ARR_EINVAL);
    cr_assert_str_eq(bad.code, "bad_row");
    cr_assert_str_eq(bad.field, "first_name");
    cr_assert(strstr(bad.detail, "\"name\""), "%s", bad.detail);
    for (int f = 0; f < IF__COUNT; f++)
        cr_assert_null(raw.v[f]);
    json_decref(o);
    o = parse_json("{\"acct\":\"K1\",\"bal\":[1]}");
    cr_assert_eq(ingest_raw_from_json(o, m, &raw, &bad, buf, sizeof(buf)), ARR_EINVAL);
    cr_assert_str_eq(bad.field, "balance");
    json_decref(o);
    ingest_mapping_free(m);
}

Test(ingest_json, non_object_and_invalid_utf8_are_bad_rows)
{
    ingest_mapping *m = jsonl_mapping();
    ingest_raw raw;
    ingest_issue bad = {0};
    char buf[64];
    json_t *a = parse_json("[\"K1\"]");
    cr_assert_eq(ingest_raw_from_json(a, m, &raw, &bad, buf, sizeof(buf)), ARR_EINVAL);
    cr_assert_str_eq(bad.code, "bad_row");
    json_decref(a);
    /* Objects built in code (not parsed) may hold bytes jansson never checked. */
    json_t *o = json_object();
    json_object_set_new(o, "acct", json_stringn_nocheck("K\xFF", 2));
    cr_assert_eq(ingest_raw_from_json(o, m, &raw, &bad, buf, sizeof(buf)), ARR_EINVAL);
    cr_assert(strstr(bad.detail, "UTF-8"), "%s", bad.detail);
    cr_assert_str_eq(bad.field, "account_id");
    json_object_set_new(o, "acct", json_stringn("K\0X", 3));
    cr_assert_eq(ingest_raw_from_json(o, m, &raw, &bad, buf, sizeof(buf)), ARR_EINVAL);
    cr_assert(strstr(bad.detail, "NUL"), "%s", bad.detail);
    json_decref(o);
    ingest_mapping_free(m);
}

Test(ingest_json, small_buffer_is_a_bad_row)
{
    ingest_mapping *m = jsonl_mapping();
    json_t *o = parse_json("{\"acct\":\"ACCOUNT-1\",\"bal\":\"1234.56\"}");
    ingest_raw raw;
    ingest_issue bad = {0};
    char buf[12]; /* "ACCOUNT-1\0" fits (10), "1234.56\0" does not */
    cr_assert_eq(ingest_raw_from_json(o, m, &raw, &bad, buf, sizeof(buf)), ARR_EINVAL);
    cr_assert_str_eq(bad.code, "bad_row");
    cr_assert(strstr(bad.detail, "too large"), "%s", bad.detail);
    cr_assert_null(raw.v[IF_ACCOUNT_ID]);
    char exact[18]; /* 10 + 8: exactly enough */
    cr_assert_eq(ingest_raw_from_json(o, m, &raw, &bad, exact, sizeof(exact)), ARR_OK);
    cr_assert_str_eq(raw.v[IF_BALANCE], "1234.56");
    json_decref(o);
    ingest_mapping_free(m);
}

/* ---- mapping files ---- */

/* Writes a mapping to a temporary file; path receives its name. */
static void write_mapping(const char *json, char path[64])
{
    strcpy(path, "/tmp/arrears-mapping-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    size_t n = strlen(json);
    cr_assert_eq(write(fd, json, n), (ssize_t)n);
    close(fd);
}

/* Loading must fail with ARR_ECONFIG and a reason naming the file and the key. */
static void expect_load_error(const char *json, const char *key)
{
    char path[64];
    write_mapping(json, path);
    ingest_mapping *m = NULL;
    char why[512] = "";
    arr_err e = ingest_mapping_load(path, &m, why, sizeof(why));
    unlink(path);
    cr_assert_eq(e, ARR_ECONFIG, "%s: %d (%s)", json, e, why);
    cr_assert_null(m);
    cr_assert(strstr(why, path), "\"%s\" does not name the file", why);
    cr_assert(strstr(why, key), "\"%s\" does not name %s", why, key);
}

#define COLS "\"columns\":{\"account_id\":\"Acct\",\"balance\":\"Bal\",\"due_date\":\"Due\"}"

Test(ingest_mapping, loads_a_full_mapping)
{
    char path[64];
    write_mapping("{\"format\":\"csv\",\"delimiter\":\";\",\"amount_format\":\"cents\","
                  "\"decimal_sep\":\",\",\"thousands_sep\":\".\",\"currency_symbol\":true,"
                  "\"date_format\":\"%d.%m.%Y\",\"defaults\":{\"currency\":\"EUR\"}," COLS "}",
                  path);
    ingest_mapping *m = NULL;
    char why[256] = "";
    cr_assert_eq(ingest_mapping_load(path, &m, why, sizeof(why)), ARR_OK, "%s", why);
    unlink(path);
    cr_assert_eq(m->format, INGEST_CSV);
    cr_assert_eq(m->delimiter, ';');
    cr_assert_eq(m->amount.format, INGEST_AMOUNT_CENTS);
    cr_assert_eq(m->amount.decimal_sep, ',');
    cr_assert_eq(m->amount.thousands_sep, '.');
    cr_assert_eq(m->amount.allow_currency_symbol, 1);
    cr_assert_str_eq(m->date_format, "%d.%m.%Y");
    cr_assert_str_eq(m->defaults[IF_CURRENCY], "EUR");
    cr_assert_null(m->defaults[IF_REGIME]);
    cr_assert_str_eq(m->columns[IF_ACCOUNT_ID], "Acct");
    cr_assert_str_eq(m->columns[IF_BALANCE], "Bal");
    cr_assert_null(m->columns[IF_EMAIL]);
    ingest_mapping_free(m);
}

Test(ingest_mapping, defaults_of_a_minimal_mapping)
{
    char path[64];
    write_mapping("{\"format\":\"jsonl\"," COLS "}", path);
    ingest_mapping *m = NULL;
    char why[256] = "";
    cr_assert_eq(ingest_mapping_load(path, &m, why, sizeof(why)), ARR_OK, "%s", why);
    unlink(path);
    cr_assert_eq(m->format, INGEST_JSONL);
    cr_assert_eq(m->amount.format, INGEST_AMOUNT_DECIMAL);
    cr_assert_eq(m->amount.decimal_sep, '.');
    cr_assert_eq(m->amount.thousands_sep, 0);
    cr_assert_eq(m->amount.allow_currency_symbol, 0);
    cr_assert_str_eq(m->date_format, "%Y-%m-%d");
    ingest_mapping_free(m);
}

Test(ingest_mapping, unknown_key)
{
    expect_load_error("{\"format\":\"csv\",\"colums\":{}," COLS "}", "colums");
}

Test(ingest_mapping, unknown_canonical_field)
{
    expect_load_error("{\"format\":\"csv\",\"columns\":{\"account_id\":\"A\",\"balance\":\"B\","
                      "\"due_date\":\"D\",\"acount_id\":\"X\"}}",
                      "columns.acount_id");
    expect_load_error("{\"format\":\"csv\",\"defaults\":{\"curency\":\"USD\"}," COLS "}",
                      "defaults.curency");
}

Test(ingest_mapping, bad_date_format)
{
    expect_load_error("{\"format\":\"csv\",\"date_format\":\"%B %d, %Y\"," COLS "}", "date_format");
    expect_load_error("{\"format\":\"csv\",\"date_format\":7," COLS "}", "date_format");
}

Test(ingest_mapping, duplicate_key)
{
    expect_load_error("{\"format\":\"csv\",\"columns\":{\"account_id\":\"A\",\"balance\":\"B\","
                      "\"due_date\":\"D\",\"balance\":\"C\"}}",
                      "\"balance\"");
    expect_load_error("{\"format\":\"csv\",\"format\":\"jsonl\"," COLS "}", "\"format\"");
}

Test(ingest_mapping, column_mapped_twice)
{
    expect_load_error("{\"format\":\"csv\",\"columns\":{\"account_id\":\"A\",\"balance\":\"B\","
                      "\"due_date\":\"D\",\"email\":\"Mail\",\"email2\":\"Mail\"}}",
                      "columns.email2");
}

Test(ingest_mapping, other_errors_name_their_key)
{
    expect_load_error("{" COLS "}", "format");
    expect_load_error("{\"format\":\"xml\"," COLS "}", "format");
    expect_load_error("{\"format\":\"csv\",\"columns\":{\"account_id\":\"A\",\"due_date\":\"D\"}}",
                      "columns.balance");
    expect_load_error("{\"format\":\"csv\",\"defaults\":{\"balance\":\"0\"}," COLS "}",
                      "defaults.balance");
    expect_load_error("{\"format\":\"jsonl\",\"delimiter\":\";\"," COLS "}", "delimiter");
    expect_load_error("{\"format\":\"csv\",\"delimiter\":\";;\"," COLS "}", "delimiter");
    expect_load_error("{\"format\":\"csv\",\"delimiter\":\"\\\"\"," COLS "}", "delimiter");
    expect_load_error("{\"format\":\"csv\",\"amount_format\":\"float\"," COLS "}", "amount_format");
    expect_load_error("{\"format\":\"csv\",\"thousands_sep\":\".\"," COLS "}", "thousands_sep");
    expect_load_error("{\"format\":\"csv\",\"currency_symbol\":\"yes\"," COLS "}",
                      "currency_symbol");
    expect_load_error("{\"format\":\"csv\",\"columns\":{\"account_id\":\"A\",\"balance\":7,"
                      "\"due_date\":\"D\"}}",
                      "columns.balance");
    expect_load_error("{\"format\":\"csv\",\"columns\":{\"account_id\":\" A\",\"balance\":\"B\","
                      "\"due_date\":\"D\"}}",
                      "columns.account_id");
    expect_load_error("{\"format\":\"csv\",\"columns\":[]}", "columns");
    expect_load_error("{\"format\":\"csv\",\"defaults\":{\"currency\":\"\"}," COLS "}",
                      "defaults.currency");
}

Test(ingest_mapping, bad_json_names_file_and_line)
{
    char path[64];
    write_mapping("{\"format\":\"csv\",\n \"columns\": {\n", path);
    ingest_mapping *m = NULL;
    char why[256] = "";
    cr_assert_eq(ingest_mapping_load(path, &m, why, sizeof(why)), ARR_ECONFIG);
    unlink(path);
    cr_assert(strstr(why, path), "%s", why);
    cr_assert_null(m);
}

Test(ingest_mapping, missing_file)
{
    ingest_mapping *m = NULL;
    char why[256] = "";
    cr_assert_eq(ingest_mapping_load("/nonexistent/arrears/mapping.json", &m, why, sizeof(why)),
                 ARR_ENOTFOUND);
    cr_assert(strstr(why, "/nonexistent/arrears/mapping.json"), "%s", why);
}

Test(ingest_mapping, identity)
{
    ingest_mapping *m = NULL;
    cr_assert_eq(ingest_mapping_identity(INGEST_JSONL, &m), ARR_OK);
    cr_assert_eq(m->format, INGEST_JSONL);
    for (int f = 0; f < IF__COUNT; f++)
        cr_assert_str_eq(m->columns[f], ingest_field_name((ingest_field)f));
    cr_assert_str_eq(m->date_format, "%Y-%m-%d");
    cr_assert_eq(m->amount.format, INGEST_AMOUNT_DECIMAL);
    cr_assert_eq(m->amount.decimal_sep, '.');
    cr_assert_eq(m->amount.thousands_sep, 0);
    cr_assert_str_eq(m->defaults[IF_CURRENCY], "USD");
    cr_assert_str_eq(m->defaults[IF_REGIME], "creditor");
    cr_assert_str_eq(m->defaults[IF_COUNTRY], "US");
    cr_assert_str_eq(m->defaults[IF_LANGUAGE], "en");
    cr_assert_null(m->defaults[IF_BALANCE]);
    ingest_mapping_free(m);

    cr_assert_eq(ingest_mapping_identity(INGEST_CSV, &m), ARR_OK);
    cr_assert_eq(m->format, INGEST_CSV);
    cr_assert_eq(m->delimiter, ',');
    ingest_mapping_free(m);
}

Test(ingest_mapping, identity_jsonl_reads_canonical_keys)
{
    ingest_mapping *m = NULL;
    cr_assert_eq(ingest_mapping_identity(INGEST_JSONL, &m), ARR_OK);
    ctx c;
    cr_assert_eq(open_text(&c, m,
                           "{\"account_id\":\"I1\",\"balance\":\"5.00\",\"phone2_sms_consent\":"
                           "\"yes\"}\n"),
                 ARR_OK);
    ingest_raw raw;
    expect_ok(&c, &raw, "I1", 1);
    cr_assert_str_eq(raw.v[IF_BALANCE], "5.00");
    cr_assert_str_eq(raw.v[IF_PHONE2_SMS_CONSENT], "yes");
    expect_end(&c);
    close_ctx(&c);
}

Test(ingest_mapping, deployed_gen_portfolio_mapping_loads)
{
    const char *path = ARR_SOURCE_DIR "/deploy/mappings/gen-portfolio.csv.json";
    if (access(path, R_OK) != 0)
        cr_skip("%s does not exist yet", path);
    ingest_mapping *m = NULL;
    char why[512] = "";
    cr_assert_eq(ingest_mapping_load(path, &m, why, sizeof(why)), ARR_OK, "%s", why);
    cr_assert_eq(m->format, INGEST_CSV);
    cr_assert_not_null(m->columns[IF_ACCOUNT_ID]);
    cr_assert_not_null(m->columns[IF_BALANCE]);
    cr_assert(m->columns[IF_DUE_DATE] || m->defaults[IF_DUE_DATE]);
    ingest_mapping_free(m);
}
