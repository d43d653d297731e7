#!/usr/bin/env bash
# README command 2: every test: Rust (SQLite and PostgreSQL), the UI's component tests, and
# the desktop app driven end to end through WebDriver in a virtual display.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/bin/setup.sh --postgres --desktop
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
# The desktop crate embeds ui/dist, so the UI is built before any cargo step.
bash tests/bin/build-ui.sh
status=0
echo "=== UI component tests (vitest)" >&2
(cd ui && npx vitest run --reporter=dot) || status=1
echo "=== Rust tests" >&2
cargo build -p paydesk-cli --no-default-features || status=1
cargo test --workspace --no-fail-fast "$@" || status=1
echo "=== desktop end-to-end (WebDriver, Xvfb)" >&2
bash tests/e2e/run.sh || status=1
exit $status
