#pragma once
// Shared by the CUDA tests: seeded random inputs in every stored dtype, an
// in-memory random-weight Llama model of any shape, bit comparisons, and the
// "no GPU -> exit 77 (skipped)" guard.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "kernels/cuda/cuda_host_ops.h"
#include "kernels/kernels.h"
#include "runtime/model.h"

namespace ree::cuda_test {

// CTest reads exit code 77 as "skipped" (cmake/ReeTesting.cmake): CI compiles
// the CUDA backend but has no GPU.
inline void skip_without_gpu() {
  if (!cuda::host::gpu_visible()) {
    std::fprintf(stderr, "no CUDA device visible: skipping\n");
    std::_Exit(77);
  }
}

// f32 bits equal, except that any two NaNs match (NaN payloads are not part
// of what backends promise; hashes canonicalise them).
inline bool same_bits(const float* a, const float* b, size_t n, size_t* first_diff = nullptr) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != a[i] && b[i] != b[i]) continue;
    if (std::memcmp(a + i, b + i, sizeof(float)) != 0) {
      if (first_diff) *first_diff = i;
      return false;
    }
  }
  return true;
}

// A doctest check that `got` has `want`'s bits (same_bits), naming the first
// element that differs.
inline void check_same(const std::vector<float>& want, const std::vector<float>& got) {
  REQUIRE(want.size() == got.size());
  size_t at = 0;
  const bool same = same_bits(want.data(), got.data(), want.size(), &at);
  if (!same) {
    CAPTURE(at);
    CAPTURE(want[at]);
    CAPTURE(got[at]);
    CHECK(same);
  } else {
    CHECK(same);
  }
}

// Random activations: mostly N(0, scale), with exact zeros of both signs,
// subnormals and large values mixed in (no inf/NaN: their payloads differ).
inline std::vector<float> random_floats(std::mt19937& rng, size_t n, float scale = 1.0f, bool edges = true) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::uniform_int_distribution<int> pick(0, 99);
  std::vector<float> v(n);
  for (auto& x : v) {
    const int p = edges ? pick(rng) : 99;
    if (p == 0) x = 0.0f;
    else if (p == 1) x = -0.0f;
    else if (p == 2) x = 1e-40f * float(1 + pick(rng));  // subnormal
    else if (p == 3) x = 3e4f * normal(rng);
    else x = normal(rng);
  }
  return v;
}

// Random row-major [rows][cols] weights of `dtype` with magnitudes around
// 2^-exp_bias (finite, some zeros and f16 subnormals).
inline std::vector<uint8_t> random_weights(std::mt19937& rng, kernels::DType dtype, int64_t rows, int64_t cols,
                                           int magnitude_log2 = -4) {
  std::uniform_int_distribution<uint32_t> bits;
  std::vector<uint8_t> out(kernels::dtype_row_bytes(dtype, cols) * size_t(rows));
  const size_t n = size_t(rows * cols);
  switch (dtype) {
    case kernels::DType::F32: {
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      for (size_t i = 0; i < n; ++i) {
        const float v = std::ldexp(u(rng), magnitude_log2);
        std::memcpy(out.data() + 4 * i, &v, 4);
      }
      break;
    }
    case kernels::DType::F16:
    case kernels::DType::BF16: {
      const bool f16 = dtype == kernels::DType::F16;
      for (size_t i = 0; i < n; ++i) {
        const uint32_t r = bits(rng);
        uint16_t h;
        if (f16) {  // exponent field 15 + magnitude_log2 - 3 .. +0; 1 in 64 subnormal
          const uint32_t e = (r & 63) == 0 ? 0 : uint32_t(15 + magnitude_log2 - 3 + int((r >> 6) % 4));
          h = uint16_t(((r >> 8) & 1) << 15 | e << 10 | ((r >> 9) & 0x3ff));
        } else {
          const uint32_t e = uint32_t(127 + magnitude_log2 - 3 + int((r >> 6) % 4));
          h = uint16_t(((r >> 8) & 1) << 15 | e << 7 | ((r >> 9) & 0x7f));
        }
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
      break;
    }
    case kernels::DType::Q8_0: {
      for (size_t b = 0; b < n / 32; ++b) {
        uint8_t* block = out.data() + 34 * b;
        const uint16_t d = uint16_t((15 + magnitude_log2 - 7) << 10 | (bits(rng) & 0x3ff));  // ~2^(m-7)
        std::memcpy(block, &d, 2);
        for (int i = 0; i < 32; ++i) block[2 + i] = uint8_t(int8_t(int(bits(rng) % 255) - 127));
      }
      break;
    }
  }
  return out;
}

inline kernels::PackedMatrix random_matrix(std::mt19937& rng, kernels::DType dtype, int64_t rows, int64_t cols,
                                           int magnitude_log2 = -4) {
  const std::vector<uint8_t> src = random_weights(rng, dtype, rows, cols, magnitude_log2);
  return kernels::pack_matrix(dtype, src.data(), rows, cols);
}

struct ModelShape {
  int dim = 320, hidden = 864, layers = 2, heads = 5, kv_heads = 1, head_dim = 64, vocab = 1001;
  int64_t max_seq_len = 700;
};

// A random-weight model held in memory (the embedding bytes live here).
struct TestModel {
  std::vector<uint8_t> embedding;
  Model model;
};

inline std::unique_ptr<TestModel> make_model(kernels::DType dtype, const ModelShape& s, uint32_t seed) {
  std::mt19937 rng(seed);
  auto tm = std::make_unique<TestModel>();
  ModelConfig& c = tm->model.config;
  c.dim = s.dim;
  c.hidden_dim = s.hidden;
  c.n_layers = s.layers;
  c.n_heads = s.heads;
  c.n_kv_heads = s.kv_heads;
  c.head_dim = s.head_dim;
  c.vocab_size = s.vocab;
  c.max_seq_len = s.max_seq_len;
  ModelWeights& w = tm->model.weights;
  w.dtype = dtype;
  // Larger embeddings than matrices, so the residual stream is not tiny.
  tm->embedding = random_weights(rng, dtype, s.vocab, s.dim, -1);
  w.tok_embeddings = RawTensor{dtype, s.vocab, s.dim, tm->embedding.data()};
  auto norm = [&](int n) {
    std::uniform_real_distribution<float> u(0.8f, 1.2f);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = u(rng);
    return v;
  };
  const int q_dim = s.heads * s.head_dim, kv_dim = s.kv_heads * s.head_dim;
  for (int l = 0; l < s.layers; ++l) {
    LayerWeights lw;
    lw.attn_norm = norm(s.dim);
    lw.ffn_norm = norm(s.dim);
    lw.wq = random_matrix(rng, dtype, q_dim, s.dim);
    lw.wk = random_matrix(rng, dtype, kv_dim, s.dim);
    lw.wv = random_matrix(rng, dtype, kv_dim, s.dim);
    lw.wo = random_matrix(rng, dtype, s.dim, q_dim);
    lw.w_gate = random_matrix(rng, dtype, s.hidden, s.dim);
    lw.w_up = random_matrix(rng, dtype, s.hidden, s.dim);
    lw.w_down = random_matrix(rng, dtype, s.dim, s.hidden);
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = norm(s.dim);
  w.lm_head = random_matrix(rng, dtype, s.vocab, s.dim, -2);
  tm->model.identity.name = std::string("cuda-test-") + kernels::dtype_name(dtype);
  return tm;
}

}  // namespace ree::cuda_test
