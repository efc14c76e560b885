/* Unit tests of services/outreach/facts.c: a full debtor read into contact points (ids, consent,
 * line types), names, the one-line postal address, zones and language; empty facts for a
 * missing debtor; every wrong type naming its field; the caps; and the choice of contact point
 * per channel with bad and opted-out ids.
 *
 * Expected ids are worked out here, not by the code under test: SHA-256 of "<tenant>\n<address>"
 * with libsodium's one-shot crypto_hash_sha256, hex-encoded by hand, and for two of them the
 * literal digest (python3: hashlib.sha256(b"acme\nb@example.com").hexdigest()[:32]). */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"

#define EMAIL OUTREACH_COMPLIANCE_EMAIL
#define SMS OUTREACH_COMPLIANCE_SMS
#define VOICE OUTREACH_COMPLIANCE_VOICE
#define LETTER OUTREACH_COMPLIANCE_LETTER

/* ------------------------------------------------------------------ helpers */

/* JSON written with ' for " so the tests stay readable. */
static json_t *js(const char *text)
{
    char *s = strdup(text);
    cr_assert_not_null(s);
    for (char *q = s; *q; q++)
        if (*q == '\'')
            *q = '"';
    json_error_t err;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &err);
    cr_assert_not_null(j, "bad test JSON %s: %s", s, err.text);
    free(s);
    return j;
}

/* The id the header promises, computed independently of the code under test. */
static void want_id(const char *tenant, const char *address, char out[OUTREACH_FACTS_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s\n%s", tenant, address);
    cr_assert(n > 0 && (size_t)n < sizeof buf);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)buf, (unsigned long long)n);
    for (int i = 0; i < OUTREACH_FACTS_ID_LEN / 2; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[OUTREACH_FACTS_ID_LEN] = '\0';
}

