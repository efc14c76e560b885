/* outreach_compliance: may this contact go out now, later, or never? The rules of
 * Regulation F (12 CFR 1006) and the TCPA (47 CFR 64.1200) in DOMAIN.md, as one pure
 * function: no I/O, no clock. Same input, same decision, so replays agree.
 *
 * Verdicts: ALLOW; DEFER until a UTC instant (the earliest time every deferring rule allows);
 * SUPPRESS. Each comes with a stable rule id (below) and a short reason without personal data.
 *
 * Precedence: the first rule that fails, in this order, names the decision.
 *   1. Suppressions of the account: status paid, settled, closed, bankrupt, deceased; attorney
 *      (status or flag); cease (status or flag; a cease_final_notice by letter or email still
 *      goes); a dispute or original-creditor request that pauses collection (regular and
 *      cease_final_notice messages; the validation notice and the opt-out confirmation go).
 *   2. The opt-out confirmation (kind opt_out_confirmation) is decided here and nothing below
 *      applies to it: an sms, within 5 minutes after a STOP, once (see _opt_out_confirmation).
 *   3. Consent and opt-outs: no contact at work; the address or number opted out; the medium
 *      opted out; sms: STOP revoked consent, or no consent; automated (autodialed or
 *      prerecorded) call to a mobile: STOP revoked consent, or no consent.
 *   4. Third-party regime, regular messages: the validation notice must go first. With no
 *      notice sent, a regular message is suppressed unless a first communication already took
 *      place and it is less than 5 days old (the notice is due within 5 days after it).
 *   5. Call frequency (voice only): at most 7 attempts by us in any 7 consecutive local days
 *      (every outcome counts; calls the consumer made do not), and no call before local day 8
 *      after a telephone conversation (conversation day = day 1; conversations count whoever
 *      called) -> DEFER.
 *   6. Time window (every channel but letter): the local time in every candidate zone within
 *      [start, end) of the consumer's stated hours when set, else the policy's (08:00-21:00)
 *      -> DEFER to the first instant inside all of them; SUPPRESS when the zones share no such
 *      instant within 8 days.
 *   7. Tenant caps (regular messages): contacts by us on the channel in the local day / the
 *      local week (Monday to Sunday) -> DEFER to the next day / the next Monday.
 * A DEFER's until is the fixed point of rules 5-7 (a call freed at midnight by rule 5 is
 * deferred to 08:00 by rule 6); its rule id is the first of them that moved the time.
 *
 * Zones: the account's zones, all of them; none means unknown, and then the US zones of
 * outreach_tz_us_names (the db must have them: outreach_tz_db_load_us). Rules counted in local
 * days (5, 7, the validation period) are applied in every candidate zone and the latest
 * resulting instant wins, so the westernmost zone decides: a safe choice when the consumer may
 * be in any of them.
 *
 * History: the contacts of this debt (the 7-in-7 count is per debt), in any order. Only the
 * entries near the candidate's time matter; older ones may be left out. */
#ifndef ARREARS_OUTREACH_COMPLIANCE_H
#define ARREARS_OUTREACH_COMPLIANCE_H

#include <stddef.h>
#include <stdint.h>
#include "arrears/err.h"
#include "tz.h"

