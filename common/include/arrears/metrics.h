/* arr_metrics: a small registry of counters and gauges rendered in the Prometheus text
 * exposition format (version 0.0.4). Thread-safe: the service loop updates, the HTTP thread
 * renders. Metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*; label values are escaped.
 * The registry owns its metrics; handles stay valid until arr_metrics_free. */
#ifndef ARREARS_METRICS_H
#define ARREARS_METRICS_H

#include <stdint.h>
#include "arrears/buf.h"
#include "arrears/err.h"

typedef struct arr_metrics arr_metrics;
typedef struct arr_metric arr_metric;

typedef enum arr_metric_kind { ARR_METRIC_COUNTER, ARR_METRIC_GAUGE } arr_metric_kind;

arr_err arr_metrics_new(arr_metrics **out);
void arr_metrics_free(arr_metrics *m);

/* Registers (or returns the existing) series name{labels}. labels is NULL or a
 * preformatted label list such as "topic=\"arrears.accounts\",result=\"ok\"" (copied). */
arr_err arr_metrics_register(arr_metrics *m, arr_metric_kind kind, const char *name,
                             const char *help, const char *labels, arr_metric **out);
void arr_metric_add(arr_metric *mt, double v); /* counters: v >= 0 */
void arr_metric_set(arr_metric *mt, double v); /* gauges */
double arr_metric_value(const arr_metric *mt);

/* Appends the whole exposition (HELP/TYPE once per name) to out. */
arr_err arr_metrics_render(arr_metrics *m, arr_buf *out);

#endif
