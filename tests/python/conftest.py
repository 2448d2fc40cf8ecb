"""Fixtures of the Python tests: the recarena binary and a tiny fitted synthetic simulator.

CTest (tests/CMakeLists.txt) fits the simulator once (the python/fit_simulator fixture) and passes
RECARENA_TEST_SIM and RECARENA_BIN; run by hand (`.venv/bin/python -m pytest tests/python`), the
tests fit it themselves into a temporary folder.
"""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("RECARENA_BIN", str(ROOT / "build" / "recarena"))
# The overrides of tests/experiments/sim_commands_test.cpp's tiny world (60 users, 40 items).
TINY = ["data.synthetic.num_users=60", "data.synthetic.num_items=40", "data.synthetic.num_topics=4",
        "sim.response.encoder.hidden=8", "sim.response.epochs=3", "sim.response.batch_size=256",
        "sim.max_length=10", "run.device=cpu", "run.log_level=warn"]


def run_cli(*args) -> subprocess.CompletedProcess:
    """Runs build/recarena; fails the test with its stderr when it exits non-zero."""
    r = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, f"recarena {' '.join(map(str, args))} exited {r.returncode}: {r.stderr}"
    return r


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory) -> str:
    given = os.environ.get("RECARENA_TEST_SIM")
    if given and (pathlib.Path(given) / "simulator.json").exists():
        return given
    out = tmp_path_factory.mktemp("sim") / "sim"
    run_cli("sim", "fit", "--config", ROOT / "configs/sim/synthetic.yaml", "--out", out, *TINY)
    return str(out)


@pytest.fixture(scope="session")
def prepared_dir(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("data") / "synthetic"
    run_cli("data", "prepare", "--dataset", "synthetic", "--out", out,
            "data.synthetic.num_users=60", "data.synthetic.num_items=40",
            "data.synthetic.num_topics=4", "run.log_level=warn")
    return str(out)
