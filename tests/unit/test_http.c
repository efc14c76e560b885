#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "arrears/http.h"

/* ---- a tiny blocking HTTP client ---- */

typedef struct reply {
    int status;
    char raw[65536];
    size_t len;
    const char *body; /* points into raw */
    size_t body_len;
} reply;

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
    /* A server that never answers must fail the test, not hang it. */
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect: %s", strerror(errno));
    return fd;
}

static void send_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        /* The server may answer (and close) before taking a body it refuses. */
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
            return;
        cr_assert_gt(n, 0, "send: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
}

static void parse_reply(reply *r)
{
    r->raw[r->len] = '\0';
    cr_assert_eq(sscanf(r->raw, "HTTP/1.%*d %d", &r->status), 1, "no status line in: %s", r->raw);
    const char *end = strstr(r->raw, "\r\n\r\n");
    cr_assert_not_null(end, "no end of headers in: %s", r->raw);
    r->body = end + 4;
    r->body_len = r->len - (size_t)(r->body - r->raw);
}

/* Sends req as is and reads until the server closes the connection. */
static void http_raw(uint16_t port, const char *req, size_t req_len, reply *r)
{
    int fd = connect_to(port);
    send_all(fd, req, req_len);
    r->len = 0;
    for (;;) {
        ssize_t n = recv(fd, r->raw + r->len, sizeof r->raw - 1 - r->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        /* A reset after the answer arrived still leaves the answer readable. */
        if (n == 0 || (n < 0 && errno == ECONNRESET && r->len > 0))
            break;
        cr_assert_gt(n, 0, "recv: %s", strerror(errno));
        r->len += (size_t)n;
        cr_assert_lt(r->len, sizeof r->raw - 1, "reply too large");
    }
    close(fd);
    parse_reply(r);
}

static void http(uint16_t port, const char *method, const char *path, const char *headers,
                 const char *body, size_t body_len, reply *r)
{
    char req[16384];
    int n =
        snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s",
                 method, path, headers ? headers : "");
    cr_assert(n > 0 && (size_t)n < sizeof req);
    size_t len = (size_t)n;
    if (body) {
        n = snprintf(req + len, sizeof req - len, "Content-Length: %zu\r\n", body_len);
        len += (size_t)n;
    }
    cr_assert_lt(len + 2 + body_len, sizeof req);
    memcpy(req + len, "\r\n", 2);
    len += 2;
    if (body) {
        memcpy(req + len, body, body_len);
        len += body_len;
    }
    http_raw(port, req, len, r);
}

static void get(uint16_t port, const char *path, reply *r)
{
    http(port, "GET", path, NULL, NULL, 0, r);
}

/* Copies the value of header name (case-insensitive) into out; 0 when absent. */
static int header(const reply *r, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    for (const char *p = strstr(r->raw, "\r\n"); p && p + 2 < r->body; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
            continue;
        const char *v = line + nlen + 1;
        while (*v == ' ')
            v++;
        size_t vlen = (size_t)(strstr(v, "\r\n") - v);
        snprintf(out, outlen, "%.*s", (int)vlen, v);
        return 1;
    }
    return 0;
}

static void expect_body(const reply *r, const char *want)
{
    cr_expect_eq(r->body_len, strlen(want), "body length %zu: %s", r->body_len, r->body);
    cr_expect_str_eq(r->body, want);
}

static void expect_header(const reply *r, const char *name, const char *want)
{
    char v[256];
    cr_assert(header(r, name, v, sizeof v), "no %s header in: %s", name, r->raw);
    cr_expect_str_eq(v, want);
}

/* ---- server helpers ---- */

static arr_http *start(arr_http_opts opts)
{
    arr_http *h = NULL;
    if (!opts.bind_addr)
        opts.bind_addr = "127.0.0.1";
    cr_assert_eq(arr_http_new(&opts, &h), ARR_OK);
    return h;
}

static uint16_t run(arr_http *h)
{
    char err[256] = "";
    cr_assert_eq(arr_http_start(h, err, sizeof err), ARR_OK, "start: %s", err);
    uint16_t port = arr_http_port(h);
    cr_assert_neq(port, 0);
    return port;
}

