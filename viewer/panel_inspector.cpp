// The step inspector: the selected step's token, margin, entropy, logits
// hash, its recorded top-k as probability bars, and its per-layer probe
// hashes; with two sessions, both steps and their top-k lists compared rank
// by rank (diff::side_by_side, the diff library's pairing) (panels.h).
#include <cstdio>

#include "diff/step_compare.h"
#include "panels.h"

namespace ree::viewer {
namespace {

const char* status_text(StepStatus status) {
  switch (status) {
    case StepStatus::Single: return "";
    case StepStatus::Same: return "identical in both sessions";
    case StepStatus::Drift: return "same token, logits drifted (hash differs)";
    case StepStatus::TopKChanged: return "same token, top-k changed";
    case StepStatus::Diverged: return "TOKEN DIVERGENCE";
    case StepStatus::AfterDivergence: return "after the divergence (not comparable)";
    case StepStatus::Unpaired: return "no step here in the other session";
  }
  return "";
}

Rgb status_colour(StepStatus status) {
  switch (status) {
    case StepStatus::Drift: return kDrift;
    case StepStatus::TopKChanged: return kTopKChanged;
    case StepStatus::Diverged: return kDivergence;
    case StepStatus::Same: return kValid;
    default: return {170, 170, 175};
  }
}

diff::TopKList topk_of(const LoadedSession& s, const schema::Step& step) {
  const auto* ids = step.topk_ids();
  const auto* logits = step.topk_logits();
  diff::TopKList list = diff::make_topk_list(
      ids ? std::span<const int32_t>(ids->data(), ids->size()) : std::span<const int32_t>(),
      logits ? std::span<const float>(logits->data(), logits->size()) : std::span<const float>(), step.token(),
      step.margin(), diff::kNearTieMargin);
  for (diff::TopKEntry& e : list.entries) {
    const std::optional<std::string> piece = s.piece_of(e.id);
    e.piece = piece ? display_text(*piece, e.id) : "";
  }
  return list;
}

void step_facts(const Ui& ui, int side, uint64_t step, const schema::Step& rec) {
  const LoadedSession& s = ui.model.sides[side].session;
  const StepLocation loc = s.locate(step);
  ImGui::TextColored(ImVec4(0.6f, 0.65f, 0.8f, 1.0f), "%s: step %s", side_name(side), with_commas(step).c_str());
  ImGui::SameLine();
  ImGui::TextDisabled("turn %u, #%u, position %lld", loc.turn, loc.index, static_cast<long long>(rec.position()));
  ImGui::Text("token %d", rec.token());
  ImGui::SameLine();
  ImGui::PushFont(ui.fonts.mono);
  ImGui::Text("\"%s\"", display_text(s.reader->step_text(rec), rec.token()).c_str());
  ImGui::PopFont();
  ImGui::TextUnformatted("margin");
  ImGui::SameLine();
  ImGui::PushStyleColor(ImGuiCol_Text, colour4(rec.margin() < diff::kNearTieMargin ? kInvalid : Rgb{220, 220, 225}));
  ImGui::Text("%.5g%s", rec.margin(), rec.margin() < diff::kNearTieMargin ? "  near tie" : "");
  ImGui::PopStyleColor();
  ImGui::SameLine(0, 16);
  ImGui::Text("entropy %.3f", s.entropy[step]);
  ImGui::TextUnformatted("logits hash");
  ImGui::SameLine();
  ImGui::PushFont(ui.fonts.mono);
  ImGui::Text("%016llx", static_cast<unsigned long long>(rec.logits_hash()));
  ImGui::PopFont();
}

// One top-k list as a table with probability bars; rows whose id differs
// from the other list's at the same rank are marked.
void topk_table(const char* id, const diff::TopKList& list, const diff::TopKList* other) {
  if (!ImGui::BeginTable(id, 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) return;
  ImGui::TableSetupColumn("id", ImGuiTableColumnFlags_WidthFixed, 58.0f);
  ImGui::TableSetupColumn("text", ImGuiTableColumnFlags_WidthStretch, 1.0f);
  ImGui::TableSetupColumn("logit", ImGuiTableColumnFlags_WidthFixed, 62.0f);
  ImGui::TableSetupColumn("softmax over top-k", ImGuiTableColumnFlags_WidthStretch, 1.3f);
  ImGui::TableHeadersRow();
  for (size_t i = 0; i < list.entries.size(); ++i) {
    const diff::TopKEntry& e = list.entries[i];
    const bool moved = other && (i >= other->entries.size() || other->entries[i].id != e.id);
    const bool chosen = e.id == list.chosen;
    ImGui::TableNextRow();
    if (moved) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, colour(kDiffRow));
    ImGui::TableNextColumn();
    if (chosen) ImGui::TextColored(ImVec4(1, 1, 1, 1), "%d", e.id);
    else ImGui::TextDisabled("%d", e.id);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(e.piece.empty() ? "?" : ("\"" + e.piece + "\"").c_str());
    ImGui::TableNextColumn();
    ImGui::Text("%.3f", e.logit);
    ImGui::TableNextColumn();
    char label[32];
    std::snprintf(label, sizeof label, "%.3f", e.probability);
    ImGui::PushStyleColor(ImGuiCol_PlotHistogram, chosen ? colour4(kMarginCurveA) : ImVec4(0.35f, 0.42f, 0.55f, 1.0f));
    ImGui::ProgressBar(e.probability, ImVec2(-1, ImGui::GetTextLineHeight()), label);
    ImGui::PopStyleColor();
  }
  ImGui::EndTable();
}

constexpr const char* kProbeNames[4] = {"attn norm", "attention", "mlp norm", "mlp"};

void probe_table(const Ui& ui, const schema::Step& rec, const schema::Step* other) {
  const auto* hashes = rec.layer_hashes();
  if (!hashes || hashes->size() == 0) {
    ImGui::TextDisabled("no per-layer probes recorded (record with --probe layers)");
    return;
  }
  if (other) {
    const std::string where = diff::first_probe_difference(rec, *other);
    if (!where.empty()) ImGui::TextColored(colour4(kDivergence), "probes first differ at %s", where.c_str());
  }
  if (!ImGui::BeginTable("probes", 5, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchSame | ImGuiTableFlags_ScrollY,
                         ImVec2(0, std::min(220.0f, (hashes->size() / 4 + 1.5f) * ImGui::GetTextLineHeightWithSpacing()))))
    return;
  ImGui::TableSetupColumn("layer", ImGuiTableColumnFlags_WidthFixed, 40.0f);
  for (const char* name : kProbeNames) ImGui::TableSetupColumn(name);
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableHeadersRow();
  const auto* other_hashes = other ? other->layer_hashes() : nullptr;
  ImGui::PushFont(ui.fonts.mono);
  for (uint32_t layer = 0; layer * 4 < hashes->size(); ++layer) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::Text("%u", layer);
    for (uint32_t k = 0; k < 4 && layer * 4 + k < hashes->size(); ++k) {
      ImGui::TableNextColumn();
      const uint64_t h = hashes->Get(layer * 4 + k);
      const bool differs = other_hashes && layer * 4 + k < other_hashes->size() && other_hashes->Get(layer * 4 + k) != h;
      if (differs) ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, colour(kDiffRow));
      ImGui::Text("%08llx", static_cast<unsigned long long>(h >> 32));
    }
  }
  ImGui::PopFont();
  ImGui::EndTable();
}

}  // namespace

