/* Unit tests of services/outreach/callback.c: form decoding and its caps, Twilio-shaped status
 * callbacks for every status and outcome, inbound texts and emails (with the quoted part of a
 * reply dropped), the reply intent in English and Spanish (negations, precedence), and the
 * names, checked against the reply.received schema itself.
 *
 * The bodies are built like the provider's: the fields it really sends (AccountSid,
 * ApiVersion, SmsSid, Called*, Caller*...) around the ones the module reads, percent-encoded
 * as it encodes them ("+" for a space, %2B for "+", %3A for ":"). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callback.h"

#define SCHEMA ARR_SOURCE_DIR "/proto/schemas/reply.received.schema.json"
#define MSG_SID "SM1f0e8ae6ade43cb3c0ce4525424e404f"
#define CALL_SID "CA4f1e2d3c4b5a69788796a5b4c3d2e1f0"
#define ACCOUNT "AC7a9f2c3d4e5f60718293a4b5c6d7e8f9"

static void form_ok(const char *body, outreach_callback_form *f)
{
    char why[256] = "";
    arr_err e = outreach_callback_form_parse(body, strlen(body), f, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s -> %s", body, why);
}

/* ------------------------------------------------------------------ forms */

Test(form, decodes_plus_percent_and_empty_fields)
{
    outreach_callback_form f;
    form_ok("To=%2B15558675310&Body=Hello+there%21+%C2%BFQu%C3%A9%3F&Empty=&Flag&Eq=a%3Db=c"
            "&&Lower=%2b",
            &f);
    cr_assert_eq(f.count, 6);
    static const char *const names[] = {"To", "Body", "Empty", "Flag", "Eq", "Lower"};
    static const char *const values[] = {
        "+15558675310", "Hello there! \xc2\xbfQu\xc3\xa9?", "", "", "a=b=c", "+"};
    for (size_t i = 0; i < 6; i++) {
        cr_assert_str_eq(f.fields[i].name, names[i]);
        cr_assert_str_eq(f.fields[i].value, values[i], "field %zu", i);
        cr_assert_eq(f.fields[i].value_len, strlen(values[i]));
        cr_assert_eq(outreach_callback_form_get(&f, names[i]), f.fields[i].value);
    }
    cr_assert_null(outreach_callback_form_get(&f, "body"), "names are case-sensitive");
    cr_assert_null(outreach_callback_form_get(&f, "Missing"));
    cr_assert_null(outreach_callback_form_get(NULL, "To"));
    cr_assert_null(outreach_callback_form_get(&f, NULL));
    outreach_callback_form_free(&f);
    cr_assert_eq(f.count, 0);
    cr_assert_null(f.buf);
    outreach_callback_form_free(&f); /* twice is fine */
    outreach_callback_form_free(NULL);
}

Test(form, empty_body_and_separators_only)
{
    outreach_callback_form f;
    char why[64] = "";
    cr_assert_eq(outreach_callback_form_parse(NULL, 0, &f, why, sizeof why), ARR_OK);
    cr_assert_eq(f.count, 0);
    outreach_callback_form_free(&f);
    form_ok("&&&", &f);
    cr_assert_eq(f.count, 0);
    outreach_callback_form_free(&f);
    form_ok("&a=1&", &f);
    cr_assert_eq(f.count, 1);
    cr_assert_str_eq(outreach_callback_form_get(&f, "a"), "1");
    outreach_callback_form_free(&f);
}

typedef struct bad_form {
    const char *body;
    size_t len; /* 0: strlen(body) */
    arr_err err;
    const char *why;
} bad_form;

static const bad_form BAD_FORMS[] = {
    {"Body=100%", 0, ARR_EINVAL, "field Body: bad %-escape"},
    {"Body=%G1", 0, ARR_EINVAL, "field Body: bad %-escape"},
    {"Body=%4", 0, ARR_EINVAL, "field Body: bad %-escape"},
    {"Body=a%00b", 0, ARR_EINVAL, "field Body: NUL byte"},
    {"Body=a\0b", 8, ARR_EINVAL, "field Body: NUL byte"}, /* raw NUL */
    {"MessageSid=SM1&To=%2B1&MessageSid=SM2", 0, ARR_EINVAL, "field MessageSid: given twice"},
    {"Body=%FF", 0, ARR_EINVAL, "field Body: invalid UTF-8"},
    {"Body=%C3", 0, ARR_EINVAL, "field Body: invalid UTF-8"},          /* cut sequence */
    {"Body=%C0%AF", 0, ARR_EINVAL, "field Body: invalid UTF-8"},       /* overlong "/" */
    {"Body=%ED%A0%80", 0, ARR_EINVAL, "field Body: invalid UTF-8"},    /* surrogate */
    {"Body=%F4%90%80%80", 0, ARR_EINVAL, "field Body: invalid UTF-8"}, /* above U+10FFFF */
    {"Body=caf\xe9", 0, ARR_EINVAL, "field Body: invalid UTF-8"},      /* raw Latin-1 */
    {"=x", 0, ARR_EINVAL,
     "field #1: name is not 1..64 printable ASCII characters (or has a bad %-escape)"},
    {"a=1&%ZZ=2", 0, ARR_EINVAL,
     "field #2: name is not 1..64 printable ASCII characters (or has a bad %-escape)"},
    {"a+b=1", 0, ARR_EINVAL,
     "field #1: name is not 1..64 printable ASCII characters (or has a bad %-escape)"},
    {"%00=1", 0, ARR_EINVAL,
     "field #1: name is not 1..64 printable ASCII characters (or has a bad %-escape)"},
    {"N%C3%A9=1", 0, ARR_EINVAL,
     "field #1: name is not 1..64 printable ASCII characters (or has a bad %-escape)"},
};

Test(form, bad_bodies_name_the_field)
{
    for (size_t i = 0; i < sizeof BAD_FORMS / sizeof BAD_FORMS[0]; i++) {
        const bad_form *t = &BAD_FORMS[i];
        outreach_callback_form f;
        memset(&f, 0xAB, sizeof f);
        f.count = 99;
        char why[256] = "";
        arr_err e = outreach_callback_form_parse(t->body, t->len ? t->len : strlen(t->body), &f,
                                                 why, sizeof why);
        cr_assert_eq(e, t->err, "case %zu (%s): %d", i, t->body, e);
        cr_assert_str_eq(why, t->why, "case %zu", i);
        cr_assert_eq(f.count, 99, "case %zu: out written on error", i);
    }
}

Test(form, name_length_cap)
{
    char body[200];
    memset(body, 'N', 64);
    strcpy(body + 64, "=v");
    outreach_callback_form f;
    form_ok(body, &f);
    cr_assert_eq(strlen(f.fields[0].name), 64);
    outreach_callback_form_free(&f);
    memset(body, 'N', 65);
    strcpy(body + 65, "=v");
    char why[256] = "";
    cr_assert_eq(outreach_callback_form_parse(body, strlen(body), &f, why, sizeof why), ARR_EINVAL);
}

