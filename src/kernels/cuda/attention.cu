// Causal attention of repro-v1 (src/kernels/attention.cpp, kernels_impl.h):
// one block per (head, query row), the row at absolute position p = pos0 + t.
// The row's operations are attend_row() (attention_row.cuh), which the fused
// decode step (decode_step.cu) and rope_attention_kernel below run too, or
// the same operations in the same order arranged as attend_row_resident()
// (attention_resident.cuh: key rows loaded whole, one per thread, scores and
// weights kept in shared memory) for rows it fits; so prefill and decode give
// identical bits.
#include "kernels/cuda/attention_resident.cuh"
#include "kernels/cuda/cuda_device.h"

namespace ree::cuda {
namespace {

// How a launch's rows are laid out in its dynamic shared memory.
struct AttentionLayout {
  int tile = 0;        // attend_row's tile of positions
  int score_cap = 0;   // rows of up to this many positions run attend_row_resident (0: none)
  int value_rows = 0;  // its value rows per batch
  int parts_offset = 0;  // its chunks' partials (chunk_parts_floats), in floats from the scores: after the value batch
  size_t shared_bytes = 0;
};

// The shared memory of a resident row: the block runs alone on its SM
// anyway (its registers), and every value row that fits arrives in the
// first batch, loaded before the kernel waits. 160 KiB fits sm_80 too.
// Against the tiles' 67 KiB on an H100 (docs/cuda.md, session 6): +1.1%
// decode at 128-384 positions, +5% at 1,500-1,756.
constexpr size_t kResidentSharedBytes = size_t(160) << 10;

// attend_row's tiles, or, for one query row (a decode step) when the head
// fits attend_row_resident and the context's scores and chunk partials fit
// beside a batch of at least 64 value rows in what the tiles take (or
// kResidentSharedBytes), the resident row.
// Measured on an H100 (tinyllama-1.1b, docs/cuda.md, session 5): the
// resident row made decode 4.5% faster at 128-384 positions and 4% at
// 1,500-1,756, but prefill rows (many blocks per SM, whose tiles overlap
// each other's latency) 6% slower at 1,500 positions.
AttentionLayout attention_layout(int hd, int64_t context, bool one_row) {
  AttentionLayout l;
  const AttentionTiling t = attention_tiling(hd);
  l.tile = t.tile;
  l.shared_bytes = t.shared_bytes;
  if (!one_row) return l;
  const size_t area = std::max(t.shared_bytes, kResidentSharedBytes) / sizeof(float) - size_t(attention_q_floats(hd));
  const int64_t cap = (context + 3) / 4 * 4;
  const int64_t parts = chunk_parts_floats(cap, hd);
  if (hd % 4 == 0 && hd <= kResidentMaxHeadDim && cap + parts + 64 * int64_t(hd) <= int64_t(area)) {
    l.score_cap = int(cap);
    l.value_rows = int(std::min<int64_t>((int64_t(area) - cap - parts) / hd, 1 << 20));
    l.parts_offset = int(cap + int64_t(l.value_rows) * hd);
    l.shared_bytes = std::max(l.shared_bytes, (size_t(attention_q_floats(hd)) + area) * sizeof(float));
  }
  return l;
}

// Rows before the launch's first position were written by earlier forward
// passes, which the stream has completed: the L2 may fetch this head's share
// of them while the kernel waits for q and the new rows (the heads of a kv
// group split the rows; only the first query row of a launch asks).
__device__ __forceinline__ void prefetch_cache_rows(const float* rows, int64_t kv_dim, int64_t n, int hd, int part,
                                                    int parts) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (hd % 4 != 0 || kv_dim % 4 != 0) return;
  for (int64_t j = part + int64_t(threadIdx.x) * parts; j < n; j += int64_t(kAttentionThreads) * parts)
    asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(rows + j * kv_dim), "r"(unsigned(hd) * 4u)
                 : "memory");
#endif
}

