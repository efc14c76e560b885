/* outreach_channel: delivery of a rendered contact to the outside world. Email over SMTP and
 * SMS and voice calls through an HTTP API shaped like the common providers' (Twilio-like: a
 * form POST creating a message or a call, basic authentication, a status callback URL), with
 * libcurl. Each call is one attempt: it never retries by itself; it says whether and when a
 * retry may succeed, and outreach_channel_backoff_ms spaces the attempts.
 *
 * Process setup: libcurl's global state is the caller's. Call curl_global_init(
 * CURL_GLOBAL_DEFAULT) once in main() before any thread starts and before the first send, and
 * curl_global_cleanup() at exit. This module keeps no global mutable state: every call makes
 * and frees its own curl handle (one connection per call; no reuse between calls), does not
 * use signals (CURLOPT_NOSIGNAL), and may run in any number of threads at once.
 *
 * Never twice: the caller records the step as being sent with its idempotency key BEFORE the
 * call, and sends again with the SAME key after a crash or a retriable failure. The key goes
 * to the provider as a header (HTTP) and becomes the email's Message-ID, so a provider that
 * honours idempotency keys creates the message or call once, and a mail receiver can drop a
 * duplicate. So the key must name the step, not the attempt (no attempt number in it), and be
 * unique across tenants (e.g. "<tenant>.<step id>"): two steps sharing a key would be taken
 * for one. A timeout or a dropped connection after the request went out is reported
 * RETRIABLE although the provider may have acted on it: that is what the key is for.
 *
 * Outcome and return value agree: the function returns ARR_OK exactly when outcome is
 * OUTREACH_CHANNEL_ACCEPTED, and otherwise an error whose arr_err_classify matches it:
 * retriable for RETRIABLE, input (reject this contact, go on) for the EINVAL and ELIMIT of the
 * permanent outcomes, fatal for ECONFIG and ENOMEM (the caller decides whether that stops the
 * process or only pauses the channel):
 *   RETRIABLE          ARR_ETIMEOUT (connect or transfer timeout) or ARR_EHTTP (connection
 *                      refused or reset, DNS failure, any SMTP 4xx, SMTP 552 or 5.2.2 "mailbox
 *                      full" on RCPT, HTTP 408, 409, 425, 429, 5xx); retry_after_s is the
 *                      server's Retry-After when it sent one, else 0 (no hint: use the
 *                      backoff). Wait max(retry_after_s * 1000, outreach_channel_backoff_ms).
 *   PERMANENT_CONTACT  ARR_EINVAL: the address or number is bad; mark the contact point bad and
 *                      do not use it again. SMTP 5xx on RCPT with an enhanced status 5.1.x
 *                      (5.1.7 and 5.1.8, about our sender, excepted) or 5.2.1, or without one
 *                      550, 551, 553; HTTP 4xx with a code in bad_number_codes; a "to" that is
 *                      not an addr-spec / E.164 number (code "invalid_to"; nothing is sent).
 *   OPTED_OUT          ARR_EINVAL: the provider refuses because the consumer opted out with it
 *                      (a carrier-level STOP; HTTP 4xx with a code in opted_out_codes): record
 *                      an opt-out of this number for the channel, exactly like an inbound STOP.
 *   PERMANENT          the attempt can never succeed as made, and the contact point is not to
 *                      blame. ARR_EINVAL: a header value with CR/LF or another control
 *                      character, a missing part, invalid UTF-8, a bad idempotency key, SMTP
 *                      5xx on DATA (content refused) or another 5xx on RCPT (5.7.1 policy,
 *                      relaying), another HTTP 4xx. ARR_ELIMIT: a part too long. ARR_ECONFIG:
 *                      bad configuration or credentials (SMTP 5xx to the greeting, EHLO,
 *                      STARTTLS, AUTH or MAIL; STARTTLS unavailable when required; TLS
 *                      verification failed; HTTP 401, 403, 404, 407, 3xx): every later call
 *                      will fail the same way; alert. ARR_ENOMEM: out of memory.
 *
 * Ownership: configurations, messages and strings are borrowed for the call. The result is
 * caller-owned storage, cleared at the start of every call; its texts are NUL-terminated,
 * truncated to their arrays, free of control characters and never contain credentials. The
 * "to" address or number, as given, is replaced with "<to>" in detail (servers echo it).
 *
 * Responses are read into capped buffers: SMTP reply lines are kept to the last one (256
 * bytes); an HTTP body above max_response_bytes stops the transfer (the status still counts;
 * a 2xx then has no provider id). */
