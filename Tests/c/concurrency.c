/* concurrency.c — T threads × their own handles give bit-identical results to a serial run.
 *
 * usage: concurrency MODEL.safetensors [THREADS=4] [ROUNDS=8] [POOL=2]
 *        POOL = num_threads of each handle (its own worker pool), so T × POOL threads run at once.
 * build: cc -std=c99 -Wall -Wextra -Werror -pedantic -pthread -I include Tests/c/concurrency.c \
 *           -L .build/release -lfastdrive_pruner -Wl,-rpath,$PWD/.build/release -o concurrency
 *        (scripts/sanitize.sh also builds it with clang -fsanitize=thread against a
 *        -sanitize=thread build of the library.)
 *
 * Serial pass: one handle scores F different frames and selects their top-K; those are the
 * references. Concurrent pass: T threads start together (a barrier), each creates its own
 * handle (concurrent create), then for ROUNDS rounds scores frame (thread + round) % F, compares
 * scores and indices bit for bit with the reference, provokes a failure on its handle and checks
 * that the message in its slot is its own, makes a failing create whose message must land in
 * its own thread slot, calls the handle-free functions, and finally destroys the handle.
 * Prints "N passed, M failed" last; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "fastdrive_pruner.h"
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FRAMES = 5, GRID_H = 6, GRID_W = 8, N = GRID_H * GRID_W, K = N / 2 };

static const char *model_path;
static int64_t dim;
static int rounds = 8;
static uint32_t pool = 2;
static float *frames[FRAMES];
static float ref_scores[FRAMES][N];
static int64_t ref_keep[FRAMES][K];
static pthread_barrier_t start_line;


static fastdrive_pruner *open_model(void) {
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    o.max_tokens = N;
    o.num_threads = pool;
    fastdrive_pruner *p = NULL;
    fastdrive_status s = fastdrive_pruner_create(model_path, &o, &p);
    CHECK(s == FASTDRIVE_OK && p, "create: %s", fastdrive_pruner_last_error(NULL));
    return p;
}

static fastdrive_tokens view(int f) {
    fastdrive_tokens t;
    memset(&t, 0, sizeof t);
    t.data = frames[f];
    t.dtype = FASTDRIVE_F32;
    t.n_tokens = N;
    t.dim = dim;
    t.grid_h = GRID_H;
    t.grid_w = GRID_W;
    return t;
}

static void *worker(void *arg) {
    const int id = (int)(intptr_t)arg;
    pthread_barrier_wait(&start_line);
    fastdrive_pruner *p = open_model();
    if (!p) return NULL;
    float scores[N];
    int64_t keep[K];
    char path[96], expect[96];
    for (int r = 0; r < rounds; r++) {
        const int f = (id + r) % FRAMES;
        fastdrive_tokens t = view(f);
        fastdrive_status s = fastdrive_pruner_score(p, &t, scores);
        CHECK(s == FASTDRIVE_OK, "thread %d round %d score: %s", id, r, fastdrive_pruner_last_error(p));
        CHECK(memcmp(scores, ref_scores[f], sizeof scores) == 0, "thread %d round %d: scores differ from serial", id, r);
        s = fastdrive_pruner_topk(p, scores, N, K, keep);
        CHECK(s == FASTDRIVE_OK && memcmp(keep, ref_keep[f], sizeof keep) == 0, "thread %d round %d: top-K differs", id, r);

        /* A failure on this handle writes this handle's slot only: dim = 1000 + id. */
        t.dim = 1000 + id;
        s = fastdrive_pruner_score(p, &t, scores);
        snprintf(expect, sizeof expect, "tokens->dim = %d ", 1000 + id);
        CHECK(s == FASTDRIVE_ERR_SHAPE && strstr(fastdrive_pruner_last_error(p), expect),
              "thread %d: handle message '%s'", id, fastdrive_pruner_last_error(p));

        /* A failed create reports in this thread's slot only. */
        snprintf(path, sizeof path, "/nonexistent/thread-%d-round-%d.safetensors", id, r);
        fastdrive_pruner *q = (fastdrive_pruner *)&q;
        s = fastdrive_pruner_create(path, NULL, &q);
        CHECK(s == FASTDRIVE_ERR_IO && q == NULL && strstr(fastdrive_pruner_last_error(NULL), path),
              "thread %d: thread message '%s'", id, fastdrive_pruner_last_error(NULL));

        /* Handle-free functions are thread-safe. */
        int64_t k = 0;
        CHECK(fastdrive_keep_count(N, 0.5, &k) == FASTDRIVE_OK && k == K, "thread %d keep_count", id);
        CHECK(strcmp(fastdrive_pruner_version(), FASTDRIVE_VERSION_STRING) == 0, "thread %d version", id);
        CHECK(strcmp(fastdrive_status_string(FASTDRIVE_ERR_SHAPE), "shape mismatch") == 0, "thread %d status", id);
    }
    fastdrive_pruner_destroy(p);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.safetensors [THREADS=4] [ROUNDS=8] [POOL=2]\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    const int threads = argc > 2 ? atoi(argv[2]) : 4;
    if (argc > 3) rounds = atoi(argv[3]);
    if (argc > 4) pool = (uint32_t)atoi(argv[4]);
    if (threads < 1 || threads > 256 || rounds < 1) return 2;

    /* Serial references, from a handle that lives on the main thread. */
    fastdrive_pruner *p = open_model();
    if (!p) return 1;
    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    fastdrive_pruner_describe(p, &info);
    dim = info.hidden_size;
    uint64_t x = 42;
    for (int f = 0; f < FRAMES; f++) {
        frames[f] = malloc((size_t)(N * dim) * sizeof(float));
        if (!frames[f]) return 2;
        for (int64_t i = 0; i < N * dim; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            frames[f][i] = (float)(x >> 40) / (float)(1 << 24) * 4.0f - 2.0f;
        }
        fastdrive_tokens t = view(f);
        CHECK(fastdrive_pruner_score(p, &t, ref_scores[f]) == FASTDRIVE_OK, "serial score: %s",
              fastdrive_pruner_last_error(p));
        CHECK(fastdrive_pruner_topk(p, ref_scores[f], N, K, ref_keep[f]) == FASTDRIVE_OK, "serial topk");
    }
    fastdrive_pruner_destroy(p);

    pthread_t tid[256];
    pthread_barrier_init(&start_line, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++)
        if (pthread_create(&tid[i], NULL, worker, (void *)(intptr_t)i) != 0) return 2;
    for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&start_line);
    for (int f = 0; f < FRAMES; f++) free(frames[f]);

    printf("%d threads x %d rounds x pool %u: %d passed, %d failed\n", threads, rounds, pool, atomic_load(&passed),
           atomic_load(&failed));
    return check_report();
}
