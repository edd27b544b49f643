// The fused decode step (decode_ops.h): the phases of one token's forward
// pass, run by one persistent kernel (a grid-wide barrier between phases) or
// by one kernel per phase. Products: decode_product.cuh; attention:
// decode_attention.cuh.
#include <algorithm>

#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/decode_attention.cuh"
#include "kernels/cuda/decode_ops.h"
#include "kernels/cuda/decode_product.cuh"

namespace ree::cuda {
namespace {

using kernels::DType;

// ---------------------------------------------------------------- shapes ----

__host__ __device__ inline int64_t q_dim_of(const DecodeArgs& a) { return int64_t(a.n_heads) * a.head_dim; }
__host__ __device__ inline int64_t kv_dim_of(const DecodeArgs& a) { return int64_t(a.n_kv_heads) * a.head_dim; }
__host__ __device__ inline int64_t max_cols_of(const DecodeArgs& a) {
  const int64_t q = q_dim_of(a);
  const int64_t m = a.dim > a.hidden ? a.dim : a.hidden;
  return m > q ? m : q;
}
__host__ __device__ inline int64_t groups_of(int64_t rows) { return (rows + kRowsPerGroup - 1) / kRowsPerGroup; }
__host__ __device__ inline int64_t chunks_of(int64_t cols) { return (cols + kChunk - 1) / kChunk; }

// Shared floats of the part that phases take turns with: a product's x, or
// an attention phase's tiles.
__host__ __device__ inline int64_t union_floats(const DecodeArgs& a) {
  int64_t f = (max_cols_of(a) + 3) / 4 * 4;
  const int64_t s = attention_score_floats(a.n_kv_heads > 0 ? a.n_heads / a.n_kv_heads : 1, a.head_dim);
  f = f > s ? f : s;
  const int64_t v = attention_value_floats();
  return f > v ? f : v;
}
// Dynamic shared memory: the bulk-copy stages (when used), then the union.
__host__ __device__ inline int64_t stage_bytes_of(const DecodeArgs& a) {
  return a.bulk_copy ? int64_t(kDecodeWarps) * 2 * kStageBytes : 0;
}
size_t shared_bytes_of(const DecodeArgs& a) { return size_t(stage_bytes_of(a) + union_floats(a) * 4); }

// Warp items of each product phase (the same in every layer).
__host__ __device__ inline int64_t product_items(const DecodeArgs& a, DecodePhase p) {
  switch (p) {
    case DecodePhase::Qkv: return groups_of(q_dim_of(a) + 2 * kv_dim_of(a)) * chunks_of(a.dim);
    case DecodePhase::Out: return groups_of(a.dim) * chunks_of(q_dim_of(a));
    case DecodePhase::GateUp: return groups_of(2 * int64_t(a.hidden)) * chunks_of(a.dim);
    case DecodePhase::Down: return groups_of(a.dim) * chunks_of(a.hidden);
    case DecodePhase::LmHead: return groups_of(a.lm_head.layout.rows) * chunks_of(a.dim);
    default: return 0;
  }
}

// ---------------------------------------------------------------- phases ----

struct Shared {
  ProductShared product;
  float* unit;  // the union part (attention tiles)
};

__device__ Shared shared_layout(const DecodeArgs& a, uint8_t* dynamic, float* small, uint64_t* bars, uint32_t* parity) {
  Shared sh;
  sh.product.stages = dynamic;
  sh.product.xs = reinterpret_cast<float*>(dynamic + stage_bytes_of(a));
  sh.product.small = small;
  sh.product.bars = bars;
  sh.product.parity = parity;
  sh.unit = sh.product.xs;
  return sh;
}

// Once per launch: the stage barriers (one arrival each) and their parities.
__device__ void init_stages(const DecodeArgs& a, const Shared& sh) {
  if (a.bulk_copy && threadIdx.x % 32 == 0) {
    const int w = int(threadIdx.x / 32);
    mbarrier_init(sh.product.bars + 2 * w);
    mbarrier_init(sh.product.bars + 2 * w + 1);
    sh.product.parity[w] = 0u;
    mbarrier_init_fence();
  }
  __syncthreads();
}

__device__ ProductJob product_job(const DecodeArgs& a, DecodePhase p, int layer) {
  ProductJob j;
  j.eps = a.eps;
  j.partials = a.partials;
  j.counts = a.counts;
  j.bulk = a.bulk_copy;
  const DecodeLayer* L = a.layers + (layer < a.n_layers ? layer : 0);
  switch (p) {
    case DecodePhase::Qkv:
      j.m = L->qkv;
      j.norm_w = L->attn_norm;
      j.out = a.qkv;
      if (layer == 0) {
        j.embedding = a.embedding;
        j.embedding_dtype = a.embedding_dtype;
        j.embedding_row_bytes = a.embedding_row_bytes;
        j.token = a.token;
        j.x_out = a.x;
      } else {
        j.src = a.x;
      }
      break;
    case DecodePhase::Out:
      j.m = L->wo;
      j.prologue = Prologue::AttentionCombine;
      j.chunk_out = a.chunk_out;
      j.chunk_sum = a.chunk_sum;
      j.heads = a.n_heads;
      j.head_dim = a.head_dim;
      j.chunk_stride = a.chunk_stride;
      j.pos = a.pos;
      j.out = a.x;
      j.accumulate = true;
      break;
    case DecodePhase::GateUp:
      j.m = L->gate_up;
      j.src = a.x;
      j.norm_w = L->ffn_norm;
      j.out = a.gate_up;
      break;
    case DecodePhase::Down:
      j.m = L->down;
      j.prologue = Prologue::Silu;
      j.src = a.gate_up;
      j.out = a.x;
      j.accumulate = true;
      break;
    case DecodePhase::LmHead:
      j.m = a.lm_head;
      j.src = a.x;
      j.norm_w = a.final_norm;
      j.out = a.logits;
      break;
    default: break;
  }
  return j;
}

template <DType DT>
__device__ void run_product_as(const DecodeArgs& a, DecodePhase p, int layer, unsigned offset, const PhaseSync& sync,
                               const Shared& sh) {
  ProductJob j = product_job(a, p, layer);
  j.offset = offset;
  j.sync = sync;
  product_phase<DT>(j, sh.product);
}

__device__ void run_attention(const DecodeArgs& a, DecodePhase p, int layer, const PhaseSync& sync, const Shared& sh) {
  phase_wait(sync);
  if (p == DecodePhase::AttnScore) attention_scores(a, a.layers[layer], sh.unit);
  else attention_values(a, a.layers[layer], sh.unit, sh.product.small);
}

// The attention output alone (tests): att = what the Out prologue computes.
__device__ void run_combine(const DecodeArgs& a, const Shared& sh) {
  wait_for_inputs();
  ProductJob j = product_job(a, DecodePhase::Out, 0);
  product_detail::prologue(j, int(q_dim_of(a)), sh.product.xs, sh.product.small);
  for (int64_t k = int64_t(blockIdx.x) * kDecodeThreads + threadIdx.x; k < q_dim_of(a);
       k += int64_t(gridDim.x) * kDecodeThreads)
    a.att[k] = sh.product.xs[k];
}

// ---------------------------------------------------------------- kernels ---

// Phase i of a persistent step: 6 per layer, then the LmHead.
__host__ __device__ inline DecodePhase phase_kind(int i, int n_layers) {
  return i >= kDecodePhasesPerLayer * n_layers ? DecodePhase::LmHead : DecodePhase(i % kDecodePhasesPerLayer);
}

// While the attention phases run (no weights of their own), L2 fetches the
// next products' weights: all of Wo and the first 60% of gate|up.
__device__ void prefetch_during_attention(const DecodeArgs& a, DecodePhase p, int layer) {
  if (!a.l2_prefetch) return;
  const DecodeLayer& L = a.layers[layer];
  if (p == DecodePhase::AttnScore) {
    prefetch_matrix(L.wo, 0.0f, 1.0f);
    prefetch_matrix(L.gate_up, 0.0f, 0.3f);
  } else {
    prefetch_matrix(L.gate_up, 0.3f, 0.6f);
  }
}

// The persistent kernel runs the phases of layers whose matrices all have
// dtype DT (and the LmHead when it has DT too). One product call site: ptxas
// spills inside the products when a kernel calls several instantiations.
// Out of line, so that the persistent loop holds almost nothing live across it.
template <DType DT>
__device__ __noinline__ void persistent_phase(const DecodeArgs& a, int i, unsigned offset, const Shared& sh) {
  PhaseSync sync;
  sync.counter = a.sync;
  sync.persistent = true;
  sync.target = unsigned(i) * gridDim.x;
  sync.times = a.phase_times;
  sync.phase = i + 1;
  const DecodePhase p = phase_kind(i, a.n_layers);
  const int layer = i / kDecodePhasesPerLayer;
  if (p == DecodePhase::AttnScore || p == DecodePhase::AttnValue) {
    prefetch_during_attention(a, p, layer);
    run_attention(a, p, layer, sync, sh);
  } else {
    run_product_as<DT>(a, p, layer, offset, sync, sh);
  }
  phase_arrive(sync);
}

template <DType DT>
__global__ void __launch_bounds__(kDecodeThreads, 1) decode_persistent_kernel(const DecodeArgs a) {
  extern __shared__ __align__(128) uint8_t dynamic_smem[];
  __shared__ float small[kDecodeMaxChunks + 1];
  __shared__ __align__(8) uint64_t bars[2 * kDecodeWarps];
  __shared__ uint32_t parity[kDecodeWarps];
  const Shared sh = shared_layout(a, dynamic_smem, small, bars, parity);
  init_stages(a, sh);
  if (a.phase_times != nullptr && blockIdx.x == 0 && threadIdx.x == 0) a.phase_times[0] = global_time_ns();
  const int phases = kDecodePhasesPerLayer * a.n_layers + (a.lm_head.layout.dtype == DT ? 1 : 0);
  const unsigned warps = gridDim.x * kDecodeWarps;
  unsigned offset = 0;  // each product starts its round robin where the previous one stopped
  for (int i = 0; i < phases; ++i) {
    persistent_phase<DT>(a, i, offset, sh);
    offset = unsigned((offset + product_items(a, phase_kind(i, a.n_layers))) % warps);
  }
  PhaseSync sync;
  sync.counter = a.sync;
  sync.persistent = true;
  persistent_exit(sync, a.phase_times == nullptr ? nullptr : a.phase_times + kDecodePhasesPerLayer * a.n_layers + 2);
}

using PersistentKernel = void (*)(const DecodeArgs);

PersistentKernel persistent_kernel(DType dtype) {
  switch (dtype) {
    case DType::F32: return decode_persistent_kernel<DType::F32>;
    case DType::F16: return decode_persistent_kernel<DType::F16>;
    case DType::BF16: return decode_persistent_kernel<DType::BF16>;
    case DType::Q8_0: return decode_persistent_kernel<DType::Q8_0>;
  }
  return nullptr;
}

// One phase per kernel: products dispatch on the matrix's dtype at run time.
template <DecodePhase P>
__global__ void __launch_bounds__(kDecodeThreads, 1) decode_phase_kernel(const DecodeArgs a, int layer, unsigned offset) {
  extern __shared__ __align__(128) uint8_t dynamic_smem[];
  __shared__ float small[kDecodeMaxChunks + 1];
  __shared__ __align__(8) uint64_t bars[2 * kDecodeWarps];
  __shared__ uint32_t parity[kDecodeWarps];
  const Shared sh = shared_layout(a, dynamic_smem, small, bars, parity);
  init_stages(a, sh);
  allow_next_kernel();
  if constexpr (P == DecodePhase::AttnScore || P == DecodePhase::AttnValue) {
    run_attention(a, P, layer, PhaseSync{}, sh);
  } else if constexpr (P == DecodePhase::AttnCombine) {
    run_combine(a, sh);
  } else {
    const ProductJob j = product_job(a, P, layer);
    switch (j.m.layout.dtype) {
      case DType::F32: return run_product_as<DType::F32>(a, P, layer, offset, PhaseSync{}, sh);
      case DType::F16: return run_product_as<DType::F16>(a, P, layer, offset, PhaseSync{}, sh);
      case DType::BF16: return run_product_as<DType::BF16>(a, P, layer, offset, PhaseSync{}, sh);
      case DType::Q8_0: return run_product_as<DType::Q8_0>(a, P, layer, offset, PhaseSync{}, sh);
    }
  }
}

using PhaseKernel = void (*)(const DecodeArgs, int, unsigned);

PhaseKernel phase_kernel(DecodePhase p) {
  switch (p) {
    case DecodePhase::Qkv: return decode_phase_kernel<DecodePhase::Qkv>;
    case DecodePhase::AttnScore: return decode_phase_kernel<DecodePhase::AttnScore>;
    case DecodePhase::AttnValue: return decode_phase_kernel<DecodePhase::AttnValue>;
    case DecodePhase::Out: return decode_phase_kernel<DecodePhase::Out>;
    case DecodePhase::GateUp: return decode_phase_kernel<DecodePhase::GateUp>;
    case DecodePhase::Down: return decode_phase_kernel<DecodePhase::Down>;
    case DecodePhase::LmHead: return decode_phase_kernel<DecodePhase::LmHead>;
    case DecodePhase::AttnCombine: return decode_phase_kernel<DecodePhase::AttnCombine>;
  }
  return nullptr;
}

constexpr DecodePhase kAllPhases[] = {DecodePhase::Qkv,  DecodePhase::AttnScore, DecodePhase::AttnValue,
                                      DecodePhase::Out,  DecodePhase::GateUp,    DecodePhase::Down,
                                      DecodePhase::LmHead, DecodePhase::AttnCombine};

int device_attribute(cudaDeviceAttr what) {
  int device = 0, value = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&value, what, device), "cudaDeviceGetAttribute");
  return value;
}

