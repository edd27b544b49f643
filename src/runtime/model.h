#pragma once
// The model as the runtime sees it, whatever file it came from: a Config,
// packed Weights, a Tokenizer and an Identity. Loaders (src/runtime/loader)
// fill it; forward() (src/runtime/forward.h) reads it.
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/tokenizer.h"

namespace ree {

struct ModelConfig {
  std::string architecture = "llama";  // config.json model_type / GGUF general.architecture
  int dim = 0;                 // hidden_size
  int hidden_dim = 0;          // intermediate_size
  int n_layers = 0;            // num_hidden_layers
  int n_heads = 0;             // num_attention_heads
  int n_kv_heads = 0;          // num_key_value_heads (GQA)
  int head_dim = 0;            // dim / n_heads
  int vocab_size = 0;
  int64_t max_seq_len = 0;     // max_position_embeddings
  float norm_eps = 1e-5f;      // rms_norm_eps
  double rope_theta = 10000.0;
  bool tied_embeddings = false;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
};

// A row-major view into a mapped file: [rows][cols] of dtype.
struct RawTensor {
  kernels::DType dtype = kernels::DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;
};

struct LayerWeights {
  std::vector<float> attn_norm;   // (dim)
  kernels::PackedMatrix wq;       // (n_heads*head_dim, dim)
  kernels::PackedMatrix wk;       // (n_kv_heads*head_dim, dim)
  kernels::PackedMatrix wv;       // (n_kv_heads*head_dim, dim)
  kernels::PackedMatrix wo;       // (dim, n_heads*head_dim)
  std::vector<float> ffn_norm;    // (dim)
  kernels::PackedMatrix w_gate;   // (hidden_dim, dim)
  kernels::PackedMatrix w_up;     // (hidden_dim, dim)
  kernels::PackedMatrix w_down;   // (dim, hidden_dim)
};

struct ModelWeights {
  RawTensor tok_embeddings;           // (vocab, dim), rows copied exactly on lookup
  std::vector<LayerWeights> layers;   // (n_layers)
  std::vector<float> final_norm;      // (dim)
  kernels::PackedMatrix lm_head;      // (vocab, dim); the embedding when tied
  kernels::DType dtype = kernels::DType::F32;  // dtype of the big matrices
};

// Who the model is: digests computed once at load, recorded in every session.
struct ModelIdentity {
  std::string name;              // directory or file stem
  std::string format;            // "hf" or "gguf"
  std::string weights_digest;    // hex BLAKE2b-256 over tensors in canonical order
  std::string tokenizer_digest;  // hex BLAKE2b-256 of the tokenizer's serialized SentencePiece proto
};

// Memory-mapped file kept alive as long as the model uses it.
class MappedFile;

struct Model {
  ModelConfig config;
  ModelWeights weights;
  Tokenizer tokenizer;
  ModelIdentity identity;
  std::filesystem::path source;            // what the user passed
  std::string chat_template_hint;          // raw template text or name found in the files, may be empty
  std::vector<std::shared_ptr<MappedFile>> mappings;
  int64_t weight_bytes() const;            // bytes one decode step reads from weights
};

struct LoadOptions {
  ThreadPool* pool = nullptr;   // for packing and digests
  bool show_progress = true;    // on a terminal, for loads over a second
};

// Load a Hugging Face directory (config.json + safetensors + tokenizer.model)
// or a GGUF v3 file. Throws ree::Error ("PATH: what is wrong", exit code 2).
Model load_model(const std::filesystem::path& path, const LoadOptions& options = {});

}  // namespace ree
