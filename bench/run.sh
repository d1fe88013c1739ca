#!/usr/bin/env bash
# The one benchmark command. See bench/README.md.
#
#   bench/run.sh                 # release build, 1,000,000 observations, 3 runs, 10 s loads
#   bench/run.sh --small         # 10,000 observations, 1 run, 2 s loads (CI)
#   bench/run.sh --small --debug --out target/bench-small.md   # CI without a release build
#
# Every other argument goes to the harness (cargo run --example bench -- --help).
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
small=()
pass=()
for arg in "$@"; do
    case "$arg" in
        --small) small=(--observations 10000 --runs 1 --duration-secs 2 --connections 8 --dashboard-users 4 --dashboard-rate 8 --page-requests 30) ;;
        --national) small=(--observations 10000000 --backends postgres) ;;
        --debug) profile=debug ;;
        *) pass+=("$arg") ;;
    esac
done

# Cargo builds into $CARGO_TARGET_DIR when it is set.
target="${CARGO_TARGET_DIR:-target}"
if [ "$profile" = release ]; then
    cargo build --release --bin chitieu
    exec cargo run --release --example bench -- --binary "$target/release/chitieu" "${small[@]}" "${pass[@]}"
else
    cargo build --bin chitieu
    exec cargo run --example bench -- --binary "$target/debug/chitieu" "${small[@]}" "${pass[@]}"
fi
