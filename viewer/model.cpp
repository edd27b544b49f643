// The viewer's state and navigation (model.h).
#include "model.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <thread>

#include "diff/compare.h"
#include "diff/step_compare.h"

namespace ree::viewer {
namespace {

SideView open_side(const std::filesystem::path& path) {
  SideView side;
  side.session = load_session(path);
  side.document = build_document(side.session);
  side.search = build_search_index(side.document, side.session);
  return side;
}

uint32_t display_of(const ViewerModel& model, int side, uint32_t row) {
  const auto& map = side == 0 ? model.rows.display_of_a : model.rows.display_of_b;
  return row < map.size() ? map[row] : 0;
}

uint32_t display_row_of_record(const ViewerModel& model, int side, size_t record) {
  const SideView& view = model.sides[side];
  if (record >= view.document.item_of_record.size()) return 0;
  const uint32_t item = view.document.item_of_record[record];
  return display_of(model, side, view.layout.first_row_of_item[item]);
}

std::vector<Target> make_targets(const ViewerModel& model) {
  std::vector<Target> targets;
  if (!model.comparison) return targets;
  for (const diff::Mismatch& m : model.comparison->mismatches) {
    Target t;
    t.kind = m.kind;
    t.side = m.record_a ? 0 : 1;
    const size_t record = m.record_a ? *m.record_a : m.record_b ? *m.record_b : SIZE_MAX;
    if (record == SIZE_MAX) continue;
    if (m.step >= 0 && m.turn != diff::kNoTurn)
      t.step = model.sides[t.side].session.global_step(m.turn, static_cast<uint32_t>(m.step));
    if (!t.step) t.record = record;
    targets.push_back(t);
  }
  return targets;
}

const diff::TurnSummary* summary_of_turn(const ViewerModel& model, uint32_t turn) {
  if (!model.comparison) return nullptr;
  for (const diff::TurnSummary& t : model.comparison->turns)
    if (t.turn == turn) return &t;
  return nullptr;
}

// Orders positions in the conversation: display row, then step.
struct Position {
  uint32_t row = 0;
  uint64_t step = 0;
  bool operator<(const Position& o) const { return row != o.row ? row < o.row : step < o.step; }
};

Position position_of(const Target& t) { return {t.display_row, t.step.value_or(0)}; }

Position current_position(const ViewerModel& model) {
  if (model.selection.focus_row) return {*model.selection.focus_row, 0};
  if (model.selection.step)
    return {display_row_of_step(model, model.selection.side, *model.selection.step), *model.selection.step};
  return {0, 0};
}

void select_search_hit(ViewerModel& model) {
  const SearchHit& hit = model.search_hits[model.search_current];
  const int side = model.search_side;
  if (hit.step) {
    select_step(model, side, *hit.step);
    return;
  }
  const SideView& view = model.sides[side];
  const uint64_t offset_in_item = hit.offset - view.search.item_offset[hit.item];
  uint32_t row = view.layout.first_row_of_item.empty() ? 0 : view.layout.first_row_of_item[hit.item];
  while (row + 1 < view.layout.rows.size() && view.layout.rows[row + 1].item == hit.item &&
         view.layout.rows[row].end <= offset_in_item)
    ++row;
  model.selection.focus_row = display_of(model, side, row);
  model.scroll_to_selection = true;
}

}  // namespace

ViewerModel open_model(const std::vector<std::filesystem::path>& paths) {
  ViewerModel model;
  model.sides.resize(paths.size());
  // Each reader verifies its whole file: open the two side by side.
  std::vector<std::thread> openers;
  for (size_t i = 1; i < paths.size(); ++i) openers.emplace_back([&model, &paths, i] { model.sides[i] = open_side(paths[i]); });
  if (!paths.empty()) model.sides[0] = open_side(paths[0]);
  for (std::thread& t : openers) t.join();

  if (model.two()) {
    if (model.sides[0].session.usable() && model.sides[1].session.usable()) {
      try {
        model.comparison = diff::compare_sessions(*model.sides[0].session.reader, *model.sides[1].session.reader);
      } catch (const std::exception& e) {
        model.comparison_error = e.what();
      }
    } else {
      model.comparison_error = "no comparison: a session has no readable header";
    }
  }
  model.targets = make_targets(model);
  // Open where the interesting part is: the first token divergence, else the
  // first drift, else the first step.
  if (auto step = first_divergence_step(model)) model.selection.step = step;
  else if (auto drift = first_drift_step(model)) model.selection.step = drift;
  else if (!model.sides.empty() && model.sides[0].session.step_count() > 0) model.selection.step = 0;
  model.scroll_to_selection = true;
  return model;
}

void measure_model(ViewerModel& model, const TextMeasure& measure, float token_padding) {
  for (SideView& side : model.sides) side.cells = measure_tokens(side.session, measure, token_padding);
}

void layout_model(ViewerModel& model, float column_width, const TextMeasure& measure) {
  for (SideView& side : model.sides) side.layout = layout_document(side.document, side.cells, column_width, measure);
  if (model.sides.empty()) return;
  model.rows = align_rows(model.sides[0].document, model.sides[0].layout, model.two() ? &model.sides[1].document : nullptr,
                          model.two() ? &model.sides[1].layout : nullptr);
  for (Target& t : model.targets)
    t.display_row = t.step ? display_row_of_step(model, t.side, *t.step) : display_row_of_record(model, t.side, t.record);
  std::stable_sort(model.targets.begin(), model.targets.end(),
                   [](const Target& x, const Target& y) { return position_of(x) < position_of(y); });
}

std::optional<uint64_t> partner_step(const ViewerModel& model, int side, uint64_t step) {
  if (!model.two()) return std::nullopt;
  const StepLocation loc = model.sides[side].session.locate(step);
  return model.sides[1 - side].session.global_step(loc.turn, loc.index);
}

StepStatus step_status(const ViewerModel& model, int side, uint64_t step) {
  if (!model.two() || !model.comparison) return StepStatus::Single;
  const std::optional<uint64_t> partner = partner_step(model, side, step);
  if (!partner) return StepStatus::Unpaired;
  const StepLocation loc = model.sides[side].session.locate(step);
  if (const diff::TurnSummary* summary = summary_of_turn(model, loc.turn)) {
    if (summary->first_token_divergence && loc.index > *summary->first_token_divergence) return StepStatus::AfterDivergence;
    if (summary->first_token_divergence && loc.index == *summary->first_token_divergence) return StepStatus::Diverged;
  }
  const LoadedSession& mine = model.sides[side].session;
  const LoadedSession& other = model.sides[1 - side].session;
  const trace::RecordView a = mine.reader->record(mine.reader->steps()[step]);
  const trace::RecordView b = other.reader->record(other.reader->steps()[*partner]);
  const auto bytes_a = a.bound_bytes();
  const auto bytes_b = b.bound_bytes();
  if (bytes_a.size() == bytes_b.size() && std::memcmp(bytes_a.data(), bytes_b.data(), bytes_a.size()) == 0)
    return StepStatus::Same;
  if (!a.step() || !b.step()) return StepStatus::Drift;
  const diff::StepDelta delta = diff::compare_steps(*a.step(), *b.step(), true);
  if (!delta.any()) return StepStatus::Same;
  switch (delta.kind()) {
    case diff::DiffClass::Token: return StepStatus::Diverged;
    case diff::DiffClass::TopK: return StepStatus::TopKChanged;
    default: return StepStatus::Drift;
  }
}

uint32_t display_row_of_step(const ViewerModel& model, int side, uint64_t step) {
  const Layout& layout = model.sides[side].layout;
  if (step >= layout.row_of_step.size()) return 0;
  return display_of(model, side, layout.row_of_step[step]);
}

std::optional<uint32_t> selected_display_row(const ViewerModel& model) {
  if (model.selection.focus_row) return model.selection.focus_row;
  if (model.selection.step) return display_row_of_step(model, model.selection.side, *model.selection.step);
  return std::nullopt;
}

std::optional<uint64_t> first_divergence_step(const ViewerModel& model) {
  if (!model.comparison || !model.comparison->token_divergence) return std::nullopt;
  return model.comparison->token_divergence->at.global_a;
}

std::optional<uint64_t> first_drift_step(const ViewerModel& model) {
  if (!model.comparison || !model.comparison->first_logits_drift) return std::nullopt;
  return model.comparison->first_logits_drift->global_a;
}

void select_step(ViewerModel& model, int side, uint64_t step) {
  if (side < 0 || side >= static_cast<int>(model.sides.size())) return;
  const uint64_t n = model.sides[side].session.step_count();
  if (n == 0) return;
  model.selection.side = side;
  model.selection.step = std::min(step, n - 1);
  model.selection.focus_row.reset();
  model.scroll_to_selection = true;
}

void move_step(ViewerModel& model, int delta) {
  if (!model.selection.step) {
    select_step(model, model.selection.side, 0);
    return;
  }
  const uint64_t step = *model.selection.step;
  if (delta < 0 && step < static_cast<uint64_t>(-delta)) return select_step(model, model.selection.side, 0);
  select_step(model, model.selection.side, step + delta);
}

void move_turn(ViewerModel& model, int delta) {
  if (model.sides.empty()) return;
  const LoadedSession& session = model.sides[model.selection.side].session;
  if (!session.usable() || session.reader->turns().empty()) return;
  const auto& turns = session.reader->turns();
  int64_t turn = model.selection.step ? session.locate(*model.selection.step).turn : -1;
  // Skip turns without steps in the direction of travel.
  for (turn += delta; turn >= 0 && turn < static_cast<int64_t>(turns.size()); turn += delta) {
    if (turns[turn].step_count > 0) {
      select_step(model, model.selection.side, turns[turn].first_step);
      return;
    }
  }
}

void select_target(ViewerModel& model, const Target& target) {
  if (target.step) {
    select_step(model, target.side, *target.step);
    return;
  }
  model.selection.focus_row = target.display_row;
  model.scroll_to_selection = true;
}

bool jump_target(ViewerModel& model, bool forward) {
  if (model.targets.empty()) return false;
  const Position here = current_position(model);
  if (forward) {
    for (const Target& t : model.targets)
      if (here < position_of(t)) return select_target(model, t), true;
  } else {
    for (auto it = model.targets.rbegin(); it != model.targets.rend(); ++it)
      if (position_of(*it) < here) return select_target(model, *it), true;
  }
  return false;
}

bool jump_first_divergence(ViewerModel& model) {
  const auto step = first_divergence_step(model);
  if (step) select_step(model, 0, *step);
  return step.has_value();
}

bool jump_first_drift(ViewerModel& model) {
  const auto step = first_drift_step(model);
  if (step) select_step(model, 0, *step);
  return step.has_value();
}

void run_search(ViewerModel& model, const std::string& query, int side) {
  model.search_query = query;
  model.search_side = side;
  model.search_current = 0;
  model.search_hits.clear();
  if (side < 0 || side >= static_cast<int>(model.sides.size())) return;
  const SideView& view = model.sides[side];
  model.search_hits = search(view.search, view.document, query);
  if (!model.search_hits.empty()) select_search_hit(model);
}

bool jump_search_hit(ViewerModel& model, bool forward) {
  if (model.search_hits.empty()) return false;
  const size_t n = model.search_hits.size();
  model.search_current = forward ? (model.search_current + 1) % n : (model.search_current + n - 1) % n;
  select_search_hit(model);
  return true;
}

}  // namespace ree::viewer
