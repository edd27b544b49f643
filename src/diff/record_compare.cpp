// One-line descriptions of how two records of the same kind differ.
#include "diff/record_compare.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "diff/text.h"

namespace ree::diff {
namespace {

std::string_view view(const flatbuffers::String* s) {
  return s ? std::string_view(s->c_str(), s->size()) : std::string_view();
}

// Appends "; " between the parts of one line.
void add(std::string& line, const std::string& part) {
  if (!line.empty()) line += "; ";
  line += part;
}

void compare_text(std::string& line, std::string_view field, std::string_view a, std::string_view b) {
  if (a == b) return;
  const size_t at = first_difference(a, b);
  add(line, std::string(field) + " differs at byte " + std::to_string(at) + ": " + excerpt(a, at) +
                " vs " + excerpt(b, at));
}

template <typename T>
void compare_value(std::string& line, std::string_view field, T a, T b) {
  if (a != b) add(line, std::string(field) + " " + std::to_string(a) + " vs " + std::to_string(b));
}

void compare_tokens(std::string& line, const flatbuffers::Vector<int32_t>* a,
                    const flatbuffers::Vector<int32_t>* b) {
  const uint32_t na = a ? a->size() : 0;
  const uint32_t nb = b ? b->size() : 0;
  const uint32_t n = std::min(na, nb);
  uint32_t at = 0;
  while (at < n && a->Get(at) == b->Get(at)) ++at;
  if (at == n && na == nb) return;
  std::string part = "rendered prompt tokens differ at index " + std::to_string(at) + " of " +
                     std::to_string(na) + "/" + std::to_string(nb);
  if (at < n) part += " (id " + std::to_string(a->Get(at)) + " vs " + std::to_string(b->Get(at)) + ")";
  add(line, part);
}

}  // namespace

std::string compare_turn_start(const schema::TurnStart& a, const schema::TurnStart& b) {
  std::string line;
  if (a.role() != b.role())
    add(line, "role " + std::string(trace::role_name(a.role())) + " vs " + std::string(trace::role_name(b.role())));
  compare_text(line, "content", view(a.content()), view(b.content()));
  const bool content_same = view(a.content()) == view(b.content()) && a.role() == b.role();
  const size_t before = line.size();
  compare_tokens(line, a.prompt_tokens(), b.prompt_tokens());
  // Same message, different tokens: the template or the tokenizer rendered it differently.
  if (content_same && line.size() != before) line += " (same message: template or tokenizer)";
  return line;
}

std::string compare_turn_end(const schema::TurnEnd& a, const schema::TurnEnd& b, bool text) {
  std::string line;
  if (a.stop_reason() != b.stop_reason())
    add(line, "stop reason " + std::string(trace::stop_reason_name(a.stop_reason())) + " vs " +
                  std::string(trace::stop_reason_name(b.stop_reason())));
  if (text) compare_text(line, "text", view(a.text()), view(b.text()));
  return line;
}

bool stop_reason_differs(const schema::TurnEnd& a, const schema::TurnEnd& b) {
  return a.stop_reason() != b.stop_reason();
}

std::string compare_tool_call(const schema::ToolCall& a, const schema::ToolCall& b) {
  std::string line;
  compare_text(line, "name", view(a.name()), view(b.name()));
  compare_text(line, "arguments", view(a.arguments()), view(b.arguments()));
  if (a.well_formed() != b.well_formed())
    add(line, std::string("well formed ") + (a.well_formed() ? "yes" : "no") + " vs " + (b.well_formed() ? "yes" : "no"));
  compare_text(line, "parse error", view(a.parse_error()), view(b.parse_error()));
  compare_text(line, "raw text", view(a.raw_text()), view(b.raw_text()));
  return line;
}

std::string compare_tool_result(const schema::ToolResult& a, const schema::ToolResult& b) {
  std::string line;
  compare_value(line, "call index", a.call_index(), b.call_index());
  compare_text(line, "name", view(a.name()), view(b.name()));
  if (a.status() != b.status())
    add(line, "status " + std::string(trace::tool_status_name(a.status())) + " vs " +
                  std::string(trace::tool_status_name(b.status())));
  compare_value(line, "exit code", a.exit_code(), b.exit_code());
  compare_text(line, "output", view(a.output()), view(b.output()));
  return line;
}

std::string compare_checkpoint(const schema::Checkpoint& a, const schema::Checkpoint& b) {
  std::string line;
  compare_text(line, "label", view(a.label()), view(b.label()));
  if (a.kv_hash() != b.kv_hash()) add(line, "kv hash " + hex64(a.kv_hash()) + " vs " + hex64(b.kv_hash()));
  compare_value(line, "position", a.position(), b.position());
  compare_text(line, "data", view(a.data()), view(b.data()));
  return line;
}

}  // namespace ree::diff
