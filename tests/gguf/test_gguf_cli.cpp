// `ree synth` and `ree convert` as a user runs them: exit codes, --json,
// --force, and one-line errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "test_util.h"

using ree::test::quote;
using ree::test::run_ree;

TEST_CASE("ree synth / convert: success, --json, refusal without --force") {
  ree::test::TempDir dir("ree-gguf-cli");
  const auto hf = dir / "hf";
  auto r = run_ree("synth --shape test --dtype f32 --out " + quote(hf) + " --json", false);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = nlohmann::json::parse(r.output);
  CHECK(j["shape"] == "test");
  CHECK(j["format"] == "hf");
  CHECK(j["bytes"].get<uint64_t>() > 0);
  CHECK(j["config"]["dim"] == 64);
  CHECK(std::filesystem::exists(hf / "config.json"));
  CHECK(std::filesystem::exists(hf / "model.safetensors"));
  CHECK(std::filesystem::exists(hf / "tokenizer.model"));

  r = run_ree("synth --shape test --dtype f32 --out " + quote(hf));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("already exists") != std::string::npos);
  CHECK(run_ree("synth --shape test --dtype bf16 --out " + quote(hf) + " --force").exit_code == 0);

  const auto gguf = dir / "m.gguf";
  r = run_ree("convert " + quote(hf) + " --out " + quote(gguf) + " --json", false);
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.output)["dtype"] == "bf16");
  r = run_ree("convert " + quote(hf) + " --out " + quote(gguf) + " --dtype q8_0");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("already exists") != std::string::npos);
  CHECK(run_ree("convert " + quote(hf) + " --out " + quote(gguf) + " --dtype q8_0 --force").exit_code == 0);
}

TEST_CASE("ree synth / convert: usage and input errors exit 2 with one line") {
  ree::test::TempDir dir("ree-gguf-cli");
  auto r = run_ree("synth --shape test --dtype q8_0 --format hf --out " + quote(dir / "x"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("q8_0 cannot be stored in safetensors") != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  CHECK(run_ree("synth --shape llama-70b --dtype f32 --out " + quote(dir / "x")).exit_code == 2);
  CHECK(run_ree("synth --shape test --out " + quote(dir / "x")).exit_code == 2);  // --dtype is required
  r = run_ree("convert " + quote(dir / "missing") + " --out " + quote(dir / "y.gguf"));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("not a directory") != std::string::npos);
  CHECK(run_ree("synth --help").exit_code == 0);
  CHECK(run_ree("convert --help").exit_code == 0);
}
