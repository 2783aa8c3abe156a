/* main.c — scores a fixture frame through an installed library found by find_package. */
#include <fastdrive_pruner.h>

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    fastdrive_pruner *p = NULL;
    if (fastdrive_pruner_create(argv[1], NULL, &p) != FASTDRIVE_OK) {
        fprintf(stderr, "%s\n", fastdrive_pruner_last_error(NULL));
        return 1;
    }
    static float tokens[36 * 128], scores[36];
    for (int i = 0; i < 36 * 128; i++) tokens[i] = (float)(i % 13) / 13.0f - 0.5f;
    fastdrive_tokens t = {tokens, FASTDRIVE_F32, 36, 128, 0, 6, 6};
    int64_t keep[18];
    int ok = fastdrive_pruner_score(p, &t, scores) == FASTDRIVE_OK && fastdrive_pruner_topk(p, scores, 36, 18, keep) == FASTDRIVE_OK;
    printf("consumer: %s, kept %d tokens, first %lld\n", ok ? "ok" : fastdrive_pruner_last_error(p), ok ? 18 : 0, (long long)keep[0]);
    fastdrive_pruner_destroy(p);
    return ok ? 0 : 1;
}