/* Stable rule ids (the decision's rule_id points to these very strings). */
#define OUTREACH_RULE_ALLOW "allow"
#define OUTREACH_RULE_STATUS_PAID "status.paid"
#define OUTREACH_RULE_STATUS_SETTLED "status.settled"
#define OUTREACH_RULE_STATUS_CLOSED "status.closed"
#define OUTREACH_RULE_STATUS_BANKRUPT "status.bankrupt"
#define OUTREACH_RULE_STATUS_DECEASED "status.deceased"
#define OUTREACH_RULE_ATTORNEY "regf.1006.6b2.attorney"
#define OUTREACH_RULE_CEASE "regf.1006.6c.cease"
#define OUTREACH_RULE_DISPUTE "regf.1006.38.dispute_pending"
#define OUTREACH_RULE_ORIGINAL_CREDITOR "regf.1006.38.original_creditor_pending"
#define OUTREACH_RULE_AT_WORK "regf.1006.6b3.place_of_employment"
#define OUTREACH_RULE_OPTED_OUT_ADDRESS "regf.1006.6e.opted_out_address" /* email, sms */
#define OUTREACH_RULE_OPTED_OUT_MEDIUM "regf.1006.6e.opted_out_medium"   /* email, sms */
#define OUTREACH_RULE_REFUSED_ADDRESS "regf.1006.14h.opted_out_address"  /* voice, letter */
#define OUTREACH_RULE_REFUSED_MEDIUM "regf.1006.14h.opted_out_medium"    /* voice, letter */
#define OUTREACH_RULE_STOP "tcpa.revoked_stop"
#define OUTREACH_RULE_SMS_NO_CONSENT "tcpa.64_1200.sms_no_consent"
#define OUTREACH_RULE_PRERECORDED_NO_CONSENT "tcpa.64_1200.prerecorded_no_consent"
#define OUTREACH_RULE_CONFIRM_NO_STOP "tcpa.opt_out_confirmation_no_stop"
#define OUTREACH_RULE_CONFIRM_ONCE "tcpa.opt_out_confirmation_once"
#define OUTREACH_RULE_CONFIRM_LATE "tcpa.opt_out_confirmation_late"
#define OUTREACH_RULE_VALIDATION_FIRST "regf.1006.34.validation_notice_first"
#define OUTREACH_RULE_VALIDATION_OVERDUE "regf.1006.34.validation_notice_overdue"
#define OUTREACH_RULE_CALLS_7IN7 "regf.1006.14b2.call_frequency_7in7"
#define OUTREACH_RULE_AFTER_CONVERSATION "regf.1006.14b2.after_conversation"
#define OUTREACH_RULE_INCONVENIENT_TIME "regf.1006.6b1.inconvenient_time"
#define OUTREACH_RULE_NO_COMMON_WINDOW "regf.1006.6b1.no_common_window"
/* Tenant caps: "tenant.cap_weekly_<channel>" and "tenant.cap_daily_<channel>", channel one of
 * email, sms, voice, letter. */

#define OUTREACH_COMPLIANCE_CONFIRM_WINDOW_MS (5 * 60 * 1000) /* FCC: confirm within 5 min */
#define OUTREACH_COMPLIANCE_NOTICE_DAYS 5           /* 1006.34(a)(1): notice within 5 days */
#define OUTREACH_COMPLIANCE_RECEIPT_BUSINESS_DAYS 5 /* 1006.34(b)(5): assumed receipt */
#define OUTREACH_COMPLIANCE_VALIDATION_DAYS 30      /* period ends 30 days after receipt */
/* Instants the engine accepts: 1970-01-01 to 2200-01-01 (exclusive). */
#define OUTREACH_COMPLIANCE_MAX_MS 7258118400000LL

typedef enum outreach_compliance_channel {
    OUTREACH_COMPLIANCE_EMAIL = 0,
    OUTREACH_COMPLIANCE_SMS,
    OUTREACH_COMPLIANCE_VOICE,
    OUTREACH_COMPLIANCE_LETTER,
    OUTREACH_COMPLIANCE_CHANNELS /* count */
} outreach_compliance_channel;

typedef enum outreach_compliance_kind {
    OUTREACH_COMPLIANCE_REGULAR = 0,
    OUTREACH_COMPLIANCE_VALIDATION_NOTICE,
    OUTREACH_COMPLIANCE_OPT_OUT_CONFIRMATION,
    OUTREACH_COMPLIANCE_CEASE_FINAL_NOTICE, /* collection ends, or a named remedy (1006.6(c)) */
} outreach_compliance_kind;

