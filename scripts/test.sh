#!/usr/bin/env bash
# `npm test`: installs what is missing, type-checks every room, then runs unit, integration and
# end-to-end tests in that order, one file at a time (recordings need the CPU to themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx --no-install tsc -p tsconfig.json
npx --no-install tsc -p edge/tsconfig.json
npx --no-install tsc -p client/tsconfig.json
files=()
for room in unit integration e2e; do
  [ -d "test/$room" ] || continue
  while IFS= read -r f; do files+=("$f"); done < <(find "test/$room" -name '*.test.ts' | sort)
done
if (($# > 0)); then files=("$@"); fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
