// ree-view drawn for real under Xvfb (xvfb-run), on session files written by
// the trace writer: one session, two diverging ones, identical ones, a
// truncated one, a file that is not a session. Each screenshot is decoded
// and checked for the panels and colours that should be there, at the
// places ree-view reports drawing them (--layout-out). Skipped (exit 77)
// only when xvfb-run is not installed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "png_read.h"
#include "session_spec.h"
#include "shell_quote.h"
#include "test_util.h"
#include "theme.h"

namespace ree::test {
namespace {

using viewer::Rgb;

bool have_xvfb_run() { return std::system("command -v xvfb-run >/dev/null 2>&1") == 0; }

void require_xvfb() {
  if (!have_xvfb_run()) {
    std::fprintf(stderr, "xvfb-run is not installed: skipping the screenshot tests\n");
    std::exit(77);
  }
}

struct Shot {
  int exit_code = -1;
  std::string output;
  PngImage image;
  nlohmann::json layout;
};

constexpr int kWidth = 1280;
constexpr int kHeight = 800;

Shot screenshot(const TempDir& dir, const std::string& sessions, const std::string& extra = "") {
  require_xvfb();
  const std::filesystem::path png = dir / "shot.png";
  const std::filesystem::path layout = dir / "shot.json";
  std::filesystem::remove(png);
  std::filesystem::remove(layout);
  const std::string command = "xvfb-run -a -s '-screen 0 1280x1024x24' '" + std::string(REE_VIEW) + "' " + sessions +
                              " --size " + std::to_string(kWidth) + "x" + std::to_string(kHeight) + " --screenshot " +
                              quote_path(png) + " --layout-out " + quote_path(layout) + " " + extra + " 2>&1";
  Shot shot;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) shot.output.append(buffer, n);
  const int status = pclose(pipe);
  shot.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  INFO(shot.output);
  REQUIRE(shot.exit_code == 0);
  shot.image = read_png(png.string());
  std::ifstream layout_file(layout);
  shot.layout = nlohmann::json::parse(layout_file);
  return shot;
}

struct Box {
  int x0, y0, x1, y1;
};

Box box_of(const nlohmann::json& rect) {
  const int x = static_cast<int>(rect[0].get<double>());
  const int y = static_cast<int>(rect[1].get<double>());
  return {x, y, x + static_cast<int>(rect[2].get<double>()), y + static_cast<int>(rect[3].get<double>())};
}

size_t count_colour(const PngImage& image, const Box& box, const Rgb& rgb) {
  size_t count = 0;
  for (int y = std::max(0, box.y0); y < std::min(image.height, box.y1); ++y)
    for (int x = std::max(0, box.x0); x < std::min(image.width, box.x1); ++x) {
      const uint8_t* p = image.at(x, y);
      count += p[0] == rgb.r && p[1] == rgb.g && p[2] == rgb.b;
    }
  return count;
}

size_t distinct_colours(const PngImage& image, const Box& box) {
  std::set<uint32_t> colours;
  for (int y = std::max(0, box.y0); y < std::min(image.height, box.y1); ++y)
    for (int x = std::max(0, box.x0); x < std::min(image.width, box.x1); ++x) {
      const uint8_t* p = image.at(x, y);
      colours.insert(uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16));
    }
  return colours.size();
}

Box panel(const Shot& shot, const char* name) { return box_of(shot.layout["panels"][name]); }

// Every panel was drawn inside the image and holds more than a flat fill.
void check_panels(const Shot& shot) {
  CHECK(shot.image.width == kWidth);
  CHECK(shot.image.height == kHeight);
  for (const char* name : {"toolbar", "header", "summary", "conversation", "inspector", "timeline"}) {
    INFO(name);
    const Box b = panel(shot, name);
    CHECK(b.x0 >= 0);
    CHECK(b.y0 >= 0);
    CHECK(b.x1 <= kWidth);
    CHECK(b.y1 <= kHeight);
    CHECK(b.x1 - b.x0 > 100);
    CHECK(distinct_colours(shot.image, b) > 8);
  }
  CHECK(distinct_colours(shot.image, {0, 0, kWidth, kHeight}) > 60);
}

