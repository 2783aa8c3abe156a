/*
 * fastdrive_pruner.h — the C API of fastdrive-pruner, a CPU runtime for ReconPruner.
 *
 * SPDX-License-Identifier: Apache-2.0
 *
 * ReconPruner (FastDriveVLA, arXiv 2507.23318) gives each visual token of a VLA a
 * foreground-saliency score; the host keeps the top-K tokens so the LLM prefill sees fewer.
 * This library loads a ReconPruner weight file, scores a frame of tokens, and selects the
 * top-K, with no heap allocation after create. This file is the whole API: every rule a caller
 * relies on is written here, next to the declaration it concerns or in the sections below.
 *
 * Typical use (error handling abbreviated to one check per call):
 *
 *     fastdrive_pruner *p = NULL;
 *     if (fastdrive_pruner_create("pruner.safetensors", NULL, &p) != FASTDRIVE_OK) {
 *         fprintf(stderr, "%s\n", fastdrive_pruner_last_error(NULL));   // why create failed
 *         return 1;
 *     }
 *     fastdrive_tokens t = { vision_out, FASTDRIVE_F32, 3249, 2048, 0, 57, 57 };
 *     float scores[3249];
 *     int64_t keep[1624];
 *     if (fastdrive_pruner_score(p, &t, scores) != FASTDRIVE_OK ||
 *         fastdrive_pruner_topk(p, scores, 3249, 1624, keep) != FASTDRIVE_OK)
 *         fprintf(stderr, "%s\n", fastdrive_pruner_last_error(p));
 *     // keep[0..1623] are ascending token indices: gather vision_out rows for the LLM.
 *     fastdrive_pruner_destroy(p);
 *
 * ---- What a score is ----
 * The pruner is one Qwen2.5-VL decoder layer run over [Q; V], the learned query token Q
 * followed by the frame's N tokens V, then a linear scorer on each token's output multiplied
 * element-wise by the query's output: S_i = (H_{i+1} ⊙ H_0)·w + b. Scores are raw (no sigmoid);
 * higher means more foreground, and only their order matters. With F32 compute they agree with
 * transformers' Qwen2_5_VLDecoderLayer on the same weights within 1e-3·max(1, max|S|); with BF16
 * or INT8 compute at least 97 % of the top-N/2 set agrees. Keep the host's own tokens at the kept
 * indices, not anything the pruner computed. (Full definition: docs/model.md in the source.)
 *
 * ---- Tokens and the grid ----
 * Tokens are the vision tower's output rows, in the order the language model receives them.
 * The grid (grid_h × grid_w, row-major) gives each token its position under rope = mrope: for
 * Qwen2.5-VL it is the grid of MERGED tokens, i.e. image_grid_thw's h and w divided by 2
 * (the merger joins 2 × 2 patches of 14 px): a 1596 × 1596 image is 57 × 57 = 3249 tokens.
 * Passing the 114 × 114 patch grid is a SHAPE error; passing a wrong grid of the right size
 * (e.g. a square guess for a 16:9 camera) scores with wrong positions, which no check can see.
 *
 * ---- Errors ----
 * Every fallible function returns a fastdrive_status; none aborts, prints, or writes an output
 * it reports as failed: on error `scores`, `indices`, `out_k` and `fastdrive_pruner_info` are
 * untouched and create sets *out = NULL. New status values may be added in later versions:
 * treat any non-zero value you do not know as an error. Each failure also leaves a one-line
 * message, "function: detail", naming the argument, key, tensor or frame at fault, truncated to
 * 255 bytes. It goes to one of two fixed slots:
 *   - the handle's slot, when the call received a live handle;
 *   - the calling thread's slot otherwise: every failure of fastdrive_pruner_create, calls whose
 *     handle is NULL, destroyed or not from create, and fastdrive_keep_count.
 * fastdrive_pruner_last_error(p) reads the first, fastdrive_pruner_last_error(NULL) the second.
 * A successful call clears neither.
 *
 * ---- Memory and ownership ----
 * create makes every allocation a handle needs: its weights, one scratch arena planned for
 * max_tokens tokens, its worker threads, its error slot. score, score_batch, topk and select
 * then allocate nothing on success. Pointers passed in (tokens, scores, aux, options, params)
 * are borrowed for the call only; outputs are caller-owned arrays of the documented length.
 * By default (load = FASTDRIVE_LOAD_MMAP) F32 weights are read in place from a read-only private
 * mapping of the weight file for the handle's life: replace a weight file by writing a new file
 * and renaming it over the old one. Rewriting it in place while a handle is open changes the
 * weights the handle scores with (the mapping shows the new bytes), and truncating it kills the
 * process with SIGBUS at the next score. load = FASTDRIVE_LOAD_READ reads the whole file at create
 * into memory the handle owns, after which the file may change or vanish freely.
 * Before allocating each large block (the arena, converted weights, a read copy of the file),
 * create checks it against the memory the process can get: the smaller of MemAvailable and its
 * cgroup's memory.max (or v1 limit_in_bytes) less what the cgroup already uses. A block that does
 * not fit is FASTDRIVE_ERR_OUT_OF_MEMORY, with both numbers in the message.
 *
 * ---- Threads ----
 * A handle is used by one thread at a time (calls on it, destroy included, must not overlap);
 * different handles may be used concurrently. Functions without a handle are thread-safe. Each
 * handle runs num_threads threads (the caller's counts as one; the others start at create and
 * wait between calls), and score, score_batch and select's similarity passes split their work
 * over them. The runtime calls OpenBLAS single-threaded from these workers. By default
 * (blas_threads = FASTDRIVE_BLAS_THREADS_SET_ONE, the 1.0 behaviour) create and every scoring call
 * set OpenBLAS's process-wide thread count to 1 (openblas_set_num_threads(1)), which other
 * OpenBLAS users in the process (numpy, Eigen) then also see. A host that uses threaded OpenBLAS
 * itself picks FASTDRIVE_BLAS_THREADS_RESTORE (1 only while a call runs, the host's value
 * restored after) or FASTDRIVE_BLAS_THREADS_LEAVE (never touched; see the enum for the cost).
 *
 * ---- Aborting a call (@since 1.1) ----
 * score, score_batch and select can be stopped while they run, two ways: the options'
 * abort_callback (polled on every thread of the handle at every chunk boundary), and
 * fastdrive_pruner_request_abort(p), callable from any thread. Either makes the running call
 * return FASTDRIVE_ERR_ABORTED within one chunk of work per thread (a few ms; measured in the
 * README, "Embedding controls"); its outputs are untouched, and the handle is fully usable: the
 * next call that is not aborted gives bit-identical results to a fresh handle's. A request stays
 * in force (aborting every call at its start) until fastdrive_pruner_reset_abort(p), so a request
 * made between two calls is never lost; the callback has no such state.
 *
 * ---- fork and process exit ----
 * A handle inherited by a forked child keeps working there, on the calling thread only
 * (fork copies no worker threads): same results, without the pool's parallelism. The child may
 * also destroy it or simply exit; neither waits for the parent's threads. A child that needs
 * full speed creates its own handle. The parent's handles are not affected.
 *
 * Process exit: the process may exit (return from main, exit()) while other threads are inside
 * create, score, score_batch or select: an exit handler lets those calls finish (up to 10 s)
 * before the libraries below this one are torn down, and the same calls started by other
 * threads after exit() began return FASTDRIVE_ERR_UNSUPPORTED without running. What must never
 * happen, at exit as at any time, is destroy overlapping another call on the same handle: a
 * finalizer that destroys handles at exit must first take the lock its calls hold, and leave a
 * handle that a thread is still inside alone (the Python package does exactly that).
 *
 * ---- Determinism ----
 * With one library build on one machine, the same weight file, compute type and inputs give
 * bit-identical scores and selections whatever num_threads is. A batch may differ from single
 * calls, and results may differ across compute types and CPUs, in the last bits only.
 *
 * ---- Weight files ----
 * One safetensors file: fifteen F32/F16/BF16 tensors named as in a Qwen2.5-VL decoder layer's
 * state dict ("input_layernorm.weight", "self_attn.q_proj.weight", ..., "mlp.down_proj.weight")
 * plus "query" [1, D] and "scorer.weight"/"scorer.bias", and the config in __metadata__
 * ("format" = "fastdrive-reconpruner", "format_version" = "1", "hidden_size", "rope", ...;
 * missing optional keys take the Qwen2.5-VL-3B values). create checks the whole file, the
 * config, every tensor's name, dtype and shape, and that every weight is finite; any failure is
 * FASTDRIVE_ERR_FORMAT naming what is wrong. (Full rules: docs/weight-file.md in the source.)
 *
 * ---- Stability ----
 * What is not in this file is not API. Versions follow semver: within a major version,
 * functions, types, struct fields and enum values are only added, never changed or removed.
 * Structs that start with `struct_size` grow only at their end; set struct_size to the sizeof
 * you compiled with, and the library reads (or for _info, writes) only that many bytes and
 * treats later fields as 0, which every field takes as its default. fastdrive_tokens has no
 * struct_size and never changes; a future extension gets a new type and entry point. Enum
 * values are explicit, never reused, and range-checked when they come from the caller.
 * FASTDRIVE_VERSION_COMPATIBLE(fastdrive_version_number()) tells whether the library loaded at
 * run time serves this header (same major, not older).
 * A deprecated function is marked FASTDRIVE_DEPRECATED (define
 * FASTDRIVE_NO_DEPRECATION_WARNINGS to silence it) and keeps working for one minor release.
 */
