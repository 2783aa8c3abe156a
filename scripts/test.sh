#!/usr/bin/env bash
# test.sh — every test of the project, from a fresh clone: installs what is missing, builds, runs.
#
#   layering check · Swift suites (swift test) · zero-allocation hot path · full-size parity with transformers ·
#   CMake build, install, examples, find_package consumer, exported symbols, pkg-config ·
#   packaging (sdist, wheels, auditwheel, a new venv outside the repo) · Python package and
#   VLA integration · trainer · llama.cpp + libmtmd (builds llama.cpp once into a cache, ~10 min
#   on 2 cores the first time) · API misuse, threads, fork, sanitizers, valgrind, create/destroy ·
#   CLI regressions · a short fuzzing pass (weight files, .npy files, command line).
# Each step prints its own runner's summary; the last line totals the steps.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh || exit 1
py="$root/.venv/bin/python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 failures=()

step() {
    local name="$1"; shift
    echo "==== $name"
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

c_tests() {
    local lib="$root/.build/release" cli="$root/.build/release/fastdrive-pruner" models=()
    for rope in none 1d mrope; do
        for attention in bidirectional causal; do
            "$cli" init --out "$work/$rope-$attention.safetensors" --rope "$rope" --attention "$attention" >/dev/null || return 1
            models+=("$work/$rope-$attention.safetensors")
        done
    done
    cc -std=c11 -O1 -Wall -Wextra -Werror -Iinclude Tests/c/alloc_count.c -L"$lib" -lfastdrive_pruner \
        -Wl,-rpath,"$lib" -rdynamic -o "$work/alloc_count" || return 1
    "$work/alloc_count" "${models[@]}" || return 1
    cc -std=c11 -O1 -Wall -Wextra -Werror -pthread -Iinclude -ITests/c Tests/c/abort.c -L"$lib" -lfastdrive_pruner \
        -lopenblas -Wl,-rpath,"$lib" -o "$work/abort" || return 1
    "$work/abort" "$work/mrope-bidirectional.safetensors" "$work" | tail -1; [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    Tests/c/abi_1_0.sh "$lib" "$work" "$work/mrope-bidirectional.safetensors"
}

cmake_tests() {
    # The distributable build lives in .build-dist, shared with the wheel built below: one build.
    cmake -S . -B "$work/cmake" -DCMAKE_BUILD_TYPE=Release -DFASTDRIVE_SWIFT_SCRATCH="$root/.build-dist" >/dev/null &&
        cmake --build "$work/cmake" &&
        (cd "$work/cmake" && ctest --output-on-failure)
}

step "layering: imports and type uses point down (scripts/check_layers.py)" \
    bash -c "'$py' scripts/check_layers.py && '$py' scripts/check_layers.py --self-test"
step "swift test" swift test
step "release build" swift build -c release
step "C: zero allocations in score/topk/batch/select; abort, load, BLAS threads; a 1.0 host binary" c_tests
step "full-size parity, f32" "$py" scripts/check_full_size.py --dir "$work/full"
step "full-size top-K, bf16 compute" "$py" scripts/check_full_size.py --dir "$work/full" --compute bf16
step "full-size top-K, int8 compute" "$py" scripts/check_full_size.py --dir "$work/full" --compute int8
step "cmake" cmake_tests
step "packaging: sdist, wheels, auditwheel, new venv outside the repo, trainer" \
    Tests/packaging/check_wheel.sh "$py" "$work/packaging"
# The Python suites test the library this run just built, not an older build lying around.
export FASTDRIVE_PRUNER_LIB="$root/.build/release/libfastdrive_pruner.so"
step "python package + Qwen2.5-VL integration" "$py" -m pytest -q python/tests
step "llama.cpp + libmtmd: example vs llama.cpp's own path and transformers" \
    bash -c "scripts/build_llamacpp.sh >/dev/null && '$py' -m pytest -q Tests/llamacpp"
step "trainer (+ export checked by the runtime)" bash -c "'$py' -m pip install -q -e 'training[test]' && '$py' -m pytest -q training/tests"
step "int8 compute on the trained pruner: recall within 0.005 of f32, score errors" "$py" scripts/check_int8_quality.py
step "reliability: misuse, threads, fork, C++ wrapper, ASan, TSan, valgrind, create/destroy" scripts/sanitize.sh
step "CLI: regressions (bad input is exit 1/64, never a signal)" "$py" -m pytest -q Tests/cli
step "fuzz (short pass): weight files, .npy files, command line" scripts/fuzz.sh 60 create npy=20 cli=30

echo "==== summary"
[ ${#failures[@]} -eq 0 ] || echo "failed steps: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
