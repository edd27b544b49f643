// The conversation: turns, prompts, tool calls and results, checkpoints, and
// the generated text as token cells coloured by margin; with two sessions,
// side by side with differences marked (panels.h). Only the visible rows
// are drawn (ImGuiListClipper), so a million steps scroll like ten.
#include <algorithm>
#include <cstdio>

#include "panels.h"

namespace ree::viewer {
namespace {

constexpr float kGutter = 14.0f;      // left strip for row markers
constexpr float kColumnGap = 18.0f;   // between the two sessions
constexpr float kTokenPadding = 3.0f; // inside a token cell, each side

TextMeasure imgui_measure() {
  return TextMeasure{[](std::string_view text) {
    return ImGui::CalcTextSize(text.data(), text.data() + text.size()).x;
  }};
}

struct RowStyle {
  Rgb text;
  bool band = false;  // a background band (turn headers)
};

RowStyle style_of(const Item& item) {
  switch (item.kind) {
    case ItemKind::TurnHeader: return {{215, 222, 255}, true};
    case ItemKind::Prompt: return {{205, 205, 210}};
    case ItemKind::TurnEnd: return {{135, 140, 150}};
    case ItemKind::ToolCall: return {{130, 225, 140}};
    case ItemKind::ToolResult: return {{175, 215, 175}};
    case ItemKind::Checkpoint: return {{230, 225, 130}};
    case ItemKind::SessionEnd: return {{135, 140, 150}};
    case ItemKind::Notice: return {item.text.rfind("INVALID", 0) == 0 || item.text.rfind("cannot", 0) == 0 ? kInvalid : kTruncated};
    case ItemKind::Tokens: break;
  }
  return {{200, 200, 200}};
}

void ensure_layout(Ui& ui, float column_width) {
  ViewerModel& m = ui.model;
  const TextMeasure measure = imgui_measure();
  if (!ui.state.measured) {
    measure_model(m, measure, kTokenPadding);
    ui.state.measured = true;
    ui.state.column_width = 0.0f;
  }
  if (std::abs(column_width - ui.state.column_width) < 1.0f) return;
  ui.state.column_width = column_width;
  layout_model(m, column_width, measure);
  ui.state.target_rows.clear();
  for (const Target& t : m.targets) ui.state.target_rows.push_back(t.display_row);
  std::sort(ui.state.target_rows.begin(), ui.state.target_rows.end());
  m.scroll_to_selection = true;
}

bool row_has_target(const UiState& state, uint32_t row) {
  return std::binary_search(state.target_rows.begin(), state.target_rows.end(), row);
}

bool is_search_hit_step(const ViewerModel& m, int side, uint64_t step) {
  if (m.search_hits.empty() || m.search_side != side) return false;
  const SearchHit& hit = m.search_hits[m.search_current];
  return hit.step && *hit.step == step;
}

void token_tooltip(const ViewerModel& m, int side, uint64_t step) {
  const LoadedSession& s = m.sides[side].session;
  const schema::Step* rec = s.step(step);
  if (!rec) return;
  const StepLocation loc = s.locate(step);
  ImGui::BeginTooltip();
  ImGui::Text("%s: step %s (turn %u, #%u)", side_name(side), with_commas(step).c_str(), loc.turn, loc.index);
  ImGui::Text("token %d  %s", rec->token(), display_text(s.reader->step_text(*rec), rec->token()).c_str());
  ImGui::Text("margin %.4g   entropy %.3f", rec->margin(), s.entropy[step]);
  ImGui::Text("logits hash %016llx", static_cast<unsigned long long>(rec->logits_hash()));
  ImGui::EndTooltip();
}

// One row of token cells.
void draw_token_row(Ui& ui, int side, const Row& row, ImVec2 origin, float row_height) {
  ViewerModel& m = ui.model;
  const LoadedSession& session = m.sides[side].session;
  const TokenCells& cells = m.sides[side].cells;
  ImDrawList* draw = ImGui::GetWindowDrawList();
  float x = origin.x;
  for (uint64_t s = row.begin; s < row.end; ++s) {
    const float w = cells.width[s];
    const ImVec2 lo(x, origin.y + 1.0f);
    const ImVec2 hi(x + w - 1.0f, origin.y + row_height - 1.0f);  // 1 px gap: the token boundary
    const StepStatus status = step_status(m, side, s);
    Rgb fill = margin_colour(session.margin[s]);
    Rgb text = {235, 235, 240};
    uint8_t fill_alpha = 255;
    if (status == StepStatus::Diverged) {
      fill = kDivergence;
      text = {20, 10, 20};
      ui.report.divergence_cells.push_back({lo.x, lo.y, hi.x - lo.x, hi.y - lo.y});
    } else if (status == StepStatus::AfterDivergence || status == StepStatus::Unpaired) {
      fill_alpha = 110;  // not comparable: faded
      text = {170, 170, 175};
    }
    draw->AddRectFilled(lo, hi, colour(fill, fill_alpha));
    if (status == StepStatus::Drift) draw->AddRect(lo, hi, colour(kDrift), 0.0f, 0, 2.0f);
    if (status == StepStatus::TopKChanged) draw->AddRect(lo, hi, colour(kTopKChanged), 0.0f, 0, 2.0f);
    if (is_search_hit_step(m, side, s)) draw->AddRectFilled(ImVec2(lo.x, hi.y - 3), hi, colour(kSearchHit));
    const schema::Step* rec = session.step(s);
    const std::string shown = rec ? display_text(session.reader->step_text(*rec), rec->token()) : "<?>";
    draw->AddText(ImVec2(x + kTokenPadding, origin.y + 3.0f), colour(text), shown.c_str());
    const bool selected = m.selection.side == side && m.selection.step == s && !m.selection.focus_row;
    if (selected) {
      draw->AddRect(ImVec2(lo.x - 1, lo.y - 1), ImVec2(hi.x + 1, hi.y + 1), colour(kSelection), 0.0f, 0, 2.0f);
      ui.report.selected_cell = Rect{lo.x, lo.y, hi.x - lo.x, hi.y - lo.y};
    }
    if (ImGui::IsMouseHoveringRect(lo, hi) && ImGui::IsWindowHovered()) {
      token_tooltip(m, side, s);
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) select_step(m, side, s), m.scroll_to_selection = false;
    }
    x += w;
  }
}

void draw_text_row(int side, const ViewerModel& m, const Row& row, ImVec2 origin, float width, float row_height) {
  const Item& item = m.sides[side].document.items[row.item];
  const RowStyle style = style_of(item);
  ImDrawList* draw = ImGui::GetWindowDrawList();
  if (style.band)
    draw->AddRectFilled(ImVec2(origin.x - 2, origin.y), ImVec2(origin.x + width, origin.y + row_height),
                        IM_COL32(44, 50, 68, 255));
  const char* begin = item.text.data() + row.begin;
  const char* end = item.text.data() + row.end;
  draw->AddText(ImVec2(origin.x, origin.y + 3.0f), colour(style.text), begin, end);
}

void draw_display_row(Ui& ui, uint32_t r, ImVec2 origin, float column_width, float row_height) {
  ViewerModel& m = ui.model;
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const float full_width = kGutter + column_width * m.sides.size() + (m.two() ? kColumnGap : 0.0f);
  if (row_has_target(ui.state, r)) {
    draw->AddRectFilled(ImVec2(origin.x + kGutter, origin.y), ImVec2(origin.x + full_width, origin.y + row_height),
                        colour(kDiffRow, 160));
    draw->AddRectFilled(ImVec2(origin.x + 2, origin.y + 1), ImVec2(origin.x + kGutter - 4, origin.y + row_height - 1),
                        colour(kDivergence));
  }
  if (m.selection.focus_row == r)
    draw->AddRect(ImVec2(origin.x + kGutter - 2, origin.y), ImVec2(origin.x + full_width, origin.y + row_height),
                  colour(kSelection), 0.0f, 0, 1.5f);
  for (size_t side = 0; side < m.sides.size(); ++side) {
    const int32_t row_index = side == 0 ? m.rows.a[r] : m.rows.b[r];
    if (row_index < 0) continue;
    const Row& row = m.sides[side].layout.rows[static_cast<size_t>(row_index)];
    const ImVec2 at(origin.x + kGutter + side * (column_width + kColumnGap), origin.y);
    if (row.tokens)
      draw_token_row(ui, static_cast<int>(side), row, at, row_height);
    else
      draw_text_row(static_cast<int>(side), m, row, at, column_width, row_height);
  }
}

void draw_column_titles(const ViewerModel& m, float column_width) {
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  for (size_t side = 0; side < m.sides.size(); ++side) {
    ImGui::SetCursorScreenPos(ImVec2(origin.x + kGutter + side * (column_width + kColumnGap), origin.y));
    const LoadedSession& s = m.sides[side].session;
    ImGui::TextColored(ImVec4(0.6f, 0.65f, 0.8f, 1.0f), "%s: %s  (%s steps, %zu turns)", side_name(static_cast<int>(side)),
                       s.path.filename().string().c_str(), with_commas(s.step_count()).c_str(),
                       s.usable() ? s.reader->turns().size() : size_t{0});
  }
  ImGui::SetCursorScreenPos(ImVec2(origin.x, origin.y + ImGui::GetTextLineHeightWithSpacing()));
}

}  // namespace

