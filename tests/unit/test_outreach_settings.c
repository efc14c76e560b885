/* Unit tests of services/outreach/settings.c: the shipped deploy/outreach/tenants.json (the
 * defaults, the uniform tenant inheriting the names), settings written to a temporary folder
 * that links the shipped cadences and templates (paths in a settings file are relative to its
 * folder), every load error naming the tenant and field, and the link patterns. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings.h"

#define DEPLOY ARR_SOURCE_DIR "/deploy/outreach"
#define SHIPPED DEPLOY "/tenants.json"

/* ------------------------------------------------------------------ helpers */

/* A temporary folder with cadences/ and templates/ linked to the shipped ones. */
static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/arr-settings-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    char link[PATH_MAX];
    snprintf(link, sizeof link, "%s/cadences", dir);
    cr_assert_eq(symlink(DEPLOY "/cadences", link), 0, "%s", strerror(errno));
    snprintf(link, sizeof link, "%s/templates", dir);
    cr_assert_eq(symlink(DEPLOY "/templates", link), 0, "%s", strerror(errno));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (dir[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(settings, .init = setup, .fini = teardown);

/* Writes text (' for ") to dir/name; returns the path in a static buffer. */
static const char *put(const char *name, const char *text)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    for (const char *q = text; *q; q++)
        fputc(*q == '\'' ? '"' : *q, f);
    cr_assert_eq(fclose(f), 0);
    return path;
}

static outreach_settings *load_ok(const char *path)
{
    outreach_settings *s = NULL;
    char why[512] = "";
    arr_err e = outreach_settings_load(path, &s, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s", why);
    cr_assert_not_null(s);
    return s;
}

static void fails_with(const char *text, arr_err want_err, const char *want)
{
    const char *path = put("tenants.json", text);
    outreach_settings *s = (outreach_settings *)0x1;
    char why[512] = "";
    arr_err e = outreach_settings_load(path, &s, why, sizeof why);
    cr_assert_eq(e, want_err, "want %d for %s, got %d (%s)", want_err, text, e, why);
    cr_assert_not_null(strstr(why, want), "why \"%s\" lacks \"%s\"", why, want);
    cr_assert_eq(s, (outreach_settings *)0x1, "out written on failure");
}

static void fails(const char *text, const char *want)
{
    fails_with(text, ARR_ECONFIG, want);
}

#define HEAD "{'format':'arrears-outreach-tenants-1','tenants':{"
/* A complete "*" entry; a test appends more tenants and closes with "}}". */
#define STAR                                                                                       \
    "'*':{'cadence':'cadences/default-1.json','templates':'templates/default-1.json',"             \
    "'creditor':'Cred','collector':'Coll','collector_address':'1 Main St',"                        \
    "'agent_phone':'+1 555 0100','payment_link':'https://p.example/{tenant}/{account}',"           \
    "'opt_out_link':'https://p.example/o/{account}','dispute_link':'http://p.example/d'}"
#define TENANTS(x) HEAD STAR x "}}"

/* ------------------------------------------------------------------ the shipped file */

Test(settings, shipped_defaults)
{
    outreach_settings *s = load_ok(SHIPPED);
    const outreach_tenant *d = outreach_settings_tenant(s, "*");
    cr_assert_not_null(d);
    cr_assert_str_eq(d->tenant, "*");
    cr_assert_str_eq(outreach_cadence_policy_version(d->cadence), "cadence-default-1");
    cr_assert_str_eq(outreach_template_set_version(d->templates), "default-1");
    cr_assert_str_eq(d->creditor, "Riverside Utilities");
    cr_assert_str_eq(d->collector, "Arrears Collections LLC");
    cr_assert_str_eq(d->collector_address, "100 Main Street, Springfield, IL 62701");
    cr_assert_str_eq(d->agent_phone, "+1 (555) 010-0100");
    cr_assert_str_eq(d->payment_link, "https://pay.arrears.example/{tenant}/{account}");
    cr_assert_str_eq(d->opt_out_link, "https://pay.arrears.example/{tenant}/{account}/opt-out");
    cr_assert_str_eq(d->dispute_link, "https://pay.arrears.example/{tenant}/{account}/dispute");
    cr_assert_eq(outreach_settings_tenant(s, "acme"), d, "an unnamed tenant gets the defaults");
    cr_assert_eq(outreach_settings_tenant(s, ""), d);
    cr_assert_eq(outreach_settings_tenant(s, "Uniform"), d, "names are case-sensitive");
    outreach_settings_free(s);
}

Test(settings, shipped_uniform_inherits_the_names)
{
    outreach_settings *s = load_ok(SHIPPED);
    const outreach_tenant *d = outreach_settings_tenant(s, "*");
    const outreach_tenant *u = outreach_settings_tenant(s, "uniform");
    cr_assert_not_null(u);
    cr_assert_neq(u, d);
    cr_assert_str_eq(u->tenant, "uniform");
    cr_assert_str_eq(outreach_cadence_policy_version(u->cadence), "cadence-uniform-1");
    cr_assert_neq(u->cadence, d->cadence);
    cr_assert_eq(u->templates, d->templates, "the template file is loaded once");
    cr_assert_str_eq(u->creditor, "Riverside Utilities");
    cr_assert_str_eq(u->collector, "Arrears Collections LLC");
    cr_assert_str_eq(u->collector_address, "100 Main Street, Springfield, IL 62701");
    cr_assert_str_eq(u->agent_phone, "+1 (555) 010-0100");
    cr_assert_str_eq(u->payment_link, "https://pay.arrears.example/{tenant}/{account}");
    cr_assert_str_eq(u->opt_out_link, "https://pay.arrears.example/{tenant}/{account}/opt-out");
    cr_assert_str_eq(u->dispute_link, "https://pay.arrears.example/{tenant}/{account}/dispute");
    outreach_settings_free(s);
}

Test(settings, free_null)
{
    outreach_settings_free(NULL);
}

/* ------------------------------------------------------------------ files of our own */

Test(settings, override_some_fields_and_share_files)
{
    outreach_settings *s = load_ok(
        put("tenants.json",
            TENANTS(",'_note':{'ignored':1},"
                    "'acme':{'_why':'a comment','creditor':'Acme Power',"
                    "'payment_link':'https://acme.example/pay?a={account}'},"
                    "'globex':{'cadence':'cadences/uniform-1.json','agent_phone':'+1 555 0199'},"
                    "'initech':{'cadence':'cadences/uniform-1.json','templates':'templates/"
                    "default-1.json'}")));
    const outreach_tenant *d = outreach_settings_tenant(s, "*");
    const outreach_tenant *a = outreach_settings_tenant(s, "acme");
    const outreach_tenant *g = outreach_settings_tenant(s, "globex");
    const outreach_tenant *i = outreach_settings_tenant(s, "initech");
    cr_assert_str_eq(a->tenant, "acme");
    cr_assert_str_eq(a->creditor, "Acme Power");
    cr_assert_str_eq(a->payment_link, "https://acme.example/pay?a={account}");
    cr_assert_str_eq(a->collector, "Coll");
    cr_assert_str_eq(a->collector_address, "1 Main St");
    cr_assert_str_eq(a->agent_phone, "+1 555 0100");
    cr_assert_str_eq(a->opt_out_link, "https://p.example/o/{account}");
    cr_assert_str_eq(a->dispute_link, "http://p.example/d");
    cr_assert_eq(a->cadence, d->cadence, "one policy per file");
    cr_assert_eq(a->templates, d->templates);
    cr_assert_str_eq(g->agent_phone, "+1 555 0199");
    cr_assert_str_eq(g->creditor, "Cred");
    cr_assert_str_eq(outreach_cadence_policy_version(g->cadence), "cadence-uniform-1");
    cr_assert_eq(i->cadence, g->cadence, "the same file named twice is one policy");
    cr_assert_eq(i->templates, d->templates);
    cr_assert_eq(outreach_settings_tenant(s, "_note"), d, "a comment is not a tenant");
    cr_assert_eq(outreach_settings_tenant(s, "umbrella"), d);
    outreach_settings_free(s);
}

Test(settings, paths_relative_to_a_settings_file_without_folder)
{
    put("tenants.json", TENANTS(""));
    char cwd[PATH_MAX];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir(dir), 0);
    outreach_settings *s = load_ok("tenants.json");
    cr_assert_eq(chdir(cwd), 0);
    cr_assert_str_eq(outreach_settings_tenant(s, "x")->creditor, "Cred");
    outreach_settings_free(s);
}

Test(settings, comment_keys_are_not_checked)
{
    /* "_..." keys are comments, even when they end in _link or hold no string */
    outreach_settings *s = load_ok(
        put("tenants.json",
            "{'_note':'x','format':'arrears-outreach-tenants-1','tenants':{" STAR
            ",'acme':{'_payment_link':'none, see the contract','_opt_out_link':5,'_n':[1]}}}"));
    cr_assert_str_eq(outreach_settings_tenant(s, "acme")->payment_link,
                     "https://p.example/{tenant}/{account}");
    outreach_settings_free(s);
}

Test(settings, load_errors_name_tenant_and_field)
{
    fails(TENANTS(",'acme':{'colour':'red'}"), "tenants.acme.colour: unknown field");
    fails(TENANTS(",'acme':{'creditor':5}"), "tenants.acme.creditor: must be a string");
    fails(TENANTS(",'acme':{'creditor':null}"), "tenants.acme.creditor: must be a string");
    fails(TENANTS(",'acme':{'cadence':['cadences/default-1.json']}"),
          "tenants.acme.cadence: must be a string");
    fails(TENANTS(",'acme':{'dispute_link':true}"), "tenants.acme.dispute_link: must be a string");
    fails(TENANTS(",'acme':{'payment_link':'ftp://p.example/{account}'}"),
          "tenants.acme.payment_link: must be an http(s) URL");
    fails(TENANTS(",'acme':{'opt_out_link':'javascript:alert(1)'}"),
          "tenants.acme.opt_out_link: must be an http(s) URL");
    fails(TENANTS(",'acme':{'dispute_link':'p.example/d'}"),
          "tenants.acme.dispute_link: must be an http(s) URL");
    fails(TENANTS(",'acme':{'payment_link':'https:/p.example'}"),
          "tenants.acme.payment_link: must be an http(s) URL");
    fails(TENANTS(",'acme':'uniform'"), "tenants.acme: must be an object");
    fails(HEAD "'*':{'cadence':'cadences/default-1.json','templates':'templates/default-1.json',"
               "'creditor':'C','collector':'C','collector_address':'A','agent_phone':'P',"
               "'payment_link':'https://p','opt_out_link':'https://o','dispute_link':'ftp://d'}}}",
          "tenants.*.dispute_link: must be an http(s) URL");
    fails(HEAD "'*':{'cadence':'cadences/default-1.json','templates':'templates/default-1.json',"
               "'collector':'C','collector_address':'A','agent_phone':'P',"
               "'payment_link':'https://p','opt_out_link':'https://o','dispute_link':'https://d'}"
               "}}",
          "tenants.*.creditor: required");
    fails(HEAD "'*':{'templates':'templates/default-1.json',"
               "'creditor':'C','collector':'C','collector_address':'A','agent_phone':'P',"
               "'payment_link':'https://p','opt_out_link':'https://o','dispute_link':'https://d'}"
               "}}",
          "tenants.*: cadence and templates are required");
}

Test(settings, document_errors)
{
    fails("{'format':'arrears-outreach-tenants-1','tenants':{'acme':{}}}",
          "tenants.\"*\" is required");
    fails("{'format':'arrears-outreach-tenants-1'}", "tenants.\"*\" is required");
    fails("{'format':'arrears-outreach-tenants-1','tenants':[]}", "tenants.\"*\" is required");
    fails("{'format':'arrears-outreach-tenants-1','tenants':{'*':'defaults'}}",
          "tenants.\"*\" is required");
    fails("{'format':'arrears-outreach-tenants-2','tenants':{" STAR "}}",
          "format must be arrears-outreach-tenants-1");
    fails("{'tenants':{" STAR "}}", "format must be arrears-outreach-tenants-1");
    fails("{'format':1,'tenants':{" STAR "}}", "format must be arrears-outreach-tenants-1");
    fails("{'format':'arrears-outreach-tenants-1','tenants':{" STAR "},'tenant':{}}",
          "tenant: unknown field");
    fails("{'format':'arrears-outreach-tenants-1',", "line 1");
    fails("{'format':'arrears-outreach-tenants-1','format':'arrears-outreach-tenants-1',"
          "'tenants':{" STAR "}}",
          "duplicate");
    fails(TENANTS(",'acme':{'creditor':'A','creditor':'B'}"), "duplicate");
}

Test(settings, unreadable_files)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/none.json", dir);
    outreach_settings *s = (outreach_settings *)0x1;
    char why[512] = "";
    arr_err e = outreach_settings_load(path, &s, why, sizeof why);
    cr_assert_eq(e, ARR_EIO, "got %d (%s)", e, why);
    cr_assert_not_null(strstr(why, path), "%s", why);
    cr_assert_eq(s, (outreach_settings *)0x1);

    fails_with(TENANTS(",'acme':{'cadence':'cadences/none-1.json'}"), ARR_EIO,
               "tenants.acme.cadence");
    fails_with(TENANTS(",'acme':{'cadence':'cadences/none-1.json'}"), ARR_EIO,
               "cadences/none-1.json");
    fails_with(TENANTS(",'acme':{'templates':'templates/none-1.json'}"), ARR_EIO,
               "tenants.acme.templates");
}

