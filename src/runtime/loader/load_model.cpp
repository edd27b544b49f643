// load_model(): picks the loader for a path (Hugging Face directory or GGUF
// file) and supplies a thread pool when the caller has none.
#include <cstring>
#include <fstream>
#include <thread>

#include "kernels/thread_pool.h"
#include "runtime/error.h"
#include "runtime/loader/gguf_model.h"
#include "runtime/loader/hf_model.h"
#include "runtime/model.h"

namespace ree {

namespace {

bool starts_with_gguf_magic(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, sizeof magic) && std::memcmp(magic, "GGUF", 4) == 0;
}

Model load_with_pool(const std::filesystem::path& path, const LoadOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return load_hf_model(path, options);
  if (!std::filesystem::exists(path, ec)) throw file_error(path.string(), "does not exist");
  if (path.extension() == ".gguf" || starts_with_gguf_magic(path)) return load_gguf(path, options);
  throw file_error(path.string(),
                   "not a model: pass a Hugging Face directory (config.json, *.safetensors, tokenizer.model) "
                   "or a .gguf file");
}

}  // namespace

Model load_model(const std::filesystem::path& path, const LoadOptions& options) {
  if (options.pool != nullptr) return load_with_pool(path, options);
  // Packing and hashing a multi-GB model wants every core; the result does
  // not depend on how many there are.
  ThreadPool pool(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  LoadOptions with_pool = options;
  with_pool.pool = &pool;
  return load_with_pool(path, with_pool);
}

}  // namespace ree
