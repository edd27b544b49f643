#pragma once
// ree kernels: the arithmetic of repro-v1 (../shared/design/determinism-contract.md,
// explained in docs/determinism.md). Every function here has a scalar reference
// that *is* the contract's order, vectorised AVX2 and AVX-512 versions that give
// identical bits, and (src/kernels/cuda) a CUDA version that does too.
//
// Threads and SIMD lanes split work over *output elements* only; the value of
// one output never depends on how many are computed together.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace ree {
class ThreadPool;
}

namespace ree::kernels {

// Stored weight types. Conversion to f32 is exact for all of them.
enum class DType : uint8_t { F32 = 0, F16 = 1, BF16 = 2, Q8_0 = 3 };
const char* dtype_name(DType);
std::optional<DType> parse_dtype(std::string_view);  // "f32", "f16", "bf16", "q8_0"
// Bytes for `n` consecutive elements of a row (Q8_0: n must be a multiple of 32).
size_t dtype_row_bytes(DType, int64_t n);

enum class SimdPath : uint8_t { Scalar = 0, Avx2 = 1, Avx512 = 2 };
SimdPath detect_simd();                       // best path this CPU supports (CPUID + XGETBV)
bool simd_supported(SimdPath);
const char* simd_name(SimdPath);              // "scalar", "avx2", "avx512"
std::optional<SimdPath> parse_simd(std::string_view);

// reproducible: repro-v1, identical bits on every path, thread count and device.
// deterministic: repeatable for one machine+configuration, may be faster.
// fast: whatever is fastest (may split K over threads, reorder sums).
enum class Mode : uint8_t { Reproducible = 0, Deterministic = 1, Fast = 2 };
const char* mode_name(Mode);
std::optional<Mode> parse_mode(std::string_view);

// How a kernel call runs: which SIMD path, which mode, which threads.
// pool may be null (single-threaded).
struct Exec {
  SimdPath simd = SimdPath::Scalar;
  Mode mode = Mode::Reproducible;
  ThreadPool* pool = nullptr;
};

// A weight matrix W (rows = N outputs, cols = K inputs) in the kernels' own
// layout, packed once at load. The layout is private to src/kernels.
struct PackedMatrix {
  DType dtype = DType::F32;
  int64_t rows = 0;  // N
  int64_t cols = 0;  // K
  std::shared_ptr<uint8_t[]> data;
  size_t nbytes = 0;
  size_t stored_bytes() const { return nbytes; }  // bytes one full pass reads
};

// Pack a row-major [N][K] matrix of `dtype` (Q8_0: ggml block layout, 34-byte
// blocks of 32). Packed row n is taken from source row row_order[n] when
// row_order is given (GGUF's Q/K permutation is undone this way).
PackedMatrix pack_matrix(DType dtype, const void* src, int64_t rows, int64_t cols,
                         const int32_t* row_order = nullptr, ThreadPool* pool = nullptr);

// Convert `n` elements of one stored row to f32, exactly (embedding lookup).
void row_to_f32(DType dtype, const void* src_row, int64_t n, float* out);

// Y[t][n] = D(W[n,:], X[t,:], K) for t < T, n < N. X is [T][K], Y is [T][N].
void matmul(const Exec&, const PackedMatrix& W, const float* X, int64_t T, float* Y);

// repro-v1 dot product of two f32 vectors (chunks of 256, fma within, add across).
float dot(const float* a, const float* b, int64_t K);

// y = rmsnorm(x) * w for each of T rows of length n.
void rmsnorm(const Exec&, const float* x, const float* w, int64_t T, int64_t n, float eps, float* y);

// RoPE angle tables, computed once with the project's own pow/sin/cos and
// rounded to f32. cos/sin are [max_pos][head_dim/2]. Shared by every backend.
struct RopeTable {
  int head_dim = 0;
  int64_t max_pos = 0;
  std::vector<float> cos, sin;
};
RopeTable make_rope_table(int head_dim, int64_t max_pos, double theta);

// Rotate T rows of `n_heads` heads in place; row t is at position pos0 + t.
// Pairs are (i, i + head_dim/2) (Hugging Face's rotate_half convention).
void rope(const Exec&, const RopeTable&, float* x, int64_t T, int64_t pos0, int n_heads);

// Causal attention for T query rows at positions pos0..pos0+T-1.
// q: [T][n_heads*hd]; k_cache, v_cache: [pos][n_kv_heads*hd] (row stride kv_stride floats),
// already holding positions 0..pos0+T-1; out: [T][n_heads*hd].
struct AttentionShape {
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int64_t kv_stride = 0;
};
void attention(const Exec&, const AttentionShape&, const float* q, int64_t T, int64_t pos0,
               const float* k_cache, const float* v_cache, float* out);

// h[i] = silu(g[i]) * u[i], silu(x) = x / (1 + exp(-x)).
void swiglu(const Exec&, const float* g, const float* u, int64_t n, float* h);
// x[i] = x[i] + y[i]
void add_inplace(float* x, const float* y, int64_t n);

// XXH3-64 of the logits' little-endian bytes, NaN -> 0x7fc00000, -0.0 -> +0.0.
uint64_t logits_hash(const float* logits, int64_t n);
// XXH3-64 of any f32 vector with the same canonicalisation (probes, KV state).
uint64_t f32_hash(const float* x, int64_t n, uint64_t seed = 0);
// Largest logit, ties to the smallest id; -1 if any logit is NaN.
int32_t argmax(const float* logits, int64_t n);

}  // namespace ree::kernels
