/* outreach_schedule: the next due step of every active account, in Redis, shared by any number
 * of outreach replicas.
 *
 * Redis is a cache here: PostgreSQL holds the durable record of every planned, sent,
 * suppressed and failed contact, and the caller can rebuild the schedule from it
 * (outreach_schedule_clear, then outreach_schedule_put for every account). Keys and members
 * hold ids only (tenant, account, step), never personal data. Under a namespace ns (the
 * service's topic prefix, or a random one in tests) the module uses four keys:
 *   arr:sched:<ns>:due     sorted set, member -> due time (ms)
 *   arr:sched:<ns>:lease   sorted set, member -> end of its claim's lease (ms)
 *   arr:sched:<ns>:due_of  hash, leased member -> its original due time (ms)
 *   arr:sched:<ns>:member  hash, "<tenant>/<account>" -> its one scheduled member
 * A member is "<tenant>/<account>|<step id>". An account has at most one member, either due
 * or leased. Every operation that touches more than one key is one Lua script (EVAL), so it
 * is atomic with respect to every other replica.
 *
 * Work cycle of a replica (times from the injectable clock):
 *   1. outreach_schedule_expire(now): leases of replicas that died go back to the due set
 *      with their original due time (run it now and then; any replica may).
 *   2. outreach_schedule_claim(now, lease): up to max due members, oldest due first; no two
 *      claims ever return the same member while its lease runs.
 *   3. For each: settle the step against PostgreSQL first (its idempotency key: a step
 *      recorded as being sent by a replica that died is settled, never sent again), re-check
 *      the account (compliance), send or suppress, record the outcome durably, then
 *      outreach_schedule_put the account's next step (if any) and outreach_schedule_ack the
 *      claimed member (either order). To defer a step, put the same step with a later due
 *      time: that takes it back from the claim, and the ack that follows does nothing.
 * A lease must outlast the work of one claim; a replica still working after its lease ended
 * may see the member claimed again by another: the idempotency key is what keeps the step
 * from being sent twice. outreach_schedule_remove ("stop at once") deletes the member whether
 * due or leased, but cannot recall a claim already in a replica's hands: the sender re-checks
 * the account before calling the provider.
 *
 * Validation: ns is at most OUTREACH_SCHEDULE_NS_MAX bytes of printable ASCII without spaces;
 * tenant, account and step ids are printable ASCII (0x21..0x7e) without '|', the tenant also
 * without '/', at most OUTREACH_SCHEDULE_{TENANT,ACCOUNT,STEP}_MAX bytes. Bad ids are
 * ARR_EINVAL and nothing is sent to Redis. Times are ms since the epoch, 0 <= t <= 2^53
 * (exact in a sorted-set score).
 *
 * Errors: ARR_EINVAL with the reason in why; ARR_EREDIS when Redis fails or answers an error
 * (retriable: the cache is stale, not the truth lost); ARR_EDECODE when a stored member does
 * not parse (a foreign writer). Out-parameters are written only on ARR_OK.
 * Threads: the connection is the caller's and is used by one thread at a time (arr_redis);
 * the module keeps no state. */
#ifndef ARREARS_OUTREACH_SCHEDULE_H
#define ARREARS_OUTREACH_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "arrears/err.h"
#include "arrears/redis.h"

#define OUTREACH_SCHEDULE_NS_MAX 64
#define OUTREACH_SCHEDULE_TENANT_MAX 63
#define OUTREACH_SCHEDULE_ACCOUNT_MAX 127
#define OUTREACH_SCHEDULE_STEP_MAX 127
/* "<tenant>/<account>|<step>" and its NUL. */
#define OUTREACH_SCHEDULE_MEMBER_SIZE                                                              \
    (OUTREACH_SCHEDULE_TENANT_MAX + 1 + OUTREACH_SCHEDULE_ACCOUNT_MAX + 1 +                        \
     OUTREACH_SCHEDULE_STEP_MAX + 1)
/* Most members one claim or one expire may take. */
#define OUTREACH_SCHEDULE_CLAIM_MAX 1000
#define OUTREACH_SCHEDULE_TIME_MAX ((int64_t)1 << 53)

