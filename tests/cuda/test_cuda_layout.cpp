// Host-side parts of the CUDA backend, tested without a GPU (so CI runs
// them): the repacking of the CPU's packed weights into the GPU layout, and
// the split form of XXH3 that the GPU uses for the logits hash.
#include <doctest/doctest.h>

#include <limits>
#include <random>
#include <vector>

#include "cuda_test_support.h"
#include "kernels/cuda/gpu_layout.h"
#include "kernels/cuda/xxh3_split.h"
#include "runtime/error.h"

using namespace ree;
using kernels::DType;

namespace {

const uint8_t kSecret[] = {REE_XXH3_SECRET_BYTES};

std::vector<int64_t> col_counts(DType dtype) {
  if (dtype == DType::Q8_0) return {32, 256, 288, 1024};
  return {1, 3, 31, 255, 256, 257, 1000};
}

// The f32 value of element (row, col) of a row-major source, exactly.
float source_value(DType dtype, const std::vector<uint8_t>& src, int64_t cols, int64_t row, int64_t col) {
  std::vector<float> r(static_cast<size_t>(cols));
  kernels::row_to_f32(dtype, src.data() + kernels::dtype_row_bytes(dtype, cols) * size_t(row), cols, r.data());
  return r[size_t(col)];
}

}  // namespace

TEST_CASE("the GPU layout holds every element of the packed matrices, stacked in order") {
  std::mt19937 rng(7);
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    CAPTURE(kernels::dtype_name(dtype));
    for (int64_t cols : col_counts(dtype)) {
      CAPTURE(cols);
      // Three parts whose row counts straddle the 32-row groups.
      const int64_t rows[] = {17, 32, 5};
      std::vector<std::vector<uint8_t>> sources;
      std::vector<kernels::PackedMatrix> packed;
      for (int64_t r : rows) {
        sources.push_back(cuda_test::random_weights(rng, dtype, r, cols));
        packed.push_back(kernels::pack_matrix(dtype, sources.back().data(), r, cols));
      }
      const kernels::PackedMatrix* parts[] = {&packed[0], &packed[1], &packed[2]};
      const cuda::GpuLayout layout = cuda::stacked_layout(parts);
      REQUIRE(layout.rows == 54);
      REQUIRE(layout.groups == 2);
      std::vector<uint8_t> data(layout.data_bytes(), 0xAB);
      std::vector<uint16_t> scales(layout.scale_count(), 0xABCD);
      cuda::repack_for_gpu(parts, layout, data.data(), scales.data(), 2);
      int64_t base = 0;
      bool all_equal = true;
      for (size_t p = 0; p < 3; ++p) {
        for (int64_t r = 0; r < rows[p]; ++r)
          for (int64_t k = 0; k < cols; ++k) {
            const float want = source_value(dtype, sources[p], cols, r, k);
            const float got = cuda::gpu_layout_value(layout, data.data(), scales.data(), base + r, k);
            if (std::memcmp(&want, &got, 4) != 0) all_equal = false;
          }
        base += rows[p];
      }
      CHECK(all_equal);
      // Padding rows are zero bytes.
      for (int64_t k = 0; k < cols; ++k) CHECK(cuda::gpu_layout_value(layout, data.data(), scales.data(), 60, k) == 0.0f);
      if (dtype != DType::Q8_0) {
        const std::vector<uint8_t> row_major = cuda::unpack_row_major(parts, 2);
        std::vector<uint8_t> want;
        for (const auto& s : sources) want.insert(want.end(), s.begin(), s.end());
        CHECK(row_major == want);
      }
    }
  }
}

TEST_CASE("the split XXH3 equals kernels::logits_hash (libxxhash) on canonicalised floats") {
  std::mt19937 rng(11);
  for (int64_t n : {61, 62, 64, 100, 255, 256, 257, 511, 1000, 4096, 32000, 32001, 151936}) {
    CAPTURE(n);
    std::vector<float> x = cuda_test::random_floats(rng, size_t(n));
    x[size_t(n / 3)] = -0.0f;
    x[size_t(n / 2)] = std::numeric_limits<float>::quiet_NaN();
    x[size_t(n - 1)] = -std::numeric_limits<float>::infinity();
    CHECK(cuda::xxh3::hash_sequential(x.data(), n, kSecret) == kernels::logits_hash(x.data(), n));
    // -0 and +0 hash alike, as do NaNs of any payload.
    std::vector<float> y = x;
    y[size_t(n / 3)] = 0.0f;
    uint32_t other_nan = 0xffc12345u;
    std::memcpy(&y[size_t(n / 2)], &other_nan, 4);
    CHECK(cuda::xxh3::hash_sequential(y.data(), n, kSecret) == cuda::xxh3::hash_sequential(x.data(), n, kSecret));
  }
}

TEST_CASE("layout errors are ree::Error, not crashes") {
  CHECK_THROWS_AS(cuda::gpu_layout(DType::Q8_0, 4, 33), Error);
  CHECK_THROWS_AS(cuda::gpu_layout(DType::F32, 0, 16), Error);
}
