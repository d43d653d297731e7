#!/usr/bin/env bash
# End-to-end reconciliation benchmark: generate a day of N orders with a realistic mix of
# discrepancies, then reconcile its WeChat Pay trade bill (parse the provider file, read the
# order mirror, match, persist statement lines, outcomes and discrepancies) on SQLite (app
# database and order mirror in SQLite files) and on PostgreSQL (both in one PostgreSQL
# database: the generated mirror is copied there). Prints lines/s, peak memory and where the
# time went. Needs the sqlite3 and psql command-line tools.
#
#   tests/bin/bench.sh                 # 100000 and 1000000 orders
#   tests/bin/bench.sh 100000 1000000 3000000
#
# PAYDESK_BENCH_DIR (default /tmp/paydesk-bench) holds the generated data and workspaces;
# PAYDESK_BENCH_PG_PREFIX (default paydesk_bench) names its PostgreSQL databases, so that two
# people benchmarking on one server do not drop each other's.
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
export PGOPTIONS="-c client_min_messages=warning"
pg_base="${PAYDESK_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_prefix="${PAYDESK_BENCH_PG_PREFIX:-paydesk_bench}"
cargo build --quiet --release -p paydesk-cli --bin paydesk
bin="${CARGO_TARGET_DIR:-target}/release/paydesk"
work="${PAYDESK_BENCH_DIR:-/tmp/paydesk-bench}"
date=2026-11-22
# The benchmark's own workspace admin (not a real credential).
export PAYDESK_USER=bench PAYDESK_PASSWORD=quarry-lantern-2026

printf '%-9s %-8s %-10s %10s %10s %9s  %s\n' orders db mode seconds lines/s peak_MB timings_ms
for n in "${sizes[@]}"; do
  dir="$work/$n"
  if [ ! -f "$dir/orders.db" ]; then
    rm -rf "$dir"
    "$bin" generate --orders "$n" --date "$date" --seed 1 --mix realistic --providers wechat --out "$dir" >/dev/null
  fi
  bill=$(ls "$dir"/wechat-main-*ALL.csv)
  lines=$(($(wc -l < "$bill") - 3))
  for db in sqlite postgres; do
    for mode in dry-run persist; do
      ws="$work/ws-$n-$db-$mode"
      rm -rf "$ws"; mkdir -p "$ws"
      cp "$dir/paydesk.toml" "$ws/"; ln -sf "$dir/orders.db" "$ws/orders.db"
      # A bill past the default 1 GiB statement limit (about 5M lines) is genuine here.
      if [ "$(stat -c %s "$bill")" -gt 1000000000 ]; then
        printf '\n[limits]\nmax_statement_mb = %d\n' $(( $(stat -c %s "$bill") / 1048576 + 64 )) >> "$ws/paydesk.toml"
      fi
      if [ "$db" = postgres ]; then
        name="${pg_prefix}_${n}_${mode/-/_}"
        mirror="${pg_prefix}_mirror_$n"
        psql "$pg_base" -qc "drop database if exists $name" -c "create database $name" >/dev/null
        sed -i "s#^database_url = .*#database_url = \"${pg_base%/*}/$name\"#" "$ws/paydesk.toml"
        # The same orders and refunds in a PostgreSQL mirror (the default schema), made once.
        if ! psql "${pg_base%/*}/$mirror" -qtAc "select 1 from orders limit 1" >/dev/null 2>&1; then
          psql "$pg_base" -qc "drop database if exists $mirror" -c "create database $mirror" >/dev/null
          sqlite3 "$dir/orders.db" .schema | grep -E '^CREATE (TABLE|INDEX)' | grep -v paydesk_demo \
            | sed 's/IF NOT EXISTS //' | psql "${pg_base%/*}/$mirror" -q >/dev/null
          for t in orders refunds; do
            cols=$(sqlite3 "$dir/orders.db" "select group_concat(name, ',') from pragma_table_info('$t')")
            sqlite3 -csv "$dir/orders.db" "select $cols from $t" \
              | psql "${pg_base%/*}/$mirror" -qc "\\copy $t ($cols) from stdin with (format csv)"
          done
          psql "${pg_base%/*}/$mirror" -qc "vacuum analyze" >/dev/null
        fi
        sed -i "s#^url = \"sqlite://orders.db\"#url = \"${pg_base%/*}/$mirror\"#" "$ws/paydesk.toml"
      fi
      "$bin" init --workspace "$ws" 2>/dev/null
      flag=(); [ "$mode" = dry-run ] && flag=(--dry-run)
      start=$(date +%s.%N)
      PAYDESK_PEAK_MEMORY=1 "$bin" reconcile --workspace "$ws" --account wechat-main --date "$date" \
        --statement "$bill" "${flag[@]}" --json > "$ws/report.json" 2> "$ws/stderr.txt"
      end=$(date +%s.%N)
      secs=$(python3 -c "print(f'{$end-$start:.2f}')")
      rate=$(python3 -c "print(int($lines/($end-$start)))")
      peak=$(python3 -c "import re;t=open('$ws/stderr.txt').read();m=re.search(r'peak_rss_kb=(\d+)',t);print(int(m.group(1))//1024 if m else '?')")
      timings=$(python3 -c "import json;print(json.load(open('$ws/report.json'))['timings_ms'])")
      printf '%-9s %-8s %-10s %10s %10s %9s  %s\n' "$n" "$db" "$mode" "$secs" "$rate" "$peak" "$timings"
    done
  done
done