static void read_ok(const char *tenant, const char *debtor, outreach_facts *f)
{
    json_t *d = debtor ? js(debtor) : NULL;
    char why[256] = "";
    memset(f, 0x5a, sizeof(*f)); /* garbage: everything must be written */
    arr_err e = outreach_facts_read(tenant, d, f, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s: %s", debtor ? debtor : "NULL", why);
    json_decref(d);
}

static void assert_empty(const outreach_facts *f)
{
    cr_assert_eq(f->nemails, 0);
    cr_assert_eq(f->nphones, 0);
    cr_assert_eq(f->nzones, 0);
    cr_assert_str_eq(f->lang, "en");
    cr_assert_str_eq(f->first_name, "");
    cr_assert_str_eq(f->full_name, "");
    cr_assert_str_eq(f->address_line, "");
    cr_assert_eq(f->has_address, 0);
}

static void init(void)
{
    cr_assert(sodium_init() >= 0);
}

TestSuite(facts, .init = init);

/* Two e-mails (the first opted out at the creditor), a mobile with sms consent, a mobile with
 * voice consent only, a landline whose sms consent must not count. */
#define FULL                                                                                       \
    "{'first_name':'Ana','last_name':'García',"                                                   \
    "'emails':[{'address':'a@example.com','consent':false},"                                       \
    "          {'address':'b@example.com','consent':true}],"                                       \
    "'phones':[{'number':'+15550000001','type':'mobile','sms_consent':true,'voice_consent':false}" \
    ","                                                                                            \
    "          {'number':'+15550000002','type':'mobile','sms_consent':false,"                      \
    "           'voice_consent':true},"                                                            \
    "          {'number':'+15550000003','type':'landline','sms_consent':true,"                     \
    "           'voice_consent':false}],"                                                          \
    "'address':{'line1':'12 Oak St','line2':'Apt 4','city':'Springfield','state':'IL',"            \
    "           'zip':'62701','country':'US'},"                                                    \
    "'timezones':['America/Chicago','America/New_York'],'timezone_derived':false,"                 \
    "'language':'es'}"

/* ------------------------------------------------------------------ reading */

Test(facts, full_debtor)
{
    outreach_facts f;
    read_ok("acme", FULL, &f);
    char id[OUTREACH_FACTS_ID_LEN + 1];

    cr_assert_eq(f.nemails, 2);
    cr_assert_str_eq(f.emails[0].address, "a@example.com");
    want_id("acme", "a@example.com", id);
    cr_assert_str_eq(f.emails[0].id, id);
    cr_assert_eq(f.emails[0].consent, 0);
    cr_assert_str_eq(f.emails[1].address, "b@example.com");
    cr_assert_str_eq(f.emails[1].id, "ccb82c44299e5e588aab637367f40d92");
    cr_assert_eq(f.emails[1].consent, 1);

    cr_assert_eq(f.nphones, 3);
    cr_assert_str_eq(f.phones[0].address, "+15550000001");
    cr_assert_str_eq(f.phones[0].id, "eb0df65b146249a1daff27cfa5c2fea6");
    cr_assert_eq(f.phones[0].mobile, 1);
    cr_assert_eq(f.phones[0].consent, 1);
    cr_assert_eq(f.phones[0].voice_consent, 0);
    cr_assert_str_eq(f.phones[1].address, "+15550000002");
    want_id("acme", "+15550000002", id);
    cr_assert_str_eq(f.phones[1].id, id);
    cr_assert_eq(f.phones[1].mobile, 1);
    cr_assert_eq(f.phones[1].consent, 0);
    cr_assert_eq(f.phones[1].voice_consent, 1);
    cr_assert_str_eq(f.phones[2].address, "+15550000003");
    want_id("acme", "+15550000003", id);
    cr_assert_str_eq(f.phones[2].id, id);
    cr_assert_eq(f.phones[2].mobile, 0);
    cr_assert_eq(f.phones[2].consent, 0, "sms consent on a landline does not count");
    cr_assert_eq(f.phones[2].voice_consent, 0);

    cr_assert_str_eq(f.first_name, "Ana");
    cr_assert_str_eq(f.full_name, "Ana García");
    cr_assert_str_eq(f.address_line, "12 Oak St, Apt 4, Springfield, IL 62701, US");
    cr_assert_eq(f.has_address, 1);
    cr_assert_eq(f.nzones, 2);
    cr_assert_str_eq(f.zones[0], "America/Chicago");
    cr_assert_str_eq(f.zones[1], "America/New_York");
    cr_assert_str_eq(f.lang, "es");
}

Test(facts, address_id_matches_sha256)
{
    char got[OUTREACH_FACTS_ID_LEN + 1], want[OUTREACH_FACTS_ID_LEN + 1];
    outreach_facts_address_id("acme", "b@example.com", got);
    cr_assert_str_eq(got, "ccb82c44299e5e588aab637367f40d92");
    outreach_facts_address_id("globex", "b@example.com", got);
    cr_assert_str_eq(got, "64db63b57d5f5b07aadcc5f850656283");
    outreach_facts_address_id("t", "", got);
    want_id("t", "", want);
    cr_assert_str_eq(got, want);
    cr_assert_eq(strlen(got), OUTREACH_FACTS_ID_LEN);
}

Test(facts, ids_differ_per_tenant)
{
    outreach_facts a, g;
    read_ok("acme", FULL, &a);
    read_ok("globex", FULL, &g);
    char id[OUTREACH_FACTS_ID_LEN + 1];
    for (int i = 0; i < 2; i++) {
        cr_assert_str_eq(a.emails[i].address, g.emails[i].address);
        cr_assert_str_neq(a.emails[i].id, g.emails[i].id);
        want_id("globex", g.emails[i].address, id);
        cr_assert_str_eq(g.emails[i].id, id);
    }
    cr_assert_str_eq(g.emails[1].id, "64db63b57d5f5b07aadcc5f850656283");
    for (int i = 0; i < 3; i++) {
        cr_assert_str_neq(a.phones[i].id, g.phones[i].id);
        want_id("globex", g.phones[i].address, id);
        cr_assert_str_eq(g.phones[i].id, id);
    }
}

Test(facts, missing_debtor_gives_empty_facts)
{
    outreach_facts f;
    read_ok("acme", NULL, &f);
    assert_empty(&f);
    read_ok("acme", "'not an object'", &f);
    assert_empty(&f);
    read_ok("acme", "[1,2]", &f);
    assert_empty(&f);
    read_ok("acme", "{}", &f);
    assert_empty(&f);
    read_ok("acme",
            "{'first_name':null,'last_name':null,'language':null,'emails':null,'phones':null,"
            "'address':null,'timezones':null}",
            &f);
    assert_empty(&f);
    read_ok("acme", "{'emails':[],'phones':[],'timezones':[],'address':{'country':'US'}}", &f);
    cr_assert_eq(f.has_address, 0, "a country alone is not a postal address");
    cr_assert_str_eq(f.address_line, "US");
}

Test(facts, names)
{
    outreach_facts f;
    read_ok("acme", "{'first_name':'Ana'}", &f);
    cr_assert_str_eq(f.first_name, "Ana");
    cr_assert_str_eq(f.full_name, "Ana");
    read_ok("acme", "{'last_name':'García'}", &f);
    cr_assert_str_eq(f.first_name, "");
    cr_assert_str_eq(f.full_name, "García");
    /* the longest names the schema allows (63 bytes each) fit */
    char d[256], n63[64];
    memset(n63, 'x', 63);
    n63[63] = '\0';
    snprintf(d, sizeof d, "{'first_name':'%s','last_name':'%s'}", n63, n63);
    read_ok("acme", d, &f);
    cr_assert_str_eq(f.first_name, n63);
    cr_assert_eq(strlen(f.full_name), 127);
}

Test(facts, language)
{
    outreach_facts f;
    read_ok("acme", "{'language':'es'}", &f);
    cr_assert_str_eq(f.lang, "es");
    read_ok("acme", "{'language':'spa'}", &f);
    cr_assert_str_eq(f.lang, "en", "not a two-letter code: the default");
    read_ok("acme", "{'language':''}", &f);
    cr_assert_str_eq(f.lang, "en");
    read_ok("acme", "{}", &f);
    cr_assert_str_eq(f.lang, "en");
}

Test(facts, address_line)
{
    static const struct {
        const char *address, *line;
        int has;
    } cases[] = {
        {"{'line1':'12 Oak St','city':'Springfield','state':'IL','zip':'62701','country':'US'}",
         "12 Oak St, Springfield, IL 62701, US", 1},
        {"{'line1':'12 Oak St','line2':'Apt 4','city':'Springfield','state':'IL',"
         "'zip':'62701-1234','country':'US'}",
         "12 Oak St, Apt 4, Springfield, IL 62701-1234, US", 1},
        {"{'line1':'1 Rue X','city':'Paris','zip':'75001','country':'FR'}",
         "1 Rue X, Paris 75001, FR", 1},
        {"{'line1':'12 Oak St','city':'Springfield','state':'IL','country':'US'}",
         "12 Oak St, Springfield, IL, US", 1},
        {"{'city':'Springfield','state':'IL','zip':'62701','country':'US'}",
         "Springfield, IL 62701, US", 0},
        {"{'line1':'','line2':'Apt 4','country':'US'}", "Apt 4, US", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char d[512];
        snprintf(d, sizeof d, "{'address':%s}", cases[i].address);
        outreach_facts f;
        read_ok("acme", d, &f);
        cr_assert_str_eq(f.address_line, cases[i].line, "case %zu", i);
        cr_assert_eq(f.has_address, cases[i].has, "case %zu", i);
    }
}

Test(facts, email_consent_defaults_to_yes_when_absent)
{
    outreach_facts f;
    read_ok("acme", "{'emails':[{'address':'a@example.com'},{'address':''}]}", &f);
    cr_assert_eq(f.nemails, 1, "an empty address is skipped");
    cr_assert_eq(f.emails[0].consent, 1);
}

Test(facts, phone_type_unknown_is_mobile)
{
    outreach_facts f;
    read_ok("acme", "{'phones':[{'number':'+15550000001','sms_consent':true}]}", &f);
    cr_assert_eq(f.nphones, 1);
    cr_assert_eq(f.phones[0].mobile, 1);
    cr_assert_eq(f.phones[0].consent, 1);
    cr_assert_eq(f.phones[0].voice_consent, 0);
}

Test(facts, phone_without_plus_is_ignored)
{
    outreach_facts f;
    read_ok("acme",
            "{'phones':[{'number':'15550000001','type':'mobile','sms_consent':true},"
            "{'number':'','type':'mobile'},{'type':'mobile'},"
            "{'number':'+15550000002','type':'mobile','sms_consent':true}]}",
            &f);
    cr_assert_eq(f.nphones, 1);
    cr_assert_str_eq(f.phones[0].address, "+15550000002");
}

Test(facts, caps)
{
    outreach_facts f;
    read_ok("acme",
            "{'emails':[{'address':'1@x.com'},{'address':'2@x.com'},{'address':'3@x.com'}],"
            "'phones':[{'number':'5550000000'},{'number':'+15550000001'},"
            "{'number':'+15550000002'},{'number':'+15550000003'},{'number':'+15550000004'}],"
            "'timezones':['A/a','B/b','C/c','D/d','E/e']}",
            &f);
    cr_assert_eq(f.nemails, 2);
    cr_assert_str_eq(f.emails[0].address, "1@x.com");
    cr_assert_str_eq(f.emails[1].address, "2@x.com");
    cr_assert_eq(f.nphones, 3, "a number without + does not take a place");
    cr_assert_str_eq(f.phones[0].address, "+15550000001");
    cr_assert_str_eq(f.phones[2].address, "+15550000003");
    cr_assert_eq(f.nzones, 4);
    cr_assert_str_eq(f.zones[0], "A/a");
    cr_assert_str_eq(f.zones[3], "D/d");
}

Test(facts, zone_too_long_is_skipped)
{
    char z39[40], z40[41], d[256];
    memset(z39, 'z', 39);
    z39[39] = '\0';
    memset(z40, 'y', 40);
    z40[40] = '\0';
    snprintf(d, sizeof d, "{'timezones':['%s','%s','UTC']}", z40, z39);
    outreach_facts f;
    read_ok("acme", d, &f);
    cr_assert_eq(f.nzones, 2);
    cr_assert_str_eq(f.zones[0], z39);
    cr_assert_str_eq(f.zones[1], "UTC");
}

Test(facts, wrong_types_name_the_field)
{
    static const struct {
        const char *debtor, *field;
    } cases[] = {
        {"{'first_name':5}", "debtor.first_name"},
        {"{'last_name':true}", "debtor.last_name"},
        {"{'language':['en']}", "debtor.language"},
        {"{'emails':[{'address':5}]}", "debtor.emails[].address"},
        {"{'phones':[{'number':15550000001}]}", "debtor.phones[].number"},
        {"{'phones':[{'number':'+15550000001','type':1}]}", "debtor.phones[].type"},
        {"{'emails':'a@example.com'}", "debtor.emails"},
        {"{'emails':['a@example.com']}", "debtor.emails[]"},
        {"{'emails':[{'address':'a@example.com','consent':'no'}]}", "debtor.emails[].consent"},
        {"{'phones':{'number':'+15550000001'}}", "debtor.phones"},
        {"{'phones':['+15550000001']}", "debtor.phones[]"},
        {"{'phones':[{'number':'+15550000001','sms_consent':1}]}", "debtor.phones[].sms_consent"},
        {"{'phones':[{'number':'+15550000001','voice_consent':'yes'}]}",
         "debtor.phones[].voice_consent"},
        {"{'timezones':'America/Chicago'}", "debtor.timezones"},
        {"{'timezones':[5]}", "debtor.timezones[]"},
        {"{'address':'12 Oak St, Springfield'}", "debtor.address"},
        {"{'address':{'line1':12,'country':'US'}}", "debtor.address.line1"},
        {"{'address':{'line1':'12 Oak St','zip':62701}}", "debtor.address.zip"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *d = js(cases[i].debtor);
        outreach_facts f, before;
        memset(&f, 0x5a, sizeof f);
        before = f;
        char why[256] = "";
        arr_err e = outreach_facts_read("acme", d, &f, why, sizeof why);
        json_decref(d);
        cr_assert_eq(e, ARR_EINVAL, "%s: got %d (%s)", cases[i].debtor, e, why);
        char want[96];
        snprintf(want, sizeof want, "field %s:", cases[i].field);
        cr_assert_not_null(strstr(why, want), "%s: why \"%s\" lacks \"%s\"", cases[i].debtor, why,
                           want);
        cr_assert_eq(memcmp(&f, &before, sizeof f), 0, "%s: out written on failure",
                     cases[i].debtor);
    }
}

/* ------------------------------------------------------------------ picking */

Test(facts, pick_full_debtor)
{
    outreach_facts f;
    read_ok("acme", FULL, &f);
    cr_assert_eq(outreach_facts_pick(&f, EMAIL, NULL, 0, NULL, 0), &f.emails[1],
                 "a@ has no consent");
    cr_assert_eq(outreach_facts_pick(&f, SMS, NULL, 0, NULL, 0), &f.phones[0]);
    cr_assert_eq(outreach_facts_pick(&f, VOICE, NULL, 0, NULL, 0), &f.phones[1],
                 "the mobile with voice consent before the landline");
    const outreach_contact_point *l = outreach_facts_pick(&f, LETTER, NULL, 0, NULL, 0);
    cr_assert_not_null(l);
    cr_assert_str_eq(l->address, "");
}

Test(facts, pick_email)
{
    outreach_facts f;
    read_ok("acme",
            "{'emails':[{'address':'a@example.com','consent':true},"
            "{'address':'b@example.com','consent':true}]}",
            &f);
    const char *a = f.emails[0].id, *b = f.emails[1].id;
    const char *ab[] = {a, b}, *ba[] = {b, a}, *ja[] = {a}, *jb[] = {b};
    cr_assert_eq(outreach_facts_pick(&f, EMAIL, NULL, 0, NULL, 0), &f.emails[0]);
    cr_assert_eq(outreach_facts_pick(&f, EMAIL, ja, 1, NULL, 0), &f.emails[1], "a bad");
    cr_assert_eq(outreach_facts_pick(&f, EMAIL, NULL, 0, ja, 1), &f.emails[1], "a opted out");
    cr_assert_eq(outreach_facts_pick(&f, EMAIL, NULL, 0, ba, 2), &f.emails[0],
                 "both opted out: the first, so the opt-out is named");
    cr_assert_eq(outreach_facts_pick(&f, EMAIL, ja, 1, jb, 1), &f.emails[1],
                 "a bad, b opted out: b");
    cr_assert_null(outreach_facts_pick(&f, EMAIL, ab, 2, NULL, 0), "both bad");
    cr_assert_null(outreach_facts_pick(&f, EMAIL, ab, 2, ab, 2), "both bad and opted out");

    /* without consent an address is never used, opted out or not */
    read_ok("acme",
            "{'emails':[{'address':'a@example.com','consent':false},"
            "{'address':'b@example.com','consent':true}]}",
            &f);
    const char *jb2[] = {f.emails[1].id};
    cr_assert_eq(outreach_facts_pick(&f, EMAIL, NULL, 0, jb2, 1), &f.emails[1]);
    cr_assert_null(outreach_facts_pick(&f, EMAIL, jb2, 1, NULL, 0));
}

Test(facts, pick_sms)
{
    outreach_facts f;
    read_ok("acme", FULL, &f);
    const char *p1[] = {f.phones[0].id}, *p3[] = {f.phones[2].id};
    cr_assert_eq(outreach_facts_pick(&f, SMS, NULL, 0, p1, 1), &f.phones[0],
                 "the only sms number opted out: returned so the opt-out is named");
    cr_assert_null(outreach_facts_pick(&f, SMS, p1, 1, NULL, 0),
                   "neither the voice-only mobile nor the landline may get texts");
    cr_assert_eq(outreach_facts_pick(&f, SMS, p3, 1, NULL, 0), &f.phones[0]);

    read_ok("acme",
            "{'phones':[{'number':'+15550000001','type':'mobile','sms_consent':true},"
            "{'number':'+15550000002','type':'landline','sms_consent':true},"
            "{'number':'+15550000003','type':'mobile','sms_consent':true}]}",
            &f);
    const char *first[] = {f.phones[0].id}, *both[] = {f.phones[2].id, f.phones[0].id};
    cr_assert_eq(outreach_facts_pick(&f, SMS, NULL, 0, first, 1), &f.phones[2],
                 "the landline is skipped");
    cr_assert_eq(outreach_facts_pick(&f, SMS, first, 1, NULL, 0), &f.phones[2]);
    cr_assert_eq(outreach_facts_pick(&f, SMS, NULL, 0, both, 2), &f.phones[0]);
    cr_assert_eq(outreach_facts_pick(&f, SMS, first, 1, both, 2), &f.phones[2]);
    cr_assert_null(outreach_facts_pick(&f, SMS, both, 2, NULL, 0));
}

Test(facts, pick_voice)
{
    outreach_facts f;
    read_ok("acme", FULL, &f);
    /* phones: [0] mobile sms only, [1] mobile voice consent, [2] landline */
    const char *m[] = {f.phones[1].id}, *l[] = {f.phones[2].id};
    const char *ml[] = {f.phones[1].id, f.phones[2].id}, *lm[] = {f.phones[2].id, f.phones[1].id};
    cr_assert_eq(outreach_facts_pick(&f, VOICE, m, 1, NULL, 0), &f.phones[2],
                 "the mobile bad: the landline");
    cr_assert_eq(outreach_facts_pick(&f, VOICE, NULL, 0, l, 1), &f.phones[1]);
    cr_assert_eq(outreach_facts_pick(&f, VOICE, NULL, 0, m, 1), &f.phones[2],
                 "the mobile opted out: the landline, which is not");
    cr_assert_eq(outreach_facts_pick(&f, VOICE, NULL, 0, lm, 2), &f.phones[1],
                 "both opted out: the first choice, so the opt-out is named");
    cr_assert_eq(outreach_facts_pick(&f, VOICE, l, 1, m, 1), &f.phones[1],
                 "landline bad, mobile opted out: the mobile");
    cr_assert_eq(outreach_facts_pick(&f, VOICE, m, 1, l, 1), &f.phones[2],
                 "mobile bad, landline opted out: the landline");
    cr_assert_null(outreach_facts_pick(&f, VOICE, ml, 2, NULL, 0),
                   "a mobile without voice consent is never called");

    read_ok("acme",
            "{'phones':[{'number':'+15550000001','type':'mobile','sms_consent':true,"
            "'voice_consent':false}]}",
            &f);
    cr_assert_null(outreach_facts_pick(&f, VOICE, NULL, 0, NULL, 0));

    read_ok("acme",
            "{'phones':[{'number':'+15550000001','type':'landline'},"
            "{'number':'+15550000002','type':'landline'}]}",
            &f);
    const char *l1[] = {f.phones[0].id};
    cr_assert_eq(outreach_facts_pick(&f, VOICE, NULL, 0, NULL, 0), &f.phones[0]);
    cr_assert_eq(outreach_facts_pick(&f, VOICE, NULL, 0, l1, 1), &f.phones[1]);
    cr_assert_eq(outreach_facts_pick(&f, VOICE, l1, 1, NULL, 0), &f.phones[1]);
}

Test(facts, pick_letter_needs_an_address)
{
    outreach_facts f;
    read_ok("acme", "{'address':{'line1':'12 Oak St','country':'US'}}", &f);
    const char *any[] = {"postal"};
    const outreach_contact_point *p = outreach_facts_pick(&f, LETTER, any, 1, any, 1);
    cr_assert_not_null(p);
    cr_assert_str_eq(p->address, "");
    read_ok("acme", "{'address':{'city':'Springfield','state':'IL','country':'US'}}", &f);
    cr_assert_null(outreach_facts_pick(&f, LETTER, NULL, 0, NULL, 0), "no street line");
    read_ok("acme", NULL, &f);
    cr_assert_null(outreach_facts_pick(&f, LETTER, NULL, 0, NULL, 0));
}

Test(facts, pick_none_on_empty_facts)
{
    outreach_facts f;
    read_ok("acme", NULL, &f);
    cr_assert_null(outreach_facts_pick(&f, EMAIL, NULL, 0, NULL, 0));
    cr_assert_null(outreach_facts_pick(&f, SMS, NULL, 0, NULL, 0));
    cr_assert_null(outreach_facts_pick(&f, VOICE, NULL, 0, NULL, 0));
    cr_assert_null(outreach_facts_pick(&f, LETTER, NULL, 0, NULL, 0));
}
