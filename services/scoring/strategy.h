/* scoring_strategy: the configurable strategy table, and the decision it gives for a score.
 *
 * Pure: no I/O but the loader's one file read, no clock. A table is a versioned JSON file
 * (deploy/strategy/default-1.json is the shipped one):
 *
 *   {"format": "arrears-strategy-1",            required, exactly this
 *    "version": "strategy-default-1",           required, printable ASCII, 1..63 bytes; goes
 *                                               into score.computed strategy_table_version
 *    "contact_costs_cents": {"email": 1, "sms": 3, "voice": 40, "letter": 75},
 *                                               required, all four channels, integers >= 0
 *    "budget_share": 0.25,                      required, 0..1: share of the expected
 *                                               recovery worth spending on contact
 *    "strategies": {"<name>": {"next_channel": "email"}, "<name>": {}, ...},
 *                                               required, 1..SCORING_STRATEGY_MAX; next_channel
 *                                               optional; "do-not-pursue" must be defined
 *                                               without a next channel
 *    "rules": [{"segment": "<name>", "strategy": "<defined name>",
 *               "reason": "REASON_CODE",        optional; default "SEGMENT_" + the segment
 *                                               upper-cased with '-' as '_'
 *               "when": {...}}, ...]}           required, 1..SCORING_STRATEGY_RULES_MAX
 *
 * Names (strategies, segments) match [a-z0-9][a-z0-9_-]{0,46}, reason codes
 * [A-Z][A-Z0-9_]{0,63}, as score.computed requires. Conditions of "when", all optional, all
 * of which must hold; every range is min <= value < max (min inclusive, max exclusive):
 *   min_probability, max_probability                 numbers in 0..1
 *   min_balance_cents, max_balance_cents             integers
 *   min_expected_recovery_cents, max_expected_recovery_cents   integers
 *   min_days_past_due, max_days_past_due             integers >= 0
 *   status                                           non-empty array of scoring_status names
 *                                                    (none, open, paid, closed, disputed,
 *                                                    cease)
 * The first rule that matches wins. The last rule must have an empty "when" (the catch-all)
 * and no earlier one may (later rules would be unreachable); a min not below its max is
 * refused too. Any unknown key, unknown strategy or channel, negative cost or out-of-range
 * value is ARR_EINVAL with why naming the place, e.g. "rules[2].when.min_balance_cents:
 * must be an integer".
 *
 * The decision: expected recovery = max(balance, 0) x probability, with the probability
 * rounded to the nearest millionth and the product truncated to whole cents (computed in
 * integers, so no balance can overflow it); contact budget = expected recovery x budget_share,
 * budget_share likewise in millionths, truncated. Then the first matching rule gives the
 * segment, strategy and reason. Do not pursue: when that strategy has a next channel and
 * the expected recovery is below the cost of one contact on it, the decision becomes
 * segment "no-value", strategy "do-not-pursue", reason "RECOVERY_BELOW_CONTACT_COST" (rule
 * still names the rule that matched). Equal to the cost is still worth it. */
#ifndef ARREARS_SCORING_STRATEGY_H
#define ARREARS_SCORING_STRATEGY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/err.h"
#include "features.h"

#define SCORING_STRATEGY_FORMAT "arrears-strategy-1"
#define SCORING_STRATEGY_NAME_MAX 48 /* bytes of a strategy or segment name, NUL included */
#define SCORING_STRATEGY_REASON_MAX 65
#define SCORING_STRATEGY_VERSION_MAX 64
#define SCORING_STRATEGY_MAX 32
#define SCORING_STRATEGY_RULES_MAX 64

#define SCORING_SEGMENT_NO_VALUE "no-value"
#define SCORING_STRATEGY_DO_NOT_PURSUE "do-not-pursue"
#define SCORING_REASON_BELOW_COST "RECOVERY_BELOW_CONTACT_COST"

typedef enum scoring_channel {
    SCORING_CH_NONE = -1, /* a strategy without contact (no-action, do-not-pursue) */
    SCORING_CH_EMAIL = 0,
    SCORING_CH_SMS,
    SCORING_CH_VOICE,
    SCORING_CH_LETTER,
    SCORING_CH__COUNT
} scoring_channel;