/* A cadence naming a template the tenant's template set lacks. */
#define TINY_CADENCE(tpl, channel)                                                                 \
    "{'format':'arrears-cadence-1','version':'tiny-1',"                                            \
    "'unit_costs_cents':{'email':1,'sms':3,'voice':40,'letter':75,'agent_minute':90},"             \
    "'weekly_caps':{'email':3,'sms':2,'voice':3,'letter':1},"                                      \
    "'strategies':{'*':{'steps':[{'id':'a','offset_days':0,'from':'placement',"                    \
    "'channel':'" channel "','template':'" tpl "'}]}}}"

Test(settings, cadence_template_missing_from_the_set)
{
    put("tiny-cadence.json", TINY_CADENCE("reminder_email_9", "email"));
    fails(TENANTS(",'acme':{'cadence':'tiny-cadence.json'}"), "tenants.acme.cadence");
    fails(TENANTS(",'acme':{'cadence':'tiny-cadence.json'}"), "reminder_email_9");
    /* the template exists but on another channel */
    put("tiny-cadence.json", TINY_CADENCE("reminder_email_1", "sms"));
    fails(TENANTS(",'acme':{'cadence':'tiny-cadence.json'}"), "tenants.acme.cadence");
    /* and a valid one loads */
    put("tiny-cadence.json", TINY_CADENCE("reminder_email_1", "email"));
    outreach_settings *s =
        load_ok(put("tenants.json", TENANTS(",'acme':{'cadence':'tiny-cadence.json'}")));
    cr_assert_str_eq(outreach_cadence_policy_version(outreach_settings_tenant(s, "acme")->cadence),
                     "tiny-1");
    outreach_settings_free(s);
}

