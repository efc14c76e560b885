#include "arrears/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define DEFAULT_BIND "127.0.0.1"
#define DEFAULT_MAX_BODY ((size_t)1024 * 1024)
/* A handler bug must not be able to make the process allocate without bound. */
#define RESPONSE_MAX ((size_t)256 * 1024 * 1024)
#define WHY_MAX 256
#define ALLOW_MAX 128
/* Idle connections are dropped so a stuck client cannot hold a socket forever. */
#define CONN_TIMEOUT_S 30u

#define CT_TEXT "text/plain; charset=utf-8"
#define CT_JSON "application/json"
#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_DEFAULT "application/octet-stream"

typedef struct route {
    char *method;
    char *path;
    arr_http_handler_fn fn;
    void *opaque;
    struct route *next;
} route;

struct arr_http {
    char *bind_addr; /* owned copy */
    uint16_t port;   /* requested, then the bound one after start */
    size_t max_body;
    arr_http_ready_fn ready;
    void *ready_opaque;
    arr_metrics *metrics;
    route *routes; /* immutable once the daemon runs, so its thread reads it unlocked */
    struct MHD_Daemon *daemon;
};

/* Lives from the first call of the access handler to the request-completed callback. */
typedef struct conn_state {
    const route *route;
    arr_buf body;
    arr_err body_err; /* set once the body could not be kept; later chunks are dropped */
    int responded;    /* a response was queued before the body was read */
} conn_state;

