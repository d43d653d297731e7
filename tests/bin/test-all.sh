#!/usr/bin/env bash
# README command 2: every test, on SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/bin/setup.sh --postgres
export PAYDESK_TEST_PG_URL="${PAYDESK_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if [ -f tests/crosscheck/package.json ]; then
  (cd tests/crosscheck && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; })
fi
# Python cross-check peers: install only when a pinned version is missing (fast on re-runs).
if [ -f tests/crosscheck/requirements.txt ]; then
  python3 - tests/crosscheck/requirements.txt <<'PY' ||
import sys, importlib.metadata as md
for line in open(sys.argv[1]):
    spec = line.split("#")[0].strip()
    if spec:
        name, version = spec.split("==")
        if md.version(name) != version:
            sys.exit(1)
PY
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
      -r tests/crosscheck/requirements.txt
fi
cargo test --workspace --no-fail-fast "$@"