#ifndef FASTDRIVE_PRUNER_H
#define FASTDRIVE_PRUNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Version ---- */

/*
 * The project's one version number: the three lines below are the only place it is written.
 * The library (fastdrive_pruner_version), the CMake package, the pkg-config file, the Python
 * wheel and the trainer's exported files all read it from here.
 */
#define FASTDRIVE_VERSION_MAJOR 1
#define FASTDRIVE_VERSION_MINOR 1
#define FASTDRIVE_VERSION_PATCH 0
/** MAJOR*1000000 + MINOR*1000 + PATCH, for compile-time comparisons (`#if FASTDRIVE_VERSION_NUMBER >= 1001000`). */
#define FASTDRIVE_VERSION_NUMBER \
    (FASTDRIVE_VERSION_MAJOR * 1000000 + FASTDRIVE_VERSION_MINOR * 1000 + FASTDRIVE_VERSION_PATCH)
#define FASTDRIVE_VERSION_QUOTE_(x) #x
#define FASTDRIVE_VERSION_QUOTE(x) FASTDRIVE_VERSION_QUOTE_(x)
/** "MAJOR.MINOR.PATCH" as a string literal; equals fastdrive_pruner_version() when header and library match. */
#define FASTDRIVE_VERSION_STRING                                                           \
    FASTDRIVE_VERSION_QUOTE(FASTDRIVE_VERSION_MAJOR) "." FASTDRIVE_VERSION_QUOTE(FASTDRIVE_VERSION_MINOR) "." \
    FASTDRIVE_VERSION_QUOTE(FASTDRIVE_VERSION_PATCH)

/**
 * Whether a library whose fastdrive_version_number() is `runtime_number` can serve code compiled
 * against this header: the same major version (semver: no breaking change) and at least this
 * header's version (everything the header declares exists). A 1.0.1 or 1.2.0 library serves a
 * 1.0.0 header; 2.0.0 or 0.9.0 does not, nor 1.0.0 under a 1.1.0 header. Check it once at start-up:
 *
 *     if (!FASTDRIVE_VERSION_COMPATIBLE(fastdrive_version_number())) {
 *         fprintf(stderr, "libfastdrive_pruner %s cannot serve header %s\n",
 *                 fastdrive_pruner_version(), FASTDRIVE_VERSION_STRING);
 *         return 1;
 *     }
 *
 * @since 1.0
 */
