#!/usr/bin/env bash
# Sets up the machine, builds grav and runs the whole test suite three times:
#   plain  — RelWithDebInfo, everything (benchmarks built; install/export test)   in build/
#            with GRAV_STATIC_DEPS=ON: the tool, samples and zmq_bench fully static
#            (the sanitizer builds below link everything dynamically, the default)
#   asan   — AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer, built   in build-asan/
#            by clang (faster than GCC's UBSan, and a second compiler's warnings),
#            with the libFuzzer targets, whose ctests fuzz from their seed corpus
#   tsan   — ThreadSanitizer (GCC)                                                  in build-tsan/
# The sanitizer builds skip the benchmarks and the tests labelled `bench`, and
# set GRAV_TEST_SCALE so heavy tests run smaller (tests honour it).
#
#   bash scripts/test.sh               # all three
#   bash scripts/test.sh plain         # only some: any of plain, asan, tsan
#   GRAV_JOBS=1 bash scripts/test.sh   # build/test parallelism (default: nproc)
#
# Ends with a summary and the line "N passed, N failed"; exits non-zero when a
# build or any test failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 1

phases=("$@")
((${#phases[@]})) || phases=(plain asan tsan)
for p in "${phases[@]}"; do
    case $p in plain | asan | tsan) ;; *) echo "test.sh: unknown phase '$p' (plain, asan, tsan)" >&2; exit 2 ;; esac
done

bash scripts/setup.sh || { echo "test.sh: setup failed"; echo "0 passed, 1 failed"; exit 1; }

jobs=${GRAV_JOBS:-$(nproc)}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
supp="$root/scripts/sanitizers"

# Sanitizer runtime behaviour: stop at the first report, print stacks, and
# fail the test (non-zero exit) rather than just logging.
export ASAN_OPTIONS="detect_leaks=1:strict_init_order=1:check_initialization_order=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp"
export CTEST_OUTPUT_ON_FAILURE=1

now() { date +%s; }
fmt() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
# CPU seconds (user+sys) of every finished child so far: on a shared machine
# wall time says little, CPU time says what the run costs.
cpu_file=$(mktemp)
trap 'rm -f "$cpu_file" "$cpu_file.start" "$cpu_file.end"' EXIT
cpu_now() {
    times >"$cpu_file"  # a builtin in this shell: a $(...) subshell would count nothing
    awk 'END { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] }
               printf "%d", s }' "$cpu_file"
}

# TSan needs a memory layout some kernels' ASLR breaks ("unexpected memory
# mapping"). Probe it; if it fails, run the TSan tests without ASLR.
tsan_runner() {
    local dir probe
    dir=$(mktemp -d)
    printf '#include <thread>\nint main(){int x=0; std::thread t([&]{x=1;}); t.join(); return x-1;}\n' >"$dir/p.cpp"
    if c++ -fsanitize=thread -O1 "$dir/p.cpp" -o "$dir/p" 2>/dev/null; then
        probe=$("$dir/p" 2>&1)
        if [[ $? -ne 0 || "$probe" == *"unexpected memory mapping"* ]]; then
            echo "setarch $(uname -m) -R"
        fi
    fi
    rm -rf "$dir"
}

declare -A build_time test_time cpu_time passed failed result
total_passed=0
total_failed=0
stop=0

run_phase() {
    local phase=$1 dir configure=() labels=() prefix=() scale
    case $phase in
        plain)
            dir=build scale=1
            configure=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRAV_STATIC_DEPS=ON) ;;
        asan)
            dir=build-asan scale=0.25
            configure=(-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
                       -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
                       -DGRAV_SANITIZE=address,undefined -DGRAV_BUILD_BENCH=OFF -DGRAV_BUILD_FUZZ=ON)
            labels=(-LE bench) ;;
        tsan)
            dir=build-tsan scale=0.1
            configure=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
                       -DGRAV_SANITIZE=thread -DGRAV_BUILD_BENCH=OFF)
            labels=(-LE bench)
            read -r -a prefix <<<"$(tsan_runner)"
            ((${#prefix[@]})) && echo "test.sh: TSan needs ASLR off here; running tests under: ${prefix[*]}" ;;
    esac

    echo
    echo "=================== $phase: configure + build ($dir) ==================="
    local t0 t1 t2 c0 c1
    t0=$(now)
    cpu_now >"$cpu_file.start"
    c0=$(<"$cpu_file.start")
    if ! cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "${configure[@]}" ||
        ! cmake --build "$dir" -j "$jobs"; then
        t1=$(now)
        build_time[$phase]=$((t1 - t0)) test_time[$phase]=0
        passed[$phase]=0 failed[$phase]=1 result[$phase]="BUILD FAILED"
        total_failed=$((total_failed + 1))
        stop=1
        cpu_now >"$cpu_file.end"
        cpu_time[$phase]=$(($(<"$cpu_file.end") - c0))
        return
    fi
    t1=$(now)
    build_time[$phase]=$((t1 - t0))

    echo
    echo "=================== $phase: tests (GRAV_TEST_SCALE=$scale) ==================="
    local log="$dir/ctest.log" rc
    GRAV_TEST_SCALE=$scale "${prefix[@]}" ctest --test-dir "$dir" --output-on-failure --no-tests=error \
        -j "$jobs" --timeout 600 "${labels[@]}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    t2=$(now)
    test_time[$phase]=$((t2 - t1))
    cpu_now >"$cpu_file.end"
    cpu_time[$phase]=$(($(<"$cpu_file.end") - c0))

    # "97% tests passed, 1 tests failed out of 40"
    local line p f n
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
    if [[ -n "$line" ]]; then
        f=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
        n=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
        p=$((n - f))
    else
        p=0 f=1  # ctest itself failed (no tests found, crashed, ...)
    fi
    ((rc != 0 && f == 0)) && f=1
    passed[$phase]=$p failed[$phase]=$f
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    if ((f == 0)); then result[$phase]=ok; else result[$phase]=FAILED; fi
}

start=$(now)
for phase in "${phases[@]}"; do
    ((stop)) && { result[$phase]="skipped"; continue; }
    run_phase "$phase"
done
end=$(now)

echo
echo "=================== summary ==================="
printf '%-6s %-8s %-8s %-8s %7s %7s  %s\n' phase build tests cpu passed failed result
for phase in "${phases[@]}"; do
    printf '%-6s %-8s %-8s %-8s %7s %7s  %s\n' "$phase" "$(fmt "${build_time[$phase]:-0}")" \
        "$(fmt "${test_time[$phase]:-0}")" "$(fmt "${cpu_time[$phase]:-0}")" \
        "${passed[$phase]:--}" "${failed[$phase]:--}" "${result[$phase]}"
done
echo "total time $(fmt $((end - start)))"
echo "$total_passed passed, $total_failed failed"
((total_failed == 0))
