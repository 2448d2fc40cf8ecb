#!/usr/bin/env python3
"""Fails when an #include points up the layers of cmake/layers.cmake.

Each folder listed there (a top-level folder, or a subfolder such as experiments/eval) may include its
own headers and those of the folders it lists; tests/<folder> may include what <folder> may (plus
the shared helpers in tests/ and the fixtures of the test folders below it); a test folder above
several layers (tests/experiments, whose integration tests drive every experiments/ layer) may
include what any of them may; bench/ and fuzz/ may include any layer. Every violation is printed as
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


def layer_of(path, layers):
    """The longest layer that is path itself or a folder above it, or None."""
    best = None
    for name in layers:
        if (path == name or path.startswith(name + "/")) and (best is None or len(name) > len(best)):
            best = name
    return best


def allowed_for(path, layers, deps):
    """(the layer folders a file may include, who it is), or (None, None) when it is not checked."""
    if path.startswith("bench/") or path.startswith("fuzz/"):
        return set(layers), path.split("/", 1)[0]
    rel, prefix = (path[len("tests/"):], "tests/") if path.startswith("tests/") else (path, "")
    if "/" not in rel:
        return None, None
    layer = layer_of(rel, layers)
    if layer is not None:
        return {layer} | deps[layer], prefix + layer
    folder = rel.rsplit("/", 1)[0]
    below = [x for x in layers if x.startswith(folder + "/")]
    if not below:
        return None, None
    if not prefix:  # a source file in a folder that holds layers but is none itself
        return set(), folder
    allowed = set()
    for x in below:
        allowed |= {x} | deps[x]
    return allowed, prefix + folder


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
                if "/" not in target:
                    continue
                layer = layer_of(target, layers)
                if layer is None:
                    folder = target.rsplit("/", 1)[0]
                    fixture = os.path.exists(os.path.join(root, "tests", target))
                    if not fixture and any(x.startswith(folder + "/") for x in layers):
                        violations.append(f"{f}:{lineno}: includes \"{target}\", which is in no "
                                          f"layer of cmake/layers.cmake")
                    continue
                if layer not in allowed:
                    mine = who.split("/", 1)[1] if who.startswith("tests/") else who
                    below = ", ".join(x for x in layers if x in allowed and x != mine) or "nothing"
                    violations.append(
                        f"{f}:{lineno}: includes \"{target}\", but {who} may use only "
                        f"{mine} and the layers below it ({below}); see cmake/layers.cmake")
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
