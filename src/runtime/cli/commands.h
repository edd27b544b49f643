#pragma once
// Each `ree` subcommand lives in its own cmd_<name>.cpp and registers itself
// here through one function. The function adds the CLI11 subcommand and sets
// `run` (when that subcommand is chosen) to a closure returning the exit code.
#include <functional>

namespace CLI {
class App;
}

namespace ree::cli {

using RunSlot = std::function<int()>;

void register_run(CLI::App& app, RunSlot& run);
void register_info(CLI::App& app, RunSlot& run);
void register_bench(CLI::App& app, RunSlot& run);
// Further commands are declared by their own files' owners below this line.
void register_synth(CLI::App& app, RunSlot& run);    // cmd_synth.cpp (GGUF engineer)
void register_convert(CLI::App& app, RunSlot& run);  // cmd_convert.cpp (GGUF engineer)

}  // namespace ree::cli
