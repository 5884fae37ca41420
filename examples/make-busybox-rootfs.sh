#!/usr/bin/env bash
# Makes a minimal root filesystem tarball from Debian's busybox-static: /bin/busybox plus a
# symlink for each applet it has, and the few directories and /etc files a shell expects.
# Usage: make-busybox-rootfs.sh [OUT.tar]   (writes to stdout without an argument)
# BUSYBOX=PATH takes another busybox binary, e.g. a foreign architecture's from its .deb: its
# applet list is then read from the host's /bin/busybox (the host cannot run it without QEMU).
# The output is byte-for-byte the same on every run (sorted, owners 0:0, mtimes at the epoch),
# so `kiln import` of it gives the same image digest when SOURCE_DATE_EPOCH is set.
set -euo pipefail

busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
  echo "make-busybox-rootfs: $busybox not found; install it with: apt-get install busybox-static" >&2
  exit 1
fi
lister=$busybox
if ! "$busybox" true 2>/dev/null; then lister=/bin/busybox; fi
if ! file -L "$busybox" 2>/dev/null | grep -q 'statically linked' && ldd "$busybox" >/dev/null 2>&1; then
  echo "make-busybox-rootfs: $busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 755 "$root"

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,var/tmp,home}
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"
cp "$busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"

# `busybox --list-full` names every applet with its usual directory (bin/sh, usr/bin/env, …).
"$lister" --list-full | while read -r applet; do
  case "$applet" in bin/busybox|'') continue ;; esac
  dir=$(dirname "$applet")
  mkdir -p "$root/$dir"
  rel=$(realpath --relative-to="$root/$dir" "$root/bin/busybox")
  ln -sf "$rel" "$root/$applet"
done

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"

tar_args=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C "$root" .)
if [ $# -ge 1 ] && [ "$1" != "-" ]; then
  tar -cf "$1" "${tar_args[@]}"
else
  tar -cf - "${tar_args[@]}"
fi
