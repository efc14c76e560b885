/* ingest_mapping: loads a tenant's mapping file, strictly. A mapping is written by hand by
 * someone onboarding a creditor; a typo in it ("colums", "acount_id") silently ignored would
 * drop a field from every account of the tenant, so anything not understood is an error that
 * names the file and the key. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mapping.h"

#define MAPPING_FILE_MAX (1024 * 1024) /* mapping files are a few hundred bytes */
#define MAPPING_TEXT_MAX 255           /* a column name, key or default value */

static const char *const top_keys[] = {
    "format",          "delimiter",   "amount_format", "decimal_sep", "thousands_sep",
    "currency_symbol", "date_format", "defaults",      "columns",
};

/* "<file>: <key>: <reason>", the shape of every load error. */
static arr_err fail(char *why, size_t whylen, const char *path, const char *key, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
static arr_err fail(char *why, size_t whylen, const char *path, const char *key, const char *fmt,
                    ...)
{
    char reason[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    arr_errbuf_set(why, whylen, "%s: %s: %s", path, key, reason);
    return ARR_ECONFIG;
}

/* Reads the whole file, refusing anything larger than a mapping can sensibly be. */
static arr_err read_file_capped(const char *path, char **text, size_t *len, char *why,
                                size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        arr_err e = errno == ENOENT ? ARR_ENOTFOUND : ARR_EIO;
        arr_errbuf_set(why, whylen, "%s: %s", path, strerror(errno));
        return e;
    }
    char *buf = malloc(MAPPING_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return ARR_ENOMEM;
    }
    size_t n = fread(buf, 1, MAPPING_FILE_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        arr_errbuf_set(why, whylen, "%s: read error", path);
        return ARR_EIO;
    }
    if (n > MAPPING_FILE_MAX) {
        free(buf);
        arr_errbuf_set(why, whylen, "%s: larger than %d bytes", path, MAPPING_FILE_MAX);
        return ARR_ECONFIG;
    }
    *text = buf;
    *len = n;
    return ARR_OK;
}

static int is_top_key(const char *key)
{
    for (size_t i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
        if (strcmp(top_keys[i], key) == 0)
            return 1;
    return 0;
}

/* A short text value: a string without NUL bytes, 1..MAPPING_TEXT_MAX bytes. */
static arr_err text_value(json_t *v, const char *path, const char *key, const char **out, char *why,
                          size_t whylen)
{
    if (!json_is_string(v))
        return fail(why, whylen, path, key, "must be a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n)
        return fail(why, whylen, path, key, "contains a NUL character");
    if (n == 0)
        return fail(why, whylen, path, key, "must not be empty");
    if (n > MAPPING_TEXT_MAX)
        return fail(why, whylen, path, key, "longer than %d bytes", MAPPING_TEXT_MAX);
    *out = s;
    return ARR_OK;
}

/* An optional string member that must be one of the choices; *index = its position
 * (unchanged when the member is absent). */
static arr_err choice(json_t *root, const char *key, const char *const *choices, int n, int *index,
                      const char *path, char *why, size_t whylen)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return ARR_OK;
    if (!json_is_string(v))
        return fail(why, whylen, path, key, "must be a string");
    for (int i = 0; i < n; i++) {
        if (strcmp(json_string_value(v), choices[i]) == 0) {
            *index = i;
            return ARR_OK;
        }
    }
    return fail(why, whylen, path, key, "unsupported value \"%.64s\"", json_string_value(v));
}

static arr_err load_format(json_t *root, ingest_mapping *m, const char *path, char *why,
                           size_t whylen)
{
    static const char *const formats[] = {"csv", "jsonl"};
    if (!json_object_get(root, "format"))
        return fail(why, whylen, path, "format", "missing (\"csv\" or \"jsonl\")");
    int fmt = 0;
    arr_err e = choice(root, "format", formats, 2, &fmt, path, why, whylen);
    if (e != ARR_OK)
        return e;
    m->format = fmt == 0 ? INGEST_CSV : INGEST_JSONL;
    return ARR_OK;
}

static arr_err load_delimiter(json_t *root, ingest_mapping *m, const char *path, char *why,
                              size_t whylen)
{
    json_t *v = json_object_get(root, "delimiter");
    m->delimiter = ',';
    if (!v)
        return ARR_OK;
    if (m->format != INGEST_CSV)
        return fail(why, whylen, path, "delimiter", "only for format \"csv\"");
    if (!json_is_string(v) || json_string_length(v) != 1)
        return fail(why, whylen, path, "delimiter", "must be a string of one character");
    char c = json_string_value(v)[0];
    /* A quote, a blank or a line break cannot separate fields of RFC 4180 CSV. */
    if (c != '\t' && (c <= ' ' || c > '~' || c == '"'))
        return fail(why, whylen, path, "delimiter", "unusable delimiter");
    m->delimiter = c;
    return ARR_OK;
}

static arr_err load_separators(json_t *root, ingest_mapping *m, const char *path, char *why,
                               size_t whylen)
{
    static const char *const decimal[] = {".", ","};
    static const char *const thousands[] = {"", ",", ".", " ", "'"};
    int d = 0, t = 0;
    arr_err e = choice(root, "decimal_sep", decimal, 2, &d, path, why, whylen);
    if (e == ARR_OK)
        e = choice(root, "thousands_sep", thousands, 5, &t, path, why, whylen);
    if (e != ARR_OK)
        return e;
    m->amount.decimal_sep = decimal[d][0];
    m->amount.thousands_sep = thousands[t][0]; /* "" -> 0: none */
    if (m->amount.thousands_sep == m->amount.decimal_sep)
        return fail(why, whylen, path, "thousands_sep", "same as decimal_sep");
    return ARR_OK;
}

static arr_err load_amount(json_t *root, ingest_mapping *m, const char *path, char *why,
                           size_t whylen)
{
    static const char *const formats[] = {"decimal", "cents"};
    int fmt = 0;
    arr_err e = choice(root, "amount_format", formats, 2, &fmt, path, why, whylen);
    if (e != ARR_OK)
        return e;
    m->amount.format = fmt == 0 ? INGEST_AMOUNT_DECIMAL : INGEST_AMOUNT_CENTS;
    e = load_separators(root, m, path, why, whylen);
    if (e != ARR_OK)
        return e;
    json_t *sym = json_object_get(root, "currency_symbol");
    if (sym && !json_is_boolean(sym))
        return fail(why, whylen, path, "currency_symbol", "must be true or false");
    m->amount.allow_currency_symbol = sym ? json_is_true(sym) : 0;
    return ARR_OK;
}

static arr_err load_date_format(json_t *root, ingest_mapping *m, const char *path, char *why,
                                size_t whylen)
{
    json_t *v = json_object_get(root, "date_format");
    const char *fmt = "%Y-%m-%d";
    if (v) {
        if (!json_is_string(v))
            return fail(why, whylen, path, "date_format", "must be a string");
        fmt = json_string_value(v);
        if (strlen(fmt) >= sizeof(m->date_format) || !ingest_date_format_known(fmt))
            return fail(why, whylen, path, "date_format", "unsupported date format \"%.32s\"", fmt);
    }
    snprintf(m->date_format, sizeof(m->date_format), "%s", fmt);
    return ARR_OK;
}

/* An object member that must map canonical field names; NULL when absent. */
static arr_err field_object(json_t *root, const char *key, json_t **out, const char *path,
                            char *why, size_t whylen)
{
    json_t *v = json_object_get(root, key);
    *out = NULL;
    if (v && !json_is_object(v))
        return fail(why, whylen, path, key, "must be an object");
    *out = v;
    return ARR_OK;
}

static arr_err load_defaults(json_t *root, ingest_mapping *m, const char *path, char *why,
                             size_t whylen)
{
    json_t *obj = NULL;
    arr_err e = field_object(root, "defaults", &obj, path, why, whylen);
    if (e != ARR_OK || !obj)
        return e;
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        char key[MAPPING_TEXT_MAX + 16];
        snprintf(key, sizeof(key), "defaults.%s", name);
        int f = ingest_field_from_name(name);
        if (f < 0)
            return fail(why, whylen, path, key, "unknown field");
        /* A made-up balance would be a made-up debt. */
        if (f == IF_BALANCE)
            return fail(why, whylen, path, key, "balance cannot have a default");
        const char *text;
        if ((e = text_value(v, path, key, &text, why, whylen)) != ARR_OK)
            return e;
        if (!(m->defaults[f] = strdup(text)))
            return ARR_ENOMEM;
    }
    return ARR_OK;
}

/* Header names are compared trimmed, so a padded column name could never match. */
static int has_surrounding_blanks(const char *s)
{
    size_t n = strlen(s);
    return s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t';
}

/* The canonical field already mapped to this column, or -1. */
static int column_owner(const ingest_mapping *m, const char *column)
{
    for (int f = 0; f < IF__COUNT; f++)
        if (m->columns[f] && strcmp(m->columns[f], column) == 0)
            return f;
    return -1;
}

static arr_err load_column(ingest_mapping *m, const char *name, json_t *v, const char *path,
                           char *why, size_t whylen)
{
    char key[MAPPING_TEXT_MAX + 16];
    snprintf(key, sizeof(key), "columns.%s", name);
    int f = ingest_field_from_name(name);
    if (f < 0)
        return fail(why, whylen, path, key, "unknown field");
    const char *column;
    arr_err e = text_value(v, path, key, &column, why, whylen);
    if (e != ARR_OK)
        return e;
    if (has_surrounding_blanks(column))
        return fail(why, whylen, path, key, "column name has surrounding blanks");
    int owner = column_owner(m, column);
    if (owner >= 0)
        return fail(why, whylen, path, key, "column \"%.64s\" is already mapped to %s", column,
                    ingest_field_name((ingest_field)owner));
    if (!(m->columns[f] = strdup(column)))
        return ARR_ENOMEM;
    return ARR_OK;
}

static arr_err load_columns(json_t *root, ingest_mapping *m, const char *path, char *why,
                            size_t whylen)
{
    json_t *obj = NULL;
    arr_err e = field_object(root, "columns", &obj, path, why, whylen);
    if (e != ARR_OK)
        return e;
    if (!obj)
        return fail(why, whylen, path, "columns", "missing");
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        if ((e = load_column(m, name, v, path, why, whylen)) != ARR_OK)
            return e;
    }
    return ARR_OK;
}

