// Every CUDA kernel against the scalar CPU reference, bit for bit (memcmp;
// only NaN payloads are exempt, see cuda_test_support.h), on seeded random
// inputs of awkward sizes: K not a multiple of 256, odd row counts, contexts
// crossing 256-position chunks, every weight dtype.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "cuda_test_support.h"
#include "kernels/contract_math.h"
#include "kernels/cuda/cuda_host_ops.h"
#include "kernels/cuda/cuda_ops.h"
#include "runtime/engine.h"

using namespace ree;
using kernels::DType;

namespace {

using cuda_test::check_same;

const bool kGpu = (cuda_test::skip_without_gpu(), true);

const kernels::Exec kScalar{kernels::SimdPath::Scalar, kernels::Mode::Reproducible, nullptr};

// r = p0; r = r + p_c: the CPU side of combining partials [T][chunks][n].
std::vector<float> combine(const std::vector<float>& p, int chunks, int64_t T, int64_t n) {
  std::vector<float> r(size_t(T * n));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < n; ++i) {
      float v = p[size_t((t * chunks) * n + i)];
      for (int c = 1; c < chunks; ++c) v = v + p[size_t((t * chunks + c) * n + i)];
      r[size_t(t * n + i)] = v;
    }
  return r;
}

}  // namespace

TEST_CASE("exp: nvcc's contract_expf equals the host's on a stride of all floats") {
  std::vector<float> x;
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 251) x.push_back(kernels::f32_from_bits(uint32_t(u)));
  for (float v : {0.0f, -0.0f, 88.72f, 88.8f, -103.9f, -104.0f, -87.3f, 1e-30f})  // range edges
    x.push_back(v);
  std::vector<float> got(x.size()), want(x.size());
  cuda::host::exp(x.data(), int64_t(x.size()), got.data());
  for (size_t i = 0; i < x.size(); ++i) want[i] = kernels::contract_expf(x[i]);
  check_same(want, got);
}

TEST_CASE("matmul: every dtype, awkward N, K and T") {
  std::mt19937 rng(1);
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    CAPTURE(kernels::dtype_name(dtype));
    const std::vector<int64_t> ks = dtype == DType::Q8_0 ? std::vector<int64_t>{32, 256, 288, 1024, 2080}
                                                         : std::vector<int64_t>{1, 5, 9, 31, 255, 256, 257, 261, 1000, 2049};
    for (int64_t K : ks)
      for (int64_t N : {1, 33, 100})
        for (int64_t T : {1, 3, 17}) {
          CAPTURE(K);
          CAPTURE(N);
          CAPTURE(T);
          const kernels::PackedMatrix w = cuda_test::random_matrix(rng, dtype, N, K);
          const std::vector<float> x = cuda_test::random_floats(rng, size_t(T * K));
          std::vector<float> want(size_t(T * N)), got(size_t(T * N));
          kernels::matmul(kScalar, w, x.data(), T, want.data());
          cuda::host::matmul(w, x.data(), T, got.data());
          check_same(want, got);
          if (T == 1)  // a decode step's metered loads: the same operations in the same order
            for (int meter : {8, 16}) {
              CAPTURE(meter);
              std::fill(got.begin(), got.end(), 0.0f);
              cuda::host::matmul(w, x.data(), T, got.data(), meter);
              check_same(want, got);
            }
        }
  }
}

TEST_CASE("residual add + rmsnorm") {
  std::mt19937 rng(2);
  for (int n : {1, 64, 255, 257, 2049}) {
    CAPTURE(n);
    const int64_t T = 3;
    const int chunks = 3;
    const std::vector<float> x0 = cuda_test::random_floats(rng, size_t(T * n));
    const std::vector<float> w = cuda_test::random_floats(rng, size_t(n), 1.0f, false);
    const std::vector<float> p = cuda_test::random_floats(rng, size_t(T * chunks * n));
    // norm alone
    std::vector<float> x = x0, got(size_t(T * n)), want(size_t(T * n));
    cuda::host::residual_rmsnorm(x.data(), nullptr, 1, w.data(), T, n, 1e-5f, got.data());
    kernels::rmsnorm(kScalar, x0.data(), w.data(), T, n, 1e-5f, want.data());
    check_same(want, got);
    check_same(x0, x);
    // combine + add + norm
    std::vector<float> x_cpu = x0;
    const std::vector<float> y = combine(p, chunks, T, n);
    kernels::add_inplace(x_cpu.data(), y.data(), T * n);
    kernels::rmsnorm(kScalar, x_cpu.data(), w.data(), T, n, 1e-6f, want.data());
    cuda::host::residual_rmsnorm(x.data(), p.data(), chunks, w.data(), T, n, 1e-6f, got.data());
    check_same(x_cpu, x);
    check_same(want, got);
  }
}

