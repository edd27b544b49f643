// The left column: the header panel (receipt status from the reader's
// verification, the same code as `ree verify`, and every header field) and
// the summary panel (the diff library's comparison with two sessions, an
// overview of the turns with one) (panels.h).
#include <cstdio>

#include "diff/header_fields.h"
#include "diff/text.h"
#include "panels.h"
#include "trace/receipt.h"

namespace ree::viewer {
namespace {

Rgb status_rgb(const LoadedSession& s) {
  if (!s.reader) return kInvalid;
  switch (s.reader->report().status) {
    case trace::SessionStatus::Valid: return kValid;
    case trace::SessionStatus::Truncated: return kTruncated;
    default: return kInvalid;
  }
}

void receipt_status(const Ui& ui, int side) {
  const LoadedSession& s = ui.model.sides[side].session;
  ImGui::TextColored(ImVec4(0.6f, 0.65f, 0.8f, 1.0f), "%s: %s", side_name(side), s.path.string().c_str());
  const Rgb rgb = status_rgb(s);
  const ImVec2 at = ImGui::GetCursorScreenPos();
  const float h = ImGui::GetTextLineHeight() + 4;
  std::string status = s.reader ? std::string(trace::status_name(s.reader->report().status)) : "unreadable";
  for (char& c : status) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const float w = ImGui::CalcTextSize(status.c_str()).x + 14;
  ImGui::GetWindowDrawList()->AddRectFilled(at, ImVec2(at.x + w, at.y + h), colour(rgb), 3.0f);
  ImGui::GetWindowDrawList()->AddText(ImVec2(at.x + 7, at.y + 2), IM_COL32(15, 15, 20, 255), status.c_str());
  ImGui::Dummy(ImVec2(w, h));
  ImGui::SameLine();
  if (!s.reader) {
    ImGui::TextWrapped("%s", s.problem.c_str());
    return;
  }
  const trace::VerifyReport& report = s.reader->report();
  ImGui::TextWrapped("%s", report.message.c_str());
  ImGui::TextDisabled("signature %s, %s records, %s bytes",
                      std::string(trace::signature_status_name(report.signature)).c_str(),
                      with_commas(report.records).c_str(), with_commas(report.file_bytes).c_str());
}

void header_table(Ui& ui) {
  ViewerModel& m = ui.model;
  if (ui.state.header_values.empty())
    for (const SideView& side : m.sides)
      ui.state.header_values.push_back(side.session.usable() ? diff::header_values(*side.session.reader)
                                                             : std::vector<diff::HeaderValue>{});
  const int columns = m.two() ? 3 : 2;
  if (!ImGui::BeginTable("header", columns,
                         ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingStretchProp |
                             ImGuiTableFlags_BordersInnerV))
    return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("field", ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn(m.two() ? "a" : "value", ImGuiTableColumnFlags_WidthStretch, 1.2f);
  if (m.two()) ImGui::TableSetupColumn("b", ImGuiTableColumnFlags_WidthStretch, 1.2f);
  ImGui::TableHeadersRow();
  const auto& values = ui.state.header_values[0];
  // Differences come from the diff library (content or not).
  auto difference = [&m](const std::string& path) -> const diff::HeaderField* {
    if (!m.comparison) return nullptr;
    for (const diff::HeaderField& f : m.comparison->header)
      if (f.path == path) return &f;
    return nullptr;
  };
  std::string_view section;
  for (const diff::HeaderValue& v : values) {
    const std::string_view this_section = diff::section_name(v.section);
    ImGui::TableNextRow();
    if (this_section != section) {
      section = this_section;
    }
    const diff::HeaderField* d = difference(v.path);
    if (d) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, d->content ? colour(kDiffRow) : IM_COL32(70, 60, 30, 255));
    ImGui::TableNextColumn();
    ImGui::TextDisabled("%s", v.path.c_str());
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s (%s)", std::string(section).c_str(), v.content ? "content" : "not content");
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(v.value.c_str());
    if (m.two()) {
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(d ? d->b.c_str() : v.value.c_str());
    }
  }
  ImGui::EndTable();
}

void go_button(ViewerModel& m, const char* label, const char* id, std::optional<uint64_t> step) {
  ImGui::PushID(id);
  if (!step) ImGui::BeginDisabled();
  if (ImGui::SmallButton(label) && step) select_step(m, 0, *step);
  if (!step) ImGui::EndDisabled();
  ImGui::PopID();
}

std::string where(uint32_t turn, int64_t step) {
  std::string text = turn == diff::kNoTurn ? std::string("session level") : "turn " + std::to_string(turn);
  if (step >= 0) text += ", step " + std::to_string(step);
  return text;
}

void comparison_summary(Ui& ui) {
  ViewerModel& m = ui.model;
  if (!m.comparison) {
    ImGui::TextColored(colour4(kInvalid), "%s", m.comparison_error.c_str());
    return;
  }
  const diff::Comparison& c = *m.comparison;
  ImGui::TextColored(colour4(c.identical() ? kValid : kDivergence), "%s",
                     c.identical() ? (c.environment_differs() ? "IDENTICAL (environment differs)" : "IDENTICAL")
                                   : "DIFFERENT");
  if (c.first) {
    if (c.first->turn == diff::kNoTurn)
      ImGui::TextWrapped("first difference: %s", class_label(c.first->kind).c_str());
    else
      ImGui::TextWrapped("first difference: %s at %s", class_label(c.first->kind).c_str(),
                         where(c.first->turn, c.first->step).c_str());
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextDisabled("%s", c.first->what.c_str());
    ImGui::PopTextWrapPos();
  }
  if (c.token_divergence) {
    const diff::TokenDivergence& d = *c.token_divergence;
    go_button(m, "F", "div", d.at.global_a);
    ImGui::SameLine();
    ImGui::TextColored(colour4(kDivergence), "token divergence: turn %u, step %u", d.at.turn, d.at.step);
    ImGui::TextDisabled("   %s vs %s%s", diff::quote_text(d.piece_a, 16).c_str(), diff::quote_text(d.piece_b, 16).c_str(),
                        d.near_tie ? "  (near tie)" : "");
  } else {
    ImGui::TextDisabled("no token divergence");
  }
  if (c.first_logits_drift) {
    go_button(m, "D", "drift", c.first_logits_drift->global_a);
    ImGui::SameLine();
    ImGui::TextColored(colour4(kDrift), "first logits drift: turn %u, step %u", c.first_logits_drift->turn,
                       c.first_logits_drift->step);
  } else {
    ImGui::TextDisabled("no logits drift");
  }
  for (const std::string& note : c.notes) ImGui::TextColored(colour4(kTruncated), "note: %s", note.c_str());

  if (ImGui::BeginTable("turns", 6, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_ScrollY,
                        ImVec2(0, std::min(150.0f, (c.turns.size() + 1.5f) * ImGui::GetTextLineHeightWithSpacing())))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    for (const char* h : {"turn", "steps a/b", "matched", "drift", "diverge", "first"}) ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    for (const diff::TurnSummary& t : c.turns) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const std::string turn = t.turn == diff::kNoTurn ? "-" : std::to_string(t.turn);
      if (ImGui::Selectable(turn.c_str(), false, ImGuiSelectableFlags_SpanAllColumns) && t.turn != diff::kNoTurn) {
        const uint32_t index = t.first_token_divergence.value_or(t.first_logits_drift.value_or(0));
        if (auto step = m.sides[0].session.global_step(t.turn, index)) select_step(m, 0, *step);
      }
      ImGui::TableNextColumn();
      ImGui::Text("%s/%s", t.in_a ? std::to_string(t.steps_a).c_str() : "-", t.in_b ? std::to_string(t.steps_b).c_str() : "-");
      ImGui::TableNextColumn();
      ImGui::Text("%u", t.matched_steps);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(t.first_logits_drift ? std::to_string(*t.first_logits_drift).c_str() : "-");
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(t.first_token_divergence ? std::to_string(*t.first_token_divergence).c_str() : "-");
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(t.first_class ? class_label(*t.first_class).c_str() : "-");
    }
    ImGui::EndTable();
  }
  ImGui::TextDisabled("differences (N / P to step through):");
  ImGui::BeginChild("targets", ImVec2(0, 0), false);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(c.mismatches.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const diff::Mismatch& mm = c.mismatches[static_cast<size_t>(i)];
      const std::string label = where(mm.turn, mm.step) + "  " + class_label(mm.kind) + ": " + mm.what;
      ImGui::PushID(i);
      const bool clicked = ImGui::Selectable(label.c_str());
      if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 40.0f);
        ImGui::TextUnformatted(label.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
      if (clicked) {
        for (const Target& t : m.targets) {
          const size_t record = mm.record_a ? *mm.record_a : mm.record_b.value_or(SIZE_MAX);
          const bool same_record = t.step ? (m.sides[t.side].session.reader->steps()[*t.step] == record) : t.record == record;
          if (same_record) {
            select_target(m, t);
            break;
          }
        }
      }
      ImGui::PopID();
    }
  }
  ImGui::EndChild();
}

