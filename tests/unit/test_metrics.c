#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arrears/metrics.h"

static arr_metrics *new_registry(void)
{
    arr_metrics *m = NULL;
    cr_assert_eq(arr_metrics_new(&m), ARR_OK);
    cr_assert_not_null(m);
    return m;
}

static arr_metric *reg(arr_metrics *m, arr_metric_kind kind, const char *name, const char *help,
                       const char *labels)
{
    arr_metric *mt = NULL;
    cr_assert_eq(arr_metrics_register(m, kind, name, help, labels, &mt), ARR_OK, "register %s{%s}",
                 name, labels ? labels : "");
    cr_assert_not_null(mt);
    return mt;
}

/* Renders into a fresh buffer the caller frees. */
static char *render(arr_metrics *m)
{
    arr_buf b;
    arr_buf_init(&b, 1 << 20);
    cr_assert_eq(arr_metrics_render(m, &b), ARR_OK);
    return arr_buf_steal(&b);
}

Test(metrics, renders_exact_exposition_grouped_by_name)
{
    arr_metrics *m = new_registry();
    arr_metric *a = reg(m, ARR_METRIC_COUNTER, "arr_requests_total", "Requests served.",
                        "route=\"/a\",code=\"200\"");
    arr_metric *lag = reg(m, ARR_METRIC_GAUGE, "arr_lag", "Lag in\\records\nper partition", NULL);
    arr_metric *b = reg(m, ARR_METRIC_COUNTER, "arr_requests_total", "ignored: first help wins",
                        "route=\"/b\",code=\"500\"");
    arr_metric_add(a, 2);
    arr_metric_add(b, 1.5);
    arr_metric_set(lag, 42);

    char *text = render(m);
    cr_expect_str_eq(text, "# HELP arr_requests_total Requests served.\n"
                           "# TYPE arr_requests_total counter\n"
                           "arr_requests_total{route=\"/a\",code=\"200\"} 2\n"
                           "arr_requests_total{route=\"/b\",code=\"500\"} 1.5\n"
                           "# HELP arr_lag Lag in\\\\records\\nper partition\n"
                           "# TYPE arr_lag gauge\n"
                           "arr_lag 42\n");
    free(text);
    arr_metrics_free(m);
}

Test(metrics, empty_registry_renders_nothing)
{
    arr_metrics *m = new_registry();
    char *text = render(m);
    cr_expect_str_eq(text, "");
    free(text);
    arr_metrics_free(m);
}

Test(metrics, no_help_means_no_help_line)
{
    arr_metrics *m = new_registry();
    arr_metric_add(reg(m, ARR_METRIC_COUNTER, "x_total", NULL, NULL), 7);
    char *text = render(m);
    cr_expect_str_eq(text, "# TYPE x_total counter\nx_total 7\n");
    free(text);
    arr_metrics_free(m);
}

Test(metrics, same_series_returns_same_handle)
{
    arr_metrics *m = new_registry();
    arr_metric *a = reg(m, ARR_METRIC_GAUGE, "g", "h", "k=\"v\"");
    arr_metric *b = reg(m, ARR_METRIC_GAUGE, "g", "h", "k=\"v\"");
    arr_metric *c = reg(m, ARR_METRIC_GAUGE, "g", "h", "k=\"w\"");
    arr_metric *d = reg(m, ARR_METRIC_GAUGE, "g", "h", NULL);
    arr_metric *e = reg(m, ARR_METRIC_GAUGE, "g", "h", "");
    cr_expect_eq(a, b);
    cr_expect_neq(a, c);
    cr_expect_neq(a, d);
    cr_expect_eq(d, e, "NULL and empty labels name the same series");
    arr_metrics_free(m);
}

Test(metrics, same_name_different_kind_is_rejected)
{
    arr_metrics *m = new_registry();
    reg(m, ARR_METRIC_COUNTER, "dual", "h", NULL);
    arr_metric *mt = NULL;
    cr_expect_eq(arr_metrics_register(m, ARR_METRIC_GAUGE, "dual", "h", NULL, &mt), ARR_EINVAL);
    cr_expect_eq(arr_metrics_register(m, ARR_METRIC_GAUGE, "dual", "h", "a=\"b\"", &mt),
                 ARR_EINVAL);
    cr_expect_null(mt);
    arr_metrics_free(m);
}

Test(metrics, metric_names_are_validated)
{
    const char *good[] = {"a", "_", ":", "arr_x_total", "a:b:c", "A9_z", "__name"};
    const char *bad[] = {"", "1abc", "a-b", "a b", "a.b", "caf\xc3\xa9", "a{}", "x\n"};
    arr_metrics *m = new_registry();
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        arr_metric *mt = NULL;
        cr_expect_eq(arr_metrics_register(m, ARR_METRIC_GAUGE, good[i], "", NULL, &mt), ARR_OK,
                     "%s should be accepted", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        arr_metric *mt = NULL;
        cr_expect_eq(arr_metrics_register(m, ARR_METRIC_GAUGE, bad[i], "", NULL, &mt), ARR_EINVAL,
                     "%s should be rejected", bad[i]);
        cr_expect_null(mt);
    }
    arr_metric *mt = NULL;
    cr_expect_eq(arr_metrics_register(m, ARR_METRIC_GAUGE, NULL, "", NULL, &mt), ARR_EINVAL);
    arr_metrics_free(m);
}