// Blocks a standalone phase launch needs: one per item (attention: for the
// largest position the context allows; blocks past the items return).
unsigned phase_blocks(const DecodeArgs& a, DecodePhase p) {
  const int64_t positions = a.context > 0 ? a.context : 1;
  int64_t n = 0;
  switch (p) {
    case DecodePhase::AttnScore: n = int64_t(a.n_kv_heads) * ((positions + kAttentionTile - 1) / kAttentionTile); break;
    case DecodePhase::AttnValue:
      n = int64_t(a.n_heads) * chunks_of(positions) * ((a.head_dim + kAttentionDims - 1) / kAttentionDims);
      break;
    case DecodePhase::AttnCombine: n = (q_dim_of(a) + kDecodeThreads - 1) / kDecodeThreads; break;
    default: n = (product_items(a, p) + kDecodeWarps - 1) / kDecodeWarps; break;
  }
  return unsigned(std::clamp<int64_t>(n, 1, 1 << 30));
}

}  // namespace

size_t decode_partial_floats(const DecodeArgs& a) {
  int64_t n = 0;
  for (DecodePhase p : {DecodePhase::Qkv, DecodePhase::Out, DecodePhase::GateUp, DecodePhase::Down, DecodePhase::LmHead})
    n = std::max(n, product_items(a, p));
  return size_t(n) * 32;
}

