#!/usr/bin/env bash
# Schemathesis against the live server's own OpenAPI document, on SQLite and on
# PostgreSQL, with an admin token: every check, every phase (examples,
# coverage, fuzzing, stateful). Any finding fails, except the design decisions
# written down in .ci/schemathesis.toml.
# Usage: .ci/schemathesis.sh [path to the chitieu binary]
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-target/debug/chitieu}"
work="$(mktemp -d)"
venv="target/schemathesis-venv"
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi

admin_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_name="chitieu_schemathesis_$$"
pg_url="${admin_url%/*}/$pg_name"
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    psql "$admin_url" -qc "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
psql "$admin_url" -qc "CREATE DATABASE $pg_name" >/dev/null

run() {
    local label="$1" database_url="$2" port="$3"
    DATABASE_URL="$database_url" BIND_ADDR="127.0.0.1:$port" RUST_LOG=warn "$binary" >"$work/$label.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
        sleep 0.2
    done
    local token
    token="$(DATABASE_URL="$database_url" "$binary" token create --name schemathesis --role admin 2>/dev/null)"
    echo "== schemathesis on $label"
    # Revoking tokens is left out: a generated id could revoke the run's own token.
    "$venv/bin/schemathesis" --config-file .ci/schemathesis.toml run \
        "http://127.0.0.1:$port/api/v1/openapi.json" \
        --checks all --exclude-checks use_after_free \
        --phases examples,coverage,fuzzing,stateful \
        --header "Authorization: Bearer $token" \
        --exclude-path '/api/v1/tokens/{id}' \
        --max-examples 50 --seed 20261201 --no-color
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

# SCHEMATHESIS_PORT moves both servers, for two runs on one machine.
port="${SCHEMATHESIS_PORT:-18731}"
run sqlite "$work/chitieu.db" "$port"
run postgres "$pg_url" "$((port + 1))"