typedef struct capture {
    pthread_mutex_t mu;
    int calls;
    char method[16];
    char path[64];
    char auth[128];
    char ctype[64];
    char body[4096];
    size_t body_len;
    int nul_terminated;
} capture;

static void copy_or_null(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "(null)");
}

static void ingest(void *opaque, const arr_http_request *req, int *status, const char **ctype,
                   arr_buf *body)
{
    capture *c = opaque;
    pthread_mutex_lock(&c->mu);
    c->calls++;
    copy_or_null(c->method, sizeof c->method, req->method);
    copy_or_null(c->path, sizeof c->path, req->path);
    copy_or_null(c->auth, sizeof c->auth, req->authorization);
    copy_or_null(c->ctype, sizeof c->ctype, req->content_type);
    c->body_len = req->body_len;
    if (req->body_len < sizeof c->body)
        memcpy(c->body, req->body, req->body_len);
    c->nul_terminated = req->body[req->body_len] == '\0';
    pthread_mutex_unlock(&c->mu);
    *status = 201;
    *ctype = "application/json";
    arr_buf_appendf(body, "{\"accepted\":%zu}", req->body_len);
}

static capture *new_capture(void)
{
    capture *c = calloc(1, sizeof *c);
    cr_assert_not_null(c);
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static int calls(capture *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->calls;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* ---- built-in routes ---- */

Test(http, healthz_answers_ok)
{
    arr_http *h = start((arr_http_opts){0});
    uint16_t port = run(h);
    reply r;
    get(port, "/healthz", &r);
    cr_expect_eq(r.status, 200);
    expect_body(&r, "ok\n");
    get(port, "/healthz?probe=1", &r);
    cr_expect_eq(r.status, 200, "the query string is not part of the path");
    arr_http_free(h);
}

Test(http, head_is_answered_by_get_route_without_body)
{
    arr_http *h = start((arr_http_opts){0});
    uint16_t port = run(h);
    reply r;
    http(port, "HEAD", "/healthz", NULL, NULL, 0, &r);
    cr_expect_eq(r.status, 200);
    cr_expect_eq(r.body_len, 0);
    arr_http_free(h);
}

Test(http, readyz_without_callback_is_ready)
{
    arr_http *h = start((arr_http_opts){0});
    uint16_t port = run(h);
    reply r;
    get(port, "/readyz", &r);
    cr_expect_eq(r.status, 200);
    expect_header(&r, "Content-Type", "application/json");
    expect_body(&r, "{\"ready\":true}");
    arr_http_free(h);
}

typedef struct readiness {
    int ready;
    const char *why;
} readiness;

static int ready_cb(void *opaque, char *why, size_t whylen)
{
    const readiness *rd = opaque;
    if (!rd->ready)
        snprintf(why, whylen, "%s", rd->why);
    return rd->ready;
}

Test(http, readyz_follows_the_callback)
{
    readiness rd = {.ready = 1, .why = ""};
    arr_http *h = start((arr_http_opts){.ready = ready_cb, .ready_opaque = &rd});
    uint16_t port = run(h);
    reply r;
    get(port, "/readyz", &r);
    cr_expect_eq(r.status, 200);
    expect_body(&r, "{\"ready\":true}");
    arr_http_free(h);
}

Test(http, readyz_not_ready_gives_503_with_escaped_why)
{
    readiness rd = {.ready = 0, .why = "kafka: timeout \"broker\\1\"\n"};
    arr_http *h = start((arr_http_opts){.ready = ready_cb, .ready_opaque = &rd});
    uint16_t port = run(h);
    reply r;
    get(port, "/readyz", &r);
    cr_expect_eq(r.status, 503);
    expect_header(&r, "Content-Type", "application/json");
    expect_body(&r, "{\"ready\":false,\"why\":\"kafka: timeout \\\"broker\\\\1\\\"\\n\"}");
    arr_http_free(h);
}

Test(http, readyz_survives_invalid_utf8_and_empty_why)
{
    readiness rd = {.ready = 0, .why = "pg: \xff\xfe down"};
    arr_http *h = start((arr_http_opts){.ready = ready_cb, .ready_opaque = &rd});
    uint16_t port = run(h);
    reply r;
    get(port, "/readyz", &r);
    cr_expect_eq(r.status, 503);
    expect_body(&r, "{\"ready\":false,\"why\":\"pg: ?? down\"}");
    rd.why = "";
    get(port, "/readyz", &r);
    cr_expect_eq(r.status, 503);
    expect_body(&r, "{\"ready\":false,\"why\":\"not ready\"}");
    arr_http_free(h);
}

Test(http, metrics_renders_the_registry)
{
    arr_metrics *m = NULL;
    arr_metric *c = NULL;
    cr_assert_eq(arr_metrics_new(&m), ARR_OK);
    cr_assert_eq(arr_metrics_register(m, ARR_METRIC_COUNTER, "arr_ingested_total", "Rows in.",
                                      "topic=\"arrears.accounts\"", &c),
                 ARR_OK);
    arr_metric_add(c, 3);
    arr_http *h = start((arr_http_opts){.metrics = m});
    uint16_t port = run(h);
    reply r;
    get(port, "/metrics", &r);
    cr_expect_eq(r.status, 200);
    expect_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    cr_expect_not_null(strstr(r.body, "# TYPE arr_ingested_total counter\n"), "%s", r.body);
    cr_expect_not_null(strstr(r.body, "\narr_ingested_total{topic=\"arrears.accounts\"} 3\n"), "%s",
                       r.body);
    arr_metric_add(c, 2);
    get(port, "/metrics", &r);
    cr_expect_not_null(strstr(r.body, "} 5\n"), "a scrape shows the current value: %s", r.body);
    arr_http_free(h);
    arr_metrics_free(m);
}

Test(http, metrics_without_registry_is_empty)
{
    arr_http *h = start((arr_http_opts){0});
    uint16_t port = run(h);
    reply r;
    get(port, "/metrics", &r);
    cr_expect_eq(r.status, 200);
    expect_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    cr_expect_eq(r.body_len, 0);
    arr_http_free(h);
}

/* ---- custom routes and bodies ---- */

Test(http, post_route_gets_body_and_authorization)
{
    capture *c = new_capture();
    arr_http *h = start((arr_http_opts){0});
    cr_assert_eq(arr_http_route(h, "POST", "/v1/batch", ingest, c), ARR_OK);
    uint16_t port = run(h);
    const char *body = "{\"rows\":[1,2,3]}";
    reply r;
    http(port, "POST", "/v1/batch",
         "Authorization: Bearer s3cret\r\nContent-Type: application/json\r\n", body, strlen(body),
         &r);
    cr_expect_eq(r.status, 201);
    expect_header(&r, "Content-Type", "application/json");
    expect_body(&r, "{\"accepted\":16}");
    cr_assert_eq(calls(c), 1);
    cr_expect_str_eq(c->method, "POST");
    cr_expect_str_eq(c->path, "/v1/batch");
    cr_expect_str_eq(c->auth, "Bearer s3cret");
    cr_expect_str_eq(c->ctype, "application/json");
    cr_expect_eq(c->body_len, strlen(body));
    cr_expect_eq(memcmp(c->body, body, strlen(body)), 0);
    cr_expect(c->nul_terminated);
    arr_http_free(h);
    free(c);
}

Test(http, missing_authorization_is_null_and_empty_body_is_empty_string)
{
    capture *c = new_capture();
    arr_http *h = start((arr_http_opts){0});
    cr_assert_eq(arr_http_route(h, "POST", "/v1/batch", ingest, c), ARR_OK);
    uint16_t port = run(h);
    reply r;
    http(port, "POST", "/v1/batch", NULL, "", 0, &r);
    cr_expect_eq(r.status, 201);
    cr_assert_eq(calls(c), 1);
    cr_expect_str_eq(c->auth, "(null)");
    cr_expect_eq(c->body_len, 0);
    cr_expect(c->nul_terminated);
    arr_http_free(h);
    free(c);
}

Test(http, body_at_the_cap_is_accepted)
{
    capture *c = new_capture();
    arr_http *h = start((arr_http_opts){.max_body = 16});
    cr_assert_eq(arr_http_route(h, "POST", "/in", ingest, c), ARR_OK);
    uint16_t port = run(h);
    reply r;
    http(port, "POST", "/in", NULL, "0123456789abcdef", 16, &r);
    cr_expect_eq(r.status, 201);
    cr_expect_eq(calls(c), 1);
    cr_expect_eq(c->body_len, 16);
    arr_http_free(h);
    free(c);
}

Test(http, body_over_the_cap_gets_413)
{
    capture *c = new_capture();
    arr_http *h = start((arr_http_opts){.max_body = 16});
    cr_assert_eq(arr_http_route(h, "POST", "/in", ingest, c), ARR_OK);
    uint16_t port = run(h);
    reply r;
    http(port, "POST", "/in", NULL, "0123456789abcdefg", 17, &r);
    cr_expect_eq(r.status, 413);
    expect_header(&r, "Content-Type", "application/json");
    expect_body(&r, "{\"error\":\"request body too large\"}");
    cr_expect_eq(calls(c), 0, "the handler must not see a refused body");
    arr_http_free(h);
    free(c);
}

Test(http, declared_huge_body_is_refused_before_upload)
{
    capture *c = new_capture();
    arr_http *h = start((arr_http_opts){0});
    cr_assert_eq(arr_http_route(h, "POST", "/in", ingest, c), ARR_OK);
    uint16_t port = run(h);
    /* Only the headers are sent: an answer proves the server did not wait for the body. */
    const char *req = "POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000000\r\n\r\n";
    reply r;
    http_raw(port, req, strlen(req), &r);
    cr_expect_eq(r.status, 413);
    cr_expect_eq(calls(c), 0);
    arr_http_free(h);
    free(c);
}

Test(http, chunked_body_over_the_cap_gets_413)
{
    capture *c = new_capture();
    arr_http *h = start((arr_http_opts){.max_body = 16});
    cr_assert_eq(arr_http_route(h, "POST", "/in", ingest, c), ARR_OK);
    uint16_t port = run(h);
    const char *req = "POST /in HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "c\r\n0123456789ab\r\nc\r\ncdefghijklmn\r\n0\r\n\r\n";
    reply r;
    http_raw(port, req, strlen(req), &r);
    cr_expect_eq(r.status, 413);
    cr_expect_eq(calls(c), 0);
    arr_http_free(h);
    free(c);
}

Test(http, chunked_body_under_the_cap_is_whole)
{
    capture *c = new_capture();
    arr_http *h = start((arr_http_opts){.max_body = 16});
    cr_assert_eq(arr_http_route(h, "POST", "/in", ingest, c), ARR_OK);
    uint16_t port = run(h);
    const char *req = "POST /in HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    reply r;
    http_raw(port, req, strlen(req), &r);
    cr_expect_eq(r.status, 201);
    cr_assert_eq(calls(c), 1);
    cr_expect_eq(c->body_len, 11);
    cr_expect_eq(memcmp(c->body, "hello world", 11), 0);
    arr_http_free(h);
    free(c);
}

/* ---- routing errors ---- */

Test(http, unknown_path_gets_404)
{
    arr_http *h = start((arr_http_opts){0});
    uint16_t port = run(h);
    reply r;
    get(port, "/nope", &r);
    cr_expect_eq(r.status, 404);
    expect_header(&r, "Content-Type", "application/json");
    expect_body(&r, "{\"error\":\"not found\"}");
    get(port, "/healthz/", &r);
    cr_expect_eq(r.status, 404, "paths match exactly");
    arr_http_free(h);
}

Test(http, wrong_method_gets_405_with_allow)
{
    capture *c = new_capture();
    arr_http *h = start((arr_http_opts){0});
    cr_assert_eq(arr_http_route(h, "POST", "/v1/batch", ingest, c), ARR_OK);
    cr_assert_eq(arr_http_route(h, "PUT", "/v1/batch", ingest, c), ARR_OK);
    uint16_t port = run(h);
    reply r;
    get(port, "/v1/batch", &r);
    cr_expect_eq(r.status, 405);
    expect_header(&r, "Allow", "POST, PUT");
    expect_body(&r, "{\"error\":\"method not allowed\"}");
    http(port, "POST", "/healthz", NULL, "x", 1, &r);
    cr_expect_eq(r.status, 405);
    expect_header(&r, "Allow", "GET");
    cr_expect_eq(calls(c), 0);
    arr_http_free(h);
    free(c);
}

static void bad_status(void *opaque, const arr_http_request *req, int *status, const char **ctype,
                       arr_buf *body)
{
    (void)opaque;
    (void)req;
    (void)ctype;
    *status = 42;
    arr_buf_append(body, "partial", 7);
}

static void no_ctype(void *opaque, const arr_http_request *req, int *status, const char **ctype,
                     arr_buf *body)
{
    (void)opaque;
    (void)req;
    (void)ctype;
    *status = 202;
    arr_buf_append(body, "raw", 3);
}

Test(http, handler_status_and_content_type_are_checked)
{
    arr_http *h = start((arr_http_opts){0});
    cr_assert_eq(arr_http_route(h, "GET", "/broken", bad_status, NULL), ARR_OK);
    cr_assert_eq(arr_http_route(h, "GET", "/raw", no_ctype, NULL), ARR_OK);
    cr_expect_eq(arr_http_route(h, "GET", "/null", NULL, NULL), ARR_EINVAL);
    uint16_t port = run(h);
    reply r;
    get(port, "/broken", &r);
    cr_expect_eq(r.status, 500);
    expect_body(&r, "{\"error\":\"invalid handler status\"}");
    get(port, "/raw", &r);
    cr_expect_eq(r.status, 202);
    expect_header(&r, "Content-Type", "application/octet-stream");
    expect_body(&r, "raw");
    arr_http_free(h);
}

/* ---- life cycle ---- */

Test(http, routes_are_checked_and_fixed_at_start)
{
    capture *c = new_capture();
    arr_http *h = start((arr_http_opts){0});
    cr_expect_eq(arr_http_route(h, "GET", "/healthz", ingest, c), ARR_EINVAL,
                 "built-in routes cannot be replaced");
    cr_expect_eq(arr_http_route(h, "POST", "/a", ingest, c), ARR_OK);
    cr_expect_eq(arr_http_route(h, "POST", "/a", ingest, c), ARR_EINVAL);
    cr_expect_eq(arr_http_route(h, "POST", "relative", ingest, c), ARR_EINVAL);
    cr_expect_eq(arr_http_route(h, "", "/b", ingest, c), ARR_EINVAL);
    cr_expect_eq(arr_http_port(h), 0, "no port before start");
    run(h);
    cr_expect_eq(arr_http_route(h, "POST", "/late", ingest, c), ARR_EINVAL);
    char err[128];
    cr_expect_eq(arr_http_start(h, err, sizeof err), ARR_EINVAL, "started twice");
    arr_http_free(h);
    free(c);
}

Test(http, bad_bind_address_is_a_config_error)
{
    arr_http *h = start((arr_http_opts){.bind_addr = "not-an-address"});
    char err[128] = "";
    cr_expect_eq(arr_http_start(h, err, sizeof err), ARR_ECONFIG);
    cr_expect_neq(err[0], '\0');
    arr_http_free(h);
}

Test(http, busy_port_fails_to_start)
{
    arr_http *a = start((arr_http_opts){0});
    uint16_t port = run(a);
    arr_http *b = start((arr_http_opts){.port = port});
    char err[256] = "";
    cr_expect_eq(arr_http_start(b, err, sizeof err), ARR_EHTTP);
    cr_expect_neq(err[0], '\0');
    arr_http_free(b);
    arr_http_free(a);
}

Test(http, free_accepts_null_and_unstarted_servers)
{
    arr_http_free(NULL);
    arr_http *h = start((arr_http_opts){0});
    arr_http_free(h);
    h = NULL;
    cr_expect_eq(arr_http_new(NULL, &h), ARR_OK, "NULL options mean defaults");
    arr_http_free(h);
}
