#!/usr/bin/env python3
"""Fails when an #include points up the layers of cmake/layers.cmake.

Each top-level folder listed there may include its own headers and those of the folders it lists;
tests/<folder> may include what <folder> may (plus the shared helpers in tests/ and the fixtures of
the test folders below it); bench/ may include any layer. Every violation is printed as
`file:line: ...` and the exit status is 1; a clean tree prints one summary line and exits 0.

    python3 scripts/check_layers.py [--root DIR]
"""
import argparse
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def read_layers(root):
    path = os.path.join(root, "cmake", "layers.cmake")
    text = open(path, encoding="utf-8").read()
    m = re.search(r"^set\(RECARENA_LAYERS\s+([^)]*)\)", text, re.M)
    if not m:
        raise SystemExit(f"{path}: no set(RECARENA_LAYERS ...) line")
    layers = m.group(1).split()
    deps = {}
    for name in layers:
        d = re.search(r"^set\(RECARENA_LAYER_DEPS_%s\s+([^)]*)\)" % re.escape(name), text, re.M)
        if not d:
            raise SystemExit(f"{path}: no set(RECARENA_LAYER_DEPS_{name} ...) line")
        listed = [x for x in d.group(1).replace('""', "").split()]
        for x in listed:
            if x not in layers[: layers.index(name)]:
                raise SystemExit(f"{path}: {name} lists {x}, which is not a layer below it")
        deps[name] = set(listed)
    return layers, deps


def source_files(root):
    try:
        out = subprocess.check_output(["git", "-C", root, "ls-files", "*.h", "*.cpp"], text=True,
                                      stderr=subprocess.DEVNULL)
        files = out.split()
    except (subprocess.CalledProcessError, FileNotFoundError):
        files = []
    if not files:  # not a git checkout (the self-test's tree): walk it
        for dirpath, _, names in os.walk(root):
            for n in names:
                if n.endswith((".h", ".cpp")):
                    files.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(f for f in files if not f.startswith(("build/", ".venv/")))


def allowed_for(path, layers, deps):
    """The layer folders a file may include, or None when the file is not checked."""
    parts = path.split("/")
    top = parts[0]
    if top in layers:
        return {top} | deps[top], top
    if top == "tests" and len(parts) > 2 and parts[1] in layers:
        sub = parts[1]
        return {sub} | deps[sub], f"tests/{sub}"
    if top == "bench":
        return set(layers), "bench"
    return None, None


def check(root):
    layers, deps = read_layers(root)
    violations = []
    checked = 0
    for f in source_files(root):
        allowed, who = allowed_for(f, layers, deps)
        if allowed is None:
            continue
        checked += 1
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                first = target.split("/")[0]
                if "/" not in target or first not in layers:
                    continue
                if first not in allowed:
                    below = ", ".join(x for x in layers if x in allowed and x != who) or "nothing"
                    violations.append(
                        f"{f}:{lineno}: includes \"{target}\", but {who} may use only "
                        f"{who.split('/')[-1]} and the layers below it ({below}); "
                        f"see cmake/layers.cmake")
    return checked, violations


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    checked, violations = check(root)
    for v in violations:
        print(v)
    if violations:
        print(f"check_layers: {len(violations)} upward include(s) in {checked} files", file=sys.stderr)
        return 1
    print(f"check_layers: {checked} files, no include points up the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
