// `ree diff` on sessions recorded for real by `ree agent` with the bundled
// sample model: the contract's invariance (thread count, prefill chunk),
// fast mode against reproducible mode, a different user message in a later
// turn, and a tool that answers differently.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "shell_quote.h"
#include "test_util.h"

namespace ree::test {
namespace {

// Records one session; `input` (chat lines) goes to stdin when not empty.
void record(const std::filesystem::path& out, const std::string& args, const std::string& input = "") {
  std::string command = "agent --export " + quote_path(out) + " --overwrite --max-tokens 48 " + args;
  if (!input.empty()) command += " < " + quote_path(out.string() + ".in");
  if (!input.empty()) {
    FILE* f = std::fopen((out.string() + ".in").c_str(), "w");
    REQUIRE(f);
    std::fputs(input.c_str(), f);
    std::fclose(f);
  }
  const CommandResult r = run_ree(command);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

nlohmann::json diff_json(const std::filesystem::path& a, const std::filesystem::path& b, int expected_exit) {
  const CommandResult r = run_ree("diff --json " + quote_path(a) + " " + quote_path(b), false);
  REQUIRE(r.exit_code == expected_exit);
  return nlohmann::json::parse(r.output);
}

const std::string kCalcPrompt = "--prompt 'What is 17 times 23? Use the calculator.'";

TEST_CASE("the same session recorded with other threads and prefill chunks is identical") {
  TempDir dir("ree-diff-real");
  record(dir / "a.fb", kCalcPrompt + " --threads 1");
  record(dir / "b.fb", kCalcPrompt + " --threads 2 --prefill-chunk 3");
  const nlohmann::json report = diff_json(dir / "a.fb", dir / "b.fb", 0);
  CHECK(report["identical"] == true);
  CHECK(report["environment_differs"] == true);  // run.threads, run.prefill_chunk, start time
  for (const auto& field : report["header"]) CHECK(field["content"] == false);
  CHECK(report["mismatches"].empty());
}

TEST_CASE("fast mode against reproducible mode: the configuration and the logits drift") {
  TempDir dir("ree-diff-real");
  record(dir / "repro.fb", kCalcPrompt + " --threads 1");
  record(dir / "fast.fb", kCalcPrompt + " --threads 2 --mode fast");
  const nlohmann::json report = diff_json(dir / "repro.fb", dir / "fast.fb", 1);
  CHECK(report["first_difference"]["class"] == "header");
  bool mode_listed = false;
  for (const auto& field : report["header"]) mode_listed |= field["field"] == "config.mode" && field["content"] == true;
  CHECK(mode_listed);
  // Fast mode sums in another order: the logits differ from the first step.
  REQUIRE_FALSE(report["first_logits_drift"].is_null());
  CHECK(report["first_logits_drift"]["turn"] == 0);
}

TEST_CASE("a different user message in a later turn is a prompt difference at that turn") {
  TempDir dir("ree-diff-real");
  record(dir / "a.fb", "", "What is 2+3?\nWhat is the capital of France?\n");
  record(dir / "b.fb", "", "What is 2+3?\nWhat is the capital of Spain?\n");
  const nlohmann::json report = diff_json(dir / "a.fb", dir / "b.fb", 1);
  const nlohmann::json& first = report["first_difference"];
  CHECK(first["class"] == "prompt");
  REQUIRE(first["turn"].is_number());
  const int turn = first["turn"];
  CHECK(turn >= 1);
  CHECK(first["what"].get<std::string>().find("Spain") != std::string::npos);
  // Every turn before it agrees completely.
  for (const auto& t : report["turns"]) {
    if (t["turn"].is_null() || t["turn"].get<int>() >= turn) continue;
    CHECK(t["first_class"].is_null());
    CHECK(t["matched_steps"] == t["steps_a"]);
  }
}

TEST_CASE("a tool that answers differently is a tool result difference, then the model parts") {
  TempDir dir("ree-diff-real");
  record(dir / "builtin.fb", kCalcPrompt);
  record(dir / "other.fb", kCalcPrompt + " --tool 'calc=cat >/dev/null; echo 392'");
  const nlohmann::json report = diff_json(dir / "builtin.fb", dir / "other.fb", 1);
  CHECK(report["first_difference"]["class"] == "tool_result");
  CHECK(report["first_difference"]["turn"] == 0);
  CHECK(report["first_difference"]["what"].get<std::string>().find("392") != std::string::npos);
  // The tool call itself (turn 0's generation) was the same.
  CHECK(report["turns"][0]["matched_steps"] == report["turns"][0]["steps_a"]);
}

}  // namespace
}  // namespace ree::test
