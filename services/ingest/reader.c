/* ingest_reader: streams the records of an export in constant memory.
 *
 * How a CSV file is cut into records. libcsv parses fields well but reports neither where a
 * record starts nor its bytes, and it grows its field buffer without limit. So the reader
 * runs its own small scanner over the byte stream (read in 64 KiB chunks) that only finds
 * where each record ends: a '\n' outside quotes, following the same quoting rules as libcsv
 * in strict mode. While scanning it counts every '\n' (those inside quoted fields too), so
 * each record knows its first physical line, and it keeps the record's bytes, capped at
 * INGEST_RECORD_MAX (the rest of a longer record is counted and dropped). Each complete
 * record is then handed to libcsv on its own (csv_parse + csv_fini), so libcsv never holds
 * more than one capped record.
 *
 * Broken quoting and resynchronisation. When the scanner meets a quote libcsv's strict
 * mode refuses (a quote inside an unquoted field, text after a closing quote), the record's
 * quoting is broken and the record is declared to end at the next '\n', whatever quotes
 * follow: that is where reading resumes. libcsv then reports the strict error for that
 * record, which becomes a bad_row with libcsv's message, and since libcsv keeps its error
 * state the parser is freed and initialised again before the next record. The one case
 * that cannot be resynchronised is an opening quote that is never closed: RFC 4180 makes
 * everything up to the end of the file part of that field, so the rest of the file is one
 * bad_row (unterminated quoted field, or too large when it exceeds the cap).
 *
 * JSON Lines records are simply lines; jansson parses each one. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "arrears/utf8.h"
#include "reader.h"

#define READ_CHUNK (64 * 1024)
#define TEXT_CAP (INGEST_RECORD_MAX + 2) /* a record at the cap plus its "\r\n" */
/* Field values of one record: at most its bytes plus a NUL per field (<= bytes + 1). */
#define VALS_CAP (2 * INGEST_RECORD_MAX + 2)
#define CSV_OPTIONS (CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)
#define BAD_ROW "bad_row"

/* Where the record scanner is, in the terms of RFC 4180 as libcsv's strict mode reads it. */
typedef enum scan_state {
    SC_FIELD_START, /* before a field: blanks are skipped, a quote opens a quoted field */
    SC_UNQUOTED,    /* inside an unquoted field */
    SC_QUOTED,      /* inside a quoted field: delimiters and line breaks are data */
    SC_QUOTE_SEEN,  /* a quote in a quoted field: the closing one or the first of a pair */
    SC_AFTER_QUOTE, /* blanks after a closing quote, which libcsv tolerates */
    SC_BROKEN,      /* quoting broken: the record ends at the next line break */
} scan_state;

typedef enum field_fault { FAULT_NONE = 0, FAULT_UTF8, FAULT_NUL } field_fault;

struct ingest_reader {
    FILE *f;
    const ingest_mapping *m;

    /* input */
    unsigned char chunk[READ_CHUNK];
    size_t chunk_len, chunk_pos;
    int eof, io_error;
    long long offset; /* bytes consumed */
    long line;        /* physical line of the next byte, 1-based */

    /* the current record's bytes */
    char text[TEXT_CAP + 1];
    size_t text_len;    /* bytes kept, <= TEXT_CAP */
    size_t rec_len;     /* all its bytes, also those past the cap */
    size_t content_len; /* rec_len without the line terminator */
    long rec_line;
    int nonblank;
    int too_large;
    scan_state scan;

    /* CSV */
    struct csv_parser csv;
    int csv_ready;
    int header_mode;     /* parsing the header: keep every name */
    int n_header;        /* columns in the header */
    int *col_field;      /* per header column: the canonical field bound to it, or -1 */
    char *header_names;  /* the trimmed names, NUL-terminated one after the other */
    size_t *header_off;  /* where each name starts in header_names (vals while parsing) */
    size_t header_slots; /* entries allocated in header_off */
    int oom;

