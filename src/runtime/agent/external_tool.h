#pragma once
// Running an external tool: `/bin/sh -c COMMAND` in its own process group,
// the arguments JSON on stdin, stdout taken as the result. Whatever the
// command does (hang, flood stdout, exit non-zero, die by a signal, close
// stdin early), the agent gets a ProcessOutcome back within the timeout and
// no process of the tool is left behind.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

namespace ree::agent {

struct ProcessLimits {
  std::chrono::milliseconds timeout{10000};
  size_t max_output_bytes = 64 * 1024;  // stdout beyond this is cut off and the tool killed
  const std::atomic<bool>* interrupt = nullptr;  // checked every kPollInterval while waiting
};

enum class ProcessEnd : uint8_t {
  Exited,       // exit_code holds the status
  Signaled,     // exit_code is 128 + the signal
  TimedOut,     // killed after the timeout
  OutputLimit,  // killed after stdout passed max_output_bytes
  Interrupted,  // killed because the agent was interrupted
  StartFailed,  // fork/socket failure (error holds why)
};

struct ProcessOutcome {
  ProcessEnd end = ProcessEnd::StartFailed;
  int exit_code = -1;
  std::string stdout_text;  // at most max_output_bytes
  std::string stderr_text;  // at most 4 KiB, for error messages
  std::string error;        // StartFailed only
  std::chrono::microseconds duration{0};
};

// How often a waiting agent looks at the interrupt flag and the child.
constexpr std::chrono::milliseconds kPollInterval{20};

ProcessOutcome run_process(const std::string& command, const std::string& stdin_text, const ProcessLimits& limits);

}  // namespace ree::agent
