/* outreach_facts: the consumer's contact points, zones and language, read from the debtor
 * object of account.placed / account.updated (proto/schemas/account.placed.schema.json), and
 * the choice of which address or number a step uses. Pure: no I/O, no clock.
 *
 * Every contact point gets an opaque id, the first 32 hex digits of SHA-256("<tenant>\n<the
 * address or number>"): opt-outs, bad contact points and the reply index are kept under it, so
 * the tables that link people across accounts hold no address, and a log line may name an id.
 *
 * A facts struct is caller-owned storage; every string in it is a copy (NUL-terminated), so
 * nothing points into the JSON it was read from. It holds PERSONAL DATA: never log it. */
#ifndef ARREARS_OUTREACH_FACTS_H
#define ARREARS_OUTREACH_FACTS_H

#include <stddef.h>
#include <jansson.h>
#include "arrears/err.h"
#include "compliance.h"

#define OUTREACH_FACTS_ID_LEN 32 /* hex digits of an address id */
#define OUTREACH_FACTS_EMAILS 2
#define OUTREACH_FACTS_PHONES 3
#define OUTREACH_FACTS_ZONES 4

typedef struct outreach_contact_point {
    char address[256]; /* e-mail address or E.164 number */
    char id[OUTREACH_FACTS_ID_LEN + 1];
    int mobile;        /* phones: a mobile line */
    int consent;       /* e-mail: not opted out at the creditor; phones: sms consent */
    int voice_consent; /* phones: consent to prerecorded calls */
} outreach_contact_point;

typedef struct outreach_facts {
    outreach_contact_point emails[OUTREACH_FACTS_EMAILS];
    int nemails;
    outreach_contact_point phones[OUTREACH_FACTS_PHONES];
    int nphones;
    char zones[OUTREACH_FACTS_ZONES][40]; /* IANA names; none = unknown */
    int nzones;
    char lang[3];        /* "en" when not given */
    char first_name[64]; /* "" when not given */
    char full_name[128];
    char address_line[400]; /* one line: line1, line2, city, state zip, country */
    int has_address;
} outreach_facts;

/* Reads a debtor object (borrowed; NULL or not an object gives empty facts with lang "en":
 * nothing to contact). ARR_EINVAL with why naming the field when a present field has the
 * wrong type. */
arr_err outreach_facts_read(const char *tenant, json_t *debtor, outreach_facts *out, char *why,
                            size_t whylen);

/* Id of an address or number under a tenant (hex, NUL-terminated, OUTREACH_FACTS_ID_LEN + 1
 * bytes). */
void outreach_facts_address_id(const char *tenant, const char *address,
                               char out[OUTREACH_FACTS_ID_LEN + 1]);

/* The contact point a step on channel uses, skipping ids in bad (borrowed, nbad entries) and
 * preferring one that is not in opted_out: e-mail: the first address with consent; sms: the
 * first mobile with sms consent; voice: the first mobile with voice consent, else the first
 * landline (a prerecorded call to a mobile needs consent, to a landline it does not). When
 * every usable point is opted out the first of them is returned, so the compliance engine
 * names the opt-out as the rule. NULL when the consumer has none (letters: never NULL when
 * has_address, and then the point is empty). */
const outreach_contact_point *outreach_facts_pick(const outreach_facts *f,
                                                  outreach_compliance_channel channel,
                                                  const char *const *bad, size_t nbad,
                                                  const char *const *opted_out, size_t nopted);

#endif
