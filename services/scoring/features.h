/* scoring_features: what scoring knows of one account, built from its events only.
 *
 * Pure: no I/O and no wall clock. The state of an account is folded from its events in
 * order (account.placed/updated/closed, payment.applied/reversed, promise.*, outreach.*,
 * reply.received), and the model's input vector is read from that state at the time of
 * the event being scored, so replaying the same events gives the same vector. The state
 * holds no personal data (counts, amounts, flags and dates only), so it may be cached in
 * Redis; PostgreSQL and the topics stay the truth it is rebuilt from. */
#ifndef ARREARS_SCORING_FEATURES_H
#define ARREARS_SCORING_FEATURES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/err.h"

/* The model's input, one double each. Order and names are a contract with the model
 * files under deploy/models/: append only, never renumber. */
typedef enum scoring_feature {
    SF_BALANCE_LOG,   /* log(1 + balance in dollars); 0 for a credit */
    SF_DAYS_PAST_DUE, /* at the time of the scored event */
    SF_OPEN_DEBTS,    /* open invoices of the account */
    SF_SVC_TELECOM,   /* service type, one-hot; electricity/gas/other is the baseline */
    SF_SVC_WATER,
    SF_SVC_MEDICAL,
    SF_TENURE_MONTHS, /* unknown: the portfolio median, 24 */
    SF_PRIOR_DELINQ,  /* unknown: 0 */
    SF_PAYMENTS_12M,  /* unknown: 0 */
    SF_AUTOPAY,       /* 0/1; unknown: 0 */
    SF_EMAIL_OK,      /* a valid e-mail address with consent */
    SF_SMS_OK,        /* a mobile number with SMS consent */
    SF_CONTACTS,      /* contacts sent so far */
    SF_PROMISES_KEPT,
    SF_PROMISES_BROKEN,
    SF_PARTIAL_PAYMENTS, /* payments that left a balance */
    SF_COUNT
} scoring_feature;

/* Stable snake_case name of a feature ("balance_log", ...); NULL when out of range. */
const char *scoring_feature_name(scoring_feature f);
/* The feature of that name, or -1. */
int scoring_feature_by_name(const char *name);

/* ------------------------------------------------------------------ account state */

/* Where the account is in its life, as the creditor and the payments say. A consumer's
 * dispute or cease request is kept apart, in flags, so that a later payment or reversal can
 * never erase it. Values are stored in the cache: append only, never renumber. */
typedef enum scoring_lifecycle {
    SCORING_LC_NONE = 0, /* nothing placed yet (e.g. a payment seen before its placement) */
    SCORING_LC_OPEN,     /* placed and something is owed */
    SCORING_LC_PAID,     /* placed and nothing is owed any more (balance <= 0) */
    SCORING_LC_CLOSED,   /* the creditor closed or recalled it; only a new placement reopens */
    SCORING_LC__COUNT
} scoring_lifecycle;

/* What the strategy table sees (scoring_state_status): the lifecycle, overridden by the
 * consumer's requests, strongest first: closed > cease > disputed > paid > open > none. */
typedef enum scoring_status {
    SCORING_STATUS_NONE = 0,
    SCORING_STATUS_OPEN,
    SCORING_STATUS_PAID,
    SCORING_STATUS_CLOSED,
    SCORING_STATUS_DISPUTED, /* dispute or request for the original creditor (Reg F 1006.38) */
    SCORING_STATUS_CEASE,    /* STOP or represented by an attorney: no more contact */
    SCORING_STATUS__COUNT
} scoring_status;

/* Service type of the placement; stored in the cache: append only. */
typedef enum scoring_service {
    SCORING_SVC_UNKNOWN = 0,
    SCORING_SVC_ELECTRICITY,
    SCORING_SVC_GAS,
    SCORING_SVC_WATER,
    SCORING_SVC_TELECOM,
    SCORING_SVC_MEDICAL,
    SCORING_SVC_OTHER,
    SCORING_SVC__COUNT
} scoring_service;

/* due_day when the due date is not known (no placement yet). */
#define SCORING_DAY_UNKNOWN INT32_MIN
/* Tenure assumed when unknown: the portfolio median. */
#define SCORING_DEFAULT_TENURE_MONTHS 24
/* Upper bound of scoring_state_encode's output, NUL included. */
#define SCORING_STATE_ENCODED_MAX 512

/* Everything scoring keeps of one account. Plain values only (no pointers), so it can be
 * copied, compared with memcmp after scoring_state_init, and cached; no personal data: no
 * names, e-mail addresses, phone numbers or postal addresses, only amounts, counts, flags,
 * dates and the last event id. Unknown counts are -1. Money is in minor units. */