TEST_CASE("one token's norm finished by the product that consumes it (the decode step)") {
  std::mt19937 rng(12);
  for (DType dtype : {DType::BF16, DType::Q8_0, DType::F32, DType::F16}) {
    // rows of 1 to 23 chunks of 256, the last one partial or whole
    for (int n : {32, 255, 256, 640, 2049, 5632}) {
      if (dtype == DType::Q8_0 && n % 32 != 0) continue;
      for (int chunks : {0, 1, 8, 22}) {  // 0: the embedding row's norm (no residual add)
        CAPTURE(kernels::dtype_name(dtype));
        CAPTURE(n);
        CAPTURE(chunks);
        const int64_t N = 77;
        const kernels::PackedMatrix w = cuda_test::random_matrix(rng, dtype, N, n);
        const std::vector<float> x0 = cuda_test::random_floats(rng, size_t(n));
        const std::vector<float> norm_w = cuda_test::random_floats(rng, size_t(n), 1.0f, false);
        const std::vector<float> p = cuda_test::random_floats(rng, size_t(std::max(chunks, 1) * n));
        std::vector<float> x_cpu = x0, xn(static_cast<size_t>(n)), want(static_cast<size_t>(N));
        if (chunks > 0) {
          const std::vector<float> y = combine(p, chunks, 1, n);
          kernels::add_inplace(x_cpu.data(), y.data(), n);
        }
        kernels::rmsnorm(kScalar, x_cpu.data(), norm_w.data(), 1, n, 1e-5f, xn.data());
        kernels::matmul(kScalar, w, xn.data(), 1, want.data());
        for (int meter : {0, 8, 16}) {
          CAPTURE(meter);
          std::vector<float> x = x0, got(static_cast<size_t>(N));
          cuda::host::residual_rmsnorm_matmul(x.data(), chunks > 0 ? p.data() : nullptr, chunks, norm_w.data(), n,
                                              1e-5f, w, got.data(), meter);
          check_same(x_cpu, x);
          check_same(want, got);
        }
      }
    }
  }
}

TEST_CASE("q/k/v combine, RoPE and cache writes") {
  std::mt19937 rng(3);
  struct Case {
    int heads, kv_heads, hd;
  };
  for (Case cs : {Case{5, 1, 64}, Case{4, 2, 6}, Case{2, 2, 128}}) {
    CAPTURE(cs.hd);
    const int64_t T = 3, pos0 = 299, positions = 310;
    const int chunks = 2;
    const kernels::RopeTable rope = kernels::make_rope_table(cs.hd, positions, 10000.0);
    const int64_t q_dim = int64_t(cs.heads) * cs.hd, kv_dim = int64_t(cs.kv_heads) * cs.hd;
    const int64_t rows = q_dim + 2 * kv_dim;
    const std::vector<float> p = cuda_test::random_floats(rng, size_t(T * chunks * rows));
    std::vector<float> q(size_t(T * q_dim)), k(size_t(positions * kv_dim), 0.5f), v = k;
    cuda::host::qkv_rope(p.data(), chunks, T, pos0, cs.heads, cs.kv_heads, rope, q.data(), k.data(), v.data());
    // CPU: combine, then rope q and k, then copy into the caches.
    const std::vector<float> all = combine(p, chunks, T, rows);
    std::vector<float> q_cpu(size_t(T * q_dim)), k_cpu(size_t(T * kv_dim)), v_cpu(size_t(T * kv_dim));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < rows; ++i) {
        const float val = all[size_t(t * rows + i)];
        if (i < q_dim) q_cpu[size_t(t * q_dim + i)] = val;
        else if (i < q_dim + kv_dim) k_cpu[size_t(t * kv_dim + i - q_dim)] = val;
        else v_cpu[size_t(t * kv_dim + i - q_dim - kv_dim)] = val;
      }
    kernels::rope(kScalar, rope, q_cpu.data(), T, pos0, cs.heads);
    kernels::rope(kScalar, rope, k_cpu.data(), T, pos0, cs.kv_heads);
    check_same(q_cpu, q);
    std::vector<float> k_want(size_t(positions * kv_dim), 0.5f), v_want = k_want;
    std::copy(k_cpu.begin(), k_cpu.end(), k_want.begin() + pos0 * kv_dim);
    std::copy(v_cpu.begin(), v_cpu.end(), v_want.begin() + pos0 * kv_dim);
    check_same(k_want, k);
    check_same(v_want, v);
  }
}

