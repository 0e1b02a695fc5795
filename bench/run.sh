#!/usr/bin/env bash
# Builds the Mission Control bench in Release and runs it against a started system.
#
#   bench/run.sh [--url http://localhost:4000] [--token TOKEN] [--duration 10] [--events 500]
#                [--only create,list,status,events,status-events,fanout,webhooks,memory]
#                [--clients 1000] [--fanout-events 50] [--pids FILE|LIST] [--help]
#
# The edge must be on a loopback address, with its per-IP rate limit off (every bench request comes
# from 127.0.0.1; the default is 100/min): start the system with
#   RateLimiting__PerMinute=0 RateLimiting__AuthFailuresPerMinute=0 ./scripts/start.sh
# The bench checks it (no X-RateLimit-Limit header) and prints "edge rate limit off".
# The token defaults to env MC_ADMIN_TOKEN, then <repo>/.mc/admin-token. Exit code: 0 measured (even
# if targets are missed), 1 bad arguments, 2 system unreachable, 3 setup failed (org/board creation,
# or the edge's rate limit is on), 4 build failed.
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$bench_dir/.." && pwd)"
project="$bench_dir/MissionControl.Bench/MissionControl.Bench.csproj"
dll="$repo_dir/artifacts/bin/MissionControl.Bench/release/MissionControl.Bench.dll"

echo "bench/run.sh: building MissionControl.Bench (Release)..." >&2
# Build servers are disabled so no MSBuild/compiler processes linger on the box being measured.
if ! build_log="$(dotnet build "$project" -c Release --nologo --disable-build-servers -v quiet 2>&1)"; then
  printf '%s\n' "$build_log" >&2
  echo "bench/run.sh: build of $project failed" >&2
  exit 4
fi

if [[ ! -f "$dll" ]]; then
  dll="$(dotnet msbuild "$project" -nologo -p:Configuration=Release -getProperty:TargetPath)"
fi

# The fanout phase holds one socket per SSE client (--clients 10000 means 10,000 descriptors here, and as
# many in the edge): raise the open-file limit as far as allowed. The edge needs the same in the shell
# that runs ./scripts/start.sh.
if ! ulimit -n 65536 2>/dev/null; then
  hard="$(ulimit -Hn)"
  ulimit -n "$hard" 2>/dev/null || true
fi
echo "bench/run.sh: open-file limit $(ulimit -n) (hard $(ulimit -Hn))" >&2

exec dotnet "$dll" "$@"
