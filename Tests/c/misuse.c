/* misuse.c — the API-misuse matrix: every exported function × every bad argument.
 *
 * usage: misuse SMALL_MROPE_MODEL.safetensors
 *        (e.g. fastdrive-pruner init --config small --rope mrope --out m.safetensors)
 * build: cc -std=c99 -Wall -Wextra -Werror -pedantic -I include Tests/c/misuse.c \
 *           -L .build/release -lfastdrive_pruner -Wl,-rpath,$PWD/.build/release -o misuse
 *        add -DFASTDRIVE_HAVE_SELECT / -DFASTDRIVE_HAVE_SCORE_BATCH when the library exports
 *        fastdrive_select / fastdrive_pruner_score_batch (scripts/sanitize.sh checks with nm).
 *
 * For each case: the documented status comes back, last_error (the handle's slot, or the
 * thread's slot when there is no live handle) holds a fresh, non-empty message naming the
 * function, and the output buffer, surrounded by guard bytes, is byte-for-byte untouched.
 * Before each case the expected slot is overwritten with a message from another function, so
 * a stale message cannot pass. The handle must keep working after every failure.
 * Also the environment a host gives the library by accident (test_paths): a FIFO, a path that
 * is not UTF-8, a path long enough to fill the message slot; and outputs that overlap inputs.
 * A call that blocks fails the run (alarm) instead of hanging it.
 * Prints "N passed, M failed" last; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "fastdrive_pruner.h"
#include "check.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* ---- guard bytes: an output buffer of `bytes` with GUARD poisoned bytes either side ---- */

#define GUARD 64
#define POISON 0xA5

typedef struct {
    unsigned char *block;
    size_t bytes;
} guarded;

static guarded guarded_new(size_t bytes) {
    guarded g;
    g.bytes = bytes;
    g.block = malloc(bytes + 2 * GUARD);
    if (!g.block) { fprintf(stderr, "out of memory\n"); exit(2); }
    memset(g.block, POISON, bytes + 2 * GUARD);
    return g;
}

static void *guarded_ptr(guarded g) { return g.block + GUARD; }

/* True when no byte of the buffer or its guards was written. */
static int guarded_untouched(guarded g) {
    for (size_t i = 0; i < g.bytes + 2 * GUARD; i++)
        if (g.block[i] != POISON) return 0;
    return 1;
}

static void guarded_free(guarded g) { free(g.block); }

/* ---- last_error freshness ---- */

/* Puts a message from a function other than `fn` into the thread's slot and, given a live
   handle, into its slot, so the next failure must write its own. */
static void scribble(fastdrive_pruner *p, const char *fn) {
    int64_t k;
    if (strcmp(fn, "fastdrive_keep_count") != 0) {
        (void)fastdrive_keep_count(0, 0.5, &k);
    } else {
        (void)fastdrive_pruner_describe(NULL, NULL);
    }
    if (p) {
        if (strcmp(fn, "fastdrive_pruner_describe") != 0) {
            (void)fastdrive_pruner_describe(p, NULL);
        } else {
            (void)fastdrive_pruner_topk(p, NULL, 1, 1, NULL);
        }
    }
}

/* A fresh message: starts with "fn:" and has a detail after it. */
static int fresh(const char *msg, const char *fn) {
    size_t n = strlen(fn);
    return msg && strncmp(msg, fn, n) == 0 && msg[n] == ':' && strlen(msg) > n + 2;
}

static const char *slot_of(fastdrive_pruner *p) { return fastdrive_pruner_last_error(p); }

/* ---- fixtures ---- */

static const char *model_path;
static int64_t D; /* hidden size of the test model */
enum { MAX_TOKENS = 16, N = 6, GRID_H = 2, GRID_W = 3 };
static float frame[MAX_TOKENS * 2 * 256]; /* room for n = MAX_TOKENS + 1 rows and dim D + 1 */

static fastdrive_pruner *open_model(void) {
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    o.max_tokens = MAX_TOKENS;
    o.num_threads = 2;
    fastdrive_pruner *p = NULL;
    fastdrive_status s = fastdrive_pruner_create(model_path, &o, &p);
    if (s != FASTDRIVE_OK || !p) {
        fprintf(stderr, "cannot load %s: %s\n", model_path, fastdrive_pruner_last_error(NULL));
        exit(2);
    }
    return p;
}

static fastdrive_tokens good_tokens(void) {
    fastdrive_tokens t;
    memset(&t, 0, sizeof t);
    t.data = frame;
    t.dtype = FASTDRIVE_F32;
    t.n_tokens = N;
    t.dim = D;
    t.row_stride = 0;
    t.grid_h = GRID_H;
    t.grid_w = GRID_W;
    return t;
}

/* ---- default_options, version, status_string ---- */

static void test_constants(void) {
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    CHECK(o.struct_size == sizeof o, "default struct_size %u", o.struct_size);
    CHECK(o.max_tokens == 4096 && o.num_threads == 0 && o.compute == FASTDRIVE_F32, "default options");
    CHECK(strcmp(fastdrive_pruner_version(), FASTDRIVE_VERSION_STRING) == 0, "version %s", fastdrive_pruner_version());
    CHECK(fastdrive_version_number() == FASTDRIVE_VERSION_NUMBER, "version number");
    /* The compatibility rule: same major, runtime >= header. */
    const int32_t v = FASTDRIVE_VERSION_NUMBER;
    CHECK(FASTDRIVE_VERSION_COMPATIBLE(fastdrive_version_number()), "this library serves this header");
    CHECK(FASTDRIVE_VERSION_COMPATIBLE(v + 1) && FASTDRIVE_VERSION_COMPATIBLE(v + 1000), "newer patch/minor serve");
    CHECK(!FASTDRIVE_VERSION_COMPATIBLE((FASTDRIVE_VERSION_MAJOR + 1) * 1000000) &&
          !FASTDRIVE_VERSION_COMPATIBLE(v + 1000000) && !FASTDRIVE_VERSION_COMPATIBLE(v - 1000000), "other majors do not");
    CHECK(!FASTDRIVE_VERSION_COMPATIBLE(v - 1), "an older library does not");
    for (int s = 0; s <= FASTDRIVE_ERR_ABORTED; s++) {
        const char *text = fastdrive_status_string((fastdrive_status)s);
        CHECK(text && *text && strcmp(text, "unknown status") != 0, "status_string(%d)", s);
    }
    const int unknown[] = { FASTDRIVE_ERR_ABORTED + 1, 255, 1000, -1, INT32_MIN };
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        const char *text = fastdrive_status_string((fastdrive_status)unknown[i]);
        CHECK(text && strcmp(text, "unknown status") == 0, "status_string(%d) = %s", unknown[i], text ? text : "NULL");
    }
}

/* ---- create / destroy ---- */

