// The CPU engine: a Llama forward pass over the repro-v1 kernels, read top
// to bottom in forward(). Threads and SIMD live inside the kernels; nothing
// here depends on them, so every mode/thread/SIMD choice gives the same
// sequence of operations on each value.
#include <algorithm>
#include <cstring>

#include "kernels/thread_pool.h"
#include "runtime/engine.h"
#include "runtime/error.h"

namespace ree {
namespace {

// Activations for up to max_batch tokens, and the KV cache.
struct CpuState {
  std::vector<float> x;       // (max_batch, dim) residual stream
  std::vector<float> xb;      // (max_batch, dim) normed input of a block
  std::vector<float> xb2;     // (max_batch, dim) block output
  std::vector<float> q;       // (max_batch, n_heads * head_dim)
  std::vector<float> k;       // (max_batch, kv_dim)
  std::vector<float> v;       // (max_batch, kv_dim)
  std::vector<float> att;     // (max_batch, n_heads * head_dim) attention output
  std::vector<float> hb;      // (max_batch, hidden_dim) gate, then swiglu
  std::vector<float> hb2;     // (max_batch, hidden_dim) up
  std::vector<float> logits;  // (max_batch, vocab)
  std::vector<float> k_cache; // (n_layers, context, kv_dim)
  std::vector<float> v_cache; // (n_layers, context, kv_dim)
};

class CpuEngine final : public Engine {
 public:
  CpuEngine(const Model& model, const EngineOptions& options)
      : model_(model), options_(options), pool_(std::max(1, options.threads)) {
    const ModelConfig& c = model.config;
    if (!kernels::simd_supported(options.simd))
      throw Error(std::string("this CPU does not support the ") + kernels::simd_name(options.simd) +
                  " path");
    context_ = options.context > 0 ? std::min<int64_t>(options.context, c.max_seq_len) : c.max_seq_len;
    if (context_ <= 0) throw Error("model has no usable context length");
    max_batch_ = std::max<int64_t>(1, options.max_batch);
    kv_dim_ = int64_t(c.n_kv_heads) * c.head_dim;
    const int64_t q_dim = int64_t(c.n_heads) * c.head_dim;
    CpuState& s = state_;
    s.x.resize(max_batch_ * c.dim);
    s.xb.resize(max_batch_ * c.dim);
    s.xb2.resize(max_batch_ * c.dim);
    s.q.resize(max_batch_ * q_dim);
    s.k.resize(max_batch_ * kv_dim_);
    s.v.resize(max_batch_ * kv_dim_);
    s.att.resize(max_batch_ * q_dim);
    s.hb.resize(max_batch_ * c.hidden_dim);
    s.hb2.resize(max_batch_ * c.hidden_dim);
    s.logits.resize(max_batch_ * int64_t(c.vocab_size));
    s.k_cache.assign(int64_t(c.n_layers) * context_ * kv_dim_, 0.0f);
    s.v_cache.assign(int64_t(c.n_layers) * context_ * kv_dim_, 0.0f);
    rope_ = kernels::make_rope_table(c.head_dim, context_, c.rope_theta);
    exec_ = kernels::Exec{options.simd, options.mode, &pool_};
  }

  const Model& model() const override { return model_; }
  const EngineOptions& options() const override { return options_; }
  std::string device_description() const override {
    return std::string("cpu ") + kernels::simd_name(options_.simd);
  }
  int64_t position() const override { return pos_; }
  int64_t context() const override { return context_; }
  void reset() override { pos_ = 0; }
  void rewind(int64_t pos) override {
    if (pos < 0 || pos > pos_) throw Error("rewind past the cached positions");
    pos_ = pos;
  }

  ForwardResult forward(std::span<const int32_t> tokens, const ForwardRequest& request) override;
  uint64_t kv_state_hash() const override;

 private:
  float* k_cache_at(int layer, int64_t pos) {
    return state_.k_cache.data() + (int64_t(layer) * context_ + pos) * kv_dim_;
  }
  float* v_cache_at(int layer, int64_t pos) {
    return state_.v_cache.data() + (int64_t(layer) * context_ + pos) * kv_dim_;
  }
  void probe(std::vector<uint64_t>& probes, bool wanted, int64_t T, int layer, ProbePoint point,
             const float* rows, int64_t width) const;
  void fill_result(const ForwardRequest& request, int64_t T, ForwardResult& result);

  const Model& model_;
  EngineOptions options_;
  ThreadPool pool_;
  kernels::Exec exec_;
  kernels::RopeTable rope_;
  CpuState state_;
  int64_t context_ = 0;
  int64_t max_batch_ = 0;
  int64_t kv_dim_ = 0;
  int64_t pos_ = 0;
};

void CpuEngine::probe(std::vector<uint64_t>& probes, bool wanted, int64_t T, int layer,
                      ProbePoint point, const float* rows, int64_t width) const {
  if (!wanted) return;
  const int64_t per_pos = int64_t(model_.config.n_layers) * kProbesPerLayer;
  for (int64_t t = 0; t < T; ++t)
    probes[t * per_pos + layer * kProbesPerLayer + int(point)] =
        kernels::f32_hash(rows + t * width, width);
}

ForwardResult CpuEngine::forward(std::span<const int32_t> tokens, const ForwardRequest& request) {
  const ModelConfig& c = model_.config;
  const ModelWeights& w = model_.weights;
  CpuState& s = state_;
  const int64_t T = int64_t(tokens.size());
  const int64_t pos0 = pos_;
  if (T == 0) throw Error("forward() needs at least one token");
  if (T > max_batch_) throw Error("forward() batch larger than max_batch");
  if (pos0 + T > context_)
    throw Error("context full: " + std::to_string(pos0 + T) + " positions > " +
                std::to_string(context_));
  const int64_t dim = c.dim, hidden = c.hidden_dim;
  std::vector<uint64_t> probes;
  if (request.probes) probes.assign(T * c.n_layers * kProbesPerLayer, 0);

  // Embedding: an exact copy of each token's row.
  for (int64_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab_size)
      throw Error("token id " + std::to_string(tokens[t]) + " outside the vocabulary");
    const RawTensor& e = w.tok_embeddings;
    kernels::row_to_f32(e.dtype, e.data + kernels::dtype_row_bytes(e.dtype, e.cols) * tokens[t],
                        dim, s.x.data() + t * dim);
  }

