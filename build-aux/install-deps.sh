#!/bin/bash
# Installs the Debian 12 packages needed to build and test Patches.
# Only missing packages are installed; run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential meson ninja-build pkg-config gettext
  libglib2.0-dev libjson-glib-dev libsoup-3.0-dev libsqlite3-dev
  libgtk-4-dev libadwaita-1-dev libsecret-1-dev
  clang libclang-rt-14-dev
  gobject-introspection libgirepository1.0-dev python3-gi
  gir1.2-json-1.0 gir1.2-soup-3.0
  xvfb xauth desktop-file-utils appstream
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
