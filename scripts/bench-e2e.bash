# scripts/bench e2e (sourced by scripts/bench, which has built and started everything): N
# accounts from the billing file to their first planned contact, every service running in a
# namespace of its own (ARR_TOPIC_PREFIX): `arrears ingest accounts` of the gen-portfolio JSON
# Lines file, two scoring replicas, two outreach replicas (campaign clock, no sender: nothing is
# sent), one reconciliation replica and the audit recorder, all ready and assigned their
# partitions before the file starts. The clock starts with the file; polled twice a second:
#   placed:   the import returned (rows committed, account.placed events published);
#   ledgers:  every placed account has its ledger (reconciliation);
#   scored:   every placed account's score committed (the two replicas' counter);
#   planned:  every placed account planned: a strategy and a step, or its run over, or not open
#             (as tests/e2e/outreach.sh and bench outreach say);
#   recorded: the recorder holds every event the others published (ingest's, the services'
#             counters), the same count on two polls in a row;
# each with its first output, its rate from the file's start and its ratio to the ceiling it
# stands on. Then K payments in full (ARR_BENCH_PAYMENTS, 1,000; a tenth of the accounts at
# most) through `arrears payments import` and reconciliation: payment.applied -> the account's
# next step suppressed (status.paid) as outreach records it (stop_latency_ms), and from the
# import's start. Then, the services stopped, the raw ceilings in the same run: kcat -P then
# kcat -C of the namespace's account events (the same number, the same bytes), psql \copy of
# the same ingest.accounts rows, redis-benchmark SET / GET / HSET pipelined 16 with N requests.
# Peak RSS of every process (/usr/bin/time); the cores each part used from the file's start to
# the last stage done. Other arrears processes on the machine share the cores and the database:
# the table counts them and says so. At exit the namespace goes: its topics, its schedule and
# account cache keys in Redis, its scoring.accounts rows, the scratch table.
. scripts/bench-lib.bash
stamp=$(date +%Y%m%d%H%M%S)
ns="benche$stamp." tenant="benche$stamp"
export ARR_TOPIC_PREFIX=$ns
stall_limit=${ARR_BENCH_STALL_S:-300} # no progress for that long: give up
audit_quiet=${ARR_BENCH_AUDIT_QUIET_S:-15} # the recorder still short, not moving for that long: stop waiting
scratch_table="public.bench_e2e_$stamp"
bench_logs="var/bench/e2e-*.log"
echo "bench e2e: $accounts accounts, $(nproc) cores, $(date -u +%FT%TZ)"
ingest_pid= redis_keys_new=
cleanup_ns() {
  local p
  stop_services
  if [[ -n $ingest_pid ]]; then # the import, when the bench gave up during it
    for p in $(pgrep -P "$ingest_pid"); do pkill -TERM -P "$p" 2>/dev/null || true; done
    wait "$ingest_pid" 2>/dev/null || true
  fi
  delete_ns_topics "$ns"
  unlink_ns_schedule "$ns"
  redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" --scan --pattern "arr:acct:$tenant/*" 2>/dev/null |
    xargs -r -n 1000 redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" unlink >/dev/null 2>&1 || true
  [[ -z $redis_keys_new ]] || redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" unlink $redis_keys_new >/dev/null 2>&1 || true
  q "set client_min_messages = warning; drop table if exists $scratch_table" >/dev/null 2>&1 || true
  q "delete from scoring.accounts where tenant = '$tenant'" >/dev/null 2>&1 || true
  rm -f var/bench/e2e-events.txt var/bench/e2e-accounts.copy var/bench/e2e-ingest.done
  if ((started)); then scripts/stack down >/dev/null || true; fi
}
trap cleanup_ns EXIT
trap 'exit 143' TERM  # so that the EXIT trap cleans up after a kill too
trap 'exit 130' INT
at() { secs "$t0" "$1"; } # seconds from the file's start
fmt() { [[ -n $1 ]] && at "$1" || echo -; }
ns_events() { # NS: committed events on the namespace's topics, counted in parallel
  local t i=0 files=() cpids=()
  for t in $(kcat -b "$ARR_KAFKA_BROKERS" -L 2>/dev/null | sed -n "s/^ *topic \"\(${1//./\\.}[^\"]*\)\".*/\1/p"); do
    kcat -b "$ARR_KAFKA_BROKERS" -C -t "$t" -o beginning -e -q -X isolation.level=read_committed -f '.\n' 2>/dev/null |
      wc -l >"var/bench/e2e-count.$i" &
    cpids+=($!) files+=("var/bench/e2e-count.$i") i=$((i + 1))
  done
  for t in "${cpids[@]}"; do wait "$t" || true; done
  cat "${files[@]}" /dev/null | awk '{ n += $1 } END { print n + 0 }'
  rm -f "${files[@]}"
}

