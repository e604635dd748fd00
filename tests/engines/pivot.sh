#!/bin/sh
# Runs inside a fresh mount namespace that has already joined the engine's network
# namespace: make ROOT (a debootstrapped suite) the root file system and exec its dockerd.
# Usage: pivot.sh ROOT STATE   (STATE/data: the engine's data root; STATE/sock: its socket)
set -eu
ROOT=$1 STATE=$2
mount --make-rprivate /
mount --bind "$ROOT" "$ROOT"                # pivot_root and `docker import` need a mount point
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"            # mounted from this network namespace: its own class/net
mount --rbind /sys/fs/cgroup "$ROOT/sys/fs/cgroup"
mount --rbind /dev "$ROOT/dev"
mount -t tmpfs -o mode=755 tmpfs "$ROOT/run"
mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"
mkdir -p "$ROOT/run/dnc" "$ROOT/var/lib/docker"
mount --bind "$STATE/sock" "$ROOT/run/dnc"  # the socket, reachable from the host's file system
mount --bind "$STATE/data" "$ROOT/var/lib/docker"
mount --bind "$STATE/resolv.conf" "$ROOT/etc/resolv.conf"
cd "$ROOT"
mkdir -p .oldroot
pivot_root . .oldroot                       # a plain chroot would break `docker exec`
cd /
umount -l /.oldroot
exec dockerd -H unix:///run/dnc/docker.sock --pidfile /run/docker.pid \
  --cgroup-parent "$3" --log-level=info
