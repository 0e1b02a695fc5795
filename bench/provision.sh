#!/usr/bin/env bash
# Builds the Mission Control bench in Release and runs its provisioning bench against a system started
# with RateLimiting__PerMinute=0 RateLimiting__AuthFailuresPerMinute=0 ./scripts/start.sh --openclaw (the
# edge's per-IP rate limit off, checked by the bench): N agents through Mission Control (POST, then GET until ready),
# the same work on the gateway directly, and the per-agent figures of both.
#
#   bench/provision.sh [--url http://localhost:4000] [--token TOKEN] [--agents 20] [--warmup 1] [--direct-wake]
#                      [--gateway-url ws://127.0.0.1:PORT] [--gateway-token T] [--workspace-root DIR] [--help]
#
# The gateway's URL, token and workspace root default to what the AppHost keeps in <repo>/.mc
# (servers/openclaw/state/openclaw.json, openclaw-token, servers/openclaw/workspaces). Exit code: 0
# measured, 1 bad arguments, 2 system or gateway unreachable, 3 setup failed, 4 build failed,
# 5 an agent did not get ready.
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$bench_dir/.." && pwd)"
project="$bench_dir/MissionControl.Bench/MissionControl.Bench.csproj"
dll="$repo_dir/artifacts/bin/MissionControl.Bench/release/MissionControl.Bench.dll"

echo "bench/provision.sh: building MissionControl.Bench (Release)..." >&2
# Build servers are disabled so no MSBuild/compiler processes linger on the box being measured.
if ! build_log="$(dotnet build "$project" -c Release --nologo --disable-build-servers -v quiet 2>&1)"; then
  printf '%s\n' "$build_log" >&2
  echo "bench/provision.sh: build of $project failed" >&2
  exit 4
fi

if [[ ! -f "$dll" ]]; then
  dll="$(dotnet msbuild "$project" -nologo -p:Configuration=Release -getProperty:TargetPath)"
fi

exec dotnet "$dll" provision "$@"
