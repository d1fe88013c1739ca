#!/usr/bin/env bash
# Runs the README's API walk-through (examples/walkthrough.sh) against a fresh,
# seeded server on a new SQLite file, with an admin token made by the CLI.
# Usage: .ci/walkthrough.sh [path to the chitieu binary]
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-target/debug/chitieu}"
work="$(mktemp -d)"
port=18741
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL="$work/chitieu.db"
BIND_ADDR="127.0.0.1:$port" RUST_LOG=warn "$binary" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
token="$("$binary" token create --name lan.nguyen --role admin 2>/dev/null)"
echo "== README walk-through"
HOST="http://127.0.0.1:$port" TOKEN="$token" WALKTHROUGH_OUT="${WALKTHROUGH_OUT:-}" bash examples/walkthrough.sh || {
    cat "$work/server.log" >&2
    exit 1
}
