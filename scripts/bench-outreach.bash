# scripts/bench outreach (sourced by scripts/bench, which has built and started everything):
# N generated accounts placed in a namespace of its own (ARR_TOPIC_PREFIX), scored by one
# scoring replica and planned by two outreach replicas on the campaign clock, then sent over the
# first ARR_BENCH_SEND_DAYS (3) campaign days to a real SMTP receiver and a Twilio-shaped HTTP
# stub (tests/e2e/outreach_sinks.py), then K payments in full stopping the accounts' next steps.
#   planned/s: from the first score committed to every placed account planned (a step, or its
#              run over, or outreach ended), polled twice a second; scoring's part on its own;
#   sent/s:    steps the two replicas sent (their counter; the rows are shown too) over the wall
#              time from the first day's tick to no step due before the campaign's time still
#              open (capped by ARR_BENCH_SEND_LIMIT_S, 600: then what went out in that time);
#   stop:      payment.applied produced -> the account's planned step suppressed (status.paid),
#              as outreach records it (stop_latency_ms): median, p99, max;
# and the raw ceilings in the same run: kcat consuming the namespace's score events and producing
# them again, psql \copy of the same outreach.steps rows, redis-benchmark (pipelined), and what
# the sinks received, with the cores each part used (the sinks are one Python process: one core
# is their limit).
# Scoring is stopped before the first tick, so that the sending figures are outreach's alone (a
# clock day would re-score the tenant's accounts); the tenant's scoring.accounts rows are
# deleted at exit with the rest of the namespace. Other arrears processes on the machine (tests
# in other namespaces) share the cores and the database: the table counts them and says so.
. scripts/bench-lib.bash
stamp=$(date +%Y%m%d%H%M%S)
ns="bencho$stamp." tenant="bencho$stamp"
export ARR_TOPIC_PREFIX=$ns
send_days=${ARR_BENCH_SEND_DAYS:-3}
send_limit=${ARR_BENCH_SEND_LIMIT_S:-600}
stall_limit=${ARR_BENCH_STALL_S:-300} # no progress for that long while planning: give up
echo "bench outreach: $accounts accounts, $(nproc) cores, $(date -u +%FT%TZ)"
sinks_pid=
bench_logs="var/bench/outreach[12].log, var/bench/scoring-outreach.log"
cleanup_ns() {
  stop_services
  if [[ -n $sinks_pid ]]; then kill -TERM "$sinks_pid" 2>/dev/null || true; wait "$sinks_pid" 2>/dev/null || true; fi
  delete_ns_topics "$ns"
  unlink_ns_schedule "$ns"
  rm -f var/bench/outreach-steps.copy var/bench/stack-ticks0.txt var/bench/stack-ticks1.txt
  q "delete from scoring.accounts where tenant = '$tenant'" >/dev/null 2>&1 || true
  if ((started)); then scripts/stack down >/dev/null || true; fi
}
trap cleanup_ns EXIT
trap 'exit 143' TERM  # so that the EXIT trap cleans up after a kill too
trap 'exit 130' INT
alive_more() { kill -0 "$sinks_pid" 2>/dev/null || die "the sinks died: see $sinks/stderr"; }

"$bin/arrears" topics apply >/dev/null
portfolio=var/bench/portfolio-$accounts.jsonl
[[ -s $portfolio ]] || "$bin/gen-portfolio" --accounts "$accounts" --seed 1 --format jsonl --broken-rate 0 --out "$portfolio" --quiet

# The outside world: an SMTP receiver and the provider stub, which calls the webhooks back.
sinks=var/bench/sinks-$stamp
mkdir -p "$sinks"
sid="AC$stamp" token="tok-$stamp-0123456789" secret="cb-$stamp-0123456789abcdef"
/usr/bin/python3 tests/e2e/outreach_sinks.py --dir "$sinks" --auth "$sid:$token" \
  --callback-auth "$tenant:$secret" --quiet >"$sinks/stdout" 2>"$sinks/stderr" &
sinks_pid=$!
for ((i = 0; i < 300; i++)); do
  grep -q READY "$sinks/stdout" 2>/dev/null && break
  kill -0 "$sinks_pid" 2>/dev/null || die "the sinks did not start: $(cat "$sinks/stderr")"
  sleep 0.1
done
grep -q READY "$sinks/stdout" || die "the sinks are not ready after 30 s"
smtp_port=$(sed -n 's/^SMTP //p' "$sinks/stdout")
http_port=$(sed -n 's/^HTTP //p' "$sinks/stdout")

