#!/usr/bin/env bash
# The audit trail end to end. The same generated portfolio, payments and campaign days run
# twice, each in a namespace of its own with every service (ingest via the CLI, scoring,
# reconciliation, outreach on the campaign clock with a real SMTP receiver and SMS provider
# stub, and the audit recorder): run A as it is, run B with a Redis FLUSHALL in the middle
# followed by `arrears cache rebuild`. Then:
#   - the audit store holds every event once (as many rows as distinct event ids published);
#   - `arrears account history` of a sample account lists its events in order, each with its
#     reason (the score's reason codes and versions, the contact's rule or template);
#   - `arrears replay --service scoring` over the whole run reproduces every recorded decision
#     exactly, in both runs (run B: the flush changed no decision);
#   - run B's recorder, killed with SIGKILL mid-run, loses and doubles nothing;
#   - the same replay with a changed strategy table reports differences and names the strategy
#     table version change as their cause;
#   - the reconciliation replay reproduces every allocation and unmatched payment, and names a
#     changed waterfall as the cause of the differences it then finds;
#   - run B ends in the same state as run A: balances, payments, scores and contact steps.
set -uo pipefail
. "$(dirname "$0")/lib.bash"
stamp=$(date +%s%N | tail -c 9)
cli="$ARR_BIN_DIR/arrears"
py=${ARR_PYTHON:-/usr/bin/python3}
n=${ARR_E2E_AUDIT_ACCOUNTS:-1200}
days=${ARR_E2E_AUDIT_DAYS:-8}
base=$((29300 + RANDOM % 40 * 6))
sid=AC$stamp token="tok-$stamp-0123456789"
sinks_pid=
namespaces=()
cleanup() {
  [[ -n $sinks_pid ]] && kill "$sinks_pid" 2>/dev/null
  local ns
  for ns in "${namespaces[@]}"; do ARR_TOPIC_PREFIX=$ns delete_namespace_topics; done
}
trap 'finish; rc=$?; cleanup; exit $rc' EXIT
q() { psql_q "$1"; }

mkdir -p "$E2E_TMP/sinks"
"$py" "$ARR_SOURCE_DIR/tests/e2e/outreach_sinks.py" --dir "$E2E_TMP/sinks" --auth "$sid:$token" \
  --quiet >"$E2E_TMP/sinks.out" 2>"$E2E_TMP/sinks.err" &
sinks_pid=$!
sinks_ready() { grep -q READY "$E2E_TMP/sinks.out"; }
check "the SMTP receiver and the provider stub start" wait_for 30 sinks_ready
export ARR_OUTREACH_TIME=campaign ARR_OUTREACH_SENDERS=2 ARR_OUTREACH_LEASE_MS=5000
export ARR_SMTP_URL="smtp://127.0.0.1:$(sed -n 's/^SMTP //p' "$E2E_TMP/sinks.out")"
export ARR_SMTP_FROM="collections@arrears.example"
export ARR_SMS_API_URL="http://127.0.0.1:$(sed -n 's/^HTTP //p' "$E2E_TMP/sinks.out")/2010-04-01/Accounts/$sid"
export ARR_SMS_ACCOUNT_SID=$sid ARR_SMS_AUTH_TOKEN=$token ARR_SMS_FROM=+15550001111
export ARR_OUTREACH_RATE_SMS=500/s ARR_OUTREACH_RATE_VOICE=200/s

"$ARR_BIN_DIR/gen-portfolio" --accounts "$n" --seed 23 --format jsonl --broken-rate 0 --quiet \
  --out "$E2E_TMP/portfolio.jsonl"