t_setup=$(now)
"$bin/arrears" topics apply >/dev/null
portfolio=var/bench/portfolio-$accounts.jsonl
[[ -s $portfolio ]] || "$bin/gen-portfolio" --accounts "$accounts" --seed 1 --format jsonl --broken-rate 0 --out "$portfolio" --quiet

# Six ports free on the loopback.
for ((try = 0; ; try++)); do
  base=$((28400 + RANDOM % 30 * 6)) busy=0
  for ((p = base; p < base + 6; p++)); do [[ -z $(ss -Hltn "( sport = :$p )" 2>/dev/null) ]] || busy=1; done
  ((busy)) || break
  ((try < 50)) || die "no six free ports between 28400 and 28580"
done
p_audit=$base p_rec=$((base + 1)) p_sc=($((base + 2)) $((base + 3))) p_o=($((base + 4)) $((base + 5)))
ARR_INSTANCE="bench-e2e-au-$stamp" ARR_HTTP_PORT=$p_audit spawn e2e-audit "$bin/arrears-audit"
ARR_INSTANCE="bench-e2e-rc-$stamp" ARR_HTTP_PORT=$p_rec spawn e2e-reconciliation "$bin/arrears-reconciliation"
for r in 1 2; do
  ARR_INSTANCE="bench-e2e-sc$r-$stamp" ARR_HTTP_PORT=${p_sc[r - 1]} spawn "e2e-scoring$r" "$bin/arrears-scoring"
done
for r in 1 2; do
  ARR_INSTANCE="bench-e2e-o$r-$stamp" ARR_HTTP_PORT=${p_o[r - 1]} ARR_OUTREACH_TIME=campaign ARR_OUTREACH_SENDERS=0 \
    spawn "e2e-outreach$r" "$bin/arrears-outreach"
done
names=(audit reconciliation scoring1 scoring2 outreach1 outreach2) # the order of pids
ports=("$p_audit" "$p_rec" "${p_sc[@]}" "${p_o[@]}")
for i in "${!ports[@]}"; do wait_ready "${ports[i]}" "${names[i]}"; done
# Ready is not yet consuming: every replica holds partitions of its group (two replicas: both).
deadline=$((SECONDS + 60))
for i in "${!ports[@]}"; do
  until (($(metric "${ports[i]}" arrears_assigned_partitions) > 0)); do
    alive
    ((SECONDS < deadline)) || die "${names[i]} on port ${ports[i]} holds no partition after 60 s"
    sleep 0.2
  done
done
svc_pid=()
for i in "${!pids[@]}"; do svc_pid[i]=$(pgrep -P "${pids[i]}" || echo "${pids[i]}"); done
mine+=("${svc_pid[@]}")
note_foreign
setup_s=$(secs "$t_setup" "$(now)")

