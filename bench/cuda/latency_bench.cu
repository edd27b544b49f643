// ree-cuda-latbench: how long one dependent memory round trip takes on one SM
// while the other SMs stream from HBM. A decode step's short kernels (norms,
// RoPE, attention) are chains of such round trips, and every design tried for
// issue #6 that put weight traffic beside them made them slower
// (docs/cuda.md). This measures the effect outside the model, so a design can
// be costed before it is built: round trips per layer × latency at the
// bandwidth it streams at.
//
//   ree-cuda-latbench [--json FILE]
//
// One launch per configuration, one block per SM. Block 0, thread 0, waits
// until the streaming blocks have started, then times three chains with
// %globaltimer:
//   - L2 hits: a random cycle over 64 lines (8 KB) read with ld.global.cg
//     (L2 only), warmed first;
//   - HBM misses: a random cycle over 256 MB, one 128-byte line per node,
//     entered at a new node each launch;
//   - atomics: atomicAdd on one word, each address depending on the last
//     result (a ticket's round trip).
// Blocks 1..S stream 16-byte loads (1-8 issued at once per thread, 512
// threads) over their own slice of 2 GB until block 0 is done, then report
// their bytes ("MB issued": streaming threads x loads x 16 bytes). The
// stream's loads carry an L2 evict-first policy, so they push out each other
// rather than the chains' lines; the L2 chain's per-hop time at S = 0 says
// whether its lines are hits.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/grid_sync.cuh"

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

constexpr int kThreads = 512;
constexpr int kLineWords = 32;  // 128 bytes of uint32
constexpr int kHops = 2000;
constexpr int kOneBlockPerSm = 150 * 1024;  // dynamic shared memory per block (unused)

struct BenchState {  // in global memory: the blocks' shared tallies
  unsigned int started;  // streaming blocks that have begun
  unsigned int stop;     // set by block 0 when its chains are done
  unsigned long long bytes;  // streamed, summed at the end
  unsigned long long t_first, t_last;  // stream window (ns)
  unsigned long long ns_l2, ns_hbm, ns_atomic;  // each chain's total
  unsigned int sink;
  unsigned int not_resident;  // block 0 gave up waiting for the streaming blocks
};

using ree::cuda::global_time_ns;
__device__ __forceinline__ uint32_t load_cg(const uint32_t* p) {
  uint32_t v;
  asm volatile("ld.global.cg.u32 %0, [%1];" : "=r"(v) : "l"(p));
  return v;
}
__device__ __forceinline__ uint4 load_stream(const uint4* p, uint64_t policy) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.L2::cache_hint.v4.u32 {%0,%1,%2,%3}, [%4], %5;"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p), "l"(policy));
  return v;
}

// Follows `hops` links of a cycle stored one link per 128-byte line.
__device__ uint32_t chase(const uint32_t* lines, uint32_t at, int hops) {
  for (int i = 0; i < hops; ++i) at = load_cg(lines + size_t(at) * kLineWords);
  return at;
}

// Streams 16-byte loads over base[0, per_block) with threads tid = 0..n-1,
// kUnroll loads in flight each, until block 0 raises `stop`; adds its bytes.
template <int kUnroll>
__device__ void stream_until_stop(const uint4* base, int64_t per_block, int tid, int n, BenchState* s) {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  const unsigned long long t_start = global_time_ns();
  volatile unsigned int* stop = &s->stop;
  uint32_t acc = 0;
  int64_t units = 0;
  int64_t i = tid;
  for (int pass = 0;; ++pass) {
    // The stop flag is read every 16th pass: a round trip per pass would
    // leave the loads in flight only part of the time.
    if (pass % 16 == 0 && *stop != 0) break;
    uint4 v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      int64_t k = i + int64_t(u) * n;
      if (k >= per_block) k -= per_block;
      v[u] = load_stream(base + k, policy);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
    i += int64_t(n) * kUnroll;
    if (i >= per_block) i -= per_block;
    units += kUnroll;
  }
  const unsigned long long t_end = global_time_ns();
  atomicAdd(&s->bytes, (unsigned long long)(units * 16));
  if (tid == 0) {
    atomicMin(&s->t_first, t_start);
    atomicMax(&s->t_last, t_end);
  }
  if (acc == 0x9e3779b9u) s->sink = acc;
}

