/* outreach_sender: the threads that send due steps. Each has its own PostgreSQL and Redis
 * connections and time-zone db, and loops:
 *   1. give back the leases of replicas that died (outreach_schedule_expire, real time);
 *   2. claim due members (due by the real clock, or by the campaign clock in campaign mode);
 *   3. per step, in a transaction with the account locked: a 'sending' step (its sender died
 *      after recording it) goes straight to the provider again with the same key; a
 *      'planned' one is decided again by the compliance engine at its send time: DEFER (due
 *      later, outreach.deferred), SUPPRESS (outreach.suppressed, next step planned), ALLOW
 *      (recorded 'sending' with its idempotency key and committed BEFORE the provider call);
 *   4. render and send (shared per-channel token bucket first), then in a second transaction
 *      record the outcome (sent / retry later / failed; bad or opted-out contact points),
 *      apply callbacks that overtook it, plan the next step, and ack the member.
 * A step is thus sent at most once per key, and a crash anywhere leaves it 'planned' or
 * 'sending' in PostgreSQL and claimed again once its lease ends.
 *
 * Ownership: the config and settings are borrowed and must outlive the senders; each sender
 * owns its connections, freed by outreach_sender_join. */
#ifndef ARREARS_OUTREACH_SENDER_H
#define ARREARS_OUTREACH_SENDER_H

#include <pthread.h>
#include <stdatomic.h>
#include "arrears/clock.h"
#include "arrears/log.h"
#include "arrears/metrics.h"
#include "book.h"
#include "channel.h"

typedef struct outreach_sender_cfg {
    const char *pg_conninfo;
    const char *redis_host;
    int redis_port;
    const char *ns;
    const outreach_settings *settings;
    const char *topic_events, *topic_replies;
    arr_producer_id who;
    int campaign; /* 1: due by the campaign clock (outreach.campaign_clock) */
    int has_smtp, has_http;
    outreach_channel_smtp_cfg smtp;
    outreach_channel_http_cfg http;
    const char *callback_base; /* status callbacks: <base>/v1/outreach/callbacks/<tenant>/status */
    double rate[OUTREACH_COMPLIANCE_CHANNELS]; /* per second, whole deployment; 0: none */
    int burst[OUTREACH_COMPLIANCE_CHANNELS];
    int max_attempts;
    int64_t lease_ms;
    int batch;
    arr_log *log;
    arr_metric *m_sent, *m_suppressed, *m_deferred, *m_failed;
} outreach_sender_cfg;

typedef struct outreach_sender {
    const outreach_sender_cfg *cfg;
    atomic_int *stop; /* borrowed: nonzero asks the thread to end */
    pthread_t thread;
    int started;
    arr_clock clock;
} outreach_sender;

/* Starts one sender thread. */
arr_err outreach_sender_start(outreach_sender *s, const outreach_sender_cfg *cfg, atomic_int *stop,
                              char *why, size_t whylen);
/* Waits for the thread to end (after *stop was set). */
void outreach_sender_join(outreach_sender *s);

#endif
