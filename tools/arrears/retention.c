/* arrears retention: removes the personal data of closed accounts whose retention period is
 * over from PostgreSQL, and keeps their decision trail.
 *
 *   arrears retention apply --tenant T [--as-of YYYY-MM-DD] [--days N] [--account ID]
 *                           [--dry-run] [--json]
 *
 * Regulation F 1006.100 keeps collection records for 3 years after the last activity: an
 * account is eligible when it is closed at the creditor, paid, settled or written off (by its
 * rows in ingest, reconciliation, scoring or outreach, or by its events in audit.events), and
 * its last activity (its latest event in audit.events, else the latest updated_at of its rows)
 * is more than N days (default 1095) before the as-of date (default today, UTC). An open
 * account is never touched, whatever its age. Kafka's copies expire by the topics' own
 * retention; this command rewrites PostgreSQL's.
 *
 * Each eligible account is rewritten in one transaction of its own. Personal values become
 * stand-ins with no identity but the shape the decisions read (docs/retention.md has the
 * table): names and address lines "erased", e-mail addresses erased-<hex>@erased.invalid,
 * phone numbers a fixed fictional number of the same country format, ZIP codes their first
 * three digits (chosen so the time zones derived from them stay the same), reply texts a
 * phrase read as the same intent, payer names and references stand-ins that match the
 * account as the originals did. Contact point ids (hashes of the addresses) are replaced by
 * the ids of the stand-ins, so every table keeps pointing at the same contact point. Event
 * ids, types, times, amounts, rule ids, scores and reason codes are never changed. The
 * account's events get anonymised_at and audit.erasures one row (with the last activity it
 * was erased at: an account seen again later is erased again once it is eligible again).
 * Every stand-in is a fixed point, so running the command again changes nothing.
 *
 * --dry-run does the same work in transactions it rolls back: it lists the eligible accounts
 * and the rows that would change. Output holds account ids, reasons and counts, never a
 * personal value.
 *
 * Ownership: a ret_map owns copies of every string it holds (map_free); a ret_job owns the
 * PGresults it loaded and the rewritten texts (job_free); functions returning char ** give
 * malloc'ed text the caller frees; json_t values are released by whoever created them. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "arrears/buf.h"
#include "arrears/clock.h"
#include "arrears/pg.h"
#include "callback.h"
#include "cli.h"
#include "facts.h"
#include "fields.h"
#include "match.h"

#define STANDIN "erased"
#define EMAIL_DOMAIN "@erased.invalid"
/* +1 555 555 01nn: area code 555 is not in service, and 555-01xx is the fictional range. */
#define NANP_PREFIX "+1555555"
#define DEFAULT_DAYS 1095
#define RAW_DEPTH 2 /* dead letters of dead letters: deeper is erased whole */
#define ARRAY_MAX ((size_t)1 << 30)

enum {
    T_EVENTS,
    T_INGEST_ACCOUNTS,
    T_INGEST_REJECTS,
    T_OUTREACH_ACCOUNTS,
    T_STEPS,
    T_OPT_OUTS,
    T_BAD_CONTACTS,
    T_CONTACT_INDEX,
    T_LEDGER,
    T_PAYMENTS,
    T_SCORING_OUTPUTS,
    T__COUNT
};

static const char *const table_names[T__COUNT] = {
    "audit.events",          "ingest.accounts",
    "ingest.rejects",        "outreach.accounts",
    "outreach.steps",        "outreach.opt_outs",
    "outreach.bad_contacts", "outreach.contact_index",
    "reconciliation.ledger", "reconciliation.payments",
    "scoring.outputs"};

static void usage(FILE *to)
{
    fprintf(to,
            "usage: arrears retention apply --tenant T [--as-of YYYY-MM-DD] [--days N]\n"
            "                               [--account ID] [--dry-run] [--json]\n"
            "  Anonymises, in PostgreSQL, the personal data of the tenant's accounts that are\n"
            "  closed at the creditor, paid, settled or written off and whose last activity\n"
            "  is more than N days (default %d, 3 years) before the as-of date (default\n"
            "  today, UTC); keeps their decision trail. Open accounts are never touched.\n"
            "  --account: that account only. --dry-run: list what would change, change\n"
            "  nothing. Running it twice changes nothing the second time.\n"
            "  See docs/retention.md. Exit: 0 done, 1 failure, 2 usage.\n",
            DEFAULT_DAYS);
}

/* ------------------------------------------------------------------ the stand-in map */

/* Originals and their stand-ins, in the order first seen (that order numbers them). */
typedef struct pair_list {
    char **from, **to;
    size_t n, cap;
} pair_list;

static void pairs_free(pair_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->from[i]);
        free(l->to[i]);
    }
    free(l->from);
    free(l->to);
    memset(l, 0, sizeof(*l));
}

static arr_err pairs_add(pair_list *l, const char *from, const char *to)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **f = realloc(l->from, cap * sizeof(*f));
        if (!f)
            return ARR_ENOMEM;
        l->from = f;
        char **t = realloc(l->to, cap * sizeof(*t));
        if (!t)
            return ARR_ENOMEM;
        l->to = t;
        l->cap = cap;
    }
    char *fc = strdup(from), *tc = strdup(to ? to : "");
    if (!fc || !tc) {
        free(fc);
        free(tc);
        return ARR_ENOMEM;
    }
    l->from[l->n] = fc;
    l->to[l->n] = tc;
    l->n++;
    return ARR_OK;
}

static const char *pairs_get(const pair_list *l, const char *from)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->from[i], from) == 0)
            return l->to[i];
    }
    return NULL;
}

static int pairs_has_to(const pair_list *l, const char *to)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->to[i], to) == 0)
            return 1;
    }
    return 0;
}

/* One account's stand-ins. Built in two passes over the same rows: the first (collect) learns
 * every address, number, name and invoice id; the second rewrites, so an address id gets the
 * same stand-in wherever it appears, before or after its address. */
typedef struct ret_map {
    const char *tenant, *account;    /* borrowed */
    const recon_match_config *match; /* borrowed: the tenant's reference patterns */
    pair_list emails, phones;        /* normalised original -> stand-in */
    pair_list ids;                   /* contact point id -> the stand-in's id */
    pair_list own;                   /* the account's own id and invoice ids (from) */
    size_t unknown_ids;              /* ids whose address no row holds any more */
    int collect;                     /* first pass: learn, leave contact point ids */
    int name_first, name_last;       /* the latest debtor's name parts were given */
    char name_standin[16];           /* the ledger's name of the erased debtor */
    const char *debtor_name;         /* the ledger's name before erasure; borrowed */
} ret_map;

static void map_free(ret_map *m)
{
    pairs_free(&m->emails);
    pairs_free(&m->phones);
    pairs_free(&m->ids);
    pairs_free(&m->own);
}

static arr_err own_add(ret_map *m, const char *id)
{
    if (!m->collect || !id || !*id || pairs_get(&m->own, id))
        return ARR_OK;
    return pairs_add(&m->own, id, NULL);
}

/* First 8 hex digits of SHA-256("<tenant>/<account>/<kind>/<n>"): the original is not an
 * input, so nothing about it can be read back. */
static void hex8(const ret_map *m, const char *kind, unsigned n, char out[9])
{
    char seed[ARR_TENANT_MAX + ARR_ACCOUNT_MAX + 48];
    unsigned char h[crypto_hash_sha256_BYTES];
    snprintf(seed, sizeof(seed), "%s/%s/%s/%u", m->tenant, m->account, kind, n);
    crypto_hash_sha256(h, (const unsigned char *)seed, strlen(seed));
    sodium_bin2hex(out, 9, h, 4);
}

