// mtmd_prune.cpp — llama.cpp + libmtmd running Qwen2.5-VL with ReconPruner between the image encoder and the LLM.
//
// usage: mtmd_prune -m MODEL.gguf --mmproj MMPROJ.gguf --pruner PRUNER.safetensors --image A.png
//                   [--image B.png ...] [-p PROMPT] [--keep-ratio 0.5] [-n 16] [-t THREADS]
//                   [--pruner-compute f32|bf16|int8] [--compare] [-v]
//
// The prompt holds one media marker (<__media__>) per image, where the image goes; without markers
// the images go first, as in llama-mtmd-cli. The flow is llama-mtmd-cli's with one step added:
//
//   load       llama_model_load_from_file, mtmd_init_from_file, fastdrive::Pruner
//   tokenize   mtmd_tokenize → text chunks and one image chunk per image
//   check      every input problem is reported here, before anything is decoded
//   prefill    fastdrive_llama::eval_chunks_pruned (pruned_eval.hpp): text as mtmd's helper decodes
//              it; each image encoded, scored by the pruner, and only its top-K rows decoded, at the
//              positions mtmd gives them in the unpruned prompt
//   generate   greedy, from the position the unpruned prompt would continue at
//
// --compare then runs llama.cpp's own unpruned path (mtmd_helper_eval_chunks) on the same prompt and
// reports how far its logits are from the pruned run's (at --keep-ratio 1 they are bit-identical).
// Exit status: 0 done, 2 bad arguments or inputs (reported before anything is decoded), 1 a failure later.
#include "pruned_eval.hpp"

#include "gguf.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Args {
    std::string model, mmproj, pruner, prompt = "Describe the road ahead.";
    std::vector<std::string> images;
    double keep_ratio = 0.5;
    int n_predict = 16;
    int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    fastdrive_dtype compute = FASTDRIVE_F32;
    bool compare = false, verbose = false;
};

[[noreturn]] void input_error(const std::string &message) {  // exit 2: nothing was decoded
    std::fprintf(stderr, "mtmd_prune: %s\n", message.c_str());
    std::exit(2);
}

[[noreturn]] void usage_error(const std::string &message) {
    std::fprintf(stderr, "mtmd_prune: %s\n", message.c_str());
    std::fprintf(stderr,
                 "usage: mtmd_prune -m MODEL.gguf --mmproj MMPROJ.gguf --pruner PRUNER.safetensors --image FILE "
                 "[--image FILE ...]\n"
                 "                  [-p PROMPT] [--keep-ratio R in (0,1]] [-n N_PREDICT] [-t THREADS] "
                 "[--pruner-compute f32|bf16|int8] [--compare] [-v]\n");
    std::exit(2);
}

Args parse(int argc, char **argv) {
    Args a;
    for (int i = 1; i < argc; i++) {
        const std::string opt = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(opt + " needs a value");
            return argv[++i];
        };
        auto number = [&](const std::string &text) {
            char *end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0') usage_error(opt + " expects a number, got '" + text + "'");
            return v;
        };
        if (opt == "-m" || opt == "--model") a.model = value();
        else if (opt == "--mmproj") a.mmproj = value();
        else if (opt == "--pruner") a.pruner = value();
        else if (opt == "--image") a.images.push_back(value());
        else if (opt == "-p" || opt == "--prompt") a.prompt = value();
        else if (opt == "--keep-ratio") a.keep_ratio = number(value());
        else if (opt == "-n" || opt == "--n-predict") a.n_predict = static_cast<int>(number(value()));
        else if (opt == "-t" || opt == "--threads") a.threads = static_cast<int>(number(value()));
        else if (opt == "--pruner-compute") {
            const std::string c = value();
            if (c != "f32" && c != "bf16" && c != "int8")
                usage_error("--pruner-compute is f32, bf16 or int8, got '" + c + "'");
            a.compute = c == "bf16" ? FASTDRIVE_BF16 : c == "int8" ? FASTDRIVE_INT8 : FASTDRIVE_F32;
        } else if (opt == "--compare") a.compare = true;
        else if (opt == "-v" || opt == "--verbose") a.verbose = true;
        else usage_error("unknown argument '" + opt + "'");
    }
    if (a.model.empty() || a.mmproj.empty() || a.pruner.empty()) usage_error("-m, --mmproj and --pruner are required");
    if (a.images.empty()) usage_error("give at least one --image");
    // !(x > 0) also catches NaN
    if (!(a.keep_ratio > 0.0) || a.keep_ratio > 1.0) {
        char got[32];
        std::snprintf(got, sizeof got, "%g", a.keep_ratio);
        usage_error(std::string("--keep-ratio must be in (0, 1], got ") + got);
    }
    if (a.threads < 1) usage_error("--threads must be at least 1");
    if (a.n_predict < 1) usage_error("--n-predict must be at least 1");
    return a;
}

