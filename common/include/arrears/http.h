/* arr_http: the small HTTP endpoint every service exposes (libmicrohttpd, own thread).
 *   GET /healthz  200 "ok" while the process runs.
 *   GET /readyz   200 when the ready callback says every dependency answers, else 503 with
 *                 a JSON body naming what does not answer.
 *   GET /metrics  the metrics registry in Prometheus text format.
 * Other routes (e.g. ingest's batch endpoint) are added with arr_http_route before start.
 * Bodies are capped (max_body); a larger one gets 413 without being read whole. */
#ifndef ARREARS_HTTP_H
#define ARREARS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/buf.h"
#include "arrears/err.h"
#include "arrears/metrics.h"

typedef struct arr_http arr_http;

/* Returns 1 when ready; fills why (a short text such as "kafka: timeout") when not.
 * Called on the HTTP thread: it must be thread-safe. */
typedef int (*arr_http_ready_fn)(void *opaque, char *why, size_t whylen);

typedef struct arr_http_request {
    const char *method;        /* borrowed */
    const char *path;          /* borrowed */
    const char *authorization; /* the Authorization header or NULL; borrowed */
    const char *content_type;  /* or NULL; borrowed */
    const char *body;          /* borrowed, NUL-terminated, body_len bytes */
    size_t body_len;
    void *conn; /* private: the connection, for arr_http_header */
} arr_http_request;

/* Any request header by name (case-insensitive), or NULL; borrowed for the handler's call. */
const char *arr_http_header(const arr_http_request *req, const char *name);

/* A route handler fills status, content type (static string) and the response body. */
typedef void (*arr_http_handler_fn)(void *opaque, const arr_http_request *req, int *status,
                                    const char **content_type, arr_buf *body);

typedef struct arr_http_opts {
    const char *bind_addr; /* "127.0.0.1" by default */
    uint16_t port;         /* 0 picks a free port: see arr_http_port */
    size_t max_body;       /* request body cap, default 1 MiB */
    arr_http_ready_fn ready;
    void *ready_opaque;
    arr_metrics *metrics; /* borrowed, must outlive the server */
} arr_http_opts;

arr_err arr_http_new(const arr_http_opts *opts, arr_http **out);
/* Register before arr_http_start. method "POST" etc., exact path match. */
arr_err arr_http_route(arr_http *h, const char *method, const char *path, arr_http_handler_fn fn,
                       void *opaque);
arr_err arr_http_start(arr_http *h, char *errbuf, size_t errlen);
uint16_t arr_http_port(const arr_http *h); /* the bound port after start */
void arr_http_free(arr_http *h);           /* stops the server if started */

#endif
