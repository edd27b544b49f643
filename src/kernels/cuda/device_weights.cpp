// Uploading the model: repack each matrix on the host (gpu_layout.cpp), copy
// it to the device, free the host copy before the next one.
#include "kernels/cuda/device_weights.h"

#include <span>

namespace ree::cuda {
namespace {

using kernels::DType;
using kernels::PackedMatrix;

DeviceMatrix upload_matrix(std::span<const PackedMatrix* const> parts, bool cublas, int threads, const char* what) {
  const GpuLayout layout = stacked_layout(parts);
  DeviceMatrix m;
  m.dtype = layout.dtype;
  m.rows = layout.rows;
  m.cols = layout.cols;
  m.cublas = cublas;
  if (m.cublas) {
    const std::vector<uint8_t> host = unpack_row_major(parts, threads);
    m.data = upload(host.data(), host.size(), what);
    return m;
  }
  std::vector<uint8_t> data(layout.data_bytes());
  std::vector<uint16_t> scales(layout.scale_count());
  repack_for_gpu(parts, layout, data.data(), scales.data(), threads);
  m.data = upload(data.data(), data.size(), what);
  if (!scales.empty()) m.scales = upload(scales.data(), scales.size() * sizeof(uint16_t), what);
  m.gpu.layout = layout;
  m.gpu.data = m.data.as<const uint4>();
  m.gpu.scales = m.scales.as<const uint16_t>();
  return m;
}

DeviceBuffer upload_floats(const std::vector<float>& v, const char* what) {
  return upload(v.data(), v.size() * sizeof(float), what);
}

}  // namespace

bool fast_mode_uses_cublas(const Model& model) {
  const ModelWeights& w = model.weights;
  const DType dtype = w.lm_head.dtype;
  if (dtype == DType::Q8_0) return false;
  for (const LayerWeights& lw : w.layers)
    for (const PackedMatrix* m : {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.w_gate, &lw.w_up, &lw.w_down})
      if (m->dtype != dtype) return false;
  return true;
}

DeviceWeights upload_weights(const Model& model, bool cublas, int threads) {
  const ModelWeights& w = model.weights;
  DeviceWeights d;
  const RawTensor& e = w.tok_embeddings;
  d.embedding_dtype = e.dtype;
  d.embedding_row_bytes = kernels::dtype_row_bytes(e.dtype, e.cols);
  d.embedding = upload(e.data, d.embedding_row_bytes * size_t(e.rows), "the token embeddings");
  d.bytes += d.embedding.bytes();
  for (const LayerWeights& lw : w.layers) {
    DeviceLayer l;
    l.attn_norm = upload_floats(lw.attn_norm, "a norm weight");
    l.ffn_norm = upload_floats(lw.ffn_norm, "a norm weight");
    const PackedMatrix* qkv[] = {&lw.wq, &lw.wk, &lw.wv};
    const PackedMatrix* o[] = {&lw.wo};
    const PackedMatrix* gate_up[] = {&lw.w_gate, &lw.w_up};
    const PackedMatrix* down[] = {&lw.w_down};
    l.qkv = upload_matrix(qkv, cublas, threads, "the q/k/v weights");
    l.wo = upload_matrix(o, cublas, threads, "the attention output weights");
    l.gate_up = upload_matrix(gate_up, cublas, threads, "the gate/up weights");
    l.down = upload_matrix(down, cublas, threads, "the down weights");
    for (const DeviceMatrix* m : {&l.qkv, &l.wo, &l.gate_up, &l.down}) d.bytes += m->data.bytes() + m->scales.bytes();
    d.layers.push_back(std::move(l));
  }
  d.final_norm = upload_floats(w.final_norm, "the final norm weight");
  const PackedMatrix* lm[] = {&w.lm_head};
  d.lm_head = upload_matrix(lm, cublas, threads, "the output (lm_head) weights");
  d.bytes += d.lm_head.data.bytes() + d.lm_head.scales.bytes();
  return d;
}

}  // namespace ree::cuda
