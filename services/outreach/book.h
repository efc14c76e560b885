/* outreach_book: outreach's durable record in PostgreSQL (deploy/sql/010_outreach.sql) and the
 * one place that turns what is known of an account into its next step.
 *
 * Every change runs inside the caller's transaction, with the account row locked (SELECT ...
 * FOR UPDATE), so the consumer (events) and the senders (due steps) of any number of replicas
 * serialise on an account and never plan, send or suppress the same step twice.
 *
 * The schedule in Redis (schedule.h) follows the book: outreach_book_settle puts the account's
 * earliest open step (or removes the account) BEFORE the caller commits. A crash before the
 * commit leaves a member whose step does not exist (yet): the sender puts such a member back
 * for a while and drops it when it is old (see sender.c); it never leaves a committed step
 * unscheduled.
 *
 * Ownership: the book borrows its connections, settings and tz db (one book per thread: the
 * consumer's and each sender's). An outreach_account (decide.h, with outreach_step) is caller
 * storage, filled by outreach_book_load; it owns its debtor JSON (outreach_account_clear). */
#ifndef ARREARS_OUTREACH_BOOK_H
#define ARREARS_OUTREACH_BOOK_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/clock.h"
#include "arrears/deadletter.h"
#include "arrears/envelope.h"
#include "arrears/err.h"
#include "arrears/log.h"
#include "arrears/pg.h"
#include "arrears/redis.h"
#include "cadence.h"
#include "compliance.h"
#include "decide.h"
#include "facts.h"
#include "settings.h"
#include "tz.h"

typedef struct outreach_book {
    arr_pg *pg;                        /* borrowed: this thread's connection */
    arr_redis *redis;                  /* borrowed */
    const char *ns;                    /* schedule namespace */
    const outreach_settings *settings; /* borrowed, shared */
    outreach_tz_db *tz;                /* borrowed: this thread's */
    const char *topic_events;          /* prefixed topic names, borrowed */
    const char *topic_replies;
    const char *topic_callbacks; /* the consumer's only: statuses passed on to their account */
    arr_producer_id who;
    arr_clock *clock; /* produced_at of the events; borrowed */
    arr_log *log;
    /* ARR_OUTREACH_TIME=campaign: what a consumer answers is dated on the campaign's clock (the
     * end of the last day begun), not on the wall clock of the door that received it, so that
     * a simulated campaign gives the same decisions however fast it runs. */
    int campaign;
    /* The account settled last: what the caller caches in Redis after its commit
     * (arr:acct:<tenant>/<account> next_step_at, next_step_channel; "none" when none). */
    struct {
        int set;
        char tenant[ARR_TENANT_MAX + 1];
        char account[ARR_ACCOUNT_MAX + 1];
        char next_at[ARR_TIME_STRLEN];
        char channel[8];
    } last;
} outreach_book;

/* An event that caused a change: what the new events derive from. */
typedef struct outreach_cause {
    const arr_envelope *env;  /* the event applied, or a synthetic one naming the step */
    int64_t at_ms;            /* when the decisions happen (event time, or the send time) */
    int64_t stop_produced_ms; /* >0: a stop event produced then (latency of suppressions) */
} outreach_cause;

arr_err outreach_book_prepare(arr_pg *pg, char *why, size_t whylen);

/* Loads and locks the account. create: insert an empty row first when there is none.
 * *found 0 (without create) when there is no row. */
arr_err outreach_book_load(outreach_book *b, const char *tenant, const char *account, int create,
                           outreach_account *a, int *found, char *why, size_t whylen);
void outreach_account_clear(outreach_account *a);
/* Writes back every mutable column of the account. */
arr_err outreach_book_save(outreach_book *b, outreach_account *a, char *why, size_t whylen);

/* The account's change of state after it: suppresses open steps the account no longer allows
 * (each with its rule id), plans the next step when none is open and outreach goes on
 * (cadence.h: skipped steps recorded, escalations followed), and schedules the earliest open
 * step. Saves the account. */
arr_err outreach_book_settle(outreach_book *b, outreach_account *a, const outreach_cause *c,
                             char *why, size_t whylen);

/* outreach_decide (decide.h) with the book's settings and tz db. */
arr_err outreach_book_decide(outreach_book *b, const outreach_account *a, const outreach_step *st,
                             int64_t at_ms, const outreach_contact_point **point,
                             outreach_compliance_decision *d, char *why, size_t whylen);

/* Records a step's change (status, rule, times...) in the table. */
arr_err outreach_book_step_update(outreach_book *b, const outreach_account *a,
                                  const outreach_step *st, const char *rule_id, int64_t latency_ms,
                                  char *why, size_t whylen);
/* Adds a planned event step (opt-out confirmation) due at due_ms. */
arr_err outreach_book_add_event_step(outreach_book *b, outreach_account *a, const char *step_key,
                                     outreach_compliance_channel ch, outreach_compliance_kind kind,
                                     const char *template_id, int64_t due_ms,
                                     const outreach_cause *c, char *why, size_t whylen);
/* Records an opt-out or a bad contact point of the account. */
arr_err outreach_book_opt_out(outreach_book *b, outreach_account *a, const char *address_id,
                              const char *channel, const char *reason, int64_t at_ms, char *why,
                              size_t whylen);
arr_err outreach_book_bad_contact(outreach_book *b, outreach_account *a, const char *address_id,
                                  const char *channel, const char *error_code, int64_t at_ms,
                                  char *why, size_t whylen);

/* Queues an outreach event about a step (payload stolen) in the outbox, derived from the
 * cause under derived_name. */
arr_err outreach_book_emit(outreach_book *b, const outreach_cause *c, const char *topic,
                           const char *event_type, const char *derived_name, json_t *payload,
                           int64_t event_time_ms, char *why, size_t whylen);

/* Queues an outreach event about step st: its ids (step_id, channel, step_key, run_no, kind)
 * and the fields of extra (stolen; may be NULL), named type/<step id><suffix>. */
arr_err outreach_book_emit_step(outreach_book *b, const outreach_cause *c, const outreach_step *st,
                                const char *type, json_t *extra, const char *suffix, char *why,
                                size_t whylen);

/* The safety net of the schedule: every open step of the namespace's accounts due by
 * due_by_ms is put back in Redis if its account has no member there at all
 * (outreach_schedule_put_absent: a claim in a sender's hands, or a member a planner wrote since
 * this reading, is left alone). Catches what a Redis flush racing a rebuild, or
 * a member removed by a transaction that then rolled back, would otherwise strand. *fixed
 * counts the members written. At most 1000 accounts per call. */
arr_err outreach_book_sweep(outreach_book *b, int64_t due_by_ms, size_t *fixed, char *why,
                            size_t whylen);

/* Step lookup in a loaded account; NULL when absent. */
outreach_step *outreach_account_step(outreach_account *a, const char *step_id);

/* 1 when the status stops outreach for good or pauses it (paid, settled, closed, cease,
 * attorney, bankrupt, deceased, disputed). */
int outreach_status_stops(const char *status);

#endif
