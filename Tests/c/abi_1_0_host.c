/* abi_1_0_host.c — a host written against the 1.0 API, built once against the 1.0 header
 * (Tests/c/abi-1.0/, the header as released) and once against the current one. abi_1_0.sh runs
 * both against the current library: the 1.0 binary must run (1.0 struct sizes, the 1.0 symbol
 * of fastdrive_pruner_default_options) and print exactly what the rebuilt one prints.
 *
 * usage: abi_1_0_host MODEL.safetensors   (prints the scores and selections as hex, then "ok")
 */
#include "fastdrive_pruner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 48

static int fail(const char *what, fastdrive_pruner *p) {
    fprintf(stderr, "FAIL %s: %s\n", what, fastdrive_pruner_last_error(p));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (!FASTDRIVE_VERSION_COMPATIBLE(fastdrive_version_number())) return fail("version check", NULL);
    fastdrive_pruner_options o = fastdrive_pruner_default_options();
    if (o.struct_size != sizeof o || o.max_tokens != 4096 || o.num_threads != 0 || o.compute != FASTDRIVE_F32)
        return fail("default_options", NULL);
    o.max_tokens = 2 * N;
    o.num_threads = 2;
    fastdrive_pruner *p = NULL;
    if (fastdrive_pruner_create(argv[1], &o, &p) != FASTDRIVE_OK) return fail("create", NULL);
    fastdrive_pruner_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (fastdrive_pruner_describe(p, &info) != FASTDRIVE_OK || info.num_threads != 2) return fail("describe", p);
    float *x = malloc(sizeof(float) * N * (size_t)info.hidden_size);
    for (int64_t i = 0; i < N * info.hidden_size; i++) x[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    fastdrive_tokens t = { x, FASTDRIVE_F32, N, info.hidden_size, 0, 6, 8 };
    float scores[N];
    int64_t keep[N], k = 0;
    if (fastdrive_pruner_score(p, &t, scores) != FASTDRIVE_OK) return fail("score", p);
    if (fastdrive_keep_count(N, 0.5, &k) != FASTDRIVE_OK || fastdrive_pruner_topk(p, scores, N, k, keep) != FASTDRIVE_OK)
        return fail("topk", p);
    for (int i = 0; i < N; i++) { unsigned u; memcpy(&u, &scores[i], 4); printf("%08x%c", u, i + 1 < N ? ' ' : '\n'); }
    for (int i = 0; i < k; i++) printf("%lld%c", (long long)keep[i], i + 1 < k ? ' ' : '\n');
    for (int policy = FASTDRIVE_POLICY_RECONPRUNER; policy <= FASTDRIVE_POLICY_RANDOM; policy++) {
        fastdrive_select_params sp;
        memset(&sp, 0, sizeof sp);
        sp.struct_size = sizeof sp;
        sp.policy = (fastdrive_policy)policy;
        sp.k = k;
        sp.aux = scores;
        sp.aux_count = N;
        if (fastdrive_select(p, &t, &sp, keep) != FASTDRIVE_OK) return fail("select", p);
        for (int i = 0; i < k; i++) printf("%lld%c", (long long)keep[i], i + 1 < k ? ' ' : '\n');
    }
    if (fastdrive_pruner_score(p, NULL, scores) != FASTDRIVE_ERR_INVALID_ARGUMENT) return fail("NULL tokens", p);
    fastdrive_pruner_destroy(p);
    free(x);
    printf("struct sizes: options %zu, select %zu, info %zu\n", sizeof(fastdrive_pruner_options),
           sizeof(fastdrive_select_params), sizeof(fastdrive_pruner_info));
    printf("ok\n");
    return 0;
}
