#!/usr/bin/env bash
# Writes test/frontend/buildkit-parity/NAME/buildkit.json from NAME/Dockerfile with BuildKit's own
# dockerfile2llb (main.go beside this script, built once against BuildKit v0.34.2 from the Go module
# cache, as ../shared/peers/build-buildkit.sh leaves it). For writing parity cases by hand; CI has no Go.
# Usage: [LLB_TARGET=linux/arm/v7] test/frontend/buildkit-llb/write-case.sh NAME
# (LLB_TARGET: a target platform other than linux/amd64, the build platform; buildkit.json records it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case_dir="$here/../buildkit-parity/$1"
# Named for main.go's content, so a changed main.go is built anew.
bin=${LLBDUMP:-/tmp/kiln-llbdump-$(sha256sum "$here/main.go" | cut -c1-12)}
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
