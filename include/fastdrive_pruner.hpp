// fastdrive_pruner.hpp — header-only C++17 RAII wrapper over the C API in fastdrive_pruner.h.
//
// Errors are exceptions (fastdrive::Error, carrying the status and last_error's message): a
// driving stack builds a pruner once at start-up, where failing loudly is right, and the hot
// calls only fail on caller bugs (wrong shapes, NaN input). Handles never leak: Pruner owns a
// std::unique_ptr with fastdrive_pruner_destroy as its deleter, also when a constructor throws.
// Calls on one Pruner must not overlap; separate Pruner objects may run on separate threads.
// request_abort() (any thread) and Options::should_abort stop a running call: it throws
// fastdrive::Error with status FASTDRIVE_ERR_ABORTED and the Pruner stays usable.
// fork and process exit follow the C header's rules (a child inherits working Pruner objects).
#ifndef FASTDRIVE_PRUNER_HPP
#define FASTDRIVE_PRUNER_HPP

#include "fastdrive_pruner.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace fastdrive {

/// A failed call: the C status and the library's message.
class Error : public std::runtime_error {
public:
    Error(fastdrive_status status, const std::string &message)
        : std::runtime_error(std::string(fastdrive_status_string(status)) + ": " + message), status_(status) {}
    fastdrive_status status() const noexcept { return status_; }

private:
    fastdrive_status status_;
};

/// A non-owning contiguous view (std::span's shape, for C++17).
template <typename T>
struct Span {
    T *data = nullptr;
    std::size_t size = 0;
    Span() = default;
    Span(T *d, std::size_t n) : data(d), size(n) {}
    template <typename U>
    Span(std::vector<U> &v) : data(v.data()), size(v.size()) {}
    template <typename U>
    Span(const std::vector<U> &v) : data(v.data()), size(v.size()) {}
};

/// Create-time options; 0 means default in every field. The constructor keeps 1.0's
/// `{max_tokens, num_threads, compute}` brace form working (and free of missing-initializer
/// warnings) now that the struct has more fields.
struct Options {
    Options(std::uint32_t max_tokens_ = 0, std::uint32_t num_threads_ = 0, fastdrive_dtype compute_ = FASTDRIVE_F32)
        : max_tokens(max_tokens_), num_threads(num_threads_), compute(compute_) {}

    std::uint32_t max_tokens = 0;   // 0 = 4096
    std::uint32_t num_threads = 0;  // 0 = the CPUs this process may use (affinity, cgroup quota)
    fastdrive_dtype compute = FASTDRIVE_F32;
    /// Polled on every thread of the handle, possibly at once, every few ms while a call runs;
    /// returning true stops the call (fastdrive_abort_callback's rules: thread-safe, quick, no
    /// calls into the same Pruner). An exception it throws counts as true. Empty = none.
    std::function<bool()> should_abort;
    fastdrive_load load = FASTDRIVE_LOAD_MMAP;                            // or FASTDRIVE_LOAD_READ
    fastdrive_blas_threads blas_threads = FASTDRIVE_BLAS_THREADS_SET_ONE;  // or _RESTORE, _LEAVE
};

/// Tokens as a row-major [n_tokens × dim] matrix of f32, f16 or bf16 elements (a VLA's vision
/// output is usually bf16: pass its bits as they are), optionally row-strided, with its grid.
/// The fields are fastdrive_tokens' fields in fastdrive_tokens' order.
struct Frame {
    const void *data = nullptr;
    fastdrive_dtype dtype = FASTDRIVE_F32;
    std::int64_t n_tokens = 0;
    std::int64_t dim = 0;
    std::int64_t row_stride = 0;          // elements; 0 = dim
    std::int32_t grid_h = 0, grid_w = 0;  // 0 = unknown (required for rope = mrope)

    /// f32 rows.
    static Frame f32(const float *data, std::int64_t n_tokens, std::int64_t dim, std::int32_t grid_h = 0,
                     std::int32_t grid_w = 0, std::int64_t row_stride = 0) noexcept {
        return Frame{data, FASTDRIVE_F32, n_tokens, dim, row_stride, grid_h, grid_w};
    }
    /// bf16 rows, as their 16-bit patterns (e.g. a torch.bfloat16 tensor's or __bf16 storage).
    static Frame bf16(const std::uint16_t *bits, std::int64_t n_tokens, std::int64_t dim, std::int32_t grid_h = 0,
                      std::int32_t grid_w = 0, std::int64_t row_stride = 0) noexcept {
        return Frame{bits, FASTDRIVE_BF16, n_tokens, dim, row_stride, grid_h, grid_w};
    }
    /// IEEE f16 rows, as their 16-bit patterns.
    static Frame f16(const std::uint16_t *bits, std::int64_t n_tokens, std::int64_t dim, std::int32_t grid_h = 0,
                     std::int32_t grid_w = 0, std::int64_t row_stride = 0) noexcept {
        return Frame{bits, FASTDRIVE_F16, n_tokens, dim, row_stride, grid_h, grid_w};
    }

