/* scoring_challenger: which arm of a champion/challenger experiment an account falls in.
 *
 * Pure and stable: the arm depends only on the experiment, the tenant and the account, never
 * on time, order, replica or a random draw, so a replay or another replica puts every account
 * in the same arm, and a new experiment name reshuffles the accounts. The per-tenant
 * configuration ({"tenants": {"<tenant>": {"challenger_share": 0.2, "experiment": "...",
 * "challenger_model": "...", "challenger_strategy": "..."}}}) is read elsewhere; this module
 * only splits.
 *
 * bucket = (first 8 bytes of SHA-256("<experiment>/<tenant>/<account_id>"), read as a
 * big-endian unsigned 64-bit integer) mod 10000. The bytes hashed are the strings' bytes as
 * given, without NULs; big-endian reading makes the result the same on every machine. The
 * modulo bias (2^64 mod 10000 over 2^64) is below 1e-15. Experiment and tenant names must not
 * contain '/' for the joined text to be unambiguous; account ids may. */
#ifndef ARREARS_SCORING_CHALLENGER_H
#define ARREARS_SCORING_CHALLENGER_H

#include <stddef.h>
#include "arrears/err.h"

#define SCORING_BUCKETS 10000 /* buckets, and basis points of a share */
#define SCORING_ARM_CHAMPION "champion"
#define SCORING_ARM_CHALLENGER "challenger"

/* 0..9999 (see above); -1 when an argument is NULL (or libsodium cannot start). Borrows
 * the strings. */
int scoring_challenger_bucket(const char *tenant, const char *account_id, const char *experiment);

/* 1 when bucket < share_bp, i.e. the challenger takes buckets 0 .. share_bp - 1: share 0
 * takes nobody, 10000 everybody, and raising the share only moves accounts from the champion
 * to the challenger. A negative bucket (bad input) is always the champion. */
int scoring_challenger_is_challenger(int bucket, int share_bp);

/* "champion" or "challenger" (static strings). */
const char *scoring_challenger_arm(int is_challenger);

/* A challenger_share in 0..1 to basis points, rounded half up. ARR_EINVAL with why when it
 * is not a number in 0..1. */
arr_err scoring_challenger_share_bp(double share, int *share_bp, char *why, size_t whylen);

#endif
