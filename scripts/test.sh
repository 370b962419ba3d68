#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks every room, lints (ESLint, Prettier), and runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Three groups, by what a file needs of the machine. Files that measure nothing of it (no frame
# rates, no CPU) and whole-system files whose checks hold however slowly a recording runs (what ends
# how, what is kept, what answers) run side by side, in two lanes; the rest, recordings judged by
# their frame rate, gaps and timing, one at a time and alone: they need the CPU to themselves.
light=()
loose=()
loose_after_light=() # the light lane's share of the loose files, so both lanes end together
heavy=()
for room in unit integration e2e; do
  [ -d "test/$room" ] || continue
  while IFS= read -r f; do
    case "$f" in
      test/unit/*|test/integration/api-fuzz.*|test/integration/app-auth.*|test/integration/callback-policy.*|test/integration/limits.*|test/integration/routing.*|test/integration/runtime-drivers.*|test/integration/task-listing.*|test/integration/fake-*|test/integration/storage-uploads.*|test/integration/ffmpeg-bounds.*|test/integration/fmp4-duration.*|test/integration/media-readers.*|test/integration/damaged-intermediate.*|test/integration/quality-readers.*) light+=("$f") ;;
      test/e2e/queue-timeout.*|test/e2e/service-lifecycle.*) loose_after_light+=("$f") ;;
      test/e2e/api-errors.*|test/e2e/callback.*|test/e2e/edge-runtime.*|test/e2e/regions.*|test/e2e/cos-intermediate.*|test/e2e/metrics.*|test/e2e/recording-outcomes.*|test/e2e/recovery.*) loose+=("$f") ;;
      *) heavy+=("$f") ;;
    esac
  done < <(find "test/$room" -name '*.test.ts' | sort)
done
if (($# > 0)); then
  npx --no-install tsc -p tsconfig.json
  exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@"
fi
run() { node --import tsx --test --test-reporter=spec "$@"; }
npx --no-install tsc -p tsconfig.json
npx --no-install tsc -p edge/tsconfig.json
npx --no-install tsc -p client/tsconfig.json
# The edge bundle builds for the browser platform: an import of anything of Node's fails here.
node --import tsx scripts/build-edge.ts
# Lint and format are checked before anything runs: a few seconds, and a clear failure.
npx --no-install eslint .
npx --no-install prettier --check --log-level warn .
# Every group runs even after one fails, so a run shows all its failures; it fails if any did. The
# light lane's report is printed after the loose lane's, not interleaved with it.
status=0
light_log=$(mktemp)
( s=0; run --test-concurrency=2 "${light[@]}" || s=1; run --test-concurrency=1 "${loose_after_light[@]}" || s=1; exit "$s" ) >"$light_log" 2>&1 &
light_pid=$!
run --test-concurrency=1 "${loose[@]}" || status=1
wait "$light_pid" || status=1
cat "$light_log"
rm -f "$light_log"
run --test-concurrency=1 "${heavy[@]}" || status=1
exit "$status"
