/* Integration tests of services/outreach/channel.c against real local servers that each test
 * starts and stops itself (no Kafka, PostgreSQL or Redis needed):
 *   - an SMTP server, Debian's python3-aiosmtpd (script SMTP_PY below), offering STARTTLS with
 *     a throw-away certificate made by the openssl command and AUTH (not required); every
 *     message it receives is written raw (msg-<n>.eml) and parsed by Python's email package
 *     (msg-<n>.json) before it answers 250, so the checks read an independent decoding;
 *   - a Twilio-shaped SMS and voice provider stub, python3 http.server (script HTTP_PY), which
 *     records each request (req-<n>.json) before it answers as the To number asks.
 * Servers bind port 0 and print "PORT <n>"; the test reads it from a pipe (10 s deadline),
 * which is also the readiness check: the socket listens before the line is printed. fini
 * stops them (SIGTERM, then SIGKILL) also when an assertion failed; should the test process
 * die, PR_SET_PDEATHSIG and the scripts' own parent watchdog end them.
 * Timeouts and refusals use sockets of the test itself: a bound socket that does not listen
 * (connection refused) and one that listens but never answers (timeout).
 * Python: $ARR_PYTHON, else /usr/bin/python3 (Debian's, which sees python3-aiosmtpd). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "template.h"

#define SHIPPED ARR_SOURCE_DIR "/deploy/outreach/templates/default-1.json"
#define READY_MS 10000
#define FROM "collections@arrears.example"
#define DATE_MS 1772719380000LL /* Thu, 05 Mar 2026 14:03:00 +0000 */

/* The SMTP receiver (python3-aiosmtpd). */
static const char SMTP_PY[] =
    "# SMTP receiver for the outreach channel tests (aiosmtpd, Debian python3-aiosmtpd).\n"
    "# argv: outdir mode(plain|tls) [cert key]. Prints \"PORT <n>\" once listening.\n"
    "# Each message is written as msg-<n>.eml (raw) and msg-<n>.json (parsed by the\n"
    "# email package) before the 250 reply. RCPT to nobody@ -> 550 5.1.1,\n"
    "# busy@ -> 451 4.3.0, relay@ -> 554 5.7.1. AUTH (not required): arrears/s3cret.\n"
    "# Exits when its parent dies or after 10 minutes.\n"
    "import asyncio, email, email.policy, email.utils, json, os, ssl, sys, threading, time\n"
    "from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword\n"
    "\n"
    "outdir, mode = sys.argv[1], sys.argv[2]\n"
    "parent = os.getppid()\n"
    "count = 0\n"
    "\n"
    "\n"
    "def watchdog():\n"
    "    start = time.monotonic()\n"
    "    while os.getppid() == parent and time.monotonic() - start < 600:\n"
    "        time.sleep(0.5)\n"
    "    os._exit(0)\n"
    "\n"
    "\n"
    "def auth(server, session, envelope, mechanism, data):\n"
    "    ok = (isinstance(data, LoginPassword) and data.login == b'arrears'\n"
    "          and data.password == b's3cret')\n"
    "    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)\n"
    "\n"
    "\n"
    "def summary(raw, envelope, session):\n"
    "    m = email.message_from_bytes(raw, policy=email.policy.default)\n"
    "    parts = []\n"
    "    defects = [str(d) for d in m.defects]\n"
    "    for p in m.walk():\n"
    "        defects += [str(d) for d in p.defects]\n"
    "        if p.is_multipart():\n"
    "            continue\n"
    "        parts.append({'type': p.get_content_type(),\n"
    "                      'charset': p.get_content_charset(),\n"
    "                      'cte': p.get('content-transfer-encoding'),\n"
    "                      'content': p.get_content().replace('\\r\\n', '\\n')})\n"
    "    lines = raw.split(b'\\r\\n')\n"
    "    date = m.get('date')\n"
    "    login = None\n"
    "    if isinstance(getattr(session, 'auth_data', None), LoginPassword):\n"
    "        login = session.auth_data.login.decode()\n"
    "    return {\n"
    "        'mail_from': envelope.mail_from,\n"
    "        'rcpt_tos': envelope.rcpt_tos,\n"
    "        'from': str(m.get('from')),\n"
    "        'to': str(m.get('to')),\n"
    "        'subject': str(m.get('subject')),\n"
    "        'message_id': m.get('message-id'),\n"
    "        'list_unsubscribe': m.get('list-unsubscribe'),\n"
    "        'list_unsubscribe_post': m.get('list-unsubscribe-post'),\n"
    "        'reply_to': m.get('reply-to'),\n"
    "        'content_language': m.get('content-language'),\n"
    "        'mime_version': m.get('mime-version'),\n"
    "        'date_epoch': (email.utils.parsedate_to_datetime(date).timestamp()\n"
    "                       if date else None),\n"
    "        'content_type': m.get_content_type(),\n"
    "        'parts': parts,\n"
    "        'defects': defects,\n"
    "        'raw_headers': raw.split(b'\\r\\n\\r\\n', 1)[0].decode('ascii', 'replace'),\n"
    "        'eight_bit': any(b > 127 for b in raw),\n"
    "        'bare_lf': b'\\n' in raw.replace(b'\\r\\n', b''),\n"
    "        'max_line': max(len(l) for l in lines),\n"
    "        'tls': session.ssl is not None,\n"
    "        'login': login,\n"
    "        'peer_port': session.peer[1],\n"
    "    }\n"
    "\n"
    "\n"
    "class Handler:\n"
    "    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):\n"
    "        local = address.split('@')[0]\n"
    "        if local == 'nobody':\n"
    "            return ('550 5.1.1 <%s>: Recipient address rejected: User unknown'\n"
    "                    % address)\n"
    "        if local == 'busy':\n"
    "            return '451 4.3.0 <%s>: try again later' % address\n"
    "        if local == 'relay':\n"
    "            return '554 5.7.1 <%s>: Relay access denied' % address\n"
    "        envelope.rcpt_tos.append(address)\n"
    "        return '250 OK'\n"
    "\n"
    "    async def handle_DATA(self, server, session, envelope):\n"
    "        global count\n"
    "        count += 1\n"
    "        raw = envelope.original_content\n"
    "        base = os.path.join(outdir, 'msg-%d' % count)\n"
    "        with open(base + '.eml.tmp', 'wb') as f:\n"
    "            f.write(raw)\n"
    "        os.rename(base + '.eml.tmp', base + '.eml')\n"
    "        with open(base + '.json.tmp', 'w') as f:\n"
    "            json.dump(summary(raw, envelope, session), f)\n"
    "        os.rename(base + '.json.tmp', base + '.json')\n"
    "        return '250 2.0.0 Ok: queued as Q%d' % count\n"
    "\n"
    "\n"
    "async def main():\n"
    "    ctx = None\n"
    "    if mode == 'tls':\n"
    "        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)\n"
    "        ctx.load_cert_chain(sys.argv[3], sys.argv[4])\n"
    "    loop = asyncio.get_running_loop()\n"
    "    handler = Handler()\n"
    "    srv = await loop.create_server(\n"
    "        lambda: SMTP(handler, hostname='stub.test', tls_context=ctx,\n"
    "                     require_starttls=False, authenticator=auth,\n"
    "                     auth_required=False, auth_require_tls=False),\n"
    "        '127.0.0.1', 0)\n"
    "    print('PORT %d' % srv.sockets[0].getsockname()[1], flush=True)\n"
    "    await asyncio.Event().wait()\n"
    "\n"
    "\n"
    "threading.Thread(target=watchdog, daemon=True).start()\n"
    "asyncio.run(main())\n";

