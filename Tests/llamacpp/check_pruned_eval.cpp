// check_pruned_eval.cpp — checks examples/llamacpp/pruned_eval.hpp inside llama.cpp, against llama.cpp itself.
//
// usage: check_pruned_eval MODEL.gguf MMPROJ.gguf PRUNER.safetensors IMAGE_A IMAGE_B OUT_DIR [THREADS=2]
//
// One prompt with text before, between and after two images of different grids. Checks:
//  1. keep ratio 1: every generated step's logits are bit-identical to llama.cpp's own unpruned
//     path (mtmd_helper_eval_chunks), with the default batch size and with one small enough that
//     text and images are split over several llama_process calls and ubatches;
//  2. keep ratio 0.5: what llama.cpp's graph receives (observed in the eval callback: the rows fed
//     to layer 0 and the positions fed to its RoPE) is, image by image, exactly the rows of the
//     runtime's own top-K (a separate handle through the C API, scoring mtmd's embeddings) with
//     the (t, h, w) positions mtmd gives those rows unpruned; text tokens and generated tokens
//     sit at their unpruned positions; generation runs;
//  3. threads: while mtmd and llama.cpp run, the pruner's workers use no CPU time; while the pruner
//     scores, no other runtime's thread exists; no ggml thread outlives a call.
// Writes OUT_DIR/*.npy + prompt.json for the transformers comparison (test_llamacpp.py).
#include "pruned_eval.hpp"
#include "thread_census.hpp"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

int failures = 0;
#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            failures++;                                               \
            std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            std::fprintf(stderr, __VA_ARGS__);                        \
            std::fprintf(stderr, "\n");                               \
        }                                                             \
    } while (0)

const char *kPrompt =
    "<|im_start|>user\nThe front camera: <__media__> and the rear camera: <__media__>. "
    "Should the car slow down?<|im_end|>\n<|im_start|>assistant\n";
constexpr int kSteps = 8;

struct Setup {
    llama_model *model = nullptr;
    mtmd_context *mctx = nullptr;
    mtmd_input_chunks *chunks = nullptr;
    std::vector<mtmd_bitmap *> bitmaps;
    std::string pruner_path;
    int threads = 2;
};

// What layer 0 of one ubatch received: its input rows and its RoPE positions (section-major).
struct Ubatch {
    std::int64_t n = 0, n_embd = 0;
    std::vector<float> rows;
    std::vector<std::int32_t> pos;
};

struct Observer {
    std::vector<Ubatch> ubatches;
    Ubatch pending;
};

// Layer 0's attention RMSNorm reads the ubatch's input rows; the RoPE of its Q reads inp_pos.
// (Several nodes share a name, e.g. "Qcur-0" is the projection, its bias add, reshape and RoPE.)
bool is_input_norm(const ggml_tensor *t) {
    return t->op == GGML_OP_RMS_NORM && std::strcmp(t->name, "norm-0") == 0 && std::strcmp(t->src[0]->name, "ffn_inp-0") != 0;
}
bool is_q_rope(const ggml_tensor *t) {
    return t->op == GGML_OP_ROPE && std::strcmp(t->name, "Qcur-0") == 0 && t->src[1] &&
           std::strcmp(t->src[1]->name, "inp_pos") == 0;
}

bool observe(ggml_tensor *t, bool ask, void *user) {
    auto *o = static_cast<Observer *>(user);
    if (ask) return is_input_norm(t) || is_q_rope(t);
    if (is_input_norm(t)) {
        const ggml_tensor *in = t->src[0];
        o->pending = Ubatch();
        o->pending.n_embd = in->ne[0];
        o->pending.n = in->ne[1];
        o->pending.rows.resize(static_cast<std::size_t>(in->ne[0] * in->ne[1]));
        std::memcpy(o->pending.rows.data(), in->data, o->pending.rows.size() * sizeof(float));
    } else if (is_q_rope(t)) {
        const ggml_tensor *p = t->src[1];
        o->pending.pos.resize(static_cast<std::size_t>(p->ne[0]));
        std::memcpy(o->pending.pos.data(), p->data, o->pending.pos.size() * sizeof(std::int32_t));
        o->ubatches.push_back(std::move(o->pending));
    }
    return true;
}

