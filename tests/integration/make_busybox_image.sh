#!/usr/bin/env bash
# Build a tiny busybox image fully offline (no registry needed) and `docker import` it.
# Usage: make_busybox_image.sh [image-name]   (default: ecsd-test/busybox:latest)
# Idempotent: does nothing if the image already exists.
# Needs: a running Docker engine and /bin/busybox from Debian's busybox-static.
set -euo pipefail

IMAGE="${1:-ecsd-test/busybox:latest}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exit 0
fi

# A dynamically linked busybox would need libc in the rootfs; insist on the static one.
if ! [ -x "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "make_busybox_image: need a static busybox at $BUSYBOX (apt-get install busybox-static)" >&2
  exit 1
fi

ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT

mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,var/www}
chmod 1777 "$ROOTFS/tmp"
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
# Relative symlinks for every applet (sh, ls, cat, sleep, echo, wget, httpd, nc, ...).
# (`busybox --install -s DIR` would point them at the absolute host path of DIR.)
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$ROOTFS/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"
echo 'ecsd-test busybox' >"$ROOTFS/var/www/index.html"

tar -C "$ROOTFS" -c . | docker import \
  -c 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
  -c 'CMD ["/bin/sh"]' \
  -m 'ecsd offline busybox test image' \
  - "$IMAGE" >/dev/null
echo "make_busybox_image: imported $IMAGE"
