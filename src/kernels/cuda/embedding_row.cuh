#pragma once
// Element k of a stored embedding row as f32, exactly (src/kernels/dtype.cpp
// row_to_f32()): the conversions are half.h's, compiled by nvcc from the same
// text as the CPU's, so even NaN payloads match. Shared by embed.cu and the
// fused decode step (decode_step.cu).
#include <cstdint>

#include "kernels/cuda/gpu_layout.h"
#include "kernels/half.h"
#include "kernels/kernels.h"

namespace ree::cuda {

__device__ __forceinline__ uint16_t load_u16(const uint8_t* p) {
  return uint16_t(p[0]) | uint16_t(uint16_t(p[1]) << 8);
}

__device__ __forceinline__ float embedding_value(kernels::DType dtype, const uint8_t* row, int64_t k) {
  switch (dtype) {
    case kernels::DType::F32:
      return kernels::f32_from_bits(uint32_t(load_u16(row + 4 * k)) | (uint32_t(load_u16(row + 4 * k + 2)) << 16));
    case kernels::DType::F16: return kernels::f16_to_f32(load_u16(row + 2 * k));
    case kernels::DType::BF16: return kernels::bf16_to_f32(load_u16(row + 2 * k));
    case kernels::DType::Q8_0: {
      const uint8_t* block = row + (k / kQ8Block) * 34;  // ggml: f16 d, then 32 int8
      const float d = kernels::f16_to_f32(load_u16(block));
      return __fmul_rn(float(int8_t(block[2 + k % kQ8Block])), d);
    }
  }
  return 0.0f;
}

}  // namespace ree::cuda
