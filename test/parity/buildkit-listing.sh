#!/usr/bin/env bash
# Builds a parity case with the reference BuildKit (../shared/peers: buildkitd on
# /run/buildkit-peer/buildkitd.sock, base 127.0.0.1:5000/busybox) and prints what expected.json
# compares: the config and each new layer's entries. For writing and checking cases by hand; CI
# has no BuildKit.
# Usage: test/parity/buildkit-listing.sh test/parity/cases/NAME [buildctl flags…]
set -euo pipefail
case_dir=$(cd "$1" && pwd); shift
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ctx" "$work/df" "$work/out"
[ -d "$case_dir/context" ] && cp -a "$case_dir/context/." "$work/ctx/"
[ -f "$case_dir/setup.sh" ] && (cd "$work/ctx" && sh "$case_dir/setup.sh")
sed 's#kiln\.local/busybox#127.0.0.1:5000/busybox#g' "$case_dir/Dockerfile" > "$work/df/Dockerfile"
/opt/buildkit/bin/buildctl --addr unix:///run/buildkit-peer/buildkitd.sock build --progress plain \
  --frontend dockerfile.v0 --local context="$work/ctx" --local dockerfile="$work/df" "$@" \
  --output type=oci,dest="$work/out.tar" 2>"$work/log" || { cat "$work/log"; exit 1; }
grep -i warn "$work/log" || true
tar -xf "$work/out.tar" -C "$work/out"
blob() { echo "$work/out/blobs/sha256/${1#sha256:}"; }
manifest=$(blob "$(jq -r '.manifests[0].digest' "$work/out/index.json")")
echo "config:"; jq '.config' "$(blob "$(jq -r .config.digest "$manifest")")"
base_layers=$(jq '.layers | length' "$(blob "$(jq -r '.manifests[0].digest' /var/lib/peers-base/busybox-oci/index.json 2>/dev/null)")" 2>/dev/null || echo 1)
i=0
for l in $(jq -r '.layers[].digest' "$manifest"); do
  i=$((i + 1)); [ "$i" -le "$base_layers" ] && continue
  echo "layer $i:"; tar -tvzf "$(blob "$l")" 2>/dev/null || tar -tvf "$(blob "$l")"
done