    fastdrive_tokens c_view() const noexcept {
        fastdrive_tokens t{};
        t.data = data;
        t.dtype = dtype;
        t.n_tokens = n_tokens;
        t.dim = dim;
        t.row_stride = row_stride;
        t.grid_h = grid_h;
        t.grid_w = grid_w;
        return t;
    }
};

/// fastdrive_select's parameters; every 0 / empty field takes the library's default.
struct SelectOptions {
    fastdrive_policy policy = FASTDRIVE_POLICY_RECONPRUNER;
    Span<const float> aux;              // [n_tokens]: ATTENTION/VISPRUNER importance, CDPRUNER relevance,
                                        // RECONPRUNER precomputed scores (empty = none)
    double important_ratio = 0;         // VISPRUNER: r in (0, 1]; 0 = 0.5
    std::uint64_t seed = 0;             // RANDOM
    std::int64_t image_pivots = 0;      // DART: 0 = min(4, k)
    std::int64_t text_pivots = 0;       // DART: 0 = min(4, pivot rows)
    const Frame *pivot_rows = nullptr;  // DART: host pivot rows, e.g. text embeddings (optional)
    double relevance_theta = 0;         // CDPRUNER: θ in (0, 1]; 0 = 1
};

/// K for a keep ratio in (0, 1]: floor(ratio · n) clamped to [1, n].
inline std::int64_t keep_count(std::int64_t n, double ratio) {
    std::int64_t k = 0;
    fastdrive_status s = fastdrive_keep_count(n, ratio, &k);
    if (s != FASTDRIVE_OK) throw Error(s, fastdrive_pruner_last_error(nullptr));
    return k;
}

/// A loaded ReconPruner. Movable, not copyable.
class Pruner {
public:
    explicit Pruner(const std::string &weights_path, const Options &options = Options())
        : handle_(nullptr, &fastdrive_pruner_destroy) {
        fastdrive_pruner_options o = fastdrive_pruner_default_options();
        o.max_tokens = options.max_tokens;
        o.num_threads = options.num_threads;
        o.compute = options.compute;
        o.load = options.load;
        o.blas_threads = options.blas_threads;
        if (options.should_abort) {
            // Heap-held so the address the library keeps survives moves of this Pruner.
            should_abort_ = std::make_unique<std::function<bool()>>(options.should_abort);
            o.abort_callback = &Pruner::poll;
            o.abort_user_data = should_abort_.get();
        }
        // c_str() would silently cut the path at an embedded NUL and open another file.
        if (weights_path.find('\0') != std::string::npos)
            throw Error(FASTDRIVE_ERR_INVALID_ARGUMENT, "weights_path contains a NUL byte");
        fastdrive_pruner *p = nullptr;
        fastdrive_status s = fastdrive_pruner_create(weights_path.c_str(), &o, &p);
        if (s != FASTDRIVE_OK) throw Error(s, fastdrive_pruner_last_error(nullptr));
        handle_.reset(p);
    }

    /// The loaded config and capacity.
    fastdrive_pruner_info info() const {
        fastdrive_pruner_info i{};
        i.struct_size = sizeof i;
        check(fastdrive_pruner_describe(handle_.get(), &i));
        return i;
    }

    /// Scores into `out` (out.size >= frame.n_tokens). No allocation.
    void score(const Frame &frame, Span<float> out) {
        // (n_tokens < 1 is the C library's to report.)
        if (frame.n_tokens > 0 && static_cast<std::uint64_t>(out.size) < static_cast<std::uint64_t>(frame.n_tokens))
            throw Error(FASTDRIVE_ERR_INVALID_ARGUMENT, "output span of " + std::to_string(out.size) +
                                                            " floats is smaller than n_tokens = " + std::to_string(frame.n_tokens));
        fastdrive_tokens t = frame.c_view();
        check(fastdrive_pruner_score(handle_.get(), &t, out.data));
    }

    /// The k best of `scores` into `out` (out.size >= k), ascending. No allocation.
    void topk(Span<const float> scores, std::int64_t k, Span<std::int64_t> out) {
        // (k outside 1..n is the C library's to report.)
        if (k > 0 && static_cast<std::uint64_t>(out.size) < static_cast<std::uint64_t>(k))
            throw Error(FASTDRIVE_ERR_INVALID_ARGUMENT, "output span of " + std::to_string(out.size) +
                                                            " indices is smaller than k = " + std::to_string(k));
        check(fastdrive_pruner_topk(handle_.get(), scores.data, static_cast<std::int64_t>(scores.size), k, out.data));
    }

