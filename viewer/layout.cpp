// Row layout and side-by-side alignment (layout.h).
#include "layout.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <unordered_map>

namespace ree::viewer {
namespace {

// Bytes of the UTF-8 character starting at text[i] (1 for invalid bytes).
size_t char_length(std::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  return std::min(n, text.size() - i);
}

// Per-character advances, with the ASCII ones cached.
class Advances {
 public:
  explicit Advances(const TextMeasure& measure) : measure_(measure) { ascii_.fill(-1.0f); }
  float of(std::string_view ch) {
    const auto c = static_cast<unsigned char>(ch[0]);
    if (ch.size() == 1 && c < 128) {
      if (ascii_[c] < 0.0f) ascii_[c] = measure_.width(ch);
      return ascii_[c];
    }
    return measure_.width(ch);
  }

 private:
  const TextMeasure& measure_;
  std::array<float, 128> ascii_{};
};

// Greedy word wrap of one line (no newline inside) starting at byte `from`
// of `text`; appends byte ranges of rows.
void wrap_line(std::string_view text, size_t from, size_t to, float width, Advances& advances, uint32_t item,
               std::vector<Row>& rows) {
  if (from == to) {
    rows.push_back({item, false, from, to});
    return;
  }
  size_t row_start = from;
  while (row_start < to) {
    float used = 0.0f;
    size_t i = row_start;
    size_t last_space = SIZE_MAX;
    while (i < to) {
      const size_t n = char_length(text, i);
      const float w = advances.of(text.substr(i, n));
      if (used + w > width && i > row_start) break;
      if (text[i] == ' ') last_space = i;
      used += w;
      i += n;
    }
    size_t row_end = i;
    // Break after the last space when a word would be cut.
    if (i < to && last_space != SIZE_MAX && last_space > row_start) row_end = last_space + 1;
    rows.push_back({item, false, row_start, row_end});
    row_start = row_end;
  }
}

void layout_text(const Item& item, uint32_t index, float width, Advances& advances, std::vector<Row>& rows) {
  const std::string_view text = item.text;
  size_t line_start = 0;
  while (true) {
    const size_t newline = text.find('\n', line_start);
    const size_t line_end = newline == std::string_view::npos ? text.size() : newline;
    wrap_line(text, line_start, line_end, width, advances, index, rows);
    if (newline == std::string_view::npos) break;
    line_start = newline + 1;
  }
}

void layout_tokens(const Item& item, uint32_t index, const TokenCells& cells, float width, Layout& layout) {
  uint64_t row_start = item.first_step;
  float used = 0.0f;
  const uint64_t end = item.first_step + item.step_count;
  for (uint64_t s = item.first_step; s < end; ++s) {
    const float w = cells.width[s];
    if (used + w > width && s > row_start) {
      layout.rows.push_back({index, true, row_start, s});
      row_start = s;
      used = 0.0f;
    }
    used += w;
    layout.row_of_step[s] = static_cast<uint32_t>(layout.rows.size());
    if (cells.line_break[s]) {
      layout.rows.push_back({index, true, row_start, s + 1});
      row_start = s + 1;
      used = 0.0f;
    }
  }
  if (row_start < end || item.step_count == 0) layout.rows.push_back({index, true, row_start, end});
}

// Items are aligned by (block, section).
uint64_t align_key(const Document& doc, const Layout& layout, size_t row) {
  const Item& item = doc.items[layout.rows[row].item];
  return (uint64_t{item.block} << 8) | static_cast<uint64_t>(item.section);
}

}  // namespace

std::string display_text(std::string_view piece, int32_t token) {
  if (piece.empty()) return std::string("<").append(std::to_string(token)).append(">");
  std::string out;
  out.reserve(piece.size());
  for (unsigned char c : piece) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

TokenCells measure_tokens(const LoadedSession& session, const TextMeasure& measure, float padding) {
  TokenCells cells;
  const uint64_t n = session.step_count();
  cells.width.resize(n);
  cells.line_break.resize(n);
  // Token ids repeat a lot: measure each distinct (id, text) once, keeping
  // the text first seen for an id (a view into the mapped file) to check
  // that a later step's text is the same before reusing its width.
  std::vector<float> width_of_id;
  std::vector<std::string_view> text_of_id;
  const bool has_pieces = session.reader->report().format_minor >= trace::kMinorWithPiece;
  for (uint64_t i = 0; i < n; ++i) {
    const schema::Step* s = session.step(i);
    const int32_t token = s ? s->token() : -1;
    const std::string_view piece = s && has_pieces && s->piece() ? std::string_view(s->piece()->c_str(), s->piece()->size())
                                                                 : std::string_view();
    cells.line_break[i] = piece.find('\n') != std::string_view::npos;
    if (token < 0 || token >= kMaxIndexedId) {
      cells.width[i] = measure.width(display_text(piece, token)) + 2 * padding;
      continue;
    }
    const auto id = static_cast<size_t>(token);
    if (id >= width_of_id.size()) {
      width_of_id.resize(id + 1, -1.0f);
      text_of_id.resize(id + 1);
    }
    if (width_of_id[id] < 0.0f) {
      width_of_id[id] = measure.width(display_text(piece, token)) + 2 * padding;
      text_of_id[id] = piece;
    }
    cells.width[i] = text_of_id[id] == piece ? width_of_id[id] : measure.width(display_text(piece, token)) + 2 * padding;
  }
  return cells;
}

Layout layout_document(const Document& doc, const TokenCells& cells, float width, const TextMeasure& measure) {
  Layout layout;
  layout.width = width;
  layout.row_of_step.assign(cells.width.size(), 0);
  layout.first_row_of_item.resize(doc.items.size());
  Advances advances(measure);
  for (size_t i = 0; i < doc.items.size(); ++i) {
    const Item& item = doc.items[i];
    layout.first_row_of_item[i] = static_cast<uint32_t>(layout.rows.size());
    if (item.kind == ItemKind::Tokens)
      layout_tokens(item, static_cast<uint32_t>(i), cells, width, layout);
    else
      layout_text(item, static_cast<uint32_t>(i), width, advances, layout.rows);
  }
  return layout;
}

AlignedRows align_rows(const Document& doc_a, const Layout& a, const Document* doc_b, const Layout* b) {
  AlignedRows out;
  out.display_of_a.resize(a.rows.size());
  if (!b) {
    for (size_t i = 0; i < a.rows.size(); ++i) {
      out.a.push_back(static_cast<int32_t>(i));
      out.b.push_back(-1);
      out.display_of_a[i] = static_cast<uint32_t>(i);
    }
    return out;
  }
  out.display_of_b.resize(b->rows.size());
  size_t i = 0, j = 0;
  auto group_end = [](const Document& doc, const Layout& layout, size_t from) {
    const uint64_t key = align_key(doc, layout, from);
    size_t to = from + 1;
    while (to < layout.rows.size() && align_key(doc, layout, to) == key) ++to;
    return to;
  };
  while (i < a.rows.size() || j < b->rows.size()) {
    const bool has_a = i < a.rows.size();
    const bool has_b = j < b->rows.size();
    const uint64_t key_a = has_a ? align_key(doc_a, a, i) : UINT64_MAX;
    const uint64_t key_b = has_b ? align_key(*doc_b, *b, j) : UINT64_MAX;
    const size_t end_a = has_a && key_a <= key_b ? group_end(doc_a, a, i) : i;
    const size_t end_b = has_b && key_b <= key_a ? group_end(*doc_b, *b, j) : j;
    const size_t rows = std::max(end_a - i, end_b - j);
    for (size_t k = 0; k < rows; ++k) {
      const size_t display = out.a.size();
      if (i + k < end_a) out.display_of_a[i + k] = static_cast<uint32_t>(display);
      if (j + k < end_b) out.display_of_b[j + k] = static_cast<uint32_t>(display);
      out.a.push_back(i + k < end_a ? static_cast<int32_t>(i + k) : -1);
      out.b.push_back(j + k < end_b ? static_cast<int32_t>(j + k) : -1);
    }
    i = end_a;
    j = end_b;
  }
  return out;
}

}  // namespace ree::viewer
