// ree-tracebench: how fast session files are written and read.
//   ree-tracebench [--steps N] [--turn-steps M] [--topk K] [--probes L] [--out PATH] [--json]
// Writes an N-step session (turns of M steps, synthetic but realistic step
// content: top-K ids and logits, piece text, optional 4*L layer hashes), then
// opens it (map + verify every frame, order, chain, envelope, seal) and walks
// every step reading its token and logits hash. Prints the figures recorded
// in docs/benchmarks.md ("Session files"). Not a test: run it on a quiet machine.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "trace/reader.h"
#include "trace/synthetic.h"
#include "trace/writer.h"

using namespace ree::trace;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  uint64_t steps = 1000000;
  uint32_t turn_steps = 10000;
  uint16_t topk = 8;
  int probe_layers = 0;  // 0: no probes
  std::string out;
  bool json = false;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU time of this thread: on a shared machine wall time includes waiting for
// a core; CPU time is what the work itself costs.
double cpu_seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double thread_cpu_seconds() { return cpu_seconds(CLOCK_THREAD_CPUTIME_ID); }
// All threads (the reader hashes the receipt chain on a helper thread).
double process_cpu_seconds() { return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID); }

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ree-tracebench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--steps") o.steps = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--turn-steps") o.turn_steps = static_cast<uint32_t>(std::strtoul(value().c_str(), nullptr, 10));
    else if (a == "--topk") o.topk = static_cast<uint16_t>(std::strtoul(value().c_str(), nullptr, 10));
    else if (a == "--probes") o.probe_layers = std::atoi(value().c_str());
    else if (a == "--out") o.out = value();
    else if (a == "--json") o.json = true;
    else {
      std::fprintf(stderr,
                   "usage: ree-tracebench [--steps N] [--turn-steps M] [--topk K] [--probes LAYERS] [--out PATH] "
                   "[--json]\n");
      std::exit(2);
    }
  }
  if (o.turn_steps == 0) o.turn_steps = 1;
  return o;
}

struct WriteFigures {
  double seconds = 0;        // whole write, header to seal (wall)
  double cpu_seconds = 0;    // the same, CPU time of the writing thread
  double step_seconds = 0;   // inside writer.step() only (wall)
  uint64_t bytes = 0;
};

WriteFigures write_session(const Options& o, const std::filesystem::path& path) {
  SyntheticShape shape;
  shape.topk_width = o.topk;
  shape.probes = o.probe_layers > 0;
  shape.layers = o.probe_layers;
  // A pool of distinct steps, generated before timing: the benchmark times
  // the writer, not the synthetic generator.
  std::vector<schema::StepT> pool;
  for (uint32_t i = 0; i < 4096; ++i) pool.push_back(synthetic_step(shape, 0, i));

  WriterOptions options;
  options.existing = ExistingFile::Overwrite;
  WriteFigures f;
  Clock::time_point t0 = Clock::now();
  double cpu0 = thread_cpu_seconds();
  SessionWriter writer(path, synthetic_header(shape), options);
  Clock::duration in_step{};
  uint64_t written = 0;
  for (uint32_t turn = 0; written < o.steps; ++turn) {
    writer.begin_turn(synthetic_turn_start(shape, turn));
    for (uint32_t i = 0; i < o.turn_steps && written < o.steps; ++i, ++written) {
      schema::StepT& step = pool[written % pool.size()];
      step.position = static_cast<int64_t>(i);
      Clock::time_point s0 = Clock::now();
      writer.step(step);
      in_step += Clock::now() - s0;
    }
    schema::TurnEndT end;
    end.stop_reason = schema::StopReason::MaxTokens;
    writer.end_turn(end);
  }
  FinishedSession done = writer.finish();
  f.seconds = seconds_since(t0);
  f.cpu_seconds = thread_cpu_seconds() - cpu0;
  f.step_seconds = std::chrono::duration<double>(in_step).count();
  f.bytes = done.bytes;
  return f;
}

struct ReadFigures {
  double open_seconds = 0;  // map + verify everything (wall)
  double open_cpu_seconds = 0;      // the opening thread
  double open_process_cpu_seconds = 0;  // all threads
  double walk_seconds = 0;  // visit every step, read token and hash (wall)
  uint64_t steps = 0;
  uint64_t checksum = 0;    // keeps the walk from being optimised away
  std::string status;
};

ReadFigures read_session(const std::filesystem::path& path) {
  ReadFigures f;
  Clock::time_point t0 = Clock::now();
  double cpu0 = thread_cpu_seconds();
  double process0 = process_cpu_seconds();
  SessionReader session(path);
  f.open_seconds = seconds_since(t0);
  f.open_cpu_seconds = thread_cpu_seconds() - cpu0;
  f.open_process_cpu_seconds = process_cpu_seconds() - process0;
  f.status = std::string(status_name(session.report().status));
  Clock::time_point t1 = Clock::now();
  for (uint32_t index : session.steps()) {
    const schema::Step* step = session.record(index).step();
    f.checksum += step->logits_hash() ^ static_cast<uint64_t>(step->token());
    ++f.steps;
  }
  f.walk_seconds = seconds_since(t1);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::filesystem::path path =
      o.out.empty() ? std::filesystem::temp_directory_path() / "ree-tracebench.fb" : std::filesystem::path(o.out);
  WriteFigures w = write_session(o, path);
  ReadFigures r = read_session(path);
  if (o.out.empty()) std::filesystem::remove(path);
  double per_step_us = w.step_seconds / static_cast<double>(o.steps) * 1e6;
  double read_total = r.open_seconds + r.walk_seconds;
  if (o.json) {
    std::printf("{\"steps\": %llu, \"bytes\": %llu, \"write_s\": %.4f, \"write_cpu_s\": %.4f, \"step_us\": %.3f, "
                "\"open_verify_s\": %.4f, \"open_verify_cpu_s\": %.4f, \"open_verify_all_threads_cpu_s\": %.4f, \"walk_s\": %.4f, \"read_total_s\": %.4f, "
                "\"status\": \"%s\"}\n",
                static_cast<unsigned long long>(o.steps), static_cast<unsigned long long>(w.bytes), w.seconds,
                w.cpu_seconds, per_step_us, r.open_seconds, r.open_cpu_seconds, r.open_process_cpu_seconds, r.walk_seconds, read_total,
                r.status.c_str());
  } else {
    std::string probes = o.probe_layers ? ", probes " + std::to_string(o.probe_layers) + " layers" : "";
    std::printf("session: %llu steps (turns of %u, top-%u%s), %.1f MB, %.1f bytes/step\n",
                static_cast<unsigned long long>(o.steps), o.turn_steps, o.topk, probes.c_str(), w.bytes / 1e6,
                static_cast<double>(w.bytes) / static_cast<double>(o.steps));
    std::printf("write:   %.3f s wall (%.3f s CPU) total; %.3f us per step inside writer.step() (wall)\n", w.seconds,
                w.cpu_seconds, per_step_us);
    std::printf("read:    %.3f s wall (CPU %.3f s this thread, %.3f s all threads) open+verify, %.3f s walk of %llu "
                "steps; %.3f s wall total (%s)\n",
                r.open_seconds, r.open_cpu_seconds, r.open_process_cpu_seconds, r.walk_seconds, static_cast<unsigned long long>(r.steps),
                read_total, r.status.c_str());
  }
  volatile uint64_t sink = r.checksum;  // the walk's result is used
  (void)sink;
  return r.status == "valid" ? 0 : 1;
}
