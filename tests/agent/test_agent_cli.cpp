// `ree agent` end to end, as a user runs it: one-shot, scripted multi-turn
// chat, tool calls (built-in and external, failing ones too) with the
// bundled sample model, and agents interrupted with SIGINT or killed with
// SIGKILL, which must leave sessions that verify and replay.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "agent_test_util.h"
#include "trace/reader.h"

using namespace ree;
using test::sh;
using test::run_ree;
using test::run_ree_json;

namespace {

struct Fixture {
  test::TempDir dir{"ree-agent-cli"};
  std::filesystem::path model = test::synth_test_model(dir);
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// `ree agent ...` as a child with pipes to its stdin and stdout (stderr is
// dropped), so that a test can talk to it and signal it.
class ChildAgent {
 public:
  explicit ChildAgent(const std::vector<std::string>& args) {
    int in[2], out[2];
    REQUIRE(::pipe(in) == 0);
    REQUIRE(::pipe(out) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      const int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 2);
      ::close(in[1]);
      ::close(out[0]);
      std::vector<char*> argv;
      std::string exe = REE_CLI;
      argv.push_back(exe.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(REE_CLI, argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }
  ~ChildAgent() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    close_stdin();
    if (stdout_ >= 0) ::close(stdout_);
  }

  void send_line(const std::string& line) {
    const std::string s = line + "\n";
    REQUIRE(::write(stdin_, s.data(), s.size()) == ssize_t(s.size()));
  }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }
  // The next line of stdout; "" on end of file or after 60 s (a hung agent).
  std::string read_line() {
    for (;;) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 60000) <= 0) return "";
      char buf[4096];
      const ssize_t n = ::read(stdout_, buf, sizeof buf);
      if (n <= 0) return "";
      buffer_.append(buf, size_t(n));
    }
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // Exit code, or 128 + signal.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  std::string buffer_;
};

