#pragma once
// How the phases of a decode step wait for each other (decode_step.cu).
//
// Persistent: one kernel runs every phase; all its blocks are resident at
// once (a cooperative launch guarantees it), and a phase starts when every
// block has arrived from the previous one: an integer counter in device
// memory, raised once per block and phase (release), polled by one thread
// per block (acquire). The counter only ever grows during a launch; the last
// block to leave resets it for the next launch (a second counter tells which
// block is last), so a replayed CUDA graph finds it at zero.
//
// Standalone: one kernel per phase; the wait is programmatic dependent
// launch's griddepcontrol.wait (a no-op without PDL: stream order suffices).
//
// No float ever goes through an atomic: the counters are the only atomics.
#include <cstdint>
#include <cstdio>

#include "kernels/cuda/device_common.cuh"

namespace ree::cuda {

struct PhaseSync {
  unsigned* counter = nullptr;   // [2]: arrivals, exits (persistent only)
  unsigned target = 0;           // arrivals that must have happened before this phase
  bool persistent = false;
  unsigned long long* times = nullptr;  // when set, block 0 stamps when this phase may start
  int phase = 0;                        // index into times
};

__device__ __forceinline__ unsigned long long global_time_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__device__ __forceinline__ unsigned load_acquire(const unsigned* p) {
  unsigned v;
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}

// This block is done with the current phase: every thread's writes happen
// before the arrival that other blocks will observe.
template <class Sync = BlockSync>
__device__ __forceinline__ void phase_arrive(const PhaseSync& s) {
  if (!s.persistent) return;
  Sync::sync();
  // One release add: it orders every write the block made before the
  // barrier (cumulativity) ahead of the arrival, without a full fence.
  if (threadIdx.x == 0) asm volatile("red.release.gpu.global.add.u32 [%0], 1;" ::"l"(s.counter) : "memory");
}

// Waits until the phase's inputs are complete and visible. A persistent wait
// that lasts seconds means a block never arrived (it cannot happen with a
// cooperative launch); trapping turns that into an error the host reports
// instead of a hung GPU.
template <class Sync = BlockSync>
__device__ __forceinline__ void phase_wait(const PhaseSync& s) {
  if (s.persistent) {
    if (threadIdx.x == 0 && s.target > 0) {
      const unsigned long long t0 = global_time_ns();
      while (load_acquire(s.counter) < s.target) {
        if (global_time_ns() - t0 > 4000000000ull) {
          printf("ree: grid barrier timed out: block %d waits for %u arrivals, has %u\n", int(blockIdx.x), s.target,
                 load_acquire(s.counter));
          __trap();
        }
      }
    }
    Sync::sync();
  } else {
    wait_for_inputs();
  }
  if (s.times != nullptr && blockIdx.x == 0 && threadIdx.x == 0) s.times[s.phase] = global_time_ns();
}

// The end of a persistent launch: the last block out resets both counters
// (and stamps the end when `end_time` is set). Every block has passed its
// last phase_wait before it counts itself out, so no block reads the
// arrivals counter afterwards.
template <class Sync = BlockSync>
__device__ __forceinline__ void persistent_exit(const PhaseSync& s, unsigned long long* end_time) {
  if (!s.persistent) return;
  Sync::sync();
  if (threadIdx.x == 0) {
    __threadfence();
    if (atomicAdd(s.counter + 1, 1u) == gridDim.x - 1) {
      if (end_time != nullptr) *end_time = global_time_ns();
      atomicExch(s.counter, 0u);
      atomicExch(s.counter + 1, 0u);
    }
  }
}

}  // namespace ree::cuda