    /* the record being parsed */
    int nfields, nrows;
    field_fault fault;
    int fault_col;
    int overflow;
    char vals[VALS_CAP];
    size_t vals_len;
    const char *v[IF__COUNT];
};

/* ---- issues ---- */

static arr_err set_bad(ingest_issue *bad, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static arr_err set_bad(ingest_issue *bad, const char *field, const char *fmt, ...)
{
    if (!bad)
        return ARR_EINVAL;
    bad->code = BAD_ROW;
    snprintf(bad->field, sizeof(bad->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(bad->detail, sizeof(bad->detail), fmt, ap);
    va_end(ap);
    return ARR_EINVAL;
}

/* ---- input ---- */

/* 0 at the end of the input or on a read error (io_error set). */
static int refill(ingest_reader *r)
{
    if (r->eof || r->io_error)
        return 0;
    r->chunk_len = fread(r->chunk, 1, sizeof(r->chunk), r->f);
    r->chunk_pos = 0;
    if (ferror(r->f)) {
        r->io_error = 1;
        r->chunk_len = 0;
        return 0;
    }
    if (r->chunk_len == 0) {
        r->eof = 1;
        return 0;
    }
    return 1;
}

/* Excel and Windows tools start UTF-8 files with a byte order mark; it is not data. */
static void skip_bom(ingest_reader *r)
{
    if (!refill(r))
        return;
    if (r->chunk_len >= 3 && memcmp(r->chunk, "\xEF\xBB\xBF", 3) == 0) {
        r->chunk_pos = 3;
        r->offset = 3;
    }
}

/* ---- cutting records ---- */

/* Advances the CSV scanner over one byte; 1 when the byte ends the record. */
static int scan_csv(ingest_reader *r, unsigned char c)
{
    const unsigned char delim = (unsigned char)r->m->delimiter;
    int blank = c == ' ' || c == '\t' || c == '\r';
    switch (r->scan) {
    case SC_FIELD_START:
        if (c == '\n')
            return 1;
        if (c == '"')
            r->scan = SC_QUOTED;
        else if (c != delim && !blank)
            r->scan = SC_UNQUOTED;
        break;
    case SC_UNQUOTED:
        if (c == '\n')
            return 1;
        if (c == delim)
            r->scan = SC_FIELD_START;
        else if (c == '"')
            r->scan = SC_BROKEN;
        break;
    case SC_QUOTED:
        if (c == '"')
            r->scan = SC_QUOTE_SEEN;
        break;
    case SC_QUOTE_SEEN:
    case SC_AFTER_QUOTE:
        if (c == '\n')
            return 1;
        if (c == delim)
            r->scan = SC_FIELD_START;
        else if (c == '"' && r->scan == SC_QUOTE_SEEN)
            r->scan = SC_QUOTED; /* a doubled quote */
        else if (blank)
            r->scan = SC_AFTER_QUOTE;
        else
            r->scan = SC_BROKEN;
        break;
    case SC_BROKEN:
        return c == '\n';
    }
    return 0;
}

static void begin_record(ingest_reader *r)
{
    r->text_len = r->rec_len = r->content_len = 0;
    r->rec_line = r->line;
    r->nonblank = r->too_large = 0;
    r->scan = SC_FIELD_START;
    r->text[0] = '\0';
}

static void keep_byte(ingest_reader *r, unsigned char c)
{
    if (r->text_len < TEXT_CAP)
        r->text[r->text_len++] = (char)c;
    r->rec_len++;
    int blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    /* ",,," or, with a tab delimiter, "\t\t" is a row of empty fields, not a blank line. */
    if (!blank || (r->m->format == INGEST_CSV && c == (unsigned char)r->m->delimiter))
        r->nonblank = 1;
}

/* Drops the line terminator and caps the kept text. */
static void finish_record(ingest_reader *r, int ended_by_newline)
{
    size_t n = r->rec_len;
    if (ended_by_newline)
        n--;
    if (n > 0 && n <= r->text_len && r->text[n - 1] == '\r')
        n--;
    r->content_len = n;
    r->too_large = n > INGEST_RECORD_MAX;
    size_t keep = n < INGEST_RECORD_MAX ? n : INGEST_RECORD_MAX;
    r->text[keep] = '\0';
}

/* The next record's bytes: 1 a record (maybe blank), 0 the end of input, -1 a read error. */
static int read_record(ingest_reader *r)
{
    begin_record(r);
    const int csv = r->m->format == INGEST_CSV;
    for (;;) {
        if (r->chunk_pos == r->chunk_len && !refill(r))
            break;
        unsigned char c = r->chunk[r->chunk_pos++];
        r->offset++;
        keep_byte(r, c);
        if (c == '\n')
            r->line++;
        if (csv ? scan_csv(r, c) : c == '\n') {
            finish_record(r, c == '\n');
            return 1;
        }
    }
    if (r->io_error)
        return -1;
    if (r->rec_len == 0)
        return 0;
    finish_record(r, 0); /* a last line without a line break */
    return 1;
}

/* ---- CSV fields ---- */

static const char *header_name(const ingest_reader *r, int col)
{
    return r->header_names + r->header_off[col];
}

/* "column 3 (\"Phone\")" or, before the header is known, "column 3". */
static void describe_column(const ingest_reader *r, int col, char *out, size_t outlen)
{
    if (col < r->n_header && r->header_names)
        snprintf(out, outlen, "column %d (\"%.40s\")", col + 1, header_name(r, col));
    else
        snprintf(out, outlen, "column %d", col + 1);
}

/* The canonical field a column is bound to, "" when none. */
static const char *column_field(const ingest_reader *r, int col)
{
    if (col < 0 || col >= r->n_header || !r->col_field || r->col_field[col] < 0)
        return "";
    return ingest_field_name((ingest_field)r->col_field[col]);
}

static void append_val(ingest_reader *r, const char *s, size_t len)
{
    memcpy(r->vals + r->vals_len, s, len);
    r->vals[r->vals_len + len] = '\0';
    r->vals_len += len + 1;
}

static void keep_header_name(ingest_reader *r, const char *s, size_t len)
{
    /* Header names are matched trimmed: exports pad them, mappings do not. */
    while (len > 0 && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    int col = r->nfields - 1;
    if ((size_t)col >= r->header_slots) {
        size_t slots = r->header_slots ? r->header_slots * 2 : 64;
        size_t *grown = realloc(r->header_off, slots * sizeof(*grown));
        if (!grown) {
            r->oom = 1;
            return;
        }
        r->header_off = grown;
        r->header_slots = slots;
    }
    r->header_off[col] = r->vals_len;
    append_val(r, s, len);
}

static void keep_value(ingest_reader *r, int col, const char *s, size_t len)
{
    if (col >= r->n_header || r->col_field[col] < 0 || len == 0)
        return; /* unmapped columns are ignored; empty text means absent */
    r->v[r->col_field[col]] = r->vals + r->vals_len;
    append_val(r, s, len);
}

static void on_field(void *s, size_t len, void *data)
{
    ingest_reader *r = data;
    const char *text = s ? s : "";
    int col = r->nfields++;
    if (r->nrows > 0 || r->overflow || r->oom)
        return; /* a second row in one record is rejected as a whole */
    if (r->fault == FAULT_NONE && memchr(text, '\0', len)) {
        r->fault = FAULT_NUL, r->fault_col = col;
    } else if (r->fault == FAULT_NONE && !arr_utf8_valid(text, len)) {
        r->fault = FAULT_UTF8, r->fault_col = col;
    }
    if (r->vals_len + len + 1 > sizeof(r->vals)) {
        r->overflow = 1; /* cannot happen under the record cap; checked all the same */
        return;
    }
    if (r->header_mode)
        keep_header_name(r, text, len);
    else
        keep_value(r, col, text, len);
}

static void on_row(int terminator, void *data)
{
    (void)terminator;
    ingest_reader *r = data;
    r->nrows++;
}

static void reset_fields(ingest_reader *r)
{
    r->nfields = r->nrows = 0;
    r->fault = FAULT_NONE;
    r->fault_col = -1;
    r->overflow = r->oom = 0;
    r->vals_len = 0;
    memset(r->v, 0, sizeof(r->v));
}

/* libcsv keeps its error state after a strict error: start a fresh parser. */
static arr_err restart_csv(ingest_reader *r)
{
    if (r->csv_ready)
        csv_free(&r->csv);
    r->csv_ready = 0;
    if (csv_init(&r->csv, CSV_OPTIONS) != 0)
        return ARR_ENOMEM;
    csv_set_delim(&r->csv, (unsigned char)r->m->delimiter);
    r->csv_ready = 1;
    return ARR_OK;
}

static arr_err csv_failure(ingest_reader *r, size_t stopped_at, int at_fini, ingest_issue *bad)
{
    int err = csv_error(&r->csv);
    int col = r->nfields;
    char where[64];
    describe_column(r, col, where, sizeof(where));
    arr_err e = restart_csv(r);
    if (e != ARR_OK)
        return e;
    if (err == CSV_ENOMEM || err == CSV_ETOOBIG)
        return ARR_ENOMEM;
    if (at_fini)
        return set_bad(bad, column_field(r, col), "unterminated quoted field in %s: %s", where,
                       csv_strerror(err));
    return set_bad(bad, column_field(r, col), "malformed quoting at byte %zu, %s: %s",
                   stopped_at + 1, where, csv_strerror(err));
}

static arr_err field_fault_issue(ingest_reader *r, ingest_issue *bad)
{
    char where[64];
    describe_column(r, r->fault_col, where, sizeof(where));
    return set_bad(bad, column_field(r, r->fault_col), "%s in %s",
                   r->fault == FAULT_NUL ? "a NUL byte" : "invalid UTF-8", where);
}

/* Runs libcsv over the current record's text and checks its shape. */
static arr_err parse_csv_record(ingest_reader *r, ingest_issue *bad)
{
    reset_fields(r);
    size_t n = csv_parse(&r->csv, r->text, r->content_len, on_field, on_row, r);
    if (n != r->content_len)
        return csv_failure(r, n, 0, bad);
    if (csv_fini(&r->csv, on_field, on_row, r) != 0)
        return csv_failure(r, n, 1, bad);
    if (r->oom)
        return ARR_ENOMEM;
    if (r->overflow)
        return set_bad(bad, "", "record too large");
    if (r->nrows > 1)
        return set_bad(bad, "", "a carriage return outside quotes splits the record");
    if (!r->header_mode && r->nfields != r->n_header)
        return set_bad(bad, "", "expected %d columns, found %d", r->n_header, r->nfields);
    if (r->fault != FAULT_NONE)
        return field_fault_issue(r, bad);
    return ARR_OK;
}

/* ---- the header ---- */

static arr_err keep_header(ingest_reader *r)
{
    r->n_header = r->nfields;
    r->header_names = malloc(r->vals_len ? r->vals_len : 1);
    r->col_field = malloc((size_t)r->n_header * sizeof(*r->col_field));
    if (!r->header_names || !r->col_field)
        return ARR_ENOMEM;
    memcpy(r->header_names, r->vals, r->vals_len);
    for (int i = 0; i < r->n_header; i++)
        r->col_field[i] = -1;
    return ARR_OK;
}

/* The header column holding a mapped column: its index, -1 when absent, -2 when twice. */
static int find_column(const ingest_reader *r, const char *name, int *first)
{
    int found = -1;
    for (int i = 0; i < r->n_header; i++) {
        if (strcmp(header_name(r, i), name) != 0)
            continue;
        if (found >= 0) {
            *first = found;
            return -2;
        }
        found = i;
    }
    return found;
}

static arr_err bind_columns(ingest_reader *r, char *why, size_t whylen)
{
    for (int f = 0; f < IF__COUNT; f++) {
        const char *name = r->m->columns[f];
        if (!name)
            continue;
        const char *field = ingest_field_name((ingest_field)f);
        int first = -1;
        int col = find_column(r, name, &first);
        if (col == -1) {
            arr_errbuf_set(why, whylen, "column \"%s\" (field %s) is not in the header", name,
                           field);
            return ARR_EDECODE;
        }
        if (col == -2) {
            arr_errbuf_set(why, whylen, "column \"%s\" (field %s) appears twice in the header",
                           name, field);
            return ARR_EDECODE;
        }
        if (r->col_field[col] >= 0) {
            arr_errbuf_set(why, whylen, "column \"%s\" is mapped to both %s and %s", name,
                           ingest_field_name((ingest_field)r->col_field[col]), field);
            return ARR_EDECODE;
        }
        r->col_field[col] = f;
    }
    return ARR_OK;
}

static arr_err read_header(ingest_reader *r, char *why, size_t whylen)
{
    int got;
    do
        got = read_record(r);
    while (got == 1 && !r->nonblank);
    if (got < 0) {
        arr_errbuf_set(why, whylen, "read error");
        return ARR_EIO;
    }
    if (got == 0) {
        arr_errbuf_set(why, whylen, "no header row: the file is empty");
        return ARR_EDECODE;
    }
    if (r->too_large) {
        arr_errbuf_set(why, whylen, "header (line %ld) is over %d bytes", r->rec_line,
                       INGEST_RECORD_MAX);
        return ARR_EDECODE;
    }
    ingest_issue bad = {0};
    r->header_mode = 1;
    arr_err e = parse_csv_record(r, &bad);
    r->header_mode = 0;
    if (e == ARR_EINVAL) {
        arr_errbuf_set(why, whylen, "header (line %ld): %s", r->rec_line, bad.detail);
        return ARR_EDECODE;
    }
    if (e == ARR_OK)
        e = keep_header(r);
    if (e == ARR_OK)
        e = bind_columns(r, why, whylen);
    return e;
}

/* ---- the public interface ---- */

arr_err ingest_reader_open(FILE *f, const ingest_mapping *m, ingest_reader **out, char *why,
                           size_t whylen)
{
    if (!f || !m || !out || (m->format == INGEST_CSV && !m->delimiter))
        return ARR_EINVAL;
    ingest_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return ARR_ENOMEM;
    r->f = f;
    r->m = m;
    r->line = 1;
    arr_err e = ARR_OK;
    if (m->format == INGEST_CSV)
        e = restart_csv(r);
    if (e == ARR_OK) {
        skip_bom(r);
        if (r->io_error) {
            arr_errbuf_set(why, whylen, "read error");
            e = ARR_EIO;
        }
    }
    if (e == ARR_OK && m->format == INGEST_CSV)
        e = read_header(r, why, whylen);
    if (e != ARR_OK) {
        ingest_reader_free(r);
        return e;
    }
    *out = r;
    return ARR_OK;
}

static arr_err jsonl_record(ingest_reader *r, ingest_raw *raw, ingest_issue *bad)
{
    json_error_t jerr;
    /* A key given twice would let one value silently win. */
    json_t *obj = json_loadb(r->text, r->content_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        return set_bad(bad, "", "bad JSON at column %d: %s", jerr.column, jerr.text);
    arr_err e = ingest_raw_from_json(obj, r->m, raw, bad, r->vals, sizeof(r->vals));
    json_decref(obj);
    return e;
}

static arr_err csv_record(ingest_reader *r, ingest_raw *raw, ingest_issue *bad)
{
    arr_err e = parse_csv_record(r, bad);
    if (e == ARR_OK)
        memcpy(raw->v, r->v, sizeof(raw->v));
    return e;
}

arr_err ingest_reader_next(ingest_reader *r, ingest_raw *raw, ingest_issue *bad)
{
    if (!r || !raw)
        return ARR_EINVAL;
    for (;;) {
        int got = read_record(r);
        if (got < 0)
            return ARR_EIO;
        if (got == 0)
            return ARR_ENOTFOUND;
        if (r->nonblank)
            break; /* blank lines are not records */
    }
    memset(raw->v, 0, sizeof(raw->v));
    raw->line = r->rec_line;
    if (r->too_large) {
        const char *why = r->scan == SC_QUOTED ? " (a quoted field is never closed)" : "";
        return set_bad(bad, "", "record over %d bytes%s", INGEST_RECORD_MAX, why);
    }
    if (r->m->format == INGEST_CSV)
        return csv_record(r, raw, bad);
    return jsonl_record(r, raw, bad);
}

const char *ingest_reader_text(const ingest_reader *r)
{
    return r ? r->text : "";
}

long long ingest_reader_offset(const ingest_reader *r)
{
    return r ? r->offset : 0;
}

void ingest_reader_free(ingest_reader *r)
{
    if (!r)
        return;
    if (r->csv_ready)
        csv_free(&r->csv);
    free(r->col_field);
    free(r->header_names);
    free(r->header_off);
    free(r);
}

/* ---- JSON objects ---- */

/* JSON numbers with a fraction arrive as doubles. The shortest text that reads back as the
 * same double is the text the exporter wrote for any number of up to 15 significant digits
 * (every valid amount), so "12.5" stays "12.5" and the amount parser sees decimal text. */
static void real_text(double d, char *out, size_t outlen)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, outlen, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

/* The text of one JSON value (*s NULL when absent), or a bad_row naming the key. */
static arr_err json_text(json_t *v, const char *key, const char *field, char *num, size_t numlen,
                         const char **s, size_t *n, ingest_issue *bad)
{
    *s = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return ARR_OK;
    if (json_is_object(v) || json_is_array(v))
        return set_bad(bad, field, "key \"%.64s\": nested object or array", key);
    if (json_is_string(v)) {
        *s = json_string_value(v);
        *n = json_string_length(v);
        if (memchr(*s, '\0', *n))
            return set_bad(bad, field, "key \"%.64s\": a NUL character", key);
        if (!arr_utf8_valid(*s, *n))
            return set_bad(bad, field, "key \"%.64s\": invalid UTF-8", key);
        return ARR_OK;
    }
    if (json_is_integer(v))
        snprintf(num, numlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        real_text(json_real_value(v), num, numlen);
    else
        snprintf(num, numlen, "%s", json_is_true(v) ? "true" : "false");
    *s = num;
    *n = strlen(num);
    return ARR_OK;
}

arr_err ingest_raw_from_json(json_t *obj, const ingest_mapping *m, ingest_raw *raw,
                             ingest_issue *bad, char *buf, size_t buflen)
{
    if (!m || !raw)
        return ARR_EINVAL;
    memset(raw->v, 0, sizeof(raw->v));
    if (!json_is_object(obj))
        return set_bad(bad, "", "not a JSON object");
    size_t used = 0;
    for (int f = 0; f < IF__COUNT; f++) {
        const char *key = m->columns[f];
        if (!key)
            continue;
        const char *field = ingest_field_name((ingest_field)f);
        char num[40];
        const char *s;
        size_t n;
        arr_err e = json_text(json_object_get(obj, key), key, field, num, sizeof(num), &s, &n, bad);
        if (e == ARR_OK && s && n > 0 && (!buf || n + 1 > buflen - used))
            e = set_bad(bad, field, "record too large: values over %zu bytes", buflen);
        if (e != ARR_OK) {
            memset(raw->v, 0, sizeof(raw->v));
            return e;
        }
        if (!s || n == 0)
            continue; /* null, missing and "" are all absent, as an empty CSV field is */
        memcpy(buf + used, s, n);
        buf[used + n] = '\0';
        raw->v[f] = buf + used;
        used += n + 1;
    }
    return ARR_OK;
}
