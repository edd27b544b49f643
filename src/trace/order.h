#pragma once
// The order rules of a session (docs/session-format.md, "Order"), checked the
// same way by the writer (before a record is written) and the reader (for
// every record read): turns are opened and closed in sequence, steps belong
// to the open turn and count up, tool results answer earlier calls, the End
// record's counts match what came before it.
#include <array>
#include <optional>
#include <cstdint>
#include <string>
#include <vector>

#include "trace/schema.h"

namespace ree::trace {

// What the header fixes for every record.
struct OrderLimits {
  uint16_t topk_width = 0;
  bool probes = false;
  uint16_t format_minor = kFormatMinor;
};

class OrderTracker {
 public:
  explicit OrderTracker(const OrderLimits& limits) : limits_(limits) {}

  // Empty when `record` may come next (and the state advances); otherwise one
  // line saying what is wrong, and the state is unchanged. Records of kinds
  // this ree does not know are accepted unread. Known kinds of a newer
  // per-record version are accepted without reading their fields, but still
  // open and close turns and count steps and tool calls, so that the records
  // around them are checked as usual.
  std::string accept(const schema::BoundRecord& record);

  bool turn_open() const { return turn_open_; }
  bool ended() const { return ended_; }
  uint32_t turns_started() const { return turns_started_; }
  uint32_t steps_in_turn() const { return steps_in_turn_; }
  uint32_t tool_calls() const { return static_cast<uint32_t>(tool_call_names_.size()); }
  // counts()[k]: records of RecordBody kind k accepted so far.
  const std::array<uint64_t, 256>& counts() const { return counts_; }
  uint64_t unknown_records() const { return unknown_records_; }

 private:
  std::string check_turn_start(const schema::TurnStart& record) const;
  std::string check_step(const schema::Step& record) const;
  std::string check_turn_end(const schema::TurnEnd& record) const;
  std::string check_tool_call(const schema::ToolCall& record) const;
  std::string check_tool_result(const schema::ToolResult& record) const;
  std::string check_checkpoint(const schema::Checkpoint& record) const;
  std::string check_end(const schema::End& record) const;
  void advance(const schema::BoundRecord& record);
  void advance_unread(schema::RecordBody kind);

  OrderLimits limits_;
  bool turn_open_ = false;
  bool ended_ = false;
  uint32_t turns_started_ = 0;
  uint32_t steps_in_turn_ = 0;
  int64_t last_position_ = -1;                  // of the open turn's last step
  std::vector<std::optional<std::string>> tool_call_names_;  // by call index; nullopt: unread
  std::vector<bool> tool_call_answered_;                     // by call index
  std::array<uint64_t, 256> counts_{};
  uint64_t unknown_records_ = 0;
};

}  // namespace ree::trace
