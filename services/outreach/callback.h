/* outreach_callback: what the providers tell us back, as typed values. The SMS and voice
 * provider (Twilio-shaped, see channel.h) POSTs application/x-www-form-urlencoded status
 * callbacks for messages and calls and forwards inbound texts; the email side POSTs inbound
 * replies in a minimal form of our own (below). This module decodes those bodies, checks every
 * field it uses, derives what a status means for the outreach engine, and classifies what a
 * consumer wrote (STOP, dispute, attorney...). Pure: no I/O, no clock, no global state; every
 * function may run in any number of threads at once.
 *
 * Caps (untrusted input never grows anything without bound):
 *   - a body of at most OUTREACH_CALLBACK_BODY_MAX bytes, at most OUTREACH_CALLBACK_FIELDS_MAX
 *     fields, a name of 1..OUTREACH_CALLBACK_NAME_MAX printable ASCII characters; above a cap
 *     ARR_ELIMIT, nothing is allocated;
 *   - one allocation per decoded form (at most the body's size plus a few bytes), one per
 *     inbound email (its text), one per intent classification (the folded text).
 *
 * Decoding: fields are separated by '&' (empty ones skipped), the name ends at the first '=';
 * '+' is a space and %XX a byte. A bad escape, a NUL byte (raw or decoded), a value that is not
 * UTF-8, a name given twice: ARR_EINVAL. Names are case-sensitive, as the providers send them;
 * fields this module does not use (AccountSid, ApiVersion, SmsSid...) are ignored.
 *
 * Errors: every fallible function returns an arr_err, writes its out-parameter only on ARR_OK,
 * and says why in why/whylen (may be NULL) naming the field: "field MessageStatus: unknown
 * value \"x\"". Reasons never quote a phone number, an address or a text a consumer wrote.
 *
 * Ownership (who frees what):
 *   - outreach_callback_form: the struct is the caller's (it may live on the stack); the
 *     decoded names and values live in one buffer the form owns, released by
 *     outreach_callback_form_free. The body passed in is borrowed for the call.
 *     outreach_callback_form_get returns a pointer into the form: valid until it is freed.
 *   - outreach_callback_status and outreach_callback_inbound_sms hold copies in fixed arrays:
 *     nothing to free, they outlive the form.
 *   - outreach_callback_inbound_email copies too, but owns its text (body): release it with
 *     outreach_callback_inbound_email_free.
 *   - Name functions and outreach_callback_intent_out.matched return static strings. */
#ifndef ARREARS_OUTREACH_CALLBACK_H
#define ARREARS_OUTREACH_CALLBACK_H

#include <stddef.h>
#include "arrears/err.h"

#define OUTREACH_CALLBACK_BODY_MAX (64u << 10) /* bytes of a form body */
#define OUTREACH_CALLBACK_FIELDS_MAX 64        /* fields of a form */
#define OUTREACH_CALLBACK_NAME_MAX 64          /* bytes of a field name */
#define OUTREACH_CALLBACK_SID_MAX 64           /* a provider sid: [A-Za-z0-9]{2,64} */
#define OUTREACH_CALLBACK_CODE_MAX 15          /* digits of a provider error code */
#define OUTREACH_CALLBACK_NUMBER_MAX 16        /* "+" and 15 digits (E.164) */
#define OUTREACH_CALLBACK_SMS_BODY_MAX 1600    /* bytes of an inbound text (10 segments) */
#define OUTREACH_CALLBACK_ID_MAX 998           /* a Message-ID: one header line (RFC 5322) */
#define OUTREACH_CALLBACK_ADDR_MAX 254         /* an addr-spec (RFC 5321 path limit) */

/* ------------------------------------------------------------------ forms */

typedef struct outreach_callback_field {
    const char *name;  /* NUL-terminated, printable ASCII */
    const char *value; /* NUL-terminated UTF-8 without NUL; "" when the field had no "=" */
    size_t value_len;
} outreach_callback_field;

typedef struct outreach_callback_form {
    size_t count; /* fields, in the body's order */
    outreach_callback_field fields[OUTREACH_CALLBACK_FIELDS_MAX];
    char *buf; /* owned: the decoded names and values */
} outreach_callback_form;

/* Decodes body[0, len) into *out. ARR_ELIMIT when len > OUTREACH_CALLBACK_BODY_MAX or there
 * are more than OUTREACH_CALLBACK_FIELDS_MAX fields; ARR_EINVAL for the decoding errors above;
 * ARR_ENOMEM. On error *out is untouched and there is nothing to free. */
arr_err outreach_callback_form_parse(const char *body, size_t len, outreach_callback_form *out,
                                     char *why, size_t whylen);

