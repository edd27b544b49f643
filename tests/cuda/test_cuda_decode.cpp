// The fused decode step's phases (src/kernels/cuda/decode_ops.h) against the
// scalar CPU reference, bit for bit (memcmp; only NaN payloads are exempt):
// every weight dtype, K not a multiple of 256 (nor of a unit), more chunks
// than a block has warps, odd row counts, blocks that take several groups or
// heads in the persistent kernel's round robin, positions crossing
// 256-position chunks. The whole step (persistent kernel and per-phase
// kernels) is compared with the CPU engine in test_cuda_model.cpp.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "cuda_test_support.h"
#include "kernels/cuda/decode_host_ops.h"

using namespace ree;
using kernels::DType;
using cuda::DecodePhase;
using cuda::host::PhaseGrid;

namespace {

using cuda_test::check_same;

const bool kGpu = (cuda_test::skip_without_gpu(), true);

const kernels::Exec kScalar{kernels::SimdPath::Scalar, kernels::Mode::Reproducible, nullptr};

std::vector<int64_t> ks_for(DType dtype) {
  if (dtype == DType::Q8_0) return {32, 256, 288, 1024, 2080, 5632};
  return {1, 31, 255, 256, 257, 1000, 2049, 5632};
}

// One block per group, or three blocks starting the round robin at block 2
// (each then takes several groups, and block 0 may take none).
PhaseGrid grid_for(size_t case_index) { return case_index % 2 == 0 ? PhaseGrid{} : PhaseGrid{3, 2}; }

constexpr DType kAllDtypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0};

}  // namespace

TEST_CASE("fused decode: RMSNorm + product (Qkv, GateUp, LmHead), every dtype") {
  std::mt19937 rng(11);
  size_t n_case = 0;
  for (DType dtype : kAllDtypes) {
    for (int64_t K : ks_for(dtype)) {
      for (int64_t N : {1, 33, 100}) {
        const DecodePhase phase = n_case % 3 == 0 ? DecodePhase::Qkv : n_case % 3 == 1 ? DecodePhase::GateUp
                                                                                         : DecodePhase::LmHead;
        const PhaseGrid grid = grid_for(n_case);
        ++n_case;
        CAPTURE(kernels::dtype_name(dtype));
        CAPTURE(K);
        CAPTURE(N);
        CAPTURE(int(phase));
        CAPTURE(grid.blocks);
        const kernels::PackedMatrix w = cuda_test::random_matrix(rng, dtype, N, K);
        const std::vector<float> x = cuda_test::random_floats(rng, size_t(K));
        const std::vector<float> norm_w = cuda_test::random_floats(rng, size_t(K), 1.0f, false);
        std::vector<float> xn(static_cast<size_t>(K)), want(static_cast<size_t>(N)), got(static_cast<size_t>(N));
        kernels::rmsnorm(kScalar, x.data(), norm_w.data(), 1, K, 1e-5f, xn.data());
        kernels::matmul(kScalar, w, xn.data(), 1, want.data());
        cuda::host::decode_norm_product(phase, w, x.data(), norm_w.data(), 1e-5f, got.data(), grid);
        check_same(want, got);
      }
    }
  }
}

TEST_CASE("fused decode: layer 0 normalises the token's embedding row and writes it to the residual stream") {
  std::mt19937 rng(12);
  size_t n_case = 0;
  for (DType dtype : kAllDtypes) {
    for (int64_t K : {int64_t(64), int64_t(320), int64_t(2048)}) {
      for (int64_t N : {1, 70}) {
        const PhaseGrid grid = grid_for(n_case++);
        CAPTURE(kernels::dtype_name(dtype));
        CAPTURE(K);
        CAPTURE(N);
        CAPTURE(grid.blocks);
        const int64_t rows = 40;
        const int32_t token = 29;
        const std::vector<uint8_t> table = cuda_test::random_weights(rng, dtype, rows, K, 0);
        const kernels::PackedMatrix w = cuda_test::random_matrix(rng, dtype, N, K);
        const std::vector<float> norm_w = cuda_test::random_floats(rng, size_t(K), 1.0f, false);
        std::vector<float> x(static_cast<size_t>(K)), xn(static_cast<size_t>(K)), want(static_cast<size_t>(N));
        kernels::row_to_f32(dtype, table.data() + kernels::dtype_row_bytes(dtype, K) * size_t(token), K, x.data());
        kernels::rmsnorm(kScalar, x.data(), norm_w.data(), 1, K, 1e-6f, xn.data());
        kernels::matmul(kScalar, w, xn.data(), 1, want.data());
        std::vector<float> got(static_cast<size_t>(N)), x_got(static_cast<size_t>(K));
        cuda::host::decode_embed_norm_product(dtype, table.data(), rows, token, w, norm_w.data(), 1e-6f, x_got.data(),
                                              got.data(), grid);
        check_same(x, x_got);
        check_same(want, got);
      }
    }
  }
}

