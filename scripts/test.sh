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

# One summary line over all test assemblies ("N passed, N failed").
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { gsub(",", "", p); printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
if [ "$rc" -eq 0 ] && ! grep -qE '^(Passed|Failed)!' "$log"; then
  echo "no test ran" >&2
  exit 1
fi
exit "$rc"
