// wrapper.cpp — the C++ wrapper: select, score_batch and bf16 frames give what the C calls give,
// and every bad argument is a fastdrive::Error with the right status, never std::length_error,
// std::bad_alloc or a giant allocation.
//
// usage: wrapper SMALL_MROPE_MODEL.safetensors
// build: c++ -std=c++17 -Wall -Wextra -Werror -pedantic -I include Tests/c/wrapper.cpp
//           -L .build/release -lfastdrive_pruner -Wl,-rpath,$PWD/.build/release -o wrapper
// Prints "N passed, M failed" last; exits 1 on any failure.
#include "fastdrive_pruner.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <string>
#include <typeinfo>
#include <vector>

static int passed = 0, failed = 0;

static void check(bool ok, const std::string &what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::fprintf(stderr, "FAIL %s\n", what.c_str());
    }
}

// Runs `f`, which must throw fastdrive::Error with `want` (and a message containing `fragment`).
static void expect_error(const std::string &label, fastdrive_status want, const std::string &fragment,
                         const std::function<void()> &f) {
    try {
        f();
        check(false, label + ": no exception");
    } catch (const fastdrive::Error &e) {
        check(e.status() == want, label + ": status " + std::to_string(e.status()) + ", want " + std::to_string(want) +
                                      ": " + e.what());
        check(std::string(e.what()).find(fragment) != std::string::npos, label + ": message '" + e.what() + "'");
    } catch (const std::exception &e) {
        check(false, label + ": threw " + typeid(e).name() + " (" + e.what() + "), not fastdrive::Error");
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s SMALL_MROPE_MODEL.safetensors\n", argv[0]);
        return 2;
    }
    fastdrive::Pruner pruner(argv[1], {/*max_tokens*/ 16, /*threads*/ 2});
    const std::int64_t d = pruner.info().hidden_size, n = 6;
    std::vector<float> tokens(static_cast<std::size_t>(n * d));
    for (std::size_t i = 0; i < tokens.size(); i++) tokens[i] = static_cast<float>(i % 7) * 0.25f - 0.75f;
    const fastdrive::Frame frame = fastdrive::Frame::f32(tokens.data(), n, d, 2, 3);
    const std::vector<std::int64_t> good = pruner.prune(frame, 3);
    check(good.size() == 3, "prune k=3");

    // Frame mirrors fastdrive_tokens field for field.
    const fastdrive_tokens view = frame.c_view();
    check(view.data == tokens.data() && view.dtype == FASTDRIVE_F32 && view.n_tokens == n && view.dim == d &&
              view.row_stride == 0 && view.grid_h == 2 && view.grid_w == 3,
          "Frame::c_view");

    // select = the C call, for every policy (aux where a policy reads it; DART with pivot rows)
    std::vector<float> aux(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; i++) aux[static_cast<std::size_t>(i)] = static_cast<float>((i * 5) % 7);
    const fastdrive::Frame pivots = fastdrive::Frame::f32(tokens.data() + d, 2, d);
    for (int policy = FASTDRIVE_POLICY_RECONPRUNER; policy <= FASTDRIVE_POLICY_CDPRUNER; policy++) {
        fastdrive::SelectOptions o;
        o.policy = static_cast<fastdrive_policy>(policy);
        if (policy == FASTDRIVE_POLICY_ATTENTION || policy == FASTDRIVE_POLICY_VISPRUNER || policy == FASTDRIVE_POLICY_CDPRUNER)
            o.aux = aux;
        if (policy == FASTDRIVE_POLICY_DART) o.pivot_rows = &pivots;
        o.relevance_theta = 0.5;
        o.seed = 3;
        const std::vector<std::int64_t> got = pruner.select(frame, 3, o);
        fastdrive_tokens t = frame.c_view(), rows = pivots.c_view();
        fastdrive_select_params q{};
        q.struct_size = sizeof q;
        q.policy = o.policy;
        q.k = 3;
        q.aux = o.aux.data;
        q.aux_count = static_cast<std::int64_t>(o.aux.size);
        q.seed = 3;
        q.relevance_theta = 0.5;
        if (o.pivot_rows) q.pivot_rows = &rows;
        std::int64_t want[3] = {-1, -1, -1};
        check(fastdrive_select(pruner.get(), &t, &q, want) == FASTDRIVE_OK, "C select policy " + std::to_string(policy));
        check(got.size() == 3 && got[0] == want[0] && got[1] == want[1] && got[2] == want[2],
              "select policy " + std::to_string(policy) + " equals the C call");
    }
    expect_error("select CDPRUNER without relevance", FASTDRIVE_ERR_INVALID_ARGUMENT, "needs params->aux", [&] {
        fastdrive::SelectOptions o;
        o.policy = FASTDRIVE_POLICY_CDPRUNER;
        pruner.select(frame, 2, o);
    });
    expect_error("select k=7", FASTDRIVE_ERR_INVALID_ARGUMENT, "k = 7", [&] { pruner.select(frame, 7); });
    std::vector<std::int64_t> two(2);
    expect_error("select k=3 into 2", FASTDRIVE_ERR_INVALID_ARGUMENT, "smaller than k",
                 [&] { pruner.select(frame, 3, fastdrive::SelectOptions(), two); });

    // bf16 frames: the same bits through Frame::bf16 score as the f32 values they encode
    std::vector<std::uint16_t> bits(tokens.size());
    std::vector<float> widened(tokens.size());
    for (std::size_t i = 0; i < tokens.size(); i++) {
        std::uint32_t u;
        std::memcpy(&u, &tokens[i], sizeof u);
        bits[i] = static_cast<std::uint16_t>(u >> 16);  // these values are exact in bf16
        u = static_cast<std::uint32_t>(bits[i]) << 16;
        std::memcpy(&widened[i], &u, sizeof u);
    }
    std::vector<float> s_bf16(static_cast<std::size_t>(n)), s_f32(static_cast<std::size_t>(n));
    pruner.score(fastdrive::Frame::bf16(bits.data(), n, d, 2, 3), s_bf16);
    pruner.score(fastdrive::Frame::f32(widened.data(), n, d, 2, 3), s_f32);
    check(s_bf16 == s_f32, "bf16 frame scores as its f32 values");

    // score_batch: two frames in one call = each alone (up to rounding), frame after frame
    std::vector<float> second(tokens.size());
    for (std::size_t i = 0; i < second.size(); i++) second[i] = tokens[(i * 3) % tokens.size()];
    const std::vector<fastdrive::Frame> batch = {frame, fastdrive::Frame::f32(second.data(), n, d, 3, 2)};
    std::vector<float> batched(static_cast<std::size_t>(2 * n)), alone(static_cast<std::size_t>(n));
    pruner.score_batch(batch, batched);
    bool close = true;
    for (int f = 0; f < 2; f++) {
        pruner.score(batch[static_cast<std::size_t>(f)], alone);
        for (std::int64_t i = 0; i < n; i++) {
            const float a = alone[static_cast<std::size_t>(i)], b = batched[static_cast<std::size_t>(f * n + i)];
            close = close && (a - b <= 1e-4f * (1 + (a < 0 ? -a : a))) && (b - a <= 1e-4f * (1 + (a < 0 ? -a : a)));
        }
    }
    check(close, "score_batch equals score per frame");
    std::vector<float> short_out(static_cast<std::size_t>(n));
    expect_error("score_batch into too few floats", FASTDRIVE_ERR_INVALID_ARGUMENT, "smaller than the frames'",
                 [&] { pruner.score_batch(batch, short_out); });
    const std::vector<fastdrive::Frame> many(65, frame);
    std::vector<float> big(static_cast<std::size_t>(65 * n));
    expect_error("score_batch of 65 frames", FASTDRIVE_ERR_INVALID_ARGUMENT, "at most 64",
                 [&] { pruner.score_batch(many, big); });

    const std::int64_t ks[] = {0, -1, -4096, n + 1, std::int64_t(1) << 40, std::numeric_limits<std::int64_t>::max(),
                               std::numeric_limits<std::int64_t>::min()};
    for (std::int64_t k : ks)
        expect_error("prune k=" + std::to_string(k), FASTDRIVE_ERR_INVALID_ARGUMENT, "k = ", [&] { pruner.prune(frame, k); });

    fastdrive::Frame bad = frame;
    for (std::int64_t tokens_n : {std::int64_t(0), std::int64_t(-1), std::numeric_limits<std::int64_t>::min()}) {
        bad.n_tokens = tokens_n;
        expect_error("prune n_tokens=" + std::to_string(tokens_n), FASTDRIVE_ERR_INVALID_ARGUMENT, "n_tokens",
                     [&] { pruner.prune(bad, 1); });
    }
    bad.n_tokens = std::numeric_limits<std::int64_t>::max();
    expect_error("prune n_tokens=INT64_MAX", FASTDRIVE_ERR_CAPACITY, "max_tokens", [&] { pruner.prune(bad, 1); });

    std::vector<float> scores(static_cast<std::size_t>(n));
    std::vector<std::int64_t> keep(2);
    pruner.score(frame, scores);
    expect_error("topk k=-1", FASTDRIVE_ERR_INVALID_ARGUMENT, "k = -1", [&] { pruner.topk(scores, -1, keep); });
    expect_error("topk k=3 into 2", FASTDRIVE_ERR_INVALID_ARGUMENT, "smaller than k", [&] { pruner.topk(scores, 3, keep); });
    bad = frame;
    bad.n_tokens = -5;
    expect_error("score n_tokens=-5", FASTDRIVE_ERR_INVALID_ARGUMENT, "n_tokens", [&] { pruner.score(bad, scores); });
    std::vector<float> small(2);
    expect_error("score into 2", FASTDRIVE_ERR_INVALID_ARGUMENT, "smaller than n_tokens", [&] { pruner.score(frame, small); });
    expect_error("path with a NUL", FASTDRIVE_ERR_INVALID_ARGUMENT, "NUL",
                 [&] { fastdrive::Pruner p(std::string(argv[1]) + std::string("\0.bak", 5)); });
    // The handle still works, with the same result.
    check(pruner.prune(frame, 3) == good, "prune after failures");

    // Abort via a callable: a lambda that stops the call on its first poll, then lets calls run;
    // one that throws counts as "stop". A moved-from Pruner's callable stays where the library
    // looks for it.
    std::atomic<int> polls{0};
    std::atomic<bool> stop{true};
    fastdrive::Options with_abort;
    with_abort.num_threads = 2;
    with_abort.should_abort = [&] { polls++; return stop.load(); };
    fastdrive::Pruner first(argv[1], with_abort);
    fastdrive::Pruner aborting(std::move(first));
    expect_error("callable abort", FASTDRIVE_ERR_ABORTED, "abort callback returned true",
                 [&] { aborting.score(frame, scores); });
    check(polls.load() > 0, "the callable was polled");
    stop = false;
    check(aborting.prune(frame, 3) == good, "prune after a callable abort");
    aborting.request_abort();
    expect_error("request_abort", FASTDRIVE_ERR_ABORTED, "fastdrive_pruner_request_abort", [&] { aborting.prune(frame, 3); });
    aborting.reset_abort();
    check(aborting.prune(frame, 3) == good, "prune after request and reset");
    fastdrive::Options throwing;
    throwing.should_abort = []() -> bool { throw std::runtime_error("host bug"); };
    fastdrive::Pruner thrower(argv[1], throwing);
    expect_error("throwing callable", FASTDRIVE_ERR_ABORTED, "stopped", [&] { thrower.score(frame, scores); });
    fastdrive::Options read;
    read.load = FASTDRIVE_LOAD_READ;
    read.blas_threads = FASTDRIVE_BLAS_THREADS_RESTORE;
    check(fastdrive::Pruner(argv[1], read).prune(frame, 3) == good, "LOAD_READ + RESTORE gives the same prune");

    std::printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