TEST_CASE("one session: every panel drawn, receipt valid, the selected token outlined") {
  TempDir dir("ree-view-shot");
  write_spec(dir / "a.fb", base_spec(24));
  const Shot shot = screenshot(dir, quote_path(dir / "a.fb"), "--select 30");
  check_panels(shot);
  CHECK(shot.layout["status"][0] == "valid");
  CHECK(shot.layout["selected_step"] == 30);
  CHECK(count_colour(shot.image, panel(shot, "header"), viewer::kValid) > 150);  // the VALID badge
  REQUIRE(shot.layout["selected_cell"].is_array());
  const Box cell = box_of(shot.layout["selected_cell"]);
  // The selection outline is drawn around the cell.
  CHECK(count_colour(shot.image, {cell.x0 - 2, cell.y0 - 2, cell.x1 + 2, cell.y1 + 2}, viewer::kSelection) > 20);
  CHECK(shot.layout["divergence_cells"].empty());
}

TEST_CASE("two diverging sessions: the divergence is selected and highlighted on both sides") {
  TempDir dir("ree-view-shot");
  const SessionSpec a = base_spec(24);
  SessionSpec b = a;
  b.turns[1].steps[4].logits_hash ^= 1;
  schema::StepT& s = b.turns[1].steps[9];
  std::swap(s.topk_ids[0], s.topk_ids[1]);
  s.token = s.topk_ids[0];
  s.logits_hash ^= 1;
  write_spec(dir / "a.fb", a);
  write_spec(dir / "b.fb", b);
  const Shot shot = screenshot(dir, quote_path(dir / "a.fb") + " " + quote_path(dir / "b.fb"));
  check_panels(shot);
  CHECK(shot.layout["identical"] == false);
  CHECK(shot.layout["selected_step"] == 24 + 9);  // opened at the divergence
  REQUIRE(shot.layout["divergence_cells"].size() == 2);
  for (const auto& rect : shot.layout["divergence_cells"]) {
    const Box cell = box_of(rect);
    const size_t area = static_cast<size_t>((cell.x1 - cell.x0) * (cell.y1 - cell.y0));
    // The cell is filled with the highlight colour (its text covers the rest).
    CHECK(count_colour(shot.image, cell, viewer::kDivergence) * 2 > area);
  }
  // The row marker in the conversation's gutter is in the same colour.
  const Box conversation = panel(shot, "conversation");
  CHECK(count_colour(shot.image, {conversation.x0, conversation.y0, conversation.x0 + 30, conversation.y1},
                     viewer::kDivergence) > 50);
  // The drift at step 4 is outlined.
  CHECK(count_colour(shot.image, conversation, viewer::kDrift) > 20);
}

TEST_CASE("identical sessions: no highlight anywhere in the conversation") {
  TempDir dir("ree-view-shot");
  write_spec(dir / "a.fb", base_spec(24));
  const Shot shot = screenshot(dir, quote_path(dir / "a.fb") + " " + quote_path(dir / "a.fb"), "--select 5");
  check_panels(shot);
  CHECK(shot.layout["identical"] == true);
  CHECK(shot.layout["divergence_cells"].empty());
  CHECK(count_colour(shot.image, panel(shot, "conversation"), viewer::kDivergence) == 0);
}

TEST_CASE("a truncated session opens with its intact prefix and the TRUNCATED status") {
  TempDir dir("ree-view-shot");
  SessionSpec spec = base_spec(24);
  spec.turns[2].steps.resize(7);
  spec.turns[2].ended = false;
  spec.finish = false;
  write_spec(dir / "cut.fb", spec);
  const Shot shot = screenshot(dir, quote_path(dir / "cut.fb"), "--select 50");
  check_panels(shot);
  CHECK(shot.layout["status"][0] == "truncated");
  CHECK(shot.layout["selected_step"] == 50);  // a step of the intact prefix
  CHECK(count_colour(shot.image, panel(shot, "header"), viewer::kTruncated) > 150);
}