#define FASTDRIVE_VERSION_COMPATIBLE(runtime_number)                       \
    ((runtime_number) / 1000000 == FASTDRIVE_VERSION_MAJOR &&               \
     (runtime_number) >= FASTDRIVE_VERSION_NUMBER)

/* ---- Export and deprecation ---- */

#if defined(_WIN32)
#define FASTDRIVE_API __declspec(dllimport)
#elif defined(__GNUC__) || defined(__clang__)
#define FASTDRIVE_API __attribute__((visibility("default")))
#else
#define FASTDRIVE_API
#endif

#if defined(FASTDRIVE_NO_DEPRECATION_WARNINGS)
#define FASTDRIVE_DEPRECATED(hint)
#elif defined(__GNUC__) || defined(__clang__)
#define FASTDRIVE_DEPRECATED(hint) __attribute__((deprecated(hint)))
#else
#define FASTDRIVE_DEPRECATED(hint)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Types ---- */

/** Opaque pruner handle: weights (mapped), config, worker threads, scratch arena, error slot. */
typedef struct fastdrive_pruner fastdrive_pruner;

/** Result of every fallible call. Values are stable; new ones may be added (treat unknown non-zero as error). */
typedef enum fastdrive_status {
    FASTDRIVE_OK = 0,
    FASTDRIVE_ERR_INVALID_ARGUMENT = 1,  /* NULL pointer, dead handle, count or k out of range, unknown enum value, bad struct_size or option */
    FASTDRIVE_ERR_IO = 2,                /* weight file missing, not a regular file, unreadable or unmappable */
    FASTDRIVE_ERR_FORMAT = 3,            /* not a valid weight file: structure, config, tensor name/dtype/shape, non-finite weight */
    FASTDRIVE_ERR_SHAPE = 4,             /* token dim != hidden size; grid_h*grid_w != n_tokens, or no grid under rope=mrope */
    FASTDRIVE_ERR_CAPACITY = 5,          /* more tokens (or scores) than the handle's max_tokens */
    FASTDRIVE_ERR_NON_FINITE = 6,        /* NaN or Inf in the input tokens; NaN in scores given to topk or from f32 overflow inside the layer */
    FASTDRIVE_ERR_OUT_OF_MEMORY = 7,     /* plan or converted weights exceed the machine's memory; allocation or thread start failed */
    FASTDRIVE_ERR_UNSUPPORTED = 8,       /* a compute type this CPU cannot run (BF16 without AVX512_BF16; INT8 without AVX512-VNNI; F16) */
    FASTDRIVE_ERR_INTERNAL = 9,          /* a broken internal invariant: a bug, please report it */
    FASTDRIVE_ERR_ABORTED = 10           /* @since 1.1: the host stopped the call (abort callback or
                                            fastdrive_pruner_request_abort); the handle stays usable */
} fastdrive_status;

/** Element type of a buffer. */
typedef enum fastdrive_dtype {
    FASTDRIVE_F32 = 0,   /* IEEE binary32 */
    FASTDRIVE_F16 = 1,   /* IEEE binary16 */
    FASTDRIVE_BF16 = 2,  /* bfloat16: the upper 16 bits of a binary32 */
    FASTDRIVE_INT8 = 3   /* a compute type only (options.compute), never tokens' dtype: linear layers
                            with int8 weights and u8 activations, see fastdrive_pruner_options.
                            @since 1.1 */
} fastdrive_dtype;

/** Positions inside the pruner layer (weight-file key `rope`; reported by fastdrive_pruner_describe). */
typedef enum fastdrive_rope {
    FASTDRIVE_ROPE_NONE = 0,   /* no rotation */
    FASTDRIVE_ROPE_1D = 1,     /* query at 0, token i at i+1 */
    FASTDRIVE_ROPE_MROPE = 2   /* Qwen2.5-VL multimodal RoPE: query at (0,0,0), token i at
                                  (1, 1 + i / grid_w, 1 + i % grid_w) (temporal, height, width) */
} fastdrive_rope;

/** Attention mask of the pruner layer (weight-file key `attention`). */
typedef enum fastdrive_attention {
    FASTDRIVE_ATTENTION_BIDIRECTIONAL = 0,  /* every token sees every token */
    FASTDRIVE_ATTENTION_CAUSAL = 1          /* token i sees rows 0..i (the query is row 0) */
} fastdrive_attention;

/**
 * A host's abort check (@since 1.1), set in fastdrive_pruner_options. While a call of a handle
 * runs (score, score_batch, select), the runtime calls it with the options' abort_user_data at
 * every chunk boundary of every phase, on every one of the handle's threads: the calling thread
 * and its workers, possibly at the same time, about 2,000 times per full-size frame (every
 * ~3 ms of one thread's work in f32, under 7 ms at most on the machine the README names). Returning true stops the call with FASTDRIVE_ERR_ABORTED.
 *
 * It must be thread-safe and quick (read an atomic or a clock), must not call into the same
 * handle (fastdrive_pruner_request_abort excepted), and must not longjmp or throw out. Once it
 * has returned true, no later poll of that call calls it (one already running on another thread
 * may still finish); the next call polls it afresh.
 */
typedef bool (*fastdrive_abort_callback)(void *user_data);