/* Records that the contact point key now reads standin: its id changes with it. */
static arr_err map_id_pair(ret_map *m, const char *key, const char *standin)
{
    char old_id[OUTREACH_FACTS_ID_LEN + 1], new_id[OUTREACH_FACTS_ID_LEN + 1];
    outreach_facts_address_id(m->tenant, key, old_id);
    outreach_facts_address_id(m->tenant, standin, new_id);
    return pairs_get(&m->ids, old_id) ? ARR_OK : pairs_add(&m->ids, old_id, new_id);
}

static int email_is_standin(const char *s)
{
    size_t n = strlen(s), d = strlen(EMAIL_DOMAIN);
    return n > d && strcmp(s + n - d, EMAIL_DOMAIN) == 0;
}

/* The stand-in of an e-mail address: the same for the same (normalised) address, different
 * for different ones. An address ingest would refuse stays one it refuses ("erased"), so a
 * replayed validation decides the same. *out is borrowed from the map or static. */
static arr_err email_standin(ret_map *m, const char *orig, const char **out)
{
    char key[255], why[128];
    *out = STANDIN;
    if (email_is_standin(orig)) { /* erased before: kept, and its number reserved */
        *out = orig;
        arr_err e = pairs_get(&m->emails, orig) ? ARR_OK : pairs_add(&m->emails, orig, orig);
        return e ? e : map_id_pair(m, orig, orig);
    }
    if (ingest_parse_email(orig, key, why, sizeof(why)) != ARR_OK)
        return ARR_OK;
    const char *have = pairs_get(&m->emails, key);
    if (have) {
        *out = have;
        return ARR_OK;
    }
    char standin[64], h[9];
    for (unsigned n = (unsigned)m->emails.n;; n++) {
        hex8(m, "email", n, h);
        snprintf(standin, sizeof(standin), "erased-%s" EMAIL_DOMAIN, h);
        if (!pairs_has_to(&m->emails, standin))
            break;
    }
    arr_err e = pairs_add(&m->emails, key, standin);
    if (!e)
        e = map_id_pair(m, key, standin);
    if (!e)
        *out = pairs_get(&m->emails, key);
    return e;
}

/* +1555555 01nn for North American numbers; elsewhere the first three digits (the country
 * code, or more of it) then zeros and nn, as long as the original. */
static int phone_is_standin(const char *s)
{
    size_t n = strlen(s);
    if (n == 12 && strncmp(s, NANP_PREFIX "01", 10) == 0)
        return 1;
    if (n < 9 || s[0] != '+' || s[1] == '1')
        return 0;
    for (size_t i = 4; i + 2 < n; i++) {
        if (s[i] != '0')
            return 0;
    }
    return 1;
}

static void phone_make(const char *key, unsigned n, char out[17])
{
    size_t len = strlen(key);
    if (key[1] == '1') {
        snprintf(out, 17, NANP_PREFIX "01%02u", n % 100);
        return;
    }
    memcpy(out, key, 4);
    for (size_t i = 4; i + 2 < len; i++)
        out[i] = '0';
    out[len - 2] = (char)('0' + (n / 10) % 10);
    out[len - 1] = (char)('0' + n % 10);
    out[len] = '\0';
}

/* The stand-in of a phone number (E.164 after ingest's normalisation); an invalid number
 * stays invalid ("erased"). *out is borrowed from the map or static. */
static arr_err phone_standin(ret_map *m, const char *orig, const char **out)
{
    char key[17], why[128];
    *out = STANDIN;
    if (ingest_parse_phone(orig, key, why, sizeof(why)) != ARR_OK)
        return ARR_OK;
    if (phone_is_standin(key)) {
        *out = pairs_get(&m->phones, key);
        if (*out)
            return ARR_OK;
        arr_err e = pairs_add(&m->phones, key, key);
        if (!e)
            e = map_id_pair(m, key, key);
        *out = e ? STANDIN : pairs_get(&m->phones, key);
        return e;
    }
    const char *have = pairs_get(&m->phones, key);
    if (have) {
        *out = have;
        return ARR_OK;
    }
    char standin[17];
    unsigned n = (unsigned)m->phones.n;
    for (;; n++) {
        if (n >= 100)
            return ARR_ELIMIT; /* a hundred numbers on one account: not a debtor's */
        phone_make(key, n, standin);
        if (!pairs_has_to(&m->phones, standin))
            break;
    }
    arr_err e = pairs_add(&m->phones, key, standin);
    if (!e)
        e = map_id_pair(m, key, standin);
    if (!e)
        *out = pairs_get(&m->phones, key);
    return e;
}

/* The new id of a contact point id: the stand-in's when its address is known, else a fresh
 * opaque one. The collect pass leaves ids alone (their addresses may come later). */
static arr_err map_address_id(ret_map *m, const char *old, const char **out)
{
    *out = old;
    if (m->collect || !old || !*old || strncmp(old, "medium:", 7) == 0)
        return ARR_OK;
    const char *have = pairs_get(&m->ids, old);
    if (have) {
        *out = have;
        return ARR_OK;
    }
    if (pairs_has_to(&m->ids, old))
        return ARR_OK; /* already a stand-in's id */
    char seed[ARR_TENANT_MAX + ARR_ACCOUNT_MAX + 48], id[OUTREACH_FACTS_ID_LEN + 1];
    do {
        snprintf(seed, sizeof(seed), "erased/%s/%zu", m->account, m->unknown_ids++);
        outreach_facts_address_id(m->tenant, seed, id);
    } while (pairs_has_to(&m->ids, id));
    arr_err e = pairs_add(&m->ids, old, id);
    if (!e)
        *out = pairs_get(&m->ids, old);
    return e;
}

/* ZIP -> its first three digits and two more, the first pair (from 00) that gives the same
 * time zones as the original, so ingest would derive the same zones from the stand-in. A
 * code ingest would refuse stays refused ("erased"). out: 6 bytes. */
static const char *zip_standin(const char *state, const char *zip, char out[6])
{
    char norm[11], why[128];
    if (ingest_parse_zip(zip, norm, why, sizeof(why)) != ARR_OK)
        return STANDIN;
    char want[4][40], got[4][40];
    memset(want, 0, sizeof(want));
    int nw = ingest_timezones_for(state ? state : "", norm, want, 4);
    for (int xx = 0; xx < 100; xx++) {
        snprintf(out, 6, "%.3s%02d", norm, xx);
        memset(got, 0, sizeof(got));
        int ng = ingest_timezones_for(state ? state : "", out, got, 4);
        int same = ng == nw;
        for (int i = 0; same && i < nw; i++)
            same = strcmp(want[i], got[i]) == 0;
        if (same)
            return out;
    }
    snprintf(out, 6, "%.5s", norm);
    return out;
}

/* ------------------------------------------------------------------ stand-ins of texts */

/* outreach's own reading of an inbound text (services/outreach/events.c, provider_inbound). */
static arr_err classify(const char *channel, const char *text, outreach_callback_intent_out *out)
{
    if (strcmp(channel, "email") == 0) {
        outreach_callback_inbound_email em = {.body = (char *)text, .body_len = strlen(text)};
        const char *nl = strchr(text, '\n');
        em.subject_len = nl ? (size_t)(nl - text) : em.body_len;
        return outreach_callback_email_intent(&em, out);
    }
    return outreach_callback_intent(text, out);
}

