#!/usr/bin/python3
"""outreach_sinks: the outside world of the outreach service, for end-to-end tests and benchmarks.

It stands in for an SMTP relay and for a Twilio-shaped SMS/voice provider (the peers of
services/outreach/channel.c), records everything they receive, and plays the provider's side of
the conversation: status callbacks after a message or call is created, and inbound SMS webhooks on
request. Python 3.11 standard library plus Debian's python3-aiosmtpd; run it with /usr/bin/python3:

    /usr/bin/python3 tests/e2e/outreach_sinks.py --dir DIR [--smtp-port 0] [--http-port 0]
        [--auth USER:PASS] [--callback-auth USER:PASS] [--callback-delay-ms 50]
        [--fail-every N] [--answer-seed S] [--quiet]

Both servers bind 127.0.0.1 (port 0: any free port). Once listening it prints "SMTP <port>",
"HTTP <port>" and "READY" on stdout, one per line, and runs until SIGTERM or SIGINT (exit 0).
Startup errors go to stderr with exit status 1 (2 for a bad command line).

SMTP: any sender and recipient, no AUTH. HTTP: POST <prefix>/Messages and POST <prefix>/Calls
(the last path segment decides, ".json" optional), form-encoded like Twilio; basic auth must
match --auth when given (else 401, code 20003). The idempotency key is the Idempotency-Key or
I-Twilio-Idempotency-Token header: a key already created answers 201 with the same sid and is
not created again. Sids are "SM"/"CA" + 32 hex, from sha256 of the key (random without a key).
Test numbers, by the end of To: "0000" -> 400 code 21211 (bad number), "0001" -> 400 code 21610
(opted out), "0002" -> created, but the message's callback says undelivered (ErrorCode 30003).
--fail-every N: every Nth would-be creation answers 503 (code 20503) and creates nothing.

Status callbacks (StatusCallback set and the request created something) are POSTed, form-encoded,
--callback-delay-ms after the creation by a small worker pool, with basic auth from
--callback-auth; a refused connection, a timeout, 429 or 5xx is retried up to 5 times
(backoff 250 ms doubling). Messages: MessageSid, MessageStatus (delivered | undelivered +
ErrorCode), To, From, AccountSid. Calls: CallSid, CallStatus, To, From, AccountSid, CallDuration
and AnsweredBy, drawn from sha256(answer_seed:sid): 40% completed/human (35..180 s), 35%
completed/machine_end_beep (20 s), 25% no-answer (0 s, no AnsweredBy). AccountSid is the
"Accounts/<sid>" segment of the request path, else the --auth user, else "AC" + 32 zeros.

Control: GET /control/stats -> {"emails", "email_repeats", "messages_created", "message_repeats",
"messages_rejected", "calls_created", "call_repeats", "calls_rejected", "callbacks_ok",
"callbacks_failed", "callbacks_pending", "inbound_sent"}. POST /control/inbound-sms with JSON
{"url", "from", "to", "body", "auth": "user:pass" (optional)} POSTs a Twilio-shaped inbound SMS
webhook (MessageSid, AccountSid, From, To, Body, NumMedia=0) to url and answers
{"http_status": <the receiver's status, 0 when unreachable>, "sid", "response" | "error"}.

Files under DIR, appended, one JSON object per line, flushed line by line (readable while it
runs); times are Unix ms:
  emails.jsonl     {"message_id", "to": [RCPT...], "from" (MAIL FROM), "header_from", "subject"
                    (RFC 2047 decoded), "lang" (Content-Language), "date", "list_unsubscribe",
                    "list_unsubscribe_post", "text", "html" (decoded parts, CRLF turned to LF;
                    html null when text-only), "repeat" (Message-ID seen before), "size",
                    "received_ms"} (+ "error" when the message could not be parsed)
  messages.jsonl   {"sid", "key", "to", "from", "body", "status_callback", "account_sid",
                    "repeat", "differs" (repeats only: To/From/Body differ from the first),
                    "http_status", "code" (the error code or null), "received_ms"}
  calls.jsonl      the same with "twiml", "url", "machine_detection" instead of "body"
  callbacks.jsonl  {"kind": "message" | "call", "sid", "url", "fields", "http_status" | "error",
                    "attempts", "sent_ms"}
  inbound.jsonl    {"sid", "url", "fields", "http_status" | "error", "sent_ms"}
Every HTTP request to Messages/Calls is recorded, refused ones too (sid null unless a repeat).

As a module (tools/debtor-sim/debtor_sim.py builds on it): subclass Sinks and override its hooks
on_email(rec) and on_created(kind, rec) (called once per new e-mail, message or call, after it is
recorded; repeats and refusals are not passed on), callback_auth_for(url) (the basic auth of a
status callback) and log_email(rec); ProviderServer takes the request handler class, so a
subclass of ProviderHandler can add its own control endpoints.
"""

