#!/usr/bin/env bash
# Installs every build, test and plotting dependency of glia from Debian packages
# (Brian2 is the peer the fidelity tests and benchmarks compare against).
# Safe to re-run: packages already present are not touched, and apt is only called
# when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libeigen3-dev libtbb-dev libboost-dev libhdf5-dev
  catch2 librandom123-dev libtomlplusplus-dev libcli11-dev libomp-dev
  python3 python3-h5py python3-matplotlib python3-numpy
  python3-brian python3-scipy time
  clang libclang-rt-14-dev
  dataset-fashion-mnist zlib1g-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
