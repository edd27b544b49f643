#pragma once
// The streamed decode step (stream_step.cu): one token through the whole
// model in one persistent kernel whose weight reads never stop.
//
// Why: a decode step must read every weight once (2.08 GB for
// tinyllama-1.1b), and HBM only delivers its bandwidth to a kernel that keeps
// enough bytes in flight on every SM all the time. Launching one kernel per
// product pays a ramp-up and a tail each time (ree-cuda-streambench: 0.72 of
// the roofline at best for tinyllama's product sizes), and a persistent
// kernel that loads a product's weights only once that product's inputs are
// ready stalls the stream at every phase boundary. Weights never depend on
// activations, so here one producer warp per block streams the block's share
// of every weight tile of the step, in the order its consumers will use
// them, into a ring of shared-memory slots with bulk copies (TMA,
// cp.async.bulk; sm_90), never waiting for a phase: only for a free slot.
// The consumer warps run the phases: they wait at grid-wide barriers for
// their inputs, while the ring goes on filling with the next phase's weights.
//
// Phases of a layer (a grid-wide barrier after each):
//   Qkv       RMSNorm of x (layer 0: of the token's embedding row) -> q|k|v
//             tiles -> chunk partials
//   Attention per head: q, k, v combined from the partials, RoPE, the KV
//             cache write, attention (attention_resident.cuh) -> att
//   Out       att -> o tiles -> chunk partials
//   GateUp    x2 = x + o (combined); RMSNorm -> gate|up tiles -> partials
//   Down      h = silu(gate) * up for the block's chunks -> down tiles -> partials
//   Residual  x = x2 + down (combined), a slice of rows per block
// and at the end LmHead: the final RMSNorm -> lm_head tiles -> partials, which
// launch_combine turns into logits.
//
// A tile is one (32-row group, 256-column chunk) of a matrix in the GPU
// layout: contiguous there (gpu_layout.h), one bulk copy (Q8_0: two, units
// then scales). A warp runs a tile as the contract's chunk chains, one row per
// lane (acc = fma(w[k], x[k], acc), k ascending), and stores the chunk
// partial; whoever needs a value adds its partials left to right (r = p0;
// r = r + p1; ...). So every value is D(W[n,:], x, K) exactly: the same bits
// as the CPU and as the other decode paths (tests/cuda/test_cuda_model.cpp).
#include "kernels/contract_math.h"  // REE_HD
#include "kernels/cuda/decode_ops.h"

namespace ree::cuda {

inline constexpr int kStreamConsumerWarps = 8;  // threads 0..255: the phases
inline constexpr int kStreamThreads = (kStreamConsumerWarps + 1) * 32;  // + one producer warp

// Kinds of phase, numbered like DecodePhase where they share a meaning.
enum class StreamPhase : uint8_t { Qkv = 0, Attention = 1, Out = 2, GateUp = 3, Down = 4, LmHead = 5, Residual = 6 };
inline constexpr int kStreamPhasesPerLayer = 6;

struct StreamArgs {
  DecodeArgs d;                  // the model, the step's inputs, x (residual stream), att, scores, sync, phase_times
  float* x2 = nullptr;           // [dim] the residual stream after attention
  float* parts_qkv = nullptr;    // [chunks(dim)][q_dim + 2 kv_dim]
  float* parts_o = nullptr;      // [chunks(q_dim)][dim]
  float* parts_gu = nullptr;     // [chunks(dim)][2 hidden]
  float* parts_down = nullptr;   // [chunks(hidden)][dim]
  float* parts_lm = nullptr;     // [chunks(dim)][vocab]
  int slots = 0;                 // ring slots per block (prepare_stream sets it)
  int attention_tile = 0;        // attend_row's positions per tile (prepare_stream sets it)
  int64_t area_floats = 0;       // shared floats for x or attention (prepare_stream sets it)
  int score_cap = 0;             // decode rows of up to this many positions run attend_row_resident
  int value_rows = 0;            // its value rows per batch
  bool stage_o = false;          // GateUp's prologue reads x and the o partials by bulk copies
  bool stream_only = false;      // REE_CUDA_STREAM_ONLY=1: a measurement of the stream alone (wrong logits)
  bool l2_normal = false;        // REE_CUDA_STREAM_L2=normal: weights read without the evict-first hint
  int in_flight = 0;             // at most this many of a block's copies outstanding (0: up to slots)
};

// Time stamps of one streamed step: [0] start, [1 + i] phase i, [last] end;
// then, from stream_phase_count on, two per phase i: [2i] its prologue done,
// [2i + 1] its work done (block 0's view).
REE_HD inline int stream_phase_count(int n_layers) { return kStreamPhasesPerLayer * n_layers + 3; }
REE_HD inline int stream_clock_words(int n_layers) {
  return stream_phase_count(n_layers) + 2 * (kStreamPhasesPerLayer * n_layers + 1);
}
// The kind of phase i of a step.
REE_HD inline StreamPhase stream_phase_kind(int i, int n_layers) {
  if (i >= kStreamPhasesPerLayer * n_layers) return StreamPhase::LmHead;
  const int k = i % kStreamPhasesPerLayer;  // Qkv, Attention, Out, GateUp, Down, Residual
  return k == kStreamPhasesPerLayer - 1 ? StreamPhase::Residual : StreamPhase(k);
}

// Why the streamed step cannot run `a` on this device (null when it can):
// before sm_90, matrices of several dtypes, shapes the fused step refuses.
const char* stream_unsupported(const StreamArgs& a);

// Once per process and shape, outside graph capture: the ring's depth, the
// attention tile and the kernel's shared-memory limit.
void prepare_stream(StreamArgs& a);

// One block per SM (0 when the kernel does not fit).
int stream_blocks(const StreamArgs& a);

// The step up to the lm_head partials (parts_lm); the caller combines them.
void launch_stream_step(const StreamArgs& a, int blocks, bool cooperative, const Launch& launch);

}  // namespace ree::cuda
