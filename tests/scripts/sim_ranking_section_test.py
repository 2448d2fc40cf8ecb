#!/usr/bin/env python3
"""scripts/sim_ranking_section.py: prints a ranking run's tau under a fit only when the two fits'
resolved configs agree (apart from run.name and run.log_level), and says why not otherwise."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "scripts", "sim_ranking_section.py")
CONFIG = """run:
  name: {name}
  seed: 42
  log_level: {level}
sim:
  response:
    negative_sampling: {negatives}
"""


class SimRankingSectionTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="recarena-ranking-section-")
        self.sim = os.path.join(self.tmp, "sim")
        self.ranking = os.path.join(self.tmp, "ranking")
        self.write_config(self.sim, "sim-synthetic", "info", "exposure")
        self.write_config(os.path.join(self.ranking, "sim", "learned"), "other", "warn", "exposure")
        os.makedirs(os.path.join(self.ranking, "experiment"))
        with open(os.path.join(self.ranking, "experiment", "ranking.json"), "w") as f:
            json.dump({"simulators": [
                {"simulator": "learned", "tau": 0.8545, "tau_ci95": [0.6727, 0.8909],
                 "above_baselines": ["a2c/categorical", "pg/categorical"],
                 "policies": [{}] * 11},
                {"simulator": "uniform", "tau": -0.05, "tau_ci95": [-0.3, 0.2],
                 "above_baselines": [], "policies": [{}] * 11}]}, f)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    @staticmethod
    def write_config(path, name, level, negatives):
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "config.yaml"), "w") as f:
            f.write(CONFIG.format(name=name, level=level, negatives=negatives))

    def run_section(self, tag="learned"):
        r = subprocess.run([sys.executable, SCRIPT, self.sim, self.ranking, tag, "doc.md"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_same_config_prints_tau_interval_and_policies(self):
        out = self.run_section()
        self.assertIn("**0.855 [0.673, 0.891]**", out)
        self.assertIn("over 11 policies", out)
        self.assertIn("a2c/categorical, pg/categorical", out)

    def test_another_config_prints_no_number(self):
        self.write_config(self.sim, "sim-synthetic", "info", "uniform")
        out = self.run_section()
        self.assertIn("was fitted with another config", out)
        self.assertNotIn("0.855", out)

    def test_missing_run_or_variant(self):
        self.assertIn("Not measured", self.run_section("absent"))
        os.remove(os.path.join(self.ranking, "experiment", "ranking.json"))
        self.assertIn("Not measured", self.run_section())


if __name__ == "__main__":
    unittest.main()
