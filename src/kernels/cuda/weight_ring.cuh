#pragma once
// A ring of shared-memory slots that one producer thread fills with bulk
// copies from global memory (cp.async.bulk, the TMA's one-dimensional form)
// while consumer warps empty it (stream_step.cu). Each slot has two
// mbarriers: `full` completes when the slot's bytes have landed (the copy
// itself counts them: expect_tx), `empty` when its consumer has read it.
// Use number u of slot s (u = t / slots for the stream's tile t) completes
// each barrier's phase u, whose parity is u & 1.
//
// sm_90 and later; the host never launches a kernel using it on older GPUs
// (stream_unsupported), whose build gets traps instead.
#include <cstdint>
#include <cstdio>

#include "kernels/cuda/grid_sync.cuh"

namespace ree::cuda::ring {

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900

__device__ __forceinline__ void init(uint64_t* bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(shared_address(bar)), "r"(count) : "memory");
}

// Before a bulk copy reads global data that generic-proxy stores (of other
// blocks, published by a grid barrier this thread acquired) wrote.
__device__ __forceinline__ void fence_before_async_read() { asm volatile("fence.proxy.async.global;" ::: "memory"); }

// After the barriers are initialised, before any thread (or copy) uses them.
__device__ __forceinline__ void init_fence() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// The producer's arrival on `full`: `bytes` more are to land before it completes.
__device__ __forceinline__ void expect_bytes(uint64_t* bar, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(shared_address(bar)), "r"(bytes)
               : "memory");
}

__device__ __forceinline__ void arrive(uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(shared_address(bar)) : "memory");
}

__device__ __forceinline__ bool try_wait(uint64_t* bar, unsigned parity) {
  uint32_t done;
  asm volatile(
      "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}"
      : "=r"(done)
      : "r"(shared_address(bar)), "r"(parity)
      : "memory");
  return done != 0;
}

// Waits for phase `parity` of `bar`. Seconds of waiting mean a broken
// schedule: trap (the host reports the error) rather than hang the GPU.
__device__ __forceinline__ void wait(uint64_t* bar, unsigned parity) {
  if (try_wait(bar, parity)) return;
  const unsigned long long t0 = global_time_ns();
  while (!try_wait(bar, parity))
    if (global_time_ns() - t0 > 4000000000ull) {
      printf("ree: ring wait timed out: block %d thread %d barrier %u parity %u\n", int(blockIdx.x), int(threadIdx.x),
             shared_address(bar), parity);
      __trap();
    }
}

// An L2 policy for data read once: its lines are the first to go, so a
// stream of weights does not push out what the phases share through L2
// (partials, activations, the KV cache).
__device__ __forceinline__ uint64_t evict_first_policy() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}

__device__ __forceinline__ uint64_t evict_normal_policy() {
  uint64_t policy;
  asm volatile("createpolicy.fractional.L2::evict_normal.b64 %0, 1.0;" : "=l"(policy));
  return policy;
}

// dst (shared) <- src (global), `bytes` a multiple of 16, both 16-byte
// aligned; completes `bytes` of `bar`'s expected transaction count. `policy`:
// the L2 cache hint of the read.
__device__ __forceinline__ void bulk_copy(void* dst, const void* src, unsigned bytes, uint64_t* bar,
                                          uint64_t policy) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1], %2, [%3], %4;" ::"r"(
          shared_address(dst)),
      "l"(src), "r"(bytes), "r"(shared_address(bar)), "l"(policy)
      : "memory");
}

#else  // before sm_90: never launched

__device__ __forceinline__ void init(uint64_t*, unsigned) { __trap(); }
__device__ __forceinline__ void init_fence() { __trap(); }
__device__ __forceinline__ void fence_before_async_read() { __trap(); }
__device__ __forceinline__ void expect_bytes(uint64_t*, unsigned) { __trap(); }
__device__ __forceinline__ void arrive(uint64_t*) { __trap(); }
__device__ __forceinline__ void wait(uint64_t*, unsigned) { __trap(); }
__device__ __forceinline__ uint64_t evict_first_policy() {
  __trap();
  return 0;
}
__device__ __forceinline__ uint64_t evict_normal_policy() {
  __trap();
  return 0;
}
__device__ __forceinline__ void bulk_copy(void*, const void*, unsigned, uint64_t*, uint64_t) { __trap(); }

#endif

}  // namespace ree::cuda::ring