# Placement (not timed): the export into the namespace, nothing consuming it yet.
t0=$(now)
"$bin/arrears" ingest accounts "$portfolio" --tenant "$tenant" --mapping deploy/mappings/gen-portfolio.jsonl.json \
  --as-of 2026-11-01 >var/bench/ingest-outreach.out 2>&1 || die "ingest failed: var/bench/ingest-outreach.out"
ingest_s=$(secs "$t0" "$(now)")
placed=$(q "select accepted from ingest.imports where tenant = '$tenant'")
((placed > 0)) || die "nothing placed"

# Two outreach replicas (peak RSS each), ready before scoring starts.
base=$((28600 + RANDOM % 30 * 3))
sc_port=$base o_ports=($((base + 1)) $((base + 2)))
start_outreach() { # REPLICA (1 or 2)
  ARR_INSTANCE="bench-o$1-$stamp" ARR_HTTP_PORT=${o_ports[$1 - 1]} \
    ARR_OUTREACH_TIME=campaign ARR_OUTREACH_SENDERS=2 \
    ARR_SMTP_URL="smtp://127.0.0.1:$smtp_port" \
    ARR_SMS_API_URL="http://127.0.0.1:$http_port/2010-04-01/Accounts/$sid" \
    ARR_SMS_ACCOUNT_SID=$sid ARR_SMS_AUTH_TOKEN=$token ARR_SMS_FROM=+15550001111 \
    ARR_OUTREACH_CALLBACK_SECRETS="$tenant:$secret" ARR_OUTREACH_CALLBACK_BASE="http://127.0.0.1:${o_ports[0]}" \
    spawn "outreach$1" "$bin/arrears-outreach"
}
start_outreach 1
start_outreach 2
for port in "${o_ports[@]}"; do wait_ready "$port" outreach; done
o_pid=($(pgrep -P "${pids[0]}") $(pgrep -P "${pids[1]}"))
mine+=("${o_pid[@]}")
note_foreign
ARR_INSTANCE="bench-osc-$stamp" ARR_HTTP_PORT=$sc_port spawn scoring-outreach "$bin/arrears-scoring"
sc_time_pid=${pids[-1]}

# 2. Planned per second, from the first score committed.
until (($(metric "$sc_port" arrears_events_published_total) >= 1)); do alive; sleep 0.05; done
t0=$(now)
sc_pid=$(pgrep -P "$sc_time_pid" || echo "$sc_time_pid")
mine+=("$sc_pid")
read -r mb0 mt0 <<<"$(machine)"
o0=$(($(ticks "${o_pid[0]}") + $(ticks "${o_pid[1]}"))) s0=$(ticks "$sc_pid")
stack_snap var/bench/stack-ticks0.txt
head_start=$(q "select count(*) from outreach.accounts where tenant = '$tenant' and debtor is not null")
t_scored= last=-1 moved=$SECONDS
while :; do
  alive
  if [[ -z $t_scored ]] && (($(metric "$sc_port" arrears_events_published_total) >= placed)); then
    t_scored=$(now)
  fi
  planned=$(planned_count "$tenant")
  ((planned >= placed)) && break
  if ((planned != last)); then
    last=$planned moved=$SECONDS
  elif ((SECONDS - moved > stall_limit)); then
    die "planning stalled at $planned of $placed accounts for ${stall_limit}s"
  fi
  sleep 0.5 # the count costs PostgreSQL: twice a second at most
done
t1=$(now) t_end_plan=$t1
note_foreign
read -r mb1 mt1 <<<"$(machine)"
o1=$(($(ticks "${o_pid[0]}") + $(ticks "${o_pid[1]}"))) s1=$(ticks "$sc_pid")
stack_snap var/bench/stack-ticks1.txt
t_scored=${t_scored:-$t1}
plan_s=$(secs "$t0" "$t1")
plan_rate=$(rate "$placed" "$plan_s")
score_s=$(secs "$t0" "$t_scored")
score_rate=$(rate "$placed" "$score_s")
planned_steps=$(q "select count(*) from outreach.steps where tenant = '$tenant' and status = 'planned'")
steps_rate=$(rate "$planned_steps" "$plan_s")
plan_o_cores=$(cores_used $((o1 - o0)) "$plan_s")
plan_sc_cores=$(cores_used $((s1 - s0)) "$plan_s")
plan_busy=$(busy_pct $((mb1 - mb0)) $((mt1 - mt0)))
plan_stack=$(stack_cores var/bench/stack-ticks0.txt var/bench/stack-ticks1.txt "$plan_s")
# Scoring goes before the clock moves (see the top); its scores are all on the topic.
stop_scoring() { pkill -TERM -P "$sc_time_pid" 2>/dev/null || true; wait "$sc_time_pid" 2>/dev/null || true; }
stop_scoring
pids=("${pids[@]:0:2}")
scores_rows=$(q "select count(*) from scoring.scores where tenant = '$tenant'")
sc_rss=$(rss_of scoring-outreach)
# The rows the \copy ceiling loads: the steps as planning left them.
psql "$ARR_PG_CONNINFO" -XAtq -c "\\copy (select * from outreach.steps where tenant = '$tenant') to 'var/bench/outreach-steps.copy'"
copy_rows=$(wc -l <var/bench/outreach-steps.copy)