Test(settings, shared_cadence_checked_against_each_template_set)
{
    /* default-1 is valid with the shipped templates ("*") but not with acme's tiny set */
    put("tiny-templates.json", "{'version':'tiny-1','templates':{'t':{"
                               "'en':{'channel':'email','subject':'s','text':'Hello'},"
                               "'es':{'channel':'email','subject':'s','text':'Hola'}}}}");
    put("tiny-cadence.json", TINY_CADENCE("t", "email"));
    outreach_settings *s = load_ok(
        put("tenants.json",
            TENANTS(",'acme':{'cadence':'tiny-cadence.json','templates':'tiny-templates.json'}")));
    cr_assert_str_eq(outreach_template_set_version(outreach_settings_tenant(s, "acme")->templates),
                     "tiny-1");
    outreach_settings_free(s);
    fails(TENANTS(",'acme':{'templates':'tiny-templates.json'}"), "tenants.acme.cadence");
    /* and the other way round: a cached cadence checked against the later tenant's set */
    fails(TENANTS(",'acme':{'cadence':'tiny-cadence.json','templates':'tiny-templates.json'},"
                  "'globex':{'cadence':'tiny-cadence.json'}"),
          "tenants.globex.cadence");
}

Test(settings, bad_template_file_names_tenant)
{
    put("tiny-templates.json", "{'version':'tiny-1','templates':{'t':{}},'extra':1}");
    fails(TENANTS(",'acme':{'templates':'tiny-templates.json'}"), "tenants.acme.templates");
}

