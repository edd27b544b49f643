#include "runtime/loader/model_builder.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <numeric>

#include "kernels/thread_pool.h"
#include "runtime/error.h"
#include "runtime/loader/json_fields.h"
#include "runtime/loader/progress.h"

namespace ree {

namespace {

// What the config says one canonical tensor must look like.
struct TensorSpec {
  std::string name;
  int rank = 2;
  int64_t rows = 1;  // 1 for rank 1
  int64_t cols = 0;
};

std::vector<TensorSpec> tensor_specs(const ModelConfig& c) {
  const int64_t q_rows = int64_t{c.n_heads} * c.head_dim;
  const int64_t kv_rows = int64_t{c.n_kv_heads} * c.head_dim;
  std::vector<TensorSpec> specs;
  specs.push_back({"model.embed_tokens.weight", 2, c.vocab_size, c.dim});
  for (int layer = 0; layer < c.n_layers; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    specs.push_back({p + "input_layernorm.weight", 1, 1, c.dim});
    specs.push_back({p + "self_attn.q_proj.weight", 2, q_rows, c.dim});
    specs.push_back({p + "self_attn.k_proj.weight", 2, kv_rows, c.dim});
    specs.push_back({p + "self_attn.v_proj.weight", 2, kv_rows, c.dim});
    specs.push_back({p + "self_attn.o_proj.weight", 2, c.dim, q_rows});
    specs.push_back({p + "post_attention_layernorm.weight", 1, 1, c.dim});
    specs.push_back({p + "mlp.gate_proj.weight", 2, c.hidden_dim, c.dim});
    specs.push_back({p + "mlp.up_proj.weight", 2, c.hidden_dim, c.dim});
    specs.push_back({p + "mlp.down_proj.weight", 2, c.dim, c.hidden_dim});
  }
  specs.push_back({"model.norm.weight", 1, 1, c.dim});
  if (!c.tied_embeddings) specs.push_back({"lm_head.weight", 2, c.vocab_size, c.dim});
  return specs;
}

std::string shape_text(int rank, int64_t rows, int64_t cols) {
  if (rank == 1) return "[" + std::to_string(cols) + "]";
  return "[" + std::to_string(rows) + "," + std::to_string(cols) + "]";
}

// The digest's spelling of a dtype: fixed here, whatever kernels calls it.
const char* digest_dtype_name(kernels::DType dtype) {
  switch (dtype) {
    case kernels::DType::F32: return "F32";
    case kernels::DType::F16: return "F16";
    case kernels::DType::BF16: return "BF16";
    case kernels::DType::Q8_0: return "Q8_0";
  }
  return "?";
}

// A config no loader should hand over; checked so that the tensor shapes
// computed from it are meaningful and the ids index real rows.
void check_config(const ModelConfig& c, const std::string& origin) {
  const bool sane = c.dim > 0 && c.hidden_dim > 0 && c.n_layers > 0 && c.n_heads > 0 &&
                    c.n_kv_heads > 0 && c.n_heads % c.n_kv_heads == 0 && c.head_dim > 0 &&
                    c.head_dim % 2 == 0 && c.vocab_size > 0 && c.max_seq_len > 0 &&
                    c.norm_eps > 0.0f && c.rope_theta > 0.0;
  if (!sane) throw file_error(origin, "model config is inconsistent (sizes must be positive, heads a multiple of kv heads)");
  if (c.bos_id < 0 || c.bos_id >= c.vocab_size || c.eos_id < 0 || c.eos_id >= c.vocab_size) {
    throw file_error(origin, "bos/eos token id outside the vocabulary of " + std::to_string(c.vocab_size));
  }
}

void check_row_order(const SourceTensor& t, const std::string& name) {
  if (t.row_order.empty()) return;
  if (t.rank != 2 || name == "model.embed_tokens.weight" ||
      static_cast<int64_t>(t.row_order.size()) != t.view.rows) {
    throw file_error(t.file, "tensor " + name + " has a row order that does not fit it");
  }
  std::vector<bool> seen(t.row_order.size(), false);
  for (const int32_t row : t.row_order) {
    if (row < 0 || static_cast<size_t>(row) >= seen.size() || seen[static_cast<size_t>(row)]) {
      throw file_error(t.file, "tensor " + name + " has a row order that is not a permutation");
    }
    seen[static_cast<size_t>(row)] = true;
  }
}

void check_one_tensor(const TensorSpec& spec, const SourceTensor& t) {
  if (t.rank != spec.rank || t.view.rows != spec.rows || t.view.cols != spec.cols) {
    throw file_error(t.file, "tensor " + spec.name + " has shape " + shape_text(t.rank, t.view.rows, t.view.cols) +
                                 ", expected " + shape_text(spec.rank, spec.rows, spec.cols));
  }
  const std::optional<uint64_t> bytes = stored_tensor_bytes(t.view.dtype, t.view.rows, t.view.cols);
  if (!bytes) {
    throw file_error(t.file, std::string("tensor ") + spec.name + ": shape " +
                                 shape_text(t.rank, t.view.rows, t.view.cols) + " is impossible for dtype " +
                                 digest_dtype_name(t.view.dtype));
  }
  if (t.nbytes != *bytes || (*bytes > 0 && t.view.data == nullptr)) {
    throw file_error(t.file, "tensor " + spec.name + " has " + std::to_string(t.nbytes) + " bytes, expected " +
                                 std::to_string(*bytes));
  }
  check_row_order(t, spec.name);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Tensors a checkpoint may carry that ree does not need: rotary tables
// (recomputed from rope_theta) and lm_head when tied (the embedding is used,
// as transformers does).
bool ignorable_tensor(const ModelConfig& config, const std::string& name) {
  return ends_with(name, ".rotary_emb.inv_freq") || (config.tied_embeddings && name == "lm_head.weight");
}

void put_le64(crypto_generichash_state* state, uint64_t v) {
  uint8_t bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(v >> (8 * i));
  crypto_generichash_update(state, bytes, sizeof bytes);
}

void put_text(crypto_generichash_state* state, const std::string& text) {
  put_le64(state, text.size());
  crypto_generichash_update(state, reinterpret_cast<const unsigned char*>(text.data()), text.size());
}

using Digest = std::array<uint8_t, crypto_generichash_BYTES>;

Digest tensor_digest(const std::string& name, const SourceTensor& t) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES);
  put_text(&state, name);
  put_text(&state, digest_dtype_name(t.view.dtype));
  put_le64(&state, static_cast<uint64_t>(t.rank));
  if (t.rank == 2) put_le64(&state, static_cast<uint64_t>(t.view.rows));
  put_le64(&state, static_cast<uint64_t>(t.view.cols));
  if (t.row_order.empty()) {
    crypto_generichash_update(&state, t.view.data, t.nbytes);
  } else {
    const uint64_t row_bytes = t.nbytes / static_cast<uint64_t>(t.view.rows);
    for (const int32_t row : t.row_order) {
      crypto_generichash_update(&state, t.view.data + static_cast<uint64_t>(row) * row_bytes, row_bytes);
    }
  }
  Digest digest;
  crypto_generichash_final(&state, digest.data(), digest.size());
  return digest;
}

std::string to_hex(const uint8_t* bytes, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

void init_sodium() {
  // Picks the vectorised BLAKE2b; idempotent and thread-safe.
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::vector<float> norm_to_f32(const SourceTensor& t) {
  std::vector<float> out(static_cast<size_t>(t.view.cols));
  kernels::row_to_f32(t.view.dtype, t.view.data, t.view.cols, out.data());
  return out;
}

// The pool and the progress bar, for the helpers below.
struct BuildContext {
  ThreadPool* pool = nullptr;
  Progress* progress = nullptr;
};

kernels::PackedMatrix pack(const SourceTensor& t, const BuildContext& ctx) {
  const int32_t* order = t.row_order.empty() ? nullptr : t.row_order.data();
  kernels::PackedMatrix m = kernels::pack_matrix(t.view.dtype, t.view.data, t.view.rows, t.view.cols, order,
                                                 ctx.pool);
  if (ctx.progress != nullptr) ctx.progress->add(t.nbytes);
  return m;
}

LayerWeights build_layer(const TensorSource& source, int layer, const BuildContext& ctx) {
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  const auto get = [&](const std::string& suffix) -> const SourceTensor& { return source.tensors.at(p + suffix); };
  LayerWeights w;
  w.attn_norm = norm_to_f32(get("input_layernorm.weight"));
  w.wq = pack(get("self_attn.q_proj.weight"), ctx);
  w.wk = pack(get("self_attn.k_proj.weight"), ctx);
  w.wv = pack(get("self_attn.v_proj.weight"), ctx);
  w.wo = pack(get("self_attn.o_proj.weight"), ctx);
  w.ffn_norm = norm_to_f32(get("post_attention_layernorm.weight"));
  w.w_gate = pack(get("mlp.gate_proj.weight"), ctx);
  w.w_up = pack(get("mlp.up_proj.weight"), ctx);
  w.w_down = pack(get("mlp.down_proj.weight"), ctx);
  return w;
}

}  // namespace

std::optional<uint64_t> stored_tensor_bytes(kernels::DType dtype, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) return std::nullopt;
  uint64_t row_bytes = 0;
  switch (dtype) {
    case kernels::DType::F32: row_bytes = 4 * static_cast<uint64_t>(cols); break;
    case kernels::DType::F16:
    case kernels::DType::BF16: row_bytes = 2 * static_cast<uint64_t>(cols); break;
    case kernels::DType::Q8_0:
      if (cols % 32 != 0) return std::nullopt;
      row_bytes = static_cast<uint64_t>(cols) / 32 * 34;  // f16 scale + 32 int8
      break;
  }
  uint64_t total = 0;
  if (__builtin_mul_overflow(row_bytes, static_cast<uint64_t>(rows), &total)) return std::nullopt;
  return total;
}

std::vector<std::string> canonical_tensor_names(const ModelConfig& config) {
  std::vector<std::string> names;
  for (TensorSpec& spec : tensor_specs(config)) names.push_back(std::move(spec.name));
  return names;
}

void check_tensor_source(const ModelConfig& config, const TensorSource& source) {
  check_config(config, source.origin);
  const std::vector<TensorSpec> specs = tensor_specs(config);
  for (const TensorSpec& spec : specs) {
    const auto it = source.tensors.find(spec.name);
    if (it == source.tensors.end()) throw file_error(source.origin, "missing tensor " + spec.name);
    check_one_tensor(spec, it->second);
  }
  for (const auto& entry : source.tensors) {
    // (not a structured binding: clang 14 cannot capture one in the lambda)
    const std::string& name = entry.first;
    const SourceTensor& tensor = entry.second;
    const bool expected = std::any_of(specs.begin(), specs.end(), [&](const TensorSpec& s) { return s.name == name; });
    if (!expected && !ignorable_tensor(config, name)) {
      throw file_error(tensor.file, "unexpected tensor " + printable(name) + " (not part of a " + config.architecture +
                                        " model with this config.json)");
    }
  }
}

namespace {

std::string weights_digest(const ModelConfig& config, const TensorSource& source, const BuildContext& ctx) {
  init_sodium();
  const std::vector<std::string> names = canonical_tensor_names(config);
  std::vector<const SourceTensor*> tensors;
  for (const std::string& name : names) tensors.push_back(&source.tensors.at(name));

  // Largest first, handed out one at a time: the threads finish together
  // even though one embedding can be as big as several layers.
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return tensors[a]->nbytes > tensors[b]->nbytes; });
  std::vector<Digest> digests(names.size());
  std::atomic<size_t> next{0};
  const int threads = ctx.pool != nullptr ? ctx.pool->size() : 1;
  parallel_for(ctx.pool, threads, 1, [&](int64_t, int64_t, int) {
    for (size_t i = next.fetch_add(1); i < order.size(); i = next.fetch_add(1)) {
      const size_t k = order[i];
      digests[k] = tensor_digest(names[k], *tensors[k]);
      if (ctx.progress != nullptr) ctx.progress->add(tensors[k]->nbytes);
    }
  });

  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, crypto_generichash_BYTES);
  const std::string domain = "ree-weights-v1";
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(domain.data()), domain.size());
  put_le64(&state, digests.size());
  for (const Digest& d : digests) crypto_generichash_update(&state, d.data(), d.size());
  Digest total;
  crypto_generichash_final(&state, total.data(), total.size());
  return to_hex(total.data(), total.size());
}

