#!/usr/bin/env bash
# The discrepancy table's server side on a big workspace: reconciles a generated WeChat Pay
# bill of N orders against an empty order mirror (so every line is a discrepancy, 长款),
# then times counting and fetching 200-row blocks at the start, middle and end.
#
#   tests/bin/bench-review.sh            # 100000
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-100000}"
work="${PAYDESK_BENCH_DIR:-/tmp/paydesk-bench}/review-$n"
date=2026-11-22
export PAYDESK_USER=bench PAYDESK_PASSWORD=quarry-lantern-2026
cargo build --quiet --release -p paydesk-cli --bin paydesk
cargo build --quiet --release -p paydesk-service --example review_bench
bin="${CARGO_TARGET_DIR:-target}/release"
if [ ! -f "$work/ws/paydesk.db" ]; then
  rm -rf "$work"; mkdir -p "$work/ws"
  "$bin/paydesk" generate --orders "$n" --date "$date" --seed 1 --mix realistic --providers wechat \
    --out "$work/gen" >/dev/null
  cp "$work/gen/paydesk.toml" "$work/ws/"
  "$bin/paydesk" init --workspace "$work/ws" 2>/dev/null
  "$bin/paydesk" reconcile --workspace "$work/ws" --account wechat-main --date "$date" \
    --statement "$(ls "$work"/gen/wechat-main-*ALL.csv)" --json > /dev/null
fi
"$bin/examples/review_bench" "$work/ws"
