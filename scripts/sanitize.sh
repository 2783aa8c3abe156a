#!/usr/bin/env bash
# sanitize.sh — sanitizers and leak checks: ASan/TSan Swift tests, C tests under valgrind and TSan,
# fork and exit-while-scoring rounds, the C++ wrapper's errors, and 1000 create/destroy cycles
# with flat RSS.
#
# usage: scripts/sanitize.sh [STEP...]     STEP: c asan tsan valgrind rss (default: all, in that order)
#   env: SWIFT  toolchain dir (default /opt/swift)
#
# Each sanitizer build has its own scratch path (.build-asan, .build-tsan, .build-tsan-tests), so
# the normal .build is only used for the plain release library the C tests link against.
# Suppressions (each explained in its file) live in Tests/sanitize/. Notes on what it takes:
# - ASan: `swift test --sanitize=address`; allocator_may_return_null=1 because a reliability
#   test asks for ~900 GB on purpose and must see the allocation fail (OUT_OF_MEMORY), which
#   ASan would otherwise turn into an abort. LSan suppresses only XCTest's runner objects.
# - TSan: the Swift code is built with -Xswiftc -sanitize=thread but the C kernels are not: their
#   target_clones ifunc resolvers run during relocation, before the TSan runtime is up, and an
#   instrumented resolver crashes the process. The kernels work on disjoint rows per task; the
#   synchronisation under test (pool, handles, error slots) is Swift + pthreads. A C program
#   linked with TSan also needs libdispatch and BlocksRuntime (Swift's compiler-rt TSan has
#   libdispatch interceptors).
# - valgrind 3.19 cannot read the DWARF 5 that Swift's clang emits, so memcheck runs against a
#   --strip-debug copy of the library (symbols kept). OPENBLAS_NUM_THREADS=1: OpenBLAS starts its
#   own spinning thread pool at load, which makes memcheck ~20× slower; the runtime calls BLAS
#   single-threaded from its own workers anyway.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-/opt/swift}
CLANG="$SWIFT/usr/bin/clang"
SWIFTLIB="$SWIFT/usr/lib/swift/linux"
NICE="nice -n 10"
STEPS=${*:-c asan tsan valgrind rss}
OUT=$(mktemp -d /tmp/fastdrive-sanitize.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic -I include"
SUPP="$PWD/Tests/sanitize"
declare -a RESULTS=()
status=0

record() {  # record NAME RC [DETAIL]
    if [ "$2" -eq 0 ]; then RESULTS+=("PASS  $1${3:+  ($3)}"); else RESULTS+=("FAIL  $1${3:+  ($3)}"); status=1; fi
}

# ---- the plain release library, test models and C programs ----
echo "== release build"
$NICE "$SWIFT/usr/bin/swift" build -c release 2>&1 | tail -1
REL="$PWD/.build/release"
LIB=$REL/libfastdrive_pruner.so
MROPE=$OUT/mrope.safetensors
"$REL/fastdrive-pruner" init --config small --rope mrope --out "$MROPE" >/dev/null || exit 1
"$REL/fastdrive-pruner" init --config small --rope 1d --attention causal --dtype bf16 --out "$OUT/causal-bf16.safetensors" >/dev/null || exit 1
HAVE=""
SYMBOLS=$(nm -D --defined-only "$LIB")  # (not piped into grep -q: with pipefail, nm's SIGPIPE fails it)
grep -q ' fastdrive_select$' <<<"$SYMBOLS" && HAVE+=" -DFASTDRIVE_HAVE_SELECT"
grep -q ' fastdrive_pruner_score_batch$' <<<"$SYMBOLS" && HAVE+=" -DFASTDRIVE_HAVE_SCORE_BATCH"

build_c() {  # build_c LIBDIR SUFFIX [extra cc flags...]: the C tests and the example against LIBDIR
    local dir=$1 sfx=$2; shift 2
    local cc=${CC_OVERRIDE:-cc}
    $cc $CFLAGS $HAVE "$@" Tests/c/misuse.c -L "$dir" -lfastdrive_pruner -Wl,-rpath,"$dir" -lm -o "$OUT/misuse$sfx" &&
    $cc $CFLAGS "$@" -pthread Tests/c/concurrency.c -L "$dir" -lfastdrive_pruner -Wl,-rpath,"$dir" -o "$OUT/concurrency$sfx" &&
    $cc $CFLAGS "$@" Tests/c/create_destroy.c -L "$dir" -lfastdrive_pruner -Wl,-rpath,"$dir" -o "$OUT/create_destroy$sfx" &&
    $cc $CFLAGS "$@" -pthread Tests/c/fork.c -L "$dir" -lfastdrive_pruner -Wl,-rpath,"$dir" -o "$OUT/fork$sfx" &&
    $cc $CFLAGS "$@" -pthread Tests/c/abort.c -L "$dir" -lfastdrive_pruner -lopenblas -Wl,-rpath,"$dir" -o "$OUT/abort$sfx" &&
    ${CXX_OVERRIDE:-c++} -std=c++17 -Wall -Wextra -Werror -pedantic -I include "$@" Tests/c/wrapper.cpp \
        -L "$dir" -lfastdrive_pruner -Wl,-rpath,"$dir" -o "$OUT/wrapper$sfx" &&
    $cc $CFLAGS "$@" examples/c/prune_tokens.c -L "$dir" -lfastdrive_pruner -Wl,-rpath,"$dir" -lm -o "$OUT/prune_tokens$sfx"
}
build_c "$REL" "" || { echo "C tests do not compile"; exit 1; }

for step in $STEPS; do
case $step in
c)
    echo "== C tests (plain release build)"
    "$OUT/misuse" "$MROPE" | tail -1; record "misuse.c" "${PIPESTATUS[0]}"
    "$OUT/concurrency" "$MROPE" 8 8 2 | tail -1; record "concurrency.c, 8 threads × own handle (pool 2)" "${PIPESTATUS[0]}"
    "$OUT/concurrency" "$OUT/causal-bf16.safetensors" 4 4 1 | tail -1; record "concurrency.c, bf16 causal model" "${PIPESTATUS[0]}"
    "$OUT/fork" "$MROPE" 50 | tail -1; record "fork.c: inherited handles in children, exit while scoring, ×50" "${PIPESTATUS[0]}"
    "$OUT/wrapper" "$MROPE" | tail -1; record "wrapper.cpp: C++ wrapper errors are fastdrive::Error" "${PIPESTATUS[0]}"
    "$OUT/abort" "$MROPE" "$OUT" | tail -1; record "abort.c: abort, load without mmap, BLAS threads, affinity" "${PIPESTATUS[0]}"
    ;;