/* The SMS and voice provider stub (python3 http.server). */
static const char HTTP_PY[] =
    "# HTTP stand-in for a Twilio-shaped SMS and voice provider (outreach channel tests).\n"
    "# argv: outdir user token. Prints \"PORT <n>\" once listening. Each request is\n"
    "# written to req-<n>.json before the answer, which depends on the form's To:\n"
    "#   +15005550006 201 {\"sid\": \"SM..\"/\"CA..\", \"status\": \"queued\"}; same key, same\n"
    "#   +15005550429 429 Retry-After: 7\n"
    "#   +15005550430 503 Retry-After: <HTTP-date 120 s ahead>\n"
    "#   +15005550001 400 code 21211   +15005550610 400 code 21610 (opted out)\n"
    "#   +15005550422 400 code 21602   +15005550998 400 code \"invalid_number\"\n"
    "#   +15005550500 500 text         +15005550777 201 with a 1 MiB body\n"
    "# Wrong basic credentials: 401. Exits when its parent dies or after 10 minutes.\n"
    "import base64, email.utils, json, os, sys, threading, time, urllib.parse, uuid\n"
    "from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer\n"
    "\n"
    "outdir, user, token = sys.argv[1], sys.argv[2], sys.argv[3]\n"
    "parent = os.getppid()\n"
    "lock = threading.Lock()\n"
    "state = {'n': 0, 'seen': {}}\n"
    "\n"
    "\n"
    "def watchdog():\n"
    "    start = time.monotonic()\n"
    "    while os.getppid() == parent and time.monotonic() - start < 600:\n"
    "        time.sleep(0.5)\n"
    "    os._exit(0)\n"
    "\n"
    "\n"
    "class H(BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "\n"
    "    def log_message(self, *args):\n"
    "        pass\n"
    "\n"
    "    def answer(self, status, body, headers=(), keep=False):\n"
    "        data = body if isinstance(body, bytes) else json.dumps(body).encode()\n"
    "        self.send_response(status)\n"
    "        self.send_header('Content-Type', 'application/json')\n"
    "        self.send_header('Content-Length', str(len(data)))\n"
    "        if not keep:  # only an accepted message keeps the connection open\n"
    "            self.send_header('Connection', 'close')\n"
    "        for k, v in headers:\n"
    "            self.send_header(k, v)\n"
    "        self.end_headers()\n"
    "        self.wfile.write(data)\n"
    "\n"
    "    def do_POST(self):\n"
    "        n = int(self.headers.get('Content-Length') or 0)\n"
    "        body = self.rfile.read(n)\n"
    "        form = urllib.parse.parse_qs(body.decode('ascii'), keep_blank_values=True,\n"
    "                                     strict_parsing=True, errors='strict')\n"
    "        auth = self.headers.get('Authorization') or ''\n"
    "        cred = None\n"
    "        if auth.startswith('Basic '):\n"
    "            cred = base64.b64decode(auth[6:]).decode().split(':', 1)\n"
    "        key = (self.headers.get('Idempotency-Key') or\n"
    "               self.headers.get('I-Twilio-Idempotency-Token'))\n"
    "        headers = {k.lower(): v for k, v in self.headers.items()}\n"
    "        with lock:\n"
    "            state['n'] += 1\n"
    "            rec = {'path': self.path, 'headers': headers, 'form': form,\n"
    "                   'body': body.decode('ascii', 'replace'), 'auth': cred,\n"
    "                   'peer_port': self.client_address[1]}\n"
    "            p = os.path.join(outdir, 'req-%d.json' % state['n'])\n"
    "            with open(p + '.tmp', 'w') as f:\n"
    "                json.dump(rec, f)\n"
    "            os.rename(p + '.tmp', p)\n"
    "        if cred != [user, token]:\n"
    "            return self.answer(401, {'code': 20003, 'message': 'Authenticate'})\n"
    "        to = form.get('To', [''])[0]\n"
    "        kind = 'CA' if self.path.endswith('/Calls') else 'SM'\n"
    "        if to == '+15005550006':\n"
    "            with lock:\n"
    "                if key in state['seen']:\n"
    "                    return self.answer(201, state['seen'][key],\n"
    "                                       [('Idempotent-Replayed', 'true')])\n"
    "                doc = {'sid': kind + uuid.uuid4().hex, 'status': 'queued'}\n"
    "                state['seen'][key] = doc\n"
    "            return self.answer(201, doc, keep=True)\n"
    "        if to == '+15005550429':\n"
    "            return self.answer(429, {'code': 20429, 'message': 'Too Many Requests'},\n"
    "                               [('Retry-After', '7')])\n"
    "        if to == '+15005550430':\n"
    "            when = email.utils.formatdate(time.time() + 120, usegmt=True)\n"
    "            return self.answer(503, {'code': 20503, 'message': 'Unavailable'},\n"
    "                               [('Retry-After', when)])\n"
    "        if to == '+15005550001':\n"
    "            msg = \"The 'To' number %s is not a valid phone number.\" % to\n"
    "            return self.answer(400, {'code': 21211, 'message': msg, 'status': 400})\n"
    "        if to == '+15005550610':\n"
    "            msg = 'Attempt to send to unsubscribed recipient'\n"
    "            return self.answer(400, {'code': 21610, 'message': msg})\n"
    "        if to == '+15005550422':\n"
    "            msg = 'Message body is required.'\n"
    "            return self.answer(400, {'code': 21602, 'message': msg})\n"
    "        if to == '+15005550998':\n"
    "            msg = 'invalid number'\n"
    "            return self.answer(400, {'code': 'invalid_number', 'message': msg})\n"
    "        if to == '+15005550500':\n"
    "            return self.answer(500, b'internal error')\n"
    "        if to == '+15005550777':\n"
    "            doc = {'pad': 'x' * (1 << 20), 'sid': kind + 'late', 'status': 'queued'}\n"
    "            return self.answer(201, doc)\n"
    "        return self.answer(404, {'code': 20404, 'message': 'unknown test number'})\n"
    "\n"
    "\n"
    "threading.Thread(target=watchdog, daemon=True).start()\n"
    "srv = ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
    "srv.daemon_threads = True\n"
    "print('PORT %d' % srv.server_address[1], flush=True)\n"
    "srv.serve_forever()\n";

/* ------------------------------------------------------------------ servers */

typedef struct server {
    pid_t pid;
    int port;
    char dir[300]; /* where it writes what it received */
} server;

static char tmpdir[256];
static server smtp_srv, http_srv, plain_srv;
static int socks[4] = {-1, -1, -1, -1};

