#pragma once
// The panels of ree-view. Each renders part of a ViewerModel with Dear ImGui
// and turns clicks into the navigation calls of model.h; none computes a
// comparison (that is src/diff's) or holds state of its own beyond UiState.
#include <imgui.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diff/header_fields.h"
#include "model.h"
#include "theme.h"
#include "timeline_data.h"
#include "window.h"

namespace ree::viewer {

struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};

// Where things were drawn in the last frame: written by --layout-out so the
// screenshot tests can look at the right pixels.
struct FrameReport {
  Rect toolbar, header, summary, conversation, inspector, timeline;
  std::vector<Rect> divergence_cells;  // token cells filled with kDivergence
  std::optional<Rect> selected_cell;
  uint64_t first_visible_row = 0;
  uint64_t visible_rows = 0;
};

// What the panels remember between frames.
struct UiState {
  bool measured = false;
  float column_width = 0.0f;   // of the current layout
  float row_height = 0.0f;
  char search_text[256] = {};
  bool focus_search = false;
  std::vector<std::vector<diff::HeaderValue>> header_values;  // per side, computed once
  std::vector<uint32_t> target_rows;                           // display rows holding a target, sorted
  std::vector<std::vector<TimelineColumn>> timeline;           // per side, for timeline_width
  float timeline_width = 0.0f;
};

struct Ui {
  ViewerModel& model;
  const Fonts& fonts;
  UiState& state;
  FrameReport& report;
};

// One frame of the whole window.
void draw_frame(Ui& ui);

void draw_toolbar(Ui& ui);
void draw_header_panel(Ui& ui);
void draw_summary_panel(Ui& ui);
void draw_conversation_panel(Ui& ui);
void draw_inspector_panel(Ui& ui);
void draw_timeline_panel(Ui& ui);
void handle_keys(Ui& ui);

// Small drawing helpers shared by the panels.
ImU32 colour(const Rgb& rgb, uint8_t alpha = 255);
ImVec4 colour4(const Rgb& rgb);
Rect current_window_rect();
// "a" / "b" for a side.
const char* side_name(int side);
// The text a text field shows for a class ("token", "logits drift", ...).
std::string class_label(diff::DiffClass kind);
std::string with_commas(uint64_t n);

}  // namespace ree::viewer