/** How create reads the weight file (fastdrive_pruner_options.load). @since 1.1 */
typedef enum fastdrive_load {
    FASTDRIVE_LOAD_MMAP = 0,   /* default: a read-only private mapping; aligned F32 tensors are used in
                                  place, so the file must not change while the handle lives */
    FASTDRIVE_LOAD_READ = 1    /* read the whole file into memory the handle owns; the file is closed
                                  at create and never read again (for files that may be rewritten in
                                  place, and file systems without mmap). Same scores, bit for bit */
} fastdrive_load;

/** What the runtime does with OpenBLAS's process-wide thread count (see "Threads"). @since 1.1 */
typedef enum fastdrive_blas_threads {
    FASTDRIVE_BLAS_THREADS_SET_ONE = 0,  /* default, the 1.0 behaviour: create and every scoring call set it
                                            to 1, and it stays 1 */
    FASTDRIVE_BLAS_THREADS_RESTORE = 1,  /* 1 while any such call runs, then the value found when the
                                            first of them started is restored */
    FASTDRIVE_BLAS_THREADS_LEAVE = 2     /* never touched: if it is above 1, each product of the runtime's
                                            workers also starts OpenBLAS threads, which allocate (the
                                            zero-allocation promise no longer holds), oversubscribe, and
                                            may change scores in the last bits (threaded products) */
} fastdrive_blas_threads;

/**
 * Options for fastdrive_pruner_create. Start from fastdrive_pruner_default_options() or a
 * zero-filled struct with struct_size set: every field treats 0 as its default.
 * Fields are only ever appended; the library reads min(struct_size, its own size) bytes and
 * rejects struct_size < 16 (the 1.0 size) with FASTDRIVE_ERR_INVALID_ARGUMENT. 1.0 fields end at
 * byte 16, 1.1 fields at byte 40: a 1.0 caller's struct_size of 16 gets every 1.1 default.
 */
typedef struct fastdrive_pruner_options {
    uint32_t struct_size;        /* sizeof(fastdrive_pruner_options), for ABI growth */
    uint32_t max_tokens;         /* tokens per call the arena is planned for; 0 = default 4096 */
    uint32_t num_threads;        /* threads per handle, the caller's included; at most 256; 0 = the CPUs this
                                    process may use: those of its affinity mask (taskset, cpusets), capped
                                    by its cgroup CPU quota rounded up (cpu.max, cpu.cfs_quota_us), >= 1 */
    fastdrive_dtype compute;     /* FASTDRIVE_F32 (default) or FASTDRIVE_BF16: every GEMM in bf16 with f32
                                    accumulation (weights converted once at create), norms and
                                    softmax in f32; needs AVX512_BF16, else FASTDRIVE_ERR_UNSUPPORTED.
                                    FASTDRIVE_INT8 (@since 1.1): the linear layers in int8, weights
                                    quantized once at create (symmetric, per output channel),
                                    each call's activations per row (asymmetric u8), int32
                                    accumulation; norms, softmax and the scorer in f32, attention
                                    in f32, or in bf16 (f32 accumulation) where the int8 and bf16
                                    products run on Intel AMX tiles: create asks Linux for them and
                                    checks a first product; FASTDRIVE_AMX=0 in the environment says
                                    no. Needs AVX512-VNNI, else FASTDRIVE_ERR_UNSUPPORTED */

    /* @since 1.1 (struct_size >= 40) */
    fastdrive_abort_callback abort_callback;  /* NULL = none; see fastdrive_abort_callback */
    void *abort_user_data;       /* passed to abort_callback; borrowed for the handle's life */
    fastdrive_load load;         /* FASTDRIVE_LOAD_MMAP (default) or FASTDRIVE_LOAD_READ */
    fastdrive_blas_threads blas_threads;  /* default FASTDRIVE_BLAS_THREADS_SET_ONE */
} fastdrive_pruner_options;

/**
 * A zero-copy view of the host's visual tokens: row i starts at data + i*row_stride elements.
 * Frozen: this struct has no struct_size and never changes.
 */
typedef struct fastdrive_tokens {
    const void *data;            /* borrowed; read only during the call; not NULL */
    fastdrive_dtype dtype;       /* F32, F16 or BF16; converted to f32 internally */
    int64_t n_tokens;            /* rows, 1 .. max_tokens */
    int64_t dim;                 /* must equal the pruner's hidden size */
    int64_t row_stride;          /* in elements, >= dim; 0 = dim (contiguous) */
    int32_t grid_h, grid_w;      /* the frame's token grid, row-major (see "Tokens and the grid"):
                                    required under rope=mrope; 0, 0 = none given */
} fastdrive_tokens;

/**
 * What a handle was loaded with (fastdrive_pruner_describe). Set struct_size before the call;
 * the library fills min(struct_size, its own size) bytes, so the struct may grow at its end.
 */
typedef struct fastdrive_pruner_info {
    uint32_t struct_size;          /* sizeof(fastdrive_pruner_info), set by the caller */
    uint32_t max_tokens;           /* capacity the arena was planned for */
    uint32_t num_threads;          /* worker threads actually used (>= 1) */
    fastdrive_dtype compute;       /* compute precision in use */
    int64_t hidden_size;           /* D: token dim */
    int64_t intermediate_size;     /* I: MLP width */
    int64_t num_attention_heads;   /* H */
    int64_t num_key_value_heads;   /* KV (grouped-query attention) */
    int64_t head_dim;              /* hd */
    int64_t parameter_count;       /* elements over all weight tensors */
    double rms_norm_eps;
    double rope_theta;
    fastdrive_rope rope;
    fastdrive_attention attention;
    int32_t mrope_section[3];      /* temporal, height, width frequency pairs (rope=mrope) */
    int64_t arena_bytes;           /* scratch allocated at create for max_tokens */
} fastdrive_pruner_info;

/**
 * Token-selection policies for fastdrive_select: ReconPruner and the paper's baselines, so one
 * host can compare them on its own data by changing one argument. Every policy returns K
 * distinct indices in ascending order; wherever values tie, the lower index wins.
 */
