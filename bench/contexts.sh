#!/usr/bin/env bash
# Generates kiln's benchmark contexts into OUTDIR, byte-for-byte the same on every run, with one
# Dockerfile per builder (only the FROM line differs) kept beside the context, not inside it.
# Usage: bench/contexts.sh OUTDIR
#   OUTDIR/<name>/ctx/                 the build context
#   OUTDIR/<name>/Dockerfile.<builder> kiln | buildkit | buildah
#   OUTDIR/<name>/edit-target          the context path the one-file-edit rebuild rewrites
# Contexts: hello, cpu, files, filesdir, chain (see bench/README.md).
# Env: BUSY_N (busy-loop iterations per CPU stage, default 600000 ≈ 2 s of busybox sh here),
#      BASE_KILN / BASE_BUILDKIT / BASE_BUILDAH (the busybox base each builder has locally).
set -euo pipefail

out=${1:?usage: contexts.sh OUTDIR}
BUSY_N=${BUSY_N:-600000}
BASE_KILN=${BASE_KILN:-kiln.local/busybox}
BASE_BUILDKIT=${BASE_BUILDKIT:-busybox}
BASE_BUILDAH=${BASE_BUILDAH:-localhost/busybox}

mkdir -p "$out"

# write_dockerfiles NAME: reads the Dockerfile body (with @BASE@) on stdin.
write_dockerfiles() {
  local dir="$out/$1" body
  body=$(cat)
  printf '%s\n' "${body//@BASE@/$BASE_KILN}" >"$dir/Dockerfile.kiln"
  printf '%s\n' "${body//@BASE@/$BASE_BUILDKIT}" >"$dir/Dockerfile.buildkit"
  printf '%s\n' "${body//@BASE@/$BASE_BUILDAH}" >"$dir/Dockerfile.buildah"
}

# ---- 1. hello: COPY one file, RUN on it
rm -rf "$out/hello"; mkdir -p "$out/hello/ctx"
printf 'Hello from the kiln benchmark\n' >"$out/hello/ctx/hello.txt"
echo hello.txt >"$out/hello/edit-target"
write_dockerfiles hello <<'EOF'
FROM @BASE@
COPY hello.txt /hello.txt
RUN wc -c /hello.txt > /hello.size
EOF

# ---- 2. cpu: four independent CPU-bound stages, a final stage copying their outputs.
# The edited file is copied by the final stage only, so a good cache re-runs none of the busy work.
rm -rf "$out/cpu"; mkdir -p "$out/cpu/ctx"
printf 'version 1\n' >"$out/cpu/ctx/version.txt"
echo version.txt >"$out/cpu/edit-target"
{
  for s in 1 2 3 4; do
    printf 'FROM @BASE@ AS s%s\n' "$s"
    printf 'RUN i=0; while [ $i -lt %s ]; do i=$((i+1)); done; echo "stage %s $i" > /out-%s.txt\n\n' "$BUSY_N" "$s" "$s"
  done
  printf 'FROM @BASE@\n'
  for s in 1 2 3 4; do printf 'COPY --from=s%s /out-%s.txt /out/\n' "$s" "$s"; done
  printf 'COPY version.txt /out/version.txt\n'
} | write_dockerfiles cpu

# ---- 3. files: 20 000 small files (200 dirs × 100) + 3 × 50 MiB incompressible files, COPY . /app
rm -rf "$out/files"; mkdir -p "$out/files/ctx"
(
  cd "$out/files/ctx"
  for d in $(seq -w 0 199); do
    mkdir "d$d"
    for f in $(seq -w 0 99); do printf 'file %s/%s\n' "$d" "$f" >"d$d/f$f.txt"; done
  done
  # AES-CTR over zeros with a fixed key: deterministic bytes that do not compress, like real binaries
  for b in 1 2 3; do
    # (openssl ends on SIGPIPE once head has its bytes; that is the expected end, not a failure)
    { openssl enc -aes-256-ctr -nosalt -K "$(printf '%064d' "$b")" -iv "$(printf '%032d' 0)" </dev/zero 2>/dev/null || true; } \
      | head -c $((50 * 1024 * 1024)) >"big$b.bin"
  done
)
echo d100/f50.txt >"$out/files/edit-target"
write_dockerfiles files <<'EOF'
FROM @BASE@
COPY . /app
EOF

# ---- 3b. filesdir: the same tree one level down, `COPY app /app` (the same result as 3 with
# every builder): a named source directory rather than the whole context, which takes kiln's
# include-pattern path. Hard links keep it cheap; edits replace files (write + rename), so the two
# contexts never change together.
rm -rf "$out/filesdir"; mkdir -p "$out/filesdir/ctx"
cp -al "$out/files/ctx" "$out/filesdir/ctx/app"
echo app/d100/f50.txt >"$out/filesdir/edit-target"
write_dockerfiles filesdir <<'EOF'
FROM @BASE@
COPY app /app
EOF

# ---- 4. chain: 40 steps after FROM (41 in all): RUN/ENV alternating, one COPY at step 21, so a
# one-file edit re-runs the second half of the chain.
rm -rf "$out/chain"; mkdir -p "$out/chain/ctx"
printf 'seed 1\n' >"$out/chain/ctx/seed.txt"
echo seed.txt >"$out/chain/edit-target"
{
  printf 'FROM @BASE@\n'
  for i in $(seq 1 40); do
    if [ "$i" -eq 21 ]; then printf 'COPY seed.txt /seed.txt\n'
    elif [ $((i % 2)) -eq 1 ]; then printf 'RUN echo "step %s" >> /chain.txt\n' "$i"
    else printf 'ENV STEP_%s=%s\n' "$i" "$i"
    fi
  done
} | write_dockerfiles chain

# Fixed mtimes so a regenerated context looks the same to every builder's metadata cache too.
find "$out" -exec touch -h -d @1700000000 {} +