TEST_CASE("attention: prefill and decode rows, contexts crossing 256-position chunks") {
  std::mt19937 rng(4);
  struct Case {
    int heads, kv_heads, hd;
  };
  for (Case cs : {Case{4, 2, 64}, Case{3, 1, 20}, Case{2, 1, 300}}) {
    // 1,500: a decode row's value rows arrive in several batches (the
    // resident row holds about 600 of head size 64), keys past the 512 a
    // thread loads before the wait
    for (int64_t pos0 : {0, 250, 600, 1500}) {
      for (int64_t T : {1, 7}) {
        CAPTURE(cs.hd);
        CAPTURE(pos0);
        CAPTURE(T);
        const kernels::AttentionShape shape{cs.heads, cs.kv_heads, cs.hd, int64_t(cs.kv_heads) * cs.hd};
        const int64_t positions = pos0 + T;
        const std::vector<float> q = cuda_test::random_floats(rng, size_t(T * cs.heads * cs.hd), 0.5f);
        const std::vector<float> k = cuda_test::random_floats(rng, size_t(positions * shape.kv_stride), 0.5f);
        const std::vector<float> v = cuda_test::random_floats(rng, size_t(positions * shape.kv_stride));
        std::vector<float> want(q.size()), got(q.size());
        kernels::attention(kScalar, shape, q.data(), T, pos0, k.data(), v.data(), want.data());
        cuda::host::attention(shape, q.data(), T, pos0, k.data(), v.data(), got.data());
        check_same(want, got);
      }
    }
  }
}

TEST_CASE("attention: a decode row split over 2 to 8 blocks a head (thread-block clusters)") {
  if (!cuda::attention_split_supported(64, 2048, 2)) {
    MESSAGE("this GPU has no thread-block clusters (before sm_90): the split does not run here");
    return;
  }
  CHECK_FALSE(cuda::attention_split_supported(300, 2048, 2));  // head sizes over 64: one block a head
  CHECK_FALSE(cuda::attention_split_supported(64, 2048, 9));  // beyond a portable cluster
  CHECK_FALSE(cuda::attention_split_supported(64, 2048, 1));  // that is attention.cu's kernel
  std::mt19937 rng(11);
  struct Case {
    int heads, kv_heads, hd;
  };
  for (Case cs : {Case{4, 2, 64}, Case{3, 1, 20}, Case{32, 4, 64}}) {
    // 0: blocks with no chunk; 2,600: 11 chunks, more than a block each
    for (int64_t pos0 : {0, 255, 256, 600, 1500, 2047, 2600}) {
      const kernels::AttentionShape shape{cs.heads, cs.kv_heads, cs.hd, int64_t(cs.kv_heads) * cs.hd};
      const int64_t positions = pos0 + 1;
      const std::vector<float> q = cuda_test::random_floats(rng, size_t(cs.heads * cs.hd), 0.5f);
      const std::vector<float> k = cuda_test::random_floats(rng, size_t(positions * shape.kv_stride), 0.5f);
      const std::vector<float> v = cuda_test::random_floats(rng, size_t(positions * shape.kv_stride));
      std::vector<float> want(q.size());
      kernels::attention(kScalar, shape, q.data(), 1, pos0, k.data(), v.data(), want.data());
      for (int split : {2, 3, 4, 5, 7, 8}) {
        // a cache of exactly the row, and a longer one (more score slots than the row fills)
        for (int64_t context : {positions, std::max<int64_t>(positions, 3000)}) {
          CAPTURE(cs.heads);
          CAPTURE(cs.hd);
          CAPTURE(pos0);
          CAPTURE(split);
          CAPTURE(context);
          REQUIRE(cuda::attention_split_supported(cs.hd, context, split));
          std::vector<float> got(q.size());
          cuda::host::attention(shape, q.data(), 1, pos0, k.data(), v.data(), got.data(), split, context);
          check_same(want, got);
        }
      }
    }
  }
}