  const kernels::AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, kv_dim_};
  for (int l = 0; l < c.n_layers; ++l) {
    const LayerWeights& lw = w.layers[l];
    // Attention block: norm, q/k/v projections, RoPE, cache, attention, output projection.
    kernels::rmsnorm(exec_, s.x.data(), lw.attn_norm.data(), T, dim, c.norm_eps, s.xb.data());
    probe(probes, request.probes, T, l, ProbePoint::AttnNorm, s.xb.data(), dim);
    kernels::matmul(exec_, lw.wq, s.xb.data(), T, s.q.data());
    kernels::matmul(exec_, lw.wk, s.xb.data(), T, s.k.data());
    kernels::matmul(exec_, lw.wv, s.xb.data(), T, s.v.data());
    kernels::rope(exec_, rope_, s.q.data(), T, pos0, c.n_heads);
    kernels::rope(exec_, rope_, s.k.data(), T, pos0, c.n_kv_heads);
    std::memcpy(k_cache_at(l, pos0), s.k.data(), sizeof(float) * T * kv_dim_);
    std::memcpy(v_cache_at(l, pos0), s.v.data(), sizeof(float) * T * kv_dim_);
    kernels::attention(exec_, shape, s.q.data(), T, pos0, k_cache_at(l, 0), v_cache_at(l, 0),
                       s.att.data());
    kernels::matmul(exec_, lw.wo, s.att.data(), T, s.xb2.data());
    probe(probes, request.probes, T, l, ProbePoint::AttnOut, s.xb2.data(), dim);
    kernels::add_inplace(s.x.data(), s.xb2.data(), T * dim);

    // MLP block: norm, SwiGLU, down projection.
    kernels::rmsnorm(exec_, s.x.data(), lw.ffn_norm.data(), T, dim, c.norm_eps, s.xb.data());
    probe(probes, request.probes, T, l, ProbePoint::MlpNorm, s.xb.data(), dim);
    kernels::matmul(exec_, lw.w_gate, s.xb.data(), T, s.hb.data());
    kernels::matmul(exec_, lw.w_up, s.xb.data(), T, s.hb2.data());
    kernels::swiglu(exec_, s.hb.data(), s.hb2.data(), T * hidden, s.hb.data());
    kernels::matmul(exec_, lw.w_down, s.hb.data(), T, s.xb2.data());
    probe(probes, request.probes, T, l, ProbePoint::MlpOut, s.xb2.data(), dim);
    kernels::add_inplace(s.x.data(), s.xb2.data(), T * dim);
  }

  // Final norm and logits, only for the positions the caller asked for.
  const int64_t first = request.all_positions ? 0 : T - 1;
  const int64_t n_out = T - first;
  kernels::rmsnorm(exec_, s.x.data() + first * dim, w.final_norm.data(), n_out, dim, c.norm_eps,
                   s.xb.data());
  kernels::matmul(exec_, w.lm_head, s.xb.data(), n_out, s.logits.data());
  pos_ = pos0 + T;

  ForwardResult result;
  result.first_position = pos0 + first;
  if (request.probes) {
    const int64_t per_pos = int64_t(c.n_layers) * kProbesPerLayer;
    result.probes.assign(probes.begin() + first * per_pos, probes.end());
  }
  fill_result(request, n_out, result);
  return result;
}

void CpuEngine::fill_result(const ForwardRequest& request, int64_t n_out, ForwardResult& result) {
  const int64_t vocab = model_.config.vocab_size;
  result.n_positions = n_out;
  result.top_k = std::min<int>(request.top_k, int(vocab));
  result.logits_hash.resize(n_out);
  result.argmax.resize(n_out);
  result.top.resize(n_out * result.top_k);
  for (int64_t t = 0; t < n_out; ++t) {
    const float* row = state_.logits.data() + t * vocab;
    result.logits_hash[t] = kernels::logits_hash(row, vocab);
    result.argmax[t] = kernels::argmax(row, vocab);
    if (result.top_k > 0) top_k_of(row, vocab, result.top_k, result.top.data() + t * result.top_k);
  }
  if (request.full_logits) result.logits.assign(state_.logits.begin(), state_.logits.begin() + n_out * vocab);
}

uint64_t CpuEngine::kv_state_hash() const {
  uint64_t h = 0;
  const int64_t n = pos_ * kv_dim_;
  for (int l = 0; l < model_.config.n_layers; ++l) {
    h = kernels::f32_hash(state_.k_cache.data() + int64_t(l) * context_ * kv_dim_, n, h);
    h = kernels::f32_hash(state_.v_cache.data() + int64_t(l) * context_ * kv_dim_, n, h);
  }
  return h;
}

}  // namespace

std::unique_ptr<Engine> make_cpu_engine(const Model& model, const EngineOptions& options) {
  return std::make_unique<CpuEngine>(model, options);
}

}  // namespace ree
