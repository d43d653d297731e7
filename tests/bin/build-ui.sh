#!/usr/bin/env bash
# Installs the web UI's locked dependencies (when the lock file changed) and builds ui/dist,
# which the desktop crate embeds at compile time.
set -euo pipefail
cd "$(dirname "$0")/../../ui"
stamp=node_modules/.paydesk-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund --silent
  cp package-lock.json "$stamp"
fi
if [ "${1:-}" = "--deps-only" ]; then exit 0; fi
# Skip the build when nothing it reads changed since ui/dist was written.
if [ -f dist/index.html ] && [ -z "$(find src public index.html vite.config.ts tsconfig.json package-lock.json \
      -newer dist/index.html -print -quit 2>/dev/null)" ]; then
  exit 0
fi
npm run --silent build