/* Releases the form's buffer and zeroes it. A zeroed form, or NULL, is fine. */
void outreach_callback_form_free(outreach_callback_form *f);

/* The value of the field called name (exact case), NULL when absent. Borrowed from f. */
const char *outreach_callback_form_get(const outreach_callback_form *f, const char *name);

/* ------------------------------------------------------------------ status callbacks */

typedef enum outreach_callback_kind {
    OUTREACH_CALLBACK_MESSAGE = 1, /* MessageSid and MessageStatus */
    OUTREACH_CALLBACK_CALL,        /* CallSid and CallStatus */
} outreach_callback_kind;

/* The provider's status, message and call values in one enum. Which are accepted depends on
 * the kind: a MessageStatus "ringing" is an unknown value. */
typedef enum outreach_callback_state {
    /* MessageStatus. accepted and scheduled (a messaging service's first statuses) are
       accepted too, so a real callback is not dead-lettered for them. */
    OUTREACH_CALLBACK_ST_ACCEPTED = 1,
    OUTREACH_CALLBACK_ST_SCHEDULED,
    OUTREACH_CALLBACK_ST_QUEUED, /* message or call */
    OUTREACH_CALLBACK_ST_SENDING,
    OUTREACH_CALLBACK_ST_SENT,
    OUTREACH_CALLBACK_ST_DELIVERED,
    OUTREACH_CALLBACK_ST_UNDELIVERED,
    OUTREACH_CALLBACK_ST_FAILED, /* message or call */
    OUTREACH_CALLBACK_ST_READ,
    OUTREACH_CALLBACK_ST_CANCELED, /* message or call */
    /* CallStatus */
    OUTREACH_CALLBACK_ST_INITIATED,
    OUTREACH_CALLBACK_ST_RINGING,
    OUTREACH_CALLBACK_ST_IN_PROGRESS,
    OUTREACH_CALLBACK_ST_COMPLETED,
    OUTREACH_CALLBACK_ST_BUSY,
    OUTREACH_CALLBACK_ST_NO_ANSWER,
} outreach_callback_state;

/* AnsweredBy, sent on calls placed with machine detection. */
typedef enum outreach_callback_answered_by {
    OUTREACH_CALLBACK_AB_NONE = 0, /* absent or empty: no machine detection */
    OUTREACH_CALLBACK_AB_HUMAN,
    OUTREACH_CALLBACK_AB_MACHINE_START,
    OUTREACH_CALLBACK_AB_MACHINE_END_BEEP,
    OUTREACH_CALLBACK_AB_MACHINE_END_SILENCE,
    OUTREACH_CALLBACK_AB_MACHINE_END_OTHER,
    OUTREACH_CALLBACK_AB_FAX,
    OUTREACH_CALLBACK_AB_UNKNOWN, /* detection ran and could not tell */
} outreach_callback_answered_by;

/* What a status means for the outreach engine. */
typedef enum outreach_callback_outcome {
    OUTREACH_CALLBACK_PENDING = 1, /* not final: queued, sending, sent, initiated, ringing... */
    OUTREACH_CALLBACK_DELIVERED,   /* delivered, read */
    /* undelivered or failed message (code neither bad-number nor opted-out), or a canceled
       message (it never went out): the step may be tried again */
    OUTREACH_CALLBACK_UNDELIVERED_RETRY,
    OUTREACH_CALLBACK_BAD_CONTACT,    /* failed with a bad-number code: mark the number bad */
    OUTREACH_CALLBACK_OPTED_OUT,      /* failed with an opted-out code: record an opt-out */
    OUTREACH_CALLBACK_CALL_NO_ANSWER, /* no-answer, busy, canceled, failed (other codes) */
    OUTREACH_CALLBACK_CALL_VOICEMAIL, /* completed, AnsweredBy machine_* or fax */
    /* completed and AnsweredBy human; or without a verdict (none, unknown) and CallDuration > 0:
       counting a conversation that was not one only makes the 7-in-7 rule stricter */
    OUTREACH_CALLBACK_CALL_CONVERSATION,
    OUTREACH_CALLBACK_CALL_ATTEMPT, /* completed without a verdict, duration 0 or not sent */
} outreach_callback_outcome;

typedef struct outreach_callback_status {
    outreach_callback_kind kind;
    char sid[OUTREACH_CALLBACK_SID_MAX + 1];
    outreach_callback_state status;
    char error_code[OUTREACH_CALLBACK_CODE_MAX + 1]; /* ErrorCode, digits; "" when none */
    outreach_callback_answered_by answered_by;       /* calls only; NONE for messages */
    int duration_s; /* CallDuration in seconds; -1 when not sent (and for messages) */
    outreach_callback_outcome outcome; /* outreach_callback_outcome_of(s, NULL, NULL) */
} outreach_callback_status;