/* Without these a record cannot even be identified or priced. */
static arr_err check_required(const ingest_mapping *m, const char *path, char *why, size_t whylen)
{
    static const ingest_field required[] = {IF_ACCOUNT_ID, IF_BALANCE, IF_DUE_DATE};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        ingest_field f = required[i];
        if (m->columns[f] || m->defaults[f])
            continue;
        char key[64];
        snprintf(key, sizeof(key), "columns.%s", ingest_field_name(f));
        return fail(why, whylen, path, key, "required field is not mapped");
    }
    return ARR_OK;
}

static arr_err check_keys(json_t *root, const char *path, char *why, size_t whylen)
{
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        (void)v;
        if (!is_top_key(key))
            return fail(why, whylen, path, key, "unknown key");
    }
    return ARR_OK;
}

static arr_err load_root(json_t *root, ingest_mapping *m, const char *path, char *why,
                         size_t whylen)
{
    if (!json_is_object(root))
        return fail(why, whylen, path, "(top level)", "must be a JSON object");
    arr_err e = check_keys(root, path, why, whylen);
    if (e == ARR_OK)
        e = load_format(root, m, path, why, whylen);
    if (e == ARR_OK)
        e = load_delimiter(root, m, path, why, whylen);
    if (e == ARR_OK)
        e = load_amount(root, m, path, why, whylen);
    if (e == ARR_OK)
        e = load_date_format(root, m, path, why, whylen);
    if (e == ARR_OK)
        e = load_defaults(root, m, path, why, whylen);
    if (e == ARR_OK)
        e = load_columns(root, m, path, why, whylen);
    if (e == ARR_OK)
        e = check_required(m, path, why, whylen);
    return e;
}

