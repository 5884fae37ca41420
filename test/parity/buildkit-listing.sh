#!/usr/bin/env bash
# Builds a parity case with the reference BuildKit (../shared/peers: buildkitd on
# /run/buildkit-peer/buildkitd.sock, base 127.0.0.1:5000/busybox) and prints what expected.json
# compares: warnings, the config, the history and each new layer's entries. A case's
# base.Dockerfile is built first and pushed to 127.0.0.1:5000/<case>-base. For writing and
# checking cases by hand; CI has no BuildKit.
# Usage: test/parity/buildkit-listing.sh test/parity/cases/NAME [buildctl flags…]
set -euo pipefail
case_dir=$(cd "$1" && pwd); shift
name=$(basename "$case_dir")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ctx" "$work/df" "$work/out"
[ -d "$case_dir/context" ] && cp -a "$case_dir/context/." "$work/ctx/"
[ -f "$case_dir/setup.sh" ] && (cd "$work/ctx" && sh "$case_dir/setup.sh")
buildctl() {
  /opt/buildkit/bin/buildctl --addr unix:///run/buildkit-peer/buildkitd.sock build --progress plain \
    --frontend dockerfile.v0 --local context="$work/ctx" --local dockerfile="$work/df" "$@" 2>"$work/log" || { cat "$work/log"; exit 1; }
  grep -i warn "$work/log" || true
}
# kiln.local/X is 127.0.0.1:5000/X for BuildKit (busybox, and a case's base image).
rewrite() { sed 's#kiln\.local/#127.0.0.1:5000/#g' "$1" > "$work/df/Dockerfile"; }
blob() { echo "$work/out/blobs/sha256/${1#sha256:}"; }
layers_of() {
  curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:5000/v2/$1/manifests/latest" | jq -r '.layers[].digest'
}
base_layers=$(layers_of busybox)
if [ -f "$case_dir/base.Dockerfile" ]; then
  rewrite "$case_dir/base.Dockerfile"
  buildctl "$@" --output type=image,name="127.0.0.1:5000/$name-base:latest",push=true,registry.insecure=true
  base_layers=$(layers_of "$name-base")
fi
rewrite "$case_dir/Dockerfile"
buildctl "$@" --output type=oci,dest="$work/out.tar"
tar -xf "$work/out.tar" -C "$work/out"
manifest=$(blob "$(jq -r '.manifests[0].digest' "$work/out/index.json")")
config=$(blob "$(jq -r .config.digest "$manifest")")
echo "config:"; jq '.config' "$config"
echo "history:"; jq '[.history[].created_by]' "$config"
i=0
for l in $(jq -r '.layers[].digest' "$manifest"); do
  i=$((i + 1))
  # Layers the base has at the same position are not new (none for FROM scratch).
  [ "$(echo "$base_layers" | sed -n "${i}p")" = "$l" ] && continue
  echo "layer $i:"; tar -tvzf "$(blob "$l")" 2>/dev/null || tar -tvf "$(blob "$l")"
done