// f32: K/V cache in f32 and no flash attention, for the comparison with transformers' f32 model
// (ggml's CPU flash attention works in f16: 5e-4 of the largest logit at this size; without it, 1e-6).
llama_context *new_context(llama_model *model, int threads, std::uint32_t n_batch, std::uint32_t n_ubatch,
                           Observer *observer = nullptr, bool f32 = false) {
    llama_context_params cp = llama_context_default_params();
    if (f32) {
        cp.type_k = cp.type_v = GGML_TYPE_F32;
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    }
    cp.n_ctx = 1024;
    cp.n_batch = n_batch;
    cp.n_ubatch = n_ubatch;
    cp.n_threads = cp.n_threads_batch = threads;
    if (observer) {
        cp.cb_eval = observe;
        cp.cb_eval_user_data = observer;
    }
    llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) throw std::runtime_error("cannot create a llama context");
    return ctx;
}

using Steps = std::vector<std::vector<float>>;

Steps generate(llama_context *ctx, llama_pos n_past, std::vector<llama_token> *tokens = nullptr) {
    Steps steps;
    std::vector<llama_token> out = fastdrive_llama::generate_greedy(
        ctx, n_past, 0, kSteps, [&](const float *l, std::int32_t n) { steps.emplace_back(l, l + n); });
    if (tokens) *tokens = out;
    return steps;
}

// ---- 1. keep ratio 1 against mtmd_helper_eval_chunks, bit for bit

// ref_batch: the batch size the helper decodes with; a different one shows what another split does.
void check_identity(Setup &s, fastdrive::Pruner &pruner, std::uint32_t n_batch, std::uint32_t n_ubatch,
                    std::uint32_t ref_batch = 0) {
    const bool same_split = ref_batch == 0;
    if (same_split) ref_batch = n_batch;
    llama_context *mine = new_context(s.model, s.threads, std::max(n_batch, ref_batch), n_ubatch);
    fastdrive_llama::EvalReport report;
    const llama_pos past = fastdrive_llama::eval_chunks_pruned(s.mctx, mine, s.chunks, pruner, 1.0, 0, 0,
                                                               static_cast<std::int32_t>(n_batch), true, &report);
    std::vector<llama_token> my_tokens, ref_tokens;
    const Steps my_steps = generate(mine, past, &my_tokens);
    llama_free(mine);

    llama_context *ref = new_context(s.model, s.threads, std::max(n_batch, ref_batch), n_ubatch);
    llama_pos ref_past = 0;
    CHECK(mtmd_helper_eval_chunks(s.mctx, ref, s.chunks, 0, 0, static_cast<std::int32_t>(ref_batch), true, &ref_past) == 0,
          "mtmd_helper_eval_chunks failed");
    const Steps ref_steps = generate(ref, ref_past, &ref_tokens);
    llama_free(ref);

    CHECK(past == ref_past, "n_past %d != mtmd's %d", past, ref_past);
    std::size_t identical = 0;
    for (std::size_t i = 0; i < std::min(my_steps.size(), ref_steps.size()); i++)
        identical += my_steps[i] == ref_steps[i] &&
                     std::memcmp(my_steps[i].data(), ref_steps[i].data(), my_steps[i].size() * sizeof(float)) == 0;
    if (!same_split) {  // information, not a requirement: how much the split alone changes
        float diff = 0;
        for (std::size_t i = 0; i < ref_steps[0].size(); i++) diff = std::max(diff, std::fabs(my_steps[0][i] - ref_steps[0][i]));
        std::printf("ratio 1.0, n_batch %u against the helper's %u: logits bit-identical at %zu of %zu steps, first step "
                    "max |diff| %g (why the image rows are split as the helper splits them)\n",
                    n_batch, ref_batch, identical, ref_steps.size(), diff);
        return;
    }
    CHECK(my_steps.size() == ref_steps.size() && my_tokens == ref_tokens, "generated tokens differ");
    CHECK(identical == ref_steps.size() && !ref_steps.empty(), "logits bit-identical at %zu of %zu steps (n_batch %u)",
          identical, ref_steps.size(), n_batch);
    for (const auto &im : report.images)
        CHECK(static_cast<std::int64_t>(im.kept.size()) == im.n_tokens, "ratio 1 kept %zu of %lld rows", im.kept.size(),
              static_cast<long long>(im.n_tokens));
    std::printf("ratio 1.0, n_batch %u / n_ubatch %u: logits bit-identical to mtmd_helper_eval_chunks at %zu of %zu "
                "steps, tokens:", n_batch, n_ubatch, identical, ref_steps.size());
    for (llama_token t : my_tokens) std::printf(" %d", t);
    std::printf("\n");
}

