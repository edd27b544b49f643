#include "search.h"

#include <algorithm>

namespace ree::viewer {
namespace {

char fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

void append_folded(std::string& out, std::string_view text) {
  for (char c : text) out.push_back(fold(c));
}

}  // namespace

SearchIndex build_search_index(const Document& doc, const LoadedSession& session) {
  SearchIndex index;
  index.item_offset.reserve(doc.items.size());
  index.step_offset.assign(session.step_count(), 0);
  for (const Item& item : doc.items) {
    index.item_offset.push_back(index.folded.size());
    if (item.kind == ItemKind::Tokens) {
      for (uint64_t s = item.first_step; s < item.first_step + item.step_count; ++s) {
        index.step_offset[s] = index.folded.size();
        if (const schema::Step* step = session.step(s)) append_folded(index.folded, session.reader->step_text(*step));
      }
    } else {
      append_folded(index.folded, item.text);
    }
    index.folded.push_back('\n');
  }
  return index;
}

std::vector<SearchHit> search(const SearchIndex& index, const Document& doc, std::string_view query, size_t max_hits) {
  std::vector<SearchHit> hits;
  if (query.empty()) return hits;
  std::string needle;
  append_folded(needle, query);
  for (size_t at = index.folded.find(needle); at != std::string::npos && hits.size() < max_hits;
       at = index.folded.find(needle, at + 1)) {
    SearchHit hit;
    hit.offset = at;
    const auto item_it = std::upper_bound(index.item_offset.begin(), index.item_offset.end(), at);
    hit.item = static_cast<uint32_t>(item_it - index.item_offset.begin() - 1);
    const Item& item = doc.items[hit.item];
    if (item.kind == ItemKind::Tokens && item.step_count > 0) {
      const auto first = index.step_offset.begin() + static_cast<ptrdiff_t>(item.first_step);
      const auto last = first + static_cast<ptrdiff_t>(item.step_count);
      const auto step_it = std::upper_bound(first, last, at);
      if (step_it != first) hit.step = static_cast<uint64_t>(step_it - index.step_offset.begin() - 1);
    }
    hits.push_back(hit);
  }
  return hits;
}

}  // namespace ree::viewer
