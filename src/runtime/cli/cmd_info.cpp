// `ree info`: version, CPU and the SIMD path chosen, CUDA status, contract.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "ree/version.h"
#include "runtime/cli/commands.h"
#include "runtime/engine.h"
#include "runtime/system_info.h"

namespace ree::cli {
namespace {

int info_command(bool json) {
  const SystemInfo sys = read_system_info();
  const kernels::SimdPath simd = kernels::detect_simd();
  nlohmann::json paths = nlohmann::json::array();
  for (auto p : {kernels::SimdPath::Scalar, kernels::SimdPath::Avx2, kernels::SimdPath::Avx512})
    if (kernels::simd_supported(p)) paths.push_back(kernels::simd_name(p));
  const std::string cuda = cuda_status();
  if (json) {
    nlohmann::json out = {{"version", REE_VERSION},     {"git_revision", REE_GIT_REVISION},
                          {"contract", REE_CONTRACT_VERSION}, {"cpu", sys.cpu_model},
                          {"cores", sys.cores},          {"simd", kernels::simd_name(simd)},
                          {"simd_supported", paths},     {"cuda", cuda},
                          {"os", sys.os}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("ree %s (%s)\n", REE_VERSION, REE_GIT_REVISION);
  std::printf("contract: %s\n", REE_CONTRACT_VERSION);
  std::printf("cpu:      %s, %d cores\n", sys.cpu_model.c_str(), sys.cores);
  std::printf("simd:     %s (supported: %s)\n", kernels::simd_name(simd), [&] {
    std::string s;
    for (const auto& p : paths) s += (s.empty() ? "" : ", ") + p.get<std::string>();
    return s;
  }().c_str());
  std::printf("cuda:     %s\n", cuda.c_str());
  std::printf("os:       %s\n", sys.os.c_str());
  return 0;
}

}  // namespace

void register_info(CLI::App& app, RunSlot& run) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("info", "Show version, CPU, SIMD path, CUDA status and contract");
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([json, &run] { run = [json] { return info_command(*json); }; });
}

}  // namespace ree::cli