/* A reply's text -> a phrase outreach reads as the same intent and keyword, so replaying the
 * inbound message derives the same reply.received. buf: at least 32 bytes. */
static const char *text_standin(const char *channel, const char *text, char *buf, size_t cap)
{
    outreach_callback_intent_out orig, again;
    if (classify(channel, text, &orig) != ARR_OK)
        return STANDIN;
    const char *phrase = STANDIN;
    switch (orig.intent) {
    case OUTREACH_CALLBACK_INTENT_STOP:
        phrase = orig.keyword;
        break;
    case OUTREACH_CALLBACK_INTENT_ATTORNEY:
        phrase = STANDIN ": attorney";
        break;
    case OUTREACH_CALLBACK_INTENT_DISPUTE:
        phrase = STANDIN ": dispute";
        break;
    case OUTREACH_CALLBACK_INTENT_ORIGINAL_CREDITOR_REQUEST:
        phrase = STANDIN ": original creditor";
        break;
    case OUTREACH_CALLBACK_INTENT_PAID:
        phrase = STANDIN ": already paid";
        break;
    case OUTREACH_CALLBACK_INTENT_PROMISE:
        phrase = STANDIN ": i will pay";
        break;
    default:
        break;
    }
    snprintf(buf, cap, "%s", phrase);
    if (classify(channel, buf, &again) == ARR_OK && again.intent == orig.intent &&
        strcmp(again.keyword, orig.keyword) == 0)
        return buf;
    return STANDIN;
}

/* A remittance text -> "erased" and the tokens of it that name this account (its id or one
 * of its invoice ids), so reference matching finds the same account; "" stays "". */
static const char *reference_standin(const ret_map *m, const char *text, char *buf, size_t cap)
{
    if (!*text)
        return text;
    char tokens[RECON_MATCH_TOKENS_MAX][RECON_ID_MAX + 1];
    size_t n = recon_match_refs(m->match, text, tokens, RECON_MATCH_TOKENS_MAX);
    size_t len = (size_t)snprintf(buf, cap, "%s", STANDIN);
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t k = 0; k < i; k++)
            seen |= strcmp(tokens[k], tokens[i]) == 0;
        if (seen || !pairs_get(&m->own, tokens[i]) || len + 1 + strlen(tokens[i]) >= cap)
            continue;
        len += (size_t)snprintf(buf + len, cap - len, " %s", tokens[i]);
    }
    return buf;
}

/* A payer's name -> the erased debtor's name when the original matched the debtor's name (as
 * reconciliation compares them), else a name that does not: matching by name decides the
 * same. */
static const char *payer_standin(const ret_map *m, const char *payer)
{
    if (!*payer)
        return payer;
    int thr = m->match->name_threshold_bp;
    int matched = recon_name_similarity_bp(payer, m->debtor_name ? m->debtor_name : "") >= thr;
    static const char *const others[] = {"payer " STANDIN, "payer", "x"};
    if (matched)
        return m->name_standin;
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        if (recon_name_similarity_bp(others[i], m->name_standin) < thr)
            return others[i];
    }
    return STANDIN;
}

/* ------------------------------------------------------------------ JSON rewriting */

/* o[key] = v when o[key] is a non-empty string that differs: absent and empty stay so. */
static arr_err put_str(json_t *o, const char *key, const char *v, int *changed)
{
    json_t *cur = json_object_get(o, key);
    if (!json_is_string(cur) || json_string_length(cur) == 0 ||
        strcmp(json_string_value(cur), v) == 0)
        return ARR_OK;
    if (json_object_set_new(o, key, json_string(v)) != 0)
        return ARR_ENOMEM;
    *changed = 1;
    return ARR_OK;
}

typedef arr_err (*standin_fn)(ret_map *m, const char *orig, const char **out);

static arr_err put_mapped(ret_map *m, json_t *o, const char *key, standin_fn fn, int *changed)
{
    const char *orig = json_string_value(json_object_get(o, key)), *to;
    if (!orig || !*orig)
        return ARR_OK;
    arr_err e = fn(m, orig, &to);
    return e ? e : put_str(o, key, to, changed);
}

static arr_err erase_debtor(ret_map *m, json_t *d, int *ch)
{
    if (!json_is_object(d))
        return ARR_OK;
    if (m->collect) { /* the latest debtor names the ledger's stand-in */
        m->name_first = json_string_length(json_object_get(d, "first_name")) > 0;
        m->name_last = json_string_length(json_object_get(d, "last_name")) > 0;
    }
    arr_err e = put_str(d, "first_name", STANDIN, ch);
    if (!e)
        e = put_str(d, "last_name", STANDIN, ch);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(d, "emails"), i, it)
    {
        if (!e && json_is_object(it))
            e = put_mapped(m, it, "address", email_standin, ch);
    }
    json_array_foreach(json_object_get(d, "phones"), i, it)
    {
        if (!e && json_is_object(it))
            e = put_mapped(m, it, "number", phone_standin, ch);
    }
    json_t *a = json_object_get(d, "address");
    if (!e && json_is_object(a)) {
        static const char *const lines[] = {"line1", "line2", "city"};
        for (size_t k = 0; !e && k < sizeof(lines) / sizeof(lines[0]); k++)
            e = put_str(a, lines[k], STANDIN, ch);
        const char *zip = json_string_value(json_object_get(a, "zip"));
        char buf[6];
        if (!e && zip && *zip)
            e = put_str(a, "zip",
                        zip_standin(json_string_value(json_object_get(a, "state")), zip, buf), ch);
    }
    return e;
}

/* account.submitted: the export's flat fields. */
static arr_err erase_submitted(ret_map *m, json_t *p, int *ch)
{
    static const char *const texts[] = {"first_name",    "last_name", "address_line1",
                                        "address_line2", "city",      "debtor_ref"};
    arr_err e = ARR_OK;
    for (size_t k = 0; !e && k < sizeof(texts) / sizeof(texts[0]); k++)
        e = put_str(p, texts[k], STANDIN, ch);
    if (!e)
        e = put_mapped(m, p, "email", email_standin, ch);
    if (!e)
        e = put_mapped(m, p, "email2", email_standin, ch);
    if (!e)
        e = put_mapped(m, p, "phone", phone_standin, ch);
    if (!e)
        e = put_mapped(m, p, "phone2", phone_standin, ch);
    const char *zip = json_string_value(json_object_get(p, "zip"));
    char buf[6];
    if (!e && zip && *zip)
        e = put_str(p, "zip", zip_standin(json_string_value(json_object_get(p, "state")), zip, buf),
                    ch);
    return e;
}

static arr_err erase_message_json(ret_map *m, json_t *root, int depth, int *ch);

/* deadletter.recorded: the original bytes, rewritten like any message when they are one,
 * else erased whole. */
static arr_err erase_raw(ret_map *m, json_t *p, int depth, int *ch)
{
    const char *raw = json_string_value(json_object_get(p, "raw"));
    const char *enc = json_string_value(json_object_get(p, "raw_encoding"));
    if (!raw)
        return ARR_OK;
    if (enc && strcmp(enc, "utf8") == 0 && depth < RAW_DEPTH) {
        json_t *inner = json_loads(raw, JSON_REJECT_DUPLICATES, NULL);
        int ich = 0;
        arr_err e = inner ? erase_message_json(m, inner, depth + 1, &ich) : ARR_EDECODE;
        if (e == ARR_OK && ich) {
            char *text = json_dumps(inner, JSON_COMPACT);
            e = text ? put_str(p, "raw", text, ch) : ARR_ENOMEM;
            free(text);
        }
        json_decref(inner);
        if (e != ARR_EDECODE)
            return e;
    }
    arr_err e = put_str(p, "raw", STANDIN, ch);
    if (!e && enc && strcmp(enc, "utf8") != 0) {
        if (json_object_set_new(p, "raw_encoding", json_string("utf8")) != 0)
            return ARR_ENOMEM;
        *ch = 1;
    }
    return e;
}