asan)
    echo "== swift test --sanitize=address (.build-asan)"
    $NICE "$SWIFT/usr/bin/swift" build --build-tests --scratch-path .build-asan --sanitize=address 2>&1 | tail -1
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
        LSAN_OPTIONS=suppressions=$SUPP/lsan.supp \
        $NICE "$SWIFT/usr/bin/swift" test --skip-build --scratch-path .build-asan --sanitize=address >"$OUT/asan.log" 2>&1
    rc=$?
    grep -E 'Test run with|ERROR: (Address|Leak)Sanitizer|SUMMARY' "$OUT/asan.log" | tail -5
    record "swift test --sanitize=address (LeakSanitizer on)" $rc "$(grep -oE 'Test run with [0-9]+ tests' "$OUT/asan.log" | tail -1)"
    ;;
tsan)
    echo "== swift test with -sanitize=thread (.build-tsan-tests)"
    TSAN="halt_on_error=0 allocator_may_return_null=1 suppressions=$SUPP/tsan.supp"
    $NICE "$SWIFT/usr/bin/swift" build --build-tests --scratch-path .build-tsan-tests -Xswiftc -sanitize=thread 2>&1 | tail -1
    SWIFT_BACKTRACE=enable=no OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="$TSAN" \
        $NICE "$SWIFT/usr/bin/swift" test --skip-build --scratch-path .build-tsan-tests -Xswiftc -sanitize=thread >"$OUT/tsan.log" 2>&1
    rc=$?
    n=$(grep -c 'WARNING: ThreadSanitizer' "$OUT/tsan.log")
    [ "$n" -eq 0 ] || rc=1
    record "swift test, Swift code under TSan" $rc "$n reports; $(grep -oE 'Test run with [0-9]+ tests' "$OUT/tsan.log" | tail -1)"

    echo "== concurrency.c under TSan (.build-tsan)"
    $NICE "$SWIFT/usr/bin/swift" build -c release --scratch-path .build-tsan --product fastdrive_pruner \
        -Xswiftc -sanitize=thread 2>&1 | tail -1
    T="$PWD/.build-tsan/release"
    $CLANG $CFLAGS -g -O1 -fsanitize=thread -pthread Tests/c/concurrency.c -L "$T" -lfastdrive_pruner \
        -L "$SWIFTLIB" -ldispatch -lBlocksRuntime -Wl,-rpath,"$T" -Wl,-rpath,"$SWIFTLIB" -o "$OUT/concurrency-tsan"
    OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS="$TSAN" $NICE "$OUT/concurrency-tsan" "$MROPE" 8 8 2 >"$OUT/tsan-c.log" 2>&1
    rc=$?
    n=$(grep -c 'WARNING: ThreadSanitizer' "$OUT/tsan-c.log")
    tail -1 "$OUT/tsan-c.log"
    record "concurrency.c under TSan, 8 threads × pool 2" $rc "$n reports"
    ;;
