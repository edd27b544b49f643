#pragma once
// The CUDA backend's entry points (called by src/runtime/engines/make_engine.cpp
// and `ree info`). CudaEngine itself is private to cuda_engine.cpp.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/engine.h"

namespace ree {

// A CudaEngine for `model` on GPU 0. Throws ree::Error when no GPU is visible
// ("--device cuda: no CUDA device visible (cudaGetDeviceCount: ...)") or
// the model does not fit, never crashes.
std::unique_ptr<Engine> make_cuda_engine(const Model& model, const EngineOptions& options);

// How the engine runs a decode step: "persistent", "phases" or "kernels"
// (docs/cuda.md), with the reason in parentheses when it is not what
// REE_CUDA_DECODE asked for; empty for an engine that is not CUDA's.
std::string cuda_decode_path(const Engine& engine);

// The decode-row attention splits (blocks a head, attention_split.cu) the
// engine may launch on this GPU for its context, ascending; empty when rows
// are never split (before sm_90, a head size it does not take,
// REE_CUDA_ATTENTION_SPLIT=0) or for an engine that is not CUDA's.
std::vector<int> cuda_attention_splits(const Engine& engine);

// Whether the engine's decode steps leave each RMSNorm for the product that
// consumes it to finish (cuda::NormedX): the kernel path outside fast mode,
// unless REE_CUDA_NORM_FOLD=0; false for an engine that is not CUDA's.
bool cuda_norm_folded(const Engine& engine);

// With REE_CUDA_PHASE_TIMES=1, the persistent decode step stamps the GPU's
// clock at every phase boundary: the mean duration of each kind of phase
// (microseconds) and of the whole kernel, over `steps` decode steps. For
// ree-cuda-bench; empty otherwise.
struct CudaPhaseTimes {
  std::vector<std::pair<std::string, double>> phases;
  double step_us = 0;
  int64_t steps = 0;
};
CudaPhaseTimes cuda_decode_phase_times(const Engine& engine);

// The decode-step graph that the engine's last forward() call ran, launched
// n times back to back (no copies, no host work between launches): its mean
// GPU time in µs, for ree-cuda-bench to set beside a whole forward() call's.
// 0 when that call ran no graph (a prompt, probes), after reset() or
// rewind(), or for an engine that is not CUDA's.
double cuda_replay_decode_graph_us(Engine& engine, int n);

// For `ree info`: "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB), driver
// 13.0, CUDA runtime 13.0", or "built, no GPU visible: <reason>".
std::string cuda_device_status();

// The same facts as fields, for session headers. `ok` is false (and `error`
// says why) when no device is visible.
struct CudaDeviceInfo {
  bool ok = false;
  std::string error;
  std::string name;            // "NVIDIA H100 80GB HBM3"
  int compute_capability = 0;  // 90
  int multiprocessors = 0;
  double memory_gib = 0;
  std::string driver_version;  // "13.0" (the newest CUDA the driver supports)
  std::string runtime_version; // "13.0"
};
CudaDeviceInfo cuda_device_info();

}  // namespace ree