typedef enum fastdrive_policy {
    /** ReconPruner (FastDriveVLA, arXiv 2507.23318): top-K of the handle's own scores
        (fastdrive_pruner_score), or of `aux` when given (then the tokens are not read). */
    FASTDRIVE_POLICY_RECONPRUNER = 0,
    /** DivPrune (Alvar et al., CVPR 2025): greedy max-min diversity on the cosine distance
        1 - cos(v_i, v_j). Seeded as the authors' code (vbdi/divprune) does: first the token whose
        nearest neighbour is farthest, then repeatedly the unselected token farthest from its
        nearest selected one. The seed needs every pair once, O(N^2 D / 2) (≈ 10.8 G multiply-adds
        at N = 3249, D = 2048) with O(N) memory; the greedy steps are O(N K D). No N×N matrix. */
    FASTDRIVE_POLICY_DIVPRUNE = 1,
    /** FastV-style (Chen et al., ECCV 2024): top-K of host-supplied per-token attention (`aux`). */
    FASTDRIVE_POLICY_ATTENTION = 2,
    /** VisPruner (Zhang et al., ICCV 2025), as its official code (Theia-4869/VisPruner): the
        floor(K*r) tokens with the highest `aux` are kept as important; the rest, in descending-aux
        order, are normalised and thinned by rounds of duplicate removal until K - floor(K*r)
        remain: split alternately into a (positions 0, 2, ...) and b (1, 3, ...), drop the
        min(8, R - needed) a-tokens with the highest max-cosine to b, continue with the kept
        a-tokens (by descending max-cosine) followed by b. r = important_ratio, default 0.5 (the
        official code's default and its README's "64 important + 64 diverse" setting).
        Uses an N×N cosine matrix planned in the arena when max_tokens <= 4096 (64 MiB at 4096). */
    FASTDRIVE_POLICY_VISPRUNER = 3,
    /** Top-K of the tokens' L2 norms (computed in f32). */
    FASTDRIVE_POLICY_NORM = 4,
    /** Evenly spaced in raster order: index floor((2i + 1) N / (2K)) for i = 0 .. K-1, the
        centre of each of K equal slices (K = N keeps every token). Deterministic. */
    FASTDRIVE_POLICY_UNIFORM = 5,
    /** Uniformly at random without replacement, reproducible from `seed`: SplitMix64 seeded with
        `seed`, partial Fisher-Yates over [0, N): for i < K, j = i + next() mod (N - i),
        swap(perm[i], perm[j]); the result is perm[0 .. K-1] sorted. */
    FASTDRIVE_POLICY_RANDOM = 6,
    /** DART (Wen et al., arXiv 2502.11494; the pruner NVIDIA's TensorRT-Edge-LLM ships),
        duplication-aware, at the embedding level, from the tokens alone:
        1. pivots: the image_pivots tokens with the largest L1 norm (default 4, the authors'
           setting), in descending-norm order, then the text_pivots rows of `pivot_rows` (the
           host's text embeddings, optional) with the largest L1 norm (default 4, or all rows
           when fewer; none without rows). At most 64 pivots in all.
        2. The K - image_pivots tokens left are shared out in pivot order: the first
           (K - image_pivots) mod P of the P pivots take one more than the others. (The authors'
           code gives each pivot floor(K / P), which does not keep exactly K tokens.)
        3. Pivot by pivot, its share is the free non-pivot tokens least cosine-similar to it.
        Kept: the image pivots and every share. Cosines of L2-normalised f32 rows (an all-zero
        token has cosine 0 with everything). One frame per call: for several camera spans, call
        once per span with its share of K (TensorRT-Edge-LLM's proportional quota).
        O(P N D), the cosine rows on the handle's workers. @since 1.1 */
    FASTDRIVE_POLICY_DART = 7,
    /** CDPruner (Zhang et al., arXiv 2506.10967; the pruner Intel's OpenVINO GenAI ships):
        greedy MAP of a conditional determinantal point process. `aux` is required: the host's
        per-token relevance to the instruction (e.g. the cosine between each token and the mean
        text embedding; higher = more relevant; finite). As the authors' code:
        r = (aux - min) / (max - min + 1e-6); with relevance_theta θ < 1, r = exp(θ/(2(1-θ)) r)
        (θ = 1, the default, uses r as is); kernel L = diag(r) S diag(r), S the cosine matrix of
        the L2-normalised tokens (diagonal exactly 1; an all-zero token has S = 0 throughout).
        Greedy: d_i^2 = L_ii; K times pick j = argmax d^2 over unpicked tokens, then for every
        unpicked n: e_n = (L_jn - sum_t c_t[j] c_t[n]) / sqrt(max(d_j^2, 0) + 1e-5), c_i = e,
        d_n^2 -= e_n^2. Cosines are f32; r, d^2 and the projections are f64 (the factors c are
        stored f32), so exact duplicates tie exactly and ties go to the lower index. Past the
        tokens' numerical rank (e.g. K > D) the remaining d^2 are rounding noise, as in every
        implementation; the choice there is deterministic but not meaningful. With θ = 1 the least
        relevant token gets r = 0 (its d^2 stays 0: it comes after every token with d^2 > 0);
        with all aux equal every r is 0 and the picks are simply the lowest indices: for
        diversity alone use θ < 1 (then r = 1 for all).
        O(N K D + N K^2 / 2), on the handle's workers; needs max_tokens <= 4096 (its factor
        c [N x K] lives in the arena's N x N similarity matrix). @since 1.1 */
    FASTDRIVE_POLICY_CDPRUNER = 8
} fastdrive_policy;

/**
 * Parameters of fastdrive_select. Zero-fill, then set struct_size, policy and k: every other
 * field treats 0/NULL as its default. Fields are only ever appended; the library reads
 * min(struct_size, its own size) bytes and rejects struct_size below 48 (the 1.0 size; 80 since
 * 1.1).
 */
