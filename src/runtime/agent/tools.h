#pragma once
// The tools an agent can call: built-ins (calc, now, read_file) and
// external commands (--tool NAME=COMMAND). A tool never throws and never
// crashes the agent: every failure is a ToolOutcome with status Error or
// Timeout whose output starts with "error: " (docs/agent.md, "Tools").
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/agent/external_tool.h"

namespace ree::agent {

enum class ToolStatus : uint8_t { Ok = 0, Error = 1, Timeout = 2 };
const char* tool_status_name(ToolStatus);

struct ToolOutcome {
  std::string output;  // the tool message's content, exactly what the model reads
  ToolStatus status = ToolStatus::Ok;
  int exit_code = 0;   // external tools: the exit status (128 + signal; -1 when killed by ree)
  std::chrono::microseconds duration{0};
};

struct ExternalTool {
  std::string name;
  std::string command;  // run by /bin/sh -c
};

// Largest file read_file returns: a tool result is fed to the model, so it
// must stay a small fraction of any context window.
constexpr uint64_t kMaxReadFileBytes = 64 * 1024;

struct ToolConfig {
  std::vector<ExternalTool> external;          // an external tool named like a built-in replaces it
  ProcessLimits limits;                        // external tools: timeout, stdout size, interrupt
  std::optional<std::filesystem::path> read_dir;  // read_file is disabled without it
};

// Parses "NAME=COMMAND"; throws ree::Error on a bad name or empty command.
ExternalTool parse_tool_flag(const std::string& flag);

class ToolBox {
 public:
  explicit ToolBox(ToolConfig config);
  // Runs tool `name` with `arguments_json` (a JSON object as text).
  ToolOutcome run(const std::string& name, const std::string& arguments_json) const;
  // Whether re-running the tool with the same arguments must give the same
  // output: calc and read_file yes, now no, external tools are assumed to be.
  bool deterministic(const std::string& name) const;
  bool has(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  const ExternalTool* external(const std::string& name) const;
  ToolConfig config_;
};

// The built-ins on their own (tests and replay use them directly).
ToolOutcome run_calc(const std::string& arguments_json);
ToolOutcome run_now();                                   // the time, arguments not checked
ToolOutcome run_now(const std::string& arguments_json);  // "error: invalid arguments" unless {}
ToolOutcome run_read_file(const std::string& arguments_json, const std::optional<std::filesystem::path>& read_dir);

}  // namespace ree::agent
