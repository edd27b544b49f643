// The CLI as a user meets it: `ree --version`, `ree info`, `ree run`, and
// one-line errors with exit code 2 for bad input.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "runtime/model.h"
#include "test_util.h"

using namespace ree;

namespace {
int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}
}  // namespace

TEST_CASE("version and info") {
  auto v = test::run_ree("--version");
  CHECK(v.exit_code == 0);
  CHECK(v.output.find("repro-v1") != std::string::npos);
  auto info = test::run_ree("info --json", false);
  REQUIRE(info.exit_code == 0);
  const auto j = nlohmann::json::parse(info.output);
  CHECK(j["contract"] == "repro-v1");
  CHECK(j["simd"].is_string());
  CHECK(j["cuda"].is_string());
}

TEST_CASE("ree run prints steps with logits hashes, identical across threads and chunks") {
  test::TempDir dir;
  const auto model = dir / "m";
  REQUIRE(test::run_ree("synth --shape test --dtype bf16 --format hf --seed 3 --out " + test::quote(model)).exit_code == 0);
  const std::string base = "run --model " + test::quote(model) + " --prompt 'hello world' --max-tokens 12 --json";
  const auto a = test::run_ree(base + " --threads 1", false);
  REQUIRE_MESSAGE(a.exit_code == 0, a.output);
  const auto ja = nlohmann::json::parse(a.output);
  REQUIRE(ja["steps"].size() == 12);
  for (const auto& s : ja["steps"]) {
    CHECK(s["logits_hash"].get<std::string>().size() == 16);
    CHECK(s.contains("piece"));
  }
  const auto b = test::run_ree(base + " --threads 2 --prefill-chunk 1", false);
  REQUIRE(b.exit_code == 0);
  CHECK(nlohmann::json::parse(b.output)["steps"] == ja["steps"]);
  const auto plain = test::run_ree("run --model " + test::quote(model) + " --prompt 'hello world' --max-tokens 12", false);
  CHECK(plain.exit_code == 0);
  // Plain output is the generated pieces, byte for byte (JSON replaces
  // invalid UTF-8 of partial byte-fallback pieces, so compare with the tokenizer).
  const Model m = load_model(model, LoadOptions{nullptr, false});
  std::string expected;
  for (const auto& s : ja["steps"]) {
    const int32_t id = s["token"].get<int32_t>();
    if (id != m.config.eos_id) expected += m.tokenizer.piece_text(id);
  }
  CHECK(plain.output == expected + "\n");
}

TEST_CASE("bad input: one line, exit code 2") {
  test::TempDir dir;
  auto missing = test::run_ree("run --model " + test::quote(dir / "nope") + " --prompt x");
  CHECK(missing.exit_code == 2);
  CHECK(count_lines(missing.output) == 1);
  CHECK(missing.output.find("nope") != std::string::npos);
  auto mode = test::run_ree("run --model " + test::quote(dir / "nope") + " --prompt x --mode wobbly");
  CHECK(mode.exit_code == 2);
  CHECK(count_lines(mode.output) == 1);
  auto usage = test::run_ree("run --prompt x");
  CHECK(usage.exit_code == 2);
  auto nosub = test::run_ree("frobnicate");
  CHECK(nosub.exit_code == 2);
}
