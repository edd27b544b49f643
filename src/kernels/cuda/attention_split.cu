// One decode row of repro-v1 attention split over a thread-block cluster
// (sm_90): the row of head h runs on `split` blocks, block r of the cluster
// taking the row's 256-position chunks r, r + split, r + 2 split, ...
//
// Why: one block per head (attention.cu) reads a whole row's key and value
// rows itself. At 1,500 positions that is 768 KB a block at about 30 GB/s,
// on 32 of an H100's 132 SMs: 31 µs a layer against 7 at 128 positions
// (docs/cuda.md, session 9's timeline). Split, each block reads one chunk.
//
// The operations are attend_row_resident's, in the same order, so the bits
// are the same (attention_resident.cuh):
//   s_j = D(q, k_j, hd) * scale: thread j of a chunk, its key row in registers;
//   m = max_j s_j: each block's maximum, then fmaxf over the blocks (an
//     order-free maximum, as block_max's is; see attention_row.cuh on NaN
//     and signed zeros);
//   e_j = exp(s_j - m), each chunk's chains of o[d] and S in position order;
//   block 0 adds the chunks' partials in chunk order, r = p0; r = r + p1 ...,
//   and writes out[d] = o[d] / S.
// What crosses blocks goes through distributed shared memory: each block
// stores its maximum into every block of the cluster and its chunks'
// partials into block 0, then arrives on a cluster barrier. No round trip to
// L2, no block reads another's shared memory, and only block 0 waits at the
// end.
//
// Before the kernel waits for its inputs (PDL), each block loads what earlier
// passes wrote: its first chunk's key rows (one a thread) and value rows
// below the new position. The new position's rows come right after the wait.
#include <cooperative_groups.h>

#include "kernels/cuda/attention_resident.cuh"
#include "kernels/cuda/cuda_device.h"

namespace ree::cuda {
namespace {

namespace cg = cooperative_groups;

// The dynamic shared memory of a block, in floats (each part a multiple of
// 4): q, the scores of its chunks, one chunk's value rows, every block's
// maximum, and (block 0's) every chunk's partials, o[0..hd) and S.
struct SplitLayout {
  int q_floats = 0, score_floats = 0, value_floats = 0, gather_floats = 0;
  __host__ __device__ size_t bytes() const {
    return size_t(q_floats + score_floats + value_floats + kAttentionMaxSplit + gather_floats) * sizeof(float);
  }
};

// Rows of up to `context` positions over `split` blocks a head.
SplitLayout split_layout(int hd, int64_t context, int split) {
  const int64_t chunks = (context + kChunk - 1) / kChunk;
  const int64_t per_block = (chunks + split - 1) / split;
  SplitLayout l;
  l.q_floats = int(attention_q_floats(hd));
  l.score_floats = int(per_block * kChunk);
  l.value_floats = kChunk * hd;
  l.gather_floats = int((chunks * (hd + 1) + 3) / 4 * 4);
  return l;
}

// The thread that runs a chunk's S chain (o[d]'s run on threads d < hd <= 64,
// two warps; S on the last warp, beside them).
constexpr int kSumThread = kAttentionThreads - 1;
static_assert(kSumThread >= kResidentMaxHeadDim, "S's chain runs beside the o chains");

__global__ void __launch_bounds__(kAttentionThreads, 2) attention_split_kernel(const AttentionArgs a,
                                                                               const SplitLayout l) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  extern __shared__ __align__(16) float smem[];
  __shared__ float red[kAttentionThreads / 32 + 1];
  allow_next_kernel();
  // A block may store into another's shared memory only once that block
  // runs: this first cluster barrier, waited on before the first such
  // store, says so.
  __cluster_barrier_arrive_relaxed();
  const cg::cluster_group cluster = cg::this_cluster();
  const int split = int(cluster.num_blocks()), rank = int(cluster.block_rank());
  const int h = int(blockIdx.x) / split, tid = int(threadIdx.x), hd = a.head_dim;
  const int64_t kv_dim = int64_t(a.n_kv_heads) * hd;
  const int kvh = h / (a.n_heads / a.n_kv_heads);
  const float* kb = a.k_cache + int64_t(kvh) * hd;
  const float* vb = a.v_cache + int64_t(kvh) * hd;
  const int64_t pos0 = *a.pos0;  // written by a copy that precedes every kernel of the pass
  const int64_t npos = pos0 + 1, chunks = (npos + kChunk - 1) / kChunk;
  float* qs = smem;
  float* scores = qs + l.q_floats;  // [chunk of this block][kChunk]
  float* vbuf = scores + l.score_floats;
  float* maxima = vbuf + l.value_floats;              // [block]: every block's maximum score
  float* gather = maxima + kAttentionMaxSplit;        // block 0: [chunk][hd + 1]

  // Before the wait: this block's first chunk, the rows earlier passes wrote.
  const int64_t first = rank;
  KeyRow key;
  int64_t values_loaded = 0;
  if (first < chunks) {
    const int64_t j = first * kChunk + tid;
    if (j < pos0) load_key_row(key, kb + j * kv_dim, hd);
    const int64_t below = pos0 - first * kChunk;
    values_loaded = below < kChunk ? below : kChunk;
    attention_detail::copy_rows(vbuf, hd, vb, kv_dim, first * kChunk, int(values_loaded), hd);
  }
  __pipeline_commit();
  wait_for_inputs();
  if (first * kChunk + tid == pos0) load_key_row(key, kb + pos0 * kv_dim, hd);
  for (int d = tid; d < hd; d += kAttentionThreads) qs[d] = a.q[int64_t(h) * hd + d];
  __syncthreads();