static void expect_create(const char *path, const fastdrive_pruner_options *o, fastdrive_status want,
                          const char *label) {
    fastdrive_pruner *p = (fastdrive_pruner *)&p; /* garbage: must come back NULL */
    scribble(NULL, "fastdrive_pruner_create");
    fastdrive_status s = fastdrive_pruner_create(path, o, &p);
    CHECK(s == want, "create %s: status %d (%s), want %d: %s", label, (int)s, fastdrive_status_string(s), (int)want,
          slot_of(NULL));
    CHECK(p == NULL, "create %s: *out not NULL on failure", label);
    CHECK(fresh(slot_of(NULL), "fastdrive_pruner_create"), "create %s: last_error '%s'", label, slot_of(NULL));
    if (s == FASTDRIVE_OK) fastdrive_pruner_destroy(p);
}

static void test_create(void) {
    fastdrive_pruner_options o = fastdrive_pruner_default_options();

    /* out == NULL: nothing to reset, the thread slot says why */
    scribble(NULL, "fastdrive_pruner_create");
    CHECK(fastdrive_pruner_create(model_path, NULL, NULL) == FASTDRIVE_ERR_INVALID_ARGUMENT, "create out=NULL");
    CHECK(fresh(slot_of(NULL), "fastdrive_pruner_create"), "create out=NULL: last_error '%s'", slot_of(NULL));

    expect_create(NULL, NULL, FASTDRIVE_ERR_INVALID_ARGUMENT, "path=NULL");
    expect_create("", NULL, FASTDRIVE_ERR_IO, "path=\"\"");
    expect_create("/nonexistent/dir/model.safetensors", NULL, FASTDRIVE_ERR_IO, "missing file");
    expect_create("/", NULL, FASTDRIVE_ERR_IO, "directory");
    expect_create("/dev/null", NULL, FASTDRIVE_ERR_IO, "character device");

    /* struct_size: 0, 1, one short of the 1.0 size */
    const uint32_t small_sizes[] = { 0, 1, 4, 15 };
    for (size_t i = 0; i < sizeof small_sizes / sizeof *small_sizes; i++) {
        fastdrive_pruner_options bad = o;
        bad.struct_size = small_sizes[i];
        char label[64];
        snprintf(label, sizeof label, "struct_size=%u", small_sizes[i]);
        expect_create(model_path, &bad, FASTDRIVE_ERR_INVALID_ARGUMENT, label);
    }
    {   /* enum out of range */
        fastdrive_pruner_options bad = o;
        memset(&bad.compute, 0x7f, sizeof bad.compute);
        expect_create(model_path, &bad, FASTDRIVE_ERR_INVALID_ARGUMENT, "compute=0x7f7f7f7f");
        bad.compute = (fastdrive_dtype)4;  /* 3 is FASTDRIVE_INT8 since 1.1 */
        expect_create(model_path, &bad, FASTDRIVE_ERR_INVALID_ARGUMENT, "compute=4");
    }
    {   /* threads: too many */
        fastdrive_pruner_options bad = o;
        bad.num_threads = 100000;
        expect_create(model_path, &bad, FASTDRIVE_ERR_INVALID_ARGUMENT, "num_threads=100000");
        bad.num_threads = UINT32_MAX;
        expect_create(model_path, &bad, FASTDRIVE_ERR_INVALID_ARGUMENT, "num_threads=UINT32_MAX");
    }
    {   /* max_tokens far beyond memory: a clean OUT_OF_MEMORY, never an abort or the OOM killer */
        fastdrive_pruner_options bad = o;
        bad.max_tokens = UINT32_MAX;
        bad.num_threads = 1;
        expect_create(model_path, &bad, FASTDRIVE_ERR_OUT_OF_MEMORY, "max_tokens=UINT32_MAX");
    }
    {   /* compute = F16 is a dtype but not a compute precision */
        fastdrive_pruner_options bad = o;
        bad.compute = FASTDRIVE_F16;
        fastdrive_pruner *p = NULL;
        fastdrive_status s = fastdrive_pruner_create(model_path, &bad, &p);
        CHECK(s == FASTDRIVE_ERR_INVALID_ARGUMENT || s == FASTDRIVE_ERR_UNSUPPORTED, "compute=F16: %d", (int)s);
        CHECK(p == NULL, "compute=F16: *out not NULL");
    }
    {   /* compute = BF16: UNSUPPORTED in an F32-only build, else a working handle */
        fastdrive_pruner_options bf = o;
        bf.compute = FASTDRIVE_BF16;
        bf.max_tokens = MAX_TOKENS;
        fastdrive_pruner *p = NULL;
        fastdrive_status s = fastdrive_pruner_create(model_path, &bf, &p);
        CHECK(s == FASTDRIVE_OK || s == FASTDRIVE_ERR_UNSUPPORTED, "compute=BF16: %d", (int)s);
        CHECK((s == FASTDRIVE_OK) == (p != NULL), "compute=BF16: handle/status disagree");
        fastdrive_pruner_destroy(p);
    }
    {   /* a newer caller's bigger struct: unknown (zero) tail ignored */
        unsigned char big[256];
        memset(big, 0, sizeof big);
        fastdrive_pruner_options head = o;
        head.struct_size = sizeof big;
        head.max_tokens = MAX_TOKENS;
        memcpy(big, &head, sizeof head);
        fastdrive_pruner *p = NULL;
        fastdrive_status s = fastdrive_pruner_create(model_path, (const fastdrive_pruner_options *)(void *)big, &p);
        CHECK(s == FASTDRIVE_OK && p != NULL, "struct_size=256: %d %s", (int)s, slot_of(NULL));
        fastdrive_pruner_destroy(p);
    }
    {   /* zero-filled struct with struct_size set = all defaults */
        fastdrive_pruner_options z;
        memset(&z, 0, sizeof z);
        z.struct_size = sizeof z;
        z.max_tokens = MAX_TOKENS;
        fastdrive_pruner *p = NULL;
        CHECK(fastdrive_pruner_create(model_path, &z, &p) == FASTDRIVE_OK && p, "zero-filled options");
        fastdrive_pruner_destroy(p);
    }
    /* destroy: NULL is a no-op; a second destroy of the same handle is detected and ignored */
    fastdrive_pruner_destroy(NULL);
    fastdrive_pruner *p = open_model();
    fastdrive_pruner_destroy(p);
    fastdrive_pruner_destroy(p);
    CHECK(1, "double destroy survived");
}

/* ---- paths a host may pass by accident or by necessity ---- */

static void on_alarm(int sig) {
    static const char msg[] = "FAIL misuse.c: a call blocked for 30 s (e.g. create opening a FIFO)\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(3);
}

/* Copies the model to `path`; 0 on failure. */
static int copy_model(const char *path) {
    FILE *in = fopen(model_path, "rb"), *out = fopen(path, "wb");
    char buf[1 << 16];
    size_t n;
    int ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in) fclose(in);
    if (out && fclose(out) != 0) ok = 0;
    return ok;
}