// Block 0's thread 0 times the chains; with `share`, block 0's other warps
// stream too, on the chains' own SM (as a product's blocks do beside a norm
// block in a decode step). Blocks 1..streamers stream on their own SMs.
template <int kUnroll>
__global__ void __launch_bounds__(kThreads, 1)
    latency_kernel(const uint32_t* l2_lines, const uint32_t* hbm_lines, uint32_t hbm_start, const uint4* stream,
                   int64_t per_block, int streamers, bool share, unsigned int* counter, BenchState* s) {
  if (blockIdx.x == 0 && threadIdx.x >= 32) {
    if (share) stream_until_stop<kUnroll>(stream + int64_t(streamers) * per_block, per_block, threadIdx.x - 32,
                                          kThreads - 32, s);
    return;
  }
  if (blockIdx.x == 0) {
    if (threadIdx.x != 0) return;
    volatile BenchState* vs = s;
    const unsigned long long wait_from = global_time_ns();
    while (vs->started < unsigned(streamers))
      if (global_time_ns() - wait_from > 2000000000ull) {  // 2 s: the blocks are not all resident
        vs->not_resident = 1;
        break;
      }
    const unsigned long long settle = global_time_ns();
    while (global_time_ns() - settle < 20000) {  // 20 µs: the stream reaches its rate
    }
    uint32_t at = chase(l2_lines, 0, 64);  // warm
    unsigned long long t0 = global_time_ns();
    at = chase(l2_lines, at, kHops);
    unsigned long long t1 = global_time_ns();
    s->ns_l2 = t1 - t0;
    s->sink = at;  // keeps the chain
    t0 = global_time_ns();
    at = chase(hbm_lines, hbm_start, kHops);
    t1 = global_time_ns();
    s->ns_hbm = t1 - t0;
    s->sink = at;
    unsigned int v = at >> 31;  // 0: node indices are small
    t0 = global_time_ns();
    for (int i = 0; i < kHops; ++i) v = atomicAdd(counter + (v >> 31), 1u);  // the address waits for v
    t1 = global_time_ns();
    s->ns_atomic = t1 - t0;
    s->sink ^= v;
    __threadfence();
    vs->stop = 1;
    return;
  }
  if (threadIdx.x == 0) atomicAdd(&s->started, 1u);
  stream_until_stop<kUnroll>(stream + int64_t(blockIdx.x - 1) * per_block, per_block, threadIdx.x, kThreads, s);
}

using Kernel = void (*)(const uint32_t*, const uint32_t*, uint32_t, const uint4*, int64_t, int, bool, unsigned int*,
                       BenchState*);

// A random cycle over n lines: line i holds the index of its successor.
std::vector<uint32_t> cycle_lines(uint32_t n, uint32_t seed) {
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin() + 1, order.end(), std::mt19937(seed));
  std::vector<uint32_t> lines(size_t(n) * kLineWords, 0);
  for (uint32_t i = 0; i < n; ++i) lines[size_t(order[i]) * kLineWords] = order[(i + 1) % n];
  return lines;
}

