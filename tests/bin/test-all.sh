#!/usr/bin/env bash
# README command 2: every test, on SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/bin/setup.sh --postgres
export PAYDESK_TEST_PG_URL="${PAYDESK_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if [ -f tests/crosscheck/package.json ]; then
  (cd tests/crosscheck && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; })
fi
cargo test --workspace --no-fail-fast "$@"