# The inputs of scoring and outreach that the audit store recorded but a service has not
# claimed yet: 0 when both have caught up with everything published so far.
unclaimed() {
  q "select count(*) from audit.events e where e.namespace = '$ns' and e.tenant in ('$tenant', 'system')
     and ((e.topic in ('arrears.accounts', 'arrears.payments.events', 'arrears.outreach.events',
          'arrears.outreach.replies', 'arrears.clock')
          and not exists (select 1 from scoring.inbox i where i.event_id = e.event_id))
       or (e.topic in ('arrears.scores', 'arrears.payments.events', 'arrears.clock')
          and not exists (select 1 from outreach.inbox i where i.event_id = e.event_id)))"
}
recorded() { q "select count(*) from audit.events where namespace = '$ns'"; }
# Quiet: nothing unclaimed and the audit store no longer growing.
quiet() {
  local a b
  a=$(recorded)
  sleep 1
  b=$(recorded)
  [[ $a == "$b" && $(unclaimed) == 0 ]]
}
day_done() {
  [[ $(q "select count(*) from outreach.campaign_clock where namespace = '$ns'
          and until_at >= '$1'::date + 1") == 1 ]] || return 1
  [[ $(q "select count(*) from outreach.steps where tenant = '$tenant' and status in ('planned', 'sending')
          and due_at < '$1'::date + 1") == 0 ]]
}

# campaign NAME PORT_BASE FLUSH_DAY: one whole run in its own namespace (FLUSH_DAY -1: none).
campaign() {
  local name=$1 port=$2 flush_day=$3 d day
  ns="e2a$stamp$name." tenant="aud$stamp$name"
  namespaces+=("$ns")
  export ARR_TOPIC_PREFIX=$ns
  "$cli" topics apply >/dev/null
  start_service audit $((port + 0)) au-$name-$stamp
  audit_pid=$E2E_LAST_PID
  start_service scoring $((port + 1)) sc-$name-$stamp
  start_service reconciliation $((port + 2)) rc-$name-$stamp
  start_service outreach $((port + 3)) ou-$name-$stamp
  for i in 0 1 2 3; do
    check "run $name: service on port $((port + i)) becomes ready" wait_for 60 ready $((port + i))
  done
  "$cli" ingest accounts "$E2E_TMP/portfolio.jsonl" --tenant "$tenant" \
    --mapping "$ARR_SOURCE_DIR/deploy/mappings/gen-portfolio.jsonl.json" --as-of 2026-11-01 \
    >"$E2E_TMP/ingest-$name.out" 2>&1
  placed=$(q "select count(*) from ingest.accounts where tenant = '$tenant'")
  check "run $name: the portfolio is placed ($placed accounts)" test "$placed" -gt $((n * 9 / 10))
  ledgers() { [[ $(q "select count(*) from reconciliation.ledger where tenant = '$tenant'") == "$placed" ]]; }
  check "run $name: every account has a ledger" wait_for 120 ledgers
  if [[ ! -s $E2E_TMP/pay/payments.jsonl ]]; then
    q "select account_id from ingest.accounts where tenant = '$tenant'" >"$E2E_TMP/accepted.txt"
    "$py" - "$E2E_TMP/accepted.txt" "$E2E_TMP/portfolio.jsonl" "$E2E_TMP/accepted.jsonl" <<'PY'
import json, sys
ids = set(open(sys.argv[1]).read().split())
with open(sys.argv[2]) as src, open(sys.argv[3], "w") as out:
    for line in src:
        if json.loads(line)["account_id"] in ids:
            out.write(line)
PY
    "$ARR_BIN_DIR/gen-payments" --portfolio "$E2E_TMP/accepted.jsonl" --seed 9 --tenant x \
      --payments $((n / 4)) --out-dir "$E2E_TMP/pay" --quiet
  fi
  check "run $name: scoring and outreach caught up with the placements" wait_for 180 quiet
  for ((d = 0; d < days; d++)); do
    day=$(date -u -d "$first_day + $d day" +%F)
    "$cli" clock tick --day "$day" >/dev/null
    if ((d == 2)); then
      "$cli" payments import "$E2E_TMP/pay/payments.jsonl" --format json --tenant "$tenant" \
        --wait 120 >"$E2E_TMP/pay-$name.out" 2>&1 || fail "run $name: payments import"
    fi
    if ((d == 1 && flush_day >= 0)); then
      # The recorder killed mid-day: restarted, it records what it missed, each event once.
      kill -KILL "$audit_pid"
      wait "$audit_pid" 2>/dev/null
      start_service audit $((port + 0)) au-$name-$stamp
      audit_pid=$E2E_LAST_PID
      check "run $name: the audit recorder killed (SIGKILL) on day $d is ready again" wait_for 60 ready "$port"
    fi
    if ((d == flush_day)); then
      redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" flushall >/dev/null
      "$cli" cache rebuild --tenant "$tenant" >"$E2E_TMP/rebuild-$name.out" 2>&1
      check "run $name: FLUSHALL on day $d, then the cache is rebuilt from PostgreSQL" \
        grep -Eq ' [1-9][0-9]* scheduled step' "$E2E_TMP/rebuild-$name.out"
    fi
    wait_for 120 day_done "$day" || fail "run $name: day $day: due steps are still open"
    wait_for 120 quiet || fail "run $name: day $day: the services did not catch up"
  done
  check "run $name: contacts went out" \
    test "$(q "select count(*) from outreach.steps where tenant = '$tenant' and status = 'sent'")" -gt 0
  stop_services
}

first_day=$(date -u +%F)
campaign a "$base" -1
ns_a=$ns tenant_a=$tenant
campaign b $((base + 10)) 4
ns_b=$ns tenant_b=$tenant

# Every event once: one row per distinct event id published in the namespace.
published=$(for t in $(kcat -b "$ARR_KAFKA_BROKERS" -L 2>/dev/null | sed -n "s/^ *topic \"\(${ns_b//./\\.}[^\"]*\)\".*/\1/p"); do
  kcat -b "$ARR_KAFKA_BROKERS" -C -t "$t" -o beginning -e -q -X isolation.level=read_committed -f '%s\n' 2>/dev/null |
    "$py" -c 'import sys, json
for l in sys.stdin:
    try: print(json.loads(l)["event_id"])
    except Exception: print("undecodable")'
done | sort -u | wc -l)
check "the audit store holds every published event once ($published)" \
  test "$(q "select count(*) from audit.events where namespace = '$ns_b'")" -eq "$published"

# One account's story: a paid account that was contacted.
acct=$(q "select s.account_id from outreach.steps s join reconciliation.ledger l using (tenant, account_id)
          where s.tenant = '$tenant_b' and s.status = 'sent' and l.applied_cents > 0
          order by s.account_id limit 1")
[[ -n $acct ]] || acct=$(q "select account_id from outreach.steps where tenant = '$tenant_b' and status = 'sent' order by 1 limit 1")
ARR_TOPIC_PREFIX=$ns_b "$cli" account history "$acct" --tenant "$tenant_b" --json >"$E2E_TMP/history.json" 2>"$E2E_TMP/history.err"
check "account history lists the account's events ($acct)" "$py" - "$E2E_TMP/history.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
types = [e["event_type"] for e in h]
times = [e["event_time"] for e in h]
assert times == sorted(times), "not in order"
assert "account.placed" in types, types[:3]
for t in ("score.computed", "outreach.planned", "outreach.sent"):
    assert t in types, t
assert all(e["summary"] for e in h), "an event without its reason"
PY
ARR_TOPIC_PREFIX=$ns_b "$cli" account history "$acct" --tenant "$tenant_b" >"$E2E_TMP/history.txt" 2>&1
check "each score in the history names its reason codes and versions" \
  grep -q 'strategy-default-1' "$E2E_TMP/history.txt"

for r in a b; do
  nsr=ns_$r tr=tenant_$r
  ARR_TOPIC_PREFIX=${!nsr} "$cli" replay --service scoring --tenant "${!tr}" --json \
    --shadow "$E2E_TMP/shadow-$r.jsonl" >"$E2E_TMP/replay-$r.json" 2>"$E2E_TMP/replay-$r.err"
  rc=$?
  check "run $r: the scoring replay reproduces every decision (exit $rc)" test "$rc" = 0
  check "run $r: ... and compared them all" "$py" - "$E2E_TMP/replay-$r.json" \
    "$(q "select count(*) from scoring.scores where tenant = '${!tr}'")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["compared"] == int(sys.argv[2]) and r["compared"] > 0, (r["compared"], sys.argv[2])
assert r["reproduced"] == r["compared"] and r["differed"] == 0 and r["unrecorded"] == 0, r
PY
done
check "the replay wrote its decisions to the shadow file only" test -s "$E2E_TMP/shadow-b.jsonl"

# Another strategy table: a different version that pursues small balances harder.
"$py" - "$ARR_SOURCE_DIR/deploy/strategy/default-1.json" "$E2E_TMP/strategy-2.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["version"] = "strategy-default-2"
for rule in t["rules"]:
    if rule["segment"] == "likely-small":
        rule["strategy"] = "digital-standard"
json.dump(t, open(sys.argv[2], "w"))
PY
ARR_TOPIC_PREFIX=$ns_b ARR_SCORING_STRATEGY="$E2E_TMP/strategy-2.json" "$cli" replay --service scoring \
  --tenant "$tenant_b" --json >"$E2E_TMP/replay-v2.json" 2>&1
rc=$?
check "with another strategy table the replay reports differences (exit $rc)" test "$rc" = 4
check "... and names the strategy table version change as their cause" "$py" - "$E2E_TMP/replay-v2.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["differed"] > 0, r
assert all("strategy table version changed: recorded strategy-default-1, replay strategy-default-2" in c
           for c in r["causes"]), r["causes"]
assert r["differences"][0]["field"], r["differences"][0]
PY

# The flushed run ends where the other did: every balance, every contact step with its status
# and rule, every score's strategy and segment. Not compared: event times (ingest stamps
# placements with the wall clock) and the probability of a day's re-score, which may or may
# not count a contact sent that same day depending on which of the two scoring consumed first
# (the replay above shows each run's scores follow exactly from the order they saw).
state() {
  q "select md5(string_agg(x, ',' order by x)) from (
       select account_id || ':' || balance_cents || ':' || applied_cents || ':' || reversed_cents as x
         from reconciliation.ledger where tenant = '$1'
       union all select account_id || ':' || cause_type || ':' || strategy || ':' || segment from scoring.scores where tenant = '$1'
       union all select account_id || ':' || coalesce(step_key, '') || ':' || channel || ':'
                        || status || ':' || coalesce(rule_id, '') from outreach.steps
                        where tenant = '$1') s"
}
check "run B (Redis flushed mid-run and rebuilt) ends in the same state as run A" \
  test "$(state "$tenant_a")" = "$(state "$tenant_b")"
