#!/usr/bin/env bash
# Regenerates the Playwright fixture reports in tests/fixtures/playwright/ from a
# real run of this project, in Debian's chromium (never a downloaded browser).
#
#   tests/playwright-project/regenerate.sh
#
# Three runs (RUN_ID=1, 2, 3) of the same tests; a few tests behave differently
# per run (see fixtures.ts). Runs 1 and 2 keep only their JSON report
# (runs/run-N.json); run 3 is the latest and keeps its whole test-results/
# folder, attachments included.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(cd "$here/.." && pwd)/fixtures/playwright"
max_file_bytes=$((256 * 1024))   # no single committed fixture file above this
max_total_kb=1536                 # warn above 1.5 MB in all

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "installing Debian's chromium" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y chromium || { $sudo_cmd apt-get update && $sudo_cmd apt-get install -y chromium; }
fi
export CHROMIUM_PATH="$chromium"

cd "$here"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund

rm -rf "$out/test-results" "$out/runs"
mkdir -p "$out/runs"

for run in 1 2 3; do
  echo "=== run $run ===" >&2
  rm -rf test-results
  # Failing tests make playwright exit non-zero: that is the point here.
  RUN_ID="$run" npx playwright test || true
  if [ ! -s test-results/results.json ]; then
    echo "run $run wrote no test-results/results.json" >&2
    exit 1
  fi
  if [ "$run" -lt 3 ]; then
    cp test-results/results.json "$out/runs/run-$run.json"
  else
    cp -a test-results "$out/test-results"
  fi
done
rm -rf test-results

# Prune: drop anything large (videos, big traces) so the fixtures stay small.
find "$out" -type f -size +"${max_file_bytes}"c -print -delete | sed 's/^/pruned (too large): /' >&2

total_kb=$(du -sk "$out" | cut -f1)
echo "fixtures: ${total_kb} KB in $out" >&2
if [ "$total_kb" -gt "$max_total_kb" ]; then
  echo "warning: fixtures exceed ${max_total_kb} KB" >&2
fi