TEST_CASE("a file that is not a session shows the problem in the window") {
  TempDir dir("ree-view-shot");
  {
    std::ofstream junk(dir / "junk.fb");
    junk << "this is not a session file";
  }
  const Shot shot = screenshot(dir, quote_path(dir / "junk.fb"));
  CHECK(shot.layout["status"][0] == "invalid");
  CHECK(count_colour(shot.image, panel(shot, "header"), viewer::kInvalid) > 150);
  const Shot missing = screenshot(dir, quote_path(dir / "missing.fb"));
  CHECK(missing.layout["status"][0] == "unreadable");
}

// Sessions recorded by `ree agent` with the bundled sample model: one, two
// that part after a tool answers differently, and one cut short the way a
// killed recorder leaves it.
TEST_CASE("real sessions: one, two diverging, truncated") {
  require_xvfb();
  TempDir dir("ree-view-real");
  const std::string prompt = " --prompt 'What is 17 times 23? Use the calculator.' --max-tokens 48";
  const CommandResult a = run_ree("agent --export " + quote_path(dir / "a.fb") + prompt);
  REQUIRE(a.exit_code == 0);
  const CommandResult b =
      run_ree("agent --export " + quote_path(dir / "b.fb") + prompt + " --tool 'calc=cat >/dev/null; echo 392'");
  REQUIRE(b.exit_code == 0);

  const Shot one = screenshot(dir, quote_path(dir / "a.fb"), "--select 3");
  check_panels(one);
  CHECK(one.layout["status"][0] == "valid");
  CHECK(one.layout["selected_cell"].is_array());

  const Shot two = screenshot(dir, quote_path(dir / "a.fb") + " " + quote_path(dir / "b.fb"), "--select divergence");
  check_panels(two);
  CHECK(two.layout["identical"] == false);
  REQUIRE(two.layout["divergence_cells"].size() == 2);
  for (const auto& rect : two.layout["divergence_cells"]) {
    const Box cell = box_of(rect);
    CHECK(count_colour(two.image, cell, viewer::kDivergence) * 2 > static_cast<size_t>((cell.x1 - cell.x0) * (cell.y1 - cell.y0)));
  }

  // Cut the file in the middle of its last frames.
  const auto size = std::filesystem::file_size(dir / "a.fb");
  std::filesystem::copy_file(dir / "a.fb", dir / "cut.fb");
  std::filesystem::resize_file(dir / "cut.fb", size * 2 / 3);
  const Shot cut = screenshot(dir, quote_path(dir / "cut.fb"));
  check_panels(cut);
  CHECK(cut.layout["status"][0] == "truncated");
  CHECK(count_colour(cut.image, panel(cut, "header"), viewer::kTruncated) > 150);
}

TEST_CASE("usage errors exit 2 without opening a window") {
  TempDir dir("ree-view-shot");
  write_spec(dir / "a.fb", base_spec(4));
  auto run = [](const std::string& args) {
    return std::system(("'" + std::string(REE_VIEW) + "' " + args + " >/dev/null 2>&1").c_str());
  };
  CHECK(WEXITSTATUS(run("")) == 2);
  CHECK(WEXITSTATUS(run(quote_path(dir / "a.fb") + " --size 10x10 --screenshot x.png")) == 2);
  CHECK(WEXITSTATUS(run(quote_path(dir / "a.fb") + " --select nowhere --screenshot x.png")) == 2);
  CHECK(WEXITSTATUS(run("--help")) == 0);
}

TEST_CASE("ree view runs the ree-view beside it") {
  TempDir dir("ree-view-cli");
  write_spec(dir / "a.fb", base_spec(4));
  // Without a display ree-view itself says it cannot open a window: the
  // message shows that `ree view` found it and handed over.
  const std::string command = "env -u DISPLAY -u WAYLAND_DISPLAY '" + std::string(REE_CLI) + "' view " +
                              quote_path(dir / "a.fb") + " --select 2 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::string output;
  char buffer[1024];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(output.find("ree-view: cannot open a window") != std::string::npos);
  CHECK(run_ree("view " + quote_path(dir / "a.fb") + " " + quote_path(dir / "a.fb") + " " + quote_path(dir / "a.fb")).exit_code == 2);
  CHECK(run_ree("view --help").exit_code == 0);
}

}  // namespace
}  // namespace ree::test
