#pragma once
// Text search over a session's conversation: prompts, generated text (across
// token boundaries), tool calls and results, checkpoints. ASCII letters match
// regardless of case.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "document.h"

namespace ree::viewer {

struct SearchIndex {
  std::string folded;                 // every item's text, ASCII lower-cased, items separated by '\n'
  std::vector<uint64_t> item_offset;  // per item: where its text starts in `folded`
  std::vector<uint64_t> step_offset;  // per global step: where its piece starts
};

SearchIndex build_search_index(const Document& doc, const LoadedSession& session);

struct SearchHit {
  uint32_t item = 0;
  std::optional<uint64_t> step;  // the step whose text the match starts in (Tokens items)
  uint64_t offset = 0;           // where the match starts in SearchIndex::folded
};

// Every match of `query` in order, at most `max_hits`; none for an empty query.
std::vector<SearchHit> search(const SearchIndex& index, const Document& doc, std::string_view query,
                              size_t max_hits = 10000);

}  // namespace ree::viewer