# 3. Sent per second over the first days of the campaign, one day at a time.
open_sql="select count(*) from outreach.steps where tenant = '$tenant' and status in ('planned', 'sending')
  and due_at < (select until_at from outreach.campaign_clock where namespace = '$ns')"
first_day=$(date -u +%F)
capped=0 days_done=0
t0=$(now)
read -r mb0 mt0 <<<"$(machine)"
o0=$(($(ticks "${o_pid[0]}") + $(ticks "${o_pid[1]}"))) k0=$(ticks "$sinks_pid")
stack_snap var/bench/stack-ticks0.txt
sent_m0=$(($(metric "${o_ports[0]}" arrears_outreach_sent_total) + $(metric "${o_ports[1]}" arrears_outreach_sent_total)))
deadline=$((SECONDS + send_limit))
for ((d = 0; d < send_days; d++)); do
  day=$(date -u -d "$first_day + $d day" +%F)
  "$bin/arrears" clock tick --day "$day" >/dev/null
  while :; do
    alive
    # done once outreach has seen the day begin and nothing due before its end is open
    if [[ $(q "select count(*) from outreach.campaign_clock where namespace = '$ns' and until_at >= '$day'::date + 1") == 1 ]] &&
      [[ $(q "$open_sql") == 0 ]]; then
      break
    fi
    if ((SECONDS >= deadline)); then capped=1; break; fi
    note_foreign
    sleep 0.5
  done
  ((capped)) && break
  days_done=$((d + 1))
done
t1=$(now)
read -r mb1 mt1 <<<"$(machine)"
o1=$(($(ticks "${o_pid[0]}") + $(ticks "${o_pid[1]}"))) k1=$(ticks "$sinks_pid")
stack_snap var/bench/stack-ticks1.txt
send_s=$(secs "$t0" "$t1")
IFS='|' read -r sent suppressed skipped failed sending still_planned sent_email sent_sms sent_voice <<<"$(q "
  select count(*) filter (where status = 'sent'), count(*) filter (where status = 'suppressed'),
    count(*) filter (where status = 'skipped'), count(*) filter (where status = 'failed'),
    count(*) filter (where status = 'sending'), count(*) filter (where status = 'planned'),
    count(*) filter (where status = 'sent' and channel = 'email'), count(*) filter (where status = 'sent' and channel = 'sms'),
    count(*) filter (where status = 'sent' and channel = 'voice')
  from outreach.steps where tenant = '$tenant'")"
# Sent by the two replicas measured (their counter): this tenant's rows may also have been sent
# by another namespace's replicas (see the top), which the rows would count.
sent_m=$(($(metric "${o_ports[0]}" arrears_outreach_sent_total) + $(metric "${o_ports[1]}" arrears_outreach_sent_total) - sent_m0))
send_rate=$(rate "$sent_m" "$send_s")
deferred=$(($(metric "${o_ports[0]}" arrears_outreach_deferred_total) + $(metric "${o_ports[1]}" arrears_outreach_deferred_total)))
m_suppressed=$(($(metric "${o_ports[0]}" arrears_outreach_suppressed_total) + $(metric "${o_ports[1]}" arrears_outreach_suppressed_total)))
m_failed=$(($(metric "${o_ports[0]}" arrears_outreach_failed_total) + $(metric "${o_ports[1]}" arrears_outreach_failed_total)))
send_o_cores=$(cores_used $((o1 - o0)) "$send_s")
send_k_cores=$(cores_used $((k1 - k0)) "$send_s")
send_busy=$(busy_pct $((mb1 - mb0)) $((mt1 - mt0)))
send_stack=$(stack_cores var/bench/stack-ticks0.txt var/bench/stack-ticks1.txt "$send_s")
stats_send=$(curl -s -m 5 "http://127.0.0.1:$http_port/control/stats" || echo '{}')

