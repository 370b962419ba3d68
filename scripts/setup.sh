#!/usr/bin/env bash
# Installs what `npm start`, `npm test` and the benchmarks need: system packages through apt and the
# npm dependencies. Idempotent, and silent when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
have_cmd chromium || missing+=(chromium)
have_cmd ffmpeg || missing+=(ffmpeg)            # ffprobe ships with it
have_cmd redis-server || missing+=(redis-server)
have_cmd setpriv || missing+=(util-linux)       # child processes die with their parent (--pdeathsig)
for pkg in fonts-noto-cjk fonts-noto-color-emoji; do have_pkg "$pkg" || missing+=("$pkg"); done

if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing system packages: ${missing[*]}; run as root or install them with apt" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]} (apt)" >&2
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2; echo "setup: apt-get failed (full log: $log)" >&2; exit 1
  fi
  rm -f "$log"
fi

# Recorded pages run in Chromium as this unprivileged user, sandboxed (recorder/capture/browser-sandbox.ts).
if [ "$(id -u)" = 0 ] && ! id webrecord-browser >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin webrecord-browser
fi

# npm ci only when node_modules is absent or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