typedef struct fastdrive_select_params {
    uint32_t struct_size;        /* sizeof(fastdrive_select_params), for ABI growth */
    fastdrive_policy policy;
    int64_t k;                   /* tokens to keep, 1 .. n_tokens */
    const float *aux;            /* [aux_count] per-token importance, borrowed for the call: required
                                    by ATTENTION and VISPRUNER, optional precomputed scores for
                                    RECONPRUNER, ignored by the other policies. No NaN (±Inf rank
                                    as numbers). */
    int64_t aux_count;           /* must equal tokens->n_tokens when aux is used */
    double important_ratio;      /* VISPRUNER: share r of k taken by importance, in (0, 1];
                                    0 = default 0.5 */
    uint64_t seed;               /* RANDOM: seed of the reproducible draw (0 is a valid seed) */
    /* ---- since 1.1 (struct_size 80); a 1.0 caller's 48 bytes read these as 0 ---- */
    int64_t image_pivots;        /* DART: image pivots, 1 .. min(k, n_tokens); 0 = min(4, k) */
    int64_t text_pivots;         /* DART: pivots taken from pivot_rows, 1 .. pivot_rows->n_tokens;
                                    0 = min(4, pivot_rows->n_tokens), or none without rows.
                                    image_pivots + text_pivots <= 64 */
    const fastdrive_tokens *pivot_rows; /* DART, optional: host pivot rows (e.g. the instruction's
                                    text embeddings), borrowed for the call; dim = the handle's
                                    hidden size, n_tokens <= max_tokens, any dtype and row_stride,
                                    grid ignored, finite */
    double relevance_theta;      /* CDPRUNER: θ in (0, 1]; 0 = default 1 (relevance unweighted) */
} fastdrive_select_params;

/* ---- Lifecycle ---- */

/**
 * The 1.0 layout of fastdrive_pruner_options (16 bytes). Binaries built against the 1.0 header
 * call the symbol fastdrive_pruner_default_options and receive this struct in registers; the
 * 40-byte 1.1 struct is returned through memory, so the 1.1 header binds the same function name
 * to the symbol fastdrive_pruner_default_options_1_1 (an asm label; a macro on other compilers).
 * The library exports both. Hosts never need this type.
 * @since 1.1
 */
typedef struct fastdrive_pruner_options_1_0 {
    uint32_t struct_size, max_tokens, num_threads;
    fastdrive_dtype compute;
} fastdrive_pruner_options_1_0;

#if defined(__GNUC__) || defined(__clang__)
#define FASTDRIVE_SYMBOL_(name) __asm__(name)
#else
#define FASTDRIVE_SYMBOL_(name)
#define fastdrive_pruner_default_options fastdrive_pruner_default_options_1_1
#endif

/**
 * The default options: struct_size set, max_tokens 4096, num_threads 0 (the CPUs this process
 * may use), F32, no abort callback, LOAD_MMAP, BLAS_THREADS_SET_ONE.
 *
 * @return a filled struct by value.
 * @note Never fails, allocates nothing, thread-safe. Since 1.1 the 1.1 struct (built against
 *       the 1.0 header, the 1.0 struct: both keep working).
 * @since 1.0
 */
FASTDRIVE_API fastdrive_pruner_options fastdrive_pruner_default_options(void)
    FASTDRIVE_SYMBOL_("fastdrive_pruner_default_options_1_1");

/**
 * Load a ReconPruner weight file and plan every buffer for up to `max_tokens` tokens.
 *
 * Validates the whole file (safetensors structure, config in __metadata__, every tensor's
 * name, dtype and shape, finite values) before using it. F32 tensors stay in the read-only
 * private file mapping (zero copy) when aligned; F16/BF16 or misaligned tensors are
 * converted once into memory the handle owns. All scratch is one 64-byte-aligned arena.
 *
 * @param weights_path  path of the .safetensors file; not NULL; read during the call only
 *                      (the mapping outlives it: replace the file by rename, not in place).
 *                      Its bytes go to open() unchanged (any encoding, UTF-8 or not). It must
 *                      be a regular file: a FIFO, device or directory is _ERR_IO at once,
 *                      without blocking.
 * @param options       NULL = defaults; else struct_size must be >= 16 (the 1.0 size); load and
 *                      blas_threads known values (else _ERR_INVALID_ARGUMENT).
 * @param out           out, not NULL; receives the new handle, or NULL on failure.
 * @return FASTDRIVE_OK | _ERR_INVALID_ARGUMENT | _ERR_IO | _ERR_FORMAT | _ERR_OUT_OF_MEMORY
 *         | _ERR_UNSUPPORTED | _ERR_INTERNAL
 * @note On failure *out is NULL (when out is not NULL) and fastdrive_pruner_last_error(NULL) on
 *       the same thread says why. Allocates the handle, its arena and worker threads (with
 *       load = FASTDRIVE_LOAD_READ, a copy of the file), and under BLAS_THREADS_SET_ONE sets
 *       OpenBLAS's thread count to 1 (see "Threads"); thread-safe. Never calls abort_callback.
 * @since 1.0
 */
FASTDRIVE_API fastdrive_status fastdrive_pruner_create(const char *weights_path,
                                                       const fastdrive_pruner_options *options,
                                                       fastdrive_pruner **out);

/**
 * Release a handle: joins its workers, frees its arena, unmaps its weights.
 *
 * @param p  handle from fastdrive_pruner_create, or NULL (a no-op). Not used afterwards; a
 *           pointer that is no longer a live handle (destroyed twice) is ignored.
 * @note Must not overlap another call on the same handle. Never fails; writes no error slot.
 * @since 1.0
 */
