// `ree synth`: write a random-weight Llama model of a real shape (HF
// directory or GGUF file) for benchmarks and tests (runtime/loader/synth.h).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "kernels/thread_pool.h"
#include "runtime/cli/commands.h"
#include "runtime/error.h"
#include "runtime/loader/synth.h"

namespace ree::cli {
namespace {

struct SynthFlags {
  std::string shape;
  std::string dtype;
  std::string out;
  std::string format = "hf";
  uint64_t seed = 0;
  bool force = false;
  int threads = 0;
  bool json = false;
};

int synth_command(const SynthFlags& f) {
  SynthOptions o;
  o.shape = f.shape;
  o.dtype = *kernels::parse_dtype(f.dtype);  // CLI11 checked membership
  o.format = f.format == "gguf" ? SynthFormat::Gguf : SynthFormat::Hf;
  o.seed = f.seed;
  o.out = f.out;
  o.force = f.force;
  o.show_progress = true;
  const int threads = f.threads > 0 ? f.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(threads);
  o.pool = &pool;
  const auto start = std::chrono::steady_clock::now();
  const SynthResult r = write_synth_model(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (f.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& p : r.files) files.push_back(p.string());
    const nlohmann::json out = {{"shape", f.shape},   {"dtype", f.dtype},     {"format", f.format},
                                {"seed", f.seed},     {"out", f.out},         {"files", files},
                                {"bytes", r.bytes},   {"seconds", seconds},
                                {"config", {{"dim", r.config.dim},
                                            {"hidden_dim", r.config.hidden_dim},
                                            {"n_layers", r.config.n_layers},
                                            {"n_heads", r.config.n_heads},
                                            {"n_kv_heads", r.config.n_kv_heads},
                                            {"vocab_size", r.config.vocab_size},
                                            {"max_seq_len", r.config.max_seq_len},
                                            {"tied_embeddings", r.config.tied_embeddings}}}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("wrote %s (%s, %s, seed %llu) to %s: %.1f MiB in %.2f s\n", f.shape.c_str(), f.dtype.c_str(),
                f.format.c_str(), static_cast<unsigned long long>(f.seed), f.out.c_str(),
                static_cast<double>(r.bytes) / (1024.0 * 1024.0), seconds);
  }
  return 0;
}

}  // namespace

void register_synth(CLI::App& app, RunSlot& run) {
  auto flags = std::make_shared<SynthFlags>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a random-weight Llama model of a real shape (HF or GGUF)");
  cmd->add_option("--shape", flags->shape, "tinyllama-1.1b | stories15m | stories110m | test")
      ->required()
      ->check(CLI::IsMember(synth_shape_names()));
  cmd->add_option("--dtype", flags->dtype, "weight type of the matrices")
      ->required()
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
  cmd->add_option("--out", flags->out, "output directory (hf) or file (gguf)")->required();
  cmd->add_option("--format", flags->format, "hf (config.json + model.safetensors + tokenizer.model) or gguf")
      ->check(CLI::IsMember({"hf", "gguf"}))
      ->capture_default_str();
  cmd->add_option("--seed", flags->seed, "weights seed")->capture_default_str();
  cmd->add_flag("--force", flags->force, "replace an existing --out");
  cmd->add_option("--threads", flags->threads, "threads for generating weights (0: one per core)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", flags->json, "machine-readable output");
  cmd->callback([flags, &run] { run = [flags] { return synth_command(*flags); }; });
}

}  // namespace ree::cli
