#!/usr/bin/env bash
# Runs every test: unit tests, service tests (in-process, real broker, SQLite and PostgreSQL),
# end-to-end tests through the edge (real processes, real broker) and the local-server tests.
# Installs what the tests need first (RabbitMQ, Redis, PostgreSQL 15 from Debian; the OpenClaw gateway
# from npm) when it can.
# Usage: scripts/test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v dotnet >/dev/null 2>&1 || { echo "The .NET 10 SDK is required: https://dot.net" >&2; exit 1; }
scripts/install-prereqs.sh
# The OpenClaw gateway for the gateway-bridge tests (Node 24 + openclaw from npm, cached per machine).
scripts/install-openclaw.sh

log=$(mktemp -t mc-test.XXXXXX)
trap 'rm -f "$log"' EXIT
echo "== building"
dotnet build MissionControl.sln -c Debug --nologo -v quiet -clp:ErrorsOnly
echo "== testing (each test assembly starts the servers it needs on private loopback ports)"
set +e
# The console logger at minimal verbosity prints each failure's message and stack (passes stay quiet).
dotnet test MissionControl.sln --no-build --nologo -v quiet --logger "console;verbosity=minimal" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

# Failed tests run once more, alone (timing on a loaded 2-core machine, 13 processes per end-to-end test).
# A test that passes then is reported as flaky by name; one that fails again fails the run.
failed_names() {
  sed -nE 's/^[[:space:]]+Failed ([A-Za-z0-9_.]+).*/\1/p' "$1" | sort -u
}
summary() {
  awk '/^(Passed|Failed)!/ {
         for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
       }
       END { gsub(",", "", p); printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$1"
}
print_failures() {
  awk '/^[[:space:]]+Failed / { show = 1; n = 0 }
       /^[[:space:]]+Stack Trace:/ { show = 0 }
       show && n++ < 12 { print }' "$1"
}
if ! grep -qE '^(Passed|Failed)!' "$log"; then
  echo "no test ran" >&2
  exit 1
fi
echo "tests: $(summary "$log")"
if [ "$rc" -ne 0 ]; then
  mapfile -t failed < <(failed_names "$log")
  if [ "${#failed[@]}" -eq 0 ] || [ "${#failed[@]}" -gt 5 ]; then
    echo "failed tests:"; print_failures "$log"
    exit "$rc"
  fi
  echo "== ${#failed[@]} failed; running them once more: ${failed[*]}"
  print_failures "$log"
  filter=$(printf 'FullyQualifiedName~%s|' "${failed[@]}"); filter=${filter%|}
  rerun_log=$(mktemp -t mc-test-rerun.XXXXXX)
  trap 'rm -f "$log" "$rerun_log"' EXIT
  set +e
  dotnet test MissionControl.sln --no-build --nologo -v quiet --logger "console;verbosity=minimal" --filter "$filter" "$@" >"$rerun_log" 2>&1
  rc=$?
  set -e
  echo "rerun: $(summary "$rerun_log")"
  if [ "$rc" -ne 0 ]; then
    echo "failed again:"; print_failures "$rerun_log"
    exit "$rc"
  fi
  echo "flaky (failed, then passed alone): ${failed[*]}"
fi
exit 0