// ---- 2. keep ratio 0.5: rows and positions as llama.cpp's graph sees them

struct ImageTruth {
    std::size_t chunk = 0;
    std::int64_t n = 0;
    std::int32_t nx = 0, ny = 0;
    std::vector<float> embd;               // mtmd's embeddings of every row
    std::vector<mtmd_decoder_pos> pos;     // mtmd's position of every row in the unpruned prompt
    std::vector<std::int64_t> topk;        // the runtime's top-K, from its own handle
    std::vector<float> scores;
};

void write_npy(const std::string &path, const char *descr, const void *data, std::size_t elem,
               const std::vector<std::size_t> &shape) {
    std::ostringstream h;
    h << "{'descr': '" << descr << "', 'fortran_order': False, 'shape': (";
    std::size_t count = 1;
    for (std::size_t d : shape) {
        h << d << ",";
        count *= d;
    }
    h << "), }";
    std::string header = h.str();
    header.append(63 - (10 + header.size()) % 64, ' ');
    header += '\n';
    std::ofstream f(path, std::ios::binary);
    const unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    f.write(reinterpret_cast<const char *>(magic), 8);
    const std::uint16_t len = static_cast<std::uint16_t>(header.size());
    f.write(reinterpret_cast<const char *>(&len), 2);
    f << header;
    f.write(static_cast<const char *>(data), static_cast<std::streamsize>(elem * count));
}

