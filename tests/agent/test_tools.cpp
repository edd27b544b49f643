// Tool calls and tools: parsing the <tool_call> convention, the built-ins,
// and external commands that fail in every way a command can (the agent must
// always get a result back, within the timeout, with no process left over).
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <thread>

#include "runtime/agent/tool_call.h"
#include "runtime/agent/tools.h"
#include "runtime/error.h"
#include "test_util.h"

using namespace ree::agent;
using Clock = std::chrono::steady_clock;

namespace {

void write_file(const std::filesystem::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

ToolBox box_with(const std::string& name, const std::string& command, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  ToolConfig c;
  c.external.push_back({name, command});
  c.limits.timeout = timeout;
  return ToolBox(c);
}

}  // namespace

TEST_CASE("tool calls: the convention the sample model was trained on") {
  const auto call = parse_tool_call(R"(<tool_call>{"name": "calc", "arguments": {"expression": "12*7"}}</tool_call>)");
  REQUIRE(call);
  CHECK(call->well_formed);
  CHECK(call->name == "calc");
  CHECK(nlohmann::json::parse(call->arguments) == nlohmann::json{{"expression", "12*7"}});
  CHECK(call->raw_text.rfind("<tool_call>", 0) == 0);
  CHECK(call->parse_error.empty());

  CHECK_FALSE(parse_tool_call("The result is 84."));
  // Prose before the call is allowed; "arguments" may be omitted.
  const auto now = parse_tool_call(R"(Let me check. <tool_call>{"name": "now"}</tool_call>)");
  REQUIRE(now);
  CHECK(now->well_formed);
  CHECK(now->arguments == "{}");
}

TEST_CASE("tool calls: malformed calls are calls, with the reason") {
  struct Case {
    const char* text;
    const char* reason_part;
  };
  for (const Case c : {Case{R"(<tool_call>{"name": "calc", "arguments": {"expression": "1+1"})", "missing </tool_call>"},
                       Case{R"(<tool_call>{"name": "calc", "arguments": {"expression": }}</tool_call>)", "not JSON"},
                       Case{R"(<tool_call>["calc"]</tool_call>)", "not a JSON object"},
                       Case{R"(<tool_call>{"arguments": {}}</tool_call>)", "no \"name\""},
                       Case{R"(<tool_call>{"name": 5}</tool_call>)", "no \"name\""},
                       Case{R"(<tool_call>{"name": "calc", "arguments": "12*7"}</tool_call>)", "not an object"}}) {
    const auto call = parse_tool_call(c.text);
    INFO(c.text);
    REQUIRE(call);
    CHECK_FALSE(call->well_formed);
    CHECK(call->parse_error.find(c.reason_part) != std::string::npos);
    CHECK(call->arguments.empty());
  }
}

TEST_CASE("built-in tools") {
  ToolBox box(ToolConfig{});
  auto r = box.run("calc", R"({"expression": "15/4"})");
  CHECK(r.status == ToolStatus::Ok);
  CHECK(r.output == "3.75");
  r = box.run("calc", R"({"expression": "10/3"})");
  CHECK(r.output == "3.3333333333");
  // The error texts are samples/sample-model/tools.py's, word for word (the sample
  // model was trained on them).
  r = box.run("calc", R"({"expression": "1/0"})");
  CHECK(r.status == ToolStatus::Error);
  CHECK(r.output == "error: division by zero");
  r = box.run("calc", R"({"expression": "2^3"})");
  CHECK(r.status == ToolStatus::Error);
  CHECK(r.output == "error: invalid expression");
  r = box.run("calc", R"({"expression": 5})");
  CHECK(r.output == "error: invalid expression");
  for (const char* bad : {R"({"expr": "1"})", R"({"expression": "1", "x": 2})", "{}", "not json", "[1]"}) {
    r = box.run("calc", bad);
    INFO(bad);
    CHECK(r.status == ToolStatus::Error);
    CHECK(r.output == "error: invalid arguments");
  }
  CHECK(box.run("now", R"({"tz": "UTC"})").output == "error: invalid arguments");
  r = box.run("now", "{}");
  CHECK(r.status == ToolStatus::Ok);
  // 2026-11-22T06:31:05Z
  REQUIRE(r.output.size() == 20);
  CHECK(r.output[4] == '-');
  CHECK(r.output[10] == 'T');
  CHECK(r.output[19] == 'Z');
  r = box.run("weather", "{}");
  CHECK(r.status == ToolStatus::Error);
  CHECK(r.output == "error: unknown tool: weather");
  CHECK_FALSE(box.deterministic("now"));
  CHECK(box.deterministic("calc"));
}

TEST_CASE("read_file stays inside --read-dir") {
  ree::test::TempDir dir("ree-readfile");
  const auto root = dir / "root";
  std::filesystem::create_directories(root / "sub");
  write_file(root / "notes.txt", "the meeting moved to Friday at 10");
  write_file(root / "sub" / "a.txt", "inner");
  write_file(dir / "secret.txt", "do not read");
  std::filesystem::create_symlink(dir / "secret.txt", root / "link-out.txt");
  std::filesystem::create_symlink(root / "notes.txt", root / "link-in.txt");
  write_file(root / "big.txt", std::string(kMaxReadFileBytes + 1, 'x'));

  ToolConfig c;
  c.read_dir = root;
  ToolBox box(c);
  auto read = [&](const std::string& path) { return box.run("read_file", nlohmann::json{{"path", path}}.dump()); };
  CHECK(read("notes.txt").output == "the meeting moved to Friday at 10");
  CHECK(read("sub/a.txt").output == "inner");
  CHECK(read("sub/../notes.txt").output == "the meeting moved to Friday at 10");
  CHECK(read("link-in.txt").output == "the meeting moved to Friday at 10");
  for (const std::string& escape : {std::string("../secret.txt"), std::string("link-out.txt"),
                                    (dir / "secret.txt").string(), std::string("sub/../../secret.txt")}) {
    const auto r = read(escape);
    INFO(escape << " -> " << r.output);
    CHECK(r.status == ToolStatus::Error);
    CHECK(r.output.find("do not read") == std::string::npos);
    CHECK(r.output.find("outside") != std::string::npos);
  }
  CHECK(read("missing.txt").output == "error: no such file: missing.txt");
  CHECK(read("").output == "error: no such file: ");
  CHECK(box.run("read_file", R"({"path": 3})").output == "error: invalid arguments");
  CHECK(box.run("read_file", R"({"path": "notes.txt", "lines": 2})").output == "error: invalid arguments");
  CHECK(read("sub").output.find("not a regular file") != std::string::npos);
  CHECK(read("big.txt").output.find("more than the limit") != std::string::npos);
  CHECK(box.run("read_file", "{}").status == ToolStatus::Error);

  ToolBox disabled(ToolConfig{});
  CHECK(disabled.run("read_file", R"({"path": "notes.txt"})").output.find("disabled") != std::string::npos);
}

TEST_CASE("external tools: arguments on stdin, stdout is the result") {
  const auto box = box_with("echo_args", "cat");
  const auto r = box.run("echo_args", R"({"x":1})");
  CHECK(r.status == ToolStatus::Ok);
  CHECK(r.output == R"({"x":1})");
  CHECK(r.exit_code == 0);
  // One trailing newline is dropped; an external tool of a built-in's name replaces it.
  const auto calc = box_with("calc", "echo 85");
  CHECK(calc.run("calc", R"({"expression": "12*7"})").output == "85");
}

TEST_CASE("external tools: non-zero exit, signals, missing commands") {
  auto r = box_with("t", "echo 'bad input' >&2; exit 3").run("t", "{}");
  CHECK(r.status == ToolStatus::Error);
  CHECK(r.exit_code == 3);
  CHECK(r.output == "error: tool 't' exited with status 3: bad input");

  r = box_with("t", "kill -TERM $$").run("t", "{}");
  CHECK(r.status == ToolStatus::Error);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK(r.output.find("killed by signal 15") != std::string::npos);

  r = box_with("t", "/nonexistent/tool").run("t", "{}");
  CHECK(r.status == ToolStatus::Error);
  CHECK(r.exit_code == 127);

  // A tool that never reads its (large) stdin must not hang or kill the agent with SIGPIPE.
  r = box_with("t", "echo done").run("t", std::string(4 << 20, 'x'));
  CHECK(r.status == ToolStatus::Ok);
  CHECK(r.output == "done");
}

TEST_CASE("external tools: a hanging tool times out, its whole process group is killed") {
  // The background grandchild would live 27 s more if the kill missed it;
  // its unusual sleep length makes it findable in the process table.
  const std::string cmd = "sleep 27.1828 & sleep 30";
  const auto t0 = Clock::now();
  const auto r = box_with("slow", cmd, std::chrono::milliseconds(300)).run("slow", "{}");
  const auto elapsed = Clock::now() - t0;
  CHECK(r.status == ToolStatus::Timeout);
  CHECK(r.output == "error: tool 'slow' timed out after 300 ms");
  CHECK(r.exit_code == -1);
  CHECK(elapsed < std::chrono::seconds(2));
  // SIGKILL went to the group; the kernel may take a moment to tear the
  // processes down, so look until they are gone (bounded, far below 27 s).
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = std::system("pgrep -f '[s]leep 27.1828' > /dev/null") != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(gone);
}

TEST_CASE("external tools: oversized output is cut off and flagged") {
  ToolConfig c;
  c.external.push_back({"flood", "yes"});
  c.limits.max_output_bytes = 1000;
  ToolBox box(c);
  const auto t0 = Clock::now();
  const auto r = box.run("flood", "{}");
  CHECK(Clock::now() - t0 < std::chrono::seconds(5));
  CHECK(r.status == ToolStatus::Error);
  REQUIRE(r.output.size() > 1000);
  CHECK(r.output.substr(0, 1000) == [] {
    std::string s;
    while (s.size() < 1000) s += "y\n";
    return s.substr(0, 1000);
  }());
  CHECK(r.output.find("[truncated: the output of tool 'flood' exceeded 1000 bytes]") != std::string::npos);
}

TEST_CASE("external tools: an interrupted agent stops the tool") {
  std::atomic<bool> interrupt{true};
  ToolConfig c;
  c.external.push_back({"slow", "sleep 30"});
  c.limits.interrupt = &interrupt;
  const auto t0 = Clock::now();
  const auto r = ToolBox(c).run("slow", "{}");
  CHECK(Clock::now() - t0 < std::chrono::seconds(5));
  CHECK(r.status == ToolStatus::Error);
  CHECK(r.output.find("interrupted") != std::string::npos);
}

TEST_CASE("--tool flag parsing") {
  const auto t = parse_tool_flag("weather=curl -s example.invalid");
  CHECK(t.name == "weather");
  CHECK(t.command == "curl -s example.invalid");
  CHECK_THROWS_AS(parse_tool_flag("noequals"), ree::Error);
  CHECK_THROWS_AS(parse_tool_flag("=cmd"), ree::Error);
  CHECK_THROWS_AS(parse_tool_flag("bad name=cmd"), ree::Error);
  CHECK_THROWS_AS(parse_tool_flag("x="), ree::Error);
}
