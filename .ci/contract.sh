#!/usr/bin/env bash
# The OpenAPI document as a contract for clients, checked with the tools
# clients use: redocly lint (strict: no error, no warning), the Python client
# generated without a warning, and that client used against the built server.
# Tools are installed under target/, never globally.
# Usage: .ci/contract.sh [path to the chitieu binary]
set -euo pipefail
cd "$(dirname "$0")/.."

binary="${1:-target/debug/chitieu}"

redocly_dir="target/redocly"
if [ ! -x "$redocly_dir/node_modules/.bin/redocly" ]; then
    mkdir -p "$redocly_dir"
    npm install --silent --no-audit --no-fund --prefix "$redocly_dir" '@redocly/cli@2.77.0'
fi
echo "== redocly lint (redocly.yaml)"
NO_COLOR=1 "$redocly_dir/node_modules/.bin/redocly" lint --config redocly.yaml openapi/openapi.json

echo "== openapi-python-client"
venv="${CHITIEU_PY_VENV:-target/python-client-venv}"
CHITIEU_PY_VENV="$venv" examples/python-client/generate.sh target/python-client

echo "== the generated client against the server"
CHITIEU_BIN="$binary" PYTHONPATH=target/python-client \
    "$venv/bin/pytest" -q -p no:cacheprovider examples/python-client
