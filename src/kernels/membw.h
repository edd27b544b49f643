#pragma once
// Memory read bandwidth of this machine, for `ree bench`'s roofline and
// ree-kbench: a streaming sum over a buffer well larger than the last-level
// cache, on every thread of the pool, several passes, best pass reported.
namespace ree {
class ThreadPool;
}

namespace ree::kernels {

struct MemBandwidthOptions {
  double buffer_mib = 512.0;  // well above any LLC this runs on (32 MiB here)
  int passes = 5;             // best of: the first pass also faults the pages in
};

// GB/s (1e9 bytes per second) read; pool may be null (one thread).
double measure_memory_bandwidth_gbs(ThreadPool* pool);
double measure_memory_bandwidth_gbs(ThreadPool* pool, const MemBandwidthOptions& options);

}  // namespace ree::kernels