static const char *python(void)
{
    const char *p = getenv("ARR_PYTHON");
    if (p && *p)
        return p;
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static void path_in(char *out, size_t len, const char *name)
{
    int n = snprintf(out, len, "%s/%s", tmpdir, name);
    cr_assert(n > 0 && (size_t)n < len);
}

static void write_file(const char *name, const char *text)
{
    char p[400];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "cannot write %s", p);
    cr_assert_eq(fputs(text, f) >= 0, 1);
    cr_assert_eq(fclose(f), 0);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t r;
    while (s && (r = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            char *t = realloc(s, cap * 2);
            if (!t) {
                free(s);
                s = NULL;
                break;
            }
            s = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (s)
        s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

/* Starts python script args...; reads "PORT <n>" from its stdout within READY_MS. */
static void start_server(server *s, const char *script, const char *subdir, const char *a1,
                         const char *a2, const char *a3, const char *a4)
{
    char sp[400], errlog[400];
    path_in(sp, sizeof sp, script);
    path_in(s->dir, sizeof s->dir, subdir);
    cr_assert_eq(mkdir(s->dir, 0700), 0, "mkdir %s: %s", s->dir, strerror(errno));
    snprintf(errlog, sizeof errlog, "%s.stderr", s->dir);
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(fd[1], STDOUT_FILENO);
        int e = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (e >= 0)
            dup2(e, STDERR_FILENO);
        close(fd[0]);
        close(fd[1]);
        const char *py = python();
        const char *argv[] = {py, "-u", sp, s->dir, a1, a2, a3, a4, NULL};
        execvp(py, (char *const *)argv);
        _exit(127);
    }
    close(fd[1]);
    s->pid = pid;
    char line[64] = "";
    size_t n = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long waited = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (waited >= READY_MS)
            break;
        struct pollfd p = {fd[0], POLLIN, 0};
        if (poll(&p, 1, (int)(READY_MS - waited)) <= 0)
            continue;
        ssize_t r = read(fd[0], line + n, sizeof line - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        line[n] = '\0';
        if (strchr(line, '\n') || n == sizeof line - 1)
            break;
    }
    close(fd[0]);
    if (sscanf(line, "PORT %d", &s->port) != 1 || s->port <= 0) {
        char *err = read_all(errlog, NULL);
        cr_assert_fail("%s did not start within %d ms (python: %s): %s", script, READY_MS, python(),
                       err ? err : "(no stderr)");
    }
}

static void stop_server(server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGTERM);
    for (int i = 0; i < 250; i++) { /* 5 s */
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            return;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

/* Removes path and, for a directory, everything under it (no symlinks are followed). */
static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[600];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub)
                rm_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/arr-channel-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
    write_file("smtp_server.py", SMTP_PY);
    write_file("http_stub.py", HTTP_PY);
    cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
}

static void teardown(void)
{
    stop_server(&smtp_srv);
    stop_server(&http_srv);
    stop_server(&plain_srv);
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
        if (socks[i] >= 0) {
            close(socks[i]);
            socks[i] = -1;
        }
    curl_global_cleanup();
    if (tmpdir[0])
        rm_tree(tmpdir);
}

/* A local TCP port where nobody answers: listening=0 refuses connections (bound, not
 * listening), listening=1 accepts them into the backlog and never says a word. */
static int dead_port(int listening)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    if (listening)
        cr_assert_eq(listen(s, 8), 0);
    socklen_t l = sizeof a;
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &l), 0);
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
        if (socks[i] < 0) {
            socks[i] = s;
            return ntohs(a.sin_port);
        }
    cr_assert_fail("too many dead ports");
    return 0;
}

/* Files <prefix>-<n>.json written by a server, and the n-th of them parsed. */
static int count_files(const server *s, const char *prefix)
{
    DIR *d = opendir(s->dir);
    cr_assert_not_null(d);
    int n = 0;
    size_t pl = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, pl) == 0 && l > 5 && strcmp(e->d_name + l - 5, ".json") == 0)
            n++;
    }
    closedir(d);
    return n;
}

static json_t *load_record(const server *s, const char *prefix, int n)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s-%d.json", s->dir, prefix, n);
    json_error_t err;
    json_t *j = json_load_file(p, 0, &err);
    cr_assert_not_null(j, "%s: %s", p, err.text);
    return j;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

TestSuite(outreach_channel_email, .init = setup, .fini = teardown, .timeout = 120);
TestSuite(outreach_channel_http, .init = setup, .fini = teardown, .timeout = 120);

/* ------------------------------------------------------------------ email */

static void make_cert(void)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
             "-keyout '%s/key.pem' -out '%s/cert.pem' >'%s/openssl.log' 2>&1",
             tmpdir, tmpdir, tmpdir);
    cr_assert_eq(system(cmd), 0, "openssl req failed: see the openssl package");
}

/* The STARTTLS-capable receiver with AUTH: most email tests use it. */
static void start_smtp(void)
{
    char cert[400], key[400];
    make_cert();
    path_in(cert, sizeof cert, "cert.pem");
    path_in(key, sizeof key, "key.pem");
    start_server(&smtp_srv, "smtp_server.py", "smtp", "tls", cert, key, NULL);
}

static outreach_channel_smtp_cfg smtp_cfg(char *url, size_t urllen, int port)
{
    snprintf(url, urllen, "smtp://127.0.0.1:%d/arrears.example", port);
    outreach_channel_smtp_cfg c = {
        .url = url,
        .from = FROM,
        .from_name = "Acme Collections",
        .connect_timeout_ms = 10000,
        .timeout_ms = 10000,
    };
    return c;
}

static outreach_template_vars vars_for(const char *first_name, const char *creditor)
{
    outreach_template_vars v = {
        .first_name = first_name,
        .balance = {"USD", 123456},
        .due_date = "2026-03-05",
        .payment_link = "https://pay.example.com/p/AB12?x=1&y=2",
        .opt_out_link = "https://pay.example.com/stop?r=AB12&c=e",
        .reference = "AB12-7",
        .creditor = creditor,
        .agent_phone = "+1 555 0100",
    };
    return v;
}

