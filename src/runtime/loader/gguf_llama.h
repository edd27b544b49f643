#pragma once
// Llama as llama.cpp's converter (convert_hf_to_gguf.py) stores it in GGUF:
// tensor names, the Q/K row permutation, and the config and tokenizer held
// in llama.* / tokenizer.ggml.* metadata. Pure functions over a parsed
// gguf::File (no packing, no SentencePiece), shared by the loader
// (gguf_model.h), the writer (gguf_writer.h) and the fuzzer.
//
// The permutation: llama.cpp applies RoPE to interleaved pairs (2i, 2i+1)
// while Hugging Face (and ree) rotate pairs (i, i + head_dim/2). The
// converter therefore reorders the rows of each head of Q and K with
//   w.reshape(n_head, 2, head_dim/2, dim).swapaxes(1, 2).reshape(w.shape)
// i.e. within a head, GGUF row 2j + s holds Hugging Face row s*head_dim/2 + j
// (s in {0,1}, j < head_dim/2). K uses n_kv_heads.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/loader/gguf.h"
#include "runtime/loader/model_builder.h"
#include "runtime/loader/sp_proto.h"
#include "runtime/model.h"

namespace ree {
namespace gguf {

// "blk.3.attn_q.weight" <-> "model.layers.3.self_attn.q_proj.weight", etc.
// nullopt for names outside the Llama set.
std::optional<std::string> hf_name_for(std::string_view gguf_name);
std::optional<std::string> gguf_name_for(std::string_view hf_name);

// For a Hugging Face Q or K weight name, the head count its rows are
// permuted by (n_heads for Q, n_kv_heads for K); 0 for every other tensor.
int rope_permuted_heads(std::string_view hf_name, const ModelConfig& config);

// The Hugging Face row stored at GGUF row `gguf_row` of a permuted tensor.
int64_t hf_row_of_gguf_row(int64_t gguf_row, int64_t head_dim);
// The GGUF row holding Hugging Face row `hf_row` (the inverse).
int64_t gguf_row_of_hf_row(int64_t hf_row, int64_t head_dim);
// row_order for build_model: element n is the GGUF row of Hugging Face row n.
std::vector<int32_t> unpermute_row_order(int64_t rows, int n_heads);

// ModelConfig from llama.* metadata (general.architecture must be "llama").
ModelConfig config_from_metadata(const File& file, const std::string& origin);

// SentencePiece model rebuilt from tokenizer.ggml.* (model "llama" only):
// BPE, byte_fallback when byte pieces exist, identity normaliser,
// add_dummy_prefix from tokenizer.ggml.add_space_prefix (default true),
// remove_extra_whitespaces false.
sp::ModelProto tokenizer_from_metadata(const File& file, const std::string& origin);

// Canonical-name tensors for build_model, viewing `bytes` (the whole file).
TensorSource tensor_source_from_gguf(const File& file, std::span<const uint8_t> bytes,
                                     const ModelConfig& config, const std::string& origin);

}  // namespace gguf
}  // namespace ree
