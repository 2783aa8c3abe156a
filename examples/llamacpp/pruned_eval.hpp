// pruned_eval.hpp — libmtmd's mtmd_helper_eval_chunks with ReconPruner between the image encoder and the LLM.
//
// eval_chunks_pruned() takes the same arguments as mtmd_helper_eval_chunks() plus a pruner and a
// keep ratio, and does what the helper does, except for the image rows it gives the LLM:
//
//   text chunk   decoded exactly as the helper does (same batches, same positions)
//   image chunk  mtmd_encode_chunk → mtmd_get_output_embd → fastdrive::Pruner scores every row on
//                the image's merged grid → top-K rows (ascending) → only those rows are decoded,
//                each with the M-RoPE (t, h, w) position mtmd gives that row in the unpruned prompt,
//                in batches of n_batch rows as the helper splits an image
//   after it     n_past advances by mtmd_input_chunk_get_n_pos (max(grid_h, grid_w) for Qwen2-VL /
//                Qwen2.5-VL), so the text that follows keeps its unpruned positions
//
// Pruning drops rows, it never moves them: the KV cache simply has no cells for the dropped rows
// (llama.cpp accepts M-RoPE positions that jump forward). At keep ratio 1 nothing is scored and
// the LLM sees exactly the helper's batches, so its logits are bit-identical to the helper's.
// Splitting the same rows differently would not be: llama.cpp's CPU kernels round differently
// for a different split (1.8e-3 on the logits of the test model).
//
// Threads: mtmd, the pruner and llama.cpp each run their own threads, one after the other (encode,
// then score, then decode), so with the same thread count for all three the cores are never
// oversubscribed. See README.md ("Inside llama.cpp") for the settings.
#ifndef FASTDRIVE_LLAMACPP_PRUNED_EVAL_HPP
#define FASTDRIVE_LLAMACPP_PRUNED_EVAL_HPP

#include "fastdrive_pruner.hpp"
#include "llama-cpp.h"
#include "llama.h"
#include "mtmd-helper.h"
#include "mtmd.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace fastdrive_llama {

/// What happened to one image of the prompt.
struct ImageReport {
    std::int32_t grid_h = 0, grid_w = 0;  // merged token grid (rows × columns)
    std::int64_t n_tokens = 0;            // rows mtmd produced (grid_h · grid_w)
    std::vector<std::int64_t> kept;       // ascending row indices given to the LLM
    double encode_ms = 0, prune_ms = 0, decode_ms = 0;
};

/// What eval_chunks_pruned decoded.
struct EvalReport {
    std::vector<ImageReport> images;
    std::int64_t text_tokens = 0;  // text tokens decoded
    double text_ms = 0;            // time in llama_process for them
    std::int64_t rows_decoded() const {
        std::int64_t n = text_tokens;
        for (const ImageReport &im : images) n += static_cast<std::int64_t>(im.kept.size());
        return n;
    }
};

inline double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

/// The merged token grid of an image chunk, from the positions mtmd gives its rows (row-major).
inline void image_grid(const mtmd_input_chunk *chunk, std::int32_t &grid_h, std::int32_t &grid_w) {
    const mtmd_image_tokens *image = mtmd_input_chunk_get_tokens_image(chunk);
    const std::size_t n = mtmd_image_tokens_get_n_tokens(image);
    const mtmd_decoder_pos last = mtmd_image_tokens_get_decoder_pos(image, 0, n - 1);
    grid_h = static_cast<std::int32_t>(last.y) + 1;
    grid_w = static_cast<std::int32_t>(last.x) + 1;
}

/// Everything about the inputs that can be wrong, checked before anything is decoded.
/// Throws std::invalid_argument with a message that says what to change.
inline void check_inputs(const mtmd_context *mctx, const llama_model *model, const mtmd_input_chunks *chunks,
                         const fastdrive::Pruner &pruner) {
    const fastdrive_pruner_info info = pruner.info();
    const std::int64_t n_embd = llama_model_n_embd_inp(model);
    if (info.hidden_size != n_embd)
        throw std::invalid_argument("the pruner's hidden size " + std::to_string(info.hidden_size) +
                                    " differs from the image embeddings' size " + std::to_string(n_embd) +
                                    " (llama_model_n_embd_inp): this pruner was trained for another model");
    if (!mtmd_decode_use_mrope(mctx))
        throw std::invalid_argument("the model does not use M-RoPE positions: this example keeps Qwen2-VL / Qwen2.5-VL "
                                    "(t, h, w) positions and needs such a model and mmproj");
    for (std::size_t i = 0; i < mtmd_input_chunks_size(chunks); i++) {
        const mtmd_input_chunk *chunk = mtmd_input_chunks_get(chunks, i);
        const mtmd_input_chunk_type type = mtmd_input_chunk_get_type(chunk);
        if (type == MTMD_INPUT_CHUNK_TYPE_AUDIO) throw std::invalid_argument("audio chunks are not supported");
        if (type != MTMD_INPUT_CHUNK_TYPE_IMAGE) continue;
        std::int32_t h = 0, w = 0;
        image_grid(chunk, h, w);
        const std::int64_t n = static_cast<std::int64_t>(mtmd_input_chunk_get_n_tokens(chunk));
        if (static_cast<std::int64_t>(h) * w != n)
            throw std::invalid_argument("image chunk " + std::to_string(i) + " has " + std::to_string(n) +
                                        " tokens, not a " + std::to_string(h) + "x" + std::to_string(w) +
                                        " grid (video frames are not supported)");
        if (n > static_cast<std::int64_t>(info.max_tokens))
            throw std::invalid_argument("image chunk " + std::to_string(i) + " has " + std::to_string(n) +
                                        " tokens but the pruner was created for at most " +
                                        std::to_string(info.max_tokens) + " (fastdrive::Options::max_tokens)");
    }
}

