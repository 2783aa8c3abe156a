// wrapper.cpp — the C++ wrapper's error paths: every bad argument is a fastdrive::Error with the
// right status, never std::length_error, std::bad_alloc or a giant allocation.
//
// usage: wrapper SMALL_MROPE_MODEL.safetensors
// build: c++ -std=c++17 -Wall -Wextra -Werror -pedantic -I include Tests/c/wrapper.cpp
//           -L .build/release -lfastdrive_pruner -Wl,-rpath,$PWD/.build/release -o wrapper
// Prints "N passed, M failed" last; exits 1 on any failure.
#include "fastdrive_pruner.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
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
    const fastdrive::Frame frame{tokens.data(), n, d, 2, 3};
    const std::vector<std::int64_t> good = pruner.prune(frame, 3);
    check(good.size() == 3, "prune k=3");

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