static void test_paths(void) {
    char dir[] = "/tmp/fastdrive-misuse-XXXXXX";
    if (!mkdtemp(dir)) { CHECK(0, "mkdtemp: %s", strerror(errno)); return; }
    char path[256];

    /* A FIFO nobody writes to: open() without O_NONBLOCK would wait for a writer for ever. */
    snprintf(path, sizeof path, "%s/weights.fifo", dir);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo: %s", strerror(errno));
    expect_create(path, NULL, FASTDRIVE_ERR_IO, "FIFO");
    CHECK(strstr(slot_of(NULL), "FIFO") != NULL, "create on a FIFO: '%s'", slot_of(NULL));
    unlink(path);

    /* Not UTF-8 (Latin-1 "\xe9t\xe9", and a lone 0xff): the bytes must reach open() as given. */
    const char *names[] = { "mod\xe8le-\xe9t\xe9.safetensors", "\xff\xfe.safetensors" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        CHECK(copy_model(path), "cannot write %s", path);
        fastdrive_pruner *p = NULL;
        fastdrive_status s = fastdrive_pruner_create(path, NULL, &p);
        CHECK(s == FASTDRIVE_OK && p, "create on a non-UTF-8 path (%zu): %d %s", i, (int)s, slot_of(NULL));
        fastdrive_pruner_destroy(p);
        unlink(path);
        /* a missing non-UTF-8 path: IO, the bytes shown escaped */
        expect_create(path, NULL, FASTDRIVE_ERR_IO, "missing non-UTF-8 path");
        CHECK(strstr(slot_of(NULL), i ? "\\xff\\xfe" : "\\xe8le-\\xe9t\\xe9") != NULL, "escaped path in '%s'",
              slot_of(NULL));
    }
    rmdir(dir);
}

/* ---- describe ---- */

static void test_describe(fastdrive_pruner *p, fastdrive_pruner *dead) {
    const char *fn = "fastdrive_pruner_describe";
    fastdrive_pruner *handles[] = { NULL, dead };
    const char *labels[] = { "p=NULL", "p=destroyed" };
    for (int i = 0; i < 2; i++) {
        guarded g = guarded_new(sizeof(fastdrive_pruner_info));
        fastdrive_pruner_info *info = guarded_ptr(g);
        scribble(p, fn);
        fastdrive_status s = fastdrive_pruner_describe(handles[i], info);
        CHECK(s == FASTDRIVE_ERR_INVALID_ARGUMENT, "describe %s: %d", labels[i], (int)s);
        CHECK(fresh(slot_of(NULL), fn), "describe %s: last_error '%s'", labels[i], slot_of(NULL));
        CHECK(guarded_untouched(g), "describe %s wrote its output", labels[i]);
        guarded_free(g);
    }
    scribble(p, fn);
    CHECK(fastdrive_pruner_describe(p, NULL) == FASTDRIVE_ERR_INVALID_ARGUMENT, "describe out=NULL");
    CHECK(fresh(slot_of(p), fn), "describe out=NULL: last_error '%s'", slot_of(p));

    const uint32_t sizes[] = { 0, 1, 7 };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        guarded g = guarded_new(sizeof(fastdrive_pruner_info));
        uint32_t size = sizes[i];
        memcpy(guarded_ptr(g), &size, sizeof size);
        scribble(p, fn);
        fastdrive_status s = fastdrive_pruner_describe(p, guarded_ptr(g));
        CHECK(s == FASTDRIVE_ERR_INVALID_ARGUMENT, "describe struct_size=%u: %d", size, (int)s);
        CHECK(fresh(slot_of(p), fn), "describe struct_size=%u: last_error '%s'", size, slot_of(p));
        memset(guarded_ptr(g), POISON, sizeof size);
        CHECK(guarded_untouched(g), "describe struct_size=%u wrote its output", size);
        guarded_free(g);
    }
    {   /* an older caller's smaller struct: only its bytes are written */
        guarded g = guarded_new(16);
        uint32_t size = 16;
        memcpy(guarded_ptr(g), &size, sizeof size);
        CHECK(fastdrive_pruner_describe(p, guarded_ptr(g)) == FASTDRIVE_OK, "describe struct_size=16");
        int ok = 1;
        for (size_t i = 0; i < GUARD; i++)
            ok &= g.block[i] == POISON && g.block[GUARD + 16 + i] == POISON;
        CHECK(ok, "describe struct_size=16 wrote past 16 bytes");
        guarded_free(g);
    }
}

/* ---- score ---- */

typedef struct {
    const char *label;
    fastdrive_tokens t;
    fastdrive_status want;
} score_case;

static void expect_score(fastdrive_pruner *p, const fastdrive_tokens *t, int scores_null, fastdrive_status want,
                         const char *label) {
    const char *fn = "fastdrive_pruner_score";
    int64_t n = t && t->n_tokens > 0 && t->n_tokens <= 4 * MAX_TOKENS ? t->n_tokens : N;
    guarded g = guarded_new((size_t)n * sizeof(float));
    scribble(p, fn);
    fastdrive_status s = fastdrive_pruner_score(p, t, scores_null ? NULL : guarded_ptr(g));
    CHECK(s == want, "score %s: status %d (%s), want %d: %s", label, (int)s, fastdrive_status_string(s), (int)want,
          slot_of(p));
    CHECK(fresh(slot_of(p), fn), "score %s: last_error '%s'", label, slot_of(p));
    CHECK(guarded_untouched(g), "score %s wrote its output", label);
    guarded_free(g);
}

