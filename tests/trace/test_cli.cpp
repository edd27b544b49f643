// `ree verify`, `ree inspect` and `ree keygen` through the real binary:
// exit codes (0 valid, 1 invalid, 3 truncated, 2 usage/unreadable/newer),
// JSON output that parses and agrees with the library, key files.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "testing.h"
#include "trace/reader.h"
#include "trace/synthetic.h"

using namespace ree::trace;
using ree::trace::testing::run_command;

namespace {

std::string cli(const std::string& args) { return std::string(REE_CLI) + " " + args + " 2>/dev/null"; }

}  // namespace

TEST_CASE("ree verify: exit codes and JSON for valid, truncated, tampered, newer and missing files") {
  testing::ScratchDir dir;
  SyntheticShape shape;
  FinishedSession done = write_synthetic_session(dir / "s.fb", shape, 5);
  std::string out;

  CHECK(run_command(cli("verify " + (dir / "s.fb").string() + " --json"), &out) == 0);
  auto j = nlohmann::json::parse(out);
  CHECK(j["status"] == "valid");
  CHECK(j["receipt"] == to_hex(done.receipt));
  CHECK(j["counts"]["step"] == 10);

  std::vector<uint8_t> bytes = testing::read_bytes(dir / "s.fb");
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 3);
  testing::write_bytes(dir / "cut.fb", cut);
  CHECK(run_command(cli("verify " + (dir / "cut.fb").string()), &out) == 3);
  CHECK(out.find("complete prefix recovered") != std::string::npos);

  std::vector<uint8_t> flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x40;
  testing::write_bytes(dir / "flip.fb", flipped);
  CHECK(run_command(cli("verify " + (dir / "flip.fb").string()), &out) == 1);

  CHECK(run_command(cli("verify " + (dir / "missing.fb").string())) == 2);
  CHECK(run_command(cli("verify")) == 2);  // usage

  // A key is required: unsigned is invalid; signed by the key is valid.
  CHECK(run_command(cli("keygen --out " + (dir / "key").string() + " --json"), &out) == 0);
  CHECK(nlohmann::json::parse(out)["public_key"] == (dir / "key.pub").string());
  CHECK(run_command(cli("keygen --out " + (dir / "key").string())) == 2);  // refuses to overwrite
  CHECK(run_command(cli("verify " + (dir / "s.fb").string() + " --pubkey " + (dir / "key.pub").string())) == 1);
  WriterOptions options;
  options.signing_key = read_secret_key(dir / "key");
  write_synthetic_session(dir / "signed.fb", shape, 5, options);
  CHECK(run_command(cli("verify " + (dir / "signed.fb").string() + " --pubkey " + (dir / "key.pub").string() +
                        " --json"),
                    &out) == 0);
  CHECK(nlohmann::json::parse(out)["signature"] == "trusted");
}

TEST_CASE("ree inspect: text with token boundaries, JSON with a step range") {
  testing::ScratchDir dir;
  SyntheticShape shape;
  write_synthetic_session(dir / "s.fb", shape, 6);
  std::string out;
  CHECK(run_command(cli("inspect " + (dir / "s.fb").string()), &out) == 0);
  // The first turn's text, piece by piece, between bars.
  std::string expected = "|";
  for (uint32_t i = 0; i < 6; ++i) {
    std::string piece = synthetic_step(shape, 0, i).piece;
    if (piece == "\n") piece = "\\n";
    expected += piece + "|";
  }
  CHECK(out.find(expected) != std::string::npos);
  CHECK(out.find("tool call 0: calculator") != std::string::npos);
  CHECK(out.find("checkpoint \"after-tool\"") != std::string::npos);

  CHECK(run_command(cli("inspect " + (dir / "s.fb").string() + " --json --steps 2:5"), &out) == 0);
  auto j = nlohmann::json::parse(out);
  size_t steps = 0;
  for (const auto& r : j["records"]) {
    if (r["kind"] == "step") ++steps;
  }
  CHECK(steps == 3);
  CHECK(j["header"]["model"]["name"] == "synthetic-llama");
  CHECK(j["verify"]["status"] == "valid");

  CHECK(run_command(cli("inspect " + (dir / "s.fb").string() + " --steps 5:2")) == 2);
  CHECK(run_command(cli("inspect " + (dir / "s.fb").string() + " --steps x")) == 2);

  // A truncated file is still shown, with verify's exit code.
  std::vector<uint8_t> bytes = testing::read_bytes(dir / "s.fb");
  bytes.resize(bytes.size() - 5);
  testing::write_bytes(dir / "cut.fb", bytes);
  CHECK(run_command(cli("inspect " + (dir / "cut.fb").string()), &out) == 3);
  CHECK(out.find(expected) != std::string::npos);
}
