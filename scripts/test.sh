#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks every room, then runs unit, integration and
# end-to-end tests in that order.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx --no-install tsc -p tsconfig.json
npx --no-install tsc -p edge/tsconfig.json
npx --no-install tsc -p client/tsconfig.json
# Files that measure nothing of the machine (no frame rates, no CPU) run two at a time; the rest,
# recordings above all, one at a time: they need the CPU to themselves.
light=()
heavy=()
for room in unit integration e2e; do
  [ -d "test/$room" ] || continue
  while IFS= read -r f; do
    case "$f" in
      test/unit/*|test/integration/api-fuzz.*|test/integration/app-auth.*|test/integration/callback-policy.*|test/integration/limits.*|test/integration/routing.*|test/integration/runtime-drivers.*|test/integration/fake-*|test/integration/storage-uploads.*|test/integration/ffmpeg-bounds.*|test/integration/fmp4-duration.*|test/integration/media-readers.*|test/integration/damaged-intermediate.*) light+=("$f") ;;
      *) heavy+=("$f") ;;
    esac
  done < <(find "test/$room" -name '*.test.ts' | sort)
done
if (($# > 0)); then exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@"; fi
node --import tsx --test --test-concurrency=2 --test-reporter=spec "${light[@]}"
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${heavy[@]}"