# 4. Payment -> suppression: K accounts with a step still to come are paid in full.
want_k=$((accounts / 10 < 2000 ? accounts / 10 : 2000))
q "select a.account_id || ' ' || a.balance_cents from outreach.accounts a where a.tenant = '$tenant'
   and a.status = 'open' and a.balance_cents > 0 and exists (select 1 from outreach.steps s
   where s.tenant = a.tenant and s.account_id = a.account_id and s.status = 'planned'
   and s.due_at > (select until_at from outreach.campaign_clock where namespace = '$ns'))
   order by a.account_id limit $want_k" >var/bench/outreach-paid.txt
k=$(wc -l <var/bench/outreach-paid.txt)
pay_s=0 stopped=0 p50=0 p99=0 pmax=0
if ((k > 0)); then
  t0=$(now)
  python3 - "$tenant" "$stamp" var/bench/outreach-paid.txt <<'PY' |
import datetime, json, sys, uuid
tenant, stamp, path = sys.argv[1:4]
def ts():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
out = sys.stdout
for i, line in enumerate(open(path)):
    account, balance = line.split()
    eid = str(uuid.uuid4())
    now = ts()
    env = {"event_id": eid, "event_type": "payment.applied", "schema_version": 1,
           "tenant": tenant, "account": account, "event_time": now, "produced_at": now,
           "causation_id": None, "correlation_id": eid,
           "producer": {"service": "reconciliation", "version": "bench", "instance": "bench"},
           "payload": {"payment_id": "bench-%s-%d" % (stamp, i), "amount_cents": int(balance),
                       "currency": "USD", "balance_after_cents": 0, "status_after": "paid"}}
    out.write("%s/%s\t%s\n" % (tenant, account, json.dumps(env, separators=(",", ":"))))
PY
    kcat -b "$ARR_KAFKA_BROKERS" -P -t "${ns}arrears.payments.events" -K $'\t' -X enable.idempotence=true -X linger.ms=5
  # Done when every account paid is marked so and none of them has a step open: normally each
  # had one step planned, now suppressed (status.paid) with its latency.
  deadline=$((SECONDS + 300))
  until paid_done "$tenant" "$k" || ((SECONDS >= deadline)); do alive; sleep 0.5; done
  pay_s=$(secs "$t0" "$(now)")
  stopped=$(stopped_count "$tenant")
  IFS='|' read -r p50 p99 pmax <<<"$(stop_latencies "$tenant")"
fi
sleep 2 # the last status callbacks
stats=$(curl -s -m 5 "http://127.0.0.1:$http_port/control/stats" || echo '{}')
dlq=$({ kcat -b "$ARR_KAFKA_BROKERS" -C -t "${ns}arrears.outreach.dlq" -o beginning -e -q -f '.\n' 2>/dev/null || true; } | wc -l)
stop_services
rss1=$(rss_of outreach1)
rss2=$(rss_of outreach2)
log_errors=$(cat var/bench/outreach[12].log | grep -c '"level":"error"' || true)
log_warns=$(cat var/bench/outreach[12].log | grep -c '"level":"warn' || true)

# 5. Ceilings, on the same machine, the services stopped.
# (a) kcat consuming the namespace's score events and producing them again (like bench scoring).
scratch="${ns}kcat"
ARR_TOPIC_PREFIX= "$bin/arrears" topics create "$scratch" --partitions 12 >/dev/null
t0=$(now)
kcat -b "$ARR_KAFKA_BROKERS" -C -t "${ns}arrears.scores" -o beginning -e -q -X isolation.level=read_committed \
  -f '%k\t%s\n' 2>/dev/null |
  kcat -b "$ARR_KAFKA_BROKERS" -P -t "$scratch" -K $'\t' -X enable.idempotence=true -X linger.ms=5 -X compression.type=lz4
