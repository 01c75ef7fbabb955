#!/usr/bin/env bash
# Installs everything FUSE Lens's tests and main job need on a fresh Debian
# machine (as root): Debian packages, the npm dependencies, the kernel's FUSE
# control and trace filesystems. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  fuse3 bindfs mergerfs squashfuse squashfs-tools  # real FUSE filesystems for the inspection and trace tests
  strace lsof                                      # protocol-stream capture; the inspect benchmark's baseline
  chromium libkrb5-dev                             # end-to-end tests (Chromium) and code-server's native build
  gcc libc6-dev                                    # C helpers the tests compile (the inspect holder, the lab agent); the procfs addon npm run build compiles (with Node's own node_api.h)
  meson ninja-build pkg-config g++                 # build libfuse 3.18.2's passthrough_hp from ../shared/vendor (Debian's libfuse 3.14 has no passthrough)
  rclone fuse-zip                                  # more real servers nobody here wrote: rclone (Go, 64-bit inodes), fuse-zip (libfuse 2.9, one fh per file)
  neovim                                           # a real LSP client other than VS Code (test/editor/neovim.test.ts)
  emacs-nox elpa-eglot                             # and another: Emacs 28 with eglot 1.9 (test/editor/emacs.test.ts)
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund

# fusectl and tracefs, if the machine has not mounted them.
mountpoint -q /sys/fs/fuse/connections || mount -t fusectl none /sys/fs/fuse/connections || echo "setup: could not mount fusectl" >&2
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing || echo "setup: could not mount tracefs" >&2