    /// Scores several frames (e.g. a rig's cameras) in one call, their rows stacked for the GEMMs:
    /// out[frame after frame] (out.size >= the frames' n_tokens summed). At most 64 frames; the
    /// handle's max_tokens must hold the sum plus one per extra frame. No allocation.
    void score_batch(Span<const Frame> frames, Span<float> out) {
        constexpr std::size_t max_frames = 64;
        if (frames.size > max_frames)
            throw Error(FASTDRIVE_ERR_INVALID_ARGUMENT, std::to_string(frames.size) + " frames; at most 64 per call");
        std::array<fastdrive_tokens, max_frames> views{};
        std::uint64_t total = 0;
        for (std::size_t i = 0; i < frames.size; i++) {
            views[i] = frames.data[i].c_view();
            if (frames.data[i].n_tokens > 0) total += static_cast<std::uint64_t>(frames.data[i].n_tokens);
        }
        if (static_cast<std::uint64_t>(out.size) < total)
            throw Error(FASTDRIVE_ERR_INVALID_ARGUMENT, "output span of " + std::to_string(out.size) +
                                                            " floats is smaller than the frames' " + std::to_string(total) + " tokens");
        check(fastdrive_pruner_score_batch(handle_.get(), views.data(), static_cast<std::int64_t>(frames.size), out.data));
    }

    /// fastdrive_select: k indices of `frame` by `options.policy` into `out` (out.size >= k),
    /// ascending. No allocation.
    void select(const Frame &frame, std::int64_t k, const SelectOptions &options, Span<std::int64_t> out) {
        if (k > 0 && static_cast<std::uint64_t>(out.size) < static_cast<std::uint64_t>(k))
            throw Error(FASTDRIVE_ERR_INVALID_ARGUMENT, "output span of " + std::to_string(out.size) +
                                                            " indices is smaller than k = " + std::to_string(k));
        fastdrive_tokens t = frame.c_view();
        fastdrive_tokens rows{};
        fastdrive_select_params q{};
        q.struct_size = sizeof q;
        q.policy = options.policy;
        q.k = k;
        q.aux = options.aux.data;
        q.aux_count = static_cast<std::int64_t>(options.aux.size);
        q.important_ratio = options.important_ratio;
        q.seed = options.seed;
        q.image_pivots = options.image_pivots;
        q.text_pivots = options.text_pivots;
        if (options.pivot_rows) {
            rows = options.pivot_rows->c_view();
            q.pivot_rows = &rows;
        }
        q.relevance_theta = options.relevance_theta;
        check(fastdrive_select(handle_.get(), &t, &q, out.data));
    }

    /// Convenience: select, allocating the result (n_tokens and k checked first, as in prune).
    std::vector<std::int64_t> select(const Frame &frame, std::int64_t k, const SelectOptions &options = SelectOptions()) {
        check_counts(frame.n_tokens, k);
        std::vector<std::int64_t> keep(static_cast<std::size_t>(k));
        select(frame, k, options, keep);
        return keep;
    }

    /// Convenience: score + top-K, allocating the result. n_tokens and k are checked against
    /// the handle before anything is allocated, so a bad k is a fastdrive::Error, never a
    /// std::length_error or a huge allocation.
    std::vector<std::int64_t> prune(const Frame &frame, std::int64_t k) {
        check_counts(frame.n_tokens, k);
        const std::int64_t n = frame.n_tokens;
        std::vector<float> scores(static_cast<std::size_t>(n));
        std::vector<std::int64_t> keep(static_cast<std::size_t>(k));
        score(frame, scores);
        topk(scores, k, keep);
        return keep;
    }

    /// Stop the call running on this Pruner now (from any thread) and every later one until
    /// reset_abort(). Must not race with the Pruner's destruction or move.
    void request_abort() { check(fastdrive_pruner_request_abort(handle_.get())); }

    /// Withdraw request_abort(): later calls run again.
    void reset_abort() { check(fastdrive_pruner_reset_abort(handle_.get())); }

    fastdrive_pruner *get() const noexcept { return handle_.get(); }

private:
    /// n_tokens and k against the handle, before a result is allocated for them.
    void check_counts(std::int64_t n, std::int64_t k) const {
        const std::int64_t capacity = info().max_tokens;
        if (n < 1)
            throw Error(FASTDRIVE_ERR_INVALID_ARGUMENT, "frame.n_tokens = " + std::to_string(n) + "; need at least 1 token");
        if (n > capacity)
            throw Error(FASTDRIVE_ERR_CAPACITY, std::to_string(n) + " tokens but the handle was created with max_tokens = " +
                                                    std::to_string(capacity));
        if (k < 1 || k > n)
            throw Error(FASTDRIVE_ERR_INVALID_ARGUMENT, "k = " + std::to_string(k) + " is outside 1...n (n = " + std::to_string(n) + ")");
    }

    void check(fastdrive_status s) const {
        if (s != FASTDRIVE_OK) throw Error(s, fastdrive_pruner_last_error(handle_.get()));
    }

    static bool poll(void *user) noexcept {
        try {
            return (*static_cast<std::function<bool()> *>(user))();
        } catch (...) {
            return true;  // nothing may unwind through the library
        }
    }

    // Declared before handle_, so destroyed after it: the library polls it until destroy.
    std::unique_ptr<std::function<bool()>> should_abort_;
    std::unique_ptr<fastdrive_pruner, decltype(&fastdrive_pruner_destroy)> handle_;
};

}  // namespace fastdrive

#endif
