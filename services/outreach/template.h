/* outreach_template: the words of every contact, per language, and the parts the law requires
 * that template authors must not be able to forget.
 *
 * A template set is one versioned JSON file (deploy/outreach/templates/default-1.json):
 *   {"version": "default-1",
 *    "limits": {"subject_bytes": 256, "text_bytes": 32768, "html_bytes": 131072,
 *               "sms_max_segments": 3},                                   (optional)
 *    "templates": {"<id>": {"<lang>": {"channel": "email"|"sms"|"voice"|"letter",
 *                                      "kind": "reminder"|"validation_notice"|
 *                                              "opt_out_confirmation"|"cease_notice",
 *                                      "subject": "...", "text": "...", "html": "..."}}}}
 * Keys starting with "_" are comments. Every other unknown key is an error.
 *   - version: 1..63 printable ASCII characters, no spaces; id: [a-z0-9_], 1..63.
 *   - Languages: "en" and "es", both required for every template; no other language is
 *     accepted, because dates and amounts are formatted per language and only these two have
 *     rules here.
 *   - channel and kind (default "reminder") must be the same in every language of a template.
 *     opt_out_confirmation is sms only; validation_notice is email or letter only.
 *   - text: required, non-empty. subject: required for email, optional for letter, refused for
 *     sms and voice; one line. html: email only, optional (without it the email is text-only).
 *   - Placeholders are {{name}} exactly (no spaces); any other "{{" is an error, so a literal
 *     "{{" cannot be written. Names: see outreach_template_vars below, plus opt_out_text.
 *     An unknown name is a load error.
 *   - A validation_notice must use, in its text and in its html, every field 12 CFR
 *     1006.34(c) asks for: consumer_name, consumer_address, collector, collector_address,
 *     creditor, reference, itemization_date, itemization_amount, itemization_interest,
 *     itemization_fees, itemization_payments, itemization_credits, balance,
 *     validation_end_date, dispute_link. The response form and the dispute rights are the
 *     template's own text.
 *
 * What the renderer adds itself (not left to template authors):
 *   - Opt-out (1006.6(e)) at the end of every email text and html and every sms:
 *       email en "To stop emails, reply STOP or visit <opt_out_link>."
 *       email es "Para dejar de recibir correos, responda STOP o visite <opt_out_link>."
 *       sms   en "Reply STOP to opt out."   sms es "Responda STOP para cancelar."
 *     A body may place it itself with {{opt_out_text}} (allowed in email and sms bodies only);
 *     it is then not appended a second time. The one exception is the sms of kind
 *     opt_out_confirmation (the single text the TCPA allows after STOP), which gets no opt-out
 *     line: the consumer has just opted out. The rendered kind tells the sender which it is.
 *   - Third-party mode (Regulation F 1006.18(e)), at the start of every body of every channel:
 *       first communication: en "This is a communication from a debt collector attempting to
 *         collect a debt; any information obtained will be used for that purpose."
 *         es "Este mensaje es de un cobrador de deudas que intenta cobrar una deuda; usaremos
 *         para ese fin cualquier dato que obtengamos."
 *       later ones: en "This communication is from a debt collector."
 *         es "Este mensaje proviene de un cobrador de deudas."
 *     The Spanish is worded without accented letters so it stays in the GSM-7 alphabet: an
 *     accent would turn the whole text into UCS-2 and halve what fits in a segment.
 *
 * Values:
 *   - Strings are inserted as given minus control characters (U+0000-U+001F, U+007F,
 *     U+0080-U+009F, which also keeps CR/LF out of a subject header); in html they are also
 *     escaped (& < > " ' -> &amp; &lt; &gt; &quot; &#39;). Invalid UTF-8, a value longer than
 *     OUTREACH_TEMPLATE_VALUE_MAX, or a value empty after stripping -> ARR_EINVAL naming it.
 *   - Links (payment_link, opt_out_link, dispute_link) must start with http:// or https://
 *     (so an href can never be javascript:).
 *   - Dates are "YYYY-MM-DD" and written en "March 5, 2026", es "5 de marzo de 2026".
 *   - Money is minor units + ISO 4217 code. Rule, same in both languages: the number is
 *     grouped by 3 with "," and has "." before the decimals (the currency's ISO 4217 exponent:
 *     0 for JPY, KRW, CLP..., 3 for BHD, KWD, JOD, OMR, TND..., 4 for CLF, UYW, else 2);
 *     USD is written "$1,234.56", every other currency with its code, "EUR 1,234.56"; a
 *     negative amount starts with "-" ("-$5.00"). Spanish uses the es-US convention (CLDR
 *     es-US, also Mexico's): these consumers read "$1,234.56"; "1.234,56 US$" (Spain) would
 *     read to them as one dollar and change, which a legal notice must not risk.
 *   - A placeholder whose value is missing (NULL string, money with NULL currency) ->
 *     ARR_EINVAL naming the variable. Every email also needs opt_out_link.
 *
 * SMS length: after rendering, an sms is GSM-7 when every character is in the GSM 03.38
 * basic set or its extension table (^ { } \ [ ~ ] | euro sign and form feed count 2 septets),
 * else UCS-2 (UTF-16 code units; a character outside the BMP counts 2). One segment holds 160
 * septets or 70 units; a concatenated message holds 153 septets or 67 units per segment, and
 * neither an escape pair nor a surrogate pair is split across segments (senders never split
 * them). over_max_segments is set above the set's sms_max_segments (default 3).
 *
 * Layout: email and letter text = disclosure, blank line, body, blank line, opt-out (email);
 * sms = disclosure "\n" body "\n" opt-out line; voice = disclosure " " script. Each part must
 * fit the set's limits (subject_bytes, text_bytes, html_bytes) or rendering fails.
 *
 * Ownership: a set is immutable once loaded and may be shared by threads for rendering;
 * outreach_template_set_free releases it. Vars are borrowed for the call. A rendered message
 * owns its buffers; release with outreach_rendered_free. No I/O except the loader. */
