// Names of the schema's enums as ree prints and parses them (snake_case,
// stable: they appear in `ree inspect --json` output).
#include <array>
#include <string_view>

#include "trace/schema.h"

namespace ree::trace {
namespace {

constexpr std::array<std::string_view, 8> kKindNames = {
    "none", "turn_start", "step", "turn_end", "tool_call", "tool_result", "checkpoint", "end"};
static_assert(kKindNames.size() == kKnownRecordKinds + 1, "a RecordBody member has no name");

constexpr std::array<std::string_view, 4> kRoleNames = {"system", "user", "assistant", "tool"};
constexpr std::array<std::string_view, 6> kStopNames = {"eos",         "max_tokens", "tool_call",
                                                        "interrupted", "error",      "context_full"};
constexpr std::array<std::string_view, 3> kToolStatusNames = {"ok", "error", "timeout"};
constexpr std::array<std::string_view, 3> kModeNames = {"reproducible", "deterministic", "fast"};
constexpr std::array<std::string_view, 4> kDTypeNames = {"f32", "f16", "bf16", "q8_0"};

static_assert(kRoleNames.size() == static_cast<size_t>(schema::Role::MAX) + 1);
static_assert(kStopNames.size() == static_cast<size_t>(schema::StopReason::MAX) + 1);
static_assert(kToolStatusNames.size() == static_cast<size_t>(schema::ToolStatus::MAX) + 1);
static_assert(kModeNames.size() == static_cast<size_t>(schema::Mode::MAX) + 1);
static_assert(kDTypeNames.size() == static_cast<size_t>(schema::DType::MAX) + 1);

template <typename Enum, size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, Enum value) {
  auto index = static_cast<size_t>(value);
  return index < N ? names[index] : std::string_view("unknown");
}

template <typename Enum, size_t N>
std::optional<Enum> parse_name(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view kind_name(schema::RecordBody kind) { return name_of(kKindNames, kind); }
std::string_view role_name(schema::Role role) { return name_of(kRoleNames, role); }
std::string_view stop_reason_name(schema::StopReason reason) { return name_of(kStopNames, reason); }
std::string_view tool_status_name(schema::ToolStatus status) { return name_of(kToolStatusNames, status); }
std::string_view mode_name(schema::Mode mode) { return name_of(kModeNames, mode); }
std::string_view dtype_name(schema::DType dtype) { return name_of(kDTypeNames, dtype); }

std::optional<schema::Role> parse_role(std::string_view name) {
  return parse_name<schema::Role>(kRoleNames, name);
}
std::optional<schema::StopReason> parse_stop_reason(std::string_view name) {
  return parse_name<schema::StopReason>(kStopNames, name);
}
std::optional<schema::ToolStatus> parse_tool_status(std::string_view name) {
  return parse_name<schema::ToolStatus>(kToolStatusNames, name);
}
std::optional<schema::Mode> parse_mode(std::string_view name) {
  return parse_name<schema::Mode>(kModeNames, name);
}
std::optional<schema::DType> parse_dtype(std::string_view name) {
  return parse_name<schema::DType>(kDTypeNames, name);
}

}  // namespace ree::trace
