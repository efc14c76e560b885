#!/usr/bin/env bash
# Outreach end to end, in a namespace of its own, on the campaign clock: a generated portfolio
# is placed and scored, and 40 simulated days of cadences go out to a real SMTP receiver and a
# Twilio-shaped SMS and voice provider (tests/e2e/outreach_sinks.py, which also calls the
# status webhooks back). Two outreach replicas share the work; one is killed with SIGKILL in a
# busy day and started again; the provider stub refuses every 13th creation with a 503. A
# consumer texts STOP; another account is paid in full. Then:
#   - nothing is lost: every step due by the campaign's time is sent, suppressed, skipped or
#     failed, none left 'sending', and every suppression and skip names its rule;
#   - nothing is doubled: each sent email reached the receiver under one Message-ID, each sent
#     text and call was created once at the provider (its idempotency key), one outreach.sent
#     event per sent step;
#   - every contact went out between 08:00 and 21:00 in each of the consumer's zones (all US
#     zones when unknown), after the validation notice in third-party mode, with the opt-out
#     line, in the consumer's language;
#   - the schedule, deleted from Redis mid-campaign, is rebuilt from PostgreSQL
#     (arrears cache rebuild), and deleted again later without a rebuild, found again by the
#     senders' sweep: the campaign ends as if nothing happened;
#   - the STOP suppressed the account's next text at once, one confirmation went out, no text
#     after it; the payment suppressed the paid account's next step (status.paid) and nothing
#     reached it afterwards.
set -uo pipefail
. "$(dirname "$0")/lib.bash"
stamp=$(date +%s%N | tail -c 9)
export ARR_TOPIC_PREFIX="e2o$stamp."
cli="$ARR_BIN_DIR/arrears"
"$cli" topics apply >/dev/null
py=${ARR_PYTHON:-/usr/bin/python3}
sinks_pid=
cleanup() {
  [[ -n $sinks_pid ]] && kill "$sinks_pid" 2>/dev/null
  delete_namespace_topics
}
trap 'finish; rc=$?; cleanup; exit $rc' EXIT
q() { psql_q "$1"; }
n=${ARR_E2E_OUTREACH_ACCOUNTS:-1000}
days=${ARR_E2E_OUTREACH_DAYS:-40}
tenant="out$stamp"
secret="cb-$stamp-0123456789abcdef"
sid=AC$stamp token="tok-$stamp-0123456789"
base=$((29100 + RANDOM % 40 * 5))

mkdir -p "$E2E_TMP/sinks"
"$py" "$ARR_SOURCE_DIR/tests/e2e/outreach_sinks.py" --dir "$E2E_TMP/sinks" --auth "$sid:$token" \
  --callback-auth "$tenant:$secret" --fail-every 13 --quiet >"$E2E_TMP/sinks.out" 2>"$E2E_TMP/sinks.err" &
sinks_pid=$!
sinks_ready() { grep -q READY "$E2E_TMP/sinks.out"; }
check "the SMTP receiver and the provider stub start" wait_for 30 sinks_ready
smtp_port=$(sed -n 's/^SMTP //p' "$E2E_TMP/sinks.out")
http_port=$(sed -n 's/^HTTP //p' "$E2E_TMP/sinks.out")

export ARR_OUTREACH_TIME=campaign ARR_OUTREACH_SENDERS=2 ARR_OUTREACH_LEASE_MS=5000
export ARR_SMTP_URL="smtp://127.0.0.1:$smtp_port" ARR_SMTP_FROM="collections@arrears.example"
export ARR_SMS_API_URL="http://127.0.0.1:$http_port/2010-04-01/Accounts/$sid"
export ARR_SMS_ACCOUNT_SID=$sid ARR_SMS_AUTH_TOKEN=$token ARR_SMS_FROM=+15550001111
export ARR_OUTREACH_CALLBACK_SECRETS="$tenant:$secret"
export ARR_OUTREACH_CALLBACK_BASE="http://127.0.0.1:$((base + 3))"
export ARR_OUTREACH_RATE_SMS=200/s ARR_OUTREACH_RATE_VOICE=100/s
start_service scoring $((base + 1)) sc-$stamp
start_service reconciliation $((base + 2)) rc-$stamp
start_service outreach $((base + 3)) o1-$stamp
start_service outreach $((base + 4)) o2-$stamp
o2_pid=$E2E_LAST_PID
for i in 1 2 3 4; do
  check "service on port $((base + i)) becomes ready" wait_for 60 ready $((base + i))
done

"$ARR_BIN_DIR/gen-portfolio" --accounts "$n" --seed 17 --format jsonl --broken-rate 0 --quiet \
  --out "$E2E_TMP/portfolio.jsonl"
