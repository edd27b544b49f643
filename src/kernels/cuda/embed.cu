// Embedding lookup (src/kernels/dtype.cpp row_to_f32()): an exact copy of each
// token's row as f32 (embedding_row.cuh).
#include "kernels/cuda/device_common.cuh"
#include "kernels/cuda/embedding_row.cuh"

namespace ree::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) embed_kernel(const EmbedArgs a) {
  pdl_entry();
  const int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x;
  if (i >= a.T * a.dim) return;
  const int64_t t = i / a.dim, k = i % a.dim;
  a.x[i] = embedding_value(a.dtype, a.table + size_t(a.tokens[t]) * a.row_bytes, k);
}

}  // namespace

void launch_embed(const EmbedArgs& a, const Launch& launch) {
  if (a.T <= 0) return;
  launch_kernel(embed_kernel, dim3(blocks_for(a.T * a.dim, kThreads)), dim3(kThreads), 0, launch, a);
  check_launch("embed");
}

}  // namespace ree::cuda