size_t decode_count_slots(const DecodeArgs& a) {
  const int64_t rows = std::max({q_dim_of(a) + 2 * kv_dim_of(a), int64_t(a.dim), 2 * int64_t(a.hidden),
                                 a.lm_head.layout.rows});
  return size_t(groups_of(rows));
}

const char* decode_unsupported(const DecodeArgs& a) {
  if (max_cols_of(a) > int64_t(kDecodeMaxChunks) * kChunk) return "a product or norm wider than 16384 columns";
  if (a.head_dim > kAttentionMaxHeadDim || a.head_dim % 2 != 0) return "a head size over 512";
  if (a.n_heads <= 0 || a.n_kv_heads <= 0 || a.n_heads % a.n_kv_heads != 0) return "no grouped-query head layout";
  // the static shared memory (small, barriers) beside the dynamic part
  if (shared_bytes_of(a) + 1024 > size_t(device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin)))
    return "more shared memory than a block may have";
  return nullptr;
}

void prepare_decode(const DecodeArgs& a) {
  const int bytes = int(shared_bytes_of(a));
  check(cudaFuncSetAttribute(persistent_kernel(a.layer_dtype), cudaFuncAttributeMaxDynamicSharedMemorySize, bytes),
        "cudaFuncSetAttribute (decode)");
  for (DecodePhase p : kAllPhases)
    check(cudaFuncSetAttribute(phase_kernel(p), cudaFuncAttributeMaxDynamicSharedMemorySize, bytes),
          "cudaFuncSetAttribute (decode phase)");
}