import argparse
import asyncio
import base64
import email.policy
import functools
import hashlib
import heapq
import http.client
import itertools
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from email.headerregistry import HeaderRegistry
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.smtp import SMTP

CALLBACK_WORKERS = 8
CALLBACK_MAX_RETRIES = 5
CALLBACK_BACKOFF_MS = 250
CALLBACK_TIMEOUT_S = 5
INBOUND_TIMEOUT_S = 10
MAX_REQUEST_BYTES = 1 << 20
DEFAULT_ACCOUNT = "AC" + "0" * 32
TWILIO_ERRORS = {  # code -> message, as the provider words them
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21610: "Attempt to send to unsubscribed recipient",
    21602: "Message body is required",
    21603: "A 'From' phone number is required",
    21604: "A 'To' phone number is required",
    21205: "Url or Twiml is required",
}
KINDS = {"Messages": "message", "Calls": "call"}
SID_PREFIX = {"message": "SM", "call": "CA"}


def now_ms():
    return int(time.time() * 1000)


def hex32(text):
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def basic_auth_header(userpass):
    return "Basic " + base64.b64encode(userpass.encode()).decode("ascii")


def twilio_error(code, status):
    return {
        "code": code,
        "message": TWILIO_ERRORS.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


# ------------------------------------------------------------------ output files


class JsonlLog:
    """One append-only JSON-lines file; write() is thread-safe and flushes every line."""

    def __init__(self, path):
        self._lock = threading.Lock()
        self._f = open(path, "a", encoding="utf-8")

    def write(self, obj):
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            if self._f.closed:  # a late writer while stopping
                return
            self._f.write(line)
            self._f.flush()

    def close(self):
        with self._lock:
            self._f.close()


# ------------------------------------------------------------------ delayed work queue


class DelayQueue:
    """A thread-safe queue whose items come out no earlier than their due time (monotonic s)."""

    def __init__(self):
        self._heap = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._closed = False

    def put(self, due, item):
        with self._cv:
            heapq.heappush(self._heap, (due, next(self._seq), item))
            self._cv.notify()

    def get(self):
        """The next due item, or None once closed."""
        with self._cv:
            while not self._closed:
                if not self._heap:
                    self._cv.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._heap)[2]
                self._cv.wait(wait)
            return None

    def close(self):
        with self._cv:
            self._closed = True
            self._cv.notify_all()


# ------------------------------------------------------------------ the state