# 1. The file, and every stage after it, from the file's start.
svc_ticks() { local p; for p in "${svc_pid[@]}"; do echo -n "$(ticks "$p") "; done; }
read -r mb0 mt0 <<<"$(machine)"
read -r -a tk0 <<<"$(svc_ticks)"
stack_snap var/bench/stack-ticks0.txt
t0=$(now)
(
  rc=0
  /usr/bin/time -f '%M %U %S' -o var/bench/rss-e2e-ingest.txt "$bin/arrears" ingest accounts "$portfolio" \
    --tenant "$tenant" --mapping deploy/mappings/gen-portfolio.jsonl.json --as-of 2026-11-01 \
    >var/bench/e2e-ingest.out 2>&1 || rc=$?
  echo "$rc $(now)" >var/bench/e2e-ingest.done
) &
ingest_pid=$!
placed= t_win= t_placed= t_ledgers= t_scored= t_planned= t_audit=
f_ledgers= f_scored= f_planned= f_audit=
sc=0 rec=0 ledgers=0 planned=0 published=0 rec_counted=-1
sql_next=0 last_sig= moved=$SECONDS rec_last=-1 t_rec_last= rec_moved=$SECONDS audit_short=0
while :; do
  alive
  note_foreign
  tp=$(now)
  if [[ -z $t_placed && -s var/bench/e2e-ingest.done ]]; then
    read -r irc t_placed <var/bench/e2e-ingest.done
    wait "$ingest_pid" 2>/dev/null || true
    ingest_pid=
    ((irc == 0)) || die "the import failed ($irc): var/bench/e2e-ingest.out"
    placed=$(q "select accepted from ingest.imports where tenant = '$tenant'")
    ((placed > 0)) || die "nothing placed"
  fi
  sc=$(metric_sum arrears_events_published_total "${p_sc[@]}")
  rec=$(metric "$p_audit" arrears_events_published_total)
  if ((rec != rec_last)); then rec_last=$rec t_rec_last=$tp rec_moved=$SECONDS; fi
  if [[ -n $placed && -z $t_scored ]] && ((sc >= placed)); then t_scored=$tp; fi
  # One statement a poll: the first ledger and step, then the counts still needed (-1: not now;
  # no account is planned before it is scored). The counts pass over the tenant's rows, so the
  # next poll waits eight times as long as this one took: the watcher keeps PostgreSQL below an
  # eighth of a core whatever the size (at 1,000,000 accounts a pass takes seconds).
  if (($(date +%s%N) >= sql_next)); then
    t_sql=$(date +%s%N)
    IFS='|' read -r has_ledger has_step ledgers_now planned_now <<<"$(q "select
      exists (select 1 from reconciliation.ledger where tenant = '$tenant'),
      exists (select 1 from outreach.steps where tenant = '$tenant'),
      $(if [[ -n $placed && -z $t_ledgers ]]; then echo "(select count(*) from reconciliation.ledger where tenant = '$tenant')"; else echo -1; fi),
      $(if [[ -n $t_scored && -z $t_planned ]]; then echo "($(planned_sql "$tenant"))"; else echo -1; fi)")"
    sql_next=$(($(date +%s%N) + 8 * ($(date +%s%N) - t_sql)))
  else
    ledgers_now=-1 planned_now=-1
  fi
  has_ledger=${has_ledger:-f} has_step=${has_step:-f} ledgers_now=${ledgers_now:--1} planned_now=${planned_now:--1}
  if [[ -z $f_scored ]] && ((sc > 0)); then f_scored=$tp; fi
  if [[ -z $f_audit ]] && ((rec > 0)); then f_audit=$tp; fi
  if [[ -z $f_ledgers && $has_ledger == t ]]; then f_ledgers=$tp; fi
  if [[ -z $f_planned && $has_step == t ]]; then f_planned=$tp; fi
  if ((ledgers_now >= 0)); then ledgers=$ledgers_now; ((ledgers < placed)) || t_ledgers=$tp; fi
  if ((planned_now >= 0)); then planned=$planned_now; ((planned < placed)) || t_planned=$tp; fi
  if [[ -z $t_win && -n $t_ledgers && -n $t_planned ]]; then # the cores used up to here
    t_win=$(now)
    read -r mb1 mt1 <<<"$(machine)"
    read -r -a tk1 <<<"$(svc_ticks)"
    stack_snap var/bench/stack-ticks1.txt
  fi
  if [[ -n $t_win ]]; then
    # The recorder is done when, quiet for 3 s, it holds as many events as the namespace's topics
    # (counted then: the services' own counters include what they relay for other namespaces).
    if ((SECONDS - rec_moved >= 3 && rec != rec_counted)); then
      published=$(ns_events "$ns")
      rec_counted=$rec
      if ((rec >= published)); then t_audit=$t_rec_last; break; fi
      rec_moved=$SECONDS
    elif ((rec == rec_counted && SECONDS - rec_moved > audit_quiet)); then
      t_audit=$t_rec_last audit_short=$((published - rec))
      break
    fi
  fi
  sig="$placed $sc $rec $ledgers $planned"
  if [[ $sig != "$last_sig" ]]; then
    last_sig=$sig moved=$SECONDS
  elif ((SECONDS - moved > stall_limit)); then
    die "no progress for ${stall_limit}s: placed ${placed:-?}, ledgers $ledgers, scored $sc, planned $planned, recorded $rec"
  fi
  sleep 0.5
