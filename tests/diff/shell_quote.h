#pragma once
// A path in single quotes for the shell, for tests that run ree or ree-view.
// Built by appending: GCC 12 warns falsely (-Wrestrict) about `"'" + string`,
// which test_util.h's quote() does.
#include <filesystem>
#include <string>

namespace ree::test {

inline std::string quote_path(const std::filesystem::path& path) {
  std::string quoted(1, '\'');
  quoted += path.string();
  quoted += '\'';
  return quoted;
}

}  // namespace ree::test