static arr_err erase_payload(ret_map *m, const char *type, json_t *p, int depth, int *ch)
{
    if (!json_is_object(p))
        return ARR_OK;
    char buf[RECON_REF_MAX + 1];
    if (strcmp(type, "account.placed") == 0 || strcmp(type, "account.updated") == 0) {
        arr_err e = own_add(m, json_string_value(json_object_get(p, "invoice_id")));
        if (!e)
            e = put_str(p, "debtor_ref", STANDIN, ch);
        return e ? e : erase_debtor(m, json_object_get(p, "debtor"), ch);
    }
    if (strcmp(type, "account.submitted") == 0) {
        arr_err e = own_add(m, json_string_value(json_object_get(p, "invoice_id")));
        return e ? e : erase_submitted(m, p, ch);
    }
    if (strcmp(type, "provider.inbound") == 0) {
        const char *channel = json_string_value(json_object_get(p, "channel"));
        const char *text = json_string_value(json_object_get(p, "text"));
        channel = channel ? channel : "";
        arr_err e = put_mapped(m, p, "from",
                               strcmp(channel, "sms") == 0 ? phone_standin : email_standin, ch);
        if (!e && text && *text)
            e = put_str(p, "text", text_standin(channel, text, buf, sizeof(buf)), ch);
        return e;
    }
    if (strcmp(type, "reply.received") == 0)
        return put_mapped(m, p, "address_id", map_address_id, ch);
    if (strcmp(type, "payment.received") == 0 || strcmp(type, "payment.unmatched") == 0) {
        const char *ref = json_string_value(json_object_get(p, "reference"));
        const char *payer = json_string_value(json_object_get(p, "payer_name"));
        arr_err e = ARR_OK;
        if (ref && !m->collect)
            e = put_str(p, "reference", reference_standin(m, ref, buf, sizeof(buf)), ch);
        if (!e && payer && !m->collect)
            e = put_str(p, "payer_name", payer_standin(m, payer), ch);
        return e;
    }
    if (strcmp(type, "deadletter.recorded") == 0)
        return erase_raw(m, p, depth, ch);
    return ARR_OK; /* no personal data in the other types' schemas */
}

static arr_err erase_message_json(ret_map *m, json_t *root, int depth, int *ch)
{
    const char *type = json_string_value(json_object_get(root, "event_type"));
    json_t *payload = json_object_get(root, "payload");
    if (!json_is_object(root) || !type || !json_is_object(payload))
        return ARR_EDECODE;
    return erase_payload(m, type, payload, depth, ch);
}

typedef enum text_kind { AS_ENVELOPE, AS_PLACED_PAYLOAD, AS_DEBTOR } text_kind;

/* Rewrites one stored text. *out: the new text (malloc'ed), NULL when nothing changed.
 * ARR_EDECODE when the text is not what kind says (the reason never quotes it). */
static arr_err rewrite(ret_map *m, text_kind kind, const char *text, char **out)
{
    *out = NULL;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return ARR_EDECODE;
    }
    int ch = 0;
    arr_err e = kind == AS_ENVELOPE         ? erase_message_json(m, root, 0, &ch)
                : kind == AS_PLACED_PAYLOAD ? erase_payload(m, "account.placed", root, 0, &ch)
                                            : erase_debtor(m, root, &ch);
    if (!e && ch && !m->collect) {
        *out = json_dumps(root, JSON_COMPACT);
        if (!*out)
            e = ARR_ENOMEM;
    }
    json_decref(root);
    return e;
}

/* ------------------------------------------------------------------ SQL */

#define FOR_ACCOUNT " WHERE tenant = $1 AND ($2::text IS NULL OR account_id = $2)"
#define EV_OF_ACCOUNT " FROM audit.events e WHERE e.tenant = $1 AND e.account_id = i.id"

