# What the benches that run arrears' services share: scripts/bench-outreach.bash and
# scripts/bench-e2e.bash source it (they are sourced by scripts/bench, which has built and
# started everything and defines q, now, secs, rate and bin).
# The caller keeps in `pids` the /usr/bin/time wrappers of the services it started (spawn
# appends to it), in `mine` the services' own process ids (foreign counts the others), in
# `bench_logs` where a dead service's log is, and may define alive_more (more to check alive).
pids=() mine=()
bench_logs=var/bench
die() { echo "bench: $*" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
metric() { # PORT NAME: a counter of a replica, 0 when it cannot be read
  { curl -s -m 2 "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } | awk -v m="$2" '$1 == m { v = $2 } END { print v + 0 }'
}
metric_sum() { # NAME PORT...: the counter summed over replicas
  local m=$1 p n=0
  shift
  for p in "$@"; do n=$((n + $(metric "$p" "$m"))); done
  echo "$n"
}
ready() { [[ $(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:$1/readyz" 2>/dev/null) == 200 ]]; }
alive() { # every service started is still running
  local p
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || die "a service died: see $bench_logs"
  done
  if declare -F alive_more >/dev/null; then alive_more; fi
}
# spawn NAME PROGRAM: a service in the caller's environment (VAR=value spawn … adds to it), under
# /usr/bin/time for its peak RSS (var/bench/rss-NAME.txt), its output in var/bench/NAME.log.
spawn() {
  /usr/bin/time -f '%M' -o "var/bench/rss-$1.txt" "$2" >"var/bench/$1.log" 2>&1 &
  pids+=($!)
}
wait_ready() { # PORT WHAT: up to 60 s, everything started still running meanwhile
  local i
  for ((i = 0; i < 600; i++)); do ready "$1" && return 0; alive; sleep 0.1; done
  ready "$1" || die "$2 on port $1 is not ready after 60 s"
}
stop_services() {
  local p
  for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
rss_of() { tail -n 1 "var/bench/rss-$1.txt" 2>/dev/null || echo 0; } # NAME: peak RSS in KiB
# CPU: ticks used by one process (utime + stime), and the machine's busy and total ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
machine() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
hz=$(getconf CLK_TCK)
# The stack's share, by command name (PostgreSQL, Kafka, Redis): "name pid ticks" per process
# into a file; the share counts the processes alive at both ends (a backend that ended between
# them is left out, not subtracted).
stack_snap() {
  local name p
  for name in postgres java redis-server; do
    for p in $(pgrep -x "$name"); do echo "$name $p $(ticks "$p")"; done
  done >"$1"
}
stack_cores() { # BEFORE AFTER SECONDS
  awk -v s="$3" -v hz="$hz" 'NR == FNR { a[$2] = $3; next } ($2 in a) { d[$1] += $3 - a[$2] }
    END { f = (s > 0 ? 1 / hz / s : 0); printf "%.2f / %.2f / %.2f", d["postgres"] * f, d["java"] * f, d["redis-server"] * f }' "$1" "$2"
}
cores_used() { awk -v t="$1" -v s="$2" -v hz="$hz" 'BEGIN { printf "%.2f", (s > 0 ? t / hz / s : 0) }'; }
busy_pct() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? 100 * b / t : 0) }'; }
# arrears-* processes on the machine that this bench did not start (tests in other namespaces).
foreign() {
  local p n=0
  for p in $(ps -eo pid=,comm= | awk '$2 ~ /^arrears-/ { print $1 }'); do
    [[ " ${mine[*]} " == *" $p "* ]] || n=$((n + 1))
  done
  echo "$n"
}
foreign_max=0
note_foreign() { local n; n=$(foreign); ((n <= foreign_max)) || foreign_max=$n; }

# A namespace's leftovers: its topics, and its schedule (one member per account with a next step).
delete_ns_topics() { # NS
  local t
  for t in $(kcat -b "$ARR_KAFKA_BROKERS" -L 2>/dev/null | sed -n "s/^ *topic \"\(${1//./\\.}[^\"]*\)\".*/\1/p"); do
    ARR_TOPIC_PREFIX= "$bin/arrears" topics delete "$t" >/dev/null 2>&1 || true
  done
}
unlink_ns_schedule() { # NS
  redis-cli -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" unlink "arr:sched:$1:due" "arr:sched:$1:lease" \
    "arr:sched:$1:due_of" "arr:sched:$1:member" >/dev/null 2>&1 || true
}

# Planned, as tests/e2e/outreach.sh says: a strategy (scored) and a step, or its run over, or
# not open.
planned_sql() { # TENANT: the statement that counts them. A run's number moves past 0 in the
  # transaction that plans its steps (or ends it at once): one pass over the tenant's rows, where
  # a probe of outreach.steps per account took PostgreSQL a second per poll at 100,000 accounts.
  echo "select count(*) from outreach.accounts a where tenant = '$1' and strategy is not null
  and debtor is not null and (run_no > 0 or status <> 'open')"
}
planned_count() { q "$(planned_sql "$1")"; } # TENANT
# Payment -> next step suppressed, as outreach records it (status.paid, stop_latency_ms).
stopped_count() { # TENANT: accounts whose step a payment suppressed
  q "select count(distinct account_id) from outreach.steps where tenant = '$1'
  and status = 'suppressed' and rule_id = 'status.paid' and stop_latency_ms is not null"
}
stop_latencies() { # TENANT: "median|p99|max" in ms
  q "select round(percentile_cont(0.5) within group (order by stop_latency_ms)),
    round(percentile_cont(0.99) within group (order by stop_latency_ms)), max(stop_latency_ms)
    from outreach.steps where tenant = '$1' and status = 'suppressed' and rule_id = 'status.paid'
    and stop_latency_ms is not null"
}
paid_done() { # TENANT K: every account paid is marked so and none of them has a step open
  [[ $(q "select (select count(*) from outreach.accounts where tenant = '$1' and status = 'paid') >= $2
    and not exists (select 1 from outreach.steps s join outreach.accounts a using (tenant, account_id)
    where s.tenant = '$1' and a.status = 'paid' and s.status in ('planned', 'sending'))") == t ]]
}

# Ceilings.
copy_ceiling() { # TABLE LIKE FILE: seconds for psql \copy of FILE into a new TABLE shaped like LIKE
  local t0 t1
  q "set client_min_messages = warning; drop table if exists $1; create table $1 (like $2 including all)" || return
  t0=$(now)
  psql "$ARR_PG_CONNINFO" -XAtq -v ON_ERROR_STOP=1 -c "\\copy $1 from '$3'" || return
  t1=$(now)
  q "drop table $1" || return
  secs "$t0" "$t1"
}
redis_ceiling() { # REQUESTS TESTS: requests per second of each test (comma separated), pipelined 16
  redis-benchmark -h "$ARR_REDIS_HOST" -p "$ARR_REDIS_PORT" -q -n "$1" -P 16 -t "$2" 2>/dev/null |
    tr '\r' '\n' | awk -v t="$2" '/requests per second/ { r[$1] = $2 }
      END { n = split(toupper(t), k, ","); for (i = 1; i <= n; i++) printf "%.0f%s", r[k[i] ":"], (i < n ? " " : "\n") }'
}
