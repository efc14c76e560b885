/* arrears ingest accounts: streams a billing export into the system. The file is read once
 * to fingerprint it (the same file is the same import, which makes a second run a no-op and
 * lets a killed run resume), then record by record through the tenant's mapping, the
 * validator and the importer, with a progress line and a summary that shows
 * accepted + rejected = read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <sodium.h>
#include "arrears/clock.h"
#include "arrears/kafka.h"
#include "arrears/pg.h"
#include "arrears/redis.h"
#include "cli.h"
#include "importer.h"
#include "reader.h"

typedef struct ingest_args {
    const char *file, *tenant, *mapping, *as_of;
    int snapshot, batch;
    int64_t at_ms; /* --at: the export's moment; 0: now */
} ingest_args;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: arrears ingest accounts FILE --tenant T [--mapping M] [--mode delta|snapshot]\n"
            "                               [--as-of YYYY-MM-DD] [--at TIME] [--batch N]\n"
            "  FILE      a CSV or JSON Lines export (the mapping says which; without a mapping,\n"
            "            .jsonl/.json files are JSON Lines with arrears' field names, others CSV)\n"
            "  --mapping the tenant's mapping file (columns, amount and date formats, defaults)\n"
            "  --mode    delta (default): the file holds new and changed accounts;\n"
            "            snapshot: the file is the tenant's full list; accounts it lacks close\n"
            "  --as-of   the export's date; days past due count to it (default: today, UTC)\n"
            "  --at      the export's moment (RFC 3339): the event time of its placements and\n"
            "            updates (default: now); a simulated campaign passes its own clock, so\n"
            "            the same export gives the same decisions whenever it runs\n"
            "  --batch   records per transaction (default 10000)\n");
}

static int parse_args(int argc, char **argv, ingest_args *a)
{
    memset(a, 0, sizeof(*a));
    a->batch = 10000;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--tenant") == 0 && v)
            a->tenant = argv[++i];
        else if (strcmp(argv[i], "--mapping") == 0 && v)
            a->mapping = argv[++i];
        else if (strcmp(argv[i], "--as-of") == 0 && v)
            a->as_of = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && v) {
            if (arr_time_parse(argv[++i], &a->at_ms) != ARR_OK || a->at_ms <= 0)
                return 0;
        } else if (strcmp(argv[i], "--batch") == 0 && v)
            a->batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--mode") == 0 && v) {
            a->snapshot = strcmp(v, "snapshot") == 0;
            if (!a->snapshot && strcmp(v, "delta") != 0)
                return 0;
            i++;
        } else if (argv[i][0] != '-' && !a->file)
            a->file = argv[i];
        else
            return 0;
    }
    return a->file && a->tenant && a->batch > 0 && a->batch <= 100000;
}

/* OpenSSL's SHA-256 uses the CPU's SHA instructions: hashing the whole export first then
 * costs a fraction of reading it. */
static int file_sha256(const char *path, char hex[65], long long *size)
{
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!f || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        if (f)
            fclose(f);
        EVP_MD_CTX_free(ctx);
        return -1;
    }
    static unsigned char buf[1 << 20];
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    size_t n;
    int bad = 0;
    *size = 0;
    while (!bad && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
        bad = EVP_DigestUpdate(ctx, buf, n) != 1;
        *size += (long long)n;
    }
    bad = bad || ferror(f) || EVP_DigestFinal_ex(ctx, h, &hlen) != 1 || hlen != 32;
    fclose(f);
    EVP_MD_CTX_free(ctx);
    if (bad)
        return -1;
    sodium_bin2hex(hex, 65, h, 32);
    return 0;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* read0: records already counted when this run started (a resumed import). */
static void progress(ingest_import *imp, long long read0, long long done_bytes, long long size,
                     double t0, int final)
{
    ingest_import_stats now;
    ingest_import_progress(imp, &now);
    const ingest_import_stats *s = &now;
    double dt = mono_s() - t0;
    double rate = dt > 0 ? (double)(s->read - read0) / dt : 0;
    double eta =
        done_bytes > 0 && done_bytes < size ? dt * (double)(size - done_bytes) / done_bytes : 0;
    fprintf(stderr,
            "\ringest: read %lld  accepted %lld  rejected %lld  %.0f rows/s  ETA %.0fs   %s",
            s->read, s->accepted, s->rejected, rate, eta, final ? "\n" : "");
}

static void summary(const ingest_import_stats *s, const char *file)
{
    printf("ingest: %s: import %s%s\n", file, s->import_id,
           s->already_done ? " (already imported: nothing changed)" : "");
    printf("ingest: read %lld = accepted %lld + rejected %lld%s\n", s->read, s->accepted,
           s->rejected, s->read == s->accepted + s->rejected ? "" : "  MISMATCH");
    printf("ingest: placed %lld, updated %lld, unchanged %lld, closed %lld; %lld warning(s)\n",
           s->placed, s->updated, s->unchanged, s->closed, s->warnings);
    if (s->resumed_at)
        printf("ingest: resumed after line %lld of an interrupted run\n", s->resumed_at);
}

