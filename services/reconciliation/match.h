/* recon_match: deciding which account a payment belongs to. Pure: the service looks the
 * candidates up (it owns the database); this module extracts what to look up and decides.
 *
 * Flow: recon_match_refs(reference text) -> tokens; the service looks each token up as an
 * account id and as an invoice id of the tenant, adds the account named by the source
 * (account_hint) and the tenant's accounts whose open balance, next instalment or open
 * settlement offer equals the payment amount; recon_match_decide picks one or files an
 * exception.
 *
 * Decision rules, first that applies wins ("same currency": candidate currency equals the
 * payment's, byte for byte; candidates are told apart by account_id, so one account passed
 * twice counts once):
 *  1. Hint (found_by bit 0). A same-currency hinted account -> "hint". Hinted accounts only
 *     in other currencies -> exception "currency_mismatch"; two different same-currency
 *     hinted accounts -> exception "ambiguous_hint".
 *  2. Reference (bits 1, 2: account id or invoice id in the text). Exactly one distinct
 *     same-currency account -> "reference", whatever the amount (partial and over payments
 *     are normal). Several -> exception "ambiguous_reference". Only other-currency ones ->
 *     exception "currency_mismatch".
 *  3. Amount (bit 3). Same-currency candidates owing exactly the payment amount (open
 *     balance, instalment due or settlement due, each only when > 0). With no payer name ->
 *     exception "amount_only_no_name": an amount alone never identifies a payer. Else those
 *     whose name similarity reaches the threshold: none -> "amount_only_name_mismatch";
 *     exactly one open account -> "amount_name"; several open -> "ambiguous_amount_name";
 *     only closed ones -> "account_closed" (nothing else ties a payment to a closed account).
 *  4. Otherwise "no_candidate".
 * A closed account (status_open 0) chosen by hint or reference is still the match: the
 * payment must be recorded against it. account_closed is then 1 and detail says so; what to
 * do with it is the service's decision.
 * A payment amount <= 0 or a missing currency -> exception "invalid_input".
 *
 * Ranking (for the exceptions queue; ranked[0] is the chosen account when matched): tier
 * (hint, reference, amount equal, other same-currency, other currency), then name similarity
 * high to low, then amount closeness (smallest |due - amount| over the positive dues, else
 * the open balance), then input order. Each account appears once, at its best position.
 *
 * Personal data: candidate names and the payer name are read, never copied; detail never
 * holds names or account ids. */
#ifndef ARREARS_RECON_MATCH_H
#define ARREARS_RECON_MATCH_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/err.h"
#include "entry.h"

#define RECON_MATCH_PATTERNS_MAX 16
#define RECON_MATCH_TOKENS_MAX 16
#define RECON_MATCH_CANDIDATES_MAX 32
/* recon_match_refs reads at most this many bytes of text (cut back to a separator). */
#define RECON_MATCH_TEXT_MAX 1024
/* A configuration file larger than this is refused. */
#define RECON_MATCH_CONFIG_FILE_MAX (1024 * 1024)

typedef struct recon_match_pattern {
    regex_t re;       /* compiled REG_EXTENDED | REG_ICASE, owned by the config */
    int group;        /* which capture group holds the id (1-based) */
    char prefix[32];  /* prepended to the captured text */
    char source[256]; /* the regex as written, for logs */
} recon_match_pattern;

/* One tenant's matching settings. Owns its compiled regexes: release with
 * recon_match_config_free. Not copyable once loaded (regexes are freed once). */
typedef struct recon_match_config {
    int n_patterns;
    recon_match_pattern patterns[RECON_MATCH_PATTERNS_MAX];
    int min_token_len;     /* bare tokens shorter than this are not tried; default 4 */
    int name_threshold_bp; /* name similarity needed by rule 3, 0..10000; default 8500 */
    char version[64];
} recon_match_config;

/* One tenant's object:
 *   {"version": "default-1",
 *    "patterns": [{"regex": "ACCT[- ]?([0-9]{6,})", "prefix": "ACCT-"}, ...],
 *    "min_token_len": 4, "name_threshold_bp": 8500}
 * version (1..63 printable characters, no spaces) and patterns (at most 16) are required.
 * A pattern's regex (POSIX extended, case-insensitive, at most 255 bytes) must have exactly
 * one capture group, or say which holds the id with "group": n (POSIX has no
 * non-capturing groups, so "(ACCT|INV)[ :]*([0-9]+)" needs "group": 2). prefix is
 * optional, at most 31 printable characters. Keys starting with '_' are comments; any other
 * unknown key is refused (a misspelt setting must not be silently ignored).
 * ARR_ECONFIG with why naming the field on anything wrong; *out is filled only on success. */
arr_err recon_match_config_from_json(json_t *j, recon_match_config *out, char *why, size_t whylen);
/* The JSON text {"tenants": {"<tenant>": {...}, "*": {...}}}: the tenant's own object, else
 * "*". ARR_ECONFIG when the text is not such JSON or neither key exists. */
arr_err recon_match_config_parse(const char *text, size_t len, const char *tenant,
                                 recon_match_config *out, char *why, size_t whylen);
