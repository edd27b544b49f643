#pragma once
// Errors at ree's boundaries: a one-line message with context and the exit
// code the CLI returns for it. Exit codes are documented in README.md.
#include <stdexcept>
#include <string>

namespace ree {

// Exit codes shared by every command (README.md, "Exit codes").
enum class ExitCode : int {
  Ok = 0,
  Diverged = 1,     // replay/diff found a difference; verify: invalid/tampered
  InputError = 2,   // bad usage, unreadable or malformed input
  Truncated = 3,    // session cut short (prefix intact)
};

// An error caused by the user's input (a file, a flag): reported as one line,
// exit code 2 unless stated otherwise.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::InputError)
      : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// "PATH: what is wrong" — the one-line form every loader error takes.
inline Error file_error(const std::string& path, const std::string& what) {
  return Error(path + ": " + what);
}

}  // namespace ree
