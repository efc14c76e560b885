# Helpers for the end-to-end tests (sourced, not run). They talk to the real stack with
# clients nobody here wrote: kcat, psql, redis-cli, curl.
# Expects ARR_BIN_DIR and the variables of var/stack.env in the environment.

for v in ARR_BIN_DIR ARR_KAFKA_BROKERS ARR_PG_CONNINFO ARR_REDIS_HOST ARR_REDIS_PORT; do
  [[ -n ${!v:-} ]] || { echo "e2e: $v is not set (scripts/test sets it; by hand: set -a; . var/stack.env)"; exit 2; }
done

# Topics keep every earlier run's messages: read only what was produced since this test began.
E2E_START_MS=$(($(date +%s%N) / 1000000 - 5000))
E2E_FAILS=0
E2E_PASSES=0
E2E_PIDS=()
E2E_TMP=$(mktemp -d)

ok() { E2E_PASSES=$((E2E_PASSES + 1)); printf 'ok   %4ds %s\n' "$SECONDS" "$*"; }
fail() { E2E_FAILS=$((E2E_FAILS + 1)); printf 'FAIL %4ds %s\n' "$SECONDS" "$*"; }
check() { # check "what" command...
  local what=$1; shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}

psql_q() { psql "$ARR_PG_CONNINFO" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }

# wait_for SECONDS command...: polls until the command succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# Keys (tenant/account) of every committed message on a topic, one per line.
topic_keys() {
  kcat -b "$ARR_KAFKA_BROKERS" -C -t "$1" -o "s@$E2E_START_MS" -e -q -X isolation.level=read_committed \
    -f '%k\n' 2>/dev/null || true
}
# Whole values of the messages on a topic whose key starts with a prefix.
topic_values() {
  kcat -b "$ARR_KAFKA_BROKERS" -C -t "$1" -o "s@$E2E_START_MS" -e -q -X isolation.level=read_committed \
    -f '%k\t%s\n' 2>/dev/null | awk -F'\t' -v p="$2" 'index($1, p) == 1 { print $2 }' || true
}
count_keys() { topic_keys "$1" | grep -c "^$2" || true; }

# start_service NAME PORT [INSTANCE]: runs one service replica in the background; its pid
# goes to E2E_LAST_PID (not printed: a $(...) subshell would lose it from E2E_PIDS).
start_service() {
  local name=$1 port=$2 inst=${3:-$1-e2e}
  ARR_HTTP_PORT=$port ARR_INSTANCE=$inst "$ARR_BIN_DIR/arrears-$name" \
    >>"$E2E_TMP/$inst.log" 2>&1 &
  E2E_LAST_PID=$!
  E2E_PIDS+=($!)
}

# Deletes every topic of the namespace ARR_TOPIC_PREFIX (a test that made its own).
delete_namespace_topics() {
  local t
  for t in $(kcat -b "$ARR_KAFKA_BROKERS" -L 2>/dev/null | sed -n "s/^ *topic \"\(${ARR_TOPIC_PREFIX//./\\.}[^\"]*\)\".*/\1/p"); do
    ARR_TOPIC_PREFIX= "$ARR_BIN_DIR/arrears" topics delete "$t" >/dev/null 2>&1
  done
}

http_code() { curl -s -o /dev/null -w '%{http_code}' "$1" || true; }
ready() { [[ $(http_code "http://127.0.0.1:$1/readyz") == 200 ]]; }

stop_services() {
  local pid
  for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${E2E_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  E2E_PIDS=()
}

finish() {
  stop_services
  if ((E2E_FAILS)); then
    echo "--- service logs ---"
    tail -n 30 "$E2E_TMP"/*.log 2>/dev/null || true
  fi
  rm -rf "$E2E_TMP"
  printf '%d passed, %d failed\n' "$E2E_PASSES" "$E2E_FAILS"
  ((E2E_FAILS == 0))
}