Test(form, body_size_cap)
{
    size_t max = OUTREACH_CALLBACK_BODY_MAX;
    cr_assert_eq(max, 65536);
    char *body = malloc(max + 2);
    cr_assert_not_null(body);
    memcpy(body, "Body=", 5);
    memset(body + 5, 'a', max - 5);
    body[max] = '\0';
    outreach_callback_form f;
    char why[128] = "";
    cr_assert_eq(outreach_callback_form_parse(body, max, &f, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(f.count, 1);
    cr_assert_eq(f.fields[0].value_len, max - 5);
    outreach_callback_form_free(&f);

    body[max] = 'a';
    body[max + 1] = '\0';
    f.count = 7;
    cr_assert_eq(outreach_callback_form_parse(body, max + 1, &f, why, sizeof why), ARR_ELIMIT);
    cr_assert_str_eq(why, "form: body of 65537 bytes, more than 65536");
    cr_assert_eq(f.count, 7);
    free(body);
}

Test(form, field_count_cap)
{
    char body[1024] = "";
    size_t n = 0;
    for (int i = 0; i < OUTREACH_CALLBACK_FIELDS_MAX; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%sf%d=%d", i ? "&" : "", i, i);
    outreach_callback_form f;
    form_ok(body, &f);
    cr_assert_eq(f.count, 64);
    cr_assert_str_eq(outreach_callback_form_get(&f, "f63"), "63");
    outreach_callback_form_free(&f);

    snprintf(body + n, sizeof body - n, "&f64=64");
    char why[128] = "";
    f.count = 5;
    cr_assert_eq(outreach_callback_form_parse(body, strlen(body), &f, why, sizeof why), ARR_ELIMIT);
    cr_assert_str_eq(why, "form: 65 fields, more than 64");
    cr_assert_eq(f.count, 5);
}

Test(form, null_arguments)
{
    outreach_callback_form f;
    char why[64] = "";
    cr_assert_eq(outreach_callback_form_parse(NULL, 3, &f, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "form: NULL argument");
    cr_assert_eq(outreach_callback_form_parse("a=1", 3, NULL, NULL, 0), ARR_EINVAL);
}

/* ------------------------------------------------------------------ status callbacks */

/* A message status callback as Twilio posts it. */
static void message_body(char *out, size_t outlen, const char *status, const char *extra)
{
    snprintf(out, outlen,
             "ApiVersion=2010-04-01&MessageStatus=%s&SmsSid=" MSG_SID "&SmsStatus=%s"
             "&To=%%2B15558675310&MessageSid=" MSG_SID "&AccountSid=" ACCOUNT
             "&From=%%2B15017250604%s",
             status, status, extra);
}

/* A call status callback as Twilio posts it (call-progress events). */
static void call_body(char *out, size_t outlen, const char *status, const char *extra)
{
    snprintf(out, outlen,
             "Called=%%2B15558675310&ToState=CA&CallerCountry=US&Direction=outbound-api"
             "&Timestamp=Tue%%2C+16+Jun+2026+14%%3A00%%3A05+%%2B0000"
             "&CallbackSource=call-progress-events&CallerState=CA&ToZip=94105&SequenceNumber=3"
             "&CallSid=" CALL_SID "&To=%%2B15558675310&ToCountry=US&ApiVersion=2010-04-01"
             "&CalledCity=SAN+FRANCISCO&CallStatus=%s&From=%%2B15017250604&AccountSid=" ACCOUNT
             "&Caller=%%2B15017250604&FromCity=SAN+FRANCISCO%s",
             status, extra);
}

typedef struct status_case {
    outreach_callback_kind kind;
    const char *status;
    const char *extra; /* more fields, each with its leading "&" */
    outreach_callback_state state;
    const char *error_code;
    outreach_callback_answered_by answered_by;
    int duration_s;
    outreach_callback_outcome outcome;
} status_case;

#define M OUTREACH_CALLBACK_MESSAGE
#define C OUTREACH_CALLBACK_CALL
#define ST(x) OUTREACH_CALLBACK_ST_##x
#define AB(x) OUTREACH_CALLBACK_AB_##x
#define OC(x) OUTREACH_CALLBACK_##x

static const status_case STATUS_CASES[] = {
    /* messages: not final */
    {M, "accepted", "", ST(ACCEPTED), "", AB(NONE), -1, OC(PENDING)},
    {M, "scheduled", "", ST(SCHEDULED), "", AB(NONE), -1, OC(PENDING)},
    {M, "queued", "", ST(QUEUED), "", AB(NONE), -1, OC(PENDING)},
    {M, "sending", "", ST(SENDING), "", AB(NONE), -1, OC(PENDING)},
    {M, "sent", "", ST(SENT), "", AB(NONE), -1, OC(PENDING)},
    /* delivered; codes do not count on success; AnsweredBy on a message is not read */
    {M, "delivered", "", ST(DELIVERED), "", AB(NONE), -1, OC(DELIVERED)},
    {M, "delivered", "&ErrorCode=30003&AnsweredBy=robot", ST(DELIVERED), "30003", AB(NONE), -1,
     OC(DELIVERED)},
    {M, "read", "", ST(READ), "", AB(NONE), -1, OC(DELIVERED)},
    /* bad numbers: channel.c's create-time codes and the delivery-time ones */
    {M, "undelivered", "&ErrorCode=30003", ST(UNDELIVERED), "30003", AB(NONE), -1, OC(BAD_CONTACT)},
    {M, "undelivered", "&ErrorCode=30005", ST(UNDELIVERED), "30005", AB(NONE), -1, OC(BAD_CONTACT)},
    {M, "undelivered", "&ErrorCode=30006", ST(UNDELIVERED), "30006", AB(NONE), -1, OC(BAD_CONTACT)},
    {M, "failed", "&ErrorCode=21211", ST(FAILED), "21211", AB(NONE), -1, OC(BAD_CONTACT)},
    {M, "failed", "&ErrorCode=21614", ST(FAILED), "21614", AB(NONE), -1, OC(BAD_CONTACT)},
    {M, "failed", "&ErrorCode=21612", ST(FAILED), "21612", AB(NONE), -1, OC(BAD_CONTACT)},
    /* the carrier-level STOP */
    {M, "failed", "&ErrorCode=21610", ST(FAILED), "21610", AB(NONE), -1, OC(OPTED_OUT)},
    {M, "undelivered", "&ErrorCode=21610", ST(UNDELIVERED), "21610", AB(NONE), -1, OC(OPTED_OUT)},
    /* anything else may work later: carrier violation, blocked, queue overflow, our region
       permission, no code at all, a canceled (never sent) message */
    {M, "undelivered", "&ErrorCode=30007", ST(UNDELIVERED), "30007", AB(NONE), -1,
     OC(UNDELIVERED_RETRY)},
    {M, "undelivered", "&ErrorCode=30004", ST(UNDELIVERED), "30004", AB(NONE), -1,
     OC(UNDELIVERED_RETRY)},
    {M, "failed", "&ErrorCode=30001", ST(FAILED), "30001", AB(NONE), -1, OC(UNDELIVERED_RETRY)},
    {M, "failed", "&ErrorCode=21408", ST(FAILED), "21408", AB(NONE), -1, OC(UNDELIVERED_RETRY)},
    {M, "undelivered", "", ST(UNDELIVERED), "", AB(NONE), -1, OC(UNDELIVERED_RETRY)},
    {M, "failed", "&ErrorCode=", ST(FAILED), "", AB(NONE), -1, OC(UNDELIVERED_RETRY)},
    {M, "canceled", "", ST(CANCELED), "", AB(NONE), -1, OC(UNDELIVERED_RETRY)},
    /* calls: not final */
    {C, "queued", "", ST(QUEUED), "", AB(NONE), -1, OC(PENDING)},
    {C, "initiated", "", ST(INITIATED), "", AB(NONE), -1, OC(PENDING)},
    {C, "ringing", "", ST(RINGING), "", AB(NONE), -1, OC(PENDING)},
    {C, "in-progress", "&AnsweredBy=human", ST(IN_PROGRESS), "", AB(HUMAN), -1, OC(PENDING)},
    /* nobody */
    {C, "busy", "&CallDuration=0", ST(BUSY), "", AB(NONE), 0, OC(CALL_NO_ANSWER)},
    {C, "no-answer", "&CallDuration=0", ST(NO_ANSWER), "", AB(NONE), 0, OC(CALL_NO_ANSWER)},
    {C, "canceled", "", ST(CANCELED), "", AB(NONE), -1, OC(CALL_NO_ANSWER)},
    {C, "failed", "", ST(FAILED), "", AB(NONE), -1, OC(CALL_NO_ANSWER)},
    {C, "failed", "&ErrorCode=31005", ST(FAILED), "31005", AB(NONE), -1, OC(CALL_NO_ANSWER)},
    {C, "failed", "&ErrorCode=13224", ST(FAILED), "13224", AB(NONE), -1, OC(BAD_CONTACT)},
    {C, "failed", "&ErrorCode=21217", ST(FAILED), "21217", AB(NONE), -1, OC(BAD_CONTACT)},
    /* completed: the machine detection verdict first, then the duration */
    {C, "completed", "&AnsweredBy=human&CallDuration=42&Duration=1", ST(COMPLETED), "", AB(HUMAN),
     42, OC(CALL_CONVERSATION)},
    {C, "completed", "&AnsweredBy=human&CallDuration=0", ST(COMPLETED), "", AB(HUMAN), 0,
     OC(CALL_CONVERSATION)},
    {C, "completed", "&AnsweredBy=machine_start&CallDuration=15", ST(COMPLETED), "",
     AB(MACHINE_START), 15, OC(CALL_VOICEMAIL)},
    {C, "completed", "&AnsweredBy=machine_end_beep&CallDuration=31", ST(COMPLETED), "",
     AB(MACHINE_END_BEEP), 31, OC(CALL_VOICEMAIL)},
    {C, "completed", "&AnsweredBy=machine_end_silence&CallDuration=30", ST(COMPLETED), "",
     AB(MACHINE_END_SILENCE), 30, OC(CALL_VOICEMAIL)},
    {C, "completed", "&AnsweredBy=machine_end_other&CallDuration=29", ST(COMPLETED), "",
     AB(MACHINE_END_OTHER), 29, OC(CALL_VOICEMAIL)},
    {C, "completed", "&AnsweredBy=fax&CallDuration=3", ST(COMPLETED), "", AB(FAX), 3,
     OC(CALL_VOICEMAIL)},
    {C, "completed", "&CallDuration=42", ST(COMPLETED), "", AB(NONE), 42, OC(CALL_CONVERSATION)},
    {C, "completed", "&AnsweredBy=&CallDuration=1", ST(COMPLETED), "", AB(NONE), 1,
     OC(CALL_CONVERSATION)},
    {C, "completed", "&AnsweredBy=unknown&CallDuration=7", ST(COMPLETED), "", AB(UNKNOWN), 7,
     OC(CALL_CONVERSATION)},
    {C, "completed", "&CallDuration=0", ST(COMPLETED), "", AB(NONE), 0, OC(CALL_ATTEMPT)},
    {C, "completed", "&AnsweredBy=unknown&CallDuration=0", ST(COMPLETED), "", AB(UNKNOWN), 0,
     OC(CALL_ATTEMPT)},
    {C, "completed", "", ST(COMPLETED), "", AB(NONE), -1, OC(CALL_ATTEMPT)},
    {C, "completed", "&CallDuration=", ST(COMPLETED), "", AB(NONE), -1, OC(CALL_ATTEMPT)},
    {C, "completed", "&CallDuration=999999999", ST(COMPLETED), "", AB(NONE), 999999999,
     OC(CALL_CONVERSATION)},
};

Test(status, every_status_and_outcome)
{
    int seen[OC(CALL_ATTEMPT) + 1] = {0};
    for (size_t i = 0; i < sizeof STATUS_CASES / sizeof STATUS_CASES[0]; i++) {
        const status_case *t = &STATUS_CASES[i];
        char body[2048];
        if (t->kind == M)
            message_body(body, sizeof body, t->status, t->extra);
        else
            call_body(body, sizeof body, t->status, t->extra);
        outreach_callback_form f;
        form_ok(body, &f);
        outreach_callback_status s;
        char why[256] = "";
        arr_err e = outreach_callback_status_parse(&f, &s, why, sizeof why);
        cr_assert_eq(e, ARR_OK, "case %zu (%s%s): %s", i, t->status, t->extra, why);
        cr_assert_eq(s.kind, t->kind, "case %zu", i);
        cr_assert_str_eq(s.sid, t->kind == M ? MSG_SID : CALL_SID, "case %zu", i);
        cr_assert_eq(s.status, t->state, "case %zu", i);
        cr_assert_str_eq(outreach_callback_state_name(s.status), t->status, "case %zu", i);
        cr_assert_str_eq(s.error_code, t->error_code, "case %zu", i);
        cr_assert_eq(s.answered_by, t->answered_by, "case %zu", i);
        cr_assert_eq(s.duration_s, t->duration_s, "case %zu", i);
        cr_assert_eq(s.outcome, t->outcome, "case %zu (%s%s): %s", i, t->status, t->extra,
                     outreach_callback_outcome_name(s.outcome));
        cr_assert_eq(outreach_callback_outcome_of(&s, NULL, NULL), t->outcome, "case %zu", i);
        seen[s.outcome] = 1;
        outreach_callback_form_free(&f);
    }
    for (int o = OC(PENDING); o <= OC(CALL_ATTEMPT); o++)
        cr_assert(seen[o], "outcome %s not covered", outreach_callback_outcome_name(o));
}

Test(status, default_code_lists)
{
    /* the one default list (channel.c's sends use it too): the codes a send is refused with,
     * then the delivery-time ones; 21408 is deliberately absent */
    static const char *const bad[] = {"21211", "21214", "21217", "21401", "21407", "21421", "21612",
                                      "21614", "13223", "13224", "30003", "30005", "30006"};
    size_t n = 0;
    while (outreach_callback_bad_number_codes[n])
        n++;
    cr_assert_eq(n, sizeof bad / sizeof bad[0]);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(outreach_callback_bad_number_codes[i], bad[i]);
    cr_assert_str_eq(outreach_callback_opted_out_codes[0], "21610");
    cr_assert_null(outreach_callback_opted_out_codes[1]);
}

Test(status, tenant_code_lists)
{
    outreach_callback_status s;
    memset(&s, 0, sizeof s);
    s.kind = M;
    s.status = ST(UNDELIVERED);
    s.duration_s = -1;
    strcpy(s.error_code, "30007");
    static const char *const bad[] = {"30007", "30004", NULL};
    static const char *const opted[] = {"30004", "21211", NULL};
    static const char *const none[] = {NULL};
    cr_assert_eq(outreach_callback_outcome_of(&s, NULL, NULL), OC(UNDELIVERED_RETRY));
    cr_assert_eq(outreach_callback_outcome_of(&s, bad, opted), OC(BAD_CONTACT));
    strcpy(s.error_code, "30004"); /* in both: the bad number wins, as in channel.c */
    cr_assert_eq(outreach_callback_outcome_of(&s, bad, opted), OC(BAD_CONTACT));
    cr_assert_eq(outreach_callback_outcome_of(&s, none, opted), OC(OPTED_OUT));
    strcpy(s.error_code, "21211"); /* a tenant list replaces the default one */
    cr_assert_eq(outreach_callback_outcome_of(&s, none, none), OC(UNDELIVERED_RETRY));
    cr_assert_eq(outreach_callback_outcome_of(&s, none, opted), OC(OPTED_OUT));
    s.kind = C;
    s.status = ST(FAILED);
    cr_assert_eq(outreach_callback_outcome_of(&s, none, none), OC(CALL_NO_ANSWER));
    s.status = ST(COMPLETED);
    cr_assert_eq(outreach_callback_outcome_of(&s, bad, opted), OC(CALL_ATTEMPT));
    cr_assert_eq(outreach_callback_outcome_of(NULL, NULL, NULL), OC(PENDING));
}

typedef struct bad_status {
    const char *body;
    const char *why;
} bad_status;

static const bad_status BAD_STATUS[] = {
    {"MessageSid=" MSG_SID "&CallSid=" CALL_SID "&MessageStatus=sent",
     "fields MessageSid and CallSid: both given, one expected"},
    {"SmsSid=" MSG_SID "&MessageStatus=sent&AccountSid=" ACCOUNT,
     "fields MessageSid and CallSid: missing, one expected"},
    {"", "fields MessageSid and CallSid: missing, one expected"},
    {"MessageSid=SM-1234&MessageStatus=sent", "field MessageSid: not 2..64 letters and digits"},
    {"MessageSid=S&MessageStatus=sent", "field MessageSid: not 2..64 letters and digits"},
    {"MessageSid=&MessageStatus=sent", "field MessageSid: not 2..64 letters and digits"},
    {"MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404fSM1f0e8ae6ade43cb3c0ce4525424e404f1"
     "&MessageStatus=sent",
     "field MessageSid: not 2..64 letters and digits"}, /* 69 characters */
    {"CallSid=CA+1&CallStatus=ringing", "field CallSid: not 2..64 letters and digits"},
    {"MessageSid=" MSG_SID, "field MessageStatus: missing"},
    {"MessageSid=" MSG_SID "&CallStatus=ringing", "field MessageStatus: missing"},
    {"CallSid=" CALL_SID "&MessageStatus=sent", "field CallStatus: missing"},
    {"MessageSid=" MSG_SID "&MessageStatus=x", "field MessageStatus: unknown value \"x\""},
    {"MessageSid=" MSG_SID "&MessageStatus=ringing",
     "field MessageStatus: unknown value \"ringing\""},
    {"MessageSid=" MSG_SID "&MessageStatus=Delivered",
     "field MessageStatus: unknown value \"Delivered\""},
    {"MessageSid=" MSG_SID "&MessageStatus=", "field MessageStatus: unknown value \"\""},
    {"CallSid=" CALL_SID "&CallStatus=delivered", "field CallStatus: unknown value \"delivered\""},
    {"CallSid=" CALL_SID "&CallStatus=in_progress",
     "field CallStatus: unknown value \"in_progress\""},
    {"CallSid=" CALL_SID "&CallStatus=a%22b%0Ac%C3%A9",
     "field CallStatus: unknown value \"a?b?c??\""},
    {"CallSid=" CALL_SID "&CallStatus=aaaaaaaaaabbbbbbbbbbccccccccccdddd",
     "field CallStatus: unknown value \"aaaaaaaaaabbbbbbbbbbccccccccccdd...\""},
    {"MessageSid=" MSG_SID "&MessageStatus=failed&ErrorCode=3000a",
     "field ErrorCode: not 1..15 digits"},
    {"MessageSid=" MSG_SID "&MessageStatus=failed&ErrorCode=-1",
     "field ErrorCode: not 1..15 digits"},
    {"MessageSid=" MSG_SID "&MessageStatus=failed&ErrorCode=1234567890123456",
     "field ErrorCode: not 1..15 digits"},
    {"CallSid=" CALL_SID "&CallStatus=completed&AnsweredBy=robot",
     "field AnsweredBy: unknown value \"robot\""},
    {"CallSid=" CALL_SID "&CallStatus=completed&AnsweredBy=none",
     "field AnsweredBy: unknown value \"none\""},
    {"CallSid=" CALL_SID "&CallStatus=completed&AnsweredBy=Human",
     "field AnsweredBy: unknown value \"Human\""},
    {"CallSid=" CALL_SID "&CallStatus=completed&CallDuration=-1",
     "field CallDuration: not 0..999999999 seconds"},
    {"CallSid=" CALL_SID "&CallStatus=completed&CallDuration=1234567890",
     "field CallDuration: not 0..999999999 seconds"},
    {"CallSid=" CALL_SID "&CallStatus=completed&CallDuration=4.5",
     "field CallDuration: not 0..999999999 seconds"},
};

Test(status, bad_callbacks_name_the_field)
{
    for (size_t i = 0; i < sizeof BAD_STATUS / sizeof BAD_STATUS[0]; i++) {
        outreach_callback_form f;
        form_ok(BAD_STATUS[i].body, &f);
        outreach_callback_status s;
        memset(&s, 0x5A, sizeof s);
        char why[256] = "";
        cr_assert_eq(outreach_callback_status_parse(&f, &s, why, sizeof why), ARR_EINVAL,
                     "case %zu: %s", i, BAD_STATUS[i].body);
        cr_assert_str_eq(why, BAD_STATUS[i].why, "case %zu", i);
        cr_assert_eq(s.duration_s, 0x5A5A5A5A, "case %zu: out written on error", i);
        outreach_callback_form_free(&f);
    }
    char why[64] = "";
    outreach_callback_status s;
    cr_assert_eq(outreach_callback_status_parse(NULL, &s, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "status: NULL argument");
}

/* ------------------------------------------------------------------ inbound sms */

static void inbound_body(char *out, size_t outlen, const char *from, const char *to,
                         const char *body)
{
    snprintf(out, outlen,
             "ToCountry=US&ToState=CA&SmsMessageSid=" MSG_SID "&NumMedia=0&ToCity=&FromZip=10001"
             "&SmsSid=" MSG_SID "&FromState=NY&SmsStatus=received&FromCity=NEW+YORK&Body=%s"
             "&FromCountry=US&To=%s&ToZip=&NumSegments=1&MessageSid=" MSG_SID "&AccountSid=" ACCOUNT
             "&From=%s&ApiVersion=2010-04-01",
             body, to, from);
}

Test(inbound_sms, real_bodies)
{
    static const struct {
        const char *from, *to, *body; /* encoded */
        const char *want_from, *want_to, *want_body;
    } cases[] = {
        {"%2B12125551234", "%2B15017250604", "I+already+paid+this%2C+check+your+records",
         "+12125551234", "+15017250604", "I already paid this, check your records"},
        {"%2B525512345678", "%2B15017250604", "Ya+pagu%C3%A9+%F0%9F%91%8D", "+525512345678",
         "+15017250604", "Ya pagu\xc3\xa9 \xf0\x9f\x91\x8d"},
        {"%2B12125551234", "89157", "STOP", "+12125551234", "89157", "STOP"}, /* short code */
        {"%2B12125551234", "%2B15017250604", "", "+12125551234", "+15017250604", ""},
        {"%2B12125551", "%2B123456789012345", "line1%0D%0Aline2", "+12125551", "+123456789012345",
         "line1\r\nline2"}, /* 8 and 15 digits */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[2048];
        inbound_body(body, sizeof body, cases[i].from, cases[i].to, cases[i].body);
        outreach_callback_form f;
        form_ok(body, &f);
        outreach_callback_inbound_sms m;
        char why[256] = "";
        cr_assert_eq(outreach_callback_inbound_sms_parse(&f, &m, why, sizeof why), ARR_OK,
                     "case %zu: %s", i, why);
        cr_assert_str_eq(m.sid, MSG_SID);
        cr_assert_str_eq(m.from, cases[i].want_from, "case %zu", i);
        cr_assert_str_eq(m.to, cases[i].want_to, "case %zu", i);
        cr_assert_str_eq(m.body, cases[i].want_body, "case %zu", i);
        cr_assert_eq(m.body_len, strlen(cases[i].want_body), "case %zu", i);
        outreach_callback_form_free(&f);
        /* a copy: it outlives the form */
        cr_assert_str_eq(m.from, cases[i].want_from);
    }
}

Test(inbound_sms, body_cap)
{
    char text[OUTREACH_CALLBACK_SMS_BODY_MAX + 2];
    memset(text, 'x', sizeof text - 1);
    text[OUTREACH_CALLBACK_SMS_BODY_MAX] = '\0'; /* exactly 1600 */
    char body[4096];
    inbound_body(body, sizeof body, "%2B12125551234", "%2B15017250604", text);
    outreach_callback_form f;
    form_ok(body, &f);
    outreach_callback_inbound_sms m;
    char why[256] = "";
    cr_assert_eq(outreach_callback_inbound_sms_parse(&f, &m, why, sizeof why), ARR_OK, "%s", why);
    cr_assert_eq(m.body_len, 1600);
    outreach_callback_form_free(&f);

    text[OUTREACH_CALLBACK_SMS_BODY_MAX] = 'x'; /* 1601 */
    text[OUTREACH_CALLBACK_SMS_BODY_MAX + 1] = '\0';
    inbound_body(body, sizeof body, "%2B12125551234", "%2B15017250604", text);
    form_ok(body, &f);
    m.body_len = 77;
    cr_assert_eq(outreach_callback_inbound_sms_parse(&f, &m, why, sizeof why), ARR_ELIMIT);
    cr_assert_str_eq(why, "field Body: 1601 bytes, more than 1600");
    cr_assert_eq(m.body_len, 77);
    outreach_callback_form_free(&f);
}

Test(inbound_sms, bad_numbers_and_missing_fields)
{
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"MessageSid=" MSG_SID "&From=2125551234&To=%2B15017250604&Body=hi",
         "field From: not an E.164 number"},
        {"MessageSid=" MSG_SID "&From=%2B02125551234&To=%2B15017250604&Body=hi",
         "field From: not an E.164 number"},
        {"MessageSid=" MSG_SID "&From=%2B1212555&To=%2B15017250604&Body=hi",
         "field From: not an E.164 number"}, /* 7 digits */
        {"MessageSid=" MSG_SID "&From=%2B1234567890123456&To=%2B15017250604&Body=hi",
         "field From: not an E.164 number"}, /* 16 digits */
        {"MessageSid=" MSG_SID "&From=%2B1+212+555+1234&To=%2B15017250604&Body=hi",
         "field From: not an E.164 number"},
        {"MessageSid=" MSG_SID "&From=+12125551234&To=%2B15017250604&Body=hi",
         "field From: not an E.164 number"}, /* an unencoded "+" is a space */
        {"MessageSid=" MSG_SID "&To=%2B15017250604&Body=hi", "field From: missing"},
        {"MessageSid=" MSG_SID "&From=%2B12125551234&To=ACME&Body=hi",
         "field To: not an E.164 number or a short code"},
        {"MessageSid=" MSG_SID "&From=%2B12125551234&To=12&Body=hi",
         "field To: not an E.164 number or a short code"},
        {"MessageSid=" MSG_SID "&From=%2B12125551234&Body=hi", "field To: missing"},
        {"MessageSid=" MSG_SID "&From=%2B12125551234&To=%2B15017250604", "field Body: missing"},
        {"SmsSid=" MSG_SID "&From=%2B12125551234&To=%2B15017250604&Body=hi",
         "field MessageSid: missing"},
        {"MessageSid=SM_1&From=%2B12125551234&To=%2B15017250604&Body=hi",
         "field MessageSid: not 2..64 letters and digits"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        outreach_callback_form f;
        form_ok(cases[i].body, &f);
        outreach_callback_inbound_sms m;
        memset(&m, 0, sizeof m);
        char why[256] = "";
        cr_assert_eq(outreach_callback_inbound_sms_parse(&f, &m, why, sizeof why), ARR_EINVAL,
                     "case %zu", i);
        cr_assert_str_eq(why, cases[i].why, "case %zu", i);
        cr_assert_str_eq(m.sid, "", "case %zu: out written on error", i);
        outreach_callback_form_free(&f);
    }
}

Test(inbound_sms, invalid_utf8_is_refused_by_the_form)
{
    char body[1024];
    inbound_body(body, sizeof body, "%2B12125551234", "%2B15017250604", "pagu%E9");
    outreach_callback_form f;
    char why[128] = "";
    cr_assert_eq(outreach_callback_form_parse(body, strlen(body), &f, why, sizeof why), ARR_EINVAL);
    cr_assert_str_eq(why, "field Body: invalid UTF-8");
}

/* ------------------------------------------------------------------ inbound email */

static void email_ok(const char *body, outreach_callback_inbound_email *m)
{
    outreach_callback_form f;
    form_ok(body, &f);
    char why[256] = "";
    cr_assert_eq(outreach_callback_inbound_email_parse(&f, m, why, sizeof why), ARR_OK, "%s: %s",
                 body, why);
    outreach_callback_form_free(&f); /* the email keeps its own copies */
}

static const char *email_text(const outreach_callback_inbound_email *m)
{
    return m->body + m->subject_len + 1;
}

Test(inbound_email, gmail_reply)
{
    outreach_callback_inbound_email m;
    email_ok("from=Jane+Doe+%3Cjane.doe%40Example.COM%3E&to=replies%40collect.example"
             "&subject=Re%3A+Your+account+with+Acme+Water"
             "&text=This+is+not+my+debt.%0D%0A%0D%0AOn+Tue%2C+Jun+16%2C+2026+at+10%3A00+AM+Acme"
             "+%3Cnotices%40collect.example%3E+wrote%3A%0D%0A%3E+You+have+the+right+to+dispute"
             "+this+debt.%0D%0A%3E+Reply+STOP+to+opt+out."
             "&message_id=%3CCAF%3Dabc123%2BX%40mail.gmail.com%3E"
             "&in_reply_to=%3Cacme.3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8%40collect.example%3E",
             &m);
    cr_assert_str_eq(m.from, "jane.doe@example.com");
    cr_assert_str_eq(m.message_id, "<CAF=abc123+X@mail.gmail.com>");
    cr_assert_str_eq(m.in_reply_to, "<acme.3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8@collect.example>");
    cr_assert_str_eq(m.body, "Re: Your account with Acme Water\nThis is not my debt.");
    cr_assert_eq(m.subject_len, strlen("Re: Your account with Acme Water"));
    cr_assert_eq(m.body_len, strlen(m.body));
    cr_assert_str_eq(email_text(&m), "This is not my debt.");
    outreach_callback_intent_out r;
    cr_assert_eq(outreach_callback_email_intent(&m, &r), ARR_OK);
    cr_assert_eq(r.intent, OUTREACH_CALLBACK_INTENT_DISPUTE);
    cr_assert_str_eq(r.matched, "not my debt");
    outreach_callback_inbound_email_free(&m);
    cr_assert_null(m.body);
    outreach_callback_inbound_email_free(&m);
    outreach_callback_inbound_email_free(NULL);
}

Test(inbound_email, quoted_part_dropped)
{
    static const struct {
        const char *text; /* encoded */
        const char *want;
    } cases[] = {
        /* ">" lines, wherever they are */
        {"I+will+pay+on+Friday%0A%0A%3E+You+have+the+right+to+dispute+this+debt.",
         "I will pay on Friday"},
        {"%3E+dispute%0AI+will+pay+on+Friday", "I will pay on Friday"},
        {"++%3E+indented+quote%0Aok", "ok"},
        /* the intro wrapped over two lines, as Gmail does with long names */
        {"Paid+it+yesterday%0D%0AOn+Tue%2C+Jun+16%2C+2026+at+10%3A00+AM+Acme+Collections+%3C%0D%0A"
         "notices%40collect.example%3E+wrote%3A%0D%0AYou+have+the+right+to+dispute",
         "Paid it yesterday"},
        /* Spanish intro, accented */
        {"Ya+pagu%C3%A9%0A%0AEl+mar%2C+16+jun+2026+a+las+10%3A00%2C+Acme+escribi%C3%B3%3A%0A"
         "Usted+puede+disputar",
         "Ya pagu\xc3\xa9"},
        {"Ya+pague%0AEl+mar%2C+16+jun+2026+Acme+escribio%3A%0Adisputar", "Ya pague"},
        /* Outlook */
        {"Who+is+the+original+creditor%3F%0D%0A%0D%0A-----Original+Message-----%0D%0AFrom%3A+"
         "Acme%0D%0Adispute",
         "Who is the original creditor?"},
        {"Hola%0A-----Mensaje+original-----%0Adisputar", "Hola"},
        {"Call+me%0D%0A________________________________%0D%0AFrom%3A+Acme%0D%0Adispute", "Call me"},
        /* "wrote:" without an intro is the consumer's own words */
        {"My+lawyer+wrote%3A%0Acall+him", "My lawyer wrote:\ncall him"},
        /* nine underscores are not a separator; trailing blank lines go */
        {"a%0A_________%0Ab%0A%0A%0A", "a\n_________\nb"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[2048];
        snprintf(body, sizeof body, "from=j%%40mail.example&message_id=%%3Cx%%40y%%3E&text=%s",
                 cases[i].text);
        outreach_callback_inbound_email m;
        email_ok(body, &m);
        cr_assert_eq(m.subject_len, 0, "case %zu", i);
        cr_assert_str_eq(email_text(&m), cases[i].want, "case %zu", i);
        cr_assert_eq(m.body_len, 1 + strlen(cases[i].want), "case %zu", i);
        cr_assert_str_eq(m.in_reply_to, "", "case %zu", i);
        outreach_callback_inbound_email_free(&m);
    }
}

Test(inbound_email, addresses_ids_and_subject)
{
    outreach_callback_inbound_email m;
    /* bare addr-spec: the local part keeps its case, the domain does not */
    email_ok("from=JOHN.Smith%40MAIL.Example.Org&message_id=++%3Cid%40h%3E++&subject=Line+1%0D%0A"
             "Line+2&in_reply_to=junk+%3Cacme.a1%40collect.example%3E+%3Csecond%40x.example%3E",
             &m);
    cr_assert_str_eq(m.from, "JOHN.Smith@mail.example.org");
    cr_assert_str_eq(m.message_id, "<id@h>");
    cr_assert_str_eq(m.in_reply_to, "<acme.a1@collect.example>");
    cr_assert_str_eq(m.body, "Line 1  Line 2\n"); /* the subject is one line */
    cr_assert_eq(m.subject_len, 14);
    outreach_callback_inbound_email_free(&m);

    /* in_reply_to without a usable token: "" (it is optional) */
    static const char *const junk[] = {"no-brackets%40x", "%3C%3E",      "%3Ca+b%40c%3E",
                                       "%3Copen",         "%3Ca%3Cb%3E", ""};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, "from=a%%40b.example&message_id=m1&in_reply_to=%s", junk[i]);
        email_ok(body, &m);
        cr_assert_str_eq(m.in_reply_to, "", "case %zu", i);
        cr_assert_str_eq(m.body, "\n", "case %zu", i);
        outreach_callback_inbound_email_free(&m);
    }
}

Test(inbound_email, bad_forms)
{
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"message_id=%3Cx%40y%3E&text=hi", "field from: missing"},
        {"from=not+an+address&message_id=%3Cx%40y%3E", "field from: not an addr-spec"},
        {"from=Jane+%3Cjane%40%3E&message_id=%3Cx%40y%3E", "field from: not an addr-spec"},
        {"from=Jane+%3Cjane%40example.com&message_id=%3Cx%40y%3E", "field from: not an addr-spec"},
        {"from=a..b%40example.com&message_id=%3Cx%40y%3E", "field from: not an addr-spec"},
        {"from=a%40localhost&message_id=%3Cx%40y%3E", "field from: not an addr-spec"},
        {"from=%22a+b%22%40example.com&message_id=%3Cx%40y%3E", "field from: not an addr-spec"},
        {"from=j%C3%A9%40example.com&message_id=%3Cx%40y%3E", "field from: not an addr-spec"},
        {"from=a%40b.example&text=hi", "field message_id: missing"},
        {"from=a%40b.example&message_id=+++", "field message_id: not 1..998 printable ASCII "
                                              "characters"},
        {"from=a%40b.example&message_id=%3Ca+b%40c%3E", "field message_id: not 1..998 printable "
                                                        "ASCII characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        outreach_callback_form f;
        form_ok(cases[i].body, &f);
        outreach_callback_inbound_email m;
        memset(&m, 0, sizeof m);
        m.body_len = 1234;
        char why[256] = "";
        cr_assert_eq(outreach_callback_inbound_email_parse(&f, &m, why, sizeof why), ARR_EINVAL,
                     "case %zu", i);
        cr_assert_str_eq(why, cases[i].why, "case %zu", i);
        cr_assert_eq(m.body_len, 1234, "case %zu: out written on error", i);
        cr_assert_null(m.body);
        outreach_callback_form_free(&f);
    }
}

Test(inbound_email, stop_in_subject_or_on_a_line)
{
    static const struct {
        const char *fields; /* subject and text, encoded */
        outreach_callback_reply_intent intent;
        const char *keyword;
    } cases[] = {
        {"subject=Re%3A+STOP", OUTREACH_CALLBACK_INTENT_STOP, "STOP"},
        {"subject=RE%3A+Fwd%3A+opt-out&text=", OUTREACH_CALLBACK_INTENT_STOP, "OPT OUT"},
        {"subject=RV%3A+Su+cuenta&text=Unsubscribe", OUTREACH_CALLBACK_INTENT_STOP, "UNSUBSCRIBE"},
        {"subject=Re%3A+Your+account&text=Stop%0D%0A%0D%0ASent+from+my+iPhone",
         OUTREACH_CALLBACK_INTENT_STOP, "STOP"},
        {"subject=Re%3A+Your+account&text=thanks%0A++stop.+%0Abye", OUTREACH_CALLBACK_INTENT_STOP,
         "STOP"},
        /* only a quoted STOP: not the consumer's */
        {"subject=Re%3A+Your+account&text=ok%0A%3E+Reply+STOP+to+opt+out%0A%3E+STOP",
         OUTREACH_CALLBACK_INTENT_OTHER, ""},
        /* STOP inside a sentence is for a person to read; the dispute is what counts */
        {"subject=Re%3A+Your+account&text=Please+stop+emailing%2C+I+dispute+this",
         OUTREACH_CALLBACK_INTENT_DISPUTE, ""},
        {"subject=Stop+it&text=", OUTREACH_CALLBACK_INTENT_OTHER, ""},
        {"subject=Re%3A+hello&text=My+attorney+will+contact+you.%0AStop.",
         OUTREACH_CALLBACK_INTENT_STOP, "STOP"},
        {"subject=Re%3A+Pago&text=Ya+pagu%C3%A9+el+lunes", OUTREACH_CALLBACK_INTENT_PAID, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[1024];
        snprintf(body, sizeof body, "from=a%%40b.example&message_id=%%3Cm%%40b%%3E&%s",
                 cases[i].fields);
        outreach_callback_inbound_email m;
        email_ok(body, &m);
        outreach_callback_intent_out r;
        cr_assert_eq(outreach_callback_email_intent(&m, &r), ARR_OK);
        cr_assert_eq(r.intent, cases[i].intent, "case %zu: %s", i,
                     outreach_callback_intent_name(r.intent));
        cr_assert_str_eq(r.keyword, cases[i].keyword, "case %zu", i);
        outreach_callback_inbound_email_free(&m);
    }
    outreach_callback_inbound_email none;
    memset(&none, 0, sizeof none);
    outreach_callback_intent_out r;
    cr_assert_eq(outreach_callback_email_intent(&none, &r), ARR_EINVAL);
    cr_assert_eq(outreach_callback_email_intent(NULL, &r), ARR_EINVAL);
}

/* ------------------------------------------------------------------ intent */

#define I(x) OUTREACH_CALLBACK_INTENT_##x

typedef struct intent_case {
    const char *text;
    outreach_callback_reply_intent intent;
    const char *detail; /* STOP: the keyword; others: the matched phrase; OTHER: NULL */
} intent_case;

static const intent_case INTENTS[] = {
    /* STOP: the whole message is the keyword */
    {"STOP", I(STOP), "STOP"},
    {" stop! ", I(STOP), "STOP"},
    {"Opt-out", I(STOP), "OPT OUT"},
    {"unsubscribe.", I(STOP), "UNSUBSCRIBE"},
    {"Cancel", I(STOP), "CANCEL"},
    {"QUIT", I(STOP), "QUIT"},
    {"stop it", I(OTHER), NULL},
    {"Don't stop", I(OTHER), NULL},
    {"STOP, this is not my debt", I(DISPUTE), "not my debt"},
    /* attorney */
    {"Talk to my attorney", I(ATTORNEY), "attorney*"},
    {"My lawyer will call you", I(ATTORNEY), "lawyer*"},
    {"I have LAWYERS.", I(ATTORNEY), "lawyer*"},
    {"Hable con mi abogado", I(ATTORNEY), "abogad*"},
    {"Mi abogada se comunicar\xc3\xa1", I(ATTORNEY), "abogad*"},
    /* dispute */
    {"I dispute this debt", I(DISPUTE), "disput*"},
    {"Disputed!", I(DISPUTE), "disput*"},
    {"This is NOT MY DEBT!!", I(DISPUTE), "not my debt"},
    {"not mine", I(DISPUTE), "not mine"},
    {"I don't owe this", I(DISPUTE), "dont owe"},
    {"I don\xe2\x80\x99t owe you anything", I(DISPUTE), "dont owe"}, /* curly apostrophe */
    {"I do not owe anything", I(DISPUTE), "do not owe"},
    {"No es mi deuda", I(DISPUTE), "no es mi deuda"},
    {"NO ES M\xc3\x8d"
     "A",
     I(DISPUTE), "no es mia"}, /* "NO ES MÍA" */
    {"Disputo esta deuda", I(DISPUTE), "disput*"},
    {"No debo nada", I(DISPUTE), "no debo"},
    {"indisputable", I(OTHER), NULL}, /* a word start, not any substring */
    /* original creditor */
    {"Who is the original creditor?", I(ORIGINAL_CREDITOR_REQUEST), "original creditor*"},
    {"\xc2\xbfQui\xc3\xa9n es el acreedor original?", I(ORIGINAL_CREDITOR_REQUEST),
     "acreedor original*"},
    /* paid */
    {"I already paid", I(PAID), "already paid"},
    {"i paid this last week", I(PAID), "i paid"},
    {"Paid it.", I(PAID), "paid it"},
    {"I've paid", I(PAID), "ive paid"},
    {"I have paid the balance", I(PAID), "i have paid"},
    {"Ya pagu\xc3\xa9", I(PAID), "ya pague"},
    {"YA PAGU\xc3\x89!", I(PAID), "ya pague"},
    {"ya pague", I(PAID), "ya pague"},
    {"Ya lo pagu\xc3\xa9 ayer", I(PAID), "ya lo pague"},
    {"No, ya pagu\xc3\xa9", I(PAID), "ya pague"},
    /* promise */
    {"I will pay on Friday", I(PROMISE), "i will pay"},
    {"I'll pay next week", I(PROMISE), "ill pay"},
    {"We will pay on the 15th", I(PROMISE), "will pay on"},
    {"Pagar\xc3\xa9 el viernes", I(PROMISE), "pagare"},
    {"Voy a pagar ma\xc3\xb1"
     "ana",
     I(PROMISE), "voy a pagar"},
    {"No, I will pay tomorrow", I(PROMISE), "i will pay"},
    {"No, voy a pagar el viernes", I(PROMISE), "voy a pagar"},
    {"No I will pay tomorrow", I(PROMISE), "i will pay"},
    /* negations: nothing else matches, so OTHER */
    {"I did not pay", I(OTHER), NULL},
    {"I didn't pay", I(OTHER), NULL},
    {"not paid", I(OTHER), NULL},
    {"It's not paid yet", I(OTHER), NULL},
    {"I haven't paid", I(OTHER), NULL},
    {"I haven't paid it", I(OTHER), NULL},
    {"I never paid it", I(OTHER), NULL},
    {"I have not already paid", I(OTHER), NULL},
    {"No he pagado", I(OTHER), NULL},
    {"No voy a pagar", I(OTHER), NULL},
    {"no pagar\xc3\xa9", I(OTHER), NULL},
    {"Nunca pagar\xc3\xa9", I(OTHER), NULL},
    {"I won't pay", I(OTHER), NULL},
    {"I will not pay", I(OTHER), NULL},
    {"unpaid balance?", I(OTHER), NULL},
    /* precedence: attorney > dispute > original creditor > paid > promise */
    {"My attorney says this is not my debt", I(ATTORNEY), "attorney*"},
    {"Not my debt, talk to my lawyer", I(ATTORNEY), "lawyer*"},
    {"I already paid, this is not my debt", I(DISPUTE), "not my debt"},
    {"Not my debt. Who is the original creditor?", I(DISPUTE), "not my debt"},
    {"Who is the original creditor? I already paid", I(ORIGINAL_CREDITOR_REQUEST),
     "original creditor*"},
    {"I will pay on Friday, I paid half already", I(PAID), "i paid"},
    {"I already paid, I will pay nothing more", I(PAID), "already paid"},
    {"Ya pagu\xc3\xa9, hable con mi abogado", I(ATTORNEY), "abogad*"},
    {"I haven't paid it but I will pay on Friday", I(PROMISE), "i will pay"},
    {"No he pagado pero pagar\xc3\xa9 el viernes", I(PROMISE), "pagare"},
    /* other */
    {"Who is this?", I(OTHER), NULL},
    {"", I(OTHER), NULL},
    {"Call me after 5pm", I(OTHER), NULL},
    {"\xf0\x9f\x91\x8d", I(OTHER), NULL},
    {"I paid \xff\xfe", I(PAID), "i paid"}, /* bad bytes read as spaces */
};

Test(intent, table_en_es)
{
    for (size_t i = 0; i < sizeof INTENTS / sizeof INTENTS[0]; i++) {
        const intent_case *t = &INTENTS[i];
        outreach_callback_intent_out r;
        memset(&r, 0x11, sizeof r);
        cr_assert_eq(outreach_callback_intent(t->text, &r), ARR_OK, "case %zu", i);
        cr_assert_eq(r.intent, t->intent, "case %zu (%s): got %s", i, t->text,
                     outreach_callback_intent_name(r.intent));
        if (t->intent == I(STOP)) {
            cr_assert_str_eq(r.keyword, t->detail, "case %zu", i);
            cr_assert_null(r.matched, "case %zu", i);
        } else {
            cr_assert_str_eq(r.keyword, "", "case %zu", i);
            if (t->detail)
                cr_assert_str_eq(r.matched, t->detail, "case %zu (%s)", i, t->text);
            else
                cr_assert_null(r.matched, "case %zu (%s): matched %s", i, t->text, r.matched);
        }
    }
}

Test(intent, long_text_and_null)
{
    /* the dispute is far into a long email: still found */
    size_t n = 60000;
    char *text = malloc(n + 32);
    cr_assert_not_null(text);
    for (size_t i = 0; i < n; i += 6)
        memcpy(text + i, "blah, ", 6);
    strcpy(text + n, "not mine");
    outreach_callback_intent_out r;
    cr_assert_eq(outreach_callback_intent(text, &r), ARR_OK);
    cr_assert_eq(r.intent, I(DISPUTE));
    free(text);
    cr_assert_eq(outreach_callback_intent(NULL, &r), ARR_EINVAL);
    cr_assert_eq(outreach_callback_intent("x", NULL), ARR_EINVAL);
}

/* ------------------------------------------------------------------ names */

Test(names, intent_names_are_the_schema_enum)
{
    json_error_t jerr;
    json_t *schema = json_load_file(SCHEMA, 0, &jerr);
    cr_assert_not_null(schema, "%s: %s", SCHEMA, jerr.text);
    json_t *values =
        json_object_get(json_object_get(json_object_get(schema, "properties"), "intent"), "enum");
    cr_assert(json_is_array(values));
    size_t count = json_array_size(values);
    cr_assert_eq(count, 7);
    int found[7] = {0};
    for (int i = I(STOP); i <= I(OTHER); i++) {
        const char *name = outreach_callback_intent_name((outreach_callback_reply_intent)i);
        int hit = 0;
        for (size_t k = 0; k < count; k++)
            if (strcmp(json_string_value(json_array_get(values, k)), name) == 0) {
                hit = 1;
                found[k] = 1;
            }
        cr_assert(hit, "%s is not in the schema's enum", name);
    }
    for (size_t k = 0; k < count; k++)
        cr_assert(found[k], "schema value %s has no intent",
                  json_string_value(json_array_get(values, k)));
    json_decref(schema);

    cr_assert_str_eq(outreach_callback_intent_name(I(STOP)), "stop");
    cr_assert_str_eq(outreach_callback_intent_name(I(DISPUTE)), "dispute");
    cr_assert_str_eq(outreach_callback_intent_name(I(ORIGINAL_CREDITOR_REQUEST)),
                     "original_creditor_request");
    cr_assert_str_eq(outreach_callback_intent_name(I(ATTORNEY)), "attorney");
    cr_assert_str_eq(outreach_callback_intent_name(I(PROMISE)), "promise");
    cr_assert_str_eq(outreach_callback_intent_name(I(PAID)), "paid");
    cr_assert_str_eq(outreach_callback_intent_name(I(OTHER)), "other");
    cr_assert_str_eq(outreach_callback_intent_name((outreach_callback_reply_intent)0), "unknown");
    cr_assert_str_eq(outreach_callback_intent_name((outreach_callback_reply_intent)99), "unknown");
}

Test(names, other_enums)
{
    cr_assert_str_eq(outreach_callback_kind_name(M), "message");
    cr_assert_str_eq(outreach_callback_kind_name(C), "call");
    cr_assert_str_eq(outreach_callback_kind_name((outreach_callback_kind)0), "unknown");

    static const char *const states[] = {
        NULL,        "accepted",    "scheduled", "queued", "sending",  "sent",
        "delivered", "undelivered", "failed",    "read",   "canceled", "initiated",
        "ringing",   "in-progress", "completed", "busy",   "no-answer"};
    for (int s = ST(ACCEPTED); s <= ST(NO_ANSWER); s++)
        cr_assert_str_eq(outreach_callback_state_name((outreach_callback_state)s), states[s]);
    cr_assert_str_eq(outreach_callback_state_name((outreach_callback_state)0), "unknown");
    cr_assert_str_eq(outreach_callback_state_name((outreach_callback_state)17), "unknown");

    static const char *const answered[] = {"none",
                                           "human",
                                           "machine_start",
                                           "machine_end_beep",
                                           "machine_end_silence",
                                           "machine_end_other",
                                           "fax",
                                           "unknown"};
    for (int a = AB(NONE); a <= AB(UNKNOWN); a++)
        cr_assert_str_eq(outreach_callback_answered_by_name((outreach_callback_answered_by)a),
                         answered[a]);
    cr_assert_str_eq(outreach_callback_answered_by_name((outreach_callback_answered_by)8),
                     "unknown");

    static const char *const outcomes[] = {
        NULL,        "pending",        "delivered",      "undelivered_retry", "bad_contact",
        "opted_out", "call_no_answer", "call_voicemail", "call_conversation", "call_attempt"};
    for (int o = OC(PENDING); o <= OC(CALL_ATTEMPT); o++)
        cr_assert_str_eq(outreach_callback_outcome_name((outreach_callback_outcome)o), outcomes[o]);
    cr_assert_str_eq(outreach_callback_outcome_name((outreach_callback_outcome)0), "unknown");
}