void check_pruned(Setup &s, fastdrive::Pruner &pruner, const std::string &out_dir) {
    const std::int64_t n_embd = llama_model_n_embd_inp(s.model);
    const double ratio = 0.5;

    // The truth, from mtmd and from a second pruner handle, independent of pruned_eval.hpp.
    std::vector<ImageTruth> truth;
    std::vector<std::int32_t> text_pos;  // unpruned position of every text token, in order
    std::vector<llama_token> text_ids;
    std::vector<std::size_t> text_chunk_of;
    llama_pos n_past = 0;
    for (std::size_t c = 0; c < mtmd_input_chunks_size(s.chunks); c++) {
        const mtmd_input_chunk *chunk = mtmd_input_chunks_get(s.chunks, c);
        if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            std::size_t n = 0;
            const llama_token *t = mtmd_input_chunk_get_tokens_text(chunk, &n);
            for (std::size_t i = 0; i < n; i++) {
                text_pos.push_back(n_past++);
                text_ids.push_back(t[i]);
                text_chunk_of.push_back(c);
            }
            continue;
        }
        ImageTruth im;
        im.chunk = c;
        const mtmd_image_tokens *image = mtmd_input_chunk_get_tokens_image(chunk);
        im.n = static_cast<std::int64_t>(mtmd_image_tokens_get_n_tokens(image));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        im.nx = static_cast<std::int32_t>(mtmd_image_tokens_get_nx(image));
        im.ny = static_cast<std::int32_t>(mtmd_image_tokens_get_ny(image));
#pragma GCC diagnostic pop
        CHECK(mtmd_encode_chunk(s.mctx, chunk) == 0, "encode");
        const float *e = mtmd_get_output_embd(s.mctx);
        im.embd.assign(e, e + im.n * n_embd);
        im.pos.resize(static_cast<std::size_t>(im.n));
        mtmd_helper_image_get_decoder_pos(image, n_past, im.pos.data());
        n_past += mtmd_input_chunk_get_n_pos(chunk);

        fastdrive_pruner_options oo = fastdrive_pruner_default_options();
        oo.max_tokens = static_cast<std::uint32_t>(im.n);
        oo.num_threads = static_cast<std::uint32_t>(s.threads);
        fastdrive_pruner *p = nullptr;
        CHECK(fastdrive_pruner_create(s.pruner_path.c_str(), &oo, &p) == FASTDRIVE_OK, "second handle: %s",
              fastdrive_pruner_last_error(nullptr));
        fastdrive_tokens tok{};
        tok.data = im.embd.data();
        tok.dtype = FASTDRIVE_F32;
        tok.n_tokens = im.n;
        tok.dim = n_embd;
        tok.grid_h = im.ny;
        tok.grid_w = im.nx;
        im.scores.resize(static_cast<std::size_t>(im.n));
        std::int64_t k = 0;
        CHECK(fastdrive_keep_count(im.n, ratio, &k) == FASTDRIVE_OK, "keep_count");
        im.topk.resize(static_cast<std::size_t>(k));
        CHECK(fastdrive_pruner_score(p, &tok, im.scores.data()) == FASTDRIVE_OK, "score: %s", fastdrive_pruner_last_error(p));
        CHECK(fastdrive_pruner_topk(p, im.scores.data(), im.n, k, im.topk.data()) == FASTDRIVE_OK, "topk");
        fastdrive_pruner_destroy(p);
        truth.push_back(std::move(im));
    }
    const llama_pos unpruned_past = n_past;
    CHECK(truth.size() == 2 && truth[0].nx * truth[0].ny != truth[1].nx * truth[1].ny,
          "the prompt must hold two images of different grids");

    // The example's path, observed from inside llama.cpp's graph.
    Observer obs;
    llama_context *ctx = new_context(s.model, s.threads, 2048, 512, &obs, /*f32*/ true);
    fastdrive_llama::EvalReport report;
    const llama_pos past = fastdrive_llama::eval_chunks_pruned(s.mctx, ctx, s.chunks, pruner, ratio, 0, 0, 2048, true, &report);
    const std::size_t prompt_ubatches = obs.ubatches.size();
    std::vector<llama_token> generated;
    const Steps steps = generate(ctx, past, &generated);
    llama_free(ctx);

    CHECK(past == unpruned_past, "n_past after the pruned prompt %d != the unpruned %d", past, unpruned_past);
    CHECK(static_cast<int>(generated.size()) == kSteps || llama_vocab_is_eog(llama_model_get_vocab(s.model), generated.back()),
          "generation stopped early");

    // Flatten what the graph received during the prompt: rows and (t, h, w, e) per row.
    struct Row { const float *data; std::int32_t t, h, w, e; };
    std::vector<Row> seen;
    for (std::size_t u = 0; u < prompt_ubatches; u++) {
        const Ubatch &ub = obs.ubatches[u];
        CHECK(ub.pos.size() == static_cast<std::size_t>(4 * ub.n), "ubatch %zu: %zu positions for %lld rows", u,
              ub.pos.size(), static_cast<long long>(ub.n));
        for (std::int64_t i = 0; i < ub.n; i++)
            seen.push_back({ub.rows.data() + i * ub.n_embd, ub.pos[i], ub.pos[ub.n + i], ub.pos[2 * ub.n + i],
                            ub.pos[3 * ub.n + i]});
    }
    // Expected order: chunk by chunk; text tokens at consecutive unpruned positions (t = h = w),
    // image chunks as their top-K rows at mtmd's positions.
    std::size_t r = 0, ti = 0, bad_rows = 0, bad_pos = 0, bad_text = 0;
    std::size_t img = 0;
    for (std::size_t c = 0; c < mtmd_input_chunks_size(s.chunks); c++) {
        if (img < truth.size() && truth[img].chunk == c) {
            const ImageTruth &im = truth[img];
            const fastdrive_llama::ImageReport &rep = report.images[img];
            CHECK(rep.kept == im.topk, "image %zu: kept rows != the runtime's top-K (%zu vs %zu rows)", img,
                  rep.kept.size(), im.topk.size());
            CHECK(rep.grid_h == im.ny && rep.grid_w == im.nx, "image %zu: grid %dx%d != mtmd's %dx%d", img, rep.grid_h,
                  rep.grid_w, im.ny, im.nx);
            for (std::int64_t k : im.topk) {
                if (r >= seen.size()) break;
                const Row &row = seen[r++];
                const mtmd_decoder_pos &p = im.pos[static_cast<std::size_t>(k)];
                bad_rows += std::memcmp(row.data, im.embd.data() + k * n_embd, sizeof(float) * n_embd) != 0;
                bad_pos += row.t != static_cast<std::int32_t>(p.t) || row.h != static_cast<std::int32_t>(p.y) ||
                           row.w != static_cast<std::int32_t>(p.x) || row.e != static_cast<std::int32_t>(p.z);
            }
            std::printf("ratio 0.5, image %zu: %dx%d grid, %lld rows, kept %zu (the runtime's top-K), first kept row %lld "
                        "at (t=%u, h=%u, w=%u)\n", img, im.ny, im.nx, static_cast<long long>(im.n), im.topk.size(),
                        static_cast<long long>(im.topk[0]), im.pos[static_cast<std::size_t>(im.topk[0])].t,
                        im.pos[static_cast<std::size_t>(im.topk[0])].y, im.pos[static_cast<std::size_t>(im.topk[0])].x);
            img++;
            continue;
        }
        for (; ti < text_pos.size() && text_chunk_of[ti] == c; ti++) {
            if (r >= seen.size()) break;
            const Row &row = seen[r++];
            bad_text += row.t != text_pos[ti] || row.h != text_pos[ti] || row.w != text_pos[ti];
        }
    }
    CHECK(r == seen.size() && ti == text_pos.size(), "the graph saw %zu prompt rows, expected %zu", seen.size(), r);
    CHECK(bad_rows == 0, "%zu image rows differ from mtmd's embeddings of the kept rows", bad_rows);
    CHECK(bad_pos == 0, "%zu image rows are not at the position mtmd gives them unpruned", bad_pos);
    CHECK(bad_text == 0, "%zu text tokens are not at their unpruned positions", bad_text);
    // generated tokens continue where the unpruned prompt ends
    for (std::size_t u = prompt_ubatches, step = 0; u < obs.ubatches.size(); u++, step++)
        CHECK(obs.ubatches[u].n == 1 && obs.ubatches[u].pos[0] == unpruned_past + static_cast<std::int32_t>(step),
              "generated token %zu at position %d, expected %d", step, obs.ubatches[u].pos[0],
              unpruned_past + static_cast<std::int32_t>(step));
    std::printf("ratio 0.5: %zu prompt rows reached the LLM (%zu text at unpruned positions), next position %d as "
                "unpruned; generated:", seen.size(), text_pos.size(), past);
    for (llama_token t : generated) std::printf(" %d", t);
    std::printf("\n");

    // ---- for the transformers comparison
    std::ofstream js(out_dir + "/prompt.json");
    js << "{\"chunks\": [";
    img = 0;
    for (std::size_t c = 0, tj = 0; c < mtmd_input_chunks_size(s.chunks); c++) {
        js << (c ? ", " : "");
        if (img < truth.size() && truth[img].chunk == c) {
            js << "{\"image\": " << img << ", \"grid_h\": " << truth[img].ny << ", \"grid_w\": " << truth[img].nx << "}";
            write_npy(out_dir + "/embd" + std::to_string(img) + ".npy", "<f4", truth[img].embd.data(), 4,
                      {static_cast<std::size_t>(truth[img].n), static_cast<std::size_t>(n_embd)});
            write_npy(out_dir + "/kept" + std::to_string(img) + ".npy", "<i8", truth[img].topk.data(), 8,
                      {truth[img].topk.size()});
            img++;
        } else {
            js << "{\"text\": [";
            for (bool first = true; tj < text_ids.size() && text_chunk_of[tj] == c; tj++, first = false)
                js << (first ? "" : ", ") << text_ids[tj];
            js << "]}";
        }
    }
    js << "], \"n_past\": " << past << "}\n";
    write_npy(out_dir + "/logits_pruned.npy", "<f4", steps[0].data(), 4, {steps[0].size()});
    // llama.cpp's own unpruned first-step logits, same KV precision, for the baseline comparison
    llama_context *ref = new_context(s.model, s.threads, 2048, 512, nullptr, /*f32*/ true);
    llama_pos ref_past = 0;
    CHECK(mtmd_helper_eval_chunks(s.mctx, ref, s.chunks, 0, 0, 2048, true, &ref_past) == 0, "mtmd_helper_eval_chunks");
    const float *l = llama_get_logits_ith(ref, -1);
    write_npy(out_dir + "/logits_unpruned.npy", "<f4", l, 4, {steps[0].size()});
    llama_free(ref);
}

