// pack_matrix: row-major weights -> the interleaved 16-row groups described in
// pack_layout.h. Packing only moves bytes (Q8_0 scales stay f16), so it is
// exact by construction.
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/pack_layout.h"
#include "kernels/thread_pool.h"
#include "runtime/error.h"

namespace ree::kernels {

namespace {

constexpr size_t kAlign = 64;  // one cache line: a group's k-slice never straddles two

void check_pack_args(DType dtype, const void* src, int64_t rows, int64_t cols, const int32_t* row_order) {
  if (rows < 0 || cols < 0)
    throw Error("kernels: pack_matrix: negative shape " + std::to_string(rows) + "x" + std::to_string(cols));
  if (dtype == DType::Q8_0 && cols % kQ8Block != 0)
    throw Error("kernels: pack_matrix: q8_0 column count " + std::to_string(cols) + " is not a multiple of 32");
  if (src == nullptr && rows > 0 && cols > 0) throw Error("kernels: pack_matrix: null source");
  if (row_order == nullptr) return;
  for (int64_t n = 0; n < rows; ++n)
    if (row_order[n] < 0 || row_order[n] >= rows)
      throw Error("kernels: pack_matrix: row_order[" + std::to_string(n) + "] = " + std::to_string(row_order[n]) +
                  " is outside 0.." + std::to_string(rows - 1));
}

// One f32/f16/bf16 group: element k of row lane goes to k*16 + lane. The k loop
// is outside so that the 16 source rows are read as 16 sequential streams and
// the group is written sequentially. Missing rows (a partial group) stay zero.
template <typename Elem>
void pack_plain_group(const uint8_t* const* rows, int n_rows, int64_t cols, uint8_t* group) {
  Elem* dst = reinterpret_cast<Elem*>(group);
  for (int64_t k = 0; k < cols; ++k)
    for (int lane = 0; lane < n_rows; ++lane) std::memcpy(dst + k * kLanes + lane, rows[lane] + k * sizeof(Elem), sizeof(Elem));
}

// Lane `lane` of a Q8_0 group: per block, scale to scale[lane], q[kk] to q[kk][lane].
void pack_q8_row(const uint8_t* src_row, int64_t cols, int lane, uint8_t* group) {
  for (int64_t b = 0; b < cols / kQ8Block; ++b) {
    const uint8_t* block = src_row + b * 34;
    uint8_t* dst = group + b * kQ8BlockBytes;
    std::memcpy(dst + lane * 2, block, 2);
    for (int kk = 0; kk < kQ8Block; ++kk) dst[kQ8ScaleBytes + kk * kLanes + lane] = block[2 + kk];
  }
}

}  // namespace

PackedMatrix pack_matrix(DType dtype, const void* src, int64_t rows, int64_t cols, const int32_t* row_order,
                         ThreadPool* pool) {
  check_pack_args(dtype, src, rows, cols, row_order);
  PackedMatrix m;
  m.dtype = dtype;
  m.rows = rows;
  m.cols = cols;
  const size_t gbytes = group_bytes(dtype, cols);
  const int64_t groups = group_count(rows);
  m.nbytes = gbytes * size_t(groups);
  const size_t alloc = (m.nbytes + kAlign - 1) / kAlign * kAlign + kAlign;
  auto* raw = static_cast<uint8_t*>(std::aligned_alloc(kAlign, alloc));
  if (raw == nullptr) throw Error("kernels: pack_matrix: out of memory for " + std::to_string(alloc) + " bytes");
  m.data = std::shared_ptr<uint8_t[]>(raw, [](uint8_t* p) { std::free(p); });
  std::memset(raw, 0, alloc);  // padding rows of the last group stay zero
  const size_t src_row = dtype_row_bytes(dtype, cols);
  const auto* s = static_cast<const uint8_t*>(src);
  parallel_for(pool, groups, 1, [&](int64_t g0, int64_t g1, int) {
    for (int64_t g = g0; g < g1; ++g) {
      uint8_t* group = raw + size_t(g) * gbytes;
      const uint8_t* src_rows[kLanes];
      int n_rows = 0;
      for (; n_rows < kLanes && g * kLanes + n_rows < rows; ++n_rows) {
        const int64_t n = g * kLanes + n_rows;
        src_rows[n_rows] = s + size_t(row_order ? row_order[n] : n) * src_row;
      }
      if (dtype == DType::Q8_0) {
        for (int lane = 0; lane < n_rows; ++lane) pack_q8_row(src_rows[lane], cols, lane, group);
      } else if (dtype == DType::F32) {
        pack_plain_group<uint32_t>(src_rows, n_rows, cols, group);
      } else {
        pack_plain_group<uint16_t>(src_rows, n_rows, cols, group);
      }
    }
  });
  return m;
}

}  // namespace ree::kernels
