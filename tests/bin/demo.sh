#!/usr/bin/env bash
# README command 1: the demo reconciliation on the embedded SQLite default, against the
# built-in provider sandbox.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/bin/setup.sh
cargo run --quiet --release -p paydesk-cli --bin paydesk -- demo --workspace "${PAYDESK_WORKSPACE:-demo-workspace}" "$@"
