#!/usr/bin/env bash
# Sanitizer and fuzzing stage of CI (docs/reliability.md says what each part covers).
#
#   scripts/sanitizers.sh [asan] [tsan] [fuzz]      (no argument: all three, in that order)
#
#   asan  the extension and the emulator built with ASan+UBSan (-DRKNN_FAST_SANITIZE=ON), the
#         Python test suite run against them (libasan/libubsan preloaded into python; leak
#         detection off because CPython itself does not free everything at exit).
#   tsan  the same built with ThreadSanitizer (-DRKNN_FAST_TSAN=ON), the thread tests run
#         against it (Models, pipelines, kernels shared across threads), plus the C++
#         multi-threaded emulator stress driver.
#   fuzz  libFuzzer targets (clang) on the .rknn reader and on the emulator's rknn_init +
#         rknn_run, seeded with tests/data/models, FUZZ_SECONDS each (default 60).
#
# Environment: PYTHON (default python3), FUZZ_SECONDS, CMAKE_BUILD_PARALLEL_LEVEL (default 2),
# SANITIZER_BUILD_DIR (default build/sanitizers; builds are incremental).
# Needs gcc/g++ with libasan/libubsan/libtsan (Debian's gcc has them) and, for fuzz, clang
# with libFuzzer: installed with apt-get when missing and running as root, else that part is
# skipped with a message saying why. Exit status: non-zero on any sanitizer report, fuzzer
# crash or test failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# The interpreter itself, not a wrapper script (pyenv shims are bash scripts, and bash
# crashes with libtsan preloaded).
PY=$("${PYTHON:-python3}" -c "import sys; print(sys.executable)")
OUT=${SANITIZER_BUILD_DIR:-$ROOT/build/sanitizers}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
mkdir -p "$OUT"

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(asan tsan fuzz)

log() { printf '\n=== sanitizers: %s (%s)\n' "$*" "$(date +%T)"; }

# Tests that need tools this stage does not exercise (mypy/stubtest, cross compilers), and
# the RSS soak (100k runs): ASan's quarantine of freed memory is not the product's RSS, and
# the soak runs in the normal suite.
NOT_UNDER_SANITIZERS=(--deselect tests/test_typing.py --deselect tests/test_abi_cross.py
                      --deselect tests/test_cross_arch.py --deselect tests/test_model.py::test_runs_rss_flat)

# Thread tests: every test that shares a Model, pipeline or kernel across threads.
THREAD_TESTS=(tests/test_model.py tests/test_pipelines.py tests/test_emulator.py tests/test_nms.py
              tests/test_detection_decode.py tests/test_masks.py tests/test_segmentation.py
              tests/test_faces.py tests/test_pose.py tests/test_text.py tests/test_classification.py
              tests/test_letterbox.py tests/test_runtime.py tests/test_format.py)
THREAD_TESTS+=(tests/test_pool.py tests/test_pipeline_pool.py)  # Pool workers, pipelines' map/submit
THREAD_FILTER="thread or concurren or parallel or pool"

# pip-installs the package into $OUT/<name>-site, built with the given CMake define.
build_site() {
    local name=$1 define=$2
    log "building the extension and emulator ($name)"
    local isolation=()
    # Build requirements already installed: use them (no download); else pip fetches them.
    "$PY" -c "import scikit_build_core, pybind11" 2>/dev/null && isolation=(--no-build-isolation)
    "$PY" -m pip install --quiet --root-user-action=ignore --no-deps --upgrade "${isolation[@]}" --target "$OUT/$name-site" \
        -Ccmake.define."$define"=ON -Cbuild-dir="$OUT/$name-build" -Ccmake.build-type=RelWithDebInfo "$ROOT"
}