done
note_foreign
win_s=$(secs "$t0" "$t_win")
pipeline_s=$(secs "$t0" "$(now)")
recorded=$rec
read -r ingest_rss ingest_u ingest_s_cpu <<<"$(rss_of e2e-ingest)"
ingest_cores=$(awk -v u="${ingest_u:-0}" -v s="${ingest_s_cpu:-0}" -v w="$win_s" 'BEGIN { printf "%.2f", (w > 0 ? (u + s) / w : 0) }')
c_audit=$(cores_used $((tk1[0] - tk0[0])) "$win_s")
c_rec=$(cores_used $((tk1[1] - tk0[1])) "$win_s")
c_sc=$(cores_used $((tk1[2] - tk0[2] + tk1[3] - tk0[3])) "$win_s")
c_o=$(cores_used $((tk1[4] - tk0[4] + tk1[5] - tk0[5])) "$win_s")
win_busy=$(busy_pct $((mb1 - mb0)) $((mt1 - mt0)))
win_stack=$(stack_cores var/bench/stack-ticks0.txt var/bench/stack-ticks1.txt "$win_s")
rm -f var/bench/stack-ticks0.txt var/bench/stack-ticks1.txt

# 2. Payment -> suppression: K accounts with a step planned paid in full, through the file
# import and reconciliation (the ledger's balance), all at once.
t_pay_phase=$(now)
want_k=${ARR_BENCH_PAYMENTS:-1000}
((want_k <= placed / 10)) || want_k=$((placed / 10))
q "select a.account_id || ' ' || l.balance_cents || ' ' || l.currency from outreach.accounts a
   join reconciliation.ledger l using (tenant, account_id) where a.tenant = '$tenant' and a.status = 'open'
   and l.balance_cents > 0 and exists (select 1 from outreach.steps s where s.tenant = a.tenant
   and s.account_id = a.account_id and s.status = 'planned') order by a.account_id limit $want_k" >var/bench/e2e-paid.txt
k=$(wc -l <var/bench/e2e-paid.txt)
pay_s=0 stopped=0 applied=0 p50=0 p99=0 pmax=0 i50=0 i99=0 imax=0
if ((k > 0)); then
  awk -v s="$stamp" -v at="$(date -u +%FT%TZ)" '{ printf "{\"payment_id\":\"bench-%s-%d\",\"amount_cents\":%d,\"currency\":\"%s\",\"received_at\":\"%s\",\"account_id\":\"%s\"}\n", s, NR, $2, $3, at, $1 }' \
    var/bench/e2e-paid.txt >var/bench/e2e-payments.jsonl
  tp0=$(now)
  "$bin/arrears" payments import var/bench/e2e-payments.jsonl --format json --tenant "$tenant" >var/bench/e2e-payments.out 2>&1 ||
    die "payments import failed: var/bench/e2e-payments.out"
  deadline=$((SECONDS + 300))
  until paid_done "$tenant" "$k" || ((SECONDS >= deadline)); do alive; sleep 0.5; done
  pay_s=$(secs "$tp0" "$(now)")
  stopped=$(stopped_count "$tenant")
  applied=$(q "select count(*) from reconciliation.payments where tenant = '$tenant' and status = 'applied'")
  IFS='|' read -r p50 p99 pmax <<<"$(stop_latencies "$tenant")"
  # From the import's start: the step's update (suppressed) is the transaction's time.
  IFS='|' read -r i50 i99 imax <<<"$(q "select round(percentile_cont(0.5) within group (order by d)),
    round(percentile_cont(0.99) within group (order by d)), round(max(d)) from (select extract(epoch from updated_at) * 1000 - $tp0 * 1000 as d
    from outreach.steps where tenant = '$tenant' and status = 'suppressed' and rule_id = 'status.paid'
    and stop_latency_ms is not null) x")"
