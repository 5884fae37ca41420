#!/usr/bin/env bash
# Push and pull through a local docker-registry: kiln next to skopeo and crane (when on PATH or in
# ~/go/bin), same images, same run. Images: one 512 MiB incompressible layer ("big"), and a tree
# of 20 000 small files ("files"). Prints a Markdown table of medians (seconds). See bench/README.md.
#
# Usage: bench/registry.sh [--images big,files] [--runs N]
# Env: BENCH_WORK (work dir, default a new /var/tmp/kiln-regbench.*).
set -euo pipefail
unset NODE_EXTRA_CA_CERTS

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
images=big,files
runs=3
while [ $# -gt 0 ]; do
  case $1 in
    --images) images=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
work=${BENCH_WORK:-$(mktemp -d /var/tmp/kiln-regbench.XXXXXX)}
mkdir -p "$work"
crane=$(command -v crane || echo "$HOME/go/bin/crane")
[ -x "$crane" ] || crane=""
kiln() { node "$repo/bin/kiln.js" "$@"; }

# ---------------------------------------------------------------- the registry
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $reg
YML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
reg_pid=$!
trap 'kill $reg_pid 2>/dev/null || true; [ -n "${BENCH_WORK:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fsS "http://$reg/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

# ---------------------------------------------------------------- helpers
now() { date +%s.%N; }
# median CMD...: runs the command $runs times (after `prepare`, untimed), prints the median seconds.
median() {
  local times=()
  for i in $(seq "$runs"); do
    prepare "$i"
    sync
    local t0; t0=$(now)
    "$@" "$i" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    times+=("$(echo "$(now) - $t0" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'
}
prepare() { :; }

make_image() {
  local name=$1 ctx="$work/ctx-$1"
  mkdir -p "$ctx"
  case $name in
    # openssl ends on SIGPIPE when head has enough, which pipefail would count as a failure.
    big) { openssl enc -aes-256-ctr -pass pass:kiln -nosalt -pbkdf2 < /dev/zero 2>/dev/null || true; } | head -c $((512 * 1024 * 1024)) > "$ctx/big.bin" ;;
    files) for d in $(seq 200); do mkdir -p "$ctx/d$d"; for f in $(seq 100); do echo "module $d/$f" > "$ctx/d$d/f$f.js"; done; done ;;
  esac
  printf 'FROM scratch\nCOPY . /app\n' > "$ctx/Dockerfile"
  SOURCE_DATE_EPOCH=1700000000 kiln build --root "$work/src-root" --progress quiet -t "kiln.bench/$name:src" "$ctx" >/dev/null
  kiln save --root "$work/src-root" -o "$work/$name.tar" "kiln.bench/$name:src"
  mkdir -p "$work/$name-oci" && tar -xf "$work/$name.tar" -C "$work/$name-oci"
}

echo "| image | step | kiln | skopeo | crane |"
echo "|---|---|---|---|---|"
for image in ${images//,/ }; do
  make_image "$image"
  # Each push goes to a fresh repository, so the registry has to receive every byte; kiln's tag of
  # the run before is removed first (untimed), or kiln would mount the blobs from that repository.
  prepare() {
    [ "$1" = 1 ] || kiln rmi --root "$work/src-root" "$reg/k$image$(($1 - 1))/x:1" >/dev/null
    kiln tag --root "$work/src-root" "kiln.bench/$image:src" "$reg/k$image$1/x:1"
  }
  k_push() { kiln push --root "$work/src-root" "$reg/k$image$1/x:1"; }
  s_push() { skopeo copy -q --dest-tls-verify=false "oci-archive:$work/$image.tar" "docker://$reg/s$image$1/x:1"; }
  c_push() { "$crane" push --insecure "$work/$image-oci" "$reg/c$image$1/x:1"; }
  kp=$(median k_push)
  kiln rmi --root "$work/src-root" "$reg/k$image$runs/x:1" >/dev/null
  prepare() { :; }
  sp=$(median s_push); cp=-; [ -z "$crane" ] || cp=$(median c_push)
  echo "| $image | push | $kp | $sp | $cp |"
  # A second push of what is there already: HEADs and the manifest.
  kiln tag --root "$work/src-root" "kiln.bench/$image:src" "$reg/k${image}1/x:1"
  k_repush() { kiln push --root "$work/src-root" "$reg/k${image}1/x:1"; }
  s_repush() { skopeo copy -q --dest-tls-verify=false "oci-archive:$work/$image.tar" "docker://$reg/s${image}1/x:1"; }
  c_repush() { "$crane" push --insecure "$work/$image-oci" "$reg/c${image}1/x:1"; }
  kr=$(median k_repush); sr=$(median s_repush); cr=-; [ -z "$crane" ] || cr=$(median c_repush)
  echo "| $image | unchanged re-push | $kr | $sr | $cr |"
  # Pulls into nothing: a new store, a new OCI layout dir.
  prepare() { rm -rf "$work/pull-root" "$work/pull-oci"; }
  k_pull() { kiln pull --root "$work/pull-root" "$reg/k${image}1/x:1"; }
  s_pull() { skopeo copy -q --src-tls-verify=false "docker://$reg/k${image}1/x:1" "oci:$work/pull-oci"; }
  c_pull() { "$crane" pull --insecure --format oci "$reg/k${image}1/x:1" "$work/pull-oci"; }
  kl=$(median k_pull); sl=$(median s_pull); cl=-; [ -z "$crane" ] || cl=$(median c_pull)
  echo "| $image | pull | $kl | $sl | $cl |"
  prepare() { :; }
done
