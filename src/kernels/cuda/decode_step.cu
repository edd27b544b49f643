// The fused decode step (decode_ops.h): the phases of one token's forward
// pass, run by one persistent kernel (a grid-wide barrier between phases) or
// by one kernel per phase. The products are block_product.cuh's; attention is
// attention_row.cuh's, with RoPE and the KV-cache write of rope.cu in front.
#include <algorithm>

#include "kernels/cuda/attention_row.cuh"
#include "kernels/cuda/block_product.cuh"
#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/decode_ops.h"

namespace ree::cuda {
namespace {

using kernels::DType;

// ---------------------------------------------------------------- shapes ----

__host__ __device__ inline int64_t q_dim_of(const DecodeArgs& a) { return int64_t(a.n_heads) * a.head_dim; }
__host__ __device__ inline int64_t kv_dim_of(const DecodeArgs& a) { return int64_t(a.n_kv_heads) * a.head_dim; }
__host__ __device__ inline int64_t groups_of(int64_t rows) { return (rows + kRowsPerGroup - 1) / kRowsPerGroup; }

size_t shared_bytes_of(const DecodeArgs& a) {
  const size_t product =
      size_t(decode_x_floats(decode_max_cols(a)) + decode_parts_floats(kDecodeMaxChunks)) * sizeof(float);
  return std::max(product, attention_tiling(a.head_dim).shared_bytes);
}

// Work items of each phase (the same in every layer).
__host__ __device__ inline int64_t phase_items(const DecodeArgs& a, DecodePhase p) {
  switch (p) {
    case DecodePhase::Qkv: return groups_of(q_dim_of(a) + 2 * kv_dim_of(a));
    case DecodePhase::Attention: return a.n_heads;
    case DecodePhase::Out: return groups_of(a.dim);
    case DecodePhase::GateUp: return groups_of(2 * int64_t(a.hidden));
    case DecodePhase::Down: return groups_of(a.dim);
    case DecodePhase::LmHead: return groups_of(a.lm_head.layout.rows);
  }
  return 0;
}

// ---------------------------------------------------------------- phases ----

struct SharedPointers {
  float* xs;
  float* parts;
  float* small;  // kDecodeMaxChunks + 1
  float* red;    // kAttentionThreads / 32 + 1
};

__device__ ProductJob product_job(const DecodeArgs& a, DecodePhase p, int layer) {
  ProductJob j;
  j.eps = a.eps;
  const DecodeLayer* L = a.layers + (layer < a.n_layers ? layer : 0);
  switch (p) {
    case DecodePhase::Qkv:
      j.m = L->qkv;
      j.prologue = Prologue::Norm;
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
      j.src = a.att;
      j.out = a.x;
      j.accumulate = true;
      break;
    case DecodePhase::GateUp:
      j.m = L->gate_up;
      j.prologue = Prologue::Norm;
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
      j.prologue = Prologue::Norm;
      j.src = a.x;
      j.norm_w = a.final_norm;
      j.out = a.logits;
      break;
    case DecodePhase::Attention: break;
  }
  return j;
}

__device__ void run_product(const ProductJob& j, const SharedPointers& sh) {
  switch (j.m.layout.dtype) {
    case DType::F32: return product_phase<DType::F32>(j, sh.xs, sh.parts, sh.small);
    case DType::F16: return product_phase<DType::F16>(j, sh.xs, sh.parts, sh.small);
    case DType::BF16: return product_phase<DType::BF16>(j, sh.xs, sh.parts, sh.small);
    case DType::Q8_0: return product_phase<DType::Q8_0>(j, sh.xs, sh.parts, sh.small);
  }
}

// One head per item: RoPE of its q (rope.cu's operations) into shared memory,
// its kv head's k (rotated) and v into the cache at pos, then the row. The
// heads that share a kv head all write the same bits to the same cache
// entries; each block reads back its own writes (after __syncthreads).
__device__ __forceinline__ void attention_phase(const DecodeArgs& a, int layer, unsigned offset, const PhaseSync& sync,
                                             const SharedPointers& sh) {
  phase_wait(sync);
  const product_detail::Items items = product_detail::block_items(a.n_heads, offset);
  if (items.count == 0) return;
  const DecodeLayer* L = a.layers + layer;
  const int hd = a.head_dim, half = hd / 2;
  const int64_t q_dim = q_dim_of(a), kv_dim = kv_dim_of(a);
  const int64_t pos = *a.pos;
  const float* cosv = a.rope_cos + pos * half;
  const float* sinv = a.rope_sin + pos * half;
  const int tile = attention_tile(hd);
  float* qs = sh.xs;
  float* buf = sh.xs + attention_q_floats(hd);
  for (int64_t it = 0; it < items.count; ++it) {
    const int h = int(items.first + it * gridDim.x);
    const int kvh = h / (a.n_heads / a.n_kv_heads);
    const float* q = a.qkv + int64_t(h) * hd;
    const float* k = a.qkv + q_dim + int64_t(kvh) * hd;
    const float* v = a.qkv + q_dim + kv_dim + int64_t(kvh) * hd;
    float* k_row = L->k_cache + pos * kv_dim + int64_t(kvh) * hd;
    float* v_row = L->v_cache + pos * kv_dim + int64_t(kvh) * hd;
    for (int j = int(threadIdx.x); j < half; j += kDecodeThreads) {
      const float c = cosv[j], s = sinv[j];
      const float2 qr = rope_rotate(__ldcg(q + j), __ldcg(q + j + half), c, s);
      qs[j] = qr.x;
      qs[j + half] = qr.y;
      const float2 kr = rope_rotate(__ldcg(k + j), __ldcg(k + j + half), c, s);
      k_row[j] = kr.x;
      k_row[j + half] = kr.y;
    }
    for (int d = int(threadIdx.x); d < hd; d += kDecodeThreads) v_row[d] = __ldcg(v + d);
    __syncthreads();
    attend_row(qs, buf, sh.red, L->k_cache + int64_t(kvh) * hd, L->v_cache + int64_t(kvh) * hd, kv_dim, pos + 1, hd,
               tile, a.scores + int64_t(h) * a.context, AttentionRowOut{a.att + int64_t(h) * hd});
    __syncthreads();  // qs, the tiles and red are reused by the next head
  }
}

__device__ void run_phase(const DecodeArgs& a, DecodePhase p, int layer, unsigned offset, const PhaseSync& sync,
                          const SharedPointers& sh) {
  if (p == DecodePhase::Attention) {
    attention_phase(a, layer, offset, sync, sh);
    return;
  }
  ProductJob j = product_job(a, p, layer);
  j.offset = offset;
  j.sync = sync;
  run_product(j, sh);
}

__device__ SharedPointers shared_pointers(const DecodeArgs& a, float* smem, float* small, float* red) {
  return SharedPointers{smem, smem + decode_x_floats(decode_max_cols(a)), small, red};
}

// ---------------------------------------------------------------- kernels ---

// Phase i of a persistent step: 5 per layer, then the LmHead.
__host__ __device__ inline DecodePhase phase_kind(int i, int n_layers) {
  return i >= kDecodePhasesPerLayer * n_layers ? DecodePhase::LmHead : DecodePhase(i % kDecodePhasesPerLayer);
}

// The persistent kernel runs the phases of layers whose matrices all have
// dtype DT (and the LmHead when it has DT too). One product call site: ptxas
// spills inside the products when a kernel calls several instantiations.
// Out of line, so that the persistent loop holds almost nothing live across it.
template <DType DT>
__device__ __noinline__ void persistent_phase(const DecodeArgs& a, int i, unsigned offset, float* smem, float* small,
                                              float* red) {
  PhaseSync sync;
  sync.counter = a.sync;
  sync.persistent = true;
  sync.target = unsigned(i) * gridDim.x;
  sync.times = a.phase_times;
  sync.phase = i + 1;
  const SharedPointers sh = shared_pointers(a, smem, small, red);
  const DecodePhase p = phase_kind(i, a.n_layers);
  const int layer = i / kDecodePhasesPerLayer;
  if (p == DecodePhase::Attention) {
    attention_phase(a, layer, offset, sync, sh);
  } else {
    ProductJob j = product_job(a, p, layer);
    j.offset = offset;
    j.sync = sync;
    product_phase<DT>(j, sh.xs, sh.parts, sh.small);
  }
  phase_arrive(sync);
}

template <DType DT>
__global__ void __launch_bounds__(kDecodeThreads, 1) decode_persistent_kernel(const DecodeArgs a) {
  extern __shared__ __align__(16) float smem[];
  __shared__ float small[kDecodeMaxChunks + 1];
  __shared__ float red[kAttentionThreads / 32 + 1];
  if (a.phase_times != nullptr && blockIdx.x == 0 && threadIdx.x == 0) a.phase_times[0] = global_time_ns();
  const int phases = kDecodePhasesPerLayer * a.n_layers + (a.lm_head.layout.dtype == DT ? 1 : 0);
  unsigned offset = 0;  // each phase starts its round-robin where the previous one stopped
  for (int i = 0; i < phases; ++i) {
    persistent_phase<DT>(a, i, offset, smem, small, red);
    offset = unsigned((offset + phase_items(a, phase_kind(i, a.n_layers))) % gridDim.x);
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

template <DecodePhase P>
__global__ void __launch_bounds__(kDecodeThreads, 1) decode_phase_kernel(const DecodeArgs a, int layer, unsigned offset) {
  extern __shared__ __align__(16) float smem[];
  __shared__ float small[kDecodeMaxChunks + 1];
  __shared__ float red[kAttentionThreads / 32 + 1];
  allow_next_kernel();
  run_phase(a, P, layer, offset, PhaseSync{}, shared_pointers(a, smem, small, red));
}

using PhaseKernel = void (*)(const DecodeArgs, int, unsigned);

PhaseKernel phase_kernel(DecodePhase p) {
  switch (p) {
    case DecodePhase::Qkv: return decode_phase_kernel<DecodePhase::Qkv>;
    case DecodePhase::Attention: return decode_phase_kernel<DecodePhase::Attention>;
    case DecodePhase::Out: return decode_phase_kernel<DecodePhase::Out>;
    case DecodePhase::GateUp: return decode_phase_kernel<DecodePhase::GateUp>;
    case DecodePhase::Down: return decode_phase_kernel<DecodePhase::Down>;
    case DecodePhase::LmHead: return decode_phase_kernel<DecodePhase::LmHead>;
  }
  return nullptr;
}

constexpr DecodePhase kAllPhases[] = {DecodePhase::Qkv,    DecodePhase::Attention, DecodePhase::Out,
                                      DecodePhase::GateUp, DecodePhase::Down,      DecodePhase::LmHead};

int device_max_shared() {
  int device = 0, bytes = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "cudaDeviceGetAttribute");
  return bytes;
}

}  // namespace

const char* decode_unsupported(const DecodeArgs& a) {
  if (decode_max_cols(a) > int64_t(kDecodeMaxChunks) * kChunk) return "a product or norm wider than 16384 columns";
  if (a.head_dim > kAttentionMaxHeadDim || a.head_dim % 2 != 0) return "a head size over 512";
  if (a.n_heads <= 0 || a.n_kv_heads <= 0 || a.n_heads % a.n_kv_heads != 0) return "no grouped-query head layout";
  // the static shared memory (small, red) beside the dynamic part
  if (shared_bytes_of(a) + 1024 > size_t(device_max_shared())) return "more shared memory than a block may have";
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
  int device = 0, sms = 0, per_sm = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, persistent_kernel(a.layer_dtype), kDecodeThreads,
                                                      shared_bytes_of(a)),
        "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  return per_sm >= 1 ? sms : 0;
}

void launch_decode_persistent(const DecodeArgs& a, int blocks, bool cooperative, const Launch& launch) {
  if (blocks <= 0) throw std::runtime_error("cuda: the persistent decode kernel does not fit on an SM");
  launch_persistent(persistent_kernel(a.layer_dtype), blocks, kDecodeThreads, shared_bytes_of(a), launch.stream,
                    cooperative, a);
  check_launch("decode (persistent)");
  // An lm_head of another dtype runs as a kernel of its own.
  if (a.lm_head.layout.dtype != a.layer_dtype) launch_decode_phase(a, DecodePhase::LmHead, a.n_layers, 0, 0, launch);
}

void launch_decode_phase(const DecodeArgs& a, DecodePhase phase, int layer, int blocks, unsigned offset,
                         const Launch& launch) {
  const int64_t items = phase_items(a, phase);
  if (items <= 0) return;
  const unsigned grid = blocks > 0 ? unsigned(blocks) : unsigned(items);
  launch_kernel(phase_kernel(phase), dim3(grid), dim3(kDecodeThreads), shared_bytes_of(a), launch, a, layer, offset);
  check_launch("decode phase");
}

void launch_decode_phases(const DecodeArgs& a, const Launch& launch) {
  for (int l = 0; l < a.n_layers; ++l)
    for (DecodePhase p : {DecodePhase::Qkv, DecodePhase::Attention, DecodePhase::Out, DecodePhase::GateUp,
                          DecodePhase::Down})
      launch_decode_phase(a, p, l, 0, 0, launch);
  launch_decode_phase(a, DecodePhase::LmHead, a.n_layers, 0, 0, launch);
}

}  // namespace ree::cuda
