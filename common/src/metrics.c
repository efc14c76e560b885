#include "arrears/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One series: a family name plus one label set. */
struct arr_metric {
    arr_metrics *reg; /* its lock guards value, so a handle alone is enough to update */
    arr_metric_kind kind;
    char *labels; /* "" when the series has none */
    double value;
    arr_metric *next; /* next series of the same family */
};

/* Series sharing a name are kept together so HELP and TYPE are written once per name
 * and all its series follow them, as the exposition format requires. */
typedef struct family {
    arr_metric_kind kind;
    char *name;
    char *help; /* "" when none */
    arr_metric *series;
    struct family *next;
} family;

struct arr_metrics {
    pthread_mutex_t mu;
    family *families; /* registration order, so the output is stable */
};

static int is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static int valid_metric_name(const char *s)
{
    if (!is_name_start(*s) && *s != ':')
        return 0;
    for (s++; *s; s++) {
        if (!is_name_char(*s) && *s != ':')
            return 0;
    }
    return 1;
}

/* Skips one quoted label value; returns the char after the closing quote or NULL. */
static const char *skip_label_value(const char *s)
{
    if (*s++ != '"')
        return NULL;
    for (; *s != '"'; s++) {
        if (*s == '\0' || *s == '\n')
            return NULL;
        if (*s == '\\') {
            s++;
            if (*s != '\\' && *s != '"' && *s != 'n')
                return NULL;
        }
    }
    return s + 1;
}

/* The label list is written out verbatim, so a malformed one would corrupt the whole
 * exposition and make the scrape fail for every metric, not just this one. */
static int valid_labels(const char *s)
{
    while (*s) {
        if (!is_name_start(*s))
            return 0;
        while (is_name_char(*s))
            s++;
        if (*s++ != '=')
            return 0;
        s = skip_label_value(s);
        if (!s)
            return 0;
        if (*s == ',' && s[1] != '\0')
            s++;
        else if (*s != '\0')
            return 0;
    }
    return 1;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

arr_err arr_metrics_new(arr_metrics **out)
{
    if (!out)
        return ARR_EINVAL;
    arr_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return ARR_ENOMEM;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return ARR_ENOMEM;
    }
    *out = m;
    return ARR_OK;
}

static void free_family(family *f)
{
    arr_metric *s = f->series;
    while (s) {
        arr_metric *next = s->next;
        free(s->labels);
        free(s);
        s = next;
    }
    free(f->name);
    free(f->help);
    free(f);
}

