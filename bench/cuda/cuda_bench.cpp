// ree-cuda-bench: how fast the CUDA engine runs a model, against the GPU's
// measured memory bandwidth.
//   ree-cuda-bench --model DIR [--prompt-tokens 128] [--decode-tokens 256]
//                  [--modes reproducible,fast] [--repeats 3] [--json]
//                  [--variants persistent/pdl1,phases/pdl1,kernels/pdl0,...]
//                  [--phase-times 64]
// Prints, per mode: prefill tokens/s, decode tokens/s (plain forward: argmax
// and logits hash on the device) and decode tokens/s with a top-8 request
// (what generation asks for: the logits row comes to the host), and the
// decode roofline ratio = decode tokens/s / (read bandwidth / bytes a step
// must read). Also times each of the model's matrix products alone, for the
// reproducible kernel and cuBLAS, as GB/s.
//
// --variants runs each mode once per decode path (REE_CUDA_DECODE) and PDL
// setting (REE_CUDA_PDL) in this one process; --phase-times N runs N decode
// steps of the persistent kernel with its phase clock on (REE_CUDA_PHASE_TIMES)
// and reports the mean time of each kind of phase.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "kernels/cuda/cublas_matmul.h"
#include "kernels/cuda/cuda_engine.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_weights.h"
#include "membw.h"
#include "runtime/engine.h"
#include "runtime/error.h"
#include "runtime/model.h"

using namespace ree;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct ModeFigures {
  std::string mode, variant, decode_path;
  double prefill_tps = 0, decode_tps = 0, decode_topk_tps = 0;
  double graph_step_us = 0;  // the decode graph alone, replayed back to back (cuda_replay_decode_graph_us)
  uint64_t last_hash = 0;
};

// A decode path and settings for the engines made while it is applied:
// "kernels/pdl0/ra0" sets REE_CUDA_DECODE=kernels, REE_CUDA_PDL=0 and
// REE_CUDA_ROPE_ATTENTION=0; settings it does not name go back to their
// defaults. "" changes nothing.
struct Variant {
  std::string name;
  void apply() const {
    if (name.empty()) return;
    for (const char* v : {"REE_CUDA_PDL", "REE_CUDA_ROPE_ATTENTION"}) unsetenv(v);
    size_t i = 0;
    bool first = true;
    while (i <= name.size()) {
      const size_t j = name.find('/', i);
      const std::string part = name.substr(i, j == std::string::npos ? std::string::npos : j - i);
      const auto flag = [&](const char* prefix, const char* var) {
        const std::string p(prefix);
        if (part.size() != p.size() + 1 || part.compare(0, p.size(), p) != 0) return false;
        setenv(var, part.substr(p.size()).c_str(), 1);
        return true;
      };
      if (first) setenv("REE_CUDA_DECODE", part.c_str(), 1);
      else if (!flag("pdl", "REE_CUDA_PDL") && !flag("ra", "REE_CUDA_ROPE_ATTENTION"))
        throw Error("--variants: unknown setting '" + part + "' (pdl0/1, ra0/1)");
      first = false;
      if (j == std::string::npos) break;
      i = j + 1;
    }
  }
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    const size_t j = s.find(',', i);
    const std::string part = s.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!part.empty()) out.push_back(part);
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

ModeFigures bench_mode(const Model& model, kernels::Mode mode, const Variant& variant, int64_t prompt_tokens,
                       int64_t decode_tokens, int repeats) {
  variant.apply();
  EngineOptions o;
  o.device = Device::Cuda;
  o.mode = mode;
  o.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  o.context = std::min<int64_t>(model.config.max_seq_len, prompt_tokens + 2 * decode_tokens + 2);
  o.max_batch = std::max<int64_t>(prompt_tokens, 1);
  auto engine = make_engine(model, o);
  std::vector<int32_t> prompt(static_cast<size_t>(prompt_tokens));
  uint32_t x = 12345;
  for (auto& t : prompt) {
    x = x * 1664525u + 1013904223u;
    t = int32_t(3 + (x >> 8) % uint32_t(model.config.vocab_size - 3));
  }
  ModeFigures fig;
  fig.mode = kernels::mode_name(mode);
  fig.variant = variant.name;
  fig.decode_path = cuda_decode_path(*engine);
  ForwardRequest topk;
  topk.top_k = 8;
  for (int r = 0; r < repeats + 1; ++r) {  // the first run warms up (graph capture, cuBLAS heuristics)
    engine->reset();
    auto t0 = std::chrono::steady_clock::now();
    ForwardResult fr = engine->forward(prompt, ForwardRequest{});
    const double prefill = double(prompt_tokens) / seconds_since(t0);
    int32_t token = fr.argmax.back() >= 0 ? fr.argmax.back() : 3;
    t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < decode_tokens; ++i) {
      const int32_t one[1] = {token};
      fr = engine->forward(one, ForwardRequest{});
      token = fr.argmax.back() >= 0 ? fr.argmax.back() : 3;
    }
    const double decode = double(decode_tokens) / seconds_since(t0);
    fig.last_hash = fr.logits_hash.back();
    const double graph_us = cuda_replay_decode_graph_us(*engine, int(decode_tokens));
    t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < decode_tokens; ++i) {
      const int32_t one[1] = {token};
      fr = engine->forward(one, topk);
      token = fr.argmax.back() >= 0 ? fr.argmax.back() : 3;
    }
    const double decode_topk = double(decode_tokens) / seconds_since(t0);
    if (r == 0) continue;
    fig.prefill_tps = std::max(fig.prefill_tps, prefill);
    fig.decode_tps = std::max(fig.decode_tps, decode);
    fig.decode_topk_tps = std::max(fig.decode_topk_tps, decode_topk);
    if (graph_us > 0 && (fig.graph_step_us == 0 || graph_us < fig.graph_step_us)) fig.graph_step_us = graph_us;
  }
  return fig;
}

