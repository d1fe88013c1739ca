#!/usr/bin/env bash
# The web app in a real browser: Debian's chromium driven by Selenium, both
# from registries (apt, PyPI) and never downloaded by a tool at run time.
# Starts the built server on a fresh SQLite file, creates an editor with the
# CLI, and runs tests/browser/web_flow.py, which saves screenshots under
# target/browser/.
# Usage: .ci/web-browser-test.sh [path to the chitieu binary]
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-target/debug/chitieu}"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    # A fresh machine has no package lists yet.
    apt-get update -qq >/dev/null
    apt-get install -y --no-install-recommends chromium chromium-driver >/dev/null
fi
venv="target/browser-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'selenium>=4.20,<5'
fi

work="$(mktemp -d)"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# A free port: a fixed one may be taken by another server.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DATABASE_URL="$work/chitieu.sqlite"
DATABASE_URL="$DATABASE_URL" BIND_ADDR="127.0.0.1:$port" RUST_LOG=warn "$binary" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
CHITIEU_PASSWORD="mat-khau-thu-nghiem" "$binary" user create --username lan \
    --name "Nguyễn Thị Lan" --role editor --committee hanam-business-bloc >/dev/null

mkdir -p target/browser
# Selenium Manager must not fetch a browser or a driver: both paths are given.
SE_OFFLINE=true BASE_URL="http://127.0.0.1:$port" USERNAME=lan PASSWORD="mat-khau-thu-nghiem" \
    CHROMIUM=/usr/bin/chromium CHROMEDRIVER=/usr/bin/chromedriver SCREENSHOTS=target/browser \
    "$venv/bin/python" tests/browser/web_flow.py || { cat "$work/server.log" >&2; exit 1; }
