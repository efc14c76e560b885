/* Integration test of outreach_book_load against the real PostgreSQL of the stack
 * (ARR_PG_CONNINFO): a load that waits for another transaction's lock on the account sees
 * what that transaction committed, steps included. Each test works on a tenant of its own,
 * deleted by the fini. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arrears/pg.h"
#include "arrears/clock.h"
#include "book.h"

#define STEP "5d0c1a2e-0000-4000-8000-000000000001"
#define CAUSE "5d0c1a2e-0000-4000-8000-0000000000ff"

static char tenant[40];

static const char *conninfo(void)
{
    const char *c = getenv("ARR_PG_CONNINFO");
    if (!c || !*c)
        cr_assert_fail("ARR_PG_CONNINFO is not set: load var/stack.env (scripts/stack up) first");
    return c;
}

static arr_pg *connect_or_fail(void)
{
    arr_pg *pg = NULL;
    char why[512] = "";
    cr_assert_eq(arr_pg_connect(conninfo(), &pg, why, sizeof(why)), ARR_OK, "%s", why);
    return pg;
}

static void exec_or_fail(arr_pg *pg, const char *sql)
{
    char why[512] = "";
    cr_assert_eq(arr_pg_exec(pg, sql, why, sizeof(why)), ARR_OK, "%s: %s", sql, why);
}

static void setup(void)
{
    snprintf(tenant, sizeof(tenant), "t-book-%ld-%d", (long)time(NULL), (int)getpid());
}

static void teardown(void)
{
    arr_pg *pg = NULL;
    if (arr_pg_connect(conninfo(), &pg, NULL, 0) != ARR_OK)
        return;
    char sql[256];
    snprintf(sql, sizeof(sql), "DELETE FROM outreach.steps WHERE tenant = '%s'", tenant);
    arr_pg_exec(pg, sql, NULL, 0);
    snprintf(sql, sizeof(sql), "DELETE FROM outreach.accounts WHERE tenant = '%s'", tenant);
    arr_pg_exec(pg, sql, NULL, 0);
    arr_pg_free(pg);
}

TestSuite(outreach_book, .init = setup, .fini = teardown, .timeout = 60);

typedef struct loader {
    int64_t due_ms; /* the step's due time as the load saw it; -1: not found */
    int done;
    char why[512];
    arr_err e;
} loader;

/* Another session's transaction: loads the account (waiting for the lock), then rolls back. */
static void *load_in_other_session(void *opaque)
{
    loader *l = opaque;
    arr_pg *pg = NULL;
    l->e = arr_pg_connect(conninfo(), &pg, l->why, sizeof(l->why));
    outreach_book b = {.pg = pg};
    if (!l->e)
        l->e = outreach_book_prepare(pg, l->why, sizeof(l->why));
    if (!l->e)
        l->e = arr_pg_exec(pg, "BEGIN", l->why, sizeof(l->why));
    outreach_account *a = calloc(1, sizeof(*a));
    int found = 0;
    if (!l->e && a)
        l->e = outreach_book_load(&b, tenant, "A1", 0, a, &found, l->why, sizeof(l->why));
    outreach_step *st = !l->e && found ? outreach_account_step(a, STEP) : NULL;
    l->due_ms = st ? st->due_ms : -1;
    if (a)
        outreach_account_clear(a);
    free(a);
    if (pg)
        arr_pg_rollback(pg);
    arr_pg_free(pg);
    __atomic_store_n(&l->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

Test(outreach_book, a_load_that_waited_for_the_lock_sees_the_committed_steps)
{
    arr_pg *pg = connect_or_fail();
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "INSERT INTO outreach.accounts (tenant, account_id, namespace) VALUES ('%s', 'A1',"
             " 'test.book.'); INSERT INTO outreach.steps (step_id, tenant, account_id, channel,"
             " due_at, status, cause_event_id, run_no, step_key, kind, namespace) VALUES ('" STEP
             "', '%s', 'A1', 'voice', '2026-11-28T07:00:00Z', 'planned', '" CAUSE
             "', 1, 'voice-1', 'regular', 'test.book.')",
             tenant, tenant);
    exec_or_fail(pg, sql);

    /* A sender's deferral, in flight: the account locked, the step moved to 13:00. */
    exec_or_fail(pg, "BEGIN");
    snprintf(sql, sizeof(sql),
             "SELECT 1 FROM outreach.accounts WHERE tenant = '%s' AND account_id = 'A1' FOR UPDATE;"
             " UPDATE outreach.steps SET due_at = '2026-11-28T13:00:00Z' WHERE step_id = '" STEP
             "'; UPDATE outreach.accounts SET updated_at = now() WHERE tenant = '%s'",
             tenant, tenant);
    exec_or_fail(pg, sql);

    loader l = {.due_ms = -2};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, load_in_other_session, &l), 0);
    /* The other session is waiting for the lock (its statement snapshot is taken by now). */
    struct timespec nap = {.tv_sec = 0, .tv_nsec = 500 * 1000000L};
    nanosleep(&nap, NULL);
    cr_assert_eq(__atomic_load_n(&l.done, __ATOMIC_SEQ_CST), 0, "the load did not wait: %s", l.why);
    exec_or_fail(pg, "COMMIT");
    pthread_join(th, NULL);
    cr_assert_eq(l.e, ARR_OK, "%s: %s", arr_strerror(l.e), l.why);
    int64_t want = 0;
    cr_assert_eq(arr_time_parse("2026-11-28T13:00:00Z", &want), ARR_OK);
    cr_assert_eq(l.due_ms, want, "the load saw the step due at %lld, not the committed %lld",
                 (long long)l.due_ms, (long long)want);
    arr_pg_free(pg);
}