/* One claimed member, parsed. Caller-owned storage; every string is NUL-terminated. */
typedef struct outreach_schedule_item {
    char member[OUTREACH_SCHEDULE_MEMBER_SIZE]; /* give it back to outreach_schedule_ack */
    char tenant[OUTREACH_SCHEDULE_TENANT_MAX + 1];
    char account[OUTREACH_SCHEDULE_ACCOUNT_MAX + 1];
    char step_id[OUTREACH_SCHEDULE_STEP_MAX + 1];
    int64_t due_ms; /* the original due time, also after a lease expired and was requeued */
} outreach_schedule_item;

/* Schedules step_id of the account at due_ms, replacing the account's previous member (due
 * or leased) if it is another one; putting the same member again moves it to due_ms, taking
 * it back from a claim if it was leased. */
arr_err outreach_schedule_put(arr_redis *r, const char *ns, const char *tenant, const char *account,
                              const char *step_id, int64_t due_ms, char *why, size_t whylen);

/* Like put, but when step_id is already the account's member (due or leased) nothing changes:
 * what planners call after every event, so that a step a sender has claimed is never handed
 * to a second one. *changed (may be NULL) is 1 when the member was written. */
arr_err outreach_schedule_ensure(arr_redis *r, const char *ns, const char *tenant,
                                 const char *account, const char *step_id, int64_t due_ms,
                                 int *changed, char *why, size_t whylen);

/* Like put, but only when the account has no member at all (due or leased): what a sweep
 * calls, whose reading of PostgreSQL may be older than the member a planner has just written.
 * *changed (may be NULL) is 1 when the member was written. */
arr_err outreach_schedule_put_absent(arr_redis *r, const char *ns, const char *tenant,
                                     const char *account, const char *step_id, int64_t due_ms,
                                     int *changed, char *why, size_t whylen);

/* Removes the account's member, due or leased; when step_id is not NULL only if the member is
 * that step. *removed (may be NULL) is 1 when a member was removed, 0 when there was none or
 * it was another step. */
arr_err outreach_schedule_remove(arr_redis *r, const char *ns, const char *tenant,
                                 const char *account, const char *step_id, int *removed, char *why,
                                 size_t whylen);

/* Claims up to max (1..OUTREACH_SCHEDULE_CLAIM_MAX, and claimed[] must hold max) members due
 * at or before now_ms, in due order (ties by member), leasing them until now_ms + lease_ms
 * (lease_ms > 0). *n is the number claimed (0 when none is due). */
arr_err outreach_schedule_claim(arr_redis *r, const char *ns, int64_t now_ms, int64_t lease_ms,
                                size_t max, outreach_schedule_item *claimed, size_t *n, char *why,
                                size_t whylen);

/* Same with the due limit and the lease's end given apart: a simulated campaign claims what
 * is due by its own clock while leases run on the real one (outreach_schedule_expire is then
 * called with the real time). */
arr_err outreach_schedule_claim_until(arr_redis *r, const char *ns, int64_t due_by_ms,
                                      int64_t lease_until_ms, size_t max,
                                      outreach_schedule_item *claimed, size_t *n, char *why,
                                      size_t whylen);

/* Ends the lease of a claimed member (after its outcome is recorded in PostgreSQL) and, if it
 * is still the account's member, unschedules the account. *acked (may be NULL) is 0 when the
 * member was not leased (its lease expired and was requeued, or it was put or removed since):
 * nothing is changed then. */
arr_err outreach_schedule_ack(arr_redis *r, const char *ns, const char *member, int *acked,
                              char *why, size_t whylen);

/* Moves up to max (1..OUTREACH_SCHEDULE_CLAIM_MAX) members whose lease ended at or before
 * now_ms back to the due set with their original due time; *requeued (may be NULL) counts
 * them. Call again while it returns max. */
arr_err outreach_schedule_expire(arr_redis *r, const char *ns, int64_t now_ms, size_t max,
                                 size_t *requeued, char *why, size_t whylen);

/* Numbers of due and of leased members (one consistent snapshot); either pointer may be NULL. */
arr_err outreach_schedule_count(arr_redis *r, const char *ns, size_t *due, size_t *leased,
                                char *why, size_t whylen);

/* Deletes the whole schedule of the namespace (tests, rebuild). */
arr_err outreach_schedule_clear(arr_redis *r, const char *ns, char *why, size_t whylen);

#endif