void draw_inspector_panel(Ui& ui) {
  const ViewerModel& m = ui.model;
  ImGui::TextColored(ImVec4(0.75f, 0.8f, 1.0f, 1.0f), "Step inspector");
  ImGui::Separator();
  if (!m.selection.step || m.sides.empty() || !m.sides[m.selection.side].session.usable()) {
    ImGui::TextDisabled("no step selected (click a token, or use the arrow keys)");
    return;
  }
  const int side = m.selection.side;
  const uint64_t step = *m.selection.step;
  const LoadedSession& session = m.sides[side].session;
  const schema::Step* rec = session.step(step);
  if (!rec) {
    ImGui::TextDisabled("this step's record version is not interpreted by this ree");
    return;
  }
  const std::optional<uint64_t> partner = partner_step(m, side, step);
  const schema::Step* other = partner ? m.sides[1 - side].session.step(*partner) : nullptr;
  if (m.two()) {
    const StepStatus status = step_status(m, side, step);
    ImGui::TextColored(colour4(status_colour(status)), "%s", status_text(status));
  }
  step_facts(ui, side, step, *rec);
  const diff::TopKList mine = topk_of(session, *rec);
  const diff::TopKList theirs = other ? topk_of(m.sides[1 - side].session, *other) : diff::TopKList{};
  ImGui::Spacing();
  ImGui::TextDisabled("recorded top-%zu", mine.entries.size());
  topk_table("topk_mine", mine, other ? &theirs : nullptr);
  if (other) {
    ImGui::Spacing();
    ImGui::Separator();
    step_facts(ui, 1 - side, *partner, *other);
    ImGui::Spacing();
    topk_table("topk_theirs", theirs, &mine);
  }
  ImGui::Spacing();
  ImGui::Separator();
  ImGui::TextDisabled("per-layer probe hashes (first 8 hex digits)");
  probe_table(ui, *rec, other);
}

}  // namespace ree::viewer