/* The provider error codes (decimal text, NULL-terminated) meaning "this number is bad" and
 * "this consumer opted out with the provider": the one default list, used by channel.c when a
 * send is refused (outreach_channel_http_cfg's NULL lists) and here for delivery callbacks.
 * The bad numbers are the codes a send can be refused with and those that only come in
 * delivery callbacks: 30003 unreachable handset, 30005 unknown destination, 30006 landline or
 * unreachable carrier. 21408 (no permission for the region) is left out on purpose: it is our
 * account's setting, not the consumer's number. 30004 (message blocked) is not an opt-out: a
 * carrier also blocks for its own reasons; it retries like any other failure. */
extern const char *const outreach_callback_bad_number_codes[];
extern const char *const outreach_callback_opted_out_codes[];

/* Decodes a status callback. A message form has MessageSid (and MessageStatus, not CallSid),
 * a call form CallSid (and CallStatus); both or neither is ARR_EINVAL. Sid: [A-Za-z0-9]{2,64};
 * the status: one of the kind's values above; ErrorCode: digits or empty; AnsweredBy (calls):
 * one of the values above or empty; CallDuration (calls): 0..999999999 or empty. The outcome
 * is derived with the default code lists. */
arr_err outreach_callback_status_parse(const outreach_callback_form *f,
                                       outreach_callback_status *out, char *why, size_t whylen);

/* The outcome of s with these code lists (NULL-terminated, as outreach_channel_http_cfg's
 * bad_number_codes and opted_out_codes: pass the same arrays a tenant configured there; NULL:
 * the defaults above). A bad-number code wins over an opted-out one, as in channel.c; codes
 * count only on undelivered and failed. s must be a parsed status (PENDING for NULL). */
outreach_callback_outcome outreach_callback_outcome_of(const outreach_callback_status *s,
                                                       const char *const *bad_number_codes,
                                                       const char *const *opted_out_codes);

/* ------------------------------------------------------------------ inbound messages */

/* An inbound text: MessageSid, From, To, Body. */
typedef struct outreach_callback_inbound_sms {
    char sid[OUTREACH_CALLBACK_SID_MAX + 1];
    char from[OUTREACH_CALLBACK_NUMBER_MAX + 1]; /* E.164: ^\+[1-9][0-9]{7,14}$ */
    char to[OUTREACH_CALLBACK_NUMBER_MAX + 1];   /* our number (E.164) or short code (3-8 digits) */
    char body[OUTREACH_CALLBACK_SMS_BODY_MAX + 1]; /* UTF-8, may be empty (a picture only) */
    size_t body_len;
} outreach_callback_inbound_sms;

/* Decodes an inbound text. Body is required but may be empty; longer than
 * OUTREACH_CALLBACK_SMS_BODY_MAX bytes is ARR_ELIMIT. */
arr_err outreach_callback_inbound_sms_parse(const outreach_callback_form *f,
                                            outreach_callback_inbound_sms *out, char *why,
                                            size_t whylen);

/* An inbound email reply, as our mail gateway POSTs it (form-urlencoded, UTF-8):
 *   message_id   required: the reply's Message-ID, printable ASCII ("<abc@mail.example>")
 *   from         required: an addr-spec "local@domain", or "Name <local@domain>"
 *   to           optional: the address it was sent to (not checked, not kept)
 *   subject      optional: the decoded Subject
 *   text         optional: the plain-text body, decoded
 *   in_reply_to  optional: the In-Reply-To header as received
 * The quoted part of a reply is dropped from text before anything reads it: lines starting
 * with ">" and everything from a separator on ("On ... wrote:", "El ... escribió:",
 * "-----Original Message-----", "-----Mensaje original-----", a line of 10+ "_"), because our
 * own message quoted back ("you have the right to dispute...") would otherwise read as the
 * consumer's words. */
typedef struct outreach_callback_inbound_email {
    char message_id[OUTREACH_CALLBACK_ID_MAX + 1]; /* as given, surrounding blanks removed */
    char from[OUTREACH_CALLBACK_ADDR_MAX + 1];     /* the addr-spec, its domain lower-cased */
    /* the first "<...>" token of in_reply_to, brackets included, as channel.c's provider_id
       of an email; "" when absent or without one. Parsing it is the caller's. */
    char in_reply_to[OUTREACH_CALLBACK_ID_MAX + 1];
    /* owned: subject "\n" text (the quoted part dropped), NUL-terminated; the subject is
       body[0, subject_len) and the text starts at body + subject_len + 1 */
    char *body;
    size_t body_len;
    size_t subject_len;
} outreach_callback_inbound_email;

