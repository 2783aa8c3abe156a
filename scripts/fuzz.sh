#!/usr/bin/env bash
# fuzz.sh — coverage-guided fuzzing of the weight-file reader (libFuzzer + ASan), bounded in time.
#
# usage: scripts/fuzz.sh [SECONDS=60]
#   env: FUZZ_WORK  working corpus (default .build-fuzz/corpus; seeded from Tests/fuzz/corpus,
#                   which is never written to)      FUZZ_JOBS  parallel fuzzers (default 1)
#        FUZZ_ARGS  extra libFuzzer flags            SWIFT      toolchain dir (default /opt/swift)
#
# Builds the library with Swift's -sanitize=fuzzer,address (coverage counters + ASan) in its own
# scratch path, links Tests/fuzz/fuzz_create.c with clang -fsanitize=fuzzer,address, replays the
# seed corpus, fuzzes for SECONDS, and prints executions / coverage / findings. Exit status is
# non-zero if libFuzzer found a crash, leak, timeout or OOM (artifacts in .build-fuzz/artifacts/).
# Regenerate the seeds with: python3 Tests/fuzz/make_corpus.py
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_BUDGET=${1:-60}
SWIFT=${SWIFT:-/opt/swift}
CLANG="$SWIFT/usr/bin/clang"
SCRATCH=.build-fuzz
WORK=${FUZZ_WORK:-$SCRATCH/corpus}
ARTIFACTS=$SCRATCH/artifacts
NICE="nice -n 10"

echo "== building libfastdrive_pruner.so with -sanitize=fuzzer,address ($SCRATCH)"
$NICE "$SWIFT/usr/bin/swift" build -c release --scratch-path "$SCRATCH" --product fastdrive_pruner \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
    -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | tail -1
LIB="$PWD/$SCRATCH/release"
$NICE "$CLANG" -g -O1 -fsanitize=fuzzer,address -fuse-ld=lld -I include Tests/fuzz/fuzz_create.c \
    -L "$LIB" -lfastdrive_pruner -Wl,-rpath,"$LIB" -o "$SCRATCH/fuzz_create"

mkdir -p "$WORK" "$ARTIFACTS"
LOG="$SCRATCH/fuzz.log"
echo "== fuzzing for ${SECONDS_BUDGET}s (log: $LOG)"
set +e
# SWIFT_BACKTRACE=enable=no: on a finding, let ASan/libFuzzer report it, not Swift's crash handler.
SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} $NICE "$SCRATCH/fuzz_create" "$WORK" Tests/fuzz/corpus \
    -dict=Tests/fuzz/safetensors.dict -max_len=80000 -timeout=10 -rss_limit_mb=2048 \
    -max_total_time="$SECONDS_BUDGET" -print_final_stats=1 -artifact_prefix="$ARTIFACTS/" \
    ${FUZZ_JOBS:+-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS} ${FUZZ_ARGS:-} >"$LOG" 2>&1
rc=$?
set -e

# Summary: the last status line and libFuzzer's final stats.
last=$(grep -E '^#[0-9]+' "$LOG" | tail -1 || true)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOG" | tail -1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
findings=$(find "$ARTIFACTS" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
echo "executions: ${execs:-?} (${rate:-?}/s)  coverage: ${cov:-?} edges, ${ft:-?} features  corpus: ${corp:-?}  findings: $findings"
if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    grep -E 'ERROR|contract violated|SUMMARY' "$LOG" | head -20
    echo "FUZZ FAILED (exit $rc); artifacts in $ARTIFACTS"
    exit 1
fi
echo "fuzz: ok"