class Sinks:
    """Everything the servers share: options, output files, counters, created sids, callbacks."""

    name = "outreach_sinks"  # the prefix of log lines

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.logs = {
            name: JsonlLog(os.path.join(args.dir, name + ".jsonl"))
            for name in ("emails", "messages", "calls", "callbacks", "inbound")
        }
        self.stats = dict.fromkeys(
            (
                "emails", "email_repeats", "messages_created", "message_repeats",
                "messages_rejected", "calls_created", "call_repeats", "calls_rejected",
                "callbacks_ok", "callbacks_failed", "callbacks_pending", "inbound_sent",
            ),
            0,
        )
        self.created = {}  # (kind, key) -> (sid, identity fields of the first request)
        self.message_ids = set()
        self.attempts = 0  # would-be creations, for --fail-every
        self.inbound_seq = 0
        self.callbacks = DelayQueue()
        self.workers = []

    # --- small helpers

    def log(self, msg):
        if not self.args.quiet:
            print(f"{self.name}: {msg}", file=sys.stderr, flush=True)

    def error(self, msg):
        print(f"{self.name}: error: {msg}", file=sys.stderr, flush=True)

    def count(self, name, n=1):
        with self.lock:
            self.stats[name] += n

    def snapshot(self):
        with self.lock:
            return dict(self.stats)

    def default_account(self):
        return self.args.auth.split(":", 1)[0] if self.args.auth else DEFAULT_ACCOUNT

    # --- hooks for a subclass (no-ops here)

    def on_email(self, rec):
        """A new e-mail (not a repeat of a Message-ID), as written to emails.jsonl."""

    def on_created(self, kind, rec):
        """A new message or call ("message" | "call"), as written to messages/calls.jsonl."""

    def callback_auth_for(self, url):
        """USER:PASS sent with the status callback to url (None: no Authorization)."""
        return self.args.callback_auth

    def log_email(self, rec):
        self.log(f"email {rec['message_id']} to {','.join(rec['to'])}")

    # --- email

    def record_email(self, rec):
        with self.lock:
            rec["repeat"] = rec["message_id"] in self.message_ids
            if rec["message_id"]:
                self.message_ids.add(rec["message_id"])
            self.stats["emails"] += 1
            self.stats["email_repeats"] += rec["repeat"]
        self.logs["emails"].write(rec)

    # --- creations

    def create(self, kind, key, identity):
        """Creates a message or call, or finds the one this key created.
        Returns (http_status, sid, repeat, differs)."""
        with self.lock:
            if key is not None and (kind, key) in self.created:
                sid, first = self.created[(kind, key)]
                self.stats[kind + "_repeats"] += 1
                return 201, sid, True, first != identity
            self.attempts += 1
            if self.args.fail_every and self.attempts % self.args.fail_every == 0:
                return 503, None, False, False
            sid = SID_PREFIX[kind] + (hex32(key) if key is not None else secrets.token_hex(16))
            if key is not None:
                self.created[(kind, key)] = (sid, identity)
            self.stats[kind + "s_created"] += 1
            return 201, sid, False, False

    def next_inbound_sid(self, from_, body):
        with self.lock:
            self.inbound_seq += 1
            seq = self.inbound_seq
        return "SM" + hex32(f"{from_}\0{body}\0{seq}")

    # --- callbacks

    def schedule_callback(self, kind, sid, url, fields):
        self.count("callbacks_pending")
        job = {"kind": kind, "sid": sid, "url": url, "fields": fields, "attempts": 0}
        self.callbacks.put(time.monotonic() + self.args.callback_delay_ms / 1000.0, job)

    def start_callback_workers(self):
        for i in range(CALLBACK_WORKERS):
            t = threading.Thread(target=self._callback_worker, name=f"callback-{i}", daemon=True)
            t.start()
            self.workers.append(t)

    def _callback_worker(self):
        while True:
            job = self.callbacks.get()
            if job is None:
                return
            try:
                self._run_callback(job)
            except Exception as e:  # never lose a worker
                self.error(f"callback {job['sid']}: {e!r}")

    def _run_callback(self, job):
        job["attempts"] += 1
        status, err = post_form(job["url"], job["fields"], self.callback_auth_for(job["url"]),
                                CALLBACK_TIMEOUT_S)
        retriable = err is not None or status == 429 or status >= 500
        if retriable and job["attempts"] <= CALLBACK_MAX_RETRIES:
            delay = CALLBACK_BACKOFF_MS * 2 ** (job["attempts"] - 1) / 1000.0
            self.log(f"callback {job['sid']}: {err or status}, retry in {delay:.2f}s")
            self.callbacks.put(time.monotonic() + delay, job)
            return
        ok = err is None and 200 <= status < 300
        with self.lock:
            self.stats["callbacks_pending"] -= 1
            self.stats["callbacks_ok" if ok else "callbacks_failed"] += 1
        rec = {"kind": job["kind"], "sid": job["sid"], "url": job["url"], "fields": job["fields"]}
        rec.update({"error": err} if err is not None else {"http_status": status})
        rec.update(attempts=job["attempts"], sent_ms=now_ms())
        self.logs["callbacks"].write(rec)
        if not ok:
            self.error(f"callback {job['sid']} to {job['url']} failed: {err or status}")

    def close(self):
        self.callbacks.close()
        for log in self.logs.values():
            log.close()


# ------------------------------------------------------------------ outgoing HTTP


_conns = threading.local()  # each thread's open connections, by scheme, host and port