// Waits (bounded) until `path` exists: the tool script's "I am running" signal.
bool wait_for_file(const std::filesystem::path& path) {
  for (int i = 0; i < 3000; ++i) {
    if (std::filesystem::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

trace::SessionStatus status_of(const std::filesystem::path& p) { return trace::verify_session(p).status; }

void write_script(const std::filesystem::path& p, const std::string& body) {
  std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
  std::filesystem::permissions(p, std::filesystem::perms::owner_all);
}

}  // namespace

TEST_CASE("ree agent --prompt: one answer, a verified session") {
  Fixture& f = fixture();
  const auto s = f.dir / "oneshot.fb";
  int code = -1;
  const auto j = run_ree_json("agent --model " + sh(f.model) + " --prompt 'Hello there' --max-tokens 16 --threads 2 --export " +
                                  sh(s) + " --json",
                              &code);
  CHECK(code == 0);
  CHECK(j["template"] == "chatml");
  CHECK(j["turns"] == 1);
  CHECK(j["steps"].get<int>() >= 1);
  CHECK(j["steps"].get<int>() <= 16);
  trace::SessionReader reader(s);
  CHECK(reader.report().status == trace::SessionStatus::Valid);
  CHECK(trace::to_hex(*reader.report().receipt) == j["receipt"].get<std::string>());
  CHECK(run_ree("verify " + sh(s)).exit_code == 0);
  // The file exists now: refused without --overwrite, replaced with it.
  const auto again = run_ree("agent --model " + sh(f.model) + " --prompt hi --max-tokens 2 --export " + sh(s));
  CHECK(again.exit_code == 2);
  CHECK(again.output.find("already exists") != std::string::npos);
  CHECK(run_ree("agent --model " + sh(f.model) + " --prompt hi --max-tokens 2 --overwrite --export " + sh(s)).exit_code == 0);
}

TEST_CASE("ree agent: scripted multi-turn chat with /checkpoint, /show, /quit") {
  Fixture& f = fixture();
  const auto s = f.dir / "chat.fb";
  const auto script = f.dir / "chat.txt";
  std::ofstream(script) << "first question\n/checkpoint mark {\"k\": [1, 2]}\nsecond question\n/show\n/quit\nnever read\n";
  const auto r = run_ree("agent --model " + sh(f.model) + " --max-tokens 8 --system 'Be brief.' --export " + sh(s) +
                         " < " + sh(script));
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("turn 1 user") != std::string::npos);  // from /show
  trace::SessionReader reader(s);
  REQUIRE(reader.report().status == trace::SessionStatus::Valid);
  REQUIRE(reader.turns().size() == 3);
  CHECK(reader.record(reader.turns()[1].start_record).turn_start()->content()->str() == "first question");
  CHECK(reader.record(reader.turns()[2].start_record).turn_start()->content()->str() == "second question");
  int marks = 0;
  for (size_t i = 0; i < reader.size(); ++i)
    if (const auto* c = reader.record(i).checkpoint(); c && c->label()->str() == "mark") {
      ++marks;
      CHECK(nlohmann::json::parse(c->data()->str()) == nlohmann::json{{"k", {1, 2}}});
      CHECK(i < reader.turns()[2].start_record);
    }
  CHECK(marks == 1);
}

TEST_CASE("ree agent: bad input is exit 2 with one line naming the problem") {
  Fixture& f = fixture();
  for (const std::string& args :
       std::vector<std::string>{"--model /nonexistent/model --prompt hi", "--model " + sh(f.model) + " --prompt hi --template nope",
        "--model " + sh(f.model) + " --prompt hi --tool noequals", "--model " + sh(f.model) + " --prompt hi --top-p 0",
        "--model " + sh(f.model) + " --prompt hi --probe everything",
        "--model " + sh(f.model) + " --prompt hi --read-dir /nonexistent/dir",
        "--model " + sh(f.model) + " --prompt hi --template ree-sample-v1"}) {
    const auto r = run_ree("agent " + args);
    INFO(args << " -> " << r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("ree: error: ") != std::string::npos);
  }
}

TEST_CASE("ree agent with the sample model: tool calls, built-in and external, and their failures") {
  const auto model = test::sample_model();
  if (!model) {
    MESSAGE("skipped: samples/sample-model is missing");
    return;
  }
  Fixture& f = fixture();
  const std::string base = "agent --model " + sh(*model) + " --max-tokens 64 --threads 2 --json --prompt 'What is 12 times 7?'";
  auto tool_entries = [](const nlohmann::json& j, const char* kind) {
    std::vector<nlohmann::json> out;
    for (const auto& e : j["transcript"])
      if (e["kind"] == kind) out.push_back(e);
    return out;
  };

  SUBCASE("built-in calc") {
    const auto s = f.dir / "calc.fb";
    const auto j = run_ree_json(base + " --export " + sh(s));
    const auto calls = tool_entries(j, "tool_call");
    REQUIRE(calls.size() == 1);
    CHECK(calls[0]["name"] == "calc");
    CHECK(calls[0]["well_formed"] == true);
    const auto results = tool_entries(j, "tool_result");
    REQUIRE(results.size() == 1);
    CHECK(results[0]["output"] == "84");
    CHECK(j["answer"].get<std::string>().find("84") != std::string::npos);
    trace::SessionReader reader(s);
    CHECK(reader.report().status == trace::SessionStatus::Valid);
    CHECK(reader.report().counts[size_t(schema::RecordBody::ToolCall)] == 1);
  }
  SUBCASE("an external tool replaces calc: its stdout is the result, its stdin the arguments") {
    const auto script = f.dir / "calc.sh";
    const auto seen = f.dir / "args.json";
    write_script(script, "cat > '" + seen.string() + "'; echo 4242");
    const auto j = run_ree_json(base + " --tool calc=" + sh(script));
    const auto results = tool_entries(j, "tool_result");
    REQUIRE(results.size() == 1);
    CHECK(results[0]["output"] == "4242");
    CHECK(results[0]["ok"] == true);
    std::ifstream in(seen);
    const auto args = nlohmann::json::parse(in);
    CHECK(args.contains("expression"));
  }
  struct Failure {
    const char* name;
    std::string command;
    const char* extra;
    const char* output_part;
  };
  // Inline commands (not scripts): the tool process is the one that fails.
  for (const Failure& fail :
       {Failure{"timeout", "sleep 20", " --tool-timeout 0.3", "timed out after 300 ms"},
        Failure{"non-zero exit", "echo \"no such thing\" >&2; exit 4", "", "exited with status 4: no such thing"},
        Failure{"oversized output", "yes x | head -c 100000", "", "exceeded 65536 bytes"},
        Failure{"killed by a signal", "kill -KILL $$", "", "killed by signal 9"}}) {
    SUBCASE(fail.name) {
      const auto s = f.dir / "fail.fb";
      int code = -1;
      const auto j = run_ree_json(base + " --overwrite --export " + sh(s) + " --tool " + sh("calc=" + fail.command) + fail.extra,
                                  &code);
      CHECK(code == 0);  // a failing tool is a result, never a failed agent
      const auto results = tool_entries(j, "tool_result");
      REQUIRE(results.size() >= 1);
      CHECK(results[0]["ok"] == false);
      INFO(results[0]["output"]);
      CHECK(results[0]["output"].get<std::string>().find(fail.output_part) != std::string::npos);
      CHECK(status_of(s) == trace::SessionStatus::Valid);
      // The first call's record (the model may go on to call other tools).
      trace::SessionReader reader(s);
      const schema::ToolResult* first = nullptr;
      for (size_t i = 0; i < reader.size() && !first; ++i) first = reader.record(i).tool_result();
      REQUIRE(first);
      CHECK(first->call_index() == 0);
      CHECK(first->status() == (std::string(fail.name) == "timeout" ? schema::ToolStatus::Timeout : schema::ToolStatus::Error));
      if (std::string(fail.name) == "non-zero exit") CHECK(first->exit_code() == 4);
      if (std::string(fail.name) == "killed by a signal") CHECK(first->exit_code() == 128 + 9);
    }
  }
}

TEST_CASE("ree agent interrupted: SIGINT while a tool runs, SIGINT at the prompt, SIGKILL") {
  const auto model = test::sample_model();
  Fixture& f = fixture();
  SUBCASE("SIGINT at the prompt ends the chat cleanly") {
    const auto s = f.dir / "int-prompt.fb";
    ChildAgent agent({"agent", "--model", f.model.string(), "--max-tokens", "8", "--export", s.string(), "--overwrite"});
    agent.send_line("hello");
    agent.read_line();  // the answer: the agent is back at the prompt
    agent.signal(SIGINT);
    agent.close_stdin();  // in case the signal came before the agent started reading
    CHECK(agent.wait() == 0);
    CHECK(status_of(s) == trace::SessionStatus::Valid);
  }
  SUBCASE("SIGKILL at the prompt leaves a truncated session whose prefix replays") {
    const auto s = f.dir / "kill-prompt.fb";
    ChildAgent agent({"agent", "--model", f.model.string(), "--max-tokens", "8", "--export", s.string(), "--overwrite"});
    agent.send_line("hello");
    agent.read_line();
    agent.signal(SIGKILL);
    CHECK(agent.wait() == 128 + SIGKILL);
    const auto report = trace::verify_session(s);
    CHECK(report.status == trace::SessionStatus::Truncated);
    CHECK(report.counts[size_t(schema::RecordBody::Step)] >= 1);
    CHECK(run_ree("verify " + sh(s)).exit_code == 3);
    CHECK(run_ree("replay " + sh(s) + " --model " + sh(f.model) + " --strict").exit_code == 3);
  }
  if (!model) {
    MESSAGE("skipped the tool-run cases: samples/sample-model is missing");
    return;
  }
  for (int sig : {SIGINT, SIGKILL}) {
    SUBCASE(sig == SIGINT ? "SIGINT while a tool runs: the tool is stopped, the session sealed" : "SIGKILL while a tool runs") {
      const auto s = f.dir / "int-tool.fb";
      const auto started = f.dir / (sig == SIGINT ? "started-int" : "started-kill");
      std::filesystem::remove(started);
      const auto script = f.dir / "slow.sh";
      write_script(script, "touch '" + started.string() + "'; sleep 30");
      ChildAgent agent({"agent", "--model", model->string(), "--max-tokens", "64", "--export", s.string(), "--overwrite",
                        "--tool", "calc=" + script.string(), "--prompt", "What is 12 times 7?"});
      REQUIRE(wait_for_file(started));
      agent.signal(sig);
      const int code = agent.wait();
      trace::SessionReader reader(s);
      if (sig == SIGINT) {
        CHECK(code == 3);  // sealed, but cut short
        CHECK(reader.report().status == trace::SessionStatus::Valid);
        bool interrupted_result = false;
        for (size_t i = 0; i < reader.size(); ++i)
          if (const auto* r = reader.record(i).tool_result())
            interrupted_result = r->output()->str().find("interrupted") != std::string::npos;
        CHECK(interrupted_result);
        CHECK(run_ree("replay " + sh(s) + " --strict").exit_code == 0);
      } else {
        CHECK(code == 128 + SIGKILL);
        CHECK(reader.report().status == trace::SessionStatus::Truncated);
        // The tool call was flushed before the tool ran.
        CHECK(reader.report().counts[size_t(schema::RecordBody::ToolCall)] == 1);
        CHECK(run_ree("replay " + sh(s) + " --strict").exit_code == 3);
      }
    }
  }
}

TEST_CASE("ree agent: without --model, the bundled sample model (or a clear message)") {
  const auto r = run_ree("agent --prompt 'Hello!' --max-tokens 16");
  if (test::sample_model()) {
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("sample-model") != std::string::npos);
  } else {
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("pass --model") != std::string::npos);
  }
}

TEST_CASE("ree agent --template: the rendered prompt is recorded, so a template change shows") {
  Fixture& f = fixture();
  const auto a = f.dir / "tmpl-a.fb";
  const auto b = f.dir / "tmpl-b.fb";
  REQUIRE(run_ree("agent --model " + sh(f.model) + " --prompt hi --max-tokens 2 --overwrite --export " + sh(a)).exit_code == 0);
  REQUIRE(run_ree("agent --model " + sh(f.model) + " --prompt hi --max-tokens 2 --template zephyr --overwrite --export " +
                  sh(b)).exit_code == 0);
  trace::SessionReader ra(a), rb(b);
  CHECK(ra.header().model()->chat_template_id()->str() == "chatml");
  CHECK(rb.header().model()->chat_template_id()->str() == "zephyr");
  const auto* pa = ra.record(0).turn_start()->prompt_tokens();
  const auto* pb = rb.record(0).turn_start()->prompt_tokens();
  CHECK(std::vector<int32_t>(pa->begin(), pa->end()) != std::vector<int32_t>(pb->begin(), pb->end()));
}
