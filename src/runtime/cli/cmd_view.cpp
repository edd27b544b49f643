// `ree view a.fb [b.fb] [--select STEP]`: opens the desktop viewer
// (docs/viewer.md) by replacing this process with the ree-view executable
// that sits beside `ree` (both are built into build/bin and installed into
// the same bin directory).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/cli/commands.h"
#include "runtime/error.h"

namespace ree::cli {
namespace {

struct ViewFlags {
  std::vector<std::string> sessions;
  std::optional<uint64_t> select;  // step to select on opening
};

std::filesystem::path viewer_path() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw Error("ree view: cannot locate the ree executable (/proc/self/exe): " + error.message());
  const std::filesystem::path viewer = self.parent_path() / "ree-view";
  if (!std::filesystem::exists(viewer))
    throw Error("ree view: " + viewer.string() + " not found (build with -DREE_VIEWER=ON, which needs libimgui-dev and libglfw3-dev)");
  return viewer;
}

int view_command(const ViewFlags& f) {
  const std::string viewer = viewer_path().string();
  std::vector<std::string> args = {viewer};
  args.insert(args.end(), f.sessions.begin(), f.sessions.end());
  if (f.select) {
    args.push_back("--select");
    args.push_back(std::to_string(*f.select));
  }
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execv(viewer.c_str(), argv.data());
  throw Error("ree view: cannot run " + viewer + ": " + std::strerror(errno));
}

}  // namespace

void register_view(CLI::App& app, RunSlot& run) {
  auto flags = std::make_shared<ViewFlags>();
  CLI::App* cmd = app.add_subcommand("view", "Open sessions in the desktop viewer (ree-view): one to inspect, two to compare");
  cmd->add_option("sessions", flags->sessions, "one session file, or two to compare")->required()->expected(1, 2);
  cmd->add_option("--select", flags->select, "select this step (0-based, over the whole session) on opening");
  cmd->footer("ree-view itself takes more options (ree-view --help), e.g. --screenshot for headless use.");
  cmd->callback([flags, &run] { run = [flags] { return view_command(*flags); }; });
}

}  // namespace ree::cli