def post_form(url, fields, userpass, timeout):
    """POSTs fields form-encoded. Returns (status, None) on any answer, (0, error) without one.
    The connection stays open for the thread's next post to the same server (HTTP/1.1); one
    the server closed meanwhile is opened again once before the post counts as failed."""
    data = urllib.parse.urlencode(fields).encode("ascii")
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "User-Agent": "TwilioProxy/1.1 (outreach_sinks)"}
    if userpass:
        headers["Authorization"] = basic_auth_header(userpass)
    try:
        u = urllib.parse.urlsplit(url)
        where = (u.scheme, u.hostname, u.port)
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) url: {url}")
    except ValueError as e:
        return 0, f"ValueError: {e}"
    pool = _conns.__dict__.setdefault("pool", {})
    for attempt in (1, 2):
        conn = pool.pop(where, None)
        reused = conn is not None
        if conn is None:
            cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
            conn = cls(u.hostname, u.port, timeout=timeout)
        try:
            conn.request("POST", path, body=data, headers=headers)
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            if reused and attempt == 1:
                continue  # closed while idle: once more on a new connection
            return 0, f"{type(e).__name__}: {e}"
        if resp.will_close:
            conn.close()
        else:
            pool[where] = conn
        return resp.status, None
    return 0, "unreachable"


# ------------------------------------------------------------------ callback fields


def account_of(path, state):
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == "Accounts" and parts[i + 1]:
            return parts[i + 1]
    return state.default_account()


def message_callback_fields(sid, to, from_, account):
    fields = {"MessageSid": sid, "MessageStatus": "delivered", "To": to, "From": from_,
              "AccountSid": account}
    if to.endswith("0002"):
        fields.update(MessageStatus="undelivered", ErrorCode="30003")
    return fields


def call_outcome(seed, sid):
    """(CallStatus, AnsweredBy or None, CallDuration) drawn deterministically from seed and sid."""
    h = int.from_bytes(hashlib.sha256(f"{seed}:{sid}".encode()).digest()[:8], "big")
    r = h % 100
    if r < 40:
        return "completed", "human", 35 + (h >> 16) % 146
    if r < 75:
        return "completed", "machine_end_beep", 20
    return "no-answer", None, 0


def call_callback_fields(sid, to, from_, account, seed):
    status, answered_by, duration = call_outcome(seed, sid)
    fields = {"CallSid": sid, "CallStatus": status, "To": to, "From": from_,
              "AccountSid": account, "CallDuration": str(duration)}
    if answered_by:
        fields["AnsweredBy"] = answered_by
    return fields


# ------------------------------------------------------------------ SMTP


def caching_policy(size=4096):
    """email.policy.default whose header objects are memoised: the parser and get_body() parse
    a part's Content-Type again on every look (ten times a message), and most header values
    recur between messages; this makes parsing about ten times cheaper, same results."""
    parse_header = functools.lru_cache(maxsize=size)(HeaderRegistry())
    return email.policy.default.clone(header_factory=parse_header)


def parse_email(raw, policy=email.policy.default):
    """The fields of emails.jsonl found in the message itself."""
    msg = BytesParser(policy=policy).parsebytes(raw)

    def header(name):
        v = msg.get(name)
        return None if v is None else str(v)

    def part(subtype):
        p = msg.get_body(preferencelist=(subtype,))
        return None if p is None else p.get_content().replace("\r\n", "\n")

    return {
        "message_id": header("Message-ID"),
        "header_from": header("From"),
        "subject": header("Subject"),
        "lang": header("Content-Language"),
        "date": header("Date"),
        "list_unsubscribe": header("List-Unsubscribe"),
        "list_unsubscribe_post": header("List-Unsubscribe-Post"),
        "text": part("plain"),
        "html": part("html"),
    }


class SmtpHandler:
    """aiosmtpd handler: accepts everything, records each message."""

    def __init__(self, state):
        self.state = state
        self.policy = caching_policy()  # used on the SMTP loop's thread only

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        rec = {"message_id": None, "to": list(envelope.rcpt_tos), "from": envelope.mail_from}
        try:
            rec.update(parse_email(raw, self.policy))
        except Exception as e:  # record what came, even unparsable
            rec["error"] = f"{type(e).__name__}: {e}"
            self.state.error(f"email from {envelope.mail_from}: {rec['error']}")
        rec["to"] = list(envelope.rcpt_tos)
        rec.update(size=len(raw), received_ms=now_ms())
        self.state.record_email(rec)
        self.state.log_email(rec)
        if not rec["repeat"]:
            self.state.on_email(rec)
        return "250 2.0.0 OK queued"