// The cache rows before the first position of the pass, for head h (the
// first query row of a launch asks; see prefetch_cache_rows).
__device__ __forceinline__ void prefetch_head_rows(const AttentionArgs& a, int h, int64_t pos0) {
  const int hd = a.head_dim, group = a.n_heads / a.n_kv_heads, kvh = h / group;
  const int64_t kv_dim = int64_t(a.n_kv_heads) * hd;
  prefetch_cache_rows(a.k_cache + int64_t(kvh) * hd, kv_dim, pos0, hd, h % group, group);
  prefetch_cache_rows(a.v_cache + int64_t(kvh) * hd, kv_dim, pos0, hd, h % group, group);
}

// One query row of head h over npos positions, split around the wait for
// the kernel's inputs: start() before it, inputs_ready() right after it,
// finish() once the query is in qs (visible). A resident row (where the
// layout has room) loads, before the wait, what earlier passes wrote
// (positions < pos0): this thread's key rows (up to two), so the scores need
// no round trip to memory, and the first batch's value rows; right after the
// wait, its key rows that this pass wrote; else attend_row. Kernels that may
// run resident rows are instantiated apart (kMayReside): the key rows'
// registers would cost attend_row's prefill blocks two thirds of their
// occupancy (146 registers against 80 with one key row; prefill measured
// 12-28% slower).
template <bool kMayReside>
struct AttentionRow {
  const AttentionArgs& a;
  const AttentionLayout& l;
  int h;
  int64_t r, npos, pos0;
  bool resident;
  Preloaded pre;

  __device__ AttentionRow(const AttentionArgs& args, const AttentionLayout& layout, int head, int64_t row,
                          int64_t positions, int64_t first_position)
      : a(args), l(layout), h(head), r(row), npos(positions), pos0(first_position),
        resident(kMayReside && layout.score_cap > 0 && resident_attention_fits(args.head_dim, positions, layout.score_cap,
                                                                 layout.value_rows)) {}
  __device__ const float* keys() const { return a.k_cache + int64_t(h / (a.n_heads / a.n_kv_heads)) * a.head_dim; }
  __device__ const float* values() const { return a.v_cache + int64_t(h / (a.n_heads / a.n_kv_heads)) * a.head_dim; }
  __device__ int64_t kv_dim() const { return int64_t(a.n_kv_heads) * a.head_dim; }

  __device__ __forceinline__ void start(float* buf) {
    if (r == 0) prefetch_head_rows(a, h, pos0);
    if (kMayReside && resident)
      preload_resident_row(pre, keys(), values(), buf + l.score_cap, l.value_rows, kv_dim(), pos0, a.head_dim);
  }
  // After the wait, when the previous kernel wrote this pass's cache rows.
  __device__ __forceinline__ void inputs_ready() {
    if (kMayReside && resident) complete_resident_rows(pre, keys(), kv_dim(), npos, a.head_dim);
  }
  __device__ __forceinline__ void finish(const float* qs, float* buf, float* red, const AttentionRowOut& out) {
    if (kMayReside && resident)
      attend_row_resident<BlockSync>(qs, buf, buf + l.score_cap, l.value_rows, red, buf + l.parts_offset, keys(),
                                     values(), kv_dim(), npos, a.head_dim, out, &pre);
    else
      attend_row(qs, buf, red, keys(), values(), kv_dim(), npos, a.head_dim, l.tile,
                 a.scores + (r * a.n_heads + h) * a.context, out);
  }
};

// One block per (head, query row): the kernels below.
template <bool kMayReside>
__device__ __forceinline__ void attention_block(const AttentionArgs& a, const AttentionLayout& l) {
  extern __shared__ __align__(16) float smem[];
  __shared__ float red[kAttentionThreads / 32 + 1];
  allow_next_kernel();
  const int hd = a.head_dim;
  float* qs = smem;                          // [hd]
  float* buf = smem + attention_q_floats(hd);  // attend_row: [2][tile * (hd + 1)]; resident: scores, values
  const int h = int(blockIdx.x);
  const int64_t r = blockIdx.y;  // query row within this launch
  const int64_t t = a.t0 + r;
  const int64_t q_dim = int64_t(a.n_heads) * hd;
  const int64_t pos0 = *a.pos0;  // written by a copy that precedes every kernel of the pass
  AttentionRow<kMayReside> row(a, l, h, r, pos0 + t + 1, pos0);
  row.start(buf);
  wait_for_inputs();
  row.inputs_ready();
  for (int d = threadIdx.x; d < hd; d += kAttentionThreads) qs[d] = a.q[t * q_dim + int64_t(h) * hd + d];
  __syncthreads();
  const int64_t base = t * q_dim + int64_t(h) * hd;
  row.finish(qs, buf, red, AttentionRowOut{a.out + base, a.out_low, a.low, base});
}

