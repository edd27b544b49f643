// `ree diff` as a user runs it: exit codes 0 identical (environment
// ignored), 1 different, 2 usage or input error; --json is the full report.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "session_spec.h"
#include "shell_quote.h"
#include "test_util.h"

namespace ree::test {
namespace {

struct Files {
  TempDir dir{"ree-diff-cli"};
  std::string a = quote_path(dir / "a.fb");
  std::string b = quote_path(dir / "b.fb");
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_CASE("identical sessions exit 0, also when only the environment differs") {
  Files f;
  SessionSpec a = base_spec();
  write_spec(f.dir / "a.fb", a);
  CommandResult same = run_ree("diff " + f.a + " " + f.a);
  CHECK(same.exit_code == 0);
  CHECK(contains(same.output, "IDENTICAL"));
  SessionSpec b = a;
  b.header.environment.gpu_name = "a GPU";
  b.header.run.device = "cuda:0";
  write_spec(f.dir / "b.fb", b);
  CommandResult env = run_ree("diff " + f.a + " " + f.b);
  CHECK(env.exit_code == 0);
  CHECK(contains(env.output, "environment.gpu_name"));
  CHECK(contains(env.output, "run.device"));
  CHECK(contains(env.output, "IDENTICAL (environment differs only)"));
}

TEST_CASE("different sessions exit 1 and name the first divergence") {
  Files f;
  SessionSpec a = base_spec();
  write_spec(f.dir / "a.fb", a);
  SessionSpec b = a;
  schema::StepT& s = b.turns[1].steps[5];
  std::swap(s.topk_ids[0], s.topk_ids[1]);
  s.token = s.topk_ids[0];
  s.logits_hash ^= 1;
  write_spec(f.dir / "b.fb", b);
  CommandResult text = run_ree("diff " + f.a + " " + f.b);
  CHECK(text.exit_code == 1);
  CHECK(contains(text.output, "first token divergence: turn 1, step 5"));
  CHECK(contains(text.output, "DIFFERENT"));

  CommandResult json = run_ree("diff --json " + f.a + " " + f.b, false);
  CHECK(json.exit_code == 1);
  const nlohmann::json report = nlohmann::json::parse(json.output);
  CHECK(report["identical"] == false);
  CHECK(report["first_difference"]["class"] == "token");
  CHECK(report["token_divergence"]["at"]["turn"] == 1);
  CHECK(report["token_divergence"]["at"]["step"] == 5);
  CHECK(report["token_divergence"]["token_b"] == a.turns[1].steps[5].topk_ids[1]);
  CHECK(report["turns"][1]["matched_steps"] == 5);

  CommandResult context = run_ree("diff --json --context 2 " + f.a + " " + f.b, false);
  CHECK(nlohmann::json::parse(context.output)["token_divergence"]["context"].size() == 2);
}

TEST_CASE("a truncated recording differs from the complete one") {
  Files f;
  SessionSpec a = base_spec();
  write_spec(f.dir / "a.fb", a);
  a.finish = false;
  write_spec(f.dir / "b.fb", a);
  CommandResult r = run_ree("diff " + f.a + " " + f.b);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.output, "truncated"));
}

TEST_CASE("usage and input errors exit 2") {
  Files f;
  write_spec(f.dir / "a.fb", base_spec());
  {
    std::ofstream junk(f.dir / "junk.fb");
    junk << "not a session";
  }
  CHECK(run_ree("diff " + f.a).exit_code == 2);
  CHECK(run_ree("diff " + f.a + " " + quote_path(f.dir / "missing.fb")).exit_code == 2);
  CommandResult junk = run_ree("diff " + f.a + " " + quote_path(f.dir / "junk.fb"));
  CHECK(junk.exit_code == 2);
  CHECK(contains(junk.output, "junk.fb"));
  CHECK(run_ree("diff --near-tie -1 " + f.a + " " + f.a).exit_code == 2);
  CHECK(run_ree("diff --help").exit_code == 0);
}

}  // namespace
}  // namespace ree::test
