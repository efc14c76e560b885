#!/usr/bin/env bash
# The README's main command, small: scripts/demo runs a simulated campaign end to end (every
# service as its own process, the debtor simulator answering through the real doors, a scored
# and a uniform tenant) and is deterministic for a seed. Two runs with the same seed:
#   - each prints a progress line per day, the business report, both tenants side by side and
#     the path of a self-contained HTML report with its four charts;
#   - the debtors answered (payments through the webhook and the bank file, replies);
#   - the second run gives the very same numbers: every day's line, the comparison, both
#     business reports.
set -uo pipefail
. "$(dirname "$0")/lib.bash"
trap 'finish' EXIT
py=${ARR_PYTHON:-/usr/bin/python3}
n=${ARR_E2E_DEMO_ACCOUNTS:-400}
days=${ARR_E2E_DEMO_DAYS:-4}
run() { # NAME
  (cd "$ARR_SOURCE_DIR" && scripts/demo --accounts "$n" --days "$days" --seed 11) >"$E2E_TMP/demo-$1.out" 2>&1
  local rc=$?
  check "run $1: scripts/demo --accounts $n --days $days finishes (exit $rc)" test "$rc" = 0 ||
    tail -n 40 "$E2E_TMP/demo-$1.out"
  mkdir -p "$E2E_TMP/$1"
  cp "$ARR_SOURCE_DIR"/var/demo/{days.jsonl,comparison.json,report-demo-utility.json,report-uniform.json,report.html} \
    "$E2E_TMP/$1/" 2>/dev/null
}
run a
check "a progress line per day" test "$(grep -cE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}  scored' "$E2E_TMP/demo-a.out")" = "$days"
check "the business report and the comparison are printed" \
  grep -q 'net recovery: ' "$E2E_TMP/demo-a.out"
check "the HTML report's path is printed" grep -q "HTML report: .*/var/demo/report.html" "$E2E_TMP/demo-a.out"
check "the HTML report is one page with its four charts" "$py" - "$E2E_TMP/a/report.html" <<'PY'
import sys
page = open(sys.argv[1]).read()
assert page.count("<svg") == 4 and page.count("<title>") >= 4, page.count("<svg")
import re
assert "<script" not in page, "a script"
assert not re.search(r'(src|href)="(https?:)?//', page), "an outside resource"
PY
check "the debtors paid through the doors and answered" "$py" - "$E2E_TMP/a/comparison.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
for kind in ("scored", "uniform"):
    assert c[kind]["recovered_cents"] > 0 and c[kind]["contacts"] > 0, c[kind]
assert c["scored"]["stop_replies"] + c["uniform"]["stop_replies"] + c["scored"]["disputes"] > 0, c
PY
run b
for f in days.jsonl comparison.json report-demo-utility.json report-uniform.json; do
  check "the same seed gives the same $f" cmp -s "$E2E_TMP/a/$f" "$E2E_TMP/b/$f"
done