void draw_conversation_panel(Ui& ui) {
  ViewerModel& m = ui.model;
  if (m.sides.empty()) return;
  ImGui::PushFont(ui.fonts.ui);
  const float scrollbar = ImGui::GetStyle().ScrollbarSize;
  const float avail = ImGui::GetContentRegionAvail().x - kGutter - scrollbar - 4.0f - (m.two() ? kColumnGap : 0.0f);
  const float column_width = std::max(80.0f, std::floor(avail / static_cast<float>(m.sides.size())));
  draw_column_titles(m, column_width);
  ensure_layout(ui, column_width);
  const float row_height = std::floor(ImGui::GetTextLineHeight() + 7.0f);
  ui.state.row_height = row_height;

  ImGui::BeginChild("rows", ImVec2(0, 0), false, ImGuiWindowFlags_AlwaysVerticalScrollbar);
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(0, 0));  // rows touch: the clipper's height is exact
  if (m.scroll_to_selection) {
    if (const auto row = selected_display_row(m)) {
      const float y = *row * row_height;
      const float view = ImGui::GetWindowHeight();
      if (y < ImGui::GetScrollY() || y + row_height > ImGui::GetScrollY() + view) ImGui::SetScrollY(std::max(0.0f, y - view * 0.35f));
    }
    m.scroll_to_selection = false;
  }
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(m.rows.size()), row_height);
  while (clipper.Step()) {
    if (clipper.DisplayStart < clipper.DisplayEnd && ui.report.visible_rows == 0)
      ui.report.first_visible_row = static_cast<uint64_t>(clipper.DisplayStart);
    for (int r = clipper.DisplayStart; r < clipper.DisplayEnd; ++r) {
      const ImVec2 origin = ImGui::GetCursorScreenPos();
      draw_display_row(ui, static_cast<uint32_t>(r), origin, column_width, row_height);
      ImGui::Dummy(ImVec2(kGutter + column_width * m.sides.size(), row_height));
      ++ui.report.visible_rows;
    }
  }
  ImGui::PopStyleVar();
  ImGui::EndChild();
  ImGui::PopFont();
}

}  // namespace ree::viewer