FASTDRIVE_API void fastdrive_pruner_destroy(fastdrive_pruner *p);

/**
 * Describe a handle: its model config, capacity and compute settings.
 *
 * @param p    handle; not NULL.
 * @param out  out, not NULL; out->struct_size must be set (>= 8). The library writes
 *             min(struct_size, its own size) bytes and leaves struct_size as the caller set it.
 * @return FASTDRIVE_OK | _ERR_INVALID_ARGUMENT
 * @note No allocation; `out` untouched on failure. One thread at a time per handle.
 * @since 1.0
 */
FASTDRIVE_API fastdrive_status fastdrive_pruner_describe(const fastdrive_pruner *p,
                                                         fastdrive_pruner_info *out);

/* ---- Scoring ---- */

/**
 * Score every token in `tokens` (see "What a score is"): higher = more foreground.
 *
 * @param p       handle; not NULL; one thread at a time.
 * @param tokens  borrowed view, read only during the call; not NULL; data not NULL;
 *                dim == hidden size; 1 <= n_tokens <= max_tokens; row_stride 0 or >= dim;
 *                under rope=mrope grid_h*grid_w == n_tokens (otherwise the grid is optional,
 *                but if given it must match).
 * @param scores  out, [tokens->n_tokens] floats; not NULL; written only on FASTDRIVE_OK. It may
 *                overlap the tokens' memory: every token is read before any score is written.
 * @return FASTDRIVE_OK | _ERR_INVALID_ARGUMENT | _ERR_SHAPE | _ERR_CAPACITY | _ERR_NON_FINITE
 *         | _ERR_ABORTED (@since 1.1, see "Aborting a call")
 * @note No heap allocation; runs on the handle's threads. On error, `scores` is untouched and
 *       last_error(p) says why (last_error(NULL) when p is not a live handle).
 * @since 1.0
 */
FASTDRIVE_API fastdrive_status fastdrive_pruner_score(fastdrive_pruner *p,
                                                      const fastdrive_tokens *tokens,
                                                      float *scores /* [n_tokens] */);

/**
 * Score several frames (e.g. the six cameras of a rig) in one call. The frames' rows are
 * stacked for the projections and the MLP (bigger, faster GEMMs) while attention, positions and
 * the query token stay per frame, so each frame's scores equal what fastdrive_pruner_score gives
 * it alone (up to float rounding).
 *
 * @param p         handle; not NULL; one thread at a time. Its max_tokens bounds the batch:
 *                  sum of n_tokens + (n_frames - 1) <= max_tokens.
 * @param frames    [n_frames] borrowed views, each checked as in fastdrive_pruner_score; not NULL.
 * @param n_frames  1 .. 64.
 * @param scores    out, [sum of n_tokens] floats, frame after frame; not NULL; written only on
 *                  FASTDRIVE_OK. It may overlap the frames' tokens (all are read first).
 * @return FASTDRIVE_OK | _ERR_INVALID_ARGUMENT | _ERR_SHAPE | _ERR_CAPACITY | _ERR_NON_FINITE
 *         | _ERR_ABORTED (@since 1.1)
 * @note No heap allocation; runs on the handle's threads. On error, `scores` is untouched; for
 *       every per-frame error (data, dtype, stride, dim, grid, capacity, NaN/Inf) last_error(p)
 *       names the frame: "frames[i]".
 * @since 1.0
 */
FASTDRIVE_API fastdrive_status fastdrive_pruner_score_batch(fastdrive_pruner *p, const fastdrive_tokens *frames,
                                                            int64_t n_frames, float *scores);

/**
 * Select the K highest scores: ties go to the lower index, indices come out ascending.
 * +Inf/-Inf rank as numbers; a NaN score is rejected (FASTDRIVE_ERR_NON_FINITE).
 *
 * @param p        handle; not NULL; one thread at a time (its error slot receives the message).
 * @param scores   [n] floats, borrowed; not NULL.
 * @param n        1 .. max_tokens of the handle (more is _ERR_CAPACITY).
 * @param k        1 .. n (see fastdrive_keep_count for a keep ratio).
 * @param indices  out, [k] int64; not NULL; written only on FASTDRIVE_OK. It may overlap
 *                 `scores` (e.g. one buffer reused): the scores are copied into the handle's
 *                 arena before any index is written, so the result is the same.
 * @return FASTDRIVE_OK | _ERR_INVALID_ARGUMENT | _ERR_CAPACITY | _ERR_NON_FINITE
 * @note O(n log k), no heap allocation. On error, `indices` is untouched.
 * @since 1.0
 */
FASTDRIVE_API fastdrive_status fastdrive_pruner_topk(fastdrive_pruner *p, const float *scores,
                                                     int64_t n, int64_t k,
                                                     int64_t *indices /* [k], ascending */);

/**
 * K for a keep ratio: K = floor(ratio * n) clamped to [1, n] (pruning ratio q: ratio = 1 - q;
 * 2436 / 1624 / 812 of 3249 at 25 / 50 / 75 % pruning).
 *
 * @param n      tokens, >= 1.
 * @param ratio  share of tokens to keep, in (0, 1].
 * @param out_k  out, not NULL; written only on FASTDRIVE_OK.
 * @return FASTDRIVE_OK | _ERR_INVALID_ARGUMENT
 * @note Pure; thread-safe; no allocation on success. A failure writes the calling thread's
 *       error slot (last_error(NULL)).
 * @since 1.0
 */
FASTDRIVE_API fastdrive_status fastdrive_keep_count(int64_t n, double ratio, int64_t *out_k);

