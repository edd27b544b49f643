#pragma once
// Hopper's bulk copy engine (sm_90): one instruction copies a contiguous run
// of global memory into shared memory and reports on an mbarrier when the
// bytes have landed, so a warp keeps many kilobytes in flight without holding
// them in registers. Also the L2 bulk prefetch, which warms L2 with bytes a
// later phase will read. Before sm_90 these compile to nothing and
// kBulkCopy is false: callers take their register path there.
#include <cstdint>

namespace ree::cuda {

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define REE_CUDA_BULK_COPY 1
inline constexpr bool kBulkCopy = true;
#else
inline constexpr bool kBulkCopy = false;
#endif

__device__ __forceinline__ uint32_t shared_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// An mbarrier that completes once one thread has arrived (with the bytes it
// expects) and those bytes have been written.
__device__ __forceinline__ void mbarrier_init(uint64_t* bar) {
#ifdef REE_CUDA_BULK_COPY
  asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(shared_address(bar)) : "memory");
#endif
}

// Makes initialised mbarriers visible to the copy engine (then __syncthreads).
__device__ __forceinline__ void mbarrier_init_fence() {
#ifdef REE_CUDA_BULK_COPY
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
#endif
}

__device__ __forceinline__ void mbarrier_expect_bytes(uint64_t* bar, uint32_t bytes) {
#ifdef REE_CUDA_BULK_COPY
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(shared_address(bar)), "r"(bytes)
               : "memory");
#endif
}

// bytes (a multiple of 16) from 16-byte aligned global src to 16-byte aligned shared dst.
__device__ __forceinline__ void bulk_load(void* dst, const void* src, uint32_t bytes, uint64_t* bar) {
#ifdef REE_CUDA_BULK_COPY
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                   shared_address(dst)),
               "l"(src), "r"(bytes), "r"(shared_address(bar))
               : "memory");
#endif
}

// Waits until the barrier's phase with this parity has completed.
__device__ __forceinline__ void mbarrier_wait(uint64_t* bar, uint32_t parity) {
#ifdef REE_CUDA_BULK_COPY
  asm volatile(
      "{\n"
      ".reg .pred done;\n"
      "wait:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra wait;\n"
      "}\n" ::"r"(shared_address(bar)),
      "r"(parity)
      : "memory");
#endif
}

// Asks L2 to fetch bytes (a multiple of 16) from 16-byte aligned src.
__device__ __forceinline__ void prefetch_l2(const void* src, uint32_t bytes) {
#ifdef REE_CUDA_BULK_COPY
  asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(src), "r"(bytes) : "memory");
#endif
}

}  // namespace ree::cuda
