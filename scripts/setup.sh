#!/usr/bin/env bash
# Installs the Debian packages recarena needs to build, test and plot.
# Idempotent: only missing packages are installed. Must run as root (or with sudo available).
set -euo pipefail

# libopenblas0-openmp: LibTorch does its matrix products through libblas.so.3; OpenBLAS (OpenMP
# build, sharing LibTorch's thread pool) is ~8x faster than the reference BLAS on a 2-core CPU.
PKGS=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev
  libopenblas0-openmp
  libyaml-cpp-dev
  libfmt-dev
  libboost-dev libboost-program-options-dev
  catch2
  nlohmann-json3-dev
  libsqlite3-dev
  python3-matplotlib
)
# Extra packages can be asked for with RECARENA_EXTRA_PKGS="a b c" (e.g. python3-torch for bench/).
if [[ -n "${RECARENA_EXTRA_PKGS:-}" ]]; then
  read -r -a extra <<<"${RECARENA_EXTRA_PKGS}"
  PKGS+=("${extra[@]}")
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PKGS[@]} packages already installed"
  exit 0
fi

echo "setup: installing missing packages: ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup: ERROR: need root (or sudo) to install: ${missing[*]}" >&2
    echo "setup: run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: ERROR: apt-get not found; this script supports Debian 12. Install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -qq; then
  echo "setup: ERROR: 'apt-get update' failed (network or mirror problem); cannot install: ${missing[*]}" >&2
  exit 1
fi
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  echo "setup: ERROR: 'apt-get install' failed for: ${missing[*]}" >&2
  exit 1
fi
echo "setup: done"
