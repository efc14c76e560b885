/* arrears sample: synthetic events for the thin slice, smoke tests and the demo.
 * Everything is derived from --seed, including event ids and event times, so sending the
 * same sample twice sends the very same events (and ingest must store them once). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arrears/clock.h"
#include "arrears/envelope.h"
#include "arrears/kafka.h"
#include "cli.h"

#define SAMPLE_EPOCH_MS 1790856000000LL /* 2026-10-01T12:00:00Z */
#define SAMPLE_SERVICE "sample"         /* the events' producer_service */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: arrears sample accounts --tenant T [--count N] [--seed S] [--bad K]\n"
            "           N account.submitted events (default 10) to arrears.ingest.submissions,\n"
            "           plus K messages that are not valid envelopes (to see dead letters)\n"
            "       arrears sample payment --tenant T --account A --amount-cents N\n"
            "                              --payment-id P [--currency USD]\n"
            "           one payment.received to arrears.payments.inbound\n");
}

/* splitmix64: a tiny, well-mixed generator, so samples are the same on every machine. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static arr_err send_envelope(arr_kafka_producer *p, const char *topic, arr_envelope *env)
{
    char *value = NULL, key[ARR_KEY_MAX], why[256];
    size_t len;
    arr_err e = arr_envelope_to_message(env, &value, &len, key, why, sizeof(why));
    if (!e)
        e = arr_kafka_produce(p, topic, key, strlen(key), value, len);
    if (e)
        fprintf(stderr, "sample: cannot send %s: %s\n", env->event_type, why);
    free(value);
    return e;
}

static json_t *account_payload(const char *account, uint64_t r)
{
    static const char *const services[] = {"electricity", "gas", "water", "telecom", "medical"};
    /* Most balances are small, with a long tail: $5 to $600, a few up to $5,000. */
    int64_t cents = 500 + (int64_t)(r % 60000);
    if ((r >> 20) % 20 == 0)
        cents *= 8;
    char due[11];
    snprintf(due, sizeof(due), "2026-%02d-%02d", 6 + (int)((r >> 8) % 3),
             1 + (int)((r >> 12) % 28));
    char debtor[32];
    snprintf(debtor, sizeof(debtor), "D%012" PRIu64, (uint64_t)((r >> 16) % 1000000000000ULL));
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "account_id", account, "regime",
                     "creditor", "currency", "USD", "balance_cents", (json_int_t)cents,
                     "original_balance_cents", (json_int_t)cents, "due_date", due, "service_type",
                     services[(r >> 4) % 5], "debtor_ref", debtor);
}

static int sample_accounts(cli_ctx *c, arr_kafka_producer *p, int argc, char **argv)
{
    const char *tenant = cli_arg(argc, argv, "--tenant", NULL);
    long count = strtol(cli_arg(argc, argv, "--count", "10"), NULL, 10);
    long seed = strtol(cli_arg(argc, argv, "--seed", "1"), NULL, 10);
    long bad = strtol(cli_arg(argc, argv, "--bad", "0"), NULL, 10);
    if (!tenant || !arr_tenant_valid(tenant) || count < 0 || bad < 0) {
        fprintf(stderr, "arrears sample accounts: --tenant must be a valid tenant id and the "
                        "counts non-negative\n");
        return 2;
    }
    char topic[256];
    arr_err e = ARR_OK;
    for (long i = 0; !e && i < count; i++) {
        char account[32], id_name[96];
        snprintf(account, sizeof(account), "S%ld-%06ld", seed, i);
        snprintf(id_name, sizeof(id_name), "sample/%ld/account/%ld", seed, i);
        arr_envelope env;
        e = cli_envelope(&env, tenant, account, "account.submitted", id_name,
                         SAMPLE_EPOCH_MS + i * 1000, SAMPLE_SERVICE);
        env.payload = account_payload(account, mix((uint64_t)seed * 1000003u + (uint64_t)i));
        if (!e)
            e = send_envelope(p, cli_topic(c, "arrears.ingest.submissions", topic, sizeof(topic)),
                              &env);
        arr_envelope_clear(&env);
    }
    for (long i = 0; !e && i < bad; i++) {
        char key[ARR_KEY_MAX], value[96];
        snprintf(key, sizeof(key), "%s/BAD-%ld", tenant, i);
        snprintf(value, sizeof(value), "{\"event_id\": \"not-a-uuid\", \"broken\": %ld", i);
        e = arr_kafka_produce(p, "arrears.ingest.submissions", key, strlen(key), value,
                              strlen(value));
    }
    if (!e)
        printf("sample: %ld account submission(s) and %ld malformed message(s) queued\n", count,
               bad);
    return e ? 1 : 0;
}

static int sample_payment(cli_ctx *c, arr_kafka_producer *p, int argc, char **argv)
{
    const char *tenant = cli_arg(argc, argv, "--tenant", NULL);
    const char *account = cli_arg(argc, argv, "--account", NULL);
    const char *amount = cli_arg(argc, argv, "--amount-cents", NULL);
    const char *pid = cli_arg(argc, argv, "--payment-id", NULL);
    const char *currency = cli_arg(argc, argv, "--currency", "USD");
    char *end = NULL;
    long long cents = amount ? strtoll(amount, &end, 10) : 0;
    if (!tenant || !account || !pid || !amount || *end || cents <= 0 || !arr_tenant_valid(tenant) ||
        !arr_account_valid(account)) {
        fprintf(stderr, "arrears sample payment: --tenant, --account, --payment-id and a "
                        "positive --amount-cents are required\n");
        return 2;
    }
    char id_name[160], at[ARR_TIME_STRLEN];
    snprintf(id_name, sizeof(id_name), "sample/payment/%s", pid);
    arr_envelope env;
    arr_err e = cli_envelope(&env, tenant, account, "payment.received", id_name,
                             SAMPLE_EPOCH_MS + 86400000, SAMPLE_SERVICE);
    arr_time_format(env.event_time_ms, at, sizeof(at));
    env.payload = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "payment_id", pid, "source", "sample",
                            "amount_cents", (json_int_t)cents, "currency", currency, "received_at",
                            at, "reference", account);
    char topic[256];
    if (!e) /* in the namespace of ARR_TOPIC_PREFIX, like every other command */
        e = send_envelope(p, cli_topic(c, "arrears.payments.inbound", topic, sizeof(topic)), &env);
    arr_envelope_clear(&env);
    if (!e)
        printf("sample: payment %s of %lld cents queued for %s/%s\n", pid, cents, tenant, account);
    return e ? 1 : 0;
}

int cli_sample(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    int accounts = strcmp(argv[0], "accounts") == 0;
    if (!accounts && strcmp(argv[0], "payment") != 0) {
        fprintf(stderr, "arrears sample: unknown command '%s'\n", argv[0]);
        usage(stderr);
        return 2;
    }
    char why[512];
    arr_kafka_producer *p = NULL;
    if (arr_kafka_producer_new(c->brokers, "arrears-cli", NULL, &p, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears sample: %s\n", why);
        return 1;
    }
    int rc = accounts ? sample_accounts(c, p, argc - 1, argv + 1)
                      : sample_payment(c, p, argc - 1, argv + 1);
    if (!rc && arr_kafka_producer_flush(p, 30000, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears sample: %s\n", why);
        rc = 1;
    }
    arr_kafka_producer_free(p);
    return rc;
}
