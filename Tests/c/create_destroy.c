/* create_destroy.c — repeated create / score / destroy keeps RSS, threads, fds and mappings flat.
 *
 * usage: create_destroy MODEL.safetensors [CYCLES=1000] [POOL=2]
 * build: cc -std=c99 -Wall -Wextra -Werror -pedantic -I include Tests/c/create_destroy.c \
 *           -L .build/release -lfastdrive_pruner -Wl,-rpath,$PWD/.build/release -o create_destroy
 *
 * After 50 warm-up cycles (first-use allocations of the Swift runtime, glibc's arenas and
 * thread-stack cache), reads VmRSS, Threads, open fds and mapping count from /proc/self, runs
 * CYCLES more cycles (each: create with POOL worker threads, score one frame, one failed create,
 * destroy), and reads them again. Fails if RSS grew by more than 1 MiB, the thread or fd count
 * grew, or more than 4 mappings appeared.
 * Prints "N passed, M failed" last; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "fastdrive_pruner.h"
#include "check.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct { long rss_kb, threads, fds, maps; } usage;

static long status_field(const char *name) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') { v = atol(line + n + 1); break; }
    if (f) fclose(f);
    return v;
}

static usage measure(void) {
    usage u;
    u.rss_kb = status_field("VmRSS");
    u.threads = status_field("Threads");
    u.fds = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));) u.fds += e->d_name[0] != '.';
    if (d) closedir(d);
    u.maps = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    for (int c; f && (c = fgetc(f)) != EOF;) u.maps += c == '\n';
    if (f) fclose(f);
    return u;
}

static const char *path;
static uint32_t pool = 2;
static float *frame;

static int cycle(void) {
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    o.max_tokens = 64;
    o.num_threads = pool;
    fastdrive_pruner *p = NULL;
    if (fastdrive_pruner_create(path, &o, &p) != FASTDRIVE_OK) return 0;
    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    fastdrive_pruner_describe(p, &info);
    fastdrive_tokens t = { frame, FASTDRIVE_F32, 16, info.hidden_size, 0, 4, 4 };
    float scores[16];
    int ok = fastdrive_pruner_score(p, &t, scores) == FASTDRIVE_OK;
    fastdrive_pruner_destroy(p);
    fastdrive_pruner *q = NULL;
    ok &= fastdrive_pruner_create("/nonexistent.safetensors", &o, &q) == FASTDRIVE_ERR_IO;
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.safetensors [CYCLES=1000] [POOL=2] [CHECK_RSS=1]\n", argv[0]);
        return 2;
    }
    path = argv[1];
    const int cycles = argc > 2 ? atoi(argv[2]) : 1000;
    if (argc > 3) pool = (uint32_t)atoi(argv[3]);
    /* Under valgrind, VmRSS is valgrind's: its shadow memory and translation cache grow as new
       code runs, so the RSS bound is meaningless there and leaks are memcheck's to find. */
    const int check_rss = argc > 4 ? atoi(argv[4]) : 1;
    frame = malloc(16 * 4096 * sizeof *frame);
    if (!frame) return 2;
    for (int i = 0; i < 16 * 4096; i++) frame[i] = (float)(i % 11) * 0.1f - 0.5f;

    int ok = 1;
    for (int i = 0; i < 50; i++) ok &= cycle();
    usage before = measure();
    for (int i = 0; i < cycles; i++) ok &= cycle();
    usage after = measure();
    CHECK(ok, "a create/score/destroy cycle failed: %s", fastdrive_pruner_last_error(NULL));
    printf("%d cycles: VmRSS %ld -> %ld kB, threads %ld -> %ld, fds %ld -> %ld, mappings %ld -> %ld\n", cycles,
           before.rss_kb, after.rss_kb, before.threads, after.threads, before.fds, after.fds, before.maps, after.maps);
    CHECK(!check_rss || after.rss_kb - before.rss_kb <= 1024, "RSS grew by %ld kB", after.rss_kb - before.rss_kb);
    CHECK(after.threads <= before.threads, "threads %ld -> %ld", before.threads, after.threads);
    CHECK(after.fds <= before.fds, "fds %ld -> %ld", before.fds, after.fds);
    /* A few mappings of slack: glibc may map one more malloc arena or cached stack the first
       time two workers overlap; a leak shows up as one or more per cycle. */
    CHECK(after.maps <= before.maps + 4, "mappings %ld -> %ld", before.maps, after.maps);
    free(frame);
    return check_report();
}