/* recon_match_config_parse on a file's content (at most RECON_MATCH_CONFIG_FILE_MAX bytes).
 * ARR_EIO when the file cannot be read. */
arr_err recon_match_config_load(const char *path, const char *tenant, recon_match_config *out,
                                char *why, size_t whylen);
/* Frees the regexes and zeroes the config; safe on a zeroed config and twice. */
void recon_match_config_free(recon_match_config *c);

/* Candidate tokens to look up, in this order, deduplicated (exact bytes), at most max:
 *  - for each pattern in order, each non-overlapping match, left to right: prefix + the
 *    id group's text;
 *  - each bare token: a maximal run of [A-Za-z0-9_-], where '.' or '/' between two
 *    alphanumerics also belongs to the run, with leading/trailing '-' and '_' trimmed, of at
 *    least min_token_len bytes and holding at least one digit.
 * A token longer than RECON_ID_MAX is dropped, never cut (a cut id could name another
 * account). Only the first RECON_MATCH_TEXT_MAX bytes of text are read. Returns the count;
 * out[i] are NUL-terminated. */
size_t recon_match_refs(const recon_match_config *c, const char *text, char out[][RECON_ID_MAX + 1],
                        size_t max);

/* Similarity of two person or company names, 0..10000 basis points.
 * Normalising: UTF-8 letters of Latin-1 and Latin Extended-A are folded to ASCII capitals
 * (é->E, Ñ->N, ß->SS, Æ->AE, Ł->L), combining accents and apostrophes are dropped (O'Brien =
 * OBRIEN), every other non-alphanumeric byte separates tokens; titles and suffixes (MR MRS
 * MS MISS MX DR PROF SR SRA SRTA MME MLLE JR II III IV) are dropped. At most 8 tokens of at
 * most 32 characters are kept from the first 1024 bytes.
 * Scoring: token pairs score by Jaro-Winkler (prefix scale 0.1, up to 4 characters), 0 when
 * below 0.7 (chance likeness of unrelated tokens); a one-letter token against a token it
 * starts scores 0.9 (an initial), against anything else 0. Every token of the name with
 * fewer tokens is paired with a distinct token of the other (all pairings tried, so word
 * order does not matter); a pairing scores its weakest pair (a name is as close as its least
 * alike part: PAUL JONES / PAUL JOHNSON 0.83, not the 0.92 an average gives) less 0.10 per
 * unpaired token of the longer name (0.05 per unpaired initial); the best pairing counts.
 * 10000 only when both names have the same tokens. Either name empty (after normalising) or
 * NULL -> 0. Symmetric. */
int recon_name_similarity_bp(const char *a, const char *b);

typedef enum recon_match_via {
    RECON_MATCH_HINT,
    RECON_MATCH_REFERENCE,
    RECON_MATCH_AMOUNT_NAME,
    RECON_MATCH_NONE /* exception: a person decides */
} recon_match_via;

#define RECON_FOUND_HINT 1u    /* the source named the account */
#define RECON_FOUND_ACCOUNT 2u /* a reference token is the account id */
#define RECON_FOUND_INVOICE 4u /* a reference token is one of the account's invoice ids */
#define RECON_FOUND_AMOUNT 8u  /* the amount lookup returned it */

typedef struct recon_candidate {
    char account_id[RECON_ID_MAX + 1];
    char currency[4];
    int64_t open_balance_cents;   /* what the account owes now (may be <= 0) */
    int64_t instalment_due_cents; /* next unpaid instalment of an active plan, 0 when none */
    int64_t settlement_due_cents; /* open settlement offer amount, 0 when none */
    const char *name;             /* PERSONAL DATA, borrowed, may be NULL */
    int status_open;              /* 1 while the account can take payments */
    unsigned found_by;            /* RECON_FOUND_* bits */
} recon_candidate;

typedef struct recon_match_input {
    int64_t amount_cents;
    const char *currency;              /* ISO 4217 */
    const char *payer_name;            /* PERSONAL DATA, borrowed; may be "" or NULL */
    const recon_candidate *candidates; /* borrowed; any count, each account ranked once */
    size_t n_candidates;
} recon_match_input;

typedef struct recon_match_result {
    recon_match_via via; /* RECON_MATCH_NONE: exception */
    int chosen;          /* index into candidates when matched, else -1 */
    int account_closed;  /* 1 when the chosen account is not open */
    const char *reason;  /* static stable code, see the rules above */
    char detail[256];    /* why, in words; no names, no account ids */
    int n_ranked;        /* distinct accounts, best first, at most RECON_MATCH_CANDIDATES_MAX */
    int ranked[RECON_MATCH_CANDIDATES_MAX];  /* indexes into candidates */
    int name_bp[RECON_MATCH_CANDIDATES_MAX]; /* name similarity of candidates[ranked[k]] */
} recon_match_result;

/* Always fills *out. c NULL -> the default threshold. */
void recon_match_decide(const recon_match_config *c, const recon_match_input *in,
                        recon_match_result *out);
/* Stable name of a via: "hint", "reference", "amount_name", "none". */
const char *recon_match_via_name(recon_match_via v);

#endif