fi
payments_phase_s=$(secs "$t_pay_phase" "$(now)")
dlq=0
for t in ingest scoring outreach reconciliation; do
  dlq=$((dlq + $({ kcat -b "$ARR_KAFKA_BROKERS" -C -t "${ns}arrears.$t.dlq" -o beginning -e -q -f '.\n' 2>/dev/null || true; } | wc -l)))
done
stop_services
rss=()
for n in "${names[@]}"; do rss+=("$(rss_of "e2e-$n")"); done
log_errors=$(cat var/bench/e2e-{audit,reconciliation,scoring1,scoring2,outreach1,outreach2}.log | grep -c '"level":"error"' || true)
log_warns=$(cat var/bench/e2e-{audit,reconciliation,scoring1,scoring2,outreach1,outreach2}.log | grep -c '"level":"warn' || true)

# 3. Ceilings, on the same machine, the services stopped.
t_ceil=$(now)
# (a) the namespace's account events (keys and values), produced by kcat -P like the import
# (idempotent, lz4), then consumed by kcat -C.
kcat -b "$ARR_KAFKA_BROKERS" -C -t "${ns}arrears.accounts" -o beginning -e -q -X isolation.level=read_committed \
  -f '%k\t%s\n' 2>/dev/null >var/bench/e2e-events.txt
events=$(wc -l <var/bench/e2e-events.txt)
event_b=$(awk -F'\t' '{ n += length($2) } END { printf "%.0f", (NR ? n / NR : 0) }' var/bench/e2e-events.txt)
scratch="${ns}kcat"
ARR_TOPIC_PREFIX= "$bin/arrears" topics create "$scratch" --partitions 12 >/dev/null
t1=$(now)
kcat -b "$ARR_KAFKA_BROKERS" -P -t "$scratch" -K $'\t' -l -X enable.idempotence=true \
  -X linger.ms=5 -X compression.type=lz4 var/bench/e2e-events.txt
t2=$(now)
kcat_p_s=$(secs "$t1" "$t2")
kcat_c_n=$(kcat -b "$ARR_KAFKA_BROKERS" -C -t "$scratch" -o beginning -e -q -f '%k\t%s\n' 2>/dev/null | wc -l)
kcat_c_s=$(secs "$t2" "$(now)")
kcat_p=$(rate "$events" "$kcat_p_s")
kcat_c=$(rate "$kcat_c_n" "$kcat_c_s")
rm -f var/bench/e2e-events.txt # the disk back before the next one (1.2 GB at 1,000,000 accounts)
ARR_TOPIC_PREFIX= "$bin/arrears" topics delete "$scratch" >/dev/null 2>&1 || true
# (b) the same ingest.accounts rows with psql \copy into a table shaped like ingest.accounts.
psql "$ARR_PG_CONNINFO" -XAtq -v ON_ERROR_STOP=1 \
  -c "\\copy (select * from ingest.accounts where tenant = '$tenant') to 'var/bench/e2e-accounts.copy'"
