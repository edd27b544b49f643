#pragma once
// Measured GPU ceilings for ree-cuda-bench (membw.cu).
#include <cstddef>
#include <functional>

namespace ree::cuda_bench {

struct Bandwidth {
  double read_gbs = 0;  // streaming read of a buffer far larger than L2
  double copy_gbs = 0;  // device-to-device copy, bytes read + written
};
Bandwidth measure_bandwidth(size_t bytes, int reps);

// Best of `reps` timings (CUDA events on the legacy default stream) of fn,
// after one warm-up call.
double time_seconds(int reps, const std::function<void()>& fn);

}  // namespace ree::cuda_bench
