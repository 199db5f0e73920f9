#!/bin/sh
# Installs the browser tests' npm packages (package-lock.json, exactly) into the build tree:
#   install.sh SOURCE_DIR BUILD_DIR
# ctest runs it as the fixture of the browser tests. It runs `npm ci` only when the lock file
# differs from the one installed last, so repeated test runs cost nothing and need no network.
set -eu
source_dir=$(cd "$1" && pwd)
mkdir -p "$2"
build_dir=$(cd "$2" && pwd)
stamp="$build_dir/node_modules/.switchboard-installed-lock.json"
if [ -f "$stamp" ] && cmp -s "$source_dir/package-lock.json" "$stamp"; then
  echo "npm packages up to date in $build_dir/node_modules"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: run ./dev deps (it installs nodejs, npm and chromium)" >&2
  exit 1
fi
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$build_dir/"
cd "$build_dir"
npm ci --no-audit --no-fund --loglevel=error
cp "$source_dir/package-lock.json" "$stamp"
echo "npm packages installed in $build_dir/node_modules"