t1=$(now)
kcat_s=$(secs "$t0" "$t1")
kcat_n=$(kcat -b "$ARR_KAFKA_BROKERS" -C -t "$scratch" -o beginning -e -q -f '.\n' 2>/dev/null | wc -l)
kcat_rate=$(rate "$kcat_n" "$kcat_s")
# (b) psql \copy of the same outreach.steps rows into a table shaped like outreach.steps.
copy_s=$(copy_ceiling public.bench_copy outreach.steps var/bench/outreach-steps.copy)
copy_rate=$(rate "$copy_rows" "$copy_s")
rm -f var/bench/outreach-steps.copy
# (c) Redis, pipelined 16 deep.
read -r redis_set redis_zadd <<<"$(redis_ceiling 200000 set,zadd)"
# (d) the sinks: what they received.
jget() { python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2], 0))' "$1" "$2" 2>/dev/null || echo 0; }
emails=$(jget "$stats_send" emails) texts=$(jget "$stats_send" messages_created) calls=$(jget "$stats_send" calls_created)
received=$((emails + texts + calls))
sinks_rate=$(rate "$received" "$send_s")
cb_ok=$(jget "$stats" callbacks_ok) cb_failed=$(jget "$stats" callbacks_failed) cb_pending=$(jget "$stats" callbacks_pending)
repeats=$(($(jget "$stats" email_repeats) + $(jget "$stats" message_repeats) + $(jget "$stats" call_repeats)))

