// CudaEngine: the Llama forward pass of cpu_engine.cpp on one NVIDIA GPU.
// Every value goes through the same operations as on the CPU (cuda_ops.h
// says how the products are split without changing any sum), so in
// reproducible mode each step's logits hash equals the CPU's.
//
// A decode step (one token, no probes) is captured once as a CUDA graph and
// replayed: the kernels read the token and its position from device memory.
// In reproducible and deterministic modes the step is the fused decode step
// of decode_ops.h or the streamed step of stream_ops.h when REE_CUDA_DECODE
// asks (the kernels below by default); prefill, probes and
// fast mode's cuBLAS products use the kernels of cuda_ops.h. Each step then
// moves 12 bytes back (argmax and logits hash, computed on the device) unless
// the caller asked for top-k or the full logits.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "kernels/cuda/cublas_matmul.h"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/cuda_engine.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/decode_ops.h"
#include "kernels/cuda/device_weights.h"
#include "kernels/cuda/stream_ops.h"
#include "runtime/error.h"

namespace ree {
namespace {

using cuda::DeviceBuffer;
using cuda::PinnedBuffer;
using cuda::check;

// Attention scratch (the scores of each query row) is sized for this many bytes
// at most; longer prefills run attention in several launches.
constexpr size_t kAttentionScratchBytes = size_t(256) << 20;

// Activations for up to max_batch tokens, the KV cache and scratch.
struct CudaState {
  DeviceBuffer x;         // (max_batch, dim) residual stream
  DeviceBuffer xb;        // (max_batch, dim) normed input of a block (not written by folded decode steps)
  DeviceBuffer q;         // (max_batch, q_dim) queries after RoPE
  DeviceBuffer att;       // (max_batch, q_dim) attention output
  DeviceBuffer h;         // (max_batch, hidden) SwiGLU output
  DeviceBuffer partials;  // chunk partials of the current product
  DeviceBuffer partials_down;  // (chunks, dim) a decode step's down product (gate|up's partials stay live)
  DeviceBuffer logits;    // (max_batch, vocab)
  DeviceBuffer probe;     // (max_batch, dim) a product's output, when probing
  DeviceBuffer ss_partial;  // (max_batch, chunks(dim)) rmsnorm scratch
  DeviceBuffer tickets;     // (max_batch) rmsnorm's last-block tickets, kept zero (folded norms leave them alone)
  DeviceBuffer xb_low, att_low, h_low;  // 16-bit copies for cuBLAS (fast mode)
  DeviceBuffer scores;                  // attention scratch
  DeviceBuffer k_cache, v_cache;        // (n_layers, context, kv_dim)
  DeviceBuffer rope_cos, rope_sin;      // (context, head_dim / 2)
  DeviceBuffer tokens;                  // (max_batch) int32
  DeviceBuffer pos0;                    // int64: position of the first token
  DeviceBuffer argmax;                  // (max_batch) int32
  DeviceBuffer hash;                    // (max_batch) uint64
  DeviceBuffer top_ids, top_logits;     // (max_batch, kDeviceTopK)
  DeviceBuffer summary_scratch;         // (max_batch, logits_summary_scratch_words)
  DeviceBuffer summary_tickets;         // (max_batch), kept zero
  DeviceBuffer decode_layers;           // (n_layers) cuda::DecodeLayer, for the fused decode step
  DeviceBuffer decode_qkv, decode_gate_up;  // a fused step's q|k|v and gate|up values
  DeviceBuffer decode_sync;             // [2] the persistent kernel's counters, kept zero
  DeviceBuffer phase_times;             // the persistent step's time stamps (REE_CUDA_PHASE_TIMES=1)
  DeviceBuffer stream_x2, stream_parts;  // the streamed step's residual after attention and chunk partials
  PinnedBuffer host_tokens, host_pos0, host_argmax, host_hash, host_top_ids, host_top_logits;
};

// How a decode step runs (REE_CUDA_DECODE selects; docs/cuda.md).
enum class DecodePath { Stream, Persistent, Phases, Kernels };

// Mean duration of each kind of phase over the timed persistent steps.
struct PhaseClock {
  std::vector<double> sum_us = std::vector<double>(7, 0.0);  // by cuda::StreamPhase (DecodePhase's numbers and Residual)
  std::vector<int64_t> count = std::vector<int64_t>(7, 0);
  std::vector<double> prologue_us = std::vector<double>(7, 0.0);  // streamed step: from the barrier to the tiles
  std::vector<double> work_us = std::vector<double>(7, 0.0);      // streamed step: the tiles (or the phase's work)
  double step_sum_us = 0;
  int64_t steps = 0;
};

// Where per-layer probe hashes go while a forward pass runs.
struct ProbeSink {
  std::vector<uint64_t>* out = nullptr;  // [T][n_layers * kProbesPerLayer]
  int64_t T = 0;
};

class CudaEngine final : public Engine {
 public:
  CudaEngine(const Model& model, const EngineOptions& options);
  ~CudaEngine() override;

  const Model& model() const override { return model_; }
  const EngineOptions& options() const override { return options_; }
  std::string device_description() const override { return description_; }
  int64_t position() const override { return pos_; }
  int64_t context() const override { return context_; }
  void reset() override {
    pos_ = 0;
    last_decode_split_ = -1;
  }
  void rewind(int64_t pos) override {
    if (pos < 0 || pos > pos_) throw Error("rewind past the cached positions");
    pos_ = pos;
    last_decode_split_ = -1;
  }
  ForwardResult forward(std::span<const int32_t> tokens, const ForwardRequest& request) override;
  uint64_t kv_state_hash() const override;

 private:
  void check_shape() const;
  void allocate();
  cuda::Partials product(const cuda::DeviceMatrix& w, const float* x, const void* x_low, int64_t T, int meter = 0);
  cuda::Partials product_normed(const cuda::DeviceMatrix& w, const cuda::NormedX& x, int meter);
  void enqueue_forward(int64_t T, int64_t first, int64_t n_out, const ProbeSink* probes, int split);
  cuda::AttentionArgs attention_args(int layer) const;
  void enqueue_attention(int layer, int64_t T, int split);
  int attention_split(int64_t pos0, int64_t T) const;
  void enqueue_logits(int64_t first, int64_t n_out, const cuda::NormedX* normed);
  void probe(const ProbeSink* sink, int layer, ProbePoint point, const float* rows);
  void run_decode_graph(int split);
  void choose_decode_path();
  void prepare_fused_decode();
  void prepare_stream_decode();
  void enqueue_decode_step(int split);
  void enqueue_summary(int64_t n_out);
  void record_phase_times();
  void record_stream_times();

 public:
  std::string decode_path_name() const;
  std::vector<int> attention_splits() const;
  bool norm_folded() const { return fold_norm_ && decode_path_ == DecodePath::Kernels; }
  std::vector<std::pair<std::string, double>> phase_means() const;
  int64_t timed_steps() const { return clock_.steps; }
  double mean_step_us() const { return clock_.steps ? clock_.step_sum_us / double(clock_.steps) : 0.0; }
  double replay_decode_graph_us(int n);