template <class T>
T* upload(const std::vector<T>& host) {
  T* d = nullptr;
  check(cudaMalloc(&d, host.size() * sizeof(T)), "cudaMalloc");
  check(cudaMemcpy(d, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  return d;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) json_path = argv[++i];
    else if (a == "--help" || a == "-h") {
      std::puts("usage: ree-cuda-latbench [--json FILE]\n"
                "Round-trip latency on one SM (L2 hit, HBM miss, atomic) while S other SMs stream from HBM.");
      return 0;
    } else {
      std::fprintf(stderr, "ree-cuda-latbench: unknown argument '%s' (try --help)\n", a.c_str());
      return 2;
    }
  }
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  const int sms = prop.multiProcessorCount;
  const uint32_t* l2_lines = upload(cycle_lines(64, 1));
  const uint32_t hbm_nodes = uint32_t((size_t(256) << 20) / 128);
  const uint32_t* hbm_lines = upload(cycle_lines(hbm_nodes, 2));
  const size_t stream_bytes = size_t(2) << 30;
  uint4* stream = nullptr;
  check(cudaMalloc(&stream, stream_bytes), "cudaMalloc");
  check(cudaMemset(stream, 1, stream_bytes), "cudaMemset");
  // More than half an SM's shared memory: one block per SM, so block 0 has
  // its SM to itself and the streamers are spread over the others.
  for (auto kernel : {latency_kernel<1>, latency_kernel<2>, latency_kernel<4>, latency_kernel<8>})
    check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kOneBlockPerSm),
          "cudaFuncSetAttribute");
  BenchState* s = nullptr;
  check(cudaMalloc(&s, sizeof(BenchState)), "cudaMalloc");
  // The atomics' word in an allocation of its own: in the state's line it
  // would share an L2 slice with the stop flag that every streaming warp
  // polls (which made the atomics look 8x slower than they are).
  unsigned int* counter = nullptr;
  check(cudaMalloc(&counter, 1 << 16), "cudaMalloc");
  check(cudaMemset(counter, 0, 1 << 16), "cudaMemset");

  // (streaming blocks, 16-byte loads in flight per thread): the same
  // bandwidth can be reached with more or fewer requests queued.
  const int most = sms - 1;
  struct Shape {
    int streamers, unroll;
    bool share;  // block 0's other 15 warps stream too, beside the chains
  };
  const Shape shapes[] = {{0, 1, false},    {16, 8, false},   {33, 8, false},   {66, 8, false},
                          {99, 8, false},   {most, 8, false}, {most, 4, false}, {most, 2, false},
                          {most, 1, false}, {66, 4, false},   {66, 2, false},   {33, 4, false},
                          {0, 8, true},     {0, 2, true},     {66, 2, true},    {most, 8, true}};
  std::printf("%s, %d SMs\n", prop.name, sms);
  std::printf("%9s %7s %6s %9s %12s %10s %12s %10s\n", "streamers", "loads", "own SM", "MB issued", "stream GB/s",
              "L2 hit ns", "HBM miss ns", "atomic ns");
  std::string json = std::string("{\"device\": \"") + prop.name + "\", \"hops\": " + std::to_string(kHops) +
                     ", \"rows\": [";
  uint32_t hbm_start = 1;
  bool first_row = true;
  for (const auto& [streamers, unroll, share] : shapes) {
    if (streamers >= sms) continue;
    for (int rep = 0; rep < 2; ++rep) {  // the first launch of a shape warms; the second is reported
      BenchState init{};
      init.t_first = ~0ull;
      check(cudaMemcpy(s, &init, sizeof(init), cudaMemcpyHostToDevice), "cudaMemcpy");
      const int64_t per_block = int64_t(stream_bytes / 16) / (streamers + 1);
      hbm_start = (hbm_start * 1103515245u + 12345u) % hbm_nodes;  // a new path: no line of it is in L2
      const dim3 grid(1 + streamers), block(kThreads);
      const Kernel kernel = unroll == 1 ? latency_kernel<1>
                            : unroll == 2 ? latency_kernel<2>
                            : unroll == 4 ? latency_kernel<4>
                                          : latency_kernel<8>;
      kernel<<<grid, block, kOneBlockPerSm>>>(l2_lines, hbm_lines, hbm_start, stream, per_block, streamers, share,
                                              counter, s);
      check(cudaGetLastError(), "launch");
      check(cudaDeviceSynchronize(), "latency_kernel");
      if (rep == 0) continue;
      BenchState r{};
      check(cudaMemcpy(&r, s, sizeof(r), cudaMemcpyDeviceToHost), "cudaMemcpy");
      if (r.not_resident)
        throw std::runtime_error("the " + std::to_string(streamers + 1) +
                                 " blocks were not all resident at once (is the GPU shared?)");
      const double gbs = r.bytes > 0 && r.t_last > r.t_first ? double(r.bytes) / double(r.t_last - r.t_first) : 0.0;
      const double issued_mb = (double(streamers) * kThreads + (share ? kThreads - 32 : 0)) * unroll * 16 / 1e6;
      const double l2 = double(r.ns_l2) / kHops, hbm = double(r.ns_hbm) / kHops, at = double(r.ns_atomic) / kHops;
      std::printf("%9d %7d %6s %9.2f %12.0f %10.0f %12.0f %10.0f\n", streamers, unroll, share ? "yes" : "no",
                  issued_mb, gbs, l2, hbm, at);
      char row[384];
      std::snprintf(row, sizeof(row),
                    "%s{\"streamers\": %d, \"loads_per_thread\": %d, \"own_sm_streams\": %s, \"mb_issued\": %.2f, \"stream_gb_s\": %.1f, "
                    "\"l2_hit_ns\": %.1f, \"hbm_miss_ns\": %.1f, \"atomic_ns\": %.1f}",
                    first_row ? "" : ", ", streamers, unroll, share ? "true" : "false", issued_mb, gbs, l2, hbm, at);
      first_row = false;
      json += row;
    }
  }
  json += "]}\n";
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write " + json_path);
    std::fputs(json.c_str(), f);
    std::fclose(f);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "ree-cuda-latbench: %s\n", e.what());
  return 1;
}