Test(metrics, malformed_labels_are_rejected)
{
    const char *good[] = {"a=\"\"", "a=\"x\",b=\"y\"", "a=\"q\\\"uote\\\\ \\n\"", "_b=\"{}=,\""};
    const char *bad[] = {"a=x",       "a=\"x",      "a=\"x\",", "1a=\"x\"", "a=\"x\" b=\"y\"",
                         "a=\"\\t\"", "a=\"x\ny\"", "=\"x\"",   ",a=\"x\"", "a-b=\"x\""};
    arr_metrics *m = new_registry();
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        arr_metric *mt = NULL;
        cr_expect_eq(arr_metrics_register(m, ARR_METRIC_GAUGE, "l", "", good[i], &mt), ARR_OK,
                     "%s should be accepted", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        arr_metric *mt = NULL;
        cr_expect_eq(arr_metrics_register(m, ARR_METRIC_GAUGE, "l", "", bad[i], &mt), ARR_EINVAL,
                     "%s should be rejected", bad[i]);
    }
    arr_metrics_free(m);
}

static void expect_value_text(double v, const char *want)
{
    arr_metrics *m = new_registry();
    arr_metric_set(reg(m, ARR_METRIC_GAUGE, "v", NULL, NULL), v);
    char *text = render(m);
    const char *line = strstr(text, "\nv ");
    cr_assert_not_null(line, "%s", text);
    char expect[64];
    snprintf(expect, sizeof expect, "\nv %s\n", want);
    cr_expect_str_eq(line, expect);
    free(text);
    arr_metrics_free(m);
}

Test(metrics, values_use_prometheus_float_syntax)
{
    expect_value_text(42.0, "42");
    expect_value_text(0, "0");
    expect_value_text(-3, "-3");
    expect_value_text(123456789012.0, "123456789012");
    expect_value_text(9007199254740992.0, "9007199254740992");
    expect_value_text(0.1, "0.1");
    expect_value_text(1.0 / 3.0, "0.3333333333333333");
    expect_value_text(2.5e-7, "2.5e-07");
    expect_value_text(1e300, "1e+300");
    expect_value_text(NAN, "NaN");
    expect_value_text(INFINITY, "+Inf");
    expect_value_text(-INFINITY, "-Inf");
}

Test(metrics, counters_ignore_negative_increments_gauges_do_not)
{
    arr_metrics *m = new_registry();
    arr_metric *c = reg(m, ARR_METRIC_COUNTER, "c_total", NULL, NULL);
    arr_metric *g = reg(m, ARR_METRIC_GAUGE, "g", NULL, NULL);
    arr_metric_add(c, 5);
    arr_metric_add(c, -2);
    arr_metric_add(c, NAN);
    arr_metric_add(g, 5);
    arr_metric_add(g, -2);
    cr_expect_eq(arr_metric_value(c), 5);
    cr_expect_eq(arr_metric_value(g), 3);
    arr_metric_set(g, -7.25);
    cr_expect_eq(arr_metric_value(g), -7.25);
    arr_metrics_free(m);
}

Test(metrics, failed_render_leaves_buffer_untouched)
{
    arr_metrics *m = new_registry();
    arr_metric_add(reg(m, ARR_METRIC_COUNTER, "a_rather_long_metric_name_total", "help", NULL), 1);
    arr_buf b;
    arr_buf_init(&b, 40);
    cr_assert_eq(arr_buf_append(&b, "keep", 4), ARR_OK);
    cr_expect_eq(arr_metrics_render(m, &b), ARR_ELIMIT);
    cr_expect_eq(b.len, 4);
    cr_expect_str_eq(b.data, "keep");
    arr_buf_free(&b);
    arr_metrics_free(m);
}

Test(metrics, render_appends_after_existing_content)
{
    arr_metrics *m = new_registry();
    arr_metric_set(reg(m, ARR_METRIC_GAUGE, "g", NULL, NULL), 1);
    arr_buf b;
    arr_buf_init(&b, 1024);
    cr_assert_eq(arr_buf_append(&b, "pre\n", 4), ARR_OK);
    cr_assert_eq(arr_metrics_render(m, &b), ARR_OK);
    cr_expect_str_eq(b.data, "pre\n# TYPE g gauge\ng 1\n");
    arr_buf_free(&b);
    arr_metrics_free(m);
}

#define THREADS 4
#define ADDS 100000

typedef struct worker {
    arr_metrics *m;
    arr_metric *shared;
    pthread_barrier_t go; /* all threads add at once, so a missing lock shows */
} worker;

/* Each thread also registers the shared series itself, so registration races too. */
static void *hammer(void *arg)
{
    worker *w = arg;
    arr_metric *mine = NULL;
    pthread_barrier_wait(&w->go);
    if (arr_metrics_register(w->m, ARR_METRIC_COUNTER, "hits_total", "h", "k=\"v\"", &mine) !=
        ARR_OK)
        return NULL;
    for (int i = 0; i < ADDS; i++) {
        arr_metric_add(i % 2 ? mine : w->shared, 1);
        arr_metric_add(w->shared, 0.5);
    }
    return mine;
}

Test(metrics, concurrent_adds_from_four_threads_sum)
{
    arr_metrics *m = new_registry();
    worker w = {.m = m, .shared = reg(m, ARR_METRIC_COUNTER, "hits_total", "h", "k=\"v\"")};
    cr_assert_eq(pthread_barrier_init(&w.go, NULL, THREADS), 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, hammer, &w), 0);
    for (int i = 0; i < THREADS; i++) {
        void *got = NULL;
        pthread_join(t[i], &got);
        cr_expect_eq(got, w.shared, "every thread must get the same handle");
    }
    pthread_barrier_destroy(&w.go);
    cr_expect_eq(arr_metric_value(w.shared), THREADS * ADDS * 1.5);
    char *text = render(m);
    cr_expect_str_eq(text, "# HELP hits_total h\n# TYPE hits_total counter\n"
                           "hits_total{k=\"v\"} 600000\n");
    free(text);
    arr_metrics_free(m);
}
