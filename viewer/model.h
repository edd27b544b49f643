#pragma once
// Everything ree-view shows, without any drawing: the one or two sessions,
// their documents and layouts, the comparison from src/diff (the viewer has
// no diff code of its own), the selection and the navigation over steps,
// turns, divergences and search hits. The panels (panels.h) only render a
// ViewerModel and call the functions below on clicks and keys, which keeps
// all of this testable without a window.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "diff/comparison.h"
#include "document.h"
#include "layout.h"
#include "loaded_session.h"
#include "search.h"

namespace ree::viewer {

struct SideView {
  LoadedSession session;
  Document document;
  SearchIndex search;
  TokenCells cells;  // measured once the font is known (measure_model)
  Layout layout;     // for the current column width (layout_model)
};

// A place the "next/previous divergence" keys visit: one listed mismatch.
struct Target {
  int side = 0;                  // 0: a, 1: b (where the record is)
  std::optional<uint64_t> step;  // global step on that side, for step mismatches
  size_t record = SIZE_MAX;      // otherwise the record
  diff::DiffClass kind = diff::DiffClass::Header;
  uint32_t display_row = 0;      // set by layout_model
};

// How a step compares with its partner (same turn and index on the other side).
enum class StepStatus : uint8_t {
  Single,           // one session open
  Same,             // identical step record
  Drift,            // same token and top-k ids, different logits hash or probes
  TopKChanged,      // same token, top-k ids reordered or replaced, or top-k values changed
  Diverged,         // the first step of the turn whose token differs
  AfterDivergence,  // later steps of a turn that diverged: not comparable
  Unpaired,         // the other side has no step there
};

struct Selection {
  int side = 0;
  std::optional<uint64_t> step;          // global step on `side`
  std::optional<uint32_t> focus_row;     // display row of a selected non-step item
};

struct ViewerModel {
  std::vector<SideView> sides;              // 1 or 2
  std::optional<diff::Comparison> comparison;
  std::string comparison_error;             // why there is no comparison with two sessions
  AlignedRows rows;
  std::vector<Target> targets;              // in display order
  Selection selection;
  bool scroll_to_selection = false;         // the conversation panel scrolls once, then clears it
  std::string search_query;
  std::vector<SearchHit> search_hits;       // of side 0 (or of the side searched)
  int search_side = 0;
  size_t search_current = 0;

  bool two() const { return sides.size() == 2; }
};

// Opens one or two sessions (never throws: problems are shown in the window)
// and compares them when both have a header.
ViewerModel open_model(const std::vector<std::filesystem::path>& paths);

// Font-dependent measurements (once), then the layout for a column width
// (again whenever the width changes).
void measure_model(ViewerModel& model, const TextMeasure& measure, float token_padding);
void layout_model(ViewerModel& model, float column_width, const TextMeasure& measure);

// --- reading -------------------------------------------------------------------
StepStatus step_status(const ViewerModel& model, int side, uint64_t step);
std::optional<uint64_t> partner_step(const ViewerModel& model, int side, uint64_t step);
uint32_t display_row_of_step(const ViewerModel& model, int side, uint64_t step);
std::optional<uint32_t> selected_display_row(const ViewerModel& model);
// Global step of side 0's first token divergence / first logits drift.
std::optional<uint64_t> first_divergence_step(const ViewerModel& model);
std::optional<uint64_t> first_drift_step(const ViewerModel& model);

// --- navigation (each sets scroll_to_selection) ------------------------------
void select_step(ViewerModel& model, int side, uint64_t step);
void move_step(ViewerModel& model, int delta);  // previous/next step of the selected side
void move_turn(ViewerModel& model, int delta);  // first step of the previous/next turn
bool jump_target(ViewerModel& model, bool forward);  // next/previous divergence; false when none
bool jump_first_divergence(ViewerModel& model);
bool jump_first_drift(ViewerModel& model);
void select_target(ViewerModel& model, const Target& target);
// Runs a search on side `side`; selects the first hit.
void run_search(ViewerModel& model, const std::string& query, int side = 0);
bool jump_search_hit(ViewerModel& model, bool forward);

}  // namespace ree::viewer
