#!/usr/bin/env bash
# Times kiln against BuildKit (dockerd's) and Buildah on the generated contexts of bench/contexts.sh:
# cold build, no-op rebuild and one-file-edit rebuild (hyperfine medians), kiln's peak RSS, and the
# peer/kiln ratios, printed as Markdown tables. See bench/README.md.
#
# Usage: bench/run.sh [--contexts hello,cpu,files,filesdir,chain] [--builders kiln,buildkit,buildah]
#                     [--runs N] [--cold-runs N] [--peers auto|start|none] [--keep]
#   --peers auto   use the peers that answer (default); start: run $PEERS_DIR/setup-peers.sh first
#                  and stop-peers.sh at the end; none: kiln only.
# Env: BENCH_WORK (work dir, default a new /var/tmp/kiln-bench.*), PEERS_DIR (default /work/shared/peers),
#      BUSY_N (passed to contexts.sh).
set -euo pipefail

# It adds ~0.16 s to every Node start on some machines, and users rarely set it.
unset NODE_EXTRA_CA_CERTS

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
self="$repo/bench/run.sh"
DOCKER=/usr/bin/docker # Debian's 20.10 client, with the built-in BuildKit client
export DOCKER_BUILDKIT=1 DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}
kiln() { node "$repo/bin/kiln.js" "$@"; }

# ---------------------------------------------------------------- per-builder actions
# build_argv BUILDER CONTEXT: the timed command, one word per line-free argument (run with hyperfine -N).
build_argv() {
  local b=$1 c=$2 d="$work/ctx/$2"
  case $b in
    kiln) echo "node $repo/bin/kiln.js build --root $work/kiln-root-$c -f $d/Dockerfile.kiln -t bench-$c --progress plain $d/ctx" ;;
    buildkit) echo "$DOCKER build -q --network=none -f $d/Dockerfile.buildkit -t bench-$c $d/ctx" ;;
    buildah) echo "buildah bud -q --isolation chroot --layers -f $d/Dockerfile.buildah -t bench-$c $d/ctx" ;;
  esac
}

# reset BUILDER CONTEXT: forget every cached step of CONTEXT, keep only the busybox base.
reset() {
  local b=$1 c=$2
  case $b in
    kiln)
      rm -rf "$work/kiln-root-$c"; mkdir -p "$work/kiln-root-$c"
      kiln import --root "$work/kiln-root-$c" "$work/busybox-rootfs.tar" kiln.local/busybox >/dev/null ;;
    buildkit)
      $DOCKER rmi -f "bench-$c" >/dev/null 2>&1 || true
      $DOCKER builder prune -af >/dev/null ;;
    buildah)
      buildah rm -a >/dev/null 2>&1 || true
      buildah rmi -f "localhost/bench-$c" >/dev/null 2>&1 || true
      buildah rmi --prune >/dev/null 2>&1 || true ;;
  esac
}

# edit CONTEXT: replace the context's edit target (write + rename, as editors do: the file may be a
# hard link shared with another context) with content no earlier run has seen.
edit() {
  local f="$work/ctx/$1/ctx/$(cat "$work/ctx/$1/edit-target")"
  printf 'edited %s\n' "$(date +%s%N)" >"$f.new"
  mv "$f.new" "$f"
}

# restore CONTEXT: put the edit target back as contexts.sh wrote it.
restore() {
  local t; t=$(cat "$work/ctx/$1/edit-target")
  cp -p "$work/orig/$1" "$work/ctx/$1/ctx/$t.new"
  mv "$work/ctx/$1/ctx/$t.new" "$work/ctx/$1/ctx/$t"
}

# hyperfine re-enters this script for its --prepare steps. Each ends with sync: the gigabytes an
# earlier run (or context) wrote are flushed before the clock starts, not during the next run.
case ${1:-} in
  _reset) work=$4; reset "$2" "$3"; sync; exit 0 ;;
  _edit) work=$3; edit "$2"; sync; exit 0 ;;
esac

