#include "facts.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static arr_err get_str(json_t *obj, const char *key, const char **out, const char *where,
                       char *why, size_t whylen)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return ARR_OK;
    if (!json_is_string(v)) {
        snprintf(why, whylen, "field %s.%s: must be a string", where, key);
        return ARR_EINVAL;
    }
    *out = json_string_value(v);
    return ARR_OK;
}

static int get_bool(json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

void outreach_facts_address_id(const char *tenant, const char *address,
                               char out[OUTREACH_FACTS_ID_LEN + 1])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)tenant, strlen(tenant));
    crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)address, strlen(address));
    crypto_hash_sha256_final(&st, h);
    sodium_bin2hex(out, OUTREACH_FACTS_ID_LEN + 1, h, OUTREACH_FACTS_ID_LEN / 2);
}

static arr_err read_emails(const char *tenant, json_t *arr, outreach_facts *f, char *why,
                           size_t whylen)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (f->nemails == OUTREACH_FACTS_EMAILS)
            break;
        const char *addr;
        arr_err err = get_str(e, "address", &addr, "debtor.emails[]", why, whylen);
        if (err)
            return err;
        if (!addr || !*addr)
            continue;
        outreach_contact_point *p = &f->emails[f->nemails++];
        copy_str(p->address, sizeof(p->address), addr);
        outreach_facts_address_id(tenant, p->address, p->id);
        /* consent false: the consumer opted out of e-mail at the creditor */
        p->consent = json_object_get(e, "consent") ? get_bool(e, "consent") : 1;
    }
    return ARR_OK;
}

static arr_err read_phones(const char *tenant, json_t *arr, outreach_facts *f, char *why,
                           size_t whylen)
{
    size_t i;
    json_t *ph;
    json_array_foreach(arr, i, ph)
    {
        if (f->nphones == OUTREACH_FACTS_PHONES)
            break;
        const char *num, *type;
        arr_err err = get_str(ph, "number", &num, "debtor.phones[]", why, whylen);
        if (!err)
            err = get_str(ph, "type", &type, "debtor.phones[]", why, whylen);
        if (err)
            return err;
        if (!num || num[0] != '+')
            continue;
        outreach_contact_point *p = &f->phones[f->nphones++];
        copy_str(p->address, sizeof(p->address), num);
        outreach_facts_address_id(tenant, p->address, p->id);
        p->mobile = !type || strcmp(type, "landline") != 0; /* unknown: the stricter case */
        p->consent = get_bool(ph, "sms_consent") && p->mobile;
        p->voice_consent = get_bool(ph, "voice_consent");
    }
    return ARR_OK;
}

static void read_address(json_t *a, outreach_facts *f)
{
    static const char *const parts[] = {"line1", "line2", "city", "state", "zip", "country"};
    size_t used = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        const char *v = json_string_value(json_object_get(a, parts[i]));
        if (!v || !*v)
            continue;
        const char *sep = used == 0 ? "" : (strcmp(parts[i], "zip") == 0 ? " " : ", ");
        int n = snprintf(f->address_line + used, sizeof(f->address_line) - used, "%s%s", sep, v);
        if (n < 0 || (size_t)n >= sizeof(f->address_line) - used)
            break;
        used += (size_t)n;
        if (strcmp(parts[i], "line1") == 0)
            f->has_address = 1;
    }
}

arr_err outreach_facts_read(const char *tenant, json_t *debtor, outreach_facts *out, char *why,
                            size_t whylen)
{
    outreach_facts f;
    memset(&f, 0, sizeof(f));
    copy_str(f.lang, sizeof(f.lang), "en");
    if (!json_is_object(debtor)) {
        *out = f;
        return ARR_OK;
    }
    const char *first, *last, *lang;
    arr_err e = get_str(debtor, "first_name", &first, "debtor", why, whylen);
    if (!e)
        e = get_str(debtor, "last_name", &last, "debtor", why, whylen);
    if (!e)
        e = get_str(debtor, "language", &lang, "debtor", why, whylen);
    if (!e)
        e = read_emails(tenant, json_object_get(debtor, "emails"), &f, why, whylen);
    if (!e)
        e = read_phones(tenant, json_object_get(debtor, "phones"), &f, why, whylen);
    if (e)
        return e;
    copy_str(f.first_name, sizeof(f.first_name), first);
    snprintf(f.full_name, sizeof(f.full_name), "%s%s%s", first ? first : "",
             first && last ? " " : "", last ? last : "");
    if (lang && strlen(lang) == 2)
        copy_str(f.lang, sizeof(f.lang), lang);
    size_t i;
    json_t *z;
    json_array_foreach(json_object_get(debtor, "timezones"), i, z)
    {
        const char *name = json_string_value(z);
        if (name && f.nzones < OUTREACH_FACTS_ZONES && strlen(name) < sizeof(f.zones[0]))
            copy_str(f.zones[f.nzones++], sizeof(f.zones[0]), name);
    }
    read_address(json_object_get(debtor, "address"), &f);
    *out = f;
    return ARR_OK;
}

static int listed(const char *id, const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ids[i], id) == 0)
            return 1;
    }
    return 0;
}

/* The first usable point of pts: not bad, matching want; one not opted out wins. */
static const outreach_contact_point *pick_from(const outreach_contact_point *pts, int n,
                                               int (*want)(const outreach_contact_point *),
                                               const char *const *bad, size_t nbad,
                                               const char *const *opted, size_t nopted)
{
    const outreach_contact_point *fallback = NULL;
    for (int i = 0; i < n; i++) {
        if (!want(&pts[i]) || listed(pts[i].id, bad, nbad))
            continue;
        if (!listed(pts[i].id, opted, nopted))
            return &pts[i];
        if (!fallback)
            fallback = &pts[i];
    }
    return fallback;
}

static int want_email(const outreach_contact_point *p) { return p->consent; }
static int want_sms(const outreach_contact_point *p) { return p->mobile && p->consent; }
static int want_voice_mobile(const outreach_contact_point *p)
{
    return p->mobile && p->voice_consent;
}
static int want_landline(const outreach_contact_point *p) { return !p->mobile; }

const outreach_contact_point *outreach_facts_pick(const outreach_facts *f,
                                                  outreach_compliance_channel channel,
                                                  const char *const *bad, size_t nbad,
                                                  const char *const *opted_out, size_t nopted)
{
    static const outreach_contact_point letter = {.address = "", .id = "postal"};
    switch (channel) {
    case OUTREACH_COMPLIANCE_EMAIL:
        return pick_from(f->emails, f->nemails, want_email, bad, nbad, opted_out, nopted);
    case OUTREACH_COMPLIANCE_SMS:
        return pick_from(f->phones, f->nphones, want_sms, bad, nbad, opted_out, nopted);
    case OUTREACH_COMPLIANCE_VOICE: {
        const outreach_contact_point *p =
            pick_from(f->phones, f->nphones, want_voice_mobile, bad, nbad, opted_out, nopted);
        return p ? p
                 : pick_from(f->phones, f->nphones, want_landline, bad, nbad, opted_out, nopted);
    }
    case OUTREACH_COMPLIANCE_LETTER:
        return f->has_address ? &letter : NULL;
    default:
        return NULL;
    }
}
