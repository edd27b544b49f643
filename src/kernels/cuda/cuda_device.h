#pragma once
// CUDA runtime plumbing for the backend: error checks, owning device and
// pinned host buffers (RAII), and the device query behind `ree info`.
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

namespace ree::cuda {

// A failed CUDA call after setup is an internal error (exit code 4): the
// message names the call and the runtime's reason.
[[noreturn]] void throw_cuda(cudaError_t error, const char* what);
inline void check(cudaError_t error, const char* what) {
  if (error != cudaSuccess) throw_cuda(error, what);
}

// Throws ree::Error ("--device cuda: no CUDA device visible (...)") unless a
// GPU is usable, then makes device 0 current.
void require_device();

// An attribute of the current device (cudaDeviceGetAttribute).
int device_attribute(cudaDeviceAttr what);

// The dynamic shared memory a block of `kernel` may ask for: the device's
// opt-in limit less the kernel's static shared memory.
size_t dynamic_shared_budget(const void* kernel, const char* what);

// Owning device allocation; allocation failure is a ree::Error naming what
// did not fit (exit code 2: the model or context is too large for this GPU).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(size_t bytes, const char* what);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Page-locked host memory, for asynchronous copies.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(size_t bytes, const char* what);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Copies `bytes` from host to a new device buffer (synchronously).
DeviceBuffer upload(const void* host, size_t bytes, const char* what);

}  // namespace ree::cuda