/* "email", "sms", "voice", "letter"; NULL for SCORING_CH_NONE or out of range. */
const char *scoring_channel_name(scoring_channel c);
/* The channel of that name, or SCORING_CH_NONE. */
scoring_channel scoring_channel_by_name(const char *name);

typedef struct scoring_strategy_def {
    char name[SCORING_STRATEGY_NAME_MAX];
    scoring_channel next_channel;
} scoring_strategy_def;

/* One rule's conditions; a has_* flag of 0 means no condition on that side. */
typedef struct scoring_strategy_when {
    int has_min_p, has_max_p;
    double min_p, max_p;
    int has_min_balance, has_max_balance;
    int64_t min_balance_cents, max_balance_cents;
    int has_min_er, has_max_er;
    int64_t min_er_cents, max_er_cents;
    int has_min_dpd, has_max_dpd;
    int64_t min_dpd, max_dpd;
    unsigned status_mask; /* bit (1u << scoring_status); 0: any status */
} scoring_strategy_when;

typedef struct scoring_strategy_rule {
    char segment[SCORING_STRATEGY_NAME_MAX];
    char reason[SCORING_STRATEGY_REASON_MAX];
    int strategy; /* index into the table's strategies */
    scoring_strategy_when when;
} scoring_strategy_rule;

/* A loaded table: plain values, no pointers, owned by whoever holds it (stack, static or
 * heap: about 16 KB). Read-only after loading, so one table can serve many threads. */
typedef struct scoring_strategy_table {
    char version[SCORING_STRATEGY_VERSION_MAX];
    int64_t contact_cost_cents[SCORING_CH__COUNT];
    int64_t budget_share_ppm; /* the file's budget_share in millionths, rounded */
    int n_strategies;
    scoring_strategy_def strategies[SCORING_STRATEGY_MAX];
    int n_rules;
    scoring_strategy_rule rules[SCORING_STRATEGY_RULES_MAX];
    int do_not_pursue; /* index of "do-not-pursue" in strategies */
} scoring_strategy_table;

typedef struct scoring_strategy_input {
    double probability; /* 0..1 */
    int64_t balance_cents;
    int64_t days_past_due;
    scoring_status status;
} scoring_strategy_input;

/* The strings point into the table (or are static literals) and live as long as the table
 * is neither changed nor freed. */
typedef struct scoring_strategy_decision {
    int64_t expected_recovery_cents; /* >= 0 */
    int64_t contact_budget_cents;    /* >= 0 */
    const char *segment;
    const char *strategy;
    const char *reason;              /* one reason code */
    scoring_channel next_channel;    /* of the final strategy; SCORING_CH_NONE when none */
    int64_t next_contact_cost_cents; /* 0 when no next channel */
    int rule;                        /* index of the rule that matched */
} scoring_strategy_decision;

/* Parses and validates a table from JSON (borrowed). Fills *t only on ARR_OK; on
 * ARR_EINVAL why names the offending place. */
arr_err scoring_strategy_parse(json_t *root, scoring_strategy_table *t, char *why, size_t whylen);
/* The same from a file (duplicate keys refused). ARR_EIO when it cannot be read, ARR_EINVAL
 * when it is not valid JSON (why gives the line) or not a valid table. */
arr_err scoring_strategy_load(const char *path, scoring_strategy_table *t, char *why,
                              size_t whylen);

/* The decision for one score (see the top of this file). ARR_EINVAL when a pointer is NULL,
 * the probability is not a number in 0..1 or the status is out of range; *out is filled
 * only on ARR_OK. Borrows t and in. */
arr_err scoring_strategy_decide(const scoring_strategy_table *t, const scoring_strategy_input *in,
                                scoring_strategy_decision *out);

/* max(balance, 0) x ppm / 1e6, truncated; ppm in 0..1e6. Never overflows. */
int64_t scoring_strategy_share_cents(int64_t balance_cents, int64_t ppm);
/* A probability or share in 0..1 to millionths, rounded half up; -1 when not in 0..1. */
int64_t scoring_strategy_ppm(double p);

#endif