// The persistent kernel's phase clock over `steps` decode steps after the prompt.
nlohmann::json phase_times(const Model& model, kernels::Mode mode, int64_t prompt_tokens, int64_t steps,
                           const std::string& path) {
  Variant{path}.apply();
  setenv("REE_CUDA_PHASE_TIMES", "1", 1);
  EngineOptions o;
  o.device = Device::Cuda;
  o.mode = mode;
  o.context = std::min<int64_t>(model.config.max_seq_len, prompt_tokens + steps + 2);
  o.max_batch = std::max<int64_t>(prompt_tokens, 1);
  auto engine = make_engine(model, o);
  unsetenv("REE_CUDA_PHASE_TIMES");
  std::vector<int32_t> prompt(static_cast<size_t>(prompt_tokens), 5);
  ForwardResult fr = engine->forward(prompt, ForwardRequest{});
  for (int64_t i = 0; i < steps; ++i) {
    const int32_t one[1] = {fr.argmax.back() >= 0 ? fr.argmax.back() : 3};
    fr = engine->forward(one, ForwardRequest{});
  }
  const CudaPhaseTimes t = cuda_decode_phase_times(*engine);
  nlohmann::json j = {{"decode_path", cuda_decode_path(*engine)}, {"steps", t.steps}, {"kernel_us", t.step_us},
                      {"phases", nlohmann::json::array()}};
  const double per_layer = double(model.config.n_layers);
  for (const auto& [name, us] : t.phases)
    j["phases"].push_back({{"phase", name}, {"mean_us", us},
                           {"per_step_us", us * (name.rfind("lm_head", 0) == 0 ? 1.0 : per_layer)}});
  return j;
}

