#!/usr/bin/env bash
# fuzz.sh — bounded fuzzing of everything that parses outside input (libFuzzer + ASan, and the CLI).
#
# usage: scripts/fuzz.sh [SECONDS=60] [TARGET[=SECONDS]...]      TARGET: create npy cli (default: all)
#   create  the weight-file reader through the C API (Tests/fuzz/fuzz_create.c, seeds Tests/fuzz/corpus)
#   npy     the .npy reader of the CLI and tests (Tests/fuzz/fuzz_npy.swift + Sources/NPY, seeds
#           Tests/fuzz/npy-corpus), both on bytes and through a file
#   cli     the fastdrive-pruner command line (Tests/fuzz/fuzz_cli.py: generated and mutated argv,
#           hostile weight and .npy files, special files): exit status 0/1/64 only, never a signal
#           or a hang
#   env: FUZZ_WORK  working corpora (default .build-fuzz/corpus-TARGET; seeded from the committed
#                   seeds, which are never written to)      FUZZ_JOBS  parallel libFuzzer jobs (default 1)
#        FUZZ_ARGS  extra libFuzzer flags                    SWIFT      toolchain dir (default /opt/swift)
#
# The libFuzzer targets are built with Swift's -sanitize=fuzzer,address (coverage counters + ASan):
# the library in its own scratch path for `create`, the NPY sources compiled straight with swiftc
# for `npy`. Each target runs for its SECONDS and prints executions / coverage / findings. Exit
# status is non-zero if any target found a crash, leak, timeout, OOM or broken contract
# (artifacts in .build-fuzz/artifacts/). Regenerate the seeds with Tests/fuzz/make_corpus.py and
# Tests/fuzz/make_npy_corpus.py.
set -euo pipefail
cd "$(dirname "$0")/.."
DEFAULT_SECONDS=60
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then DEFAULT_SECONDS=$1; shift; fi
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(create npy cli)
SWIFT=${SWIFT:-/opt/swift}
CLANG="$SWIFT/usr/bin/clang"
SCRATCH=.build-fuzz
ARTIFACTS=$SCRATCH/artifacts
NICE="nice -n 10"
mkdir -p "$ARTIFACTS"
failed=0

# libfuzz NAME BINARY SEEDS DICT MAXLEN SECONDS: run one libFuzzer binary and summarise its log.
libfuzz() {
    local name=$1 bin=$2 seeds=$3 dict=$4 maxlen=$5 seconds=$6
    local work=${FUZZ_WORK:-$SCRATCH/corpus}-$name log="$SCRATCH/fuzz-$name.log"
    mkdir -p "$work"
    echo "== fuzzing $name for ${seconds}s (log: $log)"
    set +e
    # SWIFT_BACKTRACE=enable=no: on a finding, let ASan/libFuzzer report it, not Swift's crash handler.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} $NICE "$bin" "$work" "$seeds" \
        ${dict:+-dict=$dict} -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
        -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$name-" \
        ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} ${FUZZ_ARGS:-} >"$log" 2>&1
    local rc=$?
    set -e
    local last execs rate cov ft corp findings
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
    findings=$(find "$ARTIFACTS" -type f -name "$name-*" \( -name '*crash-*' -o -name '*leak-*' -o -name '*timeout-*' -o -name '*oom-*' \) | wc -l)
    echo "$name: executions: ${execs:-?} (${rate:-?}/s)  coverage: ${cov:-?} edges, ${ft:-?} features  corpus: ${corp:-?}  findings: $findings"
    if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
        grep -E 'ERROR|contract violated|Fatal error|SUMMARY' "$log" | head -20
        echo "FUZZ FAILED: $name (exit $rc); artifacts in $ARTIFACTS"
        failed=1
    fi
}

for spec in "${TARGETS[@]}"; do
    name=${spec%%=*}
    seconds=$DEFAULT_SECONDS
    [ "$spec" = "$name" ] || seconds=${spec#*=}
    case $name in
    create)
        echo "== building libfastdrive_pruner.so with -sanitize=fuzzer,address ($SCRATCH)"
        $NICE "$SWIFT/usr/bin/swift" build -c release --scratch-path "$SCRATCH" --product fastdrive_pruner \
            -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
            -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | tail -1
        LIB="$PWD/$SCRATCH/release"
        $NICE "$CLANG" -g -O1 -fsanitize=fuzzer,address -fuse-ld=lld -I include Tests/fuzz/fuzz_create.c \
            -L "$LIB" -lfastdrive_pruner -Wl,-rpath,"$LIB" -o "$SCRATCH/fuzz_create"
        libfuzz create "$SCRATCH/fuzz_create" Tests/fuzz/corpus Tests/fuzz/safetensors.dict 80000 "$seconds"
        ;;
    npy)
        echo "== building the .npy fuzzer with -sanitize=fuzzer,address ($SCRATCH/fuzz_npy)"
        mkdir -p "$SCRATCH"
        $NICE "$SWIFT/usr/bin/swiftc" -O -sanitize=fuzzer,address -parse-as-library -use-ld=lld -module-name NPYFuzz \
            Sources/NPY/*.swift Tests/fuzz/fuzz_npy.swift -o "$SCRATCH/fuzz_npy"
        libfuzz npy "$SCRATCH/fuzz_npy" Tests/fuzz/npy-corpus Tests/fuzz/npy.dict 4096 "$seconds"
        ;;
    cli)
        echo "== fuzzing the command line for ${seconds}s (release build)"
        $NICE "$SWIFT/usr/bin/swift" build -c release --product fastdrive-pruner 2>&1 | tail -1
        if ! $NICE python3 Tests/fuzz/fuzz_cli.py .build/release/fastdrive-pruner --seconds "$seconds" \
            --artifacts "$ARTIFACTS"; then
            echo "FUZZ FAILED: cli; argv in $ARTIFACTS/cli-*.json"
            failed=1
        fi
        ;;
    *) echo "unknown fuzz target '$name' (create, npy, cli)"; exit 2 ;;
    esac
done
[ "$failed" -eq 0 ] && echo "fuzz: ok"
exit $failed
