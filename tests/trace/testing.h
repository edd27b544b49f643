#pragma once
// Small helpers for the trace tests: a scratch directory removed at exit,
// whole-file reads and writes.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ree::trace::testing {

// A fresh directory under the system temp dir, removed when destroyed.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<uint8_t> read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);

// Runs a shell command line, returns its exit status and captures stdout.
int run_command(const std::string& command, std::string* out = nullptr);

}  // namespace ree::trace::testing