typedef struct clients {
    arr_pg *pg;
    arr_redis *redis;
    arr_kafka_producer *producer;
    ingest_mapping *mapping;
    FILE *f;
} clients;

static void close_clients(clients *c)
{
    arr_pg_free(c->pg);
    arr_redis_free(c->redis);
    arr_kafka_producer_free(c->producer);
    ingest_mapping_free(c->mapping);
    if (c->f)
        fclose(c->f);
}

static int open_clients(cli_ctx *ctx, const ingest_args *a, clients *c, char *why, size_t len)
{
    memset(c, 0, sizeof(*c));
    size_t flen = strlen(a->file);
    int jsonl = (flen > 6 && strcmp(a->file + flen - 6, ".jsonl") == 0) ||
                (flen > 5 && strcmp(a->file + flen - 5, ".json") == 0);
    arr_err e = a->mapping
                    ? ingest_mapping_load(a->mapping, &c->mapping, why, len)
                    : ingest_mapping_identity(jsonl ? INGEST_JSONL : INGEST_CSV, &c->mapping);
    if (!e && !(c->f = fopen(a->file, "rb"))) {
        snprintf(why, len, "cannot open %s", a->file);
        e = ARR_EIO;
    }
    if (!e)
        e = arr_pg_connect(ctx->pg_conninfo, &c->pg, why, len);
    if (!e)
        e = arr_kafka_producer_new(ctx->brokers, "arrears-ingest-cli", NULL, &c->producer, why,
                                   len);
    if (!e && arr_redis_connect(ctx->redis_host, ctx->redis_port, 2000, &c->redis, why, len))
        c->redis = NULL; /* a cache: the import goes on without it */
    return e ? 1 : 0;
}

static arr_err stream(ingest_import *imp, ingest_reader *r, long long size, char *why, size_t len)
{
    double t0 = mono_s(), last = 0;
    long long read0 = ingest_import_stats_get(imp)->read;
    arr_err e = ARR_OK;
    for (;;) {
        ingest_raw raw;
        ingest_issue bad;
        arr_err rr = ingest_reader_next(r, &raw, &bad);
        if (rr == ARR_ENOTFOUND)
            break;
        if (rr != ARR_OK && rr != ARR_EINVAL) {
            snprintf(why, len, "reading the file failed at line %ld", raw.line);
            return rr;
        }
        e = ingest_import_add(imp, &raw, ingest_reader_text(r), rr ? &bad : NULL, why, len);
        if (e)
            return e;
        if (mono_s() - last > 0.5) {
            last = mono_s();
            progress(imp, read0, ingest_reader_offset(r), size, t0, 0);
        }
    }
    e = ingest_import_finish(imp, why, len);
    progress(imp, read0, size, size, t0, 1);
    return e;
}

static int ingest_accounts(cli_ctx *ctx, const ingest_args *a)
{
    char why[1024] = "", sha[65], today[ARR_TIME_STRLEN];
    long long size = 0;
    if (file_sha256(a->file, sha, &size) != 0) {
        fprintf(stderr, "arrears ingest: cannot read %s\n", a->file);
        return 1;
    }
    arr_clock clock;
    arr_clock_init_real(&clock);
    arr_time_format(arr_clock_now_ms(&clock), today, sizeof(today));
    today[10] = '\0';
    clients c;
    if (open_clients(ctx, a, &c, why, sizeof(why))) {
        fprintf(stderr, "arrears ingest: %s\n", why);
        close_clients(&c);
        return 1;
    }
    ingest_import_opts o = {.tenant = a->tenant,
                            .source = a->file,
                            .sha256 = sha,
                            .snapshot = a->snapshot,
                            .as_of = a->as_of ? a->as_of : today,
                            .now_ms = a->at_ms ? a->at_ms : arr_clock_now_ms(&clock),
                            .batch_rows = a->batch,
                            .mapping = c.mapping,
                            .pg = c.pg,
                            .producer = c.producer,
                            .redis = c.redis,
                            .topic = ctx->topic_accounts,
                            .who = {"ingest", ARR_VERSION, "arrears-cli"}};
    /* Tests only: a crash between a batch's commit and its publication, on purpose. */
    const char *crash = getenv("ARR_TEST_CRASH_AFTER_COMMITS");
    o.crash_after_commits = crash ? atoi(crash) : 0;
    ingest_import *imp = NULL;
    ingest_reader *r = NULL;
    arr_err e = ingest_import_begin(&o, &imp, why, sizeof(why));
    if (!e && !ingest_import_stats_get(imp)->already_done) {
        e = ingest_reader_open(c.f, c.mapping, &r, why, sizeof(why));
        if (!e)
            e = stream(imp, r, size, why, sizeof(why));
    }
    if (!e)
        summary(ingest_import_stats_get(imp), a->file);
    else
        fprintf(stderr, "arrears ingest: %s: %s\n", a->file, why);
    ingest_reader_free(r);
    ingest_import_free(imp);
    close_clients(&c);
    return e ? 1 : 0;
}

int cli_ingest(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    ingest_args a;
    if (strcmp(argv[0], "accounts") != 0 || !parse_args(argc - 1, argv + 1, &a)) {
        usage(stderr);
        return 2;
    }
    return ingest_accounts(c, &a);
}
