#!/usr/bin/env bash
# Writes test/frontend/buildkit-parity/NAME/buildkit.json from NAME/Dockerfile with BuildKit's own
# dockerfile2llb (main.go beside this script, built once against BuildKit v0.34.2 from the Go module
# cache, as ../shared/peers/build-buildkit.sh leaves it). For writing parity cases by hand; CI has no Go.
# Usage: test/frontend/buildkit-llb/write-case.sh NAME
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case_dir="$here/../buildkit-parity/$1"
bin=${LLBDUMP:-/tmp/kiln-llbdump}
if [ ! -x "$bin" ]; then
  src=$(mktemp -d /tmp/buildkit-src.XXXXXX)
  dir=$(cd "$src" && GOFLAGS=-mod=mod go mod download -json github.com/moby/buildkit@v0.34.2 | jq -r .Dir)
  cp -r "$dir/." "$src/" && chmod -R u+w "$src"
  mkdir -p "$src/cmd/llbdump" && cp "$here/main.go" "$src/cmd/llbdump/"
  (cd "$src" && GOFLAGS=-mod=mod go build -o "$bin" ./cmd/llbdump)
  rm -rf "$src"
fi
"$bin" < "$case_dir/Dockerfile" > "$case_dir/buildkit.json"
cat "$case_dir/buildkit.json"