static const struct {
    const char *name, *sql;
    int nparams;
} statements[] = {
    /* Eligible accounts ($2: one account or all) with the reason, the last activity and
       whether audit.erasures already has them at that activity. */
    {"ret_scan",
     "WITH ids AS ("
     " SELECT account_id FROM ingest.accounts" FOR_ACCOUNT
     " UNION SELECT account_id FROM reconciliation.ledger" FOR_ACCOUNT
     " UNION SELECT account_id FROM scoring.accounts" FOR_ACCOUNT
     " UNION SELECT account_id FROM outreach.accounts" FOR_ACCOUNT
     " UNION SELECT account_id FROM audit.events" FOR_ACCOUNT
     " AND event_type IN ('account.placed', 'account.updated', 'account.closed')),"
     " st AS (SELECT i.id AS account_id,"
     " (SELECT max(e.event_time)" EV_OF_ACCOUNT ") AS ev_at,"
     " GREATEST(ia.updated_at, rl.updated_at, sa.updated_at, oa.updated_at) AS row_at,"
     " ia.status AS ia_s, rl.status AS rl_s, sa.status AS sa_s, oa.status AS oa_s,"
     " lp.ts AS placed_at, lc.ts AS closed_at, lc.reason, py.ts AS pay_at,"
     " py.typ AS pay_t, py.pay_after"
     " FROM ids AS i (id)"
     " LEFT JOIN ingest.accounts ia ON ia.tenant = $1 AND ia.account_id = i.id"
     " LEFT JOIN reconciliation.ledger rl ON rl.tenant = $1 AND rl.account_id = i.id"
     " LEFT JOIN scoring.accounts sa ON sa.tenant = $1 AND sa.account_id = i.id"
     " LEFT JOIN outreach.accounts oa ON oa.tenant = $1 AND oa.account_id = i.id"
     " LEFT JOIN LATERAL (SELECT max(e.event_time) AS ts" EV_OF_ACCOUNT
     " AND e.event_type = 'account.placed') lp ON true"
     " LEFT JOIN LATERAL (SELECT e.event_time AS ts,"
     " e.message::jsonb #>> '{payload,reason}' AS reason" EV_OF_ACCOUNT
     " AND e.event_type = 'account.closed'"
     " ORDER BY e.event_time DESC, e.event_id DESC LIMIT 1) lc ON true"
     " LEFT JOIN LATERAL (SELECT e.event_time AS ts, e.event_type AS typ,"
     " e.message::jsonb #>> '{payload,status_after}' AS pay_after" EV_OF_ACCOUNT
     " AND e.event_type IN ('payment.applied', 'payment.reversed', 'payment.settled')"
     " ORDER BY e.event_time DESC, e.event_id DESC LIMIT 1) py ON true),"
     " cl AS (SELECT *, COALESCE(ev_at, row_at) AS last_at,"
     " (closed_at IS NOT NULL"
     " AND (placed_at IS NULL OR closed_at >= placed_at)) AS ev_closed,"
     " (pay_at IS NOT NULL AND (placed_at IS NULL OR pay_at >= placed_at)"
     " AND (pay_t = 'payment.settled'"
     " OR pay_after IN ('paid', 'settled', 'closed'))) AS ev_paid"
     " FROM st),"
     " re AS (SELECT account_id, last_at, CASE"
     " WHEN ev_closed AND reason = 'written_off' THEN 'written_off'"
     " WHEN ev_closed OR 'closed' IN (ia_s, rl_s, sa_s, oa_s) THEN 'closed'"
     " WHEN 'settled' IN (rl_s, oa_s) OR (ev_paid AND (pay_t = 'payment.settled'"
     " OR pay_after = 'settled')) THEN 'settled'"
     " WHEN 'paid' IN (rl_s, sa_s, oa_s) OR ev_paid THEN 'paid' END AS closed_by"
     " FROM cl)"
     " SELECT re.account_id, re.closed_by,"
     " to_char(re.last_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
     " (x.last_activity IS NOT NULL AND x.last_activity >= re.last_at)"
     " FROM re LEFT JOIN audit.erasures x"
     " ON x.tenant = $1 AND x.account_id = re.account_id"
     " WHERE re.closed_by IS NOT NULL AND re.last_at < $3::timestamptz"
     " ORDER BY re.account_id",
     3},
    /* One account at a time, whoever else runs retention. */
    {"ret_lock",
     "SELECT pg_advisory_xact_lock(hashtext('arrears.retention'),"
     " hashtext($1 || '/' || $2))",
     2},
    /* The account's events, its payments' inbound events (the envelope names the payment
       when the source named no account) and their unmatched notices, and the inbound
       messages its replies came from when no account still kept reaches them. */
    {"ret_events",
     "WITH recv AS ("
     " SELECT event_id FROM reconciliation.payments"
     " WHERE tenant = $1 AND account_id = $2"
     " UNION SELECT causation_id FROM audit.events WHERE tenant = $1 AND account_id = $2"
     " AND event_type IN ('payment.applied', 'payment.reversed', 'payment.settled')"
     " AND causation_id IS NOT NULL),"
     " inb AS (SELECT c.causation_id AS event_id FROM audit.events c"
     " WHERE c.tenant = $1 AND c.account_id = $2 AND c.event_type = 'reply.received'"
     " AND c.causation_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM audit.events r"
     " WHERE r.causation_id = c.causation_id AND r.event_type = 'reply.received'"
     " AND r.account_id <> $2 AND NOT EXISTS (SELECT 1 FROM audit.erasures x"
     " WHERE x.tenant = r.tenant AND x.account_id = r.account_id))),"
     " ids AS ("
     " SELECT event_id FROM audit.events WHERE tenant = $1 AND account_id = $2"
     " UNION SELECT e.event_id FROM audit.events e JOIN recv USING (event_id)"
     " WHERE e.event_type = 'payment.received'"
     " UNION SELECT u.event_id FROM audit.events u"
     " JOIN recv r ON u.causation_id = r.event_id"
     " WHERE u.event_type = 'payment.unmatched'"
     " UNION SELECT e.event_id FROM audit.events e JOIN inb USING (event_id)"
     " WHERE e.event_type = 'provider.inbound')"
     " SELECT e.event_id, e.message FROM audit.events e JOIN ids USING (event_id)"
     " WHERE e.tenant = $1 ORDER BY e.event_time, e.event_id",
     2},
    {"ret_ingest",
     "SELECT payload::text, debtor_ref FROM ingest.accounts"
     " WHERE tenant = $1 AND account_id = $2 FOR UPDATE",
     2},
    {"ret_outreach",
     "SELECT debtor::text FROM outreach.accounts"
     " WHERE tenant = $1 AND account_id = $2 FOR UPDATE",
     2},
    {"ret_ledger",
     "SELECT debtor_name, invoice_id FROM reconciliation.ledger"
     " WHERE tenant = $1 AND account_id = $2 FOR UPDATE",
     2},
    {"ret_payments",
     "SELECT payment_id, COALESCE(payer_name, ''), reference, payer_name IS NULL"
     " FROM reconciliation.payments WHERE tenant = $1 AND account_id = $2"
     " ORDER BY payment_id FOR UPDATE",
     2},
    {"ret_outputs",
     "SELECT event_id, message FROM scoring.outputs"
     " WHERE kind = 'dead_letter' AND key = $1 || '/' || $2"
     " ORDER BY event_id FOR UPDATE",
     2},
    {"ret_ids",
     "SELECT address_id FROM outreach.steps WHERE tenant = $1 AND account_id = $2"
     " UNION SELECT address_id FROM outreach.opt_outs"
     " WHERE tenant = $1 AND account_id = $2"
     " UNION SELECT address_id FROM outreach.bad_contacts"
     " WHERE tenant = $1 AND account_id = $2"
     " UNION SELECT address_id FROM outreach.contact_index"
     " WHERE tenant = $1 AND account_id = $2 ORDER BY 1",
     2},
    {"ret_upd_events",
     "UPDATE audit.events e SET message = COALESCE(u.m, e.message),"
     " anonymised_at = COALESCE(e.anonymised_at, now())"
     " FROM unnest($1::uuid[], $2::text[]) AS u(id, m) WHERE e.event_id = u.id"
     " AND ((u.m IS NOT NULL AND e.message IS DISTINCT FROM u.m)"
     " OR e.anonymised_at IS NULL)",
     2},
    {"ret_upd_ingest",
     "UPDATE ingest.accounts SET payload = $3::json, debtor_ref = $4"
     " WHERE tenant = $1 AND account_id = $2"
     " AND (payload::text IS DISTINCT FROM $3 OR debtor_ref IS DISTINCT FROM $4)",
     4},
    /* Rejected lines are kept for a person to fix the export; years later, nothing. */
    {"ret_upd_rejects",
     "UPDATE ingest.rejects SET raw = '" STANDIN "'"
     " WHERE tenant = $1 AND account_id = $2 AND raw <> '" STANDIN "'",
     2},
    {"ret_upd_outreach",
     "UPDATE outreach.accounts SET debtor = $3::jsonb"
     " WHERE tenant = $1 AND account_id = $2"
     " AND debtor IS DISTINCT FROM $3::jsonb",
     3},
    {"ret_upd_ledger",
     "UPDATE reconciliation.ledger SET debtor_name = $3"
     " WHERE tenant = $1 AND account_id = $2"
     " AND debtor_name IS DISTINCT FROM $3",
     3},
    {"ret_upd_payment",
     "UPDATE reconciliation.payments SET payer_name = $3, reference = $4"
     " WHERE tenant = $1 AND payment_id = $2"
     " AND (payer_name IS DISTINCT FROM $3 OR reference IS DISTINCT FROM $4)",
     4},
    {"ret_upd_output",
     "UPDATE scoring.outputs SET message = $2 WHERE event_id = $1::uuid"
     " AND message IS DISTINCT FROM $2",
     2},
    {"ret_upd_steps",
     "UPDATE outreach.steps x SET address_id = u.n"
     " FROM unnest($3::text[], $4::text[]) AS u(o, n)"
     " WHERE x.tenant = $1 AND x.account_id = $2 AND x.address_id = u.o",
     4},
    {"ret_upd_opt_outs",
     "UPDATE outreach.opt_outs x SET address_id = u.n"
     " FROM unnest($3::text[], $4::text[]) AS u(o, n)"
     " WHERE x.tenant = $1 AND x.account_id = $2 AND x.address_id = u.o",
     4},
    {"ret_upd_bad_contacts",
     "UPDATE outreach.bad_contacts x SET address_id = u.n"
     " FROM unnest($3::text[], $4::text[]) AS u(o, n)"
     " WHERE x.tenant = $1 AND x.account_id = $2 AND x.address_id = u.o",
     4},
    {"ret_upd_contact_index",
     "UPDATE outreach.contact_index x SET address_id = u.n"
     " FROM unnest($3::text[], $4::text[]) AS u(o, n)"
     " WHERE x.tenant = $1 AND x.account_id = $2 AND x.address_id = u.o",
     4},
    {"ret_erasure",
     "INSERT INTO audit.erasures (tenant, account_id, last_activity, rows_changed)"
     " VALUES ($1, $2, $3::timestamptz, $4::bigint) ON CONFLICT (tenant, account_id)"
     " DO UPDATE SET erased_at = now(), last_activity = EXCLUDED.last_activity,"
     " rows_changed = EXCLUDED.rows_changed",
     4},
};

