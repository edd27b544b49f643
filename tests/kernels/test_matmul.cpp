// matmul: every SIMD path x thread count x token batching gives the bits of
// the contract's dot product (written out in kernel_test_util.h); error bound
// against long double; the modes behave as documented.
#include <doctest/doctest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"

using namespace ree::kernels;
using namespace ree::kernels::test;

namespace {

// A random matrix in a stored type, with its exact f32 values.
struct Matrix {
  DType dtype;
  int64_t rows, cols;
  std::vector<uint8_t> stored;
  std::vector<float> f32;  // row_to_f32 of each row
};

Matrix random_matrix(DType t, int64_t rows, int64_t cols, Rng& rng, const std::vector<float>* specials = nullptr) {
  Matrix m{t, rows, cols, std::vector<uint8_t>(dtype_row_bytes(t, cols) * size_t(rows)), {}};
  for (size_t i = 0; i < m.stored.size(); ++i) m.stored[i] = uint8_t(rng.engine());
  if (t == DType::F32) {
    std::vector<float> v = rng.vec(size_t(rows * cols));
    if (specials)
      for (size_t i = 0; i < v.size(); i += 7) v[i] = (*specials)[(i / 7) % specials->size()];
    std::memcpy(m.stored.data(), v.data(), v.size() * 4);
  } else if (t == DType::F16 || t == DType::BF16) {
    // keep the random bits but avoid inf/NaN patterns unless asked for
    auto* h = reinterpret_cast<uint16_t*>(m.stored.data());
    for (int64_t i = 0; i < rows * cols; ++i) {
      if (t == DType::F16) h[i] = uint16_t((h[i] & 0x83ff) | (uint16_t(rng.uniform() * 30) << 10));
      else h[i] = uint16_t((h[i] & 0x807f) | (uint16_t(100 + rng.uniform() * 50) << 7));
      if (specials && i % 5 == 0) h[i] = uint16_t(i % 3 == 0 ? 0x0001 : (i % 3 == 1 ? 0x8000 : 0x7c00));
    }
  } else {
    for (int64_t b = 0; b < rows * cols / 32; ++b) {  // scales in a sane range, some subnormal
      const uint16_t d = uint16_t((rng.engine() & 0x83ff) | (uint16_t(rng.uniform() * 24) << 10));
      std::memcpy(&m.stored[size_t(b) * 34], &d, 2);
    }
  }
  m.f32.resize(size_t(rows * cols));
  const size_t rb = dtype_row_bytes(t, cols);
  for (int64_t r = 0; r < rows; ++r) row_to_f32(t, m.stored.data() + r * rb, cols, m.f32.data() + r * cols);
  return m;
}

std::vector<float> reference(const Matrix& m, const std::vector<float>& x, int64_t t) {
  std::vector<float> y(size_t(t * m.rows));
  for (int64_t r = 0; r < t; ++r)
    for (int64_t n = 0; n < m.rows; ++n)
      y[size_t(r * m.rows + n)] = contract_dot(m.f32.data() + n * m.cols, x.data() + r * m.cols, m.cols);
  return y;
}

std::vector<float> run(const Exec& ex, const PackedMatrix& p, const std::vector<float>& x, int64_t t) {
  std::vector<float> y(size_t(t * p.rows), -7.0f);
  matmul(ex, p, x.data(), t, y.data());
  return y;
}

std::vector<int64_t> ks_for(DType t) {
  if (t == DType::Q8_0) return {32, 256, 288, 1024, 2080};
  return {1, 31, 255, 256, 257, 1000, 2049};
}

}  // namespace

