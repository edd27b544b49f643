#pragma once
// The CUDA backend's weight layout, and the host code that builds it from the
// CPU's PackedMatrix (src/kernels/pack_layout.h). Host C++ only (no CUDA), so
// it is tested on machines without a GPU (tests/cuda/test_cuda_layout.cpp).
//
// Layout ("lane-interleaved 16-byte units"): rows are taken in groups of 32,
// one warp lane per row. Along a row, the stored elements are cut into
// 16-byte units of V consecutive columns (V = 4 for f32, 8 for f16/bf16,
// 16 for Q8_0's int8 quants). Units are stored
//
//   data[g][u][lane][16 bytes]     g = row / 32, u = col / V, lane = row % 32
//
// so when a warp's 32 lanes each load "their" unit u, the warp reads 512
// contiguous bytes, and each lane then runs the contract's serial fma chain
// over its own row. Q8_0's f16 block scales are stored apart:
//
//   scales[g][b][lane]             b = col / 32 (one f16 per 32 columns)
//
// Padding rows (up to a multiple of 32) and padding columns (up to a multiple
// of V) are zero bytes; kernels never feed padding into a chain (they stop at
// the real column count), so it cannot change a value.
//
// Several matrices with the same column count and dtype can be stacked into
// one layout (q|k|v, gate|up): their rows follow each other, so one kernel
// launch computes all of them.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/kernels.h"

namespace ree::cuda {

inline constexpr int kRowsPerGroup = 32;
inline constexpr int kUnitBytes = 16;
inline constexpr int kChunk = 256;  // repro-v1 dot-product chunk
inline constexpr int kQ8Block = 32;

// Elements of one 16-byte unit.
int unit_elements(kernels::DType dtype);
inline int chunk_count(int64_t cols) { return int((cols + kChunk - 1) / kChunk); }

struct GpuLayout {
  kernels::DType dtype = kernels::DType::F32;
  int64_t rows = 0;            // real rows (sum over stacked parts)
  int64_t cols = 0;            // K
  int64_t groups = 0;          // ceil(rows / 32)
  int64_t units_per_row = 0;   // ceil(cols / V)
  size_t data_bytes() const { return size_t(groups) * size_t(units_per_row) * kRowsPerGroup * kUnitBytes; }
  size_t scale_count() const {  // f16 scales (Q8_0 only)
    return dtype == kernels::DType::Q8_0 ? size_t(groups) * size_t(cols / kQ8Block) * kRowsPerGroup : 0;
  }
};

GpuLayout gpu_layout(kernels::DType dtype, int64_t rows, int64_t cols);

// Rows of `parts` stacked in order, all of one dtype and column count
// (throws ree::Error otherwise).
GpuLayout stacked_layout(std::span<const kernels::PackedMatrix* const> parts);

// Fill `data` (layout.data_bytes()) and, for Q8_0, `scales`
// (layout.scale_count() f16 values) from the packed parts. Uses up to
// `threads` host threads (0: all cores).
void repack_for_gpu(std::span<const kernels::PackedMatrix* const> parts, const GpuLayout& layout,
                    uint8_t* data, uint16_t* scales, int threads = 0);

// The stored bytes of the parts' rows stacked in plain row-major order
// ([rows][cols] of the stored type; f32/f16/bf16 only), for cuBLAS.
std::vector<uint8_t> unpack_row_major(std::span<const kernels::PackedMatrix* const> parts, int threads = 0);

// Element (row, col) of a GPU layout as f32, exactly (what a kernel computes
// with). For tests.
float gpu_layout_value(const GpuLayout& layout, const uint8_t* data, const uint16_t* scales, int64_t row,
                       int64_t col);

}  // namespace ree::cuda
