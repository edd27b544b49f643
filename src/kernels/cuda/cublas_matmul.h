#pragma once
// Fast mode's matrix products through cuBLAS (tensor cores for bf16/f16,
// TF32 for f32). Not reproducible: the order of the sums is cuBLAS's, and
// the activations are rounded to the weights' 16-bit type first.
#include <cublas_v2.h>

#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/device_weights.h"

namespace ree::cuda {

class CublasMatmul {
 public:
  explicit CublasMatmul(cudaStream_t stream);
  ~CublasMatmul();
  CublasMatmul(const CublasMatmul&) = delete;
  CublasMatmul& operator=(const CublasMatmul&) = delete;

  // y[t][n] = W[n,:] . x[t,:] for t < T. `x` is f32 for f32 weights and the
  // 16-bit copy (x_low) for f16/bf16 weights. Capturable in a CUDA graph.
  void run(const DeviceMatrix& w, const float* x, const void* x_low, int64_t T, float* y);

 private:
  cublasHandle_t handle_ = nullptr;
  DeviceBuffer workspace_;
};

// The 16-bit activation type fast mode feeds cuBLAS for weights of `dtype`.
LowPrecision low_precision_for(kernels::DType dtype);

}  // namespace ree::cuda