static void render(const char *lang, const outreach_template_vars *v, outreach_rendered *r)
{
    outreach_template_set *set = NULL;
    char why[512] = "";
    cr_assert_eq(outreach_template_set_load(SHIPPED, &set, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(
        outreach_template_render(set, "reminder_email_1", lang, v, 1, 1, r, why, sizeof why),
        ARR_OK, "%s", why);
    outreach_template_set_free(set);
    cr_assert(r->has_html);
}

/* What every delivered email must show, whatever its language. */
static void check_common(json_t *m, const outreach_rendered *r, const char *msgid)
{
    cr_assert_str_eq(jstr(m, "mail_from"), FROM);
    json_t *rcpt = json_object_get(m, "rcpt_tos");
    cr_assert_eq(json_array_size(rcpt), 1);
    cr_assert_str_eq(json_string_value(json_array_get(rcpt, 0)), "ann.lee@example.com");
    cr_assert_str_eq(jstr(m, "from"), "Acme Collections <" FROM ">");
    cr_assert_str_eq(jstr(m, "to"), "ann.lee@example.com");
    cr_assert_str_eq(jstr(m, "subject"), r->subject.data, "subject decoded as '%s'",
                     jstr(m, "subject"));
    cr_assert_str_eq(jstr(m, "message_id"), msgid);
    cr_assert_eq(
        strncmp(jstr(m, "list_unsubscribe"), "<https://pay.example.com/stop?r=AB12&c=e>", 41), 0);
    cr_assert_str_eq(jstr(m, "content_language"), r->lang);
    cr_assert_str_eq(jstr(m, "mime_version"), "1.0");
    cr_assert_eq(json_real_value(json_object_get(m, "date_epoch")), DATE_MS / 1000.0);
    cr_assert_str_eq(jstr(m, "content_type"), "multipart/alternative");
    cr_assert_eq(json_array_size(json_object_get(m, "defects")), 0, "parser defects: %s",
                 json_dumps(json_object_get(m, "defects"), 0));
    cr_assert(json_is_false(json_object_get(m, "eight_bit")), "the message must be 7-bit");
    cr_assert(json_is_false(json_object_get(m, "bare_lf")), "every line must end in CRLF");
    cr_assert_leq(json_integer_value(json_object_get(m, "max_line")), 78);

    json_t *parts = json_object_get(m, "parts");
    cr_assert_eq(json_array_size(parts), 2);
    json_t *text = json_array_get(parts, 0), *html = json_array_get(parts, 1);
    cr_assert_str_eq(jstr(text, "type"), "text/plain");
    cr_assert_str_eq(jstr(html, "type"), "text/html");
    cr_assert_str_eq(jstr(text, "charset"), "utf-8");
    cr_assert_str_eq(jstr(html, "charset"), "utf-8");
    cr_assert_str_eq(jstr(text, "cte"), "quoted-printable");
    /* both parts decode to exactly what the renderer made, UTF-8 intact */
    cr_assert_str_eq(jstr(text, "content"), r->text.data);
    cr_assert_str_eq(jstr(html, "content"), r->html.data);
}

Test(outreach_channel_email, english_email_with_escaped_html)
{
    start_smtp();
    outreach_rendered r = {0};
    outreach_template_vars v = vars_for("Ann <b>\"Bo\"</b> & Co", "Acme & Sons");
    render("en", &v, &r);

    char url[128];
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    outreach_email msg;
    cr_assert_eq(outreach_channel_email_from_rendered(&r, &msg), ARR_OK);
    msg.to = "ann.lee@example.com";
    msg.opt_out_link = v.opt_out_link;
    msg.date_ms = DATE_MS;
    outreach_channel_result res;
    arr_err e = outreach_channel_email_send(&cfg, &msg, "step-1001.a1", &res);
    cr_assert_eq(e, ARR_OK, "%s: %s", arr_strerror(e), res.detail);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_ACCEPTED);
    cr_assert_eq(res.status, 250);
    cr_assert_str_eq(res.provider_id, "<step-1001.a1@arrears.example>");
    cr_assert_str_eq(res.detail, "250 2.0.0 Ok: queued as Q1");

    cr_assert_eq(count_files(&smtp_srv, "msg"), 1);
    json_t *m = load_record(&smtp_srv, "msg", 1);
    check_common(m, &r, "<step-1001.a1@arrears.example>");
    cr_assert_str_eq(jstr(m, "subject"), "Your Acme & Sons balance of $1,234.56");
    cr_assert_str_eq(jstr(m, "list_unsubscribe"), "<https://pay.example.com/stop?r=AB12&c=e>");
    cr_assert(json_is_null(json_object_get(m, "list_unsubscribe_post")));
    cr_assert(json_is_false(json_object_get(m, "tls")));
    const char *text = jstr(json_array_get(json_object_get(m, "parts"), 0), "content");
    const char *html = jstr(json_array_get(json_object_get(m, "parts"), 1), "content");
    /* the value as given in the text, escaped in the html, the opt-out line in both */
    cr_assert_not_null(strstr(text, "Hello Ann <b>\"Bo\"</b> & Co,"));
    cr_assert_not_null(strstr(html, "Hello Ann &lt;b&gt;&quot;Bo&quot;&lt;/b&gt; &amp; Co,"), "%s",
                       html);
    cr_assert_null(strstr(html, "<b>\"Bo\""));
    cr_assert_not_null(strstr(html, "Acme &amp; Sons"));
    cr_assert_not_null(strstr(text, "To stop emails, reply STOP or visit "
                                    "https://pay.example.com/stop?r=AB12&c=e."));
    cr_assert_not_null(strstr(html, "https://pay.example.com/stop?r=AB12&amp;c=e"));
    /* a plain ASCII subject goes as is */
    cr_assert_not_null(
        strstr(jstr(m, "raw_headers"), "\r\nSubject: Your Acme & Sons balance of $1,234.56\r\n"));
    cr_assert_not_null(
        strstr(jstr(m, "raw_headers"), "\r\nDate: Thu, 05 Mar 2026 14:03:00 +0000\r\n"));
    json_decref(m);
    outreach_rendered_free(&r);
}

Test(outreach_channel_email, spanish_email_utf8_subject_and_bodies)
{
    start_smtp();
    outreach_rendered r = {0};
    outreach_template_vars v =
        vars_for("José Ñúñez <i>", "Cooperativa de Crédito Ñandú y Asociados del Sur");
    render("es", &v, &r);
    cr_assert_str_eq(r.lang, "es");

    char url[128];
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    cfg.from_name = "Cobranzas Ñandú, S.A."; /* needs encoding: non-ASCII and a comma */
    cfg.reply_to = "ayuda@arrears.example";
    outreach_email msg;
    cr_assert_eq(outreach_channel_email_from_rendered(&r, &msg), ARR_OK);
    msg.to = "ann.lee@example.com";
    msg.opt_out_link = v.opt_out_link;
    msg.opt_out_mailto = "mailto:baja@arrears.example?subject=baja";
    msg.one_click = 1;
    msg.date_ms = DATE_MS;
    outreach_channel_result res;
    arr_err e = outreach_channel_email_send(&cfg, &msg, "step-1002.a1", &res);
    cr_assert_eq(e, ARR_OK, "%s: %s", arr_strerror(e), res.detail);

    json_t *m = load_record(&smtp_srv, "msg", 1);
    /* check_common wants the default display name */
    json_object_set_new(m, "from", json_string("Acme Collections <" FROM ">"));
    check_common(m, &r, "<step-1002.a1@arrears.example>");
    const char *raw = jstr(m, "raw_headers");
    /* the UTF-8 subject travels as several RFC 2047 words and decodes back whole */
    cr_assert_str_eq(jstr(m, "subject"),
                     "Su saldo con Cooperativa de Crédito Ñandú y Asociados del Sur: $1,234.56");
    const char *subj = strstr(raw, "\r\nSubject: =?UTF-8?B?");
    cr_assert_not_null(subj, "%s", raw);
    const char *second = strstr(subj + 12, "?=\r\n =?UTF-8?B?");
    cr_assert_not_null(second, "a long subject must be folded into several words");
    cr_assert_eq(strncmp(raw, "From: =?UTF-8?B?", 16), 0, "%s", raw);
    json_t *p0 = json_array_get(json_object_get(m, "parts"), 0);
    json_t *p1 = json_array_get(json_object_get(m, "parts"), 1);
    cr_assert_not_null(strstr(jstr(p0, "content"), "Hola José Ñúñez <i>:"));
    cr_assert_not_null(strstr(jstr(p0, "content"), "venció el 5 de marzo de 2026"));
    cr_assert_not_null(strstr(jstr(p1, "content"), "José Ñúñez &lt;i&gt;"));
    cr_assert_not_null(
        strstr(jstr(p0, "content"), "Para dejar de recibir correos, responda STOP o visite "));
    cr_assert_str_eq(jstr(m, "list_unsubscribe"), "<https://pay.example.com/stop?r=AB12&c=e>, "
                                                  "<mailto:baja@arrears.example?subject=baja>");
    cr_assert_str_eq(jstr(m, "list_unsubscribe_post"), "List-Unsubscribe=One-Click");
    cr_assert_str_eq(jstr(m, "reply_to"), "ayuda@arrears.example");
    json_decref(m);
    outreach_rendered_free(&r);

    /* the display name decodes as written */
    m = load_record(&smtp_srv, "msg", 1);
    cr_assert_str_eq(jstr(m, "from"), "\"Cobranzas Ñandú, S.A.\" <" FROM ">");
    json_decref(m);
}

Test(outreach_channel_email, text_only_and_tricky_bodies)
{
    start_smtp();
    char url[128];
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    cfg.from_name = NULL;
    /* lines starting with "." and "From ", "=" signs, trailing spaces, CRLF and LF mixed, a
       line far over 76 characters with multi-byte letters, a subject that looks encoded */
    char longline[400];
    size_t o = 0;
    for (int i = 0; i < 60; i++)
        o += (size_t)snprintf(longline + o, sizeof longline - o, "%sñ", i % 7 ? "ab" : ". ");
    char text[1200];
    snprintf(text, sizeof text,
             ".\n..hidden\nFrom here on\r\n1 = 1 and a=b  \n\ttab\t\nlast %s\nend", longline);
    outreach_email msg = {
        .to = "ann.lee@example.com",
        .subject = "=?UTF-8?B?Zm9v?= is not a word",
        .text = text,
        .opt_out_link = "https://pay.example.com/stop",
        .date_ms = DATE_MS,
    };
    outreach_channel_result res;
    arr_err e = outreach_channel_email_send(&cfg, &msg, "step-1003", &res);
    cr_assert_eq(e, ARR_OK, "%s: %s", arr_strerror(e), res.detail);
    json_t *m = load_record(&smtp_srv, "msg", 1);
    cr_assert_str_eq(jstr(m, "content_type"), "text/plain");
    cr_assert_str_eq(jstr(m, "from"), FROM);
    cr_assert_str_eq(jstr(m, "subject"), "=?UTF-8?B?Zm9v?= is not a word");
    cr_assert(json_is_false(json_object_get(m, "eight_bit")));
    cr_assert_leq(json_integer_value(json_object_get(m, "max_line")), 78);
    json_t *parts = json_object_get(m, "parts");
    cr_assert_eq(json_array_size(parts), 1);
    /* the decoded body: line ends become LF, the body ends with one line end */
    char want[1300];
    snprintf(want, sizeof want,
             ".\n..hidden\nFrom here on\n1 = 1 and a=b  \n\ttab\t\nlast %s\nend\n", longline);
    cr_assert_str_eq(jstr(json_array_get(parts, 0), "content"), want);
    json_decref(m);
    /* the raw body never starts a line with "." or "From " */
    char p[400];
    snprintf(p, sizeof p, "%s/msg-1.eml", smtp_srv.dir);
    char *raw = read_all(p, NULL);
    cr_assert_not_null(raw);
    char *body = strstr(raw, "\r\n\r\n");
    cr_assert_not_null(body);
    cr_assert_null(strstr(body, "\r\n."));
    cr_assert_null(strstr(body, "\r\nFrom "));
    free(raw);
}

Test(outreach_channel_email, message_id_follows_the_idempotency_key)
{
    start_smtp();
    char url[128];
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    outreach_email msg = {
        .to = "ann.lee@example.com",
        .subject = "Reminder",
        .text = "Hello",
        .html = "<p>Hello</p>",
        .opt_out_link = "https://pay.example.com/stop",
    };
    /* a key with characters a Message-ID cannot carry is hashed, stably */
    const char *keys[] = {"tenant:acme/step#42", "tenant:acme/step#42", "tenant:acme/step#43"};
    outreach_channel_result res[3];
    for (int i = 0; i < 3; i++) {
        arr_err e = outreach_channel_email_send(&cfg, &msg, keys[i], &res[i]);
        cr_assert_eq(e, ARR_OK, "%s: %s", arr_strerror(e), res[i].detail);
    }
    char want[256];
    cr_assert_eq(outreach_channel_message_id(&cfg, keys[0], want, sizeof want), ARR_OK);
    cr_assert_eq(strncmp(want, "<h.", 3), 0, "%s", want);
    cr_assert_eq(strlen(want), strlen("<h.@arrears.example>") + 32);
    json_t *m[3];
    for (int i = 0; i < 3; i++)
        m[i] = load_record(&smtp_srv, "msg", i + 1);
    cr_assert_str_eq(jstr(m[0], "message_id"), want);
    cr_assert_str_eq(jstr(m[1], "message_id"), want, "a retried send keeps its Message-ID");
    cr_assert_str_neq(jstr(m[2], "message_id"), want);
    cr_assert_str_eq(res[0].provider_id, want);
    cr_assert_str_eq(res[2].provider_id, jstr(m[2], "message_id"));
    for (int i = 0; i < 3; i++)
        json_decref(m[i]);
    /* msgid_domain overrides the from's domain */
    cfg.msgid_domain = "mail.arrears.example";
    cr_assert_eq(outreach_channel_message_id(&cfg, "k-1", want, sizeof want), ARR_OK);
    cr_assert_str_eq(want, "<k-1@mail.arrears.example>");
    cr_assert_eq(outreach_channel_message_id(&cfg, "bad key", want, sizeof want), ARR_EINVAL);
}

/* The source port of each message's connection, as the receiver saw it. */
static void peer_ports(const server *srv, const char *prefix, int n, long *ports)
{
    for (int i = 0; i < n; i++) {
        json_t *m = load_record(srv, prefix, i + 1);
        ports[i] = (long)json_integer_value(json_object_get(m, "peer_port"));
        cr_assert_gt(ports[i], 0);
        json_decref(m);
    }
}

Test(outreach_channel_email, one_session_carries_the_messages_of_a_thread)
{
    start_smtp();
    char url[128];
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    outreach_email msg = {.to = "ann.lee@example.com",
                          .subject = "Reminder",
                          .text = "Hello",
                          .opt_out_link = "https://pay.example.com/stop"};
    outreach_channel_result res;
    const char *keys[] = {"c-1", "c-2", "c-3", "c-4", "c-5", "c-6"};
    /* without a cache: a connection per message (the control) */
    for (int i = 0; i < 2; i++)
        cr_assert_eq(outreach_channel_email_send(&cfg, &msg, keys[i], &res), ARR_OK, "%s",
                     res.detail);
    /* with one: the next messages share one session, a refused recipient included */
    outreach_channel_conns *conns = NULL;
    cr_assert_eq(outreach_channel_conns_new(&conns), ARR_OK);
    cfg.conns = conns;
    cr_assert_eq(outreach_channel_email_send(&cfg, &msg, keys[2], &res), ARR_OK, "%s", res.detail);
    cr_assert_eq(outreach_channel_email_send(&cfg, &msg, keys[3], &res), ARR_OK, "%s", res.detail);
    outreach_email bad = msg;
    bad.to = "nobody@example.com";
    cr_assert_eq(outreach_channel_email_send(&cfg, &bad, "c-x", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT_CONTACT);
    cr_assert_eq(outreach_channel_email_send(&cfg, &msg, keys[4], &res), ARR_OK, "%s", res.detail);
    outreach_channel_conns_free(conns);
    cr_assert_eq(count_files(&smtp_srv, "msg"), 5);
    long port[5];
    peer_ports(&smtp_srv, "msg", 5, port);
    cr_assert_neq(port[0], port[1], "no cache: two connections");
    cr_assert_neq(port[2], port[1]);
    cr_assert_eq(port[3], port[2], "the second message rides the first one's session");
    json_t *last = load_record(&smtp_srv, "msg", 5);
    cr_assert_str_eq(jstr(last, "message_id"), "<c-5@arrears.example>", "each keeps its own id");
    json_decref(last);
}

Test(outreach_channel_email, header_injection_is_refused_before_sending)
{
    start_smtp();
    char url[128];
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    outreach_email good = {
        .to = "ann.lee@example.com",
        .subject = "Reminder",
        .text = "Hello",
        .opt_out_link = "https://pay.example.com/stop",
    };
    outreach_channel_result res;
    outreach_email m = good;

    m.subject = "Hi\r\nBcc: victim@example.com";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    m.subject = "Hi\nBcc: victim@example.com";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    m.subject = "Hi\xc2\x85"
                "Bcc: x"; /* NEL */
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    m = good;
    m.to = "ann.lee@example.com\r\nBcc: victim@example.com";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT_CONTACT);
    cr_assert_str_eq(res.code, "invalid_to");
    m.to = "Ann <ann.lee@example.com>";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    m = good;
    m.opt_out_link = "https://pay.example.com/stop\r\nBcc: victim@example.com";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    m.opt_out_link = "javascript:alert(1)";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    m.opt_out_link = NULL;
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    m = good;
    m.text = "bad \xff utf-8";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    m = good;
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1\r\nX: y", &res), ARR_EINVAL);
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "", &res), ARR_EINVAL);
    cfg.from_name = "Acme\r\nBcc: victim@example.com";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_ECONFIG);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    cfg.from_name = NULL;
    cfg.from = "collections@arrears.example>\r\nRCPT TO:<victim@example.com";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_ECONFIG);

    /* nothing reached the server; it still works */
    cr_assert_eq(count_files(&smtp_srv, "msg"), 0);
    cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    cr_assert_eq(outreach_channel_email_send(&cfg, &good, "k1", &res), ARR_OK, "%s", res.detail);
    cr_assert_eq(count_files(&smtp_srv, "msg"), 1);
    json_t *rec = load_record(&smtp_srv, "msg", 1);
    cr_assert_eq(json_array_size(json_object_get(rec, "rcpt_tos")), 1);
    json_decref(rec);
}