class SmtpServer:
    """An aiosmtpd server on its own asyncio loop, in its own thread."""

    def __init__(self, state, port):
        handler = SmtpHandler(state)
        self.loop = asyncio.new_event_loop()
        factory = lambda: SMTP(handler, hostname="outreach-sinks.test", enable_SMTPUTF8=True,
                               loop=self.loop)
        self.server = self.loop.run_until_complete(
            self.loop.create_server(factory, "127.0.0.1", port, backlog=512))
        self.port = self.server.sockets[0].getsockname()[1]
        self.thread = threading.Thread(target=self.loop.run_forever, name="smtp", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.server.close()


# ------------------------------------------------------------------ HTTP


class ProviderHandler(BaseHTTPRequestHandler):
    """The Twilio-shaped API and the control endpoints. self.server.state is the Sinks."""

    protocol_version = "HTTP/1.1"
    server_version = "outreach-sinks/1"

    # --- plumbing

    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):
        self.state.log(f"http {self.address_string()} {fmt % args}")

    def read_body(self):
        """The request body, or None after answering 413."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_REQUEST_BYTES:
            self.close_connection = True
            self.send_json(413, {"message": "request too large"})
            return None
        return self.rfile.read(n)

    def read_chunked(self):
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def send_json(self, status, obj, headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def route(self):
        """(path, kind or None) of the request."""
        path = urllib.parse.urlsplit(self.path).path
        last = path.rstrip("/").rsplit("/", 1)[-1]
        last = last[:-5] if last.endswith(".json") else last
        return path, KINDS.get(last)

    # --- verbs

    def do_GET(self):
        path, _ = self.route()
        if path == "/control/stats":
            self.send_json(200, self.state.snapshot())
        else:
            self.send_json(404, twilio_error(20404, 404))

    def do_POST(self):
        body = self.read_body()
        if body is None:
            return
        path, kind = self.route()
        if path == "/control/inbound-sms":
            self.inbound_sms(body)
        elif kind:
            self.create(kind, path, body)
        else:
            self.send_json(404, twilio_error(20404, 404))

    # --- provider

    def authorized(self):
        want = self.state.args.auth
        return not want or self.headers.get("Authorization", "") == basic_auth_header(want)

    def idempotency_key(self):
        for name in ("Idempotency-Key", "I-Twilio-Idempotency-Token"):
            v = self.headers.get(name)
            if v is not None:
                return v
        return None

    def create(self, kind, path, body):
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                                          keep_blank_values=True).items()}
        key = self.idempotency_key()
        to, from_ = form.get("To", ""), form.get("From", "")
        rec = {"sid": None, "key": key, "to": to, "from": from_}
        if kind == "message":
            rec["body"] = form.get("Body")
            identity = (to, from_, form.get("Body"))
        else:
            rec.update(twiml=form.get("Twiml"), url=form.get("Url"),
                       machine_detection=form.get("MachineDetection"))
            identity = (to, from_, form.get("Twiml"), form.get("Url"))
        account = account_of(path, self.state)
        rec.update(status_callback=form.get("StatusCallback"), account_sid=account,
                   repeat=False, received_ms=now_ms())

        status, code, repeat, differs = self.decide(kind, key, form, identity, rec)
        rec.update(http_status=status, code=code)
        if status != 201:
            self.state.count(kind + "s_rejected")
        if repeat:
            rec["differs"] = differs
        self.state.logs[kind + "s"].write(rec)
        if status == 201 and not repeat and rec["status_callback"]:
            fields = (message_callback_fields(rec["sid"], to, from_, account) if kind == "message"
                      else call_callback_fields(rec["sid"], to, from_, account,
                                                self.state.args.answer_seed))
            self.state.schedule_callback(kind, rec["sid"], rec["status_callback"], fields)
        if status == 201 and not repeat:
            self.state.on_created(kind, rec)
        self.answer_create(status, code, rec)

    def decide(self, kind, key, form, identity, rec):
        """Authentication, validation, test numbers, then the creation.
        Returns (http_status, error code or None, repeat, differs); fills rec["sid"]."""
        if not self.authorized():
            return 401, 20003, False, False
        code = validation_error(kind, form)
        if code is None and rec["to"].endswith("0000"):
            code = 21211
        if code is None and rec["to"].endswith("0001"):
            code = 21610
        if code is not None:
            return 400, code, False, False
        status, sid, repeat, differs = self.state.create(kind, key, identity)
        rec.update(sid=sid, repeat=repeat)
        return status, (20503 if status == 503 else None), repeat, differs

    def answer_create(self, status, code, rec):
        if status == 201:
            self.send_json(201, {"sid": rec["sid"], "status": "queued", "to": rec["to"],
                                 "from": rec["from"], "account_sid": rec["account_sid"]})
            return
        headers = [("WWW-Authenticate", 'Basic realm="Twilio API"')] if status == 401 else []
        self.send_json(status, twilio_error(code, status), headers)

    # --- control

    def inbound_sms(self, body):
        try:
            req = json.loads(body or b"{}")
            url, from_, to, text = req["url"], req["from"], req["to"], req["body"]
        except (ValueError, KeyError, TypeError) as e:
            self.send_json(400, {"error": f"want JSON {{url, from, to, body, auth?}}: {e!r}"})
            return
        sid = self.state.next_inbound_sid(from_, text)
        fields = {"MessageSid": sid, "AccountSid": self.state.default_account(), "From": from_,
                  "To": to, "Body": text, "NumMedia": "0"}
        status, err = post_form(url, fields, req.get("auth"), INBOUND_TIMEOUT_S)
        self.state.count("inbound_sent")
        rec = {"sid": sid, "url": url, "fields": fields}
        rec.update({"error": err} if err is not None else {"http_status": status})
        rec["sent_ms"] = now_ms()
        self.state.logs["inbound"].write(rec)
        answer = {"http_status": status, "sid": sid}
        answer.update({"error": err} if err is not None else {})
        self.send_json(200 if err is None else 502, answer)


def validation_error(kind, form):
    """The Twilio error code of a request missing a required field, else None."""
    if not form.get("To"):
        return 21604
    if not form.get("From"):
        return 21603
    if kind == "message" and not form.get("Body"):
        return 21602
    if kind == "call" and not (form.get("Twiml") or form.get("Url")):
        return 21205
    return None


class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def __init__(self, state, port, handler=ProviderHandler):
        self.state = state
        super().__init__(("127.0.0.1", port), handler)

    def handle_error(self, request, client_address):
        self.state.error(f"http {client_address}: {sys.exc_info()[1]!r}")


# ------------------------------------------------------------------ main


def userpass(text):
    if ":" not in text:
        raise argparse.ArgumentTypeError("want USER:PASS")
    return text


def parse_args(argv):
    p = argparse.ArgumentParser(description="SMTP and Twilio-shaped sinks for outreach tests.")
    p.add_argument("--dir", required=True, help="where the .jsonl files go (created if missing)")
    p.add_argument("--smtp-port", type=int, default=0)
    p.add_argument("--http-port", type=int, default=0)
    p.add_argument("--auth", type=userpass, help="basic auth the provider API requires")
    p.add_argument("--callback-auth", type=userpass, help="basic auth sent with callbacks")
    p.add_argument("--callback-delay-ms", type=int, default=50)
    p.add_argument("--fail-every", type=int, default=0, help="every Nth creation answers 503")
    p.add_argument("--answer-seed", default="0", help="seed of the calls' outcomes")
    p.add_argument("--quiet", action="store_true", help="log errors only")
    args = p.parse_args(argv)
    if args.fail_every < 0 or args.callback_delay_ms < 0:
        p.error("--fail-every and --callback-delay-ms must not be negative")
    return args


def serve(state, smtp, http, banner=None):
    """Runs both servers until SIGTERM or SIGINT: the callback workers, "SMTP <port>",
    "HTTP <port>" and "READY" on stdout (after banner, logged), then an orderly stop. 0."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    state.start_callback_workers()
    smtp.start()
    threading.Thread(target=http.serve_forever, args=(0.2,), name="http", daemon=True).start()
    if banner:
        state.log(banner)
    print(f"SMTP {smtp.port}\nHTTP {http.server_address[1]}\nREADY", flush=True)
    while not stop.wait(0.5):
        pass
    state.log("stopping")
    http.shutdown()
    http.server_close()
    smtp.stop()
    state.close()
    return 0


def main(argv):
    args = parse_args(argv)
    logging.getLogger("mail.log").setLevel(logging.ERROR if args.quiet else logging.WARNING)
    try:
        os.makedirs(args.dir, exist_ok=True)
        state = Sinks(args)
        smtp = SmtpServer(state, args.smtp_port)
        http = ProviderServer(state, args.http_port)
    except OSError as e:
        print(f"outreach_sinks: error: cannot start: {e}", file=sys.stderr, flush=True)
        return 1

    return serve(state, smtp, http)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