typedef enum outreach_compliance_regime {
    OUTREACH_COMPLIANCE_THIRD_PARTY = 0, /* Regulation F in full: the default */
    OUTREACH_COMPLIANCE_CREDITOR,        /* no validation notice; any open dispute pauses */
} outreach_compliance_regime;

typedef enum outreach_compliance_status {
    OUTREACH_COMPLIANCE_OPEN = 0,
    OUTREACH_COMPLIANCE_PAID,
    OUTREACH_COMPLIANCE_SETTLED,
    OUTREACH_COMPLIANCE_CLOSED,
    OUTREACH_COMPLIANCE_DISPUTED, /* paused as a pending dispute, whatever the dates say */
    OUTREACH_COMPLIANCE_CEASE,
    OUTREACH_COMPLIANCE_ATTORNEY,
    OUTREACH_COMPLIANCE_BANKRUPT,
    OUTREACH_COMPLIANCE_DECEASED,
} outreach_compliance_status;

typedef enum outreach_compliance_outcome {
    OUTREACH_COMPLIANCE_ATTEMPT = 0, /* placed, outcome not known yet */
    OUTREACH_COMPLIANCE_NO_ANSWER,
    OUTREACH_COMPLIANCE_VOICEMAIL,
    OUTREACH_COMPLIANCE_CONVERSATION, /* a telephone conversation about the debt */
    OUTREACH_COMPLIANCE_SENT,
    OUTREACH_COMPLIANCE_DELIVERED,
    OUTREACH_COMPLIANCE_BOUNCED,
} outreach_compliance_outcome;

typedef enum outreach_compliance_verdict {
    OUTREACH_COMPLIANCE_ALLOW = 0,
    OUTREACH_COMPLIANCE_DEFER,
    OUTREACH_COMPLIANCE_SUPPRESS,
} outreach_compliance_verdict;

/* One past contact of the debt. */
typedef struct outreach_compliance_contact {
    outreach_compliance_channel channel;
    outreach_compliance_kind kind;
    outreach_compliance_outcome outcome;
    int by_consumer; /* 1: the consumer initiated it (inbound call or message) */
    int64_t at_ms;
} outreach_compliance_contact;

/* The contact being decided. */
typedef struct outreach_compliance_candidate {
    outreach_compliance_channel channel;
    outreach_compliance_kind kind;
    const char *address_id; /* opaque id of the address or number; borrowed; NULL: none */
    int mobile;             /* the number is a mobile (sms, voice) */
    int automated;          /* voice: autodialed or prerecorded */
    int at_work;            /* the address or number is at the consumer's workplace */
    int64_t at_ms;          /* the proposed time */
} outreach_compliance_candidate;

/* Hours as minutes after local midnight, start < end <= 1440. */
typedef struct outreach_compliance_hours {
    int set; /* 0: not stated */
    int start_min, end_min;
} outreach_compliance_hours;

/* What is known of the account and the consumer. Instants are UTC ms, 0 = never. Every
 * pointer is borrowed for the call. */
typedef struct outreach_compliance_account {
    outreach_compliance_regime regime;
    outreach_compliance_status status;
    const outreach_tz *const *zones; /* the consumer's zones; nzones 0 = unknown */
    size_t nzones;
    const char *const *opted_out_ids; /* addresses and numbers opted out (1006.6(e), 14(h)) */
    size_t nopted_out;
    int opted_out_medium[OUTREACH_COMPLIANCE_CHANNELS]; /* nonzero: the whole medium refused */
    int64_t sms_consent_ms;   /* prior express consent to texts; a STOP after it revokes it */
    int64_t voice_consent_ms; /* same, for autodialed or prerecorded calls to mobiles */
    int64_t stop_received_ms; /* the latest STOP-style reply */
    int attorney_represented;
    int cease_received;
    int no_contact_at_work; /* the consumer's employer forbids contact at work */
    int64_t dispute_received_ms;
    int64_t original_creditor_request_ms;
    int64_t verification_sent_ms; /* the answer to the dispute or request; ends the pause */
    int64_t validation_notice_sent_ms;
    int64_t first_communication_ms;
    outreach_compliance_hours convenient; /* the consumer's own hours replace the window */
} outreach_compliance_account;