void arr_metrics_free(arr_metrics *m)
{
    if (!m)
        return;
    family *f = m->families;
    while (f) {
        family *next = f->next;
        free_family(f);
        f = next;
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static family *new_family(arr_metric_kind kind, const char *name, const char *help)
{
    family *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->kind = kind;
    f->name = dup_str(name);
    f->help = dup_str(help);
    if (!f->name || !f->help) {
        free_family(f);
        return NULL;
    }
    return f;
}

/* Caller holds the lock. The first registration's help text wins. */
static arr_err get_family(arr_metrics *m, arr_metric_kind kind, const char *name, const char *help,
                          family **out)
{
    family **link = &m->families;
    for (; *link; link = &(*link)->next) {
        if (strcmp((*link)->name, name) == 0) {
            if ((*link)->kind != kind)
                return ARR_EINVAL;
            *out = *link;
            return ARR_OK;
        }
    }
    family *f = new_family(kind, name, help);
    if (!f)
        return ARR_ENOMEM;
    *link = f;
    *out = f;
    return ARR_OK;
}

/* Caller holds the lock. */
static arr_err get_series(arr_metrics *m, family *f, const char *labels, arr_metric **out)
{
    arr_metric **link = &f->series;
    for (; *link; link = &(*link)->next) {
        if (strcmp((*link)->labels, labels) == 0) {
            *out = *link;
            return ARR_OK;
        }
    }
    arr_metric *s = calloc(1, sizeof *s);
    if (!s)
        return ARR_ENOMEM;
    s->labels = dup_str(labels);
    if (!s->labels) {
        free(s);
        return ARR_ENOMEM;
    }
    s->reg = m;
    s->kind = f->kind;
    *link = s;
    *out = s;
    return ARR_OK;
}

arr_err arr_metrics_register(arr_metrics *m, arr_metric_kind kind, const char *name,
                             const char *help, const char *labels, arr_metric **out)
{
    if (!m || !name || !out || !valid_metric_name(name))
        return ARR_EINVAL;
    if (kind != ARR_METRIC_COUNTER && kind != ARR_METRIC_GAUGE)
        return ARR_EINVAL;
    if (!labels)
        labels = "";
    if (!valid_labels(labels))
        return ARR_EINVAL;
    pthread_mutex_lock(&m->mu);
    family *f = NULL;
    arr_err e = get_family(m, kind, name, help ? help : "", &f);
    if (e == ARR_OK)
        e = get_series(m, f, labels, out);
    pthread_mutex_unlock(&m->mu);
    return e;
}

void arr_metric_add(arr_metric *mt, double v)
{
    if (!mt)
        return;
    /* A counter that goes down reads as a restart to Prometheus and corrupts rate(),
     * so a negative (or NaN) increment is dropped rather than applied. */
    if (mt->kind == ARR_METRIC_COUNTER && !(v >= 0))
        return;
    pthread_mutex_lock(&mt->reg->mu);
    mt->value += v;
    pthread_mutex_unlock(&mt->reg->mu);
}

void arr_metric_set(arr_metric *mt, double v)
{
    if (!mt)
        return;
    pthread_mutex_lock(&mt->reg->mu);
    mt->value = v;
    pthread_mutex_unlock(&mt->reg->mu);
}

double arr_metric_value(const arr_metric *mt)
{
    if (!mt)
        return 0;
    pthread_mutex_lock(&mt->reg->mu);
    double v = mt->value;
    pthread_mutex_unlock(&mt->reg->mu);
    return v;
}

/* Prometheus parses Go float syntax: NaN and infinities have their own spellings, and
 * integers are printed whole so counters stay readable. Otherwise the shortest form that
 * reads back as the same double. */
static void format_value(double v, char *out, size_t n)
{
    if (isnan(v)) {
        snprintf(out, n, "NaN");
    } else if (isinf(v)) {
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) <= 9007199254740992.0) {
        snprintf(out, n, "%.0f", v);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, n, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
}

/* HELP text may hold any UTF-8 but a backslash or newline would break the line format. */
static arr_err append_help(arr_buf *out, const char *help)
{
    arr_err e = ARR_OK;
    for (const char *p = help; *p && e == ARR_OK; p++) {
        if (*p == '\\')
            e = arr_buf_append(out, "\\\\", 2);
        else if (*p == '\n')
            e = arr_buf_append(out, "\\n", 2);
        else
            e = arr_buf_append(out, p, 1);
    }
    return e;
}

static const char *kind_name(arr_metric_kind k)
{
    return k == ARR_METRIC_COUNTER ? "counter" : "gauge";
}

static arr_err render_series(const family *f, const arr_metric *s, arr_buf *out)
{
    char val[64];
    format_value(s->value, val, sizeof val);
    if (s->labels[0])
        return arr_buf_appendf(out, "%s{%s} %s\n", f->name, s->labels, val);
    return arr_buf_appendf(out, "%s %s\n", f->name, val);
}

static arr_err render_family(const family *f, arr_buf *out)
{
    /* A family whose only series failed to allocate has nothing to describe. */
    if (!f->series)
        return ARR_OK;
    arr_err e = ARR_OK;
    if (f->help[0]) {
        e = arr_buf_appendf(out, "# HELP %s ", f->name);
        if (e == ARR_OK)
            e = append_help(out, f->help);
        if (e == ARR_OK)
            e = arr_buf_append(out, "\n", 1);
    }
    if (e == ARR_OK)
        e = arr_buf_appendf(out, "# TYPE %s %s\n", f->name, kind_name(f->kind));
    for (const arr_metric *s = f->series; s && e == ARR_OK; s = s->next)
        e = render_series(f, s, out);
    return e;
}

arr_err arr_metrics_render(arr_metrics *m, arr_buf *out)
{
    if (!m || !out)
        return ARR_EINVAL;
    size_t mark = out->len;
    arr_err e = ARR_OK;
    pthread_mutex_lock(&m->mu);
    for (const family *f = m->families; f && e == ARR_OK; f = f->next)
        e = render_family(f, out);
    pthread_mutex_unlock(&m->mu);
    /* A half-written exposition would be scraped as if complete; hand back none of it. */
    if (e != ARR_OK) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return e;
}
