#pragma once
// The conversation of one session as a list of items in file order: turn
// headers, prompts, runs of generated tokens, turn ends, tool calls and
// results, checkpoints, the end of the session (or where the file stops).
// Independent of the window size; layout.h wraps it into rows.
#include <cstdint>
#include <string>
#include <vector>

#include "loaded_session.h"

namespace ree::viewer {

enum class ItemKind : uint8_t {
  TurnHeader,  // "turn 2 · user"
  Prompt,      // the message as given
  Tokens,      // a run of consecutive steps
  TurnEnd,     // stop reason
  ToolCall,
  ToolResult,
  Checkpoint,
  SessionEnd,  // the End record
  Notice,      // where the readable part of a file stops, and why
};

// Where an item goes when two sessions are laid out side by side: items of
// the same block and section are aligned with each other.
enum class Section : uint8_t { Opening = 0, Tokens = 1, Closing = 2 };

// The block of what comes after the last turn (end of session, where the
// file stops), so that both sessions' endings line up at the bottom.
constexpr uint32_t kFinalBlock = UINT32_MAX;

struct Item {
  ItemKind kind = ItemKind::Notice;
  uint32_t block = 0;     // 0: before the first turn; t + 1: turn t; kFinalBlock
  Section section = Section::Opening;
  size_t record = SIZE_MAX;  // its record (the first step's, for Tokens)
  std::string text;          // text items: what is drawn, may hold newlines
  uint64_t first_step = 0;   // Tokens: global step range
  uint64_t step_count = 0;
};

struct Document {
  std::vector<Item> items;
  // The item holding each record (index = record), for jumping to a record.
  std::vector<uint32_t> item_of_record;
};

Document build_document(const LoadedSession& session);

}  // namespace ree::viewer
