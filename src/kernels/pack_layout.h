#pragma once
// The packed weight layout of PackedMatrix (written by pack_matrix, read by the
// matmul kernels of every backend; the CUDA backend may reuse it as is).
//
// Rows are taken in groups of kLanes = 16 consecutive output rows; group g holds
// rows 16g .. 16g+15. A last partial group is padded with zero rows (their
// outputs are computed and discarded). Groups are stored one after another,
// each group_bytes(dtype, K) long, with no gaps:
//
//   F32, F16, BF16:  group[k][lane]  -- for k = 0..K-1, the 16 rows' element k
//                    of the stored type (4 or 2 bytes, little endian), so one
//                    k is 64 (f32) or 32 (f16/bf16) contiguous bytes.
//   Q8_0:            group[b] for each block b = 0..K/32-1 of 32 columns:
//                      scale[lane]       16 x f16 (the row's ggml block scale d), 32 bytes
//                      q[kk][lane]       32 x 16 x int8, 512 bytes
//                    544 bytes per block; element (row 16g+lane, col 32b+kk) is
//                    float(q[kk][lane]) * f16_to_f32(scale[lane]) -- exact.
//
// So at every k one vector load gives that k for 16 rows: a SIMD lane is an
// output row and runs the contract's serial fma chain for that row alone.
#include <stdint.h>

#include <cstddef>

#include "kernels/kernels.h"

namespace ree::kernels {

inline constexpr int kLanes = 16;           // rows per group
inline constexpr int kQ8Block = 32;         // columns per Q8_0 block
inline constexpr int kQ8BlockBytes = 544;   // packed bytes per Q8_0 block of one group
inline constexpr int kQ8ScaleBytes = 32;    // the 16 f16 scales at the start of a block
inline constexpr int kChunk = 256;          // repro-v1 dot-product chunk

static inline int64_t group_count(int64_t rows) { return (rows + kLanes - 1) / kLanes; }

// Bytes of one 16-row group for K columns.
static inline size_t group_bytes(DType dtype, int64_t cols) {
  switch (dtype) {
    case DType::F32: return size_t(cols) * kLanes * 4;
    case DType::F16:
    case DType::BF16: return size_t(cols) * kLanes * 2;
    case DType::Q8_0: return size_t(cols / kQ8Block) * kQ8BlockBytes;
  }
  return 0;
}

}  // namespace ree::kernels