arr_err ingest_mapping_load(const char *path, ingest_mapping **out, char *why, size_t whylen)
{
    if (!path || !out)
        return ARR_EINVAL;
    char *text;
    size_t len;
    arr_err e = read_file_capped(path, &text, &len, why, whylen);
    if (e != ARR_OK)
        return e;
    json_error_t jerr;
    /* Duplicate keys would let the second silently win: reject them like any typo. */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root) {
        arr_errbuf_set(why, whylen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return ARR_ECONFIG;
    }
    ingest_mapping *m = calloc(1, sizeof(*m));
    if (!m) {
        json_decref(root);
        return ARR_ENOMEM;
    }
    e = load_root(root, m, path, why, whylen);
    json_decref(root);
    if (e != ARR_OK) {
        ingest_mapping_free(m);
        return e;
    }
    *out = m;
    return ARR_OK;
}

static arr_err set_default(ingest_mapping *m, ingest_field f, const char *text)
{
    m->defaults[f] = strdup(text);
    return m->defaults[f] ? ARR_OK : ARR_ENOMEM;
}

arr_err ingest_mapping_identity(ingest_format format, ingest_mapping **out)
{
    if (!out || (format != INGEST_CSV && format != INGEST_JSONL))
        return ARR_EINVAL;
    ingest_mapping *m = calloc(1, sizeof(*m));
    if (!m)
        return ARR_ENOMEM;
    m->format = format;
    m->delimiter = ',';
    m->amount.format = INGEST_AMOUNT_DECIMAL;
    m->amount.decimal_sep = '.';
    m->amount.thousands_sep = 0;
    m->amount.allow_currency_symbol = 0;
    snprintf(m->date_format, sizeof(m->date_format), "%s", "%Y-%m-%d");
    arr_err e = ARR_OK;
    for (int f = 0; f < IF__COUNT && e == ARR_OK; f++) {
        m->columns[f] = strdup(ingest_field_name((ingest_field)f));
        if (!m->columns[f])
            e = ARR_ENOMEM;
    }
    if (e == ARR_OK)
        e = set_default(m, IF_CURRENCY, "USD");
    if (e == ARR_OK)
        e = set_default(m, IF_REGIME, "creditor");
    if (e == ARR_OK)
        e = set_default(m, IF_COUNTRY, "US");
    if (e == ARR_OK)
        e = set_default(m, IF_LANGUAGE, "en");
    if (e != ARR_OK) {
        ingest_mapping_free(m);
        return e;
    }
    *out = m;
    return ARR_OK;
}

void ingest_mapping_free(ingest_mapping *m)
{
    if (!m)
        return;
    for (int f = 0; f < IF__COUNT; f++) {
        free(m->defaults[f]);
        free(m->columns[f]);
    }
    free(m);
}
