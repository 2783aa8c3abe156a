/* fuzz_create.c — libFuzzer harness: arbitrary bytes as a weight file through the C API.
 *
 * Why a C harness over the exported API rather than a Swift fuzz target: it fuzzes exactly
 * what a host links (fastdrive_pruner_create with its open/fstat/mmap, the safetensors and
 * config checks, weight conversion, arena planning, then score/topk/destroy), needs no test
 * hooks or extra SwiftPM target in the main package, and works with Swift 6.3.1's toolchain:
 * the library is built with `-sanitize=fuzzer,address` (SanitizerCoverage counters + ASan,
 * runtime symbols left undefined in the .so) and this file with clang's
 * `-fsanitize=fuzzer,address`, whose executable provides libFuzzer and the ASan runtime for
 * both. See scripts/fuzz.sh for the commands.
 *
 * Each input is written to one memfd (no disk traffic) and opened by its /proc/self/fd path.
 * Beyond "no crash, no leak, no hang", the harness aborts (= a finding) when the API breaks its
 * contract: a status outside create's documented set, *out not NULL on failure, an empty
 * last_error, or a successful handle that then fails to score a well-formed frame.
 */
#define _GNU_SOURCE
#include "fastdrive_pruner.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fd = -1;
static char path[64];

static void die(const char *what, fastdrive_status s, const char *detail) {
    fprintf(stderr, "fuzz_create: contract violated: %s (status %d: %s)\n", what, (int)s, detail ? detail : "");
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    fd = memfd_create("fastdrive-fuzz", MFD_CLOEXEC);
    if (fd < 0) { perror("memfd_create"); exit(1); }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return 0;
}

/* Scores a 2-token frame (a 1×2 grid, valid for every rope mode) and selects the top 1. */
static void exercise(fastdrive_pruner *p) {
    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    fastdrive_status s = fastdrive_pruner_describe(p, &info);
    if (s != FASTDRIVE_OK) die("describe failed on a live handle", s, fastdrive_pruner_last_error(p));
    const int64_t d = info.hidden_size;
    if (d < 1 || d > (1 << 20)) die("describe: hidden_size out of range", s, NULL);
    float *tokens = malloc((size_t)(2 * d) * sizeof *tokens);
    if (!tokens) return;
    for (int64_t i = 0; i < 2 * d; i++) tokens[i] = (float)((i * 37) % 17) / 8.0f - 1.0f;
    fastdrive_tokens t = { tokens, FASTDRIVE_F32, 2, d, 0, 1, 2 };
    float scores[2] = { 12345.0f, 12345.0f };
    int64_t keep[1] = { -1 };
    s = fastdrive_pruner_score(p, &t, scores);
    free(tokens);
    /* Finite weights up to 3.4e38 can overflow inside the layer: a NaN score is NON_FINITE with
       the scores untouched; anything else must succeed with no NaN. */
    if (s == FASTDRIVE_ERR_NON_FINITE) {
        if (scores[0] != 12345.0f || scores[1] != 12345.0f) die("scores written on NON_FINITE", s, NULL);
        return;
    }
    if (s != FASTDRIVE_OK) die("score failed on a well-formed frame", s, fastdrive_pruner_last_error(p));
    if (scores[0] != scores[0] || scores[1] != scores[1]) die("NaN score with FASTDRIVE_OK", s, NULL);
    s = fastdrive_pruner_topk(p, scores, 2, 1, keep);
    if (s != FASTDRIVE_OK) die("topk", s, fastdrive_pruner_last_error(p));
    if (keep[0] < 0 || keep[0] > 1) die("topk index out of range", s, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (ftruncate(fd, 0) != 0) abort();
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
        if (w <= 0) abort();
        done += (size_t)w;
    }
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    o.max_tokens = 4;   /* small arena: the fuzzer explores the file, not the capacity */
    o.num_threads = 1;  /* no worker threads per input (they are tested elsewhere) */
    /* Odd-sized inputs load under bf16 compute: its loader packs tensor by tensor from the
       mapping or a transient conversion, a path of its own. */
    o.compute = (size & 1) ? FASTDRIVE_BF16 : FASTDRIVE_F32;
#if FASTDRIVE_VERSION_NUMBER >= 1001000
    /* Every other pair of sizes reads the file into owned memory (FASTDRIVE_LOAD_READ): the same
       validation over bytes that are not a mapping. */
    o.load = (size & 2) ? FASTDRIVE_LOAD_READ : FASTDRIVE_LOAD_MMAP;
#endif
    fastdrive_pruner *p = (fastdrive_pruner *)&o;  /* non-NULL garbage: create must reset it */
    fastdrive_status s = fastdrive_pruner_create(path, &o, &p);
    if (s == FASTDRIVE_OK) {
        if (!p) die("OK but *out is NULL", s, NULL);
        exercise(p);
        fastdrive_pruner_destroy(p);
        return 0;
    }
    if (p != NULL) die("*out not NULL after a failed create", s, NULL);
    const char *msg = fastdrive_pruner_last_error(NULL);
    if (!msg || !*msg) die("empty last_error after a failed create", s, msg);
    /* A weight file can only be FORMAT (or OUT_OF_MEMORY for a plan that cannot fit); bf16
       compute is UNSUPPORTED on a CPU without AVX512_BF16, whatever the file. */
    if (s == FASTDRIVE_ERR_UNSUPPORTED && o.compute == FASTDRIVE_BF16) return 0;
    if (s != FASTDRIVE_ERR_FORMAT && s != FASTDRIVE_ERR_OUT_OF_MEMORY) die("unexpected status", s, msg);
    return 0;
}
