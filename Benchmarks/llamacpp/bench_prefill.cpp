// bench_prefill.cpp — one camera frame's prefill in llama.cpp, unpruned and ReconPruner-pruned, plus the pruner's cost.
//
//   bench_prefill MODEL.gguf PRUNER.safetensors [--side 57] [--keep 1,0.75,0.5,0.25] [--repeats 3]
//                 [--threads 2] [--text 5,80] [--json OUT.json]
//   bench_prefill MODEL.gguf PRUNER.safetensors --memory KEEP [--side 57] [--threads 2] [--text 5,80]
//   bench_prefill --quantize IN.gguf OUT.gguf q8_0|bf16|f16
//
// The frame: side × side visual tokens (57 × 57 = 3249, one 1596×1596 camera after Qwen2.5-VL's
// 2×2 merge), random embeddings of the model's input size, injected through the batch path the
// example uses (fastdrive_llama::decode_rows: llama_batch_ext embeddings with M-RoPE positions, the
// positions mtmd gives an image), between a short text prefix and an instruction suffix. The vision
// tower costs the same with and without pruning and is not run.
//
// Timing mode: for each repeat, in turn, one prefill per keep ratio (KV cache cleared before each;
// text prefix, the kept rows, text suffix with the last logits) and one score + top-K of the frame
// with an f32 and a bf16 pruner handle; runs are interleaved so machine noise spreads over all of
// them. Prints every sample, the fastest and the median, and that the runtimes took turns: the
// pruner's workers' CPU time during the prefills, and the other threads alive while it scored.
// Memory mode: one prefill at one keep ratio in a fresh process, weights loaded without mmap; prints
// the resident-set growth of the pruner (weights + arena) and of the prefill (KV cache + compute
// buffers + batch), each as the peak over the RSS before it.
#include "pruned_eval.hpp"
#include "thread_census.hpp"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

namespace {

[[noreturn]] void die(const std::string &m) {
    std::fprintf(stderr, "bench_prefill: %s\n", m.c_str());
    std::exit(2);
}

std::vector<double> numbers(const std::string &csv) {
    std::vector<double> out;
    std::stringstream ss(csv);
    for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stod(item));
    return out;
}

