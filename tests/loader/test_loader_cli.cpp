// The user's view of a loader error: `ree run` on a broken model prints one
// line and exits with 2.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "loader_test_support.h"
#include "test_util.h"

using namespace ree;

TEST_CASE("the ree CLI turns a loader error into one line and exit code 2") {
  test::TempDir tmp;
  const auto dir = tmp / "model";
  const ModelConfig config = test::tiny_config();
  test::write_tiny_model(dir, config, test::tiny_tensors(config, kernels::DType::F32, 1));
  nlohmann::json j = nlohmann::json::parse(test::read_text(dir / "config.json"));
  j["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  test::write_text(dir / "config.json", j.dump());

  // (not test::quote: with -O2, GCC 12 gives a -Wrestrict false positive there)
  std::string args = "run --model '";
  args.append(dir.string()).append("' --prompt hi");
  const test::CommandResult r = test::run_ree(args);
  INFO("output: " << r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find((dir / "config.json").string() + ": rope_scaling") != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
}
