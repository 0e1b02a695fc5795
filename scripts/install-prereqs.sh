#!/usr/bin/env bash
# Installs the servers Mission Control runs locally (AppHost) and in integration tests, from Debian:
# rabbitmq-server and redis-server, postgresql-15 when its binaries are absent, and curl and jq. Idempotent: does
# nothing when everything is there. As root it installs; otherwise it says what to install and fails.
set -euo pipefail

missing=()
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
# The end-to-end tests run seed 000's curl + jq script against the edge.
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing: ${missing[*]}" >&2
  echo "Install them as root:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing ${missing[*]} …"
# Debian starts a package's system service on install; we only want the binaries (the AppHost and
# the tests run private servers), so forbid service starts for the duration of the install.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