void session_overview(Ui& ui) {
  ViewerModel& m = ui.model;
  const LoadedSession& s = m.sides[0].session;
  if (!s.usable()) {
    ImGui::TextColored(colour4(kInvalid), "%s", s.problem.c_str());
    return;
  }
  uint64_t fragile = 0;
  for (float margin : s.margin) fragile += margin < diff::kNearTieMargin;
  ImGui::Text("%zu turns, %s steps", s.reader->turns().size(), with_commas(s.step_count()).c_str());
  ImGui::TextColored(colour4(fragile ? kFragile : kValid), "%s near-tie steps (margin < %.2g)", with_commas(fragile).c_str(),
                     static_cast<double>(diff::kNearTieMargin));
  const auto& counts = s.reader->report().counts;
  auto count = [&counts](schema::RecordBody kind) {
    const auto k = static_cast<size_t>(kind);
    return k < counts.size() ? counts[k] : 0;
  };
  ImGui::TextDisabled("%llu tool calls, %llu tool results, %llu checkpoints",
                      static_cast<unsigned long long>(count(schema::RecordBody::ToolCall)),
                      static_cast<unsigned long long>(count(schema::RecordBody::ToolResult)),
                      static_cast<unsigned long long>(count(schema::RecordBody::Checkpoint)));
  if (!ImGui::BeginTable("turns", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_ScrollY))
    return;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (const char* h : {"turn", "role", "steps", "stop"}) ImGui::TableSetupColumn(h);
  ImGui::TableHeadersRow();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(s.reader->turns().size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const trace::TurnSpan& t = s.reader->turns()[static_cast<size_t>(i)];
      const auto* start = s.reader->record(t.start_record).turn_start();
      const auto* end = t.end_record != SIZE_MAX ? s.reader->record(t.end_record).turn_end() : nullptr;
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      if (ImGui::Selectable(std::to_string(t.turn).c_str(), false, ImGuiSelectableFlags_SpanAllColumns) && t.step_count > 0)
        select_step(m, 0, t.first_step);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(start ? std::string(trace::role_name(start->role())).c_str() : "?");
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(with_commas(t.step_count).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(end ? std::string(trace::stop_reason_name(end->stop_reason())).c_str() : "(open)");
    }
  }
  ImGui::EndTable();
}

}  // namespace

void draw_header_panel(Ui& ui) {
  ImGui::TextColored(ImVec4(0.75f, 0.8f, 1.0f, 1.0f), "Header and receipt");
  ImGui::Separator();
  for (size_t i = 0; i < ui.model.sides.size(); ++i) receipt_status(ui, static_cast<int>(i));
  ImGui::Spacing();
  header_table(ui);
}

void draw_summary_panel(Ui& ui) {
  ImGui::TextColored(ImVec4(0.75f, 0.8f, 1.0f, 1.0f), ui.model.two() ? "Comparison (src/diff)" : "Session");
  ImGui::Separator();
  if (ui.model.two())
    comparison_summary(ui);
  else
    session_overview(ui);
}

}  // namespace ree::viewer
