// Turning records into conversation items (document.h).
#include "document.h"

#include <string_view>

#include "diff/text.h"

namespace ree::viewer {
namespace {

std::string_view view(const flatbuffers::String* s) {
  return s ? std::string_view(s->c_str(), s->size()) : std::string_view();
}

std::string hex(uint64_t v) { return diff::hex64(v); }

void add_text(Document& doc, ItemKind kind, uint32_t block, Section section, size_t record, std::string text) {
  Item item;
  item.kind = kind;
  item.block = block;
  item.section = section;
  item.record = record;
  item.text = std::move(text);
  doc.items.push_back(std::move(item));
}

std::string tool_call_text(const schema::ToolCall& c) {
  std::string text = "tool call #" + std::to_string(c.index()) + "  " + std::string(view(c.name()));
  if (c.well_formed()) return text + " " + std::string(view(c.arguments()));
  return text + " (malformed: " + std::string(view(c.parse_error())) + ")\n" + std::string(view(c.raw_text()));
}

std::string tool_result_text(const schema::ToolResult& r) {
  return "tool result #" + std::to_string(r.call_index()) + "  " + std::string(view(r.name())) + " [" +
         std::string(trace::tool_status_name(r.status())) + ", exit " + std::to_string(r.exit_code()) + "]\n" +
         std::string(view(r.output()));
}

std::string checkpoint_text(const schema::Checkpoint& c) {
  std::string text = "checkpoint \"" + std::string(view(c.label())) + "\"  kv " + hex(c.kv_hash()) + "  position " +
                     std::to_string(c.position());
  if (c.data() && c.data()->size() > 0 && view(c.data()) != "{}") {
    text += '\n';
    text += view(c.data());
  }
  return text;
}

}  // namespace

Document build_document(const LoadedSession& session) {
  Document doc;
  if (!session.usable()) {
    add_text(doc, ItemKind::Notice, 0, Section::Opening, SIZE_MAX, session.problem);
    return doc;
  }
  const trace::SessionReader& r = *session.reader;
  doc.item_of_record.assign(r.size(), 0);
  uint32_t block = 0;
  uint64_t global_step = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const trace::RecordView record = r.record(i);
    if (record.kind() == schema::RecordBody::Step) {
      // Consecutive steps share one Tokens item.
      if (doc.items.empty() || doc.items.back().kind != ItemKind::Tokens ||
          doc.items.back().first_step + doc.items.back().step_count != global_step) {
        Item item;
        item.kind = ItemKind::Tokens;
        item.block = block;
        item.section = Section::Tokens;
        item.record = i;
        item.first_step = global_step;
        doc.items.push_back(std::move(item));
      }
      ++doc.items.back().step_count;
      ++global_step;
    } else if (const auto* start = record.turn_start()) {
      block = start->turn() + 1;
      const size_t prompt_tokens = start->prompt_tokens() ? start->prompt_tokens()->size() : 0;
      add_text(doc, ItemKind::TurnHeader, block, Section::Opening, i,
               "turn " + std::to_string(start->turn()) + " - " + std::string(trace::role_name(start->role())) + "  (" +
                   std::to_string(prompt_tokens) + " prompt tokens)");
      add_text(doc, ItemKind::Prompt, block, Section::Opening, i, std::string(view(start->content())));
    } else if (const auto* end = record.turn_end()) {
      add_text(doc, ItemKind::TurnEnd, block, Section::Closing, i,
               "stop: " + std::string(trace::stop_reason_name(end->stop_reason())) + "  (" +
                   std::to_string(end->steps()) + " steps)");
    } else if (const auto* call = record.tool_call()) {
      add_text(doc, ItemKind::ToolCall, block, Section::Closing, i, tool_call_text(*call));
    } else if (const auto* result = record.tool_result()) {
      add_text(doc, ItemKind::ToolResult, block, Section::Closing, i, tool_result_text(*result));
    } else if (const auto* checkpoint = record.checkpoint()) {
      add_text(doc, ItemKind::Checkpoint, block, Section::Closing, i, checkpoint_text(*checkpoint));
    } else if (record.kind() == schema::RecordBody::End) {
      add_text(doc, ItemKind::SessionEnd, kFinalBlock, Section::Opening, i, "end of session");
    } else {
      add_text(doc, ItemKind::Notice, block, Section::Closing, i,
               "record of kind " + std::to_string(static_cast<int>(record.kind())) + " (not interpreted by this ree)");
    }
    doc.item_of_record[i] = static_cast<uint32_t>(doc.items.size() - 1);
  }
  if (!session.problem.empty()) add_text(doc, ItemKind::Notice, kFinalBlock, Section::Closing, SIZE_MAX, session.problem);
  return doc;
}

}  // namespace ree::viewer