long status_kb(const char *field) {  // VmRSS / VmHWM of this process, in kB
    std::ifstream f("/proc/self/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field) + 1));
    return -1;
}

void reset_peak_rss() {  // Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS
    std::ofstream("/proc/self/clear_refs") << "5";
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

struct Frame {
    std::int32_t side = 57;
    std::vector<float> embd;                 // [side² × n_embd]
    std::vector<llama_token> before, after;  // text around the image
};

// One prompt: text prefix, the kept rows of the frame, text suffix; the KV cache starts empty.
double prefill_ms(llama_context *ctx, const Frame &f, const std::vector<std::int64_t> &kept) {
    llama_memory_clear(llama_get_memory(ctx), true);
    const std::int32_t n_batch = static_cast<std::int32_t>(llama_n_batch(ctx));
    const auto t0 = std::chrono::steady_clock::now();
    llama_pos n_past = 0;
    fastdrive_llama::decode_text(ctx, f.before.data(), f.before.size(), n_past, 0, n_batch, false);
    std::vector<mtmd_decoder_pos> pos(static_cast<std::size_t>(f.side) * f.side);
    for (std::size_t i = 0; i < pos.size(); i++)  // what mtmd gives a side × side image at n_past
        pos[i] = {static_cast<std::uint32_t>(n_past), static_cast<std::uint32_t>(n_past + i % f.side),
                  static_cast<std::uint32_t>(n_past + i / f.side), 0};
    fastdrive_llama::decode_rows(ctx, f.embd.data(), kept, pos, 0, n_batch);
    n_past += f.side;
    fastdrive_llama::decode_text(ctx, f.after.data(), f.after.size(), n_past, 0, n_batch, true);
    llama_synchronize(ctx);
    return fastdrive_llama::ms_since(t0);
}

}  // namespace

int main(int argc, char **argv) {
    llama_log_set([](ggml_log_level level, const char *t, void *) {
        if (level >= GGML_LOG_LEVEL_WARN) std::fputs(t, stderr);
    }, nullptr);
    if (argc >= 2 && std::string(argv[1]) == "--quantize") {
        if (argc != 5) die("--quantize IN.gguf OUT.gguf q8_0|bf16|f16");
        const std::map<std::string, llama_ftype> types = {
            {"q8_0", LLAMA_FTYPE_MOSTLY_Q8_0}, {"bf16", LLAMA_FTYPE_MOSTLY_BF16}, {"f16", LLAMA_FTYPE_MOSTLY_F16}};
        if (!types.count(argv[4])) die(std::string("unknown type ") + argv[4]);
        llama_backend_init();
        llama_model_quantize_params qp = llama_model_quantize_default_params();
        qp.ftype = types.at(argv[4]);
        qp.nthread = static_cast<std::int32_t>(std::thread::hardware_concurrency());
        return llama_model_quantize(argv[2], argv[3], &qp) == 0 ? 0 : 1;
    }
    if (argc < 3) die("usage: bench_prefill MODEL.gguf PRUNER.safetensors [options] (see the file's header)");
    const std::string model_path = argv[1], pruner_path = argv[2];
    Frame f;
    std::vector<double> keeps = {1.0, 0.75, 0.5, 0.25};
    std::vector<double> text = {5, 80};
    int repeats = 3, threads = 2;
    double memory_keep = -1;
    std::string json_path;
    for (int i = 3; i < argc; i++) {
        const std::string opt = argv[i];
        if (i + 1 >= argc) die(opt + " needs a value");
        const std::string v = argv[++i];
        if (opt == "--side") f.side = std::stoi(v);
        else if (opt == "--keep") keeps = numbers(v);
        else if (opt == "--repeats") repeats = std::stoi(v);
        else if (opt == "--threads") threads = std::stoi(v);
        else if (opt == "--text") text = numbers(v);
        else if (opt == "--memory") memory_keep = std::stod(v);
        else if (opt == "--json") json_path = v;
        else die("unknown option " + opt);
    }
    const std::int64_t n = static_cast<std::int64_t>(f.side) * f.side;
    llama_backend_init();

    const long rss_start = status_kb("VmRSS:");
    llama_model_params mp = llama_model_default_params();
    if (memory_keep >= 0) mp.load_mode = LLAMA_LOAD_MODE_NONE;  // memory mode: weights read in at load, not paged in by the prefill
    llama_model *model = llama_model_load_from_file(model_path.c_str(), mp);
    if (!model) die("cannot load " + model_path);
    const std::int64_t n_embd = llama_model_n_embd_inp(model);

    // the frame and the text around it (token ids of a driving instruction, repeated to length)
    std::mt19937 rng(15);
    std::normal_distribution<float> normal(0.f, 1.f);
    f.embd.resize(static_cast<std::size_t>(n * n_embd));
    for (float &x : f.embd) x = normal(rng);
    const llama_vocab *vocab = llama_model_get_vocab(model);
    const std::string words =
        "You are the driver. Describe the vehicles, pedestrians, lanes and traffic lights in the front camera, then "
        "give the next three waypoints and the speed, and explain the decision step by step. ";
    std::vector<llama_token> ids(512);
    ids.resize(static_cast<std::size_t>(
        llama_tokenize(vocab, words.c_str(), static_cast<std::int32_t>(words.size()), ids.data(), 512, false, false)));
    for (std::size_t i = 0; i < static_cast<std::size_t>(text[0] + text[1]); i++)
        (i < text[0] ? f.before : f.after).push_back(ids[i % ids.size()]);

    const std::uint32_t seq_max = static_cast<std::uint32_t>(f.before.size() + f.after.size() + n);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (seq_max + 255) / 256 * 256;
    cp.n_threads = cp.n_threads_batch = threads;
    llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) die("cannot create a context");

    auto open_pruner = [&](fastdrive_dtype compute) {
        fastdrive::Options o;
        o.max_tokens = static_cast<std::uint32_t>(n);
        o.num_threads = static_cast<std::uint32_t>(threads);
        o.compute = compute;
        return fastdrive::Pruner(pruner_path, o);
    };
    fastdrive::Frame frame;
    frame.data = f.embd.data();
    frame.n_tokens = n;
    frame.dim = n_embd;
    frame.grid_h = frame.grid_w = f.side;
    std::vector<float> scores(static_cast<std::size_t>(n));

    if (memory_keep >= 0) {  // ---- one configuration, its peak memory
        const std::int64_t k = fastdrive::keep_count(n, memory_keep);
        std::vector<std::int64_t> kept(static_cast<std::size_t>(k));
        malloc_trim(0);
        const long rss_loaded = status_kb("VmRSS:");
        reset_peak_rss();
        long pruner_kb = 0;
        if (k < n) {
            fastdrive::Pruner pruner = open_pruner(FASTDRIVE_F32);
            pruner.score(frame, scores);
            pruner.topk(scores, k, kept);
            pruner_kb = status_kb("VmHWM:") - rss_loaded;
        } else {
            std::iota(kept.begin(), kept.end(), std::int64_t{0});
        }
        malloc_trim(0);
        const long rss_before = status_kb("VmRSS:");
        reset_peak_rss();
        const double ms = prefill_ms(ctx, f, kept);
        const long prefill_kb = status_kb("VmHWM:") - rss_before;
        std::printf("{\"keep\": %g, \"kept\": %lld, \"seq_len\": %zu, \"prefill_ms\": %.1f, \"weights_mb\": %.1f, "
                    "\"pruner_mb\": %.1f, \"prefill_mb\": %.1f}\n",
                    memory_keep, static_cast<long long>(k), f.before.size() + f.after.size() + static_cast<std::size_t>(k),
                    ms, (rss_loaded - rss_start) / 1024.0, pruner_kb / 1024.0, prefill_kb / 1024.0);
        llama_free(ctx);
        llama_model_free(model);
        return 0;
    }

    // ---- timing: keep ratios and the pruner's own cost, interleaved
    const std::vector<long> before_pruners = thread_census::tids();
    fastdrive::Pruner p32 = open_pruner(FASTDRIVE_F32);
    fastdrive::Pruner p16 = open_pruner(FASTDRIVE_BF16);
    const std::vector<long> pruner_workers = thread_census::started(before_pruners, thread_census::tids());
    p32.score(frame, scores);  // the kept sets come from the f32 scores
    std::vector<std::vector<std::int64_t>> kept;
    for (double keep : keeps) {
        kept.emplace_back(static_cast<std::size_t>(fastdrive::keep_count(n, keep)));
        p32.topk(scores, static_cast<std::int64_t>(kept.back().size()), kept.back());
    }
    prefill_ms(ctx, f, kept.back());  // warm-up: page the weights in, size the buffers

    // Threads take turns: the pruner's workers use no CPU time during the prefills, and no other
    // thread exists while the pruner scores (a monitor thread looks while it does).
    const std::vector<long> base = thread_census::tids();
    long pruner_ticks = 0;
    std::atomic<bool> scoring{false}, stop{false};
    std::atomic<long> monitor_tid{0};
    std::atomic<std::size_t> others{0};
    std::thread monitor([&] {
        monitor_tid = static_cast<long>(gettid());
        while (!stop) {
            if (scoring) {
                std::vector<long> extra = thread_census::started(base, thread_census::tids());
                extra.erase(std::remove(extra.begin(), extra.end(), monitor_tid.load()), extra.end());
                others = std::max(others.load(), extra.size());
            }
            usleep(500);
        }
    });
    std::vector<std::vector<double>> prefill(keeps.size());
    std::vector<double> score32, score16;
    for (int r = 0; r < repeats; r++) {
        for (std::size_t i = 0; i < keeps.size(); i++) {
            const long t0 = thread_census::cpu_ticks(pruner_workers);
            prefill[i].push_back(prefill_ms(ctx, f, kept[i]));
            pruner_ticks += thread_census::cpu_ticks(pruner_workers) - t0;
            std::fprintf(stderr, "repeat %d keep %.2f: prefill %.0f ms\n", r, keeps[i], prefill[i].back());
        }
        for (auto *p : {&p32, &p16}) {
            std::vector<std::int64_t> top(kept[kept.size() / 2].size());
            scoring = true;
            const auto t0 = std::chrono::steady_clock::now();
            p->score(frame, scores);
            p->topk(scores, static_cast<std::int64_t>(top.size()), top);
            (p == &p32 ? score32 : score16).push_back(fastdrive_llama::ms_since(t0));
            scoring = false;
        }
        std::fprintf(stderr, "repeat %d pruner: f32 %.0f ms, bf16 %.0f ms\n", r, score32.back(), score16.back());
    }
    stop = true;
    monitor.join();

    std::ostringstream js;
    auto samples = [&](const std::vector<double> &v) {
        std::ostringstream s;
        s << "{\"fastest\": " << *std::min_element(v.begin(), v.end()) << ", \"median\": " << median(v) << ", \"samples\": [";
        for (std::size_t i = 0; i < v.size(); i++) s << (i ? ", " : "") << v[i];
        s << "]}";
        return s.str();
    };
    char desc[256];
    llama_model_desc(model, desc, sizeof desc);
    js << "{\"model\": \"" << desc << "\", \"layers\": " << llama_model_n_layer(model) << ", \"n_embd\": " << n_embd
       << ", \"tokens\": " << n << ", \"side\": " << f.side << ", \"text_tokens\": " << f.before.size() + f.after.size()
       << ", \"threads\": " << threads << ", \"n_batch\": " << llama_n_batch(ctx) << ", \"n_ubatch\": "
       << llama_n_ubatch(ctx) << ", \"repeats\": " << repeats << ", \"pruner_ticks_during_prefill\": " << pruner_ticks
       << ", \"other_threads_during_score\": " << others.load()
       << ", \"prefill\": [";
    for (std::size_t i = 0; i < keeps.size(); i++)
        js << (i ? ", " : "") << "{\"keep\": " << keeps[i] << ", \"kept\": " << kept[i].size() << ", \"seq_len\": "
           << f.before.size() + f.after.size() + kept[i].size() << ", \"ms\": " << samples(prefill[i]) << "}";
    js << "], \"pruner_ms\": {\"f32\": " << samples(score32) << ", \"bf16\": " << samples(score16) << "}}\n";
    std::fputs(js.str().c_str(), stdout);
    if (!json_path.empty()) std::ofstream(json_path) << js.str();
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
