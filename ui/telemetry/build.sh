#!/usr/bin/env bash
# Installs the pinned build tools (TypeScript and esbuild, from package-lock.json) unless
# node_modules was installed from this very lock file, type-checks src/ (strict), then
# builds dist/telemetry.mjs (ES module) and dist/telemetry.min.js (script tag,
# `window.PlueTelemetry`). With `--test`, also runs the unit tests under Node's test
# runner. Called by .ci/install-deps (build) and .ci/test (`--test`).
set -euo pipefail
cd "$(dirname "$0")"
lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp=node_modules/.installed-from-lock
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$stamp"
fi
npm run --silent build
if [ "${1:-}" = "--test" ]; then
  node --test test/
fi