TEST_CASE("fused decode: product + residual add (Out), and SwiGLU + product + residual add (Down)") {
  std::mt19937 rng(13);
  size_t n_case = 0;
  for (DType dtype : kAllDtypes) {
    for (int64_t K : ks_for(dtype)) {
      for (int64_t N : {1, 33, 100}) {
        const bool down = n_case % 2 == 0;
        const PhaseGrid grid = grid_for(n_case / 2);
        ++n_case;
        CAPTURE(kernels::dtype_name(dtype));
        CAPTURE(K);
        CAPTURE(N);
        CAPTURE(down);
        CAPTURE(grid.blocks);
        const kernels::PackedMatrix w = cuda_test::random_matrix(rng, dtype, N, K);
        std::vector<float> in = cuda_test::random_floats(rng, size_t(K) * (down ? 2 : 1), down ? 4.0f : 1.0f);
        if (down && K > 1) {  // exp's overflow and underflow edges in silu
          in[0] = 100.0f;
          in[1] = -100.0f;
        }
        const std::vector<float> x0 = cuda_test::random_floats(rng, size_t(N));
        std::vector<float> h(in.begin(), in.begin() + K);
        if (down) kernels::swiglu(kScalar, in.data(), in.data() + K, K, h.data());
        std::vector<float> y(static_cast<size_t>(N)), want = x0, got = x0;
        kernels::matmul(kScalar, w, h.data(), 1, y.data());
        kernels::add_inplace(want.data(), y.data(), N);
        cuda::host::decode_residual_product(down ? DecodePhase::Down : DecodePhase::Out, w, in.data(), got.data(), grid);
        check_same(want, got);
      }
    }
  }
}

TEST_CASE("fused decode: RoPE, KV-cache write and attention in one phase") {
  std::mt19937 rng(14);
  struct Case {
    int heads, kv_heads, hd;
  };
  size_t n_case = 0;
  for (Case cs : {Case{4, 2, 64}, Case{3, 1, 20}, Case{2, 1, 300}, Case{32, 4, 64}}) {
    for (int64_t pos : {0, 255, 256, 600}) {
      const PhaseGrid grid = n_case++ % 2 == 0 ? PhaseGrid{} : PhaseGrid{2, 1};
      CAPTURE(cs.heads);
      CAPTURE(cs.hd);
      CAPTURE(pos);
      CAPTURE(grid.blocks);
      const int64_t q_dim = int64_t(cs.heads) * cs.hd, kv_dim = int64_t(cs.kv_heads) * cs.hd;
      const int64_t positions = pos + 3;  // rows past pos hold stale values the step must not read
      const kernels::RopeTable rope = kernels::make_rope_table(cs.hd, positions, 10000.0);
      const std::vector<float> qkv = cuda_test::random_floats(rng, size_t(q_dim + 2 * kv_dim), 0.5f);
      const std::vector<float> k0 = cuda_test::random_floats(rng, size_t(positions * kv_dim), 0.5f);
      const std::vector<float> v0 = cuda_test::random_floats(rng, size_t(positions * kv_dim));
      // CPU: rotate q and k, write k and v at pos, attend.
      std::vector<float> q(qkv.begin(), qkv.begin() + q_dim), k(qkv.begin() + q_dim, qkv.begin() + q_dim + kv_dim);
      kernels::rope(kScalar, rope, q.data(), 1, pos, cs.heads);
      kernels::rope(kScalar, rope, k.data(), 1, pos, cs.kv_heads);
      std::vector<float> k_want = k0, v_want = v0;
      std::copy(k.begin(), k.end(), k_want.begin() + pos * kv_dim);
      std::copy(qkv.begin() + q_dim + kv_dim, qkv.end(), v_want.begin() + pos * kv_dim);
      const kernels::AttentionShape shape{cs.heads, cs.kv_heads, cs.hd, kv_dim};
      std::vector<float> want(static_cast<size_t>(q_dim));
      kernels::attention(kScalar, shape, q.data(), 1, pos, k_want.data(), v_want.data(), want.data());

      std::vector<float> k_got = k0, v_got = v0, got(static_cast<size_t>(q_dim));
      cuda::host::decode_attention(shape, qkv.data(), pos, rope, k_got.data(), v_got.data(), got.data(), grid);
      check_same(k_want, k_got);
      check_same(v_want, v_got);
      check_same(want, got);
    }
  }
}
