// `ree synth` and `ree convert` as a user runs them: exit codes, --json,
// --force, and one-line errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "test_util.h"

using ree::test::run_ree;

namespace {

// The arguments joined by spaces. (Built by appending: GCC 12 warns falsely
// (-Wrestrict) about `"literal" + std::string` once inlined.)
std::string args(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

std::string quoted(const std::filesystem::path& p) {
  std::string out(1, '\'');
  out += p.string();
  out += '\'';
  return out;
}

}  // namespace

TEST_CASE("ree synth / convert: success, --json, refusal without --force") {
  ree::test::TempDir dir("ree-gguf-cli");
  const auto hf = dir / "hf";
  auto r = run_ree(args({"synth --shape test --dtype f32 --out", quoted(hf), "--json"}), false);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = nlohmann::json::parse(r.output);
  CHECK(j["shape"] == "test");
  CHECK(j["format"] == "hf");
  CHECK(j["bytes"].get<uint64_t>() > 0);
  CHECK(j["config"]["dim"] == 64);
  CHECK(std::filesystem::exists(hf / "config.json"));
  CHECK(std::filesystem::exists(hf / "model.safetensors"));
  CHECK(std::filesystem::exists(hf / "tokenizer.model"));

  r = run_ree(args({"synth --shape test --dtype f32 --out", quoted(hf)}));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("already exists") != std::string::npos);
  CHECK(run_ree(args({"synth --shape test --dtype bf16 --force --out", quoted(hf)})).exit_code == 0);

  const auto gguf = dir / "m.gguf";
  r = run_ree(args({"convert", quoted(hf), "--json --out", quoted(gguf)}), false);
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.output)["dtype"] == "bf16");
  r = run_ree(args({"convert", quoted(hf), "--dtype q8_0 --out", quoted(gguf)}));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("already exists") != std::string::npos);
  CHECK(run_ree(args({"convert", quoted(hf), "--dtype q8_0 --force --out", quoted(gguf)})).exit_code == 0);
}

TEST_CASE("ree synth / convert: usage and input errors exit 2 with one line") {
  ree::test::TempDir dir("ree-gguf-cli");
  auto r = run_ree(args({"synth --shape test --dtype q8_0 --format hf --out", quoted(dir / "x")}));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("q8_0 cannot be stored in safetensors") != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  CHECK(run_ree(args({"synth --shape llama-70b --dtype f32 --out", quoted(dir / "x")})).exit_code == 2);
  CHECK(run_ree(args({"synth --shape test --out", quoted(dir / "x")})).exit_code == 2);  // --dtype is required
  r = run_ree(args({"convert", quoted(dir / "missing"), "--out", quoted(dir / "y.gguf")}));
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("not a directory") != std::string::npos);
  CHECK(run_ree("synth --help").exit_code == 0);
  CHECK(run_ree("convert --help").exit_code == 0);
}
