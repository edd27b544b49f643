// Embedding lookup (src/kernels/dtype.cpp row_to_f32()): an exact copy of each
// token's row as f32. The conversions are half.h's, compiled by nvcc from the
// same text as the CPU's, so even NaN payloads match.
#include "kernels/cuda/device_common.cuh"
#include "kernels/half.h"

namespace ree::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ uint16_t load_u16(const uint8_t* p) {
  return uint16_t(p[0]) | uint16_t(uint16_t(p[1]) << 8);
}

__global__ void __launch_bounds__(kThreads) embed_kernel(const EmbedArgs a) {
  pdl_entry();
  const int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x;
  if (i >= a.T * a.dim) return;
  const int64_t t = i / a.dim, k = i % a.dim;
  const uint8_t* row = a.table + size_t(a.tokens[t]) * a.row_bytes;
  float v = 0.0f;
  switch (a.dtype) {
    case kernels::DType::F32: v = kernels::f32_from_bits(uint32_t(load_u16(row + 4 * k)) |
                                                         (uint32_t(load_u16(row + 4 * k + 2)) << 16));
      break;
    case kernels::DType::F16: v = kernels::f16_to_f32(load_u16(row + 2 * k)); break;
    case kernels::DType::BF16: v = kernels::bf16_to_f32(load_u16(row + 2 * k)); break;
    case kernels::DType::Q8_0: {
      const uint8_t* block = row + (k / kQ8Block) * 34;  // ggml: f16 d, then 32 int8
      const float d = kernels::f16_to_f32(load_u16(block));
      v = __fmul_rn(float(int8_t(block[2 + k % kQ8Block])), d);
      break;
    }
  }
  a.x[i] = v;
}

}  // namespace

void launch_embed(const EmbedArgs& a, const Launch& launch) {
  if (a.T <= 0) return;
  launch_kernel(embed_kernel, dim3(blocks_for(a.T * a.dim, kThreads)), dim3(kThreads), 0, launch, a);
  check_launch("embed");
}

}  // namespace ree::cuda
