// The frame: panel placement, the toolbar, keyboard shortcuts (panels.h).
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "panels.h"

namespace ree::viewer {

ImU32 colour(const Rgb& rgb, uint8_t alpha) { return rgb.packed(alpha); }

ImVec4 colour4(const Rgb& rgb) { return ImVec4(rgb.r / 255.0f, rgb.g / 255.0f, rgb.b / 255.0f, 1.0f); }

Rect current_window_rect() {
  const ImVec2 pos = ImGui::GetWindowPos();
  const ImVec2 size = ImGui::GetWindowSize();
  return {pos.x, pos.y, size.x, size.y};
}

const char* side_name(int side) { return side == 0 ? "a" : "b"; }

std::string class_label(diff::DiffClass kind) {
  std::string label(diff::class_name(kind));
  std::replace(label.begin(), label.end(), '_', ' ');
  return label;
}

std::string with_commas(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

namespace {

constexpr float kToolbarHeight = 38.0f;
constexpr float kTimelineHeight = 170.0f;
constexpr ImGuiWindowFlags kPanelFlags = ImGuiWindowFlags_None;

void child_at(const char* id, ImVec2 pos, ImVec2 size, void (*draw)(Ui&), Ui& ui, Rect& where,
              ImGuiWindowFlags flags = kPanelFlags) {
  ImGui::SetCursorScreenPos(pos);
  ImGui::BeginChild(id, size, true, flags);
  where = current_window_rect();
  draw(ui);
  ImGui::EndChild();
}

void status_badge(const LoadedSession& session, int side) {
  std::string status = "unreadable";
  Rgb rgb = kInvalid;
  if (session.reader) {
    status = std::string(trace::status_name(session.reader->report().status));
    rgb = session.reader->report().status == trace::SessionStatus::Valid       ? kValid
          : session.reader->report().status == trace::SessionStatus::Truncated ? kTruncated
                                                                               : kInvalid;
  }
  ImGui::TextColored(ImVec4(0.6f, 0.6f, 0.65f, 1.0f), "%s:", side_name(side));
  ImGui::SameLine(0, 4);
  ImGui::TextUnformatted(session.path.filename().string().c_str());
  ImGui::SameLine(0, 6);
  ImGui::PushStyleColor(ImGuiCol_Text, colour4(rgb));
  for (char& c : status) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ImGui::TextUnformatted(status.c_str());
  ImGui::PopStyleColor();
}

const char* kHelp =
    "Keys\n"
    "  Left / Right     previous / next step\n"
    "  Up / Down        previous / next turn\n"
    "  N / P            next / previous difference\n"
    "  F                first token divergence\n"
    "  D                first logits drift\n"
    "  Tab              switch session (a / b)\n"
    "  Home / End       first / last step\n"
    "  Ctrl+F or /      search; Enter / F3 next hit, Shift+F3 previous\n"
    "Mouse: click a token, a timeline point, a table row.";

bool key_pressed(int glfw_key) { return ImGui::IsKeyPressed(glfw_key, true); }

}  // namespace

void draw_toolbar(Ui& ui) {
  ViewerModel& m = ui.model;
  ImGui::SetCursorPosY(ImGui::GetCursorPosY() + 2);
  ImGui::TextColored(ImVec4(0.75f, 0.8f, 1.0f, 1.0f), "ree-view");
  for (size_t i = 0; i < m.sides.size(); ++i) {
    ImGui::SameLine(0, 18);
    status_badge(m.sides[i].session, static_cast<int>(i));
  }
  if (m.comparison) {
    ImGui::SameLine(0, 18);
    ImGui::PushStyleColor(ImGuiCol_Text, colour4(m.comparison->identical() ? kValid : kDivergence));
    ImGui::TextUnformatted(m.comparison->identical() ? "IDENTICAL" : "DIFFERENT");
    ImGui::PopStyleColor();
  }
  const float search_width = 260.0f;
  ImGui::SameLine(ImGui::GetWindowWidth() - search_width - 190.0f);
  if (ui.state.focus_search) {
    ImGui::SetKeyboardFocusHere();
    ui.state.focus_search = false;
  }
  ImGui::SetNextItemWidth(search_width);
  if (ImGui::InputTextWithHint("##search", "search text (Ctrl+F)", ui.state.search_text, sizeof ui.state.search_text,
                               ImGuiInputTextFlags_EnterReturnsTrue)) {
    if (m.search_query == ui.state.search_text) jump_search_hit(m, true);
    else run_search(m, ui.state.search_text, m.selection.side);
  }
  ImGui::SameLine();
  if (!m.search_query.empty())
    ImGui::Text("%s / %s", m.search_hits.empty() ? "0" : with_commas(m.search_current + 1).c_str(),
                with_commas(m.search_hits.size()).c_str());
  else
    ImGui::TextDisabled("      ");
  ImGui::SameLine(ImGui::GetWindowWidth() - 60.0f);
  ImGui::TextDisabled("keys");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kHelp);
}

void handle_keys(Ui& ui) {
  ViewerModel& m = ui.model;
  const ImGuiIO& io = ImGui::GetIO();
  if (io.KeyCtrl && key_pressed(GLFW_KEY_F)) ui.state.focus_search = true;
  if (key_pressed(GLFW_KEY_F3)) {
    jump_search_hit(m, !io.KeyShift);
    return;
  }
  if (io.WantTextInput) return;  // typing in the search box
  if (key_pressed(GLFW_KEY_SLASH)) ui.state.focus_search = true;
  if (key_pressed(GLFW_KEY_RIGHT)) move_step(m, 1);
  if (key_pressed(GLFW_KEY_LEFT)) move_step(m, -1);
  if (key_pressed(GLFW_KEY_DOWN)) move_turn(m, 1);
  if (key_pressed(GLFW_KEY_UP)) move_turn(m, -1);
  if (key_pressed(GLFW_KEY_N)) jump_target(m, !io.KeyShift);
  if (key_pressed(GLFW_KEY_P)) jump_target(m, false);
  if (!io.KeyCtrl && key_pressed(GLFW_KEY_F)) jump_first_divergence(m);
  if (key_pressed(GLFW_KEY_D)) jump_first_drift(m);
  if (key_pressed(GLFW_KEY_HOME)) select_step(m, m.selection.side, 0);
  if (key_pressed(GLFW_KEY_END)) select_step(m, m.selection.side, UINT64_MAX);
  if (key_pressed(GLFW_KEY_ENTER) && !m.search_hits.empty()) jump_search_hit(m, !io.KeyShift);
  if (key_pressed(GLFW_KEY_TAB) && m.two() && m.selection.step) {
    const int other = 1 - m.selection.side;
    const auto partner = partner_step(m, m.selection.side, *m.selection.step);
    if (partner) select_step(m, other, *partner);
    else select_step(m, other, 0);
  }
}

void draw_frame(Ui& ui) {
  const ImGuiIO& io = ImGui::GetIO();
  const float width = io.DisplaySize.x;
  const float height = io.DisplaySize.y;
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(6, 6));
  ImGui::Begin("ree-view", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoBringToFrontOnFocus |
                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoScrollWithMouse);
  ImGui::PopStyleVar();
  const float pad = 6.0f;
  const float side_width = std::max(300.0f, std::floor(width * 0.24f));
  const float inspector_width = std::max(300.0f, std::floor(width * 0.24f));
  const float body_top = pad + kToolbarHeight + pad;
  const float body_height = std::max(100.0f, height - body_top - kTimelineHeight - 2 * pad);
  const float center_x = pad + side_width + pad;
  const float center_width = std::max(200.0f, width - center_x - inspector_width - 2 * pad);

  constexpr ImGuiWindowFlags kFixed = ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;
  child_at("toolbar", ImVec2(pad, pad), ImVec2(width - 2 * pad, kToolbarHeight), draw_toolbar, ui, ui.report.toolbar,
           kFixed);
  const float header_height = std::floor(body_height * 0.48f);
  child_at("header", ImVec2(pad, body_top), ImVec2(side_width, header_height), draw_header_panel, ui, ui.report.header);
  child_at("summary", ImVec2(pad, body_top + header_height + pad), ImVec2(side_width, body_height - header_height - pad),
           draw_summary_panel, ui, ui.report.summary);
  child_at("conversation", ImVec2(center_x, body_top), ImVec2(center_width, body_height), draw_conversation_panel, ui,
           ui.report.conversation);
  child_at("inspector", ImVec2(center_x + center_width + pad, body_top), ImVec2(inspector_width, body_height),
           draw_inspector_panel, ui, ui.report.inspector);
  child_at("timeline", ImVec2(pad, body_top + body_height + pad), ImVec2(width - 2 * pad, kTimelineHeight),
           draw_timeline_panel, ui, ui.report.timeline, kFixed);
  handle_keys(ui);
  ImGui::End();
}

}  // namespace ree::viewer
