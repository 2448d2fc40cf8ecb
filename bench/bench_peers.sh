# shellcheck shell=bash
# Peer libraries of the side-by-side benchmarks (sourced, not run; bench/run_recbole.sh,
# bench/run_conformal_torchcp.sh).
#
# bench_peers_install ROOT PY: installs ROOT/requirements-bench.txt into ROOT/.venv-bench with PY's
# pip (--target, --no-deps: beside the project venv, keeping its torch and numpy) when
# .venv-bench/.installed is missing or differs from requirements-bench.txt, then copies the file
# there as that marker, so either script's install serves the other.
bench_peers_install() {
  local root=$1 py=$2
  if [[ ! -f $root/.venv-bench/.installed ]] ||
     ! cmp -s "$root/requirements-bench.txt" "$root/.venv-bench/.installed"; then
    echo "installing requirements-bench.txt into $root/.venv-bench (first use or changed)" >&2
    "$py" -m pip install --quiet --target "$root/.venv-bench" --no-deps --upgrade \
      -r "$root/requirements-bench.txt"
    cp "$root/requirements-bench.txt" "$root/.venv-bench/.installed"
  fi
}
