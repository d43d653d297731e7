#!/usr/bin/env bash
# The discrepancy table's server side on a big workspace: reconciles a generated WeChat Pay
# bill of N orders against an empty order mirror (so every line is a discrepancy, 长款),
# then times counting and fetching 200-row blocks at the start, middle and end, per sort and
# filter, with the app database on SQLite and on PostgreSQL (release build).
#
#   tests/bin/bench-review.sh            # 100000
#   tests/bin/bench-review.sh 1000000
#   PAYDESK_BENCH_DBS=sqlite tests/bin/bench-review.sh   # one backend only
#
# Each workspace is built once and reused (delete $PAYDESK_BENCH_DIR/review-N to rebuild).
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-100000}"
work="${PAYDESK_BENCH_DIR:-/tmp/paydesk-bench}/review-$n"
pg_base="${PAYDESK_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
dbs="${PAYDESK_BENCH_DBS:-sqlite postgres}"
date=2026-11-22
export PAYDESK_USER=bench PAYDESK_PASSWORD=quarry-lantern-2026
cargo build --quiet --release -p paydesk-cli --bin paydesk
cargo build --quiet --release -p paydesk-service --example review_bench
bin="${CARGO_TARGET_DIR:-target}/release"
if [ ! -d "$work/gen" ]; then
  rm -rf "$work"; mkdir -p "$work"
  "$bin/paydesk" generate --orders "$n" --date "$date" --seed 1 --mix realistic --providers wechat \
    --out "$work/gen" >/dev/null
fi
for db in $dbs; do
  ws="$work/ws-$db"
  if [ ! -f "$ws/.built" ]; then
    rm -rf "$ws"; mkdir -p "$ws"
    cp "$work/gen/paydesk.toml" "$ws/"
    if [ "$db" = postgres ]; then
      name="paydesk_review_$n"
      psql "$pg_base" -qc "drop database if exists $name" -c "create database $name" >/dev/null
      sed -i "s#^database_url = .*#database_url = \"${pg_base%/*}/$name\"#" "$ws/paydesk.toml"
    fi
    "$bin/paydesk" init --workspace "$ws" 2>/dev/null
    start=$(date +%s.%N)
    "$bin/paydesk" reconcile --workspace "$ws" --account wechat-main --date "$date" \
      --statement "$(ls "$work"/gen/wechat-main-*ALL.csv)" --json > "$ws/report.json" 2> "$ws/stderr.txt"
    end=$(date +%s.%N)
    echo "$db: reconciled $n orders in $(python3 -c "print(f'{$end-$start:.1f}')") s"
    if [ "$db" = postgres ]; then
      # What autovacuum does within a minute of a big load (statistics for the planner, the
      # visibility map for index-only scans); run here since a test server may have it off.
      psql "${pg_base%/*}/$name" -qc "vacuum analyze discrepancies" >/dev/null
    fi
    touch "$ws/.built"
  fi
  "$bin/examples/review_bench" "$ws"
done