run_asan() {
    build_site asan RKNN_FAST_SANITIZE
    local libasan libubsan
    libasan=$(gcc -print-file-name=libasan.so)
    libubsan=$(gcc -print-file-name=libubsan.so)
    log "test suite under ASan+UBSan"
    # The emulator and the extension are instrumented; python is not, hence the preload.
    LD_PRELOAD="$libasan:$libubsan" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0:allocator_may_return_null=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    PYTHONPATH="$OUT/asan-site" RKNN_FAST_HYPOTHESIS_EXAMPLES=${RKNN_FAST_HYPOTHESIS_EXAMPLES:-20} \
        "$PY" -m pytest -q -p no:cacheprovider --durations=5 tests "${NOT_UNDER_SANITIZERS[@]}"
    log "emulator stress driver under ASan+UBSan+LSan"
    g++ -std=c++17 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -Icpp cpp/emulator/*.cpp \
        cpp/format/*.cpp tests/cpp/emulator_stress.cpp -o "$OUT/emulator_stress_asan" -lpthread
    "$OUT/emulator_stress_asan" tests/data/models/tiny_conv_rk3588_i8.rknn
}

run_tsan() {
    build_site tsan RKNN_FAST_TSAN
    log "thread tests under TSan"
    LD_PRELOAD="$(gcc -print-file-name=libtsan.so)" \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0:exitcode=66:suppressions=$ROOT/tests/cpp/tsan.supp" \
    PYTHONPATH="$OUT/tsan-site" \
        "$PY" -m pytest -q -p no:cacheprovider "${THREAD_TESTS[@]}" -k "$THREAD_FILTER"
    log "emulator stress driver under TSan"
    g++ -std=c++17 -O1 -g -fsanitize=thread -Icpp cpp/emulator/*.cpp cpp/format/*.cpp \
        tests/cpp/emulator_stress.cpp -o "$OUT/emulator_stress_tsan" -lpthread
    TSAN_OPTIONS="halt_on_error=1" "$OUT/emulator_stress_tsan" tests/data/models/tiny_conv_rk3588_i8.rknn
}

have_libfuzzer() {
    command -v clang++ >/dev/null 2>&1 || return 1
    echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
        > "$OUT/probe.cpp"
    clang++ -fsanitize=fuzzer "$OUT/probe.cpp" -o "$OUT/probe" >/dev/null 2>&1
}

run_fuzz() {
    if ! have_libfuzzer; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            log "installing clang (libFuzzer) with apt-get"
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang) >/dev/null 2>&1 || true
        fi
    fi
    if ! have_libfuzzer; then
        echo "sanitizers: SKIPPED fuzz: clang++ with libFuzzer is not available (apt-get install clang)" >&2
        skipped=$((skipped + 1))
        return 0
    fi
    local flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Icpp)
    log "building the fuzz targets"
    clang++ "${flags[@]}" tests/cpp/fuzz/fuzz_rknn_reader.cpp cpp/format/*.cpp -o "$OUT/fuzz_rknn_reader"
    clang++ "${flags[@]}" tests/cpp/fuzz/fuzz_emulator.cpp cpp/emulator/*.cpp cpp/format/*.cpp -lpthread \
        -o "$OUT/fuzz_emulator"
    # Seeds: the fixtures under 1 MiB (the larger ones only slow mutation down).
    local seeds="$OUT/seeds"
    rm -rf "$seeds" && mkdir -p "$seeds"
    find tests/data/models -name '*.rknn' -size -1024k -exec cp {} "$seeds/" \;
    for target in fuzz_rknn_reader fuzz_emulator; do
        local corpus="$OUT/corpus-$target"
        mkdir -p "$corpus"
        log "$target for ${FUZZ_SECONDS} s"
        # ASan: leaks are reported (detect_leaks defaults on under libFuzzer).
        # A small quarantine: the emulator frees per-run buffers, and the default one made
        # libFuzzer's RSS limit trip on freed memory (live heap ~30 MB) after ~700k runs.
        (cd "$OUT" && ASAN_OPTIONS=allocator_may_return_null=1:quarantine_size_mb=64:thread_local_quarantine_size_kb=256 UBSAN_OPTIONS=print_stacktrace=1 \
            "./$target" -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=2560 -max_len=1048576 \
            -print_final_stats=1 "$corpus" "$seeds" 2>&1 | tee "$OUT/$target.log" | grep -E "^(#[0-9]+ +(INITED|DONE)|stat::|==[0-9]+==ERROR|SUMMARY)" || true)
        if grep -qE "^==[0-9]+==ERROR|^SUMMARY: |deadly signal|Test unit written" "$OUT/$target.log"; then
            echo "sanitizers: $target found a crash; see $OUT/$target.log" >&2
            return 1
        fi
        local runs
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$target.log" | tail -1)
        echo "sanitizers: $target: ${runs:-?} executions in ${FUZZ_SECONDS} s, no crash"
    done
}

passed=0
skipped=0
for stage in "${stages[@]}"; do
    before=$skipped
    case "$stage" in
        asan) run_asan ;;
        tsan) run_tsan ;;
        fuzz) run_fuzz ;;
        *) echo "usage: $0 [asan] [tsan] [fuzz]" >&2; exit 2 ;;
    esac
    [ "$skipped" -eq "$before" ] && passed=$((passed + 1))
done
log "done: ${stages[*]} in $SECONDS s; CPU time (user, system) of the script and of its children:"
times
# Any failure exits above (set -e); this closing line counts the stages.
echo "sanitizers: $passed passed, 0 failed, $skipped skipped"
