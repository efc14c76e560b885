#include "facts.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "arrears/buf.h"

static arr_err get_str(json_t *obj, const char *key, const char **out, const char *where, char *why,
                       size_t whylen)
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

/* A present, non-null field of obj must have type want (JSON_TRUE: a boolean). */
static arr_err check_type(json_t *obj, const char *key, json_type want, const char *where,
                          char *why, size_t whylen)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return ARR_OK;
    if (want == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == want)
        return ARR_OK;
    snprintf(why, whylen, "field %s.%s: must be %s", where, key,
             want == JSON_ARRAY    ? "an array"
             : want == JSON_OBJECT ? "an object"
                                   : "a boolean");
    return ARR_EINVAL;
}

static arr_err not_object(const char *where, char *why, size_t whylen)
{
    snprintf(why, whylen, "field %s: must be an object", where);
    return ARR_EINVAL;
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
        if (!json_is_object(e))
            return not_object("debtor.emails[]", why, whylen);
        arr_err err = get_str(e, "address", &addr, "debtor.emails[]", why, whylen);
        if (!err)
            err = check_type(e, "consent", JSON_TRUE, "debtor.emails[]", why, whylen);
        if (err)
            return err;
        if (!addr || !*addr)
            continue;
        outreach_contact_point *p = &f->emails[f->nemails++];
        arr_str_copy(p->address, sizeof(p->address), addr);
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
        if (!json_is_object(ph))
            return not_object("debtor.phones[]", why, whylen);
        arr_err err = get_str(ph, "number", &num, "debtor.phones[]", why, whylen);
        if (!err)
            err = get_str(ph, "type", &type, "debtor.phones[]", why, whylen);
        if (!err)
            err = check_type(ph, "sms_consent", JSON_TRUE, "debtor.phones[]", why, whylen);
        if (!err)
            err = check_type(ph, "voice_consent", JSON_TRUE, "debtor.phones[]", why, whylen);
        if (err)
            return err;
        if (!num || num[0] != '+')
            continue;
        outreach_contact_point *p = &f->phones[f->nphones++];
        arr_str_copy(p->address, sizeof(p->address), num);
        outreach_facts_address_id(tenant, p->address, p->id);
        p->mobile = !type || strcmp(type, "landline") != 0; /* unknown: the stricter case */
        p->consent = get_bool(ph, "sms_consent") && p->mobile;
        p->voice_consent = get_bool(ph, "voice_consent");
    }
    return ARR_OK;
}

static const char *const address_parts[] = {"line1", "line2", "city", "state", "zip", "country"};

static arr_err check_address(json_t *a, char *why, size_t whylen)
{
    for (size_t i = 0; i < sizeof(address_parts) / sizeof(address_parts[0]); i++) {
        const char *v;
        arr_err e = get_str(a, address_parts[i], &v, "debtor.address", why, whylen);
        if (e)
            return e;
    }
    return ARR_OK;
}

static arr_err check_zones(json_t *arr, char *why, size_t whylen)
{
    size_t i;
    json_t *z;
    json_array_foreach(arr, i, z)
    {
        if (!json_is_string(z)) {
            snprintf(why, whylen, "field debtor.timezones[]: must be a string");
            return ARR_EINVAL;
        }
    }
    return ARR_OK;
}

static void read_address(json_t *a, outreach_facts *f)
{
    size_t used = 0;
    for (size_t i = 0; i < sizeof(address_parts) / sizeof(address_parts[0]); i++) {
        const char *v = json_string_value(json_object_get(a, address_parts[i]));
        if (!v || !*v)
            continue;
        const char *sep = used == 0 ? "" : (strcmp(address_parts[i], "zip") == 0 ? " " : ", ");
        int n = snprintf(f->address_line + used, sizeof(f->address_line) - used, "%s%s", sep, v);
        if (n < 0 || (size_t)n >= sizeof(f->address_line) - used)
            break;
        used += (size_t)n;
        if (strcmp(address_parts[i], "line1") == 0)
            f->has_address = 1;
    }
}

arr_err outreach_facts_read(const char *tenant, json_t *debtor, outreach_facts *out, char *why,
                            size_t whylen)
{
    outreach_facts f;
    memset(&f, 0, sizeof(f));
    arr_str_copy(f.lang, sizeof(f.lang), "en");
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
        e = check_type(debtor, "emails", JSON_ARRAY, "debtor", why, whylen);
    if (!e)
        e = check_type(debtor, "phones", JSON_ARRAY, "debtor", why, whylen);
    if (!e)
        e = check_type(debtor, "timezones", JSON_ARRAY, "debtor", why, whylen);
    if (!e)
        e = check_type(debtor, "address", JSON_OBJECT, "debtor", why, whylen);
    if (!e)
        e = check_address(json_object_get(debtor, "address"), why, whylen);
    if (!e)
        e = read_emails(tenant, json_object_get(debtor, "emails"), &f, why, whylen);
    if (!e)
        e = read_phones(tenant, json_object_get(debtor, "phones"), &f, why, whylen);
    if (!e)
        e = check_zones(json_object_get(debtor, "timezones"), why, whylen);
    if (e)
        return e;
    arr_str_copy(f.first_name, sizeof(f.first_name), first);
    snprintf(f.full_name, sizeof(f.full_name), "%s%s%s", first ? first : "",
             first && last ? " " : "", last ? last : "");
    if (lang && strlen(lang) == 2)
        arr_str_copy(f.lang, sizeof(f.lang), lang);
    size_t i;
    json_t *z;
    json_array_foreach(json_object_get(debtor, "timezones"), i, z)
    {
        const char *name = json_string_value(z);
        if (name && f.nzones < OUTREACH_FACTS_ZONES && strlen(name) < sizeof(f.zones[0]))
            arr_str_copy(f.zones[f.nzones++], sizeof(f.zones[0]), name);
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

static int want_email(const outreach_contact_point *p)
{
    return p->consent;
}
static int want_sms(const outreach_contact_point *p)
{
    return p->mobile && p->consent;
}
static int want_voice_mobile(const outreach_contact_point *p)
{
    return p->mobile && p->voice_consent;
}
static int want_landline(const outreach_contact_point *p)
{
    return !p->mobile;
}

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
        /* a landline not opted out before a mobile that is; both opted out: the mobile */
        const outreach_contact_point *m =
            pick_from(f->phones, f->nphones, want_voice_mobile, bad, nbad, opted_out, nopted);
        if (m && !listed(m->id, opted_out, nopted))
            return m;
        const outreach_contact_point *l =
            pick_from(f->phones, f->nphones, want_landline, bad, nbad, opted_out, nopted);
        if (l && !listed(l->id, opted_out, nopted))
            return l;
        return m ? m : l;
    }
    case OUTREACH_COMPLIANCE_LETTER:
        return f->has_address ? &letter : NULL;
    default:
        return NULL;
    }
}