// An image narrower or lower than one merged patch (patch size × spatial merge, 28 px for Qwen2.5-VL)
// holds less than one visual token of content; mtmd would stretch it up to its minimum token count,
// so every token would be interpolated pixels. Such a frame is refused rather than scored. The
// sizes come from the mmproj's metadata.
int min_image_side(const std::string &mmproj) {
    gguf_init_params params = {/*no_alloc*/ true, /*ctx*/ nullptr};
    gguf_context *g = gguf_init_from_file(mmproj.c_str(), params);
    if (!g) input_error("cannot read " + mmproj + " as GGUF");
    auto u32 = [&](const char *key, std::uint32_t fallback) {
        const std::int64_t id = gguf_find_key(g, key);
        return id < 0 ? fallback : gguf_get_val_u32(g, id);
    };
    const int side = static_cast<int>(u32("clip.vision.patch_size", 14) * u32("clip.vision.spatial_merge_size", 2));
    gguf_free(g);
    return side;
}

std::string piece(const llama_vocab *vocab, llama_token t) {
    char buf[256];
    const int n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, true);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

void quiet_log(ggml_log_level level, const char *text, void *) {
    if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
}

}  // namespace

int main(int argc, char **argv) {
    const Args a = parse(argc, argv);
    if (!a.verbose) {
        llama_log_set(quiet_log, nullptr);
        mtmd_helper_log_set(quiet_log, nullptr);
    }
    llama_backend_init();

    // ---- load: the LLM's weights, the vision tower (mmproj), then the images
    llama_model_params mp = llama_model_default_params();
    std::unique_ptr<llama_model, decltype(&llama_model_free)> model(llama_model_load_from_file(a.model.c_str(), mp),
                                                                     &llama_model_free);
    if (!model) input_error("cannot load the model " + a.model);
    mtmd_context_params mtp = mtmd_context_params_default();
    mtp.use_gpu = false;
    mtp.n_threads = a.threads;
    mtp.print_timings = a.verbose;
    mtp.warmup = false;
    std::unique_ptr<mtmd_context, decltype(&mtmd_free)> mctx(mtmd_init_from_file(a.mmproj.c_str(), model.get(), mtp),
                                                             &mtmd_free);
    if (!mctx) input_error("cannot load the vision projector " + a.mmproj);

    const int min_side = min_image_side(a.mmproj);
    std::vector<std::unique_ptr<mtmd_bitmap, decltype(&mtmd_bitmap_free)>> bitmaps;
    for (const std::string &path : a.images) {
        mtmd_helper_bitmap_wrapper w =
            mtmd_helper_bitmap_init_from_file(mctx.get(), path.c_str(), false, mtmd_helper_init_opt_default());
        if (!w.bitmap) input_error("cannot read the image " + path);
        bitmaps.emplace_back(w.bitmap, &mtmd_bitmap_free);
        const std::uint32_t nx = mtmd_bitmap_get_nx(w.bitmap), ny = mtmd_bitmap_get_ny(w.bitmap);
        if (static_cast<int>(nx) < min_side || static_cast<int>(ny) < min_side)
            input_error("the image " + path + " is " + std::to_string(nx) + "x" + std::to_string(ny) +
                        " px, smaller than one merged patch of this model (" + std::to_string(min_side) + "x" +
                        std::to_string(min_side) + " px)");
    }

    // ---- tokenize: text and one chunk per image
    std::string prompt = a.prompt;
    const std::string marker = mtmd_default_marker();
    std::size_t markers = 0;
    for (std::size_t at = prompt.find(marker); at != std::string::npos; at = prompt.find(marker, at + marker.size()))
        markers++;
    if (markers == 0)
        for (std::size_t i = 0; i < a.images.size(); i++) prompt = marker + prompt;
    else if (markers != a.images.size())
        input_error("the prompt has " + std::to_string(markers) + " media marker(s) (" + marker + ") for " +
                    std::to_string(a.images.size()) + " --image file(s)");
    mtmd_input_text text = {prompt.c_str(), prompt.size(), /*add_special*/ true, /*parse_special*/ true};
    std::vector<const mtmd_bitmap *> raw;
    for (const auto &b : bitmaps) raw.push_back(b.get());
    std::unique_ptr<mtmd_input_chunks, decltype(&mtmd_input_chunks_free)> chunks(mtmd_input_chunks_init(),
                                                                                 &mtmd_input_chunks_free);
    if (const std::int32_t rc = mtmd_tokenize(mctx.get(), chunks.get(), &text, raw.data(), raw.size()))
        input_error("mtmd_tokenize failed (" + std::to_string(rc) + "): the images could not be preprocessed");

    // ---- the LLM context, with KV cells for the whole unpruned prompt (--compare needs them) and the answer
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<std::uint32_t>((mtmd_helper_get_n_tokens(chunks.get()) + a.n_predict + 255) / 256 * 256);
    cp.n_threads = cp.n_threads_batch = a.threads;
    std::unique_ptr<llama_context, decltype(&llama_free)> lctx(llama_init_from_model(model.get(), cp), &llama_free);
    if (!lctx) input_error("cannot create a llama context of " + std::to_string(cp.n_ctx) + " tokens");

    // ---- the pruner, sized for the largest image, and every input check
    std::unique_ptr<fastdrive::Pruner> pruner;
    try {
        std::uint32_t largest = 1;
        for (std::size_t i = 0; i < mtmd_input_chunks_size(chunks.get()); i++) {
            const mtmd_input_chunk *chunk = mtmd_input_chunks_get(chunks.get(), i);
            if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_IMAGE)
                largest = std::max(largest, static_cast<std::uint32_t>(mtmd_input_chunk_get_n_tokens(chunk)));
        }
        fastdrive::Options options;
        options.max_tokens = largest;
        options.num_threads = static_cast<std::uint32_t>(a.threads);
        options.compute = a.compute;
        pruner = std::make_unique<fastdrive::Pruner>(a.pruner, options);
        fastdrive_llama::check_inputs(mctx.get(), model.get(), chunks.get(), *pruner);
    } catch (const fastdrive::Error &e) {
        input_error(std::string("pruner: ") + e.what());
    } catch (const std::exception &e) {
        input_error(e.what());
    }

    try {
        // ---- prefill with pruned images, then greedy generation
        const std::int32_t n_batch = static_cast<std::int32_t>(llama_n_batch(lctx.get()));
        fastdrive_llama::EvalReport report;
        const auto t0 = std::chrono::steady_clock::now();
        const llama_pos n_past = fastdrive_llama::eval_chunks_pruned(
            mctx.get(), lctx.get(), chunks.get(), *pruner, a.keep_ratio, 0, 0, n_batch, true, &report);
        const double prefill_ms = fastdrive_llama::ms_since(t0);
        std::vector<std::vector<float>> steps;  // each step's logits, kept for --compare
        const auto t1 = std::chrono::steady_clock::now();
        const std::vector<llama_token> out = fastdrive_llama::generate_greedy(
            lctx.get(), n_past, 0, a.n_predict, [&](const float *logits, std::int32_t n) {
                if (a.compare) steps.emplace_back(logits, logits + n);
            });
        const double generate_ms = fastdrive_llama::ms_since(t1);

        // ---- report
        std::int64_t rows = 0, kept = 0;
        double encode_ms = 0, prune_ms = 0, decode_ms = 0;
        for (std::size_t i = 0; i < report.images.size(); i++) {
            const fastdrive_llama::ImageReport &im = report.images[i];
            std::printf("image %zu: %dx%d grid, %lld tokens -> kept %zu   encode %.1f ms, prune %.1f ms, decode %.1f ms\n",
                        i, im.grid_h, im.grid_w, static_cast<long long>(im.n_tokens), im.kept.size(), im.encode_ms,
                        im.prune_ms, im.decode_ms);
            rows += im.n_tokens;
            kept += static_cast<std::int64_t>(im.kept.size());
            encode_ms += im.encode_ms;
            prune_ms += im.prune_ms;
            decode_ms += im.decode_ms;
        }
        std::printf("prompt: %lld text tokens + %lld of %lld image rows decoded, next position %d (keep ratio %g)\n",
                    static_cast<long long>(report.text_tokens), static_cast<long long>(kept),
                    static_cast<long long>(rows), n_past, a.keep_ratio);
        std::printf("prefill %.1f ms: text %.1f ms, image encode %.1f ms, prune %.1f ms, image rows %.1f ms\n", prefill_ms,
                    report.text_ms, encode_ms, prune_ms, decode_ms);
        const llama_vocab *vocab = llama_model_get_vocab(model.get());
        std::string ids, words;
        for (llama_token t : out) {
            ids += (ids.empty() ? "" : " ") + std::to_string(t);
            words += piece(vocab, t);
        }
        std::printf("generated %zu tokens in %.1f ms: %s\n", out.size(), generate_ms, ids.c_str());
        std::printf("text: %s\n", words.c_str());

        if (a.compare) {  // llama.cpp's own path on the same prompt, from an empty KV cache
            llama_memory_clear(llama_get_memory(lctx.get()), true);
            llama_pos ref_past = 0;
            if (mtmd_helper_eval_chunks(mctx.get(), lctx.get(), chunks.get(), 0, 0, n_batch, true, &ref_past) != 0)
                throw std::runtime_error("mtmd_helper_eval_chunks failed");
            float first_diff = 0;
            std::size_t step = 0, identical = 0;
            const std::vector<llama_token> ref = fastdrive_llama::generate_greedy(
                lctx.get(), ref_past, 0, a.n_predict, [&](const float *logits, std::int32_t n) {
                    if (step < steps.size()) {
                        const std::vector<float> &mine = steps[step];
                        identical += std::memcmp(mine.data(), logits, sizeof(float) * static_cast<std::size_t>(n)) == 0;
                        if (step == 0)
                            for (std::int32_t i = 0; i < n; i++) first_diff = std::max(first_diff, std::fabs(logits[i] - mine[i]));
                    }
                    step++;
                });
            std::size_t same = 0;
            while (same < ref.size() && same < out.size() && ref[same] == out[same]) same++;
            std::string ref_ids;
            for (llama_token t : ref) ref_ids += (ref_ids.empty() ? "" : " ") + std::to_string(t);
            std::printf("unpruned (mtmd_helper_eval_chunks): %s\n", ref_ids.c_str());
            std::printf("first-step logits: max |pruned - unpruned| = %g; logits bit-identical at %zu of %zu steps; "
                        "first %zu generated tokens agree\n", first_diff, identical, step, same);
        }
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "mtmd_prune: %s\n", e.what());
        return 1;
    }
}
