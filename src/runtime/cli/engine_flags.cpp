#include "runtime/cli/engine_flags.h"

#include <CLI/CLI.hpp>
#include <thread>
#include <unistd.h>

#include "runtime/error.h"

namespace ree::cli {

void add_engine_flags(CLI::App* cmd, EngineFlags& f, bool with_prefill) {
  cmd->add_option("--mode", f.mode, "reproducible (repro-v1, default) | deterministic | fast")
      ->capture_default_str();
  cmd->add_option("--device", f.device, "cpu | cuda")->capture_default_str();
  cmd->add_option("--threads", f.threads, "worker threads (0: one per core)")->capture_default_str();
  cmd->add_option("--simd", f.simd, "auto | scalar | avx2 | avx512 (force a CPU kernel path)")
      ->capture_default_str();
  if (with_prefill)
    cmd->add_option("--prefill-chunk", f.prefill_chunk, "prompt tokens per forward pass (0: all)")
        ->capture_default_str();
  cmd->add_option("--context", f.context, "KV-cache positions (0: the model's maximum)")
      ->capture_default_str();
}

EngineOptions to_engine_options(const EngineFlags& f) {
  EngineOptions o;
  const auto mode = kernels::parse_mode(f.mode);
  if (!mode) throw Error("--mode: unknown mode '" + f.mode + "' (reproducible, deterministic, fast)");
  o.mode = *mode;
  if (f.device == "cpu") o.device = Device::Cpu;
  else if (f.device == "cuda") o.device = Device::Cuda;
  else throw Error("--device: unknown device '" + f.device + "' (cpu, cuda)");
  if (f.threads < 0) throw Error("--threads must be >= 0");
  o.threads = f.threads > 0 ? f.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  if (f.simd == "auto") {
    o.simd = kernels::detect_simd();
  } else {
    const auto simd = kernels::parse_simd(f.simd);
    if (!simd) throw Error("--simd: unknown path '" + f.simd + "' (auto, scalar, avx2, avx512)");
    if (!kernels::simd_supported(*simd)) throw Error("--simd: this CPU does not support " + f.simd);
    o.simd = *simd;
  }
  if (f.prefill_chunk < 0) throw Error("--prefill-chunk must be >= 0");
  if (f.prefill_chunk > 0) o.max_batch = std::max<int64_t>(o.max_batch, f.prefill_chunk);
  if (f.context < 0) throw Error("--context must be >= 0");
  o.context = f.context;
  return o;
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace ree::cli