Test(outreach_channel_email, recipient_refusals_are_classified)
{
    start_smtp();
    char url[128];
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    outreach_email m = {
        .subject = "Reminder",
        .text = "Hello",
        .opt_out_link = "https://pay.example.com/stop",
    };
    outreach_channel_result res;

    m.to = "nobody@example.com"; /* 550 5.1.1: the address is bad */
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT_CONTACT, "%s",
                 outreach_channel_outcome_name(res.outcome));
    cr_assert_eq(res.status, 550);
    cr_assert_str_eq(res.code, "5.1.1");
    cr_assert_null(strstr(res.detail, "nobody@"), "the address is redacted: %s", res.detail);
    cr_assert_not_null(strstr(res.detail, "RCPT"), "%s", res.detail);
    cr_assert_not_null(strstr(res.detail, "<to>"), "%s", res.detail);

    m.to = "busy@example.com"; /* 451: later */
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EHTTP);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_RETRIABLE);
    cr_assert_eq(arr_err_classify(ARR_EHTTP), ARR_ERRCLASS_RETRIABLE);
    cr_assert_eq(res.status, 451);
    cr_assert_str_eq(res.code, "4.3.0");
    cr_assert_eq(res.retry_after_s, 0);

    m.to = "relay@example.com"; /* 554 5.7.1: refused, but not the address's fault */
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    cr_assert_str_eq(res.code, "5.7.1");

    cr_assert_eq(count_files(&smtp_srv, "msg"), 0);
}

