/* outreach_cadence: which contact comes next for an account, and when. A cadence policy says,
 * for each strategy scoring can choose, the ordered steps of outreach (channel, template,
 * offset in days, conditions), what follows when they are used up, the tenant's weekly and
 * daily caps per channel and the unit cost of each channel (for cost to collect). The planner
 * is pure: account facts + progress -> the next due step. No I/O but the loader, no clock.
 *
 * ------------------------------------------------------------------ the policy file
 * One policy per file; a tenant's configuration names the file it uses (the shipped ones are
 * deploy/outreach/cadences/default-1.json and uniform-1.json). A changed policy is a new file
 * with a new version: the version is recorded with every step planned under it.
 *
 *   {"format": "arrears-cadence-1",                       required, exactly this
 *    "version": "cadence-default-1",                      required, 1..63 printable ASCII
 *                                                         characters, no spaces
 *    "unit_costs_cents": {"email": 1, "sms": 3, "voice": 40, "letter": 75,
 *                         "agent_minute": 90},           required, all five, integers
 *                                                         0..1000000
 *    "weekly_caps": {"email": 3, "sms": 2, "voice": 3, "letter": 1},
 *                                                         required, all four, integers 0..1000;
 *                                                         0 = no cap. Contacts per local week
 *                                                         (Monday to Sunday), enforced by the
 *                                                         compliance engine (rule 7)
 *    "daily_caps": {"email": 1, ...},                     optional, same shape; default none
 *    "strategies": {
 *      "<strategy>": {"steps": [<step>, ...],             required, 0..32 steps
 *                     "escalate_to": "<strategy>"|null,   optional, default null
 *                     "escalate_after_days": 3},          optional, 0..3650, needs escalate_to
 *      "*": {...}}}                                       "*" (the fallback) is required
 *
 *   <step> = {"id": "sms-1",                              required, [a-z0-9][a-z0-9_-]{0,46},
 *                                                         unique in its strategy
 *             "offset_days": 3,                           required, integer 0..3650
 *             "from": "placement"|"previous",             required
 *             "channel": "email"|"sms"|"voice"|"letter",  required
 *             "template": "reminder_sms_1",               required, [a-z0-9_]{1,63}
 *             "kind": "regular"|"validation_notice",      optional, default "regular"
 *             "conditions": ["has_email", ...]}           optional, at most 8, no repeats
 *
 * Keys starting with "_" are comments; any other unknown key is an error. Strategy names are
 * scoring's ([a-z0-9][a-z0-9_-]{0,46}: digital-light, digital-standard, voice-assisted,
 * settlement-offer, agent-review, do-not-pursue, no-action in deploy/strategy/default-1.json)
 * or names of the policy's own used only as escalation targets. A strategy the policy does not
 * name gets the "*" cadence. A strategy with no steps is never contacted (do-not-pursue).
 * escalate_to must name another strategy of the policy (not "*"); escalation may not form a
 * cycle. A validation_notice step must be on email or letter.
 *
 * Templates: given a template set at load, every step's template must exist in it, have the
 * step's channel, and be of kind "reminder" (for a regular step) or "validation_notice" (for
 * a validation_notice step); the opt-out confirmation and the cease notice are sent on events,
 * never on a cadence. Without a set only the id's syntax is checked.
 *
 * Conditions, all of which must hold for a step to be planned (else it is skipped):
 *   has_email                email address on file
 *   has_mobile_sms_consent   a mobile number and prior express consent to texts
 *   has_phone                a phone number (mobile or landline)
 *   has_voice_consent        a phone number and consent to automated calls (TCPA)
 *   has_address              a postal address
 *   third_party, creditor    the tenant's regime
 *   validation_notice_pending  no validation notice has been sent yet
 *   balance_at_least:<cents> balance >= cents (integer 0..10^12)
 *   balance_below:<cents>    balance < cents
 * Implicit conditions, checked first even when not written: the channel's contact point
 * (email: has_email, sms: has_mobile_sms_consent, voice: has_phone, letter: has_address), and
 * for a validation_notice step third_party and validation_notice_pending (a second notice is
 * never planned, e.g. after a strategy change). A skipped step's rule id is
 * "cadence.condition.<name>" (without the ":<cents>" argument) of the first failing condition.
 *
 * Load errors are ARR_ECONFIG (ARR_EIO when the file cannot be read) and why names the field:
 * "strategies.digital-light.steps[2].offset_days: must be an integer from 0 to 3650".
 *
 * ------------------------------------------------------------------ runs and progress
 * A run is one pass through one strategy's cadence. The first run follows the account's
 * strategy from its placement. A new run begins when
 *   - a new score gives a strategy served by another cadence (a switch): the account's new
 *     strategy from account.scored_at_ms (the score's event time) - the next step comes from
 *     the new cadence;
 *   - a cadence is used up and escalates: the caller starts the escalate_to run at
 *     escalate_at_ms (see outreach_cadence_step_out).
 * The caller keeps, per account, the run (policy version, scored strategy, strategy, start)
 * and the steps of the run that are done, each with its channel, time and whether it was sent.
 * A step is done when it was sent, suppressed by the compliance engine, failed for good, or
 * skipped by the planner: done steps are never planned again in the same run.
 *
 * Offsets: "placement" counts from the run's start (the placement for the first run, the
 * switch or escalation time for later ones); "previous" counts from when the previous step
 * was done (the latest at_ms of the run's done steps; the run's start when none is done).
 * Steps skipped in the same call keep their place on the timeline: the step after a skipped
 * one counts from the skipped step's due time. A step is never due before the step before it
 * (a due time earlier than the latest done or skipped step is raised to it); a due time in the
 * past means "now" (catch-up in order). The compliance engine then moves the time into the
 * consumer's allowed hours and under the caps.
 *
 * Policy changes do not disturb steps already sent. The done steps are matched by id in the
 * cadence that serves the run's strategy under the policy given now, and the next candidate is
 * the first step after the last matched one (in the current policy's order); ids the policy no
 * longer has are ignored; with no match, the run continues from its first step. So steps sent
 * are never repeated as long as a new version keeps their ids; a step added before the run's
 * position is not sent retroactively; steps after it apply with the new offsets, channels and
 * templates. Under an unchanged policy the rule is simply "the step after the last done one".
 * out->version_changed tells the caller to record the new version (and audit the change).
 *
 * Strategy switch without repeats: a step is skipped with rule
 * "cadence.same_channel_same_day" when a contact was sent on its channel within 24 hours of
 * its due time (before or after) by anything other than this run's own steps (the previous
 * cadence, or an escalated-from one): progress.last_sent_ms[channel] is within 24 h of the due
 * time and is not the at_ms of a sent step of this run on that channel. 24 hours, not a
 * calendar day: the planner knows no time zone. Within one run the cadence's own spacing
 * applies (and the compliance engine's caps).
 *
 * Escalation and the end: when no step remains, the outcome is EXHAUSTED (rule
 * cadence.exhausted) when at least one step of the run was sent, else NONE: rule
 * cadence.no_applicable_step when every step was skipped, suppressed or failed (no contact
 * point, no consent...), cadence.no_steps when the cadence has no steps (do-not-pursue). The
 * answer depends only on the inputs, so asking again after recording the skips gives it again.
 * Either carries escalate_to and escalate_at_ms = max(run start, latest done time, latest skipped
 * due time) + escalate_after_days; the caller records the escalation and calls again with progress
 * {strategy = escalate_to, start_ms = escalate_at_ms, scored_strategy kept, no done steps,
 * last_sent_ms kept}. Without escalate_to the account's outreach is over (until a new score
 * switches it).
 *
 * Ownership: a policy is immutable once loaded; threads may share it. Strings in a
 * outreach_cadence_step_out that are not arrays point into the policy (or are static) and live
 * as long as the policy. Account and progress are borrowed for the call. */