TEST_CASE("matmul reproducible: all paths, thread counts and T equal the contract, bit for bit") {
  Pools pools;
  Rng rng(20);
  for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    for (int64_t k : ks_for(dt)) {
      for (int64_t n : {1, 17, 50}) {
        const Matrix m = random_matrix(dt, n, k, rng);
        const PackedMatrix p = pack_matrix(dt, m.stored.data(), n, k);
        const std::vector<float> x = rng.vec(size_t(7 * k), 2.0f);
        const std::vector<float> want = reference(m, x, 7);
        for (int64_t t : {1, 3, 7}) {
          const std::vector<float> want_t(want.begin(), want.begin() + t * n);
          for (SimdPath path : supported_paths()) {
            for (ThreadPool* pool : pools.all()) {
              CAPTURE(dtype_name(dt));
              CAPTURE(k);
              CAPTURE(n);
              CAPTURE(t);
              CAPTURE(simd_name(path));
              CAPTURE(pool ? pool->size() : 0);
              REQUIRE(same_bits(run(Exec{path, Mode::Reproducible, pool}, p, x, t), want_t));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("matmul reproducible: T tokens at once equal T single-token calls (large prefill tiles)") {
  Pools pools;
  Rng rng(21);
  const int64_t n = 70, k = 600, t = 37;
  for (DType dt : {DType::F32, DType::BF16, DType::Q8_0}) {
    const int64_t kk = dt == DType::Q8_0 ? 608 : k;
    const Matrix m = random_matrix(dt, n, kk, rng);
    const PackedMatrix p = pack_matrix(dt, m.stored.data(), n, kk, nullptr, &pools.two);
    const std::vector<float> x = rng.vec(size_t(t * kk));
    for (SimdPath path : supported_paths()) {
      CAPTURE(simd_name(path));
      const std::vector<float> all = run(Exec{path, Mode::Reproducible, &pools.three}, p, x, t);
      for (int64_t r = 0; r < t; ++r) {
        std::vector<float> y(static_cast<size_t>(n));
        matmul(Exec{path, Mode::Reproducible, nullptr}, p, x.data() + r * kk, 1, y.data());
        REQUIRE(same_bits(y.data(), all.data() + r * n, size_t(n)));
      }
    }
  }
}

TEST_CASE("matmul reproducible: edge values (zeros, subnormals, NaN, inf, huge) are the contract's") {
  Pools pools;
  Rng rng(22);
  const std::vector<float> specials = edge_values();
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    const int64_t n = 33, k = 300;
    const Matrix m = random_matrix(dt, n, k, rng, &specials);
    const PackedMatrix p = pack_matrix(dt, m.stored.data(), n, k);
    std::vector<float> x = rng.vec(size_t(3 * k));
    for (size_t i = 0; i < x.size(); i += 11) x[i] = specials[(i / 11) % specials.size()];
    const std::vector<float> want = reference(m, x, 3);
    for (SimdPath path : supported_paths())
      for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pools.two}) {
        CAPTURE(dtype_name(dt));
        CAPTURE(simd_name(path));
        CHECK(same_bits(run(Exec{path, Mode::Reproducible, pool}, p, x, 3), want));
      }
  }
  // a row of huge products that overflows to inf, and one that cancels to exactly +0
  std::vector<float> w = {3e38f, 3e38f, 1.0f, -1.0f}, x = {3e38f, 3e38f, 1.0f, 1.0f};
  const PackedMatrix p = pack_matrix(DType::F32, w.data(), 2, 2);
  for (SimdPath path : supported_paths()) {
    std::vector<float> y(2);
    matmul(Exec{path, Mode::Reproducible, nullptr}, p, x.data(), 1, y.data());
    CHECK(y[0] == INFINITY);
    CHECK(bits_of(y[1]) == 0u);
  }
}

TEST_CASE("matmul reproducible and deterministic stay within the fma-chain error bound of long double") {
  Rng rng(23);
  const int64_t n = 40, k = 2049;
  const Matrix m = random_matrix(DType::F32, n, k, rng);
  const PackedMatrix p = pack_matrix(DType::F32, m.stored.data(), n, k);
  const std::vector<float> x = rng.vec(size_t(k));
  // a chain of c fmas has error <= c * u * sum|a*b| (u = 2^-24); chunks add
  // ceil(K/256) more roundings of the partial sums.
  const double u = 0x1p-24, bound_factor = (256 + (k + 255) / 256) * u * 1.01;
  for (Mode mode : {Mode::Reproducible, Mode::Deterministic}) {
    for (SimdPath path : supported_paths()) {
      const std::vector<float> y = run(Exec{path, mode, nullptr}, p, x, 1);
      double worst = 0;
      for (int64_t r = 0; r < n; ++r) {
        long double exact = 0, abs_sum = 0;
        for (int64_t i = 0; i < k; ++i) {
          exact += (long double)m.f32[r * k + i] * x[i];
          abs_sum += fabsl((long double)m.f32[r * k + i] * x[i]);
        }
        const double rel = double(fabsl(y[r] - exact) / abs_sum);
        worst = std::max(worst, rel);
        // deterministic is one chain per half of K: bound (K/2 + 1) * u
        const double bound = mode == Mode::Reproducible ? bound_factor : (double(k) / 2 + 2) * u * 1.01;
        REQUIRE(rel <= bound);
      }
      MESSAGE((std::string(mode_name(mode)) + " " + simd_name(path) + ": worst |y - exact| / sum|w x| = " + std::to_string(worst)));
    }
  }
}

TEST_CASE("matmul deterministic: repeatable and independent of threads and path") {
  Pools pools;
  Rng rng(24);
  for (DType dt : {DType::F32, DType::BF16, DType::Q8_0}) {
    const int64_t n = 45, k = dt == DType::Q8_0 ? 1024 : 1000;
    const Matrix m = random_matrix(dt, n, k, rng);
    const PackedMatrix p = pack_matrix(dt, m.stored.data(), n, k);
    for (int64_t t : {1, 5}) {
      const std::vector<float> x = rng.vec(size_t(t * k));
      const std::vector<float> first = run(Exec{SimdPath::Scalar, Mode::Deterministic, nullptr}, p, x, t);
      for (SimdPath path : supported_paths())
        for (ThreadPool* pool : pools.all()) {
          CAPTURE(dtype_name(dt));
          CAPTURE(simd_name(path));
          CHECK(same_bits(run(Exec{path, Mode::Deterministic, pool}, p, x, t), first));
        }
    }
  }
}

TEST_CASE("matmul fast: differs from reproducible (visibly not repro-v1) and stays close") {
  Pools pools;
  Rng rng(25);
  const int64_t n = 64, k = 4096;
  // f32, one token, two threads: K is split between the threads
  {
    const Matrix m = random_matrix(DType::F32, n, k, rng);
    const PackedMatrix p = pack_matrix(DType::F32, m.stored.data(), n, k);
    const std::vector<float> x = rng.vec(size_t(k));
    const SimdPath path = detect_simd();
    const auto repro = run(Exec{path, Mode::Reproducible, &pools.two}, p, x, 1);
    const auto fast2 = run(Exec{path, Mode::Fast, &pools.two}, p, x, 1);
    const auto fast3 = run(Exec{path, Mode::Fast, &pools.three}, p, x, 1);
    CHECK_FALSE(same_bits(fast2, repro));
    CHECK_FALSE(same_bits(fast2, fast3));  // bits depend on the thread count
    for (int64_t i = 0; i < n; ++i) CHECK(std::fabs(fast2[i] - repro[i]) <= 1e-3f * (1.0f + std::fabs(repro[i])));
  }
  // bf16 on AVX512-BF16: vdpbf16ps with activations rounded to bf16
  if (simd_supported(SimdPath::Avx512) && cpu_has_avx512_bf16()) {
    const Matrix m = random_matrix(DType::BF16, n, k + 1, rng);  // odd K: the last column alone
    const PackedMatrix p = pack_matrix(DType::BF16, m.stored.data(), n, k + 1);
    for (int64_t t : {1, 6}) {
      const std::vector<float> x = rng.vec(size_t(t * (k + 1)));
      const auto repro = run(Exec{SimdPath::Avx512, Mode::Reproducible, nullptr}, p, x, t);
      const auto fast = run(Exec{SimdPath::Avx512, Mode::Fast, nullptr}, p, x, t);
      CHECK_FALSE(same_bits(fast, repro));
      // bf16 rounding of x: relative 2^-9 per product
      for (int64_t r = 0; r < t; ++r)
        for (int64_t i = 0; i < n; ++i) {
          double abs_sum = 0;
          for (int64_t j = 0; j <= k; ++j) abs_sum += std::fabs(double(m.f32[i * (k + 1) + j]) * x[r * (k + 1) + j]);
          REQUIRE(std::fabs(double(fast[r * n + i]) - repro[r * n + i]) <= abs_sum * 0x1p-8);
        }
    }
  } else {
    MESSAGE("AVX512-BF16 not available: the vdpbf16ps Fast kernel is not tested here");
  }
}

TEST_CASE("matmul: bad arguments are errors, not crashes") {
  std::vector<float> w(32, 1.0f), x(2, 1.0f), y(16);
  const PackedMatrix p = pack_matrix(DType::F32, w.data(), 16, 2);
  CHECK_THROWS_AS(matmul(Exec{}, p, x.data(), -1, y.data()), ree::Error);
  PackedMatrix broken = p;
  broken.nbytes = 8;
  CHECK_THROWS_AS(matmul(Exec{}, broken, x.data(), 1, y.data()), ree::Error);
  PackedMatrix empty;
  empty.rows = 4;
  empty.cols = 4;
  CHECK_THROWS_AS(matmul(Exec{}, empty, x.data(), 1, y.data()), ree::Error);
  for (SimdPath path : {SimdPath::Avx2, SimdPath::Avx512})
    if (!simd_supported(path)) CHECK_THROWS_AS(matmul(Exec{path}, p, x.data(), 1, y.data()), ree::Error);
  // K = 0: every output is the empty sum, +0
  const PackedMatrix zero_k = pack_matrix(DType::F32, w.data(), 3, 0);
  std::vector<float> y3(3, 5.0f);
  matmul(Exec{}, zero_k, x.data(), 1, y3.data());
  CHECK(y3 == std::vector<float>{0.0f, 0.0f, 0.0f});
}
