#!/usr/bin/env bash
# Prepares, on a development machine, what scripts/gpu_check.sh needs on a GPU machine that has CUDA
# PyTorch but no network and none of recarena's Debian build dependencies: downloads their .deb files
# (headers, CMake configs and the few shared libraries; OpenSSL and SQLite for llm_bridge) into DIR
# (default .gpu-deps, ignored by git;
# about 13 MB). gpu_check.sh unpacks them into a private prefix; nothing is installed there.
# Usage: scripts/gpu_deps.sh [DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-$ROOT/.gpu-deps}
PKGS=(
  libyaml-cpp-dev libyaml-cpp0.7
  libfmt-dev libfmt9
  libboost1.74-dev libboost-program-options1.74-dev libboost-program-options1.74.0
  catch2
  nlohmann-json3-dev
  libssl-dev libssl3 libsqlite3-dev libsqlite3-0
)
mkdir -p "$DIR"
rm -f "$DIR"/*.deb
(cd "$DIR" && apt-get download "${PKGS[@]}" 2>/dev/null) || {
  echo "gpu_deps: 'apt-get download' failed (run 'apt-get update' first?)" >&2
  exit 1
}
echo "gpu_deps: $(ls "$DIR"/*.deb | wc -l) packages, $(du -sh "$DIR" | cut -f1) in $DIR"