// One product alone at T = 1: the reproducible kernel on a matrix of this
// shape and dtype (constant non-zero bytes), and cuBLAS for 16/32-bit types.
nlohmann::json bench_product(const char* name, kernels::DType dtype, int64_t rows, int64_t cols) {
  const cuda::GpuLayout layout = cuda::gpu_layout(dtype, rows, cols);
  cuda::DeviceBuffer data(layout.data_bytes(), "bench matrix");
  cuda::DeviceBuffer scales(layout.scale_count() * 2, "bench scales");
  cudaMemset(data.get(), 0x3c, data.bytes());
  if (scales.bytes()) cudaMemset(scales.get(), 0x1c, scales.bytes());
  cuda::DeviceBuffer x(sizeof(float) * size_t(cols), "bench x"), x_low(2 * size_t(cols), "bench x");
  cudaMemset(x.get(), 0x3f, x.bytes());
  cudaMemset(x_low.get(), 0x3c, x_low.bytes());
  const cuda::GpuMatrix m{layout, data.as<const uint4>(), scales.as<const uint16_t>()};
  cuda::DeviceBuffer out(sizeof(float) * size_t(m.chunks()) * size_t(rows), "bench out");
  const double bytes = double(layout.data_bytes() + scales.bytes());
  const double repro = cuda_bench::time_seconds(20, [&] {
    cuda::launch_matmul_partials(m, x.as<float>(), cols, 1, out.as<float>(), cuda::Launch{});
  });
  nlohmann::json j = {{"product", name}, {"rows", rows}, {"cols", cols}, {"bytes", bytes},
                      {"reproducible_us", repro * 1e6}, {"reproducible_gbs", bytes / repro / 1e9}};
  if (dtype != kernels::DType::Q8_0) {
    cuda::DeviceMatrix dm;
    dm.dtype = dtype;
    dm.rows = rows;
    dm.cols = cols;
    dm.cublas = true;
    const size_t es = dtype == kernels::DType::F32 ? 4 : 2;
    dm.data = cuda::DeviceBuffer(es * size_t(rows * cols), "bench matrix");
    cudaMemset(dm.data.get(), 0x3c, dm.data.bytes());
    cuda::CublasMatmul blas(nullptr);
    const double t = cuda_bench::time_seconds(20, [&] { blas.run(dm, x.as<float>(), x_low.get(), 1, out.as<float>()); });
    j["cublas_us"] = t * 1e6;
    j["cublas_gbs"] = double(dm.data.bytes()) / t / 1e9;
  }
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ree-cuda-bench: CUDA engine speed against the GPU's memory-bandwidth roofline"};
  std::string model_path, modes = "reproducible,fast";
  int64_t prompt_tokens = 128, decode_tokens = 256;
  int repeats = 3;
  int profile_steps = 0;
  int64_t phase_steps = 0;
  std::string variants;
  std::string phase_path = "stream";
  bool json = false;
  app.add_option("--model", model_path, "model directory or GGUF file")->required();
  app.add_option("--prompt-tokens", prompt_tokens, "prefill length")->capture_default_str();
  app.add_option("--decode-tokens", decode_tokens, "decode steps per run")->capture_default_str();
  app.add_option("--modes", modes, "comma-separated modes")->capture_default_str();
  app.add_option("--repeats", repeats, "timed runs per mode (best is reported)")->capture_default_str();
  app.add_option("--profile-steps", profile_steps,
                 "only prefill, then this many decode steps in the first mode (for a profiler such as ncu)");
  app.add_option("--variants", variants,
                 "decode paths and settings to run each mode with, e.g. kernels/pdl1,kernels/pdl0/ra0,"
                 "persistent/pdl1,phases/pdl1");
  app.add_option("--phase-times", phase_steps, "decode steps to time phase by phase (the fused step's clock)");
  app.add_option("--phase-path", phase_path, "the decode path --phase-times clocks: stream or persistent");
  app.add_flag("--json", json, "machine-readable output");
  CLI11_PARSE(app, argc, argv);
  try {
    const CudaDeviceInfo dev = cuda_device_info();
    if (!dev.ok) throw Error("--device cuda: no CUDA device visible (" + dev.error + ")");
    const Model model = load_model(model_path, LoadOptions{nullptr, false});
    const ModelConfig& c = model.config;
    // Short-context models: shrink the run so that prefill and both decode
    // loops fit in the model's positions.
    if (prompt_tokens + 2 * decode_tokens + 2 > c.max_seq_len) {
      prompt_tokens = std::min<int64_t>(prompt_tokens, c.max_seq_len / 4);
      decode_tokens = std::max<int64_t>(1, (c.max_seq_len - prompt_tokens - 2) / 2);
    }
    if (profile_steps > 0) {
      const size_t comma = modes.find(',');
      const auto mode = kernels::parse_mode(modes.substr(0, comma));
      if (!mode) throw Error("--modes: unknown mode");
      const ModeFigures f = bench_mode(model, *mode, Variant{}, prompt_tokens, profile_steps, 0);
      std::printf("profiled %s: prefill %lld tokens, %d decode steps (hash %016llx)\n", f.mode.c_str(),
                  (long long)prompt_tokens, profile_steps, (unsigned long long)f.last_hash);
      return 0;
    }
    const cuda_bench::Bandwidth bw = cuda_bench::measure_bandwidth(size_t(4) << 30, 10);
    const double mean_pos = double(prompt_tokens) + double(decode_tokens) / 2.0;
    const double kv_bytes = 2.0 * c.n_layers * mean_pos * c.n_kv_heads * c.head_dim * sizeof(float);
    const double bytes_per_token = double(model.weight_bytes()) + kv_bytes;
    const double roofline_tps = bw.read_gbs * 1e9 / bytes_per_token;

    const kernels::DType dt = model.weights.dtype;
    const int64_t q_dim = int64_t(c.n_heads) * c.head_dim, kv_dim = int64_t(c.n_kv_heads) * c.head_dim;
    nlohmann::json products = nlohmann::json::array();
    products.push_back(bench_product("qkv", dt, q_dim + 2 * kv_dim, c.dim));
    products.push_back(bench_product("o", dt, c.dim, q_dim));
    products.push_back(bench_product("gate_up", dt, 2 * int64_t(c.hidden_dim), c.dim));
    products.push_back(bench_product("down", dt, c.dim, c.hidden_dim));
    products.push_back(bench_product("lm_head", model.weights.lm_head.dtype, c.vocab_size, c.dim));

    std::vector<Variant> vs;
    for (const std::string& v : split_commas(variants)) vs.push_back(Variant{v});
    // A variant sets the settings it names and returns the others to their
    // defaults, so these two from the environment would be silently ignored
    // (sessions 8, 10 and 15 compared a setting with itself this way).
    for (const char* var : {"REE_CUDA_PDL", "REE_CUDA_ROPE_ATTENTION"})
      if (!vs.empty() && std::getenv(var) != nullptr)
        std::fprintf(stderr, "ree-cuda-bench: note: --variants overrides %s from the environment (name it in the "
                             "variant: pdl0/pdl1, ra0/ra1)\n", var);
    if (vs.empty()) vs.push_back(Variant{});
    std::vector<ModeFigures> figs;
    for (const std::string& name : split_commas(modes)) {
      const auto mode = kernels::parse_mode(name);
      if (!mode) throw Error("--modes: unknown mode '" + name + "'");
      for (const Variant& v : vs) figs.push_back(bench_mode(model, *mode, v, prompt_tokens, decode_tokens, repeats));
    }
    nlohmann::json phases;
    if (phase_steps > 0) phases = phase_times(model, kernels::Mode::Reproducible, prompt_tokens, phase_steps, phase_path);

    nlohmann::json rows = nlohmann::json::array();
    for (const auto& f : figs)
      rows.push_back({{"mode", f.mode}, {"variant", f.variant}, {"decode_path", f.decode_path},
                      {"prefill_tokens_per_s", f.prefill_tps}, {"decode_tokens_per_s", f.decode_tps},
                      {"decode_topk8_tokens_per_s", f.decode_topk_tps}, {"roofline_ratio", f.decode_tps / roofline_tps},
                      {"graph_step_us", f.graph_step_us},
                      {"last_logits_hash", f.last_hash}});
    nlohmann::json out = {
        {"device", cuda_device_status()}, {"model", model.identity.name}, {"dtype", kernels::dtype_name(dt)},
        {"read_bandwidth_gbs", bw.read_gbs}, {"copy_bandwidth_gbs", bw.copy_gbs}, {"bytes_per_token", bytes_per_token},
        {"roofline_tokens_per_s", roofline_tps}, {"prompt_tokens", prompt_tokens}, {"decode_tokens", decode_tokens},
        {"modes", rows}, {"products_t1", products}};
    if (!phases.is_null()) out["phase_times"] = phases;
    if (json) {
      std::printf("%s\n", out.dump(2).c_str());
      return 0;
    }
    std::printf("%s\nmodel %s (%s): %.1f MB read per decode step\n", out["device"].get<std::string>().c_str(),
                model.identity.name.c_str(), kernels::dtype_name(dt), bytes_per_token / 1e6);
    std::printf("GPU read bandwidth %.0f GB/s (copy %.0f GB/s) -> decode roofline %.0f tokens/s\n", bw.read_gbs,
                bw.copy_gbs, roofline_tps);
    std::printf("%-14s %-18s %14s %14s %18s %9s\n", "mode", "variant", "prefill tok/s", "decode tok/s",
                "decode+top8 tok/s", "roofline");
    for (const auto& f : figs)
      std::printf("%-14s %-18s %14.0f %14.1f %18.1f %8.0f%%   %s\n", f.mode.c_str(),
                  f.variant.empty() ? "(default)" : f.variant.c_str(), f.prefill_tps, f.decode_tps, f.decode_topk_tps,
                  100.0 * f.decode_tps / roofline_tps, f.decode_path.c_str());
    if (!phases.is_null()) {
      std::printf("%s decode kernel: %.1f us per step (%lld steps)\n", phases["decode_path"].get<std::string>().c_str(), phases["kernel_us"].get<double>(),
                  (long long)phases["steps"].get<int64_t>());
      for (const auto& p : phases["phases"])
        std::printf("  %-42s %8.2f us each %9.1f us per step\n", p["phase"].get<std::string>().c_str(),
                    p["mean_us"].get<double>(), p["per_step_us"].get<double>());
    }
    for (const auto& p : products)
      std::printf("product %-8s %6lld x %-6lld repro %7.1f us %6.0f GB/s   cublas %7.1f us %6.0f GB/s\n",
                  p["product"].get<std::string>().c_str(), (long long)p["rows"].get<int64_t>(),
                  (long long)p["cols"].get<int64_t>(), p["reproducible_us"].get<double>(),
                  p["reproducible_gbs"].get<double>(), p.value("cublas_us", 0.0), p.value("cublas_gbs", 0.0));
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "ree-cuda-bench: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ree-cuda-bench: internal error: %s\n", e.what());
    return 4;
  }
}
