// The crash test's recorder: writes CrashScript(seed) as fast as it can and
// reports on stdout how many records have been handed to the OS, so the
// test (which SIGKILLs it at a random moment) knows what must survive.
//   trace_crash_child PATH SEED TURNS STEPS_PER_TURN
// stdout lines: "header", "flushed N" (whenever N grows), "done N RECEIPT".
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "crash_script.h"
#include "trace/writer.h"

using namespace ree::trace;

namespace {

// Unbuffered, so that a report is in the pipe before the next record.
void report(const std::string& line) {
  std::string text = line + "\n";
  if (::write(STDOUT_FILENO, text.data(), text.size()) < 0) std::exit(1);
}

struct Recorder {
  SessionWriter& writer;
  uint64_t reported = 0;

  void after_record() {
    if (writer.records_flushed() != reported) {
      reported = writer.records_flushed();
      report("flushed " + std::to_string(reported));
    }
  }
  void operator()(const schema::TurnStartT& r) { writer.begin_turn(r), after_record(); }
  void operator()(const schema::StepT& r) { writer.step(r), after_record(); }
  void operator()(const schema::TurnEndT& r) { writer.end_turn(r), after_record(); }
  void operator()(const schema::ToolCallT& r) { writer.tool_call(r), after_record(); }
  void operator()(const schema::ToolResultT& r) {
    writer.tool_result(r, std::chrono::microseconds(10)), after_record();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: trace_crash_child PATH SEED TURNS STEPS_PER_TURN\n");
    return 2;
  }
  testing::CrashScript script;
  script.seed = std::strtoull(argv[2], nullptr, 10);
  script.turns = static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10));
  script.steps_per_turn = static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10));
  SessionWriter writer(argv[1], synthetic_header(script.shape()));
  report("header");
  Recorder recorder{writer};
  script.walk(recorder);
  FinishedSession done = writer.finish();
  report("done " + std::to_string(done.records) + " " + to_hex(done.receipt));
  return 0;
}