# ---------------------------------------------------------------- arguments
contexts=hello,cpu,files,filesdir,chain
builders=kiln,buildkit,buildah
runs=5
cold_runs=3
peers=auto
keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --contexts) contexts=$2; shift 2 ;;
    --builders) builders=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --cold-runs) cold_runs=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a ctx_list <<<"$contexts"
IFS=, read -r -a builder_list <<<"$builders"

log() { printf '[bench] %s\n' "$*" >&2; }
command -v hyperfine >/dev/null || { echo "bench/run.sh: hyperfine not found (apt-get install -y hyperfine)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/run.sh: /usr/bin/time not found (apt-get install -y time)" >&2; exit 1; }
[ -f "$repo/dist/kiln.cjs" ] || { echo "bench/run.sh: kiln is not built; run npm run build:ts" >&2; exit 1; }

PEERS_DIR=${PEERS_DIR:-/work/shared/peers}
work=${BENCH_WORK:-$(mktemp -d /var/tmp/kiln-bench.XXXXXX)}
mkdir -p "$work/ctx" "$work/orig" "$work/json" "$work/logs"
results="$work/results.tsv"; : >"$results"
failures="$work/failures.txt"; : >"$failures"

cleanup() {
  if [ "$peers" = start ]; then log "stopping peers"; "$PEERS_DIR/stop-peers.sh" >&2 || true; fi
  if [ "$keep" = 0 ]; then
    for c in "${ctx_list[@]}"; do rm -rf "$work/kiln-root-$c"; done
    rm -rf "$work/ctx"
  fi
}
trap cleanup EXIT

if [ "$peers" = start ]; then log "starting peers"; "$PEERS_DIR/setup-peers.sh" >&2; fi
available=()
for b in "${builder_list[@]}"; do
  case $b in
    kiln) available+=(kiln) ;;
    buildkit|buildah)
      if [ "$peers" = none ]; then continue; fi
      if [ "$b" = buildkit ] && ! $DOCKER info >/dev/null 2>&1; then log "dockerd does not answer; BuildKit skipped"; echo "buildkit: dockerd not running (skipped)" >>"$failures"; continue; fi
      if [ "$b" = buildah ] && ! buildah inspect --type image localhost/busybox >/dev/null 2>&1; then log "buildah or its busybox base missing; Buildah skipped"; echo "buildah: not set up (skipped)" >>"$failures"; continue; fi
      available+=("$b") ;;
    *) echo "bench/run.sh: unknown builder $b" >&2; exit 2 ;;
  esac
done

log "work dir $work; generating contexts"
"$repo/bench/contexts.sh" "$work/ctx" >&2
"$repo/examples/make-busybox-rootfs.sh" "$work/busybox-rootfs.tar"
for c in "${ctx_list[@]}"; do cp -p "$work/ctx/$c/ctx/$(cat "$work/ctx/$c/edit-target")" "$work/orig/$c"; done

# time_phase BUILDER CONTEXT PHASE RUNS [hyperfine args...]: appends "ctx builder phase median min max".
time_phase() {
  local b=$1 c=$2 p=$3 n=$4; shift 4
  local json="$work/json/$c-$b-$p.json" cmd
  cmd=$(build_argv "$b" "$c")
  log "$c / $b / $p ($n runs)"
  if hyperfine -N --style basic --runs "$n" "$@" --export-json "$json" "$cmd" >"$work/logs/$c-$b-$p.hyperfine" 2>&1; then
    jq -r --arg c "$c" --arg b "$b" --arg p "$p" \
      '.results[0] | [$c, $b, $p, .median, .min, .max] | @tsv' "$json" >>"$results"
  else
    # hyperfine hides the build's output: run it once more to keep the error
    $cmd >"$work/logs/$c-$b-$p.fail" 2>&1 || true
    printf '%s %s %s: failed: %s\n' "$c" "$b" "$p" "$(tail -3 "$work/logs/$c-$b-$p.fail" | tr '\n' ' ')" >>"$failures"
    printf '%s\t%s\t%s\tFAIL\t\t\n' "$c" "$b" "$p" >>"$results"
  fi
}