arr_err outreach_callback_inbound_email_parse(const outreach_callback_form *f,
                                              outreach_callback_inbound_email *out, char *why,
                                              size_t whylen);

/* Releases m->body and zeroes *m. A zeroed struct, or NULL, is fine. */
void outreach_callback_inbound_email_free(outreach_callback_inbound_email *m);

/* ------------------------------------------------------------------ intent */

/* What the consumer wrote. The names are the reply.received schema's intent enum. */
typedef enum outreach_callback_reply_intent {
    OUTREACH_CALLBACK_INTENT_STOP = 1,
    OUTREACH_CALLBACK_INTENT_DISPUTE,
    OUTREACH_CALLBACK_INTENT_ORIGINAL_CREDITOR_REQUEST,
    OUTREACH_CALLBACK_INTENT_ATTORNEY,
    OUTREACH_CALLBACK_INTENT_PROMISE,
    OUTREACH_CALLBACK_INTENT_PAID,
    OUTREACH_CALLBACK_INTENT_OTHER,
} outreach_callback_reply_intent;

typedef struct outreach_callback_intent_out {
    outreach_callback_reply_intent intent;
    char keyword[16]; /* STOP: the canonical keyword ("STOP", "OPT OUT"); else "" */
    /* static: the phrase that decided, folded ("not my debt", "disput*"); NULL for STOP and
       OTHER. For the audit trail: why a reply was read this way. */
    const char *matched;
} outreach_callback_intent_out;

/* Classifies a text (an sms body; for an email see below). STOP when the whole text is a
 * TCPA keyword (outreach_compliance_stop_keyword). Otherwise the text is folded (lower case,
 * á é í ó ú ñ ü and the other Latin-1 letters to their base letter, apostrophes dropped, any
 * other punctuation a space) and searched for English and Spanish phrases on word boundaries:
 *   attorney  "attorney", "lawyer", "abogado" (and plurals, "abogada")
 *   dispute   "dispute" (disputed, disputo...), "not my debt", "not mine", "don't owe",
 *             "do not owe", "no es mi deuda", "no debo"
 *   original_creditor_request  "original creditor", "acreedor original"
 *   paid      "already paid", "i paid", "paid it", "paid in full", "i've paid", "i have paid",
 *             "ya pagué", "ya lo pagué"
 *   promise   "i will pay", "i'll pay", "will pay on", "pagaré", "voy a pagar"
 * A paid or promise phrase right after a negation (not, no, never, nunca, don't, didn't,
 * won't, can't, haven't, hasn't) does not count: "I haven't paid it", "no voy a pagar".
 * "not paid", "didn't pay", "no he pagado" match nothing and read as OTHER.
 * Precedence when several match: STOP > ATTORNEY > DISPUTE > ORIGINAL_CREDITOR_REQUEST > PAID
 * > PROMISE > OTHER (see callback.c). ARR_EINVAL on NULL; ARR_ENOMEM. Invalid UTF-8 bytes are
 * read as spaces: a reply is classified, never lost. */
arr_err outreach_callback_intent(const char *text, outreach_callback_intent_out *out);

/* Classifies an inbound email: STOP when its subject (without "Re:", "Fwd:", "RV:"... prefixes)
 * or any line of its text is, by itself, a keyword ("STOP" above "Sent from my phone");
 * otherwise outreach_callback_intent(m->body). ARR_EINVAL on NULL or a body-less m. */
arr_err outreach_callback_email_intent(const outreach_callback_inbound_email *m,
                                       outreach_callback_intent_out *out);

/* ------------------------------------------------------------------ names (static) */

const char *outreach_callback_kind_name(outreach_callback_kind k); /* "message", "call" */
/* the provider's spelling: "queued", "in-progress", "no-answer"... */
const char *outreach_callback_state_name(outreach_callback_state s);
/* "none", "human", "machine_start", ..., "fax", "unknown" */
const char *outreach_callback_answered_by_name(outreach_callback_answered_by a);
/* "pending", "delivered", "undelivered_retry", "bad_contact", "opted_out", "call_no_answer",
 * "call_voicemail", "call_conversation", "call_attempt" */
const char *outreach_callback_outcome_name(outreach_callback_outcome o);
/* "stop", "dispute", "original_creditor_request", "attorney", "promise", "paid", "other" */
const char *outreach_callback_intent_name(outreach_callback_reply_intent i);
/* Out-of-range values give "unknown" (not a schema value: a bug to see, not to publish). */

#endif