TEST_CASE("one token's RoPE, cache write and attention in one kernel, from q|k|v partials") {
  std::mt19937 rng(10);
  struct Case {
    int heads, kv_heads, hd;
  };
  for (Case cs : {Case{4, 2, 64}, Case{3, 1, 20}, Case{2, 1, 300}, Case{32, 4, 64}}) {
    // the new key row in either pass of registers or past them (511, 512),
    // the new value row in the first batch or in a later one (1500)
    for (int64_t pos : {0, 255, 256, 511, 512, 600, 1500}) {
      CAPTURE(cs.heads);
      CAPTURE(cs.hd);
      CAPTURE(pos);
      const int chunks = 3;
      const int64_t positions = pos + 3;  // rows past pos hold stale values the step must not read
      const kernels::RopeTable rope = kernels::make_rope_table(cs.hd, positions, 10000.0);
      const int64_t q_dim = int64_t(cs.heads) * cs.hd, kv_dim = int64_t(cs.kv_heads) * cs.hd;
      const int64_t rows = q_dim + 2 * kv_dim;
      const std::vector<float> p = cuda_test::random_floats(rng, size_t(chunks * rows), 0.5f);
      const std::vector<float> k0 = cuda_test::random_floats(rng, size_t(positions * kv_dim), 0.5f);
      const std::vector<float> v0 = cuda_test::random_floats(rng, size_t(positions * kv_dim));
      // CPU: combine, rotate q and k, write k and v at pos, attend.
      const std::vector<float> all = combine(p, chunks, 1, rows);
      std::vector<float> q(all.begin(), all.begin() + q_dim), k(all.begin() + q_dim, all.begin() + q_dim + kv_dim);
      kernels::rope(kScalar, rope, q.data(), 1, pos, cs.heads);
      kernels::rope(kScalar, rope, k.data(), 1, pos, cs.kv_heads);
      std::vector<float> k_want = k0, v_want = v0;
      std::copy(k.begin(), k.end(), k_want.begin() + pos * kv_dim);
      std::copy(all.begin() + q_dim + kv_dim, all.end(), v_want.begin() + pos * kv_dim);
      const kernels::AttentionShape shape{cs.heads, cs.kv_heads, cs.hd, kv_dim};
      std::vector<float> want(static_cast<size_t>(q_dim)), got(static_cast<size_t>(q_dim));
      kernels::attention(kScalar, shape, q.data(), 1, pos, k_want.data(), v_want.data(), want.data());
      std::vector<float> k_got = k0, v_got = v0;
      cuda::host::rope_attention(p.data(), chunks, pos, cs.heads, cs.kv_heads, rope, k_got.data(), v_got.data(),
                                 got.data());
      check_same(k_want, k_got);
      check_same(v_want, v_got);
      check_same(want, got);
    }
  }
}

TEST_CASE("swiglu from gate|up partials") {
  std::mt19937 rng(5);
  for (int64_t hidden : {1, 100, 5632}) {
    CAPTURE(hidden);
    const int64_t T = 2;
    const int chunks = 3;
    std::vector<float> p = cuda_test::random_floats(rng, size_t(T * chunks * 2 * hidden), 4.0f);
    p[0] = 100.0f;  // exp's overflow and underflow edges
    p[1] = -100.0f;
    std::vector<float> got(size_t(T * hidden)), want(size_t(T * hidden));
    cuda::host::swiglu(p.data(), chunks, T, hidden, got.data());
    const std::vector<float> all = combine(p, chunks, T, 2 * hidden);
    for (int64_t t = 0; t < T; ++t)
      kernels::swiglu(kScalar, all.data() + t * 2 * hidden, all.data() + t * 2 * hidden + hidden, hidden,
                      want.data() + t * hidden);
    check_same(want, got);
  }
}

