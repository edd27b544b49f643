#include "runtime/agent/sample_model.h"

#include "runtime/error.h"

namespace ree::agent {

std::vector<std::filesystem::path> sample_model_candidates() {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) out.push_back(exe.parent_path().parent_path() / "share" / "ree" / "sample-model");
#ifdef REE_SOURCE_SAMPLE_MODEL
  out.emplace_back(REE_SOURCE_SAMPLE_MODEL);
#endif
  return out;
}

std::filesystem::path find_sample_model() {
  std::string looked;
  for (const auto& dir : sample_model_candidates()) {
    std::error_code ec;
    if (std::filesystem::exists(dir / "config.json", ec)) return dir;
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  throw Error("no --model given and the bundled sample model is not there (looked in " + looked +
              "); pass --model PATH (a Hugging Face directory or a GGUF file)");
}

}  // namespace ree::agent