static void test_score(fastdrive_pruner *p, fastdrive_pruner *dead) {
    fastdrive_tokens good = good_tokens();
    /* handle and pointers */
    {
        const char *fn = "fastdrive_pruner_score";
        fastdrive_pruner *handles[] = { NULL, dead };
        const char *labels[] = { "p=NULL", "p=destroyed" };
        for (int i = 0; i < 2; i++) {
            guarded g = guarded_new(N * sizeof(float));
            scribble(p, fn);
            fastdrive_status s = fastdrive_pruner_score(handles[i], &good, guarded_ptr(g));
            CHECK(s == FASTDRIVE_ERR_INVALID_ARGUMENT, "score %s: %d", labels[i], (int)s);
            CHECK(fresh(slot_of(NULL), fn), "score %s: last_error '%s'", labels[i], slot_of(NULL));
            CHECK(guarded_untouched(g), "score %s wrote its output", labels[i]);
            guarded_free(g);
        }
    }
    expect_score(p, NULL, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "tokens=NULL");
    expect_score(p, &good, 1, FASTDRIVE_ERR_INVALID_ARGUMENT, "scores=NULL");

    score_case cases[40];
    int nc = 0;
#define CASE(lbl, field, value, status)          \
    do {                                         \
        cases[nc].label = lbl;                   \
        cases[nc].t = good;                      \
        cases[nc].t.field = value;               \
        cases[nc].want = status;                 \
        nc++;                                    \
    } while (0)
    CASE("data=NULL", data, NULL, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("dtype=INT8 (a compute type, not a token dtype)", dtype, FASTDRIVE_INT8, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("dtype=4", dtype, (fastdrive_dtype)4, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("dtype=-1", dtype, (fastdrive_dtype)-1, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("n_tokens=0", n_tokens, 0, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("n_tokens=-1", n_tokens, -1, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("n_tokens=INT64_MIN", n_tokens, INT64_MIN, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("n_tokens=INT64_MAX (overflow)", n_tokens, INT64_MAX, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("dim=0", dim, 0, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("dim=-1", dim, -1, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("dim=D-1", dim, D - 1, FASTDRIVE_ERR_SHAPE);
    CASE("dim=D+1", dim, D + 1, FASTDRIVE_ERR_SHAPE);
    CASE("dim=INT64_MAX", dim, INT64_MAX, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("row_stride=-1", row_stride, -1, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("row_stride=D-1", row_stride, D - 1, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("row_stride=INT64_MAX", row_stride, INT64_MAX, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("grid_h=-1", grid_h, -1, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("grid_w=INT32_MIN", grid_w, INT32_MIN, FASTDRIVE_ERR_INVALID_ARGUMENT);
    CASE("grid_h=0 (mrope needs a grid)", grid_h, 0, FASTDRIVE_ERR_SHAPE);
    CASE("grid_h=3 (3x3 != 6)", grid_h, 3, FASTDRIVE_ERR_SHAPE);
    CASE("grid_w=INT32_MAX", grid_w, INT32_MAX, FASTDRIVE_ERR_SHAPE);
#undef CASE
    {   /* more tokens than the handle holds */
        cases[nc].label = "n_tokens=max_tokens+1";
        cases[nc].t = good;
        cases[nc].t.n_tokens = MAX_TOKENS + 1;
        cases[nc].t.grid_h = 1;
        cases[nc].t.grid_w = MAX_TOKENS + 1;
        cases[nc].want = FASTDRIVE_ERR_CAPACITY;
        nc++;
        cases[nc] = cases[nc - 1];
        cases[nc].label = "n_tokens=2^40 (capacity, no overflow)";
        cases[nc].t.n_tokens = (int64_t)1 << 40;
        cases[nc].t.grid_h = 0;
        cases[nc].t.grid_w = 0;
        nc++;
        cases[nc] = cases[nc - 1];
        cases[nc].label = "no grid at all under mrope";
        cases[nc].t.n_tokens = N;
        cases[nc].want = FASTDRIVE_ERR_SHAPE;
        nc++;
    }
    for (int i = 0; i < nc; i++) expect_score(p, &cases[i].t, 0, cases[i].want, cases[i].label);

    /* NaN / Inf anywhere in the tokens: NON_FINITE, in every input dtype */
    const uint32_t bad_bits[] = { 0x7FC00000u, 0x7F800000u, 0xFF800000u, 0x7F800001u };
    for (size_t i = 0; i < sizeof bad_bits / sizeof *bad_bits; i++) {
        float saved = frame[(N - 1) * D + 3];
        memcpy(&frame[(N - 1) * D + 3], &bad_bits[i], sizeof(float));
        char label[64];
        snprintf(label, sizeof label, "f32 token 0x%08x", (unsigned)bad_bits[i]);
        expect_score(p, &good, 0, FASTDRIVE_ERR_NON_FINITE, label);
        frame[(N - 1) * D + 3] = saved;
    }
    {
        uint16_t half[N * 256];
        for (int64_t i = 0; i < N * D; i++) half[i] = 0x3C00; /* 1.0 in both? F16 only */
        fastdrive_tokens t = good;
        t.data = half;
        t.dtype = FASTDRIVE_F16;
        half[2 * D] = 0x7C00; /* +Inf */
        expect_score(p, &t, 0, FASTDRIVE_ERR_NON_FINITE, "f16 +Inf");
        half[2 * D] = 0x7E00; /* NaN */
        expect_score(p, &t, 0, FASTDRIVE_ERR_NON_FINITE, "f16 NaN");
        for (int64_t i = 0; i < N * D; i++) half[i] = 0x3F80; /* 1.0 in bf16 */
        t.dtype = FASTDRIVE_BF16;
        half[N * D - 1] = 0x7F80; /* +Inf */
        expect_score(p, &t, 0, FASTDRIVE_ERR_NON_FINITE, "bf16 +Inf");
        half[N * D - 1] = 0xFFC0; /* NaN */
        expect_score(p, &t, 0, FASTDRIVE_ERR_NON_FINITE, "bf16 NaN");
    }
    /* after all that, the handle still scores */
    float scores[N];
    CHECK(fastdrive_pruner_score(p, &good, scores) == FASTDRIVE_OK, "score after failures: %s", slot_of(p));
    int finite = 1;
    for (int i = 0; i < N; i++) finite &= isfinite(scores[i]) != 0;
    CHECK(finite, "scores finite after failures");
}

/* ---- topk ---- */

static void expect_topk(fastdrive_pruner *p, const float *scores, int64_t n, int64_t k, int indices_null,
                        fastdrive_status want, const char *label, int thread_slot) {
    const char *fn = "fastdrive_pruner_topk";
    int64_t cap = k > 0 && k <= 4 * MAX_TOKENS ? k : 4;
    guarded g = guarded_new((size_t)cap * sizeof(int64_t));
    scribble(p, fn);
    fastdrive_status s = fastdrive_pruner_topk(p, scores, n, k, indices_null ? NULL : guarded_ptr(g));
    CHECK(s == want, "topk %s: status %d (%s), want %d: %s", label, (int)s, fastdrive_status_string(s), (int)want,
          slot_of(thread_slot ? NULL : p));
    CHECK(fresh(slot_of(thread_slot ? NULL : p), fn), "topk %s: last_error '%s'", label,
          slot_of(thread_slot ? NULL : p));
    CHECK(guarded_untouched(g), "topk %s wrote its output", label);
    guarded_free(g);
}

/* indices written into the very buffer that holds the scores (a host reusing one allocation),
   at every relative offset: the result equals the one from separate buffers. */
static void test_topk_overlap(fastdrive_pruner *p) {
    enum { n = MAX_TOKENS, k = MAX_TOKENS / 2 };
    float scores[n];
    int64_t want[k];
    for (int i = 0; i < n; i++) scores[i] = (float)((i * 7) % 11) - 0.5f * (float)(i % 3);
    CHECK(fastdrive_pruner_topk(p, scores, n, k, want) == FASTDRIVE_OK, "topk reference: %s", slot_of(p));
    /* one int64-aligned block; scores at byte offset `so`, indices at byte offset `io` */
    static int64_t block[2 * MAX_TOKENS + 8];
    const int offsets[][2] = { { 0, 0 }, { 0, 8 }, { 8, 0 }, { 0, 32 }, { 32, 0 }, { 4, 8 }, { 4 * n - 8, 0 } };
    for (size_t c = 0; c < sizeof offsets / sizeof *offsets; c++) {
        unsigned char *base = (unsigned char *)block;
        float *sp = (float *)(void *)(base + offsets[c][0]);
        int64_t *ip = (int64_t *)(void *)(base + offsets[c][1]);
        memset(block, 0, sizeof block);
        memcpy(sp, scores, sizeof scores);
        fastdrive_status st = fastdrive_pruner_topk(p, sp, n, k, ip);
        int same = st == FASTDRIVE_OK;
        for (int i = 0; same && i < k; i++) same = ip[i] == want[i];
        CHECK(same, "topk with indices at byte %d of scores at byte %d: status %d, wrong indices", offsets[c][1],
              offsets[c][0], (int)st);
    }
}

static void test_topk(fastdrive_pruner *p, fastdrive_pruner *dead) {
    float s[MAX_TOKENS + 1];
    for (int i = 0; i <= MAX_TOKENS; i++) s[i] = (float)((i * 7) % 5);
    expect_topk(NULL, s, 4, 2, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "p=NULL", 1);
    expect_topk(dead, s, 4, 2, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "p=destroyed", 1);
    expect_topk(p, NULL, 4, 2, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "scores=NULL", 0);
    expect_topk(p, s, 4, 2, 1, FASTDRIVE_ERR_INVALID_ARGUMENT, "indices=NULL", 0);
    expect_topk(p, s, 0, 1, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "n=0", 0);
    expect_topk(p, s, -1, 1, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "n=-1", 0);
    expect_topk(p, s, INT64_MIN, 1, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "n=INT64_MIN", 0);
    expect_topk(p, s, MAX_TOKENS + 1, 1, 0, FASTDRIVE_ERR_CAPACITY, "n=max_tokens+1", 0);
    /* n beyond int32: a capacity problem, not "need at least 1 score" */
    expect_topk(p, s, (int64_t)1 << 31, 1, 0, FASTDRIVE_ERR_CAPACITY, "n=2^31", 0);
    CHECK(strstr(slot_of(p), "max_tokens") && !strstr(slot_of(p), "at least"), "topk n=2^31: '%s'", slot_of(p));
    {
        fastdrive_status s2;
        guarded g = guarded_new(sizeof(int64_t));
        s2 = fastdrive_pruner_topk(p, s, INT64_MAX, 1, guarded_ptr(g));
        CHECK(s2 == FASTDRIVE_ERR_INVALID_ARGUMENT || s2 == FASTDRIVE_ERR_CAPACITY, "topk n=INT64_MAX: %d", (int)s2);
        CHECK(guarded_untouched(g), "topk n=INT64_MAX wrote its output");
        guarded_free(g);
    }
    expect_topk(p, s, 4, 0, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "k=0", 0);
    expect_topk(p, s, 4, -1, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "k=-1", 0);
    expect_topk(p, s, 4, 5, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "k=n+1", 0);
    expect_topk(p, s, 4, INT64_MAX, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "k=INT64_MAX", 0);
    float with_nan[4] = { 1, 2, 3, 4 };
    with_nan[2] = nanf("");
    expect_topk(p, with_nan, 4, 2, 0, FASTDRIVE_ERR_NON_FINITE, "NaN score", 0);
    with_nan[2] = -nanf("");
    expect_topk(p, with_nan, 4, 4, 0, FASTDRIVE_ERR_NON_FINITE, "-NaN score, k=n", 0);
    /* ±Inf rank as numbers */
    float inf[4] = { 0, INFINITY, -INFINITY, 1 };
    int64_t idx[2] = { -1, -1 };
    CHECK(fastdrive_pruner_topk(p, inf, 4, 2, idx) == FASTDRIVE_OK && idx[0] == 1 && idx[1] == 3,
          "topk with ±Inf: %lld %lld", (long long)idx[0], (long long)idx[1]);
    test_topk_overlap(p);
}

/* ---- keep_count ---- */

static void test_keep_count(void) {
    const char *fn = "fastdrive_keep_count";
    struct { int64_t n; double ratio; const char *label; } bad[] = {
        { 0, 0.5, "n=0" }, { -1, 0.5, "n=-1" }, { INT64_MIN, 0.5, "n=INT64_MIN" },
        { 10, 0.0, "ratio=0" }, { 10, -0.0, "ratio=-0" }, { 10, -0.5, "ratio=-0.5" },
        { 10, 1.0000001, "ratio>1" }, { 10, 2.0, "ratio=2" },
        { 10, 0.0, "ratio=NaN" }, { 10, 0.0, "ratio=+Inf" }, { 10, 0.0, "ratio=-Inf" },
    };
    bad[8].ratio = nan("");
    bad[9].ratio = HUGE_VAL;
    bad[10].ratio = -HUGE_VAL;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        guarded g = guarded_new(sizeof(int64_t));
        scribble(NULL, fn);
        fastdrive_status s = fastdrive_keep_count(bad[i].n, bad[i].ratio, guarded_ptr(g));
        CHECK(s == FASTDRIVE_ERR_INVALID_ARGUMENT, "keep_count %s: %d", bad[i].label, (int)s);
        CHECK(fresh(slot_of(NULL), fn), "keep_count %s: last_error '%s'", bad[i].label, slot_of(NULL));
        CHECK(guarded_untouched(g), "keep_count %s wrote its output", bad[i].label);
        guarded_free(g);
    }
    scribble(NULL, fn);
    CHECK(fastdrive_keep_count(10, 0.5, NULL) == FASTDRIVE_ERR_INVALID_ARGUMENT, "keep_count out=NULL");
    CHECK(fresh(slot_of(NULL), fn), "keep_count out=NULL: last_error '%s'", slot_of(NULL));
    int64_t k = 0;
    CHECK(fastdrive_keep_count(3249, 0.5, &k) == FASTDRIVE_OK && k == 1624, "keep_count 3249 0.5 = %lld", (long long)k);
    CHECK(fastdrive_keep_count(INT64_MAX, 1.0, &k) == FASTDRIVE_OK && k >= 1, "keep_count INT64_MAX");
    CHECK(fastdrive_keep_count(10, 1e-300, &k) == FASTDRIVE_OK && k == 1, "keep_count tiny ratio clamps to 1");
}

/* ---- last_error ---- */

static void test_last_error(fastdrive_pruner *p, fastdrive_pruner *dead) {
    CHECK(fastdrive_pruner_last_error(NULL) != NULL, "last_error(NULL) is never NULL");
    const char *d = fastdrive_pruner_last_error(dead);
    CHECK(d && *d, "last_error(destroyed) is a non-empty text");
    /* ... and it is the message of the call that was refused for it, naming that call */
    {
        float out[N];
        fastdrive_tokens t = good_tokens();
        int64_t idx[1];
        CHECK(fastdrive_pruner_score(dead, &t, out) == FASTDRIVE_ERR_INVALID_ARGUMENT, "score on destroyed");
        CHECK(fresh(fastdrive_pruner_last_error(dead), "fastdrive_pruner_score"), "last_error(destroyed) after score: '%s'",
              fastdrive_pruner_last_error(dead));
        CHECK(fastdrive_pruner_topk(dead, out, N, 1, idx) == FASTDRIVE_ERR_INVALID_ARGUMENT, "topk on destroyed");
        CHECK(fresh(fastdrive_pruner_last_error(dead), "fastdrive_pruner_topk"), "last_error(destroyed) after topk: '%s'",
              fastdrive_pruner_last_error(dead));
    }
    const char *a = fastdrive_pruner_last_error(p);
    (void)fastdrive_pruner_describe(p, NULL);
    const char *b = fastdrive_pruner_last_error(p);
    CHECK(a == b, "last_error pointer is stable per handle");
    /* A successful call does not clear it */
    float scores[N];
    fastdrive_tokens t = good_tokens();
    (void)fastdrive_pruner_score(p, &t, scores);
    CHECK(fresh(fastdrive_pruner_last_error(p), "fastdrive_pruner_describe"), "success cleared last_error");
    /* long messages are truncated to 255 bytes */
    char path[1024];
    memset(path, 'x', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = 0;
    fastdrive_pruner *q = NULL;
    (void)fastdrive_pruner_create(path, NULL, &q);
    CHECK(strlen(fastdrive_pruner_last_error(NULL)) <= 255, "last_error truncated");
    /* ... but a long path is shortened in the middle, so the reason survives */
    for (size_t i = 100; i < sizeof path - 1; i += 100) path[i] = '/'; /* components of 99 bytes: ENOENT */
    (void)fastdrive_pruner_create(path, NULL, &q);
    CHECK(strstr(fastdrive_pruner_last_error(NULL), strerror(ENOENT)) != NULL, "1023-byte path: reason lost: '%s'",
          fastdrive_pruner_last_error(NULL));
    char longer[8192];
    memset(longer, 'y', sizeof longer - 1);
    longer[0] = '/';
    longer[sizeof longer - 1] = 0;
    (void)fastdrive_pruner_create(longer, NULL, &q);
    CHECK(strstr(fastdrive_pruner_last_error(NULL), strerror(ENAMETOOLONG)) != NULL, "8191-byte path: reason lost: '%s'",
          fastdrive_pruner_last_error(NULL));
}

#ifdef FASTDRIVE_HAVE_SCORE_BATCH
/* ---- score_batch ---- */

static void expect_batch(fastdrive_pruner *p, const fastdrive_tokens *frames, int64_t count, int scores_null,
                         fastdrive_status want, const char *label, int thread_slot) {
    const char *fn = "fastdrive_pruner_score_batch";
    guarded g = guarded_new(4 * MAX_TOKENS * sizeof(float));
    scribble(p, fn);
    fastdrive_status s = fastdrive_pruner_score_batch(p, frames, count, scores_null ? NULL : guarded_ptr(g));
    CHECK(s == want, "score_batch %s: status %d (%s), want %d: %s", label, (int)s, fastdrive_status_string(s),
          (int)want, slot_of(thread_slot ? NULL : p));
    CHECK(fresh(slot_of(thread_slot ? NULL : p), fn), "score_batch %s: last_error '%s'", label,
          slot_of(thread_slot ? NULL : p));
    CHECK(guarded_untouched(g), "score_batch %s wrote its output", label);
    guarded_free(g);
}

static void test_score_batch(fastdrive_pruner *p, fastdrive_pruner *dead) {
    fastdrive_tokens f[2];
    f[0] = good_tokens();
    f[1] = good_tokens();
    expect_batch(NULL, f, 2, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "p=NULL", 1);
    expect_batch(dead, f, 2, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "p=destroyed", 1);
    expect_batch(p, NULL, 2, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "frames=NULL", 0);
    expect_batch(p, f, 2, 1, FASTDRIVE_ERR_INVALID_ARGUMENT, "scores=NULL", 0);
    expect_batch(p, f, 0, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "n_frames=0", 0);
    expect_batch(p, f, -1, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "n_frames=-1", 0);
    expect_batch(p, f, 65, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "n_frames=65", 0);
    expect_batch(p, f, INT64_MAX, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "n_frames=INT64_MAX", 0);
    f[1].dim = D + 1;
    expect_batch(p, f, 2, 0, FASTDRIVE_ERR_SHAPE, "frames[1].dim=D+1", 0);
    f[1] = good_tokens();
    f[1].data = NULL;
    expect_batch(p, f, 2, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "frames[1].data=NULL", 0);
    f[1] = good_tokens();
    f[1].n_tokens = 0;
    expect_batch(p, f, 2, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "frames[1].n_tokens=0", 0);
    f[1] = good_tokens();
    f[1].n_tokens = MAX_TOKENS - N; /* N + (16 - N) + 1 extra query row > max_tokens */
    f[1].grid_h = 1;
    f[1].grid_w = MAX_TOKENS - N;
    expect_batch(p, f, 2, 0, FASTDRIVE_ERR_CAPACITY, "sum of tokens + frames - 1 > max_tokens", 0);
    f[1] = good_tokens();
    float saved = frame[7];
    frame[7] = nanf("");
    expect_batch(p, f, 2, 0, FASTDRIVE_ERR_NON_FINITE, "NaN in a frame", 0);
    frame[7] = saved;
    {   /* every kind of per-frame error names the frame it is about: frames[2] of 3 */
        struct { const char *label; fastdrive_status want; } kinds[] = {
            { "data=NULL", FASTDRIVE_ERR_INVALID_ARGUMENT }, { "dtype=7", FASTDRIVE_ERR_INVALID_ARGUMENT },
            { "row_stride<dim", FASTDRIVE_ERR_INVALID_ARGUMENT }, { "n_tokens=0", FASTDRIVE_ERR_INVALID_ARGUMENT },
            { "grid<0", FASTDRIVE_ERR_INVALID_ARGUMENT }, { "dim=D+1", FASTDRIVE_ERR_SHAPE },
            { "grid 3x3 for 6 tokens", FASTDRIVE_ERR_SHAPE }, { "no grid under mrope", FASTDRIVE_ERR_SHAPE },
            { "over capacity", FASTDRIVE_ERR_CAPACITY }, { "Inf token", FASTDRIVE_ERR_NON_FINITE },
        };
        static float bad_frame[MAX_TOKENS * 256];
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
            fastdrive_tokens g3[3] = { good_tokens(), good_tokens(), good_tokens() };
            fastdrive_tokens *b = &g3[2];
            for (int f = 0; f < 2; f++) { /* two small good frames first: 2 + 2 + 6 tokens + 2 query rows fit */
                g3[f].n_tokens = 2;
                g3[f].grid_h = 1;
                g3[f].grid_w = 2;
            }
            memcpy(bad_frame, frame, (size_t)(N * D) * sizeof(float));
            b->data = bad_frame;
            switch (i) {
            case 0: b->data = NULL; break;
            case 1: b->dtype = (fastdrive_dtype)7; break;
            case 2: b->row_stride = D - 1; break;
            case 3: b->n_tokens = 0; break;
            case 4: b->grid_h = -1; break;
            case 5: b->dim = D + 1; break;
            case 6: b->grid_h = 3; b->grid_w = 3; break;
            case 7: b->grid_h = 0; b->grid_w = 0; break;
            case 8: b->n_tokens = 12; b->grid_h = 3; b->grid_w = 4; break; /* 2 + 2 + 12 tokens + 2 query rows > 16 */
            default: bad_frame[D + 3] = INFINITY; break;
            }
            expect_batch(p, g3, 3, 0, kinds[i].want, kinds[i].label, 0);
            CHECK(strstr(slot_of(p), "frames[2]") != NULL, "score_batch %s: message does not name frames[2]: '%s'",
                  kinds[i].label, slot_of(p));
        }
    }
    float scores[2 * N];
    CHECK(fastdrive_pruner_score_batch(p, f, 2, scores) == FASTDRIVE_OK, "score_batch after failures: %s", slot_of(p));
}
#endif

#ifdef FASTDRIVE_HAVE_SELECT
/* ---- select ---- */

/* The select entry point under test: fastdrive_select, then its 1.1 name fastdrive_pruner_select. */
static fastdrive_status (*select_fn)(fastdrive_pruner *, const fastdrive_tokens *, const fastdrive_select_params *,
                                     int64_t *) = fastdrive_select;
static const char *select_name = "fastdrive_select";

static void expect_select(fastdrive_pruner *p, const fastdrive_tokens *t, const fastdrive_select_params *sp,
                          int indices_null, fastdrive_status want, const char *label, int thread_slot) {
    const char *fn = select_name;
    guarded g = guarded_new(MAX_TOKENS * 4 * sizeof(int64_t));
    scribble(p, fn);
    fastdrive_status s = select_fn(p, t, sp, indices_null ? NULL : guarded_ptr(g));
    CHECK(s == want, "select %s: status %d (%s), want %d: %s", label, (int)s, fastdrive_status_string(s), (int)want,
          slot_of(thread_slot ? NULL : p));
    CHECK(fresh(slot_of(thread_slot ? NULL : p), fn), "select %s: last_error '%s'", label,
          slot_of(thread_slot ? NULL : p));
    CHECK(guarded_untouched(g), "select %s wrote its output", label);
    guarded_free(g);
}

static void test_select(fastdrive_pruner *p, fastdrive_pruner *dead) {
    fastdrive_tokens t = good_tokens();
    fastdrive_select_params sp;
    memset(&sp, 0, sizeof sp);
    sp.struct_size = sizeof sp;
    sp.policy = FASTDRIVE_POLICY_NORM;
    sp.k = 2;
    expect_select(NULL, &t, &sp, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "p=NULL", 1);
    expect_select(dead, &t, &sp, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "p=destroyed", 1);
    expect_select(p, NULL, &sp, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "tokens=NULL", 0);
    expect_select(p, &t, NULL, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "params=NULL", 0);
    expect_select(p, &t, &sp, 1, FASTDRIVE_ERR_INVALID_ARGUMENT, "indices=NULL", 0);
    fastdrive_select_params b = sp;
    b.struct_size = 0;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "struct_size=0", 0);
    b = sp;
    b.policy = (fastdrive_policy)99;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "policy=99", 0);
    b = sp;
    b.k = 0;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "k=0", 0);
    b.k = N + 1;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "k=n+1", 0);
    b.k = -1;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "k=-1", 0);
    b = sp;
    b.policy = FASTDRIVE_POLICY_ATTENTION;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "ATTENTION without aux", 0);
    float aux[N] = { 1, 2, 3, 4, 5, 6 };
    b.aux = aux;
    b.aux_count = N - 1;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "aux_count != n", 0);
    b.aux_count = N;
    aux[3] = nanf("");
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "NaN in aux", 0);
    /* CDPRUNER: relevance required and finite, θ in [0, 1] (0 = default) */
    b = sp;
    b.policy = FASTDRIVE_POLICY_CDPRUNER;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "CDPRUNER without aux", 0);
    float rel[N] = { 0.1f, 0.9f, 0.3f, 0.4f, 0.2f, 0.7f };
    b.aux = rel;
    b.aux_count = N;
    const double bad_theta[] = { -0.5, 1.5, (double)NAN, (double)INFINITY, -(double)INFINITY };
    for (size_t i = 0; i < sizeof bad_theta / sizeof *bad_theta; i++) {
        b.relevance_theta = bad_theta[i];
        expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "CDPRUNER bad relevance_theta", 0);
    }
    b.relevance_theta = 0;
    rel[2] = INFINITY;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "CDPRUNER Inf relevance", 0);
    rel[2] = nanf("");
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "CDPRUNER NaN relevance", 0);
    /* DART: pivot counts within k, n, the rows given and 64 in all; pivot rows checked like tokens */
    b = sp;
    b.policy = FASTDRIVE_POLICY_DART;
    b.k = 3;
    b.image_pivots = 4;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "DART image_pivots > k", 0);
    b.image_pivots = -1;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "DART image_pivots < 0", 0);
    b.image_pivots = 0;
    b.text_pivots = 1;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "DART text_pivots without pivot_rows", 0);
    fastdrive_tokens rows = t;  /* the frame's own rows as host pivots */
    rows.grid_h = rows.grid_w = 0;
    b.pivot_rows = &rows;
    b.text_pivots = N + 1;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "DART text_pivots > pivot rows", 0);
    b.text_pivots = -2;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "DART text_pivots < 0", 0);
    b.text_pivots = 0;
    rows.dim = D + 1;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_SHAPE, "DART pivot_rows dim=D+1", 0);
    rows = t;
    rows.data = NULL;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "DART pivot_rows data=NULL", 0);
    rows = t;
    rows.n_tokens = MAX_TOKENS + 1;
    rows.grid_h = rows.grid_w = 0;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_CAPACITY, "DART pivot_rows n > max_tokens", 0);
    rows = t;
    rows.dtype = (fastdrive_dtype)42;
    expect_select(p, &t, &b, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "DART pivot_rows dtype=42", 0);
    fastdrive_tokens bad = t;
    bad.dim = D + 1;
    expect_select(p, &bad, &sp, 0, FASTDRIVE_ERR_SHAPE, "dim=D+1", 0);
    bad = t;
    bad.n_tokens = MAX_TOKENS + 1;
    bad.grid_h = 1;
    bad.grid_w = MAX_TOKENS + 1;
    expect_select(p, &bad, &sp, 0, FASTDRIVE_ERR_CAPACITY, "n_tokens=max_tokens+1", 0);
    bad = t;
    bad.data = NULL;
    expect_select(p, &bad, &sp, 0, FASTDRIVE_ERR_INVALID_ARGUMENT, "data=NULL", 0);
    /* indices written over aux (one buffer reused): same result as separate buffers */
    const fastdrive_policy ranked[] = { FASTDRIVE_POLICY_ATTENTION, FASTDRIVE_POLICY_RECONPRUNER, FASTDRIVE_POLICY_VISPRUNER,
                                        FASTDRIVE_POLICY_CDPRUNER };
    for (size_t i = 0; i < sizeof ranked / sizeof *ranked; i++) {
        float a[N] = { 0.5f, 3, -1, 3, 2, 7 };
        int64_t want[3], block[N];
        fastdrive_select_params q = sp;
        q.policy = ranked[i];
        q.k = 3;
        q.aux = a;
        q.aux_count = N;
        CHECK(fastdrive_select(p, &t, &q, want) == FASTDRIVE_OK, "select policy %d reference: %s", (int)ranked[i], slot_of(p));
        memcpy(block, a, sizeof a);
        q.aux = (const float *)(void *)block;
        fastdrive_status st = fastdrive_select(p, &t, &q, block);
        CHECK(st == FASTDRIVE_OK && block[0] == want[0] && block[1] == want[1] && block[2] == want[2],
              "select policy %d with indices over aux: status %d, %lld %lld %lld (want %lld %lld %lld)", (int)ranked[i],
              (int)st, (long long)block[0], (long long)block[1], (long long)block[2], (long long)want[0],
              (long long)want[1], (long long)want[2]);
    }
}
#endif

