#!/usr/bin/env bash
# The `cpu` context built for linux/amd64,linux/arm64 in one command: kiln next to BuildKit
# (`buildctl … --opt platform=linux/amd64,linux/arm64`), and each platform alone, so the cost of
# the emulated arm64 half can be read against the native half. Prints a Markdown table of medians
# (seconds). arm64 RUN steps run under QEMU: register the handler first (see bench/README.md).
#
# Usage: bench/multiplatform.sh [--runs N] [--builders kiln,buildkit]
# Env: BENCH_WORK (work dir, default a new /var/tmp/kiln-mpbench.*), BUSY_N (see contexts.sh).
set -euo pipefail
unset NODE_EXTRA_CA_CERTS

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=3
builders=kiln,buildkit
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --builders) builders=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
kiln() { node "$repo/bin/kiln.js" "$@"; }
buildctl_bin=/opt/buildkit/bin/buildctl
buildkit_sock=unix:///run/buildkit-peer/buildkitd.sock
# The peer registry BuildKit pulls its bases from; the two-platform base goes there under kiln-bench/.
peer_reg=127.0.0.1:5000

deb=$(ls /var/cache/kiln-test/busybox-static_*_arm64.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then echo "no arm64 busybox-static .deb in /var/cache/kiln-test: run .ci/setup first" >&2; exit 2; fi
if ! grep -qls '^interpreter .*aarch64' /proc/sys/fs/binfmt_misc/* 2>/dev/null; then
  echo "no binfmt_misc handler for arm64 is registered, so no arm64 RUN can execute: run 'node bin/kiln.js setup binfmt --install linux/arm64' first" >&2
  exit 2
fi
case ",$builders," in *,buildkit,*) [ -x "$buildctl_bin" ] || { echo "no $buildctl_bin: use --builders kiln" >&2; exit 2; } ;; esac

work=${BENCH_WORK:-$(mktemp -d /var/tmp/kiln-mpbench.XXXXXX)}
mkdir -p "$work"
echo "work dir: $work" >&2
BASE_KILN=kiln.local/busybox-multi BASE_BUILDKIT=$peer_reg/kiln-bench/busybox-multi "$repo/bench/contexts.sh" "$work/contexts" >/dev/null
cpu=$work/contexts/cpu

# ---------------------------------------------------------------- the two-platform base
# Both busyboxes imported, then one build whose target stage is picked by TARGETARCH makes the index.
dpkg-deb -x "$deb" "$work/arm64-deb"
bash "$repo/examples/make-busybox-rootfs.sh" "$work/rootfs-amd64.tar"
BUSYBOX=$work/arm64-deb/bin/busybox bash "$repo/examples/make-busybox-rootfs.sh" "$work/rootfs-arm64.tar"
mkdir -p "$work/base-ctx"
printf 'ARG TARGETARCH\nFROM kiln.local/busybox AS base-amd64\nFROM kiln.local/busybox-arm64 AS base-arm64\nFROM base-$TARGETARCH\n' >"$work/base-ctx/Dockerfile"
base_store=$work/base-store
kiln import --root "$base_store" "$work/rootfs-amd64.tar" kiln.local/busybox:latest >/dev/null
kiln import --root "$base_store" --platform linux/arm64 "$work/rootfs-arm64.tar" kiln.local/busybox-arm64:latest >/dev/null
kiln build --root "$base_store" -q --platform linux/amd64,linux/arm64 -t kiln.local/busybox-multi "$work/base-ctx" >/dev/null
if [[ ",$builders," == *,buildkit,* ]]; then
  kiln tag --root "$base_store" kiln.local/busybox-multi "$peer_reg/kiln-bench/busybox-multi:latest"
  kiln push --root "$base_store" "$peer_reg/kiln-bench/busybox-multi:latest" >/dev/null
fi

# A cold kiln build: a fresh store holding only the base (made outside the timing).
fresh_store() {
  rm -rf "$work/store"
  kiln save --root "$base_store" -o "$work/base.tar" kiln.local/busybox-multi
  kiln load --root "$work/store" -i "$work/base.tar" >/dev/null 2>"$work/load.log"
}

seconds() { # runs "$@" and prints its wall time
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/last.log" || { echo "failed: $*" >&2; tail -20 "$work/last.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

declare -A result
for platforms in linux/amd64,linux/arm64 linux/amd64 linux/arm64; do
  if [[ ",$builders," == *,kiln,* ]]; then
    times=()
    for _ in $(seq "$runs"); do
      fresh_store
      sync
      times+=("$(seconds kiln build --root "$work/store" --progress plain --platform "$platforms" -f "$cpu/Dockerfile.kiln" -o type=oci,dest="$work/kiln.tar" "$cpu/ctx")")
    done
    result[kiln,$platforms]=$(printf '%s\n' "${times[@]}" | median)
  fi
  if [[ ",$builders," == *,buildkit,* ]]; then
    mkdir -p "$work/df"
    cp "$cpu/Dockerfile.buildkit" "$work/df/Dockerfile"
    times=()
    for _ in $(seq "$runs"); do
      sync
      times+=("$(seconds "$buildctl_bin" --addr "$buildkit_sock" build --progress plain --no-cache --frontend dockerfile.v0 \
        --local context="$cpu/ctx" --local dockerfile="$work/df" --opt platform="$platforms" --output type=oci,dest="$work/buildkit.tar")")
    done
    result[buildkit,$platforms]=$(printf '%s\n' "${times[@]}" | median)
  fi
done

echo
echo "cpu context, BUSY_N=${BUSY_N:-600000}, medians of $runs cold runs (seconds); ratio = arm64 alone / amd64 alone"
echo
echo "| builder | linux/amd64,linux/arm64 | linux/amd64 alone | linux/arm64 alone | arm64 / amd64 |"
echo "|---|---|---|---|---|"
for b in kiln buildkit; do
  [[ ",$builders," == *,$b,* ]] || continue
  both=${result[$b,linux/amd64,linux/arm64]} amd=${result[$b,linux/amd64]} arm=${result[$b,linux/arm64]}
  printf '| %s | %s | %s | %s | %.1fx |\n' "$b" "$both" "$amd" "$arm" "$(echo "$arm / $amd" | bc -l)"
done
