// `ree bench`: prefill and decode tokens/s per mode, the machine's measured
// memory bandwidth, and decode speed as a fraction of the bandwidth roofline
// (bandwidth / bytes one decode step must read).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "kernels/membw.h"
#include "kernels/thread_pool.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/engine_flags.h"
#include "runtime/error.h"
#include "runtime/model.h"
#include "runtime/system_info.h"

namespace ree::cli {
namespace {

struct BenchFlags {
  std::string model;
  int64_t prompt_tokens = 128;
  int64_t decode_tokens = 32;
  int repeats = 3;
  bool all_modes = false;
  bool json = false;
  EngineFlags engine;
};

struct ModeFigures {
  std::string mode;
  double prefill_tps = 0;
  double decode_tps = 0;
  uint64_t last_hash = 0;  // logits hash of the final decode step (shows mode differences)
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void progress(bool on, const std::string& what) {
  if (on) std::fprintf(stderr, "\r\033[K%s", what.c_str());
}

// Best of `repeats` for prefill (one pass over the prompt) and decode
// (decode_tokens single-token steps after it). Tokens are fixed pseudo-random
// ids so that every mode and run sees the same input.
ModeFigures bench_mode(const Model& model, EngineOptions options, const BenchFlags& f, bool show) {
  ModeFigures fig;
  fig.mode = kernels::mode_name(options.mode);
  options.context = std::min<int64_t>(model.config.max_seq_len, f.prompt_tokens + f.decode_tokens + 1);
  options.max_batch = std::max<int64_t>(f.prompt_tokens, 1);
  auto engine = make_engine(model, options);
  std::vector<int32_t> prompt(size_t(f.prompt_tokens));
  uint32_t x = 12345;
  for (auto& t : prompt) {
    x = x * 1664525u + 1013904223u;
    t = int32_t(3 + (x >> 8) % uint32_t(model.config.vocab_size - 3));
  }
  for (int r = 0; r < f.repeats; ++r) {
    engine->reset();
    progress(show, "bench " + fig.mode + ": prefill " + std::to_string(f.prompt_tokens) +
                       " tokens (run " + std::to_string(r + 1) + "/" + std::to_string(f.repeats) + ")");
    auto t0 = std::chrono::steady_clock::now();
    ForwardResult fr = engine->forward(prompt, ForwardRequest{});
    fig.prefill_tps = std::max(fig.prefill_tps, double(f.prompt_tokens) / seconds_since(t0));
    int32_t token = prompt.back();
    t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < f.decode_tokens; ++i) {
      const int32_t one[1] = {token};
      fr = engine->forward(one, ForwardRequest{});
      token = fr.argmax.back() >= 0 ? fr.argmax.back() : 3;
      if (show && i % 4 == 0)
        progress(show, "bench " + fig.mode + ": decode " + std::to_string(i) + "/" +
                           std::to_string(f.decode_tokens) + " (run " + std::to_string(r + 1) + ")");
    }
    fig.decode_tps = std::max(fig.decode_tps, double(f.decode_tokens) / seconds_since(t0));
    fig.last_hash = fr.logits_hash.back();
  }
  return fig;
}

int bench_command(const BenchFlags& f) {
  if (f.prompt_tokens < 1 || f.decode_tokens < 1 || f.repeats < 1)
    throw Error("--prompt-tokens, --decode-tokens and --repeats must be >= 1");
  const bool show = stderr_is_terminal();
  EngineOptions options = to_engine_options(f.engine);
  LoadOptions load;
  load.show_progress = show;
  const Model model = load_model(f.model, load);

  progress(show, "measuring memory bandwidth");
  ThreadPool pool(options.threads);
  const double bandwidth_gbs = kernels::measure_memory_bandwidth_gbs(&pool);
  // One decode step reads every weight once, plus the KV cache so far (mean position).
  const ModelConfig& c = model.config;
  const double mean_pos = double(f.prompt_tokens) + double(f.decode_tokens) / 2.0;
  const double kv_bytes = 2.0 * c.n_layers * mean_pos * c.n_kv_heads * c.head_dim * sizeof(float);
  const double bytes_per_token = double(model.weight_bytes()) + kv_bytes;
  const double roofline_tps = bandwidth_gbs * 1e9 / bytes_per_token;

  std::vector<kernels::Mode> modes = {options.mode};
  if (f.all_modes) modes = {kernels::Mode::Reproducible, kernels::Mode::Deterministic, kernels::Mode::Fast};
  std::vector<ModeFigures> figures;
  for (kernels::Mode m : modes) {
    options.mode = m;
    figures.push_back(bench_mode(model, options, f, show));
  }
  progress(show, "");

  const SystemInfo sys = read_system_info();
  if (f.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& fig : figures)
      rows.push_back({{"mode", fig.mode}, {"prefill_tokens_per_s", fig.prefill_tps},
                      {"decode_tokens_per_s", fig.decode_tps},
                      {"roofline_ratio", fig.decode_tps / roofline_tps},
                      {"last_logits_hash", fig.last_hash}});
    nlohmann::json out = {{"model", model.identity.name}, {"dtype", kernels::dtype_name(model.weights.dtype)},
                          {"cpu", sys.cpu_model}, {"threads", options.threads},
                          {"simd", kernels::simd_name(options.simd)},
                          {"memory_bandwidth_gbs", bandwidth_gbs}, {"bytes_per_token", bytes_per_token},
                          {"roofline_tokens_per_s", roofline_tps}, {"prompt_tokens", f.prompt_tokens},
                          {"decode_tokens", f.decode_tokens}, {"modes", rows}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("model %s (%s), %s, %d threads, simd %s\n", model.identity.name.c_str(),
              kernels::dtype_name(model.weights.dtype), sys.cpu_model.c_str(), options.threads,
              kernels::simd_name(options.simd));
  std::printf("memory bandwidth %.1f GB/s; %.1f MB read per decode step; roofline %.2f tokens/s\n",
              bandwidth_gbs, bytes_per_token / 1e6, roofline_tps);
  std::printf("%-14s %14s %14s %10s  %s\n", "mode", "prefill tok/s", "decode tok/s", "roofline", "last logits hash");
  for (const auto& fig : figures)
    std::printf("%-14s %14.2f %14.2f %9.0f%%  %016llx\n", fig.mode.c_str(), fig.prefill_tps, fig.decode_tps,
                100.0 * fig.decode_tps / roofline_tps, (unsigned long long)fig.last_hash);
  return 0;
}

}  // namespace

void register_bench(CLI::App& app, RunSlot& run) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prefill/decode speed against the memory-bandwidth roofline");
  cmd->add_option("--model", flags->model, "Hugging Face model directory or GGUF file")->required();
  cmd->add_option("--prompt-tokens", flags->prompt_tokens, "prefill length")->capture_default_str();
  cmd->add_option("--decode-tokens", flags->decode_tokens, "decode steps per run")->capture_default_str();
  cmd->add_option("--repeats", flags->repeats, "runs per mode (best is reported)")->capture_default_str();
  cmd->add_flag("--all-modes", flags->all_modes, "run reproducible, deterministic and fast in turn");
  cmd->add_flag("--json", flags->json, "machine-readable output");
  add_engine_flags(cmd, flags->engine, false);
  cmd->callback([flags, &run] { run = [flags] { return bench_command(*flags); }; });
}

}  // namespace ree::cli