#ifndef ARREARS_OUTREACH_TEMPLATE_H
#define ARREARS_OUTREACH_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "arrears/buf.h"
#include "arrears/err.h"

#define OUTREACH_TEMPLATE_ID_MAX 63
#define OUTREACH_TEMPLATE_VALUE_MAX 1024      /* bytes of one string value */
#define OUTREACH_TEMPLATE_FILE_MAX (4u << 20) /* a larger file is refused */
#define OUTREACH_TEMPLATE_MAX_TEMPLATES 256

typedef enum outreach_template_channel {
    OUTREACH_TEMPLATE_CHANNEL_EMAIL = 1,
    OUTREACH_TEMPLATE_CHANNEL_SMS,
    OUTREACH_TEMPLATE_CHANNEL_VOICE,
    OUTREACH_TEMPLATE_CHANNEL_LETTER,
} outreach_template_channel;

typedef enum outreach_template_kind {
    OUTREACH_TEMPLATE_KIND_REMINDER = 1,
    /* 1006.34; the engine tracks its validation period */
    OUTREACH_TEMPLATE_KIND_VALIDATION_NOTICE,
    /* the one sms allowed after STOP; gets no opt-out line */
    OUTREACH_TEMPLATE_KIND_OPT_OUT_CONFIRMATION,
    /* the notice 1006.6(c) still allows after a cease */
    OUTREACH_TEMPLATE_KIND_CEASE_NOTICE,
} outreach_template_kind;

typedef enum outreach_template_sms_encoding {
    OUTREACH_TEMPLATE_SMS_NONE = 0, /* not an sms */
    OUTREACH_TEMPLATE_SMS_GSM7,
    OUTREACH_TEMPLATE_SMS_UCS2,
} outreach_template_sms_encoding;

/* An amount: currency NULL means "no value". */
typedef struct outreach_template_money {
    const char *currency; /* ISO 4217, three capital letters; borrowed */
    int64_t minor;        /* in the currency's minor units (cents for USD) */
} outreach_template_money;

/* The values a template may use, all borrowed for the call; NULL = no value. The placeholder
 * name is the field name. Dates are "YYYY-MM-DD". */
typedef struct outreach_template_vars {
    const char *first_name;
    const char *consumer_name;       /* full name, for the validation notice */
    const char *consumer_address;    /* mailing address on one line */
    outreach_template_money balance; /* current amount owed */
    const char *due_date;
    const char *payment_link;
    const char *opt_out_link; /* needed by every email (the opt-out line) */
    const char *dispute_link; /* where to dispute electronically */
    const char *reference;    /* account reference the consumer sees */
    const char *creditor;     /* creditor to whom the debt is currently owed */
    const char *collector;    /* the debt collector's name */
    const char *collector_address;
    const char *agent_phone;
    const char *validation_end_date;
    const char *itemization_date;
    outreach_template_money itemization_amount;
    outreach_template_money itemization_interest; /* since the itemization date */
    outreach_template_money itemization_fees;
    outreach_template_money itemization_payments;
    outreach_template_money itemization_credits;
} outreach_template_vars;