Test(outreach_channel_email, authentication)
{
    start_smtp();
    char url[128];
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    outreach_email m = {
        .to = "ann.lee@example.com",
        .subject = "Reminder",
        .text = "Hello",
        .opt_out_link = "https://pay.example.com/stop",
    };
    outreach_channel_result res;
    cfg.username = "arrears";
    cfg.password = "s3cret";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_OK, "%s", res.detail);
    json_t *rec = load_record(&smtp_srv, "msg", 1);
    cr_assert_str_eq(jstr(rec, "login"), "arrears");
    json_decref(rec);

    cfg.password = "wrong";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k2", &res), ARR_ECONFIG);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    cr_assert_eq(res.status, 535);
    cr_assert_not_null(strstr(res.detail, "AUTH"), "%s", res.detail);
    cr_assert_null(strstr(res.detail, "wrong"));
    cr_assert_eq(count_files(&smtp_srv, "msg"), 1);
}

Test(outreach_channel_email, starttls)
{
    start_smtp();
    char url[128], ca[400];
    path_in(ca, sizeof ca, "cert.pem");
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, smtp_srv.port);
    outreach_email m = {
        .to = "ann.lee@example.com",
        .subject = "Reminder",
        .text = "Hello",
        .opt_out_link = "https://pay.example.com/stop",
    };
    outreach_channel_result res;
    cfg.use_tls = 1;
    cfg.ca_file = ca;
    cfg.username = "arrears";
    cfg.password = "s3cret";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_OK, "%s", res.detail);
    json_t *rec = load_record(&smtp_srv, "msg", 1);
    cr_assert(json_is_true(json_object_get(rec, "tls")));
    cr_assert_str_eq(jstr(rec, "login"), "arrears");
    json_decref(rec);

    /* a certificate the system store does not know: refused, a configuration matter */
    cfg.ca_file = NULL;
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k2", &res), ARR_ECONFIG, "%s", res.detail);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    cr_assert_eq(count_files(&smtp_srv, "msg"), 1);

    /* a server without STARTTLS while TLS is required: nothing goes in clear */
    start_server(&plain_srv, "smtp_server.py", "plain", "plain", NULL, NULL, NULL);
    cfg = smtp_cfg(url, sizeof url, plain_srv.port);
    cfg.use_tls = 1;
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k3", &res), ARR_ECONFIG, "%s", res.detail);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    cr_assert_eq(count_files(&plain_srv, "msg"), 0);
}

Test(outreach_channel_email, transport_failures_are_retriable)
{
    char url[128];
    outreach_email m = {
        .to = "ann.lee@example.com",
        .subject = "Reminder",
        .text = "Hello",
        .opt_out_link = "https://pay.example.com/stop",
    };
    outreach_channel_result res;
    outreach_channel_smtp_cfg cfg = smtp_cfg(url, sizeof url, dead_port(0));
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_EHTTP, "%s", res.detail);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_RETRIABLE);
    cr_assert_eq(res.status, 0);
    cr_assert_str_eq(res.code, "curl:7");

    cfg = smtp_cfg(url, sizeof url, dead_port(1)); /* accepts, never greets */
    cfg.timeout_ms = 1000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_ETIMEOUT, "%s", res.detail);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_RETRIABLE);
    cr_assert_lt(t1.tv_sec - t0.tv_sec, 8, "the timeout must hold");

    cfg.url = "http://127.0.0.1:25";
    cr_assert_eq(outreach_channel_email_send(&cfg, &m, "k1", &res), ARR_ECONFIG);
}

/* ------------------------------------------------------------------ sms and voice */

#define SID "AC0123456789abcdef"
#define TOKEN "tok-s3cret"
#define CB "https://hooks.arrears.example/status?step=2001&t=acme"

static outreach_channel_http_cfg http_cfg(char *base, size_t len, int port)
{
    snprintf(base, len, "http://127.0.0.1:%d/2010-04-01/Accounts/" SID "/", port);
    outreach_channel_http_cfg c = {
        .base_url = base,
        .account_sid = SID,
        .auth_token = TOKEN,
        .from = "+15005550000",
        .connect_timeout_ms = 10000,
        .timeout_ms = 10000,
    };
    return c;
}

static void start_stub(void)
{
    start_server(&http_srv, "http_stub.py", "http", SID, TOKEN, NULL, NULL);
}

static const char *form1(json_t *rec, const char *name)
{
    json_t *v = json_object_get(json_object_get(rec, "form"), name);
    if (!v)
        return NULL;
    cr_assert_eq(json_array_size(v), 1, "%s given %zu times", name, json_array_size(v));
    return json_string_value(json_array_get(v, 0));
}

static const char *header(json_t *rec, const char *name)
{
    return jstr(json_object_get(rec, "headers"), name);
}

