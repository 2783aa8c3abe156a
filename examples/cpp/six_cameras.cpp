// six_cameras.cpp — a driving stack's step: six camera frames → prune each to 50 % → one LLM buffer.
//
// usage: six_cameras WEIGHTS.safetensors [GRID_SIDE=57] [THREADS=0]
//
// The vision encoder's output is bf16, as a VLA stack usually holds it; the six frames are
// scored in one score_batch call (their rows stacked for the GEMMs). For every camera: keep the
// top half of its scores (ascending indices, original order),
// gather the kept rows of the vision encoder's output into one contiguous buffer for the LLM,
// and give each kept token the 3-D M-RoPE position (t, h, w) it had in the unpruned prompt, as
// Qwen2.5-VL's get_rope_index assigns them: an image that starts after `s` positions puts its
// cell (h, w) at (s, s + h, s + w), and whatever follows it continues from the largest position
// + 1. Pruning drops rows, never moves them. Frames are synthetic here.
#include "fastdrive_pruner.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

struct Position {
    std::int64_t t, h, w;
};

// Each camera's tokens follow a short text marker ("<camera k>") in the prompt.
constexpr std::int64_t text_tokens_per_camera = 4;

// f32 → bf16 bits, round to nearest even (what the encoder's bf16 output would hold).
static std::uint16_t to_bf16(float v) {
    std::uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return static_cast<std::uint16_t>(u >> 16);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s WEIGHTS.safetensors [GRID_SIDE=57] [THREADS=0]\n", argv[0]);
        return 2;
    }
    const int side = argc > 2 ? std::atoi(argv[2]) : 57;
    const std::int64_t n = static_cast<std::int64_t>(side) * side;
    const int cameras = 6;
    try {
        fastdrive::Options options;
        // One batch holds every camera: their tokens plus one separator row between frames.
        options.max_tokens = static_cast<std::uint32_t>(cameras * n + cameras - 1);
        options.num_threads = argc > 3 ? static_cast<std::uint32_t>(std::atoi(argv[3])) : 0;
        fastdrive::Pruner pruner(argv[1], options);
        const std::int64_t d = pruner.info().hidden_size;
        const std::int64_t k = fastdrive::keep_count(n, 0.5);

        // The vision encoder's bf16 output for six cameras, one [n × d] block each.
        std::vector<std::uint16_t> vision(static_cast<std::size_t>(cameras * n * d));
        for (std::size_t i = 0; i < vision.size(); i++)
            vision[i] = to_bf16(static_cast<float>(std::sin(0.0013 * static_cast<double>(i % 104729))));

        std::vector<fastdrive::Frame> frames;
        for (int c = 0; c < cameras; c++)
            frames.push_back(fastdrive::Frame::bf16(vision.data() + static_cast<std::size_t>(c * n * d), n, d, side, side));
        std::vector<float> scores(static_cast<std::size_t>(cameras * n));  // frame after frame
        std::vector<std::int64_t> keep(static_cast<std::size_t>(k));
        std::vector<std::uint16_t> llm_tokens;         // kept bf16 rows of all cameras, camera-major
        std::vector<Position> llm_positions;           // M-RoPE (t, h, w) of each kept row
        std::int64_t next = 0;                         // next free position in the prompt
        llm_tokens.reserve(static_cast<std::size_t>(cameras * k * d));
        llm_positions.reserve(static_cast<std::size_t>(cameras * k));

        const auto start = std::chrono::steady_clock::now();
        pruner.score_batch(frames, scores);
        for (int c = 0; c < cameras; c++) {
            pruner.topk(fastdrive::Span<const float>(scores.data() + static_cast<std::size_t>(c * n), static_cast<std::size_t>(n)),
                        k, keep);
            const std::int64_t s = next + text_tokens_per_camera;  // text marker, then the image
            const std::uint16_t *camera = vision.data() + static_cast<std::size_t>(c * n * d);
            for (std::int64_t i : keep) {
                const std::uint16_t *row = camera + i * d;
                llm_tokens.insert(llm_tokens.end(), row, row + d);
                llm_positions.push_back({s, s + i / side, s + i % side});
            }
            next = s + side;  // max(h, w) + 1 of the unpruned image, whichever tokens were kept
        }
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

        std::printf("%d cameras x %lld tokens -> %zu tokens for the LLM (%lld per camera), %.1f ms total, %.1f ms per camera\n",
                    cameras, static_cast<long long>(n), llm_positions.size(), static_cast<long long>(k), ms, ms / cameras);
        const Position &first = llm_positions.front(), &last = llm_positions.back();
        std::printf("first kept token at M-RoPE (t=%lld, h=%lld, w=%lld), last at (t=%lld, h=%lld, w=%lld); buffer %zu bf16 values\n",
                    static_cast<long long>(first.t), static_cast<long long>(first.h), static_cast<long long>(first.w),
                    static_cast<long long>(last.t), static_cast<long long>(last.h), static_cast<long long>(last.w),
                    llm_tokens.size());
        return llm_tokens.size() == static_cast<std::size_t>(cameras * k * d) ? 0 : 1;
    } catch (const fastdrive::Error &e) {
        std::fprintf(stderr, "fastdrive: %s\n", e.what());
        return 1;
    }
}
