// ree-view: a desktop viewer for one session (inspect) or two (compare)
// (docs/viewer.md). Also reachable as `ree view`.
//
//   ree-view a.fb [b.fb] [--select STEP|divergence|drift] [--search TEXT]
//   ree-view a.fb [b.fb] --screenshot out.png [--frames N] [--size WxH] [--layout-out L.json]
//
// Exit codes: 0 ok (also when a file is bad or truncated: the window says
// so), 2 usage error, no display/OpenGL, or the screenshot cannot be written.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "panels.h"
#include "runtime/error.h"

namespace {

using namespace ree::viewer;

struct Options {
  std::vector<std::string> sessions;
  std::string screenshot;
  int frames = 4;
  std::string select;
  std::string search;
  std::string size = "1600x1000";
  std::string layout_out;
  bool timings = false;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::pair<int, int> parse_size(const std::string& text) {
  int w = 0, h = 0;
  char x = 0;
  if (std::sscanf(text.c_str(), "%d%c%d", &w, &x, &h) != 3 || x != 'x' || w < 320 || h < 240 || w > 8192 || h > 8192)
    throw ree::Error("--size: expected WxH between 320x240 and 8192x8192, got \"" + text + "\"");
  return {w, h};
}

void apply_select(ViewerModel& model, const std::string& select) {
  if (select.empty()) return;
  if (select == "divergence") {
    jump_first_divergence(model);
  } else if (select == "drift") {
    jump_first_drift(model);
  } else {
    char* end = nullptr;
    const unsigned long long step = std::strtoull(select.c_str(), &end, 10);
    if (end == select.c_str() || *end != '\0')
      throw ree::Error("--select: expected a step number, \"divergence\" or \"drift\", got \"" + select + "\"");
    select_step(model, 0, step);
  }
}

nlohmann::json rect_json(const Rect& r) { return {r.x, r.y, r.w, r.h}; }

void write_layout(const std::string& path, const FrameReport& report, const ViewerModel& model, int width, int height) {
  nlohmann::json cells = nlohmann::json::array();
  for (const Rect& r : report.divergence_cells) cells.push_back(rect_json(r));
  nlohmann::json statuses = nlohmann::json::array();
  for (const SideView& side : model.sides)
    statuses.push_back(side.session.reader ? std::string(ree::trace::status_name(side.session.reader->report().status))
                                           : std::string("unreadable"));
  nlohmann::json out = {{"size", {width, height}},
                        {"panels",
                         {{"toolbar", rect_json(report.toolbar)},
                          {"header", rect_json(report.header)},
                          {"summary", rect_json(report.summary)},
                          {"conversation", rect_json(report.conversation)},
                          {"inspector", rect_json(report.inspector)},
                          {"timeline", rect_json(report.timeline)}}},
                        {"divergence_cells", cells},
                        {"selected_cell", report.selected_cell ? rect_json(*report.selected_cell) : nlohmann::json(nullptr)},
                        {"selected_step", model.selection.step ? nlohmann::json(*model.selection.step) : nlohmann::json(nullptr)},
                        {"rows", model.rows.size()},
                        {"first_visible_row", report.first_visible_row},
                        {"visible_rows", report.visible_rows},
                        {"status", statuses},
                        {"identical", model.comparison ? nlohmann::json(model.comparison->identical()) : nlohmann::json(nullptr)}};
  std::ofstream file(path);
  file << out.dump(2) << "\n";
  if (!file) throw ree::file_error(path, "cannot write the layout report");
}

int run(const Options& options) {
  const auto [width, height] = parse_size(options.size);
  if (options.frames < 1 || options.frames > 1000) throw ree::Error("--frames: expected 1 to 1000");
  std::vector<std::filesystem::path> paths(options.sessions.begin(), options.sessions.end());
  const auto opening = Clock::now();
  ViewerModel model = open_model(paths);
  const double open_seconds = seconds_since(opening);
  apply_select(model, options.select);

  WindowOptions window_options;
  window_options.width = width;
  window_options.height = height;
  window_options.offscreen = !options.screenshot.empty();
  window_options.title = "ree-view  " + options.sessions[0] + (options.sessions.size() > 1 ? "  vs  " + options.sessions[1] : "");
  if (options.timings) std::fprintf(stderr, "ree-view: sessions opened (verified, indexed, compared) in %.3f s\n", open_seconds);
  Window window(window_options);
  UiState state;
  if (!options.search.empty()) {
    std::snprintf(state.search_text, sizeof state.search_text, "%s", options.search.c_str());
  }

  FrameReport report;
  if (window_options.offscreen) {
    Image image;
    for (int frame = 0; frame < options.frames; ++frame) {
      report = FrameReport{};
      window.begin_frame(false);
      Ui ui{model, window.fonts(), state, report};
      const auto frame_start = Clock::now();
      draw_frame(ui);
      if (options.timings)
        std::fprintf(stderr, "ree-view: frame %d built in %.3f s%s\n", frame, seconds_since(frame_start),
                     frame == 0 ? " (measures and lays out the text)" : "");
      // The layout exists after the first frame: search and selection can
      // then place themselves.
      if (frame == 0 && !options.search.empty()) run_search(model, options.search, 0);
      if (frame == 0) apply_select(model, options.select);
      window.end_frame(frame + 1 == options.frames ? &image : nullptr);
    }
    write_png(options.screenshot, image);
    if (!options.layout_out.empty()) write_layout(options.layout_out, report, model, width, height);
    return 0;
  }
  bool searched = options.search.empty();
  while (!window.should_close()) {
    report = FrameReport{};
    window.begin_frame(true);
    Ui ui{model, window.fonts(), state, report};
    draw_frame(ui);
    if (!searched) {
      run_search(model, options.search, 0);
      searched = true;
    }
    window.end_frame();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ree-view: look at one session, or compare two (docs/viewer.md)"};
  Options options;
  app.add_option("sessions", options.sessions, "one session file, or two to compare")->required()->expected(1, 2);
  app.add_option("--select", options.select, "select a step on opening: a number (0-based, session a), divergence or drift");
  app.add_option("--search", options.search, "search for this text on opening");
  app.add_option("--screenshot", options.screenshot, "render without showing a window and write this PNG");
  app.add_option("--frames", options.frames, "frames to render before the screenshot")->capture_default_str();
  app.add_option("--size", options.size, "window or screenshot size WxH")->capture_default_str();
  app.add_option("--layout-out", options.layout_out, "with --screenshot: write where the panels were drawn (JSON)");
  app.add_flag("--timings", options.timings, "print how long opening and each frame took (stderr)");
  app.footer("Keys: arrows step/turn, N/P next/previous difference, F first divergence, D first drift, Ctrl+F search.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return run(options);
  } catch (const ree::Error& e) {
    std::fprintf(stderr, "ree-view: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ree-view: internal error: %s\n", e.what());
    return 4;
  }
}