// Rows that do not reside (prefill): several blocks share an SM.
__global__ void __launch_bounds__(kAttentionThreads, 1) attention_kernel(const AttentionArgs a, const AttentionLayout l) {
  attention_block<false>(a, l);
}

// Rows that may reside (a decode step): one block an SM, at most 168
// registers a thread, so that one block of a product (4 warps at 168, the
// products' budget for three blocks an SM) fits beside it. At 173 registers
// the kernel left a product no room on its SM until it ended. Measured on an
// H100 (docs/cuda.md, session 13): the decode graph's step 1.2% shorter in
// two calls, decode tok/s +0.6% in one and a tie in the other; no spills.
__global__ void __maxnreg__(168) attention_resident_kernel(const AttentionArgs a, const AttentionLayout l) {
  attention_block<true>(a, l);
}

// One token: launch_qkv_rope's and this kernel's work in one block per head,
// so that the step has one kernel boundary and one round trip fewer: the
// head's q and its kv head's k and v are combined from the q|k|v partials,
// q and k rotated with rope.cu's operations (x0*c - x1*s, x0*s + x1*c, each
// product rounded), k and v written into the caches at pos (the heads of a
// kv group all write the same bits there), and the row then runs as
// attention_resident_kernel's, except that q, the new key row and (when it
// is in the first value batch) the new value row come from shared memory
// instead of a round trip to L2. Every value's partials are combined by its
// own thread, so that the partials (and the RoPE table) cost one round
// trip. Rows that do not reside read the new rows back from the caches
// after the barrier (each block reads its own writes). 168 registers at
// most, as attention_resident_kernel (a product block fits beside it). Its
// static shared memory is one key row (2 KiB; q is combined into qs and
// rotated there), so that it fits beside the resident row's 160 KiB in an
// sm_80 block's 163 KiB.
__global__ void __maxnreg__(168) rope_attention_kernel(const QkvRopeArgs r, const AttentionArgs a,
                                                       const AttentionLayout l) {
  extern __shared__ __align__(16) float smem[];
  __shared__ float red[kAttentionThreads / 32 + 1];
  __shared__ __align__(16) float fresh_k[kAttentionMaxHeadDim];  // the new key row: combined, then rotated in place
  allow_next_kernel();
  const int tid = int(threadIdx.x);
  const int64_t pos = *a.pos0;  // written by a copy that precedes every kernel of the pass
  const int hd = a.head_dim, half = hd / 2;
  float* qs = smem;
  float* buf = smem + attention_q_floats(hd);
  const int h = int(blockIdx.x);
  const int kvh = h / (a.n_heads / a.n_kv_heads);
  const int64_t q_dim = int64_t(a.n_heads) * hd, kv_dim = int64_t(a.n_kv_heads) * hd;
  AttentionRow<true> row(a, l, h, 0, pos + 1, pos);
  row.start(buf);
  wait_for_inputs();
  // This thread's pair j = tid (half <= kAttentionThreads). Nobody writes the
  // tables, but loaded before the wait they spilled (the preloaded key rows
  // hold 128 registers); here they share the partials' round trip.
  float c = 0.0f, s = 0.0f;
  if (tid < half) {
    c = r.cos[pos * half + tid];
    s = r.sin[pos * half + tid];
  }
  float* k_row = r.k_cache + pos * kv_dim + int64_t(kvh) * hd;
  float* v_row = r.v_cache + pos * kv_dim + int64_t(kvh) * hd;
  const int64_t q0 = int64_t(h) * hd, k0 = q_dim + int64_t(kvh) * hd, v0 = q_dim + kv_dim + int64_t(kvh) * hd;
  float* vbuf = buf + l.score_cap;
  const bool fresh_value_in_batch = row.resident && pos < l.value_rows;
  for (int i = tid; i < 3 * hd; i += kAttentionThreads) {
    if (i < hd) {
      qs[i] = combine(r.qkv, 0, q0 + i);
    } else if (i < 2 * hd) {
      fresh_k[i - hd] = combine(r.qkv, 0, k0 + (i - hd));
    } else {
      const int d = i - 2 * hd;
      const float v = combine(r.qkv, 0, v0 + d);
      v_row[d] = v;
      if (fresh_value_in_batch) vbuf[pos * hd + d] = v;
    }
  }
  __syncthreads();
  if (tid < half) {  // pair (tid, tid + half) of q and of k, each rotated in place by its own thread
    const float2 q = rope_rotate(qs[tid], qs[tid + half], c, s);
    qs[tid] = q.x;
    qs[tid + half] = q.y;
    const float2 k = rope_rotate(fresh_k[tid], fresh_k[tid + half], c, s);
    fresh_k[tid] = k.x;
    fresh_k[tid + half] = k.y;
    k_row[tid] = k.x;
    k_row[tid + half] = k.y;
  }
  __syncthreads();  // q, the new key row (shared and cache) and the new value row are visible to the block
  if (row.resident) {
    // complete_resident_rows' job for the one new row, from shared memory
    const int64_t cap = int64_t(Preloaded::kKeyPasses) * kAttentionThreads;
    if (pos < cap && tid == int(pos % kAttentionThreads)) {
      if (pos < kAttentionThreads) load_key_row(row.pre.key[0], fresh_k, hd);
      else load_key_row(row.pre.key[1], fresh_k, hd);
    }
    row.pre.key_rows = pos + 1 < cap ? pos + 1 : cap;
    if (fresh_value_in_batch) row.pre.value_rows = pos + 1;
  }
  row.finish(qs, buf, red, AttentionRowOut{a.out + q0, a.out_low, a.low, q0});
}

}  // namespace

