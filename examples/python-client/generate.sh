#!/usr/bin/env bash
# Generates the typed Python client from the committed OpenAPI document, and
# fails on any generator warning (a skipped operation is a broken contract).
# Usage: examples/python-client/generate.sh [output directory]
# Tools go into a virtualenv under target/ (set CHITIEU_PY_VENV to reuse one).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/target/python-client}"
venv="$(realpath -m "${CHITIEU_PY_VENV:-$root/target/python-client-venv}")"
out="$(realpath -m "$out")"
if [ ! -x "$venv/bin/openapi-python-client" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
rm -rf "$out"
mkdir -p "$out"
# ruff (installed with the generator) formats the generated code.
log="$(cd "$out" && PATH="$venv/bin:$PATH" openapi-python-client generate \
    --path "$root/openapi/openapi.json" \
    --config "$here/generator-config.yaml" \
    --meta none 2>&1)" || { echo "$log"; exit 1; }
if grep -qi "warning\|error\|skipping" <<<"$log"; then
    echo "$log"
    echo "openapi-python-client warned: the document is not a clean contract" >&2
    exit 1
fi
echo "generated $out/chitieu_client"