#if FASTDRIVE_VERSION_NUMBER >= 1001000
/* ---- 1.1: request/reset abort, the 1.1 option fields and struct_size ---- */

static void test_abort_entries(fastdrive_pruner *p, fastdrive_pruner *dead) {
    fastdrive_status (*fns[2])(fastdrive_pruner *) = { fastdrive_pruner_request_abort, fastdrive_pruner_reset_abort };
    const char *names[2] = { "fastdrive_pruner_request_abort", "fastdrive_pruner_reset_abort" };
    for (int i = 0; i < 2; i++) {
        scribble(NULL, names[i]);
        CHECK(fns[i](NULL) == FASTDRIVE_ERR_INVALID_ARGUMENT, "%s(NULL)", names[i]);
        CHECK(fresh(slot_of(NULL), names[i]), "%s(NULL): last_error '%s'", names[i], slot_of(NULL));
        scribble(NULL, names[i]);
        CHECK(fns[i](dead) == FASTDRIVE_ERR_INVALID_ARGUMENT, "%s(destroyed)", names[i]);
        CHECK(fresh(slot_of(NULL), names[i]), "%s(destroyed): last_error '%s'", names[i], slot_of(NULL));
    }
    /* On a live handle: OK, and the handle's slot is left alone. */
    scribble(p, "marker");
    CHECK(fastdrive_pruner_request_abort(p) == FASTDRIVE_OK, "request_abort(p)");
    float scores[MAX_TOKENS];
    fastdrive_tokens t = good_tokens();
    CHECK(fastdrive_pruner_score(p, &t, scores) == FASTDRIVE_ERR_ABORTED, "score after request_abort");
    CHECK(fresh(slot_of(p), "fastdrive_pruner_score"), "aborted score: last_error '%s'", slot_of(p));
    CHECK(fastdrive_pruner_reset_abort(p) == FASTDRIVE_OK, "reset_abort(p)");
    CHECK(fastdrive_pruner_score(p, &t, scores) == FASTDRIVE_OK, "score after reset_abort: %s", slot_of(p));
}

