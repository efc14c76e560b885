/* Unit tests of services/outreach/template.c: the shipped template set, loading rules,
 * rendering (values, escaping, the opt-out line, the Regulation F 1006.18(e) disclosures, the
 * 1006.34 validation notice, language fallback), SMS encoding and segments, output caps.
 * Expected texts and lengths are worked out by hand in the comments. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "template.h"

#define SHIPPED ARR_SOURCE_DIR "/deploy/outreach/templates/default-1.json"

static const char *const IDS[] = {
    "reminder_email_1",
    "reminder_email_2",
    "reminder_sms_1",
    "reminder_sms_2",
    "final_email",
    "voice_reminder",
    "validation_notice_email",
    "opt_out_confirmation_sms",
    "cease_final_notice_email",
};
#define N_IDS (sizeof IDS / sizeof IDS[0])
static const char *const LANGS[] = {"en", "es"};

#define EN_FIRST                                                                                   \
    "This is a communication from a debt collector attempting to collect a debt; any "             \
    "information obtained will be used for that purpose."
#define EN_LATER "This communication is from a debt collector."
#define ES_FIRST                                                                                   \
    "Este mensaje es de un cobrador de deudas que intenta cobrar una deuda; usaremos para ese "    \
    "fin cualquier dato que obtengamos."
#define ES_LATER "Este mensaje proviene de un cobrador de deudas."

static outreach_template_set *shipped(void)
{
    outreach_template_set *s = NULL;
    char why[512] = "";
    arr_err e = outreach_template_set_load(SHIPPED, &s, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s", why);
    cr_assert_not_null(s);
    return s;
}

/* JSON written with ' for " so the tests stay readable. */
static char *dq(const char *text)
{
    char *s = strdup(text);
    cr_assert_not_null(s);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

static arr_err parse(const char *text, outreach_template_set **out, char *why, size_t whylen)
{
    char *s = dq(text);
    arr_err e = outreach_template_set_parse(s, strlen(s), out, why, whylen);
    free(s);
    return e;
}

static outreach_template_set *parse_ok(const char *text)
{
    outreach_template_set *s = NULL;
    char why[512] = "";
    arr_err e = parse(text, &s, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s", why);
    return s;
}

static void parse_fails(const char *text, const char *want_in_why)
{
    outreach_template_set *s = (outreach_template_set *)0x1;
    char why[512] = "";
    arr_err e = parse(text, &s, why, sizeof why);
    cr_assert_eq(e, ARR_ECONFIG, "want ECONFIG for %s, got %d (%s)", text, e, why);
    cr_assert_not_null(strstr(why, want_in_why), "why \"%s\" lacks \"%s\"", why, want_in_why);
    cr_assert_eq(s, (outreach_template_set *)0x1, "out written on failure");
}

/* A one-template set: the same variant in en and es. */
static char *one(const char *variant)
{
    static const char fmt[] = "{'version':'t-1','templates':{'t':{'en':%s,'es':%s}}}";
    size_t n = sizeof fmt + 2 * strlen(variant);
    char *s = malloc(n);
    cr_assert_not_null(s);
    snprintf(s, n, fmt, variant, variant);
    return s;
}

static outreach_template_set *one_ok(const char *variant)
{
    char *t = one(variant);
    outreach_template_set *s = parse_ok(t);
    free(t);
    return s;
}

static void one_fails(const char *variant, const char *want_in_why)
{
    char *t = one(variant);
    parse_fails(t, want_in_why);
    free(t);
}

static outreach_template_vars full_vars(void)
{
    outreach_template_vars v = {
        .first_name = "Ana",
        .consumer_name = "Ana Pérez",
        .consumer_address = "12 Oak St, Springfield, IL 62701",
        .balance = {"USD", 123456},
        .due_date = "2026-03-05",
        .payment_link = "https://pay.example.com/r/AB12",
        .opt_out_link = "https://pay.example.com/stop?r=AB12&c=e",
        .dispute_link = "https://pay.example.com/dispute/AB12",
        .reference = "ACCT-778899",
        .creditor = "Acme Water",
        .collector = "Prairie Recovery LLC",
        .collector_address = "PO Box 100, Peoria, IL 61601",
        .agent_phone = "1-800-555-0100",
        .validation_end_date = "2026-04-14",
        .itemization_date = "2026-01-31",
        .itemization_amount = {"USD", 120000},
        .itemization_interest = {"USD", 1234},
        .itemization_fees = {"USD", 2500},
        .itemization_payments = {"USD", 5000},
        .itemization_credits = {"USD", 1078},
    };
    return v;
}

static void render_ok(const outreach_template_set *s, const char *id, const char *lang,
                      const outreach_template_vars *v, int third_party, int first,
                      outreach_rendered *r)
{
    char why[512] = "";
    arr_err e = outreach_template_render(s, id, lang, v, third_party, first, r, why, sizeof why);
    cr_assert_eq(e, ARR_OK, "%s/%s: %s", id, lang ? lang : "(null)", why);
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ------------------------------------------------------------------ the shipped set */

Test(outreach_template_shipped, loads_with_every_template_and_kind)
{
    outreach_template_set *s = shipped();
    cr_assert_str_eq(outreach_template_set_version(s), "default-1");
    cr_assert_eq(outreach_template_set_sms_max_segments(s), 3);
    static const outreach_template_channel ch[N_IDS] = {
        OUTREACH_TEMPLATE_CHANNEL_EMAIL, OUTREACH_TEMPLATE_CHANNEL_EMAIL,
        OUTREACH_TEMPLATE_CHANNEL_SMS,   OUTREACH_TEMPLATE_CHANNEL_SMS,
        OUTREACH_TEMPLATE_CHANNEL_EMAIL, OUTREACH_TEMPLATE_CHANNEL_VOICE,
        OUTREACH_TEMPLATE_CHANNEL_EMAIL, OUTREACH_TEMPLATE_CHANNEL_SMS,
        OUTREACH_TEMPLATE_CHANNEL_EMAIL,
    };
    static const outreach_template_kind kind[N_IDS] = {
        OUTREACH_TEMPLATE_KIND_REMINDER,          OUTREACH_TEMPLATE_KIND_REMINDER,
        OUTREACH_TEMPLATE_KIND_REMINDER,          OUTREACH_TEMPLATE_KIND_REMINDER,
        OUTREACH_TEMPLATE_KIND_REMINDER,          OUTREACH_TEMPLATE_KIND_REMINDER,
        OUTREACH_TEMPLATE_KIND_VALIDATION_NOTICE, OUTREACH_TEMPLATE_KIND_OPT_OUT_CONFIRMATION,
        OUTREACH_TEMPLATE_KIND_CEASE_NOTICE,
    };
    for (size_t i = 0; i < N_IDS; i++) {
        outreach_template_channel c = 0;
        outreach_template_kind k = 0;
        cr_assert_eq(outreach_template_info(s, IDS[i], &c, &k), ARR_OK, "%s", IDS[i]);
        cr_expect_eq(c, ch[i], "%s channel %s", IDS[i], outreach_template_channel_name(c));
        cr_expect_eq(k, kind[i], "%s kind %s", IDS[i], outreach_template_kind_name(k));
    }
    cr_expect_eq(outreach_template_info(s, "no_such", NULL, NULL), ARR_ENOTFOUND);
    outreach_template_set_free(s);
}

Test(outreach_template_shipped, every_template_renders_in_en_and_es_with_all_variables)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    for (size_t i = 0; i < N_IDS; i++)
        for (int l = 0; l < 2; l++)
            for (int tp = 0; tp < 2; tp++) {
                outreach_rendered r;
                render_ok(s, IDS[i], LANGS[l], &v, tp, 1, &r);
                cr_expect_str_eq(r.lang, LANGS[l]);
                cr_expect_eq(r.lang_fallback, 0);
                cr_expect_str_eq(r.version, "default-1");
                cr_expect_str_eq(r.template_id, IDS[i]);
                cr_expect_gt(r.text.len, 0, "%s/%s", IDS[i], LANGS[l]);
                /* Every placeholder was replaced. */
                cr_expect_null(strstr(r.text.data, "{{"), "%s/%s text", IDS[i], LANGS[l]);
                if (r.has_subject)
                    cr_expect_null(strstr(r.subject.data, "{{"), "%s subject", IDS[i]);
                if (r.has_html)
                    cr_expect_null(strstr(r.html.data, "{{"), "%s html", IDS[i]);
                cr_expect_eq(r.has_subject, r.channel == OUTREACH_TEMPLATE_CHANNEL_EMAIL);
                cr_expect_eq(r.has_html, r.channel == OUTREACH_TEMPLATE_CHANNEL_EMAIL);
                /* The reference is in every message but the opt-out confirmation. */
                if (r.kind != OUTREACH_TEMPLATE_KIND_OPT_OUT_CONFIRMATION)
                    cr_expect_not_null(strstr(r.text.data, "ACCT-778899"), "%s/%s", IDS[i],
                                       LANGS[l]);
                cr_expect_not_null(strstr(r.text.data, "Acme Water"), "%s/%s", IDS[i], LANGS[l]);
                if (r.channel == OUTREACH_TEMPLATE_CHANNEL_SMS)
                    cr_expect_neq(r.sms.encoding, OUTREACH_TEMPLATE_SMS_NONE);
                else
                    cr_expect_eq(r.sms.encoding, OUTREACH_TEMPLATE_SMS_NONE);
                outreach_rendered_free(&r);
                cr_expect_null(r.text.data);
            }
    outreach_template_set_free(s);
}

Test(outreach_template_shipped, reminder_email_1_values_formatted_per_language)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    outreach_rendered r;
    render_ok(s, "reminder_email_1", "en", &v, 0, 0, &r);
    cr_expect_str_eq(r.subject.data, "Your Acme Water balance of $1,234.56");
    cr_expect_not_null(strstr(r.text.data, "Hello Ana,\n"));
    cr_expect_not_null(
        strstr(r.text.data, "your balance of $1,234.56 with Acme Water was due on March 5, 2026."));
    cr_expect_not_null(strstr(r.text.data, "online: https://pay.example.com/r/AB12\n"));
    cr_expect_not_null(strstr(r.html.data, "<a href=\"https://pay.example.com/r/AB12\">"));
    outreach_rendered_free(&r);

    render_ok(s, "reminder_email_1", "es", &v, 0, 0, &r);
    cr_expect_str_eq(r.subject.data, "Su saldo con Acme Water: $1,234.56");
    cr_expect_not_null(strstr(r.text.data, "Hola Ana:\n"));
    cr_expect_not_null(strstr(r.text.data, "su saldo de $1,234.56 con Acme Water venció el 5 de "
                                           "marzo de 2026."));
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

Test(outreach_template_shipped, reminder_sms_1_exact_text_and_length)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    outreach_rendered r;
    /* 12 "Acme Water: " + 8 "Hi Ana, " + 16 "your balance of " + 9 "$1,234.56" + 9 " was due "
     * + 13 "March 5, 2026" + 9 ". Pay at " + 30 link + 5 " Ref " + 11 "ACCT-778899" + 1 "\n"
     * + 22 "Reply STOP to opt out." = 145 septets: one segment. */
    render_ok(s, "reminder_sms_1", "en", &v, 0, 0, &r);
    cr_expect_str_eq(r.text.data, "Acme Water: Hi Ana, your balance of $1,234.56 was due March "
                                  "5, 2026. Pay at https://pay.example.com/r/AB12 Ref "
                                  "ACCT-778899\nReply STOP to opt out.");
    cr_expect_eq(r.sms.encoding, OUTREACH_TEMPLATE_SMS_GSM7);
    cr_expect_eq(r.sms.units, 145);
    cr_expect_eq(r.sms.segments, 1);
    cr_expect_eq(r.over_max_segments, 0);
    outreach_rendered_free(&r);

    /* Third party, first message: the 131-character disclosure and "\n" in front: 145 + 132 =
     * 277 septets, over 160, at most 2 x 153 = 306: two segments. */
    render_ok(s, "reminder_sms_1", "en", &v, 1, 1, &r);
    cr_expect(starts_with(r.text.data, EN_FIRST "\nAcme Water: Hi Ana,"));
    cr_expect_eq(strlen(EN_FIRST), 131);
    cr_expect_eq(r.sms.units, 277);
    cr_expect_eq(r.sms.segments, 2);
    outreach_rendered_free(&r);

    /* es: 12 + 10 "Hola Ana, " + 12 "su saldo de " + 9 + 26 " sigue pendiente desde el "
     * + 18 "5 de marzo de 2026" + 11 ". Pague en " + 30 + 5 + 11 + 1 + 28 "Responda STOP para
     * cancelar." = 173 septets, all GSM-7: two segments. */
    render_ok(s, "reminder_sms_1", "es", &v, 0, 0, &r);
    cr_expect_str_eq(r.text.data, "Acme Water: Hola Ana, su saldo de $1,234.56 sigue pendiente "
                                  "desde el 5 de marzo de 2026. Pague en "
                                  "https://pay.example.com/r/AB12 Ref ACCT-778899\nResponda STOP "
                                  "para cancelar.");
    cr_expect_eq(r.sms.encoding, OUTREACH_TEMPLATE_SMS_GSM7);
    cr_expect_eq(r.sms.units, 173);
    cr_expect_eq(r.sms.segments, 2);
    outreach_rendered_free(&r);

    /* "Begoña" (n tilde is GSM-7 basic): 173 - 3 + 6 = 176 septets, GSM-7, 2 segments.
     * "Ángela" (A acute is not): the same 176 characters as UCS-2 units, over 2 x 67 = 134:
     * 3 segments, still within the default maximum of 3. */
    v.first_name = "Begoña";
    render_ok(s, "reminder_sms_1", "es", &v, 0, 0, &r);
    cr_expect_eq(r.sms.encoding, OUTREACH_TEMPLATE_SMS_GSM7);
    cr_expect_eq(r.sms.units, 176);
    cr_expect_eq(r.sms.segments, 2);
    outreach_rendered_free(&r);
    v.first_name = "Ángela";
    render_ok(s, "reminder_sms_1", "es", &v, 0, 0, &r);
    cr_expect_eq(r.sms.encoding, OUTREACH_TEMPLATE_SMS_UCS2);
    cr_expect_eq(r.sms.units, 176);
    cr_expect_eq(r.sms.segments, 3);
    cr_expect_eq(r.over_max_segments, 0);
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

/* ------------------------------------------------------------------ escaping */

Test(outreach_template_render, html_values_escaped_text_raw)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    v.first_name = "<script>&\"'";
    outreach_rendered r;
    render_ok(s, "reminder_email_1", "en", &v, 0, 0, &r);
    cr_expect_not_null(strstr(r.html.data, "<p>Hello &lt;script&gt;&amp;&quot;&#39;,</p>"));
    cr_expect_null(strstr(r.html.data, "<script>"));
    cr_expect_not_null(strstr(r.text.data, "Hello <script>&\"',\n"));
    /* The opt-out link has a "&": escaped in the html attribute and text, raw in text. */
    cr_expect_not_null(strstr(r.html.data,
                              "<a href=\"https://pay.example.com/stop?r=AB12&amp;"
                              "c=e\">https://pay.example.com/stop?r=AB12&amp;c=e</a>"));
    cr_expect_not_null(strstr(r.text.data, "https://pay.example.com/stop?r=AB12&c=e."));
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

Test(outreach_template_render, control_characters_stripped_from_values)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    /* A CR/LF in a value must not reach the Subject header (header injection); U+0085 (NEL,
     * C2 85) and U+0007 go too. */
    v.creditor = "Acme\r\nBcc: x@evil.example\x07\xc2\x85 Water";
    outreach_rendered r;
    render_ok(s, "reminder_email_1", "en", &v, 0, 0, &r);
    cr_expect_str_eq(r.subject.data, "Your AcmeBcc: x@evil.example Water balance of $1,234.56");
    cr_expect_null(strchr(r.subject.data, '\r'));
    cr_expect_null(strchr(r.subject.data, '\n'));
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

/* ------------------------------------------------------------------ opt-out line */

Test(outreach_template_render, opt_out_line_in_every_email_and_sms_in_both_languages)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    static const char *const email_text[2] = {
        "To stop emails, reply STOP or visit https://pay.example.com/stop?r=AB12&c=e.\n",
        "Para dejar de recibir correos, responda STOP o visite "
        "https://pay.example.com/stop?r=AB12&c=e.\n",
    };
    static const char *const email_html[2] = {
        "<p>To stop emails, reply STOP or visit <a "
        "href=\"https://pay.example.com/stop?r=AB12&amp;c=e\">"
        "https://pay.example.com/stop?r=AB12&amp;c=e</a>.</p>\n</body>",
        "<p>Para dejar de recibir correos, responda STOP o visite <a "
        "href=\"https://pay.example.com/stop?r=AB12&amp;c=e\">"
        "https://pay.example.com/stop?r=AB12&amp;c=e</a>.</p>\n</body>",
    };
    static const char *const sms[2] = {"\nReply STOP to opt out.",
                                       "\nResponda STOP para cancelar."};
    int emails = 0, texts = 0;
    for (size_t i = 0; i < N_IDS; i++)
        for (int l = 0; l < 2; l++)
            for (int tp = 0; tp < 2; tp++) {
                outreach_rendered r;
                render_ok(s, IDS[i], LANGS[l], &v, tp, tp, &r);
                if (r.channel == OUTREACH_TEMPLATE_CHANNEL_EMAIL) {
                    cr_expect(ends_with(r.text.data, email_text[l]), "%s/%s: %s", IDS[i], LANGS[l],
                              r.text.data);
                    cr_expect_eq(count(r.text.data, "STOP"), 1);
                    cr_expect_not_null(strstr(r.html.data, email_html[l]), "%s/%s", IDS[i],
                                       LANGS[l]);
                    emails++;
                } else if (r.kind == OUTREACH_TEMPLATE_KIND_OPT_OUT_CONFIRMATION) {
                    /* The confirmation follows a STOP: no second invitation to stop. */
                    cr_expect_null(strstr(r.text.data, "STOP"), "%s", r.text.data);
                } else if (r.channel == OUTREACH_TEMPLATE_CHANNEL_SMS) {
                    cr_expect(ends_with(r.text.data, sms[l]), "%s/%s: %s", IDS[i], LANGS[l],
                              r.text.data);
                    texts++;
                } else {
                    cr_expect_null(strstr(r.text.data, "STOP"), "voice: %s", r.text.data);
                }
                outreach_rendered_free(&r);
            }
    cr_expect_eq(emails, 5 * 2 * 2);
    cr_expect_eq(texts, 2 * 2 * 2);
    outreach_template_set_free(s);
}

Test(outreach_template_render, email_without_opt_out_link_is_refused)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    v.opt_out_link = NULL;
    outreach_rendered r;
    memset(&r, 0x5a, sizeof r);
    char why[256] = "";
    cr_assert_eq(outreach_template_render(s, "cease_final_notice_email", "en", &v, 0, 0, &r, why,
                                          sizeof why),
                 ARR_EINVAL);
    cr_expect_not_null(strstr(why, "opt_out_link"), "%s", why);
    cr_expect_eq(((unsigned char *)&r)[0], 0x5a, "out written on failure");
    /* An sms needs no link. */
    render_ok(s, "reminder_sms_2", "en", &v, 0, 0, &r);
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

Test(outreach_template_render, opt_out_text_placed_by_template_is_not_repeated)
{
    outreach_template_set *s = one_ok("{'channel':'email','subject':'S','text':'Hi\\n"
                                      "{{opt_out_text}}\\nBye','html':'<p>Hi</p>{{opt_out_text}}"
                                      "<p>Bye</p>'}");
    outreach_template_vars v = {.opt_out_link = "https://x.example/o"};
    outreach_rendered r;
    render_ok(s, "t", "en", &v, 0, 0, &r);
    cr_expect_str_eq(r.text.data, "Hi\nTo stop emails, reply STOP or visit https://x.example/o.\n"
                                  "Bye");
    cr_expect_str_eq(r.html.data, "<p>Hi</p><p>To stop emails, reply STOP or visit <a "
                                  "href=\"https://x.example/o\">https://x.example/o</a>.</p>"
                                  "<p>Bye</p>");
    outreach_rendered_free(&r);
    outreach_template_set_free(s);

    s = one_ok("{'channel':'sms','text':'{{opt_out_text}} Hi'}");
    render_ok(s, "t", "es", &v, 0, 0, &r);
    cr_expect_str_eq(r.text.data, "Responda STOP para cancelar. Hi");
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

/* ------------------------------------------------------------------ disclosures */

Test(outreach_template_render, third_party_disclosure_first_and_later)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    outreach_rendered r;

    render_ok(s, "reminder_email_2", "en", &v, 1, 1, &r);
    cr_expect(starts_with(r.text.data, EN_FIRST "\n\nHello Ana,\n"), "%s", r.text.data);
    cr_expect_not_null(strstr(r.html.data, "<body><p><strong>" EN_FIRST "</strong></p>\n"));
    cr_expect_null(strstr(r.text.data, EN_LATER));
    outreach_rendered_free(&r);

    render_ok(s, "reminder_email_2", "en", &v, 1, 0, &r);
    cr_expect(starts_with(r.text.data, EN_LATER "\n\nHello Ana,\n"), "%s", r.text.data);
    cr_expect_not_null(strstr(r.html.data, "<body><p><strong>" EN_LATER "</strong></p>\n"));
    cr_expect_null(strstr(r.text.data, "attempting to collect"));
    outreach_rendered_free(&r);

    render_ok(s, "reminder_email_2", "es", &v, 1, 1, &r);
    cr_expect(starts_with(r.text.data, ES_FIRST "\n\nHola Ana:\n"), "%s", r.text.data);
    outreach_rendered_free(&r);
    render_ok(s, "reminder_sms_2", "es", &v, 1, 0, &r);
    cr_expect(starts_with(r.text.data, ES_LATER "\nAcme Water: Ana,"), "%s", r.text.data);
    outreach_rendered_free(&r);
    render_ok(s, "voice_reminder", "en", &v, 1, 0, &r);
    cr_expect(starts_with(r.text.data, EN_LATER " Hello, this message is for Ana."), "%s",
              r.text.data);
    outreach_rendered_free(&r);

    /* First party: no disclosure at all, first communication or not. */
    render_ok(s, "reminder_email_2", "en", &v, 0, 1, &r);
    cr_expect(starts_with(r.text.data, "Hello Ana,\n"), "%s", r.text.data);
    cr_expect_null(strstr(r.html.data, "debt collector"));
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

Test(outreach_template_render, html_disclosure_after_body_tag_footer_before_close)
{
    outreach_template_set *s =
        one_ok("{'channel':'email','subject':'S','text':'T','html':'<html><BODY class=\\'x\\'>"
               "<p>Hi</p></Body></html>'}");
    outreach_template_vars v = {.opt_out_link = "https://x.example/o"};
    outreach_rendered r;
    render_ok(s, "t", "en", &v, 1, 0, &r);
    cr_expect_str_eq(r.html.data,
                     "<html><BODY class=\"x\"><p><strong>" EN_LATER "</strong></p>\n"
                     "<p>Hi</p>\n<p>To stop emails, reply STOP or visit <a "
                     "href=\"https://x.example/o\">https://x.example/o</a>.</p>\n</Body></html>");
    cr_expect_str_eq(r.text.data, EN_LATER "\n\nT\n\nTo stop emails, reply STOP or visit "
                                           "https://x.example/o.\n");
    outreach_rendered_free(&r);
    outreach_template_set_free(s);

    /* A fragment without <body>: disclosure first, footer last. */
    s = one_ok("{'channel':'email','subject':'S','text':'T\\n','html':'<p>Hi</p>'}");
    render_ok(s, "t", "es", &v, 1, 1, &r);
    cr_expect_str_eq(r.html.data,
                     "<p><strong>" ES_FIRST "</strong></p>\n<p>Hi</p>\n<p>Para dejar de recibir "
                     "correos, responda STOP o visite <a href=\"https://x.example/o\">"
                     "https://x.example/o</a>.</p>\n");
    /* The text already ended in one newline: one more makes the blank line. */
    cr_expect_str_eq(r.text.data, ES_FIRST "\n\nT\n\nPara dejar de recibir correos, responda "
                                           "STOP o visite https://x.example/o.\n");
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

/* ------------------------------------------------------------------ validation notice */

Test(outreach_template_render, validation_notice_content)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    /* 1,200.00 + 12.34 interest + 25.00 fees - 50.00 paid - 10.78 credited = 1,176.56. */
    v.balance.minor = 117656;
    outreach_rendered r;
    render_ok(s, "validation_notice_email", "en", &v, 1, 1, &r);
    cr_expect_eq(r.kind, OUTREACH_TEMPLATE_KIND_VALIDATION_NOTICE);
    static const char *const want_en[] = {
        "Prairie Recovery LLC\nPO Box 100, Peoria, IL 61601\n",
        "To: Ana Pérez\n12 Oak St, Springfield, IL 62701\n",
        "Prairie Recovery LLC is a debt collector. We are trying to collect a debt that you owe "
        "to Acme Water.",
        "account reference ACCT-778899.",
        "As of January 31, 2026, you owed: $1,200.00\n",
        "Between January 31, 2026 and today:\n",
        "interest: + $12.34\n",
        "fees: + $25.00\n",
        "You paid this amount toward the debt: - $50.00\n",
        "You were credited this amount toward the debt: - $10.78\n",
        "Total amount of the debt now: $1,176.56\n",
        "Call or write to us by April 14, 2026 to dispute all or part of the debt.",
        "We accept disputes electronically at https://pay.example.com/dispute/AB12.",
        "name and address of the original creditor",
        "How do you want to respond?",
        "Mail this form to: Prairie Recovery LLC, PO Box 100, Peoria, IL 61601\n",
        "[ ] This is not my debt.\n",
        "[ ] The amount is wrong.\n",
    };
    for (size_t i = 0; i < sizeof want_en / sizeof want_en[0]; i++)
        cr_expect_not_null(strstr(r.text.data, want_en[i]), "en text lacks \"%s\"", want_en[i]);
    cr_expect(starts_with(r.text.data, EN_FIRST "\n\n"));
    cr_expect_not_null(strstr(r.html.data, "Total amount of the debt now: $1,176.56"));
    cr_expect_not_null(strstr(r.html.data, "<a href=\"https://pay.example.com/dispute/AB12\">"));
    cr_expect_not_null(strstr(r.html.data, "Ana P\xc3\xa9rez"));
    cr_expect_str_eq(r.subject.data, "Important notice about your Acme Water debt (reference "
                                     "ACCT-778899)");
    outreach_rendered_free(&r);

    render_ok(s, "validation_notice_email", "es", &v, 1, 1, &r);
    static const char *const want_es[] = {
        "Para: Ana Pérez\n",
        "Al 31 de enero de 2026, usted debía: $1,200.00\n",
        "intereses: + $12.34\n",
        "cargos: + $25.00\n",
        "pagó esta cantidad de la deuda: - $50.00\n",
        "acreditó esta cantidad a la deuda: - $10.78\n",
        "Cantidad total de la deuda ahora: $1,176.56\n",
        "a más tardar el 14 de abril de 2026",
        "[ ] Esta deuda no es mía.\n",
        "https://pay.example.com/dispute/AB12",
        "le debe a Acme Water",
        "referencia ACCT-778899",
    };
    for (size_t i = 0; i < sizeof want_es / sizeof want_es[0]; i++)
        cr_expect_not_null(strstr(r.text.data, want_es[i]), "es text lacks \"%s\"", want_es[i]);
    outreach_rendered_free(&r);

    /* Every field is required: a notice cannot go out without the validation end date. */
    v.validation_end_date = NULL;
    char why[256] = "";
    cr_expect_eq(
        outreach_template_render(s, "validation_notice_email", "en", &v, 1, 1, &r, why, sizeof why),
        ARR_EINVAL);
    cr_expect_not_null(strstr(why, "validation_end_date"), "%s", why);
    outreach_template_set_free(s);
}

Test(outreach_template_load, validation_notice_must_show_every_field)
{
    /* A notice whose text has everything but dispute_link. */
    one_fails("{'channel':'letter','kind':'validation_notice','text':'{{consumer_name}} "
              "{{consumer_address}} {{collector}} {{collector_address}} {{creditor}} "
              "{{reference}} {{itemization_date}} {{itemization_amount}} "
              "{{itemization_interest}} {{itemization_fees}} {{itemization_payments}} "
              "{{itemization_credits}} {{balance}} {{validation_end_date}}'}",
              "templates.t.en.text: a validation notice must show {{dispute_link}}");
    /* With it, a letter notice loads. */
    outreach_template_set *s = one_ok(
        "{'channel':'letter','kind':'validation_notice','text':'{{consumer_name}} "
        "{{consumer_address}} {{collector}} {{collector_address}} {{creditor}} {{reference}} "
        "{{itemization_date}} {{itemization_amount}} {{itemization_interest}} "
        "{{itemization_fees}} {{itemization_payments}} {{itemization_credits}} {{balance}} "
        "{{validation_end_date}} {{dispute_link}}'}");
    outreach_template_set_free(s);
    /* Not over sms. */
    one_fails("{'channel':'sms','kind':'validation_notice','text':'x'}",
              "validation_notice is for email or letter only");
}

/* ------------------------------------------------------------------ languages */

Test(outreach_template_render, language_fallback_recorded)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    struct {
        const char *asked;
        const char *used;
        int fallback;
    } cases[] = {
        {"en", "en", 0},    {"es", "es", 0}, {"es-MX", "es", 0}, {"ES_us", "es", 0},
        {"EN-GB", "en", 0}, {"fr", "en", 1}, {NULL, "en", 1},    {"", "en", 1},
        {"esp", "en", 1},   {"e", "en", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        outreach_rendered r;
        render_ok(s, "reminder_sms_2", cases[i].asked, &v, 0, 0, &r);
        cr_expect_str_eq(r.lang, cases[i].used, "asked %s", cases[i].asked);
        cr_expect_eq(r.lang_fallback, cases[i].fallback, "asked %s", cases[i].asked);
        cr_expect(ends_with(r.text.data, cases[i].used[1] == 's' ? "Responda STOP para cancelar."
                                                                 : "Reply STOP to opt out."));
        outreach_rendered_free(&r);
    }
    outreach_template_set_free(s);
}

/* ------------------------------------------------------------------ load errors */

Test(outreach_template_load, unknown_variable_is_a_load_error)
{
    one_fails("{'channel':'sms','text':'Hi {{frist_name}}'}",
              "templates.t.en.text: unknown variable {{frist_name}}");
    one_fails("{'channel':'email','subject':'{{balanse}}','text':'x'}",
              "templates.t.en.subject: unknown variable {{balanse}}");
    one_fails("{'channel':'email','subject':'s','text':'x','html':'<p>{{Name}}</p>'}",
              "templates.t.en.html: malformed placeholder at byte 3");
    one_fails("{'channel':'sms','text':'Hi {{ first_name }}'}", "malformed placeholder at byte 3");
    one_fails("{'channel':'sms','text':'Hi {{first_name'}", "malformed placeholder");
}

Test(outreach_template_load, structure_errors)
{
    one_fails("{'channel':'fax','text':'x'}", "templates.t.en.channel: must be");
    one_fails("{'text':'x'}", "templates.t.en.channel: must be");
    one_fails("{'channel':'sms'}", "templates.t.en.text: must be a non-empty string");
    one_fails("{'channel':'sms','text':''}", "templates.t.en.text: must be a non-empty string");
    one_fails("{'channel':'email','text':'x'}", "an email needs a subject");
    one_fails("{'channel':'sms','subject':'s','text':'x'}", "subject: not for sms");
    one_fails("{'channel':'voice','subject':'s','text':'x'}", "subject: not for voice");
    one_fails("{'channel':'sms','text':'x','html':'<p>x</p>'}", "html: email only");
    one_fails("{'channel':'sms','text':'x','kind':'nag'}", "kind: must be");
    one_fails("{'channel':'email','subject':'s','text':'x','kind':'opt_out_confirmation'}",
              "opt_out_confirmation is for sms only");
    one_fails("{'channel':'sms','text':'x','colour':'red'}",
              "templates.t.en: unknown key \"colour\"");
    one_fails("{'channel':'email','subject':'{{opt_out_text}}','text':'x'}",
              "{{opt_out_text}} belongs in an email or sms body");
    one_fails("{'channel':'voice','text':'{{opt_out_text}}'}", "belongs in an email or sms body");
    one_fails("{'channel':'email','subject':'a\\nb','text':'x'}",
              "templates.t.en.subject: control character U+000A at byte 1");
    one_fails("{'channel':'sms','text':'a\\tb'}", "control character U+0009");
    one_fails("{'channel':'sms','text':'a\\u0000b'}", "");

    parse_fails("{'version':'t-1','templates':{'t':{'en':{'channel':'sms','text':'x'}}}}",
                "templates.t: language \"es\" is missing");
    parse_fails("{'version':'t-1','templates':{'t':{'en':{'channel':'sms','text':'x'},"
                "'es':{'channel':'email','subject':'s','text':'x'}}}}",
                "templates.t.es.channel: \"email\" differs from the other language's \"sms\"");
    parse_fails("{'version':'t-1','templates':{'t':{'en':{'channel':'sms','text':'x'},"
                "'es':{'channel':'sms','text':'x','kind':'cease_notice'}}}}",
                "templates.t.es.kind: \"cease_notice\" differs");
    parse_fails("{'version':'t-1','templates':{'t':{'en':{'channel':'sms','text':'x'},"
                "'es':{'channel':'sms','text':'x'},'fr':{'channel':'sms','text':'x'}}}}",
                "templates.t.fr: language not supported");
    parse_fails("{'version':'t 1','templates':{}}", "version: must be");
    parse_fails("{'templates':{}}", "version: must be");
    parse_fails("{'version':'t-1','templates':{}}", "templates: must be a non-empty object");
    parse_fails("{'version':'t-1','templates':{'Bad-Id':{}}}", "an id is 1 to 63 of [a-z0-9_]");
    parse_fails("{'version':'t-1','templates':{'t':{}},'extra':1}", "unknown key \"extra\"");
    parse_fails("{'version':'t-1','limits':{'sms_max_segments':0},'templates':{}}",
                "limits.sms_max_segments: must be an integer from 1 to 10");
    parse_fails("{'version':'t-1','limits':{'subject_bytes':999},'templates':{}}",
                "limits.subject_bytes: must be an integer from 16 to 998");
    parse_fails("{'version':'t-1','version':'t-2','templates':{}}", "duplicate");
    parse_fails("[1]", "(top level): must be an object");

    /* "_" keys are comments at every level. */
    outreach_template_set *s =
        parse_ok("{'_note':'n','version':'t-1','templates':{'_c':1,'t':{'_c':2,"
                 "'en':{'_c':3,'channel':'sms','text':'x'},'es':{'channel':'sms','text':'y'}}}}");
    cr_expect_str_eq(outreach_template_set_version(s), "t-1");
    outreach_template_set_free(s);
}

Test(outreach_template_load, file_errors_name_the_path)
{
    outreach_template_set *s = NULL;
    char why[512] = "";
    cr_expect_eq(outreach_template_set_load("/nonexistent/t.json", &s, why, sizeof why), ARR_EIO);
    cr_expect(starts_with(why, "/nonexistent/t.json: "), "%s", why);
    cr_expect_null(s);

    char path[] = "/tmp/test_outreach_template_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    fputs("{\"version\":\"t-1\",\"templates\":{\"t\":{\"en\":{\"channel\":\"sms\",\"text\":"
          "\"{{nope}}\"},\"es\":{\"channel\":\"sms\",\"text\":\"x\"}}}}",
          f);
    fclose(f);
    cr_expect_eq(outreach_template_set_load(path, &s, why, sizeof why), ARR_ECONFIG);
    cr_expect(starts_with(why, path), "%s", why);
    cr_expect_not_null(strstr(why, "unknown variable {{nope}}"), "%s", why);
    cr_expect_null(s);
    unlink(path);
}

/* ------------------------------------------------------------------ values at render */

Test(outreach_template_render, missing_variable_named_and_out_untouched)
{
    outreach_template_set *s = shipped();
    outreach_template_vars v = full_vars();
    v.due_date = NULL;
    outreach_rendered r;
    memset(&r, 0x5a, sizeof r);
    char why[256] = "";
    cr_assert_eq(outreach_template_render(s, "reminder_sms_1", "es", &v, 0, 0, &r, why, sizeof why),
                 ARR_EINVAL);
    cr_expect_str_eq(why, "template reminder_sms_1 (es): variable due_date has no value");
    for (size_t i = 0; i < sizeof r; i++)
        cr_assert_eq(((unsigned char *)&r)[i], 0x5a, "out written at byte %zu", i);

    v = full_vars();
    v.balance.currency = NULL;
    cr_expect_eq(outreach_template_render(s, "reminder_sms_1", "en", &v, 0, 0, &r, why, sizeof why),
                 ARR_EINVAL);
    cr_expect_str_eq(why, "template reminder_sms_1 (en): variable balance has no value");

    /* No vars at all. */
    cr_expect_eq(
        outreach_template_render(s, "reminder_sms_1", "en", NULL, 0, 0, &r, why, sizeof why),
        ARR_EINVAL);
    cr_expect_not_null(strstr(why, "has no value"), "%s", why);

    cr_expect_eq(outreach_template_render(s, "nope", "en", &v, 0, 0, &r, why, sizeof why),
                 ARR_ENOTFOUND);
    cr_expect_not_null(strstr(why, "nope"), "%s", why);
    outreach_template_set_free(s);
}

static void value_fails(const outreach_template_vars *v, const char *want)
{
    outreach_template_set *s = shipped();
    outreach_rendered r;
    char why[256] = "";
    cr_expect_eq(
        outreach_template_render(s, "reminder_email_1", "en", v, 0, 0, &r, why, sizeof why),
        ARR_EINVAL, "%s", want);
    cr_expect_not_null(strstr(why, want), "why \"%s\" lacks \"%s\"", why, want);
    outreach_template_set_free(s);
}

Test(outreach_template_render, invalid_values_refused)
{
    outreach_template_vars v = full_vars();
    v.due_date = "2026-02-29"; /* 2026 is not a leap year */
    value_fails(&v, "variable due_date must be a date YYYY-MM-DD");
    v.due_date = "2026-3-05";
    value_fails(&v, "variable due_date must be a date");
    v.due_date = "2026-13-01";
    value_fails(&v, "variable due_date must be a date");
    v = full_vars();
    v.payment_link = "javascript:alert(1)";
    value_fails(&v, "variable payment_link must start with http:// or https://");
    v = full_vars();
    v.balance.currency = "usd";
    value_fails(&v, "variable balance has a currency that is not three capital letters");
    v = full_vars();
    v.first_name = "\xc3\x28"; /* a lead byte without its continuation */
    value_fails(&v, "variable first_name is not valid UTF-8");
    v.first_name = "\r\n\t";
    value_fails(&v, "variable first_name is empty");
    v.first_name = "";
    value_fails(&v, "variable first_name is empty");
    char big[OUTREACH_TEMPLATE_VALUE_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    v.first_name = big; /* 1025 bytes */
    value_fails(&v, "variable first_name is longer than 1024 bytes");
    big[OUTREACH_TEMPLATE_VALUE_MAX] = '\0'; /* 1024: allowed */
    outreach_template_set *s = shipped();
    outreach_rendered r;
    render_ok(s, "reminder_email_1", "en", &v, 0, 0, &r);
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

/* ------------------------------------------------------------------ money and dates */

static void expect_value(const char *variant, const outreach_template_vars *v, const char *lang,
                         const char *want)
{
    outreach_template_set *s = one_ok(variant);
    outreach_rendered r;
    render_ok(s, "t", lang, v, 0, 0, &r);
    cr_expect_str_eq(r.text.data, want, "%s", lang);
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

Test(outreach_template_render, money_rule)
{
    struct {
        const char *cur;
        int64_t minor;
        const char *want;
    } cases[] = {
        {"USD", 0, "$0.00"},
        {"USD", 5, "$0.05"},
        {"USD", 99, "$0.99"},
        {"USD", 100, "$1.00"},
        {"USD", 99999, "$999.99"},
        {"USD", 100000, "$1,000.00"},
        {"USD", 123456, "$1,234.56"},
        {"USD", 100000000, "$1,000,000.00"},
        {"USD", -500, "-$5.00"},
        {"USD", INT64_MIN, "-$92,233,720,368,547,758.08"},
        {"USD", INT64_MAX, "$92,233,720,368,547,758.07"},
        {"EUR", 123456, "EUR 1,234.56"},
        {"JPY", 1234, "JPY 1,234"},
        {"KWD", 1234567, "KWD 1,234.567"},
        {"CLF", 12345, "CLF 1.2345"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int l = 0; l < 2; l++) {
            outreach_template_vars v = {.balance = {cases[i].cur, cases[i].minor}};
            /* voice: no opt-out, no disclosure in first-party mode: the text is the value. */
            expect_value("{'channel':'voice','text':'{{balance}}'}", &v, LANGS[l], cases[i].want);
        }
}

Test(outreach_template_render, dates_per_language)
{
    struct {
        const char *iso, *en, *es;
    } cases[] = {
        {"2026-01-01", "January 1, 2026", "1 de enero de 2026"},
        {"2026-03-05", "March 5, 2026", "5 de marzo de 2026"},
        {"2024-02-29", "February 29, 2024", "29 de febrero de 2024"},
        {"2000-02-29", "February 29, 2000", "29 de febrero de 2000"},
        {"2026-09-30", "September 30, 2026", "30 de septiembre de 2026"},
        {"2026-12-31", "December 31, 2026", "31 de diciembre de 2026"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        outreach_template_vars v = {.due_date = cases[i].iso};
        expect_value("{'channel':'voice','text':'{{due_date}}'}", &v, "en", cases[i].en);
        expect_value("{'channel':'voice','text':'{{due_date}}'}", &v, "es", cases[i].es);
    }
    /* 1900 is not a leap year (divisible by 100, not 400). */
    outreach_template_set *s = one_ok("{'channel':'voice','text':'{{due_date}}'}");
    outreach_template_vars v = {.due_date = "1900-02-29"};
    outreach_rendered r;
    char why[256];
    cr_expect_eq(outreach_template_render(s, "t", "en", &v, 0, 0, &r, why, sizeof why), ARR_EINVAL);
    outreach_template_set_free(s);
}

/* ------------------------------------------------------------------ SMS length */

static outreach_template_sms_info measure(const char *s)
{
    outreach_template_sms_info m;
    char why[128] = "";
    cr_assert_eq(outreach_template_sms_measure(s, strlen(s), &m, why, sizeof why), ARR_OK, "%s",
                 why);
    return m;
}

/* n copies of unit (a UTF-8 string) followed by tail. */
static char *repeat(const char *unit, int n, const char *tail)
{
    size_t u = strlen(unit), t = strlen(tail);
    char *s = malloc(u * (size_t)n + t + 1);
    cr_assert_not_null(s);
    for (int i = 0; i < n; i++)
        memcpy(s + u * (size_t)i, unit, u);
    memcpy(s + u * (size_t)n, tail, t + 1);
    return s;
}

static void expect_sms(const char *unit, int n, const char *tail,
                       outreach_template_sms_encoding enc, size_t units, int segments)
{
    char *s = repeat(unit, n, tail);
    outreach_template_sms_info m = measure(s);
    cr_expect_eq(m.encoding, enc, "%d x \"%s\" + \"%s\": encoding", n, unit, tail);
    cr_expect_eq(m.units, units, "%d x \"%s\" + \"%s\": units %zu", n, unit, tail, m.units);
    cr_expect_eq(m.segments, segments, "%d x \"%s\" + \"%s\": segments %d", n, unit, tail,
                 m.segments);
    free(s);
}

/* n1 "a", mid, n2 "a". */
static void expect_sms3(int n1, const char *mid, int n2, outreach_template_sms_encoding enc,
                        size_t units, int segments)
{
    char *tail = repeat("a", n2, "");
    char *midtail = malloc(strlen(mid) + strlen(tail) + 1);
    cr_assert_not_null(midtail);
    strcpy(midtail, mid);
    strcat(midtail, tail);
    expect_sms("a", n1, midtail, enc, units, segments);
    free(midtail);
    free(tail);
}

#define GSM OUTREACH_TEMPLATE_SMS_GSM7
#define UCS OUTREACH_TEMPLATE_SMS_UCS2
#define EURO "\xe2\x82\xac"      /* U+20AC, GSM-7 extension table */
#define A_ACUTE "\xc3\xa1"       /* U+00E1, not in GSM-7 */
#define N_TILDE "\xc3\xb1"       /* U+00F1, GSM-7 basic set */
#define EMOJI "\xf0\x9f\x98\x80" /* U+1F600, a surrogate pair in UTF-16 */

Test(outreach_template_sms, gsm7_boundaries)
{
    expect_sms("a", 0, "", GSM, 0, 1);
    expect_sms("a", 1, "", GSM, 1, 1);
    expect_sms("a", 160, "", GSM, 160, 1);
    expect_sms("a", 161, "", GSM, 161, 2); /* concatenated: 153 + 8 */
    expect_sms("a", 306, "", GSM, 306, 2); /* 2 x 153 */
    expect_sms("a", 307, "", GSM, 307, 3);
    expect_sms("a", 459, "", GSM, 459, 3); /* 3 x 153 */
    expect_sms("a", 460, "", GSM, 460, 4);
}

Test(outreach_template_sms, extension_characters_count_two_septets)
{
    expect_sms("a", 0, EURO, GSM, 2, 1);
    expect_sms("a", 0, "[", GSM, 2, 1);
    expect_sms("a", 158, EURO, GSM, 160, 1); /* 158 + 2 = 160 */
    expect_sms("a", 159, EURO, GSM, 161, 2); /* 159 + 2 = 161 */
    expect_sms("a", 159, "[", GSM, 161, 2);
    expect_sms("a", 0, "^{}\\[~]|", GSM, 16, 1);
    /* 152 + escape pair + 152 = 306 septets, which would fit 2 x 153, but the pair cannot
     * straddle: part 1 holds 152, part 2 the pair + 151, part 3 the last "a". */
    expect_sms3(152, EURO, 152, GSM, 306, 3);
    expect_sms3(151, EURO, 153, GSM, 306, 2); /* 151 + 2 = 153 | 153 */
}

Test(outreach_template_sms, spanish_letters)
{
    /* n tilde and the other Spanish GSM-7 letters (¿ ¡ é Ñ ü) stay GSM-7, one septet each. */
    expect_sms(N_TILDE, 160, "", GSM, 160, 1);
    expect_sms(N_TILDE, 161, "", GSM, 161, 2);
    expect_sms("a", 0, "\xc2\xbf\xc2\xa1\xc3\xa9\xc3\x91\xc3\xbc", GSM, 5, 1);
    /* a acute is not: the whole text becomes UCS-2. */
    expect_sms("a", 0, A_ACUTE, UCS, 1, 1);
    expect_sms("a", 159, A_ACUTE, UCS, 160, 3); /* 160 units: 67 + 67 + 26 */
    /* The backtick is ASCII but not GSM-7. */
    expect_sms("a", 0, "`", UCS, 1, 1);
}

Test(outreach_template_sms, ucs2_boundaries)
{
    expect_sms(A_ACUTE, 70, "", UCS, 70, 1);
    expect_sms(A_ACUTE, 71, "", UCS, 71, 2);
    expect_sms(A_ACUTE, 134, "", UCS, 134, 2); /* 2 x 67 */
    expect_sms(A_ACUTE, 135, "", UCS, 135, 3);
    /* A euro sign in a UCS-2 text is one unit like any BMP character. */
    expect_sms(A_ACUTE, 69, EURO, UCS, 70, 1);
}

Test(outreach_template_sms, emoji_is_a_surrogate_pair)
{
    expect_sms("a", 0, EMOJI, UCS, 2, 1);
    expect_sms("a", 68, EMOJI, UCS, 70, 1); /* 68 + 2 = 70 */
    expect_sms("a", 69, EMOJI, UCS, 71, 2); /* 69 + 2 = 71 */
    /* 66 + pair + 66 = 134 units, which would fit 2 x 67, but the pair cannot be split:
     * part 1 holds 66, part 2 the pair + 65, part 3 the last "a". */
    expect_sms3(66, EMOJI, 66, UCS, 134, 3);
    expect_sms3(65, EMOJI, 67, UCS, 134, 2); /* 65 + 2 = 67 | 67 */
}

Test(outreach_template_sms, invalid_utf8_refused)
{
    outreach_template_sms_info m = {GSM, 7, 7};
    char why[128] = "";
    static const char *const bad[] = {"\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                      "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(outreach_template_sms_measure(bad[i], strlen(bad[i]), &m, why, sizeof why),
                     ARR_EINVAL, "case %zu", i);
        cr_expect_eq(m.units, 7, "out written on failure");
    }
}

Test(outreach_template_sms, over_max_segments_flag)
{
    outreach_template_set *s =
        parse_ok("{'version':'t-1','limits':{'sms_max_segments':1},'templates':{'t':{"
                 "'en':{'channel':'sms','text':'{{first_name}}'},"
                 "'es':{'channel':'sms','text':'{{first_name}}'}}}}");
    cr_expect_eq(outreach_template_set_sms_max_segments(s), 1);
    /* name + "\n" + 22 "Reply STOP to opt out." : 137 + 23 = 160 -> 1 segment; 138 -> 2. */
    char name[140];
    memset(name, 'x', 137);
    name[137] = '\0';
    outreach_template_vars v = {.first_name = name};
    outreach_rendered r;
    render_ok(s, "t", "en", &v, 0, 0, &r);
    cr_expect_eq(r.sms.units, 160);
    cr_expect_eq(r.sms.segments, 1);
    cr_expect_eq(r.over_max_segments, 0);
    outreach_rendered_free(&r);
    name[137] = 'x';
    name[138] = '\0';
    render_ok(s, "t", "en", &v, 0, 0, &r);
    cr_expect_eq(r.sms.units, 161);
    cr_expect_eq(r.sms.segments, 2);
    cr_expect_eq(r.over_max_segments, 1);
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

/* ------------------------------------------------------------------ caps */

Test(outreach_template_render, output_caps)
{
    outreach_template_set *s =
        parse_ok("{'version':'t-1','limits':{'subject_bytes':16,'text_bytes':64,'html_bytes':200},"
                 "'templates':{'t':{"
                 "'en':{'channel':'email','subject':'{{first_name}}','text':'{{reference}}',"
                 "'html':'{{creditor}}'},"
                 "'es':{'channel':'email','subject':'{{first_name}}','text':'{{reference}}',"
                 "'html':'{{creditor}}'}}}}");
    outreach_template_vars v = {.first_name = "0123456789abcdef", /* 16 bytes: fits */
                                .reference = "R",
                                .creditor = "C",
                                .opt_out_link = "https://x.example/o"};
    outreach_rendered r;
    /* text: "R" + "\n\n" + 56 "To stop emails, reply STOP or visit https://x.example/o." + "\n"
     * = 60 bytes <= 64. */
    render_ok(s, "t", "en", &v, 0, 0, &r);
    cr_expect_str_eq(r.subject.data, "0123456789abcdef");
    cr_expect_eq(r.text.len, 60);
    outreach_rendered_free(&r);

    char why[256] = "";
    v.first_name = "0123456789abcdefg"; /* 17 */
    cr_expect_eq(outreach_template_render(s, "t", "en", &v, 0, 0, &r, why, sizeof why), ARR_ELIMIT);
    cr_expect_str_eq(why, "template t (en): the subject would exceed 16 bytes");

    v.first_name = "x";
    v.reference = "RRRRR"; /* 64: fits */
    render_ok(s, "t", "en", &v, 0, 0, &r);
    cr_expect_eq(r.text.len, 64);
    outreach_rendered_free(&r);
    v.reference = "RRRRRR"; /* 65 */
    cr_expect_eq(outreach_template_render(s, "t", "en", &v, 0, 0, &r, why, sizeof why), ARR_ELIMIT);
    cr_expect_str_eq(why, "template t (en): the text would exceed 64 bytes");

    /* html (no <body>): "C" + "\n" + footer + "\n", the footer being 3 "<p>" + 36 "To stop
     * emails, reply STOP or visit " + 9 "<a href=\"" + 19 link + 2 "\">" + 19 link + 9
     * "</a>.</p>" = 97: 100 bytes. Escaping makes a value grow: 21 "&" become 105 bytes,
     * 105 + 99 = 204 > 200; 20 become 100, 100 + 99 = 199. */
    v.reference = "R";
    v.creditor = "C";
    render_ok(s, "t", "en", &v, 0, 0, &r);
    cr_expect_eq(r.html.len, 100);
    outreach_rendered_free(&r);
    v.creditor = "&&&&&&&&&&&&&&&&&&&&&";
    cr_expect_eq(outreach_template_render(s, "t", "en", &v, 0, 0, &r, why, sizeof why), ARR_ELIMIT);
    cr_expect_str_eq(why, "template t (en): the html would exceed 200 bytes");
    v.creditor = "&&&&&&&&&&&&&&&&&&&&";
    render_ok(s, "t", "en", &v, 0, 0, &r);
    cr_expect_eq(r.html.len, 199);
    outreach_rendered_free(&r);
    outreach_template_set_free(s);
}

Test(outreach_template_render, names)
{
    cr_expect_str_eq(outreach_template_channel_name(OUTREACH_TEMPLATE_CHANNEL_LETTER), "letter");
    cr_expect_str_eq(outreach_template_channel_name(0), "unknown");
    cr_expect_str_eq(outreach_template_kind_name(OUTREACH_TEMPLATE_KIND_CEASE_NOTICE),
                     "cease_notice");
    outreach_rendered_free(NULL);
    outreach_template_set_free(NULL);
}
