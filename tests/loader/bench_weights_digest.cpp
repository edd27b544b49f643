// loader_digest_bench: how fast the weights digest is (not a test; run by
// hand on a quiet machine). Builds an in-memory Llama-shaped source of about
// --gb gigabytes of bf16 weights (so the page cache and the disk play no
// part), then times compute_weights_digest on --threads threads.
//   build-hf/bin/loader_digest_bench --gb 2 --threads 2
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/thread_pool.h"
#include "runtime/loader/model_builder.h"

using namespace ree;

namespace {

// TinyLlama-like widths, with as many layers as it takes to reach `gb`.
ModelConfig config_for(double gb) {
  ModelConfig c;
  c.dim = 2048;
  c.hidden_dim = 5632;
  c.n_heads = 32;
  c.n_kv_heads = 4;
  c.head_dim = 64;
  c.vocab_size = 32000;
  c.max_seq_len = 2048;
  const double layer_bytes = 2.0 * (2048.0 * 2048 * 2 + 256.0 * 2048 * 2 + 3.0 * 5632 * 2048 + 2 * 2048);
  const double fixed_bytes = 2.0 * (2.0 * 32000 * 2048 + 2048);
  c.n_layers = std::max(1, static_cast<int>((gb * 1e9 - fixed_bytes) / layer_bytes + 0.5));
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  double gb = 2.0;
  int threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--gb") == 0) gb = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--threads") == 0) threads = std::atoi(argv[i + 1]);
  }
  const ModelConfig config = config_for(gb);
  const int64_t q_rows = int64_t{config.n_heads} * config.head_dim;
  const int64_t kv_rows = int64_t{config.n_kv_heads} * config.head_dim;
  TensorSource source;
  std::vector<std::vector<uint8_t>> storage;
  uint64_t total = 0;
  for (const std::string& name : canonical_tensor_names(config)) {
    const auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
    int64_t rows = 1, cols = config.dim;
    if (has("q_proj")) rows = q_rows;
    else if (has("k_proj") || has("v_proj")) rows = kv_rows;
    else if (has("o_proj")) { rows = config.dim; cols = q_rows; }
    else if (has("gate_proj") || has("up_proj")) rows = config.hidden_dim;
    else if (has("down_proj")) { rows = config.dim; cols = config.hidden_dim; }
    else if (!has("norm")) rows = config.vocab_size;
    storage.emplace_back(static_cast<size_t>(rows * cols * 2));
    std::vector<uint8_t>& bytes = storage.back();
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 131 + 7);
    SourceTensor s;
    s.view = {kernels::DType::BF16, rows, cols, bytes.data()};
    s.rank = has("norm") ? 1 : 2;
    s.nbytes = bytes.size();
    source.tensors[name] = s;
    total += bytes.size();
  }
  ThreadPool pool(threads);
  BuildOptions options;
  options.pool = &pool;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string digest = compute_weights_digest(config, source, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d layers, %.2f GB, %d threads: %.3f s, %.2f GB/s (digest %s)\n", config.n_layers, total / 1e9,
              threads, seconds, total / seconds / 1e9, digest.substr(0, 16).c_str());
  return 0;
}
