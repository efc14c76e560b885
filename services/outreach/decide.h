/* outreach_decide: the decision on one step of an account at an instant, as the senders and the
 * settle take it and the replay (arrears replay --service outreach) takes it again: the contact
 * point the step would use, the compliance engine (compliance.h) on the account's state,
 * contact history and the tenant's caps, then outreach's own overrides. Pure: no PostgreSQL,
 * no Redis, no clock; the same account, step and instant give the same decision.
 *
 * Precedence: the law's suppressions first; then a step with no usable contact point is
 * suppressed (contact.no_usable_email, contact.no_usable_sms_number, contact.no_usable_phone,
 * contact.no_postal_address); then a regular step of an account with a pending promise (or a
 * "paid" reply) is deferred until promise_until_ms under hold_rule ("promise.pending" when
 * empty), unless the law already defers it as long or longer.
 *
 * Ownership: every argument is borrowed for the call. The settings are read only. The tz db
 * is this thread's: a zone the account names is loaded through it on first use
 * (outreach_tz_db_load, the only I/O, cached afterwards); an unknown zone is left out. *point
 * points into a->facts, d->rule_id into a->hold_rule or static strings: both live as long as
 * the account. An outreach_account is caller storage; it owns its debtor JSON (book.h
 * outreach_account_clear), which the decision never reads. */
#ifndef ARREARS_OUTREACH_DECIDE_H
#define ARREARS_OUTREACH_DECIDE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/envelope.h"
#include "arrears/err.h"
#include "arrears/uuid.h"
#include "compliance.h"
#include "facts.h"
#include "settings.h"
#include "tz.h"

#define OUTREACH_BOOK_STEPS_MAX 96 /* the most recent steps loaded with an account */
#define OUTREACH_BOOK_IDS_MAX 16   /* opt-outs and bad contact points loaded */
#define OUTREACH_BOOK_NAME 64

typedef struct outreach_step {
    char step_id[ARR_UUID_STRLEN];
    int run_no;
    char step_key[OUTREACH_BOOK_NAME];
    outreach_compliance_channel channel;
    outreach_compliance_kind kind;
    char status[16]; /* planned, sending, sent, suppressed, skipped, failed */
    char template_id[OUTREACH_BOOK_NAME];
    char address_id[OUTREACH_FACTS_ID_LEN + 1];
    char call_outcome[16];
    int attempts;
    int64_t due_ms, done_ms; /* done_ms 0 while open */
    /* written by the sender; "" / 0 when unknown */
    char provider_message_id[129];
    char template_version[OUTREACH_BOOK_NAME];
    char lang[3];
    char delivery[16];
    int64_t cost_cents;
    int64_t updated_ms; /* the row's last change, on PostgreSQL's clock */
} outreach_step;

typedef struct outreach_account {
    char tenant[ARR_TENANT_MAX + 1];
    char account[ARR_ACCOUNT_MAX + 1];
    int placed; /* 0: known only from a score or a payment so far */
    outreach_compliance_regime regime;
    char currency[4];
    int64_t balance_cents, original_cents;
    char due_date[11];
    json_t *debtor;   /* owned; NULL until placed */
    int debtor_dirty; /* 1: save writes it */
    outreach_facts facts;
    int64_t placed_ms;
    char status[16];
    char status_rule[OUTREACH_BOOK_NAME];
    char strategy[OUTREACH_BOOK_NAME];
    int64_t scored_ms;
    int run_no;
    char run_policy_version[OUTREACH_BOOK_NAME], run_scored_strategy[OUTREACH_BOOK_NAME],
        run_strategy[OUTREACH_BOOK_NAME];
    int64_t run_start_ms;
    char run_over[OUTREACH_BOOK_NAME];
    int64_t sms_consent_ms, voice_consent_ms, stop_ms, dispute_ms, original_creditor_ms,
        verification_ms, validation_ms, first_contact_ms, promise_until_ms;
    char hold_rule[OUTREACH_BOOK_NAME];
    outreach_step steps[OUTREACH_BOOK_STEPS_MAX]; /* newest first */
    size_t nsteps;
    char opted_out[OUTREACH_BOOK_IDS_MAX][OUTREACH_FACTS_ID_LEN + 8]; /* ids, 'medium:<ch>' */
    size_t nopted;
    char bad[OUTREACH_BOOK_IDS_MAX][OUTREACH_FACTS_ID_LEN + 1];
    size_t nbad;
    /* the earliest open step when loaded ("" / 0: none): the schedule is written only when
       settling changes it */
    char sched_step_id[ARR_UUID_STRLEN];
    int64_t sched_due_ms;
} outreach_account;

/* The decision on step st (its channel and kind) of account a at at_ms. Reads of a: tenant
 * (its caps, outreach_settings_tenant), regime, status, facts, the consent, stop, dispute,
 * original-creditor, verification, validation and first-contact instants, promise_until_ms
 * and hold_rule, opted_out ('medium:<channel>' for a whole medium), bad, and as contact
 * history the steps with status "sent" and done_ms > 0 (their outcome from call_outcome and
 * delivery). *point: the contact point chosen, NULL when the consumer has none for the
 * channel. Errors of outreach_compliance_decide (ARR_EINVAL, ARR_ENOTFOUND) with why. */
arr_err outreach_decide(const outreach_settings *settings, outreach_tz_db *tz,
                        const outreach_account *a, const outreach_step *st, int64_t at_ms,
                        const outreach_contact_point **point, outreach_compliance_decision *d,
                        char *why, size_t whylen);

/* The channel named name ("email", "sms", "voice", "letter"): ARR_OK and *out, else
 * ARR_EDECODE (NULL or another name; *out untouched). */
arr_err outreach_decide_channel_of(const char *name, outreach_compliance_channel *out);

#endif