  // The scores of this block's chunks, and their maximum.
  const float scale = __fdiv_rn(1.0f, __fsqrt_rn(float(hd)));
  float m = __int_as_float(0xff800000);  // -inf
  int slot = 0;
  for (int64_t c = first; c < chunks; c += split, ++slot) {
    const int64_t j = c * kChunk + tid;
    if (j >= npos) continue;
    if (slot > 0) load_key_row(key, kb + j * kv_dim, hd);
    const float s = __fmul_rn(chain_key_columns(0.0f, qs, 0, key.k, hd), scale);
    scores[slot * kChunk + tid] = s;
    m = fmaxf(m, s);
  }
  m = attention_detail::block_max<BlockSync>(m, red);
  __cluster_barrier_wait();  // every block of the cluster runs
  if (tid < split) *cluster.map_shared_rank(maxima + rank, tid) = m;
  cluster.sync();  // every block's maximum has arrived everywhere
  m = maxima[0];
  for (int b = 1; b < split; ++b) m = fmaxf(m, maxima[b]);

  // e_j, then each chunk's chains of o[d] and S.
  slot = 0;
  for (int64_t c = first; c < chunks; c += split, ++slot) {
    const int64_t c0 = c * kChunk;
    const int n = int(npos - c0 < kChunk ? npos - c0 : kChunk);
    float* e = scores + slot * kChunk;
    if (tid < n) e[tid] = kernels::contract_expf(__fsub_rn(e[tid], m));
    if (slot > 0) __syncthreads();  // the previous chunk's chains have read vbuf
    const int have = slot == 0 ? int(values_loaded) : 0;
    attention_detail::copy_rows(vbuf + int64_t(have) * hd, hd, vb, kv_dim, c0 + have, n - have, hd);
    __pipeline_commit();
    __pipeline_wait_prior(0);
    __syncthreads();  // the value rows and every e_j are visible
    float* part = cluster.map_shared_rank(gather, 0) + c * (hd + 1);
    if (tid < hd)
      part[tid] = hd == 64 ? chain_positions<false, 64>(0.0f, e, vbuf + tid, n, hd)
                           : chain_positions<false>(0.0f, e, vbuf + tid, n, hd);
    else if (tid == kSumThread)
      part[hd] = chain_positions<true>(0.0f, e, vbuf, n, hd);
  }
  // Every block arrives (releasing its partials); only block 0 waits, and
  // nobody touches another block's shared memory after this: the others exit.
  __cluster_barrier_arrive();
  if (rank != 0) return;
  __cluster_barrier_wait();

  // r = p0; r = r + p_c in chunk order, for o[d] (threads d < hd) and S.
  const float r = tid < hd || tid == kSumThread ? fold_chunk_parts(gather, npos, hd, tid < hd ? tid : hd) : 0.0f;
  if (tid == kSumThread) red[0] = r;
  __syncthreads();
  if (tid < hd) {
    const int64_t at = int64_t(h) * hd + tid;
    const float y = __fdiv_rn(r, red[0]);
    a.out[at] = y;
    if (a.out_low != nullptr) store_low(a.out_low, a.low, at, y);
  }
#else
  __trap();  // never launched before sm_90 (attention_split_supported); a JIT of older PTX must not pass silently
#endif
}

size_t split_budget() {
  return dynamic_shared_budget(reinterpret_cast<const void*>(attention_split_kernel),
                               "cudaFuncGetAttributes (attention split)");
}

}  // namespace

bool attention_split_supported(int head_dim, int64_t context, int split) {
  if (split < 2 || split > kAttentionMaxSplit || head_dim % 4 != 0 || head_dim > kResidentMaxHeadDim) return false;
  if (device_attribute(cudaDevAttrComputeCapabilityMajor) < 9) return false;
  cudaFuncAttributes attr = {};
  check(cudaFuncGetAttributes(&attr, attention_split_kernel), "cudaFuncGetAttributes (attention split)");
  if (attr.ptxVersion < 90) return false;  // a build without sm_90 code has only the trap
  return split_layout(head_dim, context, split).bytes() <= split_budget();
}

void prepare_attention_split() {
  if (device_attribute(cudaDevAttrComputeCapabilityMajor) < 9) return;
  check(cudaFuncSetAttribute(attention_split_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(split_budget())),
        "cudaFuncSetAttribute (attention split)");
}

void launch_attention_split(const AttentionArgs& a, const Launch& launch) {
  if (a.T != 1 || a.t0 != 0) throw std::runtime_error("cuda: a split attention row takes one token");
  if (!attention_split_supported(a.head_dim, a.context, a.split))
    throw std::runtime_error("cuda: attention split " + std::to_string(a.split) + " not supported here");
  const SplitLayout l = split_layout(a.head_dim, a.context, a.split);
  launch_kernel_in_clusters(attention_split_kernel, unsigned(a.split), dim3(unsigned(a.n_heads * a.split)),
                            dim3(kAttentionThreads), l.bytes(), launch, a, l);
  check_launch("attention (split)");
}

}  // namespace ree::cuda