// attention_split.cu
void prepare_attention_split();
void launch_attention_split(const AttentionArgs& a, const Launch& launch);

void prepare_attention(int head_dim) {
  prepare_attention_split();
  const AttentionTiling t = attention_tiling(head_dim);
  const size_t most = std::max(t.shared_bytes, attention_layout(head_dim, 0, true).shared_bytes);
  if (most > 48 * 1024) {
    for (auto kernel : {attention_kernel, attention_resident_kernel})
      check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(most)),
            "cudaFuncSetAttribute (attention)");
    check(cudaFuncSetAttribute(rope_attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(most)),
          "cudaFuncSetAttribute (rope attention)");
  }
}

void launch_rope_attention(const QkvRopeArgs& qkv, const AttentionArgs& attention, const Launch& launch) {
  if (qkv.T != 1 || attention.T != 1 || attention.t0 != 0)
    throw std::runtime_error("cuda: rope_attention takes one token");
  if (attention.head_dim > kAttentionMaxHeadDim) throw std::runtime_error("cuda: attention supports head_dim <= 512");
  const AttentionLayout l = attention_layout(attention.head_dim, attention.context, true);
  launch_kernel(rope_attention_kernel, dim3(unsigned(attention.n_heads)), dim3(kAttentionThreads), l.shared_bytes,
                launch, qkv, attention, l);
  check_launch("rope_attention");
}

void launch_attention(const AttentionArgs& a, const Launch& launch) {
  if (a.T <= 0) return;
  if (a.head_dim > kAttentionMaxHeadDim) throw std::runtime_error("cuda: attention supports head_dim <= 512");
  if (a.split > 1) return launch_attention_split(a, launch);
  const AttentionLayout l = attention_layout(a.head_dim, a.context, a.T == 1);
  const dim3 grid(unsigned(a.n_heads), unsigned(a.T));
  if (l.score_cap > 0)
    launch_kernel(attention_resident_kernel, grid, dim3(kAttentionThreads), l.shared_bytes, launch, a, l);
  else launch_kernel(attention_kernel, grid, dim3(kAttentionThreads), l.shared_bytes, launch, a, l);
  check_launch("attention");
}

}  // namespace ree::cuda