/* ------------------------------------------------------------------ one account */

/* What one account's transaction loaded and rewrote. Owns everything it points to. */
typedef struct ret_job {
    PGresult *events, *ingest, *outreach, *ledger, *payments, *outputs, *ids;
    char **ev_out, **out_out;        /* per row of events / outputs: new text or NULL */
    char *ingest_out, *outreach_out; /* new payload / debtor, or NULL */
    long rows[T__COUNT];
    long payloads; /* messages of audit.events rewritten */
} ret_job;

static void job_free(ret_job *j)
{
    for (int i = 0; j->ev_out && i < PQntuples(j->events); i++)
        free(j->ev_out[i]);
    for (int i = 0; j->out_out && i < PQntuples(j->outputs); i++)
        free(j->out_out[i]);
    free(j->ev_out);
    free(j->out_out);
    free(j->ingest_out);
    free(j->outreach_out);
    PGresult *all[] = {j->events,   j->ingest,  j->outreach, j->ledger,
                       j->payments, j->outputs, j->ids};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        PQclear(all[i]);
    memset(j, 0, sizeof(*j));
}

static const char *cell(PGresult *r, int row, int col)
{
    return r && row < PQntuples(r) && !PQgetisnull(r, row, col) ? PQgetvalue(r, row, col) : NULL;
}

static arr_err load(arr_pg *pg, const char *tenant, const char *account, ret_job *j, char *why,
                    size_t whylen)
{
    const char *p[] = {tenant, account};
    struct {
        const char *stmt;
        PGresult **res;
    } q[] = {
        {"ret_events", &j->events}, {"ret_ingest", &j->ingest},     {"ret_outreach", &j->outreach},
        {"ret_ledger", &j->ledger}, {"ret_payments", &j->payments}, {"ret_outputs", &j->outputs},
        {"ret_ids", &j->ids}};
    arr_err e = ARR_OK;
    for (size_t i = 0; !e && i < sizeof(q) / sizeof(q[0]); i++)
        e = arr_pg_run(pg, q[i].stmt, 2, p, q[i].res, why, whylen);
    if (e)
        return e;
    j->ev_out = calloc((size_t)PQntuples(j->events) + 1, sizeof(char *));
    j->out_out = calloc((size_t)PQntuples(j->outputs) + 1, sizeof(char *));
    return j->ev_out && j->out_out ? ARR_OK : ARR_ENOMEM;
}

static arr_err decode_fail(arr_err e, const char *where, const char *id, char *why, size_t whylen)
{
    if (e == ARR_EDECODE)
        arr_errbuf_set(why, whylen, "%s %s: not the JSON it should be", where, id ? id : "");
    else if (e)
        arr_errbuf_set(why, whylen, "%s %s: %s", where, id ? id : "", arr_strerror(e));
    return e;
}

/* One pass over every stored text of the account (see ret_map). */
static arr_err pass(ret_map *m, ret_job *j, char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    for (int i = 0; !e && i < PQntuples(j->events); i++) {
        free(j->ev_out[i]);
        e = rewrite(m, AS_ENVELOPE, PQgetvalue(j->events, i, 1), &j->ev_out[i]);
        if (e)
            decode_fail(e, "audit.events", PQgetvalue(j->events, i, 0), why, whylen);
    }
    /* dead letters before the current rows: the latest debtor names the ledger's stand-in */
    for (int i = 0; !e && i < PQntuples(j->outputs); i++) {
        free(j->out_out[i]);
        e = rewrite(m, AS_ENVELOPE, PQgetvalue(j->outputs, i, 1), &j->out_out[i]);
        if (e)
            decode_fail(e, "scoring.outputs", PQgetvalue(j->outputs, i, 0), why, whylen);
    }
    const char *payload = cell(j->ingest, 0, 0);
    free(j->ingest_out);
    j->ingest_out = NULL;
    if (!e && payload && (e = rewrite(m, AS_PLACED_PAYLOAD, payload, &j->ingest_out)))
        decode_fail(e, "ingest.accounts", "payload", why, whylen);
    const char *debtor = cell(j->outreach, 0, 0);
    free(j->outreach_out);
    j->outreach_out = NULL;
    if (!e && debtor && (e = rewrite(m, AS_DEBTOR, debtor, &j->outreach_out)))
        decode_fail(e, "outreach.accounts", "debtor", why, whylen);
    return e;
}

static arr_err run_counted(arr_pg *pg, ret_job *j, int table, const char *stmt, int n,
                           const char *const *p, char *why, size_t whylen)
{
    arr_err e = arr_pg_run(pg, stmt, n, p, NULL, why, whylen);
    if (!e)
        j->rows[table] += arr_pg_affected(pg);
    return e;
}

static arr_err write_events(arr_pg *pg, ret_job *j, char *why, size_t whylen)
{
    if (PQntuples(j->events) == 0)
        return ARR_OK;
    arr_buf ids, msgs;
    arr_buf_init(&ids, ARRAY_MAX);
    arr_buf_init(&msgs, ARRAY_MAX);
    arr_err e = arr_pg_array_open(&ids);
    if (!e)
        e = arr_pg_array_open(&msgs);
    for (int i = 0; !e && i < PQntuples(j->events); i++) {
        e = arr_pg_array_add(&ids, PQgetvalue(j->events, i, 0));
        if (!e)
            e = arr_pg_array_add(&msgs, j->ev_out[i]);
        j->payloads += j->ev_out[i] != NULL;
    }
    if (!e)
        e = arr_pg_array_close(&ids);
    if (!e)
        e = arr_pg_array_close(&msgs);
    const char *p[] = {ids.data, msgs.data};
    if (!e)
        e = run_counted(pg, j, T_EVENTS, "ret_upd_events", 2, p, why, whylen);
    arr_buf_free(&ids);
    arr_buf_free(&msgs);
    return e;
}

static arr_err write_ids(arr_pg *pg, const ret_map *m, ret_job *j, char *why, size_t whylen)
{
    arr_buf olds, news;
    arr_buf_init(&olds, ARRAY_MAX);
    arr_buf_init(&news, ARRAY_MAX);
    arr_err e = arr_pg_array_open(&olds);
    if (!e)
        e = arr_pg_array_open(&news);
    size_t n = 0;
    for (size_t i = 0; !e && i < m->ids.n; i++) {
        if (strcmp(m->ids.from[i], m->ids.to[i]) == 0)
            continue;
        e = arr_pg_array_add(&olds, m->ids.from[i]);
        if (!e)
            e = arr_pg_array_add(&news, m->ids.to[i]);
        n++;
    }
    if (!e)
        e = arr_pg_array_close(&olds);
    if (!e)
        e = arr_pg_array_close(&news);
    static const struct {
        int table;
        const char *stmt;
    } t[] = {{T_STEPS, "ret_upd_steps"},
             {T_OPT_OUTS, "ret_upd_opt_outs"},
             {T_BAD_CONTACTS, "ret_upd_bad_contacts"},
             {T_CONTACT_INDEX, "ret_upd_contact_index"}};
    const char *p[] = {m->tenant, m->account, olds.data, news.data};
    for (size_t i = 0; !e && n && i < sizeof(t) / sizeof(t[0]); i++)
        e = run_counted(pg, j, t[i].table, t[i].stmt, 4, p, why, whylen);
    arr_buf_free(&olds);
    arr_buf_free(&news);
    return e;
}