#ifndef ARREARS_OUTREACH_CADENCE_H
#define ARREARS_OUTREACH_CADENCE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/err.h"
#include "compliance.h"
#include "template.h"

#define OUTREACH_CADENCE_FORMAT "arrears-cadence-1"
#define OUTREACH_CADENCE_FALLBACK "*"
#define OUTREACH_CADENCE_MAX_STEPS 32
#define OUTREACH_CADENCE_MAX_STRATEGIES 48 /* "*" included */
#define OUTREACH_CADENCE_MAX_CONDITIONS 8  /* written in one step */
#define OUTREACH_CADENCE_NAME_MAX 48       /* strategy name or step id, NUL included */
#define OUTREACH_CADENCE_VERSION_MAX 64    /* NUL included */
#define OUTREACH_CADENCE_MAX_OFFSET_DAYS 3650
#define OUTREACH_CADENCE_MAX_CAP 1000
#define OUTREACH_CADENCE_MAX_UNIT_COST 1000000 /* cents */
#define OUTREACH_CADENCE_FILE_MAX (1u << 20)
#define OUTREACH_CADENCE_DAY_MS INT64_C(86400000)

/* Rule ids of the planner (static strings; a skip's rule_id is one of these or
 * "cadence.condition.<name>"). */
#define OUTREACH_CADENCE_RULE_CONDITION_PREFIX "cadence.condition."
#define OUTREACH_CADENCE_RULE_SAME_DAY "cadence.same_channel_same_day"
#define OUTREACH_CADENCE_RULE_EXHAUSTED "cadence.exhausted"
#define OUTREACH_CADENCE_RULE_NO_STEPS "cadence.no_steps" /* the cadence is empty */
#define OUTREACH_CADENCE_RULE_NONE_APPLICABLE "cadence.no_applicable_step"