TEST_CASE("the decode step's down product with SwiGLU computed per chunk") {
  std::mt19937 rng(9);
  for (DType dtype : {DType::BF16, DType::Q8_0, DType::F32}) {
    for (int64_t hidden : {64, 864, 5632}) {
      CAPTURE(kernels::dtype_name(dtype));
      CAPTURE(hidden);
      const int64_t N = 70;
      const int chunks = 3;
      const kernels::PackedMatrix w = cuda_test::random_matrix(rng, dtype, N, hidden);
      const std::vector<float> p = cuda_test::random_floats(rng, size_t(chunks * 2 * hidden), 2.0f);
      const std::vector<float> gu = combine(p, chunks, 1, 2 * hidden);
      std::vector<float> h(static_cast<size_t>(hidden)), want(static_cast<size_t>(N)), got(static_cast<size_t>(N));
      kernels::swiglu(kScalar, gu.data(), gu.data() + hidden, hidden, h.data());
      kernels::matmul(kScalar, w, h.data(), 1, want.data());
      for (int meter : {0, 8, 16}) {
        CAPTURE(meter);
        std::fill(got.begin(), got.end(), 0.0f);
        cuda::host::matmul_swiglu(w, p.data(), chunks, got.data(), meter);
        check_same(want, got);
      }
    }
  }
}

TEST_CASE("embedding rows are exact copies in every dtype") {
  std::mt19937 rng(6);
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    CAPTURE(kernels::dtype_name(dtype));
    const int64_t rows = 50, cols = 96;
    const std::vector<uint8_t> table = cuda_test::random_weights(rng, dtype, rows, cols, 0);
    const std::vector<int32_t> tokens = {0, 49, 7, 7, 13};
    const int64_t T = int64_t(tokens.size());
    std::vector<float> got(size_t(T * cols)), want(size_t(T * cols));
    cuda::host::embed(dtype, table.data(), rows, cols, tokens.data(), T, got.data());
    for (int64_t t = 0; t < T; ++t)
      kernels::row_to_f32(dtype, table.data() + kernels::dtype_row_bytes(dtype, cols) * size_t(tokens[size_t(t)]), cols,
                          want.data() + t * cols);
    check_same(want, got);
  }
}

TEST_CASE("device argmax, logits hash and top-k equal the CPU's") {
  std::mt19937 rng(8);
  for (int64_t vocab : {61, 100, 1001, 1024, 32000, 32003, 151936}) {
    CAPTURE(vocab);
    const int64_t T = 5;
    std::vector<float> logits = cuda_test::random_floats(rng, size_t(T * vocab));
    // row 1: the maximum twice (ties go to the smaller id); row 2: NaNs (argmax
    // -1, NaN ranks last in top-k); row 3: a ±0 maximum; row 4: many equal values
    logits[size_t(vocab + vocab / 2)] = 1e6f;
    logits[size_t(vocab + vocab / 3)] = 1e6f;
    logits[size_t(2 * vocab + 5)] = std::numeric_limits<float>::quiet_NaN();
    logits[size_t(2 * vocab + vocab - 1)] = std::numeric_limits<float>::quiet_NaN();
    for (int64_t i = 0; i < vocab; ++i) logits[size_t(3 * vocab + i)] = -1.0f - float(i % 7);
    logits[size_t(3 * vocab + vocab - 1)] = -0.0f;
    logits[size_t(3 * vocab + vocab - 2)] = 0.0f;
    for (int64_t i = 0; i < vocab; ++i) logits[size_t(4 * vocab + i)] = float(i % 3) - (i % 11 == 0 ? 50.0f : 0.0f);
    for (bool single : {true, false}) {
      for (int k : {0, 1, 2, 3, 8, 16}) {
        if (single && k > 0) continue;
        CAPTURE(single);
        CAPTURE(k);
        std::vector<int32_t> argmax(static_cast<size_t>(T)), ids(size_t(T * k));
        std::vector<uint64_t> hash(static_cast<size_t>(T));
        std::vector<float> top(size_t(T * k));
        cuda::host::logits_summary(logits.data(), T, vocab, k, argmax.data(), hash.data(), ids.data(), top.data(), single);
        for (int64_t t = 0; t < T; ++t) {
          CAPTURE(t);
          const float* row = logits.data() + t * vocab;
          CHECK(argmax[size_t(t)] == kernels::argmax(row, vocab));
          CHECK(hash[size_t(t)] == kernels::logits_hash(row, vocab));
          std::vector<TopEntry> want(static_cast<size_t>(k));
          top_k_of(row, vocab, k, want.data());
          for (int i = 0; i < k; ++i) {
            CHECK(ids[size_t(t * k + i)] == want[size_t(i)].id);
            CHECK(cuda_test::same_bits(&top[size_t(t * k + i)], &want[size_t(i)].logit, 1));
          }
        }
      }
    }
  }
}