__attribute__((format(printf, 3, 4))) static void set_err(char *errbuf, size_t errlen,
                                                          const char *fmt, ...)
{
    if (!errbuf || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* ---- responses ---- */

/* Takes the body's memory; the response frees it once MHD has sent it. */
static enum MHD_Result respond(struct MHD_Connection *conn, int status, const char *ctype,
                               arr_buf *body, const char *allow)
{
    size_t len = body->len;
    char *data = arr_buf_steal(body);
    if (!data)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, data, free);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (ok == MHD_YES && allow)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    if (ok == MHD_YES)
        ok = MHD_queue_response(conn, (unsigned int)status, r);
    /* The queued response holds its own reference. */
    MHD_destroy_response(r);
    return ok;
}

/* Consumes o. */
static arr_err append_json(arr_buf *b, json_t *o)
{
    if (!o)
        return ARR_ENOMEM;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return ARR_ENOMEM;
    arr_err e = arr_buf_append(b, s, strlen(s));
    free(s);
    return e;
}

static enum MHD_Result respond_error(struct MHD_Connection *conn, int status, const char *msg,
                                     const char *allow)
{
    arr_buf b;
    arr_buf_init(&b, RESPONSE_MAX);
    arr_err e = append_json(&b, json_pack("{s:s}", "error", msg));
    enum MHD_Result ok = e == ARR_OK ? respond(conn, status, CT_JSON, &b, allow) : MHD_NO;
    arr_buf_free(&b);
    return ok;
}

/* ---- built-in routes ---- */

static void healthz(void *opaque, const arr_http_request *req, int *status, const char **ctype,
                    arr_buf *body)
{
    (void)opaque;
    (void)req;
    *status =
        arr_buf_append(body, "ok\n", 3) == ARR_OK ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
    *ctype = CT_TEXT;
}

/* The ready callback is outside code: its text may not be valid UTF-8, which jansson
 * refuses, and a readiness probe must still get an answer. */
static json_t *why_string(char *why)
{
    if (!why[0])
        return json_string("not ready");
    json_t *s = json_string(why);
    if (s)
        return s;
    for (char *p = why; *p; p++) {
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    }
    return json_string(why);
}

static void readyz(void *opaque, const arr_http_request *req, int *status, const char **ctype,
                   arr_buf *body)
{
    const arr_http *h = opaque;
    (void)req;
    char why[WHY_MAX] = "";
    int ready = h->ready ? h->ready(h->ready_opaque, why, sizeof why) : 1;
    why[sizeof why - 1] = '\0';
    json_t *o = ready ? json_pack("{s:b}", "ready", 1)
                      : json_pack("{s:b,s:o}", "ready", 0, "why", why_string(why));
    *ctype = CT_JSON;
    if (append_json(body, o) != ARR_OK)
        *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    else
        *status = ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
}

static void metrics(void *opaque, const arr_http_request *req, int *status, const char **ctype,
                    arr_buf *body)
{
    const arr_http *h = opaque;
    (void)req;
    *status = MHD_HTTP_OK;
    *ctype = CT_METRICS;
    if (!h->metrics || arr_metrics_render(h->metrics, body) == ARR_OK)
        return;
    arr_buf_reset(body);
    *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    *ctype = CT_JSON;
    (void)append_json(body, json_pack("{s:s}", "error", "cannot render metrics"));
}

/* ---- routing ---- */

static const route *find_route(const arr_http *h, const char *method, const char *path)
{
    for (const route *r = h->routes; r; r = r->next) {
        if (strcmp(r->method, method) == 0 && strcmp(r->path, path) == 0)
            return r;
    }
    return NULL;
}

/* HEAD is answered by the GET route (MHD drops the body) unless one was registered. */
static const route *match_route(const arr_http *h, const char *method, const char *path)
{
    const route *r = find_route(h, method, path);
    if (!r && strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
        r = find_route(h, MHD_HTTP_METHOD_GET, path);
    return r;
}

/* Fills allow with the methods path answers to; returns 0 when the path is unknown. */
static int allowed_methods(const arr_http *h, const char *path, char *allow, size_t len)
{
    size_t used = 0;
    allow[0] = '\0';
    for (const route *r = h->routes; r; r = r->next) {
        if (strcmp(r->path, path) != 0)
            continue;
        int n = snprintf(allow + used, len - used, "%s%s", used ? ", " : "", r->method);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return used > 0;
}

/* ---- request life cycle ---- */

/* Returns the declared body length, 0 when none is declared (e.g. chunked). */
static unsigned long long declared_length(struct MHD_Connection *conn)
{
    const char *v =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v)
        return 0;
    unsigned long long n = 0;
    for (; *v >= '0' && *v <= '9'; v++) {
        if (n > (~0ULL - 9) / 10)
            return ~0ULL;
        n = n * 10 + (unsigned long long)(*v - '0');
    }
    return n;
}

/* Refusals that need no body are sent before it is read, so a client is not made to
 * upload what will be thrown away. */
static enum MHD_Result early_refusal(const arr_http *h, struct MHD_Connection *conn,
                                     const char *url, conn_state *st)
{
    char allow[ALLOW_MAX];
    st->responded = 1;
    if (!st->route && allowed_methods(h, url, allow, sizeof allow))
        return respond_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", allow);
    if (!st->route)
        return respond_error(conn, MHD_HTTP_NOT_FOUND, "not found", NULL);
    return respond_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large", NULL);
}

static enum MHD_Result begin_request(arr_http *h, struct MHD_Connection *conn, const char *url,
                                     const char *method, void **con_cls)
{
    conn_state *st = calloc(1, sizeof *st);
    if (!st)
        return MHD_NO;
    arr_buf_init(&st->body, h->max_body);
    *con_cls = st;
    st->route = match_route(h, method, url);
    if (!st->route || declared_length(conn) > h->max_body)
        return early_refusal(h, conn, url, st);
    return MHD_YES;
}

static void take_body(conn_state *st, const char *data, size_t len)
{
    if (st->responded || st->body_err != ARR_OK)
        return;
    st->body_err = arr_buf_append(&st->body, data, len);
    /* Past the cap the body is useless; release it now rather than at completion. */
    if (st->body_err != ARR_OK)
        arr_buf_free(&st->body);
}

static enum MHD_Result run_route(struct MHD_Connection *conn, conn_state *st, const char *url,
                                 const char *method)
{
    arr_http_request req = {
        .method = method,
        .path = url,
        .authorization =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .content_type =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = st->body.data ? st->body.data : "",
        .body_len = st->body.len,
        .conn = conn,
    };
    int status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    const char *ctype = NULL;
    arr_buf out;
    arr_buf_init(&out, RESPONSE_MAX);
    st->route->fn(st->route->opaque, &req, &status, &ctype, &out);
    enum MHD_Result ok;
    if (status < 100 || status > 599)
        ok = respond_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "invalid handler status", NULL);
    else
        ok = respond(conn, status, ctype ? ctype : CT_DEFAULT, &out, NULL);
    arr_buf_free(&out);
    return ok;
}

static enum MHD_Result finish_request(struct MHD_Connection *conn, conn_state *st, const char *url,
                                      const char *method)
{
    if (st->responded)
        return MHD_YES;
    st->responded = 1;
    if (st->body_err == ARR_ELIMIT)
        return respond_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large", NULL);
    if (st->body_err != ARR_OK)
        return respond_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory", NULL);
    return run_route(conn, st, url, method);
}

/* MHD calls this once when the headers are in, once per body chunk, and once more with
 * no data when the request is complete: only then may a normal response be queued. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    conn_state *st = *con_cls;
    if (!st)
        return begin_request(cls, conn, url, method, con_cls);
    if (*upload_data_size) {
        take_body(st, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return finish_request(conn, st, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    conn_state *st = *con_cls;
    if (!st)
        return;
    arr_buf_free(&st->body);
    free(st);
    *con_cls = NULL;
}

/* ---- public API ---- */

static void free_routes(route *r)
{
    while (r) {
        route *next = r->next;
        free(r->method);
        free(r->path);
        free(r);
        r = next;
    }
}

void arr_http_free(arr_http *h)
{
    if (!h)
        return;
    /* Stops the thread and runs the completed callback for requests still open. */
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    free_routes(h->routes);
    free(h->bind_addr);
    free(h);
}

arr_err arr_http_route(arr_http *h, const char *method, const char *path, arr_http_handler_fn fn,
                       void *opaque)
{
    if (!h || h->daemon || !method || !method[0] || !path || path[0] != '/' || !fn)
        return ARR_EINVAL;
    if (find_route(h, method, path))
        return ARR_EINVAL;
    route *r = calloc(1, sizeof *r);
    if (!r)
        return ARR_ENOMEM;
    r->method = dup_str(method);
    r->path = dup_str(path);
    if (!r->method || !r->path) {
        free_routes(r);
        return ARR_ENOMEM;
    }
    r->fn = fn;
    r->opaque = opaque;
    route **link = &h->routes;
    while (*link)
        link = &(*link)->next;
    *link = r;
    return ARR_OK;
}

static arr_err add_builtin_routes(arr_http *h)
{
    arr_err e = arr_http_route(h, MHD_HTTP_METHOD_GET, "/healthz", healthz, h);
    if (e == ARR_OK)
        e = arr_http_route(h, MHD_HTTP_METHOD_GET, "/readyz", readyz, h);
    if (e == ARR_OK)
        e = arr_http_route(h, MHD_HTTP_METHOD_GET, "/metrics", metrics, h);
    return e;
}

arr_err arr_http_new(const arr_http_opts *opts, arr_http **out)
{
    if (!out)
        return ARR_EINVAL;
    const arr_http_opts none = {0};
    if (!opts)
        opts = &none;
    arr_http *h = calloc(1, sizeof *h);
    if (!h)
        return ARR_ENOMEM;
    h->bind_addr = dup_str(opts->bind_addr ? opts->bind_addr : DEFAULT_BIND);
    h->port = opts->port;
    h->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
    h->ready = opts->ready;
    h->ready_opaque = opts->ready_opaque;
    h->metrics = opts->metrics;
    arr_err e = h->bind_addr ? add_builtin_routes(h) : ARR_ENOMEM;
    if (e != ARR_OK) {
        arr_http_free(h);
        return e;
    }
    *out = h;
    return ARR_OK;
}

/* Only numeric addresses: resolving a name here would make startup depend on DNS. */
static int parse_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
                      unsigned int *flags)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        return 1;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *flags |= MHD_USE_IPv6;
        return 1;
    }
    return 0;
}

