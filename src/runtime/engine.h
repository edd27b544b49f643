#pragma once
// An Engine runs one model on one device for one sequence: it owns the KV
// cache and the activations, and turns tokens into per-position results
// (logits hash, top-k, optionally the full logits and per-layer probes).
// The CPU engine is in cpu_engine.cpp; the CUDA engine in src/kernels/cuda.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/model.h"

namespace ree {

// One candidate token: ordering is (logit desc, id asc), the contract's order.
struct TopEntry {
  int32_t id = 0;
  float logit = 0.0f;
};

// Probe points per layer, in model order (docs/determinism.md, "Probes").
enum class ProbePoint : int { AttnNorm = 0, AttnOut = 1, MlpNorm = 2, MlpOut = 3 };
constexpr int kProbesPerLayer = 4;
const char* probe_point_name(ProbePoint);

struct ForwardRequest {
  bool all_positions = false;  // results for every input position, not only the last
  int top_k = 0;               // top-k entries per position (0: none)
  bool full_logits = false;    // copy the whole logits vector per position
  bool probes = false;         // per-layer activation hashes per position
};

struct ForwardResult {
  int64_t n_positions = 0;            // positions with results (1 or T)
  int64_t first_position = 0;         // absolute position of the first result
  std::vector<uint64_t> logits_hash;  // [n_positions]
  std::vector<int32_t> argmax;        // [n_positions], -1 when a logit is NaN
  std::vector<TopEntry> top;          // [n_positions][top_k]
  int top_k = 0;
  std::vector<float> logits;          // [n_positions][vocab] when full_logits
  std::vector<uint64_t> probes;       // [n_positions][n_layers * kProbesPerLayer] when probes
};

enum class Device : uint8_t { Cpu = 0, Cuda = 1 };
const char* device_name(Device);

struct EngineOptions {
  Device device = Device::Cpu;
  kernels::Mode mode = kernels::Mode::Reproducible;
  kernels::SimdPath simd = kernels::detect_simd();
  int threads = 1;
  int64_t context = 0;        // KV cache positions (0: the model's max)
  int64_t max_batch = 512;    // most tokens one forward() call processes at once
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const Model& model() const = 0;
  virtual const EngineOptions& options() const = 0;
  virtual std::string device_description() const = 0;  // "cpu avx512" / "NVIDIA H100 ..."
  virtual int64_t position() const = 0;                  // tokens held in the KV cache
  virtual int64_t context() const = 0;
  virtual void reset() = 0;                              // empty the KV cache
  // Roll the cache back to `pos` <= position() (used by replay's teacher forcing).
  virtual void rewind(int64_t pos) = 0;
  // Feed tokens at positions position()..position()+T-1 (T <= max_batch).
  virtual ForwardResult forward(std::span<const int32_t> tokens, const ForwardRequest&) = 0;
  // XXH3 chain over the KV cache contents of positions [0, position()).
  virtual uint64_t kv_state_hash() const = 0;
};

std::unique_ptr<Engine> make_engine(const Model& model, const EngineOptions& options);
// Whether this build has the CUDA engine and what device it sees (the GPU's
// name, driver and CUDA versions, or why there is none). Defined beside
// make_engine (ree_engines), which is where the CUDA library is linked.
std::string cuda_status();
std::unique_ptr<Engine> make_cpu_engine(const Model& model, const EngineOptions& options);

// Feed any number of tokens in chunks of at most `chunk` (0: max_batch);
// the result covers the last chunk's positions (or all, if requested).
ForwardResult feed(Engine& engine, std::span<const int32_t> tokens, int64_t chunk,
                   const ForwardRequest& request);

// Top-k in the contract's order (logit desc, id asc) of one logits row.
void top_k_of(const float* logits, int64_t vocab, int k, TopEntry* out);

}  // namespace ree
