#include "decide.h"

#include <string.h>
#include "cadence.h"

arr_err outreach_decide_channel_of(const char *name, outreach_compliance_channel *out)
{
    for (int i = 0; name && i < OUTREACH_COMPLIANCE_CHANNELS; i++) {
        if (strcmp(name, outreach_cadence_channel_name((outreach_compliance_channel)i)) == 0) {
            *out = (outreach_compliance_channel)i;
            return ARR_OK;
        }
    }
    return ARR_EDECODE;
}

static outreach_compliance_status status_of(const char *s)
{
    static const struct {
        const char *name;
        outreach_compliance_status v;
    } map[] = {
        {"paid", OUTREACH_COMPLIANCE_PAID},         {"settled", OUTREACH_COMPLIANCE_SETTLED},
        {"closed", OUTREACH_COMPLIANCE_CLOSED},     {"disputed", OUTREACH_COMPLIANCE_DISPUTED},
        {"cease", OUTREACH_COMPLIANCE_CEASE},       {"attorney", OUTREACH_COMPLIANCE_ATTORNEY},
        {"bankrupt", OUTREACH_COMPLIANCE_BANKRUPT}, {"deceased", OUTREACH_COMPLIANCE_DECEASED}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(s, map[i].name) == 0)
            return map[i].v;
    }
    return OUTREACH_COMPLIANCE_OPEN;
}

static outreach_compliance_outcome outcome_of(const outreach_step *st)
{
    if (strcmp(st->call_outcome, "conversation") == 0)
        return OUTREACH_COMPLIANCE_CONVERSATION;
    if (strcmp(st->call_outcome, "no_answer") == 0)
        return OUTREACH_COMPLIANCE_NO_ANSWER;
    if (strcmp(st->call_outcome, "voicemail") == 0)
        return OUTREACH_COMPLIANCE_VOICEMAIL;
    if (st->channel == OUTREACH_COMPLIANCE_VOICE)
        return OUTREACH_COMPLIANCE_ATTEMPT;
    if (strcmp(st->delivery, "delivered") == 0)
        return OUTREACH_COMPLIANCE_DELIVERED;
    if (strcmp(st->delivery, "bad_contact") == 0)
        return OUTREACH_COMPLIANCE_BOUNCED;
    return OUTREACH_COMPLIANCE_SENT;
}

static const char *no_point_rule(outreach_compliance_channel ch)
{
    static const char *const r[] = {"contact.no_usable_email", "contact.no_usable_sms_number",
                                    "contact.no_usable_phone", "contact.no_postal_address"};
    return r[ch];
}

arr_err outreach_decide(const outreach_settings *settings, outreach_tz_db *tz,
                        const outreach_account *a, const outreach_step *st, int64_t at_ms,
                        const outreach_contact_point **point, outreach_compliance_decision *d,
                        char *why, size_t whylen)
{
    const char *bad[OUTREACH_BOOK_IDS_MAX], *opted[OUTREACH_BOOK_IDS_MAX];
    size_t nopted = 0;
    outreach_compliance_account ca;
    memset(&ca, 0, sizeof(ca));
    for (size_t i = 0; i < a->nbad; i++)
        bad[i] = a->bad[i];
    for (size_t i = 0; i < a->nopted; i++) {
        if (strncmp(a->opted_out[i], "medium:", 7) == 0) {
            outreach_compliance_channel ch;
            if (!outreach_decide_channel_of(a->opted_out[i] + 7, &ch))
                ca.opted_out_medium[ch] = 1;
        } else {
            opted[nopted++] = a->opted_out[i];
        }
    }
    *point = outreach_facts_pick(&a->facts, st->channel, bad, a->nbad, opted, nopted);
    const outreach_tz *zones[OUTREACH_FACTS_ZONES];
    size_t nz = 0;
    for (int i = 0; i < a->facts.nzones; i++) {
        char zwhy[128];
        if (outreach_tz_db_load(tz, a->facts.zones[i], &zones[nz], zwhy, sizeof(zwhy)) == ARR_OK)
            nz++; /* an unknown zone leaves the others, or all US zones when none loads */
    }
    ca.regime = a->regime;
    ca.status = status_of(a->status);
    ca.zones = nz ? zones : NULL;
    ca.nzones = nz;
    ca.opted_out_ids = nopted ? opted : NULL;
    ca.nopted_out = nopted;
    ca.sms_consent_ms = a->sms_consent_ms;
    ca.voice_consent_ms = a->voice_consent_ms;
    ca.stop_received_ms = a->stop_ms;
    ca.attorney_represented = strcmp(a->status, "attorney") == 0;
    ca.cease_received = strcmp(a->status, "cease") == 0;
    ca.dispute_received_ms = a->dispute_ms;
    ca.original_creditor_request_ms = a->original_creditor_ms;
    ca.verification_sent_ms = a->verification_ms;
    ca.validation_notice_sent_ms = a->validation_ms;
    ca.first_communication_ms = a->first_contact_ms;

    outreach_compliance_contact hist[OUTREACH_BOOK_STEPS_MAX];
    size_t nh = 0;
    for (size_t i = 0; i < a->nsteps; i++) {
        const outreach_step *s = &a->steps[i];
        if (strcmp(s->status, "sent") != 0 || s->done_ms <= 0)
            continue;
        hist[nh++] = (outreach_compliance_contact){
            .channel = s->channel, .kind = s->kind, .outcome = outcome_of(s), .at_ms = s->done_ms};
    }
    outreach_compliance_policy pol;
    outreach_compliance_policy_default(&pol);
    const outreach_tenant *t = outreach_settings_tenant(settings, a->tenant);
    outreach_cadence_caps(t->cadence, &pol);
    outreach_compliance_candidate cand = {.channel = st->channel,
                                          .kind = st->kind,
                                          .address_id = *point ? (*point)->id : NULL,
                                          .mobile = *point ? (*point)->mobile : 0,
                                          .automated = st->channel == OUTREACH_COMPLIANCE_VOICE,
                                          .at_ms = at_ms};
    outreach_compliance_input in = {.candidate = &cand,
                                    .account = &ca,
                                    .history = nh ? hist : NULL,
                                    .nhistory = nh,
                                    .policy = &pol,
                                    .db = tz};
    arr_err e = outreach_compliance_decide(&in, d, why, whylen);
    if (e)
        return e;
    /* The law's reasons come first; then what the consumer has no point for; then our holds. */
    if (d->verdict != OUTREACH_COMPLIANCE_SUPPRESS && !*point) {
        d->verdict = OUTREACH_COMPLIANCE_SUPPRESS;
        d->rule_id = no_point_rule(st->channel);
        d->reason = "no usable contact point for the channel";
        d->until_ms = 0;
    } else if (d->verdict != OUTREACH_COMPLIANCE_SUPPRESS &&
               st->kind == OUTREACH_COMPLIANCE_REGULAR && a->promise_until_ms > at_ms &&
               (d->verdict == OUTREACH_COMPLIANCE_ALLOW || d->until_ms < a->promise_until_ms)) {
        d->verdict = OUTREACH_COMPLIANCE_DEFER;
        d->until_ms = a->promise_until_ms;
        d->rule_id = a->hold_rule[0] ? a->hold_rule : "promise.pending";
        d->reason = "the consumer promised to pay or said they paid: wait";
    }
    return ARR_OK;
}