/* What costs money; the first four are the compliance channels, same values. */
typedef enum outreach_cadence_unit {
    OUTREACH_CADENCE_UNIT_EMAIL = 0,
    OUTREACH_CADENCE_UNIT_SMS,
    OUTREACH_CADENCE_UNIT_VOICE,
    OUTREACH_CADENCE_UNIT_LETTER,
    OUTREACH_CADENCE_UNIT_AGENT_MINUTE,
    OUTREACH_CADENCE_UNITS /* count */
} outreach_cadence_unit;

typedef enum outreach_cadence_outcome {
    OUTREACH_CADENCE_STEP = 0,  /* a step is due: plan it */
    OUTREACH_CADENCE_EXHAUSTED, /* the run has no step left */
    OUTREACH_CADENCE_NONE,      /* no step of the cadence applies to this account */
} outreach_cadence_outcome;

typedef struct outreach_cadence_policy outreach_cadence_policy;

/* The facts the conditions and the run need. */
typedef struct outreach_cadence_account {
    const char *strategy; /* scoring's strategy for the account; required, < NAME_MAX bytes */
    int64_t placed_ms;    /* placement: start of the first run */
    int64_t scored_at_ms; /* event time of the score that gave strategy; needed (> 0) when it
                             switches the cadence: the new run starts then (not before
                             placed_ms) */
    outreach_compliance_regime regime;
    int64_t balance_cents;
    int has_email;
    int has_mobile;    /* a mobile number */
    int sms_consent;   /* prior express consent to texts, not revoked */
    int has_phone;     /* any phone number */
    int voice_consent; /* consent to autodialed or prerecorded calls, not revoked */
    int has_address;   /* a postal address */
    int validation_notice_sent;
} outreach_cadence_account;

/* One done step of the run. */
typedef struct outreach_cadence_done {
    const char *step_id; /* borrowed */
    outreach_compliance_channel channel;
    int64_t at_ms; /* sent, suppressed or failed then; a skipped step: its due_ms */
    int sent;      /* 1: the contact went out */
} outreach_cadence_done;

/* Where the account stands. All zero (or a NULL pointer) = nothing begun: the first run. */
typedef struct outreach_cadence_progress {
    const char *policy_version;        /* version that planned the run's last step; NULL: unknown */
    const char *scored_strategy;       /* account strategy the run descends from; NULL iff strategy
                                          is NULL */
    const char *strategy;              /* strategy whose cadence runs (scored one or an escalation);
                                          NULL: nothing begun */
    int64_t start_ms;                  /* the run's start */
    const outreach_cadence_done *done; /* the run's done steps, any order; NULL when ndone 0 */
    size_t ndone;
    /* the latest contact sent on each channel by any run; 0 = never */
    int64_t last_sent_ms[OUTREACH_COMPLIANCE_CHANNELS];
} outreach_cadence_progress;

typedef struct outreach_cadence_skip {
    const char *step_id;     /* into the policy */
    const char *rule_id;     /* static: "cadence.condition.has_email", ... */
    const char *template_id; /* into the policy */
    outreach_compliance_channel channel;
    outreach_compliance_kind kind;
    int64_t due_ms; /* when it would have been due; record it as the step's at_ms */
} outreach_cadence_skip;

/* The planner's answer. Written only on ARR_OK. */
typedef struct outreach_cadence_step_out {
    outreach_cadence_outcome outcome;
    const char *rule_id; /* EXHAUSTED, NONE: static rule id; STEP: NULL */

    /* The run the answer belongs to: what the caller keeps as progress from now on. */
    int new_run;         /* 1: a run begins (first one, or a switch): forget the done steps */
    int switched;        /* 1: because the account's strategy changed cadence */
    int version_changed; /* 1: progress.policy_version was another version */
    const char *policy_version;                      /* the policy's version */
    char scored_strategy[OUTREACH_CADENCE_NAME_MAX]; /* the account's strategy */
    char strategy[OUTREACH_CADENCE_NAME_MAX];        /* the run's strategy */
    const char *cadence; /* the policy's cadence serving it: its name, or "*" */
    int64_t start_ms;

    /* STEP */
    const char *step_id;     /* into the policy */
    int step_index;          /* position in the cadence, from 0 */
    const char *template_id; /* into the policy */
    outreach_compliance_channel channel;
    outreach_compliance_kind kind; /* REGULAR or VALIDATION_NOTICE */
    int64_t due_ms;

    /* EXHAUSTED, NONE */
    const char *escalate_to; /* into the policy; NULL: outreach ends */
    int64_t escalate_at_ms;  /* start of the escalation run; 0 without escalate_to */

    /* Steps skipped on the way, in order (any outcome). The caller records each as done
     * (sent 0, at_ms = due_ms) and emits outreach.suppressed with its rule id. */
    size_t nskipped;
    outreach_cadence_skip skipped[OUTREACH_CADENCE_MAX_STEPS];
} outreach_cadence_step_out;