slower=$((copy_rate < kcat_rate ? copy_rate : kcat_rate))
verdict=$(awk -v k="$send_k_cores" -v o="$send_o_cores" -v m="$send_busy" 'BEGIN {
  if (k >= 0.85) print "the sinks (one Python process: one core at most) are the limit of sent/s"
  else if (m >= 90) printf "the machine is saturated: outreach %.2f cores, the sinks %.2f, the rest PostgreSQL, Kafka, Redis\n", o, k
  else print "neither the sinks nor the cores are saturated: sent/s is bounded by outreach'"'"'s round trips" }')
w=66
printf '\n%-*s %12s %10s\n' $w "measure ($placed placed accounts)" "per second" "seconds"
printf '%-*s %12s %10s\n' $w "arrears-outreach, 2 replicas: first score -> every account planned" "$plan_rate" "$plan_s"
printf '%-*s %12s %10s\n' $w "  planned steps (status planned) in that time: $planned_steps" "$steps_rate" "$plan_s"
printf '%-*s %12s %10s\n' $w "  of which scoring, 1 replica: first score -> last score committed" "$score_rate" "$score_s"
printf '%-*s %12s %10s\n' $w "  outreach's tail: last score committed -> every account planned" "" "$(secs "$t_scored" "$t_end_plan")"
printf '%-*s %12s %10s\n' $w "arrears-outreach: steps sent, $days_done of $send_days day(s)$( ((capped)) && echo ", capped")" "$send_rate" "$send_s"
printf '%-*s %12s\n' $w "  sent by the 2 replicas (their counter)" "$sent_m"
printf '%-*s %12s\n' $w "  rows sent: $sent_email emails, $sent_sms texts, $sent_voice calls" "$sent"
printf '%-*s %12s\n' $w "  deferred when due (outreach.deferred, both replicas)" "$deferred"
printf '%-*s %12s\n' $w "  suppressed / skipped / failed / left sending (rows)" "$suppressed / $skipped / $failed / $sending"
printf '%-*s %12s %10s\n' $w "payments applied, $k accounts; next step suppressed (status.paid): $stopped" "$(rate "$k" "$pay_s")" "$pay_s"
printf '%-*s %12s\n' $w "  stop latency ms: median / p99 / max" "$p50 / $p99 / $pmax"
printf '%-*s %12s %10s\n' $w "ceiling: kcat consume | kcat produce of the $kcat_n score events" "$kcat_rate" "$kcat_s"
printf '%-*s %12s %10s\n' $w "ceiling: psql \\copy of the same $copy_rows outreach.steps rows" "$copy_rate" "$copy_s"
printf '%-*s %12s\n' $w "ceiling: redis-benchmark SET, pipelined 16" "$redis_set"
printf '%-*s %12s\n' $w "ceiling: redis-benchmark ZADD, pipelined 16" "$redis_zadd"
printf '%-*s %12s %10s\n' $w "sinks received: $emails emails, $texts texts, $calls calls" "$sinks_rate" "$send_s"
printf '%-*s %12s\n' $w "  status callbacks ok / failed / pending; repeats at the sinks" "$cb_ok / $cb_failed / $cb_pending; $repeats"
printf '%-*s %12s\n' $w "planned/s, ratio to the slower of kcat and \\copy" "$(ratio "$plan_rate" "$slower")"
printf '%-*s %12s\n' $w "sent/s, ratio to what the sinks received per second" "$(ratio "$send_rate" "$sinks_rate")"
printf '%-*s %12s\n' $w "cores used while planning: outreach (both) / scoring" "$plan_o_cores / $plan_sc_cores"
printf '%-*s %12s\n' $w "  PostgreSQL / Kafka / Redis; machine busy" "$plan_stack; $plan_busy%"
printf '%-*s %12s\n' $w "cores used while sending: outreach (both) / sinks" "$send_o_cores / $send_k_cores"
printf '%-*s %12s\n' $w "  PostgreSQL / Kafka / Redis; machine busy" "$send_stack; $send_busy%"
echo "  -> $verdict"
printf '%-*s %9s MiB\n' $w "peak resident memory of outreach replica 1" "$((rss1 / 1024))"
printf '%-*s %9s MiB\n' $w "peak resident memory of outreach replica 2" "$((rss2 / 1024))"
printf '%-*s %9s MiB\n' $w "peak resident memory of the scoring replica" "$((sc_rss / 1024))"
if ((sent > sent_m)); then
  echo "  !! $((sent - sent_m)) of the tenant's steps were sent by replicas of other namespaces (their clock days re-score every namespace's accounts)"
fi
if ((foreign_max > 0)); then
  echo "  !! $foreign_max other arrears process(es) ran on this machine during the bench: the figures share the cores and the database with them"
fi
echo "placement (not timed): ${ingest_s}s; accounts outreach had placed before the first score: $head_start"
echo "outreach logs: $log_errors error(s), $log_warns warning(s) (var/bench/outreach1.log, outreach2.log); dead letters: $dlq"
out=var/bench/outreach-$stamp.json
cat >"$out" <<JSON
{"bench": "outreach", "accounts": $accounts, "placed": $placed, "date": "$(date -u +%FT%TZ)", "cores": $(nproc),
 "tenant": "$tenant", "namespace": "$ns", "ingest_s": $ingest_s, "placed_before_first_score": $head_start,
 "planned_per_s": $plan_rate, "planned_s": $plan_s, "planned_steps": $planned_steps, "planned_steps_per_s": $steps_rate,
 "scoring_per_s": $score_rate, "scoring_s": $score_s, "scoring_rows": $scores_rows,
 "planning_cores_outreach": $plan_o_cores, "planning_cores_scoring": $plan_sc_cores, "planning_machine_busy_pct": $plan_busy,
 "planning_cores_pg_kafka_redis": "$plan_stack",
 "send_days": $send_days, "send_days_done": $days_done, "send_capped": $capped, "send_limit_s": $send_limit,
 "sent": $sent, "sent_by_replicas": $sent_m, "foreign_arrears_processes": $foreign_max, "sent_email": $sent_email, "sent_sms": $sent_sms, "sent_voice": $sent_voice,
 "sent_per_s": $send_rate, "send_s": $send_s, "deferred": $deferred, "suppressed": $suppressed,
 "suppressed_metric": $m_suppressed, "skipped": $skipped, "failed": $failed, "failed_metric": $m_failed,
 "left_sending": $sending, "left_planned": $still_planned,
 "sending_cores_outreach": $send_o_cores, "sending_cores_sinks": $send_k_cores, "sending_machine_busy_pct": $send_busy,
 "sending_cores_pg_kafka_redis": "$send_stack",
 "payments": $k, "payments_stopped": $stopped, "payments_s": $pay_s,
 "stop_latency_ms_p50": ${p50:-0}, "stop_latency_ms_p99": ${p99:-0}, "stop_latency_ms_max": ${pmax:-0},
 "kcat_events": $kcat_n, "kcat_per_s": $kcat_rate, "kcat_s": $kcat_s,
 "copy_rows": $copy_rows, "copy_per_s": $copy_rate, "copy_s": $copy_s,
 "redis_set_per_s": ${redis_set:-0}, "redis_zadd_per_s": ${redis_zadd:-0},
 "sinks_received": $received, "sinks_per_s": $sinks_rate, "sinks_at_send_end": $stats_send, "sinks_at_end": $stats,
 "planned_ratio_to_slower_ceiling": $(ratio "$plan_rate" "$slower"), "sent_ratio_to_sinks": $(ratio "$send_rate" "$sinks_rate"),
 "peak_rss_kib_outreach1": $rss1, "peak_rss_kib_outreach2": $rss2, "peak_rss_kib_scoring": $sc_rss,
 "log_errors": $log_errors, "log_warnings": $log_warns, "dead_letters": $dlq}
JSON
echo "results: $out"
