#!/usr/bin/env python3
"""Fails when a C++ function in the given folders is longer than --max lines.

A function is a brace block opened at namespace or class scope whose header (the text since the last
';', '{' or '}') has a '(' before any '='; its length counts the lines from the header's '{' to its
'}'. Comments, string and character literals are ignored. Lambdas and blocks inside a function count
toward that function. Each violation prints `file:line: NAME is N lines (max M)`; --list prints the
longest functions instead of checking.

    python3 scripts/check_function_length.py [--max 80] [--list N] FOLDER_OR_FILE...
"""
import argparse
import os
import re
import sys

TYPE_HEAD = re.compile(r"(^|\s)(class|struct|union|enum)\s")
NAMESPACE_HEAD = re.compile(r'(^|\s)(namespace|extern\s+"C")(\s|$)')


def strip_code(text):
    """text with comments and literals blanked out (newlines kept, so line numbers stay)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = ")" + m.group(1) + '"'
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(name, first line, length in lines) of every function defined at namespace or class scope."""
    code = strip_code(text)
    stack = []  # (kind, start line, name)
    found = []
    line = 1
    last = 0  # index after the last ';', '{' or '}'
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c == ";":
            last = i + 1
        elif c == "{":
            head = " ".join(code[last:i].split())
            last = i + 1
            outer = stack[-1][0] if stack else "ns"
            if NAMESPACE_HEAD.search(head) and "(" not in head:
                stack.append(("ns", line, ""))
            elif outer in ("ns", "type") and TYPE_HEAD.search(head) and "(" not in head:
                stack.append(("type", line, ""))
            elif outer in ("ns", "type") and "(" in head and "=" not in head.split("(")[0]:
                name = head.split("(")[0].split()[-1] if head.split("(")[0].split() else "?"
                stack.append(("fn", line, name))
            else:
                stack.append(("block", line, ""))
        elif c == "}":
            last = i + 1
            if stack:
                kind, start, name = stack.pop()
                if kind == "fn":
                    found.append((name, start, line - start + 1))
    return found


def source_files(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
            continue
        for dirpath, _, names in os.walk(p):
            for n in sorted(names):
                if n.endswith((".h", ".cpp")):
                    yield os.path.join(dirpath, n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--max", type=int, default=80)
    ap.add_argument("--list", type=int, default=0, help="print the N longest functions and exit 0")
    args = ap.parse_args()
    rows = []
    for f in source_files(args.paths):
        with open(f, encoding="utf-8", errors="replace") as fh:
            for name, start, length in functions(fh.read()):
                rows.append((length, f, start, name))
    if args.list:
        for length, f, start, name in sorted(rows, reverse=True)[: args.list]:
            print(f"{length:5d}  {f}:{start}: {name}")
        return 0
    bad = [r for r in rows if r[0] > args.max]
    for length, f, start, name in sorted(bad, key=lambda r: (r[1], r[2])):
        print(f"{f}:{start}: {name} is {length} lines (max {args.max})")
    if bad:
        print(f"check_function_length: {len(bad)} function(s) over {args.max} lines", file=sys.stderr)
        return 1
    print(f"check_function_length: {len(rows)} functions, none over {args.max} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