// ---- 3. threads: the runtimes take turns

void check_threads(Setup &s, fastdrive::Pruner &pruner, const std::vector<long> &pruner_workers) {
    llama_context *ctx = new_context(s.model, s.threads, 2048, 512);
    const std::vector<long> base = thread_census::tids();

    // while mtmd and llama.cpp encode and decode, the pruner's workers use no CPU time
    const long ticks0 = thread_census::cpu_ticks(pruner_workers);
    for (int rep = 0; rep < 20; rep++) {
        llama_memory_clear(llama_get_memory(ctx), true);
        llama_pos past = 0;
        CHECK(mtmd_helper_eval_chunks(s.mctx, ctx, s.chunks, 0, 0, 2048, true, &past) == 0, "eval");
    }
    const long pruner_ticks = thread_census::cpu_ticks(pruner_workers) - ticks0;

    // while the pruner scores, no other runtime's thread exists
    std::atomic<bool> stop{false};
    std::atomic<long> monitor_tid{0};
    std::atomic<std::size_t> others{0};
    std::thread monitor([&] {
        monitor_tid = static_cast<long>(gettid());
        while (!stop) {
            std::vector<long> extra = thread_census::started(base, thread_census::tids());
            extra.erase(std::remove(extra.begin(), extra.end(), monitor_tid.load()), extra.end());
            others = std::max(others.load(), extra.size());
        }
    });
    const std::int64_t side = 7, n = side * 6, d = pruner.info().hidden_size;
    std::vector<float> tokens(static_cast<std::size_t>(n * d)), scores(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < tokens.size(); i++) tokens[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
    fastdrive::Frame frame;
    frame.data = tokens.data();
    frame.n_tokens = n;
    frame.dim = d;
    frame.grid_h = side;
    frame.grid_w = 6;
    for (int rep = 0; rep < 200; rep++) pruner.score(frame, scores);
    stop = true;
    monitor.join();

    // the example's whole path leaves no thread behind
    for (int rep = 0; rep < 3; rep++) {
        llama_memory_clear(llama_get_memory(ctx), true);
        generate(ctx, fastdrive_llama::eval_chunks_pruned(s.mctx, ctx, s.chunks, pruner, 0.5, 0, 0, 2048, true));
    }
    const std::vector<long> after = thread_census::tids();
    llama_free(ctx);

    CHECK(!pruner_workers.empty() || s.threads == 1, "the pruner started no worker thread with %d threads", s.threads);
    CHECK(pruner_ticks == 0, "the pruner's workers used %ld CPU ticks while llama.cpp decoded", pruner_ticks);
    CHECK(others.load() == 0, "%zu other threads existed while the pruner scored", others.load());
    CHECK(after == base, "%zu threads before the example's prefill, %zu after", base.size(), after.size());
    std::printf("threads: while mtmd + llama.cpp ran 20 prompts the pruner's %zu worker(s) used %ld CPU ticks; while "
                "the pruner scored 200 frames %zu other thread(s) existed; %zu threads before and after the example's "
                "prefill + generation\n", pruner_workers.size(), pruner_ticks, others.load(), base.size());
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 7) {
        std::fprintf(stderr, "usage: %s MODEL MMPROJ PRUNER IMAGE_A IMAGE_B OUT_DIR [THREADS=2]\n", argv[0]);
        return 2;
    }
    llama_log_set([](ggml_log_level level, const char *text, void *) {
        if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
    }, nullptr);
    mtmd_helper_log_set([](ggml_log_level level, const char *text, void *) {
        if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
    }, nullptr);
    llama_backend_init();
    Setup s;
    s.threads = argc > 7 ? std::atoi(argv[7]) : 2;
    s.pruner_path = argv[3];
    try {
        s.model = llama_model_load_from_file(argv[1], llama_model_default_params());
        if (!s.model) throw std::runtime_error("cannot load the model");
        mtmd_context_params mp = mtmd_context_params_default();
        mp.use_gpu = false;
        mp.warmup = false;
        mp.print_timings = false;
        mp.n_threads = s.threads;
        s.mctx = mtmd_init_from_file(argv[2], s.model, mp);
        if (!s.mctx) throw std::runtime_error("cannot load the mmproj");
        for (int i = 4; i <= 5; i++) {
            mtmd_helper_bitmap_wrapper w = mtmd_helper_bitmap_init_from_file(s.mctx, argv[i], false, mtmd_helper_init_opt_default());
            if (!w.bitmap) throw std::runtime_error(std::string("cannot read ") + argv[i]);
            s.bitmaps.push_back(w.bitmap);
        }
        s.chunks = mtmd_input_chunks_init();
        mtmd_input_text text = {kPrompt, std::strlen(kPrompt), true, true};
        if (mtmd_tokenize(s.mctx, s.chunks, &text, const_cast<const mtmd_bitmap **>(s.bitmaps.data()), s.bitmaps.size()) != 0)
            throw std::runtime_error("mtmd_tokenize failed");

        fastdrive::Options options;
        options.max_tokens = 1024;
        options.num_threads = static_cast<std::uint32_t>(s.threads);
        const std::vector<long> before_pruner = thread_census::tids();
        fastdrive::Pruner pruner(argv[3], options);
        const std::vector<long> pruner_workers = thread_census::started(before_pruner, thread_census::tids());
        fastdrive_llama::check_inputs(s.mctx, s.model, s.chunks, pruner);

        check_identity(s, pruner, 2048, 512);
        check_identity(s, pruner, 16, 8);
        check_identity(s, pruner, 7, 512, 2048);
        check_pruned(s, pruner, argv[6]);
        check_threads(s, pruner, pruner_workers);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "FAIL: %s\n", e.what());
        failures++;
    }
    for (mtmd_bitmap *b : s.bitmaps) mtmd_bitmap_free(b);
    if (s.chunks) mtmd_input_chunks_free(s.chunks);
    if (s.mctx) mtmd_free(s.mctx);
    if (s.model) llama_model_free(s.model);
    std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "OK", failures);
    return failures ? 1 : 0;
}