valgrind)
    echo "== valgrind memcheck (stripped copy of the release library)"
    V="$OUT/vg"
    mkdir -p "$V"
    objcopy --strip-debug "$LIB" "$V/libfastdrive_pruner.so"
    build_c "$V" "-vg" || exit 1
    VG="valgrind -q --suppressions=$SUPP/valgrind.supp --error-exitcode=1 --leak-check=full
        --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible"
    run_vg() {  # run_vg NAME PROGRAM ARGS...
        local name=$1; shift
        OPENBLAS_NUM_THREADS=1 $NICE $VG "$@" >"$OUT/vg.out" 2>"$OUT/vg.err"
        local rc=$?
        grep -v 'unhandled dwarf' "$OUT/vg.err" | head -30
        record "valgrind: $name" $rc "$(tail -1 "$OUT/vg.out")"
    }
    run_vg "misuse.c" "$OUT/misuse-vg" "$MROPE"
    run_vg "concurrency.c (4 threads, pool 2)" "$OUT/concurrency-vg" "$MROPE" 4 2 2
    FASTDRIVE_TEST_NO_SIGBUS=1 FASTDRIVE_TEST_SERIAL_THREADS=1 run_vg "abort.c (aborted calls leak nothing)" "$OUT/abort-vg" "$MROPE" "$OUT"
    run_vg "examples/c/prune_tokens.c" "$OUT/prune_tokens-vg" "$MROPE" 64 0.5 2
    run_vg "examples/c/prune_tokens.c, bf16 causal" "$OUT/prune_tokens-vg" "$OUT/causal-bf16.safetensors" 49 0.25 1
    run_vg "create_destroy.c (50 cycles)" "$OUT/create_destroy-vg" "$MROPE" 50 2 0  # RSS: the rss step
    ;;
rss)
    echo "== 1000 create/destroy cycles"
    "$OUT/create_destroy" "$MROPE" 1000 2 >"$OUT/rss.log"
    rc=$?
    cat "$OUT/rss.log"
    record "create/destroy ×1000: RSS, threads, fds, mappings flat" $rc "$(head -1 "$OUT/rss.log")"
    ;;
*) echo "unknown step '$step'"; exit 2 ;;
esac
done

echo
echo "== summary"
printf '%s\n' "${RESULTS[@]}"
exit $status
