#pragma once
// Wrapping a Document into rows of a given pixel width, and lining up the
// rows of two sessions side by side. Pure computation (no ImGui): text
// widths come from a TextMeasure, so the tests measure with a fixed width.
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "document.h"

namespace ree::viewer {

struct TextMeasure {
  std::function<float(std::string_view)> width;  // pixel width of one line of text
};

// How each step is drawn: a cell of `width` pixels; `line_break` when its
// text holds a newline (the row ends after it).
struct TokenCells {
  std::vector<float> width;
  std::vector<uint8_t> line_break;
};

// What a token cell shows: the piece with newlines, tabs and other control
// characters made visible ("\n", "\t", "\x01"), or "<id>" when empty.
std::string display_text(std::string_view piece, int32_t token);

// Measures every step of `session` (cell padding included).
TokenCells measure_tokens(const LoadedSession& session, const TextMeasure& measure, float padding);

struct Row {
  uint32_t item = 0;
  bool tokens = false;
  uint64_t begin = 0;  // tokens: global step range [begin, end); text: byte range in the item's text
  uint64_t end = 0;
};

struct Layout {
  float width = 0.0f;
  std::vector<Row> rows;
  std::vector<uint32_t> row_of_step;         // index = global step
  std::vector<uint32_t> first_row_of_item;   // index = item
};

Layout layout_document(const Document& doc, const TokenCells& cells, float width, const TextMeasure& measure);

// Rows of one or two layouts in display order. With two, rows of the same
// turn and section (opening / tokens / closing) are placed side by side and
// the shorter side is padded with blank rows.
struct AlignedRows {
  std::vector<int32_t> a;             // per display row: row of layout a, -1 for blank
  std::vector<int32_t> b;             // per display row: row of layout b, -1 (all -1 with one session)
  std::vector<uint32_t> display_of_a; // row of a -> display row
  std::vector<uint32_t> display_of_b;
  size_t size() const { return a.size(); }
};

AlignedRows align_rows(const Document& doc_a, const Layout& a, const Document* doc_b, const Layout* b);

}  // namespace ree::viewer
