// The timeline: over all steps, the smallest top1-top2 margin per pixel
// column (log scale: dips are fragile steps) and the top-k entropy, with
// markers for turns, tool calls, checkpoints, differences and the selection.
// Click or drag to select a step (panels.h).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "panels.h"

namespace ree::viewer {
namespace {

constexpr float kLeftAxis = 46.0f;
constexpr float kMarginFloor = 0.01f;   // bottom of the log scale
constexpr float kMarginCeiling = 30.0f; // top of the log scale

float margin_y(float margin, float top, float height) {
  const float m = std::clamp(std::isnan(margin) ? kMarginFloor : margin, kMarginFloor, kMarginCeiling);
  const float t = std::log(m / kMarginFloor) / std::log(kMarginCeiling / kMarginFloor);
  return top + height * (1.0f - t);
}

// Steps at which tool calls and checkpoints were recorded (the number of
// steps before the record).
struct Marks {
  std::vector<uint64_t> turns, tool_calls, checkpoints;
};

Marks marks_of(const SideView& side) {
  Marks marks;
  uint64_t steps = 0;
  for (const Item& item : side.document.items) {
    switch (item.kind) {
      case ItemKind::Tokens: steps = item.first_step + item.step_count; break;
      case ItemKind::TurnHeader: marks.turns.push_back(steps); break;
      case ItemKind::ToolCall: marks.tool_calls.push_back(steps); break;
      case ItemKind::Checkpoint: marks.checkpoints.push_back(steps); break;
      default: break;
    }
  }
  return marks;
}

void curve(ImDrawList* draw, const std::vector<TimelineColumn>& columns, float x0, float width, float top, float height,
           bool entropy, float max_entropy, ImU32 col) {
  if (columns.empty()) return;
  std::vector<ImVec2> points;
  points.reserve(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    const float x = x0 + (static_cast<float>(c) + 0.5f) * width / static_cast<float>(columns.size());
    const float y = entropy ? top + height * (1.0f - std::min(1.0f, columns[c].max_entropy / max_entropy))
                            : margin_y(columns[c].min_margin, top, height);
    points.emplace_back(x, y);
  }
  draw->AddPolyline(points.data(), static_cast<int>(points.size()), col, 0, entropy ? 1.0f : 1.5f);
}

void vertical(ImDrawList* draw, float x, float top, float bottom, ImU32 col, float thickness = 1.0f) {
  draw->AddLine(ImVec2(x, top), ImVec2(x, bottom), col, thickness);
}

}  // namespace

void draw_timeline_panel(Ui& ui) {
  ViewerModel& m = ui.model;
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float x0 = origin.x + kLeftAxis;
  const float width = std::max(10.0f, avail.x - kLeftAxis - 8.0f);
  const float top = origin.y + 18.0f;
  const float height = std::max(20.0f, avail.y - 22.0f);
  const uint64_t steps = m.sides.empty() ? 0 : m.sides[0].session.step_count();

  ImGui::TextColored(ImVec4(0.75f, 0.8f, 1.0f, 1.0f), "Timeline");
  ImGui::SameLine();
  ImGui::TextColored(colour4(kMarginCurveA), "margin a (min per column, log scale)");
  if (m.two()) {
    ImGui::SameLine();
    ImGui::TextColored(colour4(kMarginCurveB), "margin b");
  }
  ImGui::SameLine();
  ImGui::TextColored(colour4(kEntropyCurve), "top-k entropy");
  ImGui::SameLine();
  ImGui::TextColored(colour4(kDivergence), "| token divergence");
  ImGui::SameLine();
  ImGui::TextColored(colour4(kDrift), "| logits drift");
  ImGui::SameLine();
  ImGui::TextColored(colour4(kToolMarker), "^ tool call");
  ImGui::SameLine();
  ImGui::TextColored(colour4(kCheckpointMarker), "* checkpoint");

  draw->AddRectFilled(ImVec2(x0, top), ImVec2(x0 + width, top + height), IM_COL32(24, 27, 34, 255));
  // Near-tie band: margins below the threshold.
  const float tie_y = margin_y(diff::kNearTieMargin, top, height);
  draw->AddRectFilled(ImVec2(x0, tie_y), ImVec2(x0 + width, top + height), colour(kFragile, 50));
  for (float label : {0.01f, 0.1f, 1.0f, 10.0f}) {
    const float y = margin_y(label, top, height);
    draw->AddLine(ImVec2(x0, y), ImVec2(x0 + width, y), IM_COL32(60, 64, 74, 255));
    char text[16];
    std::snprintf(text, sizeof text, "%g", label);
    draw->AddText(ImVec2(origin.x, y - 7), IM_COL32(140, 140, 150, 255), text);
  }
  if (steps == 0) {
    draw->AddText(ImVec2(x0 + 10, top + 10), IM_COL32(160, 160, 170, 255), "no steps");
    ImGui::Dummy(avail);
    return;
  }
  if (std::abs(ui.state.timeline_width - width) >= 1.0f || ui.state.timeline.size() != m.sides.size()) {
    ui.state.timeline.clear();
    for (const SideView& side : m.sides)
      ui.state.timeline.push_back(timeline_columns(side.session.margin, side.session.entropy, static_cast<size_t>(width)));
    ui.state.timeline_width = width;
  }
  float max_entropy = 0.1f;
  for (const auto& columns : ui.state.timeline)
    for (const TimelineColumn& c : columns) max_entropy = std::max(max_entropy, c.max_entropy);

  const Marks marks = marks_of(m.sides[0]);
  float last_label_x = -1e9f;
  for (size_t t = 0; t < marks.turns.size(); ++t) {
    const float x = x0 + x_of_step(marks.turns[t], width, steps);
    vertical(draw, x, top, top + height, colour(kTurnMarker));
    // Turn numbers where there is room for them.
    if (x - last_label_x > 28.0f) {
      char label[24];
      std::snprintf(label, sizeof label, "t%zu", t);
      draw->AddText(ImVec2(x + 3, top + 12), IM_COL32(150, 150, 165, 255), label);
      last_label_x = x;
    }
  }
  char range[64];
  std::snprintf(range, sizeof range, "steps 0 - %s of a", with_commas(steps - 1).c_str());
  draw->AddText(ImVec2(x0 + width - ImGui::CalcTextSize(range).x - 4, origin.y), IM_COL32(150, 150, 160, 255), range);
  curve(draw, ui.state.timeline[0], x0, width, top, height, true, max_entropy, colour(kEntropyCurve, 200));
  if (m.two() && ui.state.timeline.size() > 1) {
    const uint64_t steps_b = m.sides[1].session.step_count();
    const float width_b = steps_b == 0 ? 0.0f : width * static_cast<float>(steps_b) / static_cast<float>(steps);
    curve(draw, ui.state.timeline[1], x0, std::min(width_b, width), top, height, false, max_entropy, colour(kMarginCurveB));
  }
  curve(draw, ui.state.timeline[0], x0, width, top, height, false, max_entropy, colour(kMarginCurveA));
  for (uint64_t s : marks.tool_calls) {
    const float x = x0 + x_of_step(s, width, steps);
    draw->AddTriangleFilled(ImVec2(x, top + 1), ImVec2(x - 5, top + 10), ImVec2(x + 5, top + 10), colour(kToolMarker));
  }
  for (uint64_t s : marks.checkpoints) {
    const float x = x0 + x_of_step(s, width, steps);
    draw->AddCircleFilled(ImVec2(x, top + height - 6), 4.0f, colour(kCheckpointMarker));
  }
  for (const Target& t : m.targets) {
    if (!t.step || t.side != 0) continue;
    const float x = x0 + x_of_step(*t.step, width, steps);
    draw->AddLine(ImVec2(x, top), ImVec2(x, top + 8), colour(kDivergence), 2.0f);
  }
  if (auto drift = first_drift_step(m)) vertical(draw, x0 + x_of_step(*drift, width, steps), top, top + height, colour(kDrift), 2.0f);
  if (auto div = first_divergence_step(m)) vertical(draw, x0 + x_of_step(*div, width, steps), top, top + height, colour(kDivergence), 2.0f);
  if (m.selection.step && m.selection.side == 0)
    vertical(draw, x0 + x_of_step(*m.selection.step, width, steps), top, top + height, colour(kSelection), 1.5f);

  ImGui::SetCursorScreenPos(ImVec2(x0, top));
  ImGui::InvisibleButton("timeline", ImVec2(width, height));
  if (ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
    const uint64_t s = step_at(ImGui::GetIO().MousePos.x - x0, width, steps);
    if (!m.selection.step || *m.selection.step != s || m.selection.side != 0) select_step(m, 0, s);
  }
  if (ImGui::IsItemHovered()) {
    const uint64_t s = step_at(ImGui::GetIO().MousePos.x - x0, width, steps);
    ImGui::SetTooltip("step %s  margin %.4g  entropy %.3f", with_commas(s).c_str(), m.sides[0].session.margin[s],
                      m.sides[0].session.entropy[s]);
  }
}

}  // namespace ree::viewer