typedef struct outreach_template_sms_info {
    outreach_template_sms_encoding encoding;
    size_t units; /* septets (GSM-7) or UTF-16 code units (UCS-2) */
    int segments; /* 1 for an empty text */
} outreach_template_sms_info;

/* A rendered message. Written by outreach_template_render only on success. */
typedef struct outreach_rendered {
    outreach_template_channel channel;
    outreach_template_kind kind;
    char template_id[OUTREACH_TEMPLATE_ID_MAX + 1];
    char version[64];               /* the set's version, for the audit record */
    char lang[3];                   /* language used: "en" or "es" */
    int lang_fallback;              /* 1: the requested language has no template, "en" was used */
    int has_subject;                /* email always, letter when its template has one */
    int has_html;                   /* email with an html part */
    arr_buf subject;                /* owned; empty when !has_subject */
    arr_buf text;                   /* owned; the sms, the voice script or the plain-text body */
    arr_buf html;                   /* owned; empty when !has_html */
    outreach_template_sms_info sms; /* encoding NONE unless channel is sms */
    int over_max_segments;          /* sms only: segments > the set's sms_max_segments */
} outreach_rendered;

typedef struct outreach_template_set outreach_template_set;

/* Reads and validates a template file (at most OUTREACH_TEMPLATE_FILE_MAX bytes). On success
 * *out is a new set the caller owns. ARR_EIO when unreadable, ARR_ECONFIG when invalid, with
 * the path and the offending template, language and field in why. */
arr_err outreach_template_set_load(const char *path, outreach_template_set **out, char *why,
                                   size_t whylen);
/* Same from JSON text (len bytes). */
arr_err outreach_template_set_parse(const char *text, size_t len, outreach_template_set **out,
                                    char *why, size_t whylen);
/* Same from a parsed document (borrowed, not kept). */
arr_err outreach_template_set_from_json(json_t *root, outreach_template_set **out, char *why,
                                        size_t whylen);
void outreach_template_set_free(outreach_template_set *set); /* NULL is fine */

/* The set's version string (owned by the set). */
const char *outreach_template_set_version(const outreach_template_set *set);
/* The set's sms_max_segments. */
int outreach_template_set_sms_max_segments(const outreach_template_set *set);
/* Channel and kind of a template, so a cadence can be checked against its templates at start.
 * ARR_ENOTFOUND when the set has no such template. */
arr_err outreach_template_info(const outreach_template_set *set, const char *template_id,
                               outreach_template_channel *channel, outreach_template_kind *kind);

/* Renders template_id in lang ("es", "es-MX", "ES_us": the primary subtag counts; NULL or a
 * language the set lacks -> "en" with lang_fallback 1). third_party nonzero adds the 1006.18(e)
 * disclosure, the long one when first_communication is nonzero. Errors: ARR_ENOTFOUND (no such
 * template), ARR_EINVAL (a value missing or invalid; why names the variable), ARR_ELIMIT (a
 * part longer than the set's limit; why names the part), ARR_ENOMEM. */
arr_err outreach_template_render(const outreach_template_set *set, const char *template_id,
                                 const char *lang, const outreach_template_vars *vars,
                                 int third_party, int first_communication, outreach_rendered *out,
                                 char *why, size_t whylen);
void outreach_rendered_free(outreach_rendered *r); /* leaves *r zeroed; NULL is fine */

/* GSM-7 / UCS-2 encoding and segment count of a UTF-8 text. ARR_EINVAL on invalid UTF-8. */
arr_err outreach_template_sms_measure(const char *utf8, size_t len, outreach_template_sms_info *out,
                                      char *why, size_t whylen);

/* "email", "sms", "voice", "letter"; "reminder", "validation_notice", ... Static, never NULL. */
const char *outreach_template_channel_name(outreach_template_channel c);
const char *outreach_template_kind_name(outreach_template_kind k);

#endif
