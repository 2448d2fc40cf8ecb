#!/usr/bin/env bash
# Fails (exit 1), naming each file, when a tracked C++ file is not as clang-format (.clang-format)
# would write it. CI runs it before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format-check: clang-format not found (scripts/setup.sh installs it)" >&2; exit 2; }
bad=()
while IFS= read -r f; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then bad+=("$f"); fi
done < <(git ls-files '*.h' '*.cpp')
if [[ ${#bad[@]} -gt 0 ]]; then
  echo "format-check: ${#bad[@]} file(s) differ from clang-format (run 'make format'):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "format-check: $(git ls-files '*.h' '*.cpp' | wc -l) files formatted"
