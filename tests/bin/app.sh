#!/usr/bin/env bash
# Starts the desktop console on a workspace (default: the demo workspace `npm run demo` made;
# a folder without paydesk.toml becomes a fresh demo workspace). Needs a display.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tests/bin/setup.sh --desktop
bash tests/bin/build-ui.sh
cargo build --quiet -p paydesk-desktop
exec "${CARGO_TARGET_DIR:-target}/debug/paydesk-desktop" --workspace "${PAYDESK_WORKSPACE:-demo-workspace}" "$@"