static arr_err write_rest(arr_pg *pg, ret_map *m, ret_job *j, char *why, size_t whylen)
{
    const char *tenant = m->tenant, *account = m->account;
    arr_err e = ARR_OK;
    if (j->ingest_out || (cell(j->ingest, 0, 1) && strcmp(cell(j->ingest, 0, 1), STANDIN))) {
        const char *p[] = {tenant, account, j->ingest_out ? j->ingest_out : cell(j->ingest, 0, 0),
                           cell(j->ingest, 0, 1) ? STANDIN : NULL};
        e = run_counted(pg, j, T_INGEST_ACCOUNTS, "ret_upd_ingest", 4, p, why, whylen);
    }
    const char *p2[] = {tenant, account};
    if (!e)
        e = run_counted(pg, j, T_INGEST_REJECTS, "ret_upd_rejects", 2, p2, why, whylen);
    if (!e && j->outreach_out) {
        const char *p[] = {tenant, account, j->outreach_out};
        e = run_counted(pg, j, T_OUTREACH_ACCOUNTS, "ret_upd_outreach", 3, p, why, whylen);
    }
    if (!e && cell(j->ledger, 0, 0)) {
        const char *p[] = {tenant, account, m->name_standin};
        e = run_counted(pg, j, T_LEDGER, "ret_upd_ledger", 3, p, why, whylen);
    }
    char ref[RECON_REF_MAX + 1];
    for (int i = 0; !e && i < PQntuples(j->payments); i++) {
        int no_payer = PQgetvalue(j->payments, i, 3)[0] == 't';
        const char *p[] = {tenant, PQgetvalue(j->payments, i, 0),
                           no_payer ? NULL : payer_standin(m, PQgetvalue(j->payments, i, 1)),
                           reference_standin(m, PQgetvalue(j->payments, i, 2), ref, sizeof(ref))};
        e = run_counted(pg, j, T_PAYMENTS, "ret_upd_payment", 4, p, why, whylen);
    }
    for (int i = 0; !e && i < PQntuples(j->outputs); i++) {
        if (!j->out_out[i])
            continue;
        const char *p[] = {PQgetvalue(j->outputs, i, 0), j->out_out[i]};
        e = run_counted(pg, j, T_SCORING_OUTPUTS, "ret_upd_output", 2, p, why, whylen);
    }
    return e;
}

/* The stand-ins and every write of one account, inside the caller's transaction. */
static arr_err erase_account(arr_pg *pg, ret_map *m, ret_job *j, char *why, size_t whylen)
{
    arr_err e = load(pg, m->tenant, m->account, j, why, whylen);
    if (e)
        return e;
    m->debtor_name = cell(j->ledger, 0, 0);
    m->collect = 1;
    e = own_add(m, m->account);
    if (!e)
        e = own_add(m, cell(j->ledger, 0, 1));
    if (!e)
        e = pass(m, j, why, whylen);
    if (e)
        return e;
    /* the name reconciliation would build from the erased debtor ("First Last") */
    snprintf(m->name_standin, sizeof(m->name_standin), "%s%s%s", m->name_first ? STANDIN : "",
             m->name_first && m->name_last ? " " : "", m->name_last ? STANDIN : "");
    if (!m->name_standin[0])
        snprintf(m->name_standin, sizeof(m->name_standin), "%s", STANDIN);
    m->collect = 0;
    for (int i = 0; !e && i < PQntuples(j->ids); i++) {
        const char *ignored;
        e = map_address_id(m, PQgetvalue(j->ids, i, 0), &ignored);
    }
    if (!e)
        e = pass(m, j, why, whylen);
    if (!e)
        e = write_events(pg, j, why, whylen);
    if (!e)
        e = write_ids(pg, m, j, why, whylen);
    if (!e)
        e = write_rest(pg, m, j, why, whylen);
    return e;
}

/* ------------------------------------------------------------------ the command */

typedef struct ret_opts {
    const char *tenant, *account;
    char as_of[11], cutoff[ARR_TIME_STRLEN];
    long days;
    int dry_run, json;
} ret_opts;

typedef struct ret_totals {
    long eligible, erased, already, failed;
    long by_reason[4]; /* closed, paid, settled, written_off */
    long rows[T__COUNT];
    long payloads;
    json_t *accounts; /* --json --dry-run: the eligible accounts */
} ret_totals;

static const char *const reasons[4] = {"closed", "paid", "settled", "written_off"};

static int parse_opts(int argc, char **argv, ret_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->tenant = cli_arg(argc, argv, "--tenant", NULL);
    o->account = cli_arg(argc, argv, "--account", NULL);
    const char *as_of = cli_arg(argc, argv, "--as-of", NULL);
    const char *days = cli_arg(argc, argv, "--days", NULL);
    for (int i = 1; i < argc; i++) {
        o->dry_run |= strcmp(argv[i], "--dry-run") == 0;
        o->json |= strcmp(argv[i], "--json") == 0;
    }
    if (!o->tenant || !arr_tenant_valid(o->tenant) ||
        (o->account && !arr_account_valid(o->account)))
        return 0;
    char *end = NULL;
    o->days = days ? strtol(days, &end, 10) : DEFAULT_DAYS;
    if (days && (*end || o->days < 1 || o->days > 36500))
        return 0;
    int64_t day;
    if (as_of) {
        int y, mo, d;
        char extra;
        if (strlen(as_of) != 10 || sscanf(as_of, "%4d-%2d-%2d%c", &y, &mo, &d, &extra) != 3)
            return 0;
        day = arr_days_from_civil(y, mo, d);
        int y2, m2, d2;
        arr_civil_from_days(day, &y2, &m2, &d2);
        if (y2 != y || m2 != mo || d2 != d)
            return 0;
    } else {
        day = (int64_t)time(NULL) / 86400;
    }
    int y, mo, d;
    arr_civil_from_days(day, &y, &mo, &d);
    snprintf(o->as_of, sizeof(o->as_of), "%04d-%02d-%02d", y, mo, d);
    return arr_time_format((day - o->days) * 86400000LL, o->cutoff, sizeof(o->cutoff)) == ARR_OK;
}

static int reason_index(const char *r)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(reasons[i], r) == 0)
            return i;
    }
    return 0;
}

