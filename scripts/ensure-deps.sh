#!/bin/sh
# npm runs this before `start` and `test`, so that the README's two commands work on a fresh clone:
# install when node_modules is missing or older than the lock file, and do nothing otherwise.
set -e
cd "$(dirname "$0")/.."
# `npm install`, not `npm ci`: the registry reachable here does not serve @swc/core's binaries for
# other platforms, so the lock file cannot list them and `npm ci` would refuse it as out of sync.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
