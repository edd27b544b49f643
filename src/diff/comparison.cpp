// Names of the comparison's enums (stable: they appear in `ree diff --json`).
#include "diff/comparison.h"

#include <algorithm>
#include <array>

namespace ree::diff {

std::string_view class_name(DiffClass kind) {
  static constexpr std::array<std::string_view, kDiffClassCount> kNames = {
      "header",     "prompt",     "token",       "logits_drift", "topk",   "tool_call",
      "tool_result", "checkpoint", "stop_reason", "length",       "unknown"};
  const auto i = static_cast<size_t>(kind);
  return i < kNames.size() ? kNames[i] : "unknown";
}

std::string_view section_name(HeaderSection section) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "format", "contract", "model", "tokenizer", "template", "configuration", "run", "environment"};
  const auto i = static_cast<size_t>(section);
  return i < kNames.size() ? kNames[i] : "unknown";
}

bool Comparison::environment_differs() const {
  return std::any_of(header.begin(), header.end(), [](const HeaderField& f) { return !f.content; });
}

}  // namespace ree::diff
