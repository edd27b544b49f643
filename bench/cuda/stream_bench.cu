// ree-cuda-streambench: how fast a GPU streams a weight matrix of a given
// size when the work is shaped like ree's decode products — how many blocks
// per SM, how many threads, how many independent 16-byte loads each thread
// keeps in flight. The decode step is far from the HBM roofline (docs/cuda.md:
// one SM streamed ~17-20 GB/s in the fused step, and the small q|k|v and o
// products run at ~1.1 TB/s); this measures, outside the model, what shape of
// work reaches the bandwidth for 8-50 MB matrices, and what one launch of that
// size costs end to end. Not a test; scripts/gpu-suite.sh runs it (stage
// "stream").
//
//   ree-cuda-streambench [--json FILE]
//
// Each configuration reads `bytes` from one of enough rotating buffers that
// the 50 MB L2 never holds the next one (every launch reads from HBM), block b
// reading its own contiguous slice; time per launch is the mean over 40
// launches between two events (launch gaps included, as in a CUDA graph of
// back-to-back products).
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// Block b reads units [b * per_block, (b + 1) * per_block) of p (16-byte
// units), each thread UNROLL independent loads per round.
template <int UNROLL>
__global__ void stream_kernel(const uint4* __restrict__ p, int64_t per_block, unsigned int* sink) {
  const uint4* base = p + blockIdx.x * per_block;
  uint32_t acc = 0;
  const int64_t step = int64_t(blockDim.x) * UNROLL;
  for (int64_t i = threadIdx.x; i < per_block; i += step) {
    uint4 v[UNROLL];
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) {
      const int64_t k = i + int64_t(u) * blockDim.x;
      v[u] = k < per_block ? __ldg(base + k) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < UNROLL; ++u) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
  }
  if (acc == 0x9e3779b9u) sink[0] = acc;  // almost never: keeps the loads
}

using Kernel = void (*)(const uint4*, int64_t, unsigned int*);

Kernel kernel_for(int unroll) {
  switch (unroll) {
    case 1: return stream_kernel<1>;
    case 2: return stream_kernel<2>;
    case 4: return stream_kernel<4>;
    case 8: return stream_kernel<8>;
    case 16: return stream_kernel<16>;
  }
  throw std::runtime_error("unroll must be 1, 2, 4, 8 or 16");
}

struct Result {
  int64_t bytes;
  int blocks_per_sm, threads, unroll;
  double us_per_launch, gbs;
};

}  // namespace

int main(int argc, char** argv) {
  const char* json_path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--json FILE]\n", argv[0]);
      return 2;
    }
  }
  try {
    int device = 0, sms = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    std::printf("ree-cuda-streambench: %s, %d SMs, L2 %d MB\n", prop.name, sms, prop.l2CacheSize >> 20);

    const int64_t pool_bytes = int64_t(1) << 30;  // 1 GiB of rotating buffers, 20x the L2
    void* pool = nullptr;
    check(cudaMalloc(&pool, size_t(pool_bytes)), "cudaMalloc");
    check(cudaMemset(pool, 1, size_t(pool_bytes)), "cudaMemset");
    unsigned int* sink = nullptr;
    check(cudaMalloc(&sink, sizeof(unsigned int)), "cudaMalloc");
    cudaEvent_t t0, t1;
    check(cudaEventCreate(&t0), "cudaEventCreate");
    check(cudaEventCreate(&t1), "cudaEventCreate");

    // matrix sizes of tinyllama's decode products: o 8 MB, q|k|v 10.5 MB,
    // down 23 MB, gate|up 46 MB; and a large one for the plateau
    const int64_t sizes[] = {8 << 20, 10485760, 23068672, 46137344, int64_t(256) << 20};
    std::vector<Result> results;
    for (int64_t bytes : sizes) {
      for (int bps : {1, 2, 4, 8}) {
        for (int threads : {128, 256, 512}) {
          if (bps * threads > 2048) continue;
          for (int unroll : {1, 4, 8, 16}) {
            const int blocks = sms * bps;
            const int64_t units = bytes / 16;
            const int64_t per_block = (units + blocks - 1) / blocks;
            const int64_t slot = per_block * blocks * 16;
            const int64_t slots = pool_bytes / slot > 64 ? 64 : pool_bytes / slot;
            if (slots < 2) continue;
            const Kernel k = kernel_for(unroll);
            const int launches = 40;
            auto launch = [&](int i) {
              const auto* p = reinterpret_cast<const uint4*>(static_cast<char*>(pool) + (i % slots) * slot);
              k<<<blocks, threads>>>(p, per_block, sink);
            };
            for (int i = 0; i < 4; ++i) launch(i);  // warm-up
            check(cudaEventRecord(t0), "cudaEventRecord");
            for (int i = 0; i < launches; ++i) launch(i + 4);
            check(cudaEventRecord(t1), "cudaEventRecord");
            check(cudaEventSynchronize(t1), "cudaEventSynchronize");
            check(cudaGetLastError(), "stream_kernel");
            float ms = 0;
            check(cudaEventElapsedTime(&ms, t0, t1), "cudaEventElapsedTime");
            const double us = 1000.0 * ms / launches;
            results.push_back({bytes, bps, threads, unroll, us, double(bytes) / (us * 1e-6) / 1e9});
          }
        }
      }
    }
    // the best shape per size, then every row
    for (int64_t bytes : sizes) {
      const Result* best = nullptr;
      for (const Result& r : results)
        if (r.bytes == bytes && (best == nullptr || r.gbs > best->gbs)) best = &r;
      if (best != nullptr)
        std::printf("best for %7.1f MB: %6.1f us per launch, %6.0f GB/s (%.1f GB/s per SM): %d blocks/SM x %d "
                    "threads x %d loads in flight\n",
                    bytes / 1048576.0, best->us_per_launch, best->gbs, best->gbs / sms, best->blocks_per_sm,
                    best->threads, best->unroll);
    }
    std::printf("%10s %6s %7s %6s %10s %8s\n", "MB", "blk/SM", "threads", "unroll", "us/launch", "GB/s");
    for (const Result& r : results)
      std::printf("%10.1f %6d %7d %6d %10.2f %8.0f\n", r.bytes / 1048576.0, r.blocks_per_sm, r.threads, r.unroll,
                  r.us_per_launch, r.gbs);
    if (json_path != nullptr) {
      FILE* f = std::fopen(json_path, "w");
      if (f == nullptr) throw std::runtime_error(std::string("cannot write ") + json_path);
      std::fprintf(f, "{\"device\": \"%s\", \"sms\": %d, \"rows\": [\n", prop.name, sms);
      for (size_t i = 0; i < results.size(); ++i) {
        const Result& r = results[i];
        std::fprintf(f,
                     "  {\"bytes\": %lld, \"blocks_per_sm\": %d, \"threads\": %d, \"unroll\": %d, "
                     "\"us_per_launch\": %.3f, \"gbs\": %.1f}%s\n",
                     static_cast<long long>(r.bytes), r.blocks_per_sm, r.threads, r.unroll, r.us_per_launch, r.gbs,
                     i + 1 < results.size() ? "," : "");
      }
      std::fprintf(f, "]}\n");
      std::fclose(f);
    }
    cudaFree(pool);
    cudaFree(sink);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ree-cuda-streambench: %s\n", e.what());
    return 2;
  }
}
