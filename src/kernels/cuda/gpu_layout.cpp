// Repacking the CPU's packed weights (pack_layout.h: 16-row groups, one k at a
// time) into the GPU layout (gpu_layout.h: 32-row groups, 16-byte units along
// k). Only bytes move: no value is converted here.
#include "kernels/cuda/gpu_layout.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <thread>

#include "kernels/half.h"
#include "kernels/pack_layout.h"
#include "runtime/error.h"

namespace ree::cuda {

using kernels::DType;

int unit_elements(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F16:
    case DType::BF16: return 8;
    case DType::Q8_0: return 16;
  }
  return 1;
}

namespace {

int element_bytes(DType dtype) { return dtype == DType::F32 ? 4 : dtype == DType::Q8_0 ? 1 : 2; }

// Where one row of a stacked layout comes from.
struct RowSource {
  const kernels::PackedMatrix* part = nullptr;  // null: a padding row
  int64_t row = 0;
};

RowSource source_of(std::span<const kernels::PackedMatrix* const> parts, int64_t row) {
  for (const kernels::PackedMatrix* p : parts) {
    if (row < p->rows) return {p, row};
    row -= p->rows;
  }
  return {};
}

// Runs fn(g0, g1) over [0, n) split across threads.
template <class Fn>
void split_groups(int64_t n, int threads, const Fn& fn) {
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  threads = int(std::min<int64_t>(threads, std::max<int64_t>(1, n)));
  if (threads == 1) {
    fn(int64_t(0), n);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t per = (n + threads - 1) / threads;
  for (int i = 0; i < threads; ++i) {
    const int64_t g0 = std::min(n, i * per), g1 = std::min(n, g0 + per);
    if (g0 < g1) pool.emplace_back([&fn, g0, g1] { fn(g0, g1); });
  }
  for (auto& t : pool) t.join();
}

// Start of packed row `row`'s 16-row group, and its lane in it.
const uint8_t* packed_group(const kernels::PackedMatrix& m, int64_t row, int& lane16) {
  lane16 = int(row % kernels::kLanes);
  return m.data.get() + size_t(row / kernels::kLanes) * kernels::group_bytes(m.dtype, m.cols);
}

void repack_row(const RowSource& src, const GpuLayout& layout, int64_t g, int lane, uint8_t* data,
                uint16_t* scales) {
  if (src.part == nullptr) return;  // padding stays zero
  int lane16 = 0;
  const uint8_t* group = packed_group(*src.part, src.row, lane16);
  const int64_t K = layout.cols;
  const int V = unit_elements(layout.dtype);
  const size_t unit_stride = size_t(kRowsPerGroup) * kUnitBytes;
  uint8_t* row_units = data + (size_t(g) * size_t(layout.units_per_row) * kRowsPerGroup + size_t(lane)) * kUnitBytes;
  if (layout.dtype == DType::Q8_0) {
    const int64_t blocks = K / kQ8Block;
    for (int64_t b = 0; b < blocks; ++b) {
      const uint8_t* block = group + size_t(b) * kernels::kQ8BlockBytes;
      uint16_t d;
      std::memcpy(&d, block + size_t(lane16) * 2, 2);
      scales[(size_t(g) * size_t(blocks) + size_t(b)) * kRowsPerGroup + size_t(lane)] = d;
      for (int kk = 0; kk < kQ8Block; ++kk) {
        const int64_t k = b * kQ8Block + kk;
        row_units[size_t(k / V) * unit_stride + size_t(k % V)] =
            block[kernels::kQ8ScaleBytes + kk * kernels::kLanes + lane16];
      }
    }
    return;
  }
  const int es = element_bytes(layout.dtype);
  for (int64_t k = 0; k < K; ++k) {
    std::memcpy(row_units + size_t(k / V) * unit_stride + size_t(k % V) * es,
                group + (size_t(k) * kernels::kLanes + size_t(lane16)) * es, size_t(es));
  }
}

}  // namespace

GpuLayout gpu_layout(DType dtype, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    throw Error("cuda: weight matrix of " + std::to_string(rows) + "x" + std::to_string(cols) + " is empty");
  if (dtype == DType::Q8_0 && cols % kQ8Block != 0)
    throw Error("cuda: q8_0 column count " + std::to_string(cols) + " is not a multiple of 32");
  GpuLayout l;
  l.dtype = dtype;
  l.rows = rows;
  l.cols = cols;
  l.groups = (rows + kRowsPerGroup - 1) / kRowsPerGroup;
  const int V = unit_elements(dtype);
  l.units_per_row = (cols + V - 1) / V;
  return l;
}

GpuLayout stacked_layout(std::span<const kernels::PackedMatrix* const> parts) {
  if (parts.empty()) throw Error("cuda: no matrix to stack");
  int64_t rows = 0;
  for (const kernels::PackedMatrix* p : parts) {
    if (p->dtype != parts[0]->dtype || p->cols != parts[0]->cols)
      throw Error("cuda: stacked matrices differ in dtype or column count");
    if (!p->data) throw Error("cuda: a weight matrix has no data");
    rows += p->rows;
  }
  return gpu_layout(parts[0]->dtype, rows, parts[0]->cols);
}

void repack_for_gpu(std::span<const kernels::PackedMatrix* const> parts, const GpuLayout& layout, uint8_t* data,
                    uint16_t* scales, int threads) {
  std::memset(data, 0, layout.data_bytes());
  if (layout.dtype == DType::Q8_0) std::memset(scales, 0, layout.scale_count() * sizeof(uint16_t));
  split_groups(layout.groups, threads, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g)
      for (int lane = 0; lane < kRowsPerGroup; ++lane)
        repack_row(source_of(parts, g * kRowsPerGroup + lane), layout, g, lane, data, scales);
  });
}

