// ree-kbench: for each kernel, SIMD path and mode, first check the result
// against the scalar reference (bits where bits are promised), then time it and
// print the achieved bandwidth against the machine's measured read bandwidth.
//
//   ree-kbench [--threads N] [--quick] [--ops matmul,prefill,attention,norm] [--dtypes bf16,f16,q8_0,f32]
//
// Not a test: timings need a quiet machine (docs/determinism.md, "Benchmark").
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/kernels.h"
#include "kernels/membw.h"
#include "kernels/thread_pool.h"

using namespace ree::kernels;

namespace {

struct Options {
  int threads = 0;
  bool quick = false;
  std::string ops = "matmul,prefill,attention,norm";
  std::string dtypes = "bf16,f16,q8_0,f32";
};

std::vector<float> random_vec(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = float((double(rng() >> 11) * 0x1p-53 * 2 - 1) * scale);
  return v;
}

// Stored bytes of a random matrix (finite values of the type).
std::vector<uint8_t> random_stored(DType t, int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> s(dtype_row_bytes(t, cols) * size_t(rows));
  for (auto& b : s) b = uint8_t(rng());
  if (t == DType::F32) {
    const auto v = random_vec(size_t(rows * cols), seed);
    std::memcpy(s.data(), v.data(), s.size());
  } else if (t == DType::F16 || t == DType::BF16) {
    auto* h = reinterpret_cast<uint16_t*>(s.data());
    for (int64_t i = 0; i < rows * cols; ++i)
      h[i] = t == DType::F16 ? uint16_t((h[i] & 0x83ff) | (12u << 10)) : uint16_t((h[i] & 0x807f) | (120u << 7));
  } else {
    for (int64_t b = 0; b < rows * cols / 32; ++b) {
      const uint16_t d = 0x2000;  // 2^-7
      std::memcpy(&s[size_t(b) * 34], &d, 2);
    }
  }
  return s;
}

// Median seconds per call over enough calls to fill `budget` seconds.
double time_call(const std::function<void()>& fn, double budget) {
  fn();  // warm up
  std::vector<double> samples;
  const auto start = std::chrono::steady_clock::now();
  do {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < budget ||
           samples.size() < 3);
  std::nth_element(samples.begin(), samples.begin() + samples.size() / 2, samples.end());
  return samples[samples.size() / 2];
}

// "bits ok" when equal to the reference, else the largest difference relative
// to the largest reference magnitude (per-element ratios explode near zero).
std::string check(const std::vector<float>& got, const std::vector<float>& ref, bool bits_promised) {
  if (got.size() == ref.size() && std::memcmp(got.data(), ref.data(), got.size() * 4) == 0) return "bits ok";
  double worst = 0, scale = 1e-30;
  for (size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst, double(std::fabs(got[i] - ref[i])));
    scale = std::max(scale, double(std::fabs(ref[i])));
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %.1e", bits_promised ? "MISMATCH" : "differs", worst / scale);
  return buf;
}

struct Printer {
  double bandwidth_gbs;
  int failures = 0;
  void header() {
    std::printf("%-34s %-7s %-13s %-22s %10s %9s %7s\n", "kernel", "path", "mode", "check vs scalar", "time",
                "GB/s", "of bw");
  }
  void row(const std::string& name, SimdPath p, Mode m, const std::string& chk, double seconds, double bytes,
           double flops) {
    if (chk.rfind("MISMATCH", 0) == 0) ++failures;
    const double gbs = bytes / seconds / 1e9;
    std::printf("%-34s %-7s %-13s %-22s %8.3fms %9.2f %6.0f%%", name.c_str(), simd_name(p), mode_name(m), chk.c_str(),
                seconds * 1e3, gbs, 100.0 * gbs / bandwidth_gbs);
    if (flops > 0) std::printf("  %.1f GFLOP/s", flops / seconds / 1e9);
    std::printf("\n");
  }
};

std::vector<SimdPath> paths() {
  std::vector<SimdPath> v;
  for (SimdPath p : {SimdPath::Scalar, SimdPath::Avx2, SimdPath::Avx512})
    if (simd_supported(p)) v.push_back(p);
  return v;
}

void bench_matmul(Printer& pr, ree::ThreadPool& pool, const Options& o, int64_t t, double budget) {
  // decode reads a matrix well beyond the LLC; prefill keeps the scalar reference affordable
  const int64_t n = t > 1 ? (o.quick ? 256 : 1024) : (o.quick ? 2048 : 8192), k = 4096;
  for (DType dt : {DType::BF16, DType::F16, DType::Q8_0, DType::F32}) {
    if (("," + o.dtypes + ",").find(std::string(",") + dtype_name(dt) + ",") == std::string::npos) continue;
    const auto stored = random_stored(dt, n, k, 1);
    const PackedMatrix w = pack_matrix(dt, stored.data(), n, k, nullptr, &pool);
    const auto x = random_vec(size_t(t * k), 2);
    std::vector<float> ref(size_t(t * n)), ref_det(size_t(t * n)), y(size_t(t * n));
    matmul(Exec{SimdPath::Scalar, Mode::Reproducible, &pool}, w, x.data(), t, ref.data());
    matmul(Exec{SimdPath::Scalar, Mode::Deterministic, &pool}, w, x.data(), t, ref_det.data());
    const std::string name = std::string("matmul ") + dtype_name(dt) + " " + std::to_string(n) + "x" +
                             std::to_string(k) + " T=" + std::to_string(t);
    for (SimdPath p : paths()) {
      for (Mode m : {Mode::Reproducible, Mode::Deterministic, Mode::Fast}) {
        if (p == SimdPath::Scalar && m != Mode::Reproducible && t > 1) continue;  // slow and uninformative
        const Exec ex{p, m, &pool};
        matmul(ex, w, x.data(), t, y.data());
        const std::string chk = check(y, m == Mode::Deterministic ? ref_det : ref, m != Mode::Fast);
        const double s = time_call([&] { matmul(ex, w, x.data(), t, y.data()); }, budget);
        pr.row(name, p, m, chk, s, double(w.stored_bytes()), 2.0 * double(n) * double(k) * double(t));
      }
    }
  }
}

void bench_attention(Printer& pr, ree::ThreadPool& pool, const Options& o, double budget) {
  const AttentionShape sh{32, 8, 128, 8 * 128};
  for (int64_t ctx : {int64_t(512), int64_t(o.quick ? 1024 : 4096)}) {
    const auto kc = random_vec(size_t(ctx * sh.kv_stride), 3), vc = random_vec(size_t(ctx * sh.kv_stride), 4);
    const auto q = random_vec(size_t(sh.n_heads * sh.head_dim), 5, 2.0f);
    std::vector<float> ref(q.size()), y(q.size());
    attention(Exec{SimdPath::Scalar, Mode::Reproducible, &pool}, sh, q.data(), 1, ctx - 1, kc.data(), vc.data(),
              ref.data());
    for (SimdPath p : paths()) {
      const Exec ex{p, Mode::Reproducible, &pool};
      attention(ex, sh, q.data(), 1, ctx - 1, kc.data(), vc.data(), y.data());
      const double s =
          time_call([&] { attention(ex, sh, q.data(), 1, ctx - 1, kc.data(), vc.data(), y.data()); }, budget);
      const double bytes = 2.0 * double(ctx) * double(sh.kv_stride) * 4.0;  // K and V read once per kv head
      const double flops = 4.0 * double(ctx) * sh.n_heads * sh.head_dim;
      pr.row("attention decode 32h/8kv hd128 ctx=" + std::to_string(ctx), p, Mode::Reproducible,
             check(y, ref, true), s, bytes, flops);
    }
  }
}

void bench_norm(Printer& pr, ree::ThreadPool& pool, double budget) {
  const int64_t t = 64, n = 4096, inter = 11008;
  const auto x = random_vec(size_t(t * n), 6), w = random_vec(size_t(n), 7);
  const auto g = random_vec(size_t(t * inter), 8, 8.0f), u = random_vec(size_t(t * inter), 9);
  const RopeTable table = make_rope_table(128, 2048, 10000.0);
  std::vector<float> ref(x.size()), y(x.size()), href(g.size()), h(g.size());
  rmsnorm(Exec{SimdPath::Scalar, Mode::Reproducible, &pool}, x.data(), w.data(), t, n, 1e-5f, ref.data());
  swiglu(Exec{SimdPath::Scalar, Mode::Reproducible, &pool}, g.data(), u.data(), t * inter, href.data());
  std::vector<float> rref = x;
  rope(Exec{SimdPath::Scalar, Mode::Reproducible, &pool}, table, rref.data(), t, 1000, 32);
  for (SimdPath p : paths()) {
    const Exec ex{p, Mode::Reproducible, &pool};
    rmsnorm(ex, x.data(), w.data(), t, n, 1e-5f, y.data());
    double s = time_call([&] { rmsnorm(ex, x.data(), w.data(), t, n, 1e-5f, y.data()); }, budget);
    pr.row("rmsnorm 64x4096", p, ex.mode, check(y, ref, true), s, 2.0 * double(t * n) * 4, 0);
    swiglu(ex, g.data(), u.data(), t * inter, h.data());
    s = time_call([&] { swiglu(ex, g.data(), u.data(), t * inter, h.data()); }, budget);
    pr.row("swiglu 64x11008", p, ex.mode, check(h, href, true), s, 3.0 * double(t * inter) * 4, 0);
    std::vector<float> r = x;
    rope(ex, table, r.data(), t, 1000, 32);
    const std::string chk = check(r, rref, true);
    s = time_call([&] { rope(ex, table, r.data(), t, 1000, 32); }, budget);
    pr.row("rope 64x32x128", p, ex.mode, chk, s, 2.0 * double(t * n) * 4, 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"ree-kbench: check, then time, the repro-v1 CPU kernels"};
  app.add_option("--threads", o.threads, "worker threads (default: hardware threads)");
  app.add_flag("--quick", o.quick, "small sizes and short timings (a smoke run)");
  app.add_option("--ops", o.ops, "comma list of: matmul (decode), prefill, attention, norm");
  app.add_option("--dtypes", o.dtypes, "matmul weight types, comma list of: bf16, f16, q8_0, f32");
  CLI11_PARSE(app, argc, argv);
  if (o.threads <= 0) o.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  ree::ThreadPool pool(o.threads);
  const double budget = o.quick ? 0.05 : 0.5;
  MemBandwidthOptions bw_opts;
  if (o.quick) {
    bw_opts.buffer_mib = 128;
    bw_opts.passes = 2;
  }
  Printer pr{measure_memory_bandwidth_gbs(&pool, bw_opts)};
  std::printf("ree-kbench: %d threads, best SIMD path %s, avx512_bf16 %s, memory read bandwidth %.1f GB/s\n",
              o.threads, simd_name(detect_simd()), cpu_has_avx512_bf16() ? "yes" : "no", pr.bandwidth_gbs);
  pr.header();
  auto wants = [&](const char* op) { return ("," + o.ops + ",").find(std::string(",") + op + ",") != std::string::npos; };
  if (wants("matmul")) bench_matmul(pr, pool, o, 1, budget);
  if (wants("prefill")) bench_matmul(pr, pool, o, o.quick ? 16 : 64, budget);
  if (wants("attention")) bench_attention(pr, pool, o, budget);
  if (wants("norm")) bench_norm(pr, pool, budget);
  if (pr.failures) std::printf("%d MISMATCH(es) against the scalar reference\n", pr.failures);
  return pr.failures ? 1 : 0;
}