typedef struct scoring_state {
    int64_t balance_cents;          /* owed now; negative: a credit owed to the consumer */
    int64_t original_balance_cents; /* as placed */
    char currency[4];               /* ISO 4217, "" until known */
    int32_t due_day;                /* due date, days since 1970-01-01; SCORING_DAY_UNKNOWN */
    int32_t service;                /* scoring_service */
    int32_t open_debts;             /* 1 while the account is open with a balance, else 0 */
    int32_t tenure_months;          /* -1 unknown */
    int32_t prior_delinquencies;    /* -1 unknown */
    int32_t payments_12m;           /* -1 unknown (the creditor's count, from the profile) */
    int32_t autopay;                /* 0/1, -1 unknown */
    int32_t email_ok;               /* 0/1: an e-mail address with consent */
    int32_t sms_ok;                 /* 0/1: a mobile number with SMS consent */
    int32_t contacts;               /* outreach.sent so far */
    int32_t promises_kept;
    int32_t promises_broken;      /* promise.broken and plan.instalment_missed */
    int32_t promise_open;         /* 0/1: a promise to pay is pending (the latest one) */
    int64_t promise_amount_cents; /* what the pending promise promised; 0: unspecified */
    int64_t promise_paid_cents;   /* paid since the pending promise was made */
    int32_t partial_payments;     /* payments that left a balance */
    int32_t payments;             /* payment.applied so far (reversals do not uncount) */
    int64_t payments_total_cents; /* applied minus reversed, never below 0 */
    int32_t lifecycle;            /* scoring_lifecycle */
    int32_t disputed;             /* 0/1 */
    int32_t cease;                /* 0/1; never cleared */
    int64_t last_event_ms;        /* event time of the last applied event; 0: none */
    int64_t version;              /* applied events so far */
    char last_event_id[37];       /* UUID of the last applied event; "" before the first */
} scoring_state;

/* An empty state: nothing known (every field zeroed, then the unknowns set to -1 and the
 * due day to SCORING_DAY_UNKNOWN). Padding is zeroed too, so states compare with memcmp. */
void scoring_state_init(scoring_state *st);

/* 1 when event_id is the last event applied to st (a redelivery), else 0. */
int scoring_state_seen(const scoring_state *st, const char *event_id);

/* Folds one event (its envelope's type, payload, event time and id) into st.
 *   account.placed / account.updated: the whole account (balance, original balance,
 *       currency, due date, service, profile, consent flags of the debtor's contact points;
 *       nothing personal is kept). open_debts is 1 while open with a balance: the payload
 *       carries one invoice. The lifecycle becomes open, or paid when nothing is owed; a
 *       placement reopens a closed account; an update leaves a closed one closed.
 *   account.closed: lifecycle closed (and the balance, when given).
 *   payment.applied: balance = balance_after_cents minus any credit_cents; a balance left
 *       counts a partial payment, none makes an open account paid; a pending promise is kept
 *       once the payments since it reach the promised amount or nothing is owed.
 *   payment.reversed: balance = balance_after_cents; a paid account with a balance reopens.
 *   promise.broken, plan.instalment_missed: promises_broken + 1 (the first also ends the
 *       pending promise). There is no promise.made or promise.kept event in the catalogue: a
 *       promise is made by reply.received with intent "promise" and kept by payments.
 *   outreach.sent: contacts + 1.
 *   reply.received: intent stop/attorney sets cease, dispute/original_creditor_request sets
 *       disputed, promise makes the pending promise (replacing an earlier one); paid and
 *       other change nothing but the event counters.
 *   any other type: ignored (other services' events share the topics); ARR_OK, st untouched.
 * A redelivery of the last applied event (same event_id) is ignored too: ARR_OK, st
 * untouched, byte for byte; check scoring_state_seen first to tell it apart. Otherwise
 * version + 1, last_event_ms and last_event_id are set.
 * ARR_EINVAL with why ("field payload.<name>: <reason>") when event_id is not a UUID or a
 * field scoring reads is missing or malformed, or a payment's currency is not the
 * account's; st is then untouched. Borrows every argument; st must be initialised. */
arr_err scoring_state_apply(scoring_state *st, const char *event_type, json_t *payload,
                            int64_t event_time_ms, const char *event_id, char *why, size_t whylen);

/* The effective status (see scoring_status). */
scoring_status scoring_state_status(const scoring_state *st);
/* "none", "open", "paid", "closed", "disputed", "cease"; NULL when out of range. */
const char *scoring_status_name(scoring_status s);
/* The status of that name, or -1. */
int scoring_status_by_name(const char *name);
/* The service of a service_type ("water", ...), SCORING_SVC_UNKNOWN for anything else. */
scoring_service scoring_service_by_name(const char *name);

/* The model's input at as_of_ms, the time of the scored event (never the wall clock):
 *   balance_log       log1p(balance in dollars), 0 for a zero balance or a credit;
 *   days_past_due     whole UTC days from the due date to as_of, 0 before it or unknown;
 *   svc_*             one-hot of telecom, water, medical (all 0 for the rest);
 *   tenure_months     24 when unknown; prior_delinq, payments_12m, autopay 0 when unknown;
 *   the rest          the state's counts and flags as they are. */
void scoring_features_vector(const scoring_state *st, int64_t as_of_ms, double x[SF_COUNT]);

/* The cache form: one line of text, "v1|" then the fields of scoring_state in their order,
 * separated by '|', integers in decimal, "-" for an empty currency or event id and for an
 * unknown due day. At most SCORING_STATE_ENCODED_MAX bytes with the NUL. Writes the text and
 * its NUL into buf and its length (without the NUL) into *len; ARR_ELIMIT when cap is too
 * small. Borrows st; buf is the caller's. */
arr_err scoring_state_encode(const scoring_state *st, char *buf, size_t cap, size_t *len);
/* The inverse: ARR_EINVAL with why for another version, a wrong field count, a malformed
 * or out-of-range field. Reads len bytes of buf (no NUL needed); fills *st only on ARR_OK.
 * decode(encode(st)) == st exactly, memcmp included. */
arr_err scoring_state_decode(const char *buf, size_t len, scoring_state *st, char *why,
                             size_t whylen);

#endif
