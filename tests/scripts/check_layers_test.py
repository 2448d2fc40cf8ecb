#!/usr/bin/env python3
"""scripts/check_layers.py: passes on the repository, fails (file, line, layer) on an upward include."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "scripts", "check_layers.py")


def run(root):
    return subprocess.run([sys.executable, SCRIPT, "--root", root], capture_output=True, text=True)


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="recarena-layers-")
        os.makedirs(os.path.join(self.tmp, "cmake"))
        shutil.copy(os.path.join(REPO, "cmake", "layers.cmake"), os.path.join(self.tmp, "cmake"))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, rel, text):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def test_repository_is_clean(self):
        r = run(REPO)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no include points up the layers", r.stdout)

    def test_downward_includes_pass(self):
        self.write("env/simulator.h", '#pragma once\n#include "models/encoder.h"\n#include "data/dataset.h"\n')
        self.write("tests/env/simulator_test.cpp", '#include "env/simulator.h"\n#include "test_util.h"\n')
        r = run(self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_upward_include_fails_naming_file_line_and_layer(self):
        self.write("data/dataset.h", '#pragma once\n\n#include "core/error.h"\n#include "env/simulator.h"\n')
        r = run(self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertIn('data/dataset.h:4: includes "env/simulator.h"', r.stdout)
        self.assertIn("data may use only data and the layers below it (core)", r.stdout)

    def test_test_folder_may_not_reach_above_its_layer(self):
        self.write("tests/models/encoder_test.cpp", '#include "agents/dqn.h"\n')
        r = run(self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertIn('tests/models/encoder_test.cpp:1: includes "agents/dqn.h"', r.stdout)

    def test_sibling_beside_agents_is_not_below_it(self):
        # llm_bridge sits beside agents: neither may include the other.
        self.write("agents/dqn.cpp", '#include "llm_bridge/client.h"\n')
        r = run(self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertIn('agents/dqn.cpp:1: includes "llm_bridge/client.h"', r.stdout)

    def test_nested_layers_point_down_only(self):
        # experiments/report may use experiments/train, not experiments/cli; tests/experiments may
        # use every experiments layer.
        self.write("experiments/report/sweep.cpp",
                   '#include "experiments/train/trained_run.h"\n#include "experiments/cli/cli.h"\n')
        self.write("tests/experiments/sweep_test.cpp",
                   '#include "experiments/cli/cli.h"\n#include "experiments/eval/metrics.h"\n')
        r = run(self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertIn('experiments/report/sweep.cpp:2: includes "experiments/cli/cli.h", but '
                      "experiments/report may use only experiments/report", r.stdout)
        self.assertNotIn("sweep.cpp:1:", r.stdout)
        self.assertNotIn("sweep_test.cpp", r.stdout)

    def test_include_outside_every_layer_fails(self):
        self.write("experiments/cli/cli.cpp", '#include "experiments/metrics.h"\n')
        r = run(self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertIn('experiments/cli/cli.cpp:1: includes "experiments/metrics.h", which is in no '
                      "layer", r.stdout)


if __name__ == "__main__":
    unittest.main()