/// Text tokens, decoded as mtmd_helper_eval_chunk_single does: n_batch tokens per llama_process,
/// consecutive positions, logits for the last token only when asked.
inline void decode_text(llama_context *lctx, const llama_token *tokens, std::size_t n, llama_pos &n_past,
                        llama_seq_id seq_id, std::int32_t n_batch, bool logits_last) {
    llama_batch_ext_ptr batch(llama_batch_ext_init(lctx));
    std::size_t i = 0;
    while (i < n) {
        llama_batch_ext_clear(batch.get());
        std::int32_t idx = -1;
        for (std::int32_t added = 0; i < n && added < n_batch; i++, added++) {
            idx = llama_batch_ext_add_token(batch.get(), seq_id, tokens[i]);
            const llama_pos pos = n_past++;
            if (idx < 0 || !llama_batch_ext_set_pos(batch.get(), idx, &pos))
                throw std::runtime_error("cannot add text token to the batch (error " + std::to_string(idx) + ")");
        }
        if (logits_last && i == n) llama_batch_ext_set_output_logits(batch.get(), idx, true);
        if (const std::int32_t rc = llama_process(lctx, LLAMA_PROCESS_TYPE_DECODE, batch.get()))
            throw std::runtime_error("llama_process failed on text (" + std::to_string(rc) + ")");
    }
}

/// Embedding rows kept[j] of `embd` (row-major, n_embd floats each) at M-RoPE positions pos[kept[j]]
/// (temporal, height, width, unused — the section order llama.cpp expects), n_batch rows per
/// llama_process: the split mtmd_helper_decode_image_chunk uses for a whole image.
inline void decode_rows(llama_context *lctx, const float *embd, const std::vector<std::int64_t> &kept,
                        const std::vector<mtmd_decoder_pos> &pos, llama_seq_id seq_id, std::int32_t n_batch) {
    const std::size_t n_embd = static_cast<std::size_t>(llama_model_n_embd_inp(llama_get_model(lctx)));
    llama_batch_ext_ptr batch(llama_batch_ext_init(lctx));
    for (std::size_t first = 0; first < kept.size(); first += static_cast<std::size_t>(n_batch)) {
        llama_batch_ext_clear(batch.get());
        const std::size_t end = std::min(kept.size(), first + static_cast<std::size_t>(n_batch));
        for (std::size_t j = first; j < end; j++) {
            const std::size_t row = static_cast<std::size_t>(kept[j]);
            const llama_embd e = {embd + row * n_embd, 1, n_embd};
            const std::int32_t idx = llama_batch_ext_add_embd(batch.get(), seq_id, e);
            const llama_pos p[4] = {static_cast<llama_pos>(pos[row].t), static_cast<llama_pos>(pos[row].y),
                                    static_cast<llama_pos>(pos[row].x), static_cast<llama_pos>(pos[row].z)};
            if (idx < 0 || !llama_batch_ext_set_pos(batch.get(), idx, p))
                throw std::runtime_error("cannot add image row to the batch (error " + std::to_string(idx) + ")");
        }
        if (const std::int32_t rc = llama_process(lctx, LLAMA_PROCESS_TYPE_DECODE, batch.get()))
            throw std::runtime_error("llama_process failed on image rows (" + std::to_string(rc) + ")");
    }
}

/// The kept rows of one encoded image chunk, each at the position mtmd gives it in the unpruned prompt.
inline void decode_image_rows(mtmd_context *mctx, llama_context *lctx, const mtmd_input_chunk *chunk,
                              const float *embd, const std::vector<std::int64_t> &kept, llama_pos n_past,
                              llama_seq_id seq_id, std::int32_t n_batch) {
    const mtmd_image_tokens *image = mtmd_input_chunk_get_tokens_image(chunk);
    std::vector<mtmd_decoder_pos> pos(mtmd_image_tokens_get_n_tokens(image));
    mtmd_helper_image_get_decoder_pos(image, n_past, pos.data());  // every row, as if nothing were pruned

    // some models (e.g. Gemma 3) attend bidirectionally inside an image; Qwen2.5-VL does not
    const bool non_causal = mtmd_decode_use_non_causal(mctx, chunk);
    if (non_causal) llama_set_causal_attn(lctx, false);
    try {
        decode_rows(lctx, embd, kept, pos, seq_id, n_batch);
    } catch (...) {
        if (non_causal) llama_set_causal_attn(lctx, true);
        throw;
    }
    if (non_causal) llama_set_causal_attn(lctx, true);
}

