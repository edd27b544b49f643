// The viewer without a window: documents, layout, side-by-side alignment,
// search, navigation, step status, bad files, the timeline's data and the
// PNG writer (checked by an independent reader).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "model.h"
#include "png_read.h"
#include "png_writer.h"
#include "session_spec.h"
#include "test_util.h"
#include "timeline_data.h"

namespace ree::test {
namespace {

using namespace ree::viewer;

// Every character 7 pixels wide: layouts computable by hand.
const TextMeasure kFixed{[](std::string_view text) { return 7.0f * static_cast<float>(text.size()); }};
constexpr float kPadding = 3.0f;

ViewerModel open_laid_out(const std::vector<std::filesystem::path>& paths, float width = 300.0f) {
  ViewerModel model = open_model(paths);
  measure_model(model, kFixed, kPadding);
  layout_model(model, width, kFixed);
  return model;
}

TEST_CASE("the document lists turns, prompts, tokens, turn ends, tool calls, results and checkpoints in file order") {
  TempDir dir("ree-view");
  write_spec(dir / "a.fb", base_spec(6));
  const LoadedSession session = load_session(dir / "a.fb");
  REQUIRE(session.usable());
  CHECK(session.problem.empty());
  const Document doc = build_document(session);
  std::vector<ItemKind> kinds;
  for (const Item& item : doc.items) kinds.push_back(item.kind);
  const std::vector<ItemKind> expected = {
      ItemKind::TurnHeader, ItemKind::Prompt, ItemKind::Tokens, ItemKind::TurnEnd, ItemKind::ToolCall, ItemKind::ToolResult,
      ItemKind::TurnHeader, ItemKind::Prompt, ItemKind::Tokens, ItemKind::TurnEnd, ItemKind::Checkpoint,
      ItemKind::TurnHeader, ItemKind::Prompt, ItemKind::Tokens, ItemKind::TurnEnd, ItemKind::Checkpoint,
      ItemKind::SessionEnd};
  CHECK(kinds == expected);
  CHECK(doc.items[2].first_step == 0);
  CHECK(doc.items[2].step_count == 6);
  CHECK(doc.items[8].first_step == 6);
  CHECK(doc.items[5].text.find("42") != std::string::npos);
  // Every record maps to the item that shows it.
  REQUIRE(doc.item_of_record.size() == session.reader->size());
  CHECK(doc.items[doc.item_of_record[session.reader->steps()[7]]].kind == ItemKind::Tokens);
}

TEST_CASE("token rows wrap at the column width, cover every step once, and end at newlines") {
  TempDir dir("ree-view");
  SessionSpec spec = base_spec(40);
  spec.turns[0].steps[10].piece = "line\nbreak";
  spec.turns[0].steps[5].token = spec.turns[0].steps[0].token;  // same id, another text
  spec.turns[0].steps[5].piece = spec.turns[0].steps[0].piece + "-longer";
  write_spec(dir / "a.fb", spec);
  const float width = 150.0f;
  const ViewerModel model = open_laid_out({dir / "a.fb"}, width);
  const SideView& side = model.sides[0];
  uint64_t next_step = 0;
  for (const Row& row : side.layout.rows) {
    if (!row.tokens) continue;
    CHECK(row.begin == next_step);
    float used = 0.0f;
    for (uint64_t s = row.begin; s < row.end; ++s) {
      const std::string shown = display_text(side.session.step_text(s), side.session.step(s)->token());
      used += 7.0f * static_cast<float>(shown.size()) + 2 * kPadding;
      CHECK(side.layout.row_of_step[s] == static_cast<uint32_t>(&row - side.layout.rows.data()));
    }
    // A row holds more than its width only when one cell alone is wider.
    CHECK((used <= width || row.end - row.begin == 1));
    next_step = row.end;
  }
  CHECK(next_step == side.session.step_count());
  // The newline token ends its row, and shows as "\n".
  const Row& break_row = side.layout.rows[side.layout.row_of_step[10]];
  CHECK(break_row.end == 11);
  CHECK(display_text("line\nbreak", 5) == "line\\nbreak");
  // A cell is as wide as its own text, also when the same id had another text before.
  for (uint64_t s : {uint64_t{0}, uint64_t{5}, uint64_t{10}}) {
    const std::string shown = display_text(side.session.step_text(s), side.session.step(s)->token());
    CHECK(side.cells.width[s] == 7.0f * static_cast<float>(shown.size()) + 2 * kPadding);
  }
  CHECK(display_text("", 5) == "<5>");
}

TEST_CASE("two sessions line up turn by turn even when one side needs more rows") {
  TempDir dir("ree-view");
  const SessionSpec a = base_spec(12);
  SessionSpec b = a;
  b.turns[1].start.content = std::string(400, 'x');  // a much longer prompt in b
  b.turns[1].steps.resize(30, b.turns[1].steps.back());
  for (uint32_t i = 12; i < 30; ++i) b.turns[1].steps[i].position = b.turns[1].steps[11].position + i;
  write_spec(dir / "a.fb", a);
  write_spec(dir / "b.fb", b);
  const ViewerModel model = open_laid_out({dir / "a.fb", dir / "b.fb"});
  REQUIRE(model.two());
  // The turn 2 headers share a display row.
  auto header_row = [&model](int side, uint32_t turn) {
    const SideView& v = model.sides[side];
    for (size_t i = 0; i < v.document.items.size(); ++i)
      if (v.document.items[i].kind == ItemKind::TurnHeader && v.document.items[i].block == turn + 1)
        return (side == 0 ? model.rows.display_of_a : model.rows.display_of_b)[v.layout.first_row_of_item[i]];
    return UINT32_MAX;
  };
  CHECK(header_row(0, 2) == header_row(1, 2));
  CHECK(header_row(0, 1) == header_row(1, 1));
  // Step 0 of turn 2 too.
  const uint64_t a_step = *model.sides[0].session.global_step(2, 0);
  const uint64_t b_step = *model.sides[1].session.global_step(2, 0);
  CHECK(display_row_of_step(model, 0, a_step) == display_row_of_step(model, 1, b_step));
  // Every row of each side appears exactly once.
  size_t rows_a = 0, rows_b = 0;
  for (size_t r = 0; r < model.rows.size(); ++r) {
    rows_a += model.rows.a[r] >= 0;
    rows_b += model.rows.b[r] >= 0;
  }
  CHECK(rows_a == model.sides[0].layout.rows.size());
  CHECK(rows_b == model.sides[1].layout.rows.size());
}

TEST_CASE("search finds text across token boundaries, in prompts and in tool results, ignoring ASCII case") {
  TempDir dir("ree-view");
  SessionSpec spec = base_spec(12);
  spec.turns[1].steps[3].piece = " Need";
  spec.turns[1].steps[4].piece = "le";
  write_spec(dir / "a.fb", spec);
  ViewerModel model = open_laid_out({dir / "a.fb"});
  run_search(model, "needle");
  REQUIRE(model.search_hits.size() == 1);
  CHECK(model.search_hits[0].step == model.sides[0].session.global_step(1, 3));
  CHECK(model.selection.step == model.sides[0].session.global_step(1, 3));
  run_search(model, "SYNTHETIC MESSAGE 2");
  REQUIRE(model.search_hits.size() == 1);
  CHECK(model.sides[0].document.items[model.search_hits[0].item].kind == ItemKind::Prompt);
  CHECK(model.selection.focus_row.has_value());
  run_search(model, "42");
  bool in_result = false;
  for (const SearchHit& hit : model.search_hits) in_result |= model.sides[0].document.items[hit.item].kind == ItemKind::ToolResult;
  CHECK(in_result);
  run_search(model, "no such text anywhere");
  CHECK(model.search_hits.empty());
  CHECK_FALSE(jump_search_hit(model, true));
}

TEST_CASE("opening two diverging sessions selects the divergence; keys visit the differences in order") {
  TempDir dir("ree-view");
  const SessionSpec a = base_spec(12);
  SessionSpec b = a;
  b.turns[0].steps[2].logits_hash ^= 1;   // drift, turn 0
  diverge(b, 1, 5);                        // token divergence, turn 1
  b.turns[1].events[0].checkpoint.kv_hash ^= 1;  // checkpoint after turn 1
  b.turns[2].steps[7].logits_hash ^= 1;   // drift, turn 2
  write_spec(dir / "a.fb", a);
  write_spec(dir / "b.fb", b);
  ViewerModel model = open_laid_out({dir / "a.fb", dir / "b.fb"});
  REQUIRE(model.comparison);
  const uint64_t divergence = 12 + 5;
  CHECK(model.selection.step == divergence);
  CHECK(first_drift_step(model) == 2u);
  REQUIRE(model.targets.size() == 4);
  CHECK(step_status(model, 0, 2) == StepStatus::Drift);
  CHECK(step_status(model, 0, divergence) == StepStatus::Diverged);
  CHECK(step_status(model, 0, divergence + 1) == StepStatus::AfterDivergence);
  CHECK(step_status(model, 0, 0) == StepStatus::Same);

  select_step(model, 0, 0);
  REQUIRE(jump_target(model, true));
  CHECK(model.selection.step == 2u);
  REQUIRE(jump_target(model, true));
  CHECK(model.selection.step == divergence);
  REQUIRE(jump_target(model, true));  // the checkpoint: a row, not a step
  CHECK(model.selection.focus_row.has_value());
  REQUIRE(jump_target(model, true));
  CHECK_FALSE(model.selection.focus_row.has_value());
  CHECK(model.selection.step == 24u + 7u);
  CHECK_FALSE(jump_target(model, true));  // nothing after the last
  REQUIRE(jump_target(model, false));
  CHECK(model.selection.focus_row.has_value());
  REQUIRE(jump_target(model, false));
  CHECK(model.selection.step == divergence);

  CHECK(jump_first_drift(model));
  CHECK(model.selection.step == 2u);
  CHECK(jump_first_divergence(model));
  CHECK(model.selection.step == divergence);
}

TEST_CASE("step and turn keys move within the session and stop at its ends") {
  TempDir dir("ree-view");
  write_spec(dir / "a.fb", base_spec(5));
  ViewerModel model = open_laid_out({dir / "a.fb"});
  CHECK(model.selection.step == 0u);
  move_step(model, -1);
  CHECK(model.selection.step == 0u);
  move_step(model, 1);
  CHECK(model.selection.step == 1u);
  move_turn(model, 1);
  CHECK(model.selection.step == 5u);
  move_turn(model, 1);
  CHECK(model.selection.step == 10u);
  move_turn(model, 1);
  CHECK(model.selection.step == 10u);
  move_turn(model, -1);
  CHECK(model.selection.step == 5u);
  select_step(model, 0, 1000);
  CHECK(model.selection.step == 14u);
}

TEST_CASE("bad, missing and truncated files open without crashing, with a message") {
  TempDir dir("ree-view");
  {
    std::ofstream junk(dir / "junk.fb");
    junk << "not a session at all";
  }
  const LoadedSession junk = load_session(dir / "junk.fb");
  CHECK_FALSE(junk.usable());
  CHECK_FALSE(junk.problem.empty());
  const LoadedSession missing = load_session(dir / "missing.fb");
  CHECK_FALSE(missing.usable());
  CHECK(missing.problem.find("cannot open") == 0);
  CHECK(build_document(missing).items.size() == 1);

  SessionSpec spec = base_spec(12);
  spec.turns[2].steps.resize(4);
  spec.turns[2].ended = false;
  spec.finish = false;
  write_spec(dir / "cut.fb", spec);
  const LoadedSession cut = load_session(dir / "cut.fb");
  REQUIRE(cut.usable());
  CHECK(cut.problem.find("truncated") == 0);
  CHECK(cut.step_count() == 28);
  const Document doc = build_document(cut);
  CHECK(doc.items.back().kind == ItemKind::Notice);

  write_spec(dir / "a.fb", base_spec(12));
  ViewerModel mixed = open_laid_out({dir / "a.fb", dir / "junk.fb"});
  CHECK_FALSE(mixed.comparison);
  CHECK_FALSE(mixed.comparison_error.empty());
  ViewerModel with_cut = open_laid_out({dir / "a.fb", dir / "cut.fb"});
  REQUIRE(with_cut.comparison);
  CHECK_FALSE(with_cut.comparison->identical());
  CHECK(step_status(with_cut, 0, 24 + 6) == StepStatus::Unpaired);
}

// Whatever the reader accepts of a damaged file, the viewer and the diff
// must handle: every single-byte flip at 300 positions and 40 cut lengths of
// a real-format session, opened alone and against the original, laid out,
// searched, stepped through.
TEST_CASE("damaged files: opening, comparing, laying out and navigating never fail") {
  TempDir dir("ree-view-damage");
  write_spec(dir / "a.fb", base_spec(10));
  std::ifstream in(dir / "a.fb", std::ios::binary);
  const std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(original.size() > 1000);
  auto exercise = [&dir](const std::string& bytes) {
    {
      std::ofstream out(dir / "damaged.fb", std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    ViewerModel model = open_laid_out({dir / "a.fb", dir / "damaged.fb"}, 220.0f);
    run_search(model, "e");
    for (int i = 0; i < 3; ++i) jump_search_hit(model, true);
    while (jump_target(model, true)) {
    }
    for (int side = 0; side < 2; ++side)
      for (uint64_t s = 0; s < model.sides[side].session.step_count(); ++s) (void)step_status(model, side, s);
    move_turn(model, 1);
    move_step(model, 1);
    ViewerModel alone = open_laid_out({dir / "damaged.fb"}, 220.0f);
    move_step(alone, 1);
    // The window never presents a damaged file as valid: it always says why.
    CHECK_FALSE(alone.sides[0].session.problem.empty());
  };
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int i = 0; i < 300; ++i) {
    std::string bytes = original;
    bytes[next() % bytes.size()] ^= static_cast<char>(1 + next() % 255);
    exercise(bytes);
  }
  for (int i = 0; i < 40; ++i) exercise(original.substr(0, next() % original.size()));
}

TEST_CASE("timeline columns hold the smallest margin and largest entropy of their steps") {
  std::vector<float> margin(1000), entropy(1000);
  for (size_t i = 0; i < margin.size(); ++i) {
    margin[i] = 1.0f + static_cast<float>((i * 7919) % 101);
    entropy[i] = static_cast<float>((i * 104729) % 97) / 10.0f;
  }
  margin[517] = 0.001f;
  const std::vector<TimelineColumn> columns = timeline_columns(margin, entropy, 64);
  REQUIRE(columns.size() == 64);
  uint64_t next = 0;
  for (const TimelineColumn& c : columns) {
    CHECK(c.first_step == next);
    float min_margin = INFINITY, max_entropy = 0.0f;
    for (uint64_t s = c.first_step; s < c.end_step; ++s) {
      min_margin = std::min(min_margin, margin[s]);
      max_entropy = std::max(max_entropy, entropy[s]);
    }
    CHECK(c.min_margin == min_margin);
    CHECK(c.max_entropy == max_entropy);
    next = c.end_step;
  }
  CHECK(next == 1000);
  CHECK(timeline_columns(margin, entropy, 5000).size() == 1000);
  CHECK(step_at(0.0, 100.0, 1000) == 0);
  CHECK(step_at(99.99, 100.0, 1000) == 999);
  CHECK(step_at(x_of_step(517, 640.0, 1000), 640.0, 1000) == 517);
}

TEST_CASE("the PNG writer's output decodes to the same pixels") {
  TempDir dir("ree-view");
  Image image;
  image.width = 37;
  image.height = 11;
  image.channels = 4;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      for (int c = 0; c < 4; ++c) image.pixels.push_back(static_cast<uint8_t>((x * 31 + y * 17 + c * 101) ^ (x * y)));
  write_png(dir / "t.png", image);
  const PngImage back = read_png((dir / "t.png").string());
  CHECK(back.width == 37);
  CHECK(back.height == 11);
  CHECK(back.channels == 4);
  CHECK(back.pixels == image.pixels);
  Image bad = image;
  bad.pixels.pop_back();
  CHECK_THROWS(write_png(dir / "bad.png", bad));
}

}  // namespace
}  // namespace ree::test