static uint16_t bound_port(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

arr_err arr_http_start(arr_http *h, char *errbuf, size_t errlen)
{
    if (!h || h->daemon) {
        set_err(errbuf, errlen, "server missing or already started");
        return ARR_EINVAL;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    struct sockaddr_storage ss;
    if (!parse_addr(h->bind_addr, h->port, &ss, &flags)) {
        set_err(errbuf, errlen, "bind address %s is not a numeric IP address", h->bind_addr);
        return ARR_ECONFIG;
    }
    errno = 0;
    h->daemon = MHD_start_daemon(flags, h->port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                                 h, MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, MHD_OPTION_END);
    if (!h->daemon) {
        set_err(errbuf, errlen, "cannot listen on %s port %u: %s", h->bind_addr, (unsigned)h->port,
                errno ? strerror(errno) : "see the log");
        return ARR_EHTTP;
    }
    uint16_t port = bound_port(h->daemon);
    if (!port) {
        MHD_stop_daemon(h->daemon);
        h->daemon = NULL;
        set_err(errbuf, errlen, "listening on %s but the bound port is unknown", h->bind_addr);
        return ARR_EHTTP;
    }
    h->port = port;
    return ARR_OK;
}

uint16_t arr_http_port(const arr_http *h)
{
    return h && h->daemon ? h->port : 0;
}

const char *arr_http_header(const arr_http_request *req, const char *name)
{
    return req->conn ? MHD_lookup_connection_value((struct MHD_Connection *)req->conn,
                                                   MHD_HEADER_KIND, name)
                     : NULL;
}
