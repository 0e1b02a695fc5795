#!/usr/bin/env bash
# Runs Mission Control locally: installs the prerequisites if needed, then the AppHost, which builds
# the solution and starts RabbitMQ, every service and the edge on http://localhost:4000.
# Arguments go to the AppHost, e.g. ./scripts/start.sh --postgres --redis --port 4100 (see --help).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

"$repo/scripts/install-prereqs.sh"
if ! command -v dotnet >/dev/null 2>&1; then
  echo "dotnet is not installed: install the .NET 10 SDK (https://dot.net)." >&2
  exit 1
fi

cd "$repo"
# The AppHost runs the apps in Release with ASPNETCORE_ENVIRONMENT=Production unless --debug (Debug
# build, Development). It is built here and run by itself: `dotnet run` would stay alive beside it as
# its parent, about 170 MB more for the life of the system (measured).
mkdir -p .mc/logs
# MSBuild's own up-to-date check costs about 5 s; a fingerprint of the AppHost's inputs (path, size and
# write time of every source file; bin and obj are outputs) skips the build when nothing changed.
apphost_dll=artifacts/bin/MissionControl.AppHost/release/MissionControl.AppHost.dll
stamp=artifacts/bin/MissionControl.AppHost/release/.inputs
inputs="$( (find AppHost libs Directory.Build.props Directory.Packages.props \( -name bin -o -name obj \) -prune -o -type f -printf '%p %s %T@\n' | sort
  dotnet --version) | sha256sum | cut -d' ' -f1)"
if [ -f "$apphost_dll" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then
  echo "start.sh: the AppHost is up to date"
else
  echo "start.sh: building the AppHost (log: .mc/logs/apphost-build.log)…"
  if ! dotnet build AppHost -c Release -nologo -v quiet > .mc/logs/apphost-build.log 2>&1; then
    cat .mc/logs/apphost-build.log >&2
    echo "start.sh: the AppHost did not build (log: .mc/logs/apphost-build.log)" >&2
    exit 1
  fi
  echo "$inputs" > "$stamp"
fi
# The AppHost's own process: the services get the same from it (AppHost/LaunchConfiguration.cs).
export DOTNET_GCgen0size="${DOTNET_GCgen0size:-0x800000}" MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
exec dotnet "$apphost_dll" "$@"