copy_rows=$(wc -l <var/bench/e2e-accounts.copy)
copy_s=$(copy_ceiling "$scratch_table" ingest.accounts var/bench/e2e-accounts.copy)
copy_rate=$(rate "$copy_rows" "$copy_s")
rm -f var/bench/e2e-accounts.copy
# (c) Redis, pipelined 16 deep, N requests a test; its own keys go afterwards (unless they were there).
for key in "key:__rand_int__" myhash; do
  [[ $(redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" exists "$key") == 1 ]] || redis_keys_new+=" $key"
done
read -r redis_set redis_get redis_hset <<<"$(redis_ceiling "$accounts" set,get,hset)"
ceilings_s=$(secs "$t_ceil" "$(now)")

# 4. The table: each stage's rate from the file's start, against the ceiling it stands on.
slowest() { # NAME=RATE...: "RATE NAME" of the lowest
  local kv best= name=
  for kv in "$@"; do
    if [[ -z $best ]] || ((${kv#*=} < best)); then best=${kv#*=} name=${kv%%=*}; fi
  done
  echo "$best $name"
}
c_copy="psql \\copy=$copy_rate" c_kp="kcat -P=$kcat_p" c_kc="kcat -C=$kcat_c" c_redis="Redis HSET=${redis_hset:-0}"
stage() { # KEY LABEL COUNT FIRST DONE CEILINGS...: a row, and its figures for the JSON
  local key=$1 label=$2 n=$3 first=$4 done=$5 r cr cn
  shift 5
  read -r cr cn <<<"$(slowest "$@")"
  local cnames=() kv
  for kv in "$@"; do cnames+=("${kv%%=*}"); done
  if [[ -n $done ]]; then r=$(rate "$n" "$(at "$done")"); else r=0; fi
  printf '%-*s %9s %8s %8s %10s %6s  %s\n' $w "$label" "$n" "$(fmt "$first")" "$(fmt "$done")" "$r" \
    "$(ratio "$r" "$cr")" "$cn$( (($# > 1)) && echo " (the slower of $(IFS=,; echo "${cnames[*]}" | sed 's/,/, /g'))")"
  json_stages+="$(printf '%s\n  "%s": {"count": %s, "first_s": %s, "done_s": %s, "per_s": %s, "ceiling": "%s", "ceiling_per_s": %s, "ratio": %s}' \
    "${json_stages:+,}" "$key" "$n" "$( [[ -n $first ]] && at "$first" || echo null)" "$( [[ -n $done ]] && at "$done" || echo null)" \
    "$r" "$cn" "$cr" "$(ratio "$r" "$cr")")"
}
json_stages=
w=66
printf '\n%-*s %9s %8s %8s %10s %6s  %s\n' $w "measure ($placed accounts placed; seconds from the file's start)" \
  count "first s" "done s" "per second" ratio "to the ceiling it stands on"
stage placed "placed: arrears ingest accounts, file -> rows + events" "$placed" "" "$t_placed" "$c_copy" "$c_kp"
stage ledgers "ledgers: arrears-reconciliation, 1 replica" "$placed" "$f_ledgers" "$t_ledgers" "$c_kc" "$c_copy"
stage scored "scored: arrears-scoring, 2 replicas (exactly once)" "$placed" "$f_scored" "$t_scored" "$c_kc" "$c_kp"
stage planned "planned: arrears-outreach, 2 replicas, first contact planned" "$placed" "$f_planned" "$t_planned" "$c_kc" "$c_copy" "$c_redis"
stage recorded "recorded: arrears-audit, 1 replica, every event published" "$recorded" "$f_audit" "$t_audit" "$c_kc" "$c_copy"
stage end_to_end "end to end: file -> every account's first contact planned" "$placed" "" "$t_planned" "$c_copy" "$c_kp" "$c_kc" "$c_redis"
printf '%-*s %9s %8s %8s %10s\n' $w "ceiling: kcat -P of the same account events ($event_b B each)" "$events" "" "$kcat_p_s" "$kcat_p"
printf '%-*s %9s %8s %8s %10s\n' $w "ceiling: kcat -C of the same events" "$kcat_c_n" "" "$kcat_c_s" "$kcat_c"
printf '%-*s %9s %8s %8s %10s\n' $w "ceiling: psql \\copy of the same ingest.accounts rows" "$copy_rows" "" "$copy_s" "$copy_rate"
printf '%-*s %9s %8s %8s %10s\n' $w "ceiling: redis-benchmark SET, pipelined 16" "$accounts" "" "" "$redis_set"
printf '%-*s %9s %8s %8s %10s\n' $w "ceiling: redis-benchmark GET, pipelined 16" "$accounts" "" "" "$redis_get"
printf '%-*s %9s %8s %8s %10s\n' $w "ceiling: redis-benchmark HSET, pipelined 16" "$accounts" "" "" "$redis_hset"
printf '%-*s %9s %8s %8s %10s\n' $w "payments in full (arrears payments import), applied: $applied" "$k" "" "$pay_s" "$(rate "$k" "$pay_s")"
printf '%-*s %9s\n' $w "  next step suppressed (status.paid)" "$stopped"
printf '%-*s %28s\n' $w "  payment.applied -> suppressed, ms: median / p99 / max" "$p50 / $p99 / $pmax"
printf '%-*s %28s\n' $w "  import's start -> suppressed, ms: median / p99 / max" "$i50 / $i99 / $imax"
printf '%-*s %28s\n' $w "peak RSS MiB: import / audit / reconciliation" \
  "$((ingest_rss / 1024)) / $((rss[0] / 1024)) / $((rss[1] / 1024))"
printf '%-*s %28s\n' $w "  scoring 1, 2 / outreach 1, 2" \
  "$((rss[2] / 1024)), $((rss[3] / 1024)) / $((rss[4] / 1024)), $((rss[5] / 1024))"
printf '%-*s %28s\n' $w "cores, file -> all planned ($win_s s): import / scoring / outreach" "$ingest_cores / $c_sc / $c_o"
printf '%-*s %28s\n' $w "  reconciliation / audit" "$c_rec / $c_audit"
printf '%-*s %28s\n' $w "  PostgreSQL / Kafka / Redis; machine busy" "$win_stack; $win_busy%"
if ((audit_short > 0)); then
  echo "  !! the recorder held $recorded events, $audit_short fewer than published; it had not moved for ${audit_quiet}s"
fi
if ((foreign_max > 0)); then
  echo "  !! $foreign_max other arrears process(es) ran on this machine during the bench: the figures share the cores and the database with them"
fi
echo "phases: services ready ${setup_s}s; file -> last stage and the recorder checked ${pipeline_s}s; payments ${payments_phase_s}s; ceilings ${ceilings_s}s"
echo "logs: $log_errors error(s), $log_warns warning(s) (var/bench/e2e-*.log); dead letters: $dlq"
out=var/bench/e2e-$stamp.json
cat >"$out" <<JSON
{"bench": "e2e", "accounts": $accounts, "placed": $placed, "date": "$(date -u +%FT%TZ)", "cores": $(nproc),
 "tenant": "$tenant", "namespace": "$ns", "replicas": {"scoring": 2, "outreach": 2, "reconciliation": 1, "audit": 1},
 "stages": {$json_stages},
 "recorded_published": $published, "recorded_short": $audit_short,
 "ceilings": {"kcat_produce_per_s": $kcat_p, "kcat_produce_s": $kcat_p_s, "kcat_events": $events, "event_bytes": $event_b,
   "kcat_consume_per_s": $kcat_c, "kcat_consume_s": $kcat_c_s, "kcat_consumed": $kcat_c_n,
   "copy_per_s": $copy_rate, "copy_s": $copy_s, "copy_rows": $copy_rows,
   "redis_requests": $accounts, "redis_set_per_s": ${redis_set:-0}, "redis_get_per_s": ${redis_get:-0}, "redis_hset_per_s": ${redis_hset:-0}},
 "payments": $k, "payments_applied": $applied, "payments_stopped": $stopped, "payments_s": $pay_s,
 "stop_latency_ms_p50": ${p50:-0}, "stop_latency_ms_p99": ${p99:-0}, "stop_latency_ms_max": ${pmax:-0},
 "import_to_stop_ms_p50": ${i50:-0}, "import_to_stop_ms_p99": ${i99:-0}, "import_to_stop_ms_max": ${imax:-0},
 "peak_rss_kib": {"import": ${ingest_rss:-0}, "audit": ${rss[0]}, "reconciliation": ${rss[1]}, "scoring1": ${rss[2]},
   "scoring2": ${rss[3]}, "outreach1": ${rss[4]}, "outreach2": ${rss[5]}},
 "cores_used": {"import": $ingest_cores, "scoring": $c_sc, "outreach": $c_o, "reconciliation": $c_rec, "audit": $c_audit,
   "pg_kafka_redis": "$win_stack", "machine_busy_pct": $win_busy, "window_s": $win_s},
 "foreign_arrears_processes": $foreign_max,
 "phases_s": {"services_ready": $setup_s, "pipeline": $pipeline_s, "payments": $payments_phase_s, "ceilings": $ceilings_s},
 "log_errors": $log_errors, "log_warnings": $log_warns, "dead_letters": $dlq}
JSON
echo "results: $out"