Test(outreach_channel_http, sms_accepted_with_form_auth_and_key)
{
    start_stub();
    char base[200];
    outreach_channel_http_cfg cfg = http_cfg(base, sizeof base, http_srv.port);
    const char *body = "Cobranzas: Hola José, su saldo de $1,234.56 sigue pendiente. ¿Pagar? "
                       "https://pay.example.com/p/AB12?x=1&y=2 100% + € ~ ok\nResponda STOP.";
    outreach_channel_result res;
    arr_err e = outreach_channel_sms_send(&cfg, "+15005550006", body, CB, "step-2001.a1", &res);
    cr_assert_eq(e, ARR_OK, "%s: %s", arr_strerror(e), res.detail);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_ACCEPTED);
    cr_assert_eq(res.status, 201);
    cr_assert_eq(strncmp(res.provider_id, "SM", 2), 0, "%s", res.provider_id);
    cr_assert_eq(strlen(res.provider_id), 34);
    cr_assert_str_eq(res.provider_status, "queued");

    cr_assert_eq(count_files(&http_srv, "req"), 1);
    json_t *rec = load_record(&http_srv, "req", 1);
    cr_assert_str_eq(jstr(rec, "path"), "/2010-04-01/Accounts/" SID "/Messages");
    cr_assert_str_eq(header(rec, "content-type"), "application/x-www-form-urlencoded");
    cr_assert_str_eq(header(rec, "idempotency-key"), "step-2001.a1");
    cr_assert_str_eq(header(rec, "accept"), "application/json");
    cr_assert_eq(strncmp(header(rec, "user-agent"), "arrears/", 8), 0);
    cr_assert_eq(strncmp(header(rec, "authorization"), "Basic ", 6), 0);
    json_t *auth = json_object_get(rec, "auth");
    cr_assert_str_eq(json_string_value(json_array_get(auth, 0)), SID);
    cr_assert_str_eq(json_string_value(json_array_get(auth, 1)), TOKEN);
    cr_assert_str_eq(form1(rec, "To"), "+15005550006");
    cr_assert_str_eq(form1(rec, "From"), "+15005550000");
    cr_assert_str_eq(form1(rec, "Body"), body);
    cr_assert_str_eq(form1(rec, "StatusCallback"), CB);
    cr_assert_eq(json_object_size(json_object_get(rec, "form")), 4);
    json_decref(rec);

    /* no status callback: the field is left out */
    e = outreach_channel_sms_send(&cfg, "+15005550006", "hi", NULL, "step-2001.b", &res);
    cr_assert_eq(e, ARR_OK, "%s", res.detail);
    rec = load_record(&http_srv, "req", 2);
    cr_assert_null(form1(rec, "StatusCallback"));
    json_decref(rec);
}

Test(outreach_channel_http, one_connection_carries_the_requests_of_a_thread)
{
    start_stub();
    char base[200];
    outreach_channel_http_cfg cfg = http_cfg(base, sizeof base, http_srv.port);
    outreach_channel_result res;
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "a", NULL, "k-1", &res), ARR_OK);
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "b", NULL, "k-2", &res), ARR_OK);
    outreach_channel_conns *conns = NULL;
    cr_assert_eq(outreach_channel_conns_new(&conns), ARR_OK);
    cfg.conns = conns;
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "c", NULL, "k-3", &res), ARR_OK);
    cr_assert_eq(outreach_channel_voice_call(&cfg, "+15005550006", "d", NULL, "k-4", &res), ARR_OK,
                 "%s", res.detail);
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "e", NULL, "k-5", &res), ARR_OK);
    outreach_channel_conns_free(conns);
    long port[5];
    peer_ports(&http_srv, "req", 5, port);
    cr_assert_neq(port[0], port[1], "no cache: two connections");
    cr_assert_neq(port[2], port[1]);
    cr_assert_eq(port[3], port[2], "kept alive for the next request");
    cr_assert_eq(port[4], port[2]);
    json_t *rec = load_record(&http_srv, "req", 5);
    cr_assert_str_eq(header(rec, "idempotency-key"), "k-5");
    json_decref(rec);
}

Test(outreach_channel_http, same_key_same_message)
{
    start_stub();
    char base[200];
    outreach_channel_http_cfg cfg = http_cfg(base, sizeof base, http_srv.port);
    cfg.idempotency_header = "I-Twilio-Idempotency-Token";
    outreach_channel_result a, b, c;
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "hi", CB, "step-7", &a), ARR_OK);
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "hi", CB, "step-7", &b), ARR_OK);
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "hi", CB, "step-8", &c), ARR_OK);
    cr_assert_str_eq(a.provider_id, b.provider_id, "a retry with the same key is one message");
    cr_assert_str_neq(a.provider_id, c.provider_id);
    json_t *rec = load_record(&http_srv, "req", 2);
    cr_assert_str_eq(header(rec, "i-twilio-idempotency-token"), "step-7");
    cr_assert_null(header(rec, "idempotency-key"));
    json_decref(rec);
}

Test(outreach_channel_http, answers_are_classified)
{
    start_stub();
    char base[200];
    outreach_channel_http_cfg cfg = http_cfg(base, sizeof base, http_srv.port);
    outreach_channel_result res;

    /* 429 with Retry-After in seconds */
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550429", "hi", CB, "k1", &res), ARR_EHTTP);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_RETRIABLE);
    cr_assert_eq(res.status, 429);
    cr_assert_eq(res.retry_after_s, 7);
    cr_assert_str_eq(res.code, "20429");

    /* 503 with Retry-After as an HTTP date two minutes ahead */
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550430", "hi", CB, "k1", &res), ARR_EHTTP);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_RETRIABLE);
    cr_assert_eq(res.status, 503);
    cr_assert(res.retry_after_s >= 100 && res.retry_after_s <= 121, "%d", res.retry_after_s);

    /* 500 without a JSON body and without Retry-After */
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550500", "hi", CB, "k1", &res), ARR_EHTTP);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_RETRIABLE);
    cr_assert_eq(res.status, 500);
    cr_assert_eq(res.retry_after_s, 0);
    cr_assert_str_eq(res.code, "http:500");
    cr_assert_not_null(strstr(res.detail, "internal error"), "%s", res.detail);

    /* 400 invalid number: mark the number bad; the number is redacted from the detail */
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550001", "hi", CB, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT_CONTACT);
    cr_assert_eq(res.status, 400);
    cr_assert_str_eq(res.code, "21211");
    cr_assert_not_null(strstr(res.detail, "The 'To' number <to> is not a valid phone number."),
                       "%s", res.detail);
    cr_assert_null(strstr(res.detail, "5550001"));

    /* a carrier-level STOP */
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550610", "hi", CB, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_OPTED_OUT);
    cr_assert_str_eq(res.code, "21610");

    /* another 400: permanent, the number is fine */
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550422", "hi", CB, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    cr_assert_str_eq(res.code, "21602");

    /* a provider with its own (string) codes */
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550998", "hi", CB, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    const char *const mine[] = {"invalid_number", NULL};
    cfg.bad_number_codes = mine;
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550998", "hi", CB, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT_CONTACT);
    cr_assert_str_eq(res.code, "invalid_number");
    /* ... which replace the defaults */
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550001", "hi", CB, "k1", &res), ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    cfg.bad_number_codes = NULL;

    /* wrong credentials: configuration */
    cfg.auth_token = "nope";
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "hi", CB, "k1", &res),
                 ARR_ECONFIG);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    cr_assert_eq(res.status, 401);
    cr_assert_null(strstr(res.detail, "nope"));

    /* every result agrees with the project's error classes */
    cr_assert_eq(arr_err_classify(ARR_EINVAL), ARR_ERRCLASS_INPUT);
    cr_assert_eq(arr_err_classify(ARR_ETIMEOUT), ARR_ERRCLASS_RETRIABLE);
}

