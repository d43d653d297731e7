#!/usr/bin/env bash
# The desktop end-to-end suite: drives the REAL Paydesk app (Tauri v2, WebKitGTK) through
# tauri-driver (WebDriver) in a virtual X display, one fresh demo workspace per test file.
#
#   bash tests/e2e/run.sh                      # build what is stale, run every *.test.mjs
#   bash tests/e2e/run.sh tests/e2e/keys.test.mjs   # just some files
#
# Environment: CARGO_TARGET_DIR (where the binaries are built), E2E_SKIP_BUILD=1 (use the
# binaries as they are), E2E_KEEP=1 (keep the workspaces and logs under $E2E_TMP),
# E2E_DISPLAY / E2E_PORT (defaults: the first free display from :99, port from 4444).
# Screenshots: tests/e2e/screenshots/<name>.png, overwritten on each run; a failed test adds
# screenshots/failure-<name>.png. Exit status: non-zero when any test failed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
export E2E_BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
log() { echo "e2e: $*" >&2; }

# ---- tools: Xvfb, WebKitWebDriver (apt), tauri-driver (cargo)
if ! command -v Xvfb >/dev/null 2>&1 || ! command -v WebKitWebDriver >/dev/null 2>&1 \
   || ! dpkg -s libwebkit2gtk-4.1-dev >/dev/null 2>&1; then
  bash tests/bin/setup.sh --desktop
fi
# The zh screens need a Chinese font; without one they render boxes and the screenshots lie.
if [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  bash tests/bin/setup.sh --desktop
  if [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    log "no Chinese font installed (fonts-noto-cjk); the zh screens would show boxes"
    exit 1
  fi
fi
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v tauri-driver >/dev/null 2>&1; then
  log "installing tauri-driver (cargo install, about 45 s)"
  cargo install tauri-driver --locked --quiet
fi

# ---- the suite's own dependencies (selenium-webdriver), from the lock file
stamp="$HERE/node_modules/.paydesk-lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s "$HERE/package-lock.json" "$stamp"; then
  (cd "$HERE" && npm ci --no-audit --no-fund --silent)
  cp "$HERE/package-lock.json" "$stamp"
fi

# ---- build: the web UI (only when stale; the desktop crate embeds ui/dist), then the app and CLI
if [ "${E2E_SKIP_BUILD:-}" != 1 ]; then
  bash tests/bin/build-ui.sh
  log "cargo build -p paydesk-desktop -p paydesk-cli"
  cargo build --quiet -p paydesk-desktop -p paydesk-cli
fi
for bin in paydesk-desktop paydesk; do
  [ -x "$E2E_BIN_DIR/$bin" ] || { log "missing $E2E_BIN_DIR/$bin"; exit 1; }
done

# ---- scratch space: workspaces, the web view's storage, logs
E2E_TMP="${E2E_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/paydesk-e2e.XXXXXX")}"
mkdir -p "$E2E_TMP/work" "$E2E_TMP/xdg"
export E2E_WORK_DIR="$E2E_TMP/work"

xvfb_pid=""
driver_pid=""
cleanup() {
  local status=$?
  # tauri-driver runs in its own process group (setsid): WebKitWebDriver and any app it
  # started go with it.
  if [ -n "$driver_pid" ]; then
    kill -TERM -- "-$driver_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$driver_pid" 2>/dev/null || true
  fi
  if [ -n "$xvfb_pid" ]; then
    kill -TERM "$xvfb_pid" 2>/dev/null || true
    wait "$xvfb_pid" 2>/dev/null || true
  fi
  if [ "${E2E_KEEP:-}" = 1 ] || [ $status -ne 0 ]; then
    log "workspaces and logs kept in $E2E_TMP"
  else
    rm -rf "$E2E_TMP"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- virtual display
display="${E2E_DISPLAY:-}"
if [ -z "$display" ]; then
  n=99
  while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
  display=":$n"
fi
Xvfb "$display" -screen 0 1920x1200x24 -nolisten tcp >"$E2E_TMP/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 1 100); do
  [ -e "/tmp/.X11-unix/X${display#:}" ] && break
  kill -0 "$xvfb_pid" 2>/dev/null || { log "Xvfb failed:"; cat "$E2E_TMP/xvfb.log" >&2; exit 1; }
  sleep 0.1
done
export DISPLAY="$display"

# ---- tauri-driver (and WebKitWebDriver behind it)
port="${E2E_PORT:-4444}"
while ! port_free "$port" || ! port_free $((port + 1)); do port=$((port + 2)); done
# XDG_DATA_HOME: the web view keeps localStorage (language, saved filters) there; a fresh
# one per run keeps runs independent of each other and of a developer's own app data.
XDG_DATA_HOME="$E2E_TMP/xdg" setsid tauri-driver --port "$port" --native-port $((port + 1)) \
  >"$E2E_TMP/tauri-driver.log" 2>&1 &
driver_pid=$!
for _ in $(seq 1 100); do
  port_free "$port" || break
  kill -0 "$driver_pid" 2>/dev/null || { log "tauri-driver failed:"; cat "$E2E_TMP/tauri-driver.log" >&2; exit 1; }
  sleep 0.1
done
port_free "$port" && { log "tauri-driver is not listening on $port"; exit 1; }
export E2E_DRIVER_URL="http://127.0.0.1:$port"
log "display $DISPLAY, tauri-driver on $E2E_DRIVER_URL, workspaces in $E2E_WORK_DIR"

# ---- run
rm -f "$HERE"/screenshots/failure-*.png
if [ $# -gt 0 ]; then files=("$@"); else files=("$HERE"/*.test.mjs); fi
start=$(date +%s)
set +e
node --test --test-concurrency=1 "${files[@]}"
status=$?
set -e
log "finished in $(( $(date +%s) - start )) s (status $status); screenshots in tests/e2e/screenshots/"
exit $status
