#pragma once
// One 16-byte unit of a GPU-layout weight row (gpu_layout.h) as exact f32
// values: shared by the matrix-product kernels (matmul_chain.cuh, block_product.cuh).
// Every conversion is exact (repro-v1: stored weights become f32 before any
// arithmetic).
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/kernels.h"

namespace ree::cuda {

template <kernels::DType DT>
struct Unit;

template <>
struct Unit<kernels::DType::F32> {
  static constexpr int kElems = 4;
  __device__ static void unpack(const uint4 u, float, float (&w)[4]) {
    w[0] = __uint_as_float(u.x);
    w[1] = __uint_as_float(u.y);
    w[2] = __uint_as_float(u.z);
    w[3] = __uint_as_float(u.w);
  }
};

template <>
struct Unit<kernels::DType::BF16> {
  static constexpr int kElems = 8;
  __device__ static void unpack(const uint4 u, float, float (&w)[8]) {
    const uint32_t v[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      w[2 * i] = __uint_as_float(v[i] << 16);  // element 2i is the low half (little endian)
      w[2 * i + 1] = __uint_as_float(v[i] & 0xffff0000u);
    }
  }
};

template <>
struct Unit<kernels::DType::F16> {
  static constexpr int kElems = 8;
  __device__ static void unpack(const uint4 u, float, float (&w)[8]) {
    const uint32_t v[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {  // f16 -> f32 is exact for every finite value
      w[2 * i] = __half2float(__ushort_as_half(static_cast<unsigned short>(v[i] & 0xffffu)));
      w[2 * i + 1] = __half2float(__ushort_as_half(static_cast<unsigned short>(v[i] >> 16)));
    }
  }
};

template <>
struct Unit<kernels::DType::Q8_0> {
  static constexpr int kElems = 16;
  // float(q) * d is exact (8-bit times 11-bit significands).
  __device__ static void unpack(const uint4 u, float d, float (&w)[16]) {
    const uint32_t v[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 16; ++i) {
      const int q = static_cast<int8_t>((v[i / 4] >> (8 * (i % 4))) & 0xffu);
      w[i] = __fmul_rn(__int2float_rn(q), d);
    }
  }
};

}  // namespace ree::cuda
