#pragma once
// Helpers shared by ree's tests: temporary directories and running the ree
// CLI as a user would.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <sys/wait.h>

namespace ree::test {

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "ree-test") {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            (tag + "-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout (stderr too when merged)
};

// Runs `args` (already quoted for the shell) with the ree CLI; stderr goes
// to stdout when merge_stderr.
inline CommandResult run_ree(const std::string& args, bool merge_stderr = true) {
  std::string cmd = std::string("'") + REE_CLI + "' " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Appended piece by piece: GCC 12's -Wrestrict misfires on "'" + std::string
// (a known libstdc++ false positive).
inline std::string quote(const std::filesystem::path& p) {
  std::string q(1, '\'');
  q += p.string();
  q += '\'';
  return q;
}

}  // namespace ree::test
