#pragma once
// What the host-array wrappers that the GPU tests call (cuda_host_ops.cpp,
// decode_host_ops.cpp) share: copying host arrays to and from the device, and
// one packed CPU matrix put on the device in the GPU layout. Not used by the
// engine, which uploads its weights through device_weights.cpp.
#include <stdint.h>

#include <cstddef>
#include <vector>

#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/gpu_layout.h"

namespace ree::cuda::host {

template <class T>
DeviceBuffer to_device(const T* p, size_t n) {
  return upload(p, n * sizeof(T), "a test input");
}

template <class T>
void to_host(T* dst, const DeviceBuffer& src, size_t n) {
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  check(cudaMemcpy(dst, src.get(), n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
}

// A matrix in the GPU layout on the device; `m` points into the two buffers.
struct TestMatrix {
  DeviceBuffer data, scales;
  GpuMatrix m;
};

inline TestMatrix upload_matrix(const kernels::PackedMatrix& w) {
  const kernels::PackedMatrix* parts[] = {&w};
  TestMatrix t;
  const GpuLayout layout = stacked_layout(parts);
  std::vector<uint8_t> data(layout.data_bytes());
  std::vector<uint16_t> scales(layout.scale_count());
  repack_for_gpu(parts, layout, data.data(), scales.data());
  t.data = to_device(data.data(), data.size());
  t.scales = to_device(scales.data(), scales.size());
  t.m = GpuMatrix{layout, t.data.as<const uint4>(), t.scales.as<const uint16_t>()};
  return t;
}

}  // namespace ree::cuda::host