/* Reads and validates a policy file (at most OUTREACH_CADENCE_FILE_MAX bytes). templates may be
 * NULL (no template check) or the tenant's template set (borrowed for the call). On success
 * *out is a new policy the caller owns (outreach_cadence_policy_free). ARR_EIO when unreadable,
 * ARR_ECONFIG when invalid with the path and the field in why, ARR_ENOMEM. */
arr_err outreach_cadence_policy_load(const char *path, const outreach_template_set *templates,
                                     outreach_cadence_policy **out, char *why, size_t whylen);
/* Same from JSON text (len bytes; duplicate keys refused). */
arr_err outreach_cadence_policy_parse(const char *text, size_t len,
                                      const outreach_template_set *templates,
                                      outreach_cadence_policy **out, char *why, size_t whylen);
/* Same from a parsed document (borrowed, not kept). */
arr_err outreach_cadence_policy_from_json(json_t *root, const outreach_template_set *templates,
                                          outreach_cadence_policy **out, char *why, size_t whylen);
void outreach_cadence_policy_free(outreach_cadence_policy *p); /* NULL is fine */

/* The policy's version (owned by the policy); "" for NULL. */
const char *outreach_cadence_policy_version(const outreach_cadence_policy *p);
/* Name of the cadence serving strategy: strategy itself when the policy has it, else "*".
 * Owned by the policy; NULL when an argument is NULL. */
const char *outreach_cadence_resolve(const outreach_cadence_policy *p, const char *strategy);
/* Number of steps of the cadence serving strategy; -1 when an argument is NULL. */
int outreach_cadence_step_count(const outreach_cadence_policy *p, const char *strategy);

/* Writes the policy's weekly and daily caps into the compliance policy (its window is left
 * alone). ARR_EINVAL on NULL. */
arr_err outreach_cadence_caps(const outreach_cadence_policy *p, outreach_compliance_policy *cp);

/* Unit cost in cents. ARR_EINVAL on NULL or a unit out of range; *cents only on success. */
arr_err outreach_cadence_unit_cost(const outreach_cadence_policy *p, outreach_cadence_unit unit,
                                   int64_t *cents);
/* Cost of counts[u] units of each kind: sum of counts[u] x unit cost. ARR_EINVAL on NULL or a
 * negative count (why names it), ARR_ELIMIT when the sum would overflow int64. */
arr_err outreach_cadence_cost_sum(const outreach_cadence_policy *p,
                                  const int64_t counts[OUTREACH_CADENCE_UNITS],
                                  int64_t *total_cents, char *why, size_t whylen);

/* The next due step (see the top of this file). ARR_EINVAL with why naming the field for bad
 * input: NULL policy, account or out; account.strategy missing or too long; an instant outside
 * [0, OUTREACH_COMPLIANCE_MAX_MS); regime or a done channel out of range; a done step without
 * id; progress.strategy without scored_strategy or the reverse; a switch without
 * account.scored_at_ms. progress may be NULL. */
arr_err outreach_cadence_next(const outreach_cadence_policy *p,
                              const outreach_cadence_account *acct,
                              const outreach_cadence_progress *progress,
                              outreach_cadence_step_out *out, char *why, size_t whylen);

/* "email", "sms", "voice", "letter", "agent_minute"; "unknown" out of range. Static. */
const char *outreach_cadence_unit_name(outreach_cadence_unit u);
/* The unit of that name. ARR_ENOTFOUND when none (u untouched), ARR_EINVAL on NULL. */
arr_err outreach_cadence_unit_by_name(const char *name, outreach_cadence_unit *u);
/* "email", "sms", "voice", "letter" for a compliance channel; "unknown" out of range. */
const char *outreach_cadence_channel_name(outreach_compliance_channel c);
/* "regular", "validation_notice", "opt_out_confirmation", "cease_final_notice"; "unknown". */
const char *outreach_cadence_kind_name(outreach_compliance_kind k);

#endif