/// mtmd_helper_eval_chunks with each image pruned to floor(keep_ratio · N) rows (at least 1) by
/// ReconPruner. Returns the new n_past (the unpruned prompt's). Call check_inputs first.
/// Throws fastdrive::Error (pruner) or std::runtime_error (mtmd / llama.cpp) on failure.
inline llama_pos eval_chunks_pruned(mtmd_context *mctx, llama_context *lctx, const mtmd_input_chunks *chunks,
                                    fastdrive::Pruner &pruner, double keep_ratio, llama_pos n_past,
                                    llama_seq_id seq_id, std::int32_t n_batch, bool logits_last,
                                    EvalReport *report = nullptr) {
    const std::int64_t n_embd = llama_model_n_embd_inp(llama_get_model(lctx));
    const std::size_t n_chunks = mtmd_input_chunks_size(chunks);
    for (std::size_t c = 0; c < n_chunks; c++) {
        const mtmd_input_chunk *chunk = mtmd_input_chunks_get(chunks, c);
        const auto t0 = std::chrono::steady_clock::now();
        if (mtmd_input_chunk_get_type(chunk) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            std::size_t n = 0;
            const llama_token *tokens = mtmd_input_chunk_get_tokens_text(chunk, &n);
            decode_text(lctx, tokens, n, n_past, seq_id, n_batch, logits_last && c + 1 == n_chunks);
            if (report) {
                report->text_tokens += static_cast<std::int64_t>(n);
                report->text_ms += ms_since(t0);
            }
            continue;
        }

        ImageReport im;
        image_grid(chunk, im.grid_h, im.grid_w);
        im.n_tokens = static_cast<std::int64_t>(mtmd_input_chunk_get_n_tokens(chunk));
        if (mtmd_encode_chunk(mctx, chunk) != 0) throw std::runtime_error("mtmd_encode_chunk failed");
        const float *embd = mtmd_get_output_embd(mctx);  // [n_tokens × n_embd], valid until the next encode
        im.encode_ms = ms_since(t0);

        const auto t1 = std::chrono::steady_clock::now();
        const std::int64_t k = fastdrive::keep_count(im.n_tokens, keep_ratio);
        im.kept.resize(static_cast<std::size_t>(k));
        if (k == im.n_tokens) {
            std::iota(im.kept.begin(), im.kept.end(), std::int64_t{0});  // nothing to choose
        } else {
            fastdrive::Frame frame;
            frame.data = embd;
            frame.n_tokens = im.n_tokens;
            frame.dim = n_embd;
            frame.grid_h = im.grid_h;
            frame.grid_w = im.grid_w;
            std::vector<float> scores(static_cast<std::size_t>(im.n_tokens));
            pruner.score(frame, scores);
            pruner.topk(scores, k, im.kept);
        }
        im.prune_ms = ms_since(t1);

        const auto t2 = std::chrono::steady_clock::now();
        decode_image_rows(mctx, lctx, chunk, embd, im.kept, n_past, seq_id, n_batch);
        n_past += mtmd_input_chunk_get_n_pos(chunk);  // max(grid_h, grid_w): the unpruned advance
        im.decode_ms = ms_since(t2);
        if (report) report->images.push_back(std::move(im));
    }
    return n_past;
}

/// Greedy decoding from the logits of the last decoded token. on_logits (optional) sees each
/// step's logits before the token is chosen. Stops at an end-of-generation token.
inline std::vector<llama_token> generate_greedy(llama_context *lctx, llama_pos n_past, llama_seq_id seq_id,
                                                int n_predict,
                                                const std::function<void(const float *, std::int32_t)> &on_logits = {}) {
    const llama_vocab *vocab = llama_model_get_vocab(llama_get_model(lctx));
    const std::int32_t n_vocab = llama_vocab_n_tokens(vocab);
    llama_batch_ext_ptr batch(llama_batch_ext_init(lctx));
    std::vector<llama_token> out;
    for (int step = 0; step < n_predict; step++) {
        const float *logits = llama_get_logits_ith(lctx, -1);
        if (!logits) throw std::runtime_error("no logits: the prompt's last token was not decoded with output on");
        if (on_logits) on_logits(logits, n_vocab);
        const llama_token next = static_cast<llama_token>(std::max_element(logits, logits + n_vocab) - logits);
        out.push_back(next);
        if (llama_vocab_is_eog(vocab, next) || step + 1 == n_predict) break;
        llama_batch_ext_clear(batch.get());
        const std::int32_t idx = llama_batch_ext_add_token(batch.get(), seq_id, next);
        const llama_pos pos = n_past++;
        llama_batch_ext_set_pos(batch.get(), idx, &pos);
        llama_batch_ext_set_output_logits(batch.get(), idx, true);
        if (const std::int32_t rc = llama_process(lctx, LLAMA_PROCESS_TYPE_DECODE, batch.get()))
            throw std::runtime_error("llama_process failed while generating (" + std::to_string(rc) + ")");
    }
    return out;
}

}  // namespace fastdrive_llama

#endif
