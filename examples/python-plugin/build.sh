#!/usr/bin/env bash
# Builds slo.wasm, the Python example plugin, from app.py against ../../wit/plugin.wit (contract 0.2,
# world `plugin`: tools, prompts, resources, completions).
# Installs componentize-py (pinned) into .venv/ on first use; rebuilds only when an input
# changed. `--stub-wasi` replaces every WASI import of the interpreter (sockets included,
# which plue-mcp refuses at load) with a trapping stub: the component imports only
# plue:plugin/*. Usage: ./build.sh [--force]
set -euo pipefail
cd "$(dirname "$0")"
# One build at a time (tests and benches may start several).
exec 9>.build.lock
flock 9
COMPONENTIZE_PY_VERSION=0.25.1
out=slo.wasm

if [ ! -x .venv/bin/componentize-py ] ||
  [ "$(.venv/bin/componentize-py --version 2>/dev/null)" != "componentize-py $COMPONENTIZE_PY_VERSION" ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

inputs="$(cat build.sh app.py plue_plugin.py ../../wit/plugin.wit | sha256sum | cut -d' ' -f1)"
if [ "${1:-}" != "--force" ] && [ -f "$out" ] && [ "$(cat .built-from 2>/dev/null)" = "$inputs" ]; then
  echo "$out is up to date"
  exit 0
fi

# The plugin's logic, natively, before it is packaged.
python3 -m unittest -q test_app 2>&1 | tail -n 3

.venv/bin/componentize-py -d ../../wit/plugin.wit -w plue:plugin/plugin@0.2.0 componentize --stub-wasi app -o "$out.tmp" >/dev/null
mv "$out.tmp" "$out"
echo "$inputs" >.built-from
echo "built $(pwd)/$out ($(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"