static void test_options_1_1(void) {
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    CHECK(o.struct_size == sizeof o && o.abort_callback == NULL && o.abort_user_data == NULL &&
              o.load == FASTDRIVE_LOAD_MMAP && o.blas_threads == FASTDRIVE_BLAS_THREADS_SET_ONE,
          "default_options: the 1.1 fields are their defaults");
    fastdrive_pruner_options bad = o;
    memset(&bad.load, 0x7f, sizeof bad.load);
    expect_create(model_path, &bad, FASTDRIVE_ERR_INVALID_ARGUMENT, "load=0x7f7f7f7f");
    bad = o;
    bad.blas_threads = (fastdrive_blas_threads)-1;
    expect_create(model_path, &bad, FASTDRIVE_ERR_INVALID_ARGUMENT, "blas_threads=-1");
    /* A 1.0 caller (struct_size 16): the bytes after them are not read, whatever they hold. */
    bad = o;
    bad.struct_size = 16;
    memset((char *)&bad + 16, 0x7f, sizeof bad - 16);
    fastdrive_pruner *q = NULL;
    CHECK(fastdrive_pruner_create(model_path, &bad, &q) == FASTDRIVE_OK && q, "struct_size=16 with garbage after: %s",
          slot_of(NULL));
    fastdrive_pruner_destroy(q);
    /* struct_size between the 1.0 and 1.1 sizes reads a prefix: 24 takes abort_callback (NULL) only. */
    bad = o;
    bad.struct_size = 24;
    memset(&bad.abort_user_data, 0x7f, sizeof bad - 24);
    q = NULL;
    CHECK(fastdrive_pruner_create(model_path, &bad, &q) == FASTDRIVE_OK && q, "struct_size=24: %s", slot_of(NULL));
    fastdrive_pruner_destroy(q);
}
#endif

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SMALL_MROPE_MODEL.safetensors\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    fastdrive_pruner *p = open_model();
    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (fastdrive_pruner_describe(p, &info) != FASTDRIVE_OK || info.rope != FASTDRIVE_ROPE_MROPE ||
        info.hidden_size > 255) {
        fprintf(stderr, "%s: need a small (D < 256) rope=mrope model\n", model_path);
        return 2;
    }
    D = info.hidden_size;
    for (size_t i = 0; i < sizeof frame / sizeof *frame; i++) frame[i] = (float)((int)(i % 13) - 6) * 0.25f;

    fastdrive_pruner *dead = open_model();
    fastdrive_pruner_destroy(dead); /* a destroyed handle, never reused below (no create after it) */

    test_constants();
    test_describe(p, dead);
    test_score(p, dead);
    test_topk(p, dead);
    test_keep_count();
    test_last_error(p, dead);
#ifdef FASTDRIVE_HAVE_SCORE_BATCH
    test_score_batch(p, dead);
#endif
#ifdef FASTDRIVE_HAVE_SELECT
    test_select(p, dead);
#endif
#if FASTDRIVE_VERSION_NUMBER >= 1001000
    select_fn = fastdrive_pruner_select;
    select_name = "fastdrive_pruner_select";
    test_select(p, dead);
    test_abort_entries(p, dead);
#endif
    fastdrive_pruner_destroy(p);
    /* create tests last: they create handles, which may reuse the destroyed one's address */
    test_create();
#if FASTDRIVE_VERSION_NUMBER >= 1001000
    test_options_1_1();
#endif
    signal(SIGALRM, on_alarm);
    alarm(30);
    test_paths();
    alarm(0);

    return check_report();
}