int decode_persistent_blocks(const DecodeArgs& a) {
  int per_sm = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, persistent_kernel(a.layer_dtype), kDecodeThreads,
                                                      shared_bytes_of(a)),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  return per_sm >= 1 ? device_attribute(cudaDevAttrMultiProcessorCount) : 0;
}

void launch_decode_persistent(const DecodeArgs& a, int blocks, bool cooperative, const Launch& launch) {
  if (blocks <= 0) throw std::runtime_error("cuda: the persistent decode kernel does not fit on an SM");
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(unsigned(blocks));
  cfg.blockDim = dim3(kDecodeThreads);
  cfg.dynamicSmemBytes = shared_bytes_of(a);
  cfg.stream = launch.stream;
  cudaLaunchAttribute attr[1] = {};
  attr[0].id = cudaLaunchAttributeCooperative;
  attr[0].val.cooperative = 1;
  cfg.attrs = attr;
  cfg.numAttrs = cooperative ? 1 : 0;
  cudaLaunchKernelEx(&cfg, persistent_kernel(a.layer_dtype), a);
  check_launch("decode (persistent)");
  // An lm_head of another dtype runs as a kernel of its own.
  if (a.lm_head.layout.dtype != a.layer_dtype) launch_decode_phase(a, DecodePhase::LmHead, a.n_layers, 0, 0, launch);
}

void launch_decode_phase(const DecodeArgs& a, DecodePhase phase, int layer, int blocks, unsigned offset,
                         const Launch& launch) {
  const unsigned grid = blocks > 0 ? unsigned(blocks) : phase_blocks(a, phase);
  launch_kernel(phase_kernel(phase), dim3(grid), dim3(kDecodeThreads), shared_bytes_of(a), launch, a, layer, offset);
  check_launch("decode phase");
}

void launch_decode_phases(const DecodeArgs& a, const Launch& launch) {
  for (int l = 0; l < a.n_layers; ++l)
    for (DecodePhase p : {DecodePhase::Qkv, DecodePhase::AttnScore, DecodePhase::AttnValue, DecodePhase::Out,
                          DecodePhase::GateUp, DecodePhase::Down})
      launch_decode_phase(a, p, l, 0, 0, launch);
  launch_decode_phase(a, DecodePhase::LmHead, a.n_layers, 0, 0, launch);
}

}  // namespace ree::cuda
