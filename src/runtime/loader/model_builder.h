#pragma once
// Builds a Model from a config, a set of tensors under canonical names and a
// tokenizer, whatever file format the tensors came from (safetensors here,
// GGUF in gguf_model.cpp). It checks every tensor against the config, packs
// the matrices, converts the norm weights, and computes the model identity.
//
// Canonical names and order (Hugging Face names; the order of the digest):
//   model.embed_tokens.weight                              [vocab, dim]
//   for N = 0 .. n_layers-1:
//     model.layers.N.input_layernorm.weight                [dim]
//     model.layers.N.self_attn.q_proj.weight               [n_heads*head_dim, dim]
//     model.layers.N.self_attn.k_proj.weight               [n_kv_heads*head_dim, dim]
//     model.layers.N.self_attn.v_proj.weight               [n_kv_heads*head_dim, dim]
//     model.layers.N.self_attn.o_proj.weight               [dim, n_heads*head_dim]
//     model.layers.N.post_attention_layernorm.weight       [dim]
//     model.layers.N.mlp.gate_proj.weight                  [hidden_dim, dim]
//     model.layers.N.mlp.up_proj.weight                    [hidden_dim, dim]
//     model.layers.N.mlp.down_proj.weight                  [dim, hidden_dim]
//   model.norm.weight                                      [dim]
//   lm_head.weight                                         [vocab, dim]  (absent when tied)
//
// weights_digest (hex BLAKE2b-256, libsodium crypto_generichash, no key):
//   tensor_digest(t) = BLAKE2b-256( le64(len(name)) || name
//                                 || le64(len(dtype)) || dtype     // "F32" "F16" "BF16" "Q8_0"
//                                 || le64(rank) || le64(dim) for each dim
//                                 || the tensor's bytes, rows in Hugging Face order )
//   weights_digest   = BLAKE2b-256( "ree-weights-v1" || le64(count)
//                                 || tensor_digest(t) for t in canonical order )
// A row-permuted source (GGUF's Q/K) is hashed in un-permuted order, so the
// same weights in the same dtype give the same digest from any file format.
// Tensors are hashed in parallel (each one whole, largest first).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace ree {

// One tensor as a loader found it, under its canonical name.
struct SourceTensor {
  RawTensor view;                  // rank 1: rows == 1, cols == length
  int rank = 2;                    // as stored: 1 (norm weights) or 2 (matrices)
  uint64_t nbytes = 0;             // bytes readable at view.data
  // Empty: rows are stored in Hugging Face order. Otherwise Hugging Face row
  // n is stored row row_order[n] (a permutation of [0, rows)).
  std::vector<int32_t> row_order;
  std::string file;                // the file holding it, for messages
};

// Every tensor of a checkpoint, keyed by canonical name.
struct TensorSource {
  std::string origin;  // directory or file, named by "missing tensor" errors
  std::map<std::string, SourceTensor> tensors;
};

struct BuildOptions {
  ThreadPool* pool = nullptr;   // packing and hashing; null: this thread only
  bool show_progress = false;   // a bar on stderr when it is a terminal and the build takes > 1 s
  std::string progress_label = "loading";
};

// The canonical names the config needs, in digest order.
std::vector<std::string> canonical_tensor_names(const ModelConfig& config);

// Checks `source` against `config` (every tensor present with the expected
// shape, nothing unexpected, byte counts and row orders valid) and throws
// ree::file_error on the first problem.
void check_tensor_source(const ModelConfig& config, const TensorSource& source);

// The weights digest described above; `source` must have passed
// check_tensor_source.
std::string compute_weights_digest(const ModelConfig& config, const TensorSource& source,
                                   const BuildOptions& options);

// The model: config, packed weights, tokenizer, identity digests. Fills
// neither identity.name/format nor source/mappings/chat_template_hint
// (the caller knows those). Views into `source` must outlive the model: the
// caller keeps the mappings in Model::mappings.
Model build_model(const ModelConfig& config, const TensorSource& source, Tokenizer tokenizer,
                  const BuildOptions& options = {});

// Bytes a tensor of this dtype and [rows, cols] occupies; nullopt when the
// shape is impossible for the dtype (Q8_0 rows are whole 32-element blocks)
// or the size overflows.
std::optional<uint64_t> stored_tensor_bytes(kernels::DType dtype, int64_t rows, int64_t cols);

}  // namespace ree
