// Crash safety: a recording child (crash_child.cpp) is killed with SIGKILL
// at random moments. Whatever moment it dies, the session file is either
// absent (killed before the header was in place), truncated with every
// complete record intact, or valid (it had finished) — and it holds at least
// every record the child reported as handed to the OS. Every surviving
// record is compared byte for byte with what the script says it must be.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include "crash_script.h"
#include "testing.h"
#include "trace/format.h"
#include "trace/reader.h"

using namespace ree::trace;
using ree::trace::testing::CrashScript;

namespace {

struct ChildOutput {
  bool header = false;
  uint64_t flushed = 0;
  bool done = false;
  std::string receipt;
};

ChildOutput parse_output(const std::string& text) {
  ChildOutput out;
  std::istringstream lines(text);
  std::string word;
  while (lines >> word) {
    if (word == "header") out.header = true;
    if (word == "flushed") lines >> out.flushed;
    if (word == "done") {
      uint64_t records = 0;
      lines >> records >> out.receipt;
      out.done = !out.receipt.empty();  // a torn last line is not a report
    }
  }
  return out;
}

// Starts the child with its stdout on a pipe; kills it after `delay`.
ChildOutput run_and_kill(const std::filesystem::path& path, const CrashScript& script,
                         std::chrono::microseconds delay) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::string seed = std::to_string(script.seed), turns = std::to_string(script.turns),
                steps = std::to_string(script.steps_per_turn);
    ::execl(REE_CRASH_CHILD, REE_CRASH_CHILD, path.c_str(), seed.c_str(), turns.c_str(), steps.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  // The random kill moment is the point of the test, not a wait for a result.
  std::this_thread::sleep_for(delay);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  return parse_output(text);
}

// Every record of the intact prefix equals the script's record, byte for byte.
void check_prefix(const SessionReader& session, const CrashScript& script) {
  FrameEncoder encoder;
  SessionHeader header = synthetic_header(script.shape());
  std::span<const uint8_t> expected_header =
      encoder.header(kFormatMinor, header.bound, header.run, header.environment).bound();
  const auto* bound = session.header_frame().bound();
  REQUIRE(bound->size() == expected_header.size());
  CHECK(std::memcmp(bound->data(), expected_header.data(), bound->size()) == 0);

  size_t index = 0;
  size_t mismatches = 0;
  script.walk([&](const auto& record) {
    if (index >= session.size()) return;
    std::span<const uint8_t> expected = encoder.bound_record(record);
    std::span<const uint8_t> actual = session.record(index).bound_bytes();
    if (expected.size() != actual.size() || std::memcmp(expected.data(), actual.data(), actual.size()) != 0) {
      ++mismatches;
    }
    ++index;
  });
  CHECK(mismatches == 0);
  // Nothing beyond the script, except the End record of a finished child.
  CHECK(session.size() <= index + 1);
}

}  // namespace

TEST_CASE("a recorder killed with SIGKILL at random moments leaves a verifiable prefix") {
  testing::ScratchDir dir;
  std::mt19937_64 rng(0x5eed5e55);  // fixed: the same trials every run
  constexpr int kTrials = 80;
  int absent = 0, truncated = 0, valid = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    CrashScript script;
    script.seed = static_cast<uint64_t>(trial) + 1;
    // Half the children are small enough to finish before some kills, half
    // are far too big to finish before any.
    bool big = trial % 2 == 1;
    script.turns = big ? 400 : static_cast<uint32_t>(1 + rng() % 6);
    script.steps_per_turn = static_cast<uint32_t>(20 + rng() % 200);
    auto delay = std::chrono::microseconds(rng() % 40000);
    std::string name = "s";
    name += std::to_string(trial);
    name += ".ree";
    std::filesystem::path path = dir / name;

    ChildOutput child = run_and_kill(path, script, delay);
    INFO("trial " << trial << " seed " << script.seed << " delay " << delay.count() << "us");
    if (!std::filesystem::exists(path)) {
      CHECK(!child.header);  // once reported, the header is in place
      ++absent;
      continue;
    }
    SessionReader session(path);
    const VerifyReport& report = session.report();
    INFO(report.message);
    REQUIRE((report.status == SessionStatus::Truncated || report.status == SessionStatus::Valid));
    REQUIRE(session.has_header());
    CHECK(report.records >= child.flushed);
    if (child.done) {
      CHECK(report.status == SessionStatus::Valid);
      CHECK(to_hex(*report.receipt) == child.receipt);
    }
    if (report.status == SessionStatus::Valid) {
      ++valid;
    } else {
      ++truncated;
    }
    check_prefix(session, script);
  }
  MESSAGE("crash trials: " << truncated << " truncated, " << valid << " finished, " << absent << " before header");
  CHECK(truncated > 0);
}