Test(settings, tenant_limits)
{
    /* 64 tenants with "*" load; 65 do not */
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text, "%s", HEAD STAR);
    for (int i = 1; i < OUTREACH_SETTINGS_TENANTS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, ",'t%d':{}", i);
    snprintf(text + n, sizeof text - n, "}}");
    outreach_settings *s = load_ok(put("tenants.json", text));
    cr_assert_str_eq(outreach_settings_tenant(s, "t63")->tenant, "t63");
    outreach_settings_free(s);
    snprintf(text + n, sizeof text - n, ",'t64':{}}}");
    fails(text, "more than 64 tenants");

    char name[66];
    memset(name, 'n', 65);
    name[65] = '\0';
    snprintf(text, sizeof text, TENANTS(",'%s':{}"), name);
    fails(text, "tenant name too long");
    name[64] = '\0';
    snprintf(text, sizeof text, TENANTS(",'%s':{}"), name);
    s = load_ok(put("tenants.json", text));
    cr_assert_str_eq(outreach_settings_tenant(s, name)->tenant, name);
    outreach_settings_free(s);
}

/* ------------------------------------------------------------------ links */

static void link_is(const char *pattern, const char *tenant, const char *account, const char *want)
{
    char out[256];
    memset(out, 'X', sizeof out);
    arr_err e = outreach_settings_link(pattern, tenant, account, out, sizeof out);
    cr_assert_eq(e, ARR_OK, "%s", pattern);
    cr_assert_str_eq(out, want);
}

