#!/usr/bin/env bash
# timed.sh LABEL CMD...: runs CMD and prints how long it took (CI shows the build time this way).
set -euo pipefail
label=$1; shift
start=$(date +%s)
"$@"
end=$(date +%s)
echo "[timed] ${label}: $((end - start)) s"