// Bytes the build reads: every tensor once to pack (the embedding twice when
// it is also the tied lm_head) and once to hash.
uint64_t build_work_bytes(const ModelConfig& config, const TensorSource& source) {
  uint64_t total = 0;
  for (const std::string& name : canonical_tensor_names(config)) total += 2 * source.tensors.at(name).nbytes;
  if (config.tied_embeddings) total += source.tensors.at("model.embed_tokens.weight").nbytes;
  return total;
}

}  // namespace

std::string compute_weights_digest(const ModelConfig& config, const TensorSource& source,
                                   const BuildOptions& options) {
  return weights_digest(config, source, BuildContext{options.pool, nullptr});
}

Model build_model(const ModelConfig& config, const TensorSource& source, Tokenizer tokenizer,
                  const BuildOptions& options) {
  check_tensor_source(config, source);
  if (tokenizer.vocab_size() > config.vocab_size) {
    throw file_error(source.origin, "the tokenizer has " + std::to_string(tokenizer.vocab_size()) +
                                        " pieces but the model only " + std::to_string(config.vocab_size) +
                                        " embedding rows");
  }
  Progress progress(options.progress_label, build_work_bytes(config, source),
                    progress_wanted(options.show_progress));
  const BuildContext ctx{options.pool, &progress};
  Model model;
  model.config = config;
  ModelWeights& w = model.weights;
  const SourceTensor& embedding = source.tensors.at("model.embed_tokens.weight");
  w.tok_embeddings = embedding.view;
  for (int layer = 0; layer < config.n_layers; ++layer) w.layers.push_back(build_layer(source, layer, ctx));
  w.final_norm = norm_to_f32(source.tensors.at("model.norm.weight"));
  w.lm_head = pack(config.tied_embeddings ? embedding : source.tensors.at("lm_head.weight"), ctx);
  w.dtype = w.layers.front().wq.dtype;

  model.identity.weights_digest = weights_digest(config, source, ctx);
  progress.finish();
  model.identity.tokenizer_digest = tokenizer.digest();
  model.tokenizer = std::move(tokenizer);
  return model;
}

}  // namespace ree
