#!/usr/bin/env python3
"""scripts/check_function_length.py: passes on the CLI layer, fails (file, line, name) on a long function."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(REPO, "scripts", "check_function_length.py")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)


class CheckFunctionLengthTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="recarena-fnlen-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_cli_layer_is_within_the_limit(self):
        r = run("--max", "80", os.path.join(REPO, "experiments", "cli"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("none over 80 lines", r.stdout)

    def test_long_function_fails_naming_file_line_and_length(self):
        body = "".join(f"  x += {i};\n" for i in range(9))
        path = self.write("long.cpp", "namespace a {\n\nint Long(int x) {\n" + body + "  return x;\n}\n\n}\n")
        r = run("--max", "10", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{path}:3: Long is 12 lines (max 10)", r.stdout)
        self.assertEqual(run("--max", "12", path).returncode, 0)

    def test_types_initializers_comments_and_literals_are_not_functions(self):
        path = self.write("misc.h", (
            "namespace a {\n"
            "struct S {\n  int f() const {\n    return 1;\n  }\n};\n"     # a method: 3 lines
            "const int t[] = {\n  1,\n  2,\n  3,\n  4,\n};\n"            # an initializer
            "// void Fake() {\n"
            "const char* s = \"{ not a block (\";\n"
            "void g() {\n  auto l = [] {\n    return 0;\n  };\n}\n"     # lambda counts in g
            "}\n"))
        r = run("--list", "10", path)
        self.assertEqual(r.returncode, 0)
        names = sorted(line.split(": ")[-1] for line in r.stdout.splitlines())
        self.assertEqual(names, ["f", "g"], r.stdout)
        self.assertIn(":15: g", r.stdout)


if __name__ == "__main__":
    unittest.main()
