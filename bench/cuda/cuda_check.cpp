// ree-cuda-check: does the CUDA engine give the CPU's bits on this model?
// For each prompt length, greedy-generates `steps` tokens on the CPU (the
// reference) and on CUDA with each prefill chunk size, and compares every
// step's token, logits hash and top-k, then the KV-cache state hash.
//   ree-cuda-check --model DIR [--prompt-lengths 1,37,300] [--chunks 0,7,64]
//                  [--steps 200] [--context N] [--mode reproducible] [--json]
// Exit 0: identical everywhere; 1: a difference (printed); 2: bad input.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "kernels/contract_math.h"
#include "runtime/engine.h"
#include "runtime/error.h"
#include "runtime/generate.h"
#include "runtime/model.h"

using namespace ree;

namespace {

struct Trace {
  std::vector<int32_t> tokens;
  std::vector<uint64_t> hashes;
  std::vector<std::vector<std::pair<int32_t, uint32_t>>> tops;
  uint64_t kv_state = 0;
  double seconds = 0;
};

std::vector<int32_t> prompt_of(const Model& m, int n) {
  std::vector<int32_t> p{m.config.bos_id};
  uint32_t x = 2024u + uint32_t(n);
  while (int(p.size()) < n) {
    x = x * 1103515245u + 12345u;
    p.push_back(int32_t(3 + (x >> 9) % uint32_t(m.config.vocab_size - 3)));
  }
  return p;
}

Trace run(const Model& m, EngineOptions o, const std::vector<int32_t>& prompt, int64_t chunk, int steps) {
  const auto t0 = std::chrono::steady_clock::now();
  auto engine = make_engine(m, o);
  GenerateOptions g;
  g.max_tokens = steps;
  g.prefill_chunk = chunk;
  g.record_top_k = 4;
  Trace t;
  generate(*engine, prompt, g, [&](const Step& s) {
    t.tokens.push_back(s.token);
    t.hashes.push_back(s.logits_hash);
    std::vector<std::pair<int32_t, uint32_t>> top;
    for (const TopEntry& e : s.top) top.emplace_back(e.id, kernels::f32_to_bits(e.logit));
    t.tops.push_back(top);
  });
  t.kv_state = engine->kv_state_hash();
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

// Index of the first differing step, or -1; -2 when only the KV state differs.
int64_t first_difference(const Trace& a, const Trace& b) {
  const size_t n = std::min(a.tokens.size(), b.tokens.size());
  for (size_t i = 0; i < n; ++i)
    if (a.tokens[i] != b.tokens[i] || a.hashes[i] != b.hashes[i] || a.tops[i] != b.tops[i]) return int64_t(i);
  if (a.tokens.size() != b.tokens.size()) return int64_t(n);
  return a.kv_state == b.kv_state ? -1 : -2;
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> v;
  size_t i = 0;
  while (i < s.size()) {
    const size_t j = s.find(',', i);
    v.push_back(std::stoll(s.substr(i, j == std::string::npos ? std::string::npos : j - i)));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ree-cuda-check: CPU vs CUDA bit identity of every step on a model"};
  std::string model_path, lengths = "1,37,300", chunks = "0,7,64", mode = "reproducible";
  int steps = 200;
  int64_t context = 0;
  bool json = false;
  app.add_option("--model", model_path, "model directory or GGUF file")->required();
  app.add_option("--prompt-lengths", lengths, "comma-separated prompt lengths")->capture_default_str();
  app.add_option("--chunks", chunks, "comma-separated CUDA prefill chunk sizes (0: whole prompt)")->capture_default_str();
  app.add_option("--steps", steps, "greedy decode steps per run")->capture_default_str();
  app.add_option("--context", context, "KV positions (0: prompt + steps)")->capture_default_str();
  app.add_option("--mode", mode, "reproducible | deterministic")->capture_default_str();
  app.add_flag("--json", json, "machine-readable output");
  CLI11_PARSE(app, argc, argv);
  try {
    const Model m = load_model(model_path, LoadOptions{nullptr, false});
    nlohmann::json rows = nlohmann::json::array();
    bool all_same = true;
    for (int64_t len : parse_list(lengths)) {
      if (len + 1 >= m.config.max_seq_len) {
        if (!json)
          std::printf("%-28s prompt %4lld: skipped (the model has %lld positions)\n", m.identity.name.c_str(),
                      (long long)len, (long long)m.config.max_seq_len);
        continue;
      }
      const std::vector<int32_t> prompt = prompt_of(m, int(len));
      EngineOptions o;
      o.mode = *kernels::parse_mode(mode);
      o.threads = int(std::max(1u, std::thread::hardware_concurrency()));
      o.context = context > 0 ? context : std::min<int64_t>(m.config.max_seq_len, len + steps + 1);
      // generate stops at a full context: the comparison covers the steps that fit
      o.max_batch = 512;
      const Trace cpu = run(m, o, prompt, 0, steps);
      for (int64_t chunk : parse_list(chunks)) {
        o.device = Device::Cuda;
        const Trace gpu = run(m, o, prompt, chunk, steps);
        o.device = Device::Cpu;
        const int64_t diff = first_difference(cpu, gpu);
        all_same = all_same && diff == -1;
        rows.push_back({{"prompt_tokens", len}, {"chunk", chunk}, {"steps", cpu.tokens.size()},
                        {"identical", diff == -1}, {"first_difference", diff}, {"cpu_seconds", cpu.seconds},
                        {"cuda_seconds", gpu.seconds},
                        {"distinct_tokens", std::set<int32_t>(cpu.tokens.begin(), cpu.tokens.end()).size()}});
        if (!json)
          std::printf("%-28s prompt %4lld chunk %3lld: %zu steps %s (cpu %.1fs, cuda %.1fs)\n",
                      m.identity.name.c_str(), (long long)len, (long long)chunk, cpu.tokens.size(),
                      diff == -1 ? "IDENTICAL" : diff == -2 ? "KV STATE DIFFERS" : ("DIFFER at step " + std::to_string(diff)).c_str(),
                      cpu.seconds, gpu.seconds);
      }
    }
    if (json)
      std::printf("%s\n", nlohmann::json({{"model", m.identity.name}, {"dtype", kernels::dtype_name(m.weights.dtype)},
                                          {"mode", mode}, {"identical", all_same}, {"runs", rows}})
                              .dump(2)
                              .c_str());
    return all_same ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "ree-cuda-check: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ree-cuda-check: internal error: %s\n", e.what());
    return 4;
  }
}
