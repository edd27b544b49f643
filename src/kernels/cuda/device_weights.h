#pragma once
// The model's weights on the GPU. Reproducible and deterministic modes keep
// every matrix in the GPU layout (gpu_layout.h) for the repro-v1 kernels;
// fast mode keeps f32/f16/bf16 matrices row-major for cuBLAS (Q8_0 stays in
// the GPU layout: cuBLAS has no int8-with-scales product). q|k|v and
// gate|up are stacked into one matrix each, so each is one launch.
#include <cstdint>
#include <vector>

#include "kernels/cuda/cuda_device.h"
#include "kernels/cuda/cuda_ops.h"
#include "runtime/model.h"

namespace ree::cuda {

struct DeviceMatrix {
  kernels::DType dtype = kernels::DType::F32;
  int64_t rows = 0, cols = 0;
  GpuMatrix gpu;            // valid when !cublas
  bool cublas = false;      // row-major for cuBLAS (fast mode)
  DeviceBuffer data;        // GPU layout units, or row-major values
  DeviceBuffer scales;      // Q8_0 scales (GPU layout only)
  // How a product with this matrix is laid out for its consumer.
  int chunks() const { return cublas ? 1 : gpu.chunks(); }
};

struct DeviceLayer {
  DeviceBuffer attn_norm, ffn_norm;  // f32 [dim]
  DeviceMatrix qkv;                  // [q_dim + 2*kv_dim][dim]
  DeviceMatrix wo;                   // [dim][q_dim]
  DeviceMatrix gate_up;              // [2*hidden][dim]
  DeviceMatrix down;                 // [dim][hidden]
};

struct DeviceWeights {
  kernels::DType embedding_dtype = kernels::DType::F32;
  size_t embedding_row_bytes = 0;
  DeviceBuffer embedding;            // row-major, as stored
  std::vector<DeviceLayer> layers;
  DeviceBuffer final_norm;
  DeviceMatrix lm_head;              // [vocab][dim]
  size_t bytes = 0;                  // device bytes held
};

// Fast mode uses cuBLAS when every matrix has one 16/32-bit dtype (so one
// 16-bit activation copy serves them all); Q8_0 and mixed models keep the
// repro-v1 kernels.
bool fast_mode_uses_cublas(const Model& model);

// Uploads `model`'s weights, row-major for cuBLAS when `cublas`, else in the
// GPU layout, repacking on `threads` host threads.
DeviceWeights upload_weights(const Model& model, bool cublas, int threads);

}  // namespace ree::cuda
