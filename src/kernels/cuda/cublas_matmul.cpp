// cuBLAS for fast mode: W is row-major [N][K], i.e. column-major K x N, so
// Y (column-major N x T, i.e. row-major [T][N]) = op_T(W) * X.
#include "kernels/cuda/cublas_matmul.h"

#include <stdexcept>
#include <string>

namespace ree::cuda {

namespace {

constexpr size_t kWorkspaceBytes = size_t(32) << 20;  // cuBLAS never allocates during graph capture

void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuda: ") + what + ": cuBLAS status " + std::to_string(int(s)));
}

}  // namespace

LowPrecision low_precision_for(kernels::DType dtype) {
  switch (dtype) {
    case kernels::DType::BF16: return LowPrecision::Bf16;
    case kernels::DType::F16: return LowPrecision::F16;
    default: return LowPrecision::None;
  }
}

CublasMatmul::CublasMatmul(cudaStream_t stream) : workspace_(kWorkspaceBytes, "the cuBLAS workspace") {
  check_cublas(cublasCreate(&handle_), "cublasCreate");
  check_cublas(cublasSetStream(handle_, stream), "cublasSetStream");
  check_cublas(cublasSetWorkspace(handle_, workspace_.get(), workspace_.bytes()), "cublasSetWorkspace");
}

CublasMatmul::~CublasMatmul() {
  if (handle_) cublasDestroy(handle_);
}

void CublasMatmul::run(const DeviceMatrix& w, const float* x, const void* x_low, int64_t T, float* y) {
  const float alpha = 1.0f, beta = 0.0f;
  cudaDataType_t type = CUDA_R_32F;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F_FAST_TF32;
  const void* b = x;
  if (w.dtype == kernels::DType::BF16 || w.dtype == kernels::DType::F16) {
    type = w.dtype == kernels::DType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
    compute = CUBLAS_COMPUTE_32F;
    b = x_low;
  }
  check_cublas(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, int(w.rows), int(T), int(w.cols), &alpha, w.data.get(),
                            type, int(w.cols), b, type, int(w.cols), &beta, y, CUDA_R_32F, int(w.rows), compute,
                            CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

}  // namespace ree::cuda