# rss BUILDER CONTEXT PHASE: one extra kiln run under /usr/bin/time; peak RSS in KiB.
rss() {
  local c=$2 p=$3 cmd out
  cmd=$(build_argv kiln "$c")
  out=$(/usr/bin/time -f '%M' $cmd 2>&1 >/dev/null | tail -1) || out=FAIL
  printf '%s\tkiln\trss-%s\t%s\t\t\n' "$c" "$p" "$out" >>"$results"
}

for c in "${ctx_list[@]}"; do
  for b in "${available[@]}"; do
    time_phase "$b" "$c" cold "$cold_runs" --prepare "$self _reset $b $c $work"
    time_phase "$b" "$c" noop "$runs" --warmup 1 --prepare sync
    time_phase "$b" "$c" edit "$runs" --prepare "$self _edit $c $work"
    if [ "$b" = kiln ]; then
      reset kiln "$c"; rss kiln "$c" cold
      rss kiln "$c" noop
      edit "$c"; rss kiln "$c" edit
    fi
    restore "$c"
    # leave the peers' stores as they were found (their base image only)
    [ "$b" = kiln ] || reset "$b" "$c"
  done
done

# ---------------------------------------------------------------- report
get() { awk -F'\t' -v c="$1" -v b="$2" -v p="$3" '$1==c && $2==b && $3==p {v=$4} END {print v}' "$results"; }
sec() { local v; v=$(get "$@"); case $v in '') echo '—' ;; FAIL) echo FAIL ;; *) printf '%.3f' "$v" ;; esac; }
mib() { local v; v=$(get "$@"); case $v in ''|FAIL) echo "${v:-—}" ;; *) printf '%d' $(( (v + 512) / 1024 )) ;; esac; }
ratio() { # peer/kiln
  local k p; k=$(get "$1" kiln "$3"); p=$(get "$1" "$2" "$3")
  case "$k$p" in *FAIL*) echo '—'; return ;; esac
  if [ -z "$k" ] || [ -z "$p" ]; then echo '—'; else awk -v p="$p" -v k="$k" 'BEGIN {printf "%.2f×", p / k}'; fi
}
has() { local x; for x in "${available[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }

{
  echo
  echo "kiln $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), node $(node --version), $(nproc) cores, $(date -u +%FT%TZ);"
  echo "medians of $cold_runs cold / $runs warm runs (hyperfine), seconds; RSS: one run each, MiB; NODE_EXTRA_CA_CERTS unset."
  echo
  echo "| context | kiln cold | kiln no-op | kiln one-edit | kiln peak RSS cold / no-op / edit |"
  echo "|---|---|---|---|---|"
  for c in "${ctx_list[@]}"; do
    echo "| $c | $(sec "$c" kiln cold) | $(sec "$c" kiln noop) | $(sec "$c" kiln edit) | $(mib "$c" kiln rss-cold) / $(mib "$c" kiln rss-noop) / $(mib "$c" kiln rss-edit) |"
  done
  for b in buildkit buildah; do
    has "$b" || continue
    echo
    echo "| context | $b cold | $b no-op | $b one-edit | ratio cold | ratio no-op | ratio one-edit |"
    echo "|---|---|---|---|---|---|---|"
    for c in "${ctx_list[@]}"; do
      echo "| $c | $(sec "$c" "$b" cold) | $(sec "$c" "$b" noop) | $(sec "$c" "$b" edit) | $(ratio "$c" "$b" cold) | $(ratio "$c" "$b" noop) | $(ratio "$c" "$b" edit) |"
    done
  done
  echo
  echo "ratio = peer time / kiln time (above 1: kiln is faster)."
  for c in files filesdir; do
    v=$(get "$c" kiln noop)
    [ -n "$v" ] && [ "$v" != FAIL ] || continue
    awk -v c="$c" -v v="$v" 'BEGIN {printf "target: no-op rebuild of the 20 000-file context (%s) under 0.300 s: %.3f s, %s\n", c, v, (v < 0.3 ? "met" : "NOT met")}'
  done
  if [ -s "$failures" ]; then echo; echo "failures:"; sed 's/^/- /' "$failures"; fi
  echo
  echo "raw figures: $results (kept: $work)"
} | tee "$work/report.md"
