#!/usr/bin/env bash
# Lints the C++ you changed: clang-format on the changed lines, clang-tidy on
# the changed sources (and on the sources that include a changed header).
#
#   bash scripts/lint.sh            # changes since HEAD: uncommitted and untracked
#   bash scripts/lint.sh HEAD~3     # changes since another commit
#   GRAV_LINT_BUILD=/work/build-me bash scripts/lint.sh   # compile_commands.json from there
#
# Not part of CI: clang-tidy takes ~5 s per source file here (cereal and the
# standard library are heavy), too slow for every run on 2 cores. Run it before
# you commit. Exits non-zero on any finding.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1
base=${1:-HEAD}
build=${GRAV_LINT_BUILD:-$root/build}
jobs=${GRAV_JOBS:-$(nproc)}

mapfile -t changed < <({
    git diff --name-only --diff-filter=ACMR "$base" --
    git ls-files --others --exclude-standard
} | grep -E '\.(cpp|hpp)$' | sort -u)
if ((${#changed[@]} == 0)); then
    echo "lint: no C++ changes since $base"
    exit 0
fi

if [[ ! -f "$build/compile_commands.json" ]]; then
    echo "lint: configuring $build for compile_commands.json"
    cmake -S . -B "$build" -G Ninja >/dev/null || exit 1
fi

status=0

echo "lint: clang-format on changed lines (${#changed[@]} files)"
# git clang-format only sees tracked files; untracked ones are checked whole.
untracked=()
tracked=()
for f in "${changed[@]}"; do
    if git ls-files --error-unmatch "$f" >/dev/null 2>&1; then tracked+=("$f"); else untracked+=("$f"); fi
done
if ((${#tracked[@]})); then
    out=$(git clang-format --diff "$base" -- "${tracked[@]}" 2>&1)
    if [[ -n "$out" && "$out" != *"no modified files to format"* && "$out" != *"did not modify any files"* ]]; then
        echo "$out"
        echo "lint: formatting differs (fix: git clang-format $base)"
        status=1
    fi
fi
for f in "${untracked[@]}"; do
    clang-format --dry-run -Werror "$f" || status=1
done

# Sources to tidy: changed .cpp files, plus every compiled .cpp that includes a changed header.
mapfile -t compiled < <(grep -oE '"file": *"[^"]+"' "$build/compile_commands.json" | sed -E 's/.*"([^"]+)"$/\1/' |
    sed "s|^$root/||" | sort -u)
sources=()
for f in "${changed[@]}"; do
    if [[ $f == *.cpp ]]; then
        sources+=("$f")
    else
        header=$(basename "$f")
        for c in "${compiled[@]}"; do
            [[ -f "$c" ]] && grep -qE "#include [<\"](.*/)?$header[>\"]" "$c" && sources+=("$c")
        done
    fi
done
mapfile -t sources < <(printf '%s\n' "${sources[@]}" | sort -u)
# Only files the build knows (a new file not yet in a CMakeLists has no flags).
tidy=()
for s in "${sources[@]}"; do
    printf '%s\n' "${compiled[@]}" | grep -qxF "$s" && tidy+=("$s") || echo "lint: skip $s (not in $build/compile_commands.json)"
done

if ((${#tidy[@]})); then
    echo "lint: clang-tidy on ${#tidy[@]} sources (-j $jobs)"
    printf '%s\n' "${tidy[@]}" |
        xargs -P "$jobs" -I{} clang-tidy -p "$build" --quiet --warnings-as-errors='*' {} 2>/dev/null ||
        status=1
fi

((status == 0)) && echo "lint: clean" || echo "lint: findings above"
exit $status