/**
 * Select `params->k` tokens of `tokens` with a policy; indices come out ascending.
 *
 * @param p        handle; not NULL; one thread at a time (its arena is the scratch).
 * @param tokens   borrowed view as for fastdrive_pruner_score; not NULL. Every policy checks
 *                 data != NULL, dtype, dim == hidden size, n_tokens <= max_tokens and a given
 *                 grid; values are read (and NaN/Inf rejected) only by DIVPRUNE, VISPRUNER, NORM,
 *                 DART, CDPRUNER and RECONPRUNER without aux (which also needs the grid under
 *                 rope=mrope).
 * @param params   not NULL; struct_size >= 48 (the 1.0 size); policy a known value.
 * @param indices  out, [params->k] int64; not NULL; written only on FASTDRIVE_OK. It may
 *                 overlap the tokens or `aux` (what is ranked is read or copied first).
 * @return FASTDRIVE_OK | _ERR_INVALID_ARGUMENT (NULL, struct_size, unknown policy, k out of
 *         1..n_tokens, aux missing where required, aux_count != n_tokens, NaN in aux (or
 *         ±Inf for CDPRUNER), important_ratio outside (0, 1], relevance_theta outside [0, 1],
 *         DART pivot counts negative, above k, n_tokens or the pivot rows, or over 64 in all)
 *         | _ERR_SHAPE (pivot_rows->dim != hidden size) | _ERR_CAPACITY (pivot_rows->n_tokens >
 *         max_tokens; CDPRUNER on a handle with max_tokens > 4096) | _ERR_NON_FINITE
 *         | _ERR_ABORTED (@since 1.1: any policy when a request is pending as it starts;
 *         RECONPRUNER without aux, DIVPRUNE, VISPRUNER, DART and CDPRUNER also while they run)
 * @note No heap allocation. On error `indices` is untouched and last_error(p) says why.
 *       RECONPRUNER (scoring), DIVPRUNE, VISPRUNER, DART and CDPRUNER (their similarity passes)
 *       use the handle's worker threads, as score does, and poll the abort check as score does;
 *       the rest runs on the calling thread. Indices do not depend on num_threads.
 *       fastdrive_pruner_select is the same function under the handle's prefix.
 * @since 1.0
 */
FASTDRIVE_API fastdrive_status fastdrive_select(fastdrive_pruner *p, const fastdrive_tokens *tokens,
                                                const fastdrive_select_params *params,
                                                int64_t *indices /* [k], ascending */);

/* ---- Added in 1.1 ---- */

/**
 * fastdrive_select under the name every handle-taking call has (fastdrive_pruner_...): same
 * arguments, rules, statuses and messages (which name fastdrive_pruner_select). Both names stay.
 *
 * @since 1.1
 */
FASTDRIVE_API fastdrive_status fastdrive_pruner_select(fastdrive_pruner *p, const fastdrive_tokens *tokens,
                                                       const fastdrive_select_params *params,
                                                       int64_t *indices /* [k], ascending */);

/**
 * Ask the handle to stop: the call running on it now (score, score_batch, select), and every
 * one started later until fastdrive_pruner_reset_abort, returns FASTDRIVE_ERR_ABORTED (see
 * "Aborting a call"). The ONNX Runtime terminate flag, on the handle.
 *
 * @param p  handle; not NULL.
 * @return FASTDRIVE_OK | _ERR_INVALID_ARGUMENT (p NULL or not a live handle)
 * @note Thread-safe: may be called from any thread while another thread is inside a call on p
 *       (the one exception to "one thread at a time"), but not concurrently with, or after,
 *       fastdrive_pruner_destroy(p). Returns at once; it does not wait for the call to stop. No
 *       allocation; writes no error slot on success.
 * @since 1.1
 */
FASTDRIVE_API fastdrive_status fastdrive_pruner_request_abort(fastdrive_pruner *p);

/**
 * Withdraw a request made by fastdrive_pruner_request_abort: later calls run again. A request
 * made after this call (even while it runs) is kept.
 *
 * @param p  handle; not NULL.
 * @return FASTDRIVE_OK | _ERR_INVALID_ARGUMENT (p NULL or not a live handle)
 * @note Thread-safe as fastdrive_pruner_request_abort. No allocation. Does not touch a call
 *       that is already stopping.
 * @since 1.1
 */
FASTDRIVE_API fastdrive_status fastdrive_pruner_reset_abort(fastdrive_pruner *p);

/* ---- Errors & version ---- */

/**
 * A short static description of a status ("invalid argument", …).
 *
 * @return static text, never NULL; "unknown status" for values this library does not know.
 * @since 1.0
 */
FASTDRIVE_API const char *fastdrive_status_string(fastdrive_status s);

/**
 * Detail of the last failure: "function: detail", naming the argument, key, tensor or frame.
 *
 * @param p  a live handle: its last failure ("" if none). NULL, or a pointer that is not a live
 *           handle (destroyed, never created): the calling thread's last failure that had no
 *           handle to record it: a failed create, a call refused for a NULL or dead handle
 *           (the message names that call), fastdrive_keep_count ("" if none).
 * @return never NULL; valid until the next call on the same handle (for the thread's slot: until
 *         the next failure on the same thread). A successful call does not clear it. At most
 *         255 bytes.
 * @note Does not change either slot.
 * @since 1.0
 */
FASTDRIVE_API const char *fastdrive_pruner_last_error(const fastdrive_pruner *p);

/**
 * The library's version, "MAJOR.MINOR.PATCH" (FASTDRIVE_VERSION_STRING of the header it was built with).
 *
 * @return static text, never NULL.
 * @since 1.0
 */
FASTDRIVE_API const char *fastdrive_pruner_version(void);

/**
 * The library's version as MAJOR*1000000 + MINOR*1000 + PATCH. A library with the same major
 * version and a number >= FASTDRIVE_VERSION_NUMBER provides everything this header declares.
 *
 * @return the number; never fails, thread-safe.
 * @since 1.0
 */
FASTDRIVE_API int32_t fastdrive_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* FASTDRIVE_PRUNER_H */
