#!/usr/bin/env bash
# Installs what Paydesk's demo and tests need on a fresh Debian/Ubuntu machine that has Rust,
# Node and Python. As root (or with sudo) it installs system packages itself; otherwise it
# prints the exact command to run.
set -euo pipefail
need_pg=""
need_desktop=""
for arg in "$@"; do
  case "$arg" in
    --postgres) need_pg="--postgres" ;;
    --desktop) need_desktop=1 ;;
    *) echo "paydesk setup: unknown option $arg (use --postgres, --desktop)" >&2; exit 2 ;;
  esac
done

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else
    echo "paydesk setup: please run as root: $*" >&2
    return 1
  fi
}

missing=()
command -v cargo >/dev/null 2>&1 || { echo "paydesk setup: Rust is missing: install it from https://rustup.rs" >&2; exit 1; }
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if [ "$need_pg" = "--postgres" ]; then
  command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
fi
command -v node >/dev/null 2>&1 || { echo "paydesk setup: Node.js (20 or newer) with npm is missing" >&2; exit 1; }
if [ -n "$need_desktop" ]; then
  # The Tauri desktop app (WebKitGTK), its headless end-to-end tests (Xvfb, WebKitWebDriver), and
  # a Chinese font so the zh screens (and their screenshots) show characters, not boxes.
  for pkg in libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev \
             xvfb xauth webkit2gtk-driver file fonts-noto-cjk; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "paydesk setup: installing ${missing[*]}" >&2
  as_root apt-get update -qq || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$need_pg" = "--postgres" ] && [ -z "${PAYDESK_TEST_PG_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "paydesk setup: starting PostgreSQL" >&2
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  # The tests connect as postgres over TCP without a password (trust), as on the CI machines.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | sort -V | tail -n1 || true)
    if [ -n "$hba" ] && [ "$(id -u)" = 0 ]; then
      echo "paydesk setup: allowing trust auth for postgres on 127.0.0.1 (test machine only)" >&2
      sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main reload || true
    else
      echo "paydesk setup: PostgreSQL at 127.0.0.1:5432 does not accept user postgres without a password;" >&2
      echo "  set PAYDESK_TEST_PG_URL=postgres://USER:PASSWORD@HOST:PORT/DB" >&2
    fi
  fi
fi

if [ -n "$need_desktop" ] && ! command -v tauri-driver >/dev/null 2>&1; then
  echo "paydesk setup: installing tauri-driver (WebDriver for the desktop app)" >&2
  cargo install tauri-driver --locked --version 2.1.0 --quiet
fi
