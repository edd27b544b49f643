// ree-diffbench: how long `ree diff` takes on two 1,000,000-step sessions
// (docs/benchmarks.md, "Diff"). Not a test: run it on a quiet machine.
//
//   ree-diffbench [--steps N] [--dir DIR] [--repeat R] [--keep]
//
// Writes three sessions of N steps (two turns, a tool call, a checkpoint)
// with the trace writer: `a`, `same` (a recorded again: only the environment
// differs) and `late` (the logits drift at 90% of the last turn, the token
// diverges at 99%), then times opening both files of a pair (each reader
// verifies its whole file) and the comparison, best of R runs. --keep leaves
// the files in DIR (e.g. to time ree-view on them).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "diff/compare.h"
#include "diff/open_pair.h"
#include "trace/synthetic.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using namespace ree;

struct Variant {
  uint64_t drift_from = UINT64_MAX;   // global step from which the logits hash differs
  uint64_t diverge_at = UINT64_MAX;   // global step whose token differs
  std::string cpu_model = "synthetic";
};

void write_session(const fs::path& path, uint64_t steps, const Variant& v) {
  trace::SyntheticShape shape;
  trace::SessionHeader header = trace::synthetic_header(shape);
  header.environment.cpu_model = v.cpu_model;
  trace::WriterOptions options;
  options.existing = trace::ExistingFile::Overwrite;
  trace::SessionWriter writer(path, header, options);
  const uint64_t per_turn = steps / 2;
  uint64_t global = 0;
  for (uint32_t turn = 0; turn < 2; ++turn) {
    writer.begin_turn(trace::synthetic_turn_start(shape, turn));
    const uint64_t n = turn == 0 ? per_turn : steps - per_turn;
    for (uint64_t i = 0; i < n && global <= v.diverge_at; ++i, ++global) {
      schema::StepT step = trace::synthetic_step(shape, turn, static_cast<uint32_t>(i));
      if (global >= v.drift_from) step.logits_hash ^= 1;
      if (global == v.diverge_at) step.token = step.topk_ids.size() > 1 ? step.topk_ids[1] : step.token + 1;
      writer.step(step);
    }
    schema::TurnEndT end;
    end.stop_reason = turn == 0 ? schema::StopReason::ToolCall : schema::StopReason::Eos;
    writer.end_turn(end);
    if (turn == 0) {
      schema::ToolCallT call;
      call.name = "calc";
      call.arguments = R"({"expression": "6*7"})";
      call.well_formed = true;
      schema::ToolResultT result;
      result.call_index = writer.tool_call(call);
      result.name = "calc";
      result.output = "42";
      writer.tool_result(result, std::chrono::microseconds(10));
    }
  }
  writer.finish();
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU seconds of this process (all threads): less sensitive than wall time
// to other work sharing the machine.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

void time_pair(const char* label, const fs::path& a, const fs::path& b, int repeat) {
  double best_open = 1e9, best_compare = 1e9, best_total = 1e9, best_cpu = 1e9;
  diff::Comparison last;
  for (int r = 0; r < repeat; ++r) {
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    diff::SessionPair pair = diff::open_pair(a, b);
    const double open = seconds_since(t0);
    const auto t1 = Clock::now();
    last = diff::compare_sessions(pair.a, pair.b);
    const double compare = seconds_since(t1);
    best_open = std::min(best_open, open);
    best_compare = std::min(best_compare, compare);
    best_total = std::min(best_total, seconds_since(t0));
    best_cpu = std::min(best_cpu, cpu_seconds() - cpu0);
  }
  std::printf("%-6s open both %.3f s, compare %.3f s, total %.3f s wall (%.3f s CPU, both threads); %s (first: %s)\n",
              label, best_open, best_compare, best_total, best_cpu, last.identical() ? "identical" : "different",
              last.first ? std::string(diff::class_name(last.first->kind)).c_str() : "-");
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t steps = 1000000;
  fs::path dir = fs::temp_directory_path() / "ree-diffbench";
  int repeat = 3;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--keep") keep = true;
    else if (flag == "--steps" && has_value) steps = std::strtoull(argv[++i], nullptr, 10);
    else if (flag == "--dir" && has_value) dir = argv[++i];
    else if (flag == "--repeat" && has_value) repeat = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: ree-diffbench [--steps N] [--dir DIR] [--repeat R] [--keep]\n");
      return 2;
    }
  }
  if (steps < 4 || repeat < 1) {
    std::fprintf(stderr, "ree-diffbench: --steps must be at least 4 and --repeat at least 1\n");
    return 2;
  }
  fs::create_directories(dir);
  const auto t0 = Clock::now();
  Variant same;
  same.cpu_model = "another machine";
  Variant late;
  const uint64_t last_turn = steps / 2;
  late.drift_from = last_turn + (steps - last_turn) * 9 / 10;
  late.diverge_at = last_turn + (steps - last_turn) * 99 / 100;
  write_session(dir / "a.fb", steps, Variant{});
  write_session(dir / "same.fb", steps, same);
  write_session(dir / "late.fb", steps, late);
  std::printf("ree-diffbench: %llu steps per session, files in %s (written in %.1f s), %llu bytes each\n",
              static_cast<unsigned long long>(steps), dir.c_str(), seconds_since(t0),
              static_cast<unsigned long long>(fs::file_size(dir / "a.fb")));
  time_pair("same", dir / "a.fb", dir / "same.fb", repeat);
  time_pair("late", dir / "a.fb", dir / "late.fb", repeat);
  if (!keep)
    for (const char* name : {"a.fb", "same.fb", "late.fb"}) fs::remove(dir / name);
  return 0;
}
