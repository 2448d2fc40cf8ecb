"""Fits the Python tests' tiny synthetic simulator into a fresh folder (CTest's fixture):

    python fit_simulator.py RECARENA_BIN OUT_DIR
"""

import pathlib
import shutil
import subprocess
import sys

from conftest import ROOT, TINY

if __name__ == "__main__":
    binary, out = sys.argv[1], pathlib.Path(sys.argv[2])
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    sys.exit(subprocess.run([binary, "sim", "fit", "--config", str(ROOT / "configs/sim/synthetic.yaml"),
                             "--out", str(out), *TINY]).returncode)