Test(settings, link_replaces_and_encodes)
{
    link_is("https://p.example/{tenant}/{account}", "acme", "A/B c?",
            "https://p.example/acme/A%2FB%20c%3F");
    link_is("https://p.example/{tenant}/{account}/opt-out", "north-east_1", "AZaz09-_.~",
            "https://p.example/north-east_1/AZaz09-_.~/opt-out");
    link_is("https://p.example/?t={tenant}&a={account}&b={account}", "a&b", "1+2=3#",
            "https://p.example/?t=a%26b&a=1%2B2%3D3%23&b=1%2B2%3D3%23");
    link_is("https://p.example/{account}", "acme", "é%", "https://p.example/%C3%A9%25");
    link_is("https://p.example/{foo}/{tenant", "acme", "1", "https://p.example/{foo}/{tenant");
    link_is("https://p.example/", "acme", "1", "https://p.example/");
    link_is("{account}", "acme", "", "");
    link_is("", "acme", "1", "");
}

Test(settings, link_out_too_small)
{
    /* "https://p/acme/A%2FB" is 20 bytes: 21 fit it, 20 do not */
    const char *pat = "https://p/{tenant}/{account}";
    char out[32];
    cr_assert_eq(outreach_settings_link(pat, "acme", "A/B", out, 21), ARR_OK);
    cr_assert_str_eq(out, "https://p/acme/A%2FB");
    for (size_t len = 0; len <= 20; len++)
        cr_assert_eq(outreach_settings_link(pat, "acme", "A/B", out, len), ARR_ELIMIT, "len %zu",
                     len);
    /* a literal tail */
    cr_assert_eq(outreach_settings_link("https://p/x", "a", "b", out, 12), ARR_OK);
    cr_assert_str_eq(out, "https://p/x");
    cr_assert_eq(outreach_settings_link("https://p/x", "a", "b", out, 11), ARR_ELIMIT);
    cr_assert_eq(outreach_settings_link("", "a", "b", out, 1), ARR_OK);
    cr_assert_str_eq(out, "");
    cr_assert_eq(outreach_settings_link("", "a", "b", out, 0), ARR_ELIMIT);
    /* a plain value at the end: "https://p/ab" is 12 bytes */
    cr_assert_eq(outreach_settings_link("https://p/{account}", "a", "ab", out, 13), ARR_OK);
    cr_assert_eq(outreach_settings_link("https://p/{account}", "a", "ab", out, 12), ARR_ELIMIT);
}