std::vector<uint8_t> unpack_row_major(std::span<const kernels::PackedMatrix* const> parts, int threads) {
  const GpuLayout layout = stacked_layout(parts);
  if (layout.dtype == DType::Q8_0) throw Error("cuda: unpack_row_major does not take q8_0");
  const int es = element_bytes(layout.dtype);
  const int64_t K = layout.cols;
  std::vector<uint8_t> out(size_t(layout.rows) * size_t(K) * size_t(es));
  split_groups(layout.rows, threads, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const RowSource src = source_of(parts, r);
      int lane16 = 0;
      const uint8_t* group = packed_group(*src.part, src.row, lane16);
      uint8_t* dst = out.data() + size_t(r) * size_t(K) * size_t(es);
      for (int64_t k = 0; k < K; ++k)
        std::memcpy(dst + size_t(k) * es, group + (size_t(k) * kernels::kLanes + size_t(lane16)) * es, size_t(es));
    }
  });
  return out;
}

float gpu_layout_value(const GpuLayout& layout, const uint8_t* data, const uint16_t* scales, int64_t row,
                       int64_t col) {
  const int V = unit_elements(layout.dtype);
  const int64_t g = row / kRowsPerGroup, lane = row % kRowsPerGroup;
  const uint8_t* unit =
      data + ((size_t(g) * size_t(layout.units_per_row) + size_t(col / V)) * kRowsPerGroup + size_t(lane)) * kUnitBytes;
  const int e = int(col % V);
  switch (layout.dtype) {
    case DType::F32: {
      float v;
      std::memcpy(&v, unit + e * 4, 4);
      return v;
    }
    case DType::F16:
    case DType::BF16: {
      uint16_t h;
      std::memcpy(&h, unit + e * 2, 2);
      return layout.dtype == DType::F16 ? kernels::f16_to_f32(h) : kernels::bf16_to_f32(h);
    }
    case DType::Q8_0: {
      const int64_t blocks = layout.cols / kQ8Block;
      const uint16_t d = scales[(size_t(g) * size_t(blocks) + size_t(col / kQ8Block)) * kRowsPerGroup + size_t(lane)];
      return float(int8_t(unit[e])) * kernels::f16_to_f32(d);
    }
  }
  return 0.0f;
}

}  // namespace ree::cuda