#ifndef ARREARS_OUTREACH_CHANNEL_H
#define ARREARS_OUTREACH_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"
#include "template.h"

#define OUTREACH_CHANNEL_KEY_MAX 200              /* idempotency key bytes, printable ASCII */
#define OUTREACH_CHANNEL_EMAIL_MAX (2u << 20)     /* a whole email as sent, after encoding */
#define OUTREACH_CHANNEL_SMS_BODY_MAX 4096        /* bytes of an sms body */
#define OUTREACH_CHANNEL_VOICE_MAX 4000           /* bytes of a voice script, as TwiML */
#define OUTREACH_CHANNEL_RESPONSE_MAX (64u << 10) /* default HTTP response cap */
#define OUTREACH_CHANNEL_CONNECT_TIMEOUT_MS 10000 /* default connect timeout */
#define OUTREACH_CHANNEL_TIMEOUT_MS 30000         /* default timeout of a whole call */
#define OUTREACH_CHANNEL_ID_MAX 400 /* provider_id and Message-ID buffers, NUL included */

typedef enum outreach_channel_outcome {
    OUTREACH_CHANNEL_ACCEPTED = 1,      /* the server or provider took it (not yet delivered) */
    OUTREACH_CHANNEL_RETRIABLE,         /* transient: the same call with the same key, later */
    OUTREACH_CHANNEL_PERMANENT_CONTACT, /* the address or number is bad: mark it bad */
    OUTREACH_CHANNEL_OPTED_OUT,         /* the provider says the consumer opted out */
    OUTREACH_CHANNEL_PERMANENT,         /* will never work as made; the contact point is fine */
} outreach_channel_outcome;

typedef struct outreach_channel_result {
    outreach_channel_outcome outcome;
    int status;        /* HTTP status; SMTP: the refusal's reply code, else the last reply's (250);
                          0 when no answer came */
    int retry_after_s; /* RETRIABLE: the server's Retry-After in seconds (capped at one day);
                          0 = no hint */
    /* ACCEPTED: the provider's id of the message or call ("sid"); for an email the
       Message-ID that was sent, with its angle brackets. */
    char provider_id[OUTREACH_CHANNEL_ID_MAX];
    char provider_status[32]; /* ACCEPTED over HTTP: the provider's "status" ("queued") */
    /* the provider's error code ("21211"), the SMTP enhanced status ("5.1.1") or reply code
       ("550"), or "curl:<n>" for a transport error; empty when none */
    char code[32];
    char detail[256]; /* what went wrong (or the SMTP server's final reply), for the logs */
} outreach_channel_result;

/* "accepted", "retriable", "permanent_contact", "opted_out", "permanent". Static. */
const char *outreach_channel_outcome_name(outreach_channel_outcome o);

/* ------------------------------------------------------------------ connections */

/* One thread's open connections, kept from one send to the next: an SMTP session sends the
 * next message with MAIL FROM (no connect, greeting, EHLO and QUIT per message) and the
 * provider's HTTP/1.1 connection stays open. curl drops one that died or idled too long and
 * connects again. Owned by its creator, freed with _free (which says QUIT); used by one
 * thread at a time. */
typedef struct outreach_channel_conns outreach_channel_conns;

arr_err outreach_channel_conns_new(outreach_channel_conns **out);
void outreach_channel_conns_free(outreach_channel_conns *c);

/* ------------------------------------------------------------------ email over SMTP */

