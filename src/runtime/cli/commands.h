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
void register_diff(CLI::App& app, RunSlot& run);     // cmd_diff.cpp (diff/viewer engineer)
void register_view(CLI::App& app, RunSlot& run);     // cmd_view.cpp (diff/viewer engineer)
void register_agent(CLI::App& app, RunSlot& run);    // cmd_agent.cpp (agent/replay engineer)
void register_replay(CLI::App& app, RunSlot& run);   // cmd_replay.cpp (agent/replay engineer)
void register_inspect(CLI::App& app, RunSlot& run);  // cmd_inspect.cpp (session-files engineer)
void register_verify(CLI::App& app, RunSlot& run);   // cmd_verify.cpp (session-files engineer)
void register_keygen(CLI::App& app, RunSlot& run);   // cmd_keygen.cpp (session-files engineer)

}  // namespace ree::cli
