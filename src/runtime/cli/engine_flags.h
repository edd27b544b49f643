#pragma once
// Flags shared by every command that runs a model: --mode, --device,
// --threads, --simd, --prefill-chunk, --context.
#include <cstdint>
#include <string>

#include "runtime/engine.h"

namespace CLI {
class App;
}

namespace ree::cli {

struct EngineFlags {
  std::string mode = "reproducible";
  std::string device = "cpu";
  int threads = 0;            // 0: one per core
  std::string simd = "auto";  // auto | scalar | avx2 | avx512
  int64_t prefill_chunk = 0;  // 0: whole prompt (up to the engine's max batch)
  int64_t context = 0;        // 0: the model's max positions
};

void add_engine_flags(CLI::App* cmd, EngineFlags& flags, bool with_prefill = true);
EngineOptions to_engine_options(const EngineFlags& flags);  // throws ree::Error on bad values

// True when stderr is a terminal: progress lines are drawn only then.
bool stderr_is_terminal();

}  // namespace ree::cli
