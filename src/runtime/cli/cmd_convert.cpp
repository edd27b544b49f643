// `ree convert`: a Hugging Face Llama directory to one GGUF v3 file
// (runtime/loader/convert.h).
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
#include "runtime/loader/convert.h"

namespace ree::cli {
namespace {

struct ConvertFlags {
  std::string in;
  std::string out;
  std::string dtype = "same";
  bool force = false;
  int threads = 0;
  bool json = false;
};

int convert_command(const ConvertFlags& f) {
  ConvertOptions o;
  o.in = f.in;
  o.out = f.out;
  if (f.dtype != "same") o.dtype = *kernels::parse_dtype(f.dtype);  // CLI11 checked membership
  o.force = f.force;
  o.show_progress = true;
  const int threads = f.threads > 0 ? f.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadPool pool(threads);
  o.pool = &pool;
  const auto start = std::chrono::steady_clock::now();
  const ConvertResult r = convert_hf_to_gguf(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (f.json) {
    const nlohmann::json out = {{"in", f.in},
                                {"out", f.out},
                                {"dtype", kernels::dtype_name(r.dtype)},
                                {"bytes", r.bytes},
                                {"seconds", seconds}};
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("wrote %s (%s) from %s: %.1f MiB in %.2f s\n", f.out.c_str(), kernels::dtype_name(r.dtype),
                f.in.c_str(), static_cast<double>(r.bytes) / (1024.0 * 1024.0), seconds);
  }
  return 0;
}

}  // namespace

void register_convert(CLI::App& app, RunSlot& run) {
  auto flags = std::make_shared<ConvertFlags>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert a Hugging Face Llama directory to a GGUF v3 file");
  cmd->add_option("IN", flags->in, "Hugging Face model directory")->required();
  cmd->add_option("--out", flags->out, "output .gguf file")->required();
  cmd->add_option("--dtype", flags->dtype, "weight type of the matrices (same: keep the source's)")
      ->check(CLI::IsMember({"same", "f32", "f16", "bf16", "q8_0"}))
      ->capture_default_str();
  cmd->add_flag("--force", flags->force, "replace an existing --out");
  cmd->add_option("--threads", flags->threads, "threads for encoding (0: one per core)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", flags->json, "machine-readable output");
  cmd->callback([flags, &run] { run = [flags] { return convert_command(*flags); }; });
}

}  // namespace ree::cli
