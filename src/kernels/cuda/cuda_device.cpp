// Device query, error reporting and buffer ownership for the CUDA backend.
#include "kernels/cuda/cuda_device.h"

#include <cstdio>
#include <stdexcept>

#include "kernels/cuda/cuda_engine.h"
#include "runtime/error.h"

namespace ree {

namespace {

std::string version_text(int v) {  // 13000 -> "13.0"
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

}  // namespace

CudaDeviceInfo cuda_device_info() {
  CudaDeviceInfo info;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    info.error = std::string("cudaGetDeviceCount: ") + (e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
    cudaGetLastError();  // clear the sticky error of a failed query
    return info;
  }
  cudaDeviceProp prop{};
  if (const cudaError_t pe = cudaGetDeviceProperties(&prop, 0); pe != cudaSuccess) {
    info.error = std::string("cudaGetDeviceProperties: ") + cudaGetErrorString(pe);
    return info;
  }
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  info.ok = true;
  info.name = prop.name;
  info.compute_capability = prop.major * 10 + prop.minor;
  info.multiprocessors = prop.multiProcessorCount;
  info.memory_gib = double(prop.totalGlobalMem) / double(1ull << 30);
  info.driver_version = version_text(driver);
  info.runtime_version = version_text(runtime);
  return info;
}

std::string cuda_device_status() {
  const CudaDeviceInfo i = cuda_device_info();
  if (!i.ok) return "built, no GPU visible: " + i.error;
  char memory[32];
  std::snprintf(memory, sizeof memory, "%.1f GiB", i.memory_gib);
  return i.name + " (sm_" + std::to_string(i.compute_capability) + ", " + std::to_string(i.multiprocessors) +
         " SMs, " + memory + "), driver " + i.driver_version + ", CUDA runtime " + i.runtime_version;
}

namespace cuda {

void throw_cuda(cudaError_t error, const char* what) {
  throw std::runtime_error(std::string("cuda: ") + what + ": " + cudaGetErrorString(error));
}

void require_device() {
  const CudaDeviceInfo i = cuda_device_info();
  if (!i.ok) throw Error("--device cuda: no CUDA device visible (" + i.error + ")");
  check(cudaSetDevice(0), "cudaSetDevice");
}

int device_attribute(cudaDeviceAttr what) {
  int device = 0, v = 0;
  check(cudaGetDevice(&device), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&v, what, device), "cudaDeviceGetAttribute");
  return v;
}

size_t dynamic_shared_budget(const void* kernel, const char* what) {
  cudaFuncAttributes attr = {};
  check(cudaFuncGetAttributes(&attr, kernel), what);
  return size_t(device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin)) - attr.sharedSizeBytes;
}

DeviceBuffer::DeviceBuffer(size_t bytes, const char* what) : bytes_(bytes) {
  if (bytes == 0) return;
  if (cudaMalloc(&ptr_, bytes) != cudaSuccess) {
    cudaGetLastError();
    ptr_ = nullptr;
    throw Error("--device cuda: out of GPU memory allocating " + std::to_string(bytes >> 20) + " MiB for " + what);
  }
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_) cudaFree(ptr_);
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

PinnedBuffer::PinnedBuffer(size_t bytes, const char* what) : bytes_(bytes) {
  if (bytes == 0) return;
  if (cudaMallocHost(&ptr_, bytes) != cudaSuccess) {
    cudaGetLastError();
    ptr_ = nullptr;
    throw Error("--device cuda: cannot pin " + std::to_string(bytes >> 20) + " MiB of host memory for " + what);
  }
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_) cudaFreeHost(ptr_);
}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    if (ptr_) cudaFreeHost(ptr_);
    ptr_ = std::exchange(o.ptr_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

DeviceBuffer upload(const void* host, size_t bytes, const char* what) {
  DeviceBuffer b(bytes, what);
  if (bytes > 0) check(cudaMemcpy(b.get(), host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (upload)");
  return b;
}

}  // namespace cuda
}  // namespace ree
