// Chooses the engine for a device. Kept apart from ree_runtime so that the
// CUDA library (which builds on ree_runtime) can be linked in when built.
#include "runtime/engine.h"
#include "runtime/error.h"

#ifdef REE_CUDA_ENGINE
#include "kernels/cuda/cuda_engine.h"
#endif

namespace ree {

std::unique_ptr<Engine> make_engine(const Model& model, const EngineOptions& options) {
  if (options.device == Device::Cpu) return make_cpu_engine(model, options);
#ifdef REE_CUDA_ENGINE
  return make_cuda_engine(model, options);
#else
  throw Error("--device cuda: this ree was built without the CUDA backend (nvcc not found at build time)");
#endif
}

std::string cuda_status() {
#ifdef REE_CUDA_ENGINE
  return cuda_device_status();
#else
  return "not built into this binary (nvcc was not found or REE_CUDA=OFF at configure time)";
#endif
}

}  // namespace ree