Test(outreach_channel_http, answer_over_the_cap)
{
    start_stub();
    char base[200];
    outreach_channel_http_cfg cfg = http_cfg(base, sizeof base, http_srv.port);
    cfg.max_response_bytes = 4096;
    outreach_channel_result res;
    /* 201 with a 1 MiB body: created, so accepted, but the sid was not read */
    arr_err e = outreach_channel_sms_send(&cfg, "+15005550777", "hi", CB, "k1", &res);
    cr_assert_eq(e, ARR_OK, "%s", res.detail);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_ACCEPTED);
    cr_assert_eq(res.status, 201);
    cr_assert_str_eq(res.provider_id, "");
    cr_assert_not_null(strstr(res.detail, "cap"), "%s", res.detail);
    /* the default cap (64 KiB) cuts it too */
    cfg.max_response_bytes = 0;
    e = outreach_channel_sms_send(&cfg, "+15005550777", "hi", CB, "k1", &res);
    cr_assert_eq(e, ARR_OK, "%s", res.detail);
    cr_assert_str_eq(res.provider_id, "");
    /* a cap above the answer: read whole */
    cfg.max_response_bytes = 2u << 20;
    e = outreach_channel_sms_send(&cfg, "+15005550777", "hi", CB, "k1", &res);
    cr_assert_eq(e, ARR_OK, "%s", res.detail);
    cr_assert_str_eq(res.provider_id, "SMlate");
}

Test(outreach_channel_http, bad_input_is_refused_before_sending)
{
    start_stub();
    char base[200];
    outreach_channel_http_cfg cfg = http_cfg(base, sizeof base, http_srv.port);
    outreach_channel_result res;
    const char *bad_numbers[] = {
        "5551234567", "+0123456789", "+1 555 123 4567", "+123456", "+1234567890123456", "", NULL};
    for (int i = 0; bad_numbers[i]; i++) {
        cr_assert_eq(outreach_channel_sms_send(&cfg, bad_numbers[i], "hi", CB, "k1", &res),
                     ARR_EINVAL, "%s", bad_numbers[i]);
        cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT_CONTACT);
        cr_assert_str_eq(res.code, "invalid_to");
    }
    cr_assert_eq(outreach_channel_sms_send(&cfg, NULL, "hi", CB, "k1", &res), ARR_EINVAL);
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "hi", CB, "k1\r\nX-Evil: 1", &res),
                 ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT);
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "hi", "javascript:x", "k1", &res),
                 ARR_EINVAL);
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "", CB, "k1", &res), ARR_EINVAL);
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "\xc3(", CB, "k1", &res),
                 ARR_EINVAL);
    char big[OUTREACH_CHANNEL_SMS_BODY_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", big, CB, "k1", &res), ARR_ELIMIT);
    outreach_channel_http_cfg c2 = cfg;
    c2.idempotency_header = "Idempotency-Key: x\r\nX-Evil";
    cr_assert_eq(outreach_channel_sms_send(&c2, "+15005550006", "hi", CB, "k1", &res), ARR_ECONFIG);
    c2 = cfg;
    c2.account_sid = "AC:1";
    cr_assert_eq(outreach_channel_sms_send(&c2, "+15005550006", "hi", CB, "k1", &res), ARR_ECONFIG);
    c2 = cfg;
    c2.base_url = "ftp://127.0.0.1/";
    cr_assert_eq(outreach_channel_sms_send(&c2, "+15005550006", "hi", CB, "k1", &res), ARR_ECONFIG);
    cr_assert_eq(outreach_channel_voice_call_lang(&cfg, "+15005550006", "e$", "hi", CB, "k1", &res),
                 ARR_EINVAL);
    cr_assert_eq(count_files(&http_srv, "req"), 0, "nothing may reach the provider");
}

Test(outreach_channel_http, transport_failures_are_retriable)
{
    char base[200];
    outreach_channel_result res;
    outreach_channel_http_cfg cfg = http_cfg(base, sizeof base, dead_port(0));
    cr_assert_eq(outreach_channel_sms_send(&cfg, "+15005550006", "hi", CB, "k1", &res), ARR_EHTTP);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_RETRIABLE);
    cr_assert_eq(res.status, 0);
    cr_assert_str_eq(res.code, "curl:7");

    cfg = http_cfg(base, sizeof base, dead_port(1));
    cfg.timeout_ms = 1000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(outreach_channel_voice_call(&cfg, "+15005550006", "hi", CB, "k1", &res),
                 ARR_ETIMEOUT, "%s", res.detail);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_RETRIABLE);
    cr_assert_lt(t1.tv_sec - t0.tv_sec, 8);
}

Test(outreach_channel_http, voice_calls)
{
    start_stub();
    char base[200];
    outreach_channel_http_cfg cfg = http_cfg(base, sizeof base, http_srv.port);
    cfg.machine_detection = 1;
    outreach_channel_result res;

    /* a spoken text in Spanish */
    arr_err e = outreach_channel_voice_call_lang(
        &cfg, "+15005550006", "es", "Hola José: su saldo <vencido> de $10 & \"más\" 'ya'.\n", CB,
        "step-3001", &res);
    cr_assert_eq(e, ARR_OK, "%s: %s", arr_strerror(e), res.detail);
    cr_assert_eq(strncmp(res.provider_id, "CA", 2), 0, "%s", res.provider_id);
    cr_assert_str_eq(res.provider_status, "queued");
    json_t *rec = load_record(&http_srv, "req", 1);
    cr_assert_str_eq(jstr(rec, "path"), "/2010-04-01/Accounts/" SID "/Calls");
    cr_assert_str_eq(header(rec, "idempotency-key"), "step-3001");
    cr_assert_str_eq(form1(rec, "To"), "+15005550006");
    cr_assert_str_eq(form1(rec, "From"), "+15005550000");
    cr_assert_str_eq(form1(rec, "Twiml"),
                     "<Response><Say language=\"es-US\">Hola José: su saldo &lt;vencido&gt; de $10 "
                     "&amp; &quot;más&quot; &apos;ya&apos;. </Say></Response>");
    cr_assert_null(form1(rec, "Url"));
    cr_assert_str_eq(form1(rec, "StatusCallback"), CB);
    cr_assert_str_eq(form1(rec, "MachineDetection"), "Enable");
    json_decref(rec);

    /* a script the provider fetches, no language */
    cfg.machine_detection = 0;
    e = outreach_channel_voice_call(&cfg, "+15005550006",
                                    "https://hooks.arrears.example/voice/step-3002.xml", NULL,
                                    "step-3002", &res);
    cr_assert_eq(e, ARR_OK, "%s", res.detail);
    rec = load_record(&http_srv, "req", 2);
    cr_assert_str_eq(form1(rec, "Url"), "https://hooks.arrears.example/voice/step-3002.xml");
    cr_assert_null(form1(rec, "Twiml"));
    cr_assert_null(form1(rec, "StatusCallback"));
    cr_assert_null(form1(rec, "MachineDetection"));
    json_decref(rec);

    /* English text: en-US */
    e = outreach_channel_voice_call_lang(&cfg, "+15005550006", "en", "Hello.", CB, "step-3003",
                                         &res);
    cr_assert_eq(e, ARR_OK, "%s", res.detail);
    rec = load_record(&http_srv, "req", 3);
    cr_assert_str_eq(form1(rec, "Twiml"),
                     "<Response><Say language=\"en-US\">Hello.</Say></Response>");
    json_decref(rec);

    /* the same classification as sms */
    e = outreach_channel_voice_call(&cfg, "+15005550001", "Hello.", CB, "step-3004", &res);
    cr_assert_eq(e, ARR_EINVAL);
    cr_assert_eq(res.outcome, OUTREACH_CHANNEL_PERMANENT_CONTACT);
    e = outreach_channel_voice_call(&cfg, "+15005550429", "Hello.", CB, "step-3004", &res);
    cr_assert_eq(e, ARR_EHTTP);
    cr_assert_eq(res.retry_after_s, 7);

    /* too long once escaped */
    char big[OUTREACH_CHANNEL_VOICE_MAX];
    memset(big, '&', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    e = outreach_channel_voice_call(&cfg, "+15005550006", big, CB, "step-3005", &res);
    cr_assert_eq(e, ARR_ELIMIT);
    cr_assert_eq(count_files(&http_srv, "req"), 5);
}