/* One account: its own transaction, committed (or rolled back in a dry run). */
static arr_err one_account(arr_pg *pg, const ret_opts *o, const recon_match_config *match,
                           const char *account, ret_totals *t, long *rows_changed, char *why,
                           size_t whylen)
{
    *rows_changed = 0;
    const char *lp[] = {o->tenant, account};
    const char *sp[] = {o->tenant, account, o->cutoff};
    PGresult *r = NULL;
    arr_err e = arr_pg_begin(pg, why, whylen);
    if (e)
        return e;
    e = arr_pg_run(pg, "ret_lock", 2, lp, NULL, why, whylen);
    /* eligible still, now that no other retention run holds it? */
    if (!e)
        e = arr_pg_run(pg, "ret_scan", 3, sp, &r, why, whylen);
    if (!e && (PQntuples(r) != 1 || PQgetvalue(r, 0, 3)[0] == 't')) {
        PQclear(r);
        arr_pg_rollback(pg);
        return ARR_ENOTFOUND;
    }
    ret_map m = {.tenant = o->tenant, .account = account, .match = match};
    ret_job j = {0};
    if (!e)
        e = erase_account(pg, &m, &j, why, whylen);
    for (int i = 0; !e && i < T__COUNT; i++)
        *rows_changed += j.rows[i];
    char n[24];
    snprintf(n, sizeof(n), "%ld", *rows_changed);
    const char *ep[] = {o->tenant, account, e ? NULL : PQgetvalue(r, 0, 2), n};
    if (!e)
        e = arr_pg_run(pg, "ret_erasure", 4, ep, NULL, why, whylen);
    if (!e && !o->dry_run)
        e = arr_pg_commit(pg, why, whylen);
    else
        arr_pg_rollback(pg);
    if (!e) {
        for (int i = 0; i < T__COUNT; i++)
            t->rows[i] += j.rows[i];
        t->payloads += j.payloads;
    }
    job_free(&j);
    map_free(&m);
    PQclear(r);
    return e;
}

static void print_text(const ret_opts *o, const ret_totals *t)
{
    long total = 0;
    printf("retention: %s%s eligible %ld (closed %ld, paid %ld, settled %ld, written off %ld), "
           "%s %ld, already erased %ld, failed %ld\n",
           o->tenant, o->dry_run ? " (dry run, nothing written):" : ":", t->eligible,
           t->by_reason[0], t->by_reason[1], t->by_reason[2], t->by_reason[3],
           o->dry_run ? "would erase" : "erased", t->erased, t->already, t->failed);
    printf("rows %s:", o->dry_run ? "that would change" : "changed");
    for (int i = 0; i < T__COUNT; i++) {
        printf(" %s %ld%s", table_names[i], t->rows[i], i + 1 < T__COUNT ? "," : "");
        total += t->rows[i];
    }
    printf("; total %ld (audit.events payloads rewritten %ld)\n", total, t->payloads);
}

static void print_json(const ret_opts *o, ret_totals *t)
{
    json_t *rows = json_object(), *by = json_object();
    long total = 0;
    for (int i = 0; i < T__COUNT; i++) {
        json_object_set_new(rows, table_names[i], json_integer(t->rows[i]));
        total += t->rows[i];
    }
    for (int i = 0; i < 4; i++)
        json_object_set_new(by, reasons[i], json_integer(t->by_reason[i]));
    json_t *out = json_pack(
        "{s:s, s:s, s:I, s:s, s:b, s:I, s:o, s:I, s:I, s:I, s:o, s:I, s:I}", "tenant", o->tenant,
        "as_of", o->as_of, "days", (json_int_t)o->days, "last_activity_before", o->cutoff,
        "dry_run", o->dry_run, "eligible", (json_int_t)t->eligible, "by_reason", by, "erased",
        (json_int_t)t->erased, "already_erased", (json_int_t)t->already, "failed",
        (json_int_t)t->failed, "rows_changed", rows, "rows_changed_total", (json_int_t)total,
        "payloads_rewritten", (json_int_t)t->payloads);
    if (out && t->accounts)
        json_object_set(out, "accounts", t->accounts);
    char *s = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
    printf("%s\n", s ? s : "{}");
    free(s);
    json_decref(out);
}

static arr_err prepare(arr_pg *pg, char *why, size_t whylen)
{
    arr_err e = ARR_OK;
    for (size_t i = 0; !e && i < sizeof(statements) / sizeof(statements[0]); i++)
        e = arr_pg_prepare(pg, statements[i].name, statements[i].sql, statements[i].nparams, why,
                           whylen);
    return e;
}

/* The tenant's reference patterns and name threshold, as reconciliation loads them; the
 * defaults (bare tokens, 8500) when the file cannot be read. */
static void load_match(cli_ctx *c, const char *tenant, recon_match_config *out)
{
    char why[512], path[1024];
    const char *deploy = ARR_SOURCE_DIR "/deploy";
    arr_config_str(c->cfg, "ARR_DEPLOY_DIR", deploy, &deploy, why, sizeof(why));
    snprintf(path, sizeof(path), "%s/reconciliation/matching.json", deploy);
    if (recon_match_config_load(path, tenant, out, why, sizeof(why)) == ARR_OK)
        return;
    fprintf(stderr, "arrears retention: %s; using bare reference tokens\n", why);
    memset(out, 0, sizeof(*out));
    out->min_token_len = 4;
    out->name_threshold_bp = 8500;
}

static int cmd_apply(cli_ctx *c, int argc, char **argv)
{
    ret_opts o;
    if (!parse_opts(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "arrears retention: libsodium cannot start\n");
        return 1;
    }
    char why[1024];
    arr_pg *pg = NULL;
    if (arr_pg_connect(c->pg_conninfo, &pg, why, sizeof(why)) != ARR_OK ||
        prepare(pg, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears retention: %s\n", why);
        arr_pg_free(pg);
        return 1;
    }
    recon_match_config match;
    load_match(c, o.tenant, &match);
    ret_totals t = {0};
    if (o.json && o.dry_run)
        t.accounts = json_array();
    const char *sp[] = {o.tenant, o.account, o.cutoff};
    PGresult *list = NULL;
    if (arr_pg_run(pg, "ret_scan", 3, sp, &list, why, sizeof(why)) != ARR_OK) {
        fprintf(stderr, "arrears retention: %s\n", why);
        recon_match_config_free(&match);
        arr_pg_free(pg);
        return 1;
    }
    if (!o.json)
        printf("retention: %s as of %s, %ld days: last activity before %s\n", o.tenant, o.as_of,
               o.days, o.cutoff);
    for (int i = 0; i < PQntuples(list); i++) {
        const char *account = PQgetvalue(list, i, 0), *reason = PQgetvalue(list, i, 1);
        const char *last = PQgetvalue(list, i, 2);
        t.eligible++;
        t.by_reason[reason_index(reason)]++;
        if (PQgetvalue(list, i, 3)[0] == 't') {
            t.already++;
            continue;
        }
        long rows = 0;
        arr_err e = one_account(pg, &o, &match, account, &t, &rows, why, sizeof(why));
        if (e == ARR_ENOTFOUND) { /* changed since the scan: active again, or erased meanwhile */
            t.already++;
            continue;
        }
        if (e) {
            fprintf(stderr, "arrears retention: account %s: %s\n", account, why);
            t.failed++;
            continue;
        }
        t.erased++;
        if (o.dry_run && !o.json)
            printf("  %-32s %-11s last activity %.10s  rows %ld\n", account, reason, last, rows);
        if (t.accounts)
            json_array_append_new(t.accounts,
                                  json_pack("{s:s, s:s, s:s, s:I}", "account_id", account,
                                            "closed_by", reason, "last_activity", last,
                                            "rows_changed", (json_int_t)rows));
    }
    PQclear(list);
    if (o.json)
        print_json(&o, &t);
    else
        print_text(&o, &t);
    json_decref(t.accounts);
    recon_match_config_free(&match);
    arr_pg_free(pg);
    return t.failed ? 1 : 0;
}

int cli_retention(cli_ctx *c, int argc, char **argv)
{
    if (argc < 1 || cli_wants_help(argc, argv)) {
        usage(argc ? stdout : stderr);
        return argc ? 0 : 2;
    }
    if (strcmp(argv[0], "apply") == 0)
        return cmd_apply(c, argc, argv);
    usage(stderr);
    return 2;
}
