#pragma once
// The fused decode step (decode_step.cu): one token through the whole model
// in six kinds of phase per layer-and-head instead of the eight kernels per
// layer of cuda_ops.h, with the same operations in the same order (repro-v1),
// so the same bits:
//
//   Qkv      x (or, in layer 0, the token's embedding row) -> RMSNorm -> the
//            q|k|v product, each value whole: qkv[n]
//   Attention   RoPE of q and k, k and v into the KV cache, attention: att
//   Out      x[n] = x[n] + (Wo att)[n]
//   GateUp   RMSNorm(x) -> the gate|up product: gate_up[n]
//   Down     h = silu(gate) * up -> x[n] = x[n] + (Wdown h)[n]
//   LmHead   the final RMSNorm and the logits
//
// A product phase gives each block whole output values: a group of 32 rows
// (one per lane), its 8 warps taking the row's 256-chunks in turn, each lane
// running the contract's serial fma chain per chunk, and the chunk partials
// added left to right in shared memory. The norm and SwiGLU are recomputed by
// every block in the product's prologue while its first weights are in
// flight (weights never depend on activations, so they are loaded before
// the phase waits for its inputs).
//
// Two ways to run the phases (docs/cuda.md):
//   Persistent  one cooperative kernel, one block per SM, every phase of
//               every layer, a grid-wide barrier between phases (grid_sync.cuh);
//   Phases      one kernel per phase (programmatic dependent launch when the
//               Launch asks for it).
#include <cstddef>
#include <cstdint>

#include "kernels/contract_math.h"  // REE_HD
#include "kernels/cuda/cuda_ops.h"

namespace ree::cuda {

inline constexpr int kDecodeThreads = 256;      // 8 warps per block
inline constexpr int kDecodeMaxChunks = 64;     // products and norms of up to 16384 columns

enum class DecodePhase : uint8_t { Qkv = 0, Attention = 1, Out = 2, GateUp = 3, Down = 4, LmHead = 5 };
inline constexpr int kDecodePhasesPerLayer = 5;

// One layer's weights and caches, as the device reads them.
struct DecodeLayer {
  GpuMatrix qkv, wo, gate_up, down;
  const float* attn_norm = nullptr;  // [dim]
  const float* ffn_norm = nullptr;   // [dim]
  float* k_cache = nullptr;          // [context][n_kv_heads * head_dim]
  float* v_cache = nullptr;
};

struct DecodeArgs {
  // the model
  int dim = 0, hidden = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0;
  float eps = 0.0f;
  int64_t context = 0;
  const DecodeLayer* layers = nullptr;  // device array [n_layers]
  kernels::DType layer_dtype = kernels::DType::F32;  // of every layer matrix (persistent launches)
  kernels::DType embedding_dtype = kernels::DType::F32;
  const uint8_t* embedding = nullptr;   // [vocab][embedding_row_bytes]
  size_t embedding_row_bytes = 0;
  const float* final_norm = nullptr;
  GpuMatrix lm_head;
  const float* rope_cos = nullptr;      // [context][head_dim / 2]
  const float* rope_sin = nullptr;
  // the step (device memory, so that one captured graph serves every step)
  const int32_t* token = nullptr;
  const int64_t* pos = nullptr;
  // activations and scratch
  float* x = nullptr;        // [dim] residual stream
  float* qkv = nullptr;      // [q_dim + 2 kv_dim]
  float* att = nullptr;      // [q_dim]
  float* gate_up = nullptr;  // [2 hidden]
  float* scores = nullptr;   // [n_heads][context]
  float* logits = nullptr;   // [vocab]
  unsigned* sync = nullptr;  // [2] zero before the first persistent launch; left zero
  unsigned long long* phase_times = nullptr;  // [decode_phase_count()] or null (persistent only)
};

// The widest input a step's products and norms take: dim, hidden or q_dim.
REE_HD inline int64_t decode_max_cols(const DecodeArgs& a) {
  const int64_t q = int64_t(a.n_heads) * a.head_dim;
  const int64_t m = a.dim > a.hidden ? a.dim : a.hidden;
  return m > q ? m : q;
}

// Time stamps (ns) of one persistent step: [0] the start, [1 + i] when phase i
// (5 per layer, then LmHead) could start, [last] the end.
inline int decode_phase_count(int n_layers) { return kDecodePhasesPerLayer * n_layers + 3; }

// Why `a`'s shape cannot run fused (empty when it can): a product or norm
// wider than 16384 columns, a head size over 512, or more shared memory than
// the device gives a block.
const char* decode_unsupported(const DecodeArgs& a);

// Once per process and shape, outside graph capture: the kernels' shared-memory limit.
void prepare_decode(const DecodeArgs& a);

// Blocks of a persistent launch: one per SM when one fits (0: it cannot run).
int decode_persistent_blocks(const DecodeArgs& a);

// The whole step: logits[] for the token at *pos (x, qkv, att, gate_up and the
// layers' caches at *pos are written on the way). `cooperative`: launch the
// persistent kernel as a cooperative kernel (co-residency guaranteed). The
// persistent kernel needs every layer matrix in layer_dtype (an lm_head of
// another dtype gets a launch of its own); the phases take any mix.
// `blocks`: decode_persistent_blocks(a), asked once outside graph capture.
void launch_decode_persistent(const DecodeArgs& a, int blocks, bool cooperative, const Launch& launch);
void launch_decode_phases(const DecodeArgs& a, const Launch& launch);

// One phase of one layer alone (for tests): `blocks` 0 gives one block per
// work item; fewer makes each block take several, starting at item `offset`.
void launch_decode_phase(const DecodeArgs& a, DecodePhase phase, int layer, int blocks, unsigned offset,
                         const Launch& launch);

}  // namespace ree::cuda