 private:
  float* k_cache_at(int layer) const { return state_.k_cache.as<float>() + int64_t(layer) * context_ * kv_dim_; }
  float* v_cache_at(int layer) const { return state_.v_cache.as<float>() + int64_t(layer) * context_ * kv_dim_; }
  bool summary_on_device() const { return model_.config.vocab_size >= 61; }
  // Top-k entries the device summary gives (0: top-k comes from the host).
  int device_top_k() const {
    return single_summary_ ? 0 : int(std::min<int64_t>(cuda::kDeviceTopK, model_.config.vocab_size));
  }

  const Model& model_;
  EngineOptions options_;
  std::string description_;
  cudaStream_t stream_ = nullptr;
  cuda::Launch launch_;  // stream_, with programmatic dependent launch on sm_90
  cuda::DeviceWeights weights_;
  std::optional<cuda::CublasMatmul> cublas_;
  cuda::LowPrecision low_ = cuda::LowPrecision::None;
  CudaState state_;
  // The decode step's graphs, by the attention split they launch (1 to
  // kAttentionMaxSplit blocks a head; attention_split()).
  cudaGraphExec_t decode_graphs_[cuda::kAttentionMaxSplit + 1] = {};
  int64_t context_ = 0, max_batch_ = 0, kv_dim_ = 0, q_dim_ = 0;
  int64_t partial_capacity_ = 0;  // floats in state_.partials
  int64_t attention_rows_ = 0;    // query rows per attention launch
  int64_t pos_ = 0;
  // The graph the last forward() ran (its attention split), -1 when that
  // call ran none or the cache was reset or rewound since: what
  // replay_decode_graph_us may replay.
  int last_decode_split_ = -1;
  bool single_summary_ = false;  // REE_CUDA_SUMMARY=single: the first summary kernel, no device top-k
  bool fused_rope_attention_ = true;  // one token: RoPE, cache write and attention in one kernel
  // One token without probes: each norm's consumer product finishes it
  // (cuda::NormedX) instead of reading a normed vector (REE_CUDA_NORM_FOLD=0: off).
  bool fold_norm_ = true;
  // With PDL, one-token products (a decode step's, and any lm_head slice of
  // one logits row: enqueue_logits) load their first weights in metered
  // groups of this many units (launch_matmul_partials): q|k|v, o, gate|up,
  // down, lm_head. Metering keeps a short kernel's chain of round trips from
  // queueing behind the next product's loads (docs/cuda.md, session 8: 8
  // everywhere 834-838 tok/s, 16 the same, unmetered 779-781 on an H100).
  // The down product waits for a product instead (gate|up, itself bound by
  // the memory system), so it loads its first weights at once: +1.5-2.3%
  // decode at 128 tokens, +5% at 1,500 on an H100 (session 14).
  // REE_CUDA_MM_METER=q,o,g,d,l sets them (0: all at once; without PDL
  // always 0, see meter()).
  int meter_[5] = {8, 8, 8, 0, 8};
  // Product k's meter as launched: metering is about the loads a product
  // issues while the kernel before it still runs, which happens only under
  // PDL; without PDL its first weights go out at once, as before session 8.
  int meter(int k) const { return launch_.pdl ? meter_[k] : 0; }
  // A decode row of n 256-position chunks runs on the most blocks a head
  // up to min(n, max_split_) that fit this GPU and context (split_fits_;
  // attention_split.cu) once n >= split_min_chunks_ (0: never).
  // REE_CUDA_ATTENTION_SPLIT=N[,M] sets both.
  int split_min_chunks_ = 3;
  int max_split_ = cuda::kAttentionMaxSplit;
  bool split_fits_[cuda::kAttentionMaxSplit + 1] = {};
  DecodePath decode_path_ = DecodePath::Kernels;
  std::string decode_note_;        // why the path is slower than asked, if it is
  bool cooperative_ = true;        // REE_CUDA_COOPERATIVE=0: launch the persistent kernel plainly
  int persistent_blocks_ = 0;      // one per SM (persistent and streamed steps)
  cuda::DecodeArgs decode_;        // the fused step's arguments (decode_path_ != Kernels)
  cuda::StreamArgs streamed_;       // the streamed step's (decode_path_ == Stream)
  PhaseClock clock_;
};

CudaEngine::CudaEngine(const Model& model, const EngineOptions& options) : model_(model), options_(options) {
  cuda::require_device();
  description_ = "cuda " + cuda_device_status();
  check_shape();
  const ModelConfig& c = model.config;
  context_ = options.context > 0 ? std::min<int64_t>(options.context, c.max_seq_len) : c.max_seq_len;
  if (context_ <= 0) throw Error("model has no usable context length");
  max_batch_ = std::clamp<int64_t>(options.max_batch, 1, 65535);
  kv_dim_ = int64_t(c.n_kv_heads) * c.head_dim;
  q_dim_ = int64_t(c.n_heads) * c.head_dim;
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  // Programmatic dependent launch (sm_90+) overlaps each kernel's start with
  // its predecessor's end: +12% decode speed on an H100, measured in three
  // device runs (docs/cuda.md), whose bit-identity suites ran with it on and
  // off. On by default; REE_CUDA_PDL=0 turns it off.
  const char* pdl = std::getenv("REE_CUDA_PDL");
  launch_ = cuda::Launch{stream_, cuda_device_info().compute_capability >= 90 && !(pdl && std::string(pdl) == "0")};
  // A decode step runs RoPE, the KV-cache writes and attention as one kernel
  // (launch_rope_attention) for rows that are not split over a cluster: one
  // kernel boundary and the round trips for q and the new rows fewer.
  // Measured on an H100 (docs/cuda.md, session 15): +3.3% decode at 128
  // tokens by itself (1,042-1,048 against 1,011-1,014 tok/s, the decode
  // graph 948 against 983 us), +4.5% with attention's shortened chains
  // (graph 943 against 989 us), a tie from 600 (rows split from 513
  // positions keep two kernels).
  // REE_CUDA_ROPE_ATTENTION=0 runs qkv_rope and attention as two kernels.
  const char* ra = std::getenv("REE_CUDA_ROPE_ATTENTION");
  fused_rope_attention_ = !(ra && std::string(ra) == "0");
  if (const char* mm = std::getenv("REE_CUDA_MM_METER")) {
    int m[5], used = 0;
    if (std::sscanf(mm, "%d,%d,%d,%d,%d%n", &m[0], &m[1], &m[2], &m[3], &m[4], &used) != 5 || mm[used] != 0 ||
        std::any_of(m, m + 5, [](int v) { return v != 0 && v != 8 && v != 16; }))
      throw Error(std::string("REE_CUDA_MM_METER='") + mm + "': five of 0, 8 or 16 (q|k|v,o,gate|up,down,lm_head)");
    std::copy(m, m + 5, meter_);
  }
  if (const char* split = std::getenv("REE_CUDA_ATTENTION_SPLIT")) {
    int n = -1, most = max_split_, used = 0;
    const int got = std::sscanf(split, "%d%n,%d%n", &n, &used, &most, &used);
    if (got < 1 || split[used] != 0 || n < 0 || n == 1 || n > 64 || most < 2 || most > cuda::kAttentionMaxSplit)
      throw Error(std::string("REE_CUDA_ATTENTION_SPLIT='") + split +
                  "': N[,M], N the chunks a decode row needs to split (0: never, 2-64), M the most blocks a head (2-8)");
    split_min_chunks_ = n;
    max_split_ = most;
  }
  const char* fold = std::getenv("REE_CUDA_NORM_FOLD");
  fold_norm_ = !(fold && std::string(fold) == "0");
  const char* summary = std::getenv("REE_CUDA_SUMMARY");
  single_summary_ = summary && std::string(summary) == "single";
  // Deterministic mode has no faster order to offer on the GPU than the
  // contract's: it runs the reproducible kernels.
  const bool cublas = options.mode == kernels::Mode::Fast && cuda::fast_mode_uses_cublas(model);
  weights_ = cuda::upload_weights(model, cublas, std::max(1, options.threads));
  if (cublas) {
    fold_norm_ = false;  // cuBLAS reads the normed vector's 16-bit copy
    cublas_.emplace(stream_);
    low_ = cuda::low_precision_for(weights_.lm_head.dtype);
  }
  allocate();
  choose_decode_path();
  if (decode_path_ != DecodePath::Kernels) prepare_fused_decode();
}

CudaEngine::~CudaEngine() {
  for (cudaGraphExec_t g : decode_graphs_)
    if (g) cudaGraphExecDestroy(g);
  cublas_.reset();
  if (stream_) cudaStreamDestroy(stream_);
}

void CudaEngine::check_shape() const {
  const ModelConfig& c = model_.config;
  if (c.dim <= 0 || c.hidden_dim <= 0 || c.n_layers <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 ||
      c.head_dim <= 0 || c.head_dim % 2 != 0 || c.head_dim > 512 || c.n_heads % c.n_kv_heads != 0 || c.vocab_size <= 0)
    throw Error("--device cuda: unsupported model shape (dim " + std::to_string(c.dim) + ", heads " +
                std::to_string(c.n_heads) + "/" + std::to_string(c.n_kv_heads) + ", head_dim " +
                std::to_string(c.head_dim) + ")");
  if (int64_t(model_.weights.layers.size()) != c.n_layers) throw Error("--device cuda: model has no layer weights");
}

void CudaEngine::allocate() {
  const ModelConfig& c = model_.config;
  const int64_t B = max_batch_, dim = c.dim, hidden = c.hidden_dim, vocab = c.vocab_size;
  CudaState& s = state_;
  s.x = DeviceBuffer(sizeof(float) * B * dim, "activations");
  s.xb = DeviceBuffer(sizeof(float) * B * dim, "activations");
  s.q = DeviceBuffer(sizeof(float) * B * q_dim_, "activations");
  s.att = DeviceBuffer(sizeof(float) * B * q_dim_, "activations");
  s.h = DeviceBuffer(sizeof(float) * B * hidden, "activations");
  s.logits = DeviceBuffer(sizeof(float) * B * vocab, "logits");
  s.probe = DeviceBuffer(sizeof(float) * B * dim, "probes");
  s.ss_partial = DeviceBuffer(sizeof(float) * B * cuda::chunk_count(dim), "norm scratch");
  s.tickets = DeviceBuffer(sizeof(unsigned) * B, "norm tickets");
  check(cudaMemset(s.tickets.get(), 0, s.tickets.bytes()), "cudaMemset");
  if (low_ != cuda::LowPrecision::None) {
    s.xb_low = DeviceBuffer(2 * B * dim, "16-bit activations");
    s.att_low = DeviceBuffer(2 * B * q_dim_, "16-bit activations");
    s.h_low = DeviceBuffer(2 * B * hidden, "16-bit activations");
  }
  // One buffer holds the partials of whichever product runs; the lm_head's
  // rows are processed in slices that fit it.
  int64_t cap = 0;
  const cuda::DeviceLayer& l0 = weights_.layers[0];
  for (const cuda::DeviceMatrix* m : {&l0.qkv, &l0.wo, &l0.gate_up, &l0.down}) cap = std::max(cap, B * m->chunks() * m->rows);
  cap = std::max<int64_t>(cap, int64_t(weights_.lm_head.chunks()) * vocab);
  partial_capacity_ = cap;
  s.partials = DeviceBuffer(sizeof(float) * size_t(cap), "matmul partials");
  s.partials_down = DeviceBuffer(sizeof(float) * size_t(l0.down.chunks()) * size_t(l0.down.rows), "matmul partials");

  const size_t per_row = sizeof(float) * size_t(c.n_heads) * size_t(context_);
  attention_rows_ = std::clamp<int64_t>(int64_t(kAttentionScratchBytes / per_row), 1, B);
  s.scores = DeviceBuffer(per_row * size_t(attention_rows_), "attention scratch");
  cuda::prepare_attention(c.head_dim);
  // Fewer blocks a head take more shared memory (each holds the scores of
  // more chunks), so each split is checked on its own.
  for (int split = 2; split <= max_split_; ++split)
    split_fits_[split] = cuda::attention_split_supported(c.head_dim, context_, split);
  const size_t cache_bytes = sizeof(float) * size_t(c.n_layers) * size_t(context_) * size_t(kv_dim_);
  s.k_cache = DeviceBuffer(cache_bytes, "the KV cache (try a smaller --context)");
  s.v_cache = DeviceBuffer(cache_bytes, "the KV cache (try a smaller --context)");
  check(cudaMemset(s.k_cache.get(), 0, cache_bytes), "cudaMemset");
  check(cudaMemset(s.v_cache.get(), 0, cache_bytes), "cudaMemset");
  const kernels::RopeTable rope = kernels::make_rope_table(c.head_dim, context_, c.rope_theta);
  s.rope_cos = cuda::upload(rope.cos.data(), rope.cos.size() * sizeof(float), "the RoPE table");
  s.rope_sin = cuda::upload(rope.sin.data(), rope.sin.size() * sizeof(float), "the RoPE table");
  s.tokens = DeviceBuffer(sizeof(int32_t) * B, "token ids");
  s.pos0 = DeviceBuffer(sizeof(int64_t), "the position");
  s.argmax = DeviceBuffer(sizeof(int32_t) * B, "argmax");
  s.hash = DeviceBuffer(sizeof(uint64_t) * B, "logits hashes");
  s.host_tokens = PinnedBuffer(sizeof(int32_t) * B, "token ids");
  s.host_pos0 = PinnedBuffer(sizeof(int64_t), "the position");
  s.host_argmax = PinnedBuffer(sizeof(int32_t) * B, "argmax");
  s.host_hash = PinnedBuffer(sizeof(uint64_t) * B, "logits hashes");
  s.top_ids = DeviceBuffer(sizeof(int32_t) * B * cuda::kDeviceTopK, "top-k");
  s.top_logits = DeviceBuffer(sizeof(float) * B * cuda::kDeviceTopK, "top-k");
  s.host_top_ids = PinnedBuffer(sizeof(int32_t) * B * cuda::kDeviceTopK, "top-k");
  s.host_top_logits = PinnedBuffer(sizeof(float) * B * cuda::kDeviceTopK, "top-k");
  if (summary_on_device()) {
    s.summary_scratch = DeviceBuffer(sizeof(uint64_t) * B * cuda::logits_summary_scratch_words(vocab), "logits summary");
    s.summary_tickets = DeviceBuffer(sizeof(unsigned) * B, "logits summary");
    check(cudaMemset(s.summary_tickets.get(), 0, s.summary_tickets.bytes()), "cudaMemset");
    cuda::prepare_logits_summary(vocab);
  }
}

// One product W x for T rows; returns how its consumer finds the values.
cuda::Partials CudaEngine::product(const cuda::DeviceMatrix& w, const float* x, const void* x_low, int64_t T,
                                   int meter) {
  float* out = state_.partials.as<float>();
  if (w.cublas) cublas_->run(w, x, x_low, T, out);
  else cuda::launch_matmul_partials(w.gpu, x, w.cols, T, out, launch_, T == 1 ? meter : 0);
  return cuda::Partials{out, w.chunks(), w.rows};
}

// One token's product of a norm that its blocks finish (cuda::NormedX).
cuda::Partials CudaEngine::product_normed(const cuda::DeviceMatrix& w, const cuda::NormedX& x, int meter) {
  float* out = state_.partials.as<float>();
  cuda::launch_matmul_partials_normed(w.gpu, x, out, launch_, meter);
  return cuda::Partials{out, w.chunks(), w.rows};
}

void CudaEngine::probe(const ProbeSink* sink, int layer, ProbePoint point, const float* rows) {
  if (sink == nullptr) return;
  const int64_t dim = model_.config.dim;
  std::vector<float> host(size_t(sink->T * dim));
  check(cudaMemcpyAsync(host.data(), rows, host.size() * sizeof(float), cudaMemcpyDeviceToHost, stream_),
        "cudaMemcpyAsync (probe)");
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (probe)");
  const int64_t per_pos = int64_t(model_.config.n_layers) * kProbesPerLayer;
  for (int64_t t = 0; t < sink->T; ++t)
    (*sink->out)[size_t(t * per_pos + layer * kProbesPerLayer + int(point))] =
        kernels::f32_hash(host.data() + t * dim, dim);
}

cuda::AttentionArgs CudaEngine::attention_args(int layer) const {
  const ModelConfig& c = model_.config;
  cuda::AttentionArgs a;
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = c.head_dim;
  a.pos0 = state_.pos0.as<int64_t>();
  a.q = state_.q.as<float>();
  a.k_cache = k_cache_at(layer);
  a.v_cache = v_cache_at(layer);
  a.context = context_;
  a.scores = state_.scores.as<float>();
  a.out = state_.att.as<float>();
  a.out_low = state_.att_low.get();
  a.low = low_;
  a.T = 1;
  return a;
}

// How many blocks a head the decode row of a pass at pos0 runs on: 1 for
// prefill rows, for rows of fewer than split_min_chunks_ chunks, and for the
// other decode paths (their attention is their own).
// Measured on an H100 (tinyllama-1.1b bf16, 256 decode steps, docs/cuda.md,
// session 10): from 1,500 positions 573 -> 700 tok/s, from 600 723 -> 788,
// from 128 (no row of 3 chunks) unchanged; splitting rows of 2 chunks was
// 1.4% slower there, and 4 blocks a head at most 5% slower at 1,500 than 8.
int CudaEngine::attention_split(int64_t pos0, int64_t T) const {
  if (T != 1 || split_min_chunks_ == 0 || decode_path_ != DecodePath::Kernels) return 1;
  const int64_t chunks = (pos0 + 1 + cuda::kChunk - 1) / cuda::kChunk;
  if (chunks < split_min_chunks_) return 1;
  for (int split = int(std::min<int64_t>(chunks, max_split_)); split > 1; --split)
    if (split_fits_[split]) return split;
  return 1;
}

void CudaEngine::enqueue_attention(int layer, int64_t T, int split) {
  cuda::AttentionArgs a = attention_args(layer);
  a.split = split;
  for (int64_t t0 = 0; t0 < T; t0 += attention_rows_) {
    a.t0 = t0;
    a.T = std::min(attention_rows_, T - t0);
    cuda::launch_attention(a, launch_);
  }
}

// normed: the final norm left to the lm_head product (one token), or null.
void CudaEngine::enqueue_logits(int64_t first, int64_t n_out, const cuda::NormedX* normed) {
  const int64_t dim = model_.config.dim, vocab = model_.config.vocab_size;
  const cuda::DeviceMatrix& lm = weights_.lm_head;
  if (normed != nullptr) {
    if (first != 0 || n_out != 1) throw Error("cuda: a folded final norm serves one logits row");
    cuda::launch_combine(product_normed(lm, *normed, meter(4)), 1, state_.logits.as<float>(), launch_);
    return enqueue_summary(1);
  }
  const int64_t slice = std::max<int64_t>(1, partial_capacity_ / (int64_t(lm.chunks()) * vocab));
  const auto* xb_low = static_cast<const uint16_t*>(state_.xb_low.get());
  for (int64_t r0 = 0; r0 < n_out; r0 += slice) {
    const int64_t n = std::min(slice, n_out - r0);
    const int64_t row = first + r0;
    const cuda::Partials p =
        product(lm, state_.xb.as<float>() + row * dim, xb_low ? xb_low + row * dim : nullptr, n, meter(4));
    cuda::launch_combine(p, n, state_.logits.as<float>() + r0 * vocab, launch_);
  }
  enqueue_summary(n_out);
}

// Hash, argmax and top-k of the first n_out logits rows, on the device.
void CudaEngine::enqueue_summary(int64_t n_out) {
  const int64_t vocab = model_.config.vocab_size;
  if (!summary_on_device()) return;
  if (single_summary_) {
    cuda::launch_logits_summary_single(state_.logits.as<float>(), n_out, vocab, state_.argmax.as<int32_t>(),
                                       state_.hash.as<uint64_t>(), launch_);
    return;
  }
  cuda::LogitsSummaryArgs a;
  a.logits = state_.logits.as<float>();
  a.T = n_out;
  a.vocab = vocab;
  a.top_k = device_top_k();  // always the most, so one decode graph serves every request
  a.argmax = state_.argmax.as<int32_t>();
  a.hash = state_.hash.as<uint64_t>();
  a.top_ids = state_.top_ids.as<int32_t>();
  a.top_logits = state_.top_logits.as<float>();
  a.scratch = state_.summary_scratch.as<uint64_t>();
  a.tickets = state_.summary_tickets.as<unsigned>();
  cuda::launch_logits_summary(a, launch_);
}

// split: the attention split of a decode row (attention_split()).
void CudaEngine::enqueue_forward(int64_t T, int64_t first, int64_t n_out, const ProbeSink* probes, int split) {
  const ModelConfig& c = model_.config;
  const cuda::DeviceWeights& w = weights_;
  CudaState& s = state_;
  float* x = s.x.as<float>();
  float* xb = s.xb.as<float>();

  // Embedding: an exact copy of each token's row; then the first norm.
  cuda::launch_embed({w.embedding_dtype, static_cast<const uint8_t*>(w.embedding.get()), w.embedding_row_bytes,
                      c.dim, s.tokens.as<int32_t>(), T, x},
                     launch_);
  // One token without probes: each norm stops at x and its ss partials, and
  // the product that consumes it finishes it in every block (NormedX). The
  // same bits; the norm's ticket and last pass leave the step's chain:
  // +13% decode speed on an H100 (session 11: 810 -> 927 tok/s, interleaved).
  const bool fold = fold_norm_ && T == 1 && probes == nullptr;
  cuda::ResidualNormArgs norm;
  norm.T = T;
  norm.dim = c.dim;
  norm.eps = c.norm_eps;
  norm.x = x;
  norm.y = fold ? nullptr : xb;
  norm.y_low = fold ? nullptr : s.xb_low.get();
  norm.low = low_;
  norm.w = w.layers[0].attn_norm.as<float>();
  norm.ss_partial = s.ss_partial.as<float>();
  norm.tickets = s.tickets.as<unsigned>();
  cuda::launch_residual_norm(norm, launch_);
  // The last norm launched, as its consumer finishes it (fold only).
  const auto pending_norm = [&] { return cuda::NormedX{x, s.ss_partial.as<float>(), norm.w, c.dim, c.norm_eps}; };
  const auto product_of_norm = [&](const cuda::DeviceMatrix& m, int k) {
    return fold ? product_normed(m, pending_norm(), meter(k)) : product(m, xb, s.xb_low.get(), T, meter(k));
  };

  for (int l = 0; l < c.n_layers; ++l) {
    const cuda::DeviceLayer& lw = w.layers[size_t(l)];
    // Attention block: q/k/v product, RoPE and cache, attention, output product.
    probe(probes, l, ProbePoint::AttnNorm, xb);
    cuda::QkvRopeArgs qkv;
    qkv.qkv = product_of_norm(lw.qkv, 0);
    qkv.T = T;
    qkv.n_heads = c.n_heads;
    qkv.n_kv_heads = c.n_kv_heads;
    qkv.head_dim = c.head_dim;
    qkv.pos0 = s.pos0.as<int64_t>();
    qkv.cos = s.rope_cos.as<float>();
    qkv.sin = s.rope_sin.as<float>();
    qkv.q_out = s.q.as<float>();
    qkv.k_cache = k_cache_at(l);
    qkv.v_cache = v_cache_at(l);
    if (T == 1 && fused_rope_attention_ && split == 1) {
      cuda::launch_rope_attention(qkv, attention_args(l), launch_);
    } else {
      cuda::launch_qkv_rope(qkv, launch_);
      enqueue_attention(l, T, split);
    }
    // x = x + attention output; xb = mlp norm of x (folded: its ss partials).
    norm.add = product(lw.wo, s.att.as<float>(), s.att_low.get(), T, meter(1));
    norm.w = lw.ffn_norm.as<float>();
    norm.probe = probes ? s.probe.as<float>() : nullptr;
    cuda::launch_residual_norm(norm, launch_);
    probe(probes, l, ProbePoint::AttnOut, s.probe.as<float>());
    probe(probes, l, ProbePoint::MlpNorm, xb);

    // MLP block: gate|up product, SwiGLU, down product. A decode step's down
    // product computes SwiGLU itself, chunk by chunk (one launch less).
    const cuda::Partials gate_up = product_of_norm(lw.gate_up, 2);
    if (T == 1 && !lw.down.cublas) {
      cuda::launch_matmul_partials_swiglu(lw.down.gpu, gate_up, s.partials_down.as<float>(), launch_, meter(3));
      norm.add = cuda::Partials{s.partials_down.as<float>(), lw.down.chunks(), lw.down.rows};
    } else {
      cuda::SwigluArgs sw;
      sw.gate_up = gate_up;
      sw.T = T;
      sw.hidden = c.hidden_dim;
      sw.h = s.h.as<float>();
      sw.h_low = s.h_low.get();
      sw.low = low_;
      cuda::launch_swiglu(sw, launch_);
      norm.add = product(lw.down, s.h.as<float>(), s.h_low.get(), T);
    }
    // x = x + mlp output; xb = the next layer's attention norm (or the final
    // norm; folded: its ss partials).
    norm.w = l + 1 < c.n_layers ? w.layers[size_t(l) + 1].attn_norm.as<float>() : w.final_norm.as<float>();
    cuda::launch_residual_norm(norm, launch_);
    probe(probes, l, ProbePoint::MlpOut, s.probe.as<float>());
  }
  const cuda::NormedX final_norm = pending_norm();
  enqueue_logits(first, n_out, fold ? &final_norm : nullptr);
}

// REE_CUDA_DECODE = kernels (the default) | stream | persistent | phases.
// The streamed step (stream_ops.h) needs sm_90 and one dtype for every
// matrix; measured 546-591 tok/s against the kernels' 600 (docs/cuda.md,
// session 3), so it is opt-in. The fused
// step (decode_ops.h) needs the GPU-layout matrices (not fast mode's cuBLAS
// ones) and a shape it supports; the persistent kernel also needs one dtype
// for every layer matrix and a cooperative launch. The kernels are the
// default because they measured fastest on an H100 (docs/cuda.md: 601 tok/s
// against the persistent kernel's 564 on tinyllama-1.1b bf16).
void CudaEngine::choose_decode_path() {
  const char* env = std::getenv("REE_CUDA_DECODE");
  const std::string want = env ? env : "kernels";
  if (want == "kernels") return;
  if (want != "stream" && want != "persistent" && want != "phases")
    throw Error("REE_CUDA_DECODE: '" + want + "' is not stream, persistent, phases or kernels");
  const char* coop = std::getenv("REE_CUDA_COOPERATIVE");
  cooperative_ = !(coop && std::string(coop) == "0");
  const cuda::DeviceWeights& w = weights_;
  bool one_dtype = true;
  for (const cuda::DeviceLayer& l : w.layers)
    for (const cuda::DeviceMatrix* m : {&l.qkv, &l.wo, &l.gate_up, &l.down}) {
      if (m->cublas) {
        decode_note_ = "fast mode's cuBLAS products run as kernels";
        return;
      }
      one_dtype = one_dtype && m->dtype == w.layers[0].qkv.dtype;
    }
  if (w.lm_head.cublas) {
    decode_note_ = "fast mode's cuBLAS products run as kernels";
    return;
  }
  const ModelConfig& c = model_.config;
  cuda::DecodeArgs& a = decode_;
  a.dim = c.dim;
  a.hidden = c.hidden_dim;
  a.n_layers = c.n_layers;
  a.n_heads = c.n_heads;
  a.n_kv_heads = c.n_kv_heads;
  a.head_dim = c.head_dim;
  a.eps = c.norm_eps;
  a.context = context_;
  a.layer_dtype = w.layers[0].qkv.dtype;
  a.embedding_dtype = w.embedding_dtype;
  a.embedding = static_cast<const uint8_t*>(w.embedding.get());
  a.embedding_row_bytes = w.embedding_row_bytes;
  a.final_norm = w.final_norm.as<float>();
  a.lm_head = w.lm_head.gpu;
  if (const char* why = cuda::decode_unsupported(a)) {
    decode_note_ = std::string("the fused decode step does not support ") + why;
    return;
  }
  if (want == "stream") {
    streamed_.d = a;
    const char* why = !one_dtype ? "layer matrices of several dtypes" : cuda::stream_unsupported(streamed_);
    if (why == nullptr) {
      decode_path_ = DecodePath::Stream;
      return;
    }
    decode_note_ = std::string("the streamed decode step does not support ") + why;
    return;
  }
  decode_path_ = want == "phases" ? DecodePath::Phases : DecodePath::Persistent;
  if (decode_path_ == DecodePath::Persistent && !one_dtype) {
    decode_path_ = DecodePath::Phases;
    decode_note_ = "layer matrices of several dtypes run as phases";
  }
}

void CudaEngine::prepare_fused_decode() {
  const ModelConfig& c = model_.config;
  CudaState& s = state_;
  std::vector<cuda::DecodeLayer> layers(size_t(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    const cuda::DeviceLayer& w = weights_.layers[size_t(l)];
    cuda::DecodeLayer& d = layers[size_t(l)];
    d.qkv = w.qkv.gpu;
    d.wo = w.wo.gpu;
    d.gate_up = w.gate_up.gpu;
    d.down = w.down.gpu;
    d.attn_norm = w.attn_norm.as<float>();
    d.ffn_norm = w.ffn_norm.as<float>();
    d.k_cache = k_cache_at(l);
    d.v_cache = v_cache_at(l);
  }
  s.decode_layers = cuda::upload(layers.data(), layers.size() * sizeof(cuda::DecodeLayer), "the decode step");
  s.decode_qkv = DeviceBuffer(sizeof(float) * size_t(q_dim_ + 2 * kv_dim_), "the decode step");
  s.decode_gate_up = DeviceBuffer(sizeof(float) * 2 * size_t(c.hidden_dim), "the decode step");
  s.decode_sync = DeviceBuffer(2 * sizeof(unsigned), "the decode step");
  check(cudaMemset(s.decode_sync.get(), 0, s.decode_sync.bytes()), "cudaMemset");
  cuda::DecodeArgs& a = decode_;
  a.layers = s.decode_layers.as<cuda::DecodeLayer>();
  a.rope_cos = s.rope_cos.as<float>();
  a.rope_sin = s.rope_sin.as<float>();
  a.token = s.tokens.as<int32_t>();
  a.pos = s.pos0.as<int64_t>();
  a.x = s.x.as<float>();
  a.qkv = s.decode_qkv.as<float>();
  a.att = s.att.as<float>();
  a.gate_up = s.decode_gate_up.as<float>();
  a.scores = s.scores.as<float>();
  a.logits = s.logits.as<float>();
  a.sync = s.decode_sync.as<unsigned>();
  if (decode_path_ == DecodePath::Stream) return prepare_stream_decode();
  cuda::prepare_decode(a);
  persistent_blocks_ = decode_path_ == DecodePath::Persistent ? cuda::decode_persistent_blocks(a) : 0;
  if (decode_path_ == DecodePath::Persistent && persistent_blocks_ <= 0) {
    decode_path_ = DecodePath::Phases;
    decode_note_ = "the persistent kernel does not fit on an SM";
  }
  const char* times = std::getenv("REE_CUDA_PHASE_TIMES");
  if (decode_path_ == DecodePath::Persistent && times && std::string(times) == "1") {
    s.phase_times = DeviceBuffer(sizeof(unsigned long long) * size_t(cuda::decode_phase_count(c.n_layers)),
                                 "phase times");
    a.phase_times = s.phase_times.as<unsigned long long>();
  }
}

// The streamed step's buffers: one allocation for every product's chunk
// partials, the residual stream after attention; then its ring and launch
// shape for this device.
void CudaEngine::prepare_stream_decode() {
  const ModelConfig& c = model_.config;
  CudaState& s = state_;
  cuda::StreamArgs& a = streamed_;
  a.d = decode_;
  const int64_t dim = c.dim, hidden = c.hidden_dim, vocab = c.vocab_size;
  const int64_t sizes[] = {cuda::chunk_count(dim) * (q_dim_ + 2 * kv_dim_), cuda::chunk_count(q_dim_) * dim,
                           cuda::chunk_count(dim) * 2 * hidden, cuda::chunk_count(hidden) * dim,
                           cuda::chunk_count(dim) * vocab};
  int64_t total = 0;
  for (int64_t n : sizes) total += (n + 63) / 64 * 64;
  s.stream_parts = DeviceBuffer(sizeof(float) * size_t(total), "the decode step");
  s.stream_x2 = DeviceBuffer(sizeof(float) * size_t(dim), "the decode step");
  float* p = s.stream_parts.as<float>();
  float** slots[] = {&a.parts_qkv, &a.parts_o, &a.parts_gu, &a.parts_down, &a.parts_lm};
  for (size_t i = 0; i < 5; ++i) {
    *slots[i] = p;
    p += (sizes[i] + 63) / 64 * 64;
  }
  a.x2 = s.stream_x2.as<float>();
  cuda::prepare_stream(a);
  persistent_blocks_ = cuda::stream_blocks(a);
  if (persistent_blocks_ <= 0) {
    decode_path_ = DecodePath::Kernels;
    decode_note_ = "the streamed decode step does not fit on an SM";
    return;
  }
  const char* times = std::getenv("REE_CUDA_PHASE_TIMES");
  if (times && std::string(times) == "1") {
    s.phase_times = DeviceBuffer(sizeof(unsigned long long) * size_t(cuda::stream_clock_words(c.n_layers)),
                                 "phase times");
    a.d.phase_times = s.phase_times.as<unsigned long long>();
  }
}

// One token, no probes: what the decode graph holds.
void CudaEngine::enqueue_decode_step(int split) {
  switch (decode_path_) {
    case DecodePath::Kernels: return enqueue_forward(1, 0, 1, nullptr, split);
    case DecodePath::Stream: {
      cuda::launch_stream_step(streamed_, persistent_blocks_, cooperative_, launch_);
      const cuda::DeviceMatrix& lm = weights_.lm_head;
      cuda::launch_combine(cuda::Partials{streamed_.parts_lm, lm.chunks(), lm.rows}, 1, state_.logits.as<float>(),
                           launch_);
      break;
    }
    case DecodePath::Persistent: cuda::launch_decode_persistent(decode_, persistent_blocks_, cooperative_, launch_); break;
    case DecodePath::Phases: cuda::launch_decode_phases(decode_, launch_); break;
  }
  enqueue_summary(1);
}

void CudaEngine::record_phase_times() {
  if (decode_path_ == DecodePath::Stream) return record_stream_times();
  const int n = cuda::decode_phase_count(model_.config.n_layers);
  std::vector<unsigned long long> t(static_cast<size_t>(n));
  check(cudaMemcpy(t.data(), state_.phase_times.get(), t.size() * sizeof(t[0]), cudaMemcpyDeviceToHost),
        "cudaMemcpy (phase times)");
  const int L = model_.config.n_layers;
  // An lm_head of another dtype than the layers runs after the kernel, untimed.
  const int timed = cuda::kDecodePhasesPerLayer * L + (decode_.lm_head.layout.dtype == decode_.layer_dtype ? 1 : 0);
  for (int i = 0; i < timed; ++i) {
    const int kind =
        i == cuda::kDecodePhasesPerLayer * L ? int(cuda::DecodePhase::LmHead) : i % cuda::kDecodePhasesPerLayer;
    const unsigned long long end = i + 1 < timed ? t[size_t(i) + 2] : t[size_t(n) - 1];
    clock_.sum_us[size_t(kind)] += double(end - t[size_t(i) + 1]) / 1e3;
    clock_.count[size_t(kind)] += 1;
  }
  clock_.step_sum_us += double(t[size_t(n) - 1] - t[0]) / 1e3;
  clock_.steps += 1;
}

void CudaEngine::record_stream_times() {
  const int L = model_.config.n_layers, n = cuda::stream_phase_count(L);
  std::vector<unsigned long long> t(static_cast<size_t>(cuda::stream_clock_words(L)));
  check(cudaMemcpy(t.data(), state_.phase_times.get(), t.size() * sizeof(t[0]), cudaMemcpyDeviceToHost),
        "cudaMemcpy (phase times)");
  const int phases = cuda::kStreamPhasesPerLayer * L + 1;
  for (int i = 0; i < phases; ++i) {
    const size_t kind = size_t(cuda::stream_phase_kind(i, L));
    clock_.sum_us[kind] += double(t[size_t(i) + 2] - t[size_t(i) + 1]) / 1e3;  // [phases + 1] is the end
    clock_.count[kind] += 1;
    const unsigned long long* inner = t.data() + n + 2 * i;  // prologue done, work done
    clock_.prologue_us[kind] += double(inner[0] - t[size_t(i) + 1]) / 1e3;
    clock_.work_us[kind] += double(inner[1] - inner[0]) / 1e3;
  }
  clock_.step_sum_us += double(t[size_t(n) - 1] - t[0]) / 1e3;
  clock_.steps += 1;
}

std::string CudaEngine::decode_path_name() const {
  const char* name = decode_path_ == DecodePath::Stream       ? "stream"
                     : decode_path_ == DecodePath::Persistent ? "persistent"
                     : decode_path_ == DecodePath::Phases ? "phases"
                                                          : "kernels";
  return decode_note_.empty() ? name : std::string(name) + " (" + decode_note_ + ")";
}

std::vector<std::pair<std::string, double>> CudaEngine::phase_means() const {
  static const char* const kNames[] = {"qkv (norm + q|k|v product)", "attention (RoPE, cache, attention)",
                                       "out (o product + residual)", "gate_up (norm + gate|up product)",
                                       "down (SwiGLU + down product + residual)", "lm_head (norm + logits)",
                                       "residual (down partials added to x)"};
  std::vector<std::pair<std::string, double>> r;
  for (size_t k = 0; k < 7; ++k)
    if (clock_.count[k] > 0) {
      std::string name = kNames[k];
      if (decode_path_ == DecodePath::Stream) {  // where the time goes inside the phase (block 0)
        char split[96];
        std::snprintf(split, sizeof split, " [prologue %.2f, work %.2f us]", clock_.prologue_us[k] / double(clock_.count[k]),
                      clock_.work_us[k] / double(clock_.count[k]));
        name += split;
      }
      r.emplace_back(name, clock_.sum_us[k] / double(clock_.count[k]));
    }
  return r;
}

void CudaEngine::run_decode_graph(int split) {
  cudaGraphExec_t& decode_graph = decode_graphs_[split];
  if (decode_graph == nullptr) {
    cudaGraph_t graph = nullptr;
    check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    try {
      enqueue_decode_step(split);
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    check(cudaStreamEndCapture(stream_, &graph), "cudaStreamEndCapture");
    const cudaError_t e = cudaGraphInstantiate(&decode_graph, graph, 0);
    cudaGraphDestroy(graph);
    check(e, "cudaGraphInstantiate");
  }
  check(cudaGraphLaunch(decode_graph, stream_), "cudaGraphLaunch");
}

// The last forward() call's decode graph launched n times back to back,
// with no copy and no host work between them: the mean GPU time of a step
// (µs), or 0 when that call ran no graph. The graph reads the token and
// position that the call copied, so each replay recomputes that step and
// rewrites its cache row with the same bits.
double CudaEngine::replay_decode_graph_us(int n) {
  if (last_decode_split_ < 0 || n < 1) return 0.0;
  struct Events {  // destroyed on every path out
    cudaEvent_t start = nullptr, stop = nullptr;
    ~Events() {
      if (start) cudaEventDestroy(start);
      if (stop) cudaEventDestroy(stop);
    }
  } ev;
  check(cudaEventCreate(&ev.start), "cudaEventCreate");
  check(cudaEventCreate(&ev.stop), "cudaEventCreate");
  check(cudaEventRecord(ev.start, stream_), "cudaEventRecord");
  for (int i = 0; i < n; ++i) run_decode_graph(last_decode_split_);
  check(cudaEventRecord(ev.stop, stream_), "cudaEventRecord");
  check(cudaEventSynchronize(ev.stop), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, ev.start, ev.stop), "cudaEventElapsedTime");
  return 1000.0 * double(ms) / double(n);
}

ForwardResult CudaEngine::forward(std::span<const int32_t> tokens, const ForwardRequest& request) {
  const ModelConfig& c = model_.config;
  CudaState& s = state_;
  const int64_t T = int64_t(tokens.size());
  const int64_t pos0 = pos_;
  if (T == 0) throw Error("forward() needs at least one token");
  if (T > max_batch_) throw Error("forward() batch larger than max_batch");
  if (pos0 + T > context_)
    throw Error("context full: " + std::to_string(pos0 + T) + " positions > " + std::to_string(context_));
  for (int64_t t = 0; t < T; ++t)
    if (tokens[size_t(t)] < 0 || tokens[size_t(t)] >= c.vocab_size)
      throw Error("token id " + std::to_string(tokens[size_t(t)]) + " outside the vocabulary");

  last_decode_split_ = -1;  // the device's token and position are about to change
  std::memcpy(s.host_tokens.as<int32_t>(), tokens.data(), sizeof(int32_t) * size_t(T));
  *s.host_pos0.as<int64_t>() = pos0;
  check(cudaMemcpyAsync(s.tokens.get(), s.host_tokens.as<int32_t>(), sizeof(int32_t) * size_t(T),
                        cudaMemcpyHostToDevice, stream_),
        "cudaMemcpyAsync (tokens)");
  check(cudaMemcpyAsync(s.pos0.get(), s.host_pos0.as<int64_t>(), sizeof(int64_t), cudaMemcpyHostToDevice, stream_),
        "cudaMemcpyAsync (position)");

  const int64_t first = request.all_positions ? 0 : T - 1;
  const int64_t n_out = T - first;
  ForwardResult result;
  result.first_position = pos0 + first;
  std::vector<uint64_t> probes;
  const int split = attention_split(pos0, T);
  if (T == 1 && !request.probes) {
    run_decode_graph(split);
    last_decode_split_ = split;
  } else {
    ProbeSink sink;
    if (request.probes) {
      probes.assign(size_t(T) * size_t(c.n_layers) * kProbesPerLayer, 0);
      sink = ProbeSink{&probes, T};
    }
    enqueue_forward(T, first, n_out, request.probes ? &sink : nullptr, split);
  }
  pos_ = pos0 + T;  // the cache now holds these positions, whatever the host does next

  const int64_t vocab = c.vocab_size;
  const int top_k = std::min<int>(std::max(0, request.top_k), int(vocab));
  const bool top_on_device = summary_on_device() && top_k <= device_top_k();
  const bool need_logits = request.full_logits || !summary_on_device() || !top_on_device;
  std::vector<float> logits;
  if (need_logits) {
    logits.resize(size_t(n_out * vocab));
    check(cudaMemcpyAsync(logits.data(), s.logits.get(), logits.size() * sizeof(float), cudaMemcpyDeviceToHost,
                          stream_),
          "cudaMemcpyAsync (logits)");
  }
  if (summary_on_device()) {
    check(cudaMemcpyAsync(s.host_argmax.as<int32_t>(), s.argmax.get(), sizeof(int32_t) * size_t(n_out),
                          cudaMemcpyDeviceToHost, stream_),
          "cudaMemcpyAsync (argmax)");
    check(cudaMemcpyAsync(s.host_hash.as<uint64_t>(), s.hash.get(), sizeof(uint64_t) * size_t(n_out),
                          cudaMemcpyDeviceToHost, stream_),
          "cudaMemcpyAsync (hash)");
    if (top_on_device && top_k > 0) {
      const size_t n = size_t(n_out) * size_t(device_top_k());
      check(cudaMemcpyAsync(s.host_top_ids.as<int32_t>(), s.top_ids.get(), sizeof(int32_t) * n, cudaMemcpyDeviceToHost,
                            stream_),
            "cudaMemcpyAsync (top-k)");
      check(cudaMemcpyAsync(s.host_top_logits.as<float>(), s.top_logits.get(), sizeof(float) * n,
                            cudaMemcpyDeviceToHost, stream_),
            "cudaMemcpyAsync (top-k)");
    }
  }
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (forward)");
  if (T == 1 && !request.probes && state_.phase_times.get() != nullptr) record_phase_times();

  result.n_positions = n_out;
  result.top_k = top_k;
  result.logits_hash.resize(size_t(n_out));
  result.argmax.resize(size_t(n_out));
  result.top.resize(size_t(n_out) * size_t(top_k));
  for (int64_t t = 0; t < n_out; ++t) {
    const float* row = need_logits ? logits.data() + t * vocab : nullptr;
    if (summary_on_device()) {
      result.logits_hash[size_t(t)] = s.host_hash.as<uint64_t>()[t];
      result.argmax[size_t(t)] = s.host_argmax.as<int32_t>()[t];
    } else {
      result.logits_hash[size_t(t)] = kernels::logits_hash(row, vocab);
      result.argmax[size_t(t)] = kernels::argmax(row, vocab);
    }
    TopEntry* top = result.top.data() + t * top_k;
    if (top_k > 0 && top_on_device) {
      for (int i = 0; i < top_k; ++i)
        top[i] = TopEntry{s.host_top_ids.as<int32_t>()[t * device_top_k() + i],
                          s.host_top_logits.as<float>()[t * device_top_k() + i]};
    } else if (top_k > 0) {
      top_k_of(row, vocab, top_k, top);
    }
  }
  if (request.full_logits) result.logits = std::move(logits);
  if (request.probes) {
    const size_t per_pos = size_t(c.n_layers) * kProbesPerLayer;
    result.probes.assign(probes.begin() + std::ptrdiff_t(size_t(first) * per_pos), probes.end());
  }
  return result;
}

uint64_t CudaEngine::kv_state_hash() const {
  check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize (kv state)");
  uint64_t h = 0;
  const size_t n = size_t(pos_ * kv_dim_);
  std::vector<float> host(n);
  for (int l = 0; l < model_.config.n_layers; ++l) {
    for (const float* cache : {k_cache_at(l), v_cache_at(l)}) {
      check(cudaMemcpy(host.data(), cache, n * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy (kv state)");
      h = kernels::f32_hash(host.data(), int64_t(n), h);
    }
  }
  return h;
}

}  // namespace

std::unique_ptr<Engine> make_cuda_engine(const Model& model, const EngineOptions& options) {
  return std::make_unique<CudaEngine>(model, options);
}

std::vector<int> CudaEngine::attention_splits() const {
  std::vector<int> r;
  if (split_min_chunks_ == 0 || decode_path_ != DecodePath::Kernels) return r;
  for (int split = 2; split <= max_split_; ++split)
    if (split_fits_[split]) r.push_back(split);
  return r;
}

std::vector<int> cuda_attention_splits(const Engine& engine) {
  const auto* e = dynamic_cast<const CudaEngine*>(&engine);
  return e ? e->attention_splits() : std::vector<int>();
}

bool cuda_norm_folded(const Engine& engine) {
  const auto* e = dynamic_cast<const CudaEngine*>(&engine);
  return e != nullptr && e->norm_folded();
}

std::string cuda_decode_path(const Engine& engine) {
  const auto* e = dynamic_cast<const CudaEngine*>(&engine);
  return e ? e->decode_path_name() : std::string();
}

double cuda_replay_decode_graph_us(Engine& engine, int n) {
  auto* e = dynamic_cast<CudaEngine*>(&engine);
  return e ? e->replay_decode_graph_us(n) : 0.0;
}

CudaPhaseTimes cuda_decode_phase_times(const Engine& engine) {
  CudaPhaseTimes r;
  if (const auto* e = dynamic_cast<const CudaEngine*>(&engine)) {
    r.phases = e->phase_means();
    r.steps = e->timed_steps();
    r.step_us = e->mean_step_us();
  }
  return r;
}

}  // namespace ree