"$cli" ingest accounts "$E2E_TMP/portfolio.jsonl" --tenant "$tenant" \
  --mapping "$ARR_SOURCE_DIR/deploy/mappings/gen-portfolio.jsonl.json" --as-of 2026-11-01 \
  >"$E2E_TMP/ingest.out" 2>&1
placed=$(q "select count(*) from ingest.accounts where tenant = '$tenant'")
check "the portfolio is placed ($placed accounts)" test "$placed" -gt $((n * 9 / 10))

# Every scored account has its first step planned, or its run over with a rule.
all_planned() {
  [[ $(q "select count(*) from outreach.accounts a where tenant = '$tenant' and strategy is not null
          and debtor is not null and (run_over is not null or status <> 'open' or exists (select 1 from outreach.steps s
          where s.tenant = a.tenant and s.account_id = a.account_id))") == "$placed" ]]
}
check "every account is scored and planned" wait_for 180 all_planned
check "a planned step is announced as outreach.planned" \
  test "$(count_keys "${ARR_TOPIC_PREFIX}arrears.outreach.events" "$tenant/")" -gt 0

ns=$ARR_TOPIC_PREFIX
horizon() { q "select until_at from outreach.campaign_clock where namespace = '$ns'"; }
# A day is done when outreach has seen it begin and no step due before its end is still open.
day_done() {
  [[ $(q "select count(*) from outreach.campaign_clock where namespace = '$ns'
          and until_at >= '$1'::date + 1") == 1 ]] || return 1
  [[ $(q "select count(*) from outreach.steps where tenant = '$tenant' and status in ('planned', 'sending')
          and due_at < '$1'::date + 1") == 0 ]]
}
first_day=$(date -u +%F)
stop_at_day=6 pay_at_day=8 kill_at_day=2 flush_at_day=10 lose_at_day=14
stop_acct= stop_number= pay_acct= stop_ms=
for ((d = 0; d < days; d++)); do
  day=$(date -u -d "$first_day + $d day" +%F)
  "$cli" clock tick --day "$day" >/dev/null
  if ((d == kill_at_day)); then
    busy() { (($(q "select count(*) from outreach.steps where tenant = '$tenant' and status = 'sent'") > 20)); }
    wait_for 30 busy
    kill -KILL "$o2_pid"
    sleep 1
    start_service outreach $((base + 4)) o2-$stamp
    o2_pid=$E2E_LAST_PID
    check "the killed replica (SIGKILL on day $d) is ready again" wait_for 60 ready $((base + 4))
  fi
  if ((d == flush_at_day)); then
    # Redis is a cache: the schedule is lost, then rebuilt from PostgreSQL, mid-campaign.
    redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" --scan --pattern "arr:sched:$ns*" |
      xargs -r redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" del >/dev/null
    "$cli" cache rebuild --tenant "$tenant" >"$E2E_TMP/rebuild.out" 2>&1
    check "the schedule is rebuilt from PostgreSQL after its keys were deleted" \
      grep -Eq ' [1-9][0-9]* scheduled step' "$E2E_TMP/rebuild.out"
  fi
  if ((d == lose_at_day)); then
    # Lost again, and nobody rebuilds: the senders' sweep finds the due steps in PostgreSQL.
    redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" --scan --pattern "arr:sched:$ns*" |
      xargs -r redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" del >/dev/null
    check "due steps lost from Redis are found again by the senders' sweep" wait_for 60 day_done "$day"
  fi
  if ! wait_for 120 day_done "$day"; then
    fail "day $day: due steps are still open"
    break
  fi
  if ((d == stop_at_day)); then
    # A consumer with text consent and a text still to come replies STOP.
    read -r stop_acct stop_number < <(q "select a.account_id, p->>'number' from outreach.accounts a,
      jsonb_array_elements(a.debtor->'phones') p where a.tenant = '$tenant' and (p->>'sms_consent')::boolean
      and exists (select 1 from outreach.steps s where s.tenant = a.tenant and s.account_id = a.account_id
      and s.channel = 'sms' and s.status = 'planned' and s.due_at > '$day'::date + 1)
      order by a.account_id limit 1" | tr '|' ' ')
    stop_ms=$(($(date +%s%N) / 1000000))
    code=$(curl -s -o /dev/null -w '%{http_code}' -u "$tenant:$secret" \
      --data-urlencode "MessageSid=SMstop$stamp" --data-urlencode "From=$stop_number" \
      --data-urlencode "To=+15550001111" --data-urlencode "Body=Stop" \
      "http://127.0.0.1:$((base + 3))/v1/outreach/callbacks/$tenant/sms")
    check "the inbound STOP webhook is stored (200)" test "$code" = 200
    stopped() {
      [[ $(q "select count(*) from outreach.steps where tenant = '$tenant' and account_id = '$stop_acct'
              and channel = 'sms' and status = 'planned'") == 0 ]]
    }
    check "STOP suppresses the account's planned text at once" wait_for 30 stopped
    # The number is opted out (1006.6(e)) and its text consent revoked (TCPA): the opt-out
    # comes first in the engine's order.
    check "with the rule of the opt-out" test "$(q "select count(*) from outreach.steps where tenant = '$tenant'
      and account_id = '$stop_acct' and rule_id in ('regf.1006.6e.opted_out_address', 'tcpa.revoked_stop')")" -ge 1
    confirmed() {
      [[ $(q "select count(*) from outreach.steps where tenant = '$tenant' and account_id = '$stop_acct'
              and kind = 'opt_out_confirmation' and status = 'sent'") == 1 ]]
    }
    check "one opt-out confirmation text is sent" wait_for 30 confirmed
  fi
  if ((d == pay_at_day)); then
    read -r pay_acct pay_bal < <(q "select a.account_id, a.balance_cents from outreach.accounts a where
      a.tenant = '$tenant' and a.status = 'open' and a.balance_cents > 0 and a.account_id <> '$stop_acct'
      and exists (select 1 from outreach.steps s where s.tenant = a.tenant and s.account_id = a.account_id
      and s.status = 'planned' and s.due_at > '$day'::date + 1) order by a.account_id limit 1" | tr '|' ' ')
    "$cli" sample payment --tenant "$tenant" --account "$pay_acct" --amount-cents "$pay_bal" \
      --payment-id "pay-$stamp" >/dev/null
    paid_stop() {
      [[ $(q "select count(*) from outreach.steps where tenant = '$tenant' and account_id = '$pay_acct'
              and status = 'suppressed' and rule_id = 'status.paid' and stop_latency_ms is not null") -ge 1 ]]
    }
    check "a payment in full suppresses the account's next step (status.paid)" wait_for 60 paid_stop
    pay_horizon=$(horizon)
  fi
done
check "the campaign ran $days days" test "$d" -eq "$days"
sleep 3 # the last callbacks and the outbox relay

steps() { q "select count(*) from outreach.steps where tenant = '$tenant' $1"; }
sent=$(steps "and status = 'sent'")
check "contacts went out ($sent sent)" test "$sent" -gt "$placed"
check "no step is left 'sending'" test "$(steps "and status = 'sending'")" = 0
check "no step due by the campaign's time is left open" day_done "$day"
check "every suppression and skip names its rule" \
  test "$(steps "and status in ('suppressed', 'skipped', 'failed') and rule_id is null")" = 0
deferred=$(kcat -b "$ARR_KAFKA_BROKERS" -C -t "${ARR_TOPIC_PREFIX}arrears.outreach.events" -e -q \
  -f '%s\n' 2>/dev/null | grep -c '"event_type":"outreach.deferred".*regf.1006.6b1.inconvenient_time' || true)
check "outreach.deferred events name the time rule ($deferred)" test "$deferred" -gt 0
q "select step_id || ' ' || channel || ' ' || kind || ' ' || account_id || ' ' || coalesce(lang, '')
   from outreach.steps where tenant = '$tenant' and status = 'sent'" >"$E2E_TMP/sent.txt"
kcat -b "$ARR_KAFKA_BROKERS" -C -t "${ARR_TOPIC_PREFIX}arrears.outreach.events" -e -q -f '%s\n' \
  2>/dev/null >"$E2E_TMP/events.jsonl"

# Nothing doubled, nothing lost, every message as the law and the consumer want it.
"$py" - "$E2E_TMP" "$tenant" "${stop_number:-none}" "${stop_ms:-0}" >"$E2E_TMP/verdicts.txt" <<'PY'
import json, sys, os
tmp, tenant, stop_number, stop_ms = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sent = {}
for line in open(os.path.join(tmp, "sent.txt")):
    step, channel, kind, account, lang = (line.split() + [""])[:5]
    sent[step] = (channel, kind, account, lang)
def jl(name):
    p = os.path.join(tmp, "sinks", name)
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
pre = tenant + "."
emails = [e for e in jl("emails.jsonl") if e.get("message_id", "").startswith("<" + pre)]
msgs = [m for m in jl("messages.jsonl") if (m.get("key") or "").startswith(pre) and m.get("sid")]
calls = [c for c in jl("calls.jsonl") if (c.get("key") or "").startswith(pre) and c.get("sid")]
def step_of(key): return key.split(".", 1)[1].split("@")[0]
def verdict(name, ok, detail=""): print(("ok" if ok else "FAIL"), name, detail)
want = {c: {s for s, v in sent.items() if v[0] == c} for c in ("email", "sms", "voice")}
got_e = {step_of(e["message_id"].strip("<>")) for e in emails}
got_m = {step_of(m["key"]) for m in msgs if not m.get("repeat")}
got_c = {step_of(c["key"]) for c in calls if not c.get("repeat")}
verdict("every sent email reached the receiver, under one Message-ID each", got_e == want["email"],
        f"{len(got_e)} ids for {len(want['email'])} sent; {len(emails) - len(got_e)} repeats")
verdict("every sent text was created once at the provider", got_m == want["sms"] and
        len([m for m in msgs if not m.get("repeat")]) == len(got_m), f"{len(got_m)} for {len(want['sms'])}")
verdict("every sent call was created once at the provider", got_c == want["voice"] and
        len([c for c in calls if not c.get("repeat")]) == len(got_c), f"{len(got_c)} for {len(want['voice'])}")
ev = {}
for l in open(os.path.join(tmp, "events.jsonl")):
    try: e = json.loads(l)
    except ValueError: continue
    if e.get("tenant") == tenant and e.get("event_type") == "outreach.sent":
        ev.setdefault(e["payload"]["step_id"], set()).add(e["event_id"])
verdict("one outreach.sent event per sent step", set(ev) == set(sent) and all(len(v) == 1 for v in ev.values()),
        f"{len(ev)} steps announced for {len(sent)} sent")
bad_opt = [e for e in emails if "To stop emails, reply STOP" not in e["text"]
           and "Para dejar de recibir correos, responda STOP" not in e["text"]]
verdict("every email carries the opt-out line", not bad_opt, f"{len(bad_opt)} without")
es = [e for e in emails if sent.get(step_of(e["message_id"].strip("<>")), ("", "", "", ""))[3] == "es"]
verdict("Spanish-speaking consumers get Spanish email", es and all(e.get("lang") == "es" for e in es), f"{len(es)} in Spanish")
bad_sms = [m for m in msgs if sent.get(step_of(m["key"]), ("", "regular"))[1] == "regular"
           and "Reply STOP to opt out." not in m["body"] and "Responda STOP para cancelar." not in m["body"]]
verdict("every reminder text carries the opt-out line", not bad_sms, f"{len(bad_sms)} without")
if stop_ms:
    after = [m for m in msgs if m["to"] == stop_number and m["received_ms"] > stop_ms
             and sent.get(step_of(m["key"]), ("", ""))[1] != "opt_out_confirmation"]
    verdict("no text reached the number after its STOP but the confirmation", not after, f"{len(after)} after")
PY
while read -r result what; do
  if [[ $result == ok ]]; then ok "$what"; else fail "$what"; fi
done <"$E2E_TMP/verdicts.txt"

retried=$(grep -c '"event_type":"outreach.failed".*"retriable":true' "$E2E_TMP/events.jsonl" || true)
check "the provider's transient failures (every 13th creation answers 503) were retried ($retried)" \
  test "$retried" -gt 0
outside=$(q "with z as (select s.done_at, coalesce(nullif(a.debtor->'timezones', '[]'::jsonb),
  '[\"America/Puerto_Rico\",\"America/New_York\",\"America/Chicago\",\"America/Denver\",\"America/Phoenix\",\"America/Los_Angeles\",\"America/Anchorage\",\"Pacific/Honolulu\"]'::jsonb) zs
  from outreach.steps s join outreach.accounts a using (tenant, account_id)
  where s.tenant = '$tenant' and s.status = 'sent' and s.kind <> 'opt_out_confirmation')
  select count(*) from z, jsonb_array_elements_text(zs) tz
  where extract(hour from done_at at time zone tz) < 8 or extract(hour from done_at at time zone tz) >= 21")
check "every contact went out between 08:00 and 21:00 in each of the consumer's zones" test "$outside" = 0
early=$(q "select count(*) from outreach.steps s join outreach.accounts a using (tenant, account_id)
  where s.tenant = '$tenant' and a.regime = 'third_party' and s.status = 'sent' and s.kind = 'regular'
  and (a.validation_at is null or a.validation_at > s.done_at)")
check "third-party mode: no reminder before the validation notice" test "$early" = 0
if [[ -n $pay_acct ]]; then
  check "nothing reached the paid account after its payment" test "$(q "select count(*) from outreach.steps
    where tenant = '$tenant' and account_id = '$pay_acct' and status = 'sent'
    and done_at >= '$pay_horizon'")" = 0
fi
callbacks=$(steps "and (delivery is not null or call_outcome is not null)")
check "provider status callbacks reached their steps ($callbacks)" test "$callbacks" -gt 0