/* The tenant's policy. Caps of 0 mean none. */
typedef struct outreach_compliance_policy {
    int window_start_min, window_end_min; /* default 480, 1260: 08:00 to 21:00 */
    int weekly_cap[OUTREACH_COMPLIANCE_CHANNELS];
    int daily_cap[OUTREACH_COMPLIANCE_CHANNELS];
} outreach_compliance_policy;

typedef struct outreach_compliance_input {
    const outreach_compliance_candidate *candidate;
    const outreach_compliance_account *account;
    const outreach_compliance_contact *history; /* NULL when nhistory is 0 */
    size_t nhistory;
    const outreach_compliance_policy *policy;
    const outreach_tz_db *db; /* for the US zones when account->nzones is 0 */
} outreach_compliance_input;

typedef struct outreach_compliance_decision {
    outreach_compliance_verdict verdict;
    int64_t until_ms;    /* DEFER only: the earliest allowed instant; else 0 */
    const char *rule_id; /* static */
    const char *reason;  /* static, no personal data */
} outreach_compliance_decision;

/* Regulation F window (08:00-21:00), no caps. */
void outreach_compliance_policy_default(outreach_compliance_policy *p);

/* Decides the candidate. ARR_EINVAL with why for bad input (NULL pointers, enum out of range,
 * an instant outside [0, OUTREACH_COMPLIANCE_MAX_MS), a bad window or cap); ARR_ENOTFOUND
 * when the zones are unknown and the db lacks the US zones. */
arr_err outreach_compliance_decide(const outreach_compliance_input *in,
                                   outreach_compliance_decision *out, char *why, size_t whylen);

/* The one confirmation text allowed after a STOP (47 CFR 64.1200(a)(12)): ALLOW when a STOP
 * was received at or before at_ms, at_ms is at most 5 minutes after it, and the history
 * holds no opt_out_confirmation sent at or after the STOP; else SUPPRESS with
 * tcpa.opt_out_confirmation_no_stop, _late or _once. ARR_EINVAL on NULL arguments. */
arr_err outreach_compliance_opt_out_confirmation(int64_t stop_received_ms, int64_t at_ms,
                                                 const outreach_compliance_contact *history,
                                                 size_t nhistory, outreach_compliance_decision *out,
                                                 char *why, size_t whylen);

/* 1 when text, as a whole, is a STOP-style reply: STOP, QUIT, END, REVOKE, OPT OUT (also
 * OPTOUT, OPT-OUT), CANCEL or UNSUBSCRIBE, in any case, with any ASCII whitespace or
 * punctuation around it ("Stop.", " STOP! "); then keyword_out receives the canonical word
 * ("OPT OUT"). 0 otherwise ("don't stop", "stop it", NULL), keyword_out untouched. Anything
 * else a consumer writes is for a person to read. */
int outreach_compliance_stop_keyword(const char *text, char keyword_out[16]);

/* 1 when the local date epoch_day (days since 1970-01-01) is a business day for 1006.34:
 * not a Saturday, a Sunday or a legal public holiday of 5 U.S.C. 6103(a) (Juneteenth from
 * 2021), nor the Friday or Monday a holiday falling on a weekend is observed. */
int outreach_compliance_business_day(int64_t epoch_day);

/* End of the validation period of a notice sent at sent_ms: receipt is assumed on the 5th
 * business day after the sending date, the period ends with the 30th day after receipt;
 * *end_ms is the first instant of the following local day in the latest of zones (nzones
 * >= 1; pass the US zones when unknown). A dispute received before *end_ms is inside. */
arr_err outreach_compliance_validation_period_end(int64_t sent_ms, const outreach_tz *const *zones,
                                                  size_t nzones, int64_t *end_ms, char *why,
                                                  size_t whylen);

#endif