typedef struct outreach_channel_smtp_cfg {
    /* smtp://host:port or smtps://host:port (TLS from the first byte). The path, if any, is
       the name sent in EHLO (curl's convention): smtp://mail.example:587/arrears.example. */
    const char *url;
    const char *username; /* NULL or "": no AUTH */
    const char *password;
    int use_tls;                   /* nonzero: STARTTLS required (CURLUSESSL_ALL), else fail */
    const char *ca_file;           /* PEM bundle to verify the server; NULL: the system's */
    const char *from;              /* envelope sender and From address, ASCII addr-spec; required */
    const char *from_name;         /* display name of From, UTF-8; NULL: none */
    const char *reply_to;          /* Reply-To address; NULL: none */
    const char *msgid_domain;      /* right side of Message-ID; NULL: the domain of from */
    long connect_timeout_ms;       /* 0: OUTREACH_CHANNEL_CONNECT_TIMEOUT_MS */
    long timeout_ms;               /* whole transaction; 0: OUTREACH_CHANNEL_TIMEOUT_MS */
    outreach_channel_conns *conns; /* borrowed; NULL: a connection per message */
} outreach_channel_smtp_cfg;

typedef struct outreach_email {
    const char *to;      /* ASCII addr-spec local@domain (an IDN domain in its A-label form) */
    const char *subject; /* UTF-8, one line; RFC 2047 encoded when not plain ASCII */
    const char *text;    /* UTF-8 plain-text body, required; any line ends (LF or CRLF) */
    const char *html;    /* UTF-8 html body; NULL: text-only email */
    const char *lang;    /* Content-Language ("en", "es"); NULL: none */
    /* http(s) opt-out link, required: List-Unsubscribe: <link> (and the mailto, when set) */
    const char *opt_out_link;
    const char *opt_out_mailto; /* "mailto:..." also offered in List-Unsubscribe; NULL: none */
    /* nonzero: List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058): set it only when
       the link accepts a POST that unsubscribes without any further step */
    int one_click;
    int64_t date_ms; /* Date header, Unix ms; 0: the current time */
} outreach_email;

/* Sends one email: MAIL FROM cfg->from, RCPT TO msg->to, then a message with From, To,
 * Subject, Date, Message-ID (outreach_channel_message_id of the key), List-Unsubscribe,
 * MIME-Version, Content-Language when set, and a body that is text/plain, or
 * multipart/alternative with text/plain then text/html; bodies are UTF-8 quoted-printable with
 * CRLF line ends and lines of at most 76 characters, so the message is 7-bit clean. Every
 * header value is checked: a CR, LF or other control character anywhere is ARR_EINVAL and
 * nothing is sent. */
arr_err outreach_channel_email_send(const outreach_channel_smtp_cfg *cfg, const outreach_email *msg,
                                    const char *idempotency_key, outreach_channel_result *res);

/* The Message-ID an email sent with this key carries: "<key@domain>" when the key is made of
 * [A-Za-z0-9._-] only (no leading, trailing or double dot), else "<h.<32 hex>@domain>" from a
 * hash of the key; domain is cfg->msgid_domain or the domain of cfg->from. Same key, same id.
 * ARR_EINVAL on a bad key or domain, ARR_ELIMIT when out is too small
 * (OUTREACH_CHANNEL_ID_MAX is enough). */
arr_err outreach_channel_message_id(const outreach_channel_smtp_cfg *cfg,
                                    const char *idempotency_key, char *out, size_t outlen);

/* 1 when a[0..n) is an addr-spec this module sends to: a dot-atom local part of at most 64
 * bytes (no quoted local parts), "@", a DNS name of two labels or more (no IP literals),
 * ASCII, 3..254 bytes. Pure; also what inbound replies are checked with. */
int outreach_channel_address_ok(const char *a, size_t n);

/* Fills *msg from a rendered email (borrowing its buffers: keep r alive while msg is used):
 * subject, text, html when it has one, lang. to, opt_out_link and the rest are the caller's
 * to set; the other fields are zeroed. ARR_EINVAL when r is not an email. */
arr_err outreach_channel_email_from_rendered(const outreach_rendered *r, outreach_email *msg);

/* ------------------------------------------------------------------ sms and voice over HTTP */

