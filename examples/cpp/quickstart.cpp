// quickstart.cpp — the README's "Use from C++" snippet as a complete program (built and run by ctest).
//
// usage: quickstart_cpp PRUNER.safetensors GRID_SIDE HIDDEN_SIZE
#include "fastdrive_pruner.hpp"

#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    const std::int32_t side = std::atoi(argv[2]);
    const std::int64_t d = std::atoll(argv[3]), n = static_cast<std::int64_t>(side) * side;
    std::vector<float> frame(static_cast<std::size_t>(n * d), 0.5f);
    const float *vision_out = frame.data();
    try {
        fastdrive::Pruner pruner(argv[1], {/*max_tokens*/ 3249, /*threads*/ 0});
        fastdrive::Frame view = fastdrive::Frame::f32(vision_out, n, d, side, side);
        std::vector<std::int64_t> keep = pruner.prune(view, fastdrive::keep_count(n, 0.5));
        std::printf("kept %zu of %lld tokens\n", keep.size(), static_cast<long long>(n));
    } catch (const fastdrive::Error &e) {  // status + the library's message; no handle leaks
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