typedef struct outreach_channel_http_cfg {
    /* the account's API root: {base_url}/Messages and {base_url}/Calls are POSTed to, e.g.
       https://api.twilio.com/2010-04-01/Accounts/AC123 (a trailing "/" is fine) */
    const char *base_url;
    const char *account_sid; /* basic authentication user, required */
    const char *auth_token;  /* basic authentication password, required */
    const char *from;        /* From: the sending number (E.164) or sender id; required */
    /* header carrying the idempotency key; NULL: "Idempotency-Key" (Twilio: "I-Twilio-
       Idempotency-Token") */
    const char *idempotency_header;
    const char *ca_file;       /* PEM bundle to verify the server; NULL: the system's */
    long connect_timeout_ms;   /* 0: OUTREACH_CHANNEL_CONNECT_TIMEOUT_MS */
    long timeout_ms;           /* whole request; 0: OUTREACH_CHANNEL_TIMEOUT_MS */
    size_t max_response_bytes; /* 0: OUTREACH_CHANNEL_RESPONSE_MAX */
    /* provider error codes (as decimal text) meaning "this number is bad" and "this number
       opted out"; NULL-terminated arrays; NULL: the Twilio codes shared with the delivery
       callbacks, outreach_callback_bad_number_codes and _opted_out_codes (callback.h) */
    const char *const *bad_number_codes;
    const char *const *opted_out_codes;
    int machine_detection; /* calls: MachineDetection=Enable (voicemail vs human in callbacks) */
    outreach_channel_conns *conns; /* borrowed; NULL: a connection per request */
} outreach_channel_http_cfg;

/* POST {base_url}/Messages, application/x-www-form-urlencoded: To, From, Body, StatusCallback
 * (when status_callback_url is not NULL), with basic authentication and the idempotency
 * header. to: E.164 ("+15551234567"), else PERMANENT_CONTACT and nothing is sent. body: UTF-8,
 * 1..OUTREACH_CHANNEL_SMS_BODY_MAX bytes. status_callback_url: http(s) or NULL. A 2xx answer
 * is ACCEPTED with the JSON "sid" and "status"; an error answer's JSON "code" and "message"
 * go to code and detail. */
arr_err outreach_channel_sms_send(const outreach_channel_http_cfg *cfg, const char *to,
                                  const char *body, const char *status_callback_url,
                                  const char *idempotency_key, outreach_channel_result *res);

/* POST {base_url}/Calls: To, From, StatusCallback, and either Url (script_url_or_text is an
 * http(s) URL the provider fetches the call script from) or Twiml
 * ("<Response><Say>text</Say></Response>", the text XML-escaped; at most
 * OUTREACH_CHANNEL_VOICE_MAX bytes), MachineDetection when configured. Same answers as sms. */
arr_err outreach_channel_voice_call(const outreach_channel_http_cfg *cfg, const char *to,
                                    const char *script_url_or_text, const char *status_callback_url,
                                    const char *idempotency_key, outreach_channel_result *res);
/* Same, with the language the text is spoken in: <Say language="..."> ("en" -> "en-US",
 * "es" -> "es-US"; another tag [A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})* as given; NULL: none). */
arr_err outreach_channel_voice_call_lang(const outreach_channel_http_cfg *cfg, const char *to,
                                         const char *lang, const char *script_url_or_text,
                                         const char *status_callback_url,
                                         const char *idempotency_key, outreach_channel_result *res);

/* ------------------------------------------------------------------ backoff */

/* Delay before retry number attempt (1 = the first retry) in ms, pure: the exponential
 * e = base_ms * 2^(attempt-1), capped at cap_ms, then "equal jitter": e/2 plus a deterministic
 * share of e/2 drawn from jitter_seed and attempt (splitmix64), so the result is in [e/2, e],
 * never above cap_ms, the same for the same arguments, and spread between accounts when the
 * seed differs (seed with e.g. a hash of the idempotency key). attempt < 1 counts as 1;
 * base_ms <= 0 or cap_ms <= 0 gives 0; cap_ms < base_ms caps at cap_ms. No overflow for any
 * argument. */
int64_t outreach_channel_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
                                    uint64_t jitter_seed);

#endif
